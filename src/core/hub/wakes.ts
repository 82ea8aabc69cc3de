// Wakes: a publish that carries something for a named machine (a new message
// to it, a delegated order for it) also moves that machine's wake ref,
// refs/coord-wake/<machine>, in the same atomic push. The recipient's look asks
// for that ref beside the two branches, and a move of its own wake is synced
// at once; a move of the machines' branch that wakes nobody here (another
// machine's claim, result, heartbeat) is synced within a longer spread, so that
// a fleet of 30 does not fetch together at every message and slow the one
// machine it was for. Pure: which machines a publish wakes, and how soon a look's
// move is synced (docs/protocol.md, "Wakes").
import { BROADCAST, channelOfPath, parseMessageFile } from "../messages/messages.js";
import { machineNameProblem } from "../files/names.js";
import { delegatedOrdersPath } from "../trust/ownership.js";
import { isRecord } from "../types.js";
import { MOVE_SPREAD_PER_MACHINE_MS, moveSpreadOf } from "./reads.js";

/** Where a machine's wake ref lives on the hub: refs/coord-wake/<machine>. */
export const WAKE_REF_PREFIX = "refs/coord-wake/";

/** The wake ref of `machine` (a valid machine name: the caller checked). */
export function wakeRefOf(machine: string): string {
  return `${WAKE_REF_PREFIX}${machine}`;
}

/** The most a machine waits to sync a move that woke nobody here (ms), once its fleet wakes: a move's spread stretched. */
export const MAX_OTHERS_SPREAD_MS = 10_000;

/**
 * How long (ms) after a look a machine may start its sync of a move, at random, in a fleet of `machines`:
 * - `addressed`: its own wake moved with it, the move is for it: at once (nobody else syncs it as promptly);
 * - `othersOnly`: only the machines' branch moved, and this machine is woken on this hub (its wake ref exists, so
 *   the fleet's publishes wake): a quarter second for each other machine, at most MAX_OTHERS_SPREAD_MS;
 * - anything else (a person's push, a fleet that does not wake): moveSpreadOf's, at most 2 s.
 */
export function syncSpreadOf(machines: number, look: { addressed?: boolean; othersOnly?: boolean }): number {
  if (look.addressed) return 0;
  if (look.othersOnly) return Math.min(MAX_OTHERS_SPREAD_MS, MOVE_SPREAD_PER_MACHINE_MS * Math.max(0, Math.floor(machines) - 1));
  return moveSpreadOf(machines);
}

/**
 * What one look saw, for the loop: whether the hub moved since this machine last saw it (`tip` against `tracked`,
 * each a joinTip `<main>+<coord>`), whether its own wake moved too (`wake` against `lastWake`: unknown before the
 * daemon's first look counts as moved, so that a doubt syncs promptly), and whether only the machines' branch moved
 * while this machine is woken on this hub.
 */
export function lookOf(seen: { tip?: string; wake?: string }, tracked: string | undefined, lastWake: string | undefined): { moved: boolean; addressed?: true; othersOnly?: true } {
  if (seen.tip === undefined || seen.tip === tracked) return { moved: false };
  if (seen.wake !== undefined && seen.wake !== lastWake) return { moved: true, addressed: true };
  const people = (t: string | undefined) => t?.split("+")[0];
  if (seen.wake !== undefined && tracked !== undefined && people(seen.tip) === people(tracked)) return { moved: true, othersOnly: true };
  return { moved: true };
}

/** The `next` of a message file's text, or undefined when it is none (a file that does not parse wakes nobody). */
function nextOf(text: string | null | undefined, path: string): number | undefined {
  if (typeof text !== "string") return undefined;
  try {
    return parseMessageFile(text, path).next;
  } catch {
    return undefined;
  }
}

/** The named machines an order entry (as JSON) is for: a name, or a list of names; never ALL, ANY or a bad name. */
function namedTargets(entry: unknown): string[] {
  if (!isRecord(entry)) return [];
  const to = entry.to;
  const names = typeof to === "string" ? [to] : Array.isArray(to) ? to.filter((t): t is string => typeof t === "string") : [];
  return names.filter((n) => n !== "ALL" && n !== "ANY" && machineNameProblem(n) === undefined);
}

/** A delegated orders file's entries by id (leniently: anything odd is no entry). */
function ordersById(text: string | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof text !== "string") return out;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return out;
  }
  const orders = isRecord(data) && Array.isArray(data.orders) ? data.orders : [];
  for (const o of orders) if (isRecord(o) && typeof o.id === "string") out.set(o.id, JSON.stringify(o));
  return out;
}

/**
 * The machines a publish of `me` wakes: the recipient of each of its message files that sends a new message (its
 * `next` grew against the hub's `before`), and each machine named by an order of its delegated file that is new or
 * changed. A broadcast (ALL) and an ANY order wake nobody: every machine's move spread picks them up. Sorted, each
 * once, never `me`.
 */
export function wakesOf(me: string, changes: ReadonlyMap<string, string | null>, before: ReadonlyMap<string, string>): string[] {
  const wakes = new Set<string>();
  for (const [path, text] of changes) {
    const channel = channelOfPath(path);
    if (channel) {
      if (channel.from !== me || channel.to === BROADCAST) continue;
      const next = nextOf(text, path);
      if (next !== undefined && next > (nextOf(before.get(path), path) ?? 1)) wakes.add(channel.to);
      continue;
    }
    if (path !== delegatedOrdersPath(me)) continue;
    const old = ordersById(before.get(path));
    for (const [id, entry] of ordersById(text)) if (old.get(id) !== entry) for (const name of namedTargets(JSON.parse(entry))) wakes.add(name);
  }
  wakes.delete(me);
  return [...wakes].sort();
}
