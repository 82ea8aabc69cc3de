// The orders this machine delegates to others: the content of its own
// coordination/orders/<name>.json, kept in .git/coord/orders.json in the same
// format. `coord order add/cancel` change it in a short read-modify-write under
// its own lock (as the mailbox); the sync publishes it as it is.
import { join } from "node:path";
import { delegatedOrdersPath } from "../core/repo/repo.js";
import { CoordError, EXIT } from "../errors.js";
import { readIfExists, updateLocked } from "./files.js";

/** The published file's format: orders as written (e.g. `"timeout": "15m"`), not parsed. */
export interface DelegatedOrders {
  version: 1;
  orders: Record<string, unknown>[];
}

export function delegatedPath(stateDir: string): string {
  return join(stateDir, "orders.json");
}

/** The exact bytes published: 2-space JSON and a trailing newline. */
export function renderDelegated(data: DelegatedOrders): string {
  return JSON.stringify({ version: data.version, orders: data.orders }, null, 2) + "\n";
}

async function readText(stateDir: string): Promise<string | undefined> {
  return readIfExists(delegatedPath(stateDir));
}

function parse(path: string, text: string): DelegatedOrders {
  try {
    const data = JSON.parse(text) as DelegatedOrders;
    if (data.version !== 1) throw new Error(`unknown version ${String(data.version)}`);
    if (!Array.isArray(data.orders)) throw new Error("no list of orders");
    return data;
  } catch (e) {
    throw new CoordError(`the delegated orders ${path} cannot be read (${(e as Error).message}); fix the file or move it aside`, EXIT.USAGE);
  }
}

/** This machine's delegated orders; no orders when it never delegated any. */
export async function readDelegated(stateDir: string): Promise<DelegatedOrders> {
  const text = await readText(stateDir);
  return text === undefined ? { version: 1, orders: [] } : parse(delegatedPath(stateDir), text);
}

/** Runs `change` on the delegated orders under their lock and saves the result durably (nothing is saved when it throws). */
export async function updateDelegated<T>(stateDir: string, change: (data: DelegatedOrders) => T | Promise<T>): Promise<T> {
  const io = { read: () => readDelegated(stateDir), path: delegatedPath(stateDir), render: renderDelegated, what: "delegated orders" };
  return updateLocked(stateDir, "orders", io, change);
}

/** The file to publish as coordination/orders/<machine>.json, or undefined when this machine never delegated anything. */
export async function ownOrdersFile(stateDir: string, machine: string): Promise<{ path: string; content: string } | undefined> {
  const text = await readText(stateDir);
  if (text === undefined) return undefined;
  return { path: delegatedOrdersPath(machine), content: renderDelegated(parse(delegatedPath(stateDir), text)) };
}
