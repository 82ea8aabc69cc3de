// Claims and leases (src/core/work/claims.ts), table by table: who holds an ANY
// order, when a lease expired, what a takeover looks like, when a holder
// renews and when it stops by itself. Time is passed in; nothing here waits.
import { describe, expect, it } from "vitest";
import {
  claimOf,
  claimEvent,
  claimHolder,
  claimLost,
  heartbeatDue,
  holdsClaims,
  leaseLive,
  lookEvery,
  MAX_LEASE,
  mustFence,
  recordedHolder,
  superseded,
  takenOver,
  takeoverAttempt,
} from "../../../src/core/work/claims.js";
import { observe } from "../../../src/core/time/clock.js";
import type { TaskState } from "../../../src/core/types.js";
import { T0_ISO } from "../../fixtures.js";
import type { Order } from "../../../src/core/orders/orders-schema.js";
import type { OrderMachineStatus, StatusJson } from "../../../src/core/fleet/status-types.js";

const T0 = Date.parse(T0_ISO);
const at = (s: number) => new Date(T0 + s * 1000);
const iso = (s: number) => at(s).toISOString();

const order = (over: Partial<Order> = {}): Order => ({ id: "job", to: "ANY", rev: 1, after: [], requires: [], env: {}, retries: 0, priority: "normal", cancelled: false, ...over });

const report = (state: TaskState, attempts = 1, over: Partial<OrderMachineStatus> = {}): OrderMachineStatus => ({
  state,
  exitCode: null,
  startedAt: T0_ISO,
  finishedAt: null,
  attempts,
  ...over,
});

/** A fleet status: machine → (lastSeen in seconds from T0, its report on "job"). */
function fleet(machines: Record<string, [number | string, OrderMachineStatus?]>, done = false): StatusJson {
  const status: StatusJson = { coord: 1, machines: {}, orders: {}, alerts: [], errors: [] };
  const reports: Record<string, OrderMachineStatus> = {};
  for (const [name, [seen, r]] of Object.entries(machines)) {
    status.machines[name] = {
      state: "idle",
      presence: "online", // claims.ts goes by lastSeen, never by presence
      lastSeen: typeof seen === "number" ? iso(seen) : seen,
      heartbeat: 300,
      capabilities: {},
      ordersValid: true,
      messages: { waiting: 0, unacked: 0 },
    };
    if (r) reports[name] = r;
  }
  status.orders.job = { rev: 1, state: "queued", done, to: "ANY", machines: reports };
  return status;
}

describe("claimOf: a task is a claim of this run of an order, not started yet", () => {
  const order = { rev: 2 };
  it.each<[string, { state: string; rev: number; slot?: string } | undefined, { rev: number; slot?: string }, boolean]>([
    ["assigned, same rev", { state: "assigned", rev: 2 }, order, true],
    ["none", undefined, order, false],
    ["started already", { state: "in_progress", rev: 2 }, order, false],
    ["ended", { state: "completed", rev: 2 }, order, false],
    ["an older rev", { state: "assigned", rev: 1 }, order, false],
    ["a recurring order's same slot", { state: "assigned", rev: 2, slot: "2026-11-25T10:00Z" }, { rev: 2, slot: "2026-11-25T10:00Z" }, true],
    ["another slot", { state: "assigned", rev: 2, slot: "2026-11-25T10:00Z" }, { rev: 2, slot: "2026-11-25T11:00Z" }, false],
  ])("%s", (_what, task, of, expected) => expect(claimOf(task, of)).toBe(expected));
});

describe("leaseLive: a claim holds while its holder was seen within the lease", () => {
  it.each([
    ["seen now", iso(0), 600, 0, true],
    ["seen exactly a lease ago", iso(0), 600, 600, true],
    ["seen a lease and a second ago", iso(0), 600, 601, false],
    ["a lease over a day holds a day at most", iso(0), 10 * MAX_LEASE, MAX_LEASE + 1, false],
    ["a lastSeen within 5 minutes ahead counts as now", iso(299), 600, 0, true],
    ["a lastSeen more than 5 minutes ahead is never seen", iso(301), 600, 0, false],
    ["a lastSeen years ahead holds nothing", "2099-01-01T00:00:00.000Z", 600, 0, false],
    ["no lastSeen", undefined, 600, 0, false],
    ["garbage", "yesterday", 600, 0, false],
  ])("%s", (_what, lastSeen, lease, now, live) => {
    expect(leaseLive(lastSeen, lease, at(now))).toBe(live);
  });
});

describe("leaseLive with the reader's own observation: a holder whose clock is behind keeps its claim", () => {
  // The holder's clock is 8 minutes behind: its lastSeen says -480 s when it is written at 0.
  const behind = iso(-480);
  it.each<[string, string | undefined, number, { lastSeen: string; at: number } | undefined, boolean]>([
    ["by its word alone, expired (lease 300 s)", behind, 0, undefined, false],
    ["the reader saw that lastSeen appear just now", behind, 0, { lastSeen: behind, at: T0 }, true],
    ["… and 300 s ago (by the reader's clock)", behind, 300, { lastSeen: behind, at: T0 }, true],
    ["… and 301 s ago: unchanged for a lease, expired", behind, 301, { lastSeen: behind, at: T0 }, false],
    ["an observation of another value does not count", behind, 0, { lastSeen: iso(-999), at: T0 }, false],
    [
      "a lastSeen years ahead: the word is not believed, the observation expires after a lease",
      "2099-01-01T00:00:00.000Z",
      301,
      { lastSeen: "2099-01-01T00:00:00.000Z", at: T0 },
      false,
    ],
    ["… and holds within it", "2099-01-01T00:00:00.000Z", 299, { lastSeen: "2099-01-01T00:00:00.000Z", at: T0 }, true],
    ["a fresh lastSeen holds by its word without any observation", iso(0), 100, undefined, true],
  ])("%s", (_what, lastSeen, now, observed, live) => {
    expect(leaseLive(lastSeen, 300, at(now), observed)).toBe(live);
  });

  it("claimHolder and takenOver use it: a holder 8 minutes behind is live to a reader that saw it renew", () => {
    const status = fleet({ a: [-480, report("in_progress")], b: [0] });
    expect(claimHolder(order(), "b", status, at(10), 300)).toEqual({ expired: "a" });
    const observed = new Map([["a", { lastSeen: iso(-480), at: T0 }]]);
    expect(claimHolder(order(), "b", status, at(10), 300, observed)).toEqual({ live: "a" });
    expect(
      takenOver(
        order(),
        "a",
        fleet({ a: [0, report("in_progress")], b: [-480, report("in_progress", 1, { takeoverFrom: "a" })] }),
        at(10),
        300,
        new Map([["b", { lastSeen: iso(-480), at: T0 }]]),
      ),
    ).toBe(true);
  });
});

describe("observe: when the reader saw each lastSeen change, by its own clock", () => {
  const seen = (entries: Record<string, string>) => new Map(Object.entries(entries));
  it.each<[string, Record<string, { lastSeen: string; at: number }>, Record<string, string>, number, Record<string, { lastSeen: string; at: number }>]>([
    ["a machine seen for the first time is stamped now", {}, { a: "x" }, 5, { a: { lastSeen: "x", at: 5 } }],
    ["an unchanged lastSeen keeps its stamp", { a: { lastSeen: "x", at: 1 } }, { a: "x" }, 5, { a: { lastSeen: "x", at: 1 } }],
    ["a renewed lastSeen is stamped now", { a: { lastSeen: "x", at: 1 } }, { a: "y" }, 5, { a: { lastSeen: "y", at: 5 } }],
    ["a machine no longer read is forgotten", { a: { lastSeen: "x", at: 1 }, b: { lastSeen: "z", at: 1 } }, { a: "x" }, 5, { a: { lastSeen: "x", at: 1 } }],
    ["a stamp in the reader's future (its clock went back) is stamped again now", { a: { lastSeen: "x", at: 9 } }, { a: "x" }, 5, { a: { lastSeen: "x", at: 5 } }],
  ])("%s", (_what, before, lastSeen, now, after) => {
    const result = observe(new Map(Object.entries(before)), seen(lastSeen), new Date(now));
    expect(Object.fromEntries(result)).toEqual(after);
  });

  it("JavaScript's own names are names like any other", () => {
    const result = observe(
      new Map([["constructor", { lastSeen: "x", at: 1 }]]),
      new Map([
        ["__proto__", "y"],
        ["constructor", "x"],
      ]),
      new Date(5),
    );
    expect([...result]).toEqual([
      ["__proto__", { lastSeen: "y", at: 5 }],
      ["constructor", { lastSeen: "x", at: 1 }],
    ]);
  });
});

describe("claimHolder: who may take an ANY order", () => {
  it.each<[string, Record<string, [number | string, OrderMachineStatus?]>, { live?: string; expired?: string }]>([
    ["nobody claimed it", { alpha: [0], beta: [0] }, {}],
    ["beta holds it, seen now", { alpha: [0], beta: [0, report("assigned")] }, { live: "beta" }],
    ["beta runs it, seen now", { alpha: [0], beta: [0, report("in_progress")] }, { live: "beta" }],
    ["beta ran it (ended): no claim", { alpha: [0], beta: [0, report("failed")] }, {}],
    ["beta silent past the lease: taken over", { alpha: [0], beta: [-601, report("in_progress")] }, { expired: "beta" }],
    ["beta's own lease (60 s) is what counts", { alpha: [0], beta: [-61, report("in_progress", 1, { lease: 60 })] }, { expired: "beta" }],
    ["any live claim wins over an expired one", { alpha: [0], beta: [-700, report("in_progress")], gamma: [0, report("assigned", 2)] }, { live: "gamma" }],
    ["beta's clock far ahead: expired", { alpha: [0], beta: ["2099-01-01T00:00:00.000Z", report("in_progress")] }, { expired: "beta" }],
    ["my own claim is not another's", { alpha: [0, report("assigned")] }, {}],
  ])("%s", (_what, machines, expected) => {
    expect(claimHolder(order(), "alpha", fleet(machines), at(0), 600)).toEqual(expected);
    expect(takenOver(order(), "alpha", fleet(machines), at(0), 600)).toBe(expected.live !== undefined);
  });

  it("a takeover goes on with the attempt the silent holder had, and says whom it took over from", () => {
    const status = fleet({ alpha: [0], beta: [-601, report("in_progress", 3)] });
    expect(takeoverAttempt(status, order(), "beta")).toBe(3);
    expect(takeoverAttempt(status, order(), undefined)).toBe(0);
    expect(claimEvent({ order: order({ rev: 2 }), attempt: 3, takeoverFrom: "beta" }, at(5), 600)).toEqual({
      kind: "claim",
      rev: 2,
      attempt: 3,
      at: iso(5),
      lease: 600,
      takeoverFrom: "beta",
    });
    expect(claimEvent({ order: order(), attempt: 1 }, at(5), 600)).not.toHaveProperty("takeoverFrom");
  });
});

describe("recordedHolder / superseded: the holder the derived files show (no clock)", () => {
  it.each<[string, [string, OrderMachineStatus][], string | undefined]>([
    ["none", [["a", report("failed")]], undefined],
    ["the one claim", [["a", report("assigned")]], "a"],
    [
      "a later attempt supersedes",
      [
        ["a", report("in_progress", 1)],
        ["b", report("assigned", 2)],
      ],
      "b",
    ],
    [
      "the same attempt ended elsewhere supersedes",
      [
        ["a", report("assigned", 1)],
        ["b", report("failed", 1)],
      ],
      undefined,
    ],
    [
      "a takeover from it supersedes",
      [
        ["a", report("in_progress", 1)],
        ["b", report("in_progress", 1, { takeoverFrom: "a" })],
      ],
      "b",
    ],
    [
      "two live claims of one attempt: the latest started",
      [
        ["a", report("assigned", 1)],
        ["b", report("assigned", 1, { startedAt: iso(5) })],
      ],
      "b",
    ],
  ])("%s", (_what, reports, holder) => {
    expect(recordedHolder(reports)).toBe(holder);
  });
  it("superseded by a later attempt only, not an earlier one", () => {
    expect(superseded("a", report("assigned", 2), [["b", report("failed", 1)]])).toBe(false);
    expect(superseded("a", report("assigned", 2), [["b", report("failed", 3)]])).toBe(true);
  });
});

describe("claimLost: when a claim not yet run goes back (dropLostClaims)", () => {
  const mine = { rev: 1, state: "assigned" as const, attempts: 2, lease: 600 };
  it.each<[string, Order | undefined, Record<string, [number, OrderMachineStatus?]>, boolean, boolean]>([
    ["nobody else", order(), { alpha: [0] }, false, false],
    ["the order is gone", undefined, { alpha: [0] }, false, true],
    ["cancelled", order({ cancelled: true }), { alpha: [0] }, false, true],
    ["re-revved", order({ rev: 2 }), { alpha: [0] }, false, true],
    ["another machine holds a live claim", order(), { alpha: [0], beta: [0, report("assigned", 2)] }, false, true],
    ["another machine's claim expired", order(), { alpha: [0], beta: [-601, report("assigned", 2)] }, false, false],
    ["done (completed elsewhere, or failed for good)", order(), { alpha: [0] }, true, true],
    ["another machine ran this attempt meanwhile", order(), { alpha: [0], beta: [0, report("failed", 2)] }, false, true],
    ["another machine failed an earlier attempt", order(), { alpha: [0], beta: [0, report("failed", 1)] }, false, false],
  ])("%s → lost: %s", (_what, o, machines, done, lost) => {
    expect(claimLost("alpha", mine, o, fleet(machines, done), at(0), 600)).toBe(lost);
  });
});

describe("renewing and fencing (claimLease 600 s, checkEvery 30 s, heartbeat 900 s)", () => {
  it.each([
    [false, 30],
    [true, 30],
  ])("holding claims %s: looks at the remote every %i s", (holding, every) => {
    expect(lookEvery(30, 600, holding)).toBe(every);
  });
  it("a short lease makes it look every quarter of it", () => {
    expect(lookEvery(30, 20, true)).toBe(5);
    expect(lookEvery(30, 20, false)).toBe(30);
  });

  it.each<[string, number, number | undefined, boolean]>([
    ["idle, published 10 min ago", -600, undefined, false],
    ["idle, published a heartbeat ago", -900, undefined, true],
    ["holding, published 3 min ago", -180, 600, false],
    ["holding, published a third of the lease ago", -200, 600, true],
    ["a lastSeen in the future goes out at once", 60, undefined, true],
  ])("%s: due %s", (_what, published, lease, due) => {
    expect(heartbeatDue(iso(published), at(0), 900, lease)).toBe(due);
  });

  it.each<[string, string | undefined, number | undefined]>([
    ["published now", iso(0), undefined],
    ["published 80 % of the lease ago", iso(-480), undefined],
    ["published just over 80 % of the lease ago: stops", iso(-481), 481],
    ["never published in this sync", undefined, undefined],
  ])("%s → fence after %s s", (_what, published, age) => {
    expect(mustFence(published, at(0), 600)).toBe(age);
  });

  it("holds claims while a leased entry is assigned or running, not once it ended", () => {
    expect(holdsClaims({ a: { rev: 1, state: "assigned", attempts: 1, lease: 600 } })).toBe(true);
    expect(holdsClaims({ a: { rev: 1, state: "in_progress", attempts: 1, lease: 600 } })).toBe(true);
    expect(holdsClaims({ a: { rev: 1, state: "failed", attempts: 1, lease: 600 } })).toBe(false);
    expect(holdsClaims({ a: { rev: 1, state: "in_progress", attempts: 1 } })).toBe(false);
  });
});
