// STATUS.json: a derived file, a pure function of ORDERS.json and
// the machines' files at one commit. No clock, stable key order, LF endings:
// two machines that see the same inputs write the same bytes (STATUS.md is
// rendered from it by status-md.ts).
import { sanitizeDeep } from "../files/shown.js";
import { fleetBudget } from "../budget/budget.js";
import { describeEvery, upcomingSlot } from "../time/every.js";
import { clip } from "../limits.js";
import { describeRefusal } from "../trust/trust.js";
import { formatDuration } from "../time/duration.js";
import { approvalAlerts, failureAlerts, offlineAlerts, serviceAlerts, sortAlerts, stalledAlerts } from "./alerts.js";
import type { ServiceReport } from "../services/services.js";
import { fleetTime, presenceOf } from "../fleet/presence.js";
import { ordersTargets } from "../orders/orders.js";
import { recordedHolder } from "../work/claims.js";
import { heldAt, readReservations } from "../fleet/reservations.js";
import { failedForGood, isFinal } from "../work/task-life.js";
import { addressedTo, channelKey, isAcked, messageId, speakers } from "../messages/messages.js";
import type { RepoModel } from "../repo/repo.js";
import { own, type TaskState } from "../types.js";
import type { Order } from "../orders/orders-schema.js";
import type { TaskReport } from "../fleet/computer.js";
import { DEFAULT_PUSHES_PER_MINUTE } from "../hub/reads.js";
import type { Alert, MachineStatus, OrderMachineStatus, OrderStatus, ServiceStatus, StatusJson } from "../fleet/status-types.js";

function fromReport(t: TaskReport): OrderMachineStatus {
  return {
    state: t.state,
    ...(t.slot ? { slot: t.slot } : {}),
    exitCode: t.exitCode ?? null,
    startedAt: t.startedAt ?? null,
    finishedAt: t.finishedAt ?? null,
    attempts: t.attempts,
    ...(t.startedAt && t.finishedAt ? { durationMs: Date.parse(t.finishedAt) - Date.parse(t.startedAt) } : {}),
    ...(t.reason ? { reason: t.reason } : {}),
    ...(t.lease ? { lease: t.lease } : {}),
    ...(t.takeoverFrom ? { takeoverFrom: t.takeoverFrom } : {}),
    ...(t.retryAt && t.state === "failed" ? { retryAt: t.retryAt } : {}),
    ...(t.agent ? { agent: t.agent } : {}),
    ...(t.state === "failed" && t.output ? { output: lastLines(t.output) } : {}),
  };
}

/** Lines of a failed task's output in STATUS (the whole tail is in its machine's file). */
export const OUTPUT_TAIL_LINES = 5;

function lastLines(output: string): string {
  return output
    .replace(/\s+$/, "")
    .split("\n")
    .slice(-OUTPUT_TAIL_LINES)
    .map((l) => clip(l, 200))
    .join("\n");
}

const pending = (state: TaskState, reason?: string): OrderMachineStatus => ({
  state,
  exitCode: null,
  startedAt: null,
  finishedAt: null,
  attempts: 0,
  ...(reason ? { reason } : {}),
});

/** Which states need a person first, in every view (STATUS.md, coord status, coord ui): failed, then waiting for good reasons, then moving, then done. */
export const ATTENTION: Record<TaskState, number> = { failed: 0, blocked: 1, rejected: 2, in_progress: 3, assigned: 4, queued: 5, cancelled: 6, completed: 7 };

/** One state for an order from its machines' states. */
export function summarize(states: TaskState[]): TaskState {
  if (states.length === 0) return "queued";
  if (states.every((s) => s === "completed")) return "completed";
  for (const s of ["in_progress", "failed", "assigned", "queued", "blocked", "rejected", "cancelled"] as const) if (states.includes(s)) return s;
  return "completed";
}

/** Published after an agent CLI's version when its CLI says nobody is logged in. */
const LOGGED_OUT = " (not logged in)";

/** How an agent CLI is published among the capabilities: its version, and whether it cannot be used for want of a login. */
export function agentCapability(version: string | undefined, loggedIn: boolean | undefined): string {
  return `${version ?? "installed"}${loggedIn === false ? LOGGED_OUT : ""}`;
}

/** Whether a published agent capability says the CLI is installed but not logged in (agentCapability). */
export const loggedOutCapability = (value: string | undefined): boolean => value?.endsWith(LOGGED_OUT) === true;

/** Capabilities an order needs that a machine lacks: `requires`, and the agent CLI of an agent order (installed but logged out counts as lacking). */
export function missingCapabilities(order: Order, capabilities: Record<string, string>): string[] {
  if (order.requires.length === 0 && !order.agent) return []; // most orders: asked for every order and machine of a fleet
  const needed = new Set([...order.requires, ...(order.agent ? [order.agent] : [])]);
  return [...needed].filter((c) => !Object.hasOwn(capabilities, c) || (c === order.agent && capabilities[c]!.endsWith(LOGGED_OUT)));
}

/** Why a machine cannot run `order`, given what it lacks (missingCapabilities): "<name> lacks x, y" or, for its agent, "<name> has claude installed but not logged in". */
export function lackingReason(name: string, order: Order, capabilities: Record<string, string>, missing: string[]): string {
  const agent = order.agent;
  if (agent && missing.includes(agent) && Object.hasOwn(capabilities, agent)) {
    const rest = missing.filter((c) => c !== agent);
    return `${name} has ${agent} installed but not logged in${rest.length ? ` and lacks ${rest.join(", ")}` : ""}`;
  }
  return `${name} lacks ${missing.join(", ")}`;
}

/** Whether a machine's state for an order will change no more (for this rev). */
function settled(order: Order, m: OrderMachineStatus, blockedForGood: boolean): boolean {
  if (isFinal(m.state, m.attempts, order.retries)) return true;
  return (m.state === "failed" || m.state === "blocked") && blockedForGood;
}

/** Why `order` cannot start yet because of its `after` orders, and whether that is for good. */
export function dependencyBlock(order: Order, statusOf: (id: string) => OrderStatus | undefined): { reason: string; final: boolean } | undefined {
  for (const id of order.after) {
    const dep = statusOf(id);
    if (dep?.done && dep.state !== "completed") return { reason: `dependency ${id} ${dep.state}${dep.reason ? ` (${dep.reason})` : ""}`, final: true };
  }
  const waiting = order.after.filter((id) => statusOf(id)?.state !== "completed");
  return waiting.length ? { reason: `waiting for ${waiting.join(", ")}`, final: false } : undefined;
}

/** An order addressed to machines by name or ALL: one state per machine. */
function targetedStatus(order: Order, model: RepoModel, block: ReturnType<typeof dependencyBlock>): OrderStatus {
  const machines: Record<string, OrderMachineStatus> = {};
  let done = true;
  for (const name of ordersTargets(order, model.machineNames)) {
    const computer = model.computers.get(name);
    const report = own(computer?.tasks, order.id);
    const missing = computer ? missingCapabilities(order, computer.capabilities) : [];
    // ALL means every machine that has what the order requires; the others are not addressed.
    if (order.to === "ALL" && missing.length && !report) continue;
    let m: OrderMachineStatus;
    if (report && report.rev === order.rev) {
      m = fromReport(report);
      // A retry waits for the dependencies as the first attempt did (one may have been re-revved meanwhile).
      if (block && m.state === "failed" && !failedForGood(m.attempts, order.retries)) {
        m.reason = `${m.reason ? `${m.reason}; ` : ""}${block.final ? "not retried" : "retry waits"}: ${block.reason}`;
        delete m.retryAt; // it waits for the dependency, not for the time
      }
    } else if (report && report.rev > order.rev)
      m = { ...fromReport(report), reason: `ran rev ${report.rev} already; ORDERS.json says rev ${order.rev}: set rev above ${report.rev} to run it again` };
    else if (order.cancelled) m = pending("cancelled", "cancelled in ORDERS.json");
    else if (missing.length) m = pending("rejected", lackingReason(name, order, computer!.capabilities, missing));
    else if (block) m = pending("blocked", block.reason);
    else if (order.failoverAfter !== undefined && gone(model, name, order.failoverAfter))
      m = pending(
        "queued",
        `${name} has not been heard of for over ${formatDuration(order.failoverAfter)} (failoverAfter): this order waits for it; to let another machine run it, write "to": "ANY" with "prefer": ["${name}", …]`,
      );
    else m = pending("queued");
    if (m.state === "failed" && failedForGood(m.attempts, order.retries)) m.retriesExhausted = true;
    machines[name] = m;
    if (!settled(order, m, !!block?.final)) done = false;
  }
  const state = summarize(Object.values(machines).map((m) => m.state));
  if (Object.keys(machines).length === 0) done = false; // ALL with no (capable) machine yet: one may join
  return { rev: order.rev, state, done, to: order.to, ...(block && state === "blocked" ? { reason: block.reason } : {}), machines };
}

/**
 * Whether machine `name` is gone as the files say (no clock: every machine
 * derives the same): it has no file, or its lastSeen is more than `seconds`
 * older than the newest lastSeen of the fleet.
 */
function gone(model: RepoModel, name: string, seconds: number): boolean {
  const seen = Date.parse(model.computers.get(name)?.lastSeen ?? "");
  if (!Number.isFinite(seen)) return true;
  const newest = Math.max(...[...model.computers.values()].map((c) => Date.parse(c.lastSeen)).filter(Number.isFinite));
  return newest - seen > seconds * 1000;
}

/** A "to: ANY" order: the machines that claimed it, and one summary; the live claim's holder. */
function anyStatus(order: Order, model: RepoModel, block: ReturnType<typeof dependencyBlock>): OrderStatus {
  const machines: Record<string, OrderMachineStatus> = {};
  // A recurring order: the reports of the latest slot reported (each slot is claimed and run once in the fleet). A slot
  // after its machine's own lastSeen was never run by it (a slot runs once due, and lastSeen is published after): not counted.
  let latest: string | undefined;
  for (const c of model.computers.values()) {
    const report = own(c.tasks, order.id);
    if (!order.every || report?.rev !== order.rev || !report.slot || !(Date.parse(report.slot) <= Date.parse(c.lastSeen))) continue;
    if (latest === undefined || report.slot > latest) latest = report.slot;
  }
  for (const [name, c] of model.computers) {
    const report = own(c.tasks, order.id);
    if (report && report.rev === order.rev && (!order.every || report.slot === latest)) machines[name] = fromReport(report);
  }
  const reports = Object.entries(machines);
  const holder = recordedHolder(reports);
  const attempts = Math.max(0, ...reports.map(([, m]) => m.attempts));
  // Only the last failure says when the order is tried again (by whichever machine), and only while it may be.
  const last = reports.filter(([, m]) => m.state === "failed").sort(([, a], [, b]) => b.attempts - a.attempts)[0]?.[0];
  for (const [name, m] of reports) if (name !== last || failedForGood(attempts, order.retries) || block) delete m.retryAt;
  const capable = [...model.computers.values()].some((c) => missingCapabilities(order, c.capabilities).length === 0);
  const base = { rev: order.rev, to: order.to, machines, ...(holder ? { holder } : {}) };
  if (reports.some(([, m]) => m.state === "completed")) return { ...base, state: "completed", done: true };
  if (holder) return { ...base, state: machines[holder]!.state, done: false };
  // A machine ran a newer rev already: like a named order, an ANY order never goes back.
  const newer = [...model.computers]
    .map(([name, c]) => [name, own(c.tasks, order.id)] as const)
    .filter((e): e is readonly [string, TaskReport] => e[1] !== undefined && e[1].rev > order.rev)
    .sort(([, a], [, b]) => b.rev - a.rev)[0];
  if (newer) {
    const [name, report] = newer;
    const reason = `${name} ran rev ${report.rev} already; ORDERS.json says rev ${order.rev}: set rev above ${report.rev} to run it again`;
    return { ...base, machines: { ...machines, [name]: { ...fromReport(report), reason } }, state: report.state, done: true, reason };
  }
  if (order.cancelled) return { ...base, state: "cancelled", done: true, reason: "cancelled in ORDERS.json" };
  const failed = reports.some(([, m]) => m.state === "failed");
  if (failed && failedForGood(attempts, order.retries)) {
    if (last) machines[last]!.retriesExhausted = true;
    return { ...base, state: "failed", done: true }; // whatever its dependencies do now
  }
  if (block) return { ...base, state: "blocked", done: block.final, reason: block.reason };
  if (failed) return { ...base, state: "failed", done: false };
  if (!capable) return { ...base, state: "queued", done: false, reason: `no registered machine has ${missingCapabilities(order, {}).join(", ")}` };
  return { ...base, state: "queued", done: false };
}

/**
 * A recurring order's status: its schedule, the latest slot run, and the next slot after the fleet's time (no
 * clock: every machine derives the same). Never done while it is not cancelled: another slot comes.
 */
function recurringStatus(order: Order, s: OrderStatus, asOf: Date | undefined): OrderStatus {
  const slots = Object.values(s.machines).flatMap((m) => (m.slot ? [m.slot] : []));
  const slot = slots.sort().at(-1);
  const after = asOf ?? (slot ? new Date(Date.parse(slot)) : undefined);
  const next = after ? upcomingSlot(order, after) : undefined;
  return { ...s, every: describeEvery(order)!, ...(slot ? { slot } : {}), ...(next ? { next } : {}), done: order.cancelled ? s.done : false };
}

/** Every order's status, dependencies first (validation guarantees there is no cycle). */
function deriveOrders(orders: Order[], model: RepoModel, asOf: Date | undefined): Record<string, OrderStatus> {
  const byId = new Map(orders.map((o) => [o.id, o]));
  const memo = new Map<string, OrderStatus>();
  const statusOf = (id: string): OrderStatus | undefined => {
    const order = byId.get(id);
    if (!order) return undefined;
    let s = memo.get(id);
    if (!s) {
      const block = dependencyBlock(order, statusOf);
      s = order.to === "ANY" ? anyStatus(order, model, block) : targetedStatus(order, model, block);
      if (order.every) s = recurringStatus(order, s, asOf);
      memo.set(id, s);
    }
    return s;
  };
  const out: Record<string, OrderStatus> = {};
  for (const order of orders) out[order.id] = statusOf(order.id)!;
  return out;
}

/** When ORDERS.json is invalid, show what the machines report, so nothing disappears from view. */
function reportedOrders(model: RepoModel): Record<string, OrderStatus> {
  const byId = new Map<string, Record<string, OrderMachineStatus>>();
  const revs = new Map<string, number>();
  for (const [name, c] of model.computers)
    for (const [id, t] of Object.entries(c.tasks)) {
      if (!byId.has(id)) byId.set(id, {});
      byId.get(id)![name] = fromReport(t);
      revs.set(id, Math.max(revs.get(id) ?? 0, t.rev));
    }
  const out: Record<string, OrderStatus> = {};
  for (const id of [...byId.keys()].sort()) {
    const machines = byId.get(id)!;
    out[id] = { rev: revs.get(id)!, state: summarize(Object.values(machines).map((m) => m.state)), done: false, to: Object.keys(machines).sort(), machines };
  }
  return out;
}

const firstLine = (text: string) => clip(text.split("\n")[0] ?? "", 120);

/** Statuses by the model they were derived from: a sync asks for the same model's several times. Shared, so nothing may change them. */
const derived = new WeakMap<RepoModel, StatusJson>();

/** STATUS as `model` says it (memoised by the model: a model is never changed once read). */
export function deriveStatus(model: RepoModel): StatusJson {
  let status = derived.get(model);
  if (!status) {
    status = computeStatus(model);
    derived.set(model, status);
  }
  return status;
}

/**
 * The fleet's status from the files, every text in it as a person may be shown it (core/files/shown.ts): the files are
 * other machines' words, and every view (the terminal, the page, STATUS.md, a notify hook) shows them.
 */
function computeStatus(model: RepoModel): StatusJson {
  return sanitizeDeep(statusOf(model));
}

function statusOf(model: RepoModel): StatusJson {
  const machines: Record<string, MachineStatus> = {};
  // Only machines speak, and where ORDERS.json's keys name them, only those: a file of a name nobody registered or
  // listed sets neither the fleet's time nor its messages (no machine delivers them).
  const speaks = speakers(model.machineNames, model.keys);
  const asOf = fleetTime([...model.computers].filter(([name]) => speaks(name)).map(([, c]) => c.lastSeen));
  /** Urgent messages not acknowledged: one alert per message, with the recipients that have not acknowledged it. */
  const urgent = new Map<string, Alert & { recipients: string[] }>();
  for (const name of [...model.computers.keys()].sort()) {
    const c = model.computers.get(name)!;
    const capabilities = Object.fromEntries(Object.entries(c.capabilities).sort(([a], [b]) => (a < b ? -1 : 1)));
    const messages = { waiting: 0, unacked: 0 };
    for (const f of model.messageFiles) {
      if (!addressedTo(f, name) || !speaks(f.from)) continue;
      const receipt = own(c.messages, channelKey(f.from, f.to));
      for (const m of f.messages) {
        if (isAcked(receipt, m.seq)) continue;
        if (m.seq > (receipt?.received ?? 0)) messages.waiting++;
        else messages.unacked++;
        if (m.priority !== "urgent") continue;
        const id = messageId(f.from, f.to, m.seq);
        const alert = urgent.get(id) ?? { id, kind: "urgent", from: f.from, to: f.to, recipients: [], at: m.at, text: firstLine(m.text) };
        alert.recipients.push(name);
        urgent.set(id, alert);
      }
    }
    const heard = { lastSeen: c.lastSeen, heartbeat: c.heartbeat };
    machines[name] = {
      state: c.state,
      presence: asOf ? presenceOf(heard, asOf) : "online",
      lastSeen: c.lastSeen,
      heartbeat: c.heartbeat,
      capabilities,
      ordersValid: c.orders.valid,
      messages,
      ...(c.health ? { health: c.health } : {}),
      ...(c.stateReason ? { stateReason: c.stateReason } : {}),
      ...(c.unsigned ? { unsigned: c.unsigned } : {}),
      ...(c.onCall ? { onCall: c.onCall } : {}),
    };
  }
  let orders: Record<string, OrderStatus>;
  if (model.orders) orders = deriveOrders(model.orders.orders, model, asOf);
  else orders = reportedOrders(model);
  // Signed orders: what each machine refused, said where people look (it acts on the version it verified last).
  const byName = [...model.computers].sort(([a], [b]) => (a < b ? -1 : 1));
  const refused = byName.flatMap(([name, c]) => (c.trust?.refused ?? []).map((r) => ({ name, r })));
  const services = deriveServices(model);
  const reserved = readReservations(model.computers);
  const reservations = asOf ? heldAt(reserved.reservations, asOf) : [];
  const alerts = sortAlerts([
    ...(asOf ? offlineAlerts(machines, asOf) : []),
    ...stalledAlerts(machines),
    ...failureAlerts(orders),
    ...serviceAlerts(services),
    ...refused.map(({ name, r }): Alert => ({ id: `refused/${name}/${r.commit}`, kind: "refused", machine: name, text: `${name} refused ${describeRefusal(r)}` })),
    ...unnamedAlerts(
      byName.map(([name]) => name),
      model.keys,
    ),
    ...approvalAlerts(machines),
    ...urgent.values(),
  ]);
  return {
    coord: 1,
    ...(asOf ? { asOf: asOf.toISOString() } : {}),
    ...(model.controls?.emergency ? { emergency: model.controls.emergency } : {}),
    machines,
    orders,
    ...(Object.keys(services).length ? { services } : {}),
    ...(reservations.length ? { reservations } : {}),
    budget: fleetBudget(
      model.controls?.pushesPerMinute ?? DEFAULT_PUSHES_PER_MINUTE,
      Object.values(machines).filter((m) => m.presence !== "offline").length,
      model.controls?.budgets ?? {},
    ),
    alerts,
    errors: [...model.ordersProblems, ...(model.services?.problems ?? []), ...model.fileProblems, ...reserved.problems],
  };
}

/** Each service ORDERS.json defines or a machine reports, with every machine's report (its output stays in the machine's file). */
function deriveServices(model: RepoModel): Record<string, ServiceStatus> {
  const defined = new Map((model.services?.services ?? []).map((s) => [s.id, s] as const));
  const byId = new Map<string, Record<string, Omit<ServiceReport, "output">>>();
  for (const name of [...model.computers.keys()].sort())
    for (const [id, r] of Object.entries(model.computers.get(name)!.services ?? {})) {
      const { output: _output, ...rest } = r;
      if (!byId.has(id)) byId.set(id, {});
      byId.get(id)![name] = rest;
    }
  const out: Record<string, ServiceStatus> = {};
  for (const id of [...new Set([...defined.keys(), ...byId.keys()])].sort()) {
    const machines = byId.get(id) ?? {};
    const s = defined.get(id);
    out[id] = { rev: s?.rev ?? Math.max(1, ...Object.values(machines).map((m) => m.rev)), ...(s ? { to: s.to } : {}), machines };
  }
  return out;
}

export function renderStatusJson(status: StatusJson): string {
  return JSON.stringify(status, null, 2) + "\n";
}

/**
 * The machines ORDERS.json's keys leave out (read from the tip as it is, the same on every machine): the machines
 * that verify believe nothing they publish, which their own files do not say.
 */
function unnamedAlerts(names: string[], keys: ReadonlyMap<string, string> | undefined): Alert[] {
  if (!keys) return [];
  return names
    .filter((name) => !keys.has(name))
    .map((name) => ({
      id: `unnamed/${name}`,
      kind: "refused" as const,
      machine: name,
      text: `${name} is not among ORDERS.json's keys: the machines that verify believe nothing it publishes (its reports, messages and delegated orders)`,
    }));
}
