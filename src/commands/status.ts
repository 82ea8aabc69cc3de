// coord status: the fleet as the remote's latest commit shows it, or, when the
// remote does not answer soon, as the last fetch saw it (and it says so).
import { readModel, type RepoModel } from "../core/repo.js";
import { isOffline } from "../core/presence.js";
import { deriveStatus, type StatusJson } from "../core/status.js";
import { CoordError, EXIT } from "../errors.js";
import { DEFAULT_GIT_TIMEOUT, Repo } from "../git/git.js";
import { loadConfig } from "../state/config.js";
import { stateDirOf } from "../state/paths.js";
import { READ_PATHS } from "../sync/sync.js";
import { loadParsed } from "../state/parsed.js";

export interface StatusOptions {
  dir: string;
  fetch?: boolean;
  now?: Date;
}

export interface StatusResult {
  status: StatusJson;
  /** What the status was derived from (coord ui reads messages and output tails from it). */
  model: RepoModel;
  commit: string;
  /** Machines whose heartbeat is older than 3 intervals. */
  offline: string[];
  /** Set when the fetch failed: why, and that what is shown is the state as of the last fetch. */
  stale?: string;
}

/** Seconds status waits for the remote before it shows the last fetched state. */
export const STATUS_FETCH_TIMEOUT = 10;

export async function status(opts: StatusOptions): Promise<StatusResult> {
  const stateDir = await stateDirOf(opts.dir);
  const config = await loadConfig(stateDir);
  const timeout = Math.min(config?.gitTimeout ?? DEFAULT_GIT_TIMEOUT, STATUS_FETCH_TIMEOUT);
  const repo = new Repo(opts.dir, stateDir, config?.remote ?? "origin", config?.branch ?? "main", timeout);
  let commit: string | undefined;
  let stale: string | undefined;
  if (opts.fetch === false) commit = await repo.resolve(repo.trackingRef);
  else
    try {
      commit = await repo.fetch();
    } catch (e) {
      // The remote is down or silent: what this checkout last fetched is still worth seeing.
      commit = await repo.resolve(repo.trackingRef);
      if (!commit || !(e instanceof CoordError)) throw e;
      const when = await repo.lastFetchedAt();
      stale = `${e.message}; showing the fleet as of the last fetch${when ? ` (${when})` : ""}`;
    }
  if (!commit) throw new CoordError(`no commit of ${repo.remote}/${repo.branch} is known here; run coord status without --no-fetch`, EXIT.FAILURE);
  await loadParsed(stateDir); // what the machine's syncs parsed: a large fleet's files are not parsed again
  const model = readModel(await repo.readFiles(commit, READ_PATHS));
  const status = deriveStatus(model);
  const now = opts.now ?? new Date();
  const offline = Object.entries(status.machines)
    .filter(([, m]) => isOffline(m, now))
    .map(([name]) => name);
  return { status, model, commit, offline, ...(stale ? { stale } : {}) };
}
