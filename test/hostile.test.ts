// What anyone who can push may put in the repository, against the pure core:
// odd paths, names that are also JavaScript's (constructor, __proto__…), huge
// or deeply nested files, forged counters and receipts, clocks far ahead.
// Each must stay that file's problem, a sentence, and fool nobody.
import { describe, expect, it } from "vitest";
import { CLOCK_SKEW, heardAt } from "../src/core/time/clock.js";
import { type ComputerFile, parseComputer, renderComputer, type TaskReport } from "../src/core/fleet/computer.js";
import { jsonDepth, MAX_COUNT, MAX_DEPTH, notRead, yamlDepth } from "../src/core/limits.js";
import { messagePath, parseMessageFile, receivedMark, renderMessageFile, trustedReceipts, type MessageFile, type Receipts } from "../src/core/messages/messages.js";
import { computerPath } from "../src/core/files/names.js";
import { parseOrders } from "../src/core/orders/orders.js";
import { claimHolder, plan, retryAt } from "../src/core/machine/plan.js";
import { ownComputer, renderChanges } from "../src/core/machine/publish.js";
import { classifyPath, ORDERS_FILE, readModel } from "../src/core/repo/repo.js";
import { isOffline } from "../src/core/fleet/presence.js";
import { deriveStatus } from "../src/core/status/status.js";
import { renderStatusMd } from "../src/core/status/status-md.js";
import { computerFile, T0_ISO } from "./fixtures.js";
import type { Order } from "../src/core/orders/orders-schema.js";

const T0 = Date.parse(T0_ISO);
const at = (s: number) => new Date(T0 + s * 1000);

const ordersJson = (orders: object[]) => JSON.stringify({ version: 1, orders }, null, 2) + "\n";

function tree(orders: object[] | string, computers: ComputerFile[], extra: Record<string, string> = {}): Map<string, string> {
  const files = new Map<string, string>([[ORDERS_FILE, typeof orders === "string" ? orders : ordersJson(orders)]]);
  for (const c of computers) files.set(computerPath(c.name), renderComputer(c));
  for (const [path, text] of Object.entries(extra)) files.set(path, text);
  return files;
}

const report = (over: Partial<TaskReport> = {}): TaskReport => ({ rev: 1, state: "completed", attempts: 1, exitCode: 0, startedAt: T0_ISO, finishedAt: T0_ISO, ...over });

const messageFile = (from: string, to: string, next: number, seqs: number[]): MessageFile => ({
  coord: 1,
  from,
  to,
  next,
  messages: seqs.map((seq) => ({ seq, at: T0_ISO, priority: "normal", text: `message ${seq}` })),
});

/** The plan of `me` over a tree, as a sync makes it (its journal is what its file says). */
function planFor(files: Map<string, string>, me: string, caps: Record<string, string>, now = at(0)) {
  const model = readModel(files);
  const status = deriveStatus(model);
  return plan({
    orders: model.orders?.orders ?? [],
    machine: me,
    machines: model.machineNames,
    journal: model.computers.get(me)?.tasks ?? {},
    status,
    capabilities: caps,
    now,
    maxParallel: 4,
    retryBackoff: 30,
    lease: 600,
  });
}

// ------------------------------------------------------------------ paths

describe("paths coord did not write", () => {
  const forged = renderComputer(computerFile("alpha", { tasks: { build: report() } }));
  const cases: [string, string, RegExp][] = [
    ["a tab in a machine file's name", "coordination/COMPUTER_alpha.md\tx", /control character/],
    ["a newline in a machine file's name", "coordination/COMPUTER_alpha.md\nx", /control character/],
    ["a newline before .md", "coordination/COMPUTER_alpha\n.md", /control character/],
    ["a path up and out", "coordination/COMPUTER_../../x.md", /not a valid machine name/],
    ["a machine file in a subdirectory", "coordination/sub/COMPUTER_alpha.md", /coord reads only/],
    ["a stray file", "coordination/notes.md", /coord reads only/],
    ["a message file that is not a channel", "coordination/messages/README.md", /not a message file/],
    ["a message file from a bad name", "coordination/messages/../x_TO_alpha.md", /not a message file/],
    ["a delegated file of a bad name", "coordination/orders/Alpha.json", /not a valid machine name/],
    ["a delegated file that is not JSON", "coordination/orders/alpha.yaml", /only files named/],
    ["a C1 control character", "coordination/COMPUTER_alpha\u0085.md", /control character/],
  ];
  it.each(cases)("%s is reported, never read as someone's file", (_what, path, why) => {
    const files = tree(
      [
        { id: "build", to: "ANY", run: "make" },
        { id: "deploy", to: "alpha", after: ["build"], run: "ship" },
      ],
      [computerFile("alpha")],
      { [path]: forged },
    );
    const model = readModel(files);
    // alpha's own (empty) report stands: the forged completion is nobody's.
    expect(model.computers.get("alpha")!.tasks).toEqual({});
    expect(model.machineNames).toEqual(["alpha"]);
    const problem = model.fileProblems.find((p) => p.message.startsWith("ignored:"));
    expect(problem?.message).toMatch(why);
    // Printed on one line, control characters escaped.
    expect(problem!.file).not.toMatch(/[\t\n\u0085]/);
    const status = deriveStatus(model);
    expect(status.orders["build"]!.state).toBe("queued");
    expect(status.orders["deploy"]!.machines["alpha"]!.state).toBe("blocked");
    expect(planFor(files, "alpha", { os: "linux" }).run.map((o) => o.id)).toEqual([]);
    expect(renderStatusMd(status)).toContain(problem!.file);
  });

  it("the known files are not reported, and files outside coordination/ are no business of coord", () => {
    const files = tree([], [computerFile("alpha")], { "coordination/orders.schema.json": "{}", "README.md": "# hub", "docs/x\ty.md": "" });
    expect(readModel(files).fileProblems).toEqual([]);
    expect(classifyPath("docs/a.md")).toEqual({ kind: "ignored" });
  });

  it("a message file whose front matter names another sender or recipient is refused", () => {
    const lie = renderMessageFile(messageFile("beta", "alpha", 2, [1]));
    for (const path of [messagePath("gamma", "alpha"), messagePath("beta", "ALL")]) {
      const model = readModel(tree([], [computerFile("alpha"), computerFile("beta"), computerFile("gamma")], { [path]: lie }));
      expect(model.messageFiles).toEqual([]);
      expect(model.fileProblems[0]!.message).toMatch(/front matter says beta to alpha, but the file name says/);
    }
  });
});

// ------------------------------------------------------- JavaScript's names

describe("names that are also JavaScript's", () => {
  const names = ["constructor", "tostring", "hasownproperty", "valueof", "__proto__", "prototype", "__definegetter__"];
  const ids = ["constructor", "toString", "hasOwnProperty", "valueOf", "__proto__", "prototype", "isPrototypeOf"];

  it.each(ids)("an order that requires %j matches no machine that lacks it", (cap) => {
    const files = tree(
      [
        { id: "gpu-job", to: ["alpha"], requires: [cap], run: "train" },
        { id: "any-job", to: "ANY", requires: [cap], run: "x" },
      ],
      [computerFile("alpha")],
    );
    const model = readModel(files);
    const status = deriveStatus(model);
    expect(status.orders["gpu-job"]!.machines["alpha"]).toMatchObject({ state: "rejected", reason: `alpha lacks ${cap}` });
    const p = planFor(files, "alpha", { os: "linux" });
    expect(p.run).toEqual([]);
    expect(p.claim).toEqual([]);
  });

  it.each(ids)("%j as an order id, an after entry, a task id and a capability stays what it is", (id) => {
    const valid = /^[A-Za-z0-9]/.test(id);
    const orders = [
      { id: valid ? id : "x", to: "ALL", run: "true" },
      { id: "next", to: "ALL", after: [id], run: "true" },
    ];
    const alpha = computerFile("alpha", { capabilities: { os: "linux" } });
    const files = tree(orders, [alpha]);
    const model = readModel(files);
    if (!valid) {
      expect(model.orders).toBeUndefined();
      expect(model.ordersProblems.map((p) => p.message).join("\n")).toMatch(/there is no order "__proto__"/);
      return;
    }
    const status = deriveStatus(model);
    // Nothing reported, so the dependency waits and the dependent is blocked, not "completed" by a prototype.
    expect(status.orders[id]!.state).toBe("queued");
    expect(status.orders["next"]!.machines["alpha"]!.state).toBe("blocked");
    expect(planFor(files, "alpha", { os: "linux" }).run.map((o) => o.id)).toEqual([id]);
    // And once alpha reports it, it is that report.
    const done = tree(orders, [computerFile("alpha", { tasks: { [id]: report() }, capabilities: { [id]: "yes", os: "linux" } })]);
    const after = deriveStatus(readModel(done));
    expect(after.orders[id]!.state).toBe("completed");
    expect(after.machines["alpha"]!.capabilities).toEqual({ [id]: "yes", os: "linux" });
    expect(planFor(done, "alpha", { os: "linux" }).run.map((o) => o.id)).toEqual(["next"]);
  });

  it.each(names)("a machine named %j reads, plans, renders and publishes, or is refused by name", (name) => {
    const valid = /^[a-z0-9]/.test(name);
    const c = computerFile(name, { tasks: { build: report() }, messages: { [`alpha/${name}`]: { received: 1, acked: 1 } } });
    const files = tree(valid ? [{ id: "build", to: [name], run: "make" }] : [], [computerFile("alpha")], {
      [computerPath(name)]: renderComputer(c),
      [messagePath("alpha", name)]: renderMessageFile(messageFile("alpha", name, 3, [1, 2])),
      [messagePath(name, "alpha")]: renderMessageFile(messageFile(name, "alpha", 2, [1])),
    });
    const model = readModel(files);
    const status = deriveStatus(model);
    if (!valid) {
      expect(model.machineNames).toEqual(["alpha"]);
      expect(status.errors.length).toBe(3);
      return;
    }
    expect(model.machineNames).toEqual(["alpha", name].sort());
    expect(status.orders["build"]!.state).toBe("completed");
    expect(status.machines[name]!.messages).toEqual({ waiting: 1, unacked: 0 });
    expect(status.machines["alpha"]!.messages).toEqual({ waiting: 1, unacked: 0 });
    const self = { name, uuid: `uuid-of-${name}`, heartbeat: 300, capabilities: { os: "linux" }, retryBackoff: 30, tasks: { build: report() } };
    const mine = ownComputer(self, model, files.get(ORDERS_FILE), at(60), { [`alpha/${name}`]: { received: 2, acked: 1 } });
    const changes = renderChanges(files, model, mine, [messageFile(name, "alpha", 3, [1, 2])]);
    expect([...changes.keys()].sort()).toEqual([computerPath(name), messagePath(name, "alpha"), "STATUS.json", "STATUS.md"].sort());
  });

  it.each([
    ["tasks", "tasks:\n  __proto__: {rev: 1, state: completed, attempts: 1}\n", /field tasks: "__proto__" is not an order id/],
    ["tasks", "tasks:\n  ---: {rev: 1, state: completed, attempts: 1}\n", /field tasks: "---" is not an order id/],
    ["capabilities", "capabilities: {__proto__: x}\ntasks: {}\n", /field capabilities: "__proto__" is not a capability name/],
    ["messages", "tasks: {}\nmessages:\n  __proto__: {received: 1, acked: 1}\n", /field messages: "__proto__" is not a channel/],
    ["messages", "tasks: {}\nmessages:\n  constructor: {received: 1, acked: 1}\n", /field messages: "constructor" is not a channel/],
  ])("a machine file with a key %j that coord never writes is refused", (_field, yaml, why) => {
    const base = "---\ncoord: 1\nname: alpha\nuuid: u\nstate: idle\nlastSeen: 2025-06-01T10:00:00.000Z\nheartbeat: 60\norders: {seen: x, valid: true}\n";
    const text = base + (yaml.startsWith("capabilities") ? yaml : `capabilities: {os: linux}\n${yaml}`) + "---\n";
    expect(() => parseComputer(text, "alpha")).toThrow(why);
  });

  it("the tables read from a machine file have no prototype to find names in", () => {
    const c = parseComputer(renderComputer(computerFile("alpha")), "alpha");
    expect(c.tasks["constructor"]).toBeUndefined();
    expect(c.capabilities["toString"]).toBeUndefined();
    expect(readModel(tree([{ id: "a", to: "alpha", run: "x" }], [computerFile("alpha")])).ordersOrigin["constructor"]).toBeUndefined();
  });
});

// ----------------------------------------------------------- size and depth

describe("size and depth are bounded before any parser runs", () => {
  const deep = (n: number) => "[".repeat(n) + "]".repeat(n);

  it.each([
    ['{"a": [1, {"b": "[[[["}]}', 3],
    ['"\\"[[[[" {', 1],
    [deep(64), 64],
    [deep(5000), 65],
  ])("jsonDepth(%j) counts brackets outside strings, stopping past the limit", (text, depth) => {
    expect(jsonDepth(text).depth).toBe(depth);
  });

  const nested = (n: number) => Array.from({ length: n }, (_, i) => `${"  ".repeat(i)}k${i}:`).join("\n") + " x\n";
  it.each([
    ["plain keys", "a: 1\nb: x\n", 2],
    ["a flow list in a map", "a: {b: [1, {c: d}]}\n", 5],
    ["brackets in strings, block scalars and comments do not count", "q: |\n  [[[[[[[[\n  {{{{{\ne: '[[[[' # [[[[[[\nf: \"{{{{\"\n", 2],
    ["compact nested lists count", "- - - - x\n", 6],
    ["a list under a key at the same indent", "a:\n- b:\n  - c: 1\n", 5],
    ["5000 nested maps", nested(5000), MAX_DEPTH + 1],
    ["5000 nested flow lists", `x: ${deep(5000)}\n`, MAX_DEPTH + 1],
    ["5000 compact lists", `x:\n${"- ".repeat(5000)}1\n`, MAX_DEPTH + 1],
  ])("yamlDepth: %s", (_what, text, depth) => {
    expect(Math.min(yamlDepth(text).depth, MAX_DEPTH + 1)).toBe(depth);
  });

  it("coord's own files are far below the limit", () => {
    const c = computerFile("alpha", {
      tasks: { build: report({ output: "[[[[{{{{\n".repeat(50) }) },
      messages: { "beta/alpha": { received: 5, acked: 3, also: [5] } },
      health: { failures: 3, lastError: "x", since: T0_ISO },
    });
    const fm = (text: string) => text.split("\n---\n")[0]!.slice(4);
    expect(yamlDepth(fm(renderComputer(c))).depth).toBeLessThan(10);
    expect(yamlDepth(fm(renderMessageFile(messageFile("a", "b", 3, [1, 2])))).depth).toBeLessThan(10);
  });

  it.each([
    ["nested 5000 deep", `{"version": 1, "orders": ${deep(5000)}}`, /nests lists and objects more than 64 levels deep at line 1/],
    ["a 6 MB file", ordersJson([{ id: "a", to: "ALL", run: "x".repeat(6 * 1024 * 1024) }]), /not read: the file is over 5 MiB/],
    ["a blob git did not read", notRead("the file is 200 MiB, more than the 5 MiB coord reads of it"), /not read: the file is 200 MiB/],
    ["a symbolic link", notRead("it is a symbolic link, which coord never follows"), /symbolic link/],
  ])("ORDERS.json %s is a problem of ORDERS.json, with a sentence", (_what, text, why) => {
    const model = readModel(tree(text, [computerFile("alpha")]));
    expect(model.orders).toBeUndefined();
    expect(model.ordersProblems).toHaveLength(1);
    expect(model.ordersProblems[0]!.message).toMatch(why);
    expect(model.computers.has("alpha")).toBe(true);
    expect(() => renderStatusMd(deriveStatus(model))).not.toThrow();
  });

  const front = (yaml: string) => `---\n${yaml}\n---\n`;
  it.each([
    ["nested maps", front(`coord: 1\nname: beta\n${nested(200)}`), /nests more than 64 levels deep \(line \d+\)/],
    ["nested flow lists", front(`coord: 1\nname: beta\nx: ${deep(5000)}`), /nests more than 64 levels deep \(line 4\)/],
    ["nested compact lists", front(`coord: 1\nname: beta\nx:\n${"- ".repeat(5000)}1`), /nests more than 64 levels deep/],
    ["3 MB", renderComputer(computerFile("beta", { lastRun: "x".repeat(3 * 1024 * 1024) })), /over 2 MiB/],
    ["a blob git did not read", notRead("the file is 300 MiB, more than the 2 MiB coord reads of it"), /300 MiB/],
  ])("a machine file or message file %s is ignored; every other file still counts", (_what, text, why) => {
    const files = tree([{ id: "a", to: "ALL", run: "x" }], [computerFile("alpha")], {
      [computerPath("beta")]: text,
      [messagePath("beta", "alpha")]: text.replace(/name: beta/, "from: beta"),
    });
    const model = readModel(files);
    expect([...model.computers.keys()]).toEqual(["alpha"]);
    expect(model.machineNames).toEqual(["alpha", "beta"]);
    expect(model.orders?.orders).toHaveLength(1);
    expect(model.fileProblems.map((p) => p.file)).toEqual([computerPath("beta"), messagePath("beta", "alpha")]);
    for (const p of model.fileProblems) expect(p.message).toMatch(why);
  });
});

// ----------------------------------------------------- counters and receipts

describe("forged counters and receipts", () => {
  it.each([
    ["next 2^53", 2 ** 53, [1]],
    ["next past MAX_COUNT", MAX_COUNT + 1, [1]],
    ["a seq past MAX_COUNT", MAX_COUNT, [MAX_COUNT + 1]],
  ])("a message file with %s is refused", (_what, next, seqs) => {
    const text = renderMessageFile(messageFile("beta", "alpha", next, seqs));
    expect(() => parseMessageFile(text, messagePath("beta", "alpha"))).toThrow(/field (next|messages\.0\.seq)/);
  });

  it.each([
    ["received", { received: 2 ** 53, acked: 1 }],
    ["acked", { received: 1, acked: MAX_COUNT + 1 }],
    ["also", { received: 1, acked: 1, also: [2 ** 40] }],
  ])("a machine file with a receipt whose %s is out of range is refused", (_what, receipt) => {
    const text = renderComputer(computerFile("alpha", { messages: { "beta/alpha": receipt } }));
    expect(() => parseComputer(text, "alpha")).toThrow(/field messages\.beta\/alpha/);
  });

  it("a rev past MAX_COUNT in ORDERS.json is a problem with its path", () => {
    const { problems } = parseOrders(ordersJson([{ id: "a", to: "ALL", run: "x", rev: 2 ** 53 }]));
    expect(problems[0]).toMatchObject({ path: "orders[0].rev" });
    expect(problems[0]!.message).toMatch(/a whole number from 1 to 2147483647/);
  });

  const files = [messageFile("beta", "alpha", 4, [2, 3]), messageFile("beta", "ALL", 10, [9]), messageFile("gamma", "alpha", 3, [])];
  it.each<[string, Receipts, Receipts]>([
    ["a receipt within what was sent is kept", { "beta/alpha": { received: 3, acked: 2, also: [3] } }, { "beta/alpha": { received: 3, acked: 2, also: [3] } }],
    ["a receipt past what the sender sent is clamped to it", { "beta/alpha": { received: MAX_COUNT, acked: MAX_COUNT } }, { "beta/alpha": { received: 3, acked: 3 } }],
    ["acked is never above received", { "beta/ALL": { received: 5, acked: 9 } }, { "beta/ALL": { received: 5, acked: 5 } }],
    ["also past received is dropped", { "gamma/alpha": { received: 2, acked: 0, also: [1, 2, 7] } }, { "gamma/alpha": { received: 2, acked: 0, also: [1, 2] } }],
    ["a channel to another machine is not alpha's to hold", { "beta/gamma": { received: 3, acked: 3 } }, {}],
    ["nor its own broadcasts", { "alpha/ALL": { received: 3, acked: 3 } }, {}],
    ["a channel whose sender has no file keeps its receipt", { "delta/alpha": { received: 7, acked: 7 } }, { "delta/alpha": { received: 7, acked: 7 } }],
  ])("trustedReceipts: %s", (_what, published, expected) => {
    expect({ ...trustedReceipts(published, "alpha", files) }).toEqual(expected);
  });

  it.each<[string, string, number]>([
    ["alpha", "beta", 4],
    ["alpha", "ALL", 6],
    ["alpha", "gamma", 0],
  ])("receivedMark of %s/%s reads only the recipients' own receipts", (from, to, mark) => {
    const receipts = new Map<string, Receipts | undefined>([
      ["beta", { "alpha/beta": { received: 4, acked: 4 }, "alpha/ALL": { received: 6, acked: 6 } }],
      // gamma says it received alpha's messages to beta: not gamma's to say.
      ["gamma", { "alpha/beta": { received: 999, acked: 999 }, "alpha/gamma": { received: 0, acked: 0 } }],
      ["alpha", { "alpha/ALL": { received: 50, acked: 50 } }],
    ]);
    expect(receivedMark(receipts, from, to)).toBe(mark);
  });

  it("a retry after many failures stays a date (the doubling stops at a day)", () => {
    const order: Order = { id: "a", to: "ALL", run: "x", rev: 1, after: [], requires: [], env: {}, retries: 100, priority: "normal", cancelled: false };
    const at = retryAt(order, report({ state: "failed", attempts: 99, finishedAt: T0_ISO }), 30)!;
    expect(at.toISOString()).toBe(new Date(T0 + 86_400_000).toISOString());
    const far = retryAt(order, report({ state: "failed", attempts: 2, finishedAt: "+275760-09-13T00:00:00.000Z" }), 30)!;
    expect(() => far.toISOString()).not.toThrow();
  });
});

// ----------------------------------------------------------------- clocks

describe("a clock far ahead holds nothing forever", () => {
  it.each<[string, string, number | undefined]>([
    ["now", T0_ISO, T0],
    ["a minute ago", at(-60).toISOString(), T0 - 60_000],
    ["a minute ahead counts as now", at(60).toISOString(), T0],
    ["just within the skew", at(CLOCK_SKEW).toISOString(), T0],
    ["past the skew is not believed", at(CLOCK_SKEW + 1).toISOString(), undefined],
    ["years ahead is not believed", "2099-01-01T00:00:00.000Z", undefined],
    ["garbage", "soon", undefined],
  ])("heardAt: %s", (_what, lastSeen, expected) => {
    expect(heardAt(lastSeen, at(0))).toBe(expected);
  });

  const claimFiles = (lastSeen: string, lease?: number) =>
    tree(
      [{ id: "job", to: "ANY", run: "x" }],
      [computerFile("alpha"), computerFile("beta", { lastSeen, tasks: { job: report({ state: "in_progress", exitCode: null, lease: lease ?? 600 }) } })],
    );

  it.each<[string, string, number | undefined, "live" | "expired"]>([
    ["seen a minute ago", at(-60).toISOString(), undefined, "live"],
    ["seen 11 minutes ago", at(-660).toISOString(), undefined, "expired"],
    ["seen 2 minutes in the future", at(120).toISOString(), undefined, "live"],
    ["seen in 2099", "2099-01-01T00:00:00.000Z", undefined, "expired"],
    ["a lease of 10^12 seconds, seen 2 days ago", at(-2 * 86_400).toISOString(), 1e12, "expired"],
  ])("a claim whose holder was %s is %s", (_what, lastSeen, lease, expected) => {
    const model = readModel(claimFiles(lastSeen, lease));
    const status = deriveStatus(model);
    const order = model.orders!.orders[0]!;
    const holder = claimHolder(order, "alpha", status, at(0), 600);
    expect(holder).toEqual(expected === "live" ? { live: "beta" } : { expired: "beta" });
    const p = planFor(claimFiles(lastSeen, lease), "alpha", { os: "linux" });
    expect(p.claim.map((c) => c.takeoverFrom)).toEqual(expected === "live" ? [] : ["beta"]);
  });

  it("a machine whose lastSeen is years ahead is offline", () => {
    expect(isOffline({ lastSeen: "2099-01-01T00:00:00.000Z", heartbeat: 60 }, at(0))).toBe(true);
    expect(isOffline({ lastSeen: T0_ISO, heartbeat: 1e300 }, at(22 * 86_400))).toBe(true);
  });
});

// ---------------------------------------------------------------- timeout

describe("order timeout", () => {
  it.each([
    ["7d", 604_800],
    [604_800, 604_800],
    ["168h", 604_800],
  ])("%j is accepted", (timeout, seconds) => {
    expect(parseOrders(ordersJson([{ id: "a", to: "ALL", run: "x", timeout }])).orders!.orders[0]!.timeout).toBe(seconds);
  });

  it.each(["8d", 604_801, "25d", 1e30, "9999999999999h"])("%j is refused: at most 7 days", (timeout) => {
    const { orders, problems } = parseOrders(ordersJson([{ id: "a", to: "ALL", run: "x", timeout }]));
    expect(orders).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: "orders[0].timeout", line: 8 });
    expect(problems[0]!.message).toMatch(/^order "a" field timeout: .* is longer than 7 days: timeout must be at most 7d$/);
  });
});
