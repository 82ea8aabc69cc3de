// The coordination repository as a model: the orders (ORDERS.json and the
// machines' delegated files) and every machine's file, read from one commit.
// Broken files are reported and left out, never fixed.
import { type Controls, readControls } from "../hub/controls.js";
import { type ComputerFile, parseComputer, withOwnTables } from "../fleet/computer.js";
import { parsedFile, parseGeneration, recordParsed, touchParsed } from "./parsed.js";
import { parseMessageFile, type MessageFile } from "../messages/messages.js";
import { unreadable } from "../limits.js";
import { parseOrderSources, reviveOrderSources } from "../orders/orders.js";
import { CONTROL, ORDERS_FILE, ownerOf } from "../trust/ownership.js";
import { rosterOf } from "../trust/roster.js";
import { readServices, type ServicesRead } from "../services/services.js";
import { own, type Problem } from "../types.js";
import type { Orders } from "../orders/orders-schema.js";

export { delegatedOrdersPath, ORDERS_DIR, ORDERS_FILE, SCHEMA_FILE, STATUS_JSON, STATUS_MD } from "../trust/ownership.js";

export interface RepoModel {
  /** The valid orders of ORDERS.json and every delegated file, or undefined when any of them is missing or invalid. */
  orders?: Orders;
  ordersProblems: Problem[];
  /** What is valid but should not be in the repository (env values that look like secrets); for the person who edits the orders. */
  ordersWarnings?: Problem[];
  /** Order id → the file that defines it (ORDERS.json or coordination/orders/<machine>.json). */
  ordersOrigin: Record<string, string>;
  /** Machines whose files parse, by name. */
  computers: Map<string, ComputerFile>;
  /** Every name with a COMPUTER file, broken or not (an order may address them). */
  machineNames: string[];
  fileProblems: Problem[];
  /** Message files that parse (broken ones are in fileProblems). */
  messageFiles: MessageFile[];
  /** The fleet controls of ORDERS.json (emergency stop, paused machines), read even when the rest of it is invalid. */
  controls: Controls;
  /** The services of ORDERS.json, each entry read on its own (a bad one is its own problem), whatever the orders' validity. */
  services?: ServicesRead;
  /** ORDERS.json's keys (core/trust/roster.ts) when it has them: the machines the verifying ones believe. */
  keys?: ReadonlyMap<string, string>;
}

/**
 * Machine `name`'s file at `path` as readers take it (bounded, then parsed),
 * or why it is not read. Parse results are kept by blob id (core/repo/parsed.ts):
 * YAML parsing dominates reading a large fleet, and a sync (or a daemon)
 * reads the same files again and again. The results are shared, so nothing
 * may change them (nothing does: every writer builds new objects).
 */
export function readComputer(path: string, name: string, text: string): ComputerFile | Error {
  const tooBig = unreadable(path, text);
  return tooBig ? new Error(tooBig) : parsedFile(path, text, () => parseComputer(text, name), withOwnTables);
}

/** What a path of the tree is to coord. */
type PathKind =
  | { kind: "orders" }
  | { kind: "delegated"; owner: string }
  | { kind: "computer"; name: string }
  | { kind: "message" }
  | { kind: "ignored" }
  | { kind: "odd"; why: string };

/** A path as it can be shown on one line: control characters escaped. */
export function printablePath(path: string): string {
  const named: Record<string, string> = { "\t": "\\t", "\n": "\\n", "\r": "\\r" };
  return path.replace(new RegExp(CONTROL.source, "g"), (c) => own(named, c) ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Which of coord's files `path` is, by who owns it (ownership.ts): the files nobody owns are odd, reported and never parsed. */
export function classifyPath(path: string): PathKind {
  const owner = ownerOf(path);
  switch (owner.kind) {
    case "orders":
    case "odd":
      return owner;
    case "delegated":
      return { kind: "delegated", owner: owner.machine };
    case "computer":
      return { kind: "computer", name: owner.machine };
    case "messages":
      return { kind: "message" };
    default:
      return { kind: "ignored" }; // derived, scaffold, or not coord's
  }
}

/** The last files read and their model: a sync reads one tip in its cycle and again in its publish, with the same files. */
let last: { files: Map<string, string>; model: RepoModel; generation: number; keys: string[] } | undefined;

/** Whether `files` holds exactly what `copy` does (the same paths, equal texts). */
function sameFiles(copy: Map<string, string>, files: Map<string, string>): boolean {
  if (copy.size !== files.size) return false;
  for (const [path, text] of files) if (copy.get(path) !== text) return false;
  return true;
}

/**
 * The repository as coord reads it from `files` (path → text of one commit).
 * Memoised: the same files again give the same model, which is shared, so
 * nothing may change it (nothing does: every writer builds new objects).
 */
export function readModel(files: Map<string, string>): RepoModel {
  // Its parse results count as used again (a daemon's next sync of the same tip): the cache of them keeps them.
  if (last && last.generation === parseGeneration() && sameFiles(last.files, files) && touchParsed(last.keys)) return last.model;
  const { value: model, keys } = recordParsed(() => modelOf(files));
  last = { files: new Map(files), model, generation: parseGeneration(), keys };
  return model;
}

/** What the machines published, read from their files alone: each machine's file, the message channels, and the problems of those that do not parse. */
export type MachineFiles = Pick<RepoModel, "computers" | "machineNames" | "fileProblems" | "messageFiles">;

/**
 * The machines' files of `files` (path → text of one commit) as readModel reads them, without the orders: what a
 * reader of the machines' own words needs (their keys, reservations, channels and receipts), nothing of ORDERS.json.
 */
export function readMachineFiles(files: Map<string, string>): MachineFiles {
  const { delegated: _, ...read } = machinesOf(files);
  return read;
}

/** ORDERS.json's keys, as the model holds them (only when it has them). */
function keysOf(text: string | undefined): { keys?: ReadonlyMap<string, string> } {
  const keys = rosterOf(text);
  return keys ? { keys } : {};
}

function modelOf(files: Map<string, string>): RepoModel {
  const { delegated, ...machines } = machinesOf(files);
  const text = files.get(ORDERS_FILE);
  const parsed = readOrders([...(text === undefined ? [] : [{ file: ORDERS_FILE, text }]), ...delegated], machines.machineNames);
  const rest = {
    ordersOrigin: parsed.origin,
    ...(parsed.warnings.length ? { ordersWarnings: parsed.warnings } : {}),
    ...machines,
    controls: readControls(text),
    services: readServices(text, machines.machineNames),
    ...keysOf(text),
  };
  if (text === undefined) return { ordersProblems: [{ file: ORDERS_FILE, message: "ORDERS.json is missing; run `coord init` or restore it" }, ...parsed.problems], ...rest };
  return { orders: parsed.orders, ordersProblems: parsed.problems, ...rest };
}

/** Each file of `files` by what it is: the machines' files and channels read, the delegated orders kept for the orders' parse. */
function machinesOf(files: Map<string, string>): MachineFiles & { delegated: { file: string; text: string }[] } {
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
        const parsed = parsedFile(path, text, () => parseMessageFile(text, path));
        if (parsed instanceof Error) fileProblems.push({ file, message: `ignored: ${parsed.message}; its sender rewrites it at its next sync` });
        else messageFiles.push(parsed);
        continue;
      }
      case "computer": {
        const name = what.name;
        machineNames.push(name);
        const parsed = readComputer(path, name, text);
        if (parsed instanceof Error) fileProblems.push({ file, message: `ignored: ${parsed.message}; machine ${name} rewrites it at its next sync` });
        else computers.set(name, parsed);
      }
    }
  }
  return { computers, machineNames, fileProblems, messageFiles, delegated };
}

/** The orders files parsed together, for these registered machines: kept by the hash of exactly that input, like the files (core/repo/parsed.ts). */
function readOrders(sources: { file: string; text: string }[], machines: string[]): ReturnType<typeof parseOrderSources> {
  const input = JSON.stringify([sources.map((s) => [s.file, s.text]), machines]);
  const parsed = parsedFile("(orders)", input, () => parseOrderSources(sources, { machines }), reviveOrderSources);
  if (parsed instanceof Error) throw parsed;
  return parsed;
}
