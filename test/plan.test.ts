// The planner (src/core/machine/plan.ts): what a machine does next, given the
// orders, the fleet's files, its own journal and the time; pipelines (after)
// and retries across a fleet's syncs on the in-memory hub.
import { join } from "node:path";
import { afterEach, describe, it, expect } from "vitest";
import { readControls } from "../src/core/hub/controls.js";
import { nextAttempt, plan, type PlanInput } from "../src/core/machine/plan.js";
import type { RepoModel } from "../src/core/repo/repo.js";
import { deriveStatus, missingCapabilities } from "../src/core/status/status.js";
import { computerFile, taskReport as report } from "./fixtures.js";
import { readLines as lines } from "./helpers.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";
import type { Order } from "../src/core/orders/orders-schema.js";
import type { TaskReport } from "../src/core/fleet/computer.js";

const T0 = "2025-06-01T10:00:00.000Z";

const computer = computerFile;

/** An Order with the defaults parseOrders applies. */
function order(over: Partial<Order> & Pick<Order, "id" | "to">): Order {
  return { run: "true", rev: 1, after: [], requires: [], env: {}, retries: 0, priority: "normal", cancelled: false, ...over };
}

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

describe("pipelines across machines (after), on the in-memory hub", () => {
  let fleet: MemoryFleet | undefined;
  afterEach(async () => {
    await fleet?.cleanup();
    fleet = undefined;
  });

  it("a three-hop pipeline completes in order, each hop at the next sync of its machine", async () => {
    fleet = await memoryFleet(["izzit7", "soda-yeti", "machine-2"]);
    const f = fleet;
    const log = join(f.root, "pipeline.log");
    await f.pushOrders([
      { id: "deploy", to: "izzit7", after: ["test"], run: `echo deploy >> ${log}` },
      { id: "test", to: "soda-yeti", after: ["build"], run: `echo test >> ${log}` },
      { id: "build", to: "machine-2", run: `echo build >> ${log}` },
    ]);
    // The wrong order of syncs first: nothing may jump ahead.
    await f.sync("izzit7");
    await f.sync("soda-yeti");
    let status = await f.status();
    expect(status.orders.test?.machines["soda-yeti"]).toMatchObject({ state: "blocked", reason: "waiting for build" });
    expect(status.orders.deploy?.machines.izzit7).toMatchObject({ state: "blocked", reason: "waiting for test" });
    await f.sync("machine-2");
    await f.sync("soda-yeti");
    await f.sync("izzit7");
    expect(await lines(log)).toEqual(["build", "test", "deploy"]);
    status = await f.status();
    for (const id of ["build", "test", "deploy"]) expect(status.orders[id]).toMatchObject({ state: "completed", done: true });
  });

  it("a failure in hop 1 blocks hops 2 and 3 for good with a clear reason, and runs neither", async () => {
    fleet = await memoryFleet(["izzit7", "soda-yeti", "machine-2"]);
    const f = fleet;
    const log = join(f.root, "pipeline.log");
    await f.pushOrders([
      { id: "build", to: "machine-2", run: `echo build >> ${log}; exit 2` },
      { id: "test", to: "soda-yeti", after: ["build"], run: `echo test >> ${log}` },
      { id: "deploy", to: "izzit7", after: ["test"], run: `echo deploy >> ${log}` },
    ]);
    for (let round = 0; round < 2; round++) for (const n of ["machine-2", "soda-yeti", "izzit7"]) await f.sync(n);
    expect(await lines(log)).toEqual(["build"]);
    const status = await f.status();
    expect(status.orders.build).toMatchObject({ state: "failed", done: true });
    expect(status.orders.test).toMatchObject({ state: "blocked", done: true });
    expect(status.orders.test?.machines["soda-yeti"]?.reason).toBe("dependency build failed");
    expect(status.orders.deploy?.machines.izzit7?.reason).toMatch(/^dependency test blocked \(dependency build failed\)/);
  });
});

describe("retries, on the in-memory hub", () => {
  let fleet: MemoryFleet | undefined;
  afterEach(async () => {
    await fleet?.cleanup();
    fleet = undefined;
  });

  it("retries wait for the backoff, doubling each time", async () => {
    fleet = await memoryFleet(["izzit7"], { config: { retryBackoff: 10 } });
    const f = fleet;
    const log = join(f.root, "ran.log");
    await f.pushOrders([{ id: "flaky", to: "izzit7", retries: 2, run: `echo "$COORD_ATTEMPT" >> ${log}; exit 1` }]);
    const t0 = Date.now();
    await f.sync("izzit7", { now: () => new Date(t0) });
    const early = await f.sync("izzit7", { now: () => new Date(t0 + 5_000) });
    expect(early.waiting[0]?.reason).toMatch(/^retry 1 of 2 at /);
    await f.sync("izzit7", { now: () => new Date(t0 + 11_000) }); // attempt 2
    const second = await f.sync("izzit7", { now: () => new Date(t0 + 25_000) }); // 20 s after attempt 2: not yet
    expect(second.ran).toEqual([]);
    await f.sync("izzit7", { now: () => new Date(t0 + 60_000) }); // attempt 3
    expect(await lines(log)).toEqual(["1", "2", "3"]);
    expect((await f.status()).orders.flaky).toMatchObject({ state: "failed", done: true });
  });
});
