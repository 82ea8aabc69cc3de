// Who changed a path last, and whether git counts the change as signed: the
// rollback and signed-orders checks (src/sync/trust.ts) ask it of every file
// they guard. Answered in process where coord can (signatures.ts checks an
// SSH signature against a plain signers file; a change the tip itself made is
// seen from what reading kept, memo.ts), else by git (`git log %G?`, which asks
// ssh-keygen). lastChanges answers many paths from one walk of the history.
// Every answer is the whole history's (history.ts), never a shallow boundary's.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type Change, type SignatureStatus, standsWithoutAncestry } from "../core/trust/trust.js";
import { roleOf } from "../core/trust/ownership.js";
import type { Checkout } from "./checkout.js";
export { COMMIT_READ_MAX } from "./objects.js";
import { ancestorHere, shallowBoundary, throughHistory } from "./history.js";
import { commitOf } from "./hub.js";
import { knownAncestor } from "./log.js";
import { commitBodies, listedBlobs } from "./memo.js";
import { COMMIT_READ_MAX, commitParentsAndAuthor } from "./objects.js";
import { entryAt } from "./read.js";
import { commitVerdict, plainRevoked, plainSigners, type SignersHere } from "./signatures.js";

/** The machine's own files git checks signatures against. */
export interface Signers {
  allowed: string;
  revoked?: string;
  /** The one principal whose changes are good (a machine's own file: that machine); undefined: any allowed signer. Only lastChange reads it. */
  owner?: string;
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

/**
 * The newest commit reachable from `tip` that changed `path`, with git's verdict on its signature
 * checked against `signers` only (the machine's own files, never the user's git config; OpenPGP and
 * X.509 signatures are not checked: they count as unverifiable). Undefined: no commit changed it.
 */
export async function lastChange(c: Checkout, at: string, path: string, signers: Signers): Promise<Change | undefined> {
  const byTip = tipChangeCandidate(c, at, path) && changedByTip(c, at, path, await signaturesHere(signers), await shallowBoundary(c.history));
  if (byTip) return byTip;
  const listed = (await signedChanges(c, at, path, signers, 1, { what: `the newest change of ${path}` }))[0];
  if (!listed) return undefined;
  const { committed: _, ...change } = listed;
  return markSuperseded(c, at, path, signers, change);
}

/** How many changes of a path on the lines git's simplified history left are looked through for good ones. */
export const LATER_CHANGES_LOOKED_AT = 100;

/**
 * `change` (git's simplified history's newest change of `path` at `at`), marked `supersededBy` when a good change on
 * the lines that history left (not in the change's history: `change..tip`, every line) that no other good one there
 * descends from has the file otherwise than the tip. Found in attack: an unsigned merge that takes an older signed
 * version back (its parent on that side) makes git name that version's commit and hide the newer signed ones on the
 * other line, whatever their dates; so does one that brings in a signed version from a branch, over a signed change
 * made on the branch it merges into meanwhile; and an octopus merge could order the lines as it liked. A machine that
 * had verified none of them since took it. A merge an allowed signer signs is a good change like any other and
 * decides what descends from it (of a machine's own file, only a change its owner signed counts: `signers.owner`).
 * Signed versions on two lines that nobody reconciled with a signed change are refused until one is signed. With
 * LATER_CHANGES_LOOKED_AT changes or more there, none can be said to stand ("": refused; a signed change settles it). Asked only of a good change with a merge between it and the tip (one `rev-list` says whether
 * there is one; a shallow checkout deepens only then, as for the change itself).
 */
async function markSuperseded(c: Checkout, at: string, path: string, signers: Signers, change: Change): Promise<Change> {
  const tip = commitOf(at, roleOf(path));
  if (change.status !== "G" || change.commit === tip || !(await mergeSince(c, change.commit, tip))) return change;
  const left = await signedChanges(c, at, path, signers, LATER_CHANGES_LOOKED_AT, { notIn: change.commit, what: `the changes of ${path} beside ${change.commit}` });
  // A full list may hide more past it (found in attack: a merge listed 100 unsigned changes of its own line first, and
  // the signed cancel after them): none can be said to stand.
  if (left.length >= LATER_CHANGES_LOOKED_AT) return { ...change, supersededBy: "" };
  const good = left.filter((x) => x.status === "G" && (signers.owner === undefined || x.signer === signers.owner)).map((x) => x.commit);
  if (!good.length) return change;
  const newest = new Set(await newestOf(c, good));
  // The entry, its mode too: a file made a link differs.
  const atTip = await entryAt(c, tip, path);
  for (const commit of good) if (newest.has(commit) && (await entryAt(c, commit, path)) !== atTip) return { ...change, supersededBy: commit };
  return change;
}

/**
 * The newest good change of `path` that descends from `since` (on any line up to `at`'s tip) and has the file as
 * `since` has it: what a machine that acts on `since`'s version has verified since (a signed revert back to the very
 * same bytes), whatever came after it. Every change since is looked at (one `git rev-list`, no bound: found in attack,
 * a bound let a flood of unsigned changes on top hide the revert), and only those with the very bytes are checked for
 * a signature. Only descendants: an old signed commit with the same bytes that a pusher merges in from a side line
 * never counts. Undefined: none; "unsure": more than one line ends with one (none is the newest).
 */
export async function sameTextSince(c: Checkout, at: string, path: string, signers: Signers, since: string): Promise<string | "unsure" | undefined> {
  const tip = commitOf(at, roleOf(path));
  // A version this checkout does not have (cloned anew, shallow, below it), or one off the tip's line (a force-push
  // took it off main), was not moved past here: none.
  if (!(await ancestorHere(c.history, since, tip))) return undefined;
  const wanted = (await entryAt(c, since, path))?.split(" ")[2];
  if (wanted === undefined) return undefined;
  // The changes by id (rev-list keeps no commit body, where git log on this walk held every commit it passed), then
  // the file's blob at each, in one cat-file.
  const changes = (await c.git().raw(["rev-list", "--ancestry-path", `${since}..${tip}`, "--", `:(literal)${path}`]))
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  if (!changes.length) return undefined;
  const blobs = (await c.git({ input: changes.map((commit) => `${commit}:${path}\n`).join("") }).raw(["cat-file", "--batch-check=%(objectname)"])).split("\n");
  const candidates = changes.filter((_, i) => blobs[i]?.trim() === wanted);
  if (!candidates.length) return undefined;
  const verdicts = await commitVerdicts(c, candidates, signers);
  const newest = await newestOf(
    c,
    candidates.filter((commit) => verdicts.get(commit)?.status === "G"),
  );
  return newest.length <= 1 ? newest[0] : "unsure";
}

/** Those of `commits` that no other of them descends from (`git merge-base --independent`), in git's order. */
async function newestOf(c: Checkout, commits: string[]): Promise<string[]> {
  if (commits.length <= 1) return commits;
  return (await c.git().raw(["merge-base", "--independent", ...commits])).split("\n").filter(Boolean);
}

/** Whether a merge lies between `commit` and `tip` (on one line of single-parent commits, git names the newest change). */
async function mergeSince(c: Checkout, commit: string, tip: string): Promise<boolean> {
  return (await c.git().raw(["rev-list", "--merges", "--max-count=1", `${commit}..${tip}`])).trim() !== "";
}

/**
 * lastChange's answer with no git call when the tip itself made the change, as a daemon that synced on its parent
 * sees it: the tip has one parent, readFiles listed both in this process (the same paths asked), the file's blob
 * (or mode) differs between them, and its signature is checked here. That is git log's own test for a commit of one
 * parent (it is not TREESAME). Undefined: unsure, and git is asked. `here`: the signers checked in process
 * (signaturesHere), `boundary`: the shallow boundary, both read once by the caller.
 */
function changedByTip(c: Checkout, at: string, path: string, here: SignersHere | undefined, boundary: ReadonlySet<string>): Change | undefined {
  const candidate = tipChangeCandidate(c, at, path);
  // A shallow checkout's boundary commit has no parent here: git's answer is another (src/git/history.ts).
  if (!candidate || !here || boundary.has(candidate.tip)) return undefined;
  const verdict = commitVerdict(candidate.raw, here.keys, here.revoked);
  return verdict ? ({ commit: candidate.tip, author: candidate.author, root: false, ...verdict } as Change) : undefined;
}

/** The tip, its raw commit and author when the tip has one parent, both were listed here, and `path` differs between them. */
function tipChangeCandidate(c: Checkout, at: string, path: string): { tip: string; raw: Buffer; author: string } | undefined {
  const tip = commitOf(at, roleOf(path));
  const raw = commitBodies.get(tip);
  const headers = raw && commitParentsAndAuthor(raw);
  if (!raw || !headers || headers.parents.length !== 1 || tip.length !== 40) return undefined;
  const checkout = resolve(c.dir);
  const now = listedBlobs.get(`${checkout}\0${tip}`);
  const before = listedBlobs.get(`${checkout}\0${headers.parents[0]}`);
  const blob = now?.blobs.get(path);
  if (!now || !before || now.asked !== before.asked || blob === undefined || blob === before.blobs.get(path)) return undefined;
  return { tip, raw, author: headers.author };
}

/**
 * The newest `max` commits reachable from `tip` that changed `path`, newest first, each with git's verdict on its
 * signature (as lastChange) and whether it is a root (a new history that holds the file as it was: the machines'
 * branch bounded), and its committer date. A rev-list, then commitFacts.
 */
export async function signedChanges(
  c: Checkout,
  at: string,
  path: string,
  signers: Signers,
  max: number,
  opts: { what?: string; here?: boolean; after?: string; everyLine?: boolean; notIn?: string } = {},
): Promise<(Change & { root: boolean; committed: number })[]> {
  const tip = commitOf(at, roleOf(path));
  // With `everyLine`: on every line of the history, children before their parents (as `after`, from the root).
  // With `after`: only the changes that descend from that commit, on every line of the history, children before their
  // parents. Git's simplified history follows a merge's parent that has the file as the merge has it, and so hides the
  // changes on the other line: an unsigned merge that brings an older version back hides every newer change, whatever
  // the dates say (found in attack).
  // With `notIn`: the changes on every line that are not in that commit's history (the lines its simplified history left).
  const range = opts.after
    ? ["--full-history", "--topo-order", "--ancestry-path", `${opts.after}..${tip}`]
    : opts.notIn
      ? ["--full-history", "--topo-order", `${opts.notIn}..${tip}`]
      : opts.everyLine
        ? ["--full-history", "--topo-order", tip]
        : [tip];
  const from = opts.after ?? opts.notIn;
  const what = opts.what ?? `the history of ${path}`;
  // With `here`: from what the checkout has, never fetching older history (its boundary commit, which looks as if
  // it added every file, left out); else through history.ts, as a full clone would answer.
  const asked = async <T extends { commit: string }>(ask: () => Promise<T[]>): Promise<T[]> => {
    if (!opts.here) return throughHistory(c.history, { what, tip, ...(from ? { from } : {}), ask, changes: (l) => l.map((e) => e.commit), full: (l) => l.length >= max });
    const boundary = await shallowBoundary(c.history);
    return (await ask()).filter((e) => !boundary.has(e.commit));
  };
  // The commits by id from rev-list, which keeps no commit body (found in attack: git log, on a walk it must finish
  // before it prints, as --topo-order and --ancestry-path are, held every commit it passed: 100 commits of 4 MiB took
  // 414 MB in git, against 13 MB), then what each says (commitFacts: those of at most 256 KiB read here, the rest by
  // a git that lets each go once read).
  const ask = async () =>
    (await c.git().raw(["rev-list", `--max-count=${max}`, ...range, "--", `:(literal)${path}`]))
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      .map((commit) => ({ commit }));
  // A shallow checkout's boundary commit looks as if it added every file: never taken for a change (src/git/history.ts).
  const listed = await asked(ask);
  const facts = await commitFacts(
    c,
    listed.map((e) => e.commit),
    signers,
  );
  return listed.flatMap((e) => {
    const f = facts.get(e.commit);
    return f ? [{ commit: e.commit, ...f }] : [];
  });
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
export async function lastChanges(c: Checkout, at: string, asks: readonly LastChangeAsk[], signers: Signers): Promise<Map<string, Change>> {
  const answers = new Map<string, Change>();
  // A path git could not have written as UTF-8 is compared by git itself (per path).
  const askable = asks.filter((a) => !a.path.includes("\ufffd"));
  if (!askable.length) return answers;
  const here = await signaturesHere(signers);
  if (!here) return answers;
  const boundary = await shallowBoundary(c.history); // read before walking, as throughHistory does
  // A change the tip itself made, after its parent was read here (a daemon's next tip), needs no git at all.
  const rest: LastChangeAsk[] = [];
  for (const a of askable) {
    const change = changedByTip(c, at, a.path, here, boundary);
    if (change && (standsWithoutAncestry(change, a.accepted) || knownAncestor(a.accepted!, change.commit))) answers.set(a.path, change);
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
      const chain = await linearChain(c, tip, boundary);
      if (!chain) return;
      for (const ask of group) {
        const at = chain.firstTouch.get(ask.path);
        if (at !== undefined) found.push({ ask, chain, at });
      }
    }),
  );
  if (!found.length) return answers;
  const raws = await commitObjects(
    c,
    found.map((f) => f.chain.commits[f.at]!.commit),
  );
  for (const { ask, chain, at } of found) {
    const { commit, author } = chain.commits[at]!;
    const raw = raws.get(commit);
    const verdict = raw && commitVerdict(raw, here.keys, here.revoked);
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
async function linearChain(c: Checkout, tip: string, boundary: ReadonlySet<string>): Promise<LinearChain | undefined> {
  const out = await c.git().raw([
    ...["log.showSignature=false", "diff.relative=false"].flatMap((setting) => ["-c", setting]),
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
  if (new Set(listed.map((e) => e.commit)).size !== listed.length) return undefined;
  const commits: LinearChain["commits"] = [];
  const index = new Map<string, number>();
  const firstTouch = new Map<string, number>();
  for (const [i, listing] of listed.entries()) {
    if (listing.parents.length !== 1 || boundary.has(listing.commit) || (i > 0 && listed[i - 1]!.parents[0] !== listing.commit)) break;
    index.set(listing.commit, i);
    commits.push({ commit: listing.commit, author: listing.author });
    // A path is changed by a change to it, or (as a pathspec matches) to a file under it.
    for (const name of listing.names) {
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

/**
 * The keys of `signers` when this process checks signatures against them itself (plainSigners; the revoked keys,
 * plainRevoked, where a revocation file is named), else undefined: git does. A file that cannot be read, or is not
 * plain: git says what it says of it.
 */
async function signaturesHere(signers: Signers): Promise<SignersHere | undefined> {
  const read = (file: string) => readFile(file, "utf8").catch(() => undefined);
  const [allowed, revoked] = await Promise.all([read(signers.allowed), signers.revoked === undefined ? "" : read(signers.revoked)]);
  const keys = allowed === undefined ? undefined : plainSigners(allowed);
  const gone = revoked === undefined ? undefined : plainRevoked(revoked);
  return keys && gone && { keys, revoked: gone };
}

/** Raw commit objects by id, those of at most COMMIT_READ_MAX bytes (a larger one is not read: batch.ts). */
async function commitObjects(c: Checkout, ids: string[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const unique = [...new Set(ids)];
  if (!unique.length) return out;
  const records = await c.objects().read(
    unique,
    unique.map(() => COMMIT_READ_MAX),
  );
  for (const r of records) if (r.body && r.type === "commit") out.set(r.id, r.body);
  return out;
}

/**
 * git's verdict on the signature of each of `commits` against `signers` (as signedChanges gives it for a path's
 * changes): commitFacts' verdicts.
 */
export async function commitVerdicts(c: Checkout, commits: string[], signers: Signers): Promise<Map<string, { status: SignatureStatus; signer: string }>> {
  const facts = await commitFacts(c, commits, signers);
  return new Map([...facts].map(([id, f]) => [id, { status: f.status, signer: f.signer }]));
}

/** What a listing of changes says of each commit: its signature's verdict (%G?, %GS), author, committer date, and whether it is a root. */
interface CommitFacts {
  status: SignatureStatus;
  signer: string;
  author: string;
  committed: number;
  root: boolean;
}

/**
 * The facts of each of `commits`: read here where they can be (commitObjects, the signature checked against
 * signaturesHere), the rest asked of git in one `log --no-walk`, which reads each commit and lets it go. A commit
 * neither knows is left out.
 */
async function commitFacts(c: Checkout, commits: string[], signers: Signers): Promise<Map<string, CommitFacts>> {
  const out = new Map<string, CommitFacts>();
  const ids = [...new Set(commits)];
  if (!ids.length) return out;
  const here = await signaturesHere(signers);
  if (here) {
    const raws = await commitObjects(c, ids);
    for (const id of ids) {
      const raw = raws.get(id);
      // (A SHA-256 repository's signatures are under another header: git's to read.)
      const read = raw && id.length === 40 ? commitParentsAndAuthor(raw) : undefined;
      const verdict = read && commitVerdict(raw!, here.keys, here.revoked);
      if (read && verdict) out.set(id, { ...verdict, author: read.author, committed: read.committed, root: read.parents.length === 0 });
    }
  }
  const config = verifyingConfig(signers);
  const ask = (part: string[]) =>
    c.git({ input: `${part.join("\n")}\n` }).raw([...config, "log", "--no-walk=unsorted", "--stdin", "--format=%H%x1f%G?%x1f%GS%x1f%an <%ae>%x1f%ct%x1f%P%x1e"]);
  for (const part of await bySize(
    c,
    ids.filter((id) => !out.has(id)),
  )) {
    // Where git fails on a part, each commit is asked alone, and one it fails on alone cannot be checked ("E"): one
    // commit never fails the whole answer (found in attack: a signature ssh-keygen exits on without reading, on a
    // commit of over 64 KiB, killed git with SIGPIPE).
    const unchecked = (id: string) => `${id}\x1fE\x1f\x1f\x1f0\x1fx\x1e`;
    const text = await ask(part).catch(async () => {
      let each = "";
      for (const id of part) each += part.length === 1 ? unchecked(id) : await ask([id]).catch(() => unchecked(id));
      return each;
    });
    for (const record of text.split("\x1e")) {
      const [commit, status, signer, author, committed, parents] = record.trim().split("\x1f");
      if (commit)
        out.set(commit, {
          status: (STATUSES.has(status ?? "") ? status : "E") as SignatureStatus,
          signer: signer ?? "",
          author: author ?? "",
          committed: Number(committed) || 0,
          root: !parents?.trim(),
        });
    }
  }
  return out;
}

/** How many bytes of commits one `git log --no-walk` is given at most (one larger than this goes alone). */
const GIT_READ_MAX = 32 * 1024 * 1024;

/**
 * `ids` in parts of at most GIT_READ_MAX bytes of commit objects, in their order (one `cat-file --batch-check`).
 * Found in attack: `git log --no-walk --stdin` reads every commit it is given before it prints, and holds them: 100
 * commits of 4 MiB took it 418 MB.
 */
async function bySize(c: Checkout, ids: string[]): Promise<string[][]> {
  if (!ids.length) return [];
  const sizes = (await c.git({ input: `${ids.join("\n")}\n` }).raw(["cat-file", "--batch-check=%(objectsize)"])).split("\n");
  const parts: string[][] = [];
  let bytes = Number.POSITIVE_INFINITY;
  ids.forEach((id, i) => {
    const size = Number(sizes[i]) || 0;
    if (bytes + size > GIT_READ_MAX) {
      parts.push([]);
      bytes = 0;
    }
    parts.at(-1)!.push(id);
    bytes += size;
  });
  return parts;
}

/** git's settings that make its %G? and %GS judge SSH signatures by `signers` alone (never the user's gpg setup). */
function verifyingConfig(signers: Signers): string[] {
  return [
    `gpg.ssh.allowedSignersFile=${signers.allowed}`,
    ...(signers.revoked ? [`gpg.ssh.revocationFile=${signers.revoked}`] : []),
    "gpg.openpgp.program=false",
    "gpg.x509.program=false",
    "log.showSignature=false",
  ].flatMap((setting) => ["-c", setting]);
}
