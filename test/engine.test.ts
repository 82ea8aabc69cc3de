// Unit tests for the orders engine: dependencies (after), "to: ANY" claims,
// requires / labels, agent invocations, and the status fields the engine
// reads back (done, holder, durationMs, lease, takeoverFrom). Pure: each
// test builds the repository's files at one commit and derives from them.

import { describe, it, expect } from "vitest";
import { type ComputerFile, renderComputer, type TaskReport } from "../src/core/fleet/computer.js";
import { computerPath } from "../src/core/files/names.js";
import { parseOrders } from "../src/core/orders/orders.js";
import { claimHolder, nextAttempt, plan, retryAt, type Plan, type PlanInput } from "../src/core/machine/plan.js";
import { ownComputer } from "../src/core/machine/publish.js";
import { preferredMachine, rankForMachine } from "../src/core/work/rank.js";
import { ORDERS_FILE, readModel, type RepoModel } from "../src/core/repo/repo.js";
import { deriveStatus } from "../src/core/status/status.js";
import { renderStatusMd } from "../src/core/status/status-md.js";
import { utcText } from "../src/core/fleet/presence.js";
import { statusText } from "../src/core/status/terminal.js";
import { computerFile } from "./fixtures.js";
import type { Order } from "../src/core/orders/orders-schema.js";
import type { StatusJson } from "../src/core/fleet/status-types.js";

// ------------------------------------------------------------------ helpers

const T0 = Date.parse("2025-06-01T10:00:00.000Z");
/** The ISO time `s` seconds after T0. */
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const when = (s: number): Partial<PlanInput> => ({ now: new Date(T0 + s * 1000) });

/** A machine seen at T0. */
const machine = computerFile;

/** A finished task: started at T0, 10 s long. */
function report(over: Partial<TaskReport> = {}): TaskReport {
  return { rev: 1, state: "completed", attempts: 1, exitCode: 0, startedAt: at(0), finishedAt: at(10), ...over };
}
const failed = (over: Partial<TaskReport> = {}) => report({ state: "failed", exitCode: 1, reason: "exit code 1", ...over });
/** A claim (not started) or a running task: no exit, no end. */
const holding = (state: "assigned" | "in_progress", over: Partial<TaskReport> = {}) => report({ state, exitCode: undefined, finishedAt: undefined, ...over });

/** Orders with the defaults parseOrders applies. */
function ordersOf(list: object[]): Order[] {
  const r = parseOrders(JSON.stringify({ version: 1, orders: list }));
  if (!r.orders) throw new Error(r.problems.map((p) => p.message).join("\n"));
  return r.orders.orders;
}

interface Fleet {
  model: RepoModel;
  status: StatusJson;
  order(id: string): Order;
}

/** The repository at one commit: ORDERS.json and the machines' rendered files, read back as coord reads them. */
function fleet(list: object[], computers: ComputerFile[]): Fleet {
  const files = new Map<string, string>([[ORDERS_FILE, JSON.stringify({ version: 1, orders: list }, null, 2) + "\n"]]);
  for (const c of computers) files.set(computerPath(c.name), renderComputer(c));
  const model = readModel(files);
  expect(model.ordersProblems).toEqual([]);
  expect(model.fileProblems).toEqual([]);
  return { model, status: deriveStatus(model), order: (id) => model.orders!.orders.find((o) => o.id === id)! };
}

/** What machine `me` plans: its journal is what its file says (as sync derives it). */
function planOn(f: Fleet, me: string, over: Partial<PlanInput> = {}): Plan {
  const c = f.model.computers.get(me)!;
  return plan({
    orders: f.model.orders!.orders,
    machine: me,
    machines: f.model.machineNames,
    journal: c.tasks,
    status: f.status,
    capabilities: c.capabilities,
    now: new Date(T0 + 100 * 1000),
    maxParallel: 2,
    retryBackoff: 60,
    lease: 900,
    ...over,
  });
}

const ids = (os: Order[]) => os.map((o) => o.id);
const claims = (p: Plan) => p.claim.map((c) => ({ id: c.order.id, attempt: c.attempt, ...(c.takeoverFrom ? { takeoverFrom: c.takeoverFrom } : {}) }));
const waits = (p: Plan) => p.waiting.map((w) => [w.order.id, w.reason]);

// ------------------------------------------------------------- dependencies

describe("dependencies (after)", () => {
  // a on m-a → b on m-b → c on m-c
  const pipeline = (a: object = {}) => [
    { id: "a", to: "m-a", run: "make a", ...a },
    { id: "b", to: "m-b", run: "make b", after: ["a"] },
    { id: "c", to: "m-c", run: "make c", after: ["b"] },
  ];
  const machines = (tasks: { a?: TaskReport; b?: TaskReport } = {}) => [
    machine("m-a", { tasks: tasks.a ? { a: tasks.a } : {} }),
    machine("m-b", { tasks: tasks.b ? { b: tasks.b } : {} }),
    machine("m-c"),
  ];

  it("b waits for a and c for b, each until its dependency completed on its machine", () => {
    let f = fleet(pipeline(), machines());
    expect(f.status.orders["a"]).toMatchObject({ state: "queued", done: false });
    expect(f.status.orders["b"]).toMatchObject({ state: "blocked", done: false, reason: "waiting for a" });
    expect(f.status.orders["b"]!.machines["m-b"]).toMatchObject({ state: "blocked", reason: "waiting for a", attempts: 0 });
    expect(f.status.orders["c"]).toMatchObject({ state: "blocked", done: false, reason: "waiting for b" });
    expect(ids(planOn(f, "m-a").run)).toEqual(["a"]);
    expect(planOn(f, "m-b")).toEqual({ run: [], claim: [], waiting: [{ order: f.order("b"), reason: "waiting for a" }] });
    expect(waits(planOn(f, "m-c"))).toEqual([["c", "waiting for b"]]);

    // a running: b still waits.
    f = fleet(pipeline(), machines({ a: holding("in_progress") }));
    expect(f.status.orders["b"]).toMatchObject({ state: "blocked", done: false, reason: "waiting for a" });
    expect(planOn(f, "m-b").run).toEqual([]);
    expect(planOn(f, "m-a").run).toEqual([]);

    // a completed: b is queued and planned on m-b (only); c waits for b.
    f = fleet(pipeline(), machines({ a: report() }));
    expect(f.status.orders["a"]).toMatchObject({ state: "completed", done: true });
    expect(f.status.orders["b"]).toEqual({ rev: 1, state: "queued", done: false, to: "m-b", machines: { "m-b": expect.objectContaining({ state: "queued" }) } });
    expect(f.status.orders["b"]!.machines["m-b"]!.reason).toBeUndefined();
    expect(planOn(f, "m-b")).toEqual({ run: [f.order("b")], claim: [], waiting: [] });
    expect(planOn(f, "m-a")).toEqual({ run: [], claim: [], waiting: [] });
    expect(waits(planOn(f, "m-c"))).toEqual([["c", "waiting for b"]]);

    // b completed too: c runs.
    f = fleet(pipeline(), machines({ a: report(), b: report() }));
    expect(f.status.orders["c"]).toMatchObject({ state: "queued", done: false });
    expect(ids(planOn(f, "m-c").run)).toEqual(["c"]);
  });

  it("a failed for good (no retries left): b and c are blocked for good, naming a", () => {
    const f = fleet(pipeline(), machines({ a: failed() }));
    expect(f.status.orders["a"]).toMatchObject({ state: "failed", done: true });
    expect(f.status.orders["b"]).toMatchObject({ state: "blocked", done: true, reason: "dependency a failed" });
    expect(f.status.orders["b"]!.machines["m-b"]).toMatchObject({ state: "blocked", reason: "dependency a failed" });
    expect(f.status.orders["c"]).toMatchObject({ state: "blocked", done: true, reason: "dependency b blocked (dependency a failed)" });
    expect(planOn(f, "m-a")).toEqual({ run: [], claim: [], waiting: [] });
    expect(waits(planOn(f, "m-b"))).toEqual([["b", "dependency a failed"]]);
    expect(waits(planOn(f, "m-c"))).toEqual([["c", "dependency b blocked (dependency a failed)"]]);
  });

  it("a failed with retries left: b still waits, not for good; a is retried after the backoff", () => {
    const f = fleet(pipeline({ retries: 1 }), machines({ a: failed() }));
    expect(f.status.orders["a"]).toMatchObject({ state: "failed", done: false });
    expect(f.status.orders["b"]).toMatchObject({ state: "blocked", done: false, reason: "waiting for a" });
    expect(f.status.orders["c"]).toMatchObject({ state: "blocked", done: false, reason: "waiting for b" });
    expect(waits(planOn(f, "m-b"))).toEqual([["b", "waiting for a"]]);
    // finished at T0+10 s, 60 s backoff
    expect(waits(planOn(f, "m-a", when(69)))).toEqual([["a", `retry 1 of 1 at ${at(70)}`]]);
    expect(ids(planOn(f, "m-a", when(70)).run)).toEqual(["a"]);
  });

  it("a cancelled: b and c are blocked for good", () => {
    const f = fleet(pipeline({ cancelled: true }), machines());
    expect(f.status.orders["a"]).toMatchObject({ state: "cancelled", done: true });
    expect(f.status.orders["b"]).toMatchObject({ state: "blocked", done: true, reason: "dependency a cancelled" });
    expect(f.status.orders["c"]).toMatchObject({ state: "blocked", done: true });
    expect(f.status.orders["c"]!.reason).toContain("dependency a cancelled");
    expect(planOn(f, "m-b").run).toEqual([]);
    expect(waits(planOn(f, "m-b"))).toEqual([["b", "dependency a cancelled"]]);
  });

  it("a retry of b waits for a again once a is re-revved; if the new a fails for good, b is not retried", () => {
    const list = (aRev: number) => [
      { id: "a", to: "m-a", run: "make a", rev: aRev },
      { id: "b", to: "m-b", run: "make b", after: ["a"], retries: 2 },
    ];
    // b's attempt 1 failed after a rev 1 completed; a person re-revs a to rebuild.
    let f = fleet(list(2), [machine("m-a", { tasks: { a: report() } }), machine("m-b", { tasks: { b: failed() } })]);
    expect(f.status.orders["b"]).toMatchObject({ state: "failed", done: false });
    expect(f.status.orders["b"]!.machines["m-b"]!.reason).toBe("exit code 1; retry waits: waiting for a");
    expect(waits(planOn(f, "m-b", when(1000)))).toEqual([["b", "waiting for a"]]);
    // The new a failed for good: b is done, never retried.
    f = fleet(list(2), [machine("m-a", { tasks: { a: failed({ rev: 2 }) } }), machine("m-b", { tasks: { b: failed() } })]);
    expect(f.status.orders["b"]).toMatchObject({ state: "failed", done: true });
    expect(f.status.orders["b"]!.machines["m-b"]!.reason).toBe("exit code 1; not retried: dependency a failed");
    expect(waits(planOn(f, "m-b", when(1000)))).toEqual([["b", "dependency a failed"]]);
    // The new a completed: b's retry runs (after its backoff).
    f = fleet(list(2), [machine("m-a", { tasks: { a: report({ rev: 2 }) } }), machine("m-b", { tasks: { b: failed() } })]);
    expect(ids(planOn(f, "m-b", when(1000)).run)).toEqual(["b"]);
  });

  it("several dependencies: waits for each one not completed; an ANY order after them is not claimed", () => {
    const list = [
      { id: "x", to: "m-a", run: "x" },
      { id: "y", to: "m-b", run: "y" },
      { id: "z", to: "m-c", run: "z", after: ["x", "y"] },
      { id: "any", to: "ANY", run: "any", after: ["x"] },
    ];
    let f = fleet(list, machines());
    expect(f.status.orders["z"]!.reason).toBe("waiting for x, y");
    expect(f.status.orders["any"]).toMatchObject({ state: "blocked", done: false, reason: "waiting for x", machines: {} });
    expect(planOn(f, "m-c")).toEqual({
      run: [],
      claim: [],
      waiting: [
        { order: f.order("z"), reason: "waiting for x, y" },
        { order: f.order("any"), reason: "waiting for x" },
      ],
    });
    f = fleet(list, [machine("m-a", { tasks: { x: report() } }), machine("m-b"), machine("m-c")]);
    expect(f.status.orders["z"]!.reason).toBe("waiting for y");
    expect(claims(planOn(f, "m-c"))).toEqual([{ id: "any", attempt: 1 }]);
  });
});

// --------------------------------------------------------------------- ANY

describe('to: "ANY"', () => {
  const job = (extra: object = {}) => ({ id: "job", to: "ANY", run: "make", retries: 2, ...extra });

  it("a capable machine claims it; one lacking a required capability or the agent CLI does not", () => {
    const f = fleet(
      [job({ requires: ["gpu"] }), { id: "review", to: "ANY", agent: "codex", prompt: "review the diff" }],
      [machine("gpu-box", { capabilities: { os: "linux", gpu: "label" } }), machine("plain"), machine("coder", { capabilities: { os: "linux", codex: "installed" } })],
    );
    expect(planOn(f, "gpu-box")).toEqual({
      run: [],
      claim: [{ order: f.order("job"), attempt: 1 }],
      waiting: [{ order: f.order("review"), reason: "this machine lacks codex" }],
    });
    expect(planOn(f, "plain")).toEqual({
      run: [],
      claim: [],
      waiting: [
        { order: f.order("job"), reason: "this machine lacks gpu" },
        { order: f.order("review"), reason: "this machine lacks codex" },
      ],
    });
    expect(claims(planOn(f, "coder"))).toEqual([{ id: "review", attempt: 1 }]);
    expect(f.status.orders["job"]).toEqual({ rev: 1, state: "queued", done: false, to: "ANY", machines: {} });
  });

  it("when no registered machine is capable, the status says which capability is missing", () => {
    const f = fleet([job({ requires: ["gpu"] })], [machine("plain")]);
    expect(f.status.orders["job"]).toMatchObject({ state: "queued", done: false, reason: "no registered machine has gpu" });
    expect(planOn(f, "plain").claim).toEqual([]);
  });

  it("a live claim of another machine holds: waiting, claimed by it", () => {
    const f = fleet([job()], [machine("a"), machine("b", { lastSeen: at(0), tasks: { job: holding("assigned", { lease: 300 }) } })]);
    expect(f.status.orders["job"]).toMatchObject({ state: "assigned", done: false, holder: "b", machines: { b: { state: "assigned", lease: 300 } } });
    expect(planOn(f, "a", when(300))).toEqual({ run: [], claim: [], waiting: [{ order: f.order("job"), reason: "claimed by b" }] });
    // A running task holds the same way; the holder's heartbeat renews its claim.
    const running = fleet([job()], [machine("a"), machine("b", { lastSeen: at(1000), tasks: { job: holding("in_progress", { lease: 300 }) } })]);
    expect(running.status.orders["job"]).toMatchObject({ state: "in_progress", holder: "b" });
    expect(waits(planOn(running, "a", when(1300)))).toEqual([["job", "claimed by b"]]);
  });

  it("an expired claim (no heartbeat within its lease) is taken over", () => {
    const f = fleet([job()], [machine("a"), machine("b", { lastSeen: at(0), tasks: { job: holding("assigned", { lease: 300 }) } })]);
    expect(planOn(f, "a", when(301))).toEqual({ run: [], claim: [{ order: f.order("job"), attempt: 1, takeoverFrom: "b" }], waiting: [] });
    // Without a lease in the report, the planning machine's lease applies.
    const g = fleet([job()], [machine("a"), machine("b", { lastSeen: at(0), tasks: { job: holding("in_progress") } })]);
    expect(waits(planOn(g, "a", { ...when(900), lease: 900 }))).toEqual([["job", "claimed by b"]]);
    expect(claims(planOn(g, "a", { ...when(901), lease: 900 }))).toEqual([{ id: "job", attempt: 1, takeoverFrom: "b" }]);
    expect(claimHolder(g.order("job"), "a", g.status, new Date(T0 + 901_000), 900)).toEqual({ expired: "b" });
    expect(claimHolder(g.order("job"), "a", g.status, new Date(T0 + 900_000), 900)).toEqual({ live: "b" });
    expect(claimHolder(g.order("job"), "b", g.status, new Date(T0), 900)).toEqual({});
  });

  it("a live takeover is not taken over again because an older, expired claim is still in the files", () => {
    const f = fleet(
      [job()],
      [
        machine("a-old", { lastSeen: at(0), tasks: { job: holding("in_progress") } }),
        machine("b-new", { lastSeen: at(1000), tasks: { job: holding("in_progress", { startedAt: at(1000), takeoverFrom: "a-old" }) } }),
        machine("c"),
      ],
    );
    expect(f.status.orders["job"]!.holder).toBe("b-new");
    expect(planOn(f, "c", when(1100))).toEqual({ run: [], claim: [], waiting: [{ order: f.order("job"), reason: "claimed by b-new" }] });
  });

  it("completed by any machine: nobody claims it; completed and done", () => {
    const f = fleet([job()], [machine("a", { tasks: { job: failed() } }), machine("b", { tasks: { job: report({ attempts: 2 }) } }), machine("c")]);
    expect(f.status.orders["job"]).toMatchObject({ state: "completed", done: true });
    expect(f.status.orders["job"]!.holder).toBeUndefined();
    for (const m of ["a", "b", "c"]) expect(planOn(f, m, when(10_000)), m).toEqual({ run: [], claim: [], waiting: [] });
  });

  it("never goes back: a machine that ran a newer rev keeps an older one from being claimed", () => {
    const f = fleet([job({ rev: 1 })], [machine("a", { tasks: { job: report({ rev: 2 }) } }), machine("b")]);
    expect(f.status.orders["job"]).toMatchObject({ state: "completed", done: true, reason: "a ran rev 2 already; ORDERS.json says rev 1: set rev above 2 to run it again" });
    expect(planOn(f, "b", when(10_000))).toEqual({ run: [], claim: [], waiting: [] });
  });

  it("attempts count across machines; a failure elsewhere with retries left waits for the backoff, then is claimable", () => {
    const failedAfter = (attempts: number) => fleet([job()], [machine("a"), machine("b", { tasks: { job: failed({ attempts }) } })]);
    let f = failedAfter(1);
    expect(f.status.orders["job"]).toMatchObject({ state: "failed", done: false });
    expect(Object.keys(f.status.orders["job"]!.machines)).toEqual(["b"]);
    // b finished at T0+10 s: 60 s, then 120 s.
    expect(planOn(f, "a", when(69))).toEqual({ run: [], claim: [], waiting: [{ order: f.order("job"), reason: `retry 1 of 2 at ${at(70)}` }] });
    expect(claims(planOn(f, "a", when(70)))).toEqual([{ id: "job", attempt: 2 }]);
    f = failedAfter(2);
    expect(waits(planOn(f, "a", when(129)))).toEqual([["job", `retry 2 of 2 at ${at(130)}`]]);
    expect(claims(planOn(f, "a", when(130)))).toEqual([{ id: "job", attempt: 3 }]);
    // The failing machine itself retries on the same schedule, with the next attempt.
    expect(claims(planOn(f, "b", when(130)))).toEqual([{ id: "job", attempt: 3 }]);
    f = failedAfter(3);
    expect(f.status.orders["job"]).toMatchObject({ state: "failed", done: true });
    expect(planOn(f, "a", when(10_000))).toEqual({ run: [], claim: [], waiting: [] });
  });

  it("attempts of an older rev do not count", () => {
    const f = fleet([job({ rev: 2 })], [machine("a"), machine("b", { tasks: { job: failed({ attempts: 3 }) } })]);
    expect(f.status.orders["job"]).toMatchObject({ rev: 2, state: "queued", done: false, machines: {} });
    expect(claims(planOn(f, "a"))).toEqual([{ id: "job", attempt: 1 }]);
  });

  it("my own claim not started yet (journal: assigned) is claimed again with the same attempt, backoff or not", () => {
    const f = fleet(
      [job()],
      [
        machine("a", { lastSeen: at(12), tasks: { job: holding("assigned", { attempts: 2, startedAt: at(12), lease: 900 }) } }),
        machine("b", { tasks: { job: failed() } }),
        machine("c"),
      ],
    );
    expect(f.status.orders["job"]).toMatchObject({ state: "assigned", holder: "a", done: false });
    // T0+20 s is inside b's backoff (until T0+70 s): that does not stop a claim already made.
    expect(planOn(f, "a", when(20))).toEqual({ run: [], claim: [{ order: f.order("job"), attempt: 2 }], waiting: [] });
    expect(nextAttempt(f.order("job"), f.model.computers.get("a")!.tasks["job"])).toBe(2);
    expect(waits(planOn(f, "c", when(20)))).toEqual([["job", "claimed by a"]]);
  });

  it("claims fill maxParallel minus the named tasks, highest priority first, then each machine's own rank (core/work/rank.ts)", () => {
    const list = [
      { id: "named", to: "a", run: "n" },
      { id: "any-low", to: "ANY", run: "x", priority: "low" },
      { id: "any-1", to: "ANY", run: "x" },
      { id: "any-high", to: "ANY", run: "x", priority: "high" },
      { id: "any-2", to: "ANY", run: "x" },
    ];
    const f = fleet(list, [machine("a"), machine("b")]);
    const full = "no free slot on this machine (maxParallel)";
    // Among equals (any-1, any-2), each machine's rendezvous rank decides; the other machine contends.
    const normals = (me: string, other: string) =>
      rankForMachine(
        ["any-1", "any-2"].map((id) => ({ order: { id, priority: "normal" as const } })),
        me,
        () => [other],
      ).map((c) => c.order.id);
    const [first, second] = normals("a", "b");
    let p = planOn(f, "a", { maxParallel: 3 });
    expect(ids(p.run)).toEqual(["named"]);
    expect(claims(p)).toEqual([
      { id: "any-high", attempt: 1 },
      { id: first, attempt: 1 },
    ]);
    expect(waits(p)).toEqual([
      [second, full],
      ["any-low", full],
    ]);
    p = planOn(f, "a", { maxParallel: 1 });
    expect(ids(p.run)).toEqual(["named"]);
    expect(p.claim).toEqual([]);
    expect(waits(p).map(([id]) => id)).toEqual(["any-high", first, second, "any-low"]);
    // b has no named task: all its slots go to claims.
    expect(claims(planOn(f, "b", { maxParallel: 3 })).map((c) => c.id)).toEqual(["any-high", ...normals("b", "a")]);
  });

  it("two machines planning on the same fleet at once claim different ANY orders: each its preferred one", () => {
    const ids20 = Array.from({ length: 20 }, (_, i) => `job-${i}`);
    const forA = ids20.find((id) => preferredMachine(id, ["a", "b"]) === "a")!;
    const forB = ids20.find((id) => preferredMachine(id, ["a", "b"]) === "b")!;
    const f = fleet(
      [forB, forA].map((id) => ({ id, to: "ANY", run: "x" })),
      [machine("a"), machine("b")],
    );
    expect(claims(planOn(f, "a", { maxParallel: 1 }))).toEqual([{ id: forA, attempt: 1 }]);
    expect(claims(planOn(f, "b", { maxParallel: 1 }))).toEqual([{ id: forB, attempt: 1 }]);
    // A machine that is offline does not contend: the one left is preferred for both.
    const alone = fleet(
      [forB, forA].map((id) => ({ id, to: "ANY", run: "x" })),
      [machine("a"), machine("b", { lastSeen: "2020-01-01T00:00:00Z" })],
    );
    expect(claims(planOn(alone, "a", { maxParallel: 2 })).map((c) => c.id)).toEqual(
      rankForMachine(
        [forB, forA].map((id) => ({ order: { id, priority: "normal" as const } })),
        "a",
        () => [],
      ).map((c) => c.order.id),
    );
  });

  it("draining machines' shares are even and apart: 20 orders among 5 machines, 4 each (plain rendezvous: 6, 5, 4, 4, 1)", () => {
    const names = ["p1", "p2", "p3", "p4", "p5"];
    const list = Array.from({ length: 20 }, (_, i) => ({ id: `path-${i}`, to: "ANY", run: "x" }));
    const f = fleet(
      list,
      names.map((n) => machine(n)),
    );
    const shares = names.map((n) => claims(planOn(f, n, { maxParallel: 20, ownShareOnly: true })).map((c) => c.id));
    expect(shares.map((s) => s.length)).toEqual([4, 4, 4, 4, 4]);
    expect(new Set(shares.flat()).size).toBe(20);
    // Each machine's first claim outside a drain is its own share's first: five different orders.
    expect(new Set(names.map((n) => claims(planOn(f, n, { maxParallel: 1 }))[0]!.id)).size).toBe(5);
  });

  it("a draining sync (ownShareOnly) takes only its own share while the machine preferred for the rest is online", () => {
    const ids20 = Array.from({ length: 20 }, (_, i) => `job-${i}`);
    const forA = ids20.find((id) => preferredMachine(id, ["a", "b"]) === "a")!;
    const forB = ids20.find((id) => preferredMachine(id, ["a", "b"]) === "b")!;
    const list = [forB, forA].map((id) => ({ id, to: "ANY", run: "x" }));
    expect(claims(planOn(fleet(list, [machine("a"), machine("b")]), "a", { maxParallel: 2, ownShareOnly: true }))).toEqual([{ id: forA, attempt: 1 }]);
    expect(
      claims(planOn(fleet(list, [machine("a"), machine("b")]), "a", { maxParallel: 2 }))
        .map((c) => c.id)
        .sort(),
    ).toEqual([forA, forB].sort());
    // b offline: a is the preferred machine for both.
    const alone = fleet(list, [machine("a"), machine("b", { lastSeen: "2020-01-01T00:00:00Z" })]);
    expect(
      claims(planOn(alone, "a", { maxParallel: 2, ownShareOnly: true }))
        .map((c) => c.id)
        .sort(),
    ).toEqual([forA, forB].sort());
  });
});

// ---------------------------------------------------------- prefer, failoverAfter

describe("prefer: failover for work that should run on one machine", () => {
  const job = { id: "train", to: "ANY", run: "x", prefer: ["gpu-1", "gpu-2"] };
  const old = new Date(T0 - 3600 * 1000).toISOString(); // heartbeat 300 s: 3 missed heartbeats is 15 minutes
  const waits = (p: Plan) => p.waiting.map((w) => [w.order.id, w.reason]);
  const claims = (p: Plan) => p.claim.map((c) => c.order.id);

  it.each<[string, Record<string, string>, Record<string, string[]>]>([
    ["everyone online: only the first listed claims", {}, { "gpu-1": ["train"], "gpu-2": [], cpu: [] }],
    ["the first is gone: the second claims, others wait", { "gpu-1": old }, { "gpu-1": ["train"], "gpu-2": ["train"], cpu: [] }],
    ["every listed one is gone: anyone claims", { "gpu-1": old, "gpu-2": old }, { "gpu-2": ["train"], cpu: ["train"] }],
  ])("%s", (_what, lastSeen, expected) => {
    const f = fleet(
      [job],
      ["gpu-1", "gpu-2", "cpu"].map((n) => machine(n, lastSeen[n] ? { lastSeen: lastSeen[n] } : {})),
    );
    for (const [me, ids] of Object.entries(expected)) expect(claims(planOn(f, me)), me).toEqual(ids);
  });

  it("says who takes it first", () => {
    const f = fleet(
      [job],
      ["gpu-1", "gpu-2", "cpu"].map((n) => machine(n)),
    );
    expect(waits(planOn(f, "gpu-2"))).toEqual([["train", "gpu-1 takes it first (prefer); this machine takes over when it is gone"]]);
    expect(waits(planOn(f, "cpu"))).toEqual([["train", "gpu-1 takes it first (prefer); this machine takes over when it is gone"]]);
  });

  it("a preferred machine that lacks what the order requires does not hold it back", () => {
    const f = fleet([{ ...job, requires: ["cuda"] }], [machine("gpu-1"), machine("gpu-2", { capabilities: { cuda: "label" } })]);
    expect(claims(planOn(f, "gpu-2", { capabilities: { cuda: "label" } }))).toEqual(["train"]);
  });

  it("failoverAfter: how long the first may go unheard before the next takes over", () => {
    const tenMinutes = new Date(T0 - 600 * 1000).toISOString();
    const f = (after?: string) => fleet([{ ...job, ...(after ? { failoverAfter: after } : {}) }], [machine("gpu-1", { lastSeen: tenMinutes }), machine("gpu-2"), machine("cpu")]);
    expect(claims(planOn(f(), "gpu-2"))).toEqual([]); // 10 minutes < 3 heartbeats (15)
    expect(claims(planOn(f("5m"), "gpu-2"))).toEqual(["train"]);
    expect(claims(planOn(f("20m"), "gpu-2"))).toEqual([]);
  });

  it("this machine's own observation counts: a first listed machine whose clock is behind, seen renewing, is not gone", () => {
    const behind = new Date(T0 - 3600 * 1000).toISOString();
    const f = fleet([job], [machine("gpu-1", { lastSeen: behind }), machine("gpu-2")]);
    expect(claims(planOn(f, "gpu-2"))).toEqual(["train"]);
    expect(claims(planOn(f, "gpu-2", { observed: new Map([["gpu-1", { lastSeen: behind, at: T0 }]]) }))).toEqual([]);
  });

  it("a named order whose machine has not been heard of for failoverAfter says so in STATUS (every machine derives the same)", () => {
    const f = fleet([{ id: "nightly", to: "gpu-1", run: "x", failoverAfter: "10m" }], [machine("gpu-1", { lastSeen: new Date(T0 - 3600 * 1000).toISOString() }), machine("gpu-2")]);
    expect(f.status.orders.nightly!.machines["gpu-1"]).toMatchObject({
      state: "queued",
      reason: 'gpu-1 has not been heard of for over 10m (failoverAfter): this order waits for it; to let another machine run it, write "to": "ANY" with "prefer": ["gpu-1", …]',
    });
    const fresh = fleet([{ id: "nightly", to: "gpu-1", run: "x", failoverAfter: "10m" }], [machine("gpu-1"), machine("gpu-2")]);
    expect(fresh.status.orders.nightly!.machines["gpu-1"]!.reason).toBeUndefined();
  });
});

// ---------------------------------------------------------- requires, labels

describe("requires and labels", () => {
  const list = [
    { id: "train", to: ["gpu-box", "plain"], run: "train", requires: ["gpu"] },
    { id: "everyone", to: "ALL", run: "train", requires: ["gpu"] },
    { id: "review", to: "plain", agent: "claude", prompt: "review", requires: ["claude"] }, // named twice: said once
  ];
  const computers = [machine("gpu-box", { capabilities: { os: "linux", gpu: "label", claude: "installed" } }), machine("plain")];

  it("a named machine lacking a capability is rejected with the reason and never planned; a label counts as a capability", () => {
    const f = fleet(list, computers);
    expect(f.status.orders["train"]!.machines).toMatchObject({
      "gpu-box": { state: "queued" },
      plain: { state: "rejected", reason: "plain lacks gpu", attempts: 0 },
    });
    // ALL is every machine that has what the order requires: "plain" is simply not addressed.
    expect(f.status.orders["everyone"]!.machines).not.toHaveProperty("plain");
    expect(f.status.orders["review"]).toMatchObject({ state: "rejected", done: true, machines: { plain: { state: "rejected", reason: "plain lacks claude" } } });
    const p = planOn(f, "plain");
    expect(p.run).toEqual([]);
    expect(waits(p)).toEqual([
      ["train", "this machine lacks gpu"],
      ["review", "this machine lacks claude"],
    ]);
    expect(ids(planOn(f, "gpu-box").run)).toEqual(["train", "everyone"]);
  });

  it("the rejection lifts once the machine has the capability", () => {
    const f = fleet(list, [computers[0]!, machine("plain", { capabilities: { os: "linux", gpu: "label", claude: "installed" } })]);
    expect(f.status.orders["review"]).toMatchObject({ state: "queued", done: false });
    expect(ids(planOn(f, "plain").run)).toEqual(["train", "everyone", "review"]);
  });

  it("an ALL order with requires, completed on every capable machine, unblocks what comes after it", () => {
    const f = fleet(
      [
        { id: "a", to: "ALL", run: "a", requires: ["gpu"] },
        { id: "b", to: "gpu-box", run: "b", after: ["a"] },
      ],
      [machine("gpu-box", { capabilities: { gpu: "label" }, tasks: { a: report() } }), machine("plain")],
    );
    expect(f.status.orders["b"]).toMatchObject({ state: "queued", done: false });
    expect(ids(planOn(f, "gpu-box").run)).toEqual(["b"]);
  });
});

// -------------------------------------------------- status fields and retryAt

describe("deriveStatus fields the engine reads", () => {
  it("durationMs from start to end; lease and takeoverFrom as reported; holder is the latest live claim", () => {
    const f = fleet(
      [
        { id: "named", to: ["a", "b"], run: "x" },
        { id: "job", to: "ANY", run: "x", rev: 2 },
      ],
      [
        machine("a", { tasks: { named: report({ finishedAt: at(90.5) }), job: report({ rev: 1 }) } }),
        machine("b", { tasks: { named: holding("in_progress"), job: holding("in_progress", { rev: 2, startedAt: at(500), lease: 600, takeoverFrom: "c" }) } }),
        machine("c", { tasks: { job: holding("assigned", { rev: 2, startedAt: at(0), lease: 600 }) } }),
      ],
    );
    const named = f.status.orders["named"]!;
    expect(named.machines["a"]!.durationMs).toBe(90_500);
    expect(named.machines["b"]!.durationMs).toBeUndefined();
    expect(named).toMatchObject({ state: "in_progress", done: false });
    expect(named.holder).toBeUndefined();
    const job = f.status.orders["job"]!;
    // a's report is of rev 1: not one of this rev's machines.
    expect(Object.keys(job.machines)).toEqual(["b", "c"]);
    expect(job).toMatchObject({ rev: 2, state: "in_progress", done: false, holder: "b" });
    expect(job.machines["b"]).toEqual({ state: "in_progress", exitCode: null, startedAt: at(500), finishedAt: null, attempts: 1, lease: 600, takeoverFrom: "c" });
    expect(job.machines["c"]).toMatchObject({ state: "assigned", lease: 600 });
    expect(job.machines["c"]!.takeoverFrom).toBeUndefined();
  });

  it("done: completed, failed without retries left, cancelled, rejected; not queued, running or failed with retries left", () => {
    const f = fleet(
      [
        { id: "ok", to: "a", run: "x" },
        { id: "bad", to: "a", run: "x" },
        { id: "flaky", to: "a", run: "x", retries: 1 },
        { id: "stop", to: "a", run: "x", cancelled: true },
        { id: "gpu", to: "a", run: "x", requires: ["gpu"] },
        { id: "todo", to: "a", run: "x" },
        { id: "busy", to: "a", run: "x" },
        { id: "mixed", to: ["a", "b"], run: "x" },
      ],
      [machine("a", { tasks: { ok: report(), bad: failed(), flaky: failed(), busy: holding("in_progress"), mixed: report() } }), machine("b", { tasks: { mixed: failed() } })],
    );
    const done = Object.fromEntries(Object.entries(f.status.orders).map(([id, o]) => [id, o.done]));
    expect(done).toEqual({ ok: true, bad: true, flaky: false, stop: true, gpu: true, todo: false, busy: false, mixed: true });
    expect(f.status.orders["mixed"]!.state).toBe("failed");
  });
});

describe("retryAt", () => {
  const order = ordersOf([{ id: "x", to: "m", run: "x", retries: 3 }])[0]!;

  it("is the end of the last attempt plus the backoff, doubled for each further attempt; none when no retry is left", () => {
    expect(retryAt(order, failed({ attempts: 1 }), 60)?.toISOString()).toBe(at(70));
    expect(retryAt(order, failed({ attempts: 2 }), 60)?.toISOString()).toBe(at(130));
    expect(retryAt(order, failed({ attempts: 3 }), 60)?.toISOString()).toBe(at(250));
    expect(retryAt(order, failed({ attempts: 4 }), 60)).toBeUndefined();
    expect(retryAt(order, failed({ attempts: 1 }), 0)?.toISOString()).toBe(at(10));
  });

  it("counts from the start when the end is unknown, from the epoch when both are", () => {
    expect(retryAt(order, failed({ attempts: 1, finishedAt: undefined }), 60)?.toISOString()).toBe(at(60));
    expect(retryAt(order, { rev: 1, state: "failed", attempts: 2 }, 60)?.getTime()).toBe(120_000);
  });
});

// ------------------------------------------- found in review: claims, takeovers, retryAt

/** A machine's file as it publishes it (ownComputer adds retryAt), on top of the orders. */
function published(list: object[], name: string, tasks: Record<string, TaskReport>, now: number, fleetNames: string[] = [name]): ComputerFile {
  const files = new Map([[ORDERS_FILE, JSON.stringify({ version: 1, orders: list }, null, 2) + "\n"]]);
  for (const n of fleetNames) files.set(computerPath(n), renderComputer(machine(n)));
  const model = readModel(files);
  expect(model.ordersProblems).toEqual([]);
  const self = { name, uuid: `uuid-of-${name}`, heartbeat: 300, retryBackoff: 60, capabilities: { os: "linux", node: "20.20.2" }, tasks };
  return ownComputer(self, model, files.get(ORDERS_FILE), new Date(T0 + now * 1000));
}

describe("ANY takeover", () => {
  it("a takeover of an expired claim on attempt 2 is attempt 2, not attempt 1", () => {
    // a ran attempt 1 (failed), then claimed attempt 2 and went silent (its one report is now the claim).
    const f = fleet(
      [{ id: "job", to: "ANY", run: "make", retries: 1 }],
      [machine("a", { lastSeen: at(100), tasks: { job: holding("in_progress", { attempts: 2, startedAt: at(100), lease: 300 }) } }), machine("b", { lastSeen: at(1000) })],
    );
    const p = planOn(f, "b", when(1000));
    expect(p.claim.map((c) => ({ attempt: c.attempt, takeoverFrom: c.takeoverFrom }))).toEqual([{ attempt: 2, takeoverFrom: "a" }]);
  });

  it("a takeover that failed for good leaves the order failed and done, not in_progress under the dead holder it replaced", () => {
    const list = [
      { id: "job", to: "ANY", run: "make", retries: 0 },
      { id: "next", to: "c", run: "make next", after: ["job"] },
    ];
    const f = fleet(list, [
      machine("a", { lastSeen: at(0), tasks: { job: holding("in_progress", { lease: 300 }) } }), // dead since
      machine("b", { lastSeen: at(1010), tasks: { job: failed({ startedAt: at(1000), finishedAt: at(1010), lease: 300, takeoverFrom: "a" }) } }),
      machine("c", { lastSeen: at(1010) }),
    ]);
    expect(f.status.orders["job"]).toMatchObject({ state: "failed", done: true });
    expect(f.status.orders["next"]).toMatchObject({ state: "blocked", done: true });
  });
});

describe("retryAt, across machines", () => {
  it("no retryAt in STATUS for an ANY order another machine completed", () => {
    const list = [{ id: "job", to: "ANY", run: "make", retries: 1 }];
    const a = published(list, "a", { job: failed({ lease: 600 }) }, 20);
    const b = machine("b", { tasks: { job: report({ attempts: 2, startedAt: at(100), finishedAt: at(110), lease: 600 }) } });
    const f = fleet(list, [a, b]);
    expect(f.status.orders["job"]).toMatchObject({ state: "completed", done: true });
    expect(f.status.orders["job"]!.machines["a"]!.retryAt).toBeUndefined();
    expect(renderStatusMd(f.status)).not.toContain("retry at");
  });

  it("no retryAt in STATUS for an ANY order that failed for good (the last attempt ran elsewhere)", () => {
    const list = [{ id: "job", to: "ANY", run: "make", retries: 1 }];
    const a = published(list, "a", { job: failed({ lease: 600 }) }, 20);
    const b = machine("b", { tasks: { job: failed({ attempts: 2, startedAt: at(100), finishedAt: at(110), lease: 600 }) } });
    const f = fleet(list, [a, b]);
    expect(f.status.orders["job"]).toMatchObject({ state: "failed", done: true });
    expect(f.status.orders["job"]!.machines["a"]!.retryAt).toBeUndefined();
    expect(renderStatusMd(f.status)).not.toContain("retry at");
  });

  it("no 'retry at' next to 'not retried' when a dependency failed for good", () => {
    // b ran after a rev 1 and failed once (retries left); then a was re-revved and failed for good.
    const list = [
      { id: "a", to: "m-a", run: "make a", rev: 2 },
      { id: "b", to: "m-b", run: "make b", after: ["a"], retries: 2 },
    ];
    const mb = published(list, "m-b", { b: failed() }, 20, ["m-a", "m-b"]);
    const f = fleet(list, [machine("m-a", { tasks: { a: failed({ rev: 2 }) } }), mb]);
    const b = f.status.orders["b"]!;
    expect(b.done).toBe(true);
    expect(b.machines["m-b"]!.reason).toMatch(/not retried: dependency a failed/);
    expect(b.machines["m-b"]!.retryAt).toBeUndefined();
    expect(renderStatusMd(f.status)).not.toContain("retry at");
  });

  it("coord status shows when a failed task is retried (docs: STATUS.md and coord status show 'retry at <time>')", () => {
    const list = [{ id: "build", to: "izzit7", run: "make", retries: 2 }];
    const f = fleet(list, [published(list, "izzit7", { build: failed() }, 20)]);
    expect(f.status.orders["build"]!.machines["izzit7"]!.retryAt).toBe(at(70));
    expect(renderStatusMd(f.status)).toContain(`retry at ${at(70)}`);
    // In the terminal: relative to the reader's clock, and when in UTC.
    expect(statusText(f.status, new Date(T0 + 20_000))).toContain(`retry in 50 s (${utcText(at(70))})`);
  });
});

describe("ANY status with a re-revved dependency", () => {
  it("an ANY order that failed for good stays failed and done when its dependency is re-revved (it will never run again)", () => {
    const list = [
      { id: "build", to: "m-a", run: "make", rev: 2 },
      { id: "job", to: "ANY", run: "make job", after: ["build"], retries: 0 },
    ];
    const f = fleet(list, [machine("m-a"), machine("b", { tasks: { job: failed({ lease: 600 }) } })]);
    expect(f.status.orders["build"]).toMatchObject({ state: "queued" });
    expect(f.status.orders["job"]).toMatchObject({ state: "failed", done: true });
    // and it is indeed never planned again
    expect(planOn(f, "b", when(10_000)).claim).toEqual([]);
    expect(planOn(f, "m-a", when(10_000)).claim).toEqual([]);
  });
});
