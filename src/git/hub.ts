// The transport seam: what a machine needs from the hub, and nothing more.
// Two implementations keep one contract: Repo (src/git/git.ts, real git
// through a checkout) and MemoryHub (src/git/memory-hub.ts, in memory, for
// fast tests and tools). test/hub-conformance.e2e.test.ts runs one suite against
// both; each clause below is checked there.
import type { HistoryMark } from "../core/hub/status-history.js";
import type { Change } from "../core/trust/trust.js";
import { type Role, roleOf } from "../core/trust/ownership.js";
import { isUpgradeLeftover } from "../core/setup/upgrade.js";

import { splitTip } from "../core/hub/branches.js";
import type { WakesSeen } from "../core/hub/wake-refs.js";

export type { Role } from "../core/trust/ownership.js";
export { joinTip, MACHINES_BRANCH, splitTip } from "../core/hub/branches.js";

/**
 * The trailer of a machine's commit that names the people's commit it was built on (the ORDERS.json it
 * had read): `coord log` orders the two branches' commits by it where their times, whole seconds, tie.
 */
export const ORDERS_TRAILER = "Coord-Orders";

/** One commit of Repo.pathLog: who, when, which of the paths, and (a machine's) the people's commit it was built on. */
export interface PathLogEntry {
  sha: string;
  at: string;
  who: string;
  paths: string[];
  orders?: string;
  /** A commit with no parent (a history's first, or a new root of the machines' branch). */
  root?: true;
}

/** Whether `path` is `prefix` or lies under it, as readFiles and listFiles take their prefixes (one ending in "/" names a directory only). */
export function underPrefix(path: string, prefix: string): boolean {
  const dir = prefix.endsWith("/") ? prefix : `${prefix}/`;
  return path === prefix || path.startsWith(dir);
}

/** The commit of `tip` that holds the files of `role` (a plain commit: itself; no machines' branch yet: the people's, where an old hub kept them). */
export function commitOf(tip: string, role: Role): string {
  const t = splitTip(tip);
  if (!t) return tip;
  return role === "machines" ? (t.machines ?? t.people) : t.people;
}

/**
 * The files of a tip from its two commits' files: each path from its role's
 * branch only (a machine's file on main, or ORDERS.json on coord, is not
 * read). Without a machines' branch, the machines' files are read where an
 * old hub kept them, on the people's (but for what an upgrade left there).
 */
/** The paths of a tip as filesByRole keeps them: each from its role's branch (a single commit: all of its paths). */
export function pathsByRole(people: readonly string[], machines: readonly string[] | undefined): string[] {
  if (!machines) return [...people];
  return [...people.filter((p) => roleOf(p) === "people"), ...machines.filter((p) => roleOf(p) === "machines")];
}

export function filesByRole(people: Map<string, string>, machines: Map<string, string> | undefined): Map<string, string> {
  if (!machines) {
    // What an upgrade left on main (tombstones, the pointer) is not the machines' files: coord is gone, not the old layout.
    if (![...people].some(([path, text]) => isUpgradeLeftover(path, text))) return people;
    return new Map([...people].filter(([path, text]) => !isUpgradeLeftover(path, text)));
  }
  const files = new Map<string, string>();
  for (const [path, text] of people) if (roleOf(path) === "people") files.set(path, text);
  for (const [path, text] of machines) if (roleOf(path) === "machines") files.set(path, text);
  return files;
}

/** The one role every path of `changes` has (a commit is made on one branch); throws when they mix. */
export function roleOfChanges(changes: Map<string, string | null>): Role {
  const roles = new Set([...changes.keys()].map(roleOf));
  if (roles.size > 1) throw new Error(`a commit on one branch was asked with both people's and machines' files: ${[...changes.keys()].join(", ")}`);
  return roles.values().next().value ?? "machines";
}

/** Who a commit is by (author and committer alike). */
export interface Author {
  name: string;
  email: string;
}

/** A commit as Hub.pathHistory lists it. */
export interface PathCommit {
  commit: string;
  /** The author's name. */
  author: string;
  /** When it was authored (second precision). */
  at: Date;
}

/** How Hub.commitFiles builds a commit. */
export interface CommitOptions {
  /** A root commit holding the parent's tree with the changes: the history before it is left behind. */
  newRoot?: boolean;
}

/** How Hub.push replaces the machines' branch (a new root) instead of fast-forwarding it. */
export interface PushOptions {
  /** The remote machines' tip this push replaces: it lands only if the branch is still there. */
  replacing?: string;
  /** A ref (refs/coord-history/…) that keeps `replacing`, pushed with it. */
  keepAs?: string;
  /**
   * The machines this publish (by machine `by`) wakes (core/hub/wakes.ts wakesOf): each one's wake ref
   * (refs/coord-wake/<machine>) moves to a new empty commit in the same atomic push. A host that refuses those refs
   * gets the push without them, and `wakesRefused` is told why.
   */
  wakes?: { machines: readonly string[]; by: string };
  wakesRefused?(why: string): void;
}

/** A publish's turn on a hub on this machine's disk (Hub.exclusive). */
export interface PublishTurn {
  release(): Promise<void>;
  /** The hub's tip (joinTip) when the turn began: a try built on another is known to lose. */
  tip?: string;
}

/** One machine's view of the hub's two branches: the people's (main) and the machines' (coord). */
export interface Hub {
  /** The ref `resolve` reads for the remote tip (both branches, joinTip) this client last saw (fetched or pushed). */
  readonly trackingRef: string;

  /**
   * Asks the remote for both branches' tips and records them as this
   * client's tracking tip. Returns the tip (joinTip), or undefined when the
   * remote has no people's branch yet (an empty hub); a missing machines'
   * branch is an empty part. A remote that cannot be reached throws.
   * `seen`: the tip (joinTip) a look saw a moment ago (look): its commits are fetched by their ids, which makes no
   * connection when the look brought them, and the tracking tip is then that one, even when the remote moved on since
   * (a push on it loses its race); a remote that does not serve them so is fetched as without it.
   */
  fetch(seen?: string): Promise<string | undefined>;

  /**
   * Whether the remote answers now, asked cheaply (no objects move, no ref
   * changes; an empty remote answers too). Never throws. A machine backing
   * off after an outage asks this at every tick to notice at once when the
   * hub is back.
   */
  reachable(): Promise<boolean>;

  /**
   * The remote's tip (both branches, joinTip), asked without fetching: no
   * objects move and the tracking tip stays as it was. Undefined when the
   * remote has no people's branch. A remote that cannot be reached throws. The quiet sync compares
   * it with the tip its last sync ended on.
   */
  remoteTip(): Promise<string | undefined>;

  /**
   * remoteTip, and in the same read the wake refs of `machine` and of the fleet (core/hub/wakes.ts): what each points
   * at, or undefined when the hub has none. A daemon's look. A remote that cannot be reached throws. The commits of the
   * tip it reports are brought here in that read (the tracking tip stays as it was): `fetch(tip)` then reads nothing.
   * `known`: the wake refs the last look saw, asked for by name; the others as patterns (a wake the hub lacks is no
   * failure), which a hub with many refs of that prefix would make costly.
   */
  look(machine: string, known?: WakesSeen): Promise<{ tip?: string } & WakesSeen>;

  /**
   * On a hub on this machine's disk: waits for the machines' other publishes there to end (git/publish-lock.ts, a
   * bounded wait) and returns its turn, for one try (fetch, build, push): its release, and the hub's tip (joinTip)
   * as its ref files say once the turn is taken, when they say it. Undefined: none to take (a hub over the network,
   * or no lock to be had): the push's compare-and-swap alone decides, as always.
   */
  exclusive?(): Promise<PublishTurn | undefined>;

  /**
   * `trackingRef`: the tip (joinTip) the last fetch or push left, undefined
   * before any; or a full commit id this client has (as itself). Undefined
   * when there is no such ref or commit.
   */
  resolve(ref: string): Promise<string | undefined>;

  /**
   * Every file at `commit` whose path is one of `prefixes` or lies under one
   * (`coordination` holds `coordination/a.md`, never `coordinationX`; no
   * globbing; no prefixes at all: every file), by its exact path (a tab,
   * newline or any unicode in a name stays in it), as UTF-8 text. A file
   * over its path's size limit, or a symbolic link, is not read: its text is
   * the marker of core/limits.ts (tooBigBlob, notRead), which readers report.
   * `commit` must be one this client has (fetched or built).
   */
  readFiles(commit: string, prefixes: string[]): Promise<Map<string, string>>;

  /**
   * The paths readFiles would give for the same `commit` and `prefixes`, without reading a file: a listing only
   * (what a reader needs who asks which files there are, like a send asking which machines there are).
   */
  listFiles(commit: string, prefixes: string[]): Promise<string[]>;

  /**
   * Builds (does not push) a commit whose one parent is `parent` (none:
   * a root commit) and whose tree is the parent's with `changes` applied:
   * path → new content, or null to delete the file (a file not there is no
   * error). Every other file stays as it is. Returns the new commit's id.
   * On a tip (joinTip) the commit is made on the branch of the changes' role
   * (every path one role: roleOfChanges), on that branch's commit (a root
   * commit when the machines' branch does not exist yet), and the new tip is
   * returned: the other part as it was. With `newRoot`, the commit has no
   * parent (the tree is still the parent's with `changes`): the machines'
   * branch replaced by one commit, its history bounded (core/hub/status-history.ts).
   */
  commitFiles(parent: string | undefined, changes: Map<string, string | null>, author: Author, message: string, opts?: CommitOptions): Promise<string>;

  /**
   * Publishes the part of `tip` of each of `roles` (default: the machines'
   * alone; a plain commit id: itself) as that branch's tip, never by force:
   * it lands iff the remote has no such branch yet or its tip is an ancestor
   * of the commit (a fast-forward), every role or none (an atomic push), and
   * then becomes this client's tracking tip. A machine's publish never pushes
   * the people's branch. false when it did not land (someone pushed first, or
   * an unrelated history): the compare-and-swap lost, fetch and build again.
   * A failure to reach the remote throws. With `replacing`, the machines'
   * branch is replaced rather than fast-forwarded, iff its remote tip is still
   * `replacing` (a compare-and-swap: of machines that replace it at once, one
   * lands); with `keepAs` too, that old tip is kept under the ref `keepAs`, in
   * the same atomic push.
   */
  push(tip: string, roles?: Role[], opts?: PushOptions): Promise<boolean>;

  /**
   * How deep the machines' branch is at `tip` (its part of a joinTip), and since when: the Coord-History
   * trailer of its commit; a commit without one (the hub's first, a person's) starts the count: depth 1,
   * since its own time. Undefined when there is no machines' branch.
   */
  historyOf(tip: string): Promise<HistoryMark | undefined>;

  /**
   * How many commits of `tip`'s branches (both parts of a joinTip) were made at `since` (ms since the epoch) or
   * later, by their commit times: the fleet's recent pushes (core/budget/budget.ts fleetSpares). The walk stops at
   * the first older commit of each branch. A hub in memory counts by its own clock (git/memory-hub.ts).
   */
  madeSince(tip: string, since: number): Promise<number>;

  /**
   * The commits reachable from `tip` that changed the file `path` (added,
   * modified or deleted it), newest first, at most `max` of them. The whole
   * history's answer, however much of it the client holds: a shallow git
   * checkout fetches older commits until its boundary is out of the way
   * (src/git/history.ts), and a boundary commit is never listed as a change.
   * Every commit listed is one this client has (readFiles reads it). On a
   * tip (joinTip), the history of the branch that holds `path` (commitOf).
   */
  pathHistory(tip: string, path: string, max: number): Promise<PathCommit[]>;

  /**
   * The newest commit reachable from `tip` that changed `path`, with its
   * signature checked against the given allowed-signers files only; the
   * whole history's answer, as pathHistory's. Only a
   * hub that carries signatures has it (git; the in-memory hub has none, so
   * a machine that requires signed orders needs git). Marked `supersededBy`
   * when a merge hides a newer good change (by `signers.owner`, when named)
   * that has the file otherwise (git/last-change.ts).
   */
  lastChange?(tip: string, path: string, signers: { allowed: string; revoked?: string; owner?: string }): Promise<Change | undefined>;

  /**
   * The newest `max` changes of `path` at `tip`, newest first, each with its signature's verdict (lastChange's, for
   * many). `after`: only those that descend from that commit, on every line of the history, children first (git's
   * simplified history can hide a newer change behind a merge that brings an older version back); `everyLine`: all,
   * on every line, children first; `notIn`: those on every line that are not in that commit's history, children
   * first. `committed`: the commit's committer date (seconds), as whoever made it wrote it.
   */
  signedChanges?(
    tip: string,
    path: string,
    signers: { allowed: string; revoked?: string },
    max: number,
    opts?: { after?: string; everyLine?: boolean; notIn?: string },
  ): Promise<(Change & { root: boolean; committed: number })[]>;

  /**
   * The newest good change of `path` that descends from `since` and has the file as `since` has it (a signed revert
   * back to the same bytes); undefined when none, "unsure" when more than one line ends with one. Optional, with
   * lastChange (git).
   */
  sameTextSince?(tip: string, path: string, signers: { allowed: string; revoked?: string }, since: string): Promise<string | "unsure" | undefined>;

  /**
   * lastChange of several paths at once, each asked with the commit of its version accepted last (if any):
   * the answered paths' changes, each exactly as lastChange gives it and, when the change is good and not
   * `accepted` itself, only when `accepted` is in its history (isAncestor: the change comes after it). A path
   * left out is asked alone (lastChange, isAncestor, restartedAfter): the answer there was not certain here.
   * Optional, with lastChange (git: one walk of the history and one read of the commits for all the paths).
   */
  lastChanges?(tip: string, asks: readonly { path: string; accepted?: string }[], signers: { allowed: string; revoked?: string }): Promise<Map<string, Change>>;

  /**
   * Whether `ancestor` is `descendant` or one of its ancestors in the whole
   * history (a shallow checkout fetches older commits when its boundary is in
   * the way); false too when either is unknown even then. Only with lastChange.
   */
  isAncestor?(ancestor: string, descendant: string): Promise<boolean>;

  /**
   * Whether `commit`'s history begins at a new root that replaced the machines' branch no earlier than
   * `before` was made (its history dropped, not rolled back to). Only with lastChange.
   */
  restartedAfter?(commit: string, before: string): Promise<boolean>;
}
