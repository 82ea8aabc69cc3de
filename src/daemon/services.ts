// The daemon's supervisor of services: it starts each service ORDERS.json
// addresses to this machine as a process group of its own, restarts it when it
// exits (core/services/services.ts says when, and when it has failed for good), runs
// its health check, and stops it (its whole group) when it is removed,
// cancelled, redefined or the fleet is stopped. What it does is kept in
// .git/coord/services.json, which every publish reads. A daemon that starts
// while a service of the one before still runs (that one was killed -9)
// adopts it: same pid and same process start time; otherwise it is not that
// process, and the service starts anew.
import { join } from "node:path";
import { haltOf, type Halt } from "../core/hub/controls.js";
import type { RepoModel } from "../core/repo/repo.js";
import {
  describeExit,
  healthNext,
  healthStart,
  isUp,
  NO_SERVICES,
  type Observed,
  planServices,
  restartDecision,
  type Service,
  type ServicesRead,
} from "../core/services/services.js";
import { clip } from "../core/limits.js";
import { isStartMark } from "../core/platform/processes.js";
import { formatDuration } from "../core/time/duration.js";
import { describeFailure } from "../failure.js";
import { runTask } from "../runner/run.js";
import { killTree } from "../platform/tree.js";
import { boundLog, isSameProcess, processMark, spawnService, stopGroup } from "../runner/service.js";
import { setLongTimeout } from "../runner/timer.js";
import { readPause } from "../state/pause.js";
import { readServicesFile, SERVICE_LOG_CAP, SERVICES_DIR, type ServiceRecord, type ServicesFile, serviceLog, writeServicesFile } from "../state/services.js";
import { resolveOrderSecrets } from "../state/secrets.js";
import type { Machine } from "../sync/machine.js";
import { allowedDir, inheritedEnv } from "../sync/tasks.js";
import { timings } from "../timings.js";

/** A process of a service this daemon watches. */
interface Live {
  pid: number;
  /** Being stopped on purpose: its exit is no crash. */
  stopping: boolean;
  /** Started by another daemon (not a child of this one): watched by its pid and start time. */
  adopted: boolean;
  /** Its health check is scheduled (an adopted one's once the daemon knows its definition). */
  checked: boolean;
  cancelHealth: () => void;
}

/** How often adopted processes are looked at, and logs bounded. */
const HOUSEKEEPING_MS = 1000;

export class Supervisor {
  private file: ServicesFile = { services: new Map() };
  private live = new Map<string, Live>();
  private restartTimers = new Map<string, () => void>();
  /** The services of the last model, addressed here or not, by id. */
  private defs = new Map<string, Service>();
  private read?: ServicesRead;
  private model?: RepoModel;
  private halt?: Halt;
  private chain: Promise<unknown> = Promise.resolve();
  private housekeeping?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly m: Machine,
    private readonly log: (line: string) => void,
    /** Called when something a person should see changed (a start, a failure, a health change): the daemon publishes it. */
    private readonly onChange: () => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Whether it knows what ORDERS.json wants (after the first full sync). */
  get ready(): boolean {
    return this.model !== undefined;
  }

  /** One change at a time: the reconciles, exits, restarts and health results never interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch((e: unknown) => this.log(`services: ${describeFailure(e).message}`));
    return next;
  }

  /** Reads what the daemon before left, adopts the processes that are still the ones it started, and says it supervises. */
  async open(): Promise<void> {
    await this.serial(async () => {
      this.file = await readServicesFile(this.m.stateDir);
      const start = await processMark(process.pid);
      this.file.supervisor = { pid: process.pid, ...(start ? { start } : {}) };
      for (const r of this.file.services.values()) {
        if (!isUp(r.state)) continue;
        const alive = r.pid !== undefined && r.start !== undefined && (await isSameProcess(r.pid, r.start)) === true;
        if (alive && r.state === "running") {
          if (isStartMark(r.start!)) r.start = (await processMark(r.pid!)) ?? r.start; // an older coord's mark: its identity from now on
          this.live.set(r.id, { pid: r.pid!, stopping: false, adopted: true, checked: false, cancelHealth: () => {} });
          this.log(`service ${r.id}: adopted pid ${r.pid} (started ${r.startedAt ?? "earlier"} under the daemon before)`);
        } else {
          // Gone while no daemon watched it (or never started): the plan starts it again.
          this.setState(r, "stopped", r.state === "backoff" ? "was waiting to restart when its daemon stopped" : "exited while no daemon supervised it");
        }
      }
      await this.save();
    });
    this.housekeeping = setInterval(() => void this.serial(() => this.look()), HOUSEKEEPING_MS);
    this.housekeeping.unref();
  }

  /** What a sync read: the services ORDERS.json wants now and the fleet's controls. */
  apply(model: RepoModel): Promise<void> {
    return this.serial(async () => {
      this.model = model;
      this.read = model.services ?? NO_SERVICES;
      this.defs = new Map(this.read.services.map((s) => [s.id, s] as const));
      await this.reconcile();
    });
  }

  /** Again with the last model (a local pause may have come or gone). */
  refresh(): Promise<void> {
    return this.serial(async () => {
      if (this.model) await this.reconcile();
    });
  }

  private async reconcile(): Promise<void> {
    if (this.closed || !this.model || !this.read) return;
    const me = this.m.config.name;
    this.halt = haltOf(me, this.model.controls, await readPause(this.m.stateDir));
    const observed = new Map<string, Observed>([...this.file.services].map(([id, r]) => [id, { state: r.state, hash: r.hash }]));
    let changed = false;
    for (const [id, action] of planServices(me, this.read, observed, this.halt)) {
      if (action.do === "keep") continue;
      changed = true;
      if (action.do === "start") await this.start(action.service);
      else if (action.do === "restart") {
        this.log(`service ${id}: ${action.reason}: restarting it`);
        await this.stop(id, action.reason);
        const r = this.file.services.get(id);
        if (r) r.restarts = []; // a new definition: its failures are forgotten
        await this.start(action.service);
      } else {
        this.log(`service ${id}: stopping it (${action.reason})`);
        await this.stop(id, action.reason);
        if (action.by === "removed") this.file.services.delete(id);
      }
    }
    // An adopted process gets its health check once its definition is known (the same one it was started with).
    for (const [id, live] of this.live) {
      const want = this.defs.get(id);
      const r = this.file.services.get(id);
      if (live.checked || !want?.health || !r || r.hash !== want.hash || r.state !== "running") continue;
      r.health ??= healthStart(this.now());
      this.scheduleHealth(id, want, live);
    }
    if (changed) await this.changed();
  }

  private setState(r: ServiceRecord, state: ServiceRecord["state"], reason?: string): void {
    r.state = state;
    r.since = this.now().toISOString();
    if (reason) r.reason = clip(reason, 400);
    else delete r.reason;
    if (!isUp(state) || state === "backoff") {
      delete r.pid;
      delete r.start;
      delete r.startedAt;
      delete r.health;
    }
    if (state !== "backoff") delete r.nextStartAt;
  }

  private async save(): Promise<void> {
    await writeServicesFile(this.m.stateDir, this.file).catch((e: unknown) => this.log(`services: could not write services.json: ${describeFailure(e).message}`));
  }

  private async changed(): Promise<void> {
    await this.save();
    this.onChange();
  }

  /** Starts `service` (its record says how it went). */
  private async start(service: Service): Promise<void> {
    const id = service.id;
    this.restartTimers.get(id)?.();
    this.restartTimers.delete(id);
    const now = this.now();
    const r: ServiceRecord = this.file.services.get(id) ?? { id, rev: service.rev, hash: service.hash, state: "starting", restarts: [], since: now.toISOString() };
    r.rev = service.rev;
    r.hash = service.hash;
    this.file.services.set(id, r);
    const dir = await allowedDir(this.m, service.cwd);
    if ("refused" in dir) return this.setState(r, "failed", `${dir.refused}; not started`);
    let named: Record<string, string> = {};
    if (service.secretRefs) {
      const resolved = await resolveOrderSecrets(this.m, service.secretRefs);
      if ("refused" in resolved) return this.setState(r, "failed", `${resolved.refused}; not started`);
      named = resolved.env;
    }
    const spawned = await spawnService({
      command: service.run,
      cwd: dir.cwd,
      env: { ...inheritedEnv(), ...service.env, ...named, COORD_MACHINE: this.m.config.name, COORD_SERVICE: id, COORD_SERVICE_REV: String(service.rev) },
      logFile: serviceLog(this.m.stateDir, id),
    });
    if ("error" in spawned) {
      // A start that fails counts as an exit: restarted with backoff, failed after restart.max.
      this.setState(r, "starting");
      this.log(`service ${id}: could not start: ${spawned.error}`);
      return this.afterExit(r, service, spawned.error);
    }
    this.setState(r, "running");
    r.pid = spawned.pid;
    if (spawned.start) r.start = spawned.start;
    else delete r.start;
    r.startedAt = now.toISOString();
    if (service.health) r.health = healthStart(now);
    const live: Live = { pid: spawned.pid, stopping: false, adopted: false, checked: false, cancelHealth: () => {} };
    this.live.set(id, live);
    this.scheduleHealth(id, service, live);
    this.log(`service ${id}: started, pid ${spawned.pid}`);
    void spawned.exited.then(({ code, signal }) => this.serial(() => this.exited(id, spawned.pid, code, signal)));
  }

  /** Its process exited (not stopped on purpose): its group's leftovers go, and it is restarted or failed. */
  private async exited(id: string, pid: number, code: number | null, signal: string | null): Promise<void> {
    const live = this.live.get(id);
    if (!live || live.pid !== pid || live.stopping) return;
    live.cancelHealth();
    this.live.delete(id);
    killTree(pid, "SIGKILL"); // what it started in its group goes with it: the next start is the only copy
    const r = this.file.services.get(id);
    if (!r) return;
    r.lastExit = { code, signal, at: this.now().toISOString() };
    const exit = describeExit(code, signal);
    this.log(`service ${id}: pid ${pid} ${exit}`);
    const service = this.defs.get(id);
    if (!service) {
      this.setState(r, "stopped", exit);
      return this.changed();
    }
    await this.afterExit(r, service, exit);
    await this.changed();
  }

  private async afterExit(r: ServiceRecord, service: Service, exit: string): Promise<void> {
    if (this.halt || this.closed) {
      this.setState(r, "stopped", `${exit}; not restarted (${this.halt?.reason ?? "its daemon is stopping"})`);
      return;
    }
    const now = this.now().getTime();
    const d = restartDecision(r.restarts, now, service.restart, exit);
    r.restarts = d.restarts;
    if (!d.restart) {
      this.setState(r, "failed", d.reason);
      this.log(`service ${r.id}: failed: ${d.reason}`);
      return;
    }
    this.setState(r, "backoff", `${exit}; restart ${d.restarts.length} of ${service.restart.max} within ${formatDuration(service.restart.window)}, in ${formatDuration(d.delay)}`);
    r.nextStartAt = new Date(now + d.delay * 1000).toISOString();
    const id = r.id;
    this.restartTimers.set(
      id,
      setLongTimeout(() => {
        this.restartTimers.delete(id);
        void this.serial(async () => {
          const rec = this.file.services.get(id);
          const want = this.defs.get(id);
          // Still waiting, still wanted as it was, nothing halts it: the restart.
          if (rec?.state !== "backoff" || !want || want.hash !== rec.hash || want.cancelled || this.halt || this.closed) return;
          await this.start(want);
          await this.changed();
        });
      }, d.delay * 1000),
    );
  }

  /** Stops service `id`'s process group (if it runs) and records it stopped with `reason`. */
  private async stop(id: string, reason: string): Promise<void> {
    this.restartTimers.get(id)?.();
    this.restartTimers.delete(id);
    const live = this.live.get(id);
    if (live) {
      live.stopping = true;
      live.cancelHealth();
      await stopGroup(live.pid, timings.killGraceS);
      this.live.delete(id);
    }
    const r = this.file.services.get(id);
    if (r) this.setState(r, "stopped", reason);
  }

  /** The health check every interval while it runs; a change of health is published. */
  private scheduleHealth(id: string, service: Service, live: Live): void {
    const check = service.health;
    if (!check) return;
    live.checked = true;
    let cancelled = false;
    let cancelTimer = () => {};
    live.cancelHealth = () => {
      cancelled = true;
      cancelTimer();
    };
    const arm = () => {
      cancelTimer = setLongTimeout(() => {
        void (async () => {
          const result = await this.checkHealth(id, service);
          if (cancelled) return;
          await this.serial(async () => {
            const r = this.file.services.get(id);
            if (cancelled || !r?.health || r.state !== "running") return;
            const before = r.health.status;
            r.health = healthNext(r.health, result, check.unhealthyAfter, this.now());
            if (r.health.status !== before) {
              this.log(`service ${id}: ${r.health.status}${r.health.reason && r.health.status === "unhealthy" ? ` (${r.health.reason})` : ""}`);
              await this.changed();
            }
          });
          if (!cancelled) arm();
        })();
      }, check.interval * 1000);
    };
    arm();
  }

  private async checkHealth(id: string, service: Service): Promise<{ ok: true } | { ok: false; reason: string }> {
    const check = service.health!;
    if (check.http) {
      try {
        const res = await fetch(check.http, { signal: AbortSignal.timeout(check.timeout * 1000), redirect: "manual" });
        await res.body?.cancel().catch(() => {});
        return res.status >= 200 && res.status < 300 ? { ok: true } : { ok: false, reason: `${check.http} answered ${res.status}` };
      } catch (e) {
        const timedOut = (e as Error).name === "TimeoutError";
        return {
          ok: false,
          reason: timedOut ? `${check.http} did not answer within ${formatDuration(check.timeout)}` : `${check.http} did not answer (${describeFailure(e).message})`,
        };
      }
    }
    const dir = await allowedDir(this.m, service.cwd);
    if ("refused" in dir) return { ok: false, reason: dir.refused };
    const r = await runTask({
      command: check.run!,
      cwd: dir.cwd,
      env: { ...inheritedEnv(), ...service.env, COORD_MACHINE: this.m.config.name, COORD_SERVICE: id },
      timeout: check.timeout,
      logFile: join(this.m.stateDir, SERVICES_DIR, `${id}.health.log`),
      logCap: 64 * 1024,
    });
    if (r.error) return { ok: false, reason: r.error };
    if (r.timedOut) return { ok: false, reason: `the check did not end within ${formatDuration(check.timeout)}` };
    if (r.exitCode === 0) return { ok: true };
    return { ok: false, reason: `the check ${describeExit(r.exitCode, r.signal)}` };
  }

  /** Every second: an adopted process that is gone has exited; logs are kept bounded. */
  private async look(): Promise<void> {
    for (const [id, live] of this.live) {
      if (live.adopted && !live.stopping) {
        const r = this.file.services.get(id);
        if (!r?.start || (await isSameProcess(live.pid, r.start)) === false) await this.exited(id, live.pid, null, null);
      }
      await boundLog(serviceLog(this.m.stateDir, id), SERVICE_LOG_CAP).catch(() => {});
    }
  }

  /** The daemon stops: every service is stopped with its group (services run under a daemon only), and said so. */
  async close(reason = "its daemon stopped (coord daemon stop): services run under a daemon only"): Promise<void> {
    clearInterval(this.housekeeping);
    await this.serial(async () => {
      this.closed = true;
      for (const id of [...this.live.keys(), ...this.restartTimers.keys()]) {
        this.log(`service ${id}: stopping it (${reason})`);
        await this.stop(id, reason);
      }
      delete this.file.supervisor;
      await this.save();
    });
  }
}
