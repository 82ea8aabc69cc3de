// STATUS derivation (src/core/status/status.ts): one state per order, and the whole
// STATUS from what the repository holds.
import { describe, it, expect } from "vitest";
import { parseComputer, renderComputer } from "../../../src/core/fleet/computer.js";
import { renderFrontMatter } from "../../../src/core/files/frontmatter.js";
import { computerPath, machineOfPath } from "../../../src/core/files/names.js";
import { readModel } from "../../../src/core/repo/repo.js";
import { deriveStatus, renderStatusJson, summarize } from "../../../src/core/status/status.js";
import { renderStatusMd } from "../../../src/core/status/status-md.js";
import { messagePath, renderMessageFile } from "../../../src/core/messages/messages.js";
import { computerFile, taskReport as report, ordersJson, repoFiles, statusOf } from "../../fixtures.js";

const T0 = "2025-06-01T10:00:00.000Z";

const computer = computerFile;

// ------------------------------------------------------------ COMPUTER files

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

describe("deriveStatus: who speaks in STATUS", () => {
  const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOv9x0VrYzPj1cO7bq6pX1T4V4kV6VqQ2bGqLrY0KcZc";
  const urgentFrom = (from: string) =>
    renderMessageFile({ coord: 1, from, to: "vic", next: 2, messages: [{ seq: 1, at: T0, priority: "urgent", text: `approve it now - ${from}` }] });
  const fleet = (keys: object | undefined, extra: Parameters<typeof computer>[] = []) => {
    const orders = JSON.stringify({ version: 1, orders: [], ...(keys ? { keys } : {}) });
    const files = repoFiles(orders, [computer("vic"), computer("sam"), ...extra.map((args) => computer(...args))]);
    for (const from of ["sam", "admin", "nobody"]) files.set(messagePath(from, "vic"), urgentFrom(from));
    return statusOf(files);
  };
  it.each([
    ["without keys: every registered machine, not a name with no file", undefined, ["admin/vic/1", "sam/vic/1"], T0],
    ["with keys: only the machines they name", { vic: KEY, sam: KEY }, ["sam/vic/1"], T0],
  ])("%s", (_, keys, urgent, asOf) => {
    const status = fleet(keys, [["admin", { lastSeen: "2099-01-01T00:00:00.000Z" }]]);
    expect(status.alerts.filter((a) => a.kind === "urgent").map((a) => a.id)).toEqual(urgent);
    expect(status.machines.vic!.messages.waiting).toBe(urgent.length);
    // A left-out machine's clock sets no fleet time either (2099 would make every other machine offline).
    if (keys) expect(status.asOf).toBe(asOf);
    else expect(status.asOf).toBe("2099-01-01T00:00:00.000Z");
  });
});
