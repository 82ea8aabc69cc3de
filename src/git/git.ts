// The transport: every git call coord makes (each run by src/git/run.ts).
//
// coord never merges text. It reads files from one commit, builds its commit
// on top of the remote tip in a private index (the checkout is not touched),
// and pushes without force; a rejected push is a lost compare-and-swap.
import { inTurnBy } from "../serial.js";
import { type Change, type SignatureStatus, standsWithoutAncestry } from "../core/trust/trust.js";
import { constants } from "node:fs";
import { type FileHandle, lstat, mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { backoffDelay, REF_LOCK_BACKOFF } from "../core/time/backoff.js";
import { redact } from "../core/trust/redact.js";
import { fixFor, gitFailureText, isLostRace, isPushRefusal, isReadRefusal } from "../core/hub/ssh.js";
import type { GitStopped } from "./run.js";

export { CREDENTIAL_PROXY, sshCommandFor } from "./env.js";
import { notRead, tooBigBlob } from "../core/limits.js";
import { knownBlobId } from "../core/repo/parsed.js";
import {
  type Author,
  type CommitOptions,
  commitOf,
  filesByRole,
  type Hub,
  joinTip,
  MACHINES_BRANCH,
  ORDERS_TRAILER,
  type PathCommit,
  type PathLogEntry,
  type PublishTurn,
  type PushOptions,
  type Role,
  roleOfChanges,
  splitTip,
} from "./hub.js";
import { roleOf } from "../core/trust/ownership.js";
import { type HistoryMark, parseHistoryTrailer } from "../core/hub/status-history.js";
import { ancestorHere, type HistoryGit, isAncestorInHistory, shallowBoundary, throughHistory } from "./history.js";
import { editTree } from "./tree.js";
import { localTip, remoteLook, remoteTip, takeSilence } from "./remote-tip.js";
import { publishLock } from "./publish-lock.js";
import { type WakesSeen, wakeRefOf } from "../core/hub/wake-refs.js";
import { batchRecords, commitParentsAndAuthor, commitBody, commitTimeAndMessage, ObjectWriter, signedCommitBody, treeBody, treeListing } from "./objects.js";
import { commitVerdict, plainSigners } from "./signatures.js";
import { readSigningKey, type SigningKey, sshSign } from "../core/trust/sshsig.js";
import { DEFAULT_GIT_TIMEOUT, fetchBranch, type GitClient, type GitOptions, gitClient, trackedTip, trackingRefOf } from "./client.js";
import { headFromFiles, isObjectId, plainGitDir, refFromFiles } from "./dotgit.js";
import { CoordError, EXIT, PushRefused, RemoteUnreachable } from "../errors.js";

export { DEFAULT_GIT_TIMEOUT, type GitClient, type GitOptions, gitClient };

/** Seconds a probe of the remote (Hub.reachable) waits for an answer at most. */
const PROBE_TIMEOUT = 15;

export type { Author } from "./hub.js";

export function machineAuthor(machine: string): Author {
  return { name: `coord ${machine}`, email: `${machine}@coord.invalid` };
}

const authorEnv = (a: Author) => ({
  GIT_AUTHOR_NAME: a.name,
  GIT_AUTHOR_EMAIL: a.email,
  GIT_COMMITTER_NAME: a.name,
  GIT_COMMITTER_EMAIL: a.email,
});

export function isRejectedPush(e: unknown): boolean {
  return isLostRace(String((e as Error)?.message ?? e));
}

/** A commit as Repo.recentCommits lists it. */
export interface RecentCommit {
  /** Seconds since the epoch. */
  committedAt: number;
  parents: string[];
  committer: string;
}

/**
 * The texts of the blobs the last readFiles of each checkout (by path) read,
 * by blob id: a sync reads its tip again after each publish, and a daemon at
 * every sync, mostly the same blobs; these are not read (nor held) twice.
 */
const lastTexts = new Map<string, Map<string, string>>();

/**
 * The listings (ls-tree) readFiles took of the 16 commits it read last, by checkout, commit and the paths asked:
 * a commit's listing never changes, and a sync reads its tip again after a fetch that found it unchanged.
 */
const commitListings = new Map<string, string>();

/** Tree listings by checkout and tree id (or `<commit>^{tree}`): a git object never changes, so each is listed once. */
const treeListings = new Map<string, string>();

/** Blobs readFiles took from git (not from the last read) in this process, by checkout (its resolved path): for tests. */
const blobsReadBy = new Map<string, number>();

/** How many blobs readFiles took from git for the checkout `dir` in this process (not from the last read). */
export function blobsRead(dir: string): number {
  return blobsReadBy.get(resolve(dir)) ?? 0;
}

/**
 * The raw objects of the machines' commits readFiles read in this process, by id (an object never changes): a
 * change made by the tip itself is checked from it (lastChange), and ancestry along them (isAncestor), with no git.
 */
const commitBodies = new Map<string, Buffer>();

/** The blob ids of the files each of the 32 commits readFiles read last listed, by checkout and commit, with the paths asked. */
const listedBlobs = new Map<string, { asked: string; blobs: Map<string, string> }>();

/** The history marks of machines' commits this process has read (a commit's message never changes). */
const historyMarks = new Map<string, HistoryMark>();

function rememberMark(commit: string, mark: HistoryMark): void {
  keepLatest(historyMarks, commit, mark, 64);
}

/** A machines' commit's history mark from its time and message, remembered: one without a trailer (the hub's first, an upgrade by an older version, a person's) starts the count. */
function markCommit(commit: string, { at, message }: { at: number; message: string }): HistoryMark {
  const mark = parseHistoryTrailer(message) ?? { depth: 1, since: new Date(at * 1000) };
  rememberMark(commit, mark);
  return mark;
}

/** Sets `key` in `map` as its newest entry, dropping the oldest (a Map keeps the order of insertion) beyond `max`. */
function keepLatest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** A commit object's text, signed with `signer` when there is one (its SSHSIG over the unsigned text, as git signs). */
function commitText(tree: string, parent: string | undefined, author: Author, message: string, signer: SigningKey | undefined): string {
  const body = commitBody(tree, parent, author, message, new Date());
  return signer ? signedCommitBody(body, sshSign(signer, "git", body)) : body;
}

/** The fast-forward running in each checkout (by path) in this process. */
const fastForwards = inTurnBy();

/** A git checkout that coord works in; as a Hub (src/git/hub.ts), the remote's branch seen through it. */
/** The machine's own files git checks signatures against. */
export interface Signers {
  allowed: string;
  revoked?: string;
}

const STATUSES = new Set(["G", "U", "N", "B", "X", "Y", "R", "E"]);

/** One path asked of Repo.lastChanges (Hub.lastChanges): the path, and the commit of its version accepted last, if any. */
export interface LastChangeAsk {
  path: string;
  accepted?: string;
}

/** How many commits one Repo.lastChanges walks at most: a path whose change (or accepted commit) is older is asked alone. */
export const LAST_CHANGES_WALK = 256;

/** A commit's header in Repo.lastChanges' walk: its SHA-1 id, "name <email>" of its author, its parents. */
const CHAIN_HEADER = /^\x1e([0-9a-f]{40})\x1f([^\x1e\x1f]*)\x1f((?:[0-9a-f]{40}(?: [0-9a-f]{40})*)?)$/;

/** The part of a walk from the tip that is one line of single-parent commits, newest first. */
interface LinearChain {
  commits: { commit: string; author: string }[];
  /** Each commit's place in `commits`, and the last one's parent (one past the last place). */
  index: Map<string, number>;
  /** Each path (and each folder) changed on the line: the place of its newest change. */
  firstTouch: Map<string, number>;
}

export class Repo implements Hub {
  constructor(
    readonly dir: string,
    /** Where scratch files go (coord's local state directory). */
    readonly stateDir: string,
    readonly remote = "origin",
    readonly branch = "main",
    readonly timeout = DEFAULT_GIT_TIMEOUT,
    /** Aborts every git command of this repo (a stopping daemon). */
    readonly signal?: AbortSignal,
  ) {}

  /** An SSH private key (path) this machine signs its commits with (trust.signingKey), if any. */
  signingKey?: string;

  /** `<dir>/.git` when it is a directory (dotgit.ts). */
  private gitDir?: Promise<string | undefined>;

  git(opts: GitOptions = {}): GitClient {
    return gitClient(this.dir, { timeout: this.timeout, ...(this.signal ? { signal: this.signal } : {}), ...opts });
  }

  /** The people's branch's tracking ref; `resolve` of it gives the tip of both branches (hub.ts joinTip). */
  get trackingRef(): string {
    return trackingRefOf(this.remote, this.branch);
  }

  /** The machines' branch's tracking ref. */
  get machinesTrackingRef(): string {
    return trackingRefOf(this.remote, MACHINES_BRANCH);
  }

  /**
   * Whether the tracking refs still name `tip` (a tip git named a moment
   * ago): read from git's files when they are (no git process), else asked
   * of git.
   */
  async trackingRefIs(tip: string): Promise<boolean> {
    return (await this.trackedNow()) === tip;
  }

  /**
   * The tip the tracking refs name now (joinTip): read from git's files when both are there (a fetch leaves loose
   * refs; no git process), else asked of git (a missing ref, one git's files cannot say, reftable).
   */
  async trackedNow(): Promise<string | undefined> {
    const gitDir = await this.plainGitDir();
    if (gitDir) {
      const [people, machines] = await Promise.all([refFromFiles(gitDir, this.trackingRef), refFromFiles(gitDir, this.machinesTrackingRef)]);
      if (people && machines) return joinTip(people, machines);
    }
    return this.resolve(this.trackingRef);
  }

  /** `<dir>/.git` when it is a directory (dotgit.ts): where git's files may be read without a git process. */
  private plainGitDir(): Promise<string | undefined> {
    this.gitDir ??= plainGitDir(this.dir);
    return this.gitDir;
  }

  /** Whether this checkout is shallow (a clone over a URL): its first look at the machines' branch fetches its tip alone. */
  private async shallow(): Promise<boolean> {
    const gitDir = await this.plainGitDir();
    return (
      gitDir !== undefined &&
      (await lstat(join(gitDir, "shallow")).then(
        () => true,
        () => false,
      ))
    );
  }

  /**
   * The machines' branch alone, when this checkout has not fetched it yet (a clone of the people's branch):
   * in a shallow checkout its tip alone, not its whole history.
   */
  async fetchMachinesTip(): Promise<void> {
    if (await this.resolveRef(this.machinesTrackingRef)) return;
    await fetchBranch(this.git(), this.remote, this.branch, { machinesOnly: true, ...((await this.shallow()) ? { depth: 1 } : {}) });
  }

  /** Fetches both branches; returns the remote tip (joinTip), or undefined when the remote has no people's branch yet. */
  async fetch(): Promise<string | undefined> {
    // The quiet look at the remote's tip ran into its deadline a moment ago: the remote is not waited for a second time.
    const silent = takeSilence(this.dir, this.remote);
    if (silent) throw await this.remoteError(silent, "reach");
    for (let attempt = 1; ; attempt++) {
      try {
        if (await this.shallow()) await this.fetchMachinesTip();
        await fetchBranch(this.git(), this.remote, this.branch);
        return this.trackedNow();
      } catch (e) {
        const msg = String((e as Error).message);
        if (/couldn't find remote ref/i.test(msg)) return undefined;
        // Another coord command in this checkout (a status during a sync) updated the ref, or its shallow file, at the same moment.
        if (/cannot lock ref|unable to update local ref|shallow\.lock/i.test(msg) && attempt < 6) {
          await new Promise((r) => setTimeout(r, backoffDelay(attempt, REF_LOCK_BACKOFF)));
          continue;
        }
        throw await this.remoteError(e, "reach");
      }
    }
  }

  async reachable(): Promise<boolean> {
    try {
      // An answer, even "no such branch" (exit 2), is a remote that is there.
      await this.git({ timeout: Math.min(this.timeout, PROBE_TIMEOUT) }).raw(["ls-remote", "--quiet", this.remote, `refs/heads/${this.branch}`]);
      return true;
    } catch {
      return false; // any failure to answer: the outage goes on
    }
  }

  async remoteTip(): Promise<string | undefined> {
    try {
      return await remoteTip(this.dir, this.remote, this.branch, this.timeout, this.signal);
    } catch (e) {
      throw await this.remoteError(e, "reach");
    }
  }

  /** The URL of the hub when it is on this machine's disk (a path, file://): its publishes take turns (exclusive). */
  hubOnDisk?: string;

  async exclusive(): Promise<PublishTurn | undefined> {
    if (this.hubOnDisk === undefined) return undefined;
    const release = await publishLock(this.dir, this.hubOnDisk);
    if (!release) return undefined;
    const tip = await localTip(this.dir, this.hubOnDisk, this.branch).catch(() => undefined);
    return { release, ...(tip !== undefined ? { tip } : {}) };
  }

  async look(machine: string): Promise<{ tip?: string } & WakesSeen> {
    try {
      return await remoteLook(this.dir, this.remote, this.branch, this.timeout, machine, this.signal);
    } catch (e) {
      throw await this.remoteError(e, "reach");
    }
  }

  async remoteUrl(): Promise<string> {
    return (await this.git().raw(["remote", "get-url", this.remote])).trim();
  }

  /** The remote's URL fit to print or publish: no userinfo, no token. */
  async displayUrl(): Promise<string> {
    return redact(await this.remoteUrl().catch(() => this.remote));
  }

  /** When the tracking ref last moved (its reflog: the last fetch or push), or undefined when it has no reflog yet. */
  async lastFetchedAt(): Promise<string | undefined> {
    const out = await this.git()
      .raw(["log", "-g", "-n", "1", "--format=%gd", "--date=unix", this.trackingRef])
      .catch(() => ""); // no reflog: never fetched, or reflogs are off
    const seconds = Number(/@\{(\d+)\}/.exec(out)?.[1]);
    return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000).toISOString() : undefined;
  }

  /** Pushes one refspec as it is (coord doctor's throw-away ref: `+<commit>:<ref>`, then `:<ref>`); throws git's failure when the hub refuses it. */
  async pushRefspec(refspec: string): Promise<void> {
    await this.git().raw(["push", "--porcelain", "--no-verify", this.remote, refspec]);
  }

  /** The latest `max` commits reachable from `tip` (of a tip: its machines' branch), newest first: when each was committed (seconds), its parents, its committer's name. */
  async recentCommits(tip: string, max: number): Promise<RecentCommit[]> {
    const out = await this.git().raw(["log", "-n", String(max), "--format=%ct%x09%P%x09%cn", commitOf(tip, "machines")]);
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
  async pathLog(tip: string, paths: string[], max: number, opts: { here?: boolean } = {}): Promise<PathLogEntry[]> {
    const trailer = `%(trailers:key=${ORDERS_TRAILER},valueonly,separator=%x20)`;
    const ask = async () =>
      (await this.git().raw(["log", "--reverse", `--max-count=${max}`, `--format=%x00%H%x09%aI%x09${trailer}%x09%an`, "--name-only", tip, "--", ...paths]))
        .split("\0")
        .filter(Boolean)
        .map((block) => {
          const [head, ...changed] = block.split("\n");
          const [sha, at, base, ...who] = head!.split("\t");
          const orders = /^[0-9a-f]{40,64}$/.test(base?.trim() ?? "") ? { orders: base!.trim() } : {};
          return { sha: sha!, at: at!, who: who.join("\t"), paths: changed.filter(Boolean), ...orders };
        });
    if (opts.here) {
      const boundary = await shallowBoundary(this.history);
      return (await ask()).filter((c) => !boundary.has(c.sha));
    }
    // In a shallow checkout, older commits are fetched until the answer is a full clone's (src/git/history.ts).
    return throughHistory(this.history, { what: `the history of ${paths.join(", ")}`, tip, ask, changes: (l) => l.map((c) => c.sha), full: (l) => l.length >= max });
  }

  /** Hub.historyOf: the machines' commit's Coord-History trailer; a commit without one starts the count (depth 1, its own time). */
  async historyOf(tip: string): Promise<HistoryMark | undefined> {
    const commit = splitTip(tip)?.machines;
    if (!commit) return undefined;
    const known = historyMarks.get(commit);
    if (known) return known;
    return markCommit(commit, await this.timeAndMessage(commit));
  }

  /** Hub.madeSince: one rev-list of both branches, cut at the first commit older than `since`. */
  async madeSince(at: string, since: number): Promise<number> {
    const t = splitTip(at);
    const tips = t ? [t.machines, t.people].filter((x): x is string => x !== undefined) : [at];
    const n = Number((await this.git().raw(["rev-list", "--count", `--max-age=${Math.ceil(since / 1000)}`, ...tips])).trim());
    return Number.isFinite(n) ? n : 0;
  }

  /** When `commit` was committed (seconds since the epoch) and its message, in one git call. */
  private async timeAndMessage(commit: string): Promise<{ at: number; message: string }> {
    const [at, ...message] = (await this.git().raw(["log", "-1", "--format=%ct%n%B", commit])).split("\n");
    return { at: Number(at), message: message.join("\n") };
  }

  /** The commits reachable from `tip` since `first` (itself included), oldest first, from what the checkout has. */
  async commitsSince(tip: string, first: string): Promise<string[]> {
    return (await this.git().raw(["rev-list", "--topo-order", "--reverse", tip, "--not", `${first}^@`])).split("\n").filter(Boolean);
  }

  /** Hub.pathHistory: the commits reachable from `tip` that changed the file `path`, newest first, at most `max`. */
  async pathHistory(at: string, path: string, max: number): Promise<PathCommit[]> {
    const tip = commitOf(at, roleOf(path));
    // A literal pathspec: a name with `*` or `?` in it is that name, not a pattern.
    const ask = async () =>
      (await this.git().raw(["log", `--max-count=${max}`, "--format=%H%x09%at%x09%an", tip, "--", `:(literal)${path}`]))
        .split("\n")
        .filter(Boolean)
        .map((line) => {
          const [commit, at, ...author] = line.split("\t");
          return { commit: commit!, at: new Date(Number(at) * 1000), author: author.join("\t") };
        });
    return throughHistory(this.history, { what: `the history of ${path}`, tip, ask, changes: (l) => l.map((c) => c.commit), full: (l) => l.length >= max });
  }

  /**
   * The newest commit reachable from `tip` that changed `path`, with git's verdict on its signature
   * checked against `signers` only (the machine's own files, never the user's git config; OpenPGP and
   * X.509 signatures are not checked: they count as unverifiable). Undefined: no commit changed it.
   */
  async lastChange(at: string, path: string, signers: Signers): Promise<Change | undefined> {
    const byTip = this.tipChangeCandidate(at, path) && this.changedByTip(at, path, await this.signaturesHere(signers), await shallowBoundary(this.history));
    return byTip || (await this.signedChanges(at, path, signers, 1, `the newest change of ${path}`))[0];
  }

  /**
   * lastChange's answer with no git call when the tip itself made the change, as a daemon that synced on its parent
   * sees it: the tip has one parent, readFiles listed both in this process (the same paths asked), the file's blob
   * (or mode) differs between them, and its signature is checked here. That is git log's own test for a commit of one
   * parent (it is not TREESAME). Undefined: unsure, and git is asked. `here`: the signers checked in process
   * (signaturesHere), `boundary`: the shallow boundary, both read once by the caller.
   */
  private changedByTip(at: string, path: string, here: Map<string, string> | undefined, boundary: ReadonlySet<string>): Change | undefined {
    const candidate = this.tipChangeCandidate(at, path);
    // A shallow checkout's boundary commit has no parent here: git's answer is another (src/git/history.ts).
    if (!candidate || !here || boundary.has(candidate.tip)) return undefined;
    const verdict = commitVerdict(candidate.raw, here);
    return verdict ? ({ commit: candidate.tip, author: candidate.author, root: false, ...verdict } as Change) : undefined;
  }

  /** The tip, its raw commit and author when the tip has one parent, both were listed here, and `path` differs between them. */
  private tipChangeCandidate(at: string, path: string): { tip: string; raw: Buffer; author: string } | undefined {
    const tip = commitOf(at, roleOf(path));
    const raw = commitBodies.get(tip);
    const headers = raw && commitParentsAndAuthor(raw);
    if (!raw || !headers || headers.parents.length !== 1 || tip.length !== 40) return undefined;
    const checkout = resolve(this.dir);
    const now = listedBlobs.get(`${checkout}\0${tip}`);
    const before = listedBlobs.get(`${checkout}\0${headers.parents[0]}`);
    const blob = now?.blobs.get(path);
    if (!now || !before || now.asked !== before.asked || blob === undefined || blob === before.blobs.get(path)) return undefined;
    return { tip, raw, author: headers.author };
  }

  /**
   * The newest `max` commits reachable from `tip` that changed `path`, newest first, each with git's verdict on its
   * signature (as lastChange) and whether it is a root (a new history that holds the file as it was: the machines'
   * branch bounded). One git call.
   */
  async signedChanges(at: string, path: string, signers: Signers, max: number, what = `the history of ${path}`): Promise<(Change & { root: boolean })[]> {
    const tip = commitOf(at, roleOf(path));
    const here = await this.signaturesHere(signers);
    if (here) {
      // The commits from git's log, their signatures checked here (src/git/signatures.ts): no ssh-keygen per commit.
      const ask = async () =>
        (await this.git().raw(["-c", "log.showSignature=false", "log", `--max-count=${max}`, "--format=%H%x1f%an <%ae>%x1f%P%x1e", tip, "--", `:(literal)${path}`]))
          .split("\x1e")
          .map((record) => record.trim())
          .filter(Boolean)
          .map((record) => {
            const [commit, author, parents] = record.split("\x1f");
            return { commit: commit!, author: author ?? "", root: !parents?.trim() };
          });
      const listed = await throughHistory(this.history, { what, tip, ask, changes: (l) => l.map((c) => c.commit), full: (l) => l.length >= max });
      const raws = await this.commitObjects(listed.map((c) => c.commit));
      const verdicts = listed.map((c) => {
        const raw = raws.get(c.commit);
        return raw ? commitVerdict(raw, here) : undefined;
      });
      // (A SHA-256 repository's signatures are under another header: git's to read.)
      if (listed.every((c) => c.commit.length === 40) && verdicts.every((v) => v !== undefined)) return listed.map((c, i) => ({ ...c, ...verdicts[i]! }));
    }
    const config = [
      `gpg.ssh.allowedSignersFile=${signers.allowed}`,
      ...(signers.revoked ? [`gpg.ssh.revocationFile=${signers.revoked}`] : []),
      "gpg.openpgp.program=false",
      "gpg.x509.program=false",
      "log.showSignature=false",
    ].flatMap((c) => ["-c", c]);
    const ask = async () =>
      (await this.git().raw([...config, "log", `--max-count=${max}`, "--format=%H%x1f%G?%x1f%GS%x1f%an <%ae>%x1f%P%x1e", tip, "--", `:(literal)${path}`]))
        .split("\x1e")
        .map((record) => record.trim())
        .filter(Boolean)
        .map((record) => {
          const [commit, status, signer, author, parents] = record.split("\x1f");
          return {
            commit: commit!,
            status: (STATUSES.has(status ?? "") ? status : "E") as SignatureStatus,
            signer: signer ?? "",
            author: author ?? "",
            root: !parents?.trim(),
          };
        });
    // A shallow checkout's boundary commit looks as if it added every file: never taken for a change (src/git/history.ts).
    return throughHistory(this.history, { what, tip, ask, changes: (l) => l.map((c) => c.commit), full: (l) => l.length >= max });
  }

  /**
   * Hub.lastChanges: the newest change of each asked path, as lastChange gives it, from one walk of the newest
   * LAST_CHANGES_WALK commits (no pathspec: the walk shows the chain itself) and one `cat-file --batch` for the
   * changes' signatures, checked here. Only a path whose answer is certain is answered: its change lies on the
   * part of the walk that is one line of single-parent commits from the tip, no shallow boundary among them (so
   * each commit's changed files are its difference from its one parent, as the per-path `git log` judges them),
   * and its accepted commit, when the rollback check asks (a good change other than it), lies at or below the
   * change on that line (an ancestor: afterVerified keeps the change as it is). Anything else (a merge, a root, a
   * boundary, a change older than the walk, a rollback, a signature not checked here) is left to the per-path code.
   */
  async lastChanges(at: string, asks: readonly LastChangeAsk[], signers: Signers): Promise<Map<string, Change>> {
    const answers = new Map<string, Change>();
    // A path git could not have written as UTF-8 is compared by git itself (per path).
    const askable = asks.filter((a) => !a.path.includes("\ufffd"));
    if (!askable.length) return answers;
    const here = await this.signaturesHere(signers);
    if (!here) return answers;
    const boundary = await shallowBoundary(this.history); // read before walking, as throughHistory does
    // A change the tip itself made, after its parent was read here (a daemon's next tip), needs no git at all.
    const rest: LastChangeAsk[] = [];
    for (const a of askable) {
      const change = this.changedByTip(at, a.path, here, boundary);
      if (change && (standsWithoutAncestry(change, a.accepted) || this.knownAncestor(a.accepted!, change.commit))) answers.set(a.path, change);
      else rest.push(a);
    }
    if (!rest.length) return answers;
    const byTip = new Map<string, LastChangeAsk[]>();
    for (const a of rest) {
      const tip = commitOf(at, roleOf(a.path));
      byTip.set(tip, [...(byTip.get(tip) ?? []), a]);
    }
    const found: { ask: LastChangeAsk; chain: LinearChain; at: number }[] = [];
    await Promise.all(
      [...byTip].map(async ([tip, group]) => {
        const chain = await this.linearChain(tip, boundary);
        if (!chain) return;
        for (const ask of group) {
          const at = chain.firstTouch.get(ask.path);
          if (at !== undefined) found.push({ ask, chain, at });
        }
      }),
    );
    if (!found.length) return answers;
    const raws = await this.commitObjects(found.map((f) => f.chain.commits[f.at]!.commit));
    for (const { ask, chain, at } of found) {
      const { commit, author } = chain.commits[at]!;
      const raw = raws.get(commit);
      const verdict = raw && commitVerdict(raw, here);
      if (!verdict) continue;
      const change = { commit, author, root: false, ...verdict } as Change;
      // (standsWithoutAncestry is true when nothing was accepted.)
      if (!standsWithoutAncestry(change, ask.accepted)) {
        // afterVerified asks whether the accepted commit is in the change's history: on one line, iff it is at or below it.
        const below = chain.index.get(ask.accepted!);
        if (below === undefined || below < at) continue;
      }
      answers.set(ask.path, change);
    }
    return answers;
  }

  /**
   * The newest LAST_CHANGES_WALK commits from `tip` with the files each changed (git log --name-only, no
   * pathspec), cut where they stop being one line of single-parent commits: undefined when git's answer is not
   * read with certainty (SHA-256 ids, a record that does not parse, a commit listed twice).
   */
  private async linearChain(tip: string, boundary: ReadonlySet<string>): Promise<LinearChain | undefined> {
    const out = await this.git().raw([
      ...["log.showSignature=false", "diff.relative=false"].flatMap((c) => ["-c", c]),
      "log",
      "--no-color",
      "--no-renames", // a renamed file's old name is a change of that path too, as a pathspec sees it
      "--name-only",
      "-z",
      `--max-count=${LAST_CHANGES_WALK}`,
      "--format=%x1e%H%x1f%an <%ae>%x1f%P",
      tip,
      "--",
    ]);
    // Each commit: "\x1e<header>\0", then (when it changed files) "\n<name>\0<name>\0…".
    const tokens = out.split("\0");
    const listed: { commit: string; author: string; parents: string[]; names: string[] }[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      const last = listed[listed.length - 1];
      if (token.startsWith("\x1e")) {
        const m = CHAIN_HEADER.exec(token);
        if (!m) return undefined;
        listed.push({ commit: m[1]!, author: m[2]!, parents: m[3] ? m[3].split(" ") : [], names: [] });
      } else if (i === tokens.length - 1) {
        if (token !== "") return undefined;
      } else if (!last) return undefined;
      else if (last.names.length === 0) {
        if (!token.startsWith("\n")) return undefined;
        last.names.push(token.slice(1));
      } else last.names.push(token);
    }
    if (new Set(listed.map((c) => c.commit)).size !== listed.length) return undefined;
    const commits: LinearChain["commits"] = [];
    const index = new Map<string, number>();
    const firstTouch = new Map<string, number>();
    for (const [i, c] of listed.entries()) {
      if (c.parents.length !== 1 || boundary.has(c.commit) || (i > 0 && listed[i - 1]!.parents[0] !== c.commit)) break;
      index.set(c.commit, i);
      commits.push({ commit: c.commit, author: c.author });
      // A path is changed by a change to it, or (as a pathspec matches) to a file under it.
      for (const name of c.names) {
        const parts = name.split("/");
        for (let n = 1; n <= parts.length; n++) {
          const path = parts.slice(0, n).join("/");
          if (!firstTouch.has(path)) firstTouch.set(path, i);
        }
      }
    }
    // The last one's parent is below them all (a merge, a root, a boundary or past the walk: never a change here).
    const below = listed[commits.length - 1]?.parents[0];
    if (below !== undefined) index.set(below, commits.length);
    return { commits, index, firstTouch };
  }

  /** The keys of `signers` when this process checks signatures against them itself (plainSigners, no revoked keys), else undefined: git does. */
  private async signaturesHere(signers: Signers): Promise<Map<string, string> | undefined> {
    if (signers.revoked) return undefined;
    const text = await readFile(signers.allowed, "utf8").catch(() => undefined);
    return text === undefined ? undefined : plainSigners(text); // no file: git says what it says of a missing one
  }

  /** Raw commit objects by id, read in one `cat-file --batch`. */
  private async commitObjects(ids: string[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    if (!ids.length) return out;
    const batch = await this.git({ input: `${[...new Set(ids)].join("\n")}\n` }).binaryCatFile(["--batch"]);
    for (const r of batchRecords(batch)) if (r.body && r.type === "commit") out.set(r.sha, r.body);
    return out;
  }

  /** This checkout as the history questions of src/git/history.ts see it. */
  private get history(): HistoryGit {
    return {
      run: (args, timeout) => this.git(timeout === undefined ? {} : { timeout }).raw(args),
      dir: this.dir,
      remote: this.remote,
      branch: this.branch,
      timeout: this.timeout,
      describe: (e) => firstLine(String((e as Error)?.message ?? e)),
    };
  }

  /** The file at `path` in `commit`, or undefined when the commit has no such file. */
  async showFile(commit: string, path: string): Promise<string | undefined> {
    return this.git()
      .raw(["show", `${commitOf(commit, roleOf(path))}:${path}`])
      .catch(() => undefined);
  }

  /** The failure a fetch that failed with `e` is reported as (a fetch started before the sync: src/startup/prefetch.ts). */
  fetchFailure(e: unknown): Promise<CoordError> {
    return this.remoteError(e, "reach");
  }

  /** A failed fetch or push in one sentence: the remote (without credentials), and why. */
  private async remoteError(e: unknown, doing: "reach" | "push to"): Promise<CoordError> {
    const url = await this.displayUrl();
    const Failure = doing === "reach" ? RemoteUnreachable : CoordError;
    if (isTimeout(e))
      return new Failure(`could not ${doing} the remote ${url}: the remote did not answer in ${this.timeout} s (gitTimeout in .git/coord/machine.yaml sets how long coord waits)`);
    const text = String((e as Error)?.message ?? e);
    const said = firstLine(text);
    // A hook's refusal (ALERT:) is the remote answering: no outage.
    if (said.startsWith("ALERT:")) return new CoordError(`${said} (remote ${url})`, EXIT.FAILURE);
    // What to do about it, where coord knows (a protected branch, a key or credentials the server does not take).
    const fix = fixFor(text);
    const why = fix ? `${said.replace(/[.:]$/, "")}; ${fix}` : said;
    // The server answered no to a fetch (401, 403, an unknown key, a repository it will not show): no outage.
    if (doing === "reach" && isReadRefusal(text)) return new CoordError(`the remote ${url} refused to let this machine read it: ${why}`, EXIT.FAILURE);
    // The server answered no to a push: a refusal, which the machine reports as its state (never an outage, never a race).
    if (doing === "push to" && isPushRefusal(text)) return new PushRefused(`the remote ${url} refused the push: ${why}`);
    return new Failure(`could not ${doing} the remote ${url}: ${why}`);
  }

  /** The tip the tracking refs name (joinTip), or for any other ref the commit it points at; undefined when there is none. */
  async resolve(ref: string): Promise<string | undefined> {
    // Both tracking refs in one question (for-each-ref); undefined while the people's is missing.
    if (ref === this.trackingRef) return this.asked(ref, () => trackedTip(this.git(), this.remote, this.branch));
    return this.resolveRef(ref);
  }

  /** The commit a ref points at, or undefined. */
  private resolveRef(ref: string): Promise<string | undefined> {
    // No such ref or commit: exit 1 and no output, which run.ts resolves as "".
    return this.asked(ref, async () => (await this.git().raw(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`])).trim() || undefined);
  }

  /** What `ask` says of `ref` (undefined: no such ref), asked again where one answer is not to be trusted. */
  private async asked(ref: string, ask: () => Promise<string | undefined>): Promise<string | undefined> {
    // A rejection is git failing to answer (a loaded machine, a ref being rewritten): asked again, then said.
    // The tracking ref exists in every checkout that has synced once; seen missing, it is asked again
    // (under load a concurrent lookup was seen to answer nothing once, and "never synced" is a hard error).
    const missingAsks = ref === this.trackingRef ? 2 : 1;
    for (let attempt = 1, asked = 0; ; attempt++) {
      try {
        const tip = await ask();
        if (tip || ++asked >= missingAsks) return tip;
        await new Promise((r) => setTimeout(r, backoffDelay(1, REF_LOCK_BACKOFF)));
      } catch (e) {
        if (this.signal?.aborted || attempt >= 3) throw new CoordError(`git could not read ${ref} in ${this.dir}: ${firstLine(String((e as Error).message))}`, EXIT.FAILURE);
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, REF_LOCK_BACKOFF)));
      }
    }
  }

  /**
   * Every file under `prefixes` at `commit`, read in one `cat-file --batch`,
   * by its exact path (`ls-tree -z`: a tab or newline in a name stays in the
   * name). A blob over its path's size limit is not read: it stands as a
   * marker that readModel reports (core/limits.ts).
   */
  async readFiles(tip: string, prefixes: string[]): Promise<Map<string, string>> {
    const t = splitTip(tip);
    if (!t) return this.readCommitFiles(tip, prefixes, "");
    const [people, machines] = await Promise.all([
      this.readCommitFiles(t.people, prefixes, "people"),
      t.machines ? this.readCommitFiles(t.machines, prefixes, "machines") : undefined,
    ]);
    return filesByRole(people, machines);
  }

  /** readFiles of one commit; `slot` keeps the blobs read last apart per branch (two branches are read side by side). */
  private async readCommitFiles(commit: string, prefixes: string[], slot: string): Promise<Map<string, string>> {
    // -t: the directories too, so that a publish on this commit lists none of them again (commitFiles).
    // Kept only by object id: a name (HEAD, a branch) may name another commit next time.
    const listingKey = isObjectId(commit) ? [resolve(this.dir), commit, ...prefixes].join("\0") : undefined;
    const known = listingKey === undefined ? undefined : commitListings.get(listingKey);
    const listing = known ?? (await this.git().raw(["ls-tree", "-r", "-t", "-z", "-l", "--full-tree", commit, "--", ...prefixes]));
    if (listingKey !== undefined) keepLatest(commitListings, listingKey, listing, 16);
    const checkout = resolve(this.dir);
    const files = new Map<string, string | undefined>();
    const blobIds = new Map<string, string>();
    const entries: { sha: string; path: string }[] = [];
    const trees = new Map<string, string>();
    const children = new Map<string, string[]>();
    for (const entry of listing.split("\0")) {
      // <mode> SP <type> SP <object> SP+ <size> TAB <path>: the path is everything after the first tab.
      const tab = entry.indexOf("\t");
      if (tab < 0) continue;
      const [mode, type, sha, size] = entry.slice(0, tab).split(/ +/) as [string, string, string, string];
      const path = entry.slice(tab + 1);
      const slash = path.lastIndexOf("/");
      const parent = slash < 0 ? "" : path.slice(0, slash);
      children.set(parent, [...(children.get(parent) ?? []), `${mode} ${type} ${sha}\t${path.slice(slash + 1)}\0`]);
      if (type === "tree") trees.set(path, sha);
      if (type !== "blob") continue;
      blobIds.set(path, `${mode} ${sha}`);
      // A symlink's blob is its target, which coord never follows.
      const skip = mode === "120000" ? notRead("it is a symbolic link, which coord never follows") : tooBigBlob(path, Number(size));
      if (skip !== undefined) files.set(path, skip);
      else {
        files.set(path, undefined); // in the listing's order
        entries.push({ sha, path });
      }
    }
    if (listingKey !== undefined) keepLatest(listedBlobs, `${checkout}\0${commit}`, { asked: prefixes.join("\0"), blobs: blobIds }, 32);
    // A blob read last time (by any Repo of this checkout in this process) is not read again: a blob id is the hash of its content.
    const key = `${checkout}\0${slot}`;
    const before = lastTexts.get(key);
    const texts = new Map<string, string>();
    const unread = entries.filter((e) => {
      const text = before?.get(e.sha);
      if (text !== undefined) texts.set(e.sha, text);
      return text === undefined;
    });
    if (unread.length) {
      // The root directory's listing comes last, for a publish on this commit (commitFiles), unless it is known.
      const blobs = [...new Set(unread.map((e) => e.sha))];
      const root = this.listed(`${commit}^{tree}`) !== undefined ? [] : [`${commit}^{tree}`];
      // The machines' commit itself too: its history mark (historyOf), which a publish on it asks next, without a `git log`.
      // Kept whole too, for the signature of a change the tip itself made (lastChange).
      const mark = slot === "machines" && isObjectId(commit) && !(historyMarks.has(commit) && commitBodies.has(commit)) ? [commit] : [];
      let read = 0;
      const out = await this.git({ input: `${[...blobs, ...root, ...mark].join("\n")}\n` }).binaryCatFile(["--batch"]);
      batchRecords(out).forEach(({ sha, type, body }, record) => {
        if (!body) return;
        if (record === blobs.length + root.length && mark.length && type === "commit") {
          keepLatest(commitBodies, commit, body, 64);
          const parsed = commitTimeAndMessage(body);
          if (parsed) markCommit(commit, parsed);
        } else if (record === blobs.length && root.length && type === "tree") this.remember(`${commit}^{tree}`, treeListing(body, sha.length / 2));
        else if (record < blobs.length) {
          texts.set(sha, body.toString("utf8"));
          read++;
        }
      });
      blobsReadBy.set(checkout, (blobsReadBy.get(checkout) ?? 0) + read);
    }
    for (const e of entries) {
      const text = texts.get(e.sha);
      if (text === undefined) throw new CoordError(`git did not give the blob ${e.sha} (${e.path}) of ${commit} in ${this.dir}; run coord doctor`, EXIT.FAILURE);
      files.set(e.path, text);
      knownBlobId(text, e.sha); // the parse cache need not hash it
    }
    // The 8 checkouts read last (a Map keeps the order of insertion): another checkout's read does not drop this one's.
    keepLatest(lastTexts, key, texts, 8);
    // A directory's listing is whole when the directory lies inside what was asked for (the root only when everything was).
    const whole = (dir: string) => prefixes.length === 0 || prefixes.some((p) => dir === p || dir.startsWith(`${p}/`));
    for (const [dir, id] of trees) if (whole(dir)) this.remember(id, (children.get(dir) ?? []).join(""));
    if (prefixes.length === 0) this.remember(`${commit}^{tree}`, (children.get("") ?? []).join(""));
    return files as Map<string, string>;
  }

  /**
   * A commit on top of `parent` (or a root commit) with `changes` applied
   * (path → new content, or null to delete), built in a private index so the
   * checkout and its index are never touched.
   */
  async commitFiles(parent: string | undefined, changes: Map<string, string | null>, author: Author, message: string, opts: CommitOptions = {}): Promise<string> {
    const t = parent === undefined ? undefined : splitTip(parent);
    if (t) {
      const role = roleOfChanges(changes);
      const commit = await this.commitOn(role === "machines" ? t.machines : t.people, changes, author, message, opts.newRoot === true);
      // The next publish reads this commit's mark: known already, no git to ask.
      const mark = role === "machines" ? parseHistoryTrailer(message) : undefined;
      if (mark) rememberMark(commit, mark);
      return role === "machines" ? joinTip(t.people, commit) : joinTip(commit, t.machines);
    }
    return this.commitOn(parent, changes, author, message, opts.newRoot === true);
  }

  /** commitFiles on one commit (or a root commit; `newRoot`: a root commit of the parent's tree with the changes). */
  private async commitOn(parent: string | undefined, changes: Map<string, string | null>, author: Author, message: string, newRoot = false): Promise<string> {
    // Signed here when the key is one coord signs with (src/core/trust/sshsig.ts); any other key: by git, through ssh-keygen.
    const signer = this.signingKey ? await this.signer() : undefined;
    const writer = (this.signingKey && !signer) || !parent || parent.length !== 40 ? undefined : await this.objectWriter();
    if (!writer) return this.commitWithPlumbing(parent, changes, author, message, newRoot);
    // The blobs side by side (each a file of its own); the trees after them, each after its children.
    const ids = await Promise.all([...changes].map(([, content]) => (content === null ? null : writer.write("blob", content))));
    const edits = new Map<string, string | null>([...changes.keys()].map((path, i) => [path, ids[i]!]));
    // The same directory-by-directory edit as with plumbing (src/git/tree.ts); only the trees are written here.
    const run = async (args: string[], input?: string): Promise<string> => {
      if (args[0] === "mktree") {
        const id = await writer.write("tree", treeBody((input ?? "").split("\0").filter(Boolean)));
        this.remember(id, input ?? "");
        return `${id}\n`;
      }
      const base = args.at(-1)!;
      const known = this.listed(base);
      if (known !== undefined) return known;
      const listing = await this.git().raw(args);
      this.remember(base, listing);
      return listing;
    };
    const tree = (await editTree(run, `${parent}^{tree}`, edits)) ?? (await writer.write("tree", Buffer.alloc(0)));
    return writer.write("commit", commitText(tree, newRoot ? undefined : parent, author, message, signer));
  }

  /** Signs this repo's commits with the key at `path`; `key`: it read already (state/trust.ts signingOf), not read again. */
  useSigningKey(path: string, key?: SigningKey): void {
    this.signingKey = path;
    this.signing = { path, key: Promise.resolve(key) };
  }

  /** The signing key read once for this repo: undefined when coord cannot sign with it in process (git signs then). */
  private signing?: { path: string; key: Promise<SigningKey | undefined> };
  private signer(): Promise<SigningKey | undefined> {
    const path = this.signingKey!;
    if (this.signing?.path !== path)
      this.signing = {
        path,
        key: readFile(path, "utf8").then(readSigningKey, () => undefined), // unreadable: git says why when it tries
      };
    return this.signing.key;
  }

  /** A tree's listing this process has seen in this checkout (any Repo of it: coord init reads, its first sync commits). */
  private listed(key: string): string | undefined {
    return treeListings.get(`${resolve(this.dir)}\0${key}`);
  }
  private remember(key: string, listing: string): void {
    keepLatest(treeListings, `${resolve(this.dir)}\0${key}`, listing, 256);
  }

  /** The writer of loose objects when this checkout keeps them in .git/objects (not a worktree or submodule, whose .git is a file). */
  private writer?: Promise<ObjectWriter | undefined>;
  private objectWriter(): Promise<ObjectWriter | undefined> {
    const objects = join(this.dir, ".git", "objects");
    this.writer ??= lstat(objects).then(
      (st) => (st.isDirectory() ? new ObjectWriter(objects) : undefined),
      () => undefined,
    );
    return this.writer;
  }

  /** commitFiles through git's plumbing: a signed commit, a root commit, or a checkout whose objects coord does not write itself. */
  private async commitWithPlumbing(parent: string | undefined, changes: Map<string, string | null>, author: Author, message: string, newRoot = false): Promise<string> {
    // A directory of its own per call: one process (coord watch) may build two commits at once.
    await mkdir(join(this.stateDir, "tmp"), { recursive: true });
    const scratch = await mkdtemp(join(this.stateDir, "tmp", `commit-${process.pid}-`));
    const env = { GIT_INDEX_FILE: join(scratch, "index"), ...authorEnv(author) };
    try {
      const git = this.git({ env });
      const writes = [...changes].filter((c): c is [string, string] => c[1] !== null);
      const files = await Promise.all(
        writes.map(async ([, content], i) => {
          const f = join(scratch, `blob-${i}`);
          await writeFile(f, content);
          return f;
        }),
      );
      const shas = files.length ? (await git.raw(["hash-object", "-w", "--", ...files])).trim().split("\n") : [];
      // Directory by directory (src/git/tree.ts), not through an index: one entry git would refuse to
      // check out ("..") elsewhere in the tree must not stop every machine's publish.
      const edits = new Map<string, string | null>([...changes].map(([path, c]) => [path, c === null ? null : shas[writes.findIndex(([p]) => p === path)]!]));
      const run = (args: string[], input?: string) => (input === undefined ? git : this.git({ env, input })).raw(args);
      const tree = (await editTree(run, parent ? `${parent}^{tree}` : undefined, edits)) ?? (await this.git({ env, input: "" }).raw(["mktree"])).trim();
      // Signed here with a key coord signs with (a root commit, a worktree: no fast writer), in a SHA-1 repository,
      // whose signature header is "gpgsig"; any other key, or repository, is git's to sign.
      const signer = this.signingKey && tree.length === 40 ? await this.signer() : undefined;
      if (signer) {
        const text = commitText(tree, parent && !newRoot ? parent : undefined, author, message, signer);
        return (await this.git({ env, input: text }).raw(["hash-object", "-t", "commit", "-w", "--stdin"])).trim();
      }
      const args = ["commit-tree", tree, "-m", message];
      if (parent && !newRoot) args.push("-p", parent);
      // Signed with this machine's SSH key when it has one (trust.signingKey), for readers that check machines' commits.
      const sign = this.signingKey ? ["-c", "gpg.format=ssh", "-c", `user.signingKey=${this.signingKey}`] : [];
      if (this.signingKey) args.push("-S");
      return (await git.raw([...sign, ...args])).trim();
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** Hub.push: the parts of `tip` of `roles` to their branches without force, atomically. false: someone pushed first. */
  async push(tip: string, roles: Role[] = ["machines"], opts: PushOptions = {}): Promise<boolean> {
    const updates: { ref: string; tracking?: string; commit: string }[] = [];
    const lease: string[] = [];
    for (const role of roles) {
      const t = splitTip(tip);
      const commit = t ? (role === "machines" ? t.machines : t.people) : tip;
      if (commit === undefined) continue;
      const branch = role === "machines" ? MACHINES_BRANCH : this.branch;
      updates.push({ ref: `refs/heads/${branch}`, tracking: trackingRefOf(this.remote, branch), commit });
      // A new root replaces the branch only if it is still where it was read: compare-and-swap by lease.
      if (role === "machines" && opts.replacing) lease.push(`--force-with-lease=refs/heads/${branch}:${opts.replacing}`);
    }
    if (lease.length && opts.keepAs) updates.push({ ref: opts.keepAs, commit: opts.replacing! });
    if (!updates.length) return true;
    // The machines it wakes (core/hub/wakes.ts): each one's ref moved to one empty commit, forced, in the same atomic push.
    const machines = updates.find((u) => u.ref === `refs/heads/${MACHINES_BRANCH}`)?.commit;
    const wake = machines && opts.wakes?.machines.length ? await this.wakeCommit(machines, opts.wakes.machines, opts.wakes.by) : undefined;
    const wakeUpdates = wake ? opts.wakes!.machines.map((m) => `+${wake}:${wakeRefOf(m)}`) : [];
    const pushing = async (extra: string[]) => {
      const refspecs = [...updates.map((u) => `${u.commit}:${u.ref}`), ...extra];
      const atomic = refspecs.length > 1 ? ["--atomic"] : [];
      await this.git().raw(["push", "--quiet", "--porcelain", ...atomic, ...lease, this.remote, ...refspecs]);
    };
    try {
      await pushing(wakeUpdates).catch(async (e: unknown) => {
        // A host that refuses the wake refs (a rule, a hook) refuses the whole atomic push: it goes again without them,
        // and the caller is told (it stops waking for a while). A lost race or an outage is what it was.
        const said = gitFailureText(String((e as Error)?.message ?? e));
        if (!wakeUpdates.length || isTimeout(e) || isRejectedPush(e) || !isPushRefusal(said)) throw e;
        // Refused again without them, the wakes were not why: that refusal is the push's. Landed, or lost a race: they were.
        const refused = () => opts.wakesRefused?.(firstLine(redact(said)));
        await pushing([]).catch((again: unknown) => {
          if (isRejectedPush(again)) refused();
          throw again;
        });
        refused();
      });
    } catch (e) {
      if (isRejectedPush(e)) return false;
      throw await this.remoteError(e, "push to");
    }
    // Only a cache of the remote tip, which git's push sets itself when the remote's fetch refspec maps
    // the branch (a clone coord made): else set here. A concurrent fetch (coord status) holding the
    // ref's lock must not turn a push that landed into a failed sync; the next fetch sets it anyway.
    const gitDir = await this.plainGitDir();
    for (const u of updates) {
      if (!u.tracking || (gitDir && (await refFromFiles(gitDir, u.tracking)) === u.commit)) continue;
      await this.git()
        .raw(["update-ref", u.tracking, u.commit])
        .catch(() => {});
    }
    return true;
  }

  /**
   * The commit the wake refs of `machines` move to with `by`'s publish of `published` (the machines' commit): a root commit
   * of the empty tree that names them and it, unsigned (it carries nothing; a wake only makes its machine look
   * sooner). Written here when coord writes this checkout's objects, else through git's plumbing.
   */
  private async wakeCommit(published: string, machines: readonly string[], by: string): Promise<string> {
    const author = machineAuthor(by);
    const message = `coord: wake ${machines.join(", ")} for ${published}`;
    const writer = published.length === 40 ? await this.objectWriter() : undefined;
    if (!writer) return this.commitWithPlumbing(undefined, new Map(), author, message);
    const tree = await writer.write("tree", Buffer.alloc(0));
    return writer.write("commit", commitText(tree, undefined, author, message, undefined));
  }

  /**
   * Brings the checkout's branch up to `commit` when that is a fast-forward
   * and loses nothing; otherwise leaves it alone and says why.
   */
  async fastForward(tip: string): Promise<string | undefined> {
    // The work tree is the people's branch: ORDERS.json as people edit it.
    const commit = commitOf(tip, "people");
    // One at a time per checkout in this process: coord watch fast-forwards after its push while
    // its daemon's sync may fast-forward too, and two would fight over .git/index.lock.
    return fastForwards(resolve(this.dir), () => this.fastForwardNow(commit));
  }

  private async fastForwardNow(commit: string): Promise<string | undefined> {
    // Already there (HEAD read from git's files, as after most syncs): nothing for git to do.
    const gitDir = await this.plainGitDir();
    if (gitDir && (await headFromFiles(gitDir)) === commit) return undefined;
    // The usual case in one git call: a clean checkout that is behind (or already there). Anything in the
    // way (local edits, an unborn branch, a rewritten history) takes the careful path below, which says why.
    const clean = await this.git()
      .raw(["merge", "--ff-only", "--quiet", commit])
      .then(
        () => true,
        () => false,
      );
    if (clean) return undefined;
    const head = await this.resolve("HEAD");
    try {
      if (!head) await this.git().raw(["checkout", "--quiet", "-B", this.branch, commit]);
      else if (head !== commit) {
        // A local edit that already is what the commit holds (a person's saved ORDERS.json that
        // coord watch pushed) is not in the way: stage the commit's version, then fast-forward.
        // Only the index is set, never the file: a save made since it was compared stays a local edit.
        const same = await this.editsEqualTo(commit);
        if (same.length) await this.git().raw(["reset", "--quiet", commit, "--", ...same]);
        try {
          await this.git().raw(["merge", "--ff-only", "--quiet", commit]);
        } catch (e) {
          // Put the index back as it was; if even that fails, the index holds what the work tree has, which
          // loses nothing. The merge's error is the one that says what happened.
          if (same.length)
            await this.git()
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
      if (head && !(await ancestorHere(this.history, head, commit))) {
        if (await this.wasPublished(head)) {
          const inTheWay = await this.git()
            .raw(["reset", "--keep", "--quiet", commit])
            .then(() => undefined)
            .catch((err: Error) => firstLine(String(err.message)));
          return inTheWay === undefined
            ? `the remote's history was rewritten (a force-push); the checkout follows it (its old head ${head.slice(0, 12)} is in git's reflog)`
            : `the remote's history was rewritten (a force-push); the checkout was not moved to it because local changes are in the way (${inTheWay}); they are kept`;
        }
        const upstream = `${this.remote}/${this.branch}`;
        return `the checkout was not updated to the new commit: its branch has commits ${upstream} does not (git log ${upstream}..HEAD shows them); they are kept`;
      }
      return `the checkout was not updated to the new commit (${firstLine(msg).replace(/:$/, "")}${files.length ? `: ${files.join(", ")}` : ""}); your local changes are kept`;
    }
  }

  /** Whether `a` is an ancestor of (or is) `b` in the whole history (a shallow checkout fetches older commits when its boundary is in the way); false when either is unknown even then. */
  /**
   * The checkout's branch named as the hub's and tracking it: a clone of an empty remote is left on git's
   * default branch name (init.defaultBranch: master, say) with no upstream, where `git pull` fails and a
   * plain `git push` would create another branch. Only for a checkout whose branch has no commit of its
   * own yet, or is another name for the hub's.
   */
  async trackHubBranch(): Promise<void> {
    const current = (
      await this.git()
        .raw(["symbolic-ref", "--quiet", "--short", "HEAD"])
        .catch(() => "")
    ).trim();
    if (current && current !== this.branch) {
      const born = await this.resolveRef(`refs/heads/${current}`);
      if (born) await this.git().raw(["branch", "-M", current, this.branch]);
      else {
        await this.git().raw(["symbolic-ref", "HEAD", `refs/heads/${this.branch}`]);
        await this.git()
          .raw(["config", "--remove-section", `branch.${current}`])
          .catch(() => {}); // what the clone set for a branch that never was
      }
    }
    // A clone of an empty remote may have no fetch refspec at all: git could not tell the upstream's tracking ref.
    const refspecs = await this.git()
      .raw(["config", "--get-all", `remote.${this.remote}.fetch`])
      .catch(() => "");
    if (!refspecs.split("\n").some((r) => r.includes(`refs/heads/${this.branch}:`) || r.includes("refs/heads/*:")))
      await this.git().raw(["config", "--add", `remote.${this.remote}.fetch`, `+refs/heads/${this.branch}:${trackingRefOf(this.remote, this.branch)}`]);
    await this.git().raw(["config", `branch.${this.branch}.remote`, this.remote]);
    await this.git().raw(["config", `branch.${this.branch}.merge`, `refs/heads/${this.branch}`]);
  }

  /**
   * Whether `commit`'s history begins at a root that replaced the machines' branch (a new root with its
   * Coord-History mark: core/hub/status-history.ts) made no earlier than `before`: `before`'s history was
   * dropped by that replacement, not rolled back to. False when unsure (a shallow boundary, `before` gone).
   */
  async restartedAfter(commit: string, before: string): Promise<boolean> {
    try {
      const roots = (await this.git().raw(["rev-list", "--max-parents=0", commit])).split("\n").filter(Boolean);
      if (roots.length !== 1 || (await shallowBoundary(this.history)).has(roots[0]!)) return false;
      const [root, then] = await Promise.all([this.timeAndMessage(roots[0]!), this.timeAndMessage(before)]);
      return parseHistoryTrailer(root.message)?.depth === 1 && root.at >= then.at;
    } catch {
      return false;
    }
  }

  async isAncestor(a: string, b: string): Promise<boolean> {
    return this.knownAncestor(a, b) || isAncestorInHistory(this.history, a, b);
  }

  /** Whether `a` is `b` or found along the single parents of the commits read in this process (a daemon's recent tips): a yes is git's; a no is unsure. */
  private knownAncestor(a: string, b: string): boolean {
    let at: string | undefined = b;
    for (let step = 0; at !== undefined && step < 64; step++) {
      if (at === a) return true;
      const raw = commitBodies.get(at);
      const parents = raw && commitParentsAndAuthor(raw)?.parents;
      at = parents?.length === 1 ? parents[0] : undefined;
    }
    return false;
  }

  /** Whether `commit` was on the remote branch at some time this checkout saw it (the tracking ref's reflog). */
  private async wasPublished(commit: string): Promise<boolean> {
    const seen = (
      await this.git()
        .raw(["log", "-g", "--format=%H", "-n", "200", this.trackingRef])
        .catch(() => "")
    ) // no reflog (reflogs off): nothing seen
      .split("\n")
      .filter(Boolean);
    for (const tip of [...new Set(seen)]) if (await ancestorHere(this.history, commit, tip)) return true;
    return false;
  }

  /** Files changed in the work tree whose content is exactly the one at `commit`. */
  private async editsEqualTo(commit: string): Promise<string[]> {
    const changed = (await this.git().raw(["diff", "--name-only", "-z", "HEAD"])).split("\0").filter(Boolean);
    const same: string[] = [];
    for (const path of changed) {
      const theirs = await this.showFile(commit, path);
      const mine = await readInCheckout(this.dir, path).catch(() => undefined); // deleted, or a link: not the same
      if (theirs !== undefined && theirs === mine) same.push(path);
    }
    return same;
  }
}

/** Whether a git command was stopped by coord's deadline (gitTimeout). */
export function isTimeout(e: unknown): boolean {
  // By its field, not its class: a head start's failure comes from the executable's copy of git/run.ts (src/process-slot.ts).
  return (e instanceof Error && (e as Partial<GitStopped>).why === "timeout") || /block timeout reached/.test(String((e as Error)?.message ?? e));
}

/**
 * What a failed git command says, in one line fit to print and publish: git's
 * fatal line with the lines of ssh that say why (a changed host key as an
 * ALERT), credentials redacted.
 */
export function firstLine(s: string): string {
  if (/block timeout reached/.test(s)) return "git did not finish in time (gitTimeout in .git/coord/machine.yaml sets how long coord waits)";
  return redact(gitFailureText(s));
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
