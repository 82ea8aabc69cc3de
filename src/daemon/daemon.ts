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
import { openSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { CLI_PATH } from "../package.js";
import { cronProblem, nextRun } from "../core/time/cron.js";
import { dueAt, endOf, type LoopEvent, type LoopSettings, type LoopState, nextSyncAt, type Step, start, step, type Why } from "../core/machine/daemon-loop.js";
import { type Bucket, describeReadShare, moveSpreadOf, nextLookAt, type ReadShare, readShareOf, spendReads } from "../core/hub/reads.js";
import type { RepoModel } from "../core/repo/repo.js";
import { budgetsFor, type Machine } from "../sync/machine.js";
import { localLook } from "../git/remote-tip.js";
import { calm, lookOf, type WakesSeen } from "../core/hub/wakes.js";
import { describeFailure } from "../failure.js";
import lockfile from "proper-lockfile";
import { CoordError, EXIT } from "../errors.js";
import { exists, readIfExists, writeDurably } from "../state/files.js";
import { pidAlive } from "../state/lock.js";
import { stateDirOf } from "../state/paths.js";
import { LATE, MAX_TIMEOUT_MS, within } from "../runner/timer.js";
import { readQuiet } from "../state/quiet.js";
import { readServicesFile } from "../state/services.js";
import { openMachine, sync, type SyncResult } from "../sync/sync.js";
import { publishedText } from "../sync/result.js";
import { timings } from "../timings.js";
import { watchSyncRequests } from "./request.js";
import { Supervisor } from "./services.js";
import { onCallEngine } from "../sync/on-call.js";

export const DEFAULT_SCHEDULE = "*/5 * * * *";

/** This machine's time zone (TZ, or the system's): the daemon's schedule is read in it, as cron reads a crontab. */
const LOCAL_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

export interface DaemonInfo {
  pid: number;
  dir: string;
  startedAt: string;
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
 * gone is removed here, so it never blocks the next start.
 */
export async function daemonRunning(stateDir: string): Promise<boolean> {
  const p = paths(stateDir);
  // Alive (perhaps frozen past the lock's stale time: Ctrl-Z, a paused VM) is running: never a second one.
  const written = await readDaemonInfo(stateDir);
  if (written && !written.stoppedAt && written.pid !== process.pid && pidAlive(written.pid) && (await exists(p.lock))) return true;
  const locked = await lockfile.check(join(stateDir, "daemon"), { realpath: false, lockfilePath: p.lock, stale: timings.daemonLockStaleMs });
  if (!locked) return false;
  const info = await readDaemonInfo(stateDir);
  if (info && !info.stoppedAt && info.pid !== process.pid && !pidAlive(info.pid)) {
    await rm(p.lock, { recursive: true, force: true });
    return false;
  }
  return true;
}

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
 * at once.
 */
export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const log = opts.log ?? (() => {});
  const machine = await openMachine(opts.dir);
  const stateDir = machine.stateDir;
  const p = paths(stateDir);
  const schedule = opts.schedule ?? DEFAULT_SCHEDULE;
  checkDaemonOptions(opts);
  let compromised: Error | undefined;
  const stop = new AbortController();
  const release = await takeDaemonLock(stateDir, opts.dir, (e) => {
    compromised = e;
    stop.abort();
  });
  const info: DaemonInfo = {
    pid: process.pid,
    dir: opts.dir,
    startedAt: new Date().toISOString(),
    schedule,
    ...(opts.jitter !== undefined ? { jitter: opts.jitter } : {}),
    ...(opts.look === false ? { look: false as const } : {}),
    ...(process.env.PATH !== undefined ? { path: process.env.PATH } : {}),
  };
  // One write at a time, in order: the last one says how things are (the caller of a save gets its error).
  const saving = inTurn();
  let lastSaved = 0;
  const save = () => {
    if (compromised) return Promise.resolve(); // daemon.json belongs to the daemon that took over
    lastSaved = Date.now();
    const text = JSON.stringify(info, null, 2) + "\n";
    return saving(() => writeDurably(p.info, text));
  };
  /** A daemon.json that cannot be written (a full disk) is said in the log; the daemon goes on syncing. */
  const saveOrSay = () => save().catch((e: unknown) => log(`could not write ${p.info}: ${describeFailure(e).message}`));
  const interrupt = new AbortController();
  const killGit = new AbortController();
  const unlisten = listen(() => stop.abort(), log, opts.signal);

  // When to sync, and what an ask, a poke or a stop does meanwhile: core/machine/daemon-loop.ts. Here: one timer to the
  // loop's next deadline, the syncs it starts, and what it is told.
  const subMinute = schedule.trim().split(/\s+/).length === 6;
  const jitter = opts.jitter ?? (subMinute ? 0 : 30);
  const graceS = opts.stopGrace ?? timings.daemonStopGraceS;
  // Its share of the fleet's reads, as the last tip it read shows the fleet and the budgets (core/hub/reads.ts).
  const reads = readsOf(machine, info);
  const settings: LoopSettings = {
    // The schedule is in this machine's time zone, as cron has it.
    nextTick: (after) => nextRun(schedule, new Date(after), { timezone: LOCAL_ZONE })?.getTime() ?? Number.POSITIVE_INFINITY,
    jitterMs: jitter * 1000,
    heartbeatMs: machine.config.daemonHeartbeat * 1000,
    graceMs: graceS * 1000,
    killGitMs: timings.daemonKillGitS * 1000,
    random: Math.random,
    ...(opts.look === false ? {} : { nextLook: (now: number) => nextLookAt(reads.bucket, now, reads.share, Math.random()) }),
    // The fleet as the last tip showed it: its machines all see a move, and spread their syncs of it.
    get moveSpreadMs() {
      return moveSpreadOf(reads.share.machines);
    },
  };
  // Until the first sync starts (below), nothing it is told does anything: a service's change is published by that sync.
  let state: LoopState = { kind: "stopped" };
  let timer: NodeJS.Timeout | undefined;
  let ended: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (ended = resolve));
  function dispatch(event: LoopEvent) {
    if (state.kind !== "stopped") act(step(state, event, Date.now(), settings));
  }
  function act({ state: next, actions }: Step) {
    state = next;
    for (const a of actions) {
      if (a.type === "log") log(a.line);
      else if (a.type === "sync") void runSync(a.why);
      else if (a.type === "look") void runLook();
      // First its tasks are interrupted (and that is published); a sync still not done later hangs in git (a silent remote).
      else if (a.type === "interrupt") interrupt.abort();
      else killGit.abort();
    }
    const nextSync = nextSyncAt(state);
    if (nextSync !== undefined && Number.isFinite(nextSync)) info.nextSync = new Date(nextSync).toISOString();
    clearTimeout(timer);
    if (state.kind === "stopped") return ended();
    // Always a timer (it keeps the process alive): a wait past setTimeout's limit, or with nothing due, is cut in
    // pieces; a timer that fires before anything is due changes nothing.
    const due = dueAt(state);
    timer = setTimeout(() => dispatch({ type: "timer" }), due === undefined ? MAX_TIMEOUT_MS : Math.min(Math.max(due - Date.now(), 0), MAX_TIMEOUT_MS));
  }
  // The services of this machine run under this daemon: adopted from the daemon before when it left them running.
  // (A change before the loop starts is published by its first sync.)
  const services = new Supervisor(machine, log, () => dispatch({ type: "poked" }));
  await services.open().catch((e: unknown) => log(`services: ${describeFailure(e).message}`));

  // Agents on call (sync/on-call.ts): turns run beside the syncs; an answer or a new step asks for a sync that publishes it.
  // An answer (or a message sent) stored while a sync waits for its turn to push ends that wait: it goes with that push.
  let urge: AbortController | undefined;
  const publish = (urgent: boolean) => {
    if (urgent) urge?.abort();
    dispatch({ type: "publish" });
  };
  const onCall = onCallEngine(machine, { log, publish: (what) => publish(what === "answer") });
  await onCall.recover().catch((e: unknown) => log(`on call: ${describeFailure(e).message}`));

  // The fleet as the last sync read it: whether the machine is calm (core/hub/wakes.ts).
  let lastModel: RepoModel | undefined;
  const runSync = async (why: Why) => {
    const started = Date.now();
    let deferredAt: number | undefined;
    info.syncingSince = new Date(started).toISOString();
    void saveOrSay();
    let ranWork = false;
    let newerTip = false;
    try {
      // Only something stored here to push: built on the tip this machine last saw (its last sync's), not fetched again.
      const seen = why === "publish" ? await machine.repo.trackedNow().catch(() => undefined) : undefined;
      urge = new AbortController();
      // A quiet sync reads no tip: a coord pause (or resume) since the last one still reaches the services.
      await services.refresh().catch((e: unknown) => log(`services: ${describeFailure(e).message}`));
      const r = await sync({
        dir: opts.dir,
        scheduled: true,
        signal: interrupt.signal,
        gitSignal: killGit.signal,
        log,
        heartbeat: machine.config.daemonHeartbeat,
        onModel: (model) => {
          lastModel = model;
          reads.follow(model);
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
        onReceived: () => void onCall.pump(),
        ...(seen ? { fetched: { tip: seen, stale: true as const } } : {}),
        urged: urge.signal,
      });
      if (r.deferred) deferredAt = Date.parse(r.deferred);
      // What it read of the hub: a quiet sync's look, or a fetch (and one more per push that lost its race).
      reads.spend(r.quiet ? 1 : (seen ? 0 : 1) + Math.max(0, r.pushAttempts - 1));
      // Work ended: there may be more for the free slot (the queue drains without waiting for a tick).
      ranWork = r.ran.length > 0;
      newerTip = r.newerTip === true;
      info.lastSync = {
        at: new Date().toISOString(),
        ok: true,
        durationMs: Date.now() - started,
        summary: summarize(r),
        startedAt: new Date(started).toISOString(),
        ...(r.pushed ? { pushed: r.pushed } : {}),
        delivered: r.delivered.slice(0, 100),
        ran: r.ran.map((t) => ({ id: t.id, state: t.state })),
      };
      log(`sync: ${info.lastSync.summary}`);
      // What coord sync prints on stderr: a hub that refused something, local state set aside (else nobody reads it).
      for (const w of r.warnings) log(`warning: ${w}`);
      opts.onSync?.(r);
    } catch (err) {
      const e = err as Error;
      info.lastSync = {
        at: new Date().toISOString(),
        ok: false,
        durationMs: Date.now() - started,
        summary: "failed",
        error: e.message,
        startedAt: new Date(started).toISOString(),
      };
      log(`sync failed: ${e.message}`);
      opts.onSync?.(e);
    }
    delete info.syncingSince;
    urge = undefined;
    // The messages it delivered start their turns (and a /stop stops one), now rather than at the next sync.
    void onCall.pump();
    // A sync that had nothing to do says until when nothing will happen (the quiet stamp, core/machine/quiet.ts): the
    // heartbeat, a retry, another machine's lease; the loop wakes for it when it comes before the next tick.
    const quiet = ranWork ? undefined : await readQuiet(stateDir).catch(() => undefined);
    // A stamp that ends when a publish the push budget held may go (it may carry a message someone waits for).
    // Calm (nothing waits, no ANY order open): it may leave other machines' moves alone for a while (core/hub/wakes.ts).
    const still =
      quiet !== undefined &&
      lastModel !== undefined &&
      calm(
        quiet.waiting.length,
        lastModel.orders?.orders ?? [],
        [...lastModel.computers.values()].map((f) => f.tasks),
      );
    const stamp = quiet ? { until: quiet.until, ...(quiet.deferred !== undefined ? { deferred: Date.parse(quiet.deferred) } : {}), calm: still } : undefined;
    dispatch({ type: "ended", ranWork, ...(newerTip ? { newerTip } : {}), ...endOf(stamp, deferredAt, ranWork) });
    await saveOrSay();
  };
  // One look at the hub: is either branch where this machine last saw it (fetched or pushed)? A hub that does not
  // answer is no move: the schedule's sync says why and backs off (a look never fails the daemon).
  let lookFailed = false;
  const LOOKS_SAVE_MS = 30_000;
  // The wake refs of this machine and of the fleet as its last look saw them (core/hub/wakes.ts): a move of its own is
  // a message or an order for it.
  let lastWakes: WakesSeen = {};
  const runLook = async () => {
    reads.spend(1);
    let look: ReturnType<typeof lookOf> = { moved: false };
    try {
      // A hub on a path is looked at in its own ref files, and the tip this machine last saw in its tracking refs'
      // files: no git process at all (git answers where the files cannot: git/remote-tip.ts localLook).
      const host = machine.host;
      const name = machine.config.name;
      const local = host?.kind === "local" ? await localLook(machine.dir, host.host, machine.config.branch, name).catch(() => undefined) : undefined;
      const seen = local ?? (await machine.hub.look(name));
      look = lookOf(seen, await machine.repo.trackedNow(), lastWakes);
      lastWakes = seen;
      if (lookFailed) log("a look at the hub answers again");
      lookFailed = false;
    } catch (e) {
      if (!lookFailed) log(`a look at the hub failed (${describeFailure(e).message}); the schedule's next sync tries again`);
      lookFailed = true;
    }
    reads.looked(look.moved);
    // daemon.json shows the looks (coord daemon status): written with each sync, and at most every 30 s between.
    if (!look.moved && Date.now() - lastSaved >= LOOKS_SAVE_MS) void saveOrSay();
    dispatch({ type: "looked", ...look });
  };
  const requests = watchSyncRequests(stateDir, (kind) => (kind === "publish" ? publish(true) : dispatch({ type: "asked" })), log);
  // Said before daemon.json names this pid: whoever waits for the pid (daemon start) finds the line.
  log(
    `coord daemon ${process.pid} started for ${opts.dir}: schedule "${schedule}", jitter up to ${jitter}s${opts.look === false ? "; no looks between syncs" : `; ${describeReadShare(reads.share)} until the first sync counts the fleet`}`,
  );
  await save();
  act(start(Date.now())); // a first sync at once
  if (stop.signal.aborted) dispatch({ type: "stop" });
  else stop.signal.addEventListener("abort", () => dispatch({ type: "stop" }), { once: true });
  await stopped;
  clearTimeout(timer);
  requests.close();
  // Turns run under their daemon: stopped with it, each thread told so (published by the next sync).
  await onCall.close("the coord daemon stopped").catch((e: unknown) => log(`on call: ${describeFailure(e).message}`));
  // Services run under a daemon only: they stop with it (a daemon killed -9 leaves them to the next one, which adopts them).
  await services.close().catch((e: unknown) => log(`services: ${describeFailure(e).message}`));
  info.stoppedAt = new Date().toISOString();
  await saveOrSay(); // not when it lost its lock: see save()
  unlisten();
  if (!compromised)
    await release().catch((e: NodeJS.ErrnoException) => {
      // ENOTACQUIRED: the lock is no longer ours (removed by hand): nothing to release.
      if (e.code !== "ENOTACQUIRED") log(`could not release ${p.lock}: ${describeFailure(e).message}`);
    });
  log(`coord daemon ${process.pid} stopped`);
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
  const out = openSync(paths(stateDir).out, "a");
  const args = [CLI_PATH, "daemon", "run", "--dir", opts.dir];
  if (opts.schedule) args.push("--schedule", opts.schedule);
  if (opts.jitter !== undefined) args.push("--jitter", String(opts.jitter));
  if (opts.look === false) args.push("--no-look");
  const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", out, out], env: process.env });
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
  const info = await readDaemonInfo(stateDir);
  if (!info || !(await daemonRunning(stateDir))) return { wasRunning: false, ...(info ? { pid: info.pid } : {}) };
  try {
    process.kill(info.pid, "SIGTERM");
  } catch (e) {
    // ESRCH: it exited between the check and the signal.
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return { pid: info.pid, wasRunning: false };
    throw e;
  }
  const deadline = Date.now() + (opts.timeout ?? 60) * 1000;
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

/** The daemon's reads of the hub: its share (followed from every tip a sync reads), its bucket, and the counts daemon.json shows. */
function readsOf(machine: Machine, info: DaemonInfo) {
  const t = {
    share: readShareOf(budgetsFor(machine, { budgets: {} }).readsPerSecond, 1) as ReadShare,
    bucket: undefined as Bucket | undefined,
    follow(model: RepoModel) {
      t.share = readShareAt(machine, machine.config.name, model, new Date());
      show();
    },
    spend(n: number) {
      t.bucket = spendReads(t.bucket, Date.now(), t.share, n);
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
    info.looks = { every: describeReadShare(t.share), everyMs: t.share.lookEveryMs, ...counts };
  };
  return t;
}
