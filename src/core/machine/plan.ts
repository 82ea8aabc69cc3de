// What a machine should do now: a pure function of the orders, the fleet's
// status (derived with this machine's own journal in it), who it is, what its
// journal says it has done, and the time.
import { backoffDelay } from "../time/backoff.js";
import { claimHolder, MAX_LEASE, type Observed, takeoverAttempt } from "../work/claims.js";
import { ordersTargets } from "../orders/orders.js";
import { dealShares, preferredMachine, rankForMachine } from "../work/rank.js";
import { isOffline, MISSED_HEARTBEATS } from "../fleet/presence.js";
import { dependencyBlock, lackingReason, missingCapabilities } from "../status/status.js";
import { firstChange, heardWithin, heardWithinUntil, type Observation } from "../time/clock.js";
import { compareRuns, dueSlot, upcomingSlot } from "../time/every.js";
import { failedForGood, isActive } from "../work/task-life.js";
import { own, PRIORITIES } from "../types.js";
import type { Order } from "../orders/orders-schema.js";
import type { TaskReport } from "../fleet/computer.js";
import type { StatusJson } from "../fleet/status-types.js";

export { claimHolder, MAX_LEASE } from "../work/claims.js";

export interface PlanInput {
  orders: Order[];
  machine: string;
  /** Every registered machine name (for ALL). */
  machines: string[];
  /** The journal: order id → what this machine last did for it. */
  journal: Record<string, TaskReport>;
  /** The fleet as it will be published: orders' states, machines' last heartbeats. */
  status: StatusJson;
  capabilities: Record<string, string>;
  now: Date;
  /** Tasks this machine may run at once ("to: ANY" claims fill what named tasks leave free). */
  maxParallel: number;
  /** Seconds before the first retry of a failed task; doubled for each further one. */
  retryBackoff: number;
  /** Seconds a claim holds without a heartbeat from its holder. */
  lease: number;
  /** What this machine saw of the others' lastSeen, and when by its own clock: a claim holds a lease after its last change was seen. */
  observed?: Observed;
  /**
   * Only the ANY orders this machine is the preferred one for (core/work/rank.ts)
   * among the online machines that may take them: a sync draining more work
   * takes its own share and leaves the others theirs (each takes what is left
   * at its next sync).
   */
  ownShareOnly?: boolean;
  /**
   * With ownShareOnly: also the orders whose preferred machine is at work
   * already (a task running or claimed: the rest of its share would wait for it),
   * so a machine done with its own share helps; a machine not yet at work
   * (between ticks, starting) keeps its share.
   */
  orBusyShares?: boolean;
}

export interface Claim {
  order: Order;
  /** The attempt it will be: attempts count across the machines that tried it. */
  attempt: number;
  /** The machine whose expired claim this takes over. */
  takeoverFrom?: string;
}

export interface Plan {
  /** Tasks addressed to this machine to start now, highest priority first. */
  run: Order[];
  /** "to: ANY" orders to claim (push the claim first, then run). */
  claim: Claim[];
  /** Orders for this machine that will not start now, with why. */
  waiting: { order: Order; reason: string }[];
}

const rank = (o: Order) => PRIORITIES.indexOf(o.priority);
const byPriority = (a: Order, b: Order) => rank(b) - rank(a); // stable: file order among equals

/** The longest wait before a retry: the doubling stops there (and a date stays a date). */
export const MAX_RETRY_DELAY = 86_400;

/** The latest instant a Date holds; later sums become Invalid Date, which no sentence can print. */
const MAX_TIME = 8.64e15;

/** When a failed task may run again, or undefined when it may not (no retries left). */
export function retryAt(order: Order, done: TaskReport, backoff: number): Date | undefined {
  if (failedForGood(done.attempts, order.retries)) return undefined;
  const finished = Date.parse(done.finishedAt ?? done.startedAt ?? "");
  // A task cut off by a crash did not fail on its own: it may run again at once.
  const delay = done.reason === "interrupted" ? 0 : backoffDelay(done.attempts, { baseMs: backoff * 1000, maxMs: MAX_RETRY_DELAY * 1000 });
  return new Date(Math.min(MAX_TIME, (Number.isFinite(finished) ? finished : 0) + delay));
}

/** Whether a failed task may run again at `now`: it has retries left and its retryAt has come. */
export function retryDue(order: Order, done: TaskReport, backoff: number, now: Date): boolean {
  const at = retryAt(order, done, backoff);
  return at !== undefined && at.getTime() <= now.getTime();
}

/** When retryDue's answer next changes after `now` (ms): the retry falls due; undefined when it is due already or never is. Its deadline. */
export function retryDueAt(order: Order, done: TaskReport, backoff: number, now: Date): number | undefined {
  const at = retryAt(order, done, backoff);
  return at ? firstChange([at.getTime()], now, (t) => retryDue(order, done, backoff, t)) : undefined;
}

/** Whether an order waits for its `notBefore` at `now`. */
export function waitsForNotBefore(order: Pick<Order, "notBefore">, now: Date): boolean {
  return !!order.notBefore && Date.parse(order.notBefore) > now.getTime();
}

/** When waitsForNotBefore's answer next changes after `now` (ms): its notBefore; undefined when it waits for none. Its deadline. */
export function notBeforeEndsAt(order: Pick<Order, "notBefore">, now: Date): number | undefined {
  return firstChange([Date.parse(order.notBefore ?? "")], now, (t) => waitsForNotBefore(order, t));
}

/**
 * Whether this machine's own record says the task is still to do; a reason when it must wait. `order` is the run
 * to make: for a recurring order, with the slot due (a slot is a new generation, as a bumped rev is).
 */
function ownRecord(order: Order, done: TaskReport | undefined, input: PlanInput): "todo" | "skip" | { wait: string } {
  if (!done) return "todo";
  const newer = compareRuns(done, order);
  // A slot's run does not stop the previous slot's, nor run beside it: it waits for it to end.
  if (newer < 0) return done.rev === order.rev && done.state === "in_progress" ? { wait: `the run of ${done.slot ?? "the previous time"} still runs` } : "todo";
  if (newer > 0) return "skip"; // a newer run ran already; never go back
  if (done.state === "assigned") return "todo"; // claimed, not started: claim again, then run
  if (done.state !== "failed") return "skip";
  const at = retryAt(order, done, input.retryBackoff);
  if (!at) return "skip";
  return retryDue(order, done, input.retryBackoff, input.now) ? "todo" : { wait: `retry ${done.attempts} of ${order.retries} at ${at.toISOString()}` };
}

/** Why this machine may not start `order` now (cancelled, lacks capabilities, dependencies, notBefore). */
function gate(order: Order, input: PlanInput): string | undefined {
  if (order.cancelled) return "cancelled";
  const missing = missingCapabilities(order, input.capabilities);
  if (missing.length) return lackingReason("this machine", order, input.capabilities, missing);
  // Every attempt, retries too, waits for the dependencies as they are now.
  const block = dependencyBlock(order, (id) => own(input.status.orders, id));
  if (block) return block.reason;
  if (waitsForNotBefore(order, input.now)) return `not before ${order.notBefore}`;
  return undefined;
}

export function plan(input: PlanInput): Plan {
  const run: Order[] = [];
  const waiting: Plan["waiting"] = [];
  const anyCandidates: Claim[] = [];
  /** Claims of this machine journaled and not started (a crash, a lost push): taken up again before new ones. */
  const resumed = new Set<string>();
  for (const written of input.orders) {
    const isAny = written.to === "ANY";
    if (!isAny && !ordersTargets(written, input.machines).includes(input.machine)) continue;
    // A recurring order's run is the latest slot at or before now (a missed one runs once, the latest).
    const slot = dueSlot(written, input.now);
    if (written.every && !slot) {
      if (!written.cancelled) waiting.push({ order: written, reason: nextRunReason(written, input.now) });
      continue;
    }
    const order: Order = slot ? { ...written, slot } : written;
    const done = own(input.journal, order.id);
    const record = ownRecord(order, done, input);
    if (record === "skip") continue;
    if (typeof record === "object") {
      waiting.push({ order, reason: record.wait });
      continue;
    }
    // An ALL order is for the machines that have what it requires: the others are not addressed.
    if (order.to === "ALL" && missingCapabilities(order, input.capabilities).length) continue;
    const why = gate(order, input);
    if (why) {
      if (!isAny || why !== "cancelled") waiting.push({ order, reason: why });
      continue;
    }
    if (!isAny) {
      run.push(order);
      continue;
    }
    const first = preferredFirst(order, input);
    if (first) {
      waiting.push({ order, reason: `${first} takes it first (prefer); this machine takes over when it is gone` });
      continue;
    }
    let status = own(input.status.orders, order.id);
    let holder = claimHolder(order, input.machine, input.status, input.now, input.lease, input.observed);
    if (slot) {
      // The fleet's status of a recurring order is of the latest slot reported: this slot's, or an older one's.
      const reported = status?.slot;
      if (reported !== undefined && reported > slot) continue; // a later slot ran already (a clock ahead of this one)
      if (reported !== slot) {
        if (holder.live) {
          waiting.push({ order, reason: `the run of ${reported ?? "the previous time"} still runs on ${holder.live}` });
          continue;
        }
        status = undefined; // nobody has claimed this slot yet
        holder = {};
      } else if (slotSettled(order, status)) continue;
    }
    if (status?.done) continue; // completed elsewhere, or failed for good
    if (holder.live) {
      waiting.push({ order, reason: `claimed by ${holder.live}` });
      continue;
    }
    // Attempts and the retry backoff count across every machine that tried it.
    const tries = Object.values(status?.machines ?? {}).filter((m) => m.state === "failed");
    const last = tries.sort((a, b) => b.attempts - a.attempts)[0];
    // My claim not started yet is claimed again as it was, unless that attempt ran elsewhere meanwhile
    // (the claim was journaled, never pushed): then it is a new attempt, after the backoff.
    const mineAssigned = done !== undefined && compareRuns(done, order) === 0 && done.state === "assigned" && !(last && last.attempts >= done.attempts);
    if (last && !mineAssigned) {
      const tried: TaskReport = { rev: order.rev, state: "failed", attempts: last.attempts, ...(last.finishedAt ? { finishedAt: last.finishedAt } : {}) };
      const at = retryAt(order, tried, input.retryBackoff);
      if (!at) continue;
      if (!retryDue(order, tried, input.retryBackoff, input.now)) {
        waiting.push({ order, reason: `retry ${last.attempts} of ${order.retries} at ${at.toISOString()}` });
        continue;
      }
    }
    // A takeover goes on with the attempt the silent holder had (it never ended).
    const taken = status ? takeoverAttempt(input.status, order, holder.expired) : 0;
    const attempt = mineAssigned
      ? done.attempts
      : Math.max(done?.state === "assigned" && compareRuns(done, order) === 0 ? 1 : nextAttempt(order, done), (last?.attempts ?? 0) + 1, taken);
    if (mineAssigned) resumed.add(order.id);
    anyCandidates.push({ order, attempt, ...(holder.expired ? { takeoverFrom: holder.expired } : {}) });
  }
  run.sort(byPriority);
  const others = contenders(input);
  const busy = input.orBusyShares ? busyMachines(input.status) : new Set<string>();
  const shares = anyCandidates.length ? fleetShares(input, others) : new Map<string, string>();
  const shareOf = (id: string) => shares.get(id) ?? preferredMachine(id, [input.machine, ...others({ id })]);
  const mayTake = (id: string) => {
    if (!input.ownShareOnly) return true;
    const preferred = shareOf(id);
    return preferred === input.machine || (preferred !== undefined && busy.has(preferred));
  };
  const fresh = anyCandidates.filter((c) => !resumed.has(c.order.id) && mayTake(c.order.id));
  const claims = [...anyCandidates.filter((c) => resumed.has(c.order.id)), ...rankForMachine(fresh, input.machine, others, shareOf)];
  const free = Math.max(0, input.maxParallel - run.length);
  for (const c of claims.slice(free)) waiting.push({ order: c.order, reason: "no free slot on this machine (maxParallel)" });
  return { run, claim: claims.slice(0, free), waiting };
}

/** A recurring ANY order's slot is over when a machine completed it, or it failed with no retry left. */
function slotSettled(order: Order, status: StatusJson["orders"][string] | undefined): boolean {
  const reports = Object.values(status?.machines ?? {});
  if (reports.some((m) => m.state === "completed")) return true;
  const attempts = Math.max(0, ...reports.filter((m) => m.state === "failed").map((m) => m.attempts));
  return attempts > 0 && failedForGood(attempts, order.retries);
}

/** Why a recurring order waits for its first run: the first slot from notBefore. */
function nextRunReason(order: Order, now: Date): string {
  const next = upcomingSlot(order, now);
  return next ? `first run at ${next}` : `its schedule ${order.every} has no time in the next 8 years`;
}

/**
 * The fleet's ANY orders dealt among the machines that may take them (core/work/rank.ts dealShares): the open ones
 * that nobody holds, by what each machine holds now (assigned or in progress, as the fleet's files say). Every
 * machine deals alike from the same tip: an order claimed meanwhile, or a machine's own claim not pushed yet, moves
 * a share or two until the next tip.
 */
function fleetShares(input: PlanInput, others: (order: Pick<Order, "id">) => string[]): Map<string, string> {
  const held = new Map<string, number>();
  const free: { id: string; contenders: string[] }[] = [];
  for (const order of input.orders) {
    if (order.to !== "ANY" || order.cancelled) continue;
    const status = own(input.status.orders, order.id);
    if (status?.done) continue;
    const holders = Object.entries(status?.machines ?? {}).flatMap(([name, m]) => (isActive(m.state) ? [name] : []));
    for (const name of holders) held.set(name, (held.get(name) ?? 0) + 1);
    if (!holders.length) free.push({ id: order.id, contenders: [input.machine, ...others(order)] });
  }
  return dealShares(free, held);
}

/** The machines at work: running a task, or holding a claim they are about to run (as the fleet's files say). */
function busyMachines(status: PlanInput["status"]): Set<string> {
  const busy = new Set(Object.entries(status.machines).flatMap(([name, m]) => (m.state === "working" ? [name] : [])));
  for (const o of Object.values(status.orders)) for (const [name, m] of Object.entries(o.machines ?? {})) if (isActive(m.state)) busy.add(name);
  return busy;
}

/**
 * For an ANY order with `prefer`: a machine listed before this one (for a
 * machine not listed, any listed one) that is there to take it: registered,
 * heard of within `failoverAfter` (default: 3 heartbeats) by its word or this
 * machine's observation, and with what the order requires. Undefined: this
 * machine may claim it.
 */
function preferredFirst(order: Order, input: PlanInput): string | undefined {
  if (!order.prefer) return undefined;
  const mine = order.prefer.indexOf(input.machine);
  const before = mine === -1 ? order.prefer : order.prefer.slice(0, mine);
  return before.find((name) => {
    const m = own(input.status.machines, name);
    if (!m || missingCapabilities(order, m.capabilities).length) return false;
    return preferredHeard(order, m, input.now, input.observed?.get(name));
  });
}

/** Whether a machine an ANY order prefers (`m`, its file) counts as there at `now`: heard of within preferWindow, by its word or this machine's observation. */
export function preferredHeard(order: Pick<Order, "failoverAfter">, m: { lastSeen: string; heartbeat: number }, now: Date, observed?: Observation): boolean {
  return heardWithin(m.lastSeen, preferWindow(order, m.heartbeat), now, observed);
}

/** When preferredHeard's answer next changes after `now` (ms): the preferred machine counts as gone (or back); its deadline (clock.ts heardWithinUntil). */
export function preferredHeardUntil(order: Pick<Order, "failoverAfter">, m: { lastSeen: string; heartbeat: number }, now: Date, observed?: Observation): number | undefined {
  return heardWithinUntil(m.lastSeen, preferWindow(order, m.heartbeat), now, observed);
}

/** How long (s) a machine an ANY order prefers may go unheard before the next one takes over: its failoverAfter, or 3 heartbeats. */
export function preferWindow(order: Pick<Order, "failoverAfter">, heartbeat: number): number {
  return order.failoverAfter ?? MISSED_HEARTBEATS * Math.min(heartbeat, MAX_LEASE);
}

/** The other machines that may take an ANY order now, as the fleet's files say: online, with what it requires. */
function contenders(input: PlanInput): (order: Pick<Order, "id">) => string[] {
  const online = Object.entries(input.status.machines).filter(([name, m]) => name !== input.machine && !isOffline(m, input.now));
  const byId = new Map(input.orders.map((o) => [o.id, o]));
  return ({ id }) => {
    const order = byId.get(id);
    return online.filter(([, m]) => !order || missingCapabilities(order, m.capabilities).length === 0).map(([name]) => name);
  };
}

/** The attempt number the next run of `order` (with its slot, for a recurring order) will be. */
export function nextAttempt(order: Order, done: TaskReport | undefined): number {
  if (!done || compareRuns(done, order) !== 0) return 1;
  return done.state === "assigned" ? done.attempts : done.attempts + 1;
}
