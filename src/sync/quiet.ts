// The quiet sync: when the last sync had nothing to do (src/core/machine/quiet.ts
// says until when that holds), a sync first compares the remote's tip with
// the one that sync ended on, and the local state with what it was. All the
// same: nothing to do, at the cost of one `git ls-remote`. Anything
// different, or any doubt: the ordinary sync runs. `coord sync` asks this
// before it loads the rest of coord (src/cli/entry.ts); a daemon asks it at
// each tick (syncMachine).
import { type QuietStamp, stampHolds } from "../core/machine/quiet-stamp.js";
import { VERSION } from "../package.js";
import { join } from "node:path";
import { plainGitDir } from "../git/dotgit.js";
import { remoteTip } from "../git/remote-tip.js";
import { appendLog, CRON_LOG, rotateOutputFile } from "../state/logs.js";
import { KNOWN_FLEET_FILE, localFingerprint, readQuiet } from "../state/quiet.js";
import { stat } from "node:fs/promises";

/** The stamp, when it answers for a sync now: the tip (asked with `tipOf`) and the local state are as it says. */
async function quietAnswer(
  stateDir: string,
  tipOf: (stamp: QuietStamp) => Promise<string | undefined>,
  now: () => number,
  heartbeat: number | undefined,
): Promise<QuietStamp | undefined> {
  const stamp = await readQuiet(stateDir);
  if (!stamp || stamp.version !== VERSION || now() >= stamp.until) return undefined;
  // Made with a longer heartbeat (a cron sync's, read by the daemon): its `until` may be past this one's heartbeat.
  if (heartbeat !== undefined && stamp.heartbeat !== heartbeat) return undefined;
  const fingerprint = await localFingerprint(stateDir);
  if (fingerprint !== stamp.fingerprint) return undefined;
  // The fleet a send checks names against, written by a sync's delivery: missing (a stamp of a coord before it), or no
  // file (a directory, a FIFO in its place), a sync writes it, or says why it cannot.
  if (!(await stat(join(stateDir, KNOWN_FLEET_FILE)).catch(() => undefined))?.isFile()) return undefined;
  // A remote that does not answer: the ordinary sync says why and counts the failure. One that ran into
  // the deadline is not waited for again: the sync's fetch fails with the same timeout (git/remote-tip.ts takeSilence).
  const tip = await tipOf(stamp).catch(() => undefined);
  return stampHolds(stamp, { version: VERSION, fingerprint, now: now(), tip }) ? stamp : undefined;
}

/**
 * A sync answered from the stamp, as the sync it stands for: a scheduled
 * run keeps cron.log bounded, and coord.log gets its line. Undefined: the
 * ordinary sync must run.
 */
export async function answerQuietly(
  stateDir: string,
  tipOf: (stamp: QuietStamp) => Promise<string | undefined>,
  opts: { scheduled: boolean; now: () => number; heartbeat?: number },
): Promise<QuietStamp | undefined> {
  const started = Date.now();
  const stamp = await quietAnswer(stateDir, tipOf, opts.now, opts.heartbeat);
  if (!stamp) return undefined;
  if (opts.scheduled) await keepCronLogBounded(stateDir);
  await logQuiet(stateDir, stamp.machine, Date.now() - started);
  return stamp;
}

/**
 * The quiet answer for the checkout in `dir`, read without opening the
 * machine (its config is in the stamp). A checkout whose `.git` is a file
 * (a worktree, a submodule) always syncs the ordinary way.
 */
export async function quietCheckout(dir: string, opts: { scheduled: boolean }): Promise<QuietStamp | undefined> {
  const gitDir = await plainGitDir(dir);
  if (!gitDir) return undefined;
  return answerQuietly(join(gitDir, "coord"), (s) => remoteTip(dir, s.remote, s.branch, s.timeout), { ...opts, now: Date.now });
}

/** The crontab line appends each run's output to cron.log: a scheduled sync, quiet or not, keeps it bounded. */
export function keepCronLogBounded(stateDir: string): Promise<void> {
  return rotateOutputFile(join(stateDir, CRON_LOG)).then(
    () => {},
    () => {}, // a file that cannot be moved aside fails no sync
  );
}

/** The coord.log line of a quiet sync. */
function logQuiet(stateDir: string, machine: string, durationMs: number): Promise<void> {
  return appendLog(stateDir, { kind: "sync", machine, ok: true, durationMs, ran: [], delivered: 0, quiet: true }).catch(() => {}); // a log that cannot be written fails no sync
}
