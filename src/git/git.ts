// The transport: Repo, the real Hub (hub.ts), a git checkout with the Hub's
// methods. Each method is a line over the function of the file whose job it
// is (as isomorphic-git's api over its commands), every git call run by
// src/git/run.ts:
//
//   checkout.ts   the context: dir, remote, branch, a git client, refs, failures said
//   remote.ts     asking the remote: fetch, reachable, its tip and wake refs
//   read.ts       a tip's files (trees and blobs through batch.ts), memo.ts keeps what was read
//   log.ts        the history's questions: path logs, history marks, ancestry
//   last-change.ts  who changed a path last, and whether it is signed
//   commit.ts     building a commit (objects.ts, tree.ts; signed)
//   publish.ts    the push: a compare-and-swap, atomic, with wake refs
//   work-tree.ts  the checkout's branch fast-forwarded, a file read without links
//
// coord never merges text. It reads files from one commit, builds its commit
// on top of the remote tip in a private index (the checkout is not touched),
// and pushes without force; a rejected push is a lost compare-and-swap.
import type { HistoryMark } from "../core/hub/status-history.js";
import type { WakesSeen } from "../core/hub/wake-refs.js";
import type { SigningKey } from "../core/trust/sshsig.js";
import type { Change } from "../core/trust/trust.js";
import type { CoordError } from "../errors.js";
import { Checkout } from "./checkout.js";
import { commitFiles, useSigningKey } from "./commit.js";
import type { Author, CommitOptions, Hub, PathCommit, PathLogEntry, PublishTurn, PushOptions, Role } from "./hub.js";
import { commitVerdicts, type LastChangeAsk, lastChange, lastChanges, type Signers, sameTextSince, signedChanges } from "./last-change.js";
import { commitsSince, historyOf, isAncestor, madeSince, pathHistory, pathLog, type RecentCommit, recentCommits, restartedAfter } from "./log.js";
import { exclusive, push, pushRefspec } from "./publish.js";
import { listFiles, readFiles } from "./read.js";
import { fetch, fetchMachinesTip, lastFetchedAt, look, reachable, remoteTip } from "./remote.js";
import { fastForward, trackHubBranch } from "./work-tree.js";

export { DEFAULT_GIT_TIMEOUT, type GitClient, type GitOptions, gitClient } from "./client.js";
export { machineAuthor } from "./commit.js";
export { CREDENTIAL_PROXY, sshCommandFor } from "./env.js";
export { firstLine, isRejectedPush, isTimeout } from "./failures.js";
export type { Author } from "./hub.js";
export { LAST_CHANGES_WALK, type LastChangeAsk, type Signers } from "./last-change.js";
export type { RecentCommit } from "./log.js";
export { blobsRead } from "./memo.js";
export { readInCheckout } from "./work-tree.js";

/** A git checkout that coord works in; as a Hub (src/git/hub.ts), the remote's branch seen through it. */
export class Repo extends Checkout implements Hub {
  /** The URL of the hub when it is on this machine's disk (a path, file://): its publishes take turns (exclusive). */
  hubOnDisk?: string;

  // Asking the remote (remote.ts).

  /** The machines' branch alone, when this checkout has not fetched it yet: in a shallow checkout its tip alone. */
  fetchMachinesTip(): Promise<void> {
    return fetchMachinesTip(this);
  }

  /** Fetches both branches; returns the remote tip (joinTip), or undefined when the remote has no people's branch yet. */
  fetch(seen?: string): Promise<string | undefined> {
    return fetch(this, seen);
  }

  reachable(): Promise<boolean> {
    return reachable(this);
  }

  remoteTip(): Promise<string | undefined> {
    return remoteTip(this);
  }

  look(machine: string, known?: WakesSeen): Promise<{ tip?: string } & WakesSeen> {
    return look(this, machine, known);
  }

  /** When the tracking ref last moved (its reflog: the last fetch or push), or undefined when it has no reflog yet. */
  lastFetchedAt(): Promise<string | undefined> {
    return lastFetchedAt(this);
  }

  /** The failure a fetch that failed with `e` is reported as (a fetch started before the sync: src/startup/prefetch.ts). */
  fetchFailure(e: unknown): Promise<CoordError> {
    return this.remoteError(e, "reach");
  }

  // Reading (read.ts).

  /** Every file under `prefixes` at `tip` (Hub.readFiles), through the checkout's one `cat-file --batch`. */
  readFiles(tip: string, prefixes: string[]): Promise<Map<string, string>> {
    return readFiles(this, tip, prefixes);
  }

  /** The paths under `prefixes` at `tip` (Hub.listFiles): the listing alone, no blob read. */
  listFiles(tip: string, prefixes: string[]): Promise<string[]> {
    return listFiles(this, tip, prefixes);
  }

  // The history (log.ts, last-change.ts).

  /** The latest `max` commits of `tip`'s machines' branch, newest first: when each was committed, its parents, its committer. */
  recentCommits(tip: string, max: number): Promise<RecentCommit[]> {
    return recentCommits(this, tip, max);
  }

  /** The commits reachable from `tip` that changed `paths`, oldest first, from the latest `max`; `here`: from what the checkout has. */
  pathLog(tip: string, paths: string[], max: number, opts: { here?: boolean } = {}): Promise<PathLogEntry[]> {
    return pathLog(this, tip, paths, max, opts);
  }

  historyOf(tip: string): Promise<HistoryMark | undefined> {
    return historyOf(this, tip);
  }

  madeSince(tip: string, since: number): Promise<number> {
    return madeSince(this, tip, since);
  }

  /** The commits reachable from `tip` since `first` (itself included), oldest first, from what the checkout has. */
  commitsSince(tip: string, first: string): Promise<string[]> {
    return commitsSince(this, tip, first);
  }

  pathHistory(tip: string, path: string, max: number): Promise<PathCommit[]> {
    return pathHistory(this, tip, path, max);
  }

  restartedAfter(commit: string, before: string): Promise<boolean> {
    return restartedAfter(this, commit, before);
  }

  isAncestor(a: string, b: string): Promise<boolean> {
    return isAncestor(this, a, b);
  }

  /** The newest commit reachable from `tip` that changed `path`, with git's verdict on its signature against `signers` only. */
  lastChange(tip: string, path: string, signers: Signers): Promise<Change | undefined> {
    return lastChange(this, tip, path, signers);
  }

  /**
   * The newest `max` commits reachable from `tip` that changed `path`, newest first, each with its signature's verdict
   * and whether it is a root. `here`: from the commits the checkout has, never fetching older ones.
   */
  signedChanges(
    tip: string,
    path: string,
    signers: Signers,
    max: number,
    opts?: { what?: string; here?: boolean; after?: string; everyLine?: boolean; notIn?: string },
  ): Promise<(Change & { root: boolean; committed: number })[]> {
    return signedChanges(this, tip, path, signers, max, opts);
  }

  /** The newest good change of `path` that descends from `since` with the file as `since` has it (last-change.ts). */
  sameTextSince(tip: string, path: string, signers: Signers, since: string): Promise<string | "unsure" | undefined> {
    return sameTextSince(this, tip, path, signers, since);
  }

  /** git's verdict on each commit's signature against `signers` (status and principal). */
  verdicts(commits: string[], signers: Signers): Promise<Map<string, Pick<Change, "status" | "signer">>> {
    return commitVerdicts(this, commits, signers);
  }

  lastChanges(tip: string, asks: readonly LastChangeAsk[], signers: Signers): Promise<Map<string, Change>> {
    return lastChanges(this, tip, asks, signers);
  }

  // Publishing (commit.ts, publish.ts).

  /** A commit on top of `parent` (or a root commit) with `changes` applied, built without touching the checkout. */
  commitFiles(parent: string | undefined, changes: Map<string, string | null>, author: Author, message: string, opts: CommitOptions = {}): Promise<string> {
    return commitFiles(this, parent, changes, author, message, opts);
  }

  /** Signs this repo's commits with the key at `path`; `key`: it read already (state/trust.ts signingOf), not read again. */
  useSigningKey(path: string, key?: SigningKey): void {
    useSigningKey(this, path, key);
  }

  exclusive(): Promise<PublishTurn | undefined> {
    return exclusive(this, this.hubOnDisk);
  }

  push(tip: string, roles: Role[] = ["machines"], opts: PushOptions = {}): Promise<boolean> {
    return push(this, tip, roles, opts);
  }

  /** Pushes one refspec as it is (coord doctor's throw-away ref); throws git's failure when the hub refuses it. */
  pushRefspec(refspec: string): Promise<void> {
    return pushRefspec(this, refspec);
  }

  // The work tree (work-tree.ts).

  /** Brings the checkout's branch up to `tip`'s people's commit when that is a fast-forward and loses nothing; otherwise says why. */
  fastForward(tip: string): Promise<string | undefined> {
    return fastForward(this, tip);
  }

  /** The checkout's branch named as the hub's and tracking it (a clone of an empty remote is on git's default branch name). */
  trackHubBranch(): Promise<void> {
    return trackHubBranch(this);
  }
}
