// The bounded history of the machines' branch (src/core/hub/status-history.ts): the limit ORDERS.json sets, the
// mark each machine commit carries, and when a publish replaces the branch with a new root.
import { describe, expect, it } from "vitest";
import { DEFAULT_HISTORY, describeHistoryLimit, historyLimitOf, historyTrailer, keptHistoryRef, nextHistory, parseHistoryTrailer } from "../../../src/core/hub/status-history.js";
import { parseOrders } from "../../../src/core/orders/orders.js";

const T = new Date("2026-11-25T12:00:00.000Z");
const ago = (s: number) => new Date(T.getTime() - s * 1000);

describe("historyLimitOf: ORDERS.json's hub.statusHistory", () => {
  it.each([
    ["nothing said", {}, DEFAULT_HISTORY],
    ["a count of commits", { hub: { statusHistory: 50 } }, { commits: 50, keep: false }],
    ["an age", { hub: { statusHistory: "12h" } }, { seconds: 43_200, keep: false }],
    ["kept under a ref", { hub: { statusHistory: 50, keepStatusHistory: true } }, { commits: 50, keep: true }],
    ["too few commits: the default", { hub: { statusHistory: 3 } }, DEFAULT_HISTORY],
    ["too short an age: the default", { hub: { statusHistory: "5m" } }, DEFAULT_HISTORY],
    ["not a duration: the default", { hub: { statusHistory: "a week" } }, DEFAULT_HISTORY],
    ["hub not an object", { hub: 7 }, DEFAULT_HISTORY],
    ["not an object at all", [], DEFAULT_HISTORY],
  ])("%s", (_what, data, want) => {
    expect(historyLimitOf(data)).toEqual(want);
  });

  it.each([
    [{ statusHistory: 50 }, []],
    [{ statusHistory: "7d", keepStatusHistory: true }, []],
    [{ statusHistory: 5 }, [/hub\.statusHistory/]],
    [{ statusHistory: "10m" }, [/hub\.statusHistory/]],
    [{ history: 50 }, [/hub/]],
  ])("the schema checks %j", (hub, problems) => {
    const text = JSON.stringify({ version: 1, orders: [], hub });
    const got = parseOrders(text, { file: "ORDERS.json" }).problems.map((p) => `${p.path}: ${p.message}`);
    expect(got).toHaveLength(problems.length);
    for (const [i, re] of problems.entries()) expect(got[i]).toMatch(re);
  });
});

describe("the trailer", () => {
  it("round-trips, and only coord's own form is read", () => {
    const mark = { depth: 42, since: ago(3600) };
    expect(parseHistoryTrailer(`coord: a status\n\nCoord-Orders: ${"a".repeat(40)}\n${historyTrailer(mark)}\n`)).toEqual(mark);
    expect(parseHistoryTrailer("coord: a status")).toBeUndefined();
    expect(parseHistoryTrailer("Coord-History: 0 2026-11-25T12:00:00.000Z")).toBeUndefined();
    expect(parseHistoryTrailer("Coord-History: 5 yesterday")).toBeUndefined();
    expect(parseHistoryTrailer("x Coord-History: 5 2026-11-25T12:00:00.000Z")).toBeUndefined();
  });
});

describe("nextHistory: a commit on top, or a new root", () => {
  it.each([
    ["the branch starts", undefined, { commits: 50, keep: false }, { depth: 1, since: T }, false],
    ["under the count", { depth: 49, since: ago(60) }, { commits: 50, keep: false }, { depth: 50, since: ago(60) }, false],
    ["past the count", { depth: 50, since: ago(60) }, { commits: 50, keep: false }, { depth: 1, since: T }, true],
    ["under the age", { depth: 5000, since: ago(3000) }, { seconds: 3600, keep: false }, { depth: 5001, since: ago(3000) }, false],
    ["past the age", { depth: 3, since: ago(3601) }, { seconds: 3600, keep: false }, { depth: 1, since: T }, true],
    [
      "a root in this clock's future (another's clock ahead)",
      { depth: 3, since: new Date(T.getTime() + 86_400_000) },
      DEFAULT_HISTORY,
      { depth: 4, since: new Date(T.getTime() + 86_400_000) },
      false,
    ],
    ["the default: 10,000 commits", { depth: 10_000, since: ago(60) }, DEFAULT_HISTORY, { depth: 1, since: T }, true],
    ["the default: 7 days", { depth: 10, since: ago(7 * 86_400 + 1) }, DEFAULT_HISTORY, { depth: 1, since: T }, true],
  ] as const)("%s", (_what, parent, limit, mark, newRoot) => {
    expect(nextHistory(parent, limit, T)).toEqual({ mark, newRoot });
  });

  it("says the limit in words, and names the ref the old history is kept under", () => {
    expect(describeHistoryLimit(DEFAULT_HISTORY)).toBe("10000 commits or 7d");
    expect(describeHistoryLimit({ commits: 50, keep: false })).toBe("50 commits");
    expect(keptHistoryRef(T)).toBe("refs/coord-history/20261125T120000Z");
  });
});
