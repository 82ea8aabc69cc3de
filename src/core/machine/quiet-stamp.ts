// The quiet stamp's one rule, kept apart from the rules it is made from
// (core/machine/quiet.ts) so that the quiet `coord sync` loads nothing else.

/** What a quiet stamp holds: the tip, the local state and the code it was made with, and until when it holds. */
export interface QuietStamp {
  coord: 1;
  version: string;
  machine: string;
  remote: string;
  branch: string;
  tip: string;
  until: number;
  /** The local state's files (name, size, change time, inode), and anything else the sync's outcome depends on (PATH). */
  fingerprint: string;
  /** Seconds between heartbeats the sync that made it used (the daemon's differs from cron's): `until` counts with it. */
  heartbeat?: number;
  /** Seconds the look at the remote may take (the machine's gitTimeout). */
  timeout: number;
  /** The orders for this machine that did not start, and why, as the sync that made it said. */
  waiting: { id: string; reason: string }[];
  /** A publish waits for the fleet's push budget until then (ISO; `until` is no later): a quiet sync says so. */
  deferred?: string;
}

/** Whether `stamp` still answers for a sync now: same code, same local state, the same tip, and not yet `until`. */
export function stampHolds(stamp: QuietStamp, current: { version: string; fingerprint: string; now: number; tip: string | undefined }): boolean {
  return stamp.version === current.version && stamp.fingerprint === current.fingerprint && current.now < stamp.until && current.tip === stamp.tip;
}
