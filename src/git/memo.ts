// What this process has read of each checkout, kept because a git object never
// changes: the texts of the blobs a read took last, commits' and trees'
// listings, the raw machines' commits and their history marks. A sync reads
// its tip again after each publish, and a daemon at every sync, mostly the same
// objects: these are not read (nor held) twice. Each map keeps only its newest
// entries (keepLatest). Shared by reading (read.ts), building commits
// (commit.ts) and the history's questions (log.ts, last-change.ts).
import { resolve } from "node:path";
import { type HistoryMark, parseHistoryTrailer } from "../core/hub/status-history.js";

/** A blob's text as read, and its size in bytes (a path's size limit applies to it, wherever it stands next). */
export interface KnownBlob {
  text: string;
  size: number;
}

/**
 * The blobs the last readFiles of each checkout (by path and branch) read, by blob id: a sync reads its tip again
 * after each publish, and a daemon at every sync, mostly the same blobs.
 */
export const lastTexts = new Map<string, Map<string, KnownBlob>>();

/** The root tree of each of the 64 commits read last, by checkout and commit id: a commit never changes. */
export const commitTrees = new Map<string, string>();

/** Tree listings by checkout and tree id (or `<commit>^{tree}`): a git object never changes, so each is listed once. */
const treeListings = new Map<string, string>();

/** Blobs readFiles took from git (not from the last read) in this process, by checkout (its resolved path): for tests. */
export const blobsReadBy = new Map<string, number>();

/** How many blobs readFiles took from git for the checkout `dir` in this process (not from the last read). */
export function blobsRead(dir: string): number {
  return blobsReadBy.get(resolve(dir)) ?? 0;
}

/**
 * The raw objects of the machines' commits readFiles read in this process, by id (an object never changes): a
 * change made by the tip itself is checked from it (lastChange), and ancestry along them (isAncestor), with no git.
 */
export const commitBodies = new Map<string, Buffer>();

/** The blob ids of the files each of the 32 commits readFiles read last listed, by checkout and commit, with the paths asked. */
export const listedBlobs = new Map<string, { asked: string; blobs: Map<string, string> }>();

/** The history marks of machines' commits this process has read (a commit's message never changes). */
export const historyMarks = new Map<string, HistoryMark>();

export function rememberMark(commit: string, mark: HistoryMark): void {
  keepLatest(historyMarks, commit, mark, 64);
}

/** A machines' commit's history mark from its time and message, remembered: one without a trailer (the hub's first, an upgrade by an older version, a person's) starts the count. */
export function markCommit(commit: string, { at, message }: { at: number; message: string }): HistoryMark {
  const mark = parseHistoryTrailer(message) ?? { depth: 1, since: new Date(at * 1000) };
  rememberMark(commit, mark);
  return mark;
}

/** Sets `key` in `map` as its newest entry, dropping the oldest (a Map keeps the order of insertion) beyond `max`. */
export function keepLatest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** A tree's listing this process has seen in the checkout `dir` (any Repo of it: coord init reads, its first sync commits). */
export function listedTree(dir: string, key: string): string | undefined {
  return treeListings.get(`${resolve(dir)}\0${key}`);
}

/** Keeps a tree's listing (by tree id, or `<commit>^{tree}`) of the checkout `dir`. */
export function rememberTree(dir: string, key: string, listing: string): void {
  keepLatest(treeListings, `${resolve(dir)}\0${key}`, listing, 256);
}
