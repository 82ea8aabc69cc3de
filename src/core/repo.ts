// The coordination repository as a model: the orders (ORDERS.json and the
// machines' delegated files) and every machine's file, read from one commit.
// Broken files are reported and left out, never fixed.
import { parseComputer } from "./computer.js";
import { channelOfPath, MESSAGES_DIR, parseMessageFile, type MessageFile } from "./messages.js";
import { machineNameProblem, machineOfPath } from "./names.js";
import { parseOrderSources } from "./orders.js";
import type { ComputerFile, Orders, Problem } from "./types.js";

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

export function readModel(files: Map<string, string>): RepoModel {
  const computers = new Map<string, ComputerFile>();
  const fileProblems: Problem[] = [];
  const machineNames: string[] = [];
  const messageFiles: MessageFile[] = [];
  const delegated: { file: string; text: string }[] = [];
  for (const [path, text] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (path.startsWith(`${ORDERS_DIR}/`)) {
      const owner = /^coordination\/orders\/([^/]+)\.json$/.exec(path)?.[1];
      const bad = owner === undefined ? `only files named ${ORDERS_DIR}/<machine>.json hold orders` : machineNameProblem(owner);
      if (bad) fileProblems.push({ file: path, message: `ignored: ${bad}` });
      else delegated.push({ file: path, text });
      continue;
    }
    if (path.startsWith(`${MESSAGES_DIR}/`)) {
      if (!channelOfPath(path)) continue;
      try {
        messageFiles.push(parseMessageFile(text, path));
      } catch (e) {
        fileProblems.push({ file: path, message: `ignored: ${(e as Error).message}; its sender rewrites it at its next sync` });
      }
      continue;
    }
    const name = machineOfPath(path);
    if (name === undefined) continue;
    const bad = machineNameProblem(name);
    if (bad) {
      fileProblems.push({ file: path, message: `ignored: ${bad}` });
      continue;
    }
    machineNames.push(name);
    const parsed = memo(`${name}\0${text}`, () => parseComputer(text, name));
    if (parsed instanceof Error) fileProblems.push({ file: path, message: `ignored: ${parsed.message}; machine ${name} rewrites it at its next sync` });
    else computers.set(name, parsed);
  }
  const text = files.get(ORDERS_FILE);
  const parsed = parseOrderSources([...(text === undefined ? [] : [{ file: ORDERS_FILE, text }]), ...delegated], { machines: machineNames });
  const rest = { ordersOrigin: parsed.origin, computers, machineNames, fileProblems, messageFiles };
  if (text === undefined)
    return { ordersProblems: [{ file: ORDERS_FILE, message: "ORDERS.json is missing; run `coord init` or restore it" }, ...parsed.problems], ...rest };
  return { orders: parsed.orders, ordersProblems: parsed.problems, ...rest };
}
