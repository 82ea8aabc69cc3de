// Each time rule owns its next deadline (issue 32): beside its predicate, a rule says when its answer next
// changes, and the quiet stamp and the daemon's wake-up take the earliest (core/quiet.ts). The property: the
// answer does not change before the deadline, and does at it; no deadline: it never changes by the clock alone.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { heardWithin, heardWithinUntil, type Observation } from "../src/core/clock.js";
import { heartbeatDue, heartbeatDueAt, leaseLive, leaseLiveUntil } from "../src/core/claims.js";
import { isOffline, offlineChangesAt } from "../src/core/presence.js";

const T0 = Date.parse("2026-11-25T12:00:00.000Z");
const HOUR = 3_600_000;

/** A rule's answer at every instant from `now` to `deadline` (exclusive), sampled, and at the deadline. */
function holdsUntil<A>(answer: (at: number) => A, now: number, deadline: number | undefined, samples: number[]): void {
  const first = answer(now);
  const end = deadline ?? now + 30 * 86_400_000;
  for (const f of samples) {
    const at = now + Math.floor((end - now) * f);
    if (at < end) expect(answer(at)).toEqual(first);
  }
  if (deadline !== undefined) {
    expect(deadline).toBeGreaterThan(now);
    expect(answer(deadline - 1)).toEqual(first);
    expect(answer(deadline)).not.toEqual(first);
  }
}

const lastSeen = fc.integer({ min: T0 - 3 * HOUR, max: T0 + 3 * HOUR }).map((t) => new Date(t).toISOString());
const observation = fc.option(fc.record({ at: fc.integer({ min: T0 - 3 * HOUR, max: T0 }), same: fc.boolean() }), { nil: undefined });
const samples = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 5, maxLength: 12 });

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
      { numRuns: 400 },
    );
  });

  it("isOffline: not before the deadline, and at it", () => {
    fc.assert(
      fc.property(lastSeen, fc.double({ min: 0.2, max: 86_400, noNaN: true }), fc.integer({ min: T0 - HOUR, max: T0 + HOUR }), samples, (seen, heartbeat, now, fs) => {
        const m = { lastSeen: seen, heartbeat };
        holdsUntil((at) => isOffline(m, new Date(at)), now, offlineChangesAt(m, new Date(now)), fs);
      }),
      { numRuns: 400 },
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
      { numRuns: 400 },
    );
  });

  it("a lastSeen that is no time never changes", () => {
    expect(offlineChangesAt({ lastSeen: "yesterday", heartbeat: 60 }, new Date(T0))).toBeUndefined();
    expect(heardWithinUntil("yesterday", 60, new Date(T0))).toBeUndefined();
  });
});
