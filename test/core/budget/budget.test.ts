// The fleet's push budget (core/budget/budget.ts), table-driven: the share, the bucket, the heartbeat, what is worth a push.
import { TURNS, turnsAt } from "../../../src/core/budget/turns.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ridingAlong,
  admits,
  admitsAt,
  BUCKET_CAPACITY,
  type Bucket,
  fleetHeartbeat,
  heartbeatDueAfter,
  heartbeatOf,
  machinesCounted,
  type PushClass,
  pushClassOf,
  refill,
  shareOf,
  spend,
  claimLeaseOf,
  describeBudget,
  fleetBudget,
  turnWait,
  countedMachines,
  claimsAhead,
  fleetSpares,
  spendSpare,
  SPARE_LEFT,
} from "../../../src/core/budget/budget.js";
import type { ComputerFile } from "../../../src/core/fleet/computer.js";
import { pushesPerMinuteOf } from "../../../src/core/hub/reads.js";

const NOW = Date.parse("2026-11-25T10:00:00.000Z");

describe("the share and the heartbeat", () => {
  it.each([
    // budget, machines, configured heartbeat (s) → per minute, heartbeat (s)
    [6, 1, 900, 6, 900],
    [6, 12, 120, 0.5, 240],
    [6, 24, 120, 0.25, 480],
    [6, 40, 120, 0.15, 800], // 13 min 20 s: heartbeats alone take 3 a minute, half the budget
    [6, 1000, 900, 0.006, 20_000],
    [60, 40, 900, 1.5, 900], // a generous budget: the setting stands
    [6, 0, 900, 6, 900], // no machine counted: itself
  ])("%d a minute, %d machines, heartbeat %d s: %d a minute each, a heartbeat every %d s", (budget, machines, configured, perMinute, heartbeat) => {
    const s = shareOf(budget, machines, configured);
    expect(s.perMinute).toBeCloseTo(perMinute, 6);
    expect(s.heartbeat).toBe(heartbeat);
    // Heartbeats alone never take more than half the budget.
    expect((s.machines * 60) / s.heartbeat).toBeLessThanOrEqual(budget / 2 + 1e-9);
  });

  it("fleetHeartbeat: 40 machines at 6 a minute beat every 13–14 minutes", () => {
    expect(fleetHeartbeat(6, 40) / 60).toBeGreaterThanOrEqual(13);
    expect(fleetHeartbeat(6, 40) / 60).toBeLessThanOrEqual(14);
  });

  it.each<[number | undefined, number, number]>([
    [undefined, 480, 480], // nothing published yet
    [480, 480, 480],
    [600, 480, 600], // a little longer than wanted: kept (a fleet whose size wavers rewrites nothing)
    [721, 480, 480], // more than half as long again: the one wanted
    [300, 480, 480], // shorter than wanted: the one wanted
  ])("heartbeatOf(published %s, wanted %d) = %d", (published, wanted, expected) => expect(heartbeatOf(published, wanted)).toBe(expected));

  it("a heartbeat is due by the shorter of the one published and the one kept: a machine never goes quiet for longer than it said", () => {
    expect(heartbeatDueAfter(120, 480)).toBe(120);
    expect(heartbeatDueAfter(600, 480)).toBe(480);
    expect(heartbeatDueAfter(undefined, 480)).toBe(480);
  });

  it.each<[unknown, number]>([
    [{ hub: { pushesPerMinute: 12 } }, 12],
    [{ hub: { pushesPerMinute: 0 } }, 6],
    [{ hub: { pushesPerMinute: "6" } }, 6],
    [{ hub: {} }, 6],
    [{}, 6],
    [null, 6],
  ])("pushesPerMinuteOf(%j) = %d", (data, expected) => expect(pushesPerMinuteOf(data)).toBe(expected));
});

describe("the bucket", () => {
  const share = shareOf(6, 12, 120); // half a push a minute
  it("starts full, refills at its share, never past full, and a clock set back refills nothing and freezes nothing", () => {
    const full = refill(undefined, NOW, share);
    expect(full).toEqual({ tokens: BUCKET_CAPACITY, at: NOW });
    const spent = spend(spend(spend(full)));
    expect(spent.tokens).toBe(0);
    expect(refill(spent, NOW + 60_000, share).tokens).toBeCloseTo(0.5);
    expect(refill(spent, NOW + 3_600_000, share).tokens).toBe(BUCKET_CAPACITY);
    const back = refill(spent, NOW - 3_600_000, share);
    expect(back).toEqual({ tokens: 0, at: NOW - 3_600_000 });
    expect(refill(back, NOW - 3_600_000 + 120_000, share).tokens).toBeCloseTo(1);
  });

  it.each<[number, PushClass, boolean]>([
    [3, "heartbeat", true],
    [1, "work", true],
    [0, "work", true], // work may take the last token and one more
    [-0.01, "work", false],
    [0.99, "heartbeat", false],
    [1.5, "receipts", false], // receipts alone leave room for results
    [2, "receipts", true],
    [0, "urgent", true], // urgent may borrow
    [-2.9, "urgent", true],
    [-BUCKET_CAPACITY, "urgent", false], // down to the floor: it waits too
    [0.5, "status", false],
  ])("with %d tokens, a %s push goes: %s", (tokens, cls, expected) => expect(admits({ tokens, at: NOW }, cls)).toBe(expected));

  it.each<[string, number, number, number, boolean]>([
    ["30 machines on GitHub's 6 a minute, the hub quiet for a minute", 6, 30, 0, true],
    ["the fleet's heartbeats took half the budget", 6, 30, 3, true],
    ["one more would leave fewer than SPARE_LEFT", 6, 30, 4, false],
    ["the fleet took its budget", 6, 30, 6, false],
    ["3 machines on GitHub's figures, one push in the minute", 6, 3, 1, true],
    ["a budget of 2: nothing to spare even when quiet", 2, 2, 0, false],
    ["a budget of 3: one spare push a minute", 3, 2, 0, true],
    ["a budget of 3, one taken", 3, 2, 1, false],
    ["a server of one's own at 600 a minute", 600, 100, 500, true],
    ["a count that makes no sense spares nothing", 6, 3, Number.NaN, false],
    ["nor does a negative one", 6, 3, -1, false],
  ])("the fleet's spare pushes: %s", (_what, budget, machines, recent, spares) => {
    expect(fleetSpares(shareOf(budget, machines, 120), recent)).toBe(spares);
    // Whatever it says, one more push leaves SPARE_LEFT of the budget.
    if (spares) expect(recent + 1 + SPARE_LEFT).toBeLessThanOrEqual(budget);
  });

  it.each<[number, number]>([
    [2, 1],
    [0, -1],
    [-2.5, -BUCKET_CAPACITY], // pays back what it can, no further than an urgent push could take it
    [-BUCKET_CAPACITY, -BUCKET_CAPACITY],
    [-7, -7], // a deeper debt (an old bucket file, a clock set back) is not made shallower by a push
  ])("a push on the fleet's spare pushes takes a bucket of %d tokens to %d", (tokens, after) => expect(spendSpare({ tokens, at: NOW })).toEqual({ tokens: after, at: NOW }));

  it("says when a push may go: at once, or when the bucket has refilled enough (and then it does)", () => {
    const b: Bucket = { tokens: 0.25, at: NOW };
    expect(admitsAt({ tokens: 2, at: NOW }, "heartbeat", share)).toBe(NOW);
    const at = admitsAt(b, "heartbeat", share);
    expect(at).toBe(NOW + 90_000);
    expect(admits(refill(b, at, share), "heartbeat")).toBe(true);
    expect(admits(refill(b, at - 1000, share), "heartbeat")).toBe(false);
    expect(admitsAt({ tokens: -0.5, at: NOW }, "work", share)).toBe(NOW + 60_000);
  });

  it.each<[string, number, number, number, number]>([
    ["a small fleet keeps its setting", 6, 5, 600, 600],
    ["10 machines at 6 a minute: renewals as often as heartbeats (200 s)", 6, 10, 600, 600],
    ["24 machines: a heartbeat every 8 minutes, a lease of 24", 6, 24, 600, 1440],
    ["40 machines: 40 minutes", 6, 40, 600, 2400],
    ["a longer setting stays", 6, 40, 7200, 7200],
    ["never past a day", 6, 100_000, 600, 86_400],
  ])("a claim's lease stretches with the fleet: %s", (_what, budget, machines, configured, lease) => expect(claimLeaseOf(shareOf(budget, machines, 120), configured)).toBe(lease));

  it("a fleet that takes its shares stays within the budget, a burst included (simulated hour, every machine pushing whenever it may)", () => {
    const machines = 24;
    const s = shareOf(6, machines, 120);
    const buckets: (Bucket | undefined)[] = Array.from({ length: machines }, () => undefined);
    let pushes = 0;
    for (let t = NOW; t < NOW + 3_600_000; t += 1000)
      for (let i = 0; i < machines; i++) {
        const b = refill(buckets[i], t, s);
        if (admits(b, "work")) {
          buckets[i] = spend(b);
          pushes++;
        } else buckets[i] = b;
      }
    // 6 a minute for 60 minutes, plus each machine's first burst (its full bucket).
    expect(pushes).toBeLessThanOrEqual(6 * 60 + machines * BUCKET_CAPACITY);
    expect(pushes).toBeGreaterThan(6 * 60 * 0.9);
  });
});

describe("a herd and a queue under the budget", () => {
  // A round's turns start at multiples of the round on the wall clock: 10 machines at 6 a minute, 10 turns of 2 s.
  const ROUND = Date.UTC(2026, 10, 25, 10, 0, 0); // a multiple of 20 s and of 4 s
  it.each<[string, number, number, number, number, number]>([
    // what, budget, machines, rank, ms into the round, wait (ms)
    ["10 machines at 6 a minute, the first at the start of its turn: now", 6, 10, 0, 0, 0],
    ["the first, late in the first half of its turn: now", 6, 10, 0, 999, 0],
    ["the first, in the second half of its turn: the next round (20 s of turns)", 6, 10, 0, 1000, 19_000],
    ["the fourth, at the start of the round: 6 s", 6, 10, 3, 0, 6000],
    ["the fourth, just past its turn's first half: a round later", 6, 10, 3, 7000, 19_000],
    ["the last, at the start of the next: 18 s", 6, 10, 9, 20_000, 18_000],
    ["40 machines share 15 turns of 2 s (30 s): the 17th has the second", 6, 40, 16, 0, 2000],
    ["2 machines at 6 a minute: turns of 2 s, a round of 4 s", 6, 2, 1, 500, 1500],
    ["10 machines at 60 a minute: a token in 10 s holds 5 turns, the 6th has the first", 60, 10, 5, 3000, 7000],
    ["a fleet of one never waits", 6, 1, 0, 1500, 0],
    ["a server of one's own (100,000 a minute): no turns", 100_000, 10, 7, 1500, 0],
    ["3 machines at 60 a minute: a token in 3 s holds one turn, no turns", 60, 3, 2, 1500, 0],
  ])("its turn to push: %s", (_what, budget, machines, rank, into, wait) => expect(turnWait(shareOf(budget, machines, 120), rank, ROUND + into)).toBe(wait));

  it("a fleet run at a tenth of the time (the bench's fleet rows) waits a tenth as long: turns of 200 ms, rounds of at most 3 s", () => {
    const tenth = turnsAt(10);
    expect(tenth).toEqual({ turnMs: 200, roundMaxMs: 3_000 });
    expect(turnsAt(1)).toEqual(TURNS);
    const share = shareOf(6, 40, 120); // 40 machines share 15 turns
    for (const [rank, at] of [
      [0, 0],
      [3, 1234],
      [16, 29_999],
    ] as const) {
      const real = turnWait(share, rank, ROUND * 1000 + at * 10);
      expect(turnWait(share, rank, ROUND * 100 + at, tenth)).toBeCloseTo(real / 10, 6);
    }
    expect(turnWait(share, 16, ROUND * 100 + 3_000, tenth)).toBeLessThan(3_000);
  });

  it("a machine that waited for its turn is in it, and no two of a round's turns meet", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 0, max: 1999 }), fc.integer({ min: 0, max: 1999 }), fc.nat({ max: 1e12 }), (machines, a, b, now) => {
        const share = shareOf(6, machines, 120);
        const [ra, rb] = [a % machines, b % machines];
        const wait = turnWait(share, ra, now);
        expect(wait).toBeGreaterThanOrEqual(0);
        expect(wait).toBeLessThan(30_000);
        expect(turnWait(share, ra, now + wait)).toBe(0);
        const turns = Math.min(machines, 15);
        if (turns >= 2 && ra % turns !== rb % turns) expect(wait === 0 && turnWait(share, rb, now) === 0).toBe(false);
      }),
    );
  });

  it("a machine's rank is its name's place among those counted, itself included", () => {
    const seen = (at: string) => ({ lastSeen: at, heartbeat: 120 });
    const computers = new Map([
      ["c", seen(new Date(NOW).toISOString())],
      ["a", seen(new Date(NOW - 60_000).toISOString())],
      ["gone", seen(new Date(NOW - 86_400_000).toISOString())],
    ]);
    expect(countedMachines("b", computers, new Date(NOW))).toEqual(["a", "b", "c"]);
    expect(countedMachines("gone", computers, new Date(NOW))).toEqual(["a", "c", "gone"]);
  });

  it.each<[string, number, number, number, number]>([
    ["tasks of 1 s, 10 machines at 6 a minute: a minute's worth in one push", 6, 10, 1, 60],
    ["tasks of 0 s count as 1 s", 6, 10, 0, 60],
    ["tasks of 20 s: 3", 6, 10, 20, 3],
    ["tasks of 45 s: 1", 6, 10, 45, 1],
    ["tasks of 61 s: none ahead", 6, 10, 61, 0],
    ["a server of one's own, 10 machines, tasks of 1 s: ten, one push for each machine's round", 100_000, 10, 1, 10],
    ["a server of one's own, 10 machines, tasks of 4 s: two", 100_000, 10, 4, 2],
    ["a server of one's own, 10 machines, tasks of 11 s: one", 100_000, 10, 11, 1],
    ["a server of one's own, one machine: one at a time", 100_000, 1, 1, 1],
    ["3 machines at 60 a minute: a token every 3 s, three tasks of 1 s", 60, 3, 1, 3],
    ["no task measured: none ahead", 6, 10, Number.NaN, 0],
  ])("the orders a draining machine claims ahead: %s", (_what, budget, machines, longest, ahead) => expect(claimsAhead(shareOf(budget, machines, 120), longest)).toBe(ahead));
});

describe("what is worth a push", () => {
  const file = (over: Partial<ComputerFile> = {}): ComputerFile =>
    ({
      coord: 2,
      name: "a",
      uuid: "u",
      state: "idle",
      lastSeen: "2026-11-25T09:00:00.000Z",
      heartbeat: 900,
      capabilities: { os: "linux" },
      orders: { seen: "1111", valid: true },
      tasks: {},
      ...over,
    }) as ComputerFile;
  const task = (state: string) => ({ rev: 1, state, attempts: 1, exitCode: null, startedAt: null, finishedAt: null }) as never;
  const leased = (state: string) => ({ ...(task(state) as object), lease: 600 }) as never;
  const ctx = { waitedOn: new Set(["build"]), heartbeatDue: false, renewsClaims: false };
  it.each<[string, ComputerFile | undefined, ComputerFile, Partial<typeof ctx> & { messages?: "urgent" | "work" }, PushClass | undefined]>([
    ["its first file", undefined, file(), {}, "urgent"],
    ["nothing but a new ORDERS.json read", file(), file({ orders: { seen: "2222", valid: false, error: "bad" } }), {}, undefined],
    ["nothing but a lastSeen before its heartbeat is due", file(), file({ lastSeen: "2026-11-25T09:05:00.000Z" }), {}, undefined],
    ["nothing but a heartbeat of another length", file(), file({ heartbeat: 480 }), {}, undefined],
    ["its heartbeat is due", file(), file(), { heartbeatDue: true }, "heartbeat"],
    ["a heartbeat that renews claims", file(), file(), { heartbeatDue: true, renewsClaims: true }, "urgent"],
    ["a claim", file(), file({ tasks: { x: task("assigned") } }), {}, "urgent"],
    ["a failure", file({ tasks: { x: task("in_progress") } }), file({ tasks: { x: task("failed") } }), {}, "urgent"],
    ["a result another order waits on", file(), file({ tasks: { build: task("completed") } }), {}, "urgent"],
    ["a result nobody waits on", file(), file({ tasks: { x: task("completed") } }), {}, "work"],
    ["a task started", file(), file({ tasks: { x: task("in_progress") } }), {}, "work"],
    [
      "the end of a claim it holds (a result past its lease would be run again)",
      file({ tasks: { x: leased("in_progress") } }),
      file({ tasks: { x: task("completed") } }),
      {},
      "urgent",
    ],
    ["the end of a claim not yet started", file({ tasks: { x: leased("assigned") } }), file({ tasks: { x: task("cancelled") } }), {}, "urgent"],
    ["a claimed task started", file({ tasks: { x: leased("assigned") } }), file({ tasks: { x: leased("in_progress") } }), {}, "work"],
    ["a result of a named order after it started", file({ tasks: { x: task("in_progress") } }), file({ tasks: { x: task("completed") } }), {}, "work"],
    ["a new capability", file(), file({ capabilities: { os: "linux", claude: "1.0" } }), {}, "work"],
    ["a receipt", file(), file({ messages: { "b/a": { received: 3, acked: 3 } } as never }), {}, "receipts"],
    [
      "a receipt and the summary of the sync that received it",
      file({ lastRun: "2026-11-25T08:00:00.000Z: ran x (completed)" }),
      file({ lastRun: "2026-11-25T09:00:00.000Z: received 1 message", messages: { "b/a": { received: 3, acked: 0 } } as never }),
      {},
      "receipts",
    ],
    ["nothing but the summary of its last sync", file(), file({ lastRun: "2026-11-25T09:00:00.000Z: received 1 message" }), {}, undefined],
    ["a receipt and its heartbeat due", file(), file({ messages: { "b/a": { received: 3, acked: 3 } } as never }), { heartbeatDue: true }, "heartbeat"],
    ["an urgent message", file(), file(), { messages: "urgent" }, "urgent"],
    ["a message", file(), file(), { messages: "work" }, "work"],
  ])("%s: %s", (_what, previous, mine, over, expected) => expect(pushClassOf(previous, mine, { ...ctx, ...over })).toBe(expected));

  it.each<[string, ComputerFile, ComputerFile, ComputerFile]>([
    [
      "what it read, its lastSeen, heartbeat and summary stay as the hub has them",
      file({ lastRun: "2026-11-25T08:00:00.000Z: ran x (completed)" }),
      file({ orders: { seen: "2222", valid: true }, lastSeen: "2026-11-25T09:05:00.000Z", heartbeat: 480, lastRun: "2026-11-25T09:05:00.000Z: ran y (completed)" }),
      file({ lastRun: "2026-11-25T08:00:00.000Z: ran x (completed)" }),
    ],
    ["a summary the hub has none of waits too", file(), file({ lastRun: "2026-11-25T09:05:00.000Z: ran y (completed)" }), file()],
    [
      "everything else is its own",
      file(),
      file({ state: "working", capabilities: { os: "linux", claude: "1.0" }, tasks: { x: task("completed") } }),
      file({ state: "working", capabilities: { os: "linux", claude: "1.0" }, tasks: { x: task("completed") } }),
    ],
  ])("riding along: %s", (_what, previous, mine, expected) => {
    const published = ridingAlong(mine, previous);
    expect(published).toEqual(expected);
    expect(pushClassOf(previous, published, ctx)).toBe(pushClassOf(previous, mine, ctx));
  });

  const heard = (minutesAgo: number, heartbeat = 60) => ({ lastSeen: new Date(NOW - minutesAgo * 60_000).toISOString(), heartbeat });
  it("counts the machines not offline, itself included", () => {
    const computers = new Map([
      ["a", heard(1)],
      ["b", heard(2)],
      ["c", heard(10)], // offline: 3 heartbeats missed
    ]);
    expect(machinesCounted("a", computers, new Date(NOW))).toBe(2);
    expect(machinesCounted("new", computers, new Date(NOW))).toBe(3);
    expect(machinesCounted("c", computers, new Date(NOW))).toBe(3);
  });
});

describe("the fleet's budget in STATUS", () => {
  it.each<[number, number, string]>([
    [6, 24, "6 pushes a minute shared by 24 machines: heartbeats every 8 min or longer"],
    [6, 40, "6 pushes a minute shared by 40 machines: heartbeats every 13 min or longer"],
    [6, 1000, "6 pushes a minute shared by 1000 machines: heartbeats every 5 h 33 min or longer"],
    [1, 1, "1 push a minute shared by 1 machine: heartbeats every 2 min or longer"],
    [100_000, 3, "100000 pushes a minute shared by 3 machines: heartbeats every 1 s or longer"],
  ])("%d a minute, %d machines: %s", (budget, machines, text) => expect(describeBudget(fleetBudget(budget, machines))).toBe(text));
});

describe("the push budget not set: the host's, named only when it is the reader's (issue 65)", () => {
  const byHost = fleetBudget(6, 2, {});
  it.each([
    ["STATUS.md (no host known): every host's, none named for the heartbeats", undefined, /a hub on a path: none\); at 6 a minute, shared by 2 machines: heartbeats every /],
    [
      "a hub on a path: no budget, and no GitHub",
      { kind: "local", host: "/srv/fleet.git" },
      /^not set, and a hub on a path has none: heartbeats are as each machine's setting says$/,
    ],
    [
      "github.com: its figure",
      { kind: "github", host: "github.com", pushesPerMinute: 6 },
      /^not set, so each machine takes its host's: on github\.com, 6 pushes a minute shared by 2 machines/,
    ],
    [
      "gitlab.com: its figure",
      { kind: "gitlab", host: "gitlab.com", pushesPerMinute: 60 },
      /^not set, so each machine takes its host's: on gitlab\.com, 60 pushes a minute shared by 2 machines/,
    ],
  ])("%s", (_, host, want) => {
    const text = describeBudget(byHost, host);
    expect(text).toMatch(want);
    expect(text).not.toContain("at GitHub's");
    if (host && host.kind !== "github") expect(text).not.toMatch(/github/i);
  });
});
