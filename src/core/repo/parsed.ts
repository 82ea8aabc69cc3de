// Parse results of the repository's files, by git blob id. YAML parsing
// dominates reading a large fleet (10,000 messages: seconds), and every sync
// reads files that did not change since the last one. A blob id is the hash
// of the content: a result kept under (blob id, path) is the result of parsing
// exactly that text as that path, so it is sound to use again, whoever kept
// it. This is the process's memo (a pure function's memo: still no I/O in the
// core); the state layer keeps it across processes in the machine's state dir
// (state/parsed.ts).
import { gitBlobId } from "./blob.js";

/** What parsing one file gave: its value, or why it is not read. */
export type ParseEntry = { v: unknown } | { e: string };

/** Keys used while a reader records them (recordParsed). */
let recording: string[] | undefined;

/** Entries the process keeps at most; past it, everything not used since the last mark goes, then the rest. */
export const MAX_PARSE_ENTRIES = 20_000;

/** Parsed (a miss) and reused (a hit) files since the process started, for tests and measurements. */
export const parseStats = { parsed: 0, reused: 0 };

const entries = new Map<string, ParseEntry>();
/** Keys used since the last mark (the sync so far). */
const used = new Set<string>();
/** Keys seeded from outside whose value has not been taken yet (revived on first use). */
const seeded = new Set<string>();
/** Whether anything was parsed since the last mark. */
let parsedSinceMark = false;
/** Whether anything was read at all since the last mark (a sync that failed to fetch, or had nothing to read, read nothing). */
let readSinceMark = false;

/**
 * Blob ids of the texts read since the last mark: a sync reads its tip more
 * than once (again after each publish), mostly the very same strings, which
 * a Map finds without hashing their bytes again.
 */
const ids = new Map<string, string>();

/**
 * Tells the memo the blob id of a text read from git (which lists it), so
 * that it need not hash the text again. Sound even for a blob that is not
 * UTF-8 (its text then hashes to another id): the id still names exactly one
 * content, and so one text.
 */
export function knownBlobId(text: string, id: string): void {
  if (ids.size >= MAX_PARSE_ENTRIES) ids.clear();
  ids.set(text, id);
}

/** The key of the text `text` read as the file `path`: its blob id first (40 hex digits), then the path. */
export function parseKey(path: string, text: string): string {
  let id = ids.get(text);
  if (id === undefined) {
    id = gitBlobId(text);
    if (ids.size >= MAX_PARSE_ENTRIES) ids.clear();
    ids.set(text, id);
  }
  return `${id} ${path}`;
}

/**
 * The result of `parse()` for the file `path` whose content is `text`, from
 * the memo when it holds one, else parsed now and kept. A thrown Error is a
 * result too (the file's problem, by its message). `revive` turns a value
 * that came from outside the process (JSON) back into what parse returns.
 * Results are shared: nothing may change them.
 */
export function parsedFile<T>(path: string, text: string, parse: () => T, revive: (value: T) => T = (v) => v): T | Error {
  const key = parseKey(path, text);
  let hit = entries.get(key);
  if (hit && "v" in hit && seeded.has(key)) {
    hit = { v: revive(hit.v as T) };
    entries.set(key, hit);
  }
  seeded.delete(key);
  if (hit) parseStats.reused++;
  else {
    parseStats.parsed++;
    parsedSinceMark = true;
    try {
      hit = { v: parse() };
    } catch (e) {
      hit = { e: (e as Error).message };
    }
    if (entries.size >= MAX_PARSE_ENTRIES) forgetUnused();
    if (entries.size >= MAX_PARSE_ENTRIES) entries.clear();
    entries.set(key, hit);
  }
  used.add(key);
  readSinceMark = true;
  recording?.push(key);
  return "v" in hit ? (hit.v as T) : new Error(hit.e);
}

/** `read()`, and the keys of every parse result it used: a memo built on them (readModel's) uses them again with touchParsed. */
export function recordParsed<T>(read: () => T): { value: T; keys: string[] } {
  const outer = recording;
  const keys: string[] = [];
  recording = keys;
  try {
    return { value: read(), keys };
  } finally {
    recording = outer;
    outer?.push(...keys);
  }
}

/**
 * Counts these results as used again (a memo built on them answered instead
 * of parsedFile), so that a mark keeps them. false when one is gone from the
 * memo: then the caller reads again instead.
 */
export function touchParsed(keys: string[]): boolean {
  if (!keys.every((key) => entries.has(key))) return false;
  for (const key of keys) used.add(key);
  readSinceMark = true;
  recording?.push(...keys);
  return true;
}

function forgetUnused(): void {
  for (const key of entries.keys())
    if (!used.has(key)) {
      entries.delete(key);
      seeded.delete(key);
    }
}

/** Takes entries kept elsewhere (a cache file): each is revived by its reader on first use. Entries the memo has win. */
export function seedParsed(kept: Iterable<[string, ParseEntry]>): number {
  let n = 0;
  for (const [key, entry] of kept) {
    if (entries.size >= MAX_PARSE_ENTRIES) break;
    if (entries.has(key)) continue;
    entries.set(key, entry);
    if ("v" in entry) seeded.add(key);
    n++;
  }
  return n;
}

/**
 * Ends a stretch of reads (a sync): what was used in it, to keep, and whether
 * that differs from what the memo held before (something parsed, or
 * something not used). Entries not used are forgotten; when nothing was read
 * at all (a sync that could not fetch), nothing is, and nothing changed.
 */
export function markParsed(): { used: [string, ParseEntry][]; changed: boolean } {
  if (!readSinceMark) return { used: [...entries], changed: false };
  const changed = parsedSinceMark || entries.size !== used.size;
  forgetUnused();
  const out: [string, ParseEntry][] = [];
  for (const key of used) {
    const entry = entries.get(key);
    if (entry) out.push([key, entry]);
  }
  used.clear();
  ids.clear();
  parsedSinceMark = false;
  readSinceMark = false;
  return { used: out, changed };
}

/** Bumped by resetParsed: memos built on parse results (readModel's) hold only within one generation. */
let generation = 0;
export const parseGeneration = (): number => generation;

/** Forgets everything (a new process, as far as the memo knows). For tests and measurements. */
export function resetParsed(): void {
  generation++;
  entries.clear();
  used.clear();
  seeded.clear();
  ids.clear();
  parsedSinceMark = false;
  readSinceMark = false;
  parseStats.parsed = 0;
  parseStats.reused = 0;
}
