// Wakes: a publish that carries something for a named machine (a new message
// to it, a delegated order for it, a result its order waits on) also moves that
// machine's wake ref, refs/coord-wake/<machine>, in the same atomic push;
// something for every machine (a broadcast, an ANY order) moves the fleet's,
// refs/coord-wake/ALL. A daemon's look asks for both refs beside the two
// branches: a move of its own wake is synced at once, one of the fleet's within
// the move's spread; a calm machine leaves a move of the machines' branch that
// wakes nobody here (another machine's claim, result, heartbeat) for up to a
// minute, so that a fleet of 30 does not fetch together at every message and
// slow the one machine it was for. Pure: whom a publish wakes, what a look saw,
// and whether a machine is calm (docs/protocol.md, "Wakes").
import { BROADCAST } from "../messages/messages.js";
import { computerPath, machineNameProblem } from "../files/names.js";
import { isRecord } from "../types.js";
import { EVERYONE, type WakesSeen } from "./wake-refs.js";

export { EVERYONE, WAKE_REF_PREFIX, type WakesSeen, wakeRefOf } from "./wake-refs.js";

/**
 * Whether a machine whose last sync left a quiet stamp may leave other machines' moves alone for a while (the
 * daemon's QUIET_OTHERS_MS): nothing waits in its stamp (`waiting`: no order it holds back for a reason), and no ANY
 * order is open in the fleet (`orders` not cancelled and completed by no machine, as every machine's task reports
 * say; one failed for good stays open, which only costs the old spread): a drain's idle machines take the work the
 * busy ones leave, and see it in others' moves. What is for it wakes it meanwhile.
 */
export function calm(
  waiting: number,
  orders: readonly { id: string; to: unknown; cancelled?: boolean }[],
  reports: Iterable<Readonly<Record<string, { state: string }>>>,
): boolean {
  if (waiting > 0) return false;
  const open = new Set(orders.filter((o) => o.to === "ANY" && !o.cancelled).map((o) => o.id));
  if (!open.size) return true;
  for (const tasks of reports) for (const [id, t] of Object.entries(tasks)) if (t.state === "completed") open.delete(id);
  return open.size === 0;
}

/**
 * What one look saw, for the loop: whether the hub moved since this machine last saw it (`tip` against `tracked`,
 * each a joinTip `<main>+<coord>`), whether its own wake moved too (`wake` against `last`'s: unknown before the
 * daemon's first look counts as moved, so that a doubt syncs promptly), and whether only the machines' branch moved,
 * waking neither this machine nor the fleet, while this machine is woken on this hub. The fleet's wake moved: a move
 * as any other (spread over moveSpreadOf: every machine syncs it).
 */
export function lookOf(seen: { tip?: string } & WakesSeen, tracked: string | undefined, last: WakesSeen): { moved: boolean; addressed?: true; othersOnly?: true } {
  if (seen.tip === undefined || seen.tip === tracked) return { moved: false };
  if (seen.wake !== undefined && seen.wake !== last.wake) return { moved: true, addressed: true };
  if (seen.everyone !== last.everyone) return { moved: true };
  const people = (t: string | undefined) => t?.split("+")[0];
  if (seen.wake !== undefined && tracked !== undefined && people(seen.tip) === people(tracked)) return { moved: true, othersOnly: true };
  return { moved: true };
}

/** The wakes an order (its `to`) calls for: each machine it names, or EVERYONE for ALL and ANY; nothing for a bad name. */
export function wakesForOrder(to: unknown): string[] {
  if (to === "ALL" || to === "ANY") return [EVERYONE];
  const names = typeof to === "string" ? [to] : Array.isArray(to) ? to.filter((t): t is string => typeof t === "string") : [];
  return names.filter((n) => machineNameProblem(n) === undefined);
}

/** A delegated orders file's entries by id, each as its JSON and its `to` (leniently: anything odd is no entry). */
function ordersById(text: string | null | undefined): Map<string, { json: string; to: unknown }> {
  const out = new Map<string, { json: string; to: unknown }>();
  if (typeof text !== "string") return out;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return out;
  }
  const orders = isRecord(data) && Array.isArray(data.orders) ? data.orders : [];
  for (const o of orders) if (isRecord(o) && typeof o.id === "string") out.set(o.id, { json: JSON.stringify(o), to: o.to });
  return out;
}

/**
 * The wakes of a publish of machine `me` (its name, and the path of its delegated orders):
 * - the recipient of each of its message files (`sent.own`, as parsed) whose `next` grew against the hub's copy
 *   (`sent.hub`, the hub's message files as read): a new message; a broadcast wakes EVERYONE;
 * - the machines of each order of its delegated file that `changes` makes new or changed against `before` (the hub's
 *   files): wakesForOrder;
 * - `waiting`: the machines of orders that wait on a result it publishes (fileWakes);
 * - EVERYONE when its machine file is new on the hub (it registers: the hub's files, `before`, have none at its
 *   path), since every machine's sends check a recipient against the machines its last sync verified
 *   (known-fleet.json). A file there that others cannot read or believe (broken, a key they do not pin) is no news.
 * Sorted, each once, never `me`.
 */
export function wakesOf(
  me: { name: string; delegated: string },
  sent: { own: readonly { to: string; next: number }[]; hub: readonly { from: string; to: string; next: number }[] },
  changes: ReadonlyMap<string, string | null>,
  before: ReadonlyMap<string, string>,
  waiting: readonly string[] = [],
): string[] {
  const wakes = new Set<string>(waiting);
  for (const f of sent.own) {
    const onHub = sent.hub.find((h) => h.from === me.name && h.to === f.to)?.next ?? 1;
    if (f.next > onHub) wakes.add(f.to === BROADCAST ? EVERYONE : f.to);
  }
  if (changes.has(me.delegated)) {
    const old = ordersById(before.get(me.delegated));
    for (const [id, entry] of ordersById(changes.get(me.delegated))) if (old.get(id)?.json !== entry.json) for (const name of wakesForOrder(entry.to)) wakes.add(name);
  }
  const computer = computerPath(me.name);
  if (changes.get(computer) && !before.has(computer)) wakes.add(EVERYONE);
  wakes.delete(me.name);
  return [...wakes].sort();
}

/** What of a machine's file wakes others (core/fleet/computer.ts): its tasks' states, and its reservations. */
export interface FileWaking {
  tasks: Readonly<Record<string, { state: string }>>;
  reservations?: unknown;
}

/**
 * The wakes a change of this machine's file calls for, from the hub's `before` to `now`:
 * - a result another order waits on (`after`: completed now, not before): that order's machines (wakesForOrder);
 * - an ANY order's claim given up (its task no longer assigned or in progress and not completed, or gone from the
 *   file): EVERYONE, since another machine may take it;
 * - its reservations changed: EVERYONE, whose checks of paths read the last fetched state.
 */
export function fileWakes(before: FileWaking | undefined, now: FileWaking, orders: readonly { id: string; to: unknown; after?: readonly string[] }[]): string[] {
  const wakes = new Set<string>();
  const was = (id: string) => (before && Object.hasOwn(before.tasks, id) ? before.tasks[id]!.state : undefined);
  const done = new Set<string>();
  const any = new Set(orders.filter((o) => o.to === "ANY").map((o) => o.id));
  const active = (state: string | undefined) => state === "assigned" || state === "in_progress";
  for (const [id, t] of Object.entries(now.tasks)) {
    const then = was(id);
    if (t.state === "completed" && then !== "completed") done.add(id);
    if (any.has(id) && active(then) && !active(t.state) && t.state !== "completed") wakes.add(EVERYONE);
  }
  // A claim of an ANY order its file no longer shows at all is given up too.
  for (const [id, t] of Object.entries(before?.tasks ?? {})) if (any.has(id) && active(t.state) && !Object.hasOwn(now.tasks, id)) wakes.add(EVERYONE);
  for (const o of orders) if (o.after?.some((a) => done.has(a))) for (const w of wakesForOrder(o.to)) wakes.add(w);
  if (JSON.stringify(before?.reservations ?? []) !== JSON.stringify(now.reservations ?? [])) wakes.add(EVERYONE);
  return [...wakes];
}
