// What one sync cycle works with (`Cycle`: a frozen context, the record of
// work, its standing with the push budget, what its publishes said, the
// result it fills, the latest view of a tip), and what a new tip triggers
// (reactToTip: its lost claims dropped, its unwanted tasks stopped, the
// daemon's services told).
import type { Turn } from "../serial.js";
import { type Halt, haltOf } from "../core/hub/controls.js";
import { claimLost, takenOver } from "../core/work/claims.js";
import { ORDERS_FILE, STATUS_JSON, STATUS_MD, type RepoModel } from "../core/repo/repo.js";
import { deriveStatus } from "../core/status/status.js";
import type { Problem } from "../core/types.js";
import type { LocalReservation } from "../core/fleet/reservations.js";
import type { RunningTask, TaskOutcome } from "./tasks.js";
import type { Health } from "../state/health.js";
import type { Bucket, Share } from "../core/budget/budget.js";
import type { KeyNotice } from "../state/key-notice.js";
import type { Journal, JournalEntry } from "../state/journal.js";
import type { Machine } from "./machine.js";
import type { HeldLock } from "../state/lock.js";
import type { Observation } from "../core/time/clock.js";
import type { TipView } from "./view.js";
import type { RunProcess } from "./on-call-turn.js";

/** What a sync reads of a commit. */
export const READ_PATHS = [ORDERS_FILE, STATUS_JSON, STATUS_MD, "coordination"];

export interface SyncResult {
  machine: string;
  skipped: boolean;
  /** Tasks run (or, with dryRun, that would run). */
  ran: TaskOutcome[];
  wouldRun: { id: string; rev: number; slot?: string; attempt: number; command: string; claim?: boolean }[];
  waiting: { id: string; reason: string }[];
  interrupted: string[];
  /** Messages delivered to this machine in this sync (ids), and those its onMessage hook acknowledged. */
  delivered: string[];
  hookAcked: string[];
  ordersProblems: Problem[];
  fileProblems: Problem[];
  /** The commit pushed, if there was anything to say. */
  pushed?: string;
  pushAttempts: number;
  /** Its bucket after its last push (tokens left; below 0: a debt), and its share of the fleet's push budget. */
  budget?: { tokens: number; share: string };
  /** A publish waits for the fleet's push budget until then (ISO): it rides along with the next push. */
  deferred?: string;
  warnings: string[];
  /** Set when nothing had changed since a sync that had nothing to do (src/core/machine/quiet.ts): it looked at the remote's tip only. */
  quiet?: boolean;
  /**
   * Its publish landed on (or found nothing to change on) a tip newer than the one it read and planned on: another
   * machine or a person pushed meanwhile, and what that brought for this machine (a message, an order) waits for a
   * next sync. That sync is owed now: the tip is where this machine last saw the hub, so no look sees it move.
   */
  newerTip?: true;
  /** The alerts sent to the notify hook after this sync (none when none were new), and why any failed. */
  notified?: { id: string; ok: boolean; error?: string }[];
  /** Set when a scheduled run skipped because it is backing off after failures. */
  backoff?: { until: string; failures: number; lastError: string };
  /** This machine's reservations found lost in this sync (another machine's reached the hub first), each told once. */
  reservationsLost?: { id: number; paths: string[]; holder: NonNullable<LocalReservation["lost"]>; text: string }[];
}

/**
 * Fault injection for the crash tests: COORD_TEST_CRASH=<point> makes coord
 * kill itself with SIGKILL there, as a power cut would.
 */
export function crashPoint(point: string): void {
  if (process.env.COORD_TEST_CRASH === point) process.kill(process.pid, "SIGKILL");
}

/**
 * What a sync does: run work (the default), only publish (`run: false`: coord send, init, pause), or say what it
 * would run and change nothing (`dryRun`).
 */
export type Act = "run" | "publish" | "dry-run";

/**
 * What never changes during a sync: the machine, what it does, its clock and log, how long a publish may take, the
 * signal that stops it, the daemon's callback, its lock, and what it read once at its start. Read-only: no step
 * writes it.
 */
export interface CycleContext {
  m: Machine;
  act: Act;
  now: () => Date;
  log: (line: string) => void;
  pushBudgetMs: number;
  /** Waits for a turn to push on the cycle's clock (SyncOptions.waitTurn); absent: real time. */
  waitTurn?: (ms: number) => Promise<void>;
  /** Aborted when the sync is told to stop (its tasks interrupted): what it has goes out without waiting for its turn. */
  stopping?: AbortSignal;
  /** The daemon's supervisor of services, told every tip the cycle reads (none in a sync of no daemon). */
  onModel?: (model: RepoModel) => Promise<void>;
  /** How its last publish meets its turn to push (SyncOptions.turns); absent: it waits for it. */
  turns?: Turns;
  /** Agents on call under a daemon: told when the cycle delivered new messages (their turns start before its publish). */
  onReceived?: () => void;
  /** Aborted when something someone waits for was stored meanwhile (SyncOptions.urged): a wait for a turn to push ends. */
  urged?: AbortSignal;
  /** Agents on call: the turns of the messages it delivers run in this sync (SyncOptions.onCallHere, and the machine is on call). */
  onCallHere?: true;
  /** The process of each of those turns (SyncOptions.onCallRun); absent: runner/run.ts. */
  onCallRun?: RunProcess;
  /** Publishes one at a time. */
  inTurn: Turn;
  /** The sync lock it holds (a task starts only while it is not compromised). */
  lock: HeldLock;
  /** Failed syncs before this one (the machine reports itself stalled after 3). */
  health: Health;
  /** The observations of the others' clocks it began with (saved at its end when they changed). */
  observedBefore: ReadonlyMap<string, Observation>;
  /** Its old key's signed notice naming publicKey, after coord trust rotate (state/key-notice.ts). */
  keyNotice?: KeyNotice;
  /** Asks this machine's capabilities (state/capabilities.ts): what lookAtCaps takes into the work record. */
  askCaps: () => Promise<Capabilities>;
}

/** What this machine can do, and whether those answers are older than 10 minutes (new ones to come). */
export interface Capabilities {
  caps: Record<string, string>;
  /** The capabilities are older than 10 minutes, new answers to come (state/capabilities.ts): no order that needs them starts on them. */
  capsStale?: boolean;
}

/**
 * The record of work: what the work steps change (claim, run, drain, and reactToTip, which drops lost claims and
 * stops unwanted tasks). Its journal, claims and running tasks are each one object for the whole sync.
 */
export interface WorkRecord extends Capabilities {
  readonly journal: Journal;
  /** Claims made in this cycle, with the journal entry each replaced (to restore when the claim is lost). */
  readonly claimed: Map<string, JournalEntry | undefined>;
  /** Tasks running now, to stop on cancellation or a lost claim. */
  readonly running: Map<string, RunningTask>;
}

/** What this sync's publishes said so far. */
export interface Said {
  /** The lastSeen other machines see for this one now (a claim holds for a lease after it). */
  lastSeen?: string;
  /** When this sync's first publish was built: a run of failures it reports ends then (core/fleet/failures.ts). */
  clearedAt?: Date;
}

/**
 * What one cycle works with: its frozen context, its record of work, its standing with the push budget, what its
 * publishes said, the report it fills, and the latest view of a tip (the one field that changes: a publish sets it).
 */
export interface Cycle extends Readonly<CycleContext> {
  readonly work: WorkRecord;
  /** Where it stands with the fleet's push budget (core/budget/budget.ts). */
  readonly budget: BudgetState;
  readonly said: Said;
  /** What the sync reports, filled by its steps. */
  readonly result: SyncResult;
  /**
   * The tip this cycle saw last (its first read, a publish's try, or the commit its publish landed), as a view: what
   * it acts on, and what a publish builds on without a fetch.
   */
  view: TipView;
}

/**
 * Looks at the capabilities again: a plan made while tasks run, maybe minutes after the cycle began, must not take
 * answers that have since passed their 10 minutes for fresh ones (state/capabilities.ts).
 */
export async function lookAtCaps(c: Cycle): Promise<void> {
  const { caps, capsStale } = await c.askCaps();
  c.work.caps = caps;
  c.work.capsStale = capsStale;
}

/** How a sync's last publish meets its turn to push: "defer" ends the sync until the turn, "now" is the turn (SyncOptions.turns). */
export type Turns = "defer" | "now";

/** A cycle's standing with the fleet's push budget (core/budget/budget.ts): set by each publish's read of the fleet and by every push. */
export interface BudgetState {
  /** Its token bucket, counted at every push (.git/coord/budget.json). */
  bucket?: Bucket;
  /** Its share of the budget as the last read of the fleet saw it. */
  share?: Share;
  /** Its place among the machines counted for that share, by name: its turn to push (core/budget/budget.ts turnWait). */
  rank?: number;
  /** The lease its claims hold for under that share (claimLeaseOf); the configured one before it is known. */
  lease?: number;
  /** Seconds after its published lastSeen that its heartbeat is due (heartbeatDueAfter). */
  heartbeatDue?: number;
  /** A publish waits for the budget until then (ms); gone once a publish goes out (what waited went with it). */
  publishWaits?: number;
  /** Claims wait for the budget until then (ms). */
  claimsWait?: number;
}

/** The earliest moment something of this cycle waits for the push budget (ms): the next sync must not come later. */
export function waitsUntil(b: BudgetState): number | undefined {
  const times = [b.publishWaits, b.claimsWait].filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : undefined;
}

/** The lease this machine's claims hold for now (seconds). */
export function ownLease(c: Pick<Cycle, "m" | "budget">): number {
  return c.budget.lease ?? c.m.config.claimLease;
}

/** What halts this machine now (the fleet's emergency stop, a pause), as `model` and its local pause say. */
export function haltNow(c: Pick<Cycle, "m" | "view">, model: RepoModel): Halt | undefined {
  return haltOf(c.m.config.name, model.controls, c.view.localPause);
}

/**
 * A step that may run again on what it already ran on, with no further effect: it brings this machine to what its
 * input asks (a lost claim goes back once, a stopped task stays stopped, a supervisor told the same tip again
 * changes nothing). Said in its type, so that a caller runs it on every view it makes without counting.
 */
export type Idempotent<A extends unknown[]> = ((...args: A) => Promise<void>) & { readonly idempotent: true };

/** Marks `step` idempotent (Idempotent): its doc says why it is. */
export function idempotent<A extends unknown[]>(step: (...args: A) => Promise<void>): Idempotent<A> {
  return Object.assign(step, { idempotent: true as const });
}

/**
 * The react step: what a new tip triggers for this machine, once per view (the cycle's first read, each try of a
 * publish): its claims lost on it go back to what they replaced, its running tasks no longer wanted stop, and the
 * daemon's services follow it (an emergency stop stops them within this sync). At the first read nothing runs yet,
 * and a claim of an earlier sync is the planner's to take up again: only the services follow. Idempotent: the
 * journal, the tasks and the supervisor reach the state the view asks for, whatever they were at.
 */
export const reactToTip: Idempotent<[Cycle, TipView]> = idempotent(async (c, view) => {
  if (view.by === "publish") {
    await dropLostClaims(c, view);
    stopUnwanted(c, view);
  }
  await c.onModel?.(view.model);
});

/** Claims of this cycle that lost on `view` (another machine holds the order, or it is gone) go back to what they replaced. */
async function dropLostClaims(c: Cycle, { model, observed }: TipView): Promise<void> {
  for (const [id, entry] of Object.entries(c.work.journal.tasks)) {
    if (entry.state !== "assigned") continue;
    const order = model.orders?.orders.find((o) => o.id === id);
    // STATUS only when there is a claim to check (deriving it for a large fleet is not free; it is memoised per model).
    if (!claimLost(c.m.config.name, entry, order, deriveStatus(model), c.now(), c.m.config.claimLease, observed)) continue;
    await c.work.journal.apply(id, { kind: "drop", previous: c.work.claimed.get(id) });
    c.work.claimed.delete(id);
  }
}

/** Running tasks whose order was cancelled or re-revved on `view`, or whose claim another machine holds now, are stopped. */
function stopUnwanted(c: Cycle, { model, observed, localPause }: TipView): void {
  if (c.work.running.size === 0) return;
  // An emergency stop counts even when the rest of ORDERS.json is invalid.
  const halt = haltOf(c.m.config.name, model.controls, localPause);
  if (halt?.stopRunning) {
    for (const task of c.work.running.values()) task.stop(halt.reason, "failed");
    return;
  }
  if (!model.orders) return; // the last valid orders stay in force for what already runs
  const status = deriveStatus(model);
  for (const [id, task] of c.work.running) {
    const order = model.orders.orders.find((o) => o.id === id);
    if (!order || order.cancelled || order.rev !== task.order.rev) task.stop(order?.cancelled ? "cancelled in ORDERS.json" : "its order was removed or re-revved", "cancelled");
    else if (takenOver(order, c.m.config.name, status, c.now(), c.m.config.claimLease, observed, task.order.slot)) task.stop("another machine took over its claim", "failed");
  }
}

/** The checkout follows what was published (or found), when there is one. */
export async function fastForward(m: Machine, commit: string, result: SyncResult): Promise<void> {
  const warning = await m.checkout?.fastForward(commit);
  if (warning) result.warnings.push(warning);
}
