// What one sync cycle works with (the `Cycle` context and the result it fills),
// and what each tip it reads means for it: whose identity this is, when the
// other machines were last seen, which of its claims were lost, which running
// tasks must stop.
import type { Turn } from "../serial.js";
import { type Halt, haltOf, type Pause } from "../core/controls.js";
import type { Refusal } from "../core/trust.js";
import type { Observation } from "../core/clock.js";
import { claimLost, takenOver } from "../core/claims.js";
import { ORDERS_FILE, STATUS_JSON, STATUS_MD, type RepoModel } from "../core/repo.js";
import { deriveStatus } from "../core/status.js";
import type { Problem } from "../core/types.js";
import type { LocalReservation } from "../core/reservations.js";
import { CoordError, EXIT, IdentityReclaimed } from "../errors.js";
import type { RunningTask, TaskOutcome } from "./tasks.js";
import type { MachineConfig } from "../state/config.js";
import { ownOrdersFile } from "../state/delegated.js";
import type { Health } from "../state/health.js";
import type { Bucket, Share } from "../core/budget.js";
import type { KeyNotice } from "../state/key-notice.js";
import type { Journal, JournalEntry } from "../state/journal.js";
import type { Machine } from "./machine.js";

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
  /** Set when nothing had changed since a sync that had nothing to do (src/core/quiet.ts): it looked at the remote's tip only. */
  quiet?: boolean;
  /** The alerts sent to the notify hook after this sync (none when none were new), and why any failed. */
  notified?: { id: string; ok: boolean; error?: string }[];
  /** Set when a scheduled run skipped because it is backing off after failures. */
  backoff?: { until: string; failures: number; lastError: string };
  /** This machine's reservations found lost in this sync (another machine's reached the hub first), each told once. */
  reservationsLost?: { id: number; paths: string[]; holder: NonNullable<LocalReservation["lost"]>; text: string }[];
}

/** Refuses to act as a machine whose name another identity owns, or as a copy of an identity reclaimed since. */
export function checkIdentity(model: RepoModel, config: MachineConfig): void {
  const theirs = model.computers.get(config.name);
  const newer = theirs?.uuid === config.uuid ? theirs.identity : undefined;
  if (newer && newer.epoch > config.epoch)
    throw new IdentityReclaimed(
      `this identity (${config.name}) was reclaimed on ${newer.host} at ${newer.at} (coord init --reclaim there); this copy no longer claims or runs anything: ` +
        `remove its schedule (coord cron uninstall, coord daemon stop), or take the identity back with coord init --reclaim here`,
    );
  if (theirs && theirs.uuid !== config.uuid)
    throw new CoordError(
      `the machine name "${config.name}" is already owned by another machine (uuid ${theirs.uuid}, last seen ${theirs.lastSeen}); ` +
        `choose another name with coord init --name, or, if that machine is this one reinstalled, run coord init --reclaim`,
      EXIT.USAGE,
    );
}

/**
 * Fault injection for the crash tests: COORD_TEST_CRASH=<point> makes coord
 * kill itself with SIGKILL there, as a power cut would.
 */
export function crashPoint(point: string): void {
  if (process.env.COORD_TEST_CRASH === point) process.kill(process.pid, "SIGKILL");
}

/** What one cycle works with. */
export interface Cycle {
  m: Machine;
  journal: Journal;
  caps: Record<string, string>;
  /** The capabilities are older than 10 minutes, new answers to come (state/capabilities.ts): no order that needs them starts on them. */
  capsStale?: boolean;
  /**
   * Looks at the capabilities again (caps, capsStale): a plan made while tasks run, maybe minutes after the cycle
   * began, must not take answers that have since passed their 10 minutes for fresh ones (state/capabilities.ts).
   */
  lookAtCaps: () => Promise<void>;
  result: SyncResult;
  now: () => Date;
  log: (line: string) => void;
  pushBudgetMs: number;
  /** Waits for a turn to push on the cycle's clock (SyncOptions.waitTurn); absent: real time. */
  waitTurn?: (ms: number) => Promise<void>;
  /** Claims made in this cycle, with the journal entry each replaced (to restore when the claim is lost). */
  claimed: Map<string, JournalEntry | undefined>;
  /** Tasks running now, to stop on cancellation or a lost claim. */
  running: Map<string, RunningTask>;
  /** Publishes one at a time. */
  inTurn: Turn;
  /** Failed syncs before this one (the machine reports itself stalled after 3). */
  health: Health;
  /** When this sync's first publish was built: a run of failures it reports ends then (core/failures.ts). */
  clearedAt?: Date;
  /** Where it stands with the fleet's push budget (core/budget.ts). */
  budget: BudgetState;
  /** The repository as the last publish found it. */
  latest?: RepoModel;
  /** The files of that tip. */
  latestFiles?: Map<string, string>;
  /** The tip this cycle last read or pushed, and its files (with what it pushed), to build on without a fetch. */
  latestTip: string;
  latestTipFiles: Map<string, string>;
  /** The lastSeen other machines see for this one now (a claim holds for a lease after it). */
  publishedLastSeen?: string;
  /** When this machine saw each other machine's lastSeen change, by its own clock (leases are measured by it). */
  observed: Map<string, Observation>;
  /** Changes of orders files refused at the last read (signed orders), published in its file. */
  refusals: Refusal[];
  /** Its old key's signed notice naming publicKey, after coord trust rotate (state/key-notice.ts). */
  keyNotice?: KeyNotice;
  /** coord pause on this machine (.git/coord/pause.json), as the cycle began. */
  localPause?: Pause;
  /** Aborted when the sync is told to stop (its tasks interrupted): what it has goes out without waiting for its turn. */
  stopping?: AbortSignal;
  /** The daemon's supervisor of services, told every tip the cycle reads (none in a sync of no daemon). */
  onModel?: (model: RepoModel) => Promise<void>;
}

/** A cycle's standing with the fleet's push budget (core/budget.ts): set by each publish's read of the fleet and by every push. */
export interface BudgetState {
  /** Its token bucket, counted at every push (.git/coord/budget.json). */
  bucket?: Bucket;
  /** Its share of the budget as the last read of the fleet saw it. */
  share?: Share;
  /** Its place among the machines counted for that share, by name: its turn to push (core/budget.ts turnWait). */
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
export function ownLease(c: Cycle): number {
  return c.budget.lease ?? c.m.config.claimLease;
}

/** What halts this machine now (the fleet's emergency stop, a pause), as `model` and its local pause say. */
export function haltNow(c: Cycle, model: RepoModel): Halt | undefined {
  return haltOf(c.m.config.name, model.controls, c.localPause);
}

/** Every other machine's lastSeen as the files say. */
export function lastSeenOf(model: RepoModel, me: string): Map<string, string> {
  return new Map([...model.computers].filter(([name]) => name !== me).map(([name, file]) => [name, file.lastSeen]));
}

/** The files at the tip, with this machine's own delegated orders as it has them now (coord order add). */
export async function withOwnOrders(m: Machine, files: Map<string, string>): Promise<Map<string, string>> {
  const own = await ownOrdersFile(m.stateDir, m.config.name);
  if (!own || files.get(own.path) === own.content) return files;
  return new Map(files).set(own.path, own.content);
}

/** Claims of this cycle that lost (another machine holds the order, or it is gone) go back to what they replaced. */
export async function dropLostClaims(c: Cycle, model: RepoModel): Promise<void> {
  for (const [id, entry] of Object.entries(c.journal.tasks)) {
    if (entry.state !== "assigned") continue;
    const order = model.orders?.orders.find((o) => o.id === id);
    // STATUS only when there is a claim to check (deriving it for a large fleet is not free; it is memoised per model).
    if (!claimLost(c.m.config.name, entry, order, deriveStatus(model), c.now(), c.m.config.claimLease, c.observed)) continue;
    await c.journal.apply(id, { kind: "drop", previous: c.claimed.get(id) });
    c.claimed.delete(id);
  }
}

/** Running tasks whose order was cancelled or re-revved, or whose claim another machine holds now, are stopped. */
export function stopUnwanted(c: Cycle, model: RepoModel): void {
  if (c.running.size === 0) return;
  // An emergency stop counts even when the rest of ORDERS.json is invalid.
  const halt = haltNow(c, model);
  if (halt?.stopRunning) {
    for (const task of c.running.values()) task.stop(halt.reason, "failed");
    return;
  }
  if (!model.orders) return; // the last valid orders stay in force for what already runs
  const status = deriveStatus(model);
  for (const [id, task] of c.running) {
    const order = model.orders.orders.find((o) => o.id === id);
    if (!order || order.cancelled || order.rev !== task.order.rev) task.stop(order?.cancelled ? "cancelled in ORDERS.json" : "its order was removed or re-revved", "cancelled");
    else if (takenOver(order, c.m.config.name, status, c.now(), c.m.config.claimLease, c.observed, task.order.slot)) task.stop("another machine took over its claim", "failed");
  }
}

/** The checkout follows what was published (or found), when there is one. */
export async function fastForward(m: Machine, commit: string, result: SyncResult): Promise<void> {
  const warning = await m.checkout?.fastForward(commit);
  if (warning) result.warnings.push(warning);
}
