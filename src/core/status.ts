// STATUS.json and STATUS.md: derived files, a pure function of ORDERS.json and
// the machines' files at one commit. No clock, stable key order, LF endings:
// two machines that see the same inputs write the same bytes.
import { formatDuration } from "./duration.js";
import { inline, table } from "./markdown.js";
import { ordersTargets } from "./orders.js";
import { unsupportedReason } from "./plan.js";
import { addressedTo, isAcked, messageId } from "./messages.js";
import type { RepoModel } from "./repo.js";
import type { MachineState, Order, Problem, TaskReport, TaskState } from "./types.js";

export interface MachineStatus {
  state: MachineState;
  lastSeen: string;
  heartbeat: number;
  capabilities: Record<string, string>;
  ordersValid: boolean;
  /** Live messages to this machine: not yet received (waiting in git), and received but not acknowledged. */
  messages: { waiting: number; unacked: number };
}

/** An urgent message its recipient has not acknowledged. */
export interface Alert {
  id: string;
  from: string;
  to: string;
  at: string;
  text: string;
}

export interface OrderMachineStatus {
  state: TaskState;
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: number;
  reason?: string;
}

export interface OrderStatus {
  rev: number;
  state: TaskState;
  to: string | string[];
  reason?: string;
  machines: Record<string, OrderMachineStatus>;
}

export interface StatusJson {
  coord: 1;
  machines: Record<string, MachineStatus>;
  orders: Record<string, OrderStatus>;
  alerts: Alert[];
  errors: Problem[];
}

/** Readers call a machine offline after this many missed heartbeats. */
export const MISSED_HEARTBEATS = 3;

export function isOffline(m: { lastSeen: string; heartbeat: number }, now: Date): boolean {
  const seen = Date.parse(m.lastSeen);
  return !Number.isFinite(seen) || now.getTime() - seen > MISSED_HEARTBEATS * m.heartbeat * 1000;
}

function fromReport(t: TaskReport): OrderMachineStatus {
  return {
    state: t.state,
    exitCode: t.exitCode ?? null,
    startedAt: t.startedAt ?? null,
    finishedAt: t.finishedAt ?? null,
    attempts: t.attempts,
    ...(t.reason ? { reason: t.reason } : {}),
  };
}

const pending = (state: TaskState, reason?: string): OrderMachineStatus => ({
  state,
  exitCode: null,
  startedAt: null,
  finishedAt: null,
  attempts: 0,
  ...(reason ? { reason } : {}),
});

/** One state for an order from its machines' states. */
export function summarize(states: TaskState[]): TaskState {
  if (states.length === 0) return "queued";
  if (states.every((s) => s === "completed")) return "completed";
  for (const s of ["in_progress", "failed", "assigned", "queued", "blocked", "rejected", "cancelled"] as const)
    if (states.includes(s)) return s;
  return "completed";
}

function orderStatus(order: Order, model: RepoModel): OrderStatus {
  const machines: Record<string, OrderMachineStatus> = {};
  const unsupported = unsupportedReason(order);
  for (const name of ordersTargets(order, model.machineNames)) {
    const report = model.computers.get(name)?.tasks[order.id];
    if (report && report.rev === order.rev) machines[name] = fromReport(report);
    else if (report && report.rev > order.rev)
      machines[name] = { ...fromReport(report), reason: `ran rev ${report.rev} already; ORDERS.json says rev ${order.rev}: set rev above ${report.rev} to run it again` };
    else if (order.cancelled) machines[name] = pending("cancelled", "cancelled in ORDERS.json");
    else if (unsupported) machines[name] = pending("rejected", unsupported);
    else machines[name] = pending("queued");
  }
  const states = Object.values(machines).map((m) => m.state);
  const state = order.to === "ANY" && unsupported ? "rejected" : summarize(states);
  return { rev: order.rev, state, to: order.to, ...(unsupported ? { reason: unsupported } : {}), machines };
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
    out[id] = { rev: revs.get(id)!, state: summarize(Object.values(machines).map((m) => m.state)), to: Object.keys(machines).sort(), machines };
  }
  return out;
}

const firstLine = (text: string) => {
  const line = text.split("\n")[0] ?? "";
  return line.length > 120 ? line.slice(0, 119) + "…" : line;
};

export function deriveStatus(model: RepoModel): StatusJson {
  const machines: Record<string, MachineStatus> = {};
  const alerts: Alert[] = [];
  for (const name of [...model.computers.keys()].sort()) {
    const c = model.computers.get(name)!;
    const capabilities = Object.fromEntries(Object.entries(c.capabilities).sort(([a], [b]) => (a < b ? -1 : 1)));
    const messages = { waiting: 0, unacked: 0 };
    for (const f of model.messageFiles) {
      if (!addressedTo(f, name)) continue;
      const receipt = c.messages?.[`${f.from}/${f.to}`];
      for (const m of f.messages) {
        if (isAcked(receipt, m.seq)) continue;
        if (m.seq > (receipt?.received ?? 0)) messages.waiting++;
        else messages.unacked++;
        if (m.priority === "urgent") alerts.push({ id: messageId(f.from, f.to, m.seq), from: f.from, to: name, at: m.at, text: firstLine(m.text) });
      }
    }
    machines[name] = { state: c.state, lastSeen: c.lastSeen, heartbeat: c.heartbeat, capabilities, ordersValid: c.orders.valid, messages };
  }
  alerts.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : a.to < b.to ? -1 : 1));
  let orders: Record<string, OrderStatus>;
  if (model.orders) {
    orders = {};
    for (const order of model.orders.orders) orders[order.id] = orderStatus(order, model);
  } else orders = reportedOrders(model);
  return { coord: 1, machines, orders, alerts, errors: [...model.ordersProblems, ...model.fileProblems] };
}

export function renderStatusJson(status: StatusJson): string {
  return JSON.stringify(status, null, 2) + "\n";
}

function where(p: Problem): string {
  return [p.file + (p.line ? `:${p.line}` : ""), p.path].filter(Boolean).join(" ");
}

export function renderStatusMd(status: StatusJson): string {
  const out: string[] = ["# Fleet status", ""];
  out.push(
    "*Derived by coord from `ORDERS.json` and `coordination/COMPUTER_*.md`; every machine writes the same bytes. " +
      `A machine is offline when its last seen time is more than ${MISSED_HEARTBEATS} heartbeats ago.*`,
    "",
  );
  if (status.errors.length) {
    out.push("## ⚠ Errors", "");
    for (const p of status.errors) out.push(`- \`${where(p).replace(/`/g, "'")}\`: ${inline(p.message)}`);
    out.push("");
  }
  if (status.alerts.length) {
    out.push("## 🔔 Urgent messages not acknowledged", "");
    out.push(table(["message", "to", "sent", "text"], status.alerts.map((a) => [a.id, a.to, a.at, a.text])), "");
  }
  out.push("## Machines", "");
  const machines = Object.entries(status.machines);
  if (machines.length === 0) out.push("No machine has registered yet: run `coord init` on one.");
  else
    out.push(
      table(
        ["machine", "state", "last seen", "heartbeat", "messages waiting / unacked", "capabilities"],
        machines.map(([name, m]) => [
          `[${name}](coordination/COMPUTER_${name}.md)`,
          m.state,
          m.lastSeen,
          formatDuration(m.heartbeat),
          `${m.messages.waiting} / ${m.messages.unacked}`,
          Object.keys(m.capabilities).join(", "),
        ]),
      ),
    );
  out.push("", "## Orders", "");
  const orders = Object.entries(status.orders);
  if (orders.length === 0) out.push("No orders. Add some to `ORDERS.json`.");
  else
    out.push(
      table(
        ["order", "rev", "state", "machines"],
        orders.map(([id, o]) => [
          id,
          o.rev,
          o.state + (o.reason ? ` (${o.reason})` : ""),
          Object.entries(o.machines)
            .map(([name, m]) => `${name}: ${m.state}${m.exitCode !== null ? ` (exit ${m.exitCode})` : ""}`)
            .join("; "),
        ]),
      ),
    );
  return out.join("\n") + "\n";
}
