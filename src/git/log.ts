// The history's questions a Repo answers (git log, rev-list): the latest
// commits of a branch, the commits that changed some paths, a machines'
// commit's history mark (how deep its branch is), the fleet's recent commits,
// ancestry, and whether a branch was restarted. Each question that may reach
// past a shallow checkout's boundary is asked through history.ts, so that its
// answer is the whole history's. Who changed a path last, and whether the
// change is signed, is last-change.ts's.
import { type HistoryMark, parseHistoryTrailer } from "../core/hub/status-history.js";
import { roleOf } from "../core/trust/ownership.js";
import type { Checkout } from "./checkout.js";
import { isAncestorInHistory, shallowBoundary, throughHistory } from "./history.js";
import { commitOf, ORDERS_TRAILER, type PathCommit, type PathLogEntry, splitTip } from "./hub.js";
import { commitBodies, historyMarks, markCommit } from "./memo.js";
import { commitParentsAndAuthor } from "./objects.js";

/** A commit as Repo.recentCommits lists it. */
export interface RecentCommit {
  /** Seconds since the epoch. */
  committedAt: number;
  parents: string[];
  committer: string;
}

/** The latest `max` commits reachable from `tip` (of a tip: its machines' branch), newest first: when each was committed (seconds), its parents, its committer's name. */
export async function recentCommits(c: Checkout, tip: string, max: number): Promise<RecentCommit[]> {
  const out = await c.git().raw(["log", "-n", String(max), "--format=%ct%x09%P%x09%cn", commitOf(tip, "machines")]);
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [ct, parents, committer] = line.split("\t");
      return { committedAt: Number(ct), parents: (parents ?? "").split(" ").filter(Boolean), committer: committer ?? "" };
    });
}

/**
 * The commits reachable from `tip` that changed `paths`, oldest first, from
 * the latest `max` of them: each with its author's name and date and the
 * paths it changed (none for a merge). With `here`, from what the checkout
 * has, never fetching older history: a shallow checkout's boundary commit,
 * which looks as if it added every file, is left out.
 */
export async function pathLog(c: Checkout, tip: string, paths: string[], max: number, opts: { here?: boolean } = {}): Promise<PathLogEntry[]> {
  const trailer = `%(trailers:key=${ORDERS_TRAILER},valueonly,separator=%x20)`;
  const ask = async () =>
    (await c.git().raw(["log", "--reverse", `--max-count=${max}`, `--format=%x00%H%x09%aI%x09%P%x09${trailer}%x09%an`, "--name-only", tip, "--", ...paths]))
      .split("\0")
      .filter(Boolean)
      .map((block) => {
        const [head, ...changed] = block.split("\n");
        const [sha, at, parents, base, ...who] = head!.split("\t");
        const orders = /^[0-9a-f]{40,64}$/.test(base?.trim() ?? "") ? { orders: base!.trim() } : {};
        const root = parents?.trim() ? {} : { root: true as const };
        return { sha: sha!, at: at!, who: who.join("\t"), paths: changed.filter(Boolean), ...orders, ...root };
      });
  if (opts.here) {
    const boundary = await shallowBoundary(c.history);
    return (await ask()).filter((commit) => !boundary.has(commit.sha));
  }
  // In a shallow checkout, older commits are fetched until the answer is a full clone's (src/git/history.ts).
  return throughHistory(c.history, { what: `the history of ${paths.join(", ")}`, tip, ask, changes: (l) => l.map((e) => e.sha), full: (l) => l.length >= max });
}

/** Hub.historyOf: the machines' commit's Coord-History trailer; a commit without one starts the count (depth 1, its own time). */
export async function historyOf(c: Checkout, tip: string): Promise<HistoryMark | undefined> {
  const commit = splitTip(tip)?.machines;
  if (!commit) return undefined;
  const known = historyMarks.get(commit);
  if (known) return known;
  return markCommit(commit, await timeAndMessage(c, commit));
}

/** Hub.madeSince: one rev-list of both branches, cut at the first commit older than `since`. */
export async function madeSince(c: Checkout, at: string, since: number): Promise<number> {
  const t = splitTip(at);
  const tips = t ? [t.machines, t.people].filter((x): x is string => x !== undefined) : [at];
  const n = Number((await c.git().raw(["rev-list", "--count", `--max-age=${Math.ceil(since / 1000)}`, ...tips])).trim());
  return Number.isFinite(n) ? n : 0;
}

/** When `commit` was committed (seconds since the epoch) and its message, in one git call. */
async function timeAndMessage(c: Checkout, commit: string): Promise<{ at: number; message: string }> {
  const [at, ...message] = (await c.git().raw(["log", "-1", "--format=%ct%n%B", commit])).split("\n");
  return { at: Number(at), message: message.join("\n") };
}

/** The commits reachable from `tip` since `first` (itself included), oldest first, from what the checkout has. */
export async function commitsSince(c: Checkout, tip: string, first: string): Promise<string[]> {
  return (await c.git().raw(["rev-list", "--topo-order", "--reverse", tip, "--not", `${first}^@`])).split("\n").filter(Boolean);
}

/** Hub.pathHistory: the commits reachable from `tip` that changed the file `path`, newest first, at most `max`. */
export async function pathHistory(c: Checkout, at: string, path: string, max: number): Promise<PathCommit[]> {
  const tip = commitOf(at, roleOf(path));
  // A literal pathspec: a name with `*` or `?` in it is that name, not a pattern.
  const ask = async () =>
    (await c.git().raw(["log", `--max-count=${max}`, "--format=%H%x09%at%x09%an", tip, "--", `:(literal)${path}`]))
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [commit, at, ...author] = line.split("\t");
        return { commit: commit!, at: new Date(Number(at) * 1000), author: author.join("\t") };
      });
  return throughHistory(c.history, { what: `the history of ${path}`, tip, ask, changes: (l) => l.map((e) => e.commit), full: (l) => l.length >= max });
}

/**
 * Whether `commit`'s history begins at a root that replaced the machines' branch (a new root with its
 * Coord-History mark: core/hub/status-history.ts) made no earlier than `before`: `before`'s history was
 * dropped by that replacement, not rolled back to. False when unsure (a shallow boundary, `before` gone).
 */
export async function restartedAfter(c: Checkout, commit: string, before: string): Promise<boolean> {
  try {
    const roots = (await c.git().raw(["rev-list", "--max-parents=0", commit])).split("\n").filter(Boolean);
    if (roots.length !== 1 || (await shallowBoundary(c.history)).has(roots[0]!)) return false;
    const [root, then] = await Promise.all([timeAndMessage(c, roots[0]!), timeAndMessage(c, before)]);
    return parseHistoryTrailer(root.message)?.depth === 1 && root.at >= then.at;
  } catch {
    return false;
  }
}

/** Whether `a` is an ancestor of (or is) `b` in the whole history (a shallow checkout fetches older commits when its boundary is in the way); false when either is unknown even then. */
export async function isAncestor(c: Checkout, a: string, b: string): Promise<boolean> {
  return knownAncestor(a, b) || isAncestorInHistory(c.history, a, b);
}

/** Whether `a` is `b` or found along the single parents of the commits read in this process (a daemon's recent tips): a yes is git's; a no is unsure. */
export function knownAncestor(a: string, b: string): boolean {
  let at: string | undefined = b;
  for (let step = 0; at !== undefined && step < 64; step++) {
    if (at === a) return true;
    const raw = commitBodies.get(at);
    const parents = raw && commitParentsAndAuthor(raw)?.parents;
    at = parents?.length === 1 ? parents[0] : undefined;
  }
  return false;
}
