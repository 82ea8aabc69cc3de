// History in a shallow checkout. Over a URL, coord init clones only the
// branch's newest commit (`--depth 1`): a hub with 100k commits costs what one
// with 100 does. Each fetch then adds the new commits on top of what the
// checkout has and keeps the boundary, so what a sync reads (the tip's files)
// never goes past it.
//
// A question about older history does: what last changed a path, the commits
// that changed it, whether one commit is in another's history. Asked of a cut
// history, git answers for the cut history: a boundary commit has no parent
// there, so it looks as if it added every file it holds, and nothing below it
// is anyone's ancestor. Such an answer must never be taken for the real one
// (above all by the signed-orders check), so each of these questions is asked
// through here: on what the checkout has, and when the answer reaches the
// boundary, the checkout fetches older commits (`--deepen`, then the rest
// with `--unshallow`) and asks again, until the answer is the one a full
// clone gives. A complete checkout (a full clone, a hub on a local path,
// one deepened to its root) answers at once.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { backoffDelay, REF_LOCK_BACKOFF } from "../core/time/backoff.js";
import { CoordError, EXIT } from "../errors.js";
import { ownFileError } from "../failure.js";
import { plainGitDir } from "./dotgit.js";

/** What the questions need of a checkout. */
export interface HistoryGit {
  /** git in the checkout (`timeout` in seconds instead of the checkout's own). */
  run(args: string[], timeout?: number): Promise<string>;
  readonly dir: string;
  readonly remote: string;
  readonly branch: string;
  /** Seconds one git command may take (gitTimeout). */
  readonly timeout: number;
  /** A failed git command in one sentence. */
  describe(e: unknown): string;
}

/** A question about the history of `tip`. */
export interface HistoryQuestion<T> {
  /** What is asked, for an error: "the newest change of ORDERS.json". */
  what: string;
  tip: string;
  /**
   * When the walk is of `from..tip` (git log --ancestry-path): only a boundary commit there (not in `from`'s history)
   * can cut the answer; one below `from`, or on a line that left before it, cannot.
   */
  from?: string;
  /** Asks git on what the checkout has. */
  ask(): Promise<T>;
  /** The commits the answer names as changes (a boundary commit among them is no real change). */
  changes(answer: T): string[];
  /** Whether the answer is all that was asked for (a change found; as many commits as asked), so what lies below cannot change it. */
  full(answer: T): boolean;
}

/** Commits the checkout is deepened by, one step after another, before the rest of the history is fetched at once. */
export const DEEPEN_STEPS = [256, 4096] as const;

/** How many times the clone's deadline fetching the whole rest of the history may take (as much data as a clone). */
const UNSHALLOW_TIMEOUT_FACTOR = 5;

/** Where each checkout (by directory) keeps git's `shallow` file: asked of git once per process. */
const shallowFiles = new Map<string, string>();

/**
 * Where git keeps the checkout's `shallow` file, as git says. An answer that names no file (nothing: git's runner
 * takes a silent failure for an answer) would resolve to the checkout itself, a directory: asked once more, then a
 * failure of this sync (the next one asks again), never cached.
 */
async function shallowFileOf(h: HistoryGit, key: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const answer = (await h.run(["rev-parse", "--git-path", "shallow"])).trim();
    if (answer !== "" && !answer.includes("\n") && resolve(key, answer) !== key) return resolve(key, answer);
    if (attempt >= 2)
      throw new CoordError(
        `git did not say where the checkout ${key} keeps its shallow file (git rev-parse --git-path shallow answered ${answer === "" ? "nothing" : JSON.stringify(answer)}); run again`,
        EXIT.FAILURE,
      );
  }
}

/** The boundary commits of a shallow checkout (git's `shallow` file); empty for a complete one. */
export async function shallowBoundary(h: HistoryGit): Promise<Set<string>> {
  const key = resolve(h.dir);
  let path = shallowFiles.get(key);
  if (path === undefined) {
    // A checkout's own .git directory keeps it there (no git process); a worktree's or a submodule's, git says where.
    const gitDir = await plainGitDir(h.dir);
    path = gitDir ? join(gitDir, "shallow") : await shallowFileOf(h, key);
    if (shallowFiles.size > 100) shallowFiles.clear();
    shallowFiles.set(key, path);
  }
  const file = path;
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return ""; // no such file: a complete checkout
    throw ownFileError(e, "reading the boundary of this shallow checkout (git's shallow file)", file);
  });
  return new Set(
    text
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean),
  );
}

/** Whether `a` is `b` or one of its ancestors in the history the checkout has (false when either is unknown here). */
export async function ancestorHere(h: HistoryGit, a: string, b: string): Promise<boolean> {
  // git's runner (run.ts) does not fail on `merge-base --is-ancestor`'s exit code 1 alone: compare the merge base.
  // (Not `rev-list a ^b`, which holds no commit but stops where commit dates say it may: found in attack, a pusher's
  // commits dated 2001 between them made a revert's ancestor look apart from it, and a rollback passed.)
  return (
    (await h.run(["merge-base", a, b]).catch(() => "")) // exit 1: no common history, so not an ancestor
      .trim() === a
  );
}

/**
 * Whether the walk back from `tip` (down to `from`'s history, when given) reaches a boundary commit here (an answer
 * about its history may be cut there). A commit of the whole history that descends from `from` and is missing here
 * lies below a boundary commit that descends from it too: one in `from..tip`.
 */
async function reachesBoundary(h: HistoryGit, tip: string, boundary: ReadonlySet<string>, from?: string): Promise<boolean> {
  for (const commit of boundary) if ((await ancestorHere(h, commit, tip)) && !(from !== undefined && (await ancestorHere(h, commit, from)))) return true;
  return false;
}

/**
 * Fetches older history of the branch: `step` more commits below the
 * boundary, or all of it. Refs are left alone (`--refmap=`): the tracking
 * ref stays the tip the last fetch saw. Throws one sentence when git fails.
 */
export async function fetchOlder(h: HistoryGit, step: number | "all", what: string): Promise<void> {
  const args = ["fetch", "--quiet", "--no-tags", "--refmap=", step === "all" ? "--unshallow" : `--deepen=${step}`, h.remote, `refs/heads/${h.branch}`];
  for (let attempt = 1; ; attempt++) {
    try {
      await h.run(args, step === "all" ? h.timeout * UNSHALLOW_TIMEOUT_FACTOR : h.timeout);
      return;
    } catch (e) {
      const msg = String((e as Error)?.message ?? e);
      if (/on a complete repository/i.test(msg)) return; // another coord command completed it meanwhile
      // Another git command in this checkout (a fetch by coord status, another question) holds the lock, or
      // deepened it meanwhile (the questions of one sync are asked side by side).
      if (/shallow\.lock|shallow file has changed|cannot lock ref|unable to update local ref/i.test(msg) && attempt < 6) {
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, REF_LOCK_BACKOFF)));
        continue;
      }
      throw new CoordError(
        `could not fetch the older history needed for ${what} (this checkout is shallow: coord init cloned only the newest commit, and older ones are fetched when asked for): ${h.describe(e)}`,
        EXIT.FAILURE,
      );
    }
  }
}

/**
 * The answer to `q` a complete history gives. Asked on what the checkout
 * has; when the answer names a boundary commit as a change, or falls short
 * of what was asked while the walk reached the boundary, the checkout is
 * deepened (DEEPEN_STEPS, then all of it) and asked again. Throws when even
 * the whole history the remote has does not settle it (a hub that is itself
 * a shallow clone), or when fetching fails.
 */
export async function throughHistory<T>(h: HistoryGit, q: HistoryQuestion<T>): Promise<T> {
  for (let step = 0; ; step++) {
    // Read before asking: a deepening by another command in between then only costs a needless step, never a wrong answer.
    const boundary = await shallowBoundary(h);
    const answer = await q.ask();
    if (boundary.size === 0) return answer;
    const cut = q.changes(answer).some((c) => boundary.has(c));
    if (!cut && (q.full(answer) || !(await reachesBoundary(h, q.tip, boundary, q.from)))) return answer;
    if (step > DEEPEN_STEPS.length)
      throw new CoordError(
        `${q.what} lies beyond the history this checkout has, and the remote sent nothing older (is the hub itself a shallow clone?); a full clone of the hub answers it`,
        EXIT.FAILURE,
      );
    await fetchOlder(h, DEEPEN_STEPS[step] ?? "all", q.what);
  }
}

/**
 * Whether `a` is `b` or one of its ancestors in the whole history. A "no"
 * asked of a shallow checkout is final only when the walk back from `b`
 * reaches no boundary (all of `b`'s history is here: a rollback to an old
 * commit brings all of its history); otherwise the checkout is deepened
 * (DEEPEN_STEPS, then all of it) until `a` is found or nothing older is
 * left. False when `a` is unknown even then.
 */
export async function isAncestorInHistory(h: HistoryGit, a: string, b: string): Promise<boolean> {
  for (let step = 0; ; step++) {
    const boundary = await shallowBoundary(h); // before asking, as in throughHistory
    if (await ancestorHere(h, a, b)) return true; // a path found here is a path in the whole history
    if (boundary.size === 0 || !(await reachesBoundary(h, b, boundary))) return false;
    if (step > DEEPEN_STEPS.length) return false; // the remote sent nothing older: `a` is not in what it has
    await fetchOlder(h, DEEPEN_STEPS[step] ?? "all", `whether commit ${a.slice(0, 12)} is in the history of ${b.slice(0, 12)}`);
  }
}
