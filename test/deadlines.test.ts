// Each time rule owns its next deadline (issue 32): beside its predicate, a rule says when its answer next
// changes, and the quiet stamp and the daemon's wake-up take the earliest (core/machine/quiet.ts). The property: the
// answer does not change before the deadline, and does at it; no deadline: it never changes by the clock alone.
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { heardWithin, heardWithinUntil, type Observation } from "../src/core/time/clock.js";
import { claimLeases, claimsLiveUntil, heartbeatDue, heartbeatDueAt, leaseLive, leaseLiveUntil } from "../src/core/work/claims.js";
import { liveMessages, liveMessagesUntil, type MessageFile, type Receipts } from "../src/core/messages/messages.js";
import { notBeforeEndsAt, preferredHeard, preferredHeardUntil, retryDue, retryDueAt, waitsForNotBefore } from "../src/core/machine/plan.js";
import { isOffline, offlineChangesAt } from "../src/core/fleet/presence.js";
import { reportKept, reportKeptUntil } from "../src/core/machine/publish.js";
import { MAX_QUIET_MS, type QuietInput, quietUntil } from "../src/core/machine/quiet.js";
import type { RepoModel } from "../src/core/repo/repo.js";
import { isLive, liveUntil } from "../src/core/fleet/reservations.js";
import { computerFile, fuzzRuns } from "./fixtures.js";
import type { Order } from "../src/core/orders/orders-schema.js";
import type { ComputerFile, TaskReport } from "../src/core/fleet/computer.js";

/** How many random cases each property tries (fixtures.ts fuzzRuns). */
const RUNS = fuzzRuns(400);
const T0 = Date.parse("2026-11-25T12:00:00.000Z");
const HOUR = 3_600_000;

/** A rule's answer at every instant from `now` to `deadline` (exclusive), sampled, and at the deadline. */
function holdsUntil<A>(answer: (at: number) => A, now: number, deadline: number | undefined, samples: number[]): void {
  const first = answer(now);
  const end = deadline ?? now + 30 * 86_400_000;
  for (const f of samples) {
    const at = now + Math.floor((end - now) * f);
    // expect only on a change: an expect per sample cost more than the rules under test.
    if (at < end && !isDeepStrictEqual(answer(at), first)) expect(answer(at), `at ${new Date(at).toISOString()}`).toEqual(first);
  }
  if (deadline === undefined) return;
  // The same at the deadline: checked plainly, through expect only when a check fails. Whether an answer that is an
  // object (a list) changed, expect's equality says, not node's.
  const after = answer(deadline);
  const changed = typeof after === "object" && after !== null ? undefined : !Object.is(after, first);
  if (deadline > now && changed && isDeepStrictEqual(answer(deadline - 1), first)) return;
  expect(deadline).toBeGreaterThan(now);
  expect(answer(deadline - 1)).toEqual(first);
  expect(after).not.toEqual(first);
}

const lastSeen = fc.integer({ min: T0 - 3 * HOUR, max: T0 + 3 * HOUR }).map((t) => new Date(t).toISOString());
const observation = fc.option(fc.record({ at: fc.integer({ min: T0 - 3 * HOUR, max: T0 }), same: fc.boolean() }), { nil: undefined });
const samples = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 5, maxLength: 12 });
const time = (days: number) => fc.integer({ min: T0 - days * 86_400_000, max: T0 + days * 86_400_000 });
const iso = (days: number) => time(days).map((t) => new Date(t).toISOString());
const order = (over: Partial<Order>): Order =>
  ({ id: "x", to: "ANY", run: "true", rev: 1, after: [], requires: [], env: {}, retries: 0, priority: "normal", cancelled: false, ...over }) as Order;

describe("each time rule says when its answer next changes", () => {
  it("heardWithin and leaseLive: not before the deadline, and at it", () => {
    fc.assert(
      fc.property(
        lastSeen,
        fc.double({ min: 0.5, max: 7200, noNaN: true }),
        fc.integer({ min: T0 - HOUR, max: T0 + HOUR }),
        observation,
        samples,
        (seen, seconds, now, obs, fs) => {
          const observed: Observation | undefined = obs && { lastSeen: obs.same ? seen : "2000-01-01T00:00:00.000Z", at: Math.min(obs.at, now) };
          holdsUntil((at) => heardWithin(seen, seconds, new Date(at), observed), now, heardWithinUntil(seen, seconds, new Date(now), observed), fs);
          holdsUntil((at) => leaseLive(seen, seconds, new Date(at), observed), now, leaseLiveUntil(seen, seconds, new Date(now), observed), fs);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("every claim of a machine at each lease it is judged by, and failover to the next preferred machine: not before the deadline, and at it", () => {
    fc.assert(
      fc.property(
        lastSeen,
        fc.array(fc.option(fc.integer({ min: 3, max: 7200 }), { nil: undefined }), { maxLength: 4 }),
        fc.integer({ min: 3, max: 7200 }),
        fc.option(fc.integer({ min: 1, max: 7200 }), { nil: undefined }),
        fc.double({ min: 0.2, max: 86_400, noNaN: true }),
        fc.integer({ min: T0 - HOUR, max: T0 + HOUR }),
        observation,
        samples,
        (seen, leases, lease, failoverAfter, heartbeat, now, obs, fs) => {
          const observed: Observation | undefined = obs && { lastSeen: obs.same ? seen : "2000-01-01T00:00:00.000Z", at: Math.min(obs.at, now) };
          const holder = { lastSeen: seen, heartbeat, tasks: Object.fromEntries(leases.map((l, i) => [`t${i}`, l === undefined ? {} : { lease: l }])) };
          const live = (at: number) => claimLeases(holder.tasks, lease).map((l) => leaseLive(seen, l, new Date(at), observed));
          holdsUntil(live, now, claimsLiveUntil(holder, lease, new Date(now), observed), fs);
          const o = failoverAfter === undefined ? {} : { failoverAfter };
          holdsUntil((at) => preferredHeard(o, holder, new Date(at), observed), now, preferredHeardUntil(o, holder, new Date(now), observed), fs);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("isOffline: not before the deadline, and at it", () => {
    fc.assert(
      fc.property(lastSeen, fc.double({ min: 0.2, max: 86_400, noNaN: true }), fc.integer({ min: T0 - HOUR, max: T0 + HOUR }), samples, (seen, heartbeat, now, fs) => {
        const m = { lastSeen: seen, heartbeat };
        holdsUntil((at) => isOffline(m, new Date(at)), now, offlineChangesAt(m, new Date(now)), fs);
      }),
      { numRuns: RUNS },
    );
  });

  it("heartbeatDue: not before the deadline, and at it", () => {
    fc.assert(
      fc.property(
        lastSeen,
        fc.double({ min: 1, max: 7200, noNaN: true }),
        fc.option(fc.integer({ min: 3, max: 3600 }), { nil: undefined }),
        fc.integer({ min: T0 - HOUR, max: T0 + HOUR }),
        samples,
        (seen, heartbeat, lease, now, fs) => {
          const due = (at: number) => heartbeatDue(seen, new Date(at), heartbeat, lease);
          // Due already: it stays due until a publish (no deadline); else it turns due at its deadline.
          if (due(now)) expect(heartbeatDueAt(seen, new Date(now), heartbeat, lease)).toBeUndefined();
          else holdsUntil(due, now, heartbeatDueAt(seen, new Date(now), heartbeat, lease), fs);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("retryDue: not before the deadline, and at it", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.option(iso(2), { nil: undefined }),
        fc.option(iso(2), { nil: undefined }),
        fc.constantFrom("exit code 1", "interrupted", undefined),
        fc.double({ min: 0, max: 7200, noNaN: true }),
        time(1),
        samples,
        (retries, attempts, finishedAt, startedAt, reason, backoff, now, fs) => {
          const o = order({ retries });
          const done: TaskReport = { rev: 1, state: "failed", attempts, ...(finishedAt ? { finishedAt } : {}), ...(startedAt ? { startedAt } : {}), ...(reason ? { reason } : {}) };
          holdsUntil((at) => retryDue(o, done, backoff, new Date(at)), now, retryDueAt(o, done, backoff, new Date(now)), fs);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("waitsForNotBefore: not before the deadline, and at it", () => {
    fc.assert(
      fc.property(fc.option(iso(3), { nil: undefined }), time(1), samples, (notBefore, now, fs) => {
        const o = order(notBefore ? { notBefore } : {});
        holdsUntil((at) => waitsForNotBefore(o, new Date(at)), now, notBeforeEndsAt(o, new Date(now)), fs);
      }),
      { numRuns: RUNS },
    );
  });

  it("a reservation's isLive: not before the deadline, and at it", () => {
    fc.assert(
      fc.property(iso(8), time(1), samples, (until, now, fs) => {
        holdsUntil((at) => isLive({ until }, new Date(at)), now, liveUntil({ until }, new Date(now)), fs);
      }),
      { numRuns: RUNS },
    );
  });

  it("liveMessages (archiving): not before the deadline, and at it", () => {
    const machines = ["a", "b", "c"];
    const receipt = fc.record({ acked: fc.integer({ min: 0, max: 6 }), also: fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 3 }) });
    fc.assert(
      fc.property(
        fc.constantFrom("b", "ALL"),
        fc.array(iso(3), { maxLength: 6 }),
        fc.option(receipt, { nil: undefined }),
        fc.option(receipt, { nil: undefined }),
        fc.double({ min: 0, max: 3 * 86_400_000, noNaN: true }),
        time(1),
        samples,
        (to, ats, rb, rc, retentionMs, now, fs) => {
          const file: MessageFile = { coord: 1, from: "a", to, next: ats.length + 1, messages: ats.map((at, i) => ({ seq: i + 1, at, priority: "normal", text: "m" })) };
          const key = `a/${to}`;
          const receipts = new Map<string, Receipts>();
          for (const [name, r] of [["b", rb] as const, ["c", rc] as const])
            if (r) receipts.set(name, { [key]: { received: 6, acked: r.acked, ...(r.also.length ? { also: r.also } : {}) } });
          const receiptsOf = (name: string) => receipts.get(name);
          holdsUntil(
            (at) => liveMessages(file, receiptsOf, machines, new Date(at), retentionMs),
            now,
            liveMessagesUntil(file, receiptsOf, machines, new Date(now), retentionMs),
            fs,
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("reportKept (a removed ANY order's report): not before the deadline, and at it", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(undefined, new Set<string>(), new Set(["x"])),
        fc.option(fc.integer({ min: 3, max: 3600 }), { nil: undefined }),
        fc.option(iso(10), { nil: undefined }),
        fc.option(iso(10), { nil: undefined }),
        time(1),
        samples,
        (known, lease, finishedAt, startedAt, now, fs) => {
          const report: TaskReport = {
            rev: 1,
            state: "completed",
            attempts: 1,
            ...(lease ? { lease } : {}),
            ...(finishedAt ? { finishedAt } : {}),
            ...(startedAt ? { startedAt } : {}),
          };
          holdsUntil((at) => reportKept("x", report, known, new Date(at)), now, reportKeptUntil("x", report, known, new Date(now)), fs);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("a lastSeen that is no time never changes", () => {
    expect(offlineChangesAt({ lastSeen: "yesterday", heartbeat: 60 }, new Date(T0))).toBeUndefined();
    expect(heardWithinUntil("yesterday", 60, new Date(T0))).toBeUndefined();
  });
});

// The wiring: quietUntil asks each rule. Each case is a fleet where one rule's deadline comes first (within the
// hour a stamp holds at most); the stamp must end exactly there, so a rule left out of quiet.ts fails its case.
describe("the quiet stamp ends at the earliest rule's deadline", () => {
  const now = new Date(T0 + 1000);
  const at = (ms: number) => new Date(T0 + ms).toISOString();
  const MIN = 60_000;
  // Every other time of the base fleet is hours away: heartbeats of a day, claims of two hours.
  const machine = (name: string, over: Partial<ComputerFile> = {}) => computerFile(name, { lastSeen: at(0), heartbeat: 86_400, ...over });
  const quiet = (over: {
    a?: Partial<ComputerFile>;
    b?: Partial<ComputerFile>;
    orders?: Order[];
    journal?: Record<string, TaskReport>;
    messages?: MessageFile[];
    heartbeat?: number;
  }) => {
    const computers = new Map([
      ["a", machine("a", over.a)],
      ["b", machine("b", over.b)],
    ]);
    const model = { orders: { version: 1, orders: over.orders ?? [] }, computers, machineNames: ["a", "b"], messageFiles: over.messages ?? [] } as unknown as RepoModel;
    const input: QuietInput = {
      now,
      me: "a",
      model,
      journal: over.journal ?? {},
      observed: new Map(),
      heartbeat: over.heartbeat ?? 86_400,
      claimLease: 7200,
      retryBackoff: 60,
      messageRetention: 86_400,
    };
    return { until: quietUntil(input), model, computers };
  };
  const failed: TaskReport = { rev: 1, state: "failed", attempts: 1, startedAt: at(0), finishedAt: at(0) };
  const message = (seq: number, sent: number) => ({ seq, at: at(sent), priority: "normal" as const, text: "hello" });

  const cases: [string, () => { until: number | undefined; rule: number | undefined }][] = [
    ["its own heartbeat", () => ({ until: quiet({ heartbeat: 600 }).until, rule: heartbeatDueAt(at(0), now, 600) })],
    [
      "its own reservation expires",
      () => {
        const r = { id: 1, paths: ["src/**"], at: at(0), until: at(20 * MIN) };
        return { until: quiet({ a: { reservations: [r] } as Partial<ComputerFile> }).until, rule: liveUntil(r, now) };
      },
    ],
    ["another machine turns offline", () => ({ until: quiet({ b: { heartbeat: 300 } }).until, rule: offlineChangesAt({ lastSeen: at(0), heartbeat: 300 }, now) })],
    [
      "another machine's claim expires at its own lease",
      () => {
        const b = { tasks: { job: { rev: 1, state: "in_progress" as const, attempts: 1, lease: 1200 } } };
        return { until: quiet({ b }).until, rule: claimsLiveUntil({ lastSeen: at(0), ...b }, 7200, now) };
      },
    ],
    [
      "the preferred machine counts as gone",
      () => {
        const o = order({ prefer: ["b", "a"], failoverAfter: 1500 });
        return { until: quiet({ orders: [o] }).until, rule: preferredHeardUntil(o, { lastSeen: at(0), heartbeat: 86_400 }, now) };
      },
    ],
    [
      "an order's notBefore",
      () => {
        const o = order({ to: "a", notBefore: at(25 * MIN) });
        return { until: quiet({ orders: [o] }).until, rule: notBeforeEndsAt(o, now) };
      },
    ],
    [
      "its own retry",
      () => {
        const o = order({ to: "a", retries: 2 });
        return { until: quiet({ orders: [o], journal: { x: failed } }).until, rule: retryDueAt(o, failed, 60, now) };
      },
    ],
    [
      "another machine's failed try of an ANY order",
      () => {
        const o = order({ retries: 2 });
        return { until: quiet({ orders: [o], b: { tasks: { x: failed } } }).until, rule: retryDueAt(o, failed, 60, now) };
      },
    ],
    [
      "its report of a removed ANY order leaves its file",
      () => {
        const gone: TaskReport = { rev: 1, state: "completed", attempts: 1, lease: 600, finishedAt: at(-7 * 86_400_000 + 30 * MIN) };
        return { until: quiet({ journal: { gone } }).until, rule: reportKeptUntil("gone", gone, new Set(), now) };
      },
    ],
    [
      "its acknowledged message is archived",
      () => {
        const file: MessageFile = { coord: 1, from: "a", to: "b", next: 3, messages: [message(1, -86_400_000 + 40 * MIN), message(2, -86_400_000 + 10 * MIN)] };
        const b = { messages: { "a/b": { received: 2, acked: 1 } } };
        const { until, computers } = quiet({ b, messages: [file] });
        return { until, rule: liveMessagesUntil(file, (name) => computers.get(name)?.messages, ["a", "b"], now, 86_400_000) };
      },
    ],
  ];

  it("with nothing due, an hour", () => {
    expect(quiet({}).until).toBe(now.getTime() + MAX_QUIET_MS);
  });

  for (const [name, run] of cases)
    it(name, () => {
      const { until, rule } = run();
      expect(rule).toBeGreaterThan(now.getTime());
      expect(rule).toBeLessThan(now.getTime() + MAX_QUIET_MS);
      expect(until).toBe(rule);
    });
});
