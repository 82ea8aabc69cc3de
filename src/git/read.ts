// Reading a tip's files: one `ls-tree -z` of each branch's commit and one
// `cat-file --batch` of the blobs not read before (memo.ts), each path from its
// role's branch (hub.ts filesByRole). A blob over its path's size limit, or a
// symbolic link, stands as a marker that readModel reports (core/limits.ts).
// The listing's trees are kept for a publish on the same commit (commit.ts).
import { resolve } from "node:path";
import { notRead, tooBigBlob } from "../core/limits.js";
import { knownBlobId } from "../core/repo/parsed.js";
import { CoordError, EXIT } from "../errors.js";
import type { Checkout } from "./checkout.js";
import { isObjectId } from "./dotgit.js";
import { filesByRole, pathsByRole, splitTip } from "./hub.js";
import { blobsReadBy, commitBodies, commitListings, historyMarks, keepLatest, lastTexts, listedBlobs, listedTree, markCommit, rememberTree } from "./memo.js";
import { batchRecords, commitTimeAndMessage, treeListing } from "./objects.js";

/**
 * Every file under `prefixes` at `tip`, read in one `cat-file --batch`,
 * by its exact path (`ls-tree -z`: a tab or newline in a name stays in the
 * name). A blob over its path's size limit is not read: it stands as a
 * marker that readModel reports (core/limits.ts).
 */
export async function readFiles(c: Checkout, tip: string, prefixes: string[]): Promise<Map<string, string>> {
  const t = splitTip(tip);
  if (!t) return readCommitFiles(c, tip, prefixes, "");
  const [people, machines] = await Promise.all([readCommitFiles(c, t.people, prefixes, "people"), t.machines ? readCommitFiles(c, t.machines, prefixes, "machines") : undefined]);
  return filesByRole(people, machines);
}

/** The paths readFiles gives for `tip` and `prefixes`, from the listing alone (the one readFiles keeps, when it took it). */
export async function listFiles(c: Checkout, tip: string, prefixes: string[]): Promise<string[]> {
  const t = splitTip(tip);
  if (!t) return listCommit(c, tip, prefixes);
  const [people, machines] = await Promise.all([listCommit(c, t.people, prefixes), t.machines ? listCommit(c, t.machines, prefixes) : undefined]);
  return pathsByRole(people, machines);
}

/** The blobs' paths of one commit under `prefixes` (ls-tree -z: a tab or newline in a name stays in it). */
async function listCommit(c: Checkout, commit: string, prefixes: string[]): Promise<string[]> {
  const known = isObjectId(commit) ? commitListings.get([resolve(c.dir), commit, ...prefixes].join("\0")) : undefined;
  const listing = known ?? (await c.git().raw(["ls-tree", "-r", "-z", "--full-tree", commit, "--", ...prefixes]));
  const paths: string[] = [];
  for (const entry of listing.split("\0")) {
    const tab = entry.indexOf("\t");
    if (tab >= 0 && entry.slice(0, tab).split(/ +/)[1] === "blob") paths.push(entry.slice(tab + 1));
  }
  return paths;
}

/** readFiles of one commit; `slot` keeps the blobs read last apart per branch (two branches are read side by side). */
async function readCommitFiles(c: Checkout, commit: string, prefixes: string[], slot: string): Promise<Map<string, string>> {
  // -t: the directories too, so that a publish on this commit lists none of them again (commitFiles).
  // Kept only by object id: a name (HEAD, a branch) may name another commit next time.
  const listingKey = isObjectId(commit) ? [resolve(c.dir), commit, ...prefixes].join("\0") : undefined;
  const known = listingKey === undefined ? undefined : commitListings.get(listingKey);
  const listing = known ?? (await c.git().raw(["ls-tree", "-r", "-t", "-z", "-l", "--full-tree", commit, "--", ...prefixes]));
  if (listingKey !== undefined) keepLatest(commitListings, listingKey, listing, 16);
  const checkout = resolve(c.dir);
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
    const root = listedTree(c.dir, `${commit}^{tree}`) !== undefined ? [] : [`${commit}^{tree}`];
    // The machines' commit itself too: its history mark (historyOf), which a publish on it asks next, without a `git log`.
    // Kept whole too, for the signature of a change the tip itself made (lastChange).
    const mark = slot === "machines" && isObjectId(commit) && !(historyMarks.has(commit) && commitBodies.has(commit)) ? [commit] : [];
    let read = 0;
    const out = await c.git({ input: `${[...blobs, ...root, ...mark].join("\n")}\n` }).binaryCatFile(["--batch"]);
    batchRecords(out).forEach(({ sha, type, body }, record) => {
      if (!body) return;
      if (record === blobs.length + root.length && mark.length && type === "commit") {
        keepLatest(commitBodies, commit, body, 64);
        const parsed = commitTimeAndMessage(body);
        if (parsed) markCommit(commit, parsed);
      } else if (record === blobs.length && root.length && type === "tree") rememberTree(c.dir, `${commit}^{tree}`, treeListing(body, sha.length / 2));
      else if (record < blobs.length) {
        texts.set(sha, body.toString("utf8"));
        read++;
      }
    });
    blobsReadBy.set(checkout, (blobsReadBy.get(checkout) ?? 0) + read);
  }
  for (const e of entries) {
    const text = texts.get(e.sha);
    if (text === undefined) throw new CoordError(`git did not give the blob ${e.sha} (${e.path}) of ${commit} in ${c.dir}; run coord doctor`, EXIT.FAILURE);
    files.set(e.path, text);
    knownBlobId(text, e.sha); // the parse cache need not hash it
  }
  // The 8 checkouts read last (a Map keeps the order of insertion): another checkout's read does not drop this one's.
  keepLatest(lastTexts, key, texts, 8);
  // A directory's listing is whole when the directory lies inside what was asked for (the root only when everything was).
  const whole = (dir: string) => prefixes.length === 0 || prefixes.some((p) => dir === p || dir.startsWith(`${p}/`));
  for (const [dir, id] of trees) if (whole(dir)) rememberTree(c.dir, id, (children.get(dir) ?? []).join(""));
  if (prefixes.length === 0) rememberTree(c.dir, `${commit}^{tree}`, (children.get("") ?? []).join(""));
  return files as Map<string, string>;
}
