// A task's life on one machine, as its journal records it: one transition
// function over one table. Pure: the time comes in the events.
//
//   (none) ─claim─▶ assigned ─start─▶ in_progress ─finish─▶ completed | failed | cancelled
//      │               │  ▲                 │
//      └─────start─────┼──┘ claim           └─interrupt─▶ failed ("interrupted": coord stopped or crashed)
//                      └─drop─▶ what the claim replaced (the claim was lost)
//   failed (retries left) ─claim / start─▶ the next attempt;  any entry of an older run ─claim / start─▶ the new run
//
// A run is (rev, slot): a recurring order's slot (core/time/every.ts) is a new
// generation as a bumped rev is, and an older one is never gone back to.
//
// queued, blocked and rejected are what the fleet's status says of a task no
// machine ran; they are never journaled (a published one counts as not run).
import { compareRuns, type Run } from "../time/every.js";
import type { TaskState } from "../types.js";
import type { AgentReport, TaskReport } from "../fleet/computer.js";

/** What the journal keeps of a task: its report, and local fields (the log path, the pid while it runs). */
export interface TaskEntry extends TaskReport {
  log?: string;
  pid?: number;
}

export type TaskEvent =
  /** A "to: ANY" order claimed (journaled before the claim is pushed). */
  | { kind: "claim"; rev: number; slot?: string; attempt: number; at: string; lease: number; takeoverFrom?: string }
  /** Durable before the process exists: a crash from here on is an interruption, never a second run. */
  | { kind: "start"; rev: number; slot?: string; attempt: number; at: string; log?: string }
  /** The process exists. */
  | { kind: "pid"; pid: number }
  | { kind: "finish"; state: "completed" | "failed" | "cancelled"; exitCode: number | null; at: string; reason?: string; output?: string; agent?: AgentReport }
  /** Found in progress by the next sync (a crash, or coord stopped): failed, may run again at once. */
  | { kind: "interrupt"; at: string }
  /** The claim was lost before it ran: what it replaced comes back. */
  | { kind: "drop"; previous: TaskEntry | undefined };

export type EventKind = TaskEvent["kind"];

/** A transition the table does not allow, with why. */
export interface Refusal {
  refused: string;
}

const NONE = "none";
type From = TaskState | typeof NONE;

/** Not run (as far as this machine's journal says) or claimable again. */
const OPEN: readonly From[] = [NONE, "queued", "blocked", "rejected", "assigned", "failed"];

/** The one table: from which states (of the same run) each event may happen. An entry of an older run (rev, slot) is as none for claim and start, unless it runs. */
export const TRANSITIONS: Readonly<Record<EventKind, readonly From[]>> = {
  claim: OPEN,
  start: OPEN,
  pid: ["in_progress"],
  finish: ["in_progress"],
  interrupt: ["in_progress"],
  drop: ["assigned"],
};

/** Holding a claim or running: the states a holder's lease covers. */
export function isActive(state: TaskState): boolean {
  return state === "assigned" || state === "in_progress";
}

/** A failed task is final once it has used its retries. */
export function failedForGood(attempts: number, retries: number): boolean {
  return attempts >= retries + 1;
}

/** Nothing more will happen for this rev on this machine: completed, cancelled, rejected, or failed with no retry left. */
export function isFinal(state: TaskState, attempts: number, retries: number): boolean {
  if (state === "completed" || state === "cancelled" || state === "rejected") return true;
  return state === "failed" && failedForGood(attempts, retries);
}

/** The task's next journal entry (undefined: no entry), or why the event may not happen now. */
export function transition(entry: TaskEntry | undefined, event: TaskEvent): TaskEntry | undefined | Refusal {
  const from: From = entry?.state ?? NONE;
  const refuse = (why: string): Refusal => ({
    refused: `${event.kind} ${from === NONE ? "a task with no entry" : `a task ${from} (${describeRun(entry!)}, attempt ${entry!.attempts})`}: ${why}`,
  });
  if (event.kind === "claim" || event.kind === "start") {
    const run: Run = { rev: event.rev, slot: event.slot };
    if (entry && compareRuns(entry, run) > 0) return refuse(`${describeRun(entry)} ran already; never go back to ${describeRun(run)}`);
    if (from === "in_progress") return refuse("it is running");
    const sameRev = entry !== undefined && compareRuns(entry, run) === 0;
    if (sameRev && !TRANSITIONS[event.kind].includes(from)) return refuse(`not allowed from ${from}`);
    if (sameRev && from === "failed" && event.attempt <= entry.attempts) return refuse(`attempt ${event.attempt} ran already`);
    if (event.kind === "claim")
      return {
        rev: event.rev,
        ...(event.slot ? { slot: event.slot } : {}),
        state: "assigned",
        attempts: event.attempt,
        startedAt: event.at,
        lease: event.lease,
        ...(event.takeoverFrom ? { takeoverFrom: event.takeoverFrom } : {}),
      };
    // A claimed task keeps its claim (lease, takeover) while it runs.
    const claim = sameRev && from === "assigned" ? entry : undefined;
    return {
      rev: event.rev,
      ...(event.slot ? { slot: event.slot } : {}),
      state: "in_progress",
      attempts: event.attempt,
      startedAt: event.at,
      ...(event.log ? { log: event.log } : {}),
      ...(claim?.lease ? { lease: claim.lease } : {}),
      ...(claim?.takeoverFrom ? { takeoverFrom: claim.takeoverFrom } : {}),
    };
  }
  if (!TRANSITIONS[event.kind].includes(from)) return refuse(`allowed only from ${TRANSITIONS[event.kind].join(" or ")}`);
  const current = entry!;
  switch (event.kind) {
    case "pid":
      return { ...current, pid: event.pid };
    case "finish": {
      const { pid: _pid, ...rest } = current;
      return {
        ...rest,
        state: event.state,
        exitCode: event.exitCode,
        finishedAt: event.at,
        ...(event.reason ? { reason: event.reason } : {}),
        ...(event.output ? { output: event.output } : {}),
        ...(event.agent ? { agent: event.agent } : {}),
      };
    }
    case "interrupt": {
      const { pid: _pid, ...rest } = current;
      return { ...rest, state: "failed", exitCode: null, finishedAt: event.at, reason: "interrupted" };
    }
    case "drop":
      // What the claim replaced comes back; an older claim never started is as stale as this one.
      return event.previous && event.previous.state !== "assigned" ? event.previous : undefined;
  }
}

/** "rev 2", or "rev 2, slot 2025-01-10T03:00:00.000Z". */
export function describeRun(r: Run): string {
  return r.slot ? `rev ${r.rev}, slot ${r.slot}` : `rev ${r.rev}`;
}

export function isRefusal(r: TaskEntry | undefined | Refusal): r is Refusal {
  return r !== undefined && "refused" in r;
}

/**
 * A report this machine had published, taken back into a journal that was
 * lost: what was running or claimed then counts as interrupted (not ended:
 * no finish time), so nothing it ran runs again.
 */
export function adopted(published: TaskReport): TaskEntry {
  return isActive(published.state) ? { ...published, state: "failed", exitCode: null, reason: "interrupted" } : { ...published };
}
