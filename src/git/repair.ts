// Repairing a checkout that git left broken, so that a machine keeps working
// unattended: stale lock files of a killed git, a merge, rebase, cherry-pick or
// revert left half done, and a corrupt object store (re-cloned, with coord's
// local state carried over). Nothing the user may need is ever deleted: work
// in progress is copied aside before an abort, and a corrupt checkout is kept
// whole next to the new one.
import { randomBytes } from "node:crypto";
import { access, cp, mkdir, readdir, realpath, rm, stat } from "node:fs/promises";
import { rename } from "../platform/files.js";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { GitFailed, GitStopped } from "./run.js";
import { redact } from "../core/trust/redact.js";
import { DEFAULT_GIT_TIMEOUT, gitClient } from "./client.js";
import { firstLine } from "./failures.js";
import { absoluteGitDir, cloneCheckout, configGet } from "./local.js";
import { cwdOf, processesNamed } from "../platform/processes.js";

export interface RepairOptions {
  /** The remote: a configured remote name ("origin") or a URL / path. */
  remote: string;
  branch: string;
  log?: (s: string) => void;
  /** A lock file older than this (ms) is left over from a git that died (60 s). */
  staleLockMs?: number;
  /** Seconds each git command may take (gitTimeout, 30 by default; a clone gets 5 times as much). */
  timeout?: number;
  now?: () => Date;
  /** A merge, rebase, cherry-pick or revert untouched for this long (ms) was left half-done (1 hour). */
  staleOperationMs?: number;
  /** Also run `git fsck` (and re-clone a corrupt checkout); it reads the whole history, so sync does it only after a failure. Default true. */
  fsck?: boolean;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Lock files git takes at the top of its directory (besides refs/**.lock). */
const TOP_LOCKS = ["index.lock", "shallow.lock", "HEAD.lock", "ORIG_HEAD.lock", "FETCH_HEAD.lock", "packed-refs.lock", "config.lock"];

async function refLocks(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) found.push(...(await refLocks(p)));
    else if (e.name.endsWith(".lock")) found.push(p);
  }
  return found;
}

/**
 * Whether a git process works in this checkout now (its name and working directory, from the process table:
 * platform/processes.ts): a person's `git commit` with its editor open holds index.lock for as long as they write,
 * however old the file.
 */
async function gitRunningIn(workTree: string): Promise<boolean> {
  for (const pid of await processesNamed((name) => name === "git" || name.startsWith("git-"))) {
    const cwd = await cwdOf(pid);
    if (cwd && (cwd === workTree || cwd.startsWith(`${workTree}/`))) return true;
  }
  return false;
}

/** Stale git lock files, removed (never while a git runs in the checkout). */
async function removeStaleLocks(gitDir: string, staleMs: number, now: number, report: (s: string) => void): Promise<void> {
  const candidates = [...TOP_LOCKS.map((n) => join(gitDir, n)), ...(await refLocks(join(gitDir, "refs")))];
  let live: boolean | undefined;
  for (const path of candidates) {
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) continue;
    const age = now - st.mtimeMs;
    if (age < staleMs) continue;
    live ??= await gitRunningIn(await realpath(dirname(gitDir)).catch(() => dirname(gitDir)));
    if (live) {
      report(`left the lock ${relative(dirname(gitDir), path)} alone: a git runs in this checkout`);
      continue;
    }
    try {
      await rm(path);
      report(`removed the stale lock ${relative(dirname(gitDir), path)} (left ${Math.round(age / 1000)}s ago by a git that stopped)`);
    } catch (e) {
      report(`could not remove the stale lock ${path}: ${(e as Error).message}`);
    }
  }
}

interface Operation {
  what: string;
  marker: string;
  abort: string[];
}

async function inProgress(gitDir: string): Promise<Operation[]> {
  const ops: Operation[] = [];
  if (await exists(join(gitDir, "MERGE_HEAD"))) ops.push({ what: "merge", marker: "MERGE_HEAD", abort: ["merge", "--abort"] });
  if (await exists(join(gitDir, "rebase-merge"))) ops.push({ what: "rebase", marker: "rebase-merge", abort: ["rebase", "--abort"] });
  if (await exists(join(gitDir, "rebase-apply"))) {
    const am = await exists(join(gitDir, "rebase-apply", "applying"));
    ops.push(am ? { what: "git am", marker: "rebase-apply", abort: ["am", "--abort"] } : { what: "rebase", marker: "rebase-apply", abort: ["rebase", "--abort"] });
  }
  if (await exists(join(gitDir, "CHERRY_PICK_HEAD"))) ops.push({ what: "cherry-pick", marker: "CHERRY_PICK_HEAD", abort: ["cherry-pick", "--abort"] });
  if (await exists(join(gitDir, "REVERT_HEAD"))) ops.push({ what: "revert", marker: "REVERT_HEAD", abort: ["revert", "--abort"] });
  return ops;
}

const stampOf = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");

/**
 * Copies every work-tree file that differs from HEAD (conflict resolutions in
 * progress, edits) to <stateDir>/repair/<stamp>/ before an abort. Returns the
 * folder, or undefined when nothing differed.
 */
async function saveWork(dir: string, gitDir: string, stamp: string, timeout: number): Promise<string | undefined> {
  const git = gitClient(dir, { timeout });
  // A checkout too broken to diff (no HEAD yet, a damaged index) has nothing to copy aside: the abort still runs.
  const listed = await git.raw(["diff", "--name-only", "-z", "HEAD"]).catch(() => "");
  const unmerged = await git.raw(["diff", "--name-only", "-z", "--diff-filter=U"]).catch(() => "");
  const paths = [...new Set([...listed.split("\0"), ...unmerged.split("\0")].filter(Boolean))];
  const backup = join(gitDir, "coord", "repair", stamp);
  let saved = 0;
  for (const p of paths) {
    const from = join(dir, p);
    if (!(await exists(from))) continue;
    await mkdir(dirname(join(backup, p)), { recursive: true });
    await cp(from, join(backup, p), { recursive: true, preserveTimestamps: true });
    saved++;
  }
  return saved ? backup : undefined;
}

async function abortOperations(dir: string, gitDir: string, stamp: string, timeout: number, report: (s: string) => void, staleMs: number, nowMs: number): Promise<void> {
  // Only an operation nobody touched for a while was left half-done; a person may be resolving one right now.
  const ops = [];
  for (const op of await inProgress(gitDir)) {
    const age = nowMs - ((await stat(join(gitDir, op.marker)).catch(() => undefined))?.mtimeMs ?? nowMs);
    if (age >= staleMs) ops.push(op);
  }
  if (!ops.length) return;
  let backup: string | undefined;
  try {
    backup = await saveWork(dir, gitDir, stamp, timeout);
  } catch (e) {
    // Without a copy of the work in progress, nothing is aborted.
    report(`could not save the work in progress before aborting the ${ops.map((o) => o.what).join(", ")} (${(e as Error).message}); left as is`);
    return;
  }
  for (const op of ops) {
    if (!(await exists(join(gitDir, op.marker)))) continue; // an earlier abort ended it too
    try {
      await gitClient(dir, { timeout }).raw(op.abort);
      if (await exists(join(gitDir, op.marker))) throw new Error(`${op.marker} is still there`);
      report(`aborted a ${op.what} left in progress (git ${op.abort.join(" ")})${backup ? `; the changed files were copied to ${backup} first` : ""}`);
    } catch (e) {
      report(`could not abort the ${op.what} in progress (${firstLine(String((e as Error).message))}); left as is, finish or abort it by hand`);
    }
  }
}

type Fsck = { ok: true } | { ok: false; corrupt: boolean; message: string };

async function fsck(dir: string, timeout: number): Promise<Fsck> {
  try {
    // A failing fsck may say why only on stdout ("missing blob …") and exit 2 with nothing on stderr,
    // which is no failure to git's runner (src/git/run.ts): the report is read instead.
    const out = await gitClient(dir, { timeout }).raw(["fsck", "--connectivity-only", "--no-progress", "--no-dangling"]);
    const problems = out
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !/^(notice|dangling|warning)\b/i.test(l));
    if (problems.length) return { ok: false, corrupt: true, message: `${problems[0]}${problems.length > 1 ? ` and ${problems.length - 1} more` : ""}` };
    return { ok: true };
  } catch (e) {
    const message = firstLine(String((e as Error).message)) || "git fsck failed";
    // A timeout, a git killed by a signal (Ctrl-C, the OOM killer, a service stopped) or a git that cannot start says nothing about the checkout.
    const killed = e instanceof GitFailed && e.exitCode === null;
    const corrupt = !(e instanceof GitStopped) && !killed && !/ENOENT|spawn/i.test(String((e as Error).message));
    return { ok: false, corrupt, message };
  }
}

/** The remote's URL (a configured remote name is looked up), and the name to give the new clone's remote. */
async function remoteOf(dir: string, remote: string): Promise<{ url: string; name: string }> {
  const configured = await configGet(dir, `remote.${remote}.url`, { timeout: 20 });
  const url = configured || remote;
  const name = configured ? remote : "origin";
  // A relative path is relative to the checkout; the clone runs elsewhere.
  const isPath = !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^[^/\\]+@?[^/\\]*:/.test(url);
  return { url: isPath && !isAbsolute(url) ? resolve(dir, url) : url, name };
}

async function freeSibling(base: string): Promise<string> {
  for (;;) {
    const p = `${base}${(await exists(base)) ? `-${randomBytes(3).toString("hex")}` : ""}`;
    if (!(await exists(p))) return p;
  }
}

/**
 * A fresh clone in a sibling folder; coord's local state (.git/coord: identity,
 * journal, mailbox, logs) moved into it; then the folders swapped. The old
 * checkout stays as <dir>.broken-<stamp>. Returns that path.
 */
async function reclone(dir: string, gitDir: string, opts: RepairOptions, stamp: string, timeout: number, log: (s: string) => void): Promise<string> {
  const real = (p: string) => realpath(p).catch(() => resolve(p));
  if ((await real(gitDir)) !== (await real(join(dir, ".git")))) throw new Error(`its git directory ${gitDir} is not ${join(dir, ".git")}; re-clone it by hand`);
  const { url, name } = await remoteOf(dir, opts.remote);
  const tmp = await freeSibling(`${dir}.reclone-${stamp}`);
  const broken = await freeSibling(`${dir}.broken-${stamp}`);
  log(`cloning ${redact(url)} into ${tmp}`);
  try {
    // As coord init clones (shallow over a URL; with the broken checkout's git settings: its ssh key); an empty remote,
    // without the branch yet, as it is.
    await cloneCheckout(url, tmp, opts.branch, { cwd: dirname(dir), settingsOf: dir, timeout: timeout * 5, origin: name });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`could not clone ${redact(url)}: ${firstLine(String((e as Error).message))}`);
  }
  const oldState = join(gitDir, "coord");
  const newState = join(tmp, ".git", "coord");
  const hasState = await exists(oldState);
  // Three renames in a row: the state moves, then the folders swap.
  if (hasState) await rename(oldState, newState);
  try {
    await rename(dir, broken);
  } catch (e) {
    if (hasState) await rename(newState, oldState);
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`could not move ${dir} aside: ${(e as Error).message}`);
  }
  try {
    await rename(tmp, dir);
  } catch (e) {
    await rename(broken, dir);
    if (hasState) await rename(newState, oldState);
    throw new Error(`could not move the new clone into place: ${(e as Error).message}`);
  }
  return broken;
}

/**
 * Repairs what git left broken in the checkout `dir`; returns one sentence per
 * thing repaired, and per thing it could not repair (those start with "could
 * not"). Run it while holding the checkout's sync lock, with an absolute
 * `dir`, and not from a process whose working directory is inside `dir` (a
 * re-clone swaps the folder).
 */
export async function repairCheckout(dir: string, opts: RepairOptions): Promise<string[]> {
  const log = opts.log ?? (() => {});
  const now = opts.now ?? (() => new Date());
  const timeout = opts.timeout ?? DEFAULT_GIT_TIMEOUT;
  const staleMs = opts.staleLockMs ?? 60_000;
  dir = resolve(dir);
  const done: string[] = [];
  const report = (s: string) => {
    done.push(s);
    log(s);
  };
  let gitDir = join(dir, ".git");
  try {
    const found = await absoluteGitDir(dir);
    if (found) gitDir = found;
  } catch {
    // A badly broken checkout: .git is where it normally is.
  }
  if (!(await exists(gitDir))) {
    report(`could not repair ${dir}: it is not a git checkout`);
    return done;
  }
  const stamp = stampOf(now());

  await removeStaleLocks(gitDir, staleMs, now().getTime(), report);
  await abortOperations(dir, gitDir, stamp, timeout, report, opts.staleOperationMs ?? 3_600_000, now().getTime());

  if (opts.fsck === false) return done;
  const check = await fsck(dir, timeout);
  if (!check.ok) {
    if (!check.corrupt) {
      report(`could not check the checkout for corruption (${check.message})`);
      return done;
    }
    log(`the checkout is corrupt (${check.message}); re-cloning`);
    try {
      const broken = await reclone(dir, gitDir, opts, stamp, timeout, log);
      report(
        `the checkout was corrupt (${check.message}): re-cloned it, keeping coord's local state; the old checkout is kept at ${broken} (it may hold your files: move what you need, then delete it)`,
      );
    } catch (e) {
      report(`could not re-clone the corrupt checkout (${check.message}): ${(e as Error).message}`);
    }
  }
  return done;
}

/** The old checkouts a re-clone kept aside (<dir>.broken-*). */
export async function brokenCheckouts(dir: string): Promise<string[]> {
  dir = resolve(dir);
  const prefix = `${basename(dir)}.broken-`;
  const names = await readdir(dirname(dir)).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix)).map((n) => join(dirname(dir), n));
}
