// The one backoff (src/core/time/backoff.ts) and the documented numbers of each
// wait built on it: rejected pushes, retries of failed tasks, scheduled syncs
// after failures.
import { describe, expect, it } from "vitest";
import { backingOff, backoffDelay, contentionDelay, PUSH_BACKOFF } from "../src/core/time/backoff.js";
import { MAX_RETRY_DELAY, retryAt } from "../src/core/machine/plan.js";
import { backoffUntil } from "../src/state/health.js";
import { publishWithRetry } from "../src/sync/cas.js";
import type { Order } from "../src/core/orders/orders-schema.js";

describe("contentionDelay: the wait after a rejected push", () => {
  const push = PUSH_BACKOFF;
  it.each([
    // attempt, one try's ms, random, wait
    [1, 300, 1, 0], // the first three losses are redone at once (steady traffic: waiting only falls behind)
    [2, 300, 1, 0],
    [3, 300, 1, 0], // (a burst of 4: the last lands on its 4th try, test/cas-race.test.ts)
    [4, 0, 1, 50], // then the base when a try is quick
    [5, 0, 1, 100],
    [4, 300, 1, 300], // at least one try's duration: losers spread over the time the winners' tries take
    [5, 300, 1, 600], // at most 2 tries' worth
    [9, 300, 1, 600],
    [9, 800, 1, 1600],
    [9, 1500, 1, 2000], // and at most 2 s
    [4, 300, 0, 0], // full jitter: anywhere from 0
    [5, 300, 0.25, 150],
    [2 ** 31 - 1, 300, 1, 600], // a growth past what a number holds is the cap
    [5, Number.NaN, 1, 100], // a duration that is no number counts as none
  ])("attempt %i after a try of %i ms, random %f: %i ms", (attempt, tryMs, r, wait) => {
    expect(contentionDelay(attempt, tryMs, push, () => r)).toBe(wait);
  });
  it("is spread evenly: the mean of many draws is half the bound", () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647; // a fixed sequence (Park–Miller), so the test is the same every run
      return (seed - 1) / 2147483646;
    };
    const waits = Array.from({ length: 2000 }, () => contentionDelay(5, 400, push, random));
    const mean = waits.reduce((a, b) => a + b, 0) / waits.length;
    expect(mean).toBeGreaterThan(350);
    expect(mean).toBeLessThan(450);
    expect(Math.max(...waits)).toBeLessThanOrEqual(800);
  });
});

describe("backoffDelay", () => {
  const plain = { baseMs: 100, maxMs: 1000 };
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1000],
    [40, 1000],
    [2 ** 31 - 1, 1000], // a growth past what a number holds is the cap, never Infinity or NaN
    [0, 100],
    [-3, 100],
  ])("attempt %i waits %i ms (capped doubling)", (attempt, ms) => {
    expect(backoffDelay(attempt, plain)).toBe(ms);
  });

  it.each([
    [{ baseMs: 0, maxMs: 1000 }, 7, 0],
    [{ baseMs: 100, maxMs: 1000, factor: 3 }, 3, 900],
    [{ baseMs: 100, maxMs: 1000, factor: 1 }, 9, 100],
  ])("%j at attempt %i waits %i ms", (b, attempt, ms) => {
    expect(backoffDelay(attempt, b)).toBe(ms);
  });

  it.each([
    [0, 0.5],
    [0.5, 1],
    [0.999, 1.499],
  ])("jitter 0.5 with random %f multiplies by %f", (r, k) => {
    expect(backoffDelay(3, { ...plain, jitter: 0.5 }, () => r)).toBeCloseTo(400 * k, 6);
  });

  it("a rejected push is redone at once three times, then waits up to one try (at least 50 ms) · 2ⁿ, at most 2 tries and 2 s (protocol.md, One sync step 8)", () => {
    // [attempt, the bound of the wait after a quick try (10 ms), after a try of 300 ms, of 800 ms, of 1.5 s]
    const table = [1, 2, 3, 4, 5, 6, 7, 10].map((n) => [n, ...[10, 300, 800, 1500].map((tryMs) => contentionDelay(n, tryMs, PUSH_BACKOFF, () => 1))]);
    expect(table).toEqual([
      [1, 0, 0, 0, 0],
      [2, 0, 0, 0, 0],
      [3, 0, 0, 0, 0],
      [4, 50, 300, 800, 1500],
      [5, 100, 600, 1600, 2000],
      [6, 100, 600, 1600, 2000],
      [7, 100, 600, 1600, 2000],
      [10, 100, 600, 1600, 2000],
    ]);
    expect([4, 5, 6].map((n) => contentionDelay(n, 300, PUSH_BACKOFF, () => 0))).toEqual([0, 0, 0]); // full jitter: from 0
  });
});

describe("the waits built on it", () => {
  const finishedAt = "2026-11-22T10:00:00.000Z";
  const order = { id: "a", to: "ANY", rev: 1, after: [], requires: [], env: {}, retries: 100, priority: "normal", cancelled: false } as Order;
  const waitAfter = (attempts: number, reason = "exit code 1") =>
    (retryAt(order, { rev: 1, state: "failed", attempts, finishedAt, reason }, 30)!.getTime() - Date.parse(finishedAt)) / 1000;

  it("a failed task is retried after retryBackoff (30 s), doubling, at most a day; an interrupted one at once", () => {
    expect([1, 2, 3, 4, 12, 13, 100].map((n) => waitAfter(n))).toEqual([30, 60, 120, 240, 61_440, MAX_RETRY_DELAY, MAX_RETRY_DELAY]);
    expect(waitAfter(3, "interrupted")).toBe(0);
    expect(retryAt({ ...order, retries: 1 }, { rev: 1, state: "failed", attempts: 2, finishedAt }, 30)).toBeUndefined();
  });

  it("a scheduled sync after failures skips failureBackoff (60 s) · 2^(failures − 1), at most 5 minutes", () => {
    const now = new Date(finishedAt);
    const skip = (failures: number) => (backoffUntil({ failures, lastFailureAt: finishedAt }, 60, now)!.getTime() - now.getTime()) / 1000;
    expect([1, 2, 3, 4, 7, 2 ** 31 - 1].map(skip)).toEqual([60, 120, 240, 300, 300, 300]);
  });
});

describe("publishWithRetry: the one compare-and-swap loop (sync, order --human, watch)", () => {
  /** A remote that rejects the first `rejections` pushes; the clock moves only by the waits (and `pushMs` per push). */
  function run(rejections: number, budgetMs = 60_000, nothingAt?: number, pushMs = 0) {
    const calls: string[] = [];
    const waits: number[] = [];
    let clock = 0;
    const result = publishWithRetry<string>(
      {
        attempt: async (n) => {
          calls.push(`build ${n}`);
          if (n === nothingAt) return { done: "nothing to change" };
          return { commit: `c${n}`, landed: async () => `landed c${n}` };
        },
        push: async (commit) => {
          clock += pushMs;
          calls.push(`push ${commit}`);
          return calls.filter((c) => c.startsWith("push")).length > rejections;
        },
        rejected: (n) => calls.push(`rejected ${n}`),
        gaveUp: (n, ms) => new Error(`gave up after ${n} in ${ms} ms`),
      },
      {
        budgetMs,
        sleep: async (ms) => {
          clock += ms;
          waits.push(ms);
        },
        random: () => 1, // the top of each wait's range (contentionDelay draws uniformly below it)
        now: () => clock,
      },
    );
    return { result, calls, waits };
  }

  it("a push that lands at once: built once, pushed once, no wait", async () => {
    const r = run(0);
    expect(await r.result).toBe("landed c1");
    expect(r.calls).toEqual(["build 1", "push c1"]);
    expect(r.waits).toEqual([]);
  });

  it("prepares what comes after a landed push while git pushes, and uses it only when the push landed", async () => {
    const calls: string[] = [];
    const result = await publishWithRetry<string>(
      {
        attempt: async (n) => ({
          commit: `c${n}`,
          meanwhile: () => calls.push(`meanwhile c${n}`),
          landed: async () => {
            calls.push(`landed c${n}`);
            return `landed c${n}`;
          },
        }),
        push: (commit) => {
          calls.push(`push ${commit} started`);
          return Promise.resolve(commit === "c2");
        },
        gaveUp: (n) => new Error(`gave up after ${n}`),
      },
      { budgetMs: 60_000, sleep: async () => {}, now: () => 0 },
    );
    expect(result).toBe("landed c2");
    expect(calls).toEqual(["push c1 started", "meanwhile c1", "push c2 started", "meanwhile c2", "landed c2"]);
  });

  it("rejected pushes are rebuilt on the new tip after the push backoff", async () => {
    const r = run(4);
    expect(await r.result).toBe("landed c5");
    expect(r.calls).toEqual([
      "build 1",
      "push c1",
      "rejected 1",
      "build 2",
      "push c2",
      "rejected 2",
      "build 3",
      "push c3",
      "rejected 3",
      "build 4",
      "push c4",
      "rejected 4",
      "build 5",
      "push c5",
    ]);
    expect(r.waits).toEqual([0, 0, 0, 50]); // three at once, then the backoff
  });

  it("nothing to change on the new tip: no push, the outcome as it is", async () => {
    const r = run(5, 60_000, 2);
    expect(await r.result).toBe("nothing to change");
    expect(r.calls).toEqual(["build 1", "push c1", "rejected 1", "build 2"]);
  });

  it("gives up when the next wait would end past the budget, without waiting after the last rejected push", async () => {
    const r = run(99, 200);
    // waits 0, 0, 0, 50, 100 (150 in all); a sixth push's wait of 100 would end at 250
    await expect(r.result).rejects.toThrow("gave up after 6 in 150 ms");
    expect(r.calls.filter((c) => c.startsWith("push"))).toHaveLength(6);
    expect(r.waits).toEqual([0, 0, 0, 50, 100]);
  });

  it("keeps trying as long as the budget lasts, not a count: 30 lost races in a row still land", async () => {
    const r = run(30, 60_000);
    expect(await r.result).toBe("landed c31");
    expect(r.waits).toHaveLength(30);
    expect(r.waits.slice(-1)).toEqual([100]); // the wait stops growing at 2 tries' worth (tries here take no time: 2 × the 50 ms base)
  });

  /** A first try built on a tip read earlier (stale), whose push throws `error`; every later push lands. */
  function staleFirst(stale: boolean) {
    const waits: number[] = [];
    const result = publishWithRetry<string>(
      {
        attempt: async (n) => ({ commit: `c${n}`, landed: async () => `landed c${n}` }),
        push: async (commit) => {
          if (commit === "c1") throw new Error("could not reach the remote");
          return true;
        },
        stale: (n) => stale && n === 1,
        gaveUp: (n) => new Error(`gave up after ${n}`),
      },
      { budgetMs: 60_000, sleep: async (ms) => void waits.push(ms), random: () => 1, now: () => 0 },
    );
    return { result, waits };
  }

  it("a push of a try built on an old tip that fails counts as rejected: the next try (which fetches) comes at once", async () => {
    const r = staleFirst(true);
    expect(await r.result).toBe("landed c2");
    expect(r.waits).toEqual([0]);
  });

  it("a push of a try built on a fresh tip that fails is the publish's failure", async () => {
    await expect(staleFirst(false).result).rejects.toThrow("could not reach the remote");
  });

  it("with a turn (a hub on this machine's disk): each try is built and pushed inside it, released even when a try fails; the try sees the turn's tip", async () => {
    const calls: string[] = [];
    let turns = 0;
    const steps = (failAt?: number) => ({
      exclusive: async () => {
        const n = ++turns;
        calls.push(`turn ${n}`);
        return { tip: `tip${n}`, release: async () => void calls.push(`release ${n}`) };
      },
      attempt: async (n: number, turn?: { tip?: string }) => {
        calls.push(`build ${n} on ${turn?.tip}`);
        if (n === failAt) throw new Error("the fetch failed");
        return { commit: `c${n}`, landed: async () => `landed c${n}` };
      },
      push: async (commit: string) => {
        calls.push(`push ${commit}`);
        return commit === "c2";
      },
      gaveUp: (n: number) => new Error(`gave up after ${n}`),
    });
    expect(await publishWithRetry<string>(steps(), { budgetMs: 60_000, sleep: async () => {}, now: () => 0 })).toBe("landed c2");
    expect(calls).toEqual(["turn 1", "build 1 on tip1", "push c1", "release 1", "turn 2", "build 2 on tip2", "push c2", "release 2"]);
    calls.length = 0;
    turns = 0;
    await expect(publishWithRetry<string>(steps(1), { budgetMs: 60_000, sleep: async () => {}, now: () => 0 })).rejects.toThrow("the fetch failed");
    expect(calls).toEqual(["turn 1", "build 1 on tip1", "release 1"]);
  });

  it("the budget counts the time pushes take too", async () => {
    const r = run(99, 10_000, undefined, 1_000);
    await expect(r.result).rejects.toThrow(/gave up after \d+ in \d+ ms/);
    const pushes = r.calls.filter((c) => c.startsWith("push")).length;
    expect(pushes).toBeGreaterThan(2);
    expect(pushes).toBeLessThan(10); // 1 s a push: far fewer than without
  });
});

describe("backingOff: what a scheduled sync in its backoff says", () => {
  const now = new Date("2026-03-01T12:00:00.000Z");
  it.each([
    [1, "2026-03-01T12:01:00.000Z", "backing off after 1 failed sync until 2026-03-01T12:01:00.000Z"],
    [3, "2026-03-01T12:04:00.000Z", "backing off after 3 failed syncs until 2026-03-01T12:04:00.000Z"],
    // The probe of the hub took longer than what was left: a time already past is not named.
    [1, "2026-03-01T11:59:59.000Z", "backing off after 1 failed sync; it tries again at the next tick"],
    [2, "2026-03-01T12:00:00.000Z", "backing off after 2 failed syncs; it tries again at the next tick"],
  ])("%i failures, until %s", (failures, until, said) => {
    expect(backingOff({ failures, until }, now)).toBe(said);
  });
});
