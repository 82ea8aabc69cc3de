// coord pause / resume: this machine claims and starts nothing new while
// paused (state `suspended`); with --stop, what runs is stopped too. Published
// at once (a sync that starts no task); a sync running tasks sees it at its
// next look at the remote. The fleet-wide controls are a person's, in
// ORDERS.json (`emergency`, `pause`): see core/hub/controls.ts.
import { CoordError, EXIT } from "../errors.js";
import { clearPause, writePause } from "../state/pause.js";
import { stateDirOf } from "../state/paths.js";
import { loadConfig, type MachineConfig } from "../state/config.js";
import { refuseUnpublishable } from "../state/secrets.js";
import { sync, type SyncResult } from "../sync/sync.js";

export interface PauseOptions {
  dir: string;
  reason?: string;
  /** Stop running tasks too (reported failed, "paused"). */
  stop?: boolean;
  /** Publish at once (default true). */
  now?: boolean;
}

async function machineState(dir: string): Promise<{ stateDir: string; config: MachineConfig }> {
  const stateDir = await stateDirOf(dir);
  const config = await loadConfig(stateDir);
  if (!config) throw new CoordError(`${dir} has no coord machine config; run coord init there first`, EXIT.USAGE);
  return { stateDir, config };
}

export async function pause(opts: PauseOptions): Promise<{ published?: SyncResult }> {
  const { stateDir, config } = await machineState(opts.dir);
  // Published as the machine's state's reason: what coord never publishes is refused (a token's shape is redacted there).
  await refuseUnpublishable(stateDir, config, "the reason", [opts.reason ?? ""]);
  await writePause(stateDir, { ...(opts.reason ? { reason: opts.reason } : {}), stop: opts.stop === true, since: new Date().toISOString() });
  return opts.now === false ? {} : { published: await sync({ dir: opts.dir, run: false }) };
}

export async function resume(opts: { dir: string; now?: boolean }): Promise<{ wasPaused: boolean; published?: SyncResult }> {
  const { stateDir } = await machineState(opts.dir);
  const wasPaused = await clearPause(stateDir);
  if (!wasPaused || opts.now === false) return { wasPaused };
  return { wasPaused, published: await sync({ dir: opts.dir, run: false }) };
}
