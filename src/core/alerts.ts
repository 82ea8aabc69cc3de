// Alerts: what needs a person, each with a stable id (a notify hook calls out
// once per id). Urgent messages and refused orders changes come from the files
// (core/status.ts); failures from the orders' status; offline machines from
// presence at a time the reader passes in: the fleet's time in STATUS.md, the
// reader's clock in a terminal, the page or a notify hook.
import { presenceOf, silentFor, agoText, utcText } from "./presence.js";
import type { MachineStatus, OrderStatus, StatusJson } from "./status.js";

export const ALERT_KINDS = ["offline", "failed", "refused", "urgent"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface Alert {
  /** Stable while the cause lasts: "offline/<machine>/<lastSeen>", "failed/<order>/<rev>/<machine>/<attempts>", "refused/<machine>/<commit>", or an urgent message's id. */
  id: string;
  kind: AlertKind;
  /** One line for people. */
  text: string;
  /** When it began, when known (ISO). */
  at?: string;
  /** The machine it is about (offline, failed, refused). */
  machine?: string;
  /** The order it is about (failed). */
  order?: string;
  /** Urgent messages: the sender, the file's recipient (a name or ALL), and who has not acknowledged it yet. */
  from?: string;
  to?: string;
  recipients?: string[];
}

/** Machines offline at `now`. */
export function offlineAlerts(machines: Record<string, MachineStatus>, now: Date): Alert[] {
  const out: Alert[] = [];
  for (const [name, m] of Object.entries(machines)) {
    if (presenceOf(m, now) !== "offline") continue;
    const silent = silentFor(m, now);
    const seen = silent === undefined ? `its last seen time ${m.lastSeen} is not believable` : `last seen ${agoText(silent)} (${utcText(m.lastSeen)})`;
    out.push({ id: `offline/${name}/${m.lastSeen}`, kind: "offline", machine: name, at: m.lastSeen, text: `${name} is offline: ${seen}` });
  }
  return out;
}

/** Tasks failed for good (no retry left): one alert per machine and attempt. */
export function failureAlerts(orders: Record<string, OrderStatus>): Alert[] {
  const out: Alert[] = [];
  for (const [id, o] of Object.entries(orders))
    for (const [name, m] of Object.entries(o.machines)) {
      if (m.state !== "failed" || !m.retriesExhausted) continue;
      const why = m.reason ?? (m.exitCode !== null ? `exit ${m.exitCode}` : "failed");
      out.push({
        id: `failed/${id}/${o.rev}/${name}/${m.attempts}`,
        kind: "failed",
        order: id,
        machine: name,
        ...(m.finishedAt ? { at: m.finishedAt } : {}),
        text: `${id} failed on ${name}: ${why}`,
      });
    }
  return out;
}

const rank = (k: AlertKind) => ALERT_KINDS.indexOf(k);

/** Deterministic order: by kind (offline, failed, refused, urgent), then time, then id. */
export function sortAlerts(alerts: Alert[]): Alert[] {
  return alerts.sort((a, b) => rank(a.kind) - rank(b.kind) || cmp(a.at ?? "", b.at ?? "") || cmp(a.id, b.id));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The alerts of `status` as a reader with a clock sees them at `now`: offline recomputed at `now`, the rest as derived. */
export function alertsAt(status: StatusJson, now: Date): Alert[] {
  return sortAlerts([...status.alerts.filter((a) => a.kind !== "offline"), ...offlineAlerts(status.machines, now)]);
}
