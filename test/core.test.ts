// Unit tests for the pure core (no git, no files, no clock): COMPUTER files,
// front matter, STATUS derivation, planning, redaction, durations, names,
// markdown, terminal output, blob ids, the repository model and the scaffold.
// ORDERS.json parsing itself is covered by test/orders.test.ts.

import { describe, it, expect } from "vitest";
import { gitBlobId } from "../src/core/blob.js";
import { canonicalComputer, computerFingerprint, DATA_MARK, parseComputer, renderComputer } from "../src/core/computer.js";
import { formatDuration, parseDuration } from "../src/core/duration.js";
import { parseFrontMatter, renderFrontMatter } from "../src/core/frontmatter.js";
import { cell, fence, table } from "../src/core/markdown.js";
import { readControls } from "../src/core/controls.js";
import { computerPath, machineNameProblem, machineOfPath } from "../src/core/names.js";
import { parseOrders } from "../src/core/orders.js";
import { nextAttempt, plan, type PlanInput } from "../src/core/plan.js";
import { outputTail, redact } from "../src/core/redact.js";
import { ownComputer, renderChanges } from "../src/core/publish.js";
import { ORDERS_FILE, readModel, SCHEMA_FILE, STATUS_JSON, STATUS_MD, type RepoModel } from "../src/core/repo.js";
import { EMPTY_ORDERS, scaffoldFiles } from "../src/core/scaffold.js";
import { isOffline, MISSED_HEARTBEATS } from "../src/core/presence.js";
import { deriveStatus, missingCapabilities, renderStatusJson, summarize, type StatusJson } from "../src/core/status.js";
import { renderStatusMd } from "../src/core/status-md.js";
import { statusText, textTable } from "../src/core/terminal.js";
import type { ComputerFile, Order, TaskReport } from "../src/core/types.js";
import { computerFile } from "./fixtures.js";

// ------------------------------------------------------------------ helpers

const T0 = "2025-06-01T10:00:00.000Z";

const computer = computerFile;

/** An Order with the defaults parseOrders applies. */
function order(over: Partial<Order> & Pick<Order, "id" | "to">): Order {
  return { run: "true", rev: 1, after: [], requires: [], env: {}, retries: 0, priority: "normal", cancelled: false, ...over };
}

function report(over: Partial<TaskReport> = {}): TaskReport {
  return { rev: 1, state: "completed", attempts: 1, exitCode: 0, startedAt: T0, finishedAt: T0, ...over };
}

function ordersJson(orders: object[]): string {
  return JSON.stringify({ version: 1, orders }, null, 2) + "\n";
}

/** The files of a repository at one commit: ORDERS.json plus rendered COMPUTER files. */
function repoFiles(orders: string | undefined, computers: ComputerFile[]): Map<string, string> {
  const files = new Map<string, string>();
  if (orders !== undefined) files.set(ORDERS_FILE, orders);
  for (const c of computers) files.set(computerPath(c.name), renderComputer(c));
  return files;
}

function statusOf(files: Map<string, string>): StatusJson {
  return deriveStatus(readModel(files));
}

// ------------------------------------------------------------ COMPUTER files

describe("renderComputer / parseComputer", () => {
  const tricky: ComputerFile = computer("soda-yeti", {
    state: "working",
    capabilities: { zsh: "5.9", claude: "1.0", node: "20.20.2", os: "linux", "1.0": "yes", empty: "" },
    orders: { seen: "deadbeef".repeat(5), valid: false, error: 'ORDERS.json:3 orders[0].timeout: "ten minutes" is not a duration | <b>' },
    tasks: {
      "build-dao": report({ output: "---\nnot: front matter\n---\n```js\nx | y\n```\n<details></details><script>alert(1)</script>\n" }),
      "test-dao": report({ state: "failed", exitCode: null, reason: "killed after 15m (timeout)", output: "unicode: é ✓ 😀 עברית 中文 \u200b\u2028\u0085 end" }),
      long: report({ rev: 3, attempts: 2, output: "x".repeat(10 * 1024) + "\n" + "line with trailing spaces   \n    indented\n\n\nlast" }),
      "in-flight": { rev: 1, state: "in_progress", attempts: 1, startedAt: T0 },
      // Ids that a careless YAML writer would turn into numbers, booleans or null.
      "1.0": report(),
      "007": report(),
      "0x1F": report(),
      "1e3": report(),
      true: report(),
      null: report(),
      "2025-01-01": report(),
      // ("..." and "---" would be trickier still, but they are not order ids: a file with them is refused.)
    },
  });

  it("round-trips exactly, tricky output included", () => {
    const text = renderComputer(tricky);
    const parsed = parseComputer(text, "soda-yeti");
    expect(parsed).toEqual(canonicalComputer(tricky));
    expect(parsed.tasks["test-dao"]!.exitCode).toBeNull();
    expect(parsed.tasks["build-dao"]!.output).toBe(tricky.tasks["build-dao"]!.output);
    expect(parsed.tasks["long"]!.output).toBe(tricky.tasks["long"]!.output);
    // And rendering the parsed data again gives the same bytes.
    expect(renderComputer(parsed)).toBe(text);
  });

  it("keeps the front matter small (GitHub shows it as a table): who, state, last seen, heartbeat; the rest in a data block at the end", () => {
    const text = renderComputer(tricky);
    const front = parseFrontMatter(text).data as Record<string, unknown>;
    expect(Object.keys(front)).toEqual(["coord", "name", "state", "lastSeen", "heartbeat"]);
    for (const v of Object.values(front)) expect(typeof v === "object").toBe(false);
    const body = parseFrontMatter(text).body;
    expect(body.indexOf(DATA_MARK)).toBeGreaterThan(body.indexOf("## Tasks"));
    expect(body).toContain(`<details><summary>This machine's data as coord reads it (JSON)</summary>\n\n${DATA_MARK}\n\`\`\`json\n{`);
  });

  it("reads files of layout 1 (all data in the front matter), as earlier versions wrote them", () => {
    const old = renderFrontMatter({ ...canonicalComputer(tricky), coord: 1 }, "# soda-yeti\n\nold body");
    expect(parseComputer(old, "soda-yeti")).toEqual({ ...canonicalComputer(tricky), coord: 1 });
  });

  it("a task's output that imitates the data block does not stand in for it", () => {
    const fake = `${DATA_MARK}\n\`\`\`json\n{ "uuid": "forged", "capabilities": {}, "orders": { "seen": "x", "valid": true }, "tasks": {} }\n\`\`\``;
    const c = computer("m", { tasks: { t: report({ output: `${fake}\n`, reason: fake }) } });
    const parsed = parseComputer(renderComputer(c), "m");
    expect(parsed.uuid).toBe("uuid-of-m");
    expect(parsed.tasks["t"]!.output).toBe(`${fake}\n`);
  });

  it("says what is wrong with a data block: missing, not closed, not JSON, holding front matter fields", () => {
    const text = renderComputer(computer("m"));
    const [head, tail] = text.split(DATA_MARK) as [string, string];
    expect(() => parseComputer(head, "m")).toThrow(/data block is missing/);
    expect(() => parseComputer(`${head}${DATA_MARK}\n\`\`\`json\n{}\n`, "m")).toThrow(/not closed/);
    expect(() => parseComputer(`${head}${DATA_MARK}${tail.replace('"uuid"', "uuid")}`, "m")).toThrow(/not JSON/);
    expect(() => parseComputer(`${head}${DATA_MARK}${tail.replace('"uuid"', '"name": "x", "uuid"')}`, "m")).toThrow(/holds name/);
    expect(tail).toContain('"tasks": {}');
    expect(() => parseComputer(`${head}${DATA_MARK}${tail.replace('"tasks": {}', '"tasks": {"__proto__": {}}')}`, "m")).toThrow(/not an order id/);
  });

  it("writes LF only, ends with one newline, and starts with front matter", () => {
    const text = renderComputer(tricky);
    expect(text.startsWith("---\n")).toBe(true);
    expect(text.endsWith("\n")).toBe(true);
    expect(text.endsWith("\n\n")).toBe(false);
    expect(text).not.toContain("\r");
  });

  it("renders a readable body: tasks table and fenced output that cannot break out", () => {
    const text = renderComputer(tricky);
    const body = parseFrontMatter(text).body;
    expect(body).toContain("# soda-yeti");
    expect(body).toContain("## Tasks");
    expect(body).toContain("| order | state | exit | finished |");
    // Each task that has more to say has a section the table links to (STATUS.md links there too).
    expect(body).toContain("| [test-dao](#task-test-dao) | failed |  | 2025-06-01T10:00:00.000Z |");
    expect(body).toContain(
      "### Task test-dao\n\n**failed** · rev 1 · attempt 1 · started 2025-06-01T10:00:00.000Z · finished 2025-06-01T10:00:00.000Z\n\nkilled after 15m (timeout)",
    );
    expect(body).toContain("| in-flight | in_progress |  |  |");
    expect(body).not.toContain("### Task in-flight");
    expect(body).toContain("ORDERS.json: **invalid**");
    // The output with ``` is fenced with four backticks.
    expect(body).toContain("````text\n---\nnot: front matter");
    // Table cells are escaped: the pipe in the output is inside the fence, not the table.
    expect(renderComputer(computer("a"))).toContain("No tasks yet.");
  });

  it("views escape HTML echoed from ORDERS.json errors", () => {
    const broken = ordersJson([{ id: "a", to: "m", run: "x", timeout: "<details><summary>x" }]);
    const s = statusOf(repoFiles(broken, [computer("m")]));
    const message = s.errors[0]!.message;
    expect(message).toContain("<details>");
    const body = parseFrontMatter(renderComputer(computer("m", { orders: { seen: "abc", valid: false, error: message } }))).body;
    // The view escapes it; the data block holds it verbatim inside a JSON fence, where GitHub shows it as text.
    const [view, data] = body.split(DATA_MARK);
    expect(view).not.toContain("<details><summary>x");
    expect(data).toMatch(/^\n```json\n[^`]*<details><summary>x[^`]*\n```\n/);
    expect(renderStatusMd(s)).not.toContain("<details><summary>x");
  });

  it("is independent of key order (capabilities, tasks, fields)", () => {
    const a = computer("m", { capabilities: { b: "2", a: "1" }, tasks: { y: report(), x: report({ state: "failed" }) } });
    const b: ComputerFile = {
      tasks: { x: { attempts: 1, state: "failed", rev: 1, finishedAt: T0, startedAt: T0, exitCode: 0 }, y: report() },
      capabilities: { a: "1", b: "2" },
      orders: { valid: true, seen: a.orders.seen },
      heartbeat: 300,
      lastSeen: T0,
      state: "idle",
      uuid: "uuid-of-m",
      name: "m",
      coord: 1,
    };
    expect(renderComputer(b)).toBe(renderComputer(a));
  });

  it("drops undefined optional fields instead of writing them", () => {
    const c = computer("m", { tasks: { t: { rev: 1, state: "queued", attempts: 0, exitCode: undefined, reason: undefined, output: undefined } } });
    const text = renderComputer(c);
    expect(text).not.toContain("undefined");
    expect(parseComputer(text, "m").tasks["t"]).toEqual({ rev: 1, state: "queued", attempts: 0 });
  });

  it("reads a file with CRLF line endings (a Windows checkout)", () => {
    const text = renderComputer(tricky).replace(/\n/g, "\r\n");
    const parsed = parseComputer(text, "soda-yeti");
    expect(parsed.name).toBe("soda-yeti");
    expect(parsed.tasks["build-dao"]!.state).toBe("completed");
  });

  it("rejects a file whose front matter names another machine", () => {
    expect(() => parseComputer(renderComputer(computer("izzit7")), "soda-yeti")).toThrow(/name "izzit7".*"soda-yeti"/);
  });

  it("rejects a missing field, naming it", () => {
    const { uuid: _u, ...rest } = computer("m");
    const text = renderFrontMatter(rest, "body");
    expect(() => parseComputer(text, "m")).toThrow(/field uuid/);
  });

  it("rejects an invalid machine state and an invalid task state", () => {
    const text = renderComputer(computer("m")).replace("state: idle", "state: sleeping");
    expect(() => parseComputer(text, "m")).toThrow(/field state/);
    const bad = renderFrontMatter({ ...computer("m"), tasks: { t: { rev: 1, state: "done", attempts: 1 } } }, "");
    expect(() => parseComputer(bad, "m")).toThrow(/field tasks\.t\.state/);
  });

  it("rejects wrong types: coord version, heartbeat, rev", () => {
    expect(() => parseComputer(renderFrontMatter({ ...computer("m"), coord: 3 }, ""), "m")).toThrow(/field coord/);
    expect(() => parseComputer(renderFrontMatter({ ...computer("m"), heartbeat: 0 }, ""), "m")).toThrow(/field heartbeat/);
    expect(() => parseComputer(renderFrontMatter({ ...computer("m"), tasks: { t: { rev: 0, state: "queued", attempts: 0 } } }, ""), "m")).toThrow(/field tasks\.t\.rev/);
  });

  it("rejects text without front matter, and YAML that is not a mapping", () => {
    expect(() => parseComputer("# just markdown\n", "m")).toThrow(/front matter/);
    expect(() => parseComputer("", "m")).toThrow(/front matter/);
    expect(() => parseComputer("---\n- a\n- b\n---\n", "m")).toThrow();
    expect(() => parseComputer("---\n---\nbody\n", "m")).toThrow();
  });

  it("refuses ---js front matter without executing it", () => {
    const g = globalThis as { __pwned?: unknown };
    delete g.__pwned;
    for (const lang of ["js", "javascript"]) {
      expect(() => parseComputer(`---${lang}\n{ x: (globalThis.__pwned = 1) }\n---\nbody\n`, "m")).toThrow();
      expect(g.__pwned).toBeUndefined();
    }
    // And directly through parseFrontMatter.
    expect(() => parseFrontMatter("---js\nmodule.exports = (globalThis.__pwned = 2)\n---\n")).toThrow();
    expect(g.__pwned).toBeUndefined();
  });

  it("refuses a YAML alias bomb instead of expanding it", () => {
    const bomb = ["---", "a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 9; i++)
      bomb.push(
        `${"bcdefghij"[i]}: &${"bcdefghij"[i]} [${Array(10)
          .fill(`*${i === 0 ? "a" : "bcdefghij"[i - 1]}`)
          .join(", ")}]`,
      );
    bomb.push("---", "");
    expect(() => parseFrontMatter(bomb.join("\n"))).toThrow();
  });

  it("does not let __proto__ keys pollute Object.prototype", () => {
    const text = `---\ncoord: 1\n__proto__:\n  polluted: yes\n---\n`;
    parseFrontMatter(text);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe("computerFingerprint", () => {
  const base = computer("izzit7", {
    capabilities: { os: "linux", node: "20", claude: "1.0" },
    tasks: { b: report({ output: "done\n" }), a: report({ state: "failed", exitCode: null, reason: "exit 1" }) },
  });

  it("ignores lastSeen", () => {
    expect(computerFingerprint({ ...base, lastSeen: "2030-01-01T00:00:00Z" })).toBe(computerFingerprint(base));
  });

  it("ignores key order", () => {
    const shuffled = { ...base, capabilities: { claude: "1.0", node: "20", os: "linux" }, tasks: { a: base.tasks["a"]!, b: base.tasks["b"]! } };
    expect(computerFingerprint(shuffled)).toBe(computerFingerprint(base));
  });

  it("a freshly built object equals its parsed rendering", () => {
    const fresh: ComputerFile = { ...base, tasks: { ...base.tasks, c: { rev: 1, state: "queued", attempts: 0, reason: undefined } } };
    const parsed = parseComputer(renderComputer(fresh), "izzit7");
    expect(computerFingerprint(parsed)).toBe(computerFingerprint(fresh));
  });

  it("changes when something other than lastSeen changes", () => {
    const fp = computerFingerprint(base);
    expect(computerFingerprint({ ...base, state: "working" })).not.toBe(fp);
    expect(computerFingerprint({ ...base, capabilities: { ...base.capabilities, go: "1.22" } })).not.toBe(fp);
    expect(computerFingerprint({ ...base, tasks: { ...base.tasks, a: { ...base.tasks["a"]!, attempts: 2 } } })).not.toBe(fp);
    expect(computerFingerprint({ ...base, orders: { ...base.orders, valid: false, error: "x" } })).not.toBe(fp);
  });
});

// ------------------------------------------------------------- front matter

describe("parseFrontMatter / renderFrontMatter", () => {
  it("round-trips data and body", () => {
    const text = renderFrontMatter({ a: 1, b: "two", c: [1, 2] }, "# Title\n\nbody\n\n\n");
    expect(text).toBe("---\na: 1\nb: two\nc:\n  - 1\n  - 2\n# end of data\n---\n\n# Title\n\nbody\n");
    const doc = parseFrontMatter(text);
    expect(doc.data).toEqual({ a: 1, b: "two", c: [1, 2] });
    expect(doc.body.trim()).toBe("# Title\n\nbody");
  });

  it("gives the right data for each text: no stale cache", () => {
    const one = "---\nname: one\n---\nbody\n";
    const two = "---\nname: two\n---\nbody\n";
    expect(parseFrontMatter(one).data).toEqual({ name: "one" });
    expect(parseFrontMatter(two).data).toEqual({ name: "two" });
    expect(parseFrontMatter(one).data).toEqual({ name: "one" });
    // Mutating a result does not change the next parse of the same text.
    (parseFrontMatter(one).data as { name: string }).name = "changed";
    expect(parseFrontMatter(one).data).toEqual({ name: "one" });
  });

  it("same-text COMPUTER files parsed twice give independent objects", () => {
    const text = renderComputer(computer("m"));
    const a = parseComputer(text, "m");
    a.capabilities["os"] = "mutated";
    expect(parseComputer(text, "m").capabilities["os"]).toBe("linux");
  });

  it("uses the YAML core schema: yes/no and dates stay strings", () => {
    const doc = parseFrontMatter("---\na: yes\nb: 2025-06-01\nc: 0o17\nd: ~\n---\n");
    expect(doc.data).toEqual({ a: "yes", b: "2025-06-01", c: 15, d: null });
  });
});

// ------------------------------------------------------------------- status

describe("isOffline", () => {
  const m = { lastSeen: T0, heartbeat: 60 };
  const at = (ms: number) => new Date(Date.parse(T0) + ms);

  it("is offline exactly after 3 missed heartbeats", () => {
    expect(MISSED_HEARTBEATS).toBe(3);
    expect(isOffline(m, at(0))).toBe(false);
    expect(isOffline(m, at(179_999))).toBe(false);
    expect(isOffline(m, at(180_000))).toBe(false);
    expect(isOffline(m, at(180_001))).toBe(true);
  });

  it("a clock a little behind lastSeen is not offline; a lastSeen far ahead or unreadable is", () => {
    expect(isOffline(m, at(-300_000))).toBe(false);
    // An hour in the reader's future is not believed: such a machine would look online forever.
    expect(isOffline(m, at(-3_600_000))).toBe(true);
    expect(isOffline({ lastSeen: "yesterday-ish", heartbeat: 60 }, at(0))).toBe(true);
  });
});

describe("summarize", () => {
  it("gives one state for an order", () => {
    expect(summarize([])).toBe("queued");
    expect(summarize(["completed", "completed"])).toBe("completed");
    expect(summarize(["completed", "in_progress", "failed"])).toBe("in_progress");
    expect(summarize(["completed", "failed", "queued"])).toBe("failed");
    expect(summarize(["completed", "assigned"])).toBe("assigned");
    expect(summarize(["completed", "queued"])).toBe("queued");
    expect(summarize(["completed", "blocked"])).toBe("blocked");
    expect(summarize(["rejected", "cancelled"])).toBe("rejected");
    expect(summarize(["cancelled"])).toBe("cancelled");
  });
});

describe("deriveStatus", () => {
  const machines = [
    computer("izzit7", {
      tasks: {
        same: report({ rev: 2, state: "completed", exitCode: 0 }),
        old: report({ rev: 1, state: "completed" }),
        running: report({ state: "in_progress", exitCode: undefined, finishedAt: undefined }),
        broke: report({ state: "failed", exitCode: 2, reason: "exit code 2" }),
      },
    }),
    computer("soda-yeti", { capabilities: { os: "darwin" }, tasks: { same: report({ rev: 2, state: "failed", exitCode: 1 }) } }),
    computer("machine-2", { state: "working" }),
  ];
  const orders = ordersJson([
    { id: "same", to: ["izzit7", "soda-yeti"], run: "make", rev: 2 },
    { id: "old", to: "izzit7", run: "make", rev: 2 },
    { id: "never", to: "machine-2", run: "make" },
    { id: "running", to: "izzit7", run: "sleep 1" },
    { id: "broke", to: "izzit7", run: "false" },
    { id: "stop", to: "soda-yeti", run: "make", cancelled: true },
    { id: "everyone", to: "ALL", run: "uptime" },
    { id: "pipeline", to: "machine-2", run: "make", after: ["never"] },
    { id: "needs-node", to: "ALL", run: "node -v", requires: ["node"] },
    { id: "by-agent", to: "izzit7", agent: "claude", prompt: "review" },
    { id: "anyone", to: "ANY", run: "make" },
  ]);
  const status = statusOf(repoFiles(orders, machines));

  it("has no errors for valid inputs, and lists every machine", () => {
    expect(status.errors).toEqual([]);
    expect(Object.keys(status.machines)).toEqual(["izzit7", "machine-2", "soda-yeti"]);
    expect(status.machines["machine-2"]).toEqual({
      state: "working",
      presence: "online",
      lastSeen: T0,
      heartbeat: 300,
      capabilities: { node: "20.20.2", os: "linux" },
      ordersValid: true,
      messages: { waiting: 0, unacked: 0 },
    });
  });

  it("a report with the order's rev gives its state", () => {
    expect(status.orders["same"]!.machines).toEqual({
      izzit7: { state: "completed", exitCode: 0, startedAt: T0, finishedAt: T0, attempts: 1, durationMs: 0 },
      "soda-yeti": { state: "failed", exitCode: 1, startedAt: T0, finishedAt: T0, attempts: 1, durationMs: 0, retriesExhausted: true },
    });
    expect(status.orders["same"]!.state).toBe("failed");
    expect(status.orders["same"]!.rev).toBe(2);
    expect(status.orders["running"]!.machines["izzit7"]).toMatchObject({ state: "in_progress", exitCode: null, finishedAt: null });
    expect(status.orders["broke"]!.machines["izzit7"]).toMatchObject({ state: "failed", exitCode: 2, reason: "exit code 2" });
  });

  it("a report of an older rev, or no report, is queued", () => {
    expect(status.orders["old"]!.machines["izzit7"]).toEqual({ state: "queued", exitCode: null, startedAt: null, finishedAt: null, attempts: 0 });
    expect(status.orders["old"]!.state).toBe("queued");
    expect(status.orders["never"]!.machines["machine-2"]!.state).toBe("queued");
  });

  it("a cancelled order is cancelled", () => {
    expect(status.orders["stop"]).toMatchObject({ state: "cancelled", machines: { "soda-yeti": { state: "cancelled" } } });
  });

  it("ALL covers every registered machine", () => {
    expect(Object.keys(status.orders["everyone"]!.machines)).toEqual(["izzit7", "machine-2", "soda-yeti"]);
    expect(status.orders["everyone"]!.to).toBe("ALL");
  });

  it("after blocks until the dependency completes; a missing capability or agent CLI is rejected per machine", () => {
    expect(status.orders["pipeline"]).toMatchObject({ state: "blocked", done: false, reason: "waiting for never" });
    expect(status.orders["pipeline"]!.machines["machine-2"]).toMatchObject({ state: "blocked", reason: "waiting for never" });
    // ALL with requires: every machine that has node; soda-yeti has none, so it is not addressed.
    const node = status.orders["needs-node"]!;
    expect(Object.keys(node.machines)).toEqual(["izzit7", "machine-2"]);
    expect(node.machines["izzit7"]!.state).toBe("queued");
    expect(node).toMatchObject({ state: "queued", done: false });
    // An agent order needs its CLI as a capability.
    expect(status.orders["by-agent"]).toMatchObject({ state: "rejected", done: true, machines: { izzit7: { state: "rejected", reason: "izzit7 lacks claude" } } });
    // ANY: nobody claimed it yet.
    expect(status.orders["anyone"]).toEqual({ rev: 1, state: "queued", done: false, to: "ANY", machines: {} });
  });

  it("done says whether anything more will happen for the order's rev", () => {
    const done = (id: string) => status.orders[id]!.done;
    expect(done("same")).toBe(true); // completed + failed without retries
    expect(done("broke")).toBe(true);
    expect(done("stop")).toBe(true); // cancelled
    expect(done("old")).toBe(false); // queued
    expect(done("running")).toBe(false);
    expect(done("everyone")).toBe(false);
  });

  it("keeps the orders in the file's order", () => {
    expect(Object.keys(status.orders)).toEqual(["same", "old", "never", "running", "broke", "stop", "everyone", "pipeline", "needs-node", "by-agent", "anyone"]);
  });

  it("with no machines, an ALL order is queued and the views say so", () => {
    const s = statusOf(repoFiles(ordersJson([{ id: "x", to: "ALL", run: "true" }]), []));
    expect(s.machines).toEqual({});
    expect(s.orders["x"]).toMatchObject({ rev: 1, state: "queued", to: "ALL", machines: {} });
    expect(renderStatusMd(s)).toContain("No machine has registered yet");
  });

  it("with no machines, an ALL order is not done: a machine that joins later runs it", () => {
    const s = statusOf(repoFiles(ordersJson([{ id: "x", to: "ALL", run: "true" }]), []));
    expect(s.orders["x"]).toEqual({ rev: 1, state: "queued", done: false, to: "ALL", machines: {} });
  });

  it("invalid ORDERS.json: orders come from the machines' reports, the problem is in errors with its line", () => {
    const broken = '{\n  "version": 1,\n  "orders": [\n    { "id": "same", "to": "izzit7", "run": "make", "timeout": "ten minutes" }\n  ]\n}\n';
    const s = statusOf(repoFiles(broken, machines));
    expect(s.errors).toHaveLength(1);
    expect(s.errors[0]).toMatchObject({ file: "ORDERS.json", line: 4, path: "orders[0].timeout" });
    expect(Object.keys(s.orders)).toEqual(["broke", "old", "running", "same"]);
    expect(s.orders["same"]).toMatchObject({ rev: 2, state: "failed", to: ["izzit7", "soda-yeti"] });
    expect(s.orders["same"]!.machines["soda-yeti"]).toMatchObject({ state: "failed", exitCode: 1 });
    expect(s.orders["old"]).toMatchObject({ rev: 1, state: "completed", to: ["izzit7"] });
    expect(renderStatusMd(s)).toContain("`ORDERS.json:4 orders[0].timeout`");
  });

  it("bad JSON in ORDERS.json is an error with its line", () => {
    const s = statusOf(repoFiles('{\n  "version": 1,\n  "orders": [\n    { "id": "x", }\n  ]\n}\n', machines));
    expect(s.errors[0]).toMatchObject({ file: "ORDERS.json", line: 4 });
    expect(Object.keys(s.orders).length).toBeGreaterThan(0);
  });

  it("a missing ORDERS.json is an error; reports still show", () => {
    const s = statusOf(repoFiles(undefined, machines));
    expect(s.errors[0]!.file).toBe("ORDERS.json");
    expect(s.errors[0]!.message).toMatch(/missing/);
    expect(s.orders["same"]!.state).toBe("failed");
  });

  it("a broken COMPUTER file is reported; the other machines are still there", () => {
    const files = repoFiles(ordersJson([{ id: "everyone", to: "ALL", run: "uptime" }]), machines);
    files.set(computerPath("broken"), "---\ncoord: 1\nname: broken\n---\n");
    files.set(computerPath("liar"), renderComputer(computer("izzit7")));
    files.set(computerPath("Bad_Name"), renderComputer(computer("izzit7")));
    files.set("coordination/notes.md", "# not a machine\n");
    const model = readModel(files);
    expect(model.machineNames.sort()).toEqual(["broken", "izzit7", "liar", "machine-2", "soda-yeti"]);
    expect([...model.computers.keys()].sort()).toEqual(["izzit7", "machine-2", "soda-yeti"]);
    const s = deriveStatus(model);
    expect(Object.keys(s.machines)).toEqual(["izzit7", "machine-2", "soda-yeti"]);
    const files_ = s.errors.map((e) => e.file).sort();
    expect(files_).toEqual([computerPath("Bad_Name"), computerPath("broken"), computerPath("liar"), "coordination/notes.md"]);
    expect(s.errors.find((e) => e.file === "coordination/notes.md")!.message).toMatch(/^ignored: coord reads only COMPUTER_<machine>\.md/);
    expect(s.errors.find((e) => e.file === computerPath("broken"))!.message).toMatch(/uuid/);
    expect(s.errors.find((e) => e.file === computerPath("liar"))!.message).toMatch(/izzit7/);
    // ALL still addresses the machine whose file is broken: it will fix it at its next sync.
    expect(Object.keys(s.orders["everyone"]!.machines)).toEqual(["broken", "izzit7", "liar", "machine-2", "soda-yeti"]);
    expect(s.orders["everyone"]!.machines["broken"]!.state).toBe("queued");
  });

  it("orders addressed to an unregistered machine make ORDERS.json invalid", () => {
    const s = statusOf(repoFiles(ordersJson([{ id: "x", to: "ghost", run: "true" }]), machines));
    expect(s.errors).toHaveLength(1);
    expect(s.errors[0]!.message).toMatch(/ghost/);
  });

  it("is deterministic: Map order and capability key order do not change the bytes", () => {
    const a = repoFiles(orders, machines);
    const reversed = new Map([...a].reverse());
    // The same machines written with their capabilities in another order, by hand.
    const shuffled = new Map<string, string>();
    for (const [path, text] of [...a].reverse()) {
      const name = machineOfPath(path);
      if (!name) {
        shuffled.set(path, text);
        continue;
      }
      const c = parseComputer(text, name);
      const { capabilities, tasks, ...rest } = c;
      const caps = Object.fromEntries(Object.entries(capabilities).reverse());
      // Layout 1 (all data in the front matter), as earlier versions wrote it.
      const hand = renderFrontMatter({ tasks, capabilities: caps, ...rest, coord: 1 }, "hand-written body");
      expect(hand).not.toBe(text);
      shuffled.set(path, hand);
    }
    const outputs = [a, reversed, shuffled].map((files) => {
      const s = statusOf(files);
      return [renderStatusJson(s), renderStatusMd(s)];
    });
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[2]).toEqual(outputs[0]);
    for (const text of outputs[0]!) {
      expect(text.endsWith("\n")).toBe(true);
      expect(text.endsWith("\n\n")).toBe(false);
      expect(text).not.toContain("\r");
    }
  });

  it("the same for invalid orders and broken files", () => {
    const a = repoFiles("{ nope", machines);
    a.set(computerPath("broken"), "nothing");
    const b = new Map([...a].reverse());
    expect(renderStatusJson(statusOf(b))).toBe(renderStatusJson(statusOf(a)));
    expect(renderStatusMd(statusOf(b))).toBe(renderStatusMd(statusOf(a)));
  });

  it("STATUS.json is the status as JSON; STATUS.md shows machines, orders and exits", () => {
    expect(JSON.parse(renderStatusJson(status))).toEqual(status);
    const md = renderStatusMd(status);
    expect(md).toContain("# Fleet status");
    expect(md).toContain("[izzit7](coordination/COMPUTER_izzit7.md)");
    // Failures first, each with why and a link to the task's section in its machine's file.
    expect(md).toContain("## ✖ Failures\n\n**same** on [soda-yeti](coordination/COMPUTER_soda-yeti.md#task-same): exit 1 · attempt 1, no retries left");
    expect(md.indexOf("## ✖ Failures")).toBeLessThan(md.indexOf("## Machines"));
    expect(md).toContain("| same (rev 2) | ✖ failed | izzit7 ✔, soda-yeti ✖ |");
    // Failed orders head the table.
    const rows = md.split("\n").filter((l) => /^\| [a-z]/.test(l) && !l.startsWith("| machine") && !l.startsWith("| order"));
    const orderRows = rows.filter((l) => !l.includes("COMPUTER_") && !/\d+ \/ \d+/.test(l));
    expect(orderRows[0]).toMatch(/✖ failed/);
    expect(orderRows.at(-1)).not.toMatch(/✖ failed/);
    expect(md).not.toContain("## ⚠ Errors");
  });
});

// --------------------------------------------------------------------- plan

describe("plan", () => {
  const now = new Date(T0);
  const machines = ["izzit7", "soda-yeti", "machine-2"];
  const CAPS = { os: "linux", node: "20.20.2" };
  /** The fleet as sync sees it: every registered machine, this one's journal published in its file. */
  const modelOf = (orders: Order[], me: string, journal: Record<string, TaskReport>): RepoModel => {
    const computers = machines.map((name) => computer(name, name === me ? { tasks: journal } : {}));
    return {
      orders: { version: 1, orders },
      ordersProblems: [],
      ordersOrigin: {},
      computers: new Map(computers.map((c) => [c.name, c])),
      machineNames: [...machines],
      fileProblems: [],
      messageFiles: [],
      controls: readControls(undefined),
    };
  };
  const inputFor = (orders: Order[], journal: Record<string, TaskReport> = {}, machine = "izzit7", over: Partial<PlanInput> = {}): PlanInput => ({
    orders,
    machine,
    machines,
    journal,
    status: deriveStatus(modelOf(orders, machine, journal)),
    capabilities: CAPS,
    now,
    maxParallel: 4,
    retryBackoff: 0,
    lease: 900,
    ...over,
  });
  const planFor = (orders: Order[], journal: Record<string, TaskReport> = {}, machine = "izzit7", over: Partial<PlanInput> = {}) => plan(inputFor(orders, journal, machine, over));
  const ids = (os: Order[]) => os.map((o) => o.id);
  const nothing = { run: [], claim: [], waiting: [] };

  it("runs orders addressed to the machine by name, in a list or ALL; not others", () => {
    const orders = [
      order({ id: "mine", to: "izzit7" }),
      order({ id: "listed", to: ["soda-yeti", "izzit7"] }),
      order({ id: "all", to: "ALL" }),
      order({ id: "theirs", to: "soda-yeti" }),
      order({ id: "their-list", to: ["soda-yeti", "machine-2"] }),
    ];
    expect(ids(planFor(orders).run)).toEqual(["mine", "listed", "all"]);
    expect(planFor(orders).waiting).toEqual([]);
    expect(planFor(orders).claim).toEqual([]);
    expect(ids(planFor(orders, {}, "machine-2").run)).toEqual(["all", "their-list"]);
  });

  it("ALL does not reach a machine that is not registered", () => {
    expect(planFor([order({ id: "all", to: "ALL" })], {}, "newcomer").run).toEqual([]);
  });

  it("never re-runs the same (id, rev) after completed or failed without retries", () => {
    const orders = [order({ id: "a", to: "izzit7" }), order({ id: "b", to: "izzit7" })];
    const journal = { a: report({ state: "completed" }), b: report({ state: "failed", exitCode: 1 }) };
    expect(planFor(orders, journal)).toEqual(nothing);
  });

  it("does not start again what is in progress, rejected or cancelled at that rev; a claim not started yet runs", () => {
    const states = ["in_progress", "rejected", "cancelled"] as const;
    const orders = states.map((s) => order({ id: s, to: "izzit7" }));
    const journal = Object.fromEntries(states.map((s) => [s, report({ state: s })]));
    expect(planFor(orders, journal)).toEqual(nothing);
    // "assigned": claimed, never started (e.g. a crash between the claim and the start).
    expect(ids(planFor([order({ id: "a", to: "izzit7" })], { a: report({ state: "assigned", finishedAt: undefined }) }).run)).toEqual(["a"]);
  });

  it("re-runs when rev is bumped, never goes back to an older rev", () => {
    const journal = { a: report({ rev: 1, state: "completed" }) };
    expect(ids(planFor([order({ id: "a", to: "izzit7", rev: 2 })], journal).run)).toEqual(["a"]);
    expect(planFor([order({ id: "a", to: "izzit7", rev: 1 })], { a: report({ rev: 2 }) })).toEqual(nothing);
  });

  describe("recurring orders (every): the run is the latest slot at or before now", () => {
    // T0 is 10:00 UTC: the slot of "0 * * * *" due is 10:00.
    const S9 = "2025-06-01T09:00:00.000Z";
    const S10 = "2025-06-01T10:00:00.000Z";
    const S11 = "2025-06-01T11:00:00.000Z";
    const hourly = (over: Partial<Order> = {}) => order({ id: "h", to: "izzit7", every: "0 * * * *", ...over });
    const cases: { name: string; order: Order; journal?: TaskReport; run?: { slot: string; attempt: number }; waiting?: string }[] = [
      { name: "never ran: the slot due", order: hourly(), run: { slot: S10, attempt: 1 } },
      { name: "ran without a slot (every added since): the slot due", order: hourly(), journal: report(), run: { slot: S10, attempt: 1 } },
      { name: "ran the previous slot: the slot due", order: hourly(), journal: report({ slot: S9 }), run: { slot: S10, attempt: 1 } },
      { name: "ran the slot due: nothing", order: hourly(), journal: report({ slot: S10 }) },
      { name: "ran a later slot (its clock was ahead): nothing", order: hourly(), journal: report({ slot: S11 }) },
      {
        name: "the previous slot failed with a retry left: the slot due, attempt 1",
        order: hourly({ retries: 1 }),
        journal: report({ slot: S9, state: "failed", exitCode: 1 }),
        run: { slot: S10, attempt: 1 },
      },
      {
        name: "the slot due failed with a retry left: its retry",
        order: hourly({ retries: 1 }),
        journal: report({ slot: S10, state: "failed", exitCode: 1 }),
        run: { slot: S10, attempt: 2 },
      },
      { name: "the slot due failed for good: nothing", order: hourly(), journal: report({ slot: S10, state: "failed", exitCode: 1 }) },
      {
        name: "the previous slot still runs: waits for it",
        order: hourly(),
        journal: report({ slot: S9, state: "in_progress", finishedAt: undefined }),
        waiting: `the run of ${S9} still runs`,
      },
      { name: "a bumped rev: the slot due again", order: hourly({ rev: 2 }), journal: report({ slot: S10 }), run: { slot: S10, attempt: 1 } },
      { name: "notBefore after the last slot: the first run waits", order: hourly({ notBefore: "2025-06-01T10:30:00Z" }), waiting: `first run at ${S11}` },
      { name: "every removed after a slot ran: nothing", order: order({ id: "h", to: "izzit7" }), journal: report({ slot: S10 }) },
    ];
    it.each(cases)("$name", (c) => {
      const p = planFor([c.order], c.journal ? { h: c.journal } : {});
      expect(p.run.map((o) => ({ slot: o.slot, attempt: nextAttempt(o, c.journal) }))).toEqual(c.run ? [c.run] : []);
      expect(p.waiting.map((w) => w.reason)).toEqual(c.waiting ? [c.waiting] : []);
    });

    /** An ANY order as the fleet's files say: soda-yeti's report, and this machine's journal. */
    const anyCases: { name: string; theirs?: TaskReport; mine?: TaskReport; claim?: { slot: string; attempt: number }; waiting?: string }[] = [
      { name: "nobody ran it: claim the slot due", claim: { slot: S10, attempt: 1 } },
      { name: "another machine ran the previous slot: claim the slot due, attempt 1", theirs: report({ slot: S9, attempts: 2 }), claim: { slot: S10, attempt: 1 } },
      { name: "another machine completed the slot due: nothing", theirs: report({ slot: S10 }) },
      { name: "another machine failed the slot due for good: nothing", theirs: report({ slot: S10, state: "failed", exitCode: 1 }) },
      { name: "another machine holds the slot due: wait", theirs: report({ slot: S10, state: "assigned", finishedAt: undefined, lease: 900 }), waiting: "claimed by soda-yeti" },
      {
        name: "another machine still runs the previous slot: wait for it",
        theirs: report({ slot: S9, state: "in_progress", finishedAt: undefined, lease: 900 }),
        waiting: `the run of ${S9} still runs on soda-yeti`,
      },
      {
        name: "this machine ran the previous slot, another the one before: claim",
        theirs: report({ slot: "2025-06-01T08:00:00.000Z" }),
        mine: report({ slot: S9 }),
        claim: { slot: S10, attempt: 1 },
      },
      { name: "a later slot was reported (a clock ahead): nothing", theirs: report({ slot: S11, startedAt: S11 }) },
    ];
    it.each(anyCases)("ANY: $name", (c) => {
      const o = order({ id: "h", to: "ANY", every: "0 * * * *" });
      const mine: Record<string, TaskReport> = c.mine ? { h: c.mine } : {};
      const later = "2025-06-01T11:30:00.000Z";
      const computers = machines.map((name) =>
        computer(name, {
          ...(name === "izzit7" ? { tasks: mine } : {}),
          ...(name === "soda-yeti" && c.theirs ? { tasks: { h: c.theirs }, ...(c.theirs.slot === S11 ? { lastSeen: later } : {}) } : {}),
        }),
      );
      const model = { ...modelOf([o], "izzit7", mine), computers: new Map(computers.map((x) => [x.name, x])) };
      const p = plan(inputFor([o], mine, "izzit7", { status: deriveStatus(model) }));
      expect(p.claim.map((cl) => ({ slot: cl.order.slot, attempt: cl.attempt }))).toEqual(c.claim ? [c.claim] : []);
      expect(p.waiting.map((w) => w.reason)).toEqual(c.waiting ? [c.waiting] : []);
    });
  });

  it("retries a failed task while attempts < retries + 1, after retryBackoff seconds doubled per attempt", () => {
    const o = order({ id: "flaky", to: "izzit7", retries: 2 });
    const failed = (attempts: number) => ({ flaky: report({ state: "failed", exitCode: 1, attempts }) });
    // No backoff: the next sync retries.
    expect(ids(planFor([o], failed(1)).run)).toEqual(["flaky"]);
    expect(ids(planFor([o], failed(2)).run)).toEqual(["flaky"]);
    expect(planFor([o], failed(3))).toEqual(nothing);
    // 60 s backoff: 60 s after the first failure, 120 s after the second.
    const later = (s: number) => ({ retryBackoff: 60, now: new Date(Date.parse(T0) + s * 1000) });
    expect(planFor([o], failed(1), "izzit7", later(59))).toEqual({
      run: [],
      claim: [],
      waiting: [{ order: o, reason: "retry 1 of 2 at 2025-06-01T10:01:00.000Z" }],
    });
    expect(ids(planFor([o], failed(1), "izzit7", later(60)).run)).toEqual(["flaky"]);
    expect(planFor([o], failed(2), "izzit7", later(119)).waiting.map((w) => w.reason)).toEqual(["retry 2 of 2 at 2025-06-01T10:02:00.000Z"]);
    expect(ids(planFor([o], failed(2), "izzit7", later(120)).run)).toEqual(["flaky"]);
    expect(planFor([o], failed(3), "izzit7", later(10_000))).toEqual(nothing);
    // A completed task is not retried, whatever the retries.
    expect(planFor([o], { flaky: report({ state: "completed", attempts: 1 }) })).toEqual(nothing);
  });

  it("never starts a cancelled order, even a failed one with retries left", () => {
    const o = order({ id: "c", to: "izzit7", cancelled: true, retries: 3 });
    const cancelled = { run: [], claim: [], waiting: [{ order: o, reason: "cancelled" }] };
    expect(planFor([o])).toEqual(cancelled);
    expect(planFor([o], { c: report({ state: "failed", attempts: 1 }) })).toEqual(cancelled);
    // A cancelled ANY order is neither claimed nor shown as waiting.
    expect(planFor([order({ id: "any", to: "ANY", cancelled: true })])).toEqual(nothing);
  });

  it("says why an order waits: notBefore in the future, dependencies, missing capabilities", () => {
    const orders = [
      order({ id: "x", to: "soda-yeti" }),
      order({ id: "after", to: "izzit7", after: ["x"] }),
      order({ id: "requires", to: "izzit7", requires: ["gpu"] }),
      order({ id: "agent", to: "izzit7", run: undefined, agent: "claude", prompt: "hi" }),
      order({ id: "later", to: "izzit7", notBefore: "2025-06-01T11:00:00Z" }),
      order({ id: "past", to: "izzit7", notBefore: "2025-06-01T09:00:00Z" }),
      order({ id: "now", to: "izzit7", notBefore: "2025-06-01T12:00:00+02:00" }),
      order({ id: "node", to: "izzit7", requires: ["node"] }),
    ];
    const p = planFor(orders);
    expect(ids(p.run)).toEqual(["past", "now", "node"]);
    expect(p.waiting.map((w) => [w.order.id, w.reason])).toEqual([
      ["after", "waiting for x"],
      ["requires", "this machine lacks gpu"],
      ["agent", "this machine lacks claude"],
      ["later", "not before 2025-06-01T11:00:00Z"],
    ]);
    // With the agent's CLI installed, the agent order runs.
    expect(ids(planFor(orders, {}, "izzit7", { capabilities: { ...CAPS, claude: "installed" } }).run)).toContain("agent");
  });

  it("orders by priority, highest first, keeping file order among equals", () => {
    const orders = [
      order({ id: "n1", to: "izzit7" }),
      order({ id: "low", to: "izzit7", priority: "low" }),
      order({ id: "h1", to: "izzit7", priority: "high" }),
      order({ id: "n2", to: "izzit7" }),
      order({ id: "u", to: "izzit7", priority: "urgent" }),
      order({ id: "h2", to: "izzit7", priority: "high" }),
      order({ id: "n3", to: "izzit7", priority: "normal" }),
    ];
    expect(ids(planFor(orders).run)).toEqual(["u", "h1", "h2", "n1", "n2", "n3", "low"]);
  });

  it("does not mutate its input", () => {
    const orders = [
      order({ id: "a", to: "izzit7", priority: "low" }),
      order({ id: "b", to: "izzit7", priority: "high" }),
      order({ id: "c", to: "ANY", priority: "urgent", retries: 1 }),
      order({ id: "d", to: "ANY" }),
    ];
    const input = inputFor(orders, { a: report({ state: "failed", attempts: 1 }) }, "izzit7", { maxParallel: 3 });
    const copy = structuredClone(input);
    const p = plan(input);
    expect(ids(p.run)).toEqual(["b"]);
    expect(p.claim.map((c) => c.order.id)).toEqual(["c", "d"]);
    expect(input).toEqual(copy);
  });

  it("order ids that are Object.prototype names are not mistaken for journal entries", () => {
    const orders = ["constructor", "toString", "hasOwnProperty"].map((id) => order({ id, to: "izzit7" }));
    expect(ids(planFor(orders).run)).toEqual(["constructor", "toString", "hasOwnProperty"]);
  });

  it("nextAttempt counts attempts of the same rev only; a claim not started keeps its attempt", () => {
    const o = order({ id: "a", to: "izzit7", rev: 2 });
    expect(nextAttempt(o, undefined)).toBe(1);
    expect(nextAttempt(o, report({ rev: 2, attempts: 1 }))).toBe(2);
    expect(nextAttempt(o, report({ rev: 2, attempts: 3 }))).toBe(4);
    expect(nextAttempt(o, report({ rev: 1, attempts: 5 }))).toBe(1);
    expect(nextAttempt(o, report({ rev: 2, state: "assigned", attempts: 3 }))).toBe(3);
  });

  it("missingCapabilities lists the required capabilities and the agent CLI a machine lacks", () => {
    expect(missingCapabilities(order({ id: "a", to: "izzit7" }), {})).toEqual([]);
    const o = order({ id: "a", to: "ANY", requires: ["node", "gpu"], run: undefined, agent: "claude", prompt: "p" });
    expect(missingCapabilities(o, CAPS)).toEqual(["gpu", "claude"]);
    expect(missingCapabilities(o, { ...CAPS, gpu: "label", claude: "installed" })).toEqual([]);
  });
});

// ------------------------------------------------------------------- redact

describe("redact", () => {
  const ghp = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
  const pat = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV";

  it("replaces GitHub tokens", () => {
    expect(redact(`token=${ghp} done`)).toBe("token=[REDACTED] done");
    expect(redact(`export GH_TOKEN=${pat}`)).toBe("export GH_TOKEN=[REDACTED]");
    for (const p of ["gho_", "ghu_", "ghs_", "ghr_"]) expect(redact(`${p}${"x".repeat(36)}`)).toBe("[REDACTED]");
  });

  it("replaces AWS key ids and secret keys", () => {
    expect(redact("key AKIAIOSFODNN7EXAMPLE here")).toBe("key [REDACTED] here");
    expect(redact("ASIAABCDEFGHIJKLMNOP")).toBe("[REDACTED]");
    expect(redact("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")).toBe("aws_secret_access_key = [REDACTED]");
  });

  it("replaces Bearer tokens, keeping the word", () => {
    expect(redact("Authorization: Bearer abc.def-ghi_jkl")).toBe("Authorization: Bearer [REDACTED]");
    expect(redact("authorization: bearer abcdefghij")).toBe("authorization: bearer [REDACTED]");
  });

  it("replaces private key blocks, also an unterminated one", () => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAA\n-----END OPENSSH PRIVATE KEY-----";
    expect(redact(`before\n${key}\nafter`)).toBe("before\n[REDACTED]\nafter");
    expect(redact("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n(cut)")).toBe("[REDACTED]");
    expect(redact("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----")).toBe("[REDACTED]");
  });

  it("replaces sk- keys and Slack tokens", () => {
    expect(redact("OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz")).toBe("OPENAI_API_KEY=[REDACTED]");
    expect(redact("xoxb-1234567890-abcdef")).toBe("[REDACTED]");
  });

  it("replaces the given secret values, longest first", () => {
    expect(redact("pw=hunter2hunter2 and hunter2", ["hunter2", "hunter2hunter2"])).toBe("pw=[REDACTED] and [REDACTED]");
    expect(redact("a.b*c(d) a.b*c(d)", ["a.b*c(d)"])).toBe("[REDACTED] [REDACTED]");
  });

  it("leaves ordinary text alone", () => {
    const text = "npm test\n✓ 12 passed (ghp is a word), AKIA short, sk-short, Bearer x\n";
    expect(redact(text)).toBe(text);
  });

  it("replaces tiny secret values only where they stand alone (inside words they would shred the output)", () => {
    expect(redact("a b c abc", ["a", "b"])).toBe("[REDACTED] [REDACTED] c abc");
  });
});

describe("outputTail", () => {
  it("keeps the last N lines", () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join("\n") + "\n\n";
    expect(outputTail(text, 3)).toBe("line 48\nline 49\nline 50");
    expect(outputTail("one\ntwo\n", 10)).toBe("one\ntwo");
    expect(outputTail("", 5)).toBe("");
  });

  it("strips ANSI escapes and control characters, keeps tabs and unicode", () => {
    const text = "\x1b[32m✓\x1b[0m passed\r\n\x1b[1;31mfail\x1b[0m\té\x07\x00\x7f\n\x1b[?25hdone";
    expect(outputTail(text, 10)).toBe("✓ passed\nfail\té\ndone");
  });

  it("caps the length, keeping the end", () => {
    const text = "a".repeat(10_000) + "END";
    const tail = outputTail(text, 10, 100);
    expect(tail.endsWith("END")).toBe(true);
    expect(tail.startsWith("…")).toBe(true);
    expect(tail.length).toBeLessThanOrEqual(101);
    expect(outputTail("x".repeat(5000), 1).length).toBeLessThanOrEqual(4001);
  });

  it("redacts token shapes and given secrets", () => {
    const out = outputTail(`pushing with ghp_${"Z".repeat(36)}\npassword is s3cr3t-value\n`, 10, 4000, ["s3cr3t-value"]);
    expect(out).toBe("pushing with [REDACTED]\npassword is [REDACTED]");
  });

  it("redacts a token printed in colour", () => {
    const token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    const out = outputTail(`\x1b[32m${token}\x1b[0m\n\x1b[1mAKIAIOSFODNN7EXAMPLE\x1b[0m\n`, 10);
    expect(out).not.toContain(token);
    expect(out).not.toContain("AKIAIOSFODNN7EXAMPLE");
  });

  it("never splits a surrogate pair when capping", () => {
    const tail = outputTail("😀".repeat(3000), 10, 101);
    expect(Buffer.from(tail, "utf8").toString("utf8")).toBe(tail);
  });

  it("publishes nothing when asked for 0 lines", () => {
    expect(outputTail("secret-ish build log\nmore\n", 0)).toBe("");
  });
});

// ----------------------------------------------------------------- duration

describe("parseDuration / formatDuration", () => {
  it("reads the units and numbers of seconds", () => {
    expect(parseDuration("90s")).toBe(90);
    expect(parseDuration("15m")).toBe(900);
    expect(parseDuration("2h")).toBe(7200);
    expect(parseDuration("1d")).toBe(86400);
    expect(parseDuration("1.5h")).toBe(5400);
    expect(parseDuration(" 15m ")).toBe(900);
    expect(parseDuration(300)).toBe(300);
    expect(parseDuration(0.5)).toBe(0.5);
  });

  it("refuses anything else", () => {
    for (const bad of ["ten minutes", "", " ", "-5m", "0s", "0", "15", "15M", "m", "1w", "1h30m", "1e3s", "Infinitys"])
      expect(parseDuration(bad), JSON.stringify(bad)).toBeUndefined();
    for (const bad of [0, -5, NaN, Infinity]) expect(parseDuration(bad), String(bad)).toBeUndefined();
  });

  it("formats with the largest exact unit", () => {
    expect(formatDuration(90)).toBe("90s");
    expect(formatDuration(900)).toBe("15m");
    expect(formatDuration(7200)).toBe("2h");
    expect(formatDuration(86400)).toBe("1d");
    expect(formatDuration(5400)).toBe("90m");
    for (const s of [1, 59, 60, 90, 300, 3600, 5400, 86400, 172800]) expect(parseDuration(formatDuration(s))).toBe(s);
  });
});

// -------------------------------------------------------------------- names

describe("machine names", () => {
  it("accepts the seeds' names and the longest name", () => {
    for (const name of ["izzit7", "soda-yeti", "machine-2", "1", "2", "a", "a-", "x".repeat(63)]) expect(machineNameProblem(name), name).toBeUndefined();
  });

  it("refuses invalid and reserved names, saying why", () => {
    for (const name of ["", "Izzit7", "-a", "a_b", "a.b", "a b", "é", "x".repeat(64), "../etc", "a/b"])
      expect(machineNameProblem(name), JSON.stringify(name)).toMatch(/not a valid machine name/);
    for (const name of ["all", "ALL", "any", "ANY", "All"]) expect(machineNameProblem(name), name).toMatch(/reserved/);
  });

  it("maps names to COMPUTER file paths and back", () => {
    expect(computerPath("soda-yeti")).toBe("coordination/COMPUTER_soda-yeti.md");
    expect(machineOfPath("coordination/COMPUTER_soda-yeti.md")).toBe("soda-yeti");
    expect(machineOfPath(computerPath("1"))).toBe("1");
    expect(machineOfPath("coordination/messages/a_TO_b.md")).toBeUndefined();
    expect(machineOfPath("COMPUTER_x.md")).toBeUndefined();
    expect(machineOfPath("coordination/COMPUTER_x.md.bak")).toBeUndefined();
    expect(machineOfPath("coordination/orders.schema.json")).toBeUndefined();
  });
});

// ----------------------------------------------------------------- markdown

describe("markdown", () => {
  it("cell escapes pipes, newlines and HTML", () => {
    expect(cell("a | b")).toBe("a \\| b");
    expect(cell("one\ntwo\r\nthree")).toBe("one two three");
    expect(cell("<script>alert('x')</script> & co")).toBe("&lt;script&gt;alert('x')&lt;/script&gt; &amp; co");
    expect(cell(undefined)).toBe("");
    expect(cell(null)).toBe("");
    expect(cell("")).toBe("");
    expect(cell(0)).toBe("0");
    expect(cell(false)).toBe("false");
  });

  it("a table has one row per line and as many cells as the header", () => {
    const t = table(
      ["a", "b"],
      [
        ["x|y", "1\n2"],
        [undefined, "<i>"],
      ],
    );
    expect(t).toBe("| a | b |\n|---|---|\n| x\\|y | 1 2 |\n|  | &lt;i&gt; |");
    for (const line of t.split("\n")) expect(line.replace(/\\\|/g, "").split("|").length - 2).toBe(2);
  });

  it("fence survives text containing ``` and ````", () => {
    const cases = ["plain", "```\ninside\n```", "````\nmore\n````", "a ` b `` c", "ends with ```", ""];
    for (const text of cases) {
      const f = fence(text);
      const opener = /^(`+)text\n/.exec(f)![1]!;
      const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
      expect(opener.length, text).toBeGreaterThan(longest);
      expect(opener.length, text).toBeGreaterThanOrEqual(3);
      expect(f.endsWith("\n" + opener), text).toBe(true);
      // The fence closes only at the end: no inner line is a closing fence.
      const inner = f.split("\n").slice(1, -1);
      for (const line of inner) expect(line.trim().startsWith(opener) && line.trim() === opener, text).toBe(false);
    }
    expect(fence("x\n")).toBe("```text\nx\n```");
    expect(fence("x", "json")).toBe("```json\nx\n```");
  });
});

// ----------------------------------------------------------------- terminal

describe("terminal", () => {
  it("textTable pads columns and trims line ends", () => {
    expect(
      textTable(
        ["A", "BB"],
        [
          ["xyz", "1"],
          ["q", ""],
        ],
      ),
    ).toBe("A    BB\n---  --\nxyz  1\nq");
  });

  const status: StatusJson = {
    coord: 1,
    machines: {
      fresh: {
        state: "working",
        presence: "online",
        lastSeen: "2025-06-01T09:59:00Z",
        heartbeat: 60,
        capabilities: { node: "20", os: "linux" },
        ordersValid: true,
        messages: { waiting: 0, unacked: 0 },
      },
      stale: { state: "idle", presence: "offline", lastSeen: "2025-06-01T09:00:00Z", heartbeat: 60, capabilities: {}, ordersValid: true, messages: { waiting: 2, unacked: 1 } },
    },
    orders: {
      build: {
        rev: 2,
        state: "failed",
        done: false,
        to: ["fresh", "stale"],
        machines: {
          fresh: { state: "failed", exitCode: 124, startedAt: null, finishedAt: null, attempts: 1, reason: "timed out after 2s" },
          stale: { state: "rejected", exitCode: null, startedAt: null, finishedAt: null, attempts: 0, reason: "stale lacks gpu" },
        },
      },
      review: { rev: 1, state: "queued", done: false, to: "ANY", reason: "no registered machine has gpu", machines: {} },
    },
    alerts: [],
    errors: [
      { file: "ORDERS.json", line: 4, path: "orders[0].timeout", message: "bad" },
      { file: "coordination/COMPUTER_x.md", message: "ignored" },
    ],
  };

  it("statusText shows offline for a stale machine given now, and how long ago", () => {
    const text = statusText(status, new Date(T0));
    const lines = text.split("\n");
    expect(lines.find((l) => l.startsWith("stale"))).toMatch(/^stale\s+offline\s+idle\s+1 h ago\s+2\/1/);
    expect(lines.find((l) => l.startsWith("fresh"))).toMatch(/^fresh\s+online\s+working\s+1 min ago\s+0\/0\s+node,os$/);
    expect(lines.find((l) => l.startsWith("build"))).toMatch(/^build\s+2\s+failed\s+fresh=failed\(124\) stale=rejected$/);
    expect(text).toContain("FAILED\n  build on fresh: timed out after 2s · attempt 1, a retry waits");
    expect(text).toContain("REJECTED\n  build on stale: stale lacks gpu");
    // STATUS.md says why too.
    const md = renderStatusMd({ ...status, asOf: T0 });
    expect(md).toContain("**build** on [fresh](coordination/COMPUTER_fresh.md#task-build): timed out after 2s");
    expect(md).toContain("- `build` on stale, rejected: stale lacks gpu");
    expect(md).toContain("| [stale](coordination/COMPUTER_stale.md) | 🔴 offline · idle | 1 h ago (2025-06-01 09:00 UTC) |");
    expect(text).toContain("review queued: no registered machine has gpu");
    expect(text).toContain("ERRORS");
    expect(text).toContain("  ORDERS.json:4 orders[0].timeout: bad");
    expect(text).toContain("  coordination/COMPUTER_x.md: ignored");
  });

  it("a machine seen just now is not offline even if the clock is slightly behind", () => {
    const text = statusText(status, new Date("2025-06-01T09:58:30Z"));
    expect(text.split("\n").find((l) => l.startsWith("fresh"))).toMatch(/^fresh\s+online\s+working\s+just now/);
  });

  it("empty status", () => {
    expect(statusText({ coord: 1, machines: {}, orders: {}, alerts: [], errors: [] }, new Date(T0))).toBe("No machines yet: run coord init on one.\n\nNo orders.");
  });
});

// --------------------------------------------------------------------- blob

describe("gitBlobId", () => {
  it("equals git hash-object", () => {
    expect(gitBlobId("hello\n")).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
    expect(gitBlobId("")).toBe("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    // Length is in bytes, not UTF-16 units.
    expect(gitBlobId("héllo ✓\n")).toBe("922546d2b370fcdb20dec9db061f2960c3a118cd");
  });
});

// --------------------------------------------------------------------- repo

describe("readModel", () => {
  it("reads valid orders and machines, and knows every machine name", () => {
    const files = repoFiles(ordersJson([{ id: "a", to: "izzit7", run: "true" }]), [computer("izzit7"), computer("soda-yeti")]);
    files.set("README.md", "# hub\n");
    const model = readModel(files);
    expect(model.ordersProblems).toEqual([]);
    expect(model.fileProblems).toEqual([]);
    expect(model.orders?.orders.map((o) => o.id)).toEqual(["a"]);
    expect(model.machineNames.sort()).toEqual(["izzit7", "soda-yeti"]);
    expect(model.computers.get("izzit7")?.uuid).toBe("uuid-of-izzit7");
  });

  it("ignores COMPUTER files of reserved names", () => {
    const files = repoFiles(EMPTY_ORDERS, []);
    files.set(computerPath("ALL"), renderComputer(computer("ALL")));
    files.set(computerPath("any"), renderComputer(computer("any")));
    const model = readModel(files);
    expect(model.machineNames).toEqual([]);
    expect(model.fileProblems.map((p) => p.file).sort()).toEqual([computerPath("ALL"), computerPath("any")]);
    for (const p of model.fileProblems) expect(p.message).toMatch(/reserved/);
  });
});

// ----------------------------------------------------------------- scaffold

describe("scaffoldFiles", () => {
  const files = scaffoldFiles("# My hub\n");

  it("writes ORDERS.json with $schema and no orders", () => {
    const orders = JSON.parse(files.get(ORDERS_FILE)!);
    expect(orders).toEqual({ $schema: SCHEMA_FILE, version: 1, orders: [] });
    expect(files.get(ORDERS_FILE)).toBe(EMPTY_ORDERS);
    expect(EMPTY_ORDERS.endsWith("}\n")).toBe(true);
    const parsed = parseOrders(files.get(ORDERS_FILE)!, { machines: [] });
    expect(parsed.problems).toEqual([]);
    expect(parsed.orders?.orders).toHaveLength(0);
  });

  it("writes the schema, the README given, and the STATUS files", () => {
    expect([...files.keys()].sort()).toEqual([ORDERS_FILE, "README.md", STATUS_JSON, STATUS_MD, SCHEMA_FILE].sort());
    expect(files.get("README.md")).toBe("# My hub\n");
    expect(JSON.parse(files.get(SCHEMA_FILE)!)).toMatchObject({ title: "coord ORDERS.json" });
    expect(JSON.parse(files.get(STATUS_JSON)!)).toEqual({
      coord: 1,
      machines: {},
      orders: {},
      budget: { pushesPerMinute: 6, machines: 0, heartbeat: 20 },
      alerts: [],
      errors: [],
    });
    expect(files.get(STATUS_MD)).toContain("Push budget: 6 pushes a minute shared by 0 machines: heartbeats every 20 s or longer");
    expect(files.get(STATUS_MD)).toContain("No machine has registered yet");
    expect(files.get(STATUS_MD)).toContain("No orders.");
  });

  it("is deterministic, LF only, and what any machine would derive from it", () => {
    const again = scaffoldFiles("# My hub\n");
    expect([...again]).toEqual([...files]);
    for (const [path, text] of files) {
      expect(text, path).not.toContain("\r");
      expect(text.endsWith("\n"), path).toBe(true);
    }
    const status = deriveStatus(readModel(files));
    expect(renderStatusJson(status)).toBe(files.get(STATUS_JSON));
    expect(renderStatusMd(status)).toBe(files.get(STATUS_MD));
  });
});

describe("ownComputer / renderChanges", () => {
  const self = (tasks: Record<string, TaskReport & { log?: string; pid?: number }>) => ({
    name: "izzit7",
    uuid: "uuid-of-izzit7",
    heartbeat: 300,
    retryBackoff: 60,
    capabilities: { os: "linux" },
    tasks,
    lastRun: "ran build",
  });
  const orders = ordersJson([
    { id: "build", to: "izzit7", run: "make" },
    { id: "test", to: "izzit7", run: "make test" },
  ]);

  it("reports the orders still in ORDERS.json, working while one runs, without local-only fields", () => {
    const model = readModel(repoFiles(orders, [computer("izzit7")]));
    const mine = ownComputer(
      self({
        build: { ...report(), log: "/home/x/.git/coord/logs/build.log" },
        test: { ...report({ state: "in_progress", exitCode: undefined, finishedAt: undefined }), pid: 4242 },
        gone: report(),
      }),
      model,
      orders,
      new Date(T0),
    );
    expect(Object.keys(mine.tasks)).toEqual(["build", "test"]);
    expect(mine.state).toBe("working");
    expect(mine.lastSeen).toBe(T0);
    expect(mine.orders).toEqual({ seen: gitBlobId(orders), valid: true });
    expect(renderComputer(mine)).not.toMatch(/4242|logs\/build\.log/);
    expect(mine.lastRun).toBe("ran build");
  });

  it("keeps the report of a removed ANY order (it has a lease) for 7 days after it ended, so a restored order does not run again", () => {
    const files = repoFiles(orders, [computer("izzit7")]);
    const any = report({ lease: 600, finishedAt: T0 });
    const named = report({ finishedAt: T0 });
    const day = 86_400_000;
    const at = (days: number) => new Date(Date.parse(T0) + days * day);
    expect(Object.keys(ownComputer(self({ any, named }), readModel(files), orders, at(6.9)).tasks)).toEqual(["any"]);
    expect(ownComputer(self({ any, named }), readModel(files), orders, at(7)).tasks).toEqual({});
  });

  it("says when a failed task with retries left runs again, and shows it in STATUS", () => {
    const withRetries = ordersJson([{ id: "build", to: "izzit7", run: "make", retries: 2 }]);
    const model = readModel(repoFiles(withRetries, [computer("izzit7")]));
    const failedOnce = report({ state: "failed", exitCode: 4, reason: "exit code 4", finishedAt: T0 });
    const mine = ownComputer(self({ build: failedOnce }), model, withRetries, new Date(T0));
    expect(mine.tasks.build!.retryAt).toBe("2025-06-01T10:01:00.000Z"); // 60 s after the end
    expect(renderComputer(mine)).toContain("exit code 4; retry at 2025-06-01T10:01:00.000Z");
    const files = new Map([...repoFiles(withRetries, []), [computerPath("izzit7"), renderComputer(mine)]]);
    const md = renderStatusMd(statusOf(files));
    expect(md).toContain("**build** on [izzit7](coordination/COMPUTER_izzit7.md#task-build): exit code 4 · attempt 1, retry at 2025-06-01T10:01:00.000Z");
    expect(md).not.toContain("- `build` on izzit7, failed"); // failures are in their own section, not again under the orders
    // The last attempt failed: no retry to announce.
    const last = ownComputer(self({ build: { ...failedOnce, attempts: 3 } }), model, withRetries, new Date(T0));
    expect(last.tasks.build!.retryAt).toBeUndefined();
  });

  it("keeps every task and names the first problem while ORDERS.json is invalid", () => {
    const broken = '{ "version": 1, "orders": [ { "id": "build" ';
    const mine = ownComputer(self({ gone: report() }), readModel(repoFiles(broken, [])), broken, new Date(T0));
    expect(Object.keys(mine.tasks)).toEqual(["gone"]);
    expect(mine.state).toBe("idle");
    expect(mine.orders.valid).toBe(false);
    expect(mine.orders.error).toMatch(/ORDERS\.json/);
  });

  it("changes only what differs: nothing when the tree already says it", () => {
    const files = repoFiles(orders, [computer("izzit7"), computer("soda-yeti")]);
    const mine = ownComputer(self({ build: report() }), readModel(files), orders, new Date(T0));
    const first = renderChanges(files, readModel(files), mine);
    expect([...first.keys()].sort()).toEqual([computerPath("izzit7"), STATUS_JSON, STATUS_MD].sort());
    const status = JSON.parse(first.get(STATUS_JSON)!) as StatusJson;
    expect(Object.keys(status.machines)).toEqual(["izzit7", "soda-yeti"]);
    expect(status.orders.build!.machines.izzit7!.state).toBe("completed");
    const after = new Map([...files, ...first]);
    expect(renderChanges(after, readModel(after), mine).size).toBe(0);
  });
});
