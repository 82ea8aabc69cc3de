// Spreading "to: ANY" work over the fleet: each machine ranks the free orders
// its own way, so that machines planning at the same moment pick different
// ones instead of all racing for the same top order.
//
// Rendezvous (highest random weight) hashing: every (order, machine) pair has
// a fixed pseudo-random score that every machine computes alike. An order's
// preferred machine is the contender with the highest score for it; a machine
// takes, within each priority (urgent first), the orders it is preferred for
// first, then any other free order by its own score. Machines joining or
// leaving move only the orders they win or lose. Pure: no clock, no I/O.
import { createHash } from "node:crypto";
import { PRIORITIES } from "../types.js";
import type { Order } from "../orders/orders-schema.js";

/** The fixed score of `machine` for `orderId`: a number in [0, 2^48). */
export function rendezvousScore(orderId: string, machine: string): number {
  return createHash("sha256").update(orderId).update("\0").update(machine).digest().readUIntBE(0, 6);
}

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
 * `candidates` in the order `me` should try to claim them: by priority (urgent
 * first); within one, those `me` is the preferred machine for (among
 * `contendersOf(order)`, which should include `me`), then the rest; each
 * group by `me`'s score, highest first.
 */
export function rankForMachine<T extends { order: Pick<Order, "id" | "priority"> }>(
  candidates: T[],
  me: string,
  contendersOf: (order: Pick<Order, "id">) => Iterable<string>,
): T[] {
  const keyed = candidates.map((c) => ({
    c,
    priority: PRIORITIES.indexOf(c.order.priority),
    mine: preferredMachine(c.order.id, [me, ...contendersOf(c.order)]) === me,
    score: rendezvousScore(c.order.id, me),
  }));
  keyed.sort((a, b) => b.priority - a.priority || Number(b.mine) - Number(a.mine) || b.score - a.score || (a.c.order.id < b.c.order.id ? -1 : 1));
  return keyed.map((k) => k.c);
}
