// coord init's clone, started before the CLI loads (src/cli/entry.ts), as a
// sync's fetch is (src/startup/prefetch.ts): the clone waits on the network
// while the CLI loads, and init takes it where it would clone. It starts only
// into a directory that does not exist, in one that does (what is there is
// init's to judge); a clone init did not take (an invalid option, a usage
// error) is removed, as init would not have cloned. Light to load: git's
// runner and its environment. What it buys, and the bench row that shows it:
// src/startup/tricks.ts.
import { lstat, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { cloneCheckout, cloneSettings } from "../git/clone.js";
import type { GitStopped } from "../git/run.js";
import { processSlot } from "../process-slot.js";

export interface EarlyCloneArgs {
  dir: string;
  remote: string;
  branch: string;
}

/** How the clone ended: undefined when it is there, or why not. */
type Outcome = { error: unknown } | undefined;

/** The early clone of this process: one, whichever copy of this module started it (src/process-slot.ts). */
const slot = processSlot<{ started: (EarlyCloneArgs & { cloned: Promise<Outcome>; stop: AbortController; taken: boolean }) | undefined }>("earlyClone");

/** Starts cloning `remote` into `dir` when `dir` does not exist and the directory that would hold it does. */
export async function startEarlyClone(args: EarlyCloneArgs): Promise<void> {
  const dir = resolve(args.dir);
  const there = (path: string) =>
    lstat(path).then(
      () => true,
      () => false,
    );
  // Not into a new parent: git would make it, and an init refused (a bad --name) would leave it behind.
  if ((await there(dir)) || !(await there(dirname(dir)))) return;
  const stop = new AbortController();
  // Whose git settings first (the new checkout's ssh key): the clone then starts before this returns, not after the CLI compiled.
  const settingsOf = await cloneSettings(args.remote, dir);
  const cloned = cloneCheckout(args.remote, dir, args.branch, { signal: stop.signal, settingsOf }).then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  slot.started = { dir, remote: args.remote, branch: args.branch, cloned, stop, taken: false };
}

/** The clone started for `dir` from `remote`'s `branch`, once: how it ended; undefined when none was started for them (init clones itself). */
export function takeEarlyClone(dir: string, remote: string, branch: string): Promise<Outcome> | undefined {
  const mine = slot.started;
  if (!mine || mine.taken || mine.dir !== resolve(dir) || mine.remote !== remote || mine.branch !== branch) return undefined;
  mine.taken = true;
  return mine.cloned;
}

/** A clone this module's stop ended (a GitStopped of either copy of git/run.ts, src/process-slot.ts). */
function stoppedByUs(e: unknown): boolean {
  return e instanceof Error && (e as Partial<GitStopped>).why === "abort";
}

/** A clone nobody took is stopped, and what it made removed (git removes a clone it did not finish itself). */
export async function dropEarlyClone(): Promise<void> {
  const mine = slot.started;
  slot.started = undefined;
  if (!mine || mine.taken) return;
  mine.stop.abort();
  const outcome = await mine.cloned;
  // Finished, or stopped by us: what is there is this clone's (a clone stopped as it ended may leave it all).
  if (outcome === undefined || stoppedByUs(outcome.error)) await rm(mine.dir, { recursive: true, force: true });
}
