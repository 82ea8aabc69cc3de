// The remote's branch tip, asked with one `git ls-remote` and nothing else
// loaded: the quiet sync (src/sync/quiet.ts) compares it with the tip its
// last sync ended on. The command runs as every coord git command does
// (env.ts): it never prompts, and it is killed at the deadline.
//
// A remote that let that look run into its deadline (it accepted the
// connection and never answered) is not asked again at once: the fetch the
// sync makes next takes the same failure (takeSilence), so that a silent hub
// costs a sync one gitTimeout, not two.
import { join, resolve } from "node:path";
import { isObjectId, plainGitDir, refFromFiles } from "./dotgit.js";
import { joinTip, MACHINES_BRANCH } from "../core/hub/branches.js";
import { EVERYONE, type WakesSeen, wakeRefOf } from "../core/hub/wake-refs.js";
import { processSlot } from "../process-slot.js";
import { gitCommandEnv } from "./env.js";
import { runGit } from "./run.js";

/**
 * The look at a remote's tip that ran into its deadline a moment ago, for whichever copy of this module
 * asked (src/process-slot.ts): the executable's quiet look, then the CLI's head start or the cycle's fetch.
 */
const silentSlot = processSlot<{ last: { dir: string; remote: string; until: number; error: unknown } | undefined }>("silentRemote");

/** Whether `e` is git stopped at its deadline (by its field: the other copy's run.ts made it). */
function timedOut(e: unknown): boolean {
  return e instanceof Error && (e as { why?: unknown }).why === "timeout";
}

/**
 * The deadline the look at `remote`'s tip from `dir` ran into a moment ago (within one more deadline),
 * taken once: the fetch that follows fails with it at once instead of waiting a second time. Undefined
 * when that look answered, failed otherwise, or was not made.
 */
export function takeSilence(dir: string, remote: string): unknown {
  const last = silentSlot.last;
  if (!last || last.dir !== resolve(dir) || last.remote !== remote) return undefined;
  silentSlot.last = undefined;
  return Date.now() < last.until ? last.error : undefined;
}

/**
 * The tip of `remote` (core/hub/branches.ts joinTip: `refs/heads/<branch>` and the
 * machines' branch, `refs/heads/coord`), or undefined when there is no
 * `branch`. Throws when the remote does not answer in `timeoutS`.
 */
export async function remoteTip(dir: string, remote: string, branch: string, timeoutS: number, signal?: AbortSignal): Promise<string | undefined> {
  return (await remoteLook(dir, remote, branch, timeoutS, undefined, signal)).tip;
}

/**
 * remoteTip, and in the same `git ls-remote` the wake refs of machine `wakesOf` (core/hub/wakes.ts: its own and the
 * fleet's) when asked: what each points at, or undefined when the hub has no such ref.
 */
export async function remoteLook(dir: string, remote: string, branch: string, timeoutS: number, wakesOf?: string, signal?: AbortSignal): Promise<{ tip?: string } & WakesSeen> {
  const { env, config } = gitCommandEnv(dir);
  const people = `refs/heads/${branch}`;
  const machines = `refs/heads/${MACHINES_BRANCH}`;
  if (silentSlot.last?.dir === resolve(dir)) silentSlot.last = undefined; // asked again: this answer counts
  let out: string;
  try {
    // As every coord git command (run.ts): at the deadline, git goes with its whole group (the ssh it started too).
    const refs = wakesOf ? [people, machines, wakeRefOf(wakesOf), wakeRefOf(EVERYONE)] : [people, machines];
    out = (await runGit([...config, "ls-remote", "--quiet", remote, ...refs], { cwd: dir, env, timeoutMs: timeoutS * 1000, ...(signal ? { signal } : {}) })).toString("utf8");
  } catch (e) {
    if (timedOut(e)) silentSlot.last = { dir: resolve(dir), remote, until: Date.now() + timeoutS * 1000, error: e };
    throw e;
  }
  const tips = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [sha, name] = line.split("\t");
    if (name && sha && /^[0-9a-f]{40,64}$/.test(sha)) tips.set(name, sha);
  }
  const p = tips.get(people);
  const wake = wakesOf ? tips.get(wakeRefOf(wakesOf)) : undefined;
  const everyone = wakesOf ? tips.get(wakeRefOf(EVERYONE)) : undefined;
  return { ...(p !== undefined ? { tip: joinTip(p, tips.get(machines)) } : {}), ...(wake !== undefined ? { wake } : {}), ...(everyone !== undefined ? { everyone } : {}) };
}

/** Where a look that brings what it saw (lookAndBring) keeps the hub's branches and wake refs as it saw them. */
export const LOOK_REFS = "refs/coord-look/";

/**
 * remoteLook, with the commits it saw brought here in the same read: one `git fetch` of both branches, and of the wake
 * refs of `wakesOf` and of the fleet, into LOOK_REFS (never the tracking refs: they stay the tip this machine last
 * synced on). A hub that did not move sends nothing more than its refs, as `git ls-remote` does; one that moved sends
 * what is new in the same connection, so the sync that follows fetches its tip with no read of the hub (Hub.fetch
 * with `seen`). A hub without the machines' branch yet (no machine published) is looked at with ls-remote. A wake ref
 * `known` to be on the hub (the last look saw it) is asked for by name, another as a pattern (a name's prefix: a wake
 * the hub lacks is no failure; "b*" also brings "bob"'s, read by no one); one gone since fails the fetch, and that
 * look is an ls-remote.
 */
export async function lookAndBring(
  dir: string,
  remote: string,
  branch: string,
  timeoutS: number,
  wakesOf: string,
  known: WakesSeen,
  signal?: AbortSignal,
): Promise<{ tip?: string } & WakesSeen> {
  const { env, config } = gitCommandEnv(dir);
  const into = (ref: string) => `${LOOK_REFS}${ref.slice("refs/".length)}`;
  const [people, machines, wake, everyone] = [`refs/heads/${branch}`, `refs/heads/${MACHINES_BRANCH}`, wakeRefOf(wakesOf), wakeRefOf(EVERYONE)];
  const wakeSpec = (ref: string, byName: boolean) => (byName ? `+${ref}:${into(ref)}` : `+${ref}*:${into(ref)}*`);
  const specs = [`+${people}:${into(people)}`, `+${machines}:${into(machines)}`, wakeSpec(wake, known.wake !== undefined), wakeSpec(everyone, known.everyone !== undefined)];
  if (silentSlot.last?.dir === resolve(dir)) silentSlot.last = undefined; // asked again: this answer counts
  try {
    // Into LOOK_REFS alone (an empty --refmap: git would also move the tracking refs the remote's config maps the
    // branches to), no FETCH_HEAD written (twice a second, for nobody), no automatic gc in a look (the sync's fetch runs
    // it), and a wake ref gone from the hub goes here too. Settings an older git does not know it ignores.
    const quiet = ["-c", "fetch.writeFetchHEAD=false", "-c", "gc.auto=0", "-c", "maintenance.auto=false"];
    const args = [...config, ...quiet, "fetch", "--quiet", "--no-tags", "--refmap=", "--prune", remote, ...specs];
    await runGit(args, { cwd: dir, env, timeoutMs: timeoutS * 1000, ...(signal ? { signal } : {}) });
  } catch (e) {
    if (timedOut(e)) silentSlot.last = { dir: resolve(dir), remote, until: Date.now() + timeoutS * 1000, error: e };
    if (/couldn't find remote ref/i.test(String((e as Error)?.message))) return remoteLook(dir, remote, branch, timeoutS, wakesOf, signal);
    throw e;
  }
  const refs = await readRefs(dir, [into(people), into(machines), into(wake), into(everyone)]);
  const [p, m, w, all] = [into(people), into(machines), into(wake), into(everyone)].map((r) => refs.get(r));
  return { ...(p !== undefined ? { tip: joinTip(p, m) } : {}), ...(w !== undefined ? { wake: w } : {}), ...(all !== undefined ? { everyone: all } : {}) };
}

/** What `refs` name in the checkout `dir`: read from git's files where they can say (dotgit.ts), else asked of git. */
async function readRefs(dir: string, refs: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const gitDir = await plainGitDir(dir);
  const ids = gitDir ? await Promise.all(refs.map((r) => refFromFiles(gitDir, r))) : [];
  // The files say nothing of the branch (a reftable, a worktree's .git file): git answers for all of them.
  if (ids[0] !== undefined) {
    for (const [i, r] of refs.entries()) {
      const id = ids[i];
      if (id !== undefined) out.set(r, id);
    }
    return out;
  }
  const { env } = gitCommandEnv(dir);
  const listed = (await runGit(["for-each-ref", "--format=%(objectname) %(refname)", LOOK_REFS], { cwd: dir, env, timeoutMs: 30_000 })).toString("utf8");
  for (const line of listed.split("\n")) {
    const [id, ref] = line.split(" ");
    if (id && ref && refs.includes(ref) && isObjectId(id)) out.set(ref, id);
  }
  return out;
}

/**
 * The tip of a hub on a path (`hub`: the remote's URL as git resolved it, a path or file://, relative to the
 * checkout `dir`), read from the hub's own ref files: no git process, a few microseconds where ls-remote costs
 * two processes (about 70 ms of CPU a look on a 2-core machine). Undefined when git must answer: a hub that keeps
 * its refs otherwise (a reftable), a branch in neither file, anything odd; the caller then asks git.
 */
export async function localTip(dir: string, hub: string, branch: string): Promise<string | undefined> {
  return (await localLook(dir, hub, branch))?.tip;
}

/**
 * localTip, and the wake refs of machine `wakesOf` (its own and the fleet's) read from the same files when asked.
 * Undefined where localTip is (git must answer); a wake ref the files do not hold is none (refFromFiles reads loose
 * and packed refs).
 */
export async function localLook(dir: string, hub: string, branch: string, wakesOf?: string): Promise<({ tip: string } & WakesSeen) | undefined> {
  const path = resolve(dir, hub.replace(/^file:\/\//i, ""));
  // A bare hub is its own git directory; a hub with a work tree keeps it in .git.
  for (const gitDir of [path, join(path, ".git")]) {
    const people = await refFromFiles(gitDir, `refs/heads/${branch}`);
    if (people === undefined) continue;
    const machines = await refFromFiles(gitDir, `refs/heads/${MACHINES_BRANCH}`);
    if (machines === undefined) return undefined;
    const [wake, everyone] = wakesOf ? await Promise.all([refFromFiles(gitDir, wakeRefOf(wakesOf)), refFromFiles(gitDir, wakeRefOf(EVERYONE))]) : [];
    return { tip: joinTip(people, machines), ...(wake !== undefined ? { wake } : {}), ...(everyone !== undefined ? { everyone } : {}) };
  }
  return undefined;
}
