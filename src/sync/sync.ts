// One sync cycle: lock → fetch → its steps, view → react → plan → work →
// publish (whose tries compose and judge), each of one shape: the cycle and
// what the steps before made, to what it adds (Step, STEPS). The parts: one
// view of a tip (view.ts), what a cycle works with and what a new tip
// triggers (cycle.ts), claiming and running (work.ts), composing and
// publishing (push.ts), messages (mail.ts), one task (tasks.ts).
import { inTurn } from "../serial.js";
import { MACHINES_BRANCH } from "../core/trust/ownership.js";
import { readBucket } from "../state/budget.js";
import { describeRefusal } from "../core/trust/trust.js";
import { readKeyNotice } from "../state/key-notice.js";
import { join } from "node:path";
import type { Observation } from "../core/time/clock.js";
import { formatProblem } from "../core/orders/orders.js";
import { nextAttempt } from "../core/machine/plan.js";
import { parseStats } from "../core/repo/parsed.js";
import { readModel } from "../core/repo/repo.js";
import { own } from "../core/types.js";
import { CoordError, EXIT, HubBusy, PushRefused, RemoteUnreachable } from "../errors.js";
import { ownFailure } from "../failure.js";
import { carriesMarker, killOrphan } from "../runner/run.js";
import { PUSH_BUDGET_MS } from "./cas.js";
import { describeCommand, legacyTaskMarker, taskMarker } from "./tasks.js";
import { onCallEngine } from "./on-call.js";
import type { RunProcess } from "./on-call-turn.js";
import { CAPABILITIES_FILE, capabilitiesAsked, capabilitiesNow, capabilitiesRefreshed, capabilitiesUntil, knownCapabilities } from "../state/capabilities.js";
import { backoffUntil, type FailureKind, type Health, readHealth, recordFailure, recordSuccess } from "../state/health.js";
import { sweepTempFiles } from "../state/files.js";
import { Journal } from "../state/journal.js";
import { takeSetAside } from "../state/corrupt.js";
import { lastSignedComputer } from "./trust.js";
import { readObserved, saveObserved } from "../state/observed.js";
import { loadParsed, saveParsed } from "../state/parsed.js";
import { appendLog } from "../state/logs.js";
import { tryLock, type HeldLock } from "../state/lock.js";
import { type GitMachine, type Machine, openMachine } from "./machine.js";
import {
  type Act,
  crashPoint,
  type Cycle,
  type CycleContext,
  lookAtCaps,
  READ_PATHS,
  reactToTip,
  type SyncResult,
  haltNow,
  type Turns,
  waitsUntil,
  type WorkRecord,
} from "./cycle.js";
import { checkSigning, type TipView, viewTip } from "./view.js";
import { receive } from "./mail.js";
import { commitMessage, type First, lastRead, publish } from "./push.js";
import { claim, drain, planNow, runAll, STALE_CAPABILITIES } from "./work.js";
import { answerQuietly, keepCronLogBounded } from "./quiet.js";
import { emptyResult, quietResult } from "./result.js";
import { leaveStamp, type QuietEnd } from "./stamp.js";
import { holdingSyncLock, takeWritten } from "../state/written.js";
import { notifyAlerts } from "./notify.js";
import { stalledAlert } from "../core/status/alerts.js";
import { currentRun } from "../core/fleet/failures.js";
import type { RepoModel } from "../core/repo/repo.js";
import { isOldLayout } from "../core/setup/upgrade.js";
import { machineAuthor } from "../git/git.js";
import { splitTip } from "../git/hub.js";
import { upgradeHub } from "./upgrade.js";

export type { TaskOutcome } from "./tasks.js";
export { READ_PATHS, type SyncResult } from "./cycle.js";
export { type Checkout, type GitMachine, type Machine, openMachine } from "./machine.js";

export interface SyncOptions extends Omit<CycleOptions, "headStart"> {
  /** The machine's checkout. */
  dir: string;
  /** Aborting kills the git command running now (a fetch hung on a silent remote); the sync fails. */
  gitSignal?: AbortSignal;
  /**
   * A fetch its caller started before the sync (`coord sync` of the command line: src/startup/head-start.ts),
   * asked with the machine opened, where the cycle would fetch: its tip, or undefined, and the cycle fetches.
   */
  headStart?: (m: GitMachine) => Promise<string | undefined>;
}

/**
 * How one sync runs, whatever the machine (a checkout on real git, or one on the in-memory hub in tests): what to do,
 * its clock and I/O, and the daemon's extras. Callers pass the three groups as one flat object; the cycle resolves
 * them once (resolveOptions) and passes on each group.
 */
export interface CycleOptions extends WhatToDo, ClockAndIO, DaemonExtras {}

/** What a sync does. */
export interface WhatToDo {
  /** false: publish status but start no task. */
  run?: boolean;
  /** Say what would run; change nothing. */
  dryRun?: boolean;
  /** A run from cron or the daemon: after failures it backs off (1, 2, 4, at most 5 minutes), probing the hub after an outage. */
  scheduled?: boolean;
  /** Never answered from the quiet stamp (the daemon's first sync: its supervisor needs a tip). */
  full?: boolean;
  /**
   * false: publish the capabilities known without asking the agent CLIs (coord init: a new machine's first
   * sync asks them, src/state/capabilities.ts knownCapabilities).
   */
  askAgents?: boolean;
  /**
   * Agents on call: the turns of the messages this sync delivers run in it, before it publishes their answers (a
   * sync of no daemon: cron's, or coord sync by hand). The daemon runs them beside its syncs instead.
   */
  onCallHere?: boolean;
  /** The process of each of those turns (default runner/run.ts runTask): a test on the in-memory fleet scripts its CLI. */
  onCallRun?: RunProcess;
}

/** A sync's clock, its output, its limits and signal, and what its caller fetched for it. */
export interface ClockAndIO {
  now?: () => Date;
  /** Progress lines for people. */
  log?: (line: string) => void;
  /** How long a publish keeps redoing rejected pushes (ms); default 60 s. */
  pushBudgetMs?: number;
  /**
   * The wait for a turn to push (core/budget/budget.ts turnWait) on the clock of `now`: by default the real one. A simulated
   * clock brings its own (bench row 13e: syncs take no simulated time, one after another, so they wait for nothing).
   */
  waitTurn?: (ms: number) => Promise<void>;
  /** Aborting interrupts running tasks cleanly (reported failed, "interrupted"); the sync then publishes and ends. */
  signal?: AbortSignal;
  /**
   * The remote's tip as the caller fetched it a moment ago (coord init, right after its clone), and its files
   * when it read them: the cycle's own fetch and read are skipped. A push rejected meanwhile fetches as ever.
   * `stale`: the tip this machine last saw, not fetched now (the daemon's publish of an answer, core/machine/daemon-loop.ts
   * "publish"): its publish's first push may lose to a move since, and the next try fetches at once (push.ts First).
   */
  fetched?: { tip: string; files?: Map<string, string>; stale?: true };
  /**
   * The tip (joinTip) the daemon's look saw and brought a moment ago (Hub.look): the cycle's fetch takes it (Hub.fetch
   * with `seen`: no read of the hub) instead of asking the hub again; a push rejected meanwhile fetches as ever.
   */
  looked?: string;
  /**
   * A fetch started before the sync (sync's `headStart`), asked where the cycle would fetch: its tip, or
   * undefined, and the cycle fetches itself.
   */
  headStart?: () => Promise<string | undefined>;
}

/** What the daemon adds to its syncs. */
export interface DaemonExtras {
  /** Seconds between heartbeats, instead of the config's `heartbeat` (the daemon passes its `daemonHeartbeat`). */
  heartbeat?: number;
  /** The daemon's supervisor of services: told each tip the sync reads (its start, every look while tasks run, its publish). */
  onModel?: (model: RepoModel) => Promise<void>;
  /**
   * How the sync's last publish meets its turn to push (core/budget/budget.ts turnWait). By default it waits in the sync
   * (cron's `coord sync`: no timer would wake it). "defer": a turn more than one turn away ends the sync instead, which
   * says until when (the quiet stamp's deferral), and the daemon wakes then: meanwhile its looks deliver what comes,
   * where a sync held for a turn of up to 30 s delivered nothing. "now": the daemon woke for that turn, a little
   * before it (sync/push.ts TURN_LEAD_MS): it waits the rest, and once the turn began (or its wake came late) none.
   */
  turns?: Turns;
  /** Agents on call: told as soon as the sync delivered new messages, so that their turns start before its publish. */
  onReceived?: () => void;
  /**
   * Aborted when something someone waits for was stored while the sync runs (an agent's answer, a message sent): a
   * publish waiting for its turn to push goes now, built again on the tip as it is, with what was stored (what
   * someone waits for waits for no turn).
   */
  urged?: AbortSignal;
}

/** A sync's options resolved once, in their groups: what it does (`act` and the rest), its clock and I/O, the daemon's extras. */
interface Resolved {
  act: Act;
  todo: Required<Pick<WhatToDo, "scheduled" | "full" | "askAgents" | "onCallHere">> & Pick<WhatToDo, "onCallRun">;
  io: Required<Pick<ClockAndIO, "now" | "log" | "pushBudgetMs">> & Pick<ClockAndIO, "waitTurn" | "signal" | "fetched" | "looked" | "headStart">;
  daemon: DaemonExtras;
}

function resolveOptions(opts: CycleOptions): Resolved {
  const { waitTurn, signal, fetched, looked, headStart, heartbeat, onModel, turns, onReceived, urged } = opts;
  return {
    act: actOf(opts),
    todo: {
      scheduled: opts.scheduled === true,
      full: opts.full === true,
      askAgents: opts.askAgents !== false,
      onCallHere: opts.onCallHere === true,
      ...(opts.onCallRun ? { onCallRun: opts.onCallRun } : {}),
    },
    io: {
      now: opts.now ?? (() => new Date()),
      log: opts.log ?? (() => {}),
      pushBudgetMs: opts.pushBudgetMs ?? PUSH_BUDGET_MS,
      ...(waitTurn ? { waitTurn } : {}),
      ...(signal ? { signal } : {}),
      ...(fetched ? { fetched } : {}),
      ...(looked ? { looked } : {}),
      ...(headStart ? { headStart } : {}),
    },
    daemon: {
      ...(heartbeat !== undefined ? { heartbeat } : {}),
      ...(onModel ? { onModel } : {}),
      ...(turns ? { turns } : {}),
      ...(onReceived ? { onReceived } : {}),
      ...(urged ? { urged } : {}),
    },
  };
}

/** One sync of the machine whose checkout is `opts.dir`. */
export async function sync({ dir, gitSignal, headStart, ...opts }: SyncOptions): Promise<SyncResult> {
  // A daemon that stops, and waited long enough, kills the git command a sync hangs in.
  const machine = await openMachine(dir, gitSignal);
  if (!headStart || opts.fetched || opts.dryRun) return syncMachine(machine, opts);
  return syncMachine(machine, { ...opts, headStart: () => headStart(machine) });
}

/** What a sync does (cycle.ts Act), resolved once from its options. */
const actOf = (opts: CycleOptions): Act => (opts.dryRun ? "dry-run" : opts.run === false ? "publish" : "run");

/** One sync of `machine`: the same cycle whatever its hub. */
export async function syncMachine(opened: Machine, opts: CycleOptions = {}): Promise<SyncResult> {
  const how = resolveOptions(opts);
  const { act, todo, io, daemon } = how;
  const machine = daemon.heartbeat === undefined ? opened : { ...opened, config: { ...opened.config, heartbeat: daemon.heartbeat } };
  const { now, log } = io;
  const { config, stateDir } = machine;
  const result = emptyResult(config.name);
  if (todo.scheduled && act !== "dry-run") {
    const health = await readHealth(stateDir);
    const until = backoffUntil(health, config.failureBackoff, now());
    // A hub that was only busy (every push lost its race) answers: no backoff, the sync tries again.
    if (until && until.getTime() > now().getTime() && health.busy !== true) {
      // After an outage, a cheap probe at every tick: the sync goes on as soon as the hub answers again.
      const back = health.unreachable === true && (await machine.hub.reachable());
      if (!back) return { ...result, skipped: true, backoff: { until: until.toISOString(), failures: health.failures, lastError: health.lastError ?? "" } };
      log("the hub answers again: syncing now instead of waiting out the backoff");
    }
  }
  if (act === "run" && !todo.full) {
    // Nothing changed since a sync that had nothing to do: one look at the remote's tip says so.
    const stamp = await answerQuietly(stateDir, () => machine.hub.remoteTip(), {
      scheduled: todo.scheduled,
      now: () => now().getTime(),
      ...(daemon.heartbeat !== undefined ? { heartbeat: daemon.heartbeat } : {}),
    });
    if (stamp) {
      log("nothing changed since the last sync (the remote's tip and this machine's state are as they were)");
      return quietResult(stamp);
    }
  }
  const lock = await tryLock(stateDir);
  if (!lock) return { ...result, skipped: true };
  // The crontab line appends this run's output to cron.log: keep it bounded.
  if (todo.scheduled) await keepCronLogBounded(stateDir);
  await sweepTempFiles(stateDir); // what a process killed in the middle of a write left
  const started = Date.now();
  const parsedBefore = parseStats.parsed;
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
      parsed: parseStats.parsed - parsedBefore,
      ...(error === undefined ? {} : { error }),
    }).catch(() => {});
  await loadParsed(stateDir);
  const seen: { model?: RepoModel } = {}; // the fleet as this sync last read it (a failed sync's notify)
  try {
    // Its own writes are the sync's; another process's from now on leave no quiet stamp (state/quiet.ts WRITTEN_FILE).
    holdingSyncLock(stateDir, true);
    await takeWritten(stateDir);
    const { end, ended, clearedAt } = await cycle(machine, how, result, lock, seen);
    result.warnings.push(...takeSetAside()); // local state that was broken, kept aside, and what replaced it
    // A key it cannot sign with: its commits go out unsigned, and its readers refuse them (its file says so too).
    if (machine.signing?.problem) result.warnings.push(`this machine signs nothing: ${machine.signing.problem}`);
    // A refusal ends with a push the hub accepts, not with a sync whose publish waits for the budget.
    if (act !== "dry-run") await recordSuccess(stateDir, clearedAt ?? now(), result.pushed !== undefined);
    await record();
    // Alerts leave the repository: the new ones of the tip it ended on, at this machine's clock, at most once (still under the lock).
    if (ended && config.notify) {
      const sent = await notifyAlerts(machine, ended, now(), log, io.signal);
      if (sent.length) result.notified = sent;
    }
    // Last: the stamp's fingerprint holds everything this sync wrote. Never for a dry run, which acts on nothing.
    if (act !== "dry-run") await leaveStamp(stateDir, config, now(), result.warnings.length ? undefined : end).catch(() => {});
    return result;
  } catch (thrown) {
    // A file in the sync's way (a race with another process, a state left half-written) fails this sync, said with
    // its path and counted as a failed sync: never a usage mistake (exit 2). The next sync tries again.
    const e = ownFailure(thrown, `syncing ${config.name}`);
    if (act !== "dry-run" && !(e instanceof CoordError && e.exitCode === EXIT.USAGE)) {
      const run = currentRun(await recordFailure(stateDir, (e as Error).message, now(), failureKind(e)));
      // Said at once where it can be: this machine's notify (the hub hears of it with the push that lands again).
      if (run && config.notify) await notifyAlerts(machine, seen.model ?? readModel(new Map()), now(), log, io.signal, [stalledAlert(config.name, run)]);
    }
    await record((e as Error).message);
    throw e;
  } finally {
    if (act !== "dry-run") await saveParsed(stateDir);
    await capabilitiesAsked();
    holdingSyncLock(stateDir, false);
    await lock.release();
  }
}

/** What a cycle's end says: `end` what a quiet stamp needs when it had nothing to do; `ended` the fleet at the tip it ended on. */
interface CycleEnd {
  end?: QuietEnd;
  ended?: RepoModel;
  clearedAt?: Date;
}

/**
 * What the steps of a cycle made so far. The view step makes the first of it with the cycle; each step after it
 * returns what it adds, which the cycle merges in for the steps after it.
 */
interface Made {
  /** The view the cycle plans on: its first read of the tip (the view step). */
  readonly view: TipView;
  /** What to run, claim and wait for (the plan step); nothing before it. */
  readonly todo: Todo;
  /** The tip its results are published on (the work step): the tip read, or the one its work's last publish saw. */
  readonly first: First;
  /** What its end says (the publish step). */
  readonly end: CycleEnd;
  /** When the plan step began to decide what to do (a quiet stamp's rules are asked from then). */
  readonly decided?: Date;
}

/** A step of the cycle, all of one shape: the cycle (its frozen context, its record of work) and what the steps before it made, to what it adds. */
type Step = (c: Cycle, made: Made) => Promise<Partial<Made>>;

/** The react step (cycle.ts reactToTip): what the first view triggers (the daemon's services follow it first). Adds nothing. */
const react: Step = async (c, { view }) => {
  await reactToTip(c, view);
  return {};
};

/** The plan step: messages received (they may carry work), then what to run, claim and wait for. */
const plan: Step = async (c, { view }) => {
  const { model, local } = view;
  const runTasks = c.act === "run";
  if (c.act !== "dry-run") await receive(c, view, runTasks);
  if (c.onCallHere) await turnsHere(c);
  const decided = c.now();
  let todo = planNow(c, model, local);
  if (c.work.capsStale && todo.waiting.some((w) => w.reason === STALE_CAPABILITIES)) {
    // An order that needs this machine's agent CLIs waits for their new answers, then the plan is made again.
    c.log("asking this machine's agent CLIs again before an order that needs them");
    await capabilitiesRefreshed();
    await lookAtCaps(c);
    todo = planNow(c, model, local);
  }
  const halt = haltNow(c, model);
  if (halt && runTasks) c.log(`${halt.reason}: nothing new starts`);
  c.result.waiting = todo.waiting.map((w) => ({ id: w.order.id, reason: w.reason }));
  return { todo, decided };
};

/** Agents on call without a daemon: the turns of the messages delivered run now, and their answers go out with this sync's publish. */
async function turnsHere(c: Cycle): Promise<void> {
  const engine = onCallEngine(c.m, { log: c.log, publish: () => {}, now: c.now, ...(c.onCallRun ? { run: c.onCallRun } : {}) });
  // Stopped (Ctrl-C, SIGTERM), the sync stops its turns as it stops its tasks: each thread is told, and it publishes.
  const stop = () => void engine.close("coord sync was stopped");
  c.stopping?.addEventListener("abort", stop, { once: true });
  try {
    await engine.recover();
    await engine.pump();
    await engine.idle();
  } finally {
    c.stopping?.removeEventListener("abort", stop);
  }
}

/** The work step: claims pushed, tasks run, the queue drained; adds the tip the results are published on. */
const work: Step = async (c, { view, todo, first }) => {
  if (c.act !== "run") return {};
  const tasks = todo.run.map((order) => ({ order }));
  if (todo.claim.length) tasks.push(...(await claim(c, view.model, todo.claim, first, (at) => planNow(c, at.model, at.files).claim)));
  if (tasks.length) {
    await runAll(c, tasks, c.lock, c.stopping);
    crashPoint("finished");
    await drain(c, c.lock, c.stopping);
  }
  // After work: the results go out on the tip read last, at once; a rejected push fetches and builds again.
  return tasks.length || todo.claim.length ? { first: lastRead(c) } : {};
};

/** The publish step (push.ts: compose, judge, push, each try on its own view), and what a quiet stamp needs when the cycle had nothing to do. */
const publishing: Step = async (c, { first, decided }) => {
  const { result, now } = c;
  const { journal } = c.work;
  const { config, stateDir } = c.m;
  const summary = runSummary(result, now());
  if (summary) {
    journal.data.lastRun = summary;
    await journal.save();
  }
  const { view: landed, builtOn } = await publish(c, first, commitMessage(config.name, result), { last: true });
  if (first.tip && builtOn !== first.tip) result.newerTip = true;
  const waits = waitsUntil(c.budget);
  if (waits !== undefined) result.deferred = new Date(waits).toISOString();
  await saveObserved(stateDir, c.view.observed, c.observedBefore).catch(() => {}); // lost observations only make claims of others hold longer
  const runTasks = c.act === "run";
  const nothingDone = !result.ran.length && !result.interrupted.length && !result.warnings.length && !result.hookAcked.length;
  // Published with answers older than 10 minutes (new ones on the way): not quiet, the next sync publishes the new ones.
  const clean = !result.ordersProblems.length && !result.fileProblems.length && !c.stopping?.aborted && runTasks && !c.work.capsStale;
  const ended = runTasks ? landed.model : undefined; // coord send and coord init publish only: the next sync notifies
  // A stamp covers only what this sync planned on: a publish rebuilt on a newer tip (another machine, or a
  // person, pushed first) may carry an order or a message for this machine that it never looked at. Its stamp
  // then names the tip it planned on, which the hub is no longer at: the next sync reads the new one fully,
  // and the daemon still wakes for the stamp's deadlines (its heartbeat).
  const clearedAt = c.said.clearedAt ? { clearedAt: c.said.clearedAt } : {};
  if (!nothingDone || !clean || !first.tip) return { end: { ...(ended ? { ended } : {}), ...clearedAt } };
  const covered = result.newerTip ? first.tip : landed.tip;
  const quiet: QuietEnd = {
    tip: covered,
    model: landed.model,
    journal: journal.tasks,
    observed: c.view.observed,
    ...(decided ? { decided } : {}),
    waiting: result.waiting,
    capabilitiesUntil: capabilitiesUntil(),
    ...(c.budget.heartbeatDue !== undefined ? { heartbeat: c.budget.heartbeatDue } : {}),
    ...(waits !== undefined ? { deferredUntil: waits } : {}),
  };
  return { end: { end: quiet, ...(ended ? { ended } : {}), ...clearedAt } };
};

/** What a dry run says it would run, once it planned: its last step (it changes nothing). */
const sayWouldRun: Step = async (c, { todo }) => {
  const { journal } = c.work;
  c.result.wouldRun = [
    ...todo.run.map((o) => ({ id: o.id, rev: o.rev, ...(o.slot ? { slot: o.slot } : {}), attempt: nextAttempt(o, own(journal.tasks, o.id)), command: describeCommand(o) })),
    ...todo.claim.map((cl) => ({
      id: cl.order.id,
      rev: cl.order.rev,
      ...(cl.order.slot ? { slot: cl.order.slot } : {}),
      attempt: cl.attempt,
      command: describeCommand(cl.order),
      claim: true,
    })),
  ];
  return {};
};

/**
 * The steps after the view step, in their order, for what the sync does: view → react → plan → work → publish (its
 * tries compose and judge on a view of their own). A dry run plans and says what would run.
 */
const STEPS: Readonly<Record<Act, readonly Step[]>> = {
  run: [react, plan, work, publishing],
  publish: [react, plan, work, publishing],
  "dry-run": [react, plan, sayWouldRun],
};

/** One cycle under the lock: the view step opens it, then its steps run in order, each on what the ones before made. */
async function cycle(machine: Machine, how: Resolved, result: SyncResult, lock: HeldLock, seen: { model?: RepoModel }): Promise<CycleEnd> {
  const c = await viewStep(machine, how, result, lock, seen);
  const { view } = c;
  const stale = how.io.fetched?.stale ? { stale: true } : {};
  let made: Made = { view, todo: { run: [], claim: [], waiting: [] }, first: { tip: view.tip, files: view.files, ...stale }, end: {} };
  for (const step of STEPS[how.act]) made = { ...made, ...(await step(c, made)) };
  return made.end;
}

/**
 * The view step, which opens the cycle: the checkout recovered, the tip read and viewed, the cycle's frozen context
 * and its record of work made from it and this machine's local state.
 */
async function viewStep(machine: Machine, how: Resolved, result: SyncResult, lock: HeldLock, seen: { model?: RepoModel }): Promise<Cycle> {
  const { act, todo, io, daemon } = how;
  const { now, log } = io;
  const { health, journal } = await recover(machine, act, result, now, log);
  const early = io.fetched ?? (await io.headStart?.().then((t) => (t ? { tip: t } : undefined)));
  const read = await readTip(machine, early, act, now, log, io.looked);
  // What this machine can do, asked once the tip is in, while it is parsed: a cron sync reads it from its cache,
  // a machine with nothing found asks git and the agent CLIs (coord init asks git only). A cycle that fails first still waits for the
  // questions (syncMachine), so that none outlives its deadline.
  const capabilities = machineCapabilities(machine, todo.askAgents);
  capabilities.catch(() => {}); // awaited below, where a failure counts
  const { view, observedBefore } = await readFleet(machine, read, journal, act, result, io, seen);
  const [{ caps, stale }, bucket, keyNotice] = await Promise.all([
    capabilities,
    readBucket(machine.stateDir),
    machine.signing?.publicKey ? readKeyNotice(machine.stateDir) : undefined,
  ]);
  const context: CycleContext = {
    m: machine,
    act,
    now,
    log,
    pushBudgetMs: io.pushBudgetMs,
    ...(io.waitTurn ? { waitTurn: io.waitTurn } : {}),
    ...(io.signal ? { stopping: io.signal } : {}),
    ...(daemon.onModel && act !== "dry-run" ? { onModel: daemon.onModel } : {}),
    ...(daemon.turns ? { turns: daemon.turns } : {}),
    ...(daemon.onReceived && act !== "dry-run" ? { onReceived: daemon.onReceived } : {}),
    ...(daemon.urged ? { urged: daemon.urged } : {}),
    ...(todo.onCallHere && act === "run" && machine.config.onCall !== undefined ? { onCallHere: true as const, ...(todo.onCallRun ? { onCallRun: todo.onCallRun } : {}) } : {}),
    inTurn: inTurn(),
    lock,
    health,
    observedBefore,
    ...(keyNotice ? { keyNotice } : {}),
    askCaps: async () => {
      const found = await machineCapabilities(machine, todo.askAgents);
      return { caps: found.caps, capsStale: found.stale };
    },
  };
  const work: WorkRecord = { journal, claimed: new Map(), running: new Map(), caps, ...(stale ? { capsStale: true } : {}) };
  return { ...context, work, budget: bucket ? { bucket } : {}, said: {}, result, view };
}

/** The recover step: the checkout repaired, orphans of a crash killed and their tasks reported interrupted. */
async function recover(machine: Machine, act: Act, result: SyncResult, now: () => Date, log: (line: string) => void): Promise<{ health: Health; journal: Journal }> {
  const { config, stateDir } = machine;
  const health = await readHealth(stateDir);
  // Leftover locks and half-done merges every time; the history check only after a failed sync.
  const repaired = act === "dry-run" || !machine.checkout ? [] : await machine.checkout.repair({ log, fsck: health.failures > 0 }).catch(() => []);
  for (const r of repaired) result.warnings.push(`the checkout: ${r}`);
  const journal = await Journal.open(stateDir);
  if (act !== "dry-run") {
    for (const [id, t] of Object.entries(journal.tasks)) {
      if (t.state !== "in_progress") continue;
      // Without a pid too: coord may have stopped between the task's start and the write of its pid (a second signal).
      if (await killOrphan(t.pid, taskMarker({ name: config.name, stateDir }, id, t, t.attempts))) continue;
      if (!t.pid) continue;
      // Left running across an update by a coord before per-run markers: its leader must carry that marker, which
      // another checkout's task of the same name and order may carry too.
      const before = legacyTaskMarker(config.name, id, t, t.attempts);
      if ((await carriesMarker(t.pid, before)) === true) await killOrphan(t.pid, before);
    }
    result.interrupted = await journal.recoverInterrupted(now());
    for (const id of result.interrupted) log(`${id}: was interrupted (coord stopped while it ran); reported failed`);
  }
  return { health, journal };
}

/** The read step: the hub's tip (fetched, or `early`: as the caller fetched it a moment ago) and its files; an old hub upgraded first. */
async function readTip(
  machine: Machine,
  early: CycleOptions["fetched"],
  act: Act,
  now: () => Date,
  log: (line: string) => void,
  looked?: string,
): Promise<{ tip: string; files: Map<string, string> }> {
  const { config, hub } = machine;
  if (!early) log(`fetching ${config.remote}/${config.branch} and ${config.remote}/${MACHINES_BRANCH}${looked ? " (as the look brought them)" : ""}`);
  let tip = early?.tip ?? (await hub.fetch(looked));
  if (!tip) throw new CoordError(`the remote has no branch ${config.branch}; run coord init to scaffold it`, EXIT.USAGE);
  let files = early?.files ?? (await hub.readFiles(tip, READ_PATHS));
  if (act !== "dry-run" && !splitTip(tip)?.machines && isOldLayout(files)) {
    // A hub of an older coord (the machines' files on the people's branch): moved to two branches first, losing nothing.
    tip = (await upgradeOnce(machine, now, log)) ?? tip;
    files = await hub.readFiles(tip, READ_PATHS);
  }
  return { tip, files };
}

/** The fleet as the first read sees it, and the observations of the others' clocks it began with (saved at the end when they changed). */
interface Fleet {
  view: TipView;
  observedBefore: Map<string, Observation>;
}

/** The fleet step: the tip viewed (verified, read, this machine checked to be itself and able to sign); its journal rebuilt if lost. */
async function readFleet(
  machine: Machine,
  { tip, files }: { tip: string; files: Map<string, string> },
  journal: Journal,
  act: Act,
  result: SyncResult,
  { now, log }: Pick<Resolved["io"], "now" | "log">,
  seen: { model?: RepoModel },
): Promise<Fleet> {
  const { config, stateDir } = machine;
  let observedBefore = new Map<string, Observation>();
  const view = await viewTip(
    machine,
    { tip, files },
    {
      by: "read",
      now,
      log,
      observedBefore: async () => (observedBefore = await readObserved(stateDir)),
      check: (model) => {
        seen.model = model;
        checkSigning(machine, model);
      },
    },
  );
  for (const r of view.refusals) log(`refused ${describeRefusal(r)}`);
  const { model } = view;
  const published = model.computers.get(config.name)?.tasks;
  if (journal.fresh && published && Object.keys(published).length && act !== "dry-run") {
    // A machine that signs takes its reports in only as it signed them: a report someone else pushed is not its word.
    const key = machine.signing?.publicKey;
    const signed = key ? await lastSignedComputer(machine.hub, tip, config.name, key) : undefined;
    await journal.adopt(key && machine.hub.signedChanges ? (signed?.file.tasks ?? {}) : published);
    log(
      `the local journal was missing: rebuilt it from this machine's published file${signed && !signed.newest ? `, as it last signed it (commit ${signed.commit.slice(0, 12)})` : ""}`,
    );
  }
  result.ordersProblems = model.ordersProblems;
  result.fileProblems = model.fileProblems;
  for (const p of model.ordersProblems) log(formatProblem(p));
  return { view, observedBefore };
}

type Todo = ReturnType<typeof planNow>;

/** The hub upgraded to two branches by this machine (or by another meanwhile): the tip after; a refused push says what to do. */
async function upgradeOnce(m: Machine, now: () => Date, log: (line: string) => void): Promise<string | undefined> {
  try {
    const { tip } = await upgradeHub(m.hub, { author: machineAuthor(m.config.name, m.config.trust.commitEmail), now, log, budgetMs: PUSH_BUDGET_MS, branch: m.config.branch });
    return tip;
  } catch (e) {
    if (!(e instanceof CoordError) || e instanceof RemoteUnreachable) throw e;
    throw new CoordError(
      `this hub keeps the machines' files on ${m.config.branch} (an older coord), and moving them to the branch coord was refused: ${e.message}; ` +
        `run coord hub upgrade in a clone as a person who may push ${m.config.branch}`,
      EXIT.FAILURE,
    );
  }
}

/** Why a sync failed, as health.json counts it. */
function failureKind(e: unknown): FailureKind {
  return e instanceof RemoteUnreachable ? "unreachable" : e instanceof PushRefused ? "refused" : e instanceof HubBusy ? "busy" : "other";
}

/** What a sync did, in one line, when it did anything. */
function runSummary(r: SyncResult, now: Date): string | undefined {
  const parts: string[] = [];
  if (r.ran.length) parts.push(`ran ${r.ran.map((t) => `${t.id} (${t.state})`).join(", ")}`);
  if (r.interrupted.length) parts.push(`found ${r.interrupted.join(", ")} interrupted`);
  if (r.delivered.length) parts.push(`received ${r.delivered.length} message${r.delivered.length === 1 ? "" : "s"}`);
  return parts.length ? `${now.toISOString()}: ${parts.join("; ")}` : undefined;
}

/** This machine's capabilities with its labels, and whether they are older than 10 minutes and asked again (capabilitiesNow). */
async function machineCapabilities(m: Machine, askAgents = true): Promise<{ caps: Record<string, string>; stale: boolean }> {
  const cache = join(m.stateDir, CAPABILITIES_FILE);
  const found = askAgents ? await capabilitiesNow(m.dir, cache) : { caps: await knownCapabilities(m.dir, cache), stale: false };
  for (const label of m.config.labels) found.caps[label] ??= "label";
  return found;
}
