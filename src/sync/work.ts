// The work of a sync: the plan on a tip, claims of ANY orders (planned again
// on the fresh tip after a lost claim), tasks run with publishes and checks
// meanwhile, and the drain after work ran.
import { claimsAhead, MAX_PUSHES_PER_MINUTE, shareOf } from "../core/budget/budget.js";
import { claimEvent, claimOf, heldLease, lookEvery, mustFence } from "../core/work/claims.js";
import { describeRun } from "../core/work/task-life.js";
import { plan, type Claim, type Plan } from "../core/machine/plan.js";
import { ORDERS_FILE, type RepoModel } from "../core/repo/repo.js";
import { viewWith } from "../core/machine/publish.js";
import { deriveStatus } from "../core/status/status.js";
import { own } from "../core/types.js";
import { IdentityReclaimed } from "../errors.js";
import { runOne } from "./tasks.js";
import { appendLog } from "../state/logs.js";
import type { HeldLock } from "../state/lock.js";
import { type Cycle, crashPoint, haltNow, lookAtCaps, ownLease } from "./cycle.js";
import { buildComputer, claimsWait, type First, lastRead, publishSerial } from "./push.js";
import type { TipView } from "./view.js";
import { receive } from "./mail.js";
import type { Order } from "../core/orders/orders-schema.js";

/** Rounds of more work one sync takes on after its first (each: claim, with the results so far in the same push, then run). */
const DRAIN_ROUNDS = 20;
/** …and for at most this long (ms) before it publishes and ends, so a long queue does not keep one sync forever. */
const DRAIN_MS = 10 * 60_000;

/**
 * Drain: after work ran, the machine plans again on the tip its last publish
 * read and claims what is free for its slots (its own share first, then what
 * is still free of the shares of machines already working); that claim's push also carries
 * the results so far, so a queue costs one push per task instead of two. It
 * runs what it got, and again, until nothing is left for it (or the bounds).
 * A claim lost to another machine is planned again on the fresh tip as ever.
 * With one slot and short tasks, the next claims are made while a task runs,
 * so that their push (and the retries of a busy hub) overlaps the work: one,
 * or under a push budget as many of its own share as it would run before its
 * bucket earns the next push (core/budget/budget.ts claimsAhead). A claim made ahead
 * and not run (the sync stopped) is this machine's journaled claim, which its
 * next sync takes up first.
 */
export async function drain(c: Cycle, lock: HeldLock, signal?: AbortSignal): Promise<void> {
  const until = Date.now() + DRAIN_MS;
  let ahead: Promise<{ order: Order; attempt: number }[]> | undefined;
  try {
    for (let round = 1; round <= DRAIN_ROUNDS && Date.now() < until; round++) {
      // It plans on the tip its last publish saw (none yet: the next sync plans, on a fresh tip).
      if (signal?.aborted || lock.compromised || c.view.by !== "publish") return;
      const count = c.m.config.maxParallel === 1 ? aheadCount(c) : 0;
      let landed = ahead ? await ahead : [];
      ahead = undefined;
      if (landed.length === 0) landed = await claimNext(c, Math.max(count, c.m.config.maxParallel));
      if (landed.length === 0) return; // named work that came meanwhile waits for the next sync, which reads a fresh tip
      const running = runAll(c, landed, lock, signal);
      if (count && round < DRAIN_ROUNDS) ahead = claimOwnShare(c, new Set(landed.map((t) => t.order.id)), count);
      await running;
    }
  } finally {
    await ahead?.catch(() => []);
  }
}

/**
 * Claims what is free of its own share (the orders another online machine is preferred for are left to it), but
 * `busy`, on the tip read last, at once (the results so far ride along); a rejected push fetches and plans again.
 */
function claimOwnShare(c: Cycle, busy: Set<string>, slots = c.m.config.maxParallel): Promise<{ order: Order; attempt: number }[]> {
  const mine = (model: RepoModel, files: Map<string, string>) =>
    planNow(c, model, files, { slots: slots + busy.size, ownShareOnly: true })
      .claim.filter((cl) => !busy.has(cl.order.id))
      .slice(0, slots);
  const { model, files } = c.view;
  const next = mine(model, files);
  if (next.length === 0) return Promise.resolve([]);
  return claim(c, model, next, lastRead(c), (at) => mine(at.model, at.files));
}

/**
 * The next claims (at most `slots`) of a drain that holds none ahead: its own share first; when that is done, what
 * is still free of the shares of machines already working (busy with theirs: the rest would wait for them), without
 * a sync's fetch and its separate publish between two tasks. The share of a machine not at work yet (between ticks,
 * starting) is left to it, as before: its next sync takes it.
 */
async function claimNext(c: Cycle, slots: number): Promise<{ order: Order; attempt: number }[]> {
  const own = await claimOwnShare(c, new Set(), slots);
  if (own.length) return own;
  const { model, files } = c.view;
  const helping = (model: RepoModel, files: Map<string, string>) => planNow(c, model, files, { slots, ownShareOnly: true, orBusyShares: true }).claim;
  const next = helping(model, files);
  if (next.length === 0) return [];
  return claim(c, model, next, lastRead(c), (at) => helping(at.model, at.files));
}

/** How many orders to claim ahead while one runs (core/budget/budget.ts claimsAhead), by the longest task this sync ran (none ran: none). */
function aheadCount(c: Cycle): number {
  if (c.result.ran.length === 0) return 0;
  const longest = Math.max(
    ...c.result.ran.map((t) => {
      const entry = c.work.journal.entry(t.id);
      return (Date.parse(entry?.finishedAt ?? "") - Date.parse(entry?.startedAt ?? "")) / 1000;
    }),
  );
  return claimsAhead(c.budget.share ?? shareOf(MAX_PUSHES_PER_MINUTE, 1, 0), longest);
}

/** Claim rounds in one sync: a lost claim is planned again on the fresh tip this many times at most. */
const CLAIM_ROUNDS = 8;

/**
 * Claims "to: ANY" orders: the claims are journaled, then pushed, built on a
 * tip that holds no live claim of another machine; if the push is rejected,
 * someone pushed first, and each claim is checked again on the new tip. A
 * claim lost to another machine frees its slot: the machine plans again on
 * the tip it just read (`replan`, what is free there that it did not try in
 * this sync) and claims the next order, until its slots are full or nothing
 * is left. Returns the claims that landed, to run. A machine whose push budget is spent (`model`: the fleet as
 * planned on) claims nothing now (claimsWait): others may take the orders.
 */
export async function claim(c: Cycle, model: RepoModel, claims: Claim[], first: First, replan: (at: TipView) => Claim[]): Promise<{ order: Order; attempt: number }[]> {
  const landed: { order: Order; attempt: number }[] = [];
  if (claims.length && claimsWait(c, model)) return landed;
  const tried = new Set<string>();
  let todo = claims;
  for (let round = 1; todo.length && round <= CLAIM_ROUNDS; round++) {
    for (const cl of todo) {
      tried.add(cl.order.id);
      c.work.claimed.set(cl.order.id, c.work.journal.entry(cl.order.id));
      await c.work.journal.apply(cl.order.id, claimEvent(cl, c.now(), ownLease(c)));
    }
    crashPoint("claimed");
    const { view: at } = await publishSerial(c, round === 1 ? first : {}, `claims ${todo.map((cl) => cl.order.id).join(", ")}`);
    crashPoint("claim-pushed");
    let lost = 0;
    let withdrawn = 0;
    const shown = at.model.computers.get(c.m.config.name)?.tasks;
    for (const cl of todo) {
      const id = cl.order.id;
      const entry = c.work.journal.entry(id);
      const onHub = own(shown, id);
      if (claimOf(entry, cl.order)) {
        if (claimOf(onHub, cl.order)) {
          landed.push({ order: cl.order, attempt: cl.attempt });
          continue;
        }
        // Its push waits for the fleet's push budget (lost races left its bucket at the floor): not claimed after all.
        withdrawn++;
        await c.work.journal.apply(id, { kind: "drop", previous: c.work.claimed.get(id) });
        c.work.claimed.delete(id);
        c.log(`${id}: claim withdrawn after lost races: the fleet's push budget is spent`);
      } else {
        lost++;
        c.log(`${id}: another machine claimed it first`);
      }
    }
    if (withdrawn) {
      claimsWait(c, at.model); // says until when, and the daemon wakes then
      break;
    }
    if (!lost) break;
    todo = replan(at)
      .filter((cl) => !tried.has(cl.order.id))
      .slice(0, lost);
    if (todo.length) c.log(`claiming ${todo.map((cl) => cl.order.id).join(", ")} instead`);
  }
  return landed;
}

/** What a plan considers: the slots to fill (its free ones by default) and which ANY orders (core/machine/plan.ts). */
export interface PlanScope {
  slots?: number;
  ownShareOnly?: boolean;
  orBusyShares?: boolean;
}

/** The plan, on the fleet as it will look with this machine's journal published. */
export function planNow(c: Cycle, model: RepoModel, files: Map<string, string>, { slots, ownShareOnly = false, orBusyShares = false }: PlanScope = {}): Plan {
  if (!model.orders) return { run: [], claim: [], waiting: [] };
  // Stopped (emergency) or paused: nothing new is claimed or started.
  if (haltNow(c, model)) return { run: [], claim: [], waiting: [] };
  const { config } = c.m;
  const mine = buildComputer(c, model, files.get(ORDERS_FILE));
  const view = viewWith(model, mine, []);
  const planned = plan({
    orders: model.orders.orders,
    machine: config.name,
    machines: view.machineNames,
    journal: c.work.journal.tasks,
    status: deriveStatus(view),
    capabilities: c.work.caps,
    now: c.now(),
    maxParallel: Math.max(0, slots ?? config.maxParallel),
    retryBackoff: config.retryBackoff,
    lease: config.claimLease,
    observed: c.view.observed,
    ownShareOnly,
    orBusyShares,
  });
  if (!c.work.capsStale) return planned;
  // Answers older than 10 minutes serve the publish, never an order that needs them (a CLI uninstalled since, a
  // login expired): such an order waits for the new answers (the cycle asks for them and plans again).
  const held = [...planned.run, ...planned.claim.map((cl) => cl.order)].filter(needsCapabilities);
  if (held.length === 0) return planned;
  return {
    run: planned.run.filter((o) => !needsCapabilities(o)),
    claim: planned.claim.filter((cl) => !needsCapabilities(cl.order)),
    waiting: [...planned.waiting, ...held.map((order) => ({ order, reason: STALE_CAPABILITIES }))],
  };
}

/** Why an order that needs capabilities waits while they are asked again. */
export const STALE_CAPABILITIES = "waiting for this machine's agent CLIs to answer again";

/** Whether an order depends on what the machine found: an agent CLI, or capabilities it requires. */
export function needsCapabilities(o: Order): boolean {
  return o.agent !== undefined || o.requires.length > 0;
}

const wait = (ms: number, wake: { resolve?: () => void }) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    wake.resolve = () => {
      clearTimeout(t);
      resolve();
    };
  });

/**
 * Runs the tasks, at most maxParallel at once. Meanwhile, every checkEvery it
 * looks at the remote and publishes: states and heartbeats go out (renewing
 * claims), and a task whose order was cancelled, or whose claim another
 * machine took over, is stopped. A machine that cannot renew its claims for
 * most of a lease stops those tasks itself, so two live machines never both
 * run an ANY task.
 */
export async function runAll(c: Cycle, tasks: { order: Order; attempt?: number }[], lock: HeldLock, signal?: AbortSignal): Promise<void> {
  const { config } = c.m;
  const queue = [...tasks];
  const active = new Set<Promise<void>>();
  let done = false;
  const wake: { resolve?: () => void } = {};
  const kick: { resolve?: () => void } = {};
  const onAbort = () => {
    queue.length = 0;
    for (const t of c.work.running.values()) t.stop("interrupted: coord was stopped", "failed");
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort(); // stopped before the first task started (a signal during the fetch): none starts
  const holdsClaim = () => [...c.work.running.values(), ...queue].some((t) => t.order.to === "ANY");
  /** A holder whose claim others may soon see as expired stops the task itself, so two live machines never both run it. */
  const fence = () => {
    const age = mustFence(c.said.lastSeen, c.now(), heldLease(c.work.journal.tasks) ?? ownLease(c));
    if (age === undefined) return;
    for (const t of c.work.running.values())
      if (t.order.to === "ANY") t.stop(`could not renew its claim for ${Math.round(age)}s; stopped so that no two machines run it`, "failed");
  };
  const checks = (async () => {
    while (!done) {
      // While it holds claims it looks often enough to renew them well within the lease.
      await wait(lookEvery(config.checkEvery, heldLease(c.work.journal.tasks) ?? ownLease(c), holdsClaim()) * 1000, wake);
      if (done) break;
      try {
        const { view: at } = await publishSerial(c, {}, `coord: ${config.name} working on ${[...c.work.running.keys()].join(", ")}`);
        if (signal?.aborted) continue;
        // Meanwhile the machine keeps working: messages, and new tasks for the free slots.
        await receive(c, at, true);
        const busy = new Set([...c.work.running.keys(), ...queue.map((q) => q.order.id)]);
        // Answers that passed their 10 minutes since the cycle began are asked again: an order that needs them waits.
        await lookAtCaps(c);
        const free = { slots: config.maxParallel - busy.size };
        const todo = planNow(c, at.model, at.files, free);
        const fresh = todo.run.filter((o) => !busy.has(o.id)).map((order) => ({ order }));
        const claims = todo.claim.filter((cl) => !busy.has(cl.order.id));
        if (claims.length)
          fresh.push(...(await claim(c, at.model, claims, {}, (again) => planNow(c, again.model, again.files, free).claim.filter((cl) => !busy.has(cl.order.id)))));
        if (fresh.length) {
          queue.push(...fresh);
          kick.resolve?.();
        }
      } catch (e) {
        c.log(`could not publish while tasks run: ${(e as Error).message}`);
        // Reclaimed by another copy meanwhile: this one stops what it runs, at once.
        if (e instanceof IdentityReclaimed) for (const t of c.work.running.values()) t.stop(e.message, "failed");
      } finally {
        fence();
      }
    }
  })();
  while (queue.length || active.size) {
    while (queue.length && active.size < config.maxParallel) {
      if (lock.compromised) {
        c.result.warnings.push(`the sync lock was lost (${lock.compromised.message}); no further task started`);
        queue.length = 0;
        break;
      }
      const { order, attempt } = queue.shift()!;
      const unwanted = notWanted(c, order);
      if (unwanted) {
        c.log(`${order.id}: not started: ${unwanted}`);
        continue;
      }
      c.log(`${order.id}: running (${describeRun(order)})`);
      const p: Promise<void> = runOne(c.m, c.work.journal, order, c.now, { ...(attempt ? { attempt } : {}), onStart: (t) => c.work.running.set(order.id, t) })
        .then(async (outcome) => {
          c.log(`${order.id}: ${outcome.state}${outcome.reason ? ` (${outcome.reason})` : ""}`);
          c.result.ran.push(outcome);
          const t = own(c.work.journal.tasks, order.id);
          await appendLog(c.m.stateDir, {
            kind: "task",
            machine: config.name,
            id: order.id,
            rev: order.rev,
            ...(order.slot ? { slot: order.slot } : {}),
            attempt: t?.attempts ?? 1,
            state: outcome.state,
            exitCode: outcome.exitCode,
            durationMs: t?.finishedAt && t.startedAt ? Date.parse(t.finishedAt) - Date.parse(t.startedAt) : 0,
            ...(outcome.reason ? { reason: outcome.reason } : {}),
          }).catch(() => {});
        })
        .finally(() => {
          c.work.running.delete(order.id);
          active.delete(p);
        });
      active.add(p);
    }
    if (active.size) await Promise.race([...active, new Promise<void>((r) => (kick.resolve = r))]);
    else if (queue.length === 0) break;
  }
  done = true;
  wake.resolve?.();
  signal?.removeEventListener("abort", onAbort);
  await checks;
}

/** Why a task waiting for a slot must not start after all (cancelled, re-revved, its claim lost), or undefined. */
function notWanted(c: Cycle, order: Order): string | undefined {
  const { model } = c.view;
  const current = model.orders?.orders.find((o) => o.id === order.id);
  if (model.orders && (!current || current.rev !== order.rev)) return "its order was removed or re-revved";
  if (current?.cancelled) return "cancelled in ORDERS.json";
  const entry = c.work.journal.entry(order.id);
  if (order.to === "ANY" && !claimOf(entry, order)) return "another machine holds its claim";
  return undefined;
}
