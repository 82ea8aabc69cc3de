// The checkout's work tree and its branch: brought up to the hub's people's
// branch by fast-forward only, losing nothing (a local edit, a commit of its
// own, stays and is named), following a force-push only where the old head
// was published; named and tracking as the hub's branch; and a file of it read
// never through a symbolic link. Only the people's branch is checked out
// (ORDERS.json as people edit it); the machines' branch lives in refs alone.
import { constants } from "node:fs";
import { type FileHandle, lstat, open } from "node:fs/promises";
import { join, resolve } from "node:path";
import { inTurnBy } from "../serial.js";
import type { Checkout } from "./checkout.js";
import { trackingRefOf } from "./client.js";
import { headFromFiles } from "./dotgit.js";
import { firstLine } from "./failures.js";
import { ancestorHere } from "./history.js";
import { commitOf } from "./hub.js";

/** The fast-forward running in each checkout (by path) in this process. */
const fastForwards = inTurnBy();

/**
 * Brings the checkout's branch up to `commit` when that is a fast-forward
 * and loses nothing; otherwise leaves it alone and says why.
 */
export async function fastForward(c: Checkout, tip: string): Promise<string | undefined> {
  // The work tree is the people's branch: ORDERS.json as people edit it.
  const commit = commitOf(tip, "people");
  // One at a time per checkout in this process: coord watch fast-forwards after its push while
  // its daemon's sync may fast-forward too, and two would fight over .git/index.lock.
  return fastForwards(resolve(c.dir), () => fastForwardNow(c, commit));
}

async function fastForwardNow(c: Checkout, commit: string): Promise<string | undefined> {
  // Already there (HEAD read from git's files, as after most syncs): nothing for git to do.
  const gitDir = await c.plainGitDir();
  if (gitDir && (await headFromFiles(gitDir)) === commit) return undefined;
  // The usual case in one git call: a clean checkout that is behind (or already there). Anything in the
  // way (local edits, an unborn branch, a rewritten history) takes the careful path below, which says why.
  const clean = await c
    .git()
    .raw(["merge", "--ff-only", "--quiet", commit])
    .then(
      () => true,
      () => false,
    );
  if (clean) return undefined;
  const head = await c.resolve("HEAD");
  try {
    if (!head) await c.git().raw(["checkout", "--quiet", "-B", c.branch, commit]);
    else if (head !== commit) {
      // A local edit that already is what the commit holds (a person's saved ORDERS.json that
      // coord watch pushed) is not in the way: stage the commit's version, then fast-forward.
      // Only the index is set, never the file: a save made since it was compared stays a local edit.
      const same = await editsEqualTo(c, commit);
      if (same.length) await c.git().raw(["reset", "--quiet", commit, "--", ...same]);
      try {
        await c.git().raw(["merge", "--ff-only", "--quiet", commit]);
      } catch (e) {
        // Put the index back as it was; if even that fails, the index holds what the work tree has, which
        // loses nothing. The merge's error is the one that says what happened.
        if (same.length)
          await c
            .git()
            .raw(["reset", "--quiet", "HEAD", "--", ...same])
            .catch(() => {});
        throw e;
      }
    }
    return undefined;
  } catch (e) {
    const msg = String((e as Error).message);
    const files = msg
      .split("\n")
      .filter((l) => /^\s+\S/.test(l) && !/^\s*(Please|Aborting)/.test(l))
      .map((l) => l.trim());
    // Not a fast-forward: when HEAD only holds commits the remote had (its history was rewritten by
    // a force-push), the checkout follows the remote; commits of its own are kept.
    // Asked of what this checkout has, even when shallow: HEAD and every tip it fetched arrived with all the
    // commits between them, so a "no" here is the whole history's (src/git/history.ts).
    if (head && !(await ancestorHere(c.history, head, commit))) {
      if (await wasPublished(c, head)) {
        const inTheWay = await c
          .git()
          .raw(["reset", "--keep", "--quiet", commit])
          .then(() => undefined)
          .catch((err: Error) => firstLine(String(err.message)));
        return inTheWay === undefined
          ? `the remote's history was rewritten (a force-push); the checkout follows it (its old head ${head.slice(0, 12)} is in git's reflog)`
          : `the remote's history was rewritten (a force-push); the checkout was not moved to it because local changes are in the way (${inTheWay}); they are kept`;
      }
      const upstream = `${c.remote}/${c.branch}`;
      return `the checkout was not updated to the new commit: its branch has commits ${upstream} does not (git log ${upstream}..HEAD shows them); they are kept`;
    }
    return `the checkout was not updated to the new commit (${firstLine(msg).replace(/:$/, "")}${files.length ? `: ${files.join(", ")}` : ""}); your local changes are kept`;
  }
}

/**
 * The checkout's branch named as the hub's and tracking it: a clone of an empty remote is left on git's
 * default branch name (init.defaultBranch: master, say) with no upstream, where `git pull` fails and a
 * plain `git push` would create another branch. Only for a checkout whose branch has no commit of its
 * own yet, or is another name for the hub's.
 */
export async function trackHubBranch(c: Checkout): Promise<void> {
  const current = (
    await c
      .git()
      .raw(["symbolic-ref", "--quiet", "--short", "HEAD"])
      .catch(() => "")
  ).trim();
  if (current && current !== c.branch) {
    const born = await c.resolveRef(`refs/heads/${current}`);
    if (born) await c.git().raw(["branch", "-M", current, c.branch]);
    else {
      await c.git().raw(["symbolic-ref", "HEAD", `refs/heads/${c.branch}`]);
      await c
        .git()
        .raw(["config", "--remove-section", `branch.${current}`])
        .catch(() => {}); // what the clone set for a branch that never was
    }
  }
  // A clone of an empty remote may have no fetch refspec at all: git could not tell the upstream's tracking ref.
  const refspecs = await c
    .git()
    .raw(["config", "--get-all", `remote.${c.remote}.fetch`])
    .catch(() => "");
  if (!refspecs.split("\n").some((r) => r.includes(`refs/heads/${c.branch}:`) || r.includes("refs/heads/*:")))
    await c.git().raw(["config", "--add", `remote.${c.remote}.fetch`, `+refs/heads/${c.branch}:${trackingRefOf(c.remote, c.branch)}`]);
  await c.git().raw(["config", `branch.${c.branch}.remote`, c.remote]);
  await c.git().raw(["config", `branch.${c.branch}.merge`, `refs/heads/${c.branch}`]);
}

/** Whether `commit` was on the remote branch at some time this checkout saw it (the tracking ref's reflog). */
async function wasPublished(c: Checkout, commit: string): Promise<boolean> {
  const seen = (
    await c
      .git()
      .raw(["log", "-g", "--format=%H", "-n", "200", c.trackingRef])
      .catch(() => "")
  ) // no reflog (reflogs off): nothing seen
    .split("\n")
    .filter(Boolean);
  for (const tip of [...new Set(seen)]) if (await ancestorHere(c.history, commit, tip)) return true;
  return false;
}

/** Files changed in the work tree whose content is exactly the one at `commit`. */
async function editsEqualTo(c: Checkout, commit: string): Promise<string[]> {
  const changed = (await c.git().raw(["diff", "--name-only", "-z", "HEAD"])).split("\0").filter(Boolean);
  const same: string[] = [];
  for (const path of changed) {
    const theirs = await c.showFile(commit, path);
    const mine = await readInCheckout(c.dir, path).catch(() => undefined); // deleted, or a link: not the same
    if (theirs !== undefined && theirs === mine) same.push(path);
  }
  return same;
}

/**
 * A file of the checkout's work tree, never through a symbolic link (a link
 * committed by anyone could point at any file of this machine): the path's
 * directories and the file itself must be real. Throws with a sentence.
 */
export async function readInCheckout(dir: string, path: string): Promise<string> {
  const parts = path.split("/").filter(Boolean);
  if (!parts.length || parts.some((p) => p === "..")) throw new Error(`${path} is not a path inside the checkout`);
  let at = dir;
  for (const part of parts.slice(0, -1)) {
    at = join(at, part);
    const st = await lstat(at);
    if (!st.isDirectory()) throw new Error(`${join(dir, path)} is not read: ${at} is ${st.isSymbolicLink() ? "a symbolic link" : "not a directory"}`);
  }
  const file = join(dir, path);
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOOP")
      throw new Error(`${file} is a symbolic link; coord reads no file of the checkout through a link: replace it with a regular file`);
    throw e;
  }
  try {
    if (!(await handle.stat()).isFile()) throw new Error(`${file} is not a regular file`);
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}
