// Services: long-running processes a machine's daemon keeps up
// (`services: [...]` in ORDERS.json). Here, as pure functions of data and the
// time passed in: reading the entries (each one on its own: a bad entry is
// that service's problem, never the orders' nor another service's), when an
// exit is restarted and when the service has failed for good (backoff within
// a start-limit window, like systemd's StartLimitBurst/StartLimitIntervalSec),
// how a health check's results move its health, what to do with each service
// given what ORDERS.json wants and what runs, and what is published of it.
// Processes, files and the clock are at the edges (src/daemon/services.ts,
// src/sync/services.ts, src/runner/service.ts).
import { createHash } from "node:crypto";
import type * as z from "zod";
import { getNodeValue, parseTree, type ParseError } from "jsonc-parser";
import type { Halt } from "../hub/controls.js";
import { formatDuration } from "../time/duration.js";
import { clip, jsonDepth, MAX_DEPTH, ORDERS_LIMIT, unreadable } from "../limits.js";
import { machineNameProblem } from "../files/names.js";
import { type Doc, duplicateKeyProblems, issueProblems, lineOf, lineStarts, type Path, problem, serviceName } from "../orders/orders-problems.js";
import { ServiceSchema, splitEnv } from "../orders/orders-schema.js";
import { isRecord, type Problem } from "../types.js";

// ------------------------------------------------------------------ the entries

export interface HealthCheck {
  /** A shell command (exit 0: healthy), or… */
  run?: string;
  /** …a URL on this machine (a 2xx answer: healthy). */
  http?: string;
  /** Seconds between checks. */
  interval: number;
  /** Seconds a check may take. */
  timeout: number;
  /** Failed checks in a row before the service is unhealthy. */
  unhealthyAfter: number;
}

export interface RestartPolicy {
  /** Restarts allowed within `window`; the exit after them marks the service failed. */
  max: number;
  /** Seconds. */
  window: number;
  /** Seconds before the first restart in the window, doubling for each further one (at most MAX_RESTART_DELAY). */
  delay: number;
}

/** One valid service of ORDERS.json, defaults applied. */
export interface Service {
  id: string;
  to: string | string[];
  run: string;
  cwd?: string;
  /** Plain values, and values written `{"value": …, "secret": true}`. */
  env: Record<string, string>;
  /** Names of `env` entries whose written value is secret (redacted from what is published). */
  secrets?: string[];
  /** Env variable → the name of a secret in the machine's store (no prototype). */
  secretRefs?: Record<string, string>;
  rev: number;
  cancelled: boolean;
  health?: HealthCheck;
  restart: RestartPolicy;
  /** What the service is, as a short hash: a change of it (run, cwd, env, rev, health, restart) restarts the service once. */
  hash: string;
}

export const DEFAULT_RESTART: RestartPolicy = { max: 3, window: 600, delay: 1 };
export const DEFAULT_HEALTH = { interval: 30, timeout: 5, unhealthyAfter: 3 } as const;
/** The longest wait before a restart, however many came before it in the window. */
export const MAX_RESTART_DELAY = 300;

/** What ORDERS.json says of services, read whatever else is wrong with the file. */
export interface ServicesRead {
  /** false: the file (or its `services`) could not be read at all: what runs is left as it is. */
  readable: boolean;
  /** The valid entries, in the file's order (the first of an id written twice). */
  services: Service[];
  /** Ids of entries that are not valid: a service of that id that runs is left as it is (a typo must not stop production). */
  invalid: string[];
  /** Every problem of the entries, located by line; none of them makes the orders invalid. */
  problems: Problem[];
}

/** No services: a file without `services`. */
export const NO_SERVICES: ServicesRead = { readable: true, services: [], invalid: [], problems: [] };
const NOTHING = NO_SERVICES;
const UNREADABLE: ServicesRead = { readable: false, services: [], invalid: [], problems: [] };

const hashOf = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);

/**
 * The services of ORDERS.json's text (never throws). A file that is not a
 * JSON object is unreadable (its problems are the orders' to report); each
 * entry is checked on its own. `machines`: the registered names; a service
 * addressed to another name is a problem, and runs on the names that exist.
 */
export function readServices(text: string | undefined, machines?: string[], file = "ORDERS.json"): ServicesRead {
  if (text === undefined) return NOTHING;
  if (unreadable(file, text, ORDERS_LIMIT) || jsonDepth(text, MAX_DEPTH).offset !== undefined) return UNREADABLE;
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (!root || errors.length) return UNREADABLE;
  const doc: Doc = { file, root, data: getNodeValue(root), lineStarts: lineStarts(text) };
  if (!isRecord(doc.data)) return UNREADABLE;
  const raw = doc.data.services;
  if (raw === undefined) return NOTHING;
  if (!Array.isArray(raw))
    return {
      ...UNREADABLE,
      problems: [problem(doc, ["services"], `field services must be a list of services, like [{"id": "web", "to": "my-machine", "run": "node server.js"}]`)],
    };

  const out: ServicesRead = { readable: true, services: [], invalid: [], problems: [] };
  const firstAt = new Map<string, number>();
  const known = machines ? new Set(machines) : undefined;
  const servicesNode = root.children?.find((p) => p.children?.[0]?.value === "services")?.children?.[1];
  raw.forEach((entry, i) => {
    const at = (...rest: Path): Path => ["services", i, ...rest];
    const id = isRecord(entry) && typeof entry.id === "string" ? entry.id : undefined;
    const problems: Problem[] = [];
    const parsed = ServiceSchema.safeParse(entry);
    if (!parsed.success) for (const issue of parsed.error.issues) problems.push(...issueProblems(doc, { ...issue, path: [...at(), ...issue.path] }));
    const node = servicesNode?.children?.[i];
    if (node) problems.push(...duplicateKeyProblems(doc, node, at()));
    if (id !== undefined) {
      const seen = firstAt.get(id);
      if (seen !== undefined)
        problems.push(problem(doc, at("id"), `service id "${id}" is already used at line ${lineOf(doc, ["services", seen, "id"])}; give each service its own id`));
      else firstAt.set(id, i);
    }
    if (isRecord(entry) && isRecord(entry.health) && parsed.success) {
      const h = entry.health;
      if ((h.run === undefined) === (h.http === undefined))
        problems.push(problem(doc, at("health"), `${serviceName(doc, i)} field health needs exactly one of run (a command) or http (a local URL)`));
    }
    if (problems.length || !parsed.success) {
      out.problems.push(...problems);
      if (id !== undefined && !out.invalid.includes(id)) out.invalid.push(id);
      return;
    }
    // Addressed to names that are not registered: said, and the names that are run it.
    if (known) {
      const names = Array.isArray(parsed.data.to) ? parsed.data.to : parsed.data.to === "ALL" ? [] : [parsed.data.to];
      names.forEach((name) => {
        if (!machineNameProblem(name) && !known.has(name)) {
          const path = Array.isArray(parsed.data.to) ? at("to", parsed.data.to.indexOf(name)) : at("to");
          out.problems.push(problem(doc, path, `${serviceName(doc, i)} field to: no machine named "${name}" is registered; fix the name or set up that machine first`));
        }
      });
    }
    out.services.push(toService(parsed.data));
  });
  return out;
}

function toService(written: z.output<typeof ServiceSchema>): Service {
  const { env, secrets, secretRefs } = splitEnv(written.env);
  const restart: RestartPolicy = {
    max: written.restart?.max ?? DEFAULT_RESTART.max,
    window: written.restart?.window ?? DEFAULT_RESTART.window,
    delay: written.restart?.delay ?? DEFAULT_RESTART.delay,
  };
  const h = written.health;
  const health: HealthCheck | undefined = h && {
    ...(h.run !== undefined ? { run: h.run } : {}),
    ...(h.http !== undefined ? { http: h.http } : {}),
    interval: h.interval ?? DEFAULT_HEALTH.interval,
    timeout: h.timeout ?? DEFAULT_HEALTH.timeout,
    unhealthyAfter: h.unhealthyAfter ?? DEFAULT_HEALTH.unhealthyAfter,
  };
  // What the process is: not `to` (another machine added changes nothing here) nor `cancelled` (a stop, not a change).
  const hash = hashOf([written.run, written.cwd ?? null, Object.entries(written.env).sort(([a], [b]) => (a < b ? -1 : 1)), written.rev, health ?? null, restart]);
  return {
    id: written.id,
    to: written.to,
    run: written.run,
    ...(written.cwd !== undefined ? { cwd: written.cwd } : {}),
    env,
    ...(secrets.length ? { secrets } : {}),
    ...(Object.keys(secretRefs).length ? { secretRefs } : {}),
    rev: written.rev,
    cancelled: written.cancelled,
    ...(health ? { health } : {}),
    restart,
    hash,
  };
}

/** Whether `service` is addressed to machine `me`. */
export function addressedToMe(service: Pick<Service, "to">, me: string): boolean {
  return service.to === "ALL" || service.to === me || (Array.isArray(service.to) && service.to.includes(me));
}

/** The values of a service's secret env entries written in ORDERS.json (redacted from its output). */
export function writtenSecretValues(service: Service | undefined): string[] {
  return (service?.secrets ?? []).map((name) => service?.env[name] ?? "").filter(Boolean);
}

// ------------------------------------------------------------------ restarts

export type RestartDecision = { restart: true; delay: number; restarts: number[] } | { restart: false; reason: string; restarts: number[] };

/**
 * After the service exited at `now` (ms): restart it, after how many seconds,
 * or not (failed). `restarts`: when it was restarted before (ms); only those
 * within the window count. Within the window, `max` restarts are allowed,
 * each after `delay` × 2^(restarts in the window), at most MAX_RESTART_DELAY;
 * the exit after them is a failure. The answer's `restarts` are the ones in
 * the window, with the new one (at the time it will start) when restarting.
 */
export function restartDecision(restarts: readonly number[], now: number, policy: RestartPolicy, exit: string): RestartDecision {
  const recent = restarts.filter((t) => t > now - policy.window * 1000);
  if (recent.length >= policy.max) {
    const times = policy.max === 1 ? "once" : `${policy.max} times`;
    return {
      restart: false,
      reason: clip(
        `${exit}; restarted ${times} within ${formatDuration(policy.window)} already (restart.max ${policy.max}): failed, not restarted again until its rev or definition changes`,
        400,
      ),
      restarts: recent,
    };
  }
  const delay = Math.min(MAX_RESTART_DELAY, policy.delay * 2 ** recent.length);
  return { restart: true, delay, restarts: [...recent, now + delay * 1000] };
}

/** An exit, in words: "exit code 1", "killed by SIGKILL", "exited (its code is unknown: it was adopted)". */
export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `killed by ${signal}`;
  if (code === null) return "exited (not a child of this daemon: its exit code is unknown)";
  return `exited with code ${code}`;
}

// ------------------------------------------------------------------ health

export const HEALTH_STATES = ["starting", "healthy", "unhealthy"] as const;
export type HealthStatus = (typeof HEALTH_STATES)[number];

export interface HealthState {
  status: HealthStatus;
  /** Failed checks in a row. */
  failures: number;
  /** Since when the status holds (ISO). */
  since: string;
  /** The last failed check's reason. */
  reason?: string;
}

/** Before the first check's result. */
export function healthStart(at: Date): HealthState {
  return { status: "starting", failures: 0, since: at.toISOString() };
}

/**
 * One check's result moves the health: a success is healthy at once; a
 * failure counts, and `unhealthyAfter` of them in a row are unhealthy (until
 * then the status stays as it was, with its failures counted).
 */
export function healthNext(prev: HealthState, result: { ok: true } | { ok: false; reason: string }, unhealthyAfter: number, at: Date): HealthState {
  if (result.ok) return prev.status === "healthy" ? { status: "healthy", failures: 0, since: prev.since } : { status: "healthy", failures: 0, since: at.toISOString() };
  const failures = prev.failures + 1;
  const reason = clip(result.reason, 300);
  if (failures >= unhealthyAfter && prev.status !== "unhealthy") return { status: "unhealthy", failures, since: at.toISOString(), reason };
  return { ...prev, failures, reason };
}

// ------------------------------------------------------------------ desired vs observed

export const SERVICE_STATES = ["starting", "running", "backoff", "failed", "stopped"] as const;
/** A service as this machine runs it: starting (spawning), running, backoff (waiting to restart), failed (for good), stopped. */
export type ServiceState = (typeof SERVICE_STATES)[number];

/** What the machine knows of a service it ran: its state and the definition it ran. */
export interface Observed {
  state: ServiceState;
  hash: string;
}

export type ServiceAction =
  | { do: "start"; service: Service }
  | { do: "restart"; service: Service; reason: string }
  | { do: "stop"; reason: string; by: "halt" | "cancel" | "removed" }
  | { do: "keep" };

/** Whether a process of the service is there or due (running, starting, waiting to restart). */
export const isUp = (s: ServiceState) => s === "running" || s === "starting" || s === "backoff";

/**
 * What to do with each service, given what ORDERS.json wants (`read`), what
 * halts the machine, and what it runs (`observed`, by id). Every id of either
 * side gets an answer (keep when there is nothing to do).
 *
 * - An emergency stop or a pause with stop: everything up is stopped; nothing starts.
 * - A pause without stop: what runs goes on; nothing starts.
 * - An unreadable file, or an invalid entry: what runs of it is left as it is.
 * - Removed (or no longer addressed here): stopped and forgotten. Cancelled: stopped.
 * - Another definition (rev, run, env…): restarted once, its failures forgotten.
 * - The same: kept (failed stays failed); stopped (by a halt, a cancel, a daemon's stop): started again.
 */
export function planServices(me: string, read: ServicesRead, observed: ReadonlyMap<string, Observed>, halt: Halt | undefined): Map<string, ServiceAction> {
  const out = new Map<string, ServiceAction>();
  const mine = new Map<string, Service>();
  for (const s of read.services) if (addressedToMe(s, me) && !mine.has(s.id)) mine.set(s.id, s);
  const ids = [...new Set([...observed.keys(), ...mine.keys()])].sort();
  for (const id of ids) {
    const o = observed.get(id);
    const want = mine.get(id);
    if (halt?.stopRunning) {
      out.set(id, o && isUp(o.state) ? { do: "stop", reason: halt.reason, by: "halt" } : { do: "keep" });
      continue;
    }
    if (!read.readable || (!want && read.invalid.includes(id))) {
      out.set(id, { do: "keep" });
      continue;
    }
    if (!want) {
      out.set(id, o ? { do: "stop", reason: "removed from ORDERS.json (or no longer addressed to this machine)", by: "removed" } : { do: "keep" });
      continue;
    }
    if (want.cancelled) {
      out.set(id, o && isUp(o.state) ? { do: "stop", reason: "cancelled in ORDERS.json", by: "cancel" } : { do: "keep" });
      continue;
    }
    if (halt) {
      // Paused: nothing new starts; what runs goes on.
      out.set(id, { do: "keep" });
      continue;
    }
    if (!o) out.set(id, { do: "start", service: want });
    else if (o.hash !== want.hash) out.set(id, { do: "restart", service: want, reason: `its definition changed (rev ${want.rev})` });
    else if (o.state === "stopped") out.set(id, { do: "start", service: want });
    else out.set(id, { do: "keep" });
  }
  return out;
}

// ------------------------------------------------------------------ what is published

export const REPORT_STATES = [...SERVICE_STATES, "cancelled", "waiting"] as const;
export type ReportState = (typeof REPORT_STATES)[number];

/** What a machine publishes of one service (its file's `services`). */
export interface ServiceReport {
  rev: number;
  /** starting, running, backoff, failed, stopped; cancelled; waiting (not started: no daemon, a pause). */
  state: ReportState;
  pid?: number;
  /** Restarts within the restart window. */
  restarts: number;
  /** When the process running now started (ISO): readers compute its uptime. */
  startedAt?: string;
  /** Since when the state holds (ISO). */
  since?: string;
  health?: HealthStatus;
  reason?: string;
  /** The last lines of its output, redacted. */
  output?: string;
}

/** A service record as the machine keeps it locally (state/services.ts), the part the report is made of. */
export interface RecordView {
  rev: number;
  hash: string;
  state: ServiceState;
  pid?: number;
  restarts: number[];
  startedAt?: string;
  since: string;
  health?: HealthState;
  reason?: string;
}

/**
 * What this machine publishes of its services: each one addressed to it, and
 * each it still runs; the records as its daemon keeps them, or, without a
 * daemon (`supervised` false), that each waits for one.
 */
export function serviceReports(
  me: string,
  read: ServicesRead,
  records: ReadonlyMap<string, RecordView>,
  opts: { supervised: boolean; halt?: Halt | undefined; outputs?: ReadonlyMap<string, string> },
): Record<string, ServiceReport> {
  const out: Record<string, ServiceReport> = {};
  const mine = new Map<string, Service>();
  for (const s of read.services) if (addressedToMe(s, me) && !mine.has(s.id)) mine.set(s.id, s);
  for (const id of [...new Set([...mine.keys(), ...records.keys()])].sort()) {
    const want = mine.get(id);
    const r = records.get(id);
    const output = opts.outputs?.get(id);
    const alive = r && isUp(r.state);
    if (!r || (!opts.supervised && !alive)) {
      if (!want) continue;
      const state: ReportState = want.cancelled ? "cancelled" : "waiting";
      const reason = want.cancelled
        ? "cancelled in ORDERS.json"
        : opts.halt
          ? `${opts.halt.reason}: it does not start`
          : opts.supervised
            ? "the daemon starts it"
            : "needs a daemon: services run under coord daemon (coord daemon start, or coord daemon install)";
      out[id] = { rev: want.rev, state, restarts: 0, reason, ...(output ? { output } : {}) };
      continue;
    }
    const state: ReportState = want?.cancelled && !alive ? "cancelled" : r.state;
    out[id] = {
      rev: r.rev,
      state,
      ...(r.pid !== undefined && alive ? { pid: r.pid } : {}),
      restarts: r.restarts.length,
      ...(r.startedAt && alive ? { startedAt: r.startedAt } : {}),
      since: r.since,
      ...(r.health && r.state === "running" ? { health: r.health.status } : {}),
      ...(r.reason ? { reason: r.reason } : r.health?.status === "unhealthy" && r.health.reason ? { reason: `unhealthy: ${r.health.reason}` } : {}),
      ...(!opts.supervised && alive ? { reason: "its daemon is not running: nothing restarts it (coord daemon start)" } : {}),
      ...(output ? { output } : {}),
    };
  }
  return out;
}
