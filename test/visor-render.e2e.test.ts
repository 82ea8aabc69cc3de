// STATUS.md and a COMPUTER file as people see them on GitHub: rendered with a
// GitHub-flavoured Markdown renderer (marked, gfm), anchors checked with
// github-slugger (GitHub's own heading ids), and laid out in Chromium with
// GitHub's markdown CSS at a desktop and a phone width. A fleet of three: one
// offline, one whose task failed for good, an urgent broadcast nobody acked.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import GithubSlugger from "github-slugger";
import { marked, type Tokens } from "marked";
import type { Browser } from "playwright-core";
import { chromiumSuite, launchChromium } from "./browser.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalComputer, type ComputerFile, renderComputer, type TaskReport } from "../src/core/fleet/computer.js";
import { parseFrontMatter, renderFrontMatter } from "../src/core/files/frontmatter.js";
import { renderMessageFile } from "../src/core/messages/messages.js";
import { readModel } from "../src/core/repo/repo.js";
import { deriveStatus } from "../src/core/status/status.js";
import { renderStatusMd } from "../src/core/status/status-md.js";
import { computerFile } from "./fixtures.js";

const NOW = "2026-11-22T14:50:00.000Z";
const minutesBefore = (m: number) => new Date(Date.parse(NOW) - m * 60_000).toISOString();
const CAPS = { os: "linux", node: "20.20.2", git: "2.39.5", claude: "2.1.3", codex: "0.61.0", docker: "27.3.1", python3: "3.11.2", make: "4.3" };
const done = (over: Partial<TaskReport> = {}): TaskReport => ({
  rev: 1,
  state: "completed",
  attempts: 1,
  exitCode: 0,
  startedAt: minutesBefore(30),
  finishedAt: minutesBefore(28),
  ...over,
});
const testOutput = Array.from({ length: 30 }, (_, i) =>
  i < 27 ? `  ✓ suite ${i} passes` : i === 27 ? "  ✗ dao/vote.test.ts: expected 3 votes, got 2" : i === 28 ? "Tests: 1 failed, 27 passed" : "npm ERR! Test failed.",
);

function fleetFiles(): Map<string, string> {
  const machines: ComputerFile[] = [
    computerFile("izzit7", {
      state: "working",
      lastSeen: NOW,
      capabilities: CAPS,
      tasks: { "build-dao": done({ output: "built in 41s" }), review: { rev: 1, state: "in_progress", attempts: 1, startedAt: minutesBefore(3) } },
      messages: { "izzit7/ALL": { received: 0, acked: 0 } },
    }),
    computerFile("soda-yeti", {
      lastSeen: minutesBefore(2),
      capabilities: CAPS,
      tasks: {
        "test-dao": {
          rev: 1,
          state: "failed",
          attempts: 2,
          exitCode: 2,
          reason: "exit code 2",
          startedAt: minutesBefore(10),
          finishedAt: minutesBefore(8),
          output: `${testOutput.join("\n")}\n`,
        },
        toolchain: done({ output: "v20.20.2" }),
      },
    }),
    // Stopped 47 minutes ago; its heartbeat is 5 minutes: offline after 15.
    computerFile("machine-2", { lastSeen: minutesBefore(47), capabilities: { os: "linux", node: "20.20.2" }, tasks: { toolchain: done({ output: "v20.20.2" }) } }),
  ];
  const orders = {
    version: 1,
    orders: [
      { id: "toolchain", to: "ALL", run: "node --version" },
      { id: "build-dao", to: "izzit7", run: "npm ci && npm run build" },
      { id: "test-dao", to: "soda-yeti", after: ["build-dao"], run: "npm test", retries: 1 },
      { id: "deploy", to: "machine-2", after: ["test-dao"], run: "./deploy.sh" },
      { id: "review", to: "ANY", agent: "claude", prompt: "Review the open PRs" },
      { id: "train", to: "ANY", requires: ["gpu"], run: "python3 train.py" },
    ],
  };
  const files = new Map<string, string>([["ORDERS.json", JSON.stringify(orders, null, 2)]]);
  for (const c of machines) files.set(`coordination/COMPUTER_${c.name}.md`, renderComputer(c));
  files.set(
    "coordination/messages/izzit7_TO_ALL.md",
    renderMessageFile({
      coord: 1,
      from: "izzit7",
      to: "ALL",
      next: 2,
      messages: [{ seq: 1, at: minutesBefore(20), priority: "urgent", text: "The hub moves at 16:00 UTC: stop pushing then." }],
    }),
  );
  return files;
}

const files = fleetFiles();
const status = deriveStatus(readModel(files));
const statusMd = renderStatusMd(status);
const failedFile = files.get("coordination/COMPUTER_soda-yeti.md")!;

/** The markdown's top-level tokens (marked's GFM lexer). */
const tokensOf = (md: string) => marked.lexer(md, { gfm: true });
const headings = (md: string) => tokensOf(md).filter((t): t is Tokens.Heading => t.type === "heading");
const tables = (md: string) => tokensOf(md).filter((t): t is Tokens.Table => t.type === "table");
const cellText = (c: Tokens.TableCell) => c.text;

describe("STATUS.md through a GitHub-flavoured Markdown renderer", () => {
  it("puts what needs a person first: alerts, then failures, then machines and orders", () => {
    expect(headings(statusMd).map((h) => `${h.depth} ${h.text}`)).toEqual(["1 Fleet status", "2 🔔 Alerts", "2 ✖ Failures", "2 Machines", "2 Orders"]);
  });

  it("marks the offline machine, says how long ago and when it was last seen, and raises an alert for it", () => {
    const machines = tables(statusMd)[0]!;
    expect(machines.header.map(cellText)).toEqual(["machine", "state", "last seen"]);
    const row = machines.rows.find((r) => cellText(r[0]!).includes("machine-2"))!;
    expect(cellText(row[1]!)).toContain("offline");
    expect(cellText(row[2]!)).toBe("47 min ago (2026-11-22 14:03 UTC)");
    expect(machines.rows.filter((r) => cellText(r[1]!).includes("offline"))).toHaveLength(1);
    const html = marked.parse(statusMd, { gfm: true, async: false });
    expect(html).toMatch(/<li>🔴 <strong>offline<\/strong>: <a href="coordination\/COMPUTER_machine-2\.md">machine-2<\/a>, last seen 47 min ago/);
  });

  it("shows each failure with its reason and last lines, linked to the task's section of its machine's file (GitHub's anchor)", () => {
    const html = marked.parse(statusMd, { gfm: true, async: false });
    const failures = html.slice(html.indexOf("✖ Failures"), html.indexOf(">Machines<"));
    expect(failures).toContain('<strong>test-dao</strong> on <a href="coordination/COMPUTER_soda-yeti.md#task-test-dao">soda-yeti</a>: exit code 2 · attempt 2, no retries left');
    expect(failures).toContain("npm ERR! Test failed.");
    expect(failures).not.toContain("suite 0 passes"); // the last lines only
    // GitHub's heading ids (github-slugger) in the machine's file: the link lands on the task's section.
    const slugger = new GithubSlugger();
    const ids = headings(parseFrontMatter(failedFile).body).map((h) => slugger.slug(h.text));
    expect(ids).toContain("task-test-dao");
    // The dependent order says what it waits on, and the order no machine can run says why.
    expect(statusMd).toContain("- `deploy` blocked: dependency test-dao failed");
    expect(statusMd).toContain("- `train` queued: no registered machine has gpu");
  });

  it("lists failed orders first in the orders table", () => {
    const orders = tables(statusMd).at(-1)!;
    expect(orders.header.map(cellText)).toEqual(["order", "state", "machines"]);
    expect(cellText(orders.rows[0]![1]!)).toContain("failed");
    expect(cellText(orders.rows[0]![0]!)).toBe("test-dao");
  });

  it("raises one alert per urgent message, listing its recipients", () => {
    const lines = statusMd.split("\n").filter((l) => l.includes("urgent message"));
    expect(lines).toEqual([expect.stringContaining("`izzit7/ALL/1` from izzit7 to machine-2, soda-yeti")]);
  });
});

// ----------------------------------------------------------- in Chromium

const css = async () => readFile(createRequire(import.meta.url).resolve("github-markdown-css/github-markdown-light.css"), "utf8");

/** Front matter as GitHub shows it: a table of its keys, a nested table for a nested value. */
function frontMatterHtml(data: unknown): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  if (Array.isArray(data)) return `<table><tbody><tr>${data.map((v) => `<td>${frontMatterHtml(v)}</td>`).join("")}</tr></tbody></table>`;
  if (typeof data === "object" && data !== null) {
    const entries = Object.entries(data);
    return `<table><thead><tr>${entries.map(([k]) => `<th>${esc(k)}</th>`).join("")}</tr></thead><tbody><tr>${entries.map(([, v]) => `<td>${frontMatterHtml(v)}</td>`).join("")}</tr></tbody></table>`;
  }
  return `<div>${esc(String(data))}</div>`;
}

/** A page laid out as GitHub lays out a markdown file: its CSS, the content box 1012 px at most. */
async function githubPage(markdown: string): Promise<string> {
  const doc = markdown.startsWith("---\n") ? parseFrontMatter(markdown) : undefined;
  const body = marked.parse(doc ? doc.body : markdown, { gfm: true, async: false });
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<style>${await css()} body { margin: 0; } .markdown-body { box-sizing: border-box; max-width: 1012px; margin: 0 auto; padding: 16px; }</style></head>
<body><article class="markdown-body" id="file">${doc ? `<div id="front">${frontMatterHtml(doc.data)}</div>` : ""}${body}</article></body></html>`;
}

chromiumSuite("STATUS.md and a COMPUTER file laid out in Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** How wide each top-level table's content is, against the width it is shown in. */
  async function tableWidths(markdown: string, width: number, shot?: string): Promise<{ front?: number; tables: number[]; box: number }> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    try {
      await page.setContent(await githubPage(markdown));
      const r = await page.evaluate(() => {
        const box = document.getElementById("file")!.clientWidth;
        const front = document.querySelector("#front > table") as HTMLElement | null;
        const tables = [...document.querySelectorAll("#file > table")].map((t) => (t as HTMLElement).scrollWidth);
        return { box, tables, ...(front ? { front: front.scrollWidth } : {}) };
      });
      if (shot) await page.screenshot({ path: shot, fullPage: true });
      return r;
    } finally {
      await page.close();
    }
  }

  it("the COMPUTER file's front matter fits the page; the previous layout's did not (the check can fail)", async () => {
    const now = await tableWidths(failedFile, 1280);
    expect(now.front).toBeDefined();
    expect(now.front!).toBeLessThanOrEqual(now.box);
    // Layout 1, as the previous version wrote it: all the data in the front matter.
    const c = canonicalComputer(computerFile("soda-yeti", { capabilities: CAPS, tasks: readModel(files).computers.get("soda-yeti")!.tasks }));
    const old = await tableWidths(renderFrontMatter({ ...c, coord: 1 }, "# soda-yeti"), 1280);
    expect(old.front!).toBeGreaterThan(2 * old.box);
  });

  it("on a phone (390 px) the machines and orders tables of STATUS.md need no sideways scrolling", async () => {
    const shots = process.env.COORD_SCREENSHOTS;
    const phone = await tableWidths(statusMd, 390, shots ? join(shots, "status-md-phone.png") : undefined);
    expect(phone.tables.length).toBeGreaterThanOrEqual(2);
    const [machines, orders] = [phone.tables[0]!, phone.tables.at(-1)!];
    expect(machines).toBeLessThanOrEqual(phone.box);
    expect(orders).toBeLessThanOrEqual(phone.box);
    if (shots) {
      await tableWidths(statusMd, 1012, join(shots, "status-md.png"));
      await tableWidths(failedFile, 1012, join(shots, "computer-md.png"));
    }
  });
});
