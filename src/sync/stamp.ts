// After a sync: the quiet stamp when it had nothing to do (src/core/machine/quiet.ts
// says until when), which the next sync answers from (src/sync/quiet.ts).
import { quietUntil } from "../core/machine/quiet.js";
import type { RepoModel } from "../core/repo/repo.js";
import type { Observation } from "../core/time/clock.js";
import { VERSION } from "../package.js";
import { clearQuiet, localFingerprint, writeQuiet } from "../state/quiet.js";
import { writtenMeanwhile } from "../state/written.js";
import type { MachineConfig } from "../state/config.js";
import type { TaskReport } from "../core/fleet/computer.js";

/** What a sync that had nothing to do leaves for the next one. */
export interface QuietEnd {
  tip: string;
  model: RepoModel;
  journal: Record<string, TaskReport>;
  observed: ReadonlyMap<string, Observation>;
  /** When the sync decided it had nothing to do (its plan step): the rules are asked from then (core/machine/quiet.ts). */
  decided?: Date;
  waiting: { id: string; reason: string }[];
  capabilitiesUntil?: number;
  /** Seconds after its published lastSeen that its heartbeat is due (the fleet's budget stretches it); default: the config's. */
  heartbeat?: number;
  /** A publish waits for the fleet's push budget until then (ms): the stamp ends then at the latest. */
  deferredUntil?: number;
}

/** After a sync: the stamp when it had nothing to do (`end`), else none, so that no older stamp answers. */
export async function leaveStamp(stateDir: string, config: MachineConfig, now: Date, end: QuietEnd | undefined): Promise<void> {
  const until =
    end &&
    quietUntil({
      now,
      me: config.name,
      model: end.model,
      journal: end.journal,
      observed: end.observed,
      ...(end.decided ? { decided: end.decided } : {}),
      heartbeat: end.heartbeat ?? config.heartbeat,
      claimLease: config.claimLease,
      retryBackoff: config.retryBackoff,
      messageRetention: config.messageRetention,
      ...(end.capabilitiesUntil !== undefined ? { capabilitiesUntil: end.capabilitiesUntil } : {}),
      ...(end.deferredUntil !== undefined ? { deferredUntil: end.deferredUntil } : {}),
    });
  if (!end || until === undefined) return clearQuiet(stateDir);
  // Last of all, so that the fingerprint holds what this sync wrote; then, whether another process changed what a
  // sync publishes after this one read it (a send in the meantime): its write is in the fingerprint, so no stamp.
  const fingerprint = await localFingerprint(stateDir);
  if (await writtenMeanwhile(stateDir)) return clearQuiet(stateDir);
  await writeQuiet(stateDir, {
    coord: 1,
    version: VERSION,
    machine: config.name,
    remote: config.remote,
    branch: config.branch,
    tip: end.tip,
    until,
    heartbeat: config.heartbeat, // the setting it synced with (the daemon's differs from cron's); `until` counts with the stretched one
    fingerprint,
    timeout: config.gitTimeout,
    waiting: end.waiting,
    ...(end.deferredUntil !== undefined ? { deferred: new Date(end.deferredUntil).toISOString() } : {}),
  });
}
