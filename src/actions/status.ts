// coord status: the fleet as the remote's latest commit shows it, or, when the
// remote does not answer soon, as the last fetch saw it (and it says so).
import { listeningLine } from "../state/listen.js";
import { readShareAt } from "../sync/view.js";
import { commitOf } from "../git/hub.js";
import { readModel, type RepoModel } from "../core/repo/repo.js";
import { isOffline, presenceOf } from "../core/fleet/presence.js";
import { deriveStatus } from "../core/status/status.js";
import { unknownName } from "../core/status/terminal.js";
import { CoordError, EXIT } from "../errors.js";
import { DEFAULT_GIT_TIMEOUT, Repo } from "../git/git.js";
import { loadConfig } from "../state/config.js";
import { stateDirOf } from "../state/paths.js";
import { READ_PATHS } from "../sync/sync.js";
import { loadParsed } from "../state/parsed.js";
import { readHealth } from "../state/health.js";
import { currentRun, failuresText, type ReportedHealth } from "../core/fleet/failures.js";
import { remoteUrlOf } from "../git/local.js";
import { readDaemonInfo } from "../daemon/daemon.js";
import { budgetsFor } from "../sync/machine.js";
import { describeBudgets, describeReadShare, type HostBudget, hostBudgetOf } from "../core/hub/reads.js";
import type { StatusJson } from "../core/fleet/status-types.js";

export interface StatusOptions {
  dir: string;
  fetch?: boolean;
  now?: Date;
}

export interface StatusResult {
  status: StatusJson;
  /** What the status was derived from (coord ui reads messages and output tails from it; coord status <machine> and --order the task reports). */
  model: RepoModel;
  commit: string;
  /** Machines whose heartbeat is older than 3 intervals. */
  offline: string[];
  /** Set when the fetch failed: why, and that what is shown is the state as of the last fetch. */
  stale?: string;
  /**
   * This machine's own failed syncs, from its local record, while they last (the hub refused its pushes, or 3
   * failed in a row): the fleet above is what the hub has, which cannot say it while this machine cannot publish.
   */
  local?: { machine: string; text: string; health: ReportedHealth };
  /** This machine's budgets (ORDERS.json's, else its host's: core/hub/reads.ts) and its daemon's looks, in one line. */
  here?: string;
  /** The host of this checkout's hub and its figures (the push budget's line names them). */
  host?: HostBudget;
}

/** Seconds status waits for the remote before it shows the last fetched state. */
export const STATUS_FETCH_TIMEOUT = 10;

export async function status(opts: StatusOptions): Promise<StatusResult> {
  const stateDir = await stateDirOf(opts.dir);
  const config = await loadConfig(stateDir);
  const timeout = Math.min(config?.gitTimeout ?? DEFAULT_GIT_TIMEOUT, STATUS_FETCH_TIMEOUT);
  const repo = new Repo(opts.dir, stateDir, config?.remote ?? "origin", config?.branch ?? "main", timeout);
  let commit: string | undefined;
  let stale: string | undefined;
  if (opts.fetch === false) commit = await repo.resolve(repo.trackingRef);
  else
    try {
      commit = await repo.fetch();
    } catch (e) {
      // The remote is down or silent: what this checkout last fetched is still worth seeing.
      commit = await repo.resolve(repo.trackingRef);
      if (!commit || !(e instanceof CoordError)) throw e;
      const when = await repo.lastFetchedAt();
      stale = `${e.message}; showing the fleet as of the last fetch${when ? ` (${when})` : ""}`;
    }
  if (!commit) throw new CoordError(`no commit of ${repo.remote}/${repo.branch} is known here; run coord status without --no-fetch`, EXIT.FAILURE);
  await loadParsed(stateDir); // what the machine's syncs parsed: a large fleet's files are not parsed again
  const model = readModel(await repo.readFiles(commit, READ_PATHS));
  const status = deriveStatus(model);
  const local = config ? await localFailures(stateDir, config.name) : undefined;
  const here = config ? await budgetHere(opts.dir, stateDir, config.name, config.remote, model, opts.now ?? new Date()) : undefined;
  const host = config ? hostBudgetOf((await remoteUrlOf(opts.dir, config.remote).catch(() => "")) || "unknown-host:") : undefined;
  // The commit named: the machines' branch's, whose files the fleet's state is read from.
  return {
    ...statusAt({ status, model, commit: commitOf(commit, "machines") }, opts.now ?? new Date()),
    ...(stale ? { stale } : {}),
    ...(local ? { local } : {}),
    ...(here ? { here } : {}),
    ...(host ? { host } : {}),
  };
}

/** "izzit7 (this machine), on github.com: 6 pushes a minute and 15 reads a second (GitHub's recommendation); its daemon takes a look every 1 s: …". */
async function budgetHere(dir: string, stateDir: string, me: string, remote: string, model: RepoModel, now: Date): Promise<string> {
  const [url, daemon] = await Promise.all([remoteUrlOf(dir, remote), readDaemonInfo(stateDir).catch(() => undefined)]);
  const host = hostBudgetOf(url || "unknown-host:");
  const b = budgetsFor({ host }, model.controls);
  const share = readShareAt({ host }, me, model, now);
  const running = daemon && !daemon.stoppedAt;
  const looks = !running
    ? `no daemon runs here: it would take ${describeReadShare(share)}`
    : daemon.look === false
      ? "its daemon does not look (--no-look)"
      : `its daemon takes ${describeReadShare(share)}${daemon.looks ? `; since it started: ${daemon.looks.looks} looks, ${daemon.looks.moved} saw a move, ${daemon.looks.reads} reads` : ""}`;
  const listens = await listeningLine(stateDir);
  return `${me} (this machine), on ${host.kind === "local" ? "a hub on a path" : host.host}: ${describeBudgets(b)}; ${looks}${listens ? `\n${listens}` : ""}`;
}

/** This machine's run of failed syncs, when it reports one (core/fleet/failures.ts), in one line. */
export async function localFailures(stateDir: string, machine: string): Promise<StatusResult["local"]> {
  const health = currentRun(await readHealth(stateDir));
  if (!health) return undefined;
  const text = `${machine} (this machine) ${failuresText(health)}; the fleet shown is what the hub has, which this machine cannot update until it syncs again`;
  return { machine, text, health };
}

/** The fleet of a commit as `coord status` shows it at `now`: with the machines offline then. */
export function statusAt(k: Pick<StatusResult, "status" | "model" | "commit">, now: Date): StatusResult {
  const offline = Object.entries(k.status.machines)
    .filter(([, m]) => isOffline(m, now))
    .map(([name]) => name);
  return { status: k.status, model: k.model, commit: k.commit, offline };
}

/** Refuses a machine the fleet does not know, in one sentence with the closest name (exit 2). */
export function checkMachine(r: Pick<StatusResult, "status">, name: string): void {
  if (!Object.hasOwn(r.status.machines, name)) throw new CoordError(unknownName("machine", name, Object.keys(r.status.machines)), EXIT.USAGE);
}

/** Refuses an order ORDERS.json (or, when it is invalid, no machine's report) has, in one sentence with the closest id (exit 2). */
export function checkOrder(r: Pick<StatusResult, "status">, id: string): void {
  if (!Object.hasOwn(r.status.orders, id)) throw new CoordError(unknownName("order", id, Object.keys(r.status.orders)), EXIT.USAGE);
}

/** The view asked for: the fleet, one machine, or one order. */
export type StatusViewKind = { kind: "fleet" } | { kind: "machine"; name: string } | { kind: "order"; id: string };

/** The JSON of a view (coord status --json, coord mcp's status tool): STATUS.json plus the offline list for the fleet; the machine or the order with its reports. */
export function statusView(view: StatusViewKind, r: StatusResult, now: Date): unknown {
  const meta = { commit: r.commit, ...(r.stale ? { stale: r.stale } : {}), ...(r.local ? { local: r.local } : {}), ...(r.here ? { here: r.here } : {}) };
  if (view.kind === "machine") {
    const m = r.status.machines[view.name]!;
    const tasks = Object.fromEntries(
      Object.entries(r.status.orders)
        .filter(([, o]) => Object.hasOwn(o.machines, view.name))
        .map(([id, o]) => [id, { rev: o.rev, ...o.machines[view.name]! }]),
    );
    return { name: view.name, ...m, presence: presenceOf(m, now), tasks, ...meta };
  }
  if (view.kind === "order") {
    const o = r.status.orders[view.id]!;
    const machines = Object.fromEntries(
      Object.entries(o.machines).map(([name, m]) => {
        const tasks = r.model.computers.get(name)?.tasks;
        const report = tasks && Object.hasOwn(tasks, view.id) ? tasks[view.id] : undefined;
        return [name, { ...m, ...(report?.rev === o.rev && report.output ? { output: report.output } : {}) }];
      }),
    );
    return { id: view.id, ...o, machines, ...meta };
  }
  return { ...r.status, offline: r.offline, ...meta };
}

export interface WatchStatusOptions extends StatusOptions {
  /** Time between the end of one refresh and the start of the next. */
  everyMs: number;
  /** Ends the watch (Ctrl-C); a refresh under way is not waited for. */
  signal: AbortSignal;
  /** Told of each refresh: its result, or why it failed with the last result fetched (undefined before the first). */
  show: (refresh: { result?: StatusResult; error?: unknown; at: Date }) => void;
  /** Whether an error ends the watch instead of being shown (default: bad usage does, e.g. an unknown machine). */
  fatal?: (error: unknown) => boolean;
}

const usage = (e: unknown) => e instanceof CoordError && e.exitCode === EXIT.USAGE;

/**
 * `coord status --watch`: fetch and show, again and again until aborted. A
 * refresh that fails shows the last result with why (a fetch that fails is
 * already shown by status() as the last fetched state, said stale), and the
 * watch goes on.
 */
export async function watchStatus(opts: WatchStatusOptions): Promise<void> {
  const { signal } = opts;
  const fatal = opts.fatal ?? usage;
  const aborted = new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
  let last: StatusResult | undefined;
  while (!signal.aborted) {
    const refresh = status(opts).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    const got = await Promise.race([refresh, aborted]);
    if (!got) break; // aborted while fetching
    if ("result" in got) {
      last = got.result;
      opts.show({ result: last, at: new Date() });
    } else {
      if (fatal(got.error)) throw got.error;
      opts.show({ ...(last ? { result: last } : {}), error: got.error, at: new Date() });
    }
    await pause(opts.everyMs, signal);
  }
}

/** Waits `ms` (at most 2^31-1: a timer overflows past it), or until `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.min(Math.max(0, ms), 2 ** 31 - 1));
    signal.addEventListener("abort", done, { once: true });
  });
}
