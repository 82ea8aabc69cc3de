// `coord inbox --wait` and the MCP inbox tool's `wait`: which messages end a
// wait, and what the waiter does next. Pure: the loop that reads the mailbox,
// looks at the hub and sleeps is src/actions/messages.ts (waitInbox).
//
// Where the checkout's daemon runs, it looks at the hub and receives: the
// waiter only reads the local mailbox, every READ_EVERY_MS. Where none runs,
// the waiter looks itself, as often as this machine's share of the host's
// reads allows (core/hub/reads.ts), and receives with a sync that starts no task
// when the hub moved.
import type { InboxMessage } from "./messages.js";

/** How often (ms) a waiter reads the local mailbox: a file read, cheap. */
export const READ_EVERY_MS = 250;

/** The shortest sleep (ms) a waiter takes between two steps: each step reads a file at least. */
const MIN_SLEEP_MS = 10;

/** Only messages from this machine, or only replies to this message id. */
export interface WaitFilter {
  from?: string | undefined;
  replyTo?: string | undefined;
}

/**
 * The ids a wait counts as already seen when it begins: every message in the inbox, except, with `replyTo`, a reply
 * to it that is not acknowledged yet. An answer that came between the send and the wait (on call, answers come in
 * seconds) and that nobody has read ends the wait at once; without `replyTo` a wait is for new messages only.
 */
export function seenAtStart<T extends Pick<InboxMessage, "id" | "replyTo">>(inbox: readonly T[], acked: (x: T) => boolean, filter: WaitFilter): Set<string> {
  return new Set(inbox.filter((x) => filter.replyTo === undefined || x.replyTo !== filter.replyTo || acked(x)).map((x) => x.id));
}

/** The messages of `inbox` that end a wait: not among the ids `seen` when it began, and matching `filter`; oldest first, as the inbox is. */
export function arrivedSince<T extends Pick<InboxMessage, "id" | "from" | "replyTo">>(inbox: readonly T[], seen: ReadonlySet<string>, filter: WaitFilter): T[] {
  return inbox.filter((x) => !seen.has(x.id) && (filter.from === undefined || x.from === filter.from) && (filter.replyTo === undefined || x.replyTo === filter.replyTo));
}

/** What a waiter does at a step: stop (the deadline came), look at the hub, or sleep before reading the mailbox again. */
export type WaitStep = { kind: "deadline" } | { kind: "look" } | { kind: "sleep"; ms: number };

/**
 * The step at `now` (ms) of a wait that ends at `deadline`: a look that is due (`lookAt`; undefined when the daemon
 * looks) comes first; else a sleep until the next read of the mailbox (`readEveryMs`), the look or the deadline,
 * whichever is first.
 */
export function waitStep(now: number, deadline: number, lookAt: number | undefined, readEveryMs = READ_EVERY_MS): WaitStep {
  if (!(now < deadline)) return { kind: "deadline" };
  if (lookAt !== undefined && lookAt <= now) return { kind: "look" };
  const until = Math.min(deadline, now + Math.max(readEveryMs, MIN_SLEEP_MS), lookAt ?? Number.POSITIVE_INFINITY);
  return { kind: "sleep", ms: Math.max(MIN_SLEEP_MS, Math.ceil(until - now)) };
}

/** The most steps a wait of `waitMs` can take (each sleeps MIN_SLEEP_MS at least, or looks): a bound for its loop. */
export function maxWaitSteps(waitMs: number): number {
  return Math.ceil(Math.max(0, waitMs) / MIN_SLEEP_MS) * 2 + 10;
}
