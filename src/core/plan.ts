// What a machine should do now: a pure function of the orders, the fleet's
// status (derived with this machine's own journal in it), who it is, what its
// journal says it has done, and the time.
import { backoffDelay } from "./backoff.js";
import { claimHolder, MAX_LEASE, type Observed, takeoverAttempt } from "./claims.js";
import { ordersTargets } from "./orders.js";
import { preferredMachine, rankForMachine } from "./rank.js";
import { isOffline, MISSED_HEARTBEATS } from "./presence.js";
import { dependencyBlock, lackingReason, missingCapabilities, type StatusJson } from "./status.js";
import { heardWithin } from "./clock.js";
import { failedForGood } from "./task-life.js";
import { own, PRIORITIES, type Order, type TaskReport } from "./types.js";

export { claimHolder, MAX_LEASE } from "./claims.js";

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
   * Only the ANY orders this machine is the preferred one for (core/rank.ts)
   * among the online machines that may take them: a sync draining more work
   * takes its own share and leaves the others theirs (each takes what is left
   * at its next sync).
   */
  ownShareOnly?: boolean;
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

/** Whether this machine's own record says the task is still to do; a reason when it must wait. */
function ownRecord(order: Order, done: TaskReport | undefined, input: PlanInput): "todo" | "skip" | { wait: string } {
  if (!done || done.rev < order.rev) return "todo";
  if (done.rev > order.rev) return "skip"; // a newer rev ran already; never go back
  if (done.state === "assigned") return "todo"; // claimed, not started: claim again, then run
  if (done.state !== "failed") return "skip";
  const at = retryAt(order, done, input.retryBackoff);
  if (!at) return "skip";
  return at.getTime() > input.now.getTime() ? { wait: `retry ${done.attempts} of ${order.retries} at ${at.toISOString()}` } : "todo";
}

/** Why this machine may not start `order` now (cancelled, lacks capabilities, dependencies, notBefore). */
function gate(order: Order, input: PlanInput): string | undefined {
  if (order.cancelled) return "cancelled";
  const missing = missingCapabilities(order, input.capabilities);
  if (missing.length) return lackingReason("this machine", order, input.capabilities, missing);
  // Every attempt, retries too, waits for the dependencies as they are now.
  const block = dependencyBlock(order, (id) => own(input.status.orders, id));
  if (block) return block.reason;
  if (order.notBefore && Date.parse(order.notBefore) > input.now.getTime()) return `not before ${order.notBefore}`;
  return undefined;
}

export function plan(input: PlanInput): Plan {
  const run: Order[] = [];
  const waiting: Plan["waiting"] = [];
  const anyCandidates: Claim[] = [];
  /** Claims of this machine journaled and not started (a crash, a lost push): taken up again before new ones. */
  const resumed = new Set<string>();
  for (const order of input.orders) {
    const isAny = order.to === "ANY";
    if (!isAny && !ordersTargets(order, input.machines).includes(input.machine)) continue;
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
    const status = own(input.status.orders, order.id);
    if (status?.done) continue; // completed elsewhere, or failed for good
    const holder = claimHolder(order, input.machine, input.status, input.now, input.lease, input.observed);
    if (holder.live) {
      waiting.push({ order, reason: `claimed by ${holder.live}` });
      continue;
    }
    // Attempts and the retry backoff count across every machine that tried it.
    const tries = Object.values(status?.machines ?? {}).filter((m) => m.state === "failed");
    const last = tries.sort((a, b) => b.attempts - a.attempts)[0];
    // My claim not started yet is claimed again as it was, unless that attempt ran elsewhere meanwhile
    // (the claim was journaled, never pushed): then it is a new attempt, after the backoff.
    const mineAssigned = done?.rev === order.rev && done.state === "assigned" && !(last && last.attempts >= done.attempts);
    if (last && !mineAssigned) {
      const at = retryAt(order, { rev: order.rev, state: "failed", attempts: last.attempts, ...(last.finishedAt ? { finishedAt: last.finishedAt } : {}) }, input.retryBackoff);
      if (!at) continue;
      if (at.getTime() > input.now.getTime()) {
        waiting.push({ order, reason: `retry ${last.attempts} of ${order.retries} at ${at.toISOString()}` });
        continue;
      }
    }
    // A takeover goes on with the attempt the silent holder had (it never ended).
    const taken = takeoverAttempt(input.status, order, holder.expired);
    const attempt = mineAssigned ? done.attempts : Math.max(done?.state === "assigned" && done.rev === order.rev ? 1 : nextAttempt(order, done), (last?.attempts ?? 0) + 1, taken);
    if (mineAssigned) resumed.add(order.id);
    anyCandidates.push({ order, attempt, ...(holder.expired ? { takeoverFrom: holder.expired } : {}) });
  }
  run.sort(byPriority);
  const others = contenders(input);
  const fresh = anyCandidates.filter(
    (c) => !resumed.has(c.order.id) && (!input.ownShareOnly || preferredMachine(c.order.id, [input.machine, ...others(c.order)]) === input.machine),
  );
  const claims = [...anyCandidates.filter((c) => resumed.has(c.order.id)), ...rankForMachine(fresh, input.machine, others)];
  const free = Math.max(0, input.maxParallel - run.length);
  for (const c of claims.slice(free)) waiting.push({ order: c.order, reason: "no free slot on this machine (maxParallel)" });
  return { run, claim: claims.slice(0, free), waiting };
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
    const within = order.failoverAfter ?? MISSED_HEARTBEATS * Math.min(m.heartbeat, MAX_LEASE);
    return heardWithin(m.lastSeen, within, input.now, input.observed?.get(name));
  });
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

/** The attempt number the next run of `order` will be. */
export function nextAttempt(order: Order, done: TaskReport | undefined): number {
  if (!done || done.rev !== order.rev) return 1;
  return done.state === "assigned" ? done.attempts : done.attempts + 1;
}
