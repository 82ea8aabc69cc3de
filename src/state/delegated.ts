// The orders this machine delegates to others: the content of its own
// coordination/orders/<name>.json, kept in .git/coord/orders.json in the same
// format plus a seal (core/trust/seal.ts). `coord order add/cancel` change it
// in a short read-modify-write under its own lock (as the mailbox); the sync
// publishes it as it is, without the seal. A file without a seal that holds
// was not written by coord here (an agent's, made in its sandbox's hole, or
// edited by hand): nothing of it is published nor added to. A file from
// before seals is sealed once, when the machine's seal key is made.
import { join } from "node:path";
import { delegatedOrdersPath } from "../core/repo/repo.js";
import { sealHolds, sealOf } from "../core/trust/seal.js";
import { CoordError, EXIT } from "../errors.js";
import { readIfExists, updateLocked, writeDurably } from "./files.js";
import { sealKey } from "./seal.js";

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

/** The bytes kept: the published ones' fields and the seal over the published bytes. */
function renderSealed(data: DelegatedOrders, key: Uint8Array): string {
  return JSON.stringify({ version: data.version, orders: data.orders, seal: sealOf(key, "delegated-orders", renderDelegated(data)) }, null, 2) + "\n";
}

function parse(path: string, text: string): DelegatedOrders & { seal?: unknown } {
  try {
    const data = JSON.parse(text) as DelegatedOrders & { seal?: unknown };
    if (data.version !== 1) throw new Error(`unknown version ${String(data.version)}`);
    if (!Array.isArray(data.orders)) throw new Error("no list of orders");
    return data;
  } catch (e) {
    throw new CoordError(`the delegated orders ${path} cannot be read (${(e as Error).message}); fix the file or move it aside`, EXIT.USAGE);
  }
}

/** The seal key, with a file from before seals sealed as it was (once: when the key is made). */
async function keyFor(stateDir: string): Promise<Buffer> {
  const { key, made } = await sealKey(stateDir);
  if (made) {
    const text = await readIfExists(delegatedPath(stateDir));
    if (text !== undefined) await writeDurably(delegatedPath(stateDir), renderSealed(parse(delegatedPath(stateDir), text), key));
  }
  return key;
}

/**
 * Makes the machine's seal key if there is none yet, sealing the delegated orders kept from before: called before an
 * agent starts behind the shield, so that no agent's file is ever the one adopted.
 */
export async function readySeal(stateDir: string): Promise<void> {
  await keyFor(stateDir);
}

/** The orders in `text`, when coord here sealed them. */
function unsealed(path: string, text: string, key: Uint8Array): DelegatedOrders {
  const data = parse(path, text);
  const orders = { version: data.version, orders: data.orders };
  if (!sealHolds(key, "delegated-orders", renderDelegated(orders), data.seal))
    throw new CoordError(
      `the delegated orders ${path} were not written by coord on this machine (their seal does not hold: an agent's, or edited by hand); nothing of them is published: move the file aside and give the orders again with coord order add`,
      EXIT.FAILURE,
    );
  return orders;
}

/** This machine's delegated orders; no orders when it never delegated any. */
export async function readDelegated(stateDir: string): Promise<DelegatedOrders> {
  const key = await keyFor(stateDir);
  const text = await readIfExists(delegatedPath(stateDir));
  return text === undefined ? { version: 1, orders: [] } : unsealed(delegatedPath(stateDir), text, key);
}

/** Runs `change` on the delegated orders under their lock and saves the result durably, sealed (nothing is saved when it throws). */
export async function updateDelegated<T>(stateDir: string, change: (data: DelegatedOrders) => T | Promise<T>): Promise<T> {
  const key = await keyFor(stateDir);
  const io = { read: () => readDelegated(stateDir), path: delegatedPath(stateDir), render: (d: DelegatedOrders) => renderSealed(d, key), what: "delegated orders" };
  return updateLocked(stateDir, "orders", io, change);
}

/**
 * The file to publish as coordination/orders/<machine>.json, or undefined when this machine never delegated anything,
 * or why it cannot be (a file coord did not seal, or cannot read): the sync says that and goes on without it, the hub
 * keeping what it had.
 */
export async function ownOrdersFile(stateDir: string, machine: string): Promise<{ path: string; content: string } | { problem: string } | undefined> {
  try {
    const key = await keyFor(stateDir);
    const text = await readIfExists(delegatedPath(stateDir));
    if (text === undefined) return undefined;
    return { path: delegatedOrdersPath(machine), content: renderDelegated(unsealed(delegatedPath(stateDir), text, key)) };
  } catch (e) {
    if (e instanceof CoordError) return { problem: e.message };
    throw e;
  }
}
