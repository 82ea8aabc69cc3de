// The transport seam: what a machine needs from the hub, and nothing more.
// Two implementations keep one contract: Repo (src/git/git.ts, real git
// through a checkout) and MemoryHub (src/git/memory-hub.ts, in memory, for
// fast tests and tools). test/hub-conformance.test.ts runs one suite against
// both; each clause below is checked there.
import type { Change } from "../core/trust.js";

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

/** One machine's view of the hub's branch. */
export interface Hub {
  /** The ref `resolve` reads for the remote tip this client last saw (fetched or pushed). */
  readonly trackingRef: string;

  /**
   * Asks the remote for its branch tip and records it as this client's
   * tracking tip. Returns the tip, or undefined when the remote has no such
   * branch yet (an empty hub). A remote that cannot be reached throws.
   */
  fetch(): Promise<string | undefined>;

  /**
   * Whether the remote answers now, asked cheaply (no objects move, no ref
   * changes; an empty remote answers too). Never throws. A machine backing
   * off after an outage asks this at every tick to notice at once when the
   * hub is back.
   */
  reachable(): Promise<boolean>;

  /**
   * The remote's branch tip, asked without fetching: no objects move and the
   * tracking tip stays as it was. Undefined when the remote has no such
   * branch. A remote that cannot be reached throws. The quiet sync compares
   * it with the tip its last sync ended on.
   */
  remoteTip(): Promise<string | undefined>;

  /**
   * A commit id for `ref`: `trackingRef` (the tip the last fetch or push
   * left, undefined before any), or a full commit id this client has (as
   * itself). Undefined when there is no such ref or commit.
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
   * Builds (does not push) a commit whose one parent is `parent` (none:
   * a root commit) and whose tree is the parent's with `changes` applied:
   * path → new content, or null to delete the file (a file not there is no
   * error). Every other file stays as it is. Returns the new commit's id.
   */
  commitFiles(parent: string | undefined, changes: Map<string, string | null>, author: Author, message: string): Promise<string>;

  /**
   * Publishes `commit` as the branch tip, never by force: it lands iff the
   * remote has no branch yet or its tip is an ancestor of `commit` (a
   * fast-forward), and then becomes this client's tracking tip. false when it
   * did not land (someone pushed first, or an unrelated history): the
   * compare-and-swap lost, fetch and build again. A failure to reach the
   * remote throws.
   */
  push(commit: string): Promise<boolean>;

  /**
   * The commits reachable from `tip` that changed the file `path` (added,
   * modified or deleted it), newest first, at most `max` of them. The whole
   * history's answer, however much of it the client holds: a shallow git
   * checkout fetches older commits until its boundary is out of the way
   * (src/git/history.ts), and a boundary commit is never listed as a change.
   * Every commit listed is one this client has (readFiles reads it).
   */
  pathHistory(tip: string, path: string, max: number): Promise<PathCommit[]>;

  /**
   * The newest commit reachable from `tip` that changed `path`, with its
   * signature checked against the given allowed-signers files only; the
   * whole history's answer, as pathHistory's. Only a
   * hub that carries signatures has it (git; the in-memory hub has none, so
   * a machine that requires signed orders needs git).
   */
  lastChange?(tip: string, path: string, signers: { allowed: string; revoked?: string }): Promise<Change | undefined>;

  /**
   * Whether `ancestor` is `descendant` or one of its ancestors in the whole
   * history (a shallow checkout fetches older commits when its boundary is in
   * the way); false too when either is unknown even then. Only with lastChange.
   */
  isAncestor?(ancestor: string, descendant: string): Promise<boolean>;
}
