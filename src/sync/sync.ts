// One sync cycle: lock → fetch → read one commit → plan → run → publish.
import { join } from "node:path";
import { computerFingerprint } from "../core/computer.js";
import { type Observation, observe } from "../core/clock.js";
import { formatProblem } from "../core/orders.js";
import { claimEvent, claimLost, heartbeatDue, holdsClaims, lookEvery, mustFence, takenOver } from "../core/claims.js";
import { owns } from "../core/ownership.js";
import { nextAttempt, plan, type Claim, type Plan } from "../core/plan.js";
import { delegatedOrdersPath, ORDERS_FILE, readModel, STATUS_JSON, STATUS_MD, type RepoModel } from "../core/repo.js";
import { ownComputer, renderChanges, viewWith } from "../core/publish.js";
import { deriveStatus } from "../core/status.js";
import { own, type ComputerFile, type Order, type Problem } from "../core/types.js";
import { CoordError, EXIT, IdentityReclaimed, RemoteUnreachable } from "../errors.js";
import { killOrphan } from "../runner/run.js";
import { type Built, commitOwned, PUSH_BUDGET_MS, publishWithRetry } from "./cas.js";
import { describeCommand, runOne, taskMarker, type RunningTask, type TaskOutcome } from "./tasks.js";
import type { Receipts } from "../core/messages.js";
import { deliver, ownMessageFiles, runMessageHooks } from "./mail.js";
import { updateMailbox } from "../state/mailbox.js";
import { detectCapabilities } from "../state/capabilities.js";
import type { MachineConfig } from "../state/config.js";
import { ownOrdersFile } from "../state/delegated.js";
import { backoffUntil, readHealth, recordFailure, recordSuccess, STALL_AFTER, type Health } from "../state/health.js";
import { Journal, type JournalEntry } from "../state/journal.js";
import { takeSetAside } from "../state/corrupt.js";
import { readObserved, saveObserved } from "../state/observed.js";
import { appendLog, CRON_LOG, rotateOutputFile } from "../state/logs.js";
import { tryLock, type HeldLock } from "../state/lock.js";
import { type Machine, openMachine } from "./machine.js";

export type { TaskOutcome } from "./tasks.js";
export { type Checkout, type GitMachine, type Machine, openMachine } from "./machine.js";

export const READ_PATHS = [ORDERS_FILE, STATUS_JSON, STATUS_MD, "coordination"];

export interface SyncOptions extends CycleOptions {
  /** The machine's checkout. */
  dir: string;
  /** Aborting kills the git command running now (a fetch hung on a silent remote); the sync fails. */
  gitSignal?: AbortSignal;
}

/** How one sync runs, whatever the machine (a checkout on real git, or one on the in-memory hub in tests). */
export interface CycleOptions {
  /** false: publish status but start no task. */
  run?: boolean;
  /** Say what would run; change nothing. */
  dryRun?: boolean;
  now?: () => Date;
  /** Progress lines for people. */
  log?: (line: string) => void;
  /** How long a publish keeps redoing rejected pushes (ms); default 60 s. */
  pushBudgetMs?: number;
  /** A run from cron or the daemon: after failures it backs off (1, 2, 4, at most 5 minutes), probing the hub after an outage. */
  scheduled?: boolean;
  /** Aborting interrupts running tasks cleanly (reported failed, "interrupted"); the sync then publishes and ends. */
  signal?: AbortSignal;
}

export interface SyncResult {
  machine: string;
  skipped: boolean;
  /** Tasks run (or, with dryRun, that would run). */
  ran: TaskOutcome[];
  wouldRun: { id: string; rev: number; attempt: number; command: string; claim?: boolean }[];
  waiting: { id: string; reason: string }[];
  interrupted: string[];
  /** Messages delivered to this machine in this sync (ids), and those its onMessage hook acknowledged. */
  delivered: string[];
  hookAcked: string[];
  ordersProblems: Problem[];
  fileProblems: Problem[];
  /** The commit pushed, if there was anything to say. */
  pushed?: string;
  pushAttempts: number;
  warnings: string[];
  /** Set when a scheduled run skipped because it is backing off after failures. */
  backoff?: { until: string; failures: number; lastError: string };
}

/** Refuses to act as a machine whose name another identity owns, or as a copy of an identity reclaimed since. */
export function checkIdentity(model: RepoModel, config: MachineConfig): void {
  const theirs = model.computers.get(config.name);
  const newer = theirs?.uuid === config.uuid ? theirs.identity : undefined;
  if (newer && newer.epoch > config.epoch)
    throw new IdentityReclaimed(
      `this identity (${config.name}) was reclaimed on ${newer.host} at ${newer.at} (coord init --reclaim there); this copy no longer claims or runs anything: ` +
        `remove its schedule (coord cron uninstall, coord daemon stop), or take the identity back with coord init --reclaim here`,
    );
  if (theirs && theirs.uuid !== config.uuid)
    throw new CoordError(
      `the machine name "${config.name}" is already owned by another machine (uuid ${theirs.uuid}, last seen ${theirs.lastSeen}); ` +
        `choose another name with coord init --name, or, if that machine is this one reinstalled, run coord init --reclaim`,
      EXIT.USAGE,
    );
}

/**
 * Fault injection for the crash tests: COORD_TEST_CRASH=<point> makes coord
 * kill itself with SIGKILL there, as a power cut would.
 */
export function crashPoint(point: string): void {
  if (process.env.COORD_TEST_CRASH === point) process.kill(process.pid, "SIGKILL");
}

/** What one cycle works with. */
interface Cycle {
  m: Machine;
  journal: Journal;
  caps: Record<string, string>;
  result: SyncResult;
  now: () => Date;
  log: (line: string) => void;
  pushBudgetMs: number;
  /** Claims made in this cycle, with the journal entry each replaced (to restore when the claim is lost). */
  claimed: Map<string, JournalEntry | undefined>;
  /** Tasks running now, to stop on cancellation or a lost claim. */
  running: Map<string, RunningTask>;
  /** Publishes one at a time. */
  chain: Promise<unknown>;
  /** Failed syncs before this one (the machine reports itself stalled after 3). */
  health: Health;
  /** The repository as the last publish found it. */
  latest?: RepoModel;
  /** The files of that tip. */
  latestFiles?: Map<string, string>;
  /** The lastSeen other machines see for this one now (a claim holds for a lease after it). */
  publishedLastSeen?: string;
  /** When this machine saw each other machine's lastSeen change, by its own clock (leases are measured by it). */
  observed: Map<string, Observation>;
}

/** One sync of the machine whose checkout is `opts.dir`. */
export async function sync(opts: SyncOptions): Promise<SyncResult> {
  // A daemon that stops, and waited long enough, kills the git command a sync hangs in.
  return syncMachine(await openMachine(opts.dir, opts.gitSignal), opts);
}

/** One sync of `machine`: the same cycle whatever its hub. */
export async function syncMachine(machine: Machine, opts: CycleOptions = {}): Promise<SyncResult> {
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => {});
  const { config, stateDir } = machine;
  const result: SyncResult = {
    machine: config.name,
    skipped: false,
    ran: [],
    wouldRun: [],
    waiting: [],
    interrupted: [],
    delivered: [],
    hookAcked: [],
    ordersProblems: [],
    fileProblems: [],
    pushAttempts: 0,
    warnings: [],
  };
  if (opts.scheduled && !opts.dryRun) {
    const health = await readHealth(stateDir);
    const until = backoffUntil(health, config.failureBackoff, now());
    if (until && until.getTime() > now().getTime()) {
      // After an outage, a cheap probe at every tick: the sync goes on as soon as the hub answers again.
      const back = health.unreachable === true && (await machine.hub.reachable());
      if (!back) return { ...result, skipped: true, backoff: { until: until.toISOString(), failures: health.failures, lastError: health.lastError ?? "" } };
      log("the hub answers again: syncing now instead of waiting out the backoff");
    }
  }
  const lock = await tryLock(stateDir);
  if (!lock) return { ...result, skipped: true };
  // The crontab line appends this run's output to cron.log: keep it bounded.
  if (opts.scheduled) await rotateOutputFile(join(stateDir, CRON_LOG)).catch(() => {});
  const started = Date.now();
  // The one coord.log record of this sync, ok or failed (a log that cannot be written fails no sync).
  const record = (error?: string) =>
    appendLog(stateDir, {
      kind: "sync",
      machine: config.name,
      ok: error === undefined,
      durationMs: Date.now() - started,
      ran: result.ran.map((t) => ({ id: t.id, state: t.state })),
      ...(error === undefined && result.pushed ? { pushed: result.pushed } : {}),
      delivered: result.delivered.length,
      ...(error === undefined ? {} : { error }),
    }).catch(() => {});
  try {
    await cycle(machine, opts, result, lock, now, log);
    result.warnings.push(...takeSetAside()); // local state that was broken, kept aside, and what replaced it
    if (!opts.dryRun) await recordSuccess(stateDir);
    await record();
    return result;
  } catch (e) {
    if (!opts.dryRun && !(e instanceof CoordError && e.exitCode === EXIT.USAGE)) await recordFailure(stateDir, (e as Error).message, now(), e instanceof RemoteUnreachable);
    await record((e as Error).message);
    throw e;
  } finally {
    await lock.release();
  }
}

/** One cycle under the lock: recover, fetch, read, deliver, plan, claim, run, publish. */
async function cycle(machine: Machine, opts: CycleOptions, result: SyncResult, lock: HeldLock, now: () => Date, log: (line: string) => void): Promise<void> {
  const { config, hub, stateDir } = machine;
  const health = await readHealth(stateDir);
  // Leftover locks and half-done merges every time; the history check only after a failed sync.
  const repaired = opts.dryRun || !machine.checkout ? [] : await machine.checkout.repair({ log, fsck: health.failures > 0 }).catch(() => []);
  for (const r of repaired) result.warnings.push(`the checkout: ${r}`);
  const journal = await Journal.open(stateDir);
  if (!opts.dryRun) {
    for (const [id, t] of Object.entries(journal.tasks)) if (t.state === "in_progress" && t.pid) await killOrphan(t.pid, taskMarker(config.name, id, t.rev, t.attempts));
    result.interrupted = await journal.recoverInterrupted(now());
    for (const id of result.interrupted) log(`${id}: was interrupted (coord stopped while it ran); reported failed`);
  }
  log(`fetching ${config.remote}/${config.branch}`);
  const tip = await hub.fetch();
  if (!tip) throw new CoordError(`the remote has no branch ${config.branch}; run coord init to scaffold it`, EXIT.USAGE);
  const files = await hub.readFiles(tip, READ_PATHS);
  const model = readModel(await withOwnOrders(machine, files));
  checkIdentity(model, config);
  const observedBefore = await readObserved(stateDir);
  const observed = observe(observedBefore, lastSeenOf(model, config.name), now());
  const published = model.computers.get(config.name)?.tasks;
  if (journal.fresh && published && Object.keys(published).length && !opts.dryRun) {
    await journal.adopt(published);
    log("the local journal was missing: rebuilt it from this machine's published file");
  }
  result.ordersProblems = model.ordersProblems;
  result.fileProblems = model.fileProblems;
  for (const p of model.ordersProblems) log(formatProblem(p));
  const c: Cycle = {
    m: machine,
    journal,
    caps: await machineCapabilities(machine),
    result,
    now,
    log,
    pushBudgetMs: opts.pushBudgetMs ?? PUSH_BUDGET_MS,
    claimed: new Map(),
    running: new Map(),
    chain: Promise.resolve(),
    health,
    observed,
  };
  const runTasks = opts.run !== false && !opts.dryRun;
  if (!opts.dryRun) await receive(c, model, runTasks);
  const todo = planNow(c, model, files);
  result.waiting = todo.waiting.map((w) => ({ id: w.order.id, reason: w.reason }));
  if (opts.dryRun) {
    const describe = describeCommand;
    result.wouldRun = [
      ...todo.run.map((o) => ({ id: o.id, rev: o.rev, attempt: nextAttempt(o, own(journal.tasks, o.id)), command: describe(o) })),
      ...todo.claim.map((cl) => ({ id: cl.order.id, rev: cl.order.rev, attempt: cl.attempt, command: describe(cl.order), claim: true })),
    ];
    return;
  }
  let first: { tip?: string; files?: Map<string, string> } = { tip, files };
  if (runTasks) {
    const tasks = todo.run.map((order) => ({ order }));
    if (todo.claim.length) {
      tasks.push(...(await claim(c, todo.claim, first, (at) => planNow(c, at.model, at.files).claim)));
      first = {};
    }
    if (tasks.length) {
      await runAll(c, tasks, lock, opts.signal);
      crashPoint("finished");
      first = {};
      await drain(c, lock, opts.signal);
    }
  }
  const summary = runSummary(result, now());
  if (summary) {
    journal.data.lastRun = summary;
    await journal.save();
  }
  await publish(c, first, commitMessage(config.name, result));
  await saveObserved(stateDir, c.observed, observedBefore).catch(() => {}); // lost observations only make claims of others hold longer
}

/** Every other machine's lastSeen as the files say. */
function lastSeenOf(model: RepoModel, me: string): Map<string, string> {
  return new Map([...model.computers].filter(([name]) => name !== me).map(([name, file]) => [name, file.lastSeen]));
}

/** Rounds of more work one sync takes on after its first (each: claim, with the results so far in the same push, then run). */
const DRAIN_ROUNDS = 20;
/** …and for at most this long (ms) before it publishes and ends, so a long queue does not keep one sync forever. */
const DRAIN_MS = 10 * 60_000;

/**
 * Drain: after work ran, the machine plans again on the tip its last publish
 * read and claims what is free for its slots; that claim's push also carries
 * the results so far, so a queue costs one push per task instead of two. It
 * runs what it got, and again, until nothing is left for it (or the bounds).
 * A claim lost to another machine is planned again on the fresh tip as ever.
 */
async function drain(c: Cycle, lock: HeldLock, signal?: AbortSignal): Promise<void> {
  const until = Date.now() + DRAIN_MS;
  for (let round = 1; round <= DRAIN_ROUNDS && Date.now() < until; round++) {
    if (signal?.aborted || lock.compromised || !c.latest || !c.latestFiles) return;
    // Its own share only: the orders another online machine is preferred for are left to it.
    const next = planNow(c, c.latest, c.latestFiles, 0, true);
    if (next.claim.length === 0) return; // named work that came meanwhile waits for the next sync, which reads a fresh tip
    const landed = await claim(c, next.claim, {}, (at) => planNow(c, at.model, at.files, 0, true).claim);
    if (landed.length === 0) return;
    await runAll(c, landed, lock, signal);
  }
}

/** What a sync did, in one line, when it did anything. */
function runSummary(r: SyncResult, now: Date): string | undefined {
  const parts: string[] = [];
  if (r.ran.length) parts.push(`ran ${r.ran.map((t) => `${t.id} (${t.state})`).join(", ")}`);
  if (r.interrupted.length) parts.push(`found ${r.interrupted.join(", ")} interrupted`);
  if (r.delivered.length) parts.push(`received ${r.delivered.length} message${r.delivered.length === 1 ? "" : "s"}`);
  return parts.length ? `${now.toISOString()}: ${parts.join("; ")}` : undefined;
}

/** New messages: into the mailbox, then the onMessage hook. */
async function receive(c: Cycle, model: RepoModel, runHooks: boolean): Promise<void> {
  const fresh = await deliver(c.m, model);
  if (fresh.length) {
    c.result.delivered.push(...fresh.map((x) => x.id));
    c.log(`${fresh.length} new message${fresh.length === 1 ? "" : "s"}: ${fresh.map((x) => x.id).join(", ")}`);
  }
  if (!c.m.config.onMessage) return;
  // Each new message owes a hook run until its run ended: a sync that runs no hooks, or one that
  // stops in the middle of them, leaves the rest to the next one.
  const owed = await updateMailbox(c.m.stateDir, (data) => {
    const ids = new Set([...(data.hookPending ?? []), ...fresh.map((x) => x.id)]);
    const owed = data.inbox.filter((x) => ids.has(x.id));
    data.hookPending = owed.map((x) => x.id);
    return runHooks ? owed : [];
  });
  if (owed.length) c.result.hookAcked.push(...(await runMessageHooks(c.m, owed, c.log)));
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
 * is left. Returns the claims that landed, to run.
 */
async function claim(
  c: Cycle,
  claims: Claim[],
  first: { tip?: string; files?: Map<string, string> },
  replan: (at: Published) => Claim[],
): Promise<{ order: Order; attempt: number }[]> {
  const landed: { order: Order; attempt: number }[] = [];
  const tried = new Set<string>();
  let todo = claims;
  for (let round = 1; todo.length && round <= CLAIM_ROUNDS; round++) {
    for (const cl of todo) {
      tried.add(cl.order.id);
      c.claimed.set(cl.order.id, c.journal.entry(cl.order.id));
      await c.journal.apply(cl.order.id, claimEvent(cl, c.now(), c.m.config.claimLease));
    }
    crashPoint("claimed");
    const at = await publishSerial(c, round === 1 ? first : {}, `claims ${todo.map((cl) => cl.order.id).join(", ")}`);
    crashPoint("claim-pushed");
    let lost = 0;
    for (const cl of todo) {
      const entry = c.journal.entry(cl.order.id);
      if (entry?.state === "assigned" && entry.rev === cl.order.rev) landed.push({ order: cl.order, attempt: cl.attempt });
      else {
        lost++;
        c.log(`${cl.order.id}: another machine claimed it first`);
      }
    }
    if (!lost) break;
    todo = replan(at)
      .filter((cl) => !tried.has(cl.order.id))
      .slice(0, lost);
    if (todo.length) c.log(`claiming ${todo.map((cl) => cl.order.id).join(", ")} instead`);
  }
  return landed;
}

/** The files at the tip, with this machine's own delegated orders as it has them now (coord order add). */
async function withOwnOrders(m: Machine, files: Map<string, string>): Promise<Map<string, string>> {
  const own = await ownOrdersFile(m.stateDir, m.config.name);
  if (!own || files.get(own.path) === own.content) return files;
  return new Map(files).set(own.path, own.content);
}

async function machineCapabilities(m: Machine): Promise<Record<string, string>> {
  const caps = await detectCapabilities(m.dir, join(m.stateDir, "agents.json"));
  for (const label of m.config.labels) caps[label] ??= "label";
  return caps;
}

/** The plan, on the fleet as it will look with this machine's journal published. */
function planNow(c: Cycle, model: RepoModel, files: Map<string, string>, busy = 0, ownShareOnly = false): Plan {
  if (!model.orders) return { run: [], claim: [], waiting: [] };
  const { config } = c.m;
  const mine = buildComputer(c, model, files.get(ORDERS_FILE));
  const view = viewWith(model, mine, []);
  return plan({
    orders: model.orders.orders,
    machine: config.name,
    machines: view.machineNames,
    journal: c.journal.tasks,
    status: deriveStatus(view),
    capabilities: c.caps,
    now: c.now(),
    maxParallel: Math.max(0, config.maxParallel - busy),
    retryBackoff: config.retryBackoff,
    lease: config.claimLease,
    observed: c.observed,
    ownShareOnly,
  });
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
async function runAll(c: Cycle, tasks: { order: Order; attempt?: number }[], lock: HeldLock, signal?: AbortSignal): Promise<void> {
  const { config } = c.m;
  const queue = [...tasks];
  const active = new Set<Promise<void>>();
  let done = false;
  const wake: { resolve?: () => void } = {};
  const kick: { resolve?: () => void } = {};
  const onAbort = () => {
    queue.length = 0;
    for (const t of c.running.values()) t.stop("interrupted: coord was stopped", "failed");
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort(); // stopped before the first task started (a signal during the fetch): none starts
  const holdsClaim = () => [...c.running.values(), ...queue].some((t) => t.order.to === "ANY");
  /** A holder whose claim others may soon see as expired stops the task itself, so two live machines never both run it. */
  const fence = () => {
    const age = mustFence(c.publishedLastSeen, c.now(), config.claimLease);
    if (age === undefined) return;
    for (const t of c.running.values()) if (t.order.to === "ANY") t.stop(`could not renew its claim for ${Math.round(age)}s; stopped so that no two machines run it`, "failed");
  };
  const checks = (async () => {
    while (!done) {
      // While it holds claims it looks often enough to renew them well within the lease.
      await wait(lookEvery(config.checkEvery, config.claimLease, holdsClaim()) * 1000, wake);
      if (done) break;
      try {
        const at = await publishSerial(c, {}, `coord: ${config.name} working on ${[...c.running.keys()].join(", ")}`);
        if (signal?.aborted) continue;
        // Meanwhile the machine keeps working: messages, and new tasks for the free slots.
        await receive(c, at.model, true);
        const busy = new Set([...c.running.keys(), ...queue.map((q) => q.order.id)]);
        const todo = planNow(c, at.model, at.files, busy.size);
        const fresh = todo.run.filter((o) => !busy.has(o.id)).map((order) => ({ order }));
        const claims = todo.claim.filter((cl) => !busy.has(cl.order.id));
        if (claims.length) fresh.push(...(await claim(c, claims, {}, (again) => planNow(c, again.model, again.files, busy.size).claim.filter((cl) => !busy.has(cl.order.id)))));
        if (fresh.length) {
          queue.push(...fresh);
          kick.resolve?.();
        }
      } catch (e) {
        c.log(`could not publish while tasks run: ${(e as Error).message}`);
        // Reclaimed by another copy meanwhile: this one stops what it runs, at once.
        if (e instanceof IdentityReclaimed) for (const t of c.running.values()) t.stop(e.message, "failed");
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
      c.log(`${order.id}: running (rev ${order.rev})`);
      const p: Promise<void> = runOne(c.m, c.journal, order, c.now, { ...(attempt ? { attempt } : {}), onStart: (t) => c.running.set(order.id, t) })
        .then(async (outcome) => {
          c.log(`${order.id}: ${outcome.state}${outcome.reason ? ` (${outcome.reason})` : ""}`);
          c.result.ran.push(outcome);
          const t = own(c.journal.tasks, order.id);
          await appendLog(c.m.stateDir, {
            kind: "task",
            machine: config.name,
            id: order.id,
            rev: order.rev,
            attempt: t?.attempts ?? 1,
            state: outcome.state,
            exitCode: outcome.exitCode,
            durationMs: t?.finishedAt && t.startedAt ? Date.parse(t.finishedAt) - Date.parse(t.startedAt) : 0,
            ...(outcome.reason ? { reason: outcome.reason } : {}),
          }).catch(() => {});
        })
        .finally(() => {
          c.running.delete(order.id);
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
  const current = c.latest?.orders?.orders.find((o) => o.id === order.id);
  if (c.latest?.orders && (!current || current.rev !== order.rev)) return "its order was removed or re-revved";
  if (current?.cancelled) return "cancelled in ORDERS.json";
  const entry = c.journal.entry(order.id);
  if (order.to === "ANY" && !(entry?.state === "assigned" && entry.rev === order.rev)) return "another machine holds its claim";
  return undefined;
}

/** Claims of this cycle that lost (another machine holds the order, or it is gone) go back to what they replaced. */
async function dropLostClaims(c: Cycle, model: RepoModel): Promise<void> {
  const status = deriveStatus(model);
  for (const [id, entry] of Object.entries(c.journal.tasks)) {
    if (entry.state !== "assigned") continue;
    const order = model.orders?.orders.find((o) => o.id === id);
    if (!claimLost(c.m.config.name, entry, order, status, c.now(), c.m.config.claimLease, c.observed)) continue;
    await c.journal.apply(id, { kind: "drop", previous: c.claimed.get(id) });
    c.claimed.delete(id);
  }
}

/** Running tasks whose order was cancelled or re-revved, or whose claim another machine holds now, are stopped. */
function stopUnwanted(c: Cycle, model: RepoModel): void {
  if (!model.orders) return; // the last valid orders stay in force for what already runs
  const status = deriveStatus(model);
  for (const [id, task] of c.running) {
    const order = model.orders.orders.find((o) => o.id === id);
    if (!order || order.cancelled || order.rev !== task.order.rev) task.stop(order?.cancelled ? "cancelled in ORDERS.json" : "its order was removed or re-revved", "cancelled");
    else if (takenOver(order, c.m.config.name, status, c.now(), c.m.config.claimLease, c.observed)) task.stop("another machine took over its claim", "failed");
  }
}

function publishSerial(c: Cycle, first: { tip?: string; files?: Map<string, string> }, message: string): Promise<Published> {
  const next = c.chain.then(() => publish(c, first, message));
  c.chain = next.catch(() => {});
  return next;
}

/** The machine's own file as its journal says, on top of what the remote has. */
function buildComputer(c: Cycle, model: RepoModel, ordersText: string | undefined, receipts: Receipts = {}): ComputerFile {
  const { config } = c.m;
  const self = {
    name: config.name,
    uuid: config.uuid,
    heartbeat: config.heartbeat,
    retryBackoff: config.retryBackoff,
    capabilities: c.caps,
    tasks: c.journal.tasks,
    lastRun: c.journal.data.lastRun,
    ...(config.epoch > 0 ? { identity: { epoch: config.epoch, host: config.reclaimedOn ?? "", at: config.reclaimedAt ?? "" } } : {}),
  };
  return ownComputer(self, model, ordersText, c.now(), receipts);
}

function commitMessage(name: string, result: SyncResult): string {
  if (result.ran.length) return `coord: ${name} ran ${result.ran.map((r) => `${r.id} (${r.state})`).join(", ")}`;
  if (result.interrupted.length) return `coord: ${name} reports ${result.interrupted.join(", ")} interrupted`;
  return `coord: ${name} status`;
}

/** The tip a publish ended on (its own commit, or the tip it found nothing to change on), read. */
interface Published {
  model: RepoModel;
  files: Map<string, string>;
}

/** Publishes this machine's files on the latest tip: compare-and-swap, redone on the new tip after a rejected push. */
async function publish(c: Cycle, first: { tip?: string; files?: Map<string, string> }, message: string): Promise<Published> {
  const { config, hub } = c.m;
  return publishWithRetry<Published>(
    {
      attempt: async (n) => {
        if (n === 1 && first.tip && first.files) return build(c, first.tip, first.files, n, message);
        const tip = await hub.fetch();
        if (!tip) throw new CoordError(`the remote branch ${config.branch} disappeared`, EXIT.FAILURE);
        return build(c, tip, await hub.readFiles(tip, READ_PATHS), n, message);
      },
      push: (commit) => hub.push(commit),
      rejected: () => c.log("push rejected (someone pushed first); retrying on the new tip"),
      gaveUp: (n, ms) =>
        new CoordError(
          `gave up publishing after ${n} rejected pushes in ${Math.round(ms / 1000)} s (the remote is very busy); results are kept and the next sync publishes them`,
          EXIT.FAILURE,
        ),
    },
    { budgetMs: c.pushBudgetMs },
  );
}

/** This machine's files rendered on `tip`: the commit to push, or nothing to change. */
async function build(c: Cycle, tip: string, files: Map<string, string>, attempt: number, message: string): Promise<Built<Published>> {
  const { config, hub } = c.m;
  const { journal, result, now, log } = c;
  const local = await withOwnOrders(c.m, files);
  const model = readModel(local);
  checkIdentity(model, config);
  c.observed = observe(c.observed, lastSeenOf(model, config.name), now());
  await dropLostClaims(c, model);
  stopUnwanted(c, model);
  result.ordersProblems = model.ordersProblems;
  const own = await ownMessageFiles(c.m, model, now());
  // The problems of its own files go away: it rewrites them now.
  result.fileProblems = model.fileProblems.filter((p) => !owns(config.name, p.file));
  const mine = buildComputer(c, model, files.get(ORDERS_FILE), own.receipts);
  if (c.health.failures >= STALL_AFTER && c.health.lastError) {
    // Back after failing: say so, with why, until the next sync that has nothing to report.
    mine.state = "stalled";
    mine.health = { failures: c.health.failures, lastError: c.health.lastError, since: c.health.since ?? now().toISOString() };
  }
  const previous = model.computers.get(config.name);
  if (previous && computerFingerprint(previous) === computerFingerprint(mine)) {
    // Nothing new: lastSeen goes out only when a heartbeat is due (sooner while holding claims: it renews them).
    if (!heartbeatDue(previous.lastSeen, now(), config.heartbeat, holdsClaims(journal.tasks) ? config.claimLease : undefined)) mine.lastSeen = previous.lastSeen;
  }
  c.latest = model;
  c.latestFiles = files;
  const changes = renderChanges(files, model, mine, own.files);
  const ordersPath = delegatedOrdersPath(config.name);
  if (local.get(ordersPath) !== files.get(ordersPath)) changes.set(ordersPath, local.get(ordersPath)!);
  if (changes.size === 0) {
    c.publishedLastSeen = previous?.lastSeen ?? c.publishedLastSeen;
    await fastForward(c.m, tip, result);
    return { done: { model, files } };
  }
  result.pushAttempts = Math.max(result.pushAttempts, attempt);
  const commit = await commitOwned(hub, config.name, tip, changes, message.startsWith("coord:") ? message : `coord: ${config.name} ${message}`);
  return {
    commit,
    landed: async () => {
      result.pushed = commit;
      c.publishedLastSeen = mine.lastSeen;
      journal.data.lastPublished = mine.lastSeen;
      await journal.save();
      await fastForward(c.m, commit, result);
      log(`published ${commit.slice(0, 12)} (${[...changes.keys()].join(", ")})`);
      const after = new Map(files);
      for (const [path, content] of changes) after.set(path, content);
      return { model: readModel(after), files: after };
    },
  };
}

/** The checkout follows what was published (or found), when there is one. */
async function fastForward(m: Machine, commit: string, result: SyncResult): Promise<void> {
  const warning = await m.checkout?.fastForward(commit);
  if (warning) result.warnings.push(warning);
}
