// Reading a tip's files through the checkout's one `cat-file --batch`
// (batch.ts): each branch's commit, its trees on the way to the paths asked
// (a level of them in one request; each tree read once in a process, memo.ts),
// then the blobs not read before; each path from its role's branch (hub.ts
// filesByRole). A blob over its path's size limit is not read (git stops at
// its header), nor a symbolic link: each stands as a marker that readModel
// reports (core/limits.ts). The trees read are kept for a publish on the same
// commit (commit.ts), and the machines' commit for its history mark (log.ts).
import { resolve } from "node:path";
import { notRead, sizeLimit, tooBigBlob } from "../core/limits.js";
import { knownBlobId } from "../core/repo/parsed.js";
import { CoordError, EXIT } from "../errors.js";
import type { Checkout } from "./checkout.js";
import { isObjectId } from "./dotgit.js";
import { filesByRole, pathsByRole, splitTip, underPrefix } from "./hub.js";
import { blobsReadBy, commitBodies, commitTrees, historyMarks, type KnownBlob, keepLatest, lastTexts, listedBlobs, listedTree, markCommit, rememberTree } from "./memo.js";
import { COMMIT_READ_MAX, commitTimeAndMessage, treeListing } from "./objects.js";
import { GitFailed } from "./run.js";

/**
 * Every file under `prefixes` (underPrefix) at `tip`, by its exact path (a tab or newline in a name stays in the
 * name). A blob over its path's size limit, or a symbolic link, stands as a marker that readModel reports.
 */
export async function readFiles(c: Checkout, tip: string, prefixes: string[]): Promise<Map<string, string>> {
  const t = splitTip(tip);
  if (!t) return readCommitFiles(c, tip, prefixes, "");
  const [people, machines] = await Promise.all([readCommitFiles(c, t.people, prefixes, "people"), t.machines ? readCommitFiles(c, t.machines, prefixes, "machines") : undefined]);
  return filesByRole(people, machines);
}

/** The paths readFiles gives for `tip` and `prefixes`, from the trees alone (no blob read). */
export async function listFiles(c: Checkout, tip: string, prefixes: string[]): Promise<string[]> {
  const t = splitTip(tip);
  const paths = async (commit: string) => (await listBlobs(c, commit, prefixes, false)).blobs.map((b) => b.path);
  if (!t) return paths(tip);
  const [people, machines] = await Promise.all([paths(t.people), t.machines ? paths(t.machines) : undefined]);
  return pathsByRole(people, machines);
}

/**
 * A tree's listing as `git ls-tree -z` prints it ("<mode> <type> <id>\t<name>\0" an entry), read once in a process
 * (memo.ts); `name`: its id or `<commit>^{tree}`.
 */
export async function treeOf(c: Checkout, name: string): Promise<string> {
  return listedTree(c.dir, name) ?? (await treeRecord(c, name)).listing;
}

/** The tree `name` names, read and kept (by its id, and by `name`). */
async function treeRecord(c: Checkout, name: string): Promise<{ id: string; listing: string }> {
  return (await readTrees(c, [name]))[0]!;
}

/**
 * The entry `path` names in `commit` as `git ls-tree` prints it ("<mode> <type> <id>"), or undefined where it has
 * none: the trees on the way through the checkout's cat-file, each read once in a process.
 */
export async function entryAt(c: Checkout, commit: string, path: string): Promise<string | undefined> {
  let listing = await treeOf(c, `${commit}^{tree}`);
  const names = path.split("/");
  for (const [i, name] of names.entries()) {
    const e = entriesOf(listing).find((entry) => entry.name === name);
    if (!e) return undefined;
    if (i === names.length - 1) return `${e.mode} ${e.type} ${e.id}`;
    if (e.type !== "tree") return undefined;
    listing = await treeOf(c, e.id);
  }
  return undefined;
}

/** A blob `commit` lists under the paths asked. */
interface Listed {
  mode: string;
  id: string;
  path: string;
}

/** One entry of a tree's listing. */
interface TreeEntry {
  mode: string;
  type: string;
  id: string;
  name: string;
}

function entriesOf(listing: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const line of listing.split("\0")) {
    const tab = line.indexOf("\t");
    if (tab < 0) continue;
    const [mode, type, id] = line.slice(0, tab).split(" ") as [string, string, string];
    entries.push({ mode, type, id, name: line.slice(tab + 1) });
  }
  return entries;
}

/**
 * The blobs of `commit` under `prefixes`, in the order `git ls-tree -r` lists them (a directory's entries in its
 * tree's order, a subdirectory's where it stands). The trees on the way are read a level at a time, all of a level in
 * one request, each once in this process. `mark`: the commit is a machines' one, whose history mark (and raw object,
 * for lastChange) a publish on it asks next.
 */
async function listBlobs(c: Checkout, commit: string, prefixes: readonly string[], mark: boolean): Promise<{ blobs: Listed[] }> {
  const root = await rootTreeOf(c, commit, mark);
  const inside = (path: string) => prefixes.length === 0 || prefixes.some((p) => underPrefix(path, p));
  const toward = (path: string) => inside(path) || prefixes.some((p) => p.startsWith(`${path}/`));
  const listings = new Map<string, TreeEntry[]>();
  for (let level = [{ id: root, path: "" }]; level.length; ) {
    const ids = [...new Set(level.map((t) => t.id))].filter((id) => !listings.has(id));
    const unknown = ids.filter((id) => listedTree(c.dir, id) === undefined);
    const read = new Map((unknown.length ? await readTrees(c, unknown) : []).map((t) => [t.id, t.listing]));
    for (const id of ids) listings.set(id, entriesOf(read.get(id) ?? listedTree(c.dir, id)!));
    level = level.flatMap((t) =>
      listings
        .get(t.id)!
        .filter((e) => e.type === "tree" && toward(join(t.path, e.name)))
        .map((e) => ({ id: e.id, path: join(t.path, e.name) })),
    );
  }
  // Depth first without recursion (found in attack: 6,000 nested directories overflowed the stack): a directory's
  // entries go on the stack in reverse, so that they come off in the tree's order.
  const blobs: Listed[] = [];
  const stack = [...(listings.get(root) ?? [])].reverse().map((e) => ({ e, path: e.name }));
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { e, path } = next;
    if (e.type === "tree") {
      if (toward(path)) for (const child of [...(listings.get(e.id) ?? [])].reverse()) stack.push({ e: child, path: join(path, child.name) });
    } else if (e.type === "blob" && inside(path)) blobs.push({ mode: e.mode, id: e.id, path });
  }
  return { blobs };
}

/** A path in the tree: `name` in the directory `dir` ("" the root). */
const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

/** The trees `names` name (ids, or `<commit>^{tree}`), read in one request, each kept by its id and its name (memo.ts). */
async function readTrees(c: Checkout, names: string[]): Promise<{ id: string; listing: string }[]> {
  const records = await c.objects().read(names);
  return records.map((r, i) => {
    if (r.type !== "tree" || !r.body) throw missing(c, "tree", names[i]!);
    const listing = treeListing(r.body, r.id.length / 2);
    rememberTree(c.dir, r.id, listing);
    if (names[i] !== r.id) rememberTree(c.dir, names[i]!, listing);
    return { id: r.id, listing };
  });
}

/** The id of `commit`'s root tree: known when this process read the commit (an id) before, else read. */
async function rootTreeOf(c: Checkout, commit: string, mark: boolean): Promise<string> {
  const key = isObjectId(commit) ? `${resolve(c.dir)}\0${commit}` : undefined;
  const known = key === undefined ? undefined : commitTrees.get(key);
  if (known !== undefined && (!mark || (historyMarks.has(commit) && commitBodies.has(commit)))) return known;
  // ^{commit}: a name (HEAD, a branch) or a tag is peeled to its commit, as ls-tree took it.
  const [record] = await c.objects().read([`${commit}^{commit}`], [COMMIT_READ_MAX]);
  if (record?.type !== "commit") throw new GitFailed(`fatal: Not a valid object name ${commit}`, 128);
  // A commit too large to read here (a message of megabytes): its tree asked of git.
  if (!record.body) {
    const { id } = await treeRecord(c, `${commit}^{tree}`);
    if (key !== undefined) keepLatest(commitTrees, key, id, 64);
    return id;
  }
  const end = record.body.indexOf("\n\n");
  const tree = /^tree ([0-9a-f]+)$/m.exec(record.body.toString("latin1", 0, end < 0 ? record.body.length : end))?.[1];
  if (tree === undefined) throw missing(c, "commit", commit);
  if (key !== undefined) keepLatest(commitTrees, key, tree, 64);
  if (mark && isObjectId(commit)) {
    // Kept whole too, for the signature of a change the tip itself made (lastChange).
    keepLatest(commitBodies, commit, record.body, 64);
    const parsed = commitTimeAndMessage(record.body);
    if (parsed) markCommit(commit, parsed);
  }
  return tree;
}

/** Said of an object a commit names that git does not give (a broken or partial clone). */
function missing(c: Checkout, kind: string, name: string): CoordError {
  return new CoordError(`git did not give the ${kind} ${name} in ${c.dir}; run coord doctor`, EXIT.FAILURE);
}

/** readFiles of one commit; `slot` keeps the blobs read last apart per branch (two branches are read side by side). */
async function readCommitFiles(c: Checkout, commit: string, prefixes: string[], slot: string): Promise<Map<string, string>> {
  const { blobs } = await listBlobs(c, commit, prefixes, slot === "machines");
  const checkout = resolve(c.dir);
  if (isObjectId(commit)) keepLatest(listedBlobs, `${checkout}\0${commit}`, { asked: prefixes.join("\0"), blobs: new Map(blobs.map((b) => [b.path, `${b.mode} ${b.id}`])) }, 32);
  // A blob read last time (by any Repo of this checkout in this process) is not read again: a blob id is the hash of its content.
  const key = `${checkout}\0${slot}`;
  const before = lastTexts.get(key);
  const known = new Map<string, KnownBlob | undefined>();
  // A symlink's blob is its target, which coord never follows.
  const wanted = blobs.filter((b) => b.mode !== "120000");
  for (const b of wanted) known.set(b.id, before?.get(b.id));
  const unread = [...known].filter(([, k]) => k === undefined).map(([id]) => id);
  if (unread.length) {
    // Each read up to the largest limit of the paths it stands at; a bigger one is not read at all.
    const caps = new Map<string, number>();
    for (const b of wanted) caps.set(b.id, Math.max(caps.get(b.id) ?? 0, sizeLimit(b.path)));
    const records = await c.objects().read(
      unread,
      unread.map((id) => caps.get(id)!),
    );
    let read = 0;
    records.forEach((r, i) => {
      // Whatever object a file entry names is read as its content (a hub that does not check objects takes any).
      if (r.type === "missing") throw missing(c, "blob", `${unread[i]} (${wanted.find((b) => b.id === unread[i])?.path}) of ${commit}`);
      known.set(unread[i]!, { text: r.body?.toString("utf8") ?? "", size: r.size });
      if (r.body) read++;
    });
    blobsReadBy.set(checkout, (blobsReadBy.get(checkout) ?? 0) + read);
  }
  const files = new Map<string, string>();
  const texts = new Map<string, KnownBlob>();
  for (const b of blobs) {
    const blob = known.get(b.id);
    const skip = b.mode === "120000" ? notRead("it is a symbolic link, which coord never follows") : tooBigBlob(b.path, blob!.size);
    if (skip !== undefined) {
      files.set(b.path, skip);
      continue;
    }
    files.set(b.path, blob!.text);
    texts.set(b.id, blob!);
    knownBlobId(blob!.text, b.id); // the parse cache need not hash it
  }
  // The 8 checkouts read last (a Map keeps the order of insertion): another checkout's read does not drop this one's.
  keepLatest(lastTexts, key, texts, 8);
  return files;
}
