// The hub in memory: a shared remote (branch → tip, and every commit with its
// whole tree) and one client per machine, each with the tip it last fetched
// and the commits it has. It keeps Hub's contract (src/git/hub.ts; the same
// conformance suite runs on it and on real git), so several machines can race
// on it in milliseconds: two clients that build on the same tip, the second
// push returns false. Each client holds the whole history, as a full clone
// does (a shallow git checkout gives the same answers: src/git/history.ts).
// No git runs here. Ids are deterministic: a SHA-1 of the
// commit's content, its time taken from the remote's clock (by default one
// second per commit from 2024-01-01). A client given a signing key signs its
// commits with it (an SSH signature of the commit's content, in process), and
// lastChange judges them against a signers file as git does: a fleet that
// verifies its machines runs here too.
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Change, SignatureStatus } from "../core/trust/trust.js";
import { type SigningKey, sshSign, sshVerify } from "../core/trust/sshsig.js";
import { plainSigners } from "./signatures.js";
import { tooBigBlob } from "../core/limits.js";
import { RemoteUnreachable } from "../errors.js";
import { roleOf } from "../core/trust/ownership.js";
import { type HistoryMark, parseHistoryTrailer } from "../core/hub/status-history.js";
import { EVERYONE, type WakesSeen, wakeRefOf } from "../core/hub/wake-refs.js";
import {
  type Author,
  type CommitOptions,
  commitOf,
  filesByRole,
  type Hub,
  joinTip,
  MACHINES_BRANCH,
  type PathCommit,
  pathsByRole,
  type PushOptions,
  type Role,
  roleOfChanges,
  splitTip,
  underPrefix,
} from "./hub.js";

interface StoredCommit {
  parent: string | undefined;
  /** path → text, every file of the commit. */
  tree: ReadonlyMap<string, string>;
  author: Author;
  message: string;
  at: Date;
  /** An SSH signature (namespace "git") of the commit's content, by the key of the client that built it. */
  signature?: string;
  /** What the signature signs: the commit's content as hashed for its id. */
  signed?: string;
}

/** One second per commit from 2024-01-01T00:00:00Z. */
function steppingClock(): () => Date {
  let n = 0;
  return () => new Date(Date.UTC(2024, 0, 1) + 1000 * n++);
}

/** The shared side: what every client's fetch and push reach. */
export class MemoryRemote {
  /** Branch → tip. */
  readonly branches = new Map<string, string>();
  /** Every commit any client built, by id (content-addressed: one client cannot see another's until it is pushed and fetched). */
  private readonly commits = new Map<string, StoredCommit>();
  /** While true, the remote is down: fetch and push throw as an unreachable git remote does, reachable() says false. */
  down = false;
  /** While true, the remote refuses wake refs (a host rule): a push that moves them goes without them. */
  refusesWakes = false;
  /** Wake refs moved so far. */
  wakesMoved = 0;
  /** Pushes that landed, and those refused (for tests that count the races). */
  readonly pushes = { landed: 0, refused: 0 };

  constructor(private readonly now: () => Date = steppingClock()) {}

  /** Pushes held back until `count` are asked (holdPushes). */
  private held: { count: number; waiting: (() => void)[]; timer: NodeJS.Timeout } | undefined;

  /**
   * For tests of contention: the next `count` pushes wait until all of them
   * are asked, then go in the order asked, so that those built on the same tip
   * race for it (at most `maxMs` later, they go whatever came).
   */
  holdPushes(count: number, maxMs = 5000): void {
    this.held = { count, waiting: [], timer: setTimeout(() => this.releaseHeld(), maxMs) };
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = undefined;
    if (!held) return;
    clearTimeout(held.timer);
    for (const go of held.waiting) go();
  }

  /** @internal A push's turn: at once, or when the held pushes go. */
  async turn(): Promise<void> {
    const held = this.held;
    if (!held) return;
    const go = new Promise<void>((resolve) => held.waiting.push(resolve));
    if (held.waiting.length >= held.count) this.releaseHeld();
    await go;
  }

  /** A machine's view of `branch`. */
  client(branch = "main"): MemoryHub {
    return new MemoryHub(this, branch);
  }

  /** The remote tip of `branch`, or undefined. */
  tip(branch = "main"): string | undefined {
    return this.branches.get(branch);
  }

  /** @internal The commit `id`, or undefined. */
  commit(id: string): StoredCommit | undefined {
    return this.commits.get(id);
  }

  /** @internal Stores a commit, signed by `signer` when given, returning its id. */
  store(parent: string | undefined, tree: ReadonlyMap<string, string>, author: Author, message: string, signer?: SigningKey): string {
    const at = this.now();
    const content = createHash("sha1");
    // Each field length-prefixed: no choice of names or contents makes two commits hash alike.
    const field = (s: string) => content.update(`${Buffer.byteLength(s)}:`).update(s);
    for (const s of [parent ?? "", author.name, author.email, message, at.toISOString()]) field(s);
    for (const [path, text] of [...tree].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      field(path);
      field(text);
    }
    const signed = content.digest("hex");
    // As in git, the signature is part of the commit: a signed commit has an id of its own.
    const signature = signer ? sshSign(signer, "git", signed) : undefined;
    const id = signature ? createHash("sha1").update(`${signed}\n${signature}`).digest("hex") : signed;
    if (!this.commits.has(id)) this.commits.set(id, { parent, tree, author, message, at, ...(signature ? { signature, signed } : {}) });
    return id;
  }

  /** @internal Whether `ancestor` is `commit` or one of its ancestors. */
  isAncestor(ancestor: string, commit: string): boolean {
    for (let at: string | undefined = commit; at !== undefined; at = this.commits.get(at)?.parent) if (at === ancestor) return true;
    return false;
  }

  /** @internal The commits of `commit`'s lineage that added, changed or deleted `path`, newest first. */
  *changesOf(commit: string, path: string): Generator<[string, StoredCommit]> {
    for (const [id, c] of this.lineage(commit)) {
      const before = c.parent === undefined ? undefined : this.commits.get(c.parent)?.tree.get(path);
      if (c.tree.get(path) !== before) yield [id, c];
    }
  }

  /** @internal `commit` and its ancestors. */
  *lineage(commit: string): Generator<[string, StoredCommit]> {
    for (let at: string | undefined = commit; at !== undefined; ) {
      const c = this.commits.get(at);
      if (!c) return;
      yield [at, c];
      at = c.parent;
    }
  }
}

/** git's verdict (%G?) on a stored commit's signature against the signers files, as git/last-change.ts asks it. */
async function verdictOf(c: StoredCommit, signers: { allowed: string; revoked?: string }): Promise<{ status: SignatureStatus; signer: string }> {
  if (!c.signature || c.signed === undefined) return { status: "N", signer: "" };
  const v = sshVerify(c.signature, "git", c.signed);
  if (!v?.good) return { status: "B", signer: "" };
  const read = async (file: string | undefined) => (file === undefined ? undefined : plainSigners(await readFile(file, "utf8").catch(() => "")));
  const [allowed, revoked] = await Promise.all([read(signers.allowed), read(signers.revoked)]);
  if (revoked?.has(v.key)) return { status: "R", signer: "" };
  if (!allowed) return { status: "E", signer: "" };
  const principal = allowed.get(v.key);
  return principal === undefined ? { status: "U", signer: "" } : { status: "G", signer: principal };
}

/** One machine's client of a MemoryRemote: the people's branch `branch` and the machines' branch. */
export class MemoryHub implements Hub {
  /** The tracking tip of each branch. */
  private readonly tracking = new Map<string, string>();
  /** The commits this client has: fetched, pushed or built here. */
  private readonly known = new Set<string>();
  /** The key its commits are signed with (useSigningKey). */
  private signer: SigningKey | undefined;

  constructor(
    readonly remote: MemoryRemote,
    readonly branch = "main",
  ) {}

  get trackingRef(): string {
    return `refs/remotes/origin/${this.branch}`;
  }

  async fetch(seen?: string): Promise<string | undefined> {
    // A look's tip is fetched by its commits, when the remote has them (on one of its refs: git serves what it holds);
    // commits this client has already (a look brought them) need no remote at all.
    const ids = seen === undefined ? undefined : splitTip(seen);
    if (!(ids && [ids.people, ids.machines].every((id) => id === undefined || this.known.has(id)))) this.answer();
    // Commits this client has are taken as they are (git's fetch of ids it has makes no connection).
    const served = (id: string) => this.known.has(id) || [...this.remote.branches.values()].some((tip) => this.remote.isAncestor(id, tip));
    const tips =
      ids && served(ids.people) && (ids.machines === undefined || served(ids.machines))
        ? new Map([
            [this.branch, ids.people],
            [MACHINES_BRANCH, ids.machines],
          ])
        : new Map([this.branch, MACHINES_BRANCH].map((b) => [b, this.remote.tip(b)]));
    if (tips.get(this.branch) === undefined) return undefined;
    for (const [branch, tip] of tips) {
      if (tip === undefined) {
        this.tracking.delete(branch);
        continue;
      }
      for (const [id] of this.remote.lineage(tip)) {
        if (this.known.has(id)) break;
        this.known.add(id);
      }
      this.tracking.set(branch, tip);
    }
    return this.tracked();
  }

  /** The tracking tip (joinTip), or undefined before the people's branch was seen. */
  private tracked(): string | undefined {
    const people = this.tracking.get(this.branch);
    return people === undefined ? undefined : joinTip(people, this.tracking.get(MACHINES_BRANCH));
  }

  async reachable(): Promise<boolean> {
    return !this.remote.down;
  }

  async remoteTip(): Promise<string | undefined> {
    this.answer();
    const people = this.remote.tip(this.branch);
    return people === undefined ? undefined : joinTip(people, this.remote.tip(MACHINES_BRANCH));
  }

  async look(machine: string): Promise<{ tip?: string } & WakesSeen> {
    const tip = await this.remoteTip();
    // Its commits come in the same read, as git's look brings them (the tracking tip stays).
    for (const part of tip === undefined ? [] : Object.values(splitTip(tip) ?? {}))
      for (const [id] of this.remote.lineage(part)) {
        if (this.known.has(id)) break;
        this.known.add(id);
      }
    const wake = this.remote.branches.get(wakeRefOf(machine));
    const everyone = this.remote.branches.get(wakeRefOf(EVERYONE));
    return { ...(tip !== undefined ? { tip } : {}), ...(wake !== undefined ? { wake } : {}), ...(everyone !== undefined ? { everyone } : {}) };
  }

  async resolve(ref: string): Promise<string | undefined> {
    if (ref === this.trackingRef) return this.tracked();
    return this.known.has(ref) ? ref : undefined;
  }

  async readFiles(tip: string, prefixes: string[]): Promise<Map<string, string>> {
    const t = splitTip(tip);
    if (!t) return this.readCommit(tip, prefixes);
    return filesByRole(this.readCommit(t.people, prefixes), t.machines ? this.readCommit(t.machines, prefixes) : undefined);
  }

  async listFiles(tip: string, prefixes: string[]): Promise<string[]> {
    const t = splitTip(tip);
    const paths = (commit: string) => [...this.readCommit(commit, prefixes).keys()];
    if (!t) return paths(tip);
    return pathsByRole(paths(t.people), t.machines ? paths(t.machines) : undefined);
  }

  private readCommit(commit: string, prefixes: string[]): Map<string, string> {
    const tree = this.have(commit).tree;
    const files = new Map<string, string>();
    for (const [path, text] of tree) {
      if (prefixes.length && !prefixes.some((p) => underPrefix(path, p))) continue;
      files.set(path, tooBigBlob(path, Buffer.byteLength(text)) ?? text);
    }
    return files;
  }

  async commitFiles(parent: string | undefined, changes: Map<string, string | null>, author: Author, message: string, opts: CommitOptions = {}): Promise<string> {
    const t = parent === undefined ? undefined : splitTip(parent);
    const newRoot = opts.newRoot === true;
    if (!t) return this.commitOn(parent, changes, author, message, newRoot);
    const role = roleOfChanges(changes);
    const commit = this.commitOn(role === "machines" ? t.machines : t.people, changes, author, message, newRoot);
    return role === "machines" ? joinTip(t.people, commit) : joinTip(commit, t.machines);
  }

  private commitOn(parent: string | undefined, changes: Map<string, string | null>, author: Author, message: string, newRoot = false): string {
    const tree = new Map(parent === undefined ? [] : this.have(parent).tree);
    for (const [path, content] of changes) {
      // As in a git tree: a name is a file or a directory, never both; deleting a directory deletes what it holds.
      for (const p of [...tree.keys()]) if (p.startsWith(`${path}/`) || (content !== null && path.startsWith(`${p}/`))) tree.delete(p);
      if (content === null) tree.delete(path);
      else tree.set(path, content);
    }
    const id = this.remote.store(newRoot ? undefined : parent, tree, { ...author }, message, this.signer);
    this.known.add(id);
    return id;
  }

  /**
   * Signs this client's commits with `key` (state/trust.ts signingOf: a key coord signs with in process). Without
   * one its commits go unsigned here (git would ask ssh-keygen to sign with the key at `_path`).
   */
  useSigningKey(_path: string, key?: SigningKey): void {
    this.signer = key;
  }

  async lastChange(tip: string, path: string, signers: { allowed: string; revoked?: string }): Promise<Change | undefined> {
    const commit = commitOf(tip, roleOf(path));
    this.have(commit);
    for (const [id, c] of this.remote.changesOf(commit, path)) return { commit: id, author: `${c.author.name} <${c.author.email}>`, ...(await verdictOf(c, signers)) };
    return undefined;
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    return this.known.has(ancestor) && this.known.has(descendant) && this.remote.isAncestor(ancestor, descendant);
  }

  async restartedAfter(commit: string, before: string): Promise<boolean> {
    if (!this.known.has(commit) || !this.known.has(before)) return false;
    const roots = [...this.remote.lineage(commit)].filter(([, c]) => c.parent === undefined);
    const root = roots[0]?.[1];
    return root !== undefined && parseHistoryTrailer(root.message)?.depth === 1 && root.at >= this.have(before).at;
  }

  async historyOf(tip: string): Promise<HistoryMark | undefined> {
    const commit = splitTip(tip)?.machines;
    if (!commit) return undefined;
    const c = this.have(commit);
    return parseHistoryTrailer(c.message) ?? { depth: 1, since: c.at };
  }

  /** Hub.madeSince by the commits' times on the remote's clock, in whole seconds as git keeps them (rev-list --max-age). */
  async madeSince(tip: string, since: number): Promise<number> {
    const t = splitTip(tip);
    const tips = t ? [t.machines, t.people].filter((x): x is string => x !== undefined) : [tip];
    const from = Math.ceil(since / 1000);
    let n = 0;
    for (const commit of tips) {
      this.have(commit);
      for (const [, c] of this.remote.lineage(commit)) {
        if (Math.floor(c.at.getTime() / 1000) < from) break;
        n++;
      }
    }
    return n;
  }

  async push(tip: string, roles: Role[] = ["machines"], opts: PushOptions = {}): Promise<boolean> {
    await this.remote.turn();
    this.answer();
    const t = splitTip(tip);
    const updates: [string, string][] = [];
    for (const role of roles) {
      const commit = t ? (role === "machines" ? t.machines : t.people) : tip;
      if (commit !== undefined) updates.push([role === "machines" ? MACHINES_BRANCH : this.branch, commit]);
    }
    // Every branch or none (an atomic push); the machines' branch replaced only if it is still `replacing`.
    for (const [branch, commit] of updates) {
      this.have(commit);
      const now = this.remote.tip(branch);
      const replaced = branch === MACHINES_BRANCH && opts.replacing !== undefined;
      if (replaced ? now !== opts.replacing : now !== undefined && !this.remote.isAncestor(now, commit)) {
        this.remote.pushes.refused++;
        return false;
      }
    }
    if (opts.replacing !== undefined && opts.keepAs) this.remote.branches.set(opts.keepAs, opts.replacing);
    // Each wake ref moves to a value of its own (as git's, a new commit each time); a remote that refuses them takes the rest.
    const wakes = opts.wakes?.machines ?? [];
    const published = updates.find(([b]) => b === MACHINES_BRANCH)?.[1];
    if (wakes.length && published !== undefined) {
      if (this.remote.refusesWakes) opts.wakesRefused?.("the remote refuses refs/coord-wake/*");
      else {
        const wake = `wake-${published}-${++this.remote.wakesMoved}`;
        for (const m of wakes) this.remote.branches.set(wakeRefOf(m), wake);
      }
    }
    for (const [branch, commit] of updates) {
      this.remote.branches.set(branch, commit);
      this.tracking.set(branch, commit);
    }
    if (updates.length) this.remote.pushes.landed++;
    return true;
  }

  async pathHistory(at: string, path: string, max: number): Promise<PathCommit[]> {
    const tip = commitOf(at, roleOf(path));
    this.have(tip);
    const found: PathCommit[] = [];
    for (const [id, c] of this.remote.changesOf(tip, path)) {
      if (found.length >= max) break;
      found.push({ commit: id, author: c.author.name, at: c.at });
    }
    return found;
  }

  /** Throws as an unreachable remote does while the remote is down. */
  private answer(): void {
    if (this.remote.down) throw new RemoteUnreachable("could not reach the remote memory: it is down");
  }

  /** The commit `id`, which this client must have (as git has only what it fetched or built). */
  private have(id: string): StoredCommit {
    const c = this.known.has(id) ? this.remote.commit(id) : undefined;
    if (!c) throw new Error(`${id} is not a commit this client has (fetch first)`);
    return c;
  }
}
