// Claims on "to: ANY" orders and their leases: who holds one, when it
// expired, what a takeover looks like, when a holder must renew it and when
// it must stop by itself. Pure: `now` is passed in, no clock is read here.
//
// A claim is live while its holder's lastSeen (as the reader may believe it,
// clock.ts heardAt) is younger than the claim's lease (at most MAX_LEASE), or
// while the reader saw that lastSeen change less than a lease ago by its own
// clock (clock.ts observe): a holder whose clock runs behind keeps its claim.
// A live holder renews it by publishing lastSeen at least every third of the
// lease, looking at the remote at least every quarter; one whose published
// lastSeen is FENCE_FRACTION of a lease old stops the task itself, before
// anyone may take it over, so that two live machines never both run it.
import { firstChange, heardWithin, heardWithinUntil, type Observation } from "../time/clock.js";
import { type Run, sameRun } from "../time/every.js";
import { isActive, type TaskEntry, type TaskEvent } from "./task-life.js";
import { own } from "../types.js";
import type { Order } from "../orders/orders-schema.js";
import type { OrderMachineStatus, StatusJson } from "../fleet/status-types.js";

/** The longest a claim holds without a heartbeat (seconds), whatever lease its holder published. */
export const MAX_LEASE = 86_400;

/** A holder whose published lastSeen is this part of a lease old stops its claimed tasks. */
export const FENCE_FRACTION = 0.8;

/** Parts of a lease: lastSeen is published at least every 1/RENEW_PARTS of it, the remote looked at every 1/LOOK_PARTS. */
export const RENEW_PARTS = 3;
export const LOOK_PARTS = 4;

/** What this reader saw of each machine's lastSeen, and when by its own clock (clock.ts observe). */
export type Observed = ReadonlyMap<string, Observation>;

/**
 * Whether a claim whose holder was last seen at `lastSeen` still holds at
 * `now`: its lastSeen (as believed) is younger than the lease, or the reader
 * saw that very lastSeen appear less than a lease ago (`observed`).
 */
export function leaseLive(lastSeen: string | undefined, lease: number, now: Date, observed?: Observation): boolean {
  return heardWithin(lastSeen, Math.min(lease, MAX_LEASE), now, observed);
}

/** When leaseLive's answer next changes after `now` (ms), or undefined: its deadline (clock.ts heardWithinUntil). */
export function leaseLiveUntil(lastSeen: string | undefined, lease: number, now: Date, observed?: Observation): number | undefined {
  return heardWithinUntil(lastSeen, Math.min(lease, MAX_LEASE), now, observed);
}

/** The leases (s) a machine's claims are judged by (claimHolder): each of its reports' own, and the fleet's `lease` for one without. */
export function claimLeases(tasks: Record<string, { lease?: number }>, lease: number): number[] {
  return [...new Set([lease, ...Object.values(tasks).flatMap((t) => (t.lease !== undefined ? [t.lease] : []))])];
}

/** When a claim of the machine whose file is `holder` next turns expired (or live), at any lease it is judged by (claimLeases): its deadline, or undefined. */
export function claimsLiveUntil(holder: { lastSeen: string; tasks: Record<string, { lease?: number }> }, lease: number, now: Date, observed?: Observation): number | undefined {
  const times = claimLeases(holder.tasks, lease).flatMap((l) => leaseLiveUntil(holder.lastSeen, l, now, observed) ?? []);
  return times.length ? Math.min(...times) : undefined;
}

/** The machine holding a live claim on an ANY order, or the expired holder to take over from. */
export function claimHolder(order: Order, me: string, status: StatusJson, now: Date, lease: number, observed?: Observed): { live?: string; expired?: string } {
  let expired: string | undefined;
  for (const [name, m] of Object.entries(own(status.orders, order.id)?.machines ?? {})) {
    if (name === me || !isActive(m.state)) continue;
    if (leaseLive(own(status.machines, name)?.lastSeen, m.lease ?? lease, now, observed?.get(name))) return { live: name }; // any live claim wins
    expired ??= name;
  }
  return expired ? { expired } : {};
}

/**
 * Whether another machine's report makes `name`'s claim (assigned or
 * in_progress) stale: a later attempt, the same attempt ended elsewhere (it
 * ran while this claim was never pushed), or a takeover from it.
 */
export function superseded(name: string, claim: OrderMachineStatus, reports: [string, OrderMachineStatus][]): boolean {
  return reports.some(([other, m]) => other !== name && (m.attempts > claim.attempts || (m.attempts === claim.attempts && (!isActive(m.state) || m.takeoverFrom === name))));
}

/** Of an ANY order's reports, the machine that holds its claim as the fleet's files say (no clock: derived files are the same everywhere): the latest unsuperseded one. */
export function recordedHolder(reports: [string, OrderMachineStatus][]): string | undefined {
  return reports.filter(([name, m]) => isActive(m.state) && !superseded(name, m, reports)).sort(([, a], [, b]) => ((a.startedAt ?? "") < (b.startedAt ?? "") ? 1 : -1))[0]?.[0];
}

/** A takeover goes on with the attempt the silent holder had (it never ended). */
export function takeoverAttempt(status: StatusJson, order: Order, from: string | undefined): number {
  return from ? (own(own(status.orders, order.id)?.machines, from)?.attempts ?? 0) : 0;
}

/** The journal event of a claim: assigned, with the lease it holds for, and whom it takes over from. */
export function claimEvent(claim: { order: Order; attempt: number; takeoverFrom?: string }, now: Date, lease: number): TaskEvent {
  return {
    kind: "claim",
    rev: claim.order.rev,
    ...(claim.order.slot ? { slot: claim.order.slot } : {}),
    attempt: claim.attempt,
    at: now.toISOString(),
    lease,
    ...(claim.takeoverFrom ? { takeoverFrom: claim.takeoverFrom } : {}),
  };
}

/** Whether a task (a journal entry, or a report as the hub has it) is a claim of this run of `order`, not started yet. */
export function claimOf(task: (Run & { state: string }) | undefined, order: Run): boolean {
  return task?.state === "assigned" && sameRun(task, order);
}

/** Whether this machine holds any claim (journaled with a lease, not ended). */
export function holdsClaims(tasks: Record<string, TaskEntry>): boolean {
  return Object.values(tasks).some((t) => t.lease && isActive(t.state));
}

/** The shortest lease of the claims a machine holds (they are renewed every third of it), or undefined when it holds none. */
export function heldLease(tasks: Record<string, TaskEntry>): number | undefined {
  const leases = Object.values(tasks).flatMap((t) => (t.lease && isActive(t.state) ? [t.lease] : []));
  return leases.length ? Math.min(...leases) : undefined;
}

/** Seconds between looks at the remote while tasks run: checkEvery, and a quarter of the lease while holding claims. */
export function lookEvery(checkEvery: number, lease: number, holding: boolean): number {
  return holding ? Math.min(checkEvery, lease / LOOK_PARTS) : checkEvery;
}

/** Whether lastSeen must go out again although nothing else changed: every heartbeat, a third of the lease while holding claims; a lastSeen in the future at once. */
export function heartbeatDue(lastSeen: string, now: Date, heartbeat: number, holdingLease?: number): boolean {
  const every = holdingLease === undefined ? heartbeat : Math.min(heartbeat, holdingLease / RENEW_PARTS);
  const age = now.getTime() - Date.parse(lastSeen);
  return !(age >= 0 && age < every * 1000);
}

/** When heartbeatDue turns true after `now` (ms): its deadline; undefined when it is due already, or lastSeen is no time. */
export function heartbeatDueAt(lastSeen: string, now: Date, heartbeat: number, holdingLease?: number): number | undefined {
  const every = holdingLease === undefined ? heartbeat : Math.min(heartbeat, holdingLease / RENEW_PARTS);
  const seen = Date.parse(lastSeen);
  return Number.isFinite(seen) ? firstChange([seen + Math.ceil(every * 1000)], now, (at) => heartbeatDue(lastSeen, at, heartbeat, holdingLease)) : undefined;
}

/**
 * Whether a holder must stop its claimed tasks itself: the lastSeen the
 * others judge it by (`published`) is FENCE_FRACTION of a lease old, because
 * it could not publish. Returns how old (seconds), or undefined.
 */
export function mustFence(published: string | undefined, now: Date, lease: number): number | undefined {
  const age = now.getTime() - Date.parse(published ?? "");
  return age > lease * 1000 * FENCE_FRACTION ? age / 1000 : undefined;
}

/**
 * Whether this machine's claim (its journal entry, assigned) is lost on the
 * fleet as read: the order is gone, cancelled or re-revved, another machine
 * holds a live claim, the order is done (completed elsewhere, or failed for
 * good), or another machine ran this attempt meanwhile (the next look plans
 * it again, with the next attempt after its backoff).
 */
export function claimLost(me: string, entry: TaskEntry, order: Order | undefined, status: StatusJson, now: Date, lease: number, observed?: Observed): boolean {
  if (!order || order.cancelled || order.rev !== entry.rev) return true;
  const o = own(status.orders, order.id);
  if (order.every) {
    // A recurring order: the status is of the latest slot reported. A later one than this claim's: lost; an older one: nobody else has this slot.
    if (!entry.slot || (o?.slot !== undefined && o.slot > entry.slot)) return true;
    if (o?.slot !== entry.slot) return order.to === "ANY" && claimHolder(order, me, status, now, lease, observed).live !== undefined;
    if (Object.entries(o.machines).some(([name, m]) => name !== me && m.state === "completed")) return true;
  }
  if (order.to === "ANY" && claimHolder(order, me, status, now, lease, observed).live !== undefined) return true;
  if (o?.done === true) return true;
  return Object.entries(o?.machines ?? {}).some(([name, m]) => name !== me && m.state === "failed" && m.attempts >= entry.attempts);
}

/** Whether another machine took over this machine's running claim (it stops the task); `slot`: the running run's, for a recurring order. */
export function takenOver(order: Order, me: string, status: StatusJson, now: Date, lease: number, observed?: Observed, slot?: string): boolean {
  if (order.every && own(status.orders, order.id)?.slot !== slot) return false; // the status is of another slot than the one running
  return order.to === "ANY" && claimHolder(order, me, status, now, lease, observed).live !== undefined;
}
