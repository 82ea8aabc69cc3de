// What `coord status` prints (pure): the fleet, failures first; one machine
// in detail; one order in detail; the frames of `--watch`. Times are relative
// to the `now` passed in (the reader's clock), with UTC where a detail needs
// the moment; presence is computed at `now` (core/fleet/presence.ts). Colour only
// through a Paint (core/status/colour.ts): `plain` writes no escape code.
import { describeBudget } from "../budget/budget.js";
import { failuresText } from "../fleet/failures.js";
import { alertsAt, askedText, machineStateText } from "./alerts.js";
import { clipVisible, PRESENCE_TONE, type Paint, plain, STATE_TONE, visibleLength } from "./colour.js";
import { dueSlot, upcomingSlot } from "../time/every.js";
import { clip, plural, someOf } from "../limits.js";
import { agoText, MISSED_HEARTBEATS, presenceOf, silentFor, spanText, STALE_HEARTBEATS, utcText } from "../fleet/presence.js";
import { ATTENTION } from "./status.js";
import { machineNote } from "./status-md.js";
import { suggestField } from "../files/suggest.js";
import { sanitizeText } from "../files/shown.js";
import type { TaskState } from "../types.js";
import type { Order } from "../orders/orders-schema.js";
import type { OnCallReport, TaskReport } from "../fleet/computer.js";
import type { MachineStatus, OrderMachineStatus, OrderStatus, StatusJson } from "../fleet/status-types.js";

/** A table of columns padded to their widest cell (colours take no width); line ends trimmed. */
export function textTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ""))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c + " ".repeat(Math.max(0, widths[i]! - visibleLength(c))))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Urgent messages unacknowledged for longer than this are shown as alerts by `coord status`. */
export const ALERT_AFTER_MS = 15 * 60 * 1000;

/** Lines of a task's output the detail views show at most. */
export const TAIL_LINES = 10;

export interface ViewOptions {
  /** Colour (default: none). */
  paint?: Paint;
  /** Urgent messages count as alerts once unacknowledged this long (ALERT_AFTER_MS). */
  alertAfterMs?: number;
  /** The host of this checkout's hub: the push budget names its figure (else every host's). */
  host?: { kind: string; host: string; pushesPerMinute?: number };
}

const byAttention = <T extends { state: TaskState }>(entries: [string, T][]): [string, T][] => [...entries].sort(([, a], [, b]) => ATTENTION[a.state] - ATTENTION[b.state]);

/** "3 min ago" for a past time, "never" for none; a time the clock has not reached yet reads "just now". */
export function ago(iso: string | null | undefined, now: Date): string {
  const t = Date.parse(iso ?? "");
  if (!Number.isFinite(t)) return "never";
  return agoText(Math.max(0, (now.getTime() - t) / 1000));
}

/** "in 4 min" for a future time, "now" once it is due. */
export function until(iso: string, now: Date): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const s = (t - now.getTime()) / 1000;
  return s < 5 ? "now" : `in ${spanText(s)}`;
}

/** How long something took or may take: "850 ms", "2.5 s", "12 min" (spanText says "just now" under 5 s: a moment, not a length). */
export function lengthText(seconds: number): string {
  if (seconds < 1) return `${Math.max(0, Math.round(seconds * 1000))} ms`;
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
  return spanText(seconds);
}

/** "3 min ago (2026-11-22 14:03 UTC)". */
export function agoAt(iso: string, now: Date): string {
  return `${ago(iso, now)} (${utcText(iso)})`;
}

/** A machine's last seen time for people, at `now` (a lastSeen in the reader's future is not believed). */
function lastSeenText(m: MachineStatus, now: Date): string {
  const silent = silentFor(m, now);
  return silent === undefined ? `not believable (${m.lastSeen})` : agoText(silent);
}

const stateWord = (s: TaskState) => s.replace("_", " ");

function paintState(paint: Paint, s: TaskState): string {
  return paint(STATE_TONE[s], stateWord(s));
}

/** Why a task failed: its reason, else its exit code. */
function failedWhy(m: OrderMachineStatus): string {
  return m.reason ?? (m.exitCode !== null ? `exit ${m.exitCode}` : "failed");
}

/** What happens next to a failed task: retries exhausted, a retry at a time, or one that waits. */
function retryText(m: OrderMachineStatus, now: Date): string {
  if (m.retriesExhausted) return "retries exhausted";
  if (m.retryAt) return `retry ${until(m.retryAt, now)} (${utcText(m.retryAt)})`;
  return "a retry waits";
}

/** One line: machines by presence, orders by state (failures first). */
function summaryLine(status: StatusJson, now: Date, paint: Paint): string {
  const machines = Object.values(status.machines);
  const count = new Map<string, number>();
  for (const m of machines) {
    const p = presenceOf(m, now);
    count.set(p, (count.get(p) ?? 0) + 1);
  }
  const presence = (["online", "stale", "offline"] as const)
    .filter((p) => count.get(p))
    .map((p) => paint(p === "online" ? undefined : PRESENCE_TONE[p], `${count.get(p)} ${p}`))
    .join(", ");
  const states = new Map<TaskState, number>();
  for (const o of Object.values(status.orders)) states.set(o.state, (states.get(o.state) ?? 0) + 1);
  const orders = [...states]
    .sort(([a], [b]) => ATTENTION[a] - ATTENTION[b])
    .map(([s, n]) => paint(s === "failed" ? "red" : undefined, `${n} ${stateWord(s)}`))
    .join(", ");
  return [`${plural(machines.length, "machine")}${presence ? `: ${presence}` : ""}`, `${plural(Object.keys(status.orders).length, "order")}${orders ? `: ${orders}` : ""}`].join(
    " · ",
  );
}

/** The tasks that need a person, failed first, then blocked (and on what), then rejected (and for want of what). */
function attentionLines(status: StatusJson, now: Date, paint: Paint): string[] {
  const failed: string[] = [];
  const blocked: string[] = [];
  const rejected: string[] = [];
  for (const [id, o] of Object.entries(status.orders)) {
    for (const [name, m] of Object.entries(o.machines))
      if (m.state === "failed")
        failed.push(
          `  ${paint("bold", id)} on ${name}: ${paint("red", failedWhy(m))} · attempt ${m.attempts}, ${paint(m.retriesExhausted ? "red" : undefined, retryText(m, now))}`,
        );
    for (const [state, into] of [
      ["blocked", blocked],
      ["rejected", rejected],
    ] as const) {
      // Machines waiting for the same reason on one line ("deploy on a, b: waiting for build").
      const why = new Map<string, string[]>();
      for (const [name, m] of Object.entries(o.machines)) if (m.state === state) why.set(m.reason ?? o.reason ?? state, [...(why.get(m.reason ?? o.reason ?? state) ?? []), name]);
      if (why.size === 0 && o.state === state) why.set(o.reason ?? state, []); // "to: ANY": no machine has it yet
      for (const [reason, names] of why) into.push(`  ${paint("bold", id)}${names.length ? ` on ${someOf(names)}` : ""}: ${reason}`);
    }
  }
  const out: string[] = [];
  if (failed.length) out.push(paint("red", "FAILED"), ...failed);
  if (blocked.length) out.push(paint("yellow", "BLOCKED"), ...blocked);
  if (rejected.length) out.push(paint("red", "REJECTED"), ...rejected);
  return out;
}

/** Why the other orders are where they are (failed, blocked and rejected are said above). */
function orderNotes(orders: [string, OrderStatus][]): string[] {
  const out: string[] = [];
  const said = (s: TaskState) => s === "failed" || s === "blocked" || s === "rejected";
  for (const [id, o] of orders) {
    if (o.reason && !said(o.state)) out.push(`  ${id} ${stateWord(o.state)}: ${o.reason}`);
    for (const [name, m] of Object.entries(o.machines)) {
      if (said(m.state)) continue;
      const note = machineNote(m, o.reason);
      if (note) out.push(`  ${id} on ${name}, ${stateWord(m.state)}: ${note}`);
    }
  }
  return out;
}

/** A machine's cell in the orders table: "name=state(exit)". */
function machineCell(paint: Paint, name: string, m: OrderMachineStatus): string {
  return `${name}=${paintState(paint, m.state)}${m.exitCode !== null ? `(${m.exitCode})` : ""}`;
}

/** What `coord status` prints: a summary, what needs a person (failures first), alerts, errors, machines, orders. */
export function statusText(status: StatusJson, now: Date, opts: ViewOptions = {}): string {
  const paint = opts.paint ?? plain;
  const alertAfterMs = opts.alertAfterMs ?? ALERT_AFTER_MS;
  const machines = Object.entries(status.machines);
  const orders = byAttention(Object.entries(status.orders));
  const out: string[] = [];
  if (status.emergency)
    out.push(paint("red", `EMERGENCY STOP: ${status.emergency.reason}`), "  every machine stops its tasks and starts nothing until it is removed from ORDERS.json", "");
  if (machines.length || orders.length) out.push(summaryLine(status, now, paint), ...(status.budget ? [`push budget: ${describeBudget(status.budget, opts.host)}`] : []), "");
  const attention = attentionLines(status, now, paint);
  if (attention.length) out.push(...attention, "");
  // Failed tasks are said above; urgent messages count once unacknowledged for a while; offline at this reader's clock.
  const alerts = alertsAt(status, now).filter((a) => a.kind !== "failed" && (a.kind !== "urgent" || now.getTime() - Date.parse(a.at ?? "") >= alertAfterMs));
  if (alerts.length) {
    out.push(paint("yellow", "ALERTS"));
    for (const a of alerts)
      out.push(
        a.kind === "urgent"
          ? `  ${paint("magenta", "urgent message")} ${a.id} to ${someOf(a.recipients ?? [])}, sent ${ago(a.at, now)}: ${a.text}`
          : a.kind === "approval"
            ? `  ${paint("magenta", "approval waiting")}, ${askedText(a, now)}: ${a.text}`
            : `  ${paint(a.kind === "offline" || a.kind === "refused" ? "red" : undefined, a.kind)}: ${a.text}`,
      );
    out.push("");
  }
  if (status.errors.length) {
    out.push(paint("red", "ERRORS"));
    for (const p of status.errors) out.push(`  ${p.file}${p.line ? `:${p.line}` : ""}${p.path ? ` ${p.path}` : ""}: ${p.message}`);
    out.push("");
  }
  if (machines.length === 0) out.push("No machines yet: run coord init on one.");
  else {
    out.push(
      textTable(
        ["MACHINE", "PRESENCE", "STATE", "LAST SEEN", "MSGS WAITING/UNACKED", "CAPABILITIES"],
        machines.map(([name, m]) => {
          const presence = presenceOf(m, now);
          return [
            name,
            paint(PRESENCE_TONE[presence], presence),
            paint(m.state === "stalled" || m.state === "emergency" ? "red" : undefined, machineStateText(m)),
            lastSeenText(m, now),
            `${m.messages.waiting}/${m.messages.unacked}`,
            Object.keys(m.capabilities).join(","),
          ];
        }),
      ),
    );
    for (const [name, m] of machines)
      if (m.health) out.push(paint("red", `${name} ${failuresText(m.health, (t) => ago(t, now))}`));
      else if (m.stateReason) out.push(paint("yellow", `${name} is ${m.state}: ${m.stateReason}`));
  }
  out.push("");
  if (orders.length === 0) out.push("No orders.");
  else {
    out.push(
      textTable(
        ["ORDER", "REV", "STATE", "MACHINES"],
        orders.map(([id, o]) => [
          id,
          String(o.rev),
          paintState(paint, o.state),
          Object.entries(o.machines)
            .map(([name, m]) => machineCell(paint, name, m))
            .join(" "),
        ]),
      ),
    );
    const notes = orderNotes(orders);
    if (notes.length) out.push("", ...notes);
  }
  const services = servicesLines(status, now, paint);
  if (services.length) out.push("", ...services);
  const reservations = reservationsLines(status, now);
  if (reservations.length) out.push("", ...reservations);
  return out.join("\n");
}

/** The fleet's path reservations still live at the reader's clock: who edits which paths, until when, why. */
export function reservationsLines(status: StatusJson, now: Date): string[] {
  const live = (status.reservations ?? []).filter((r) => Date.parse(r.until) > now.getTime());
  if (live.length === 0) return [];
  return [
    textTable(
      ["RESERVED BY", "PATHS", "UNTIL", "REASON"],
      live.map((r) => [`${r.machine}${r.shared ? " (shared)" : ""}`, r.paths.join(" "), `${utcText(r.until)} (${until(r.until, now)})`, r.reason ?? ""]),
    ),
  ];
}

/** The services of the fleet (`coord status`, `coord services`): one row per service and machine, uptime at the reader's clock; why each one that is not running is so. */
export function servicesLines(status: StatusJson, now: Date, paint: Paint = plain): string[] {
  const services = Object.entries(status.services ?? {});
  if (services.length === 0) return [];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const [id, s] of services) {
    const machines = Object.entries(s.machines);
    if (machines.length === 0) rows.push([id, String(s.rev), "-", "not reported yet", "", "", ""]);
    for (const [name, r] of machines) {
      const bad = r.state === "failed" || r.health === "unhealthy";
      const up = r.startedAt && Number.isFinite(Date.parse(r.startedAt)) ? lengthText(Math.max(0, (now.getTime() - Date.parse(r.startedAt)) / 1000)) : "";
      rows.push([
        id,
        String(r.rev),
        name,
        paint(bad ? "red" : r.state === "running" ? "green" : undefined, `${r.state}${r.health ? ` (${r.health})` : ""}`),
        r.pid !== undefined ? String(r.pid) : "",
        String(r.restarts),
        up,
      ]);
      if (r.reason && (r.state !== "running" || r.health === "unhealthy")) notes.push(`  ${id} on ${name}: ${r.reason}`);
    }
  }
  return [textTable(["SERVICE", "REV", "MACHINE", "STATE", "PID", "RESTARTS", "UP"], rows), ...(notes.length ? ["", ...notes] : [])];
}

// ------------------------------------------------------------ one machine

/** Rows of label and value, the labels padded. */
function fields(rows: [string, string | undefined][]): string[] {
  const shown = rows.filter((r): r is [string, string] => r[1] !== undefined);
  const width = Math.max(...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
}

/** The last `n` lines of a task's output, indented and marked, dim. */
function tail(output: string | undefined, paint: Paint, n = TAIL_LINES): string[] {
  if (!output?.trim()) return [];
  const lines = output.replace(/\s+$/, "").split("\n");
  const shown = lines.slice(-n);
  return [...(lines.length > n ? [paint("dim", `    | … (${lines.length - n} more lines above)`)] : []), ...shown.map((l) => paint("dim", `    | ${clip(l, 400)}`))];
}

/** "started 3 min ago, took 12 s" and the like, for one machine's task. */
function timesText(m: OrderMachineStatus, now: Date): string {
  if (m.finishedAt) return `finished ${ago(m.finishedAt, now)}${m.durationMs !== undefined ? `, took ${lengthText(m.durationMs / 1000)}` : ""}`;
  if (m.startedAt) return `started ${ago(m.startedAt, now)}`;
  return "";
}

/** What one machine's task says of itself beyond its state: why, what next. */
function whyText(m: OrderMachineStatus, o: OrderStatus | undefined, now: Date): string {
  if (m.state === "failed") return `${failedWhy(m)} · ${retryText(m, now)}`;
  const reason = m.reason ?? (m.state === "blocked" ? o?.reason : undefined);
  return [reason, m.takeoverFrom ? `took over from ${m.takeoverFrom}` : undefined].filter(Boolean).join(" · ");
}

/** Per-machine reports as read from the machines' files (the whole published output tail). */
export type Reports = ReadonlyMap<string, { tasks: Record<string, TaskReport> }>;

/** The output a machine published for its task at the rev shown (its file has more lines than STATUS). */
function outputOf(reports: Reports | undefined, machine: string, id: string, m: OrderMachineStatus, rev: number | undefined): string | undefined {
  const r = reports?.get(machine)?.tasks;
  const report = r && Object.hasOwn(r, id) ? r[id] : undefined;
  // Another machine's lines: what a person could not see, escaped (the status itself is so already).
  if (report && (rev === undefined || report.rev === rev)) return report.output === undefined ? undefined : sanitizeText(report.output);
  return m.output;
}

/** `coord status <machine>`: presence, state, last seen, heartbeat, capabilities, messages, health, and its tasks (failures first, with their last lines). */
export function machineText(name: string, status: StatusJson, now: Date, opts: ViewOptions & { reports?: Reports } = {}): string {
  const paint = opts.paint ?? plain;
  const m = status.machines[name];
  if (!m) return `${name}: no such machine`;
  const presence = presenceOf(m, now);
  const beat = m.heartbeat;
  // Its state as the fleet table says it, from the same turns as its "on call" line below: never "idle" above a turn.
  const out = [`${paint("bold", name)}: ${paint(PRESENCE_TONE[presence], presence)} · ${machineStateText(m)}`];
  out.push(
    ...fields([
      ["last seen", silentFor(m, now) === undefined ? `${m.lastSeen} (in the future for this clock: not believed)` : `${lastSeenText(m, now)} (${utcText(m.lastSeen)})`],
      ["heartbeat", `every ${lengthText(beat)}: stale after ${lengthText(beat * STALE_HEARTBEATS)} without news, offline after ${lengthText(beat * MISSED_HEARTBEATS)}`],
      [
        "capabilities",
        Object.keys(m.capabilities).length
          ? Object.entries(m.capabilities)
              .map(([k, v]) => `${k} ${v}`)
              .join(", ")
          : "none",
      ],
      ["messages", `${m.messages.waiting} waiting (not received yet), ${m.messages.unacked} received but not acknowledged`],
      ...(m.onCall ? ([["on call", onCallText(m.onCall, now)]] as [string, string][]) : []),
      ["orders", m.ordersValid ? "ORDERS.json valid as it last read it" : paint("red", "ORDERS.json invalid as it last read it: it starts no new task")],
      [
        "health",
        m.health
          ? paint(
              "red",
              failuresText(m.health, (t) => agoAt(t, now)),
            )
          : "syncing",
      ],
    ]),
  );
  const tasks = byAttention(
    Object.entries(status.orders)
      .filter(([, o]) => Object.hasOwn(o.machines, name))
      .map(([id, o]) => [id, { ...o.machines[name]!, rev: o.rev, order: o }] as [string, OrderMachineStatus & { rev: number; order: OrderStatus }]),
  );
  out.push("");
  if (tasks.length === 0) out.push(`No order addresses ${name}.`);
  else {
    out.push(
      textTable(
        ["ORDER", "REV", "STATE", "ATTEMPTS", "EXIT", "WHEN", "WHY"],
        tasks.map(([id, t]) => [
          id,
          String(t.rev),
          paintState(paint, t.state),
          String(t.attempts),
          t.exitCode === null ? "-" : String(t.exitCode),
          timesText(t, now),
          paint(t.state === "failed" ? "red" : undefined, whyText(t, t.order, now)),
        ]),
      ),
    );
    for (const [id, t] of tasks) {
      if (t.state !== "failed") continue;
      const lines = tail(outputOf(opts.reports, name, id, t, t.rev), paint);
      if (lines.length) out.push("", `${id}: last lines of output`, ...lines);
    }
  }
  // Its services, as it reports them.
  const services = Object.fromEntries(
    Object.entries(status.services ?? {})
      .filter(([, s]) => Object.hasOwn(s.machines, name))
      .map(([id, s]) => [id, { ...s, machines: { [name]: s.machines[name]! } }]),
  );
  const serviceLines = servicesLines({ ...status, services }, now, paint);
  if (serviceLines.length) out.push("", ...serviceLines);
  // The paths it holds.
  const reserved = reservationsLines({ ...status, reservations: (status.reservations ?? []).filter((r) => r.machine === name) }, now);
  if (reserved.length) out.push("", ...reserved);
  // A request waiting for a person: on the machine that asks, and on the one it asks.
  const alerts = alertsAt(status, now).filter((a) => a.kind !== "failed" && (a.machine === name || a.recipients?.includes(name) || (a.kind === "approval" && a.to === name)));
  if (alerts.length) out.push("", paint("yellow", "ALERTS"), ...alerts.map((a) => `  ${a.kind}${a.kind === "approval" ? `, ${askedText(a, now)}` : ""}: ${a.text}`));
  return out.join("\n");
}

/** A machine on call, in one line: its CLI, for whom, and each running turn with its latest step. */
function onCallText(o: OnCallReport, now: Date): string {
  const turns = (o.turns ?? []).map((t) => `thread ${t.thread} for ${t.asker} since ${agoAt(t.since, now)}${t.step ? `, at: ${t.step}` : ""}`);
  const who = o.from === "ALL" ? "every machine" : o.from.join(", ");
  return `${o.agent} answers ${who}${o.permissions ? ` (${o.permissions})` : ""}${o.spent ? `; $${o.spent.usd.toFixed(2)} spent ${o.spent.day}` : ""}${turns.length ? `; running: ${turns.join("; ")}` : "; no turn running"}`;
}

// -------------------------------------------------------------- one order

/** What an order runs, in one line. */
function runsText(order: Order): string {
  if (order.agent) return `agent ${order.agent}${order.model ? ` (${order.model})` : ""}: ${clip((order.prompt ?? "").split("\n")[0] ?? "", 100)}`;
  return clip(order.run ?? "", 120);
}

/** A recurring order's schedule, last run and next run, at the reader's clock (a slot due and not run yet: due now). */
function recurringFields(o: OrderStatus, def: Order | undefined, now: Date): [string, string | undefined][] {
  if (!o.every) return [];
  const due = def ? dueSlot(def, now) : undefined;
  const upcoming = def ? upcomingSlot(def, now) : o.next;
  const next =
    due && (!o.slot || due > o.slot)
      ? `due now: the slot of ${utcText(due)} runs at the next sync${def?.to === "ANY" ? " of a machine that takes it" : " of each machine"}`
      : upcoming
        ? `${until(upcoming, now)} (${utcText(upcoming)})`
        : undefined;
  return [
    ["every", o.every],
    ["last run", o.slot ? `the slot of ${utcText(o.slot)}: ${stateWord(o.state)}` : "not run yet"],
    ["next run", next],
  ];
}

/** `coord status --order <id>`: to, rev, state, why; what it runs; each machine's state, attempts, exit, times, why and last lines. */
export function orderText(id: string, status: StatusJson, now: Date, opts: ViewOptions & { reports?: Reports; order?: Order } = {}): string {
  const paint = opts.paint ?? plain;
  const o = status.orders[id];
  if (!o) return `${id}: no such order`;
  const def = opts.order;
  const to = Array.isArray(o.to) ? o.to.join(", ") : o.to;
  const out = [`${paint("bold", id)} (rev ${o.rev}): ${paintState(paint, o.state)}${o.done ? "" : o.state === "completed" ? "" : " · not done yet"}`];
  out.push(
    ...fields([
      ["to", to + (o.holder ? ` (held by ${o.holder})` : "")],
      ["runs", def ? runsText(def) : undefined],
      ["after", def?.after.length ? def.after.join(", ") : undefined],
      ["requires", def?.requires.length ? def.requires.join(", ") : undefined],
      ["retries", def ? String(def.retries) : undefined],
      ["timeout", def?.timeout !== undefined ? lengthText(def.timeout) : undefined],
      ["cancelled", def?.cancelled ? "yes" : undefined],
      ...recurringFields(o, def, now),
      ["why", o.reason ? paint(o.state === "failed" || o.state === "rejected" ? "red" : "yellow", o.reason) : undefined],
    ]),
  );
  const machines = byAttention(Object.entries(o.machines));
  out.push("");
  if (machines.length === 0) out.push(o.to === "ANY" ? "No machine has claimed it yet." : "No machine is addressed yet.");
  else {
    const slots = o.every !== undefined;
    out.push(
      textTable(
        ["MACHINE", "STATE", ...(slots ? ["SLOT"] : []), "ATTEMPTS", "EXIT", "STARTED", "FINISHED", "TOOK", "WHY"],
        machines.map(([name, m]) => [
          name,
          paintState(paint, m.state),
          ...(slots ? [m.slot ? utcText(m.slot) : "-"] : []),
          String(m.attempts),
          m.exitCode === null ? "-" : String(m.exitCode),
          m.startedAt ? ago(m.startedAt, now) : "-",
          m.finishedAt ? ago(m.finishedAt, now) : "-",
          m.durationMs !== undefined ? lengthText(m.durationMs / 1000) : "-",
          paint(m.state === "failed" ? "red" : undefined, whyText(m, o, now)),
        ]),
      ),
    );
    for (const [name, m] of machines) {
      const lines = tail(outputOf(opts.reports, name, id, m, o.rev), paint);
      if (lines.length) out.push("", `${name}: ${m.state === "failed" ? "last lines of output" : "output"}`, ...lines);
    }
  }
  return out.join("\n");
}

// ------------------------------------------------------------ unknown names

/** One sentence for a name that is not there: what is, and the closest one. */
export function unknownName(kind: "machine" | "order" | "service", name: string, known: string[]): string {
  const where = kind === "machine" ? "in the fleet" : kind === "service" ? "on this machine" : "in ORDERS.json";
  if (known.length === 0) return `there is no ${kind} "${name}" ${where}, and none yet${kind === "machine" ? ": run coord init on one" : ": add one to ORDERS.json"}`;
  const close = suggestField(name, known);
  return `there is no ${kind} "${name}" ${where}${close ? ` (did you mean ${close}?)` : ""}; the ${kind}s are ${someOf(known, 10)}`;
}

// ---------------------------------------------------------------- --watch

/** "2026-11-23 14:03:12 UTC": a refresh's time, to the second. */
export function refreshTime(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export interface Frame {
  /** The view, as rendered. */
  text: string;
  at: Date;
  /** Refreshing every this many seconds. */
  every: number;
  /** What went wrong with this refresh, if anything (the view is then the last one fetched). */
  note?: string;
  paint?: Paint;
}

/** `text` in lines of at most `columns` characters, broken at spaces where it can be. */
export function wrap(text: string, columns: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > columns) {
    const space = rest.lastIndexOf(" ", columns);
    const cut = space > 0 ? space : columns;
    out.push(rest.slice(0, cut));
    rest = rest.slice(space > 0 ? cut + 1 : cut);
  }
  out.push(rest);
  return out;
}

/** Clears the screen from the cursor down, and moves home. */
const HOME = "\x1b[H";
const CLEAR_LINE = "\x1b[K";
const CLEAR_BELOW = "\x1b[J";
export const HIDE_CURSOR = "\x1b[?25l";
/** What leaves the terminal as it was: the cursor shown, colours reset. */
export const RESTORE_TERMINAL = "\x1b[?25h\x1b[0m";

/**
 * One refresh of `coord status --watch`. On a terminal: home, each line
 * drawn over the old one, the rest cleared (no flicker), cut to the
 * window's rows and columns. Elsewhere: a separator line with the time, then the view,
 * no escape code unless colour was asked for.
 */
export function watchFrame(frame: Frame, terminal?: { rows?: number; columns?: number }): string {
  const paint = frame.paint ?? plain;
  if (!terminal) return [`--- ${refreshTime(frame.at)} ---`, ...(frame.note ? [paint("yellow", frame.note)] : []), frame.text].join("\n");
  // The note is read whole (why the view is old): wrapped, where the view's lines are cut.
  const note = frame.note ? wrap(frame.note, terminal.columns ?? Number.POSITIVE_INFINITY).map((l) => paint("yellow", l)) : [];
  const head = paint("dim", `coord status · every ${lengthText(frame.every)} · refreshed ${refreshTime(frame.at)} · Ctrl-C to stop`);
  let lines = [head, ...note, "", ...frame.text.split("\n")];
  const rows = terminal.rows && terminal.rows > 2 ? terminal.rows - 1 : undefined; // the last row stays free: no scroll
  if (rows && lines.length > rows) {
    const cut = lines.length - rows + 1;
    lines = [...lines.slice(0, rows - 1), paint("dim", `… ${cut} more lines: make the window taller, or run coord status without --watch`)];
  }
  // A line longer than the window would wrap onto the next and push the frame off the top.
  const columns = terminal.columns && terminal.columns > 1 ? terminal.columns : undefined;
  return HOME + lines.map((l) => (columns ? clipVisible(l, columns) : l) + CLEAR_LINE).join("\n") + CLEAR_BELOW;
}
