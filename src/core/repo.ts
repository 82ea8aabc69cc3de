// The coordination repository as a model: the orders (ORDERS.json and the
// machines' delegated files) and every machine's file, read from one commit.
// Broken files are reported and left out, never fixed.
import { parseComputer } from "./computer.js";
import { channelOfPath, MESSAGES_DIR, parseMessageFile, type MessageFile } from "./messages.js";
import { unreadable } from "./limits.js";
import { machineNameProblem, machineOfPath } from "./names.js";
import { parseOrderSources } from "./orders.js";
import { own, type ComputerFile, type Orders, type Problem } from "./types.js";

export const ORDERS_FILE = "ORDERS.json";
export const STATUS_JSON = "STATUS.json";
export const STATUS_MD = "STATUS.md";
export const SCHEMA_FILE = "coordination/orders.schema.json";
/** Orders a machine delegates: coordination/orders/<machine>.json, written by that machine only. */
export const ORDERS_DIR = "coordination/orders";

export function delegatedOrdersPath(machine: string): string {
  return `${ORDERS_DIR}/${machine}.json`;
}

export interface RepoModel {
  /** The valid orders of ORDERS.json and every delegated file, or undefined when any of them is missing or invalid. */
  orders?: Orders;
  ordersProblems: Problem[];
  /** Order id → the file that defines it (ORDERS.json or coordination/orders/<machine>.json). */
  ordersOrigin: Record<string, string>;
  /** Machines whose files parse, by name. */
  computers: Map<string, ComputerFile>;
  /** Every name with a COMPUTER file, broken or not (an order may address them). */
  machineNames: string[];
  fileProblems: Problem[];
  /** Message files that parse (broken ones are in fileProblems). */
  messageFiles: MessageFile[];
}

/**
 * Parsed machine files by exact text: YAML parsing dominates reading a large
 * fleet, and a sync (or a daemon) reads the same files again and again. The
 * results are shared, so nothing may change them (nothing does: every writer
 * builds new objects). Bounded; a pure function's memo, so still no I/O here.
 */
const parsed = new Map<string, ComputerFile | Error>();
function memo(key: string, parse: () => ComputerFile): ComputerFile | Error {
  let hit = parsed.get(key);
  if (hit === undefined) {
    try {
      hit = parse();
    } catch (e) {
      hit = e as Error;
    }
    if (parsed.size >= 2000) parsed.clear();
    parsed.set(key, hit);
  }
  return hit;
}

/** What a path of the tree is to coord. */
type PathKind =
  | { kind: "orders" }
  | { kind: "delegated"; owner: string }
  | { kind: "computer"; name: string }
  | { kind: "message" }
  | { kind: "ignored" }
  | { kind: "odd"; why: string };

/** Control characters (C0, DEL, C1) and the line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A path as it can be shown on one line: control characters escaped. */
export function printablePath(path: string): string {
  const named: Record<string, string> = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };
  return path.replace(new RegExp(CONTROL.source, "g"), (c) => own(named, c) ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Which of coord's files `path` is. Under coordination/ only the paths coord
 * writes are read; any other is odd (reported, never parsed as someone's
 * file); so is a name with a control character there: a tab or a newline in
 * it could make it pass for another path where it is printed.
 */
export function classifyPath(path: string): PathKind {
  if (path === ORDERS_FILE) return { kind: "orders" };
  if (!path.startsWith("coordination/")) return { kind: "ignored" };
  if (CONTROL.test(path)) return { kind: "odd", why: "its name has a control character (a tab or a newline?); coord reads no such file: rename or remove it" };
  if (path === SCHEMA_FILE || path === "coordination/README.md") return { kind: "ignored" };
  if (path.startsWith(`${ORDERS_DIR}/`)) {
    const owner = /^coordination\/orders\/([^/]+)\.json$/.exec(path)?.[1];
    const bad = owner === undefined ? `only files named ${ORDERS_DIR}/<machine>.json hold orders` : machineNameProblem(owner);
    return bad ? { kind: "odd", why: bad } : { kind: "delegated", owner: owner! };
  }
  if (path.startsWith(`${MESSAGES_DIR}/`)) {
    return channelOfPath(path)
      ? { kind: "message" }
      : { kind: "odd", why: `not a message file: their names are ${MESSAGES_DIR}/<from>_TO_<to>.md, with machine names (or ALL as <to>)` };
  }
  const name = machineOfPath(path);
  if (name !== undefined) {
    const bad = machineNameProblem(name);
    return bad ? { kind: "odd", why: bad } : { kind: "computer", name };
  }
  return {
    kind: "odd",
    why: "coord reads only COMPUTER_<machine>.md, messages/<from>_TO_<to>.md, orders/<machine>.json and orders.schema.json in coordination/; move it elsewhere or remove it",
  };
}

export function readModel(files: Map<string, string>): RepoModel {
  const computers = new Map<string, ComputerFile>();
  const fileProblems: Problem[] = [];
  const machineNames: string[] = [];
  const messageFiles: MessageFile[] = [];
  const delegated: { file: string; text: string }[] = [];
  for (const [path, text] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const what = classifyPath(path);
    const file = printablePath(path);
    switch (what.kind) {
      case "orders":
      case "ignored":
        continue;
      case "odd":
        fileProblems.push({ file, message: `ignored: ${what.why}` });
        continue;
      case "delegated":
        delegated.push({ file: path, text }); // its size is checked with the orders
        continue;
      case "message": {
        const tooBig = unreadable(path, text);
        if (tooBig) {
          fileProblems.push({ file, message: `ignored: ${tooBig}; its sender rewrites it at its next sync` });
          continue;
        }
        try {
          messageFiles.push(parseMessageFile(text, path));
        } catch (e) {
          fileProblems.push({ file, message: `ignored: ${(e as Error).message}; its sender rewrites it at its next sync` });
        }
        continue;
      }
      case "computer": {
        const name = what.name;
        machineNames.push(name);
        const tooBig = unreadable(path, text);
        const parsed = tooBig ? new Error(tooBig) : memo(`${name}\0${text}`, () => parseComputer(text, name));
        if (parsed instanceof Error) fileProblems.push({ file, message: `ignored: ${parsed.message}; machine ${name} rewrites it at its next sync` });
        else computers.set(name, parsed);
      }
    }
  }
  const text = files.get(ORDERS_FILE);
  const parsed = parseOrderSources([...(text === undefined ? [] : [{ file: ORDERS_FILE, text }]), ...delegated], { machines: machineNames });
  const rest = { ordersOrigin: parsed.origin, computers, machineNames, fileProblems, messageFiles };
  if (text === undefined) return { ordersProblems: [{ file: ORDERS_FILE, message: "ORDERS.json is missing; run `coord init` or restore it" }, ...parsed.problems], ...rest };
  return { orders: parsed.orders, ordersProblems: parsed.problems, ...rest };
}
