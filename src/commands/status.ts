// coord status: the fleet as the remote's latest commit shows it.
import { readModel } from "../core/repo.js";
import { deriveStatus, isOffline, type StatusJson } from "../core/status.js";
import { CoordError, EXIT } from "../errors.js";
import { Repo } from "../git/git.js";
import { loadConfig } from "../state/config.js";
import { stateDirOf } from "../state/paths.js";
import { READ_PATHS } from "../sync/sync.js";

export interface StatusOptions {
  dir: string;
  fetch?: boolean;
  now?: Date;
}

export interface StatusResult {
  status: StatusJson;
  commit: string;
  /** Machines whose heartbeat is older than 3 intervals. */
  offline: string[];
}

export async function status(opts: StatusOptions): Promise<StatusResult> {
  const stateDir = await stateDirOf(opts.dir);
  const config = await loadConfig(stateDir);
  const repo = new Repo(opts.dir, stateDir, config?.remote ?? "origin", config?.branch ?? "main", config?.gitTimeout);
  const commit = opts.fetch === false ? await repo.resolve(repo.trackingRef) : await repo.fetch();
  if (!commit) throw new CoordError(`no commit of ${repo.remote}/${repo.branch} is known here; run coord status without --no-fetch`, EXIT.FAILURE);
  const status = deriveStatus(readModel(await repo.readFiles(commit, READ_PATHS)));
  const now = opts.now ?? new Date();
  const offline = Object.entries(status.machines)
    .filter(([, m]) => isOffline(m, now))
    .map(([name]) => name);
  return { status, commit, offline };
}
