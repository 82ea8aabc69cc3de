// A machine's failed syncs, as it reports them: pure functions of its local
// record (state/health.ts keeps it in .git/coord/health.json) and the time.
//
// - stalled: 3 failed syncs in a row (any reason); published while it lasts,
//   when the machine can still publish.
// - refused: the hub answered no to its push (a hook, a protected branch, a
//   path its key may not write). A refused machine cannot publish, so the hub
//   learns of it from the push that lands again: that push says "refused from
//   <since> until now, <reason>".
// - Either, once it ended, stays in the machine's file for one heartbeat
//   (`cleared`), so a person reading STATUS.md sees why the machine was gone.

/** Failed syncs in a row after which the machine reports itself stalled. */
export const STALL_AFTER = 3;

/** The local record of failures (the fields of .git/coord/health.json this rule reads). */
export interface FailureRecord {
  /** Consecutive failed syncs. */
  failures: number;
  lastError?: string | undefined;
  /** When the run of failures began (ISO). */
  since?: string | undefined;
  /** The last failure was the hub refusing the push. */
  refused?: boolean | undefined;
  /** The last run of failures that was reported, and when it ended. */
  recovered?: { failures: number; lastError: string; since: string; clearedAt: string; refused?: boolean | undefined } | undefined;
}

/** What a machine file says of its failures (its `health` field). */
export interface ReportedHealth {
  failures: number;
  lastError: string;
  since: string;
  /** The hub refused its pushes. */
  refused?: true;
  /** When it ended (the machine is back); absent while it lasts. */
  cleared?: string;
}

/** Whether a run of failures is one the machine reports: refused at once, anything else after STALL_AFTER. */
export function reportsFailures(h: FailureRecord): boolean {
  return h.failures > 0 && h.lastError !== undefined && (h.refused === true || h.failures >= STALL_AFTER);
}

/** The run of failures a machine reports while it lasts, as its own record has it (coord status, daemon status, doctor, notify). */
export function currentRun(h: FailureRecord): ReportedHealth | undefined {
  if (!reportsFailures(h)) return undefined;
  return { failures: h.failures, lastError: h.lastError!, since: h.since ?? "", ...(h.refused ? { refused: true as const } : {}) };
}

/**
 * What a publish built at `now` says of the machine's failures. A run of failures that lasts is reported
 * as it is, except a refusal: the publish that carries it can only land once the hub accepts pushes again,
 * so it says the refusal ended now. A run that ended is reported until one heartbeat after it cleared.
 */
export function reportedHealth(h: FailureRecord, now: Date, heartbeatS: number): ReportedHealth | undefined {
  if (reportsFailures(h)) {
    const run = { failures: h.failures, lastError: h.lastError!, since: h.since ?? now.toISOString() };
    return h.refused ? { ...run, refused: true, cleared: now.toISOString() } : run;
  }
  const r = h.recovered;
  if (h.failures > 0 || !r) return undefined;
  const cleared = Date.parse(r.clearedAt);
  if (!Number.isFinite(cleared) || now.getTime() >= cleared + heartbeatS * 1000) return undefined;
  return { failures: r.failures, lastError: r.lastError, since: r.since, ...(r.refused ? { refused: true as const } : {}), cleared: r.clearedAt };
}

/** When what reportedHealth answers next changes by time alone (a cleared run leaves the file), or undefined. */
export function reportedHealthUntil(h: FailureRecord, heartbeatS: number): Date | undefined {
  if (h.failures > 0 || !h.recovered) return undefined;
  const cleared = Date.parse(h.recovered.clearedAt);
  return Number.isFinite(cleared) ? new Date(cleared + heartbeatS * 1000) : undefined;
}

/** What a machine's run of failures is, said after its name: "is refused by the hub since … (N syncs): <reason>", "was stalled: …". */
export function failuresText(h: ReportedHealth, when: (iso: string) => string = (iso) => iso): string {
  const syncs = `${h.failures} ${h.failures === 1 ? "sync" : "syncs"}`;
  const span = h.cleared ? `from ${when(h.since)} until ${when(h.cleared)}` : `since ${when(h.since)}`;
  const is = h.cleared ? "was" : "is";
  if (h.refused) return `${is} refused by the hub ${span} (${syncs}): ${h.lastError}`;
  return `${is} stalled: ${h.failures} failed syncs in a row ${span}; last error: ${h.lastError}`;
}
