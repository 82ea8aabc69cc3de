// How big and how deep a file read from the repository may be. Anyone who can
// push can commit a 200 MB ORDERS.json or front matter nested 5,000 deep; the
// parsers would run out of memory or stack (a RangeError, at a depth that
// depends on the caller's stack). Each file is measured with a cheap scan
// before any parser sees it, and one over a bound is that file's problem.
import { Lexer } from "yaml";
import { isRecord } from "./types.js";

const MiB = 1024 * 1024;

/** The most bytes of an orders file (ORDERS.json, coordination/orders/<machine>.json) coord reads. */
export const ORDERS_LIMIT = 5 * MiB;

/** The most bytes read of one file, by path: orders 5 MiB, a machine's or message file 2 MiB, the derived files 32 MiB, anything else 1 MiB. */
export function sizeLimit(path: string): number {
  if (path === "ORDERS.json" || path.startsWith("coordination/orders/")) return ORDERS_LIMIT;
  if (path.startsWith("coordination/COMPUTER_") || path.startsWith("coordination/messages/")) return 2 * MiB;
  if (path === "STATUS.json" || path === "STATUS.md") return 32 * MiB;
  return MiB;
}

/**
 * The largest counter coord reads (a rev, an attempt, a message seq, a
 * receipt): far above any real use, and far below where adding one stops
 * changing a JavaScript number (2^53).
 */
export const MAX_COUNT = 2 ** 31 - 1;

/** The deepest nesting of lists and objects a file may have (JSON or YAML front matter). */
export const MAX_DEPTH = 64;

/** `2.5 MiB`, `812 KiB`, `90 bytes`. */
export function formatBytes(n: number): string {
  if (n >= MiB) return `${Math.round((n / MiB) * 10) / 10} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} bytes`;
}

/**
 * What git.readFiles puts in place of a blob it did not read (over its
 * path's size limit, or a symbolic link), so that the file is reported with
 * why, not missing. It starts with NUL: no file coord reads is valid with one.
 */
const NOT_READ = "\u0000coord: not read: ";
export function notRead(reason: string): string {
  return NOT_READ + reason;
}

/** Why a blob was not read, when `text` stands for one. */
export function notReadReason(text: string): string | undefined {
  return text.startsWith(NOT_READ) ? text.slice(NOT_READ.length) : undefined;
}

/** The marker for a blob of `size` bytes over the limit for `path`, or undefined when it may be read. */
export function tooBigBlob(path: string, size: number): string | undefined {
  const limit = sizeLimit(path);
  return size > limit ? notRead(`the file is ${formatBytes(size)}, more than the ${formatBytes(limit)} coord reads of it`) : undefined;
}

/** Bytes of `text` in UTF-8, counting only as far as `stop` (more is more). */
export function utf8Length(text: string, stop = Infinity): number {
  if (text.length > stop) return text.length; // every character is one byte at least
  let n = 0;
  for (let i = 0; i < text.length && n <= stop; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Why `text` cannot be read as the file at `path`: not read from git (too big, a link), or too big itself. */
export function unreadable(path: string, text: string, limit = sizeLimit(path)): string | undefined {
  const reason = notReadReason(text);
  if (reason !== undefined) return reason;
  if (text.length * 3 <= limit || utf8Length(text, limit) <= limit) return undefined; // a UTF-16 unit is 3 bytes of UTF-8 at most
  return `the file is over ${formatBytes(limit)}, more than coord reads of it`;
}

/**
 * How deeply the lists and objects of a JSON text nest, counting no further
 * than `stop`; with the offset where it went past `stop`. Strings are skipped,
 * so a "[" in a value does not count.
 */
export function jsonDepth(text: string, stop = MAX_DEPTH): { depth: number; offset?: number } {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
      if (depth > stop) return { depth, offset: i };
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  return { depth: max };
}

/**
 * An upper bound of how deeply the collections of a YAML text nest, counting
 * no further than `stop`; with the 1-based line where it went past `stop`.
 * It reads yaml's lexer (iterative: it does not recurse per level, unlike the
 * parser), so quoted strings, block scalars and comments are never counted.
 * Each block indentation level holds a mapping and a sequence at most, plus
 * the compact "- - " and "? " entries on its line and the open flow brackets.
 */
export function yamlDepth(text: string, stop = MAX_DEPTH): { depth: number; line?: number } {
  const indents: number[] = [];
  let flow = 0;
  let line = 1;
  let column = 0;
  let lineStart = true;
  let compact = 0;
  let max = 0;
  let scalarNext = false;
  for (const token of new Lexer().lex(text)) {
    if (scalarNext) {
      // The source of a scalar (plain, or a block scalar's content): never structure.
      scalarNext = false;
      line += countNewlines(token);
      lineStart = token.endsWith("\n");
      column = 0;
      continue;
    }
    const kind = token[0];
    if (token === "\n" || token === "\r\n") {
      line++;
      lineStart = true;
      column = 0;
      compact = 0;
      continue;
    }
    if (kind === " " || kind === "\t") {
      if (lineStart) column = token.length;
      continue;
    }
    if (kind === "#") continue;
    if (lineStart && flow === 0) {
      lineStart = false;
      while (indents.length && indents[indents.length - 1]! > column) indents.pop();
      if (!indents.length || indents[indents.length - 1]! < column) indents.push(column);
    }
    lineStart = false;
    if (kind === "\u001f") scalarNext = true;
    else if (kind === "-" && token === "-") compact++;
    else if (kind === "?" && token === "?") compact++;
    else if (kind === "[" || kind === "{") flow++;
    else if ((kind === "]" || kind === "}") && flow > 0) flow--;
    else if (kind === '"' || kind === "'") line += countNewlines(token);
    const depth = 2 * indents.length + compact + flow;
    if (depth > max) max = depth;
    if (depth > stop) return { depth, line };
  }
  return { depth: max };
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i !== -1; i = s.indexOf("\n", i + 1)) n++;
  return n;
}

/** `text` at most `max` characters (UTF-16 units, as the readers' schemas count): cut with "…" as its last. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** "1 message", "3 messages": a count and its noun (an "s" for any count but one). */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Ids a progress line names at most before it says how many more there are. */
export const LISTED = 5;

/** `a, b, c` for a few items; `a, b, c, d, e and 9,995 more` for many (one line stays short, whatever arrived). */
export function someOf(items: readonly string[], max = LISTED): string {
  if (items.length <= max) return items.join(", ");
  return `${items.slice(0, max).join(", ")} and ${(items.length - max).toLocaleString("en-US")} more`;
}

/**
 * ORDERS.json's text as an object, read leniently (what a person's broken order leaves readable), or undefined when
 * it is no JSON object within the limits: the one reading of the fields read whatever else is wrong (controls, keys).
 */
export function ordersObject(text: string): Record<string, unknown> | undefined {
  if (unreadable("ORDERS.json", text, ORDERS_LIMIT) || jsonDepth(text, MAX_DEPTH).offset !== undefined) return undefined;
  try {
    const data: unknown = JSON.parse(text.startsWith("\uFEFF") ? text.slice(1) : text);
    return isRecord(data) ? data : undefined;
  } catch {
    return undefined;
  }
}
