// Which queued thread's turn starts next on a machine on call, and who is told
// that the daily budget holds their messages. Pure: the state and the day in,
// the order (or the notes) out; the engine (sync/on-call.ts) starts the turns
// and says the notes.
//
// Turns are shared among askers round robin (issue 65, finding 6: a flood of
// 200 threads from one machine kept another's message waiting 4.5 minutes
// when threads ran first come, first served). A queued thread belongs to the
// asker of its oldest waiting message. The next turn goes to the asker whose
// last turn started least recently (one who never had a turn first), and of
// that asker's threads to the one that waited longest. There is no cap on
// what an asker may queue: a flood waits its turns, and the others' messages
// go between them, so another asker waits at most for the first turn that
// ends (maxParallel turns run at once; none is cut short for a newcomer).
import { type OnCallState, phaseOf } from "./turn-state.js";
import { own, ownTable } from "../types.js";

/** Askers whose last turn's start the state keeps, at most (the ones served longest ago are forgotten: they go first again). */
export const SERVED_KEPT = 200;
/** Askers told per day that the daily budget holds their messages, at most (past it, nobody more is told that day). */
export const TOLD_KEPT = 1000;

/** A thread waiting for a turn: its root, its asker (the sender of its oldest waiting message), since when it waits. */
export interface QueuedThread {
  root: string;
  asker: string;
  since: string;
}

/** The threads waiting for a turn (messages queued, none running, not in `busy`), the one waiting longest first. */
export function queuedThreads(state: OnCallState, busy: ReadonlySet<string> = new Set()): QueuedThread[] {
  return Object.entries(state.threads)
    .filter(([root, t]) => phaseOf(t) === "queued" && !busy.has(root))
    .map(([root, t]) => ({ root, asker: t.queue[0]!.from, since: t.queue[0]!.at }))
    .sort((a, b) => cmp(a.since, b.since) || cmp(a.root, b.root));
}

/**
 * The threads whose turns start now, in order, `n` at most: round robin over askers. Each time, the asker served
 * least recently (never, then the oldest start in `state.served`, then one served earlier in this same order) gets
 * its thread that waited longest; a tie goes to the asker whose thread waited longest.
 */
export function turnOrder(state: OnCallState, n: number, busy: ReadonlySet<string> = new Set()): string[] {
  const byAsker = new Map<string, QueuedThread[]>();
  for (const q of queuedThreads(state, busy)) byAsker.set(q.asker, [...(byAsker.get(q.asker) ?? []), q]);
  // When each asker was last served: [0] never, [1, start] as recorded, [2, k] the k-th pick of this order.
  const served = new Map<string, [number, string | number]>();
  for (const asker of byAsker.keys()) {
    const at = own(state.served, asker);
    served.set(asker, at === undefined ? [0, ""] : [1, at]);
  }
  const out: string[] = [];
  while (out.length < n && byAsker.size > 0) {
    let best: string | undefined;
    for (const asker of byAsker.keys()) if (best === undefined || before(asker, best, served, byAsker)) best = asker;
    const threads = byAsker.get(best!)!;
    out.push(threads.shift()!.root);
    if (threads.length === 0) byAsker.delete(best!);
    served.set(best!, [2, out.length]);
  }
  return out;
}

/** Whether asker `a` goes before asker `b`: served less recently, else its thread waited longer, else by name. */
function before(a: string, b: string, served: Map<string, [number, string | number]>, byAsker: Map<string, QueuedThread[]>): boolean {
  const [ka, va] = served.get(a)!;
  const [kb, vb] = served.get(b)!;
  if (ka !== kb) return ka < kb;
  if (va !== vb) return va < vb;
  const sa = byAsker.get(a)![0]!.since;
  const sb = byAsker.get(b)![0]!.since;
  return sa !== sb ? sa < sb : a < b;
}

/** The askers a turn of these messages serves (the start of the turn is their last service), in order. */
export function servedBy(queue: readonly { from: string }[]): string[] {
  return [...new Set(queue.map((x) => x.from))];
}

/** `served` with `askers` served at `at`: the SERVED_KEPT served most recently kept. */
export function withServed(served: Readonly<Record<string, string>> | undefined, askers: readonly string[], at: string): Record<string, string> {
  const next = new Map(Object.entries(served ?? {}));
  for (const a of askers) {
    next.delete(a);
    next.set(a, at);
  }
  const kept = [...next].sort(([, x], [, y]) => cmp(x, y)).slice(-SERVED_KEPT);
  return ownTable(Object.fromEntries(kept));
}

/** A note that the daily budget holds an asker's messages: said once, in the thread where its oldest message waits. */
export interface BudgetNote {
  thread: string;
  to: string;
  /** Its last waiting message in that thread. */
  replyTo: string;
}

/**
 * Who to tell on `day` that the daily budget is spent: each asker with a message waiting, once a day (however many
 * threads it has waiting), in the thread its oldest waiting message is in. Askers told already today (`budgetTold`),
 * or of a thread told today by an older coord (`budgetSaid`), are not told again.
 */
export function budgetNotes(state: OnCallState, day: string): BudgetNote[] {
  const told = new Set(state.budgetTold?.day === day ? state.budgetTold.askers : []);
  if (told.size >= TOLD_KEPT) return [];
  const notes: BudgetNote[] = [];
  for (const q of queuedThreads(state)) {
    const t = state.threads[q.root]!;
    if (t.budgetSaid === day) {
      for (const x of t.queue) told.add(x.from);
      continue;
    }
    for (const from of servedBy(t.queue)) {
      if (told.has(from)) continue;
      told.add(from);
      notes.push({ thread: q.root, to: from, replyTo: t.queue.filter((x) => x.from === from).at(-1)!.id });
    }
  }
  return notes;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
