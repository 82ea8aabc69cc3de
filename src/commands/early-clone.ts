// coord init's clone, started before the CLI loads (src/cli/entry.ts), as a
// sync's fetch is (src/sync/prefetch.ts): the clone waits on the network
// while the CLI loads, and init takes it where it would clone. It starts only
// into a directory that does not exist (what is there is init's to judge); a
// clone init did not take (an invalid option, a usage error) is removed, as
// init would not have cloned. Light to load: git's runner and its environment.
import { lstat, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { cloneCheckout } from "../git/clone.js";
import { GitStopped } from "../git/run.js";

export interface EarlyCloneArgs {
  dir: string;
  remote: string;
  branch: string;
}

/** How the clone ended: undefined when it is there, or why not. */
type Outcome = { error: unknown } | undefined;

let started: (EarlyCloneArgs & { cloned: Promise<Outcome>; stop: AbortController; taken: boolean }) | undefined;

/** Starts cloning `remote` into `dir` when `dir` does not exist. */
export async function startEarlyClone(args: EarlyCloneArgs): Promise<void> {
  const dir = resolve(args.dir);
  const there = await lstat(dir).then(
    () => true,
    () => false,
  );
  if (there) return;
  const stop = new AbortController();
  const cloned = cloneCheckout(args.remote, dir, args.branch, { signal: stop.signal }).then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  started = { dir, remote: args.remote, branch: args.branch, cloned, stop, taken: false };
}

/** The clone started for `dir` from `remote`'s `branch`, once: how it ended; undefined when none was started for them (init clones itself). */
export function takeEarlyClone(dir: string, remote: string, branch: string): Promise<Outcome> | undefined {
  const mine = started;
  if (!mine || mine.taken || mine.dir !== resolve(dir) || mine.remote !== remote || mine.branch !== branch) return undefined;
  mine.taken = true;
  return mine.cloned;
}

/** A clone nobody took is stopped, and what it made removed (git removes a clone it did not finish itself). */
export async function dropEarlyClone(): Promise<void> {
  const mine = started;
  started = undefined;
  if (!mine || mine.taken) return;
  mine.stop.abort();
  const outcome = await mine.cloned;
  // Finished, or stopped by us: what is there is this clone's (a clone stopped as it ended may leave it all).
  if (outcome === undefined || (outcome.error instanceof GitStopped && outcome.error.why === "abort")) await rm(mine.dir, { recursive: true, force: true });
}
