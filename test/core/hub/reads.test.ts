import { describe, expect, it } from "vitest";
import {
  budgetsOf,
  describeReadShare,
  hostBudgetOf,
  hostOfUrl,
  hubBudgetOf,
  MIN_LOOK_MS,
  moveSpreadOf,
  nextLookAt,
  EAGER_LOOK_MS,
  pushBudgetOf,
  READ_CAPACITY,
  readShareOf,
  refillReads,
  spendReads,
} from "../../../src/core/hub/reads.js";
import { MAX_PUSHES_PER_MINUTE } from "../../../src/core/budget/budget.js";

describe("the host a hub's URL names", () => {
  it.each([
    ["/srv/fleet.git", "local", "/srv/fleet.git"],
    ["../fleet.git", "local", "../fleet.git"],
    ["fleet.git", "local", "fleet.git"],
    ["file:///srv/fleet.git", "local", "file:///srv/fleet.git"],
    ["C:/fleet.git", "local", "C:/fleet.git"],
    ["git@github.com:acme/fleet.git", "github", "github.com"],
    ["ssh://git@github.com/acme/fleet.git", "github", "github.com"],
    ["https://x-token@GitHub.com/acme/fleet.git", "github", "github.com"],
    ["ssh://git@ssh.github.com:443/acme/fleet.git", "github", "ssh.github.com"],
    ["git@gitlab.com:group/fleet.git", "gitlab", "gitlab.com"],
    ["https://gitlab.com/group/fleet.git", "gitlab", "gitlab.com"],
    ["git://127.0.0.1:9418/fleet.git", "other", "127.0.0.1"],
    ["gitolite@git.example.org:fleet", "other", "git.example.org"],
    ["https://[::1]:8080/fleet.git", "other", "::1"],
    ["https://notgithub.com/acme/fleet.git", "other", "notgithub.com"],
  ])("%s: %s (%s)", (url, kind, host) => {
    expect(hostOfUrl(url)).toEqual({ kind, host });
  });

  it("a hub on a path has no budget; github.com has GitHub's; any other host a conservative one", () => {
    const local = hostBudgetOf("/srv/fleet.git");
    expect(local.kind).toBe("local");
    expect(local.pushesPerMinute).toBeUndefined();
    expect(local.readsPerSecond).toBeUndefined();
    expect(hostBudgetOf("git@github.com:a/b.git")).toMatchObject({ pushesPerMinute: 6, readsPerSecond: 15 });
    expect(hostBudgetOf("git@gitlab.com:a/b.git")).toMatchObject({ pushesPerMinute: 60, readsPerSecond: 10 });
    expect(hostBudgetOf("git://10.0.0.1/b.git")).toMatchObject({ pushesPerMinute: 6, readsPerSecond: 2 });
  });
});

describe("ORDERS.json's budgets win over the host's", () => {
  it.each([
    [{}, {}],
    [{ hub: { pushesPerMinute: 30 } }, { pushesPerMinute: 30 }],
    [{ hub: { readsPerSecond: 5 } }, { readsPerSecond: 5 }],
    [{ hub: { pushesPerMinute: 0, readsPerSecond: -1 } }, {}],
    [{ hub: { pushesPerMinute: "6", readsPerSecond: Number.NaN } }, {}],
    [{ hub: [] }, {}],
  ])("%j reads as %j", (data, set) => {
    expect(hubBudgetOf(data)).toEqual(set);
  });

  it("unset on a path: no budget (pushes at the largest budget people may set); set: ORDERS.json's", () => {
    const local = hostBudgetOf("/srv/fleet.git");
    const none = budgetsOf({}, local);
    expect(none.pushesPerMinute).toBeUndefined();
    expect(pushBudgetOf(none)).toBe(MAX_PUSHES_PER_MINUTE);
    const set = budgetsOf({ pushesPerMinute: 12, readsPerSecond: 3 }, local);
    expect(set).toMatchObject({ pushesPerMinute: 12, readsPerSecond: 3, pushesFrom: "ORDERS.json", readsFrom: "ORDERS.json" });
    expect(budgetsOf({}, hostBudgetOf("git@github.com:a/b.git"))).toMatchObject({ pushesPerMinute: 6, readsPerSecond: 15, readsFrom: "GitHub's recommendation" });
  });
});

describe("each machine's share of the reads", () => {
  it.each([
    // GitHub's 15 reads a second, 80 % for the machines: 3 look every second (the floor), 30 every 2.5 s, 1,000 every 83.4 s.
    [15, 3, 1000],
    [15, 12, 1000],
    [15, 30, 2500],
    [15, 1000, 83334],
    [2, 5, 3125],
    [undefined, 50, 1000],
  ])("%s reads a second, %i machines: a look every %i ms", (budget, machines, every) => {
    const s = readShareOf(budget, machines);
    expect(s.lookEveryMs).toBe(every);
    expect(s.lookEveryMs).toBeGreaterThanOrEqual(MIN_LOOK_MS);
  });

  it("the fleet's looks stay within 80 % of the budget, whatever its size", () => {
    for (const n of [1, 2, 3, 7, 12, 30, 99, 1000, 5000])
      for (const budget of [0.5, 2, 10, 15]) {
        const s = readShareOf(budget, n);
        expect((n * 1000) / s.lookEveryMs).toBeLessThanOrEqual(budget * 0.8 + 1e-9);
      }
  });

  it.each([
    [15, 3, 500],
    [15, 12, 1000],
    [15, 30, 2500],
    [2, 1, 625],
    [undefined, 3, 500],
  ])("an eager machine (on call, or waiting for a reply): %s reads a second, %i machines, a look every %i ms", (budget, machines, every) => {
    const s = readShareOf(budget, machines, true);
    expect(s.lookEveryMs).toBe(every);
    expect(s.lookEveryMs).toBeGreaterThanOrEqual(EAGER_LOOK_MS);
    // Never more than its equal share: the whole fleet eager still stays within 80 % of the budget.
    if (budget !== undefined) expect((machines * 1000) / s.lookEveryMs).toBeLessThanOrEqual(budget * 0.8 + 1e-9);
  });

  it.each([
    [1, 0],
    [2, 250],
    [3, 500],
    [5, 1000],
    [30, 2000],
  ])("a move's sync in a fleet of %i is spread over %i ms", (machines, ms) => {
    expect(moveSpreadOf(machines)).toBe(ms);
  });

  it("says itself in words", () => {
    expect(describeReadShare(readShareOf(15, 30))).toBe("a look every 2.5 s (15 reads a second shared by 30 machines, 80 % of them)");
    expect(describeReadShare(readShareOf(undefined, 3))).toMatch(/a look every 1 s \(no read budget/);
  });
});

describe("the read bucket", () => {
  const share = readShareOf(15, 30); // 0.4 reads a second
  it("starts full, spends one a look, refills at the share's rate, never above its capacity", () => {
    expect(refillReads(undefined, 0, share)).toEqual({ tokens: READ_CAPACITY, at: 0 });
    const after = spendReads(undefined, 0, share);
    expect(after.tokens).toBe(READ_CAPACITY - 1);
    expect(refillReads(after, 2500, share).tokens).toBeCloseTo(READ_CAPACITY, 6);
    expect(refillReads(after, 60_000, share).tokens).toBe(READ_CAPACITY);
  });

  it("a look after a move (a look and a fetch) puts the next look later than a look alone", () => {
    const looked = spendReads(undefined, 0, share, 1);
    const moved = spendReads(spendReads(looked, 0, share, 1), 0, share, 1);
    expect(nextLookAt(looked, 0, share, 0)).toBe(2500);
    expect(nextLookAt(moved, 0, share, 0)).toBeGreaterThan(2500);
    expect(nextLookAt(moved, 0, share, 0)).toBe(5000); // 0 tokens: one whole read at 0.4 a second
  });

  it("a debt (a scheduled sync read anyway) is floored, and repaid before the next look", () => {
    let b = spendReads(undefined, 0, share, 10);
    expect(b.tokens).toBe(-READ_CAPACITY);
    b = refillReads(b, 0, share);
    expect(nextLookAt(b, 0, share, 0)).toBe(7500); // -2 → 1: 3 reads at 0.4 a second
  });

  it("the spread is at most a tenth of the interval", () => {
    expect(nextLookAt(undefined, 1000, share, 0.999)).toBeLessThan(1000 + 2500 * 1.1);
    expect(nextLookAt(undefined, 1000, share, 0.5)).toBe(1000 + 2500 + 125);
  });
});
