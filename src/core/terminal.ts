// Plain-text tables for the terminal (pure).
import { alertsAt } from "./alerts.js";
import { isOffline } from "./presence.js";
import type { StatusJson } from "./status.js";
import { machineNote } from "./status-md.js";

export function textTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function ago(iso: string, now: Date): string {
  const s = Math.round((now.getTime() - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return "never";
  if (s < 60) return `${Math.max(0, s)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** Urgent messages unacknowledged for longer than this are shown as alerts by `coord status`. */
export const ALERT_AFTER_MS = 15 * 60 * 1000;

/** What `coord status` prints: machines (offline derived from `now`), orders, alerts, errors. */
export function statusText(status: StatusJson, now: Date, alertAfterMs = ALERT_AFTER_MS): string {
  const out: string[] = [];
  const machines = Object.entries(status.machines);
  out.push(
    machines.length === 0
      ? "No machines yet: run coord init on one."
      : textTable(
          ["MACHINE", "STATE", "LAST SEEN", "MSGS WAITING/UNACKED", "CAPABILITIES"],
          machines.map(([name, m]) => [
            name,
            isOffline(m, now) ? "offline" : m.state,
            ago(m.lastSeen, now),
            `${m.messages.waiting}/${m.messages.unacked}`,
            Object.keys(m.capabilities).join(","),
          ]),
        ),
    "",
  );
  const orders = Object.entries(status.orders);
  out.push(
    orders.length === 0
      ? "No orders."
      : textTable(
          ["ORDER", "REV", "STATE", "MACHINES"],
          orders.map(([id, o]) => [
            id,
            String(o.rev),
            o.state,
            Object.entries(o.machines)
              .map(([name, m]) => `${name}=${m.state}${m.exitCode !== null ? `(${m.exitCode})` : ""}`)
              .join(" ") +
              (o.reason ? `  ${o.reason}` : "") +
              Object.entries(o.machines)
                .map(([name, m]) => [name, machineNote(m, o.reason)] as const)
                .filter(([, note]) => note)
                .map(([name, note]) => `  ${name}: ${note}`)
                .join(""),
          ]),
        ),
  );
  for (const [name, m] of machines)
    if (m.health) out.push(`${name} is stalled: ${m.health.failures} failed syncs in a row since ${m.health.since}; last error: ${m.health.lastError}`);
  // Urgent messages count once unacknowledged for a while; the rest (offline at this reader's clock, failures, refusals) at once.
  const alerts = alertsAt(status, now).filter((a) => a.kind !== "urgent" || now.getTime() - Date.parse(a.at ?? "") >= alertAfterMs);
  if (alerts.length) {
    out.push("", "ALERTS");
    for (const a of alerts)
      out.push(a.kind === "urgent" ? `  urgent message ${a.id} to ${(a.recipients ?? []).join(", ")}, sent ${ago(a.at ?? "", now)}: ${a.text}` : `  ${a.kind}: ${a.text}`);
  }
  if (status.errors.length) {
    out.push("", "ERRORS");
    for (const p of status.errors) out.push(`  ${p.file}${p.line ? `:${p.line}` : ""}${p.path ? ` ${p.path}` : ""}: ${p.message}`);
  }
  return out.join("\n");
}
