// STATUS.md: the fleet for people on GitHub, a pure function of STATUS.json
// (no clock: times are relative to the fleet's time, asOf). What needs a
// person comes first (errors, alerts, failures), then machines and orders in
// narrow tables that fit a phone; long text goes in lists and <details>.
import { describeBudget } from "../budget/budget.js";
import { serviceHeading, taskHeading } from "../fleet/computer.js";
import { formatDuration } from "../time/duration.js";
import { plural, someOf } from "../limits.js";
import { code, fence, inline, type Markdown, md, slug, table } from "../files/markdown.js";
import { agoText, MISSED_HEARTBEATS, type Presence, silentFor, spanText, STALE_HEARTBEATS, utcText } from "../fleet/presence.js";
import { ATTENTION } from "./status.js";
import { machineStateText, waitedText } from "./alerts.js";
import type { Problem, TaskState } from "../types.js";
import type { Alert, MachineStatus, OrderMachineStatus, OrderStatus, StatusJson } from "../fleet/status-types.js";

/** Machines whose commits are not signed, one line per reason (a fleet of machines made before keys has one line). */
function unsignedLines(machines: [string, MachineStatus][]): string[] {
  const byReason = new Map<string, string[]>();
  for (const [name, m] of machines) if (m.unsigned) byReason.set(m.unsigned, [...(byReason.get(m.unsigned) ?? []), name]);
  return [...byReason].map(([why, names]) => `- ${names.join(", ")} ${names.length > 1 ? "sign" : "signs"} nothing: ${inline(why)}`);
}

/** The link to a machine's file, or to one task's section in it. */
export function machineLink(name: string, orderId?: string): string {
  return `coordination/COMPUTER_${name}.md${orderId ? `#${taskAnchor(orderId)}` : ""}`;
}

/** The anchor GitHub gives a task's heading in a machine file ("### Task <id>"). */
export function taskAnchor(orderId: string): string {
  return slug(taskHeading(orderId));
}

/** Why a machine's task is where it is (and when it is retried), when the order's own reason does not say it. */
export function machineNote(m: OrderMachineStatus, orderReason: string | undefined): string | undefined {
  const retry = m.retryAt ? `retry at ${m.retryAt}` : undefined;
  const reason = m.reason === orderReason ? undefined : m.reason;
  if (m.state === "completed" || !(reason || retry)) return undefined;
  return [reason, retry].filter(Boolean).join("; ");
}

const MARK: Partial<Record<TaskState, string>> = { failed: "✖ ", completed: "✔ ", in_progress: "▶ ", blocked: "⏸ ", rejected: "⛔ " };

const SERVICE_MARK: Record<string, string> = { running: "▶ ", failed: "✖ ", unhealthy: "✖ ", backoff: "⟳ ", stopped: "⏹ ", waiting: "⏸ " };

const PRESENCE_MARK: Record<Presence, string> = { online: "", stale: "🟡 stale · ", offline: "🔴 offline · " };

const ALERT_MARK: Record<Alert["kind"], string> = {
  offline: "🔴 **offline**",
  stalled: "⚠ **stalled**",
  failed: "✖ **failed**",
  service: "⚙ **service**",
  refused: "⛔ **refused**",
  approval: "✋ **approval waiting**",
  urgent: "📨 **urgent message**",
};

function where(p: Problem): string {
  return [p.file + (p.line ? `:${p.line}` : ""), p.path].filter(Boolean).join(" ");
}

function lastSeen(m: MachineStatus, asOf: Date | undefined): string {
  const silent = asOf ? silentFor(m, asOf) : undefined;
  return silent === undefined ? utcText(m.lastSeen) : `${agoText(silent)} (${utcText(m.lastSeen)})`;
}

function alertLine(a: Alert, status: StatusJson, asOf: Date | undefined): string {
  const mark = ALERT_MARK[a.kind];
  switch (a.kind) {
    case "offline": {
      const m = status.machines[a.machine!];
      return `- ${mark}: [${a.machine}](${machineLink(a.machine!)}), last seen ${m ? lastSeen(m, asOf) : inline(a.at)}`;
    }
    case "stalled":
      return `- ${mark}: [${a.machine}](${machineLink(a.machine!)}) ${inline(a.text.slice(a.machine!.length + 1))}`;
    case "service":
      return `- ${mark}: [${inline(a.text)}](${machineLink(a.machine!)}#${slug(serviceHeading(a.service!))})`;
    case "approval": {
      const waited = asOf ? waitedText(a, asOf) : undefined;
      return `- ${mark}: ${inline(a.text)}${a.at ? ` · waiting since ${utcText(a.at)}${waited ? ` (${waited})` : ""}` : ""}`;
    }
    case "urgent":
      return `- ${mark} ${code(a.id)} from ${inline(a.from)} to ${inline(someOf(a.recipients ?? []))}, sent ${a.at ? inline(utcText(a.at)) : "?"}: ${inline(a.text)}`;
    default:
      return `- ${mark}: ${inline(a.text)}`;
  }
}

/** The failed tasks, each with why, its attempts and its last lines of output. */
function failures(status: StatusJson): string[] {
  const out: string[] = [];
  for (const [id, o] of Object.entries(status.orders))
    for (const [name, m] of Object.entries(o.machines)) {
      if (m.state !== "failed") continue;
      const why = m.reason ?? (m.exitCode !== null ? `exit ${m.exitCode}` : "failed");
      const next = m.retriesExhausted ? "no retries left" : m.retryAt ? `retry at ${m.retryAt}` : o.every ? "the next run replaces the retry" : "a retry waits";
      out.push(`**${id}** on [${name}](${machineLink(name, id)}): ${inline(why)} · attempt ${m.attempts}, ${next}`, "");
      if (m.output) out.push("<details><summary>last lines of output</summary>", "", fence(m.output), "", "</details>", "");
    }
  return out;
}

/** One order's machines in a short cell: "a ✔, b ✖" or, for many, grouped by state. */
/** The machines on call: whose messages their agent answers, its running turns with their latest steps, the day's spend. */
function onCallLines(machines: [string, MachineStatus][]): string[] {
  const lines: string[] = [];
  for (const [name, m] of machines) {
    const o = m.onCall;
    if (!o) continue;
    const who = o.from === "ALL" ? "every machine" : o.from.join(", ");
    const spent = o.spent ? `; $${o.spent.usd.toFixed(2)} spent on ${o.spent.day}` : "";
    lines.push(`- ${inline(name)} is on call: ${inline(o.agent)} answers ${inline(who)}${spent}`);
    for (const t of o.turns ?? []) lines.push(`  - running for ${inline(t.asker)} since ${inline(t.since)} (thread ${code(t.thread)})${t.step ? `: ${code(t.step)}` : ""}`);
  }
  return lines;
}

function machinesCell(o: OrderStatus): string {
  const entries = Object.entries(o.machines);
  if (entries.length <= 4) return entries.map(([name, m]) => `${name} ${(MARK[m.state] ?? "").trim() || m.state}`).join(", ");
  const byState = new Map<TaskState, string[]>();
  for (const [name, m] of entries) byState.set(m.state, [...(byState.get(m.state) ?? []), name]);
  return [...byState]
    .sort(([a], [b]) => ATTENTION[a] - ATTENTION[b])
    .map(([state, names]) => `${state}: ${someOf(names, 3)}`)
    .join("; ");
}

/** A recurring order: its schedule, its last run (the latest slot a machine ran, and how it went) and its next. */
export function recurringLine(id: string, o: OrderStatus): string {
  const last = o.slot ? `last run ${utcText(o.slot)} (${o.state.replace("_", " ")})` : "not run yet";
  return `- \`${id}\` every ${code(o.every ?? "")}: ${last}${o.next ? ` · next ${utcText(o.next)}` : ""}`;
}

/** Why orders are not moving, or failed: one line per reason (the table keeps narrow). */
function notes(orders: [string, OrderStatus][]): string[] {
  const out: string[] = [];
  for (const [id, o] of orders) {
    if (o.reason) out.push(`- \`${id}\` ${o.state}: ${inline(o.reason)}`);
    for (const [name, m] of Object.entries(o.machines)) {
      if (m.state === "failed") continue; // in Failures, with its last lines
      const note = machineNote(m, o.reason);
      if (note) out.push(`- \`${id}\` on ${name}, ${m.state}: ${inline(note)}`);
    }
  }
  return out;
}

function summary(status: StatusJson, asOf: Date | undefined): string {
  const machines = Object.values(status.machines);
  const presence = (p: Presence) => machines.filter((m) => m.presence === p).length;
  const counts = new Map<TaskState, number>();
  for (const o of Object.values(status.orders)) counts.set(o.state, (counts.get(o.state) ?? 0) + 1);
  const orders = [...counts]
    .sort(([a], [b]) => ATTENTION[a] - ATTENTION[b])
    .map(([s, n]) => `${n} ${s.replace("_", " ")}`)
    .join(", ");
  const parts = [
    asOf ? `As of **${utcText(asOf.toISOString())}** (the newest heartbeat)` : "No machine yet",
    `${plural(machines.length, "machine")}: ${presence("online")} online${presence("stale") ? `, ${presence("stale")} stale` : ""}${presence("offline") ? `, **${presence("offline")} offline**` : ""}`,
    `${plural(Object.keys(status.orders).length, "order")}${orders ? `: ${orders}` : ""}`,
  ];
  const line = parts.join(" · ");
  // The host's limit, and what it does to heartbeats (core/budget/budget.ts): people see why a machine is quiet for long.
  return status.budget ? `${line}\n\nPush budget: ${describeBudget(status.budget)} (ORDERS.json \`"hub": {"pushesPerMinute": …, "readsPerSecond": …}\`).` : line;
}

export function renderStatusMd(status: StatusJson): string {
  const asOf = status.asOf ? new Date(status.asOf) : undefined;
  const out: string[] = ["# Fleet status", "", summary(status, asOf), ""];
  if (status.emergency)
    out.push(
      "## 🛑 Emergency stop",
      "",
      `**${inline(status.emergency.reason)}**`,
      "",
      "Every machine stops its running tasks and starts nothing until `emergency` is removed from `ORDERS.json`.",
      "",
    );
  if (status.errors.length) {
    out.push("## ⚠ Errors", "");
    for (const p of status.errors) out.push(`- ${code(where(p))}: ${inline(p.message)}`);
    out.push("");
  }
  // Failures have a section of their own, just below.
  const alerts = status.alerts.filter((a) => a.kind !== "failed");
  if (alerts.length) {
    out.push("## 🔔 Alerts", "");
    for (const a of alerts) out.push(alertLine(a, status, asOf));
    out.push("");
  }
  const failed = failures(status);
  if (failed.length) out.push("## ✖ Failures", "", ...failed);
  out.push("## Machines", "");
  const machines = Object.entries(status.machines);
  if (machines.length === 0) out.push("No machine has registered yet: run `coord init` on one.", "");
  else
    out.push(
      table(
        ["machine", "state", "last seen"],
        machines.map(([name, m]) => [md(`[${inline(name)}](${machineLink(name)})`), PRESENCE_MARK[m.presence] + machineStateText(m), lastSeen(m, asOf)]),
      ),
      "",
      ...machines.filter(([, m]) => m.stateReason).map(([name, m]) => `- ${name} ${m.state}: ${inline(m.stateReason)}`),
      ...unsignedLines(machines),
      ...onCallLines(machines),
      ...(machines.some(([, m]) => m.stateReason || m.unsigned || m.onCall) ? [""] : []),
      "<details><summary>Heartbeats, messages and capabilities</summary>",
      "",
      table(
        ["machine", "heartbeat", "messages waiting / unacked", "capabilities"],
        machines.map(([name, m]) => [name, formatDuration(m.heartbeat), `${m.messages.waiting} / ${m.messages.unacked}`, Object.keys(m.capabilities).join(", ")]),
      ),
      "",
      "</details>",
      "",
    );
  out.push("## Orders", "");
  // Failed first, then blocked and rejected, then moving, then done; in ORDERS.json's order within each.
  const orders = Object.entries(status.orders).sort(([, a], [, b]) => ATTENTION[a.state] - ATTENTION[b.state]);
  if (orders.length === 0) out.push("No orders. Add some to `ORDERS.json`.", "");
  else {
    out.push(
      table(
        ["order", "state", "machines"],
        orders.map(([id, o]) => [o.rev > 1 ? `${id} (rev ${o.rev})` : id, (MARK[o.state] ?? "") + o.state.replace("_", " "), machinesCell(o)]),
      ),
      "",
    );
    const why = notes(orders);
    if (why.length) out.push(...why, "");
    const recurring = orders.filter(([, o]) => o.every);
    if (recurring.length) out.push("Recurring orders:", "", ...recurring.map(([id, o]) => recurringLine(id, o)), "");
  }
  const services = Object.entries(status.services ?? {});
  if (services.length) {
    out.push("## Services", "");
    const rows: (string | Markdown)[][] = [];
    const why: string[] = [];
    for (const [id, s] of services) {
      const machines = Object.entries(s.machines);
      if (machines.length === 0) rows.push([s.rev > 1 ? `${id} (rev ${s.rev})` : id, "not reported yet", ""]);
      for (const [name, r] of machines) {
        const state = `${SERVICE_MARK[r.health === "unhealthy" ? "unhealthy" : r.state] ?? ""}${r.state}${r.health ? ` (${r.health})` : ""}`;
        // Uptime at the fleet's time (a derived file has no clock of its own).
        const up = r.startedAt && asOf && Number.isFinite(Date.parse(r.startedAt)) ? ` · up ${spanText(Math.max(0, (asOf.getTime() - Date.parse(r.startedAt)) / 1000))}` : "";
        rows.push([
          s.rev > 1 ? `${id} (rev ${s.rev})` : id,
          state,
          md(`[${inline(name)}](${machineLink(name)}#${slug(serviceHeading(id))})${r.restarts ? ` · ${r.restarts} restarts` : ""}${up}`),
        ]);
        if (r.reason && r.state !== "running") why.push(`- ${id} on ${name}: ${inline(r.reason)}`);
      }
    }
    out.push(table(["service", "state", "machine"], rows), "", ...why, ...(why.length ? [""] : []));
  }
  if (status.reservations?.length) {
    out.push(
      "## Reservations",
      "",
      table(
        ["paths", "machine", "until"],
        status.reservations.map((r) => [md(r.paths.map(code).join(" ")), md(`[${inline(r.machine)}](${machineLink(r.machine)})${r.shared ? " · shared" : ""}`), utcText(r.until)]),
      ),
      "",
      ...status.reservations.filter((r) => r.reason).map((r) => `- ${r.machine}/${r.id} (${inline(r.paths.join(", "))}): ${inline(r.reason)}`),
      ...(status.reservations.some((r) => r.reason) ? [""] : []),
      "Each machine above is editing those paths: the others leave them alone until then (`coord reservations`).",
      "",
    );
  }
  out.push(
    "---",
    `*Derived by coord from \`ORDERS.json\` and \`coordination/COMPUTER_*.md\`; every machine writes the same bytes. ` +
      `Times are relative to the newest heartbeat. A machine is stale after ${STALE_HEARTBEATS} heartbeats without news and offline after ${MISSED_HEARTBEATS}.*`,
  );
  return out.join("\n") + "\n";
}
