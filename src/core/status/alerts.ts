// Alerts: what needs a person, each with a stable id (a notify hook calls out
// once per id). Urgent messages and refused orders changes come from the files
// (core/status/status.ts); failures from the orders' status; offline machines from
// presence at a time the reader passes in: the fleet's time in STATUS.md, the
// reader's clock in a terminal, the page or a notify hook.
import { presenceOf, silentFor, agoText, spanText, utcText } from "../fleet/presence.js";
import { plural } from "../limits.js";
import { failuresText, type ReportedHealth } from "../fleet/failures.js";
import { type Alert, ALERT_KINDS, type AlertKind, type MachineStatus, type OrderStatus, type ServiceStatus, type StatusJson } from "../fleet/status-types.js";

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

/**
 * Machines whose syncs failed (the hub refused their pushes, or 3 failed in a row), as they report it: while it
 * lasts and for one heartbeat after (core/fleet/failures.ts). One alert per machine and run of failures: the machine
 * itself sends the same id from its own record while it cannot publish (stalledAlert).
 */
export function stalledAlerts(machines: Record<string, MachineStatus>): Alert[] {
  const out: Alert[] = [];
  for (const [name, m] of Object.entries(machines)) if (m.health) out.push(stalledAlert(name, m.health));
  return out;
}

/** The alert of machine `name`'s run of failures `h`. */
export function stalledAlert(name: string, h: ReportedHealth): Alert {
  return { id: `stalled/${name}/${h.since}`, kind: "stalled", machine: name, at: h.since, text: `${name} ${failuresText(h)}` };
}

/** Tasks failed for good (no retry left): one alert per machine and attempt. */
export function failureAlerts(orders: Record<string, OrderStatus>): Alert[] {
  const out: Alert[] = [];
  for (const [id, o] of Object.entries(orders))
    for (const [name, m] of Object.entries(o.machines)) {
      if (m.state !== "failed" || !m.retriesExhausted) continue;
      const why = m.reason ?? (m.exitCode !== null ? `exit ${m.exitCode}` : "failed");
      out.push({
        // A recurring order's slot is a run of its own: its failure is a new alert.
        id: `failed/${id}/${o.rev}${m.slot ? `@${m.slot}` : ""}/${name}/${m.attempts}`,
        kind: "failed",
        order: id,
        machine: name,
        ...(m.finishedAt ? { at: m.finishedAt } : {}),
        text: `${id} failed on ${name}: ${why}`,
      });
    }
  return out;
}

/**
 * Services that need a person: failed (restarted restart.max times in its
 * window) or unhealthy, one alert per machine, rev and episode (the time its
 * state began): "service/<id>/<rev>/<machine>/failed/<since>".
 */
export function serviceAlerts(services: Record<string, ServiceStatus>): Alert[] {
  const out: Alert[] = [];
  for (const [id, s] of Object.entries(services))
    for (const [name, r] of Object.entries(s.machines)) {
      const what = r.state === "failed" ? "failed" : r.state === "running" && r.health === "unhealthy" ? "unhealthy" : undefined;
      if (!what) continue;
      const since = r.since ?? "";
      out.push({
        id: `service/${id}/${r.rev}/${name}/${what}/${since}`,
        kind: "service",
        service: id,
        machine: name,
        ...(r.since ? { at: r.since } : {}),
        text: `service ${id} is ${what} on ${name}${r.reason ? `: ${r.reason}` : ""}`,
      });
    }
  return out;
}

/**
 * Requests for a permission an agent on call made that wait for a person (approvals from afar), as their machines
 * publish them: one alert per request, to its asker, with since when it waits.
 */
export function approvalAlerts(machines: Record<string, MachineStatus>): Alert[] {
  const out: Alert[] = [];
  for (const [name, m] of Object.entries(machines))
    for (const w of m.onCall?.waiting ?? [])
      out.push({
        id: `approval/${w.request}`,
        kind: "approval",
        machine: name,
        to: w.asker,
        at: w.since,
        text: `${name}'s ${m.onCall!.agent} waits for ${w.asker} to approve or deny ${w.tool} (request ${w.request}): coord approve ${w.request}, or coord deny ${w.request}`,
      });
  return out;
}

/** How long an alert has waited at `now`, in words ("3 min"), when its time is known. */
export function waitedText(a: Pick<Alert, "at">, now: Date): string | undefined {
  const t = Date.parse(a.at ?? "");
  return Number.isFinite(t) ? spanText(Math.max(0, Math.round((now.getTime() - t) / 1000))) : undefined;
}

/** When a request waiting for a person was asked, in words for before its text: "asked just now", "asked 3 min ago". */
export function askedText(a: Pick<Alert, "at">, now: Date): string {
  const waited = waitedText(a, now);
  return waited === undefined ? "asked at a time unknown" : waited === "just now" ? "asked just now" : `asked ${waited} ago`;
}

/** A machine's state as the fleet tables show it: its turns on call with it ("idle" while turns run would say nobody works). */
export function machineStateText(m: Pick<MachineStatus, "state" | "onCall">): string {
  const n = m.onCall?.turns?.length ?? 0;
  if (n === 0) return m.state;
  const turns = `${n} turn${n === 1 ? "" : "s"} on call`;
  return m.state === "idle" ? `answering (${turns})` : `${m.state}, ${turns}`;
}

const rank = (k: AlertKind) => ALERT_KINDS.indexOf(k);

/** Deterministic order: by kind (offline, stalled, failed, service, refused, approval, urgent), then time, then id. */
export function sortAlerts(alerts: Alert[]): Alert[] {
  return alerts.sort((a, b) => rank(a.kind) - rank(b.kind) || cmp(a.at ?? "", b.at ?? "") || cmp(a.id, b.id));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The alerts of `status` as a reader with a clock sees them at `now`: offline recomputed at `now`, the rest as derived. */
export function alertsAt(status: StatusJson, now: Date): Alert[] {
  return sortAlerts([...status.alerts.filter((a) => a.kind !== "offline"), ...offlineAlerts(status.machines, now)]);
}

// Notifying: each alert goes out at most once (notify in the machine config,
// src/sync/notify.ts). The ids already sent are kept in the local state; these
// rules say which alerts are new, how many go out in one sync, and when an id
// is forgotten.

/** An id already notified: when it went out, and since when its alert is gone (absent from the alerts read). */
export interface NotifiedEntry {
  at: string;
  gone?: string;
}

export type Notified = Record<string, NotifiedEntry>;

/** Calls at most per sync: the first NOTIFY_CAP - 1 new alerts one by one, and one summary for the rest when there are more. */
export const NOTIFY_CAP = 5;

/** An id whose alert is gone is kept this long (a machine file unreadable for a while must not make its alerts new again). */
export const NOTIFIED_GRACE_S = 86_400;

/** The rest of the new alerts, in one call when there are more than a sync sends one by one. */
export interface AlertSummary {
  id: string;
  kind: "summary";
  text: string;
  /** The ids it stands for. */
  alerts: string[];
}

/** What a notify hook is called with: one alert, or the summary of the rest. */
export type Notice = Alert | AlertSummary;

/** The alerts whose ids were not notified yet, in their order. */
export function newAlerts(alerts: readonly Alert[], notified: Notified): Alert[] {
  const seen = new Set<string>();
  return alerts.filter((a) => {
    if (Object.hasOwn(notified, a.id) || seen.has(a.id)) return false;
    seen.add(a.id);
    return true;
  });
}

/**
 * The record after a sync that read `alerts` at `now`: ids present lose their
 * `gone` mark, ids absent get one, and those gone for longer than the grace
 * are dropped (the file stays as large as the alerts of the last day).
 */
export function pruneNotified(notified: Notified, alerts: readonly Alert[], now: Date, graceS = NOTIFIED_GRACE_S): Notified {
  const present = new Set(alerts.map((a) => a.id));
  const out: Notified = Object.create(null) as Notified; // ids come from the repository: no prototype to collide with
  for (const [id, entry] of Object.entries(notified)) {
    if (present.has(id)) {
      out[id] = { at: entry.at };
      continue;
    }
    const gone = Date.parse(entry.gone ?? "");
    if (!Number.isFinite(gone)) out[id] = { at: entry.at, gone: now.toISOString() };
    else if (now.getTime() - gone <= graceS * 1000) out[id] = entry;
  }
  return out;
}

/** What one sync sends, and the record to write before it sends anything (at most once: a crash after the write sends nothing twice). */
export interface NotifyPlan {
  send: Notice[];
  notified: Notified;
}

/**
 * The notices of one sync: the new alerts (first run included: the alerts
 * already there are new), at most `cap` calls, the last of them a summary of
 * the rest when there are more; every one of them recorded as notified.
 */
export function planNotify(alerts: readonly Alert[], notified: Notified, now: Date, cap = NOTIFY_CAP): NotifyPlan {
  const fresh = newAlerts(alerts, notified);
  const record = pruneNotified(notified, alerts, now);
  const at = now.toISOString();
  for (const a of fresh) record[a.id] = { at };
  const limit = Math.max(1, cap);
  if (fresh.length <= limit) return { send: fresh, notified: record };
  const one = fresh.slice(0, limit - 1);
  const rest = fresh.slice(limit - 1);
  const counts = ALERT_KINDS.map((k) => [k, rest.filter((a) => a.kind === k).length] as const).filter(([, n]) => n > 0);
  const summary: AlertSummary = {
    id: `summary/${at}`,
    kind: "summary",
    text: `${plural(rest.length, "more alert")} (${counts.map(([k, n]) => `${n} ${k}`).join(", ")}): see STATUS.md`,
    alerts: rest.map((a) => a.id),
  };
  return { send: [...one, summary], notified: record };
}
