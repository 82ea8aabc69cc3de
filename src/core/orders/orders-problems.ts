// Where ORDERS.json is wrong, in words: zod issues, JSON syntax errors and
// fields written twice become Problems with the file, line and JSON path, and
// a message that says what to write instead (a misspelt field: did you mean).
// Pure.
import type * as z from "zod";
import { findNodeAtLocation, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import { expectedAt, fieldsAt } from "./field-words.js";
import { secretNameProblem } from "../trust/secrets.js";
import { suggestField } from "../files/suggest.js";
import { isRecord, own, type Problem } from "../types.js";

/** A JSON path into the file: keys and list indexes. */
export type Path = (string | number)[];

// ------------------------------------------------------------ where things are

/** Everything needed to point at a place in the file. */
export interface Doc {
  file: string;
  root: Node;
  data: unknown;
  lineStarts: number[];
  /** The file's schema, for what a field must be: OrdersFileSchema unless a test extends it. */
  schema?: z.ZodType;
}

export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return starts;
}

/** 1-based line of a character offset. */
export function lineAt(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** `orders[2].env.NODE_ENV`, or `env["MY-VAR"]` for keys that are not identifiers. */
export function formatPath(path: Path): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Line of the deepest existing node on `path` (the key's line for a property). */
export function lineOf(doc: Doc, path: Path): number {
  for (let n = path.length; n >= 0; n--) {
    const node = findNodeAtLocation(doc.root, path.slice(0, n));
    if (node) return lineAt(doc.lineStarts, node.parent?.type === "property" ? node.parent.offset : node.offset);
  }
  return 1;
}

export function valueAt(data: unknown, path: Path): unknown {
  let value = data;
  for (const seg of path) {
    if (typeof seg === "number" ? !Array.isArray(value) : !isRecord(value)) return undefined;
    value = (value as Record<string | number, unknown>)[seg];
  }
  return value;
}

/** `order "build"`, or `orders[2]` when the order has no usable id. */
export function orderName(doc: Doc, index: number): string {
  const id = valueAt(doc.data, ["orders", index, "id"]);
  return typeof id === "string" && id !== "" ? `order ${JSON.stringify(id)}` : `orders[${index}]`;
}

/** `service "web"`, or `services[2]` when the service has no usable id. */
export function serviceName(doc: Doc, index: number): string {
  const id = valueAt(doc.data, ["services", index, "id"]);
  return typeof id === "string" && id !== "" ? `service ${JSON.stringify(id)}` : `services[${index}]`;
}

/** The order or service an entry path is about, by its id. */
function entryName(doc: Doc, path: Path): string | undefined {
  if (typeof path[1] !== "number") return undefined;
  if (path[0] === "orders") return orderName(doc, path[1]);
  if (path[0] === "services") return serviceName(doc, path[1]);
  return undefined;
}

/** Who owns the object at `path`: the file, an order or a service. */
function ownerName(doc: Doc, path: Path): string {
  const entry = entryName(doc, path);
  if (entry) return path[0] === "services" && path.length > 2 ? `${entry} field ${formatPath(path.slice(2))}` : entry;
  return path.length === 0 ? doc.file : `field ${formatPath(path)}`;
}

/** `order "build" field timeout`, `order "build" field after[1]`, `field version`, `orders[2]`. */
export function placeName(doc: Doc, path: Path): string {
  const entry = entryName(doc, path);
  if (entry) {
    const rest = path.slice(2);
    return rest.length === 0 ? entry : `${entry} field ${formatPath(rest)}`;
  }
  return path.length === 0 ? doc.file : `field ${formatPath(path)}`;
}

/** A value as a short quote for messages. */
export function show(value: unknown): string {
  if (Array.isArray(value)) return value.length ? "a list" : "an empty list";
  if (isRecord(value)) return "an object";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}..."` : text;
}

// ------------------------------------------------------------------ problems

export function problem(doc: Doc, path: Path, message: string, line = lineOf(doc, path)): Problem {
  return { file: doc.file, line, path: formatPath(path), message };
}

/** Problems for one zod issue. */
export function issueProblems(doc: Doc, issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path.filter((s): s is string | number => typeof s !== "symbol");

  const inEnvValue = (path[0] === "orders" || path[0] === "services") && path[2] === "env" && path.length >= 4;

  // An env value that is an object: report what is wrong inside it, not that it is no string.
  // An env value that is an object: {"value": "…", "secret": boolean} (the union's errors[1]) or {"secret": "<name>"}
  // (errors[2]); the object says which it meant: no "value" and a "secret" that is no boolean names a secret.
  const entry = inEnvValue ? valueAt(doc.data, path.slice(0, 4)) : undefined;
  if (isRecord(entry) && "value" in entry && typeof entry.secret === "string") {
    const at = [...path.slice(0, 4), "secret"];
    const name = show(entry.secret);
    return [problem(doc, at, `${placeName(doc, at)} must be true or false next to "value", not ${name}; to name a secret each machine holds, write only {"secret": ${name}}`)];
  }
  if (issue.code === "invalid_union" && isRecord(entry) && path.length === 4) {
    const named = !("value" in entry) && "secret" in entry && typeof entry.secret !== "boolean";
    const inner = issue.errors[named ? 2 : 1] ?? [];
    return inner.flatMap((e) => issueProblems(doc, { ...e, path: [...path, ...e.path] }));
  }
  if (inEnvValue && path.length === 5) {
    const value = valueAt(doc.data, path);
    const owner = placeName(doc, path.slice(0, -1));
    if (value === undefined)
      return [problem(doc, path, `${owner} is missing field "value"; write {"secret": "<name>"} for a secret each machine holds (coord secret set <name>), or {"value": "…"}`)];
    if (path[4] === "secret" && typeof value === "string") return [problem(doc, path, `${placeName(doc, path)}: ${secretNameProblem(value) ?? "is not a secret name"}`)];
    return [problem(doc, path, `${placeName(doc, path)} must be ${path[4] === "secret" ? "true or false, or the name of a secret (a string)" : "a string"}, not ${show(value)}`)];
  }

  if (issue.code === "unrecognized_keys") {
    const known = fieldsAt(path, doc.schema);
    const owner = inEnvValue ? placeName(doc, path) : ownerName(doc, path);
    return issue.keys.map((key) => {
      const guess = suggestField(key, known);
      const fix = guess ? `rename it to "${guess}" or remove it` : "remove it or fix its name";
      return problem(doc, [...path, key], `${owner} has an unknown field "${key}"; ${fix}`);
    });
  }

  if (issue.code === "invalid_key") {
    const key = path.at(-1);
    return [problem(doc, path, `${placeName(doc, path.slice(0, -1))}: ${show(key)} is not a valid variable name; use letters, digits and "_", not starting with a digit`)];
  }

  if (issue.code === "custom") return [problem(doc, path, `${placeName(doc, path)}: ${issue.message}`)];

  const value = valueAt(doc.data, path);
  const field = path.at(-1);
  if (value === undefined && typeof field === "string") {
    const owner = ownerName(doc, path.slice(0, -1));
    return [problem(doc, path, `${owner} is missing field "${field}"; set it to ${expectedAt(path, doc.schema) ?? "a value"}`)];
  }
  // What the value must be: the words of its place in the schema (core/orders/field-words.ts).
  return [problem(doc, path, `${placeName(doc, path)} must be ${expectedAt(path, doc.schema) ?? "something else"}, not ${show(value)}`)];
}

/** The first JSON syntax error, in words. */
export function syntaxProblem(doc: Doc, error: ParseError, text: string): Problem {
  const what: Record<string, string> = {
    InvalidSymbol: "unexpected character",
    InvalidNumberFormat: "invalid number",
    PropertyNameExpected: "expected a field name in double quotes",
    ValueExpected: "expected a value",
    ColonExpected: 'expected ":"',
    CommaExpected: 'expected ","',
    CloseBraceExpected: 'expected "}"',
    CloseBracketExpected: 'expected "]"',
    EndOfFileExpected: "unexpected text after the end",
    InvalidCommentToken: "comments are not allowed in JSON",
    UnexpectedEndOfComment: "unfinished comment",
    UnexpectedEndOfString: "unfinished string",
    UnexpectedEndOfNumber: "unfinished number",
    InvalidUnicode: "invalid \\u escape",
    InvalidEscapeCharacter: "invalid escape character",
    InvalidCharacter: "invalid character in a string",
  };
  const code = printParseErrorCode(error.error);
  const line = lineAt(doc.lineStarts, error.offset);
  const column = error.offset - doc.lineStarts[line - 1]! + 1;
  const near = text.slice(error.offset, error.offset + Math.max(1, Math.min(error.length, 20)));
  const hint = code === "PropertyNameExpected" || code === "ValueExpected" ? " (JSON allows no trailing commas or comments)" : "";
  const at = near.trim() ? ` near ${JSON.stringify(near)}` : "";
  return {
    file: doc.file,
    line,
    path: "",
    message: `${doc.file} is not valid JSON at line ${line}, column ${column}${at}: ${own(what, code) ?? code}${hint}; fix it and commit again`,
  };
}

/** Object fields written twice: JSON parsers silently keep the last one. */
export function duplicateKeyProblems(doc: Doc, node: Node, path: Path = [], out: Problem[] = []): Problem[] {
  if (node.type === "object") {
    const seen = new Map<string, number>(); // key → offset of its first property (its line is only needed for a duplicate)
    for (const prop of node.children ?? []) {
      const [keyNode, valueNode] = prop.children ?? [];
      if (!keyNode) continue;
      const key = String(keyNode.value);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, prop.offset);
      else {
        const line = lineAt(doc.lineStarts, prop.offset);
        out.push(problem(doc, [...path, key], `${ownerName(doc, path)} has field "${key}" twice (first at line ${lineAt(doc.lineStarts, first)}); keep only one`, line));
      }
      if (valueNode && (valueNode.type === "object" || valueNode.type === "array")) duplicateKeyProblems(doc, valueNode, [...path, key], out);
    }
  } else if (node.type === "array") {
    const children = node.children ?? [];
    for (let i = 0; i < children.length; i++) {
      const child = children[i]!;
      if (child.type === "object" || child.type === "array") duplicateKeyProblems(doc, child, [...path, i], out);
    }
  }
  return out;
}
