// A git checkout coord works in, as each job of src/git takes it (as
// isomorphic-git's commands take their context): where it is, its remote and
// branch, a git client with its deadline and abort, its refs (read from git's
// files where they are plain), its view for the history's questions
// (history.ts), a file of a commit, and a remote's failure said in a sentence.
// Repo (git.ts) is a Checkout with the Hub's methods; reading (read.ts), the
// remote (remote.ts), the history (log.ts, last-change.ts), publishing
// (commit.ts, publish.ts) and the work tree (work-tree.ts) are functions of one.
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { backoffDelay, REF_LOCK_BACKOFF } from "../core/time/backoff.js";
import { roleOf } from "../core/trust/ownership.js";
import { redact } from "../core/trust/redact.js";
import { CoordError, EXIT } from "../errors.js";
import { ObjectBatch } from "./batch.js";
import { DEFAULT_GIT_TIMEOUT, type GitClient, type GitOptions, gitClient, trackedTip, trackingRefOf } from "./client.js";
import { plainGitDir, refFromFiles } from "./dotgit.js";
import { firstLine, remoteFailure } from "./failures.js";
import type { HistoryGit } from "./history.js";
import { commitOf, joinTip, MACHINES_BRANCH } from "./hub.js";

export class Checkout {
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

  /** The checkout's `cat-file --batch` (batch.ts), started at its first read. */
  private batch?: ObjectBatch;

  /** Reads objects through the checkout's one `cat-file --batch` (batch.ts). */
  objects(): ObjectBatch {
    this.batch ??= new ObjectBatch(this.dir, this.timeout * 1000, this.signal);
    return this.batch;
  }

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
  plainGitDir(): Promise<string | undefined> {
    this.gitDir ??= plainGitDir(this.dir);
    return this.gitDir;
  }

  /** Whether this checkout is shallow (a clone over a URL): its first look at the machines' branch fetches its tip alone. */
  async shallow(): Promise<boolean> {
    const gitDir = await this.plainGitDir();
    return (
      gitDir !== undefined &&
      (await lstat(join(gitDir, "shallow")).then(
        () => true,
        () => false,
      ))
    );
  }

  async remoteUrl(): Promise<string> {
    return (await this.git().raw(["remote", "get-url", this.remote])).trim();
  }

  /** The remote's URL fit to print or publish: no userinfo, no token. */
  async displayUrl(): Promise<string> {
    return redact(await this.remoteUrl().catch(() => this.remote));
  }

  /** A failed fetch or push in one sentence: the remote (without credentials), and why (failures.ts). */
  async remoteError(e: unknown, doing: "reach" | "push to"): Promise<CoordError> {
    return remoteFailure(e, doing, await this.displayUrl(), this.timeout);
  }

  /** This checkout as the history questions of src/git/history.ts see it. */
  get history(): HistoryGit {
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

  /** The tip the tracking refs name (joinTip), or for any other ref the commit it points at; undefined when there is none. */
  async resolve(ref: string): Promise<string | undefined> {
    // Both tracking refs in one question (for-each-ref); undefined while the people's is missing.
    if (ref === this.trackingRef) return this.asked(ref, () => trackedTip(this.git(), this.remote, this.branch));
    return this.resolveRef(ref);
  }

  /** The commit a ref points at, or undefined. */
  resolveRef(ref: string): Promise<string | undefined> {
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
}
