// Failures across runs: consecutive failed syncs are counted, scheduled runs
// back off exponentially (at most 5 minutes; after an outage of the hub they
// also probe it at every tick and sync as soon as it answers), and a machine
// that failed 3 times in a row reports itself `stalled` (with the last error)
// as soon as it can publish again; one whose push the hub refused reports
// itself `refused` (with the server's reason) at once. Once it is back, the run
// of failures stays in its file for one heartbeat (`recovered`).
import { join } from "node:path";
import * as z from "zod";
import { backoffDelay } from "../core/time/backoff.js";
import { reportsFailures } from "../core/fleet/failures.js";
import { redact } from "../core/trust/redact.js";
import { checkState, setAside } from "./corrupt.js";
import { readIfExists, writeDurably } from "./files.js";

export { STALL_AFTER } from "../core/fleet/failures.js";

/** The longest a scheduled run skips after failures (seconds). */
export const MAX_FAILURE_BACKOFF = 300;

const path = (stateDir: string) => join(stateDir, "health.json");

/** Failures across runs, in .git/coord/health.json (fields of a newer coord are kept as they are). */
const healthSchema = z.looseObject({
  /** Consecutive failed syncs. */
  failures: z.number().int().min(0),
  lastError: z.string().optional(),
  lastFailureAt: z.string().optional(),
  /** When the current run of failures began. */
  since: z.string().optional(),
  /** The last failure was the hub not answering (an outage): a scheduled run probes it instead of waiting out the backoff. */
  unreachable: z.boolean().optional(),
  /** The last failure was a busy hub (every push of the sync lost its race): a scheduled run does not wait out the backoff. */
  busy: z.boolean().optional(),
  /** The last failure was the hub refusing the push (its reason is lastError): the machine is `refused`. */
  refused: z.boolean().optional(),
  /**
   * The run of failures that ended (it was reported: refused, or stalled): published after the machine is back,
   * until one heartbeat after `clearedAt`, so people see why it was gone once it can say so.
   */
  recovered: z.object({ failures: z.number().int().min(1), lastError: z.string(), since: z.string(), clearedAt: z.string(), refused: z.boolean().optional() }).optional(),
});

export type Health = z.output<typeof healthSchema>;

export async function readHealth(stateDir: string): Promise<Health> {
  const text = await readIfExists(path(stateDir));
  if (text === undefined) return { failures: 0 };
  const r = checkState(text, healthSchema);
  if (r.ok) return r.data;
  // A broken health file only loses the count of failed syncs.
  await setAside(path(stateDir), r.problem, "the count of failed syncs starts again from 0");
  return { failures: 0 };
}

/** Why the last sync failed: the hub did not answer (an outage), refused the push, took others' pushes only (busy), or anything else. */
export type FailureKind = "unreachable" | "refused" | "busy" | "other";

export async function recordFailure(stateDir: string, error: string, now: Date, kind: FailureKind = "other"): Promise<Health> {
  const h = await readHealth(stateDir);
  const next: Health = {
    failures: h.failures + 1,
    lastError: redact(error),
    lastFailureAt: now.toISOString(),
    since: h.since ?? now.toISOString(),
    ...(kind === "unreachable" ? { unreachable: true } : {}),
    ...(kind === "refused" ? { refused: true } : {}),
    ...(kind === "busy" ? { busy: true } : {}),
    ...(h.recovered ? { recovered: h.recovered } : {}),
  };
  await writeDurably(path(stateDir), JSON.stringify(next) + "\n");
  return next;
}

/**
 * A sync succeeded: the count starts again; a run of failures the machine reported is kept as `recovered`, to be
 * published for a while. A refusal ends only with a push the hub accepted (`landed`): a sync that pushed nothing
 * (its publish held by the push budget) leaves it as it was. A refused machine always has a push to make (its file
 * says it was refused until now), so none stays refused for want of one.
 */
export async function recordSuccess(stateDir: string, clearedAt = new Date(), landed = true): Promise<void> {
  const h = await readHealth(stateDir);
  if (h.failures === 0) return;
  if (h.refused && !landed) return;
  const recovered = reportsFailures(h)
    ? { failures: h.failures, lastError: h.lastError!, since: h.since ?? clearedAt.toISOString(), clearedAt: clearedAt.toISOString(), ...(h.refused ? { refused: true } : {}) }
    : h.recovered;
  await writeDurably(path(stateDir), JSON.stringify({ failures: 0, ...(recovered ? { recovered } : {}) }) + "\n");
}

/**
 * Until when a scheduled run should skip: `base` seconds after the last
 * failure, doubling, at most 5 minutes — from `now` at the latest, so a failure
 * stamped by a clock that was ahead never stops syncs for longer.
 */
export function backoffUntil(h: Health, base = 60, now = new Date()): Date | undefined {
  if (h.failures === 0 || !h.lastFailureAt) return undefined;
  const failed = Math.min(Date.parse(h.lastFailureAt) || 0, now.getTime());
  return new Date(failed + backoffDelay(h.failures, { baseMs: base * 1000, maxMs: MAX_FAILURE_BACKOFF * 1000 }));
}
