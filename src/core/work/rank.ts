// Spreading "to: ANY" work over the fleet: each machine ranks the free orders
// its own way, so that machines planning at the same moment pick different
// ones instead of all racing for the same top order.
//
// Rendezvous (highest random weight) hashing: every (order, machine) pair has
// a fixed pseudo-random score that every machine computes alike. An order's
// preferred machine is the contender with the highest score for it; a machine
// takes, within each priority (urgent first), the orders it is preferred for
// first, then any other free order by its own score. Machines joining or
// leaving move only the orders they win or lose. A drain's shares are dealt
// with bounded loads (dealShares), so that no machine's share is much larger
// than another's. Pure: no clock, no I/O.
import { createHash } from "node:crypto";
import { PRIORITIES } from "../types.js";
import type { Order } from "../orders/orders-schema.js";

/** The fixed score of `machine` for `orderId`: a number in [0, 2^48). */
export function rendezvousScore(orderId: string, machine: string): number {
  // The hash's input is the key: names hold no NUL. Remembered, since a daemon deals the same open orders among the
  // same machines at each sync (1,000 orders among 30 machines: 30,000 SHA-256s, up to 200 ms a deal); bounded.
  const key = `${orderId}\0${machine}`;
  const known = scores.get(key);
  if (known !== undefined) return known;
  const score = createHash("sha256").update(key).digest().readUIntBE(0, 6);
  if (scores.size >= SCORES_KEPT) scores.clear();
  scores.set(key, score);
  return score;
}

/** The scores last computed (a memo of a pure function: the same answers, sooner). */
const scores = new Map<string, number>();
const SCORES_KEPT = 100_000;

/** The contender with the highest score for `orderId` (ties, which need a hash collision, go to the first name in code-point order). */
export function preferredMachine(orderId: string, contenders: Iterable<string>): string | undefined {
  let best: { name: string; score: number } | undefined;
  for (const name of contenders) {
    const score = rendezvousScore(orderId, name);
    if (!best || score > best.score || (score === best.score && name < best.name)) best = { name, score };
  }
  return best?.name;
}

/**
 * Each free order's machine, rendezvous hashing with bounded loads: the orders in id order, each to its
 * highest-scoring contender that holds fewer than its fair part of the fleet's open orders (`held`, what each
 * machine holds now, and these: ceil(all / machines)); when all its contenders hold that many, to the
 * highest-scoring one. Plain rendezvous hashing dealt 20 orders among 5 machines as 6, 5, 4, 4 and 1, and a drain
 * took as long as the largest share. Every machine deals alike from the same tip; an order's machine moves only
 * when the fleet's open orders or machines change.
 */
export function dealShares(free: readonly { id: string; contenders: readonly string[] }[], held: ReadonlyMap<string, number>): Map<string, string> {
  const machines = new Set(free.flatMap((f) => f.contenders));
  const load = new Map<string, number>();
  let all = free.length;
  for (const name of machines) {
    const holds = held.get(name) ?? 0;
    load.set(name, holds);
    all += holds;
  }
  const fair = Math.ceil(all / Math.max(1, machines.size));
  const out = new Map<string, string>();
  const byId = [...free].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const { id, contenders } of byId) {
    // The highest-scoring contender under its fair part, else the highest-scoring one (the scores are remembered).
    const under = contenders.filter((name) => load.get(name)! < fair);
    const pick = preferredMachine(id, under) ?? preferredMachine(id, contenders);
    if (!pick) continue;
    out.set(id, pick);
    load.set(pick, load.get(pick)! + 1);
  }
  return out;
}

/**
 * `candidates` in the order `me` should try to claim them: by priority (urgent
 * first); within one, those `me` is the preferred machine for (among
 * `contendersOf(order)`, which should include `me`; or as `shareOf` deals
 * them, dealShares), then the rest; each group by `me`'s score, highest first.
 */
export function rankForMachine<T extends { order: Pick<Order, "id" | "priority"> }>(
  candidates: T[],
  me: string,
  contendersOf: (order: Pick<Order, "id">) => Iterable<string>,
  shareOf?: (id: string) => string | undefined,
): T[] {
  const keyed = candidates.map((c) => ({
    c,
    priority: PRIORITIES.indexOf(c.order.priority),
    mine: (shareOf?.(c.order.id) ?? preferredMachine(c.order.id, [me, ...contendersOf(c.order)])) === me,
    score: rendezvousScore(c.order.id, me),
  }));
  keyed.sort((a, b) => b.priority - a.priority || Number(b.mine) - Number(a.mine) || b.score - a.score || (a.c.order.id < b.c.order.id ? -1 : 1));
  return keyed.map((k) => k.c);
}
