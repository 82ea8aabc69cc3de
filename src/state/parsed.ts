// The parse results of the repository's files (core/repo/parsed.ts), kept across
// processes in <stateDir>/parsed.json: a cron sync with nothing new parses
// nothing. Only a cache: a file that is missing, broken, from another build
// of coord or over its bound is ignored (and written anew at the end of the
// next sync); losing it costs one sync its parsing, nothing else. It holds
// only results of exactly the blob ids it names (a blob id is the hash of the
// content), and only those the last sync used.
//
// The file: one header line (JSON: format, build, seal and length of the
// rest), then the entries as one JSON array of [key, entry]. The seal (an
// HMAC under the machine's seal key, core/trust/seal.ts) makes a torn or
// damaged file an ignored one, never a wrong parse result, and one written by
// anyone but coord here too: an agent that found the file writable (the
// daemon replaced it during its turn, which undoes the shield's read-only
// bind) cannot plant parse results, which would be orders run outside its
// sandbox.
// What it buys, and the bench row that shows it: src/startup/tricks.ts.
import { readFile, stat } from "node:fs/promises";
import { statSync } from "node:fs";
import { join } from "node:path";
import { markParsed, type ParseEntry, parseGeneration, seedParsed } from "../core/repo/parsed.js";
import { CLI_PATH, VERSION } from "../package.js";
import { trickOff } from "../startup/tricks.js";
import { sealHolds, sealOf } from "../core/trust/seal.js";
import { writeWhole } from "./files.js";
import { readSealKey } from "./seal.js";

export const PARSED_FILE = "parsed.json";

/** The most bytes of entries the file holds: results past it are parsed again by the next process. */
export const MAX_PARSED_BYTES = 32 * 1024 * 1024;

/** Bumped when what the file holds changes shape. */
const FORMAT = 2;

/**
 * This build of coord: parse rules may change with it, so results of
 * another build are not used. The bundle's change time tells apart two
 * builds of one version (a developer's). Taken when this module is loaded:
 * a daemon started before an upgrade keeps its own build's id.
 */
const BUILD = buildId();

function buildId(): string {
  let built = "-";
  try {
    built = String(statSync(CLI_PATH).mtimeMs);
  } catch {
    // no bundle (the sources run directly, as in tests): the version alone
  }
  return `${VERSION} ${built}`;
}

interface Header {
  format: number;
  build: string;
  seal: string;
  bytes: number;
}

/** Where a state dir's file stood when this process last read or wrote it: the same file need not be read again. */
const known = new Map<string, string>();

/** The file as it stands, for the memo as it is now (a reset memo has none of it). */
const stampOf = (s: { mtimeMs: number; size: number; ino: number }) => `${parseGeneration()} ${s.mtimeMs} ${s.size} ${s.ino}`;

/** The entries the file holds, or undefined when it is missing, broken, not sealed under `key` or not this build's. */
export function parseParsedFile(text: string, key: Uint8Array, build = BUILD): [string, ParseEntry][] | undefined {
  const nl = text.indexOf("\n");
  if (nl < 0) return undefined;
  let header: Header;
  let entries: unknown;
  try {
    header = JSON.parse(text.slice(0, nl)) as Header;
    const body = text.slice(nl + 1);
    if (header?.format !== FORMAT || header.build !== build || header.bytes !== body.length || !sealHolds(key, "parse-cache", body, header.seal)) return undefined;
    entries = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(entries)) return undefined;
  const out: [string, ParseEntry][] = [];
  for (const item of entries) {
    if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== "string" || !/^[0-9a-f]{40} ./s.test(item[0])) return undefined;
    const entry = item[1] as ParseEntry;
    if (typeof entry !== "object" || entry === null || !("v" in entry || ("e" in entry && typeof entry.e === "string"))) return undefined;
    out.push([item[0], entry]);
  }
  return out;
}

/** The file's text for `entries`, as many as fit in `maxBytes` (in their order), sealed under `key`. */
export function renderParsedFile(entries: [string, ParseEntry][], key: Uint8Array, maxBytes = MAX_PARSED_BYTES, build = BUILD): string {
  const parts: string[] = [];
  let bytes = 2;
  for (const entry of entries) {
    const part = JSON.stringify(entry);
    if (bytes + part.length + 1 > maxBytes) continue; // parsed again next time
    parts.push(part);
    bytes += part.length + 1;
  }
  const body = `[${parts.join(",")}]`;
  const header: Header = { format: FORMAT, build, seal: sealOf(key, "parse-cache", body), bytes: body.length };
  return `${JSON.stringify(header)}\n${body}`;
}

/** Gives the process's memo what the state dir kept (once per version of the file). Never throws: a cache. */
export async function loadParsed(stateDir: string): Promise<void> {
  if (trickOff("parsememo")) return; // the measuring aid (src/startup/tricks.ts): every file parsed, as by a first sync
  const path = join(stateDir, PARSED_FILE);
  try {
    const s = await stat(path);
    if (s.size > MAX_PARSED_BYTES + 4096) return;
    if (known.get(stateDir) === stampOf(s)) return; // this process wrote or read it last: the memo has it
    const key = await readSealKey(stateDir);
    if (!key) return; // none yet: the first sync makes it (state/delegated.ts); until then nothing is kept
    const entries = parseParsedFile(await readFile(path, "utf8"), key);
    if (entries) seedParsed(entries);
    known.set(stateDir, stampOf(s));
  } catch {
    // missing or unreadable: everything is parsed, and the file written anew
  }
}

/** Keeps what the reads since the last save used (only those), when that changed. Never throws: a cache. */
export async function saveParsed(stateDir: string): Promise<void> {
  if (trickOff("parsememo")) return;
  const { used, changed } = markParsed();
  const path = join(stateDir, PARSED_FILE);
  try {
    if (!changed && known.has(stateDir)) {
      const s = await stat(path).catch(() => undefined);
      if (s && known.get(stateDir) === stampOf(s)) return;
    }
    const key = await readSealKey(stateDir);
    if (!key) return;
    await writeWhole(path, renderParsedFile(used, key));
    known.set(stateDir, stampOf(await stat(path)));
  } catch {
    known.delete(stateDir);
  }
}
