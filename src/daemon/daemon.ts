// coord daemon: syncs on a schedule (a cron expression, with random jitter so a
// fleet does not push at the same second; its loop: core/machine/daemon-loop.ts), in
// the background, for months. Its pid file and lock live in the local state; a
// kill -9 leaves nothing that blocks the next start (the lock goes stale, the
// pid file is only information).
import { readShareAt } from "../sync/view.js";
import { inTurn } from "../serial.js";
import { backingOff } from "../core/time/backoff.js";
import { currentRun, failuresText } from "../core/fleet/failures.js";
import { plural } from "../core/limits.js";
import { readHealth } from "../state/health.js";
import { ownSignals } from "../signal-owners.js";
import { spawn } from "node:child_process";
import { rm, stat } from "node:fs/promises";
import { openOwnAppendSync } from "../state/files.js";
import { join } from "node:path";
import { CLI_PATH } from "../package.js";
import { cronProblem, nextRun } from "../core/time/cron.js";
import { dueAt, endOf, type LoopEvent, type LoopSettings, type LoopState, nextSyncAt, type Step, start, step, type Why } from "../core/machine/daemon-loop.js";
import { type Bucket, describeReadShare, EAGER_FOR_MS, MIN_LOOK_MS, moveSpreadOf, nextLookAt, type ReadShare, readShareOf, spendReads } from "../core/hub/reads.js";
import type { RepoModel } from "../core/repo/repo.js";
import { budgetsFor, type GitMachine, type Machine } from "../sync/machine.js";
import { localLook } from "../git/remote-tip.js";
import { calm, lookOf, type WakesSeen } from "../core/hub/wakes.js";
import { describeFailure } from "../failure.js";
import lockfile from "proper-lockfile";
import { CoordError, EXIT } from "../errors.js";
import { exists, readIfExists, writeDurably } from "../state/files.js";
import { stillRuns } from "../state/lock.js";
import { stateDirOf } from "../state/paths.js";
import { LATE, MAX_TIMEOUT_MS, within } from "../runner/timer.js";
import { readQuiet } from "../state/quiet.js";
import { readServicesFile } from "../state/services.js";
import { openMachine, type SyncOptions, sync, type SyncResult } from "../sync/sync.js";
import { publishedText } from "../sync/result.js";
import { timings } from "../timings.js";
import { watchSyncRequests } from "./request.js";
import { Supervisor } from "./services.js";
import { type OnCallEngine, onCallEngine } from "../sync/on-call.js";
import { ownTree } from "../platform/tree.js";
import { processIdentity } from "../platform/processes.js";

export const DEFAULT_SCHEDULE = "*/5 * * * *";

/** This machine's time zone (TZ, or the system's): the daemon's schedule is read in it, as cron reads a crontab. */
const LOCAL_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

export interface DaemonInfo {
  pid: number;
  dir: string;
  startedAt: string;
  /** Which process it is (platform/processes.ts processIdentity: Linux only), so that a pid used again is not taken for it. */
  process?: string;
  schedule: string;
  /** Seconds of random delay before each sync. */
  jitter?: number;
  /** false: it does not look at the hub between ticks (--no-look). */
  look?: false;
  lastSync?: {
    at: string;
    ok: boolean;
    durationMs: number;
    summary: string;
    error?: string;
    /** When it started: a sync asked for (daemon/request.ts) is answered by one that started after the request. */
    startedAt?: string;
    /** The commit it pushed, the messages it delivered (ids, at most 100) and the tasks it ran. */
    pushed?: string;
    delivered?: string[];
    ran?: { id: string; state: string }[];
  };
  nextSync?: string;
  /** Its looks at the hub (core/hub/reads.ts): how often it looks now, and the reads it made since it started. */
  looks?: { every: string; everyMs: number; looks: number; moved: number; reads: number };
  /** Set while a sync runs: when it started. */
  syncingSince?: string;
  stoppedAt?: string;
  /** The PATH it runs with: the agent CLI of a turn on call is looked for there (coord doctor checks it). */
  path?: string;
  /** Set while its looks at the hub fail (the hub cannot be reached): since when, and why; cleared when one answers or a sync lands. */
  lookFailed?: { at: string; error: string };
}

export interface DaemonOptions {
  dir: string;
  /** A cron expression (5 fields, or 6 with seconds). */
  schedule?: string;
  /** Seconds of random delay before each sync (default: 30, or a tenth of a sub-minute schedule). */
  jitter?: number;
  /** Seconds a running sync may take to finish after a stop, before its tasks are interrupted. */
  stopGrace?: number;
  log?: (line: string) => void;
  /** Aborting stops the daemon (as SIGTERM does). */
  signal?: AbortSignal;
  /** Called after each sync (for watch, tests). */
  onSync?: (r: SyncResult | Error) => void;
  /**
   * false: the daemon never looks at the hub between its schedule's ticks (as cron would). By default it looks as
   * often as its share of the fleet's reads allows (core/hub/reads.ts), and syncs at once when the hub moved.
   */
  look?: boolean;
}

const paths = (stateDir: string) => ({
  info: join(stateDir, "daemon.json"),
  lock: join(stateDir, "daemon.lock"),
  out: join(stateDir, "daemon.out"),
});

export async function readDaemonInfo(stateDir: string): Promise<DaemonInfo | undefined> {
  const text = await readIfExists(paths(stateDir).info);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as DaemonInfo;
  } catch {
    return undefined; // not JSON (not written by coord): no daemon info; the next daemon writes it anew
  }
}

/**
 * Whether a daemon runs for this checkout now: its lock is held and the pid
 * that wrote the pid file is alive. A lock left by a kill -9 whose process is
 * gone is removed here, so it never blocks the next start; a lock made since
 * daemon.json was last written is a newer daemon's, in its first moments,
 * before it names itself there: kept.
 */
export async function daemonRunning(stateDir: string): Promise<boolean> {
  const p = paths(stateDir);
  // Alive (perhaps frozen past the lock's stale time: Ctrl-Z, a paused VM) is running: never a second one.
  const written = await readDaemonInfo(stateDir);
  // A pid used again since that daemon ended (a kill -9, then a reboot) is another process: no daemon, never signalled.
  if (written && !written.stoppedAt && written.pid !== process.pid && (await daemonAlive(written)) && (await exists(p.lock))) return true;
  const locked = await lockfile.check(join(stateDir, "daemon"), { realpath: false, lockfilePath: p.lock, stale: timings.daemonLockStaleMs });
  if (!locked) return false;
  const info = await readDaemonInfo(stateDir);
  if (info && !info.stoppedAt && info.pid !== process.pid && !(await daemonAlive(info)) && !(await lockNewerThanInfo(p))) {
    await rm(p.lock, { recursive: true, force: true });
    return false;
  }
  return true;
}

/** Whether the daemon's lock was made after daemon.json was last written (where the system says when a directory was made). */
async function lockNewerThanInfo(p: ReturnType<typeof paths>): Promise<boolean> {
  const [lock, info] = await Promise.all([stat(p.lock).catch(() => undefined), stat(p.info).catch(() => undefined)]);
  return lock !== undefined && info !== undefined && lock.birthtimeMs > 0 && lock.birthtimeMs > info.mtimeMs;
}

/** Whether daemon.json names the daemon that runs now: not one that stopped, nor one whose pid is gone or another's. */
async function namesLiveDaemon(info: DaemonInfo): Promise<boolean> {
  return !info.stoppedAt && (await daemonAlive(info));
}

/**
 * Whether the daemon daemon.json names may still run: its pid is alive and, where daemon.json says which process it
 * was (`process`, Linux), is that process, not one that got the pid since (state/lock.ts stillRuns).
 */
const daemonAlive = (info: DaemonInfo): Promise<boolean> => stillRuns(info.pid, typeof info.process === "string" ? info.process : undefined);

function alreadyRunning(dir: string, info: DaemonInfo | undefined): CoordError {
  return new CoordError(`a coord daemon is already running for ${dir}${info ? ` (pid ${info.pid}, since ${info.startedAt})` : ""}`, EXIT.USAGE);
}

function summarize(r: SyncResult): string {
  if (r.backoff) return backingOff(r.backoff, new Date());
  if (r.skipped) return "skipped (another sync was running)";
  const parts = [];
  if (r.ran.length) parts.push(`ran ${r.ran.map((t) => `${t.id} (${t.state})`).join(", ")}`);
  if (r.delivered.length) parts.push(plural(r.delivered.length, "new message"));
  for (const l of r.reservationsLost ?? []) parts.push(l.text);
  parts.push(publishedText(r));
  return parts.join("; ");
}

/**
 * Runs the daemon in this process until stopped (SIGTERM, SIGINT, or the
 * signal): a sync at every tick of the schedule, and again at once after a
 * sync that ran work (the queue drains without waiting for a tick); never two
 * at once. Its steps: the lock taken, the signals listened to, the engines
 * beside the syncs opened (`Daemon.open`), the loop run until a stop
 * (`Daemon.run`), the engines closed (`Daemon.close`), the lock released.
 */
export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const log = opts.log ?? (() => {});
  const machine = await openMachine(opts.dir);
  checkDaemonOptions(opts);
  // Aborted when the lock was taken over (it went stale while this process was frozen): the daemon stops.
  const lockLost = new AbortController();
  const release = await takeDaemonLock(machine.stateDir, opts.dir, () => lockLost.abort());
  const daemon = new Daemon(machine, opts, log, lockLost.signal);
  const unlisten = listen(() => daemon.stop.abort(), log, opts.signal);
  await daemon.open();
  await daemon.run();
  await daemon.close();
  unlisten();
  if (!lockLost.signal.aborted)
    await release().catch((e: NodeJS.ErrnoException) => {
      // ENOTACQUIRED: the lock is no longer ours (removed by hand): nothing to release.
      if (e.code !== "ENOTACQUIRED") log(`could not release ${paths(machine.stateDir).lock}: ${describeFailure(e).message}`);
    });
  log(`coord daemon ${process.pid} stopped`);
}

/**
 * How old at most a look's tip may be for the sync of its move to take it instead of fetching (ms): one look's pace at
 * its fastest (core/hub/reads.ts MIN_LOOK_MS). A move synced later (spread over the fleet, or a quiet machine's minute)
 * fetches: the hub has likely moved again since.
 */
const BROUGHT_FRESH_MS = MIN_LOOK_MS;
/** How often at most daemon.json is written between syncs to show the looks (coord daemon status). */
const LOOKS_SAVE_MS = 30_000;

/**
 * A running daemon: the state its timer, syncs and looks share, in one object. When to sync and look, and what an
 * ask, a poke or a stop does meanwhile, is the pure loop's (core/machine/daemon-loop.ts); here are its state, one timer
 * to its next deadline, the syncs and looks it starts, and what it is told.
 */
class Daemon {
  readonly info: DaemonInfo;
  /** Aborted to stop: a signal, the caller's signal, the lock lost. */
  readonly stop = new AbortController();
  /** Aborted when a stop's grace is over: the running sync's tasks are interrupted (and that is published). */
  private readonly interrupt = new AbortController();
  /** Aborted when a stopped sync still is not done: it hangs in git (a silent remote), whose processes are killed. */
  private readonly killGit = new AbortController();
  private readonly schedule: string;
  private readonly jitter: number;
  /** Its share of the fleet's reads, as the last tip it read shows the fleet and the budgets (core/hub/reads.ts). */
  private readonly reads: Reads;
  private readonly settings: LoopSettings;
  /** The services of this machine: they run under this daemon (adopted from the daemon before when it left them running). */
  private readonly services: Supervisor;
  /** Agents on call (sync/on-call.ts): turns run beside the syncs; an answer or a new step asks for a sync that publishes it. */
  private readonly onCall: OnCallEngine;
  /** One write of daemon.json at a time, in order: the last one says how things are. */
  private readonly saving = inTurn();
  private lastSaved = 0;
  /** How often it looked (ms) as the daemon.json it last wrote says: a new pace is written at the next look. */
  private savedLookEvery: number | undefined;
  /** The loop's state: stopped until the first sync starts, so nothing it is told before does anything. */
  private state: LoopState = { kind: "stopped" };
  private timer: NodeJS.Timeout | undefined;
  private ended: () => void = () => {};
  /** Resolves when the loop stopped. */
  private readonly stopped = new Promise<void>((resolve) => (this.ended = resolve));
  /** The fleet as the last sync read it: whether the machine is calm (core/hub/wakes.ts). */
  private lastModel: RepoModel | undefined;
  /** Whether the last look failed (said once, and once when looks answer again). */
  private lookFailed = false;
  /**
   * The tip the last look saw and brought (Hub.look), when, and the tracking tip then (`base`): a sync within
   * BROUGHT_FRESH_MS of it takes that tip, unless something else in this checkout (a coord status, a coord sync by hand)
   * fetched or pushed meanwhile: then the tracking refs may be newer than the look's tip, and the sync fetches.
   */
  private brought: { tip: string; at: number; base: string | undefined } | undefined;
  /** The wake refs of this machine and of the fleet as its last look saw them (core/hub/wakes.ts). */
  private lastWakes: WakesSeen = {};
  /**
   * Aborted when an answer (or a message sent) is stored while the running sync waits for its turn to push: that
   * wait ends, and it goes with that push. None between syncs.
   */
  private urge: AbortController | undefined;

  constructor(
    private readonly machine: GitMachine,
    private readonly opts: DaemonOptions,
    private readonly log: (line: string) => void,
    /** Aborted when the lock was taken over: daemon.json belongs to the daemon that took over. */
    private readonly lockLost: AbortSignal,
  ) {
    this.schedule = opts.schedule ?? DEFAULT_SCHEDULE;
    this.info = {
      pid: process.pid,
      dir: opts.dir,
      startedAt: new Date().toISOString(),
      schedule: this.schedule,
      ...(opts.jitter !== undefined ? { jitter: opts.jitter } : {}),
      ...(opts.look === false ? { look: false as const } : {}),
      ...(process.env.PATH !== undefined ? { path: process.env.PATH } : {}),
    };
    const subMinute = this.schedule.trim().split(/\s+/).length === 6;
    this.jitter = opts.jitter ?? (subMinute ? 0 : 30);
    this.reads = readsOf(machine, this.info, () => this.onCall?.onCall() === true);
    this.settings = loopSettings(machine, opts, this.schedule, this.jitter, this.reads);
    lockLost.addEventListener("abort", () => this.stop.abort(), { once: true });
    if (lockLost.aborted) this.stop.abort();
    this.services = new Supervisor(machine, this.log, () => this.dispatch({ type: "poked" }));
    this.onCall = onCallEngine(machine, { log: this.log, publish: (what) => this.publish(what === "answer") });
  }

  /** Something stored here to publish (an answer, a step, a message sent): a publish, urgent or not. */
  private publish(urgent: boolean): void {
    if (urgent) this.urge?.abort();
    // What someone waits for goes out: the reply to it may come as soon (a question to an agent, an answer, a decision).
    if (urgent) this.reads.eagerUntil = Date.now() + EAGER_FOR_MS;
    this.dispatch({ type: "publish" });
  }

  /** Its daemon.json written (the caller gets its error); not when it lost its lock. */
  private save(): Promise<void> {
    if (this.lockLost.aborted) return Promise.resolve(); // daemon.json belongs to the daemon that took over
    this.lastSaved = Date.now();
    this.savedLookEvery = this.info.looks?.everyMs;
    const text = JSON.stringify(this.info, null, 2) + "\n";
    return this.saving(() => writeDurably(paths(this.machine.stateDir).info, text));
  }

  /** A daemon.json that cannot be written (a full disk) is said in the log; the daemon goes on syncing. */
  private saveOrSay(): Promise<void> {
    return this.save().catch((e: unknown) => this.log(`could not write ${paths(this.machine.stateDir).info}: ${describeFailure(e).message}`));
  }

  /** Tells the loop something happened; before the first sync starts (and after the stop), nothing does anything. */
  private dispatch(event: LoopEvent): void {
    if (this.state.kind !== "stopped") this.act(step(this.state, event, Date.now(), this.settings));
  }

  /** Does what the loop says: its new state, its actions, and the one timer to its next deadline. */
  private act({ state: next, actions }: Step): void {
    this.state = next;
    for (const a of actions) {
      if (a.type === "log") this.log(a.line);
      else if (a.type === "sync") void this.runSync(a.why);
      else if (a.type === "look") void this.runLook();
      // First its tasks are interrupted (and that is published); a sync still not done later hangs in git (a silent remote).
      else if (a.type === "interrupt") this.interrupt.abort();
      else this.killGit.abort();
    }
    const nextSync = nextSyncAt(this.state);
    if (nextSync !== undefined && Number.isFinite(nextSync)) this.info.nextSync = new Date(nextSync).toISOString();
    clearTimeout(this.timer);
    if (this.state.kind === "stopped") {
      this.ended();
      return;
    }
    // Always a timer (it keeps the process alive): a wait past setTimeout's limit, or with nothing due, is cut in
    // pieces; a timer that fires before anything is due changes nothing.
    const due = dueAt(this.state);
    const wait = due === undefined ? MAX_TIMEOUT_MS : Math.min(Math.max(due - Date.now(), 0), MAX_TIMEOUT_MS);
    this.timer = setTimeout(() => this.dispatch({ type: "timer" }), wait);
  }

  /**
   * The engines beside the syncs opened: the services adopted from the daemon before (a change before the loop starts
   * is published by its first sync), and the turns a crashed coord left running recovered.
   */
  async open(): Promise<void> {
    const me = await processIdentity(process.pid);
    if (me) this.info.process = me;
    // Said before daemon.json names this pid: whoever waits for the pid (daemon start) finds the line. Named at once:
    // until then daemon.json names the daemon before this one (daemonRunning, stopDaemon).
    const looks = this.opts.look === false ? "; no looks between syncs" : `; ${describeReadShare(this.reads.share)} until the first sync counts the fleet`;
    this.log(`coord daemon ${process.pid} started for ${this.opts.dir}: schedule "${this.schedule}", jitter up to ${this.jitter}s${looks}`);
    await this.save();
    await this.services.open().catch((e: unknown) => this.log(`services: ${describeFailure(e).message}`));
    await this.onCall.recover().catch((e: unknown) => this.log(`on call: ${describeFailure(e).message}`));
  }

  /** The loop, from a first sync at once until a stop: a command's request for a sync is watched meanwhile. */
  async run(): Promise<void> {
    const { stop } = this;
    const requests = watchSyncRequests(this.machine.stateDir, (kind) => (kind === "publish" ? this.publish(true) : this.dispatch({ type: "asked" })), this.log);
    this.act(start(Date.now())); // a first sync at once
    if (stop.signal.aborted) this.dispatch({ type: "stop" });
    else stop.signal.addEventListener("abort", () => this.dispatch({ type: "stop" }), { once: true });
    await this.stopped;
    clearTimeout(this.timer);
    requests.close();
  }

  /** What runs under the daemon stops with it, and daemon.json says it stopped. */
  async close(): Promise<void> {
    // Turns run under their daemon: stopped with it, each thread told so (published by the next sync).
    await this.onCall.close("the coord daemon stopped").catch((e: unknown) => this.log(`on call: ${describeFailure(e).message}`));
    // Services run under a daemon only: they stop with it (a daemon killed -9 leaves them to the next one, which adopts them).
    await this.services.close().catch((e: unknown) => this.log(`services: ${describeFailure(e).message}`));
    this.info.stoppedAt = new Date().toISOString();
    await this.saveOrSay(); // not when it lost its lock: see save()
  }

  /** One sync the loop started, for `why`: its result in daemon.json and the log, and its end told to the loop. */
  private async runSync(why: Why): Promise<void> {
    const started = Date.now();
    this.info.syncingSince = new Date(started).toISOString();
    void this.saveOrSay();
    let r: SyncResult | undefined;
    try {
      // A quiet sync reads no tip: a coord pause (or resume) since the last one still reaches the services.
      await this.services.refresh().catch((e: unknown) => this.log(`services: ${describeFailure(e).message}`));
      // Only something stored here to push: built on the tip this machine last saw (its last sync's), not fetched again.
      const seen = why === "publish" ? await this.machine.repo.trackedNow().catch(() => undefined) : undefined;
      // The move a look saw a moment ago: its tip, which that look brought, is the sync's (a read of the hub saved).
      // Taken by every sync, so that none takes a tip older than what one before it read or pushed.
      const brought = this.takeBrought();
      const looked = why === "moved" && brought && (await this.machine.repo.trackedNow().catch(() => undefined)) === brought.base ? brought.tip : undefined;
      this.urge = new AbortController();
      r = await sync({
        ...this.syncOptions(why),
        ...(seen ? { fetched: { tip: seen, stale: true as const } } : {}),
        ...(looked ? { looked } : {}),
        urged: this.urge.signal,
      });
      this.synced(r, started, seen !== undefined || looked !== undefined);
    } catch (err) {
      this.failed(err as Error, started);
    }
    delete this.info.syncingSince;
    this.urge = undefined;
    // The messages it delivered start their turns (and a /stop stops one), now rather than at the next sync.
    void this.onCall.pump();
    // Work ended: there may be more for the free slot (the queue drains without waiting for a tick).
    const ranWork = r !== undefined && r.ran.length > 0;
    const newerTip = r?.newerTip === true;
    const deferredAt = r?.deferred ? Date.parse(r.deferred) : undefined;
    const stamp = await this.quietStamp(ranWork);
    this.dispatch({ type: "ended", ranWork, ...(newerTip ? { newerTip } : {}), ...endOf(stamp, deferredAt, ranWork) });
    await this.saveOrSay();
  }

  /** How the daemon's sync for `why` runs. */
  private syncOptions(why: Why): SyncOptions {
    const { machine, services } = this;
    return {
      dir: this.opts.dir,
      scheduled: true,
      signal: this.interrupt.signal,
      gitSignal: this.killGit.signal,
      log: this.log,
      heartbeat: machine.config.daemonHeartbeat,
      onModel: (model) => {
        this.lastModel = model;
        this.reads.follow(model);
        return services.apply(model);
      },
      // The hub moved (a look saw it): no second look at the tip before the fetch. Asked for (a message to publish)
      // or poked (a service changed): something local changed, maybe while the last sync ran, after it read the
      // local state and before its quiet stamp took the state's fingerprint: the stamp would answer "nothing changed".
      full: !services.ready || why === "moved" || why === "asked" || why === "poked" || why === "turn" || why === "publish",
      // Its last publish ends the sync until a far turn to push, instead of holding it (its looks go on meanwhile);
      // the wake for it pushes at once.
      turns: why === "turn" ? "now" : "defer",
      // The turns of what it delivers start at once, beside the rest of the sync (its publish).
      onReceived: () => void this.onCall.pump(),
    };
  }

  /** A sync that ended: its reads counted, said in daemon.json and the log. */
  private synced(r: SyncResult, started: number, onSeenTip: boolean): void {
    // What it read of the hub: a quiet sync's look, or a fetch (none for a publish on the tip it saw), and one more
    // per push that lost its race.
    this.reads.spend(r.quiet ? 1 : (onSeenTip ? 0 : 1) + Math.max(0, r.pushAttempts - 1));
    this.info.lastSync = {
      at: new Date().toISOString(),
      ok: true,
      durationMs: Date.now() - started,
      summary: summarize(r),
      startedAt: new Date(started).toISOString(),
      ...(r.pushed ? { pushed: r.pushed } : {}),
      delivered: r.delivered.slice(0, 100),
      ran: r.ran.map((t) => ({ id: t.id, state: t.state })),
    };
    if (!r.backoff && !r.skipped) delete this.info.lookFailed; // it reached the hub
    this.log(`sync: ${this.info.lastSync.summary}`);
    // What coord sync prints on stderr: a hub that refused something, local state set aside (else nobody reads it).
    for (const w of r.warnings) this.log(`warning: ${w}`);
    this.opts.onSync?.(r);
  }

  /** A sync that failed: said in daemon.json and the log. */
  private failed(e: Error, started: number): void {
    this.info.lastSync = {
      at: new Date().toISOString(),
      ok: false,
      durationMs: Date.now() - started,
      summary: "failed",
      error: e.message,
      startedAt: new Date(started).toISOString(),
    };
    this.log(`sync failed: ${e.message}`);
    this.opts.onSync?.(e);
  }

  /**
   * A sync that had nothing to do says until when nothing will happen (the quiet stamp, core/machine/quiet.ts): the
   * heartbeat, a retry, another machine's lease; the loop wakes for it when it comes before the next tick.
   */
  private async quietStamp(ranWork: boolean) {
    const quiet = ranWork ? undefined : await readQuiet(this.machine.stateDir).catch(() => undefined);
    if (!quiet) return undefined;
    // A stamp that ends when a publish the push budget held may go (it may carry a message someone waits for).
    // Calm (nothing waits, no ANY order open): it may leave other machines' moves alone for a while (core/hub/wakes.ts).
    const model = this.lastModel;
    const still =
      model !== undefined &&
      calm(
        quiet.waiting.length,
        model.orders?.orders ?? [],
        [...model.computers.values()].map((f) => f.tasks),
      );
    return { until: quiet.until, ...(quiet.deferred !== undefined ? { deferred: Date.parse(quiet.deferred) } : {}), calm: still };
  }

  /** What the last look brought, when that look ended a moment ago (BROUGHT_FRESH_MS), once. */
  private takeBrought(): { tip: string; base: string | undefined } | undefined {
    const b = this.brought;
    this.brought = undefined;
    return b !== undefined && Date.now() - b.at <= BROUGHT_FRESH_MS ? b : undefined;
  }

  /**
   * One look at the hub: is either branch where this machine last saw it (fetched or pushed)? A hub that does not
   * answer is no move: the schedule's sync says why and backs off (a look never fails the daemon).
   */
  private async runLook(): Promise<void> {
    const { machine, reads } = this;
    reads.spend(1);
    let look: ReturnType<typeof lookOf> = { moved: false };
    try {
      // A hub on a path is looked at in its own ref files, and the tip this machine last saw in its tracking refs'
      // files: no git process at all (git answers where the files cannot: git/remote-tip.ts localLook).
      const host = machine.host;
      const name = machine.config.name;
      const local = host?.kind === "local" ? await localLook(machine.dir, host.host, machine.config.branch, name).catch(() => undefined) : undefined;
      // The wake refs the last look saw are asked for by name (Hub.look), the others as patterns.
      const seen = local ?? (await machine.hub.look(name, this.lastWakes));
      // A move of its own wake ref is a message or an order for it.
      const tracked = await machine.repo.trackedNow();
      look = lookOf(seen, tracked, this.lastWakes);
      this.lastWakes = seen;
      // Over the network the look brought the tip's commits: a sync for its move right after takes them (no second read).
      this.brought = !local && seen.tip !== undefined ? { tip: seen.tip, at: Date.now(), base: tracked } : undefined;
      if (this.lookFailed) this.log("a look at the hub answers again");
      if (this.lookFailed && this.info.lookFailed) {
        delete this.info.lookFailed;
        void this.saveOrSay();
      }
      this.lookFailed = false;
    } catch (e) {
      const why = describeFailure(e).message;
      if (!this.lookFailed) {
        this.log(`a look at the hub failed (${why}); the schedule's next sync tries again`);
        // In daemon.json at once: coord send says the hub cannot be reached instead of "the daemon publishes it now".
        this.info.lookFailed = { at: new Date().toISOString(), error: why };
        void this.saveOrSay();
      }
      this.lookFailed = true;
    }
    reads.looked(look.moved);
    // daemon.json shows the looks (coord daemon status): written with each sync, and at most every 30 s between.
    // A pace that changed (an agent on call, a reply awaited: core/hub/reads.ts EAGER_LOOK_MS) is written at once.
    if (!look.moved && (Date.now() - this.lastSaved >= LOOKS_SAVE_MS || this.info.looks?.everyMs !== this.savedLookEvery)) void this.saveOrSay();
    this.dispatch({ type: "looked", ...look });
  }
}

/** When the daemon's loop syncs and looks (core/machine/daemon-loop.ts): its schedule, jitter, heartbeat, grace and looks. */
function loopSettings(machine: Machine, opts: DaemonOptions, schedule: string, jitter: number, reads: Reads): LoopSettings {
  const graceS = opts.stopGrace ?? timings.daemonStopGraceS;
  return {
    // The schedule is in this machine's time zone, as cron has it.
    nextTick: (after) => nextRun(schedule, new Date(after), { timezone: LOCAL_ZONE })?.getTime() ?? Number.POSITIVE_INFINITY,
    jitterMs: jitter * 1000,
    heartbeatMs: machine.config.daemonHeartbeat * 1000,
    graceMs: graceS * 1000,
    killGitMs: timings.daemonKillGitS * 1000,
    random: Math.random,
    ...(opts.look === false ? {} : { nextLook: (now: number) => nextLookAt(reads.bucket, now, reads.pace(now), Math.random()) }),
    // The fleet as the last tip showed it: its machines all see a move, and spread their syncs of it.
    get moveSpreadMs() {
      return moveSpreadOf(reads.share.machines);
    },
  };
}

/**
 * Takes this checkout's daemon lock (proper-lockfile, kept fresh while the daemon runs; stale after a kill -9), or
 * says a daemon already runs. `onCompromised`: the lock was taken over (it went stale while this process was frozen).
 */
async function takeDaemonLock(stateDir: string, dir: string, onCompromised: (e: Error) => void): Promise<() => Promise<void>> {
  // (daemonRunning also clears the lock of a daemon that was killed -9.)
  if (await daemonRunning(stateDir)) throw alreadyRunning(dir, await readDaemonInfo(stateDir));
  try {
    return await lockfile.lock(join(stateDir, "daemon"), {
      realpath: false,
      lockfilePath: paths(stateDir).lock,
      stale: timings.daemonLockStaleMs,
      update: timings.daemonLockUpdateMs,
      onCompromised,
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ELOCKED") throw e;
    throw alreadyRunning(dir, await readDaemonInfo(stateDir));
  }
}

/**
 * What the daemon listens for while it runs: SIGTERM, SIGINT and the caller's signal stop it; an error no sync caught
 * is logged. Returns what stops listening.
 */
function listen(onStop: () => void, log: (line: string) => void, signal: AbortSignal | undefined): () => void {
  process.on("SIGTERM", onStop);
  process.on("SIGINT", onStop);
  const releaseSignals = ownSignals();
  // The last line of defence of a process that runs for months: an error no sync caught (a
  // stray stream or timer) is logged as one sentence and the daemon goes on; the next tick syncs.
  // (A write to an output nobody reads any more is no error to log: logging it would fail the same way.)
  const onStray = (e: unknown) => {
    if ((e as NodeJS.ErrnoException)?.code !== "EPIPE") log(`error outside a sync, ignored: ${describeFailure(e).message}`);
  };
  process.on("uncaughtException", onStray);
  process.on("unhandledRejection", onStray);
  signal?.addEventListener("abort", onStop, { once: true });
  return () => {
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
    releaseSignals();
    process.off("uncaughtException", onStray);
    process.off("unhandledRejection", onStray);
    signal?.removeEventListener("abort", onStop);
  };
}

/** Refuses a schedule or jitter the daemon could not use, with one sentence. */
export function checkDaemonOptions(opts: { schedule?: string; jitter?: number }): void {
  const bad = opts.schedule === undefined ? undefined : cronProblem(opts.schedule, { seconds: true });
  if (bad)
    throw new CoordError(
      `--schedule "${opts.schedule}" is not a cron expression: ${bad}; write it like "*/5 * * * *" (every 5 minutes) or "*/10 * * * * *" (every 10 seconds)`,
      EXIT.USAGE,
    );
  if (opts.jitter !== undefined && !(Number.isFinite(opts.jitter) && opts.jitter >= 0))
    throw new CoordError(`--jitter must be a number of seconds, 0 or more (like --jitter 30)`, EXIT.USAGE);
}

/** How long `daemon start` waits for the new daemon to take its lock (a loaded machine starts node slowly). */
const START_TIMEOUT_S = 30;

/** Starts the daemon in the background (a detached process); returns its pid. */
export async function startDaemon(opts: { dir: string; schedule?: string; jitter?: number; look?: false }): Promise<number> {
  return (await ensureDaemon(opts, false)).pid;
}

/**
 * Starts the daemon unless one runs for this checkout (what the crontab lines of `coord daemon install` run every
 * few minutes): `started` false and the running one's pid then, also when another start won the race.
 * With `ifNotRunning` false, a running daemon is a usage error (exit 2).
 */
export async function ensureDaemon(opts: { dir: string; schedule?: string; jitter?: number; look?: false }, ifNotRunning = true): Promise<{ pid: number; started: boolean }> {
  checkDaemonOptions(opts); // here, not only in the background process
  const stateDir = await stateDirOf(opts.dir);
  await openMachine(opts.dir); // a clear error now rather than in the background
  const running = async () => {
    const info = await readDaemonInfo(stateDir);
    if (!ifNotRunning) throw alreadyRunning(opts.dir, info);
    return { pid: info?.pid ?? 0, started: false };
  };
  if (await daemonRunning(stateDir)) return running();
  const out = openOwnAppendSync(paths(stateDir).out);
  const args = [CLI_PATH, "daemon", "run", "--dir", opts.dir];
  if (opts.schedule) args.push("--schedule", opts.schedule);
  if (opts.jitter !== undefined) args.push("--jitter", String(opts.jitter));
  if (opts.look === false) args.push("--no-look");
  const child = spawn(process.execPath, args, { ...ownTree(), stdio: ["ignore", out, out], env: process.env });
  child.unref();
  // Started when it holds the lock and wrote its pid; failed if it exits first.
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const deadline = Date.now() + START_TIMEOUT_S * 1000;
  while (Date.now() < deadline) {
    const info = await readDaemonInfo(stateDir);
    if (info && info.pid === child.pid && !info.stoppedAt) return { pid: child.pid!, started: true };
    const code = await within(exited, 100);
    // Another start took the lock first (two crontab lines at the same minute): that one runs.
    if (code === EXIT.USAGE && (await daemonRunning(stateDir))) return running();
    if (code !== LATE) throw new CoordError(`the daemon exited at once (code ${code}); see ${paths(stateDir).out}`, EXIT.FAILURE);
  }
  throw new CoordError(`the daemon did not start within ${START_TIMEOUT_S} s; see ${paths(stateDir).out}`, EXIT.FAILURE);
}

/** Stops the daemon (SIGTERM: it finishes or cleanly interrupts the running sync); waits for it to exit. */
export async function stopDaemon(opts: { dir: string; timeout?: number }): Promise<{ pid?: number; wasRunning: boolean }> {
  const stateDir = await stateDirOf(opts.dir);
  const deadline = Date.now() + (opts.timeout ?? 60) * 1000;
  let info = await readDaemonInfo(stateDir);
  if (!info || !(await daemonRunning(stateDir))) return { wasRunning: false, ...(info ? { pid: info.pid } : {}) };
  // A daemon in its first moments holds the lock while daemon.json still names the one before it (stopped, or killed
  // and its pid perhaps another process's now): its own line comes at once. Never a signal to a pid that is not it.
  while (!(await namesLiveDaemon(info))) {
    if (Date.now() >= deadline) throw new CoordError(`a daemon holds ${paths(stateDir).lock} but ${paths(stateDir).info} does not name it; try again`, EXIT.FAILURE);
    await new Promise((r) => setTimeout(r, 100));
    info = await readDaemonInfo(stateDir);
    if (!info || !(await daemonRunning(stateDir))) return { wasRunning: false, ...(info ? { pid: info.pid } : {}) };
  }
  try {
    process.kill(info.pid, "SIGTERM");
  } catch (e) {
    // ESRCH: it exited between the check and the signal.
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return { pid: info.pid, wasRunning: false };
    throw e;
  }
  while (Date.now() < deadline) {
    if (!(await daemonRunning(stateDir))) return { pid: info.pid, wasRunning: true };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new CoordError(`the daemon (pid ${info.pid}) did not stop within ${opts.timeout ?? 60} s; kill it with: kill ${info.pid}`, EXIT.FAILURE);
}

export interface DaemonStatus {
  running: boolean;
  info?: DaemonInfo;
  uptimeSeconds?: number;
  /** The services it supervises (or did), as .git/coord/services.json says. */
  services?: { id: string; state: string; pid?: number; health?: string; reason?: string }[];
  /** This machine's run of failed syncs while it lasts (the hub refused its pushes, or 3 failed in a row), in one line. */
  failing?: string;
}

export async function daemonStatus(dir: string): Promise<DaemonStatus> {
  const stateDir = await stateDirOf(dir);
  const info = await readDaemonInfo(stateDir);
  const running = await daemonRunning(stateDir);
  const services = [...(await readServicesFile(stateDir)).services.values()].map((r) => ({
    id: r.id,
    state: r.state,
    ...(r.pid !== undefined ? { pid: r.pid } : {}),
    ...(r.health ? { health: r.health.status } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
  }));
  const run = currentRun(await readHealth(stateDir));
  const failing = run ? `this machine ${failuresText(run)}` : undefined;
  return {
    running,
    ...(failing ? { failing } : {}),
    ...(info ? { info } : {}),
    ...(running && info ? { uptimeSeconds: Math.round((Date.now() - Date.parse(info.startedAt)) / 1000) } : {}),
    ...(services.length ? { services } : {}),
  };
}

/** The daemon's reads of the hub (`readsOf`). */
type Reads = ReturnType<typeof readsOf>;

/**
 * The daemon's reads of the hub: its share (followed from every tip a sync reads), its bucket, and the counts daemon.json
 * shows. `onCall`: whether an agent is on call here now (its looks are eager then: core/hub/reads.ts EAGER_LOOK_MS).
 */
function readsOf(machine: Machine, info: DaemonInfo, onCall: () => boolean) {
  const t = {
    share: readShareOf(budgetsFor(machine, { budgets: {} }).readsPerSecond, 1) as ReadShare,
    bucket: undefined as Bucket | undefined,
    /** Until when (ms) it looks eagerly after publishing something someone waits for (EAGER_FOR_MS). */
    eagerUntil: 0,
    /** The share its looks are paced by at `now`: eager while an agent is on call here, or after such a publish. */
    pace(now: number): ReadShare {
      return onCall() || now < t.eagerUntil ? readShareOf(t.share.budget, t.share.machines, true) : t.share;
    },
    follow(model: RepoModel) {
      t.share = readShareAt(machine, machine.config.name, model, new Date());
      show();
    },
    spend(n: number) {
      t.bucket = spendReads(t.bucket, Date.now(), t.pace(Date.now()), n);
      counts.reads += n;
      show();
    },
    looked(moved: boolean) {
      counts.looks++;
      if (moved) counts.moved++;
      show();
    },
  };
  const counts = { looks: 0, moved: 0, reads: 0 };
  const show = () => {
    const now = t.pace(Date.now());
    info.looks = { every: describeReadShare(now), everyMs: now.lookEveryMs, ...counts };
  };
  return t;
}
