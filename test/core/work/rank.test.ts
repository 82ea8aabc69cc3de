// core/work/rank.ts: rendezvous ranking of "to: ANY" orders per machine.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { dealShares, preferredMachine, rankForMachine, rendezvousScore } from "../../../src/core/work/rank.js";
import type { Priority } from "../../../src/core/types.js";

const MACHINES = ["m1", "m2", "m3", "m4", "m5"];
const ids = (n: number) => Array.from({ length: n }, (_, i) => `job-${i}`);
const cand = (id: string, priority: Priority = "normal") => ({ order: { id, priority } });

describe("rendezvousScore", () => {
  it.each([
    ["job-1", "m1"],
    ["job-1", "m2"],
    ["", ""],
    ["constructor", "__proto__"],
    ["ü/ß", "machine-2"],
  ])("is a fixed number in [0, 2^48) for (%j, %j)", (id, machine) => {
    const s = rendezvousScore(id, machine);
    expect(Number.isSafeInteger(s)).toBe(true);
    expect(s).toBeGreaterThanOrEqual(0);
    expect(s).toBeLessThan(2 ** 48);
    expect(rendezvousScore(id, machine)).toBe(s);
  });

  it("is the first 6 bytes of SHA-256 of id, NUL, machine: what every machine and every coord version computes, asked once or again", () => {
    for (const [id, machine] of [
      ["job-1", "m1"],
      ["nightly-42", "machine-2"],
    ]) {
      const expected = createHash("sha256").update(`${id}\0${machine}`).digest().readUIntBE(0, 6);
      expect(rendezvousScore(id!, machine!)).toBe(expected);
      expect(rendezvousScore(id!, machine!)).toBe(expected); // remembered
    }
  });

  it("keeps the order id and the machine apart (job-1 on m12 is not job-11 on m2)", () => {
    expect(rendezvousScore("job-1", "m12")).not.toBe(rendezvousScore("job-11", "m2"));
  });
});

describe("preferredMachine", () => {
  it("is the contender with the highest score, whatever order the contenders come in", () => {
    for (const id of ids(50)) {
      const best = [...MACHINES].sort((a, b) => rendezvousScore(id, b) - rendezvousScore(id, a))[0];
      expect(preferredMachine(id, MACHINES)).toBe(best);
      expect(preferredMachine(id, [...MACHINES].reverse())).toBe(best);
    }
  });

  it("has no preference among no contenders", () => {
    expect(preferredMachine("job-1", [])).toBeUndefined();
  });

  it("spreads orders: over 1,000 orders each of 5 machines is preferred for 15–25% of them", () => {
    const counts = new Map(MACHINES.map((m) => [m, 0]));
    for (const id of ids(1000)) {
      const m = preferredMachine(id, MACHINES)!;
      counts.set(m, counts.get(m)! + 1);
    }
    for (const [, n] of counts) {
      expect(n).toBeGreaterThan(150);
      expect(n).toBeLessThan(250);
    }
  });

  it("a machine that joins takes only orders it wins; one that leaves gives only its own away", () => {
    const before = new Map(ids(200).map((id) => [id, preferredMachine(id, MACHINES)]));
    const joined = [...MACHINES, "m6"];
    for (const [id, m] of before) {
      const now = preferredMachine(id, joined);
      expect(now === m || now === "m6").toBe(true);
    }
    const left = MACHINES.filter((m) => m !== "m3");
    for (const [id, m] of before) if (m !== "m3") expect(preferredMachine(id, left)).toBe(m);
  });
});

describe("rankForMachine", () => {
  const all = () => MACHINES;

  it("machines ranking the same free orders at once start with different ones", () => {
    const free = ids(20).map((id) => cand(id));
    const firsts = MACHINES.map((m) => rankForMachine(free, m, all)[0]!.order.id);
    // Each order has one preferred machine, so the first choices of machines preferred for any order differ.
    const preferredSomewhere = MACHINES.filter((m) => free.some((c) => preferredMachine(c.order.id, MACHINES) === m));
    const theirFirsts = preferredSomewhere.map((m) => firsts[MACHINES.indexOf(m)]);
    expect(new Set(theirFirsts).size).toBe(preferredSomewhere.length);
    expect(new Set(firsts).size).toBeGreaterThanOrEqual(4);
  });

  it("puts the orders it is preferred for first, then the rest, each by its own score", () => {
    const free = ids(20).map((id) => cand(id));
    const ranked = rankForMachine(free, "m2", all).map((c) => c.order.id);
    const mine = ranked.filter((id) => preferredMachine(id, MACHINES) === "m2");
    expect(ranked.slice(0, mine.length)).toEqual(mine);
    const byScore = (list: string[]) => [...list].sort((a, b) => rendezvousScore(b, "m2") - rendezvousScore(a, "m2"));
    expect(mine).toEqual(byScore(mine));
    expect(ranked.slice(mine.length)).toEqual(byScore(ranked.slice(mine.length)));
    expect([...ranked].sort()).toEqual(ids(20).sort()); // nothing lost, nothing twice
  });

  it("priority comes first: an urgent order another machine prefers ranks above every normal one", () => {
    const urgent = ids(20).find((id) => preferredMachine(id, MACHINES) !== "m1")!;
    const free = ids(20).map((id) => cand(id, id === urgent ? "urgent" : "normal"));
    expect(rankForMachine(free, "m1", all)[0]!.order.id).toBe(urgent);
    const low = ids(20).map((id) => cand(id, "low"));
    low.push(cand("high-one", "high"));
    expect(rankForMachine(low, "m1", all)[0]!.order.id).toBe("high-one");
  });

  it("alone, or among contenders that cannot take it, a machine is preferred for every order", () => {
    const free = ids(10).map((id) => cand(id));
    const ranked = rankForMachine(free, "m1", () => []).map((c) => c.order.id);
    expect(ranked).toEqual([...ids(10)].sort((a, b) => rendezvousScore(b, "m1") - rendezvousScore(a, "m1")));
  });

  it("keeps the candidates' own fields", () => {
    const ranked = rankForMachine([{ order: { id: "a", priority: "normal" as const }, attempt: 3 }], "m1", all);
    expect(ranked).toEqual([{ order: { id: "a", priority: "normal" }, attempt: 3 }]);
  });
});

describe("dealShares: rendezvous hashing with bounded loads", () => {
  const five = ["p1", "p2", "p3", "p4", "p5"];
  const orders = (n: number, contenders = five) => Array.from({ length: n }, (_, i) => ({ id: `path-${i}`, contenders }));
  const counts = (shares: Map<string, string>) => {
    const out: Record<string, number> = {};
    for (const m of shares.values()) out[m] = (out[m] ?? 0) + 1;
    return out;
  };

  it("20 orders among 5 machines: 4 each, where plain rendezvous hashing gives 6, 5, 4, 4 and 1", () => {
    const plain = counts(new Map(orders(20).map((o) => [o.id, preferredMachine(o.id, five)!])));
    expect(Object.values(plain).sort()).toEqual([1, 4, 4, 5, 6]);
    expect(counts(dealShares(orders(20), new Map()))).toEqual({ p1: 4, p2: 4, p3: 4, p4: 4, p5: 4 });
  });

  it.each<[string, ReturnType<typeof orders>, [string, number][], Record<string, number>]>([
    ["what a machine holds counts: p1 holding 4 of 20 gets none of the 16 free", orders(16), [["p1", 4]], { p2: 4, p3: 4, p4: 4, p5: 4 }],
    ["holdings of a machine that may take none of these do not count", orders(8, ["p1", "p2"]), [["p9", 30]], { p1: 4, p2: 4 }],
    ["an order only one machine may take is its, over its part", orders(3, ["p1"]), [], { p1: 3 }],
    ["no order, no share", [], [["p1", 2]], {}],
  ])("%s", (_why, free, held, expected) => {
    expect(counts(dealShares(free, new Map(held)))).toEqual(expected);
  });

  it("within its part, each order goes to its highest-scoring machine; the deal is the same whatever order the orders and contenders come in", () => {
    const one = orders(5);
    const shares = dealShares(one, new Map());
    // 5 orders, 5 machines: a part of 1 each; the first order in id order gets its preferred machine.
    expect(shares.get("path-0")).toBe(preferredMachine("path-0", five));
    const shuffled = [...one].reverse().map((o) => ({ ...o, contenders: [...o.contenders].reverse() }));
    expect(dealShares(shuffled, new Map())).toEqual(shares);
    expect(new Set(shares.values()).size).toBe(5);
  });
});
