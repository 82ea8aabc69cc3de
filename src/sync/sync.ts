// One sync cycle: lock → fetch → read one commit → plan → run → publish.
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { gitBlobId } from "../core/blob.js";
import { canonicalComputer, computerFingerprint, renderComputer } from "../core/computer.js";
import { computerPath } from "../core/names.js";
import { formatProblem } from "../core/orders.js";
import { nextAttempt, plan, type Plan } from "../core/plan.js";
import { outputTail } from "../core/redact.js";
import { ORDERS_FILE, readModel, STATUS_JSON, STATUS_MD, type RepoModel } from "../core/repo.js";
import { deriveStatus, renderStatusJson, renderStatusMd } from "../core/status.js";
import type { ComputerFile, Order, Problem, TaskReport } from "../core/types.js";
import { formatDuration } from "../core/duration.js";
import { CoordError, EXIT } from "../errors.js";
import { machineAuthor, Repo } from "../git/git.js";
import { killOrphan, runTask } from "../runner/run.js";
import { messagePath, renderMessageFile, type MessageFile, type Receipts } from "../core/messages.js";
import { deliver, ownMessageFiles, runMessageHooks } from "./mail.js";
import { detectCapabilities } from "../state/capabilities.js";
import { loadConfig, type MachineConfig } from "../state/config.js";
import { Journal } from "../state/journal.js";
import { tryLock } from "../state/lock.js";
import { stateDirOf } from "../state/paths.js";

export const READ_PATHS = [ORDERS_FILE, STATUS_JSON, STATUS_MD, "coordination"];

export interface SyncOptions {
  dir: string;
  /** false: publish status but start no task. */
  run?: boolean;
  /** Say what would run; change nothing. */
  dryRun?: boolean;
  now?: () => Date;
  /** Progress lines for people. */
  log?: (line: string) => void;
  /** Pushes rejected in a row before giving up. */
  maxPushAttempts?: number;
}

export interface TaskOutcome {
  id: string;
  rev: number;
  state: TaskReport["state"];
  exitCode: number | null;
  reason?: string;
}

export interface SyncResult {
  machine: string;
  skipped: boolean;
  /** Tasks run (or, with dryRun, that would run). */
  ran: TaskOutcome[];
  wouldRun: { id: string; rev: number; attempt: number; command: string }[];
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
}

/** Everything a cycle works with, loaded once. */
export interface Machine {
  dir: string;
  stateDir: string;
  config: MachineConfig;
  repo: Repo;
}

export async function openMachine(dir: string): Promise<Machine> {
  const stateDir = await stateDirOf(dir);
  const config = await loadConfig(stateDir);
  if (!config) throw new CoordError(`${dir} has no coord machine config; run coord init there first`, EXIT.USAGE);
  return { dir, stateDir, config, repo: new Repo(dir, stateDir, config.remote, config.branch, config.gitTimeout) };
}

/** Refuses to act as a machine whose name another identity owns. */
export function checkIdentity(model: RepoModel, config: MachineConfig): void {
  const theirs = model.computers.get(config.name);
  if (theirs && theirs.uuid !== config.uuid)
    throw new CoordError(
      `the machine name "${config.name}" is already owned by another machine (uuid ${theirs.uuid}, last seen ${theirs.lastSeen}); ` +
        `choose another name with coord init --name, or, if that machine is this one reinstalled, run coord init --reclaim`,
      EXIT.USAGE,
    );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function sync(opts: SyncOptions): Promise<SyncResult> {
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => {});
  const machine = await openMachine(opts.dir);
  const { config, repo, stateDir } = machine;
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
  const lock = await tryLock(stateDir);
  if (!lock) return { ...result, skipped: true };
  try {
    const journal = await Journal.open(stateDir);
    if (!opts.dryRun) {
      for (const [id, t] of Object.entries(journal.tasks))
        if (t.state === "in_progress" && t.pid) await killOrphan(t.pid, taskMarker(config.name, id, t.rev, t.attempts));
      result.interrupted = await journal.recoverInterrupted(now());
      for (const id of result.interrupted) log(`${id}: was interrupted (coord stopped while it ran); reported failed`);
    }
    log(`fetching ${config.remote}/${config.branch}`);
    const tip = await repo.fetch();
    if (!tip) throw new CoordError(`the remote has no branch ${config.branch}; run coord init to scaffold it`, EXIT.USAGE);
    const files = await repo.readFiles(tip, READ_PATHS);
    const model = readModel(files);
    checkIdentity(model, config);
    result.ordersProblems = model.ordersProblems;
    result.fileProblems = model.fileProblems;
    const machines = [...new Set([...model.machineNames, config.name])].sort();
    const todo: Plan = model.orders
      ? plan({ orders: model.orders.orders, machine: config.name, machines, journal: journal.tasks, now: now() })
      : { run: [], waiting: [] };
    result.waiting = todo.waiting.map((w) => ({ id: w.order.id, reason: w.reason }));
    for (const p of model.ordersProblems) log(formatProblem(p));

    if (!opts.dryRun) {
      const fresh = await deliver(machine, model);
      result.delivered = fresh.map((x) => x.id);
      if (fresh.length) log(`${fresh.length} new message${fresh.length === 1 ? "" : "s"}: ${result.delivered.join(", ")}`);
      if (opts.run !== false) result.hookAcked = await runMessageHooks(machine, fresh, log);
    }
    if (opts.dryRun) {
      result.wouldRun = todo.run.map((o) => ({ id: o.id, rev: o.rev, attempt: nextAttempt(o, journal.tasks[o.id]), command: o.run ?? "" }));
      return result;
    }
    if (opts.run !== false) {
      for (const order of todo.run) {
        if (lock.compromised) {
          result.warnings.push(`the sync lock was lost (${lock.compromised.message}); no further task started`);
          break;
        }
        log(`${order.id}: running (rev ${order.rev})`);
        const outcome = await runOne(machine, journal, order, now);
        log(`${order.id}: ${outcome.state}${outcome.reason ? ` (${outcome.reason})` : ""}`);
        result.ran.push(outcome);
      }
    }
    const caps = await detectCapabilities(opts.dir);
    const ranSomething = result.ran.length > 0;
    await publish(machine, journal, caps, result, { tip: ranSomething ? undefined : tip, files: ranSomething ? undefined : files }, now, log, opts.maxPushAttempts ?? 10);
    return result;
  } finally {
    await lock.release();
  }
}

/** Set in a task's environment, so a task orphaned by a crash can be recognised and stopped. */
const taskMarker = (machine: string, id: string, rev: number, attempt: number) => `${machine}/${id}/r${rev}/a${attempt}`;

function expandHome(path: string | undefined): string {
  const home = homedir();
  if (!path) return home;
  if (path === "~") return home;
  if (path.startsWith("~/")) return join(home, path.slice(2));
  return resolve(home, path);
}

function describeFailure(r: Awaited<ReturnType<typeof runTask>>, timeout: number, cwd: string): string | undefined {
  if (r.error) return `could not start in ${cwd}: ${r.error}`;
  if (r.timedOut) return `timed out after ${formatDuration(timeout)}; its process group was killed`;
  if (r.signal) return `killed by ${r.signal}`;
  if (r.exitCode !== 0) return `exit code ${r.exitCode}`;
  return undefined;
}

async function runOne(m: Machine, journal: Journal, order: Order, now: () => Date): Promise<TaskOutcome> {
  const attempt = nextAttempt(order, journal.tasks[order.id]);
  const logFile = join(m.stateDir, "logs", `${order.id}.r${order.rev}.a${attempt}.log`);
  const startedAt = now().toISOString();
  const base = { rev: order.rev, attempts: attempt, startedAt, log: logFile };
  // Durable before the process exists: a crash from here on is an interruption, never a second run.
  await journal.set(order.id, { ...base, state: "in_progress" });
  const timeout = order.timeout ?? m.config.defaultTimeout;
  const cwd = expandHome(order.cwd);
  const marker = taskMarker(m.config.name, order.id, order.rev, attempt);
  const r = await runTask({
    command: order.run!,
    cwd,
    timeout,
    logFile,
    env: {
      ...(process.env as Record<string, string>),
      ...order.env,
      COORD_MACHINE: m.config.name,
      COORD_ORDER: order.id,
      COORD_REV: String(order.rev),
      COORD_ATTEMPT: String(attempt),
      COORD_TASK: marker,
    },
    onStart: (pid) => void journal.set(order.id, { ...base, state: "in_progress", pid }),
  });
  const reason = describeFailure(r, timeout, cwd);
  const state = reason ? "failed" : "completed";
  const output = outputTail(r.tail, m.config.outputLines);
  await journal.set(order.id, {
    ...base,
    state,
    exitCode: r.exitCode,
    finishedAt: now().toISOString(),
    ...(reason ? { reason } : {}),
    ...(output ? { output } : {}),
  });
  return { id: order.id, rev: order.rev, state, exitCode: r.exitCode, ...(reason ? { reason } : {}) };
}

/** The machine's own file as its journal says, on top of what the remote has. */
export function buildComputer(
  config: MachineConfig,
  journal: Journal,
  caps: Record<string, string>,
  model: RepoModel,
  ordersText: string | undefined,
  now: Date,
  receipts: Receipts = {},
): ComputerFile {
  const known = model.orders ? new Set(model.orders.orders.map((o) => o.id)) : undefined;
  const tasks: Record<string, TaskReport> = {};
  for (const [id, entry] of Object.entries(journal.tasks)) {
    if (known && !known.has(id)) continue; // orders removed from ORDERS.json leave the file (git keeps history)
    const { log: _log, pid: _pid, ...report } = entry;
    tasks[id] = report;
  }
  const error = model.ordersProblems[0];
  return {
    coord: 1,
    name: config.name,
    uuid: config.uuid,
    state: Object.values(tasks).some((t) => t.state === "in_progress") ? "working" : "idle",
    lastSeen: now.toISOString(),
    heartbeat: config.heartbeat,
    capabilities: caps,
    orders: {
      seen: ordersText === undefined ? "" : gitBlobId(ordersText),
      valid: model.orders !== undefined,
      ...(error ? { error: formatProblem(error) } : {}),
    },
    tasks,
    messages: receipts,
  };
}

/** The bytes to write: this machine's file and the derived ones, changed paths only. */
export function renderChanges(files: Map<string, string>, model: RepoModel, input: ComputerFile, messageFiles: MessageFile[] = []): Map<string, string> {
  const mine = canonicalComputer(input);
  const own = computerPath(mine.name);
  const ownPaths = new Set([own, ...messageFiles.map((f) => messagePath(f.from, f.to))]);
  const computers = new Map(model.computers).set(mine.name, mine);
  const machineNames = [...new Set([...model.machineNames, mine.name])].sort();
  const view: RepoModel = {
    ...model,
    computers,
    machineNames,
    fileProblems: model.fileProblems.filter((p) => !ownPaths.has(p.file)),
    messageFiles: [...model.messageFiles.filter((f) => !ownPaths.has(messagePath(f.from, f.to))), ...messageFiles],
  };
  const status = deriveStatus(view);
  const wanted = new Map([
    [own, renderComputer(mine)],
    ...messageFiles.map((f): [string, string] => [messagePath(f.from, f.to), renderMessageFile(f)]),
    [STATUS_JSON, renderStatusJson(status)],
    [STATUS_MD, renderStatusMd(status)],
  ]);
  for (const [path, content] of wanted) if (files.get(path) === content) wanted.delete(path);
  return wanted;
}

function commitMessage(name: string, result: SyncResult): string {
  if (result.ran.length) return `coord: ${name} ran ${result.ran.map((r) => `${r.id} (${r.state})`).join(", ")}`;
  if (result.interrupted.length) return `coord: ${name} reports ${result.interrupted.join(", ")} interrupted`;
  return `coord: ${name} status`;
}

async function publish(
  m: Machine,
  journal: Journal,
  caps: Record<string, string>,
  result: SyncResult,
  first: { tip?: string; files?: Map<string, string> },
  now: () => Date,
  log: (line: string) => void,
  maxAttempts: number,
): Promise<void> {
  const { config, repo } = m;
  let tip = first.tip;
  let files = first.files;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (!tip || !files) {
      tip = await repo.fetch();
      if (!tip) throw new CoordError(`the remote branch ${config.branch} disappeared`, EXIT.FAILURE);
      files = await repo.readFiles(tip, READ_PATHS);
    }
    const model = readModel(files);
    checkIdentity(model, config);
    result.ordersProblems = model.ordersProblems;
    const own = await ownMessageFiles(m, model, now());
    const ownPaths = new Set([computerPath(config.name), ...own.files.map((f) => messagePath(f.from, f.to))]);
    result.fileProblems = model.fileProblems.filter((p) => !ownPaths.has(p.file));
    const mine = buildComputer(config, journal, caps, model, files.get(ORDERS_FILE), now(), own.receipts);
    const previous = model.computers.get(config.name);
    if (previous && computerFingerprint(previous) === computerFingerprint(mine)) {
      const age = now().getTime() - Date.parse(previous.lastSeen);
      if (age < config.heartbeat * 1000) mine.lastSeen = previous.lastSeen; // nothing new and no heartbeat due
    }
    const changes = renderChanges(files, model, mine, own.files);
    if (changes.size === 0) {
      await fastForward(repo, tip, result);
      return;
    }
    result.pushAttempts = attempt;
    const commit = await repo.commitFiles(tip, changes, machineAuthor(config.name), commitMessage(config.name, result));
    if (await repo.push(commit)) {
      result.pushed = commit;
      journal.data.lastPublished = mine.lastSeen;
      await journal.save();
      await fastForward(repo, commit, result);
      log(`published ${commit.slice(0, 12)} (${[...changes.keys()].join(", ")})`);
      return;
    }
    log(`push rejected (someone pushed first); retrying on the new tip`);
    tip = undefined;
    files = undefined;
    // Jittered exponential backoff, bounded: 50ms, 100ms, … up to 2s, times 0.5–1.5.
    await sleep(Math.min(2000, 50 * 2 ** (attempt - 1)) * (0.5 + Math.random()));
  }
  throw new CoordError(`gave up publishing after ${maxAttempts} rejected pushes (the remote is very busy); results are kept and the next sync publishes them`, EXIT.FAILURE);
}

async function fastForward(repo: Repo, commit: string, result: SyncResult): Promise<void> {
  const warning = await repo.fastForward(commit);
  if (warning) result.warnings.push(warning);
}
