// Alerts leave the repository: after a sync, the fleet's new alerts (offline
// machines at this machine's clock, orders failed for good, refused changes,
// urgent messages: core/status/alerts.ts) go to the machine's notify command and/or
// webhook, at most once each. The rules (which are new, how many per sync,
// when an id is forgotten) are core/status/alerts.ts; the record is
// state/notified.ts, written before any call. A call that fails or hangs is
// one sentence in coord.log and the sync's progress, never a failed sync.
import { join } from "node:path";
import { alertsAt, type Notice, planNotify, sortAlerts } from "../core/status/alerts.js";
import { clip } from "../core/limits.js";
import { formatDuration } from "../core/time/duration.js";
import { redact } from "../core/trust/redact.js";
import type { RepoModel } from "../core/repo/repo.js";
import { deriveStatus } from "../core/status/status.js";
import { VERSION } from "../package.js";
import { runTask } from "../runner/run.js";
import type { NotifyConfig } from "../state/config.js";
import { appendLog } from "../state/logs.js";
import { readNotified, renderNotified, saveNotified } from "../state/notified.js";
import type { Machine } from "./machine.js";
import type { Alert, StatusJson } from "../core/fleet/status-types.js";

/** What the command reads on stdin and the webhook receives: one alert (or the summary of the rest), who sends it, and the fleet in brief. */
export interface NotifyPayload {
  coord: 1;
  /** One line for people (chat webhooks that read `text` show it as is). */
  text: string;
  alert: Notice;
  /** The machine that sends it. */
  machine: string;
  fleet: { asOf?: string; machines: number; offline: string[]; alerts: number };
}

/** How one notice went. */
export interface NotifyOutcome {
  id: string;
  ok: boolean;
  /** Why not, one sentence per hook that failed (redacted). */
  error?: string;
}

/** The payload for `notice`, sent by `machine`, with `alerts` the fleet's alerts at the same time. */
export function payloadOf(notice: Notice, machine: string, status: StatusJson, alerts: readonly Alert[]): NotifyPayload {
  const offline = alerts.filter((a) => a.kind === "offline" && a.machine !== undefined).map((a) => a.machine!);
  return {
    coord: 1,
    text: `coord (${machine}): ${notice.text}`,
    alert: notice,
    machine,
    fleet: { ...(status.asOf ? { asOf: status.asOf } : {}), machines: Object.keys(status.machines).length, offline, alerts: alerts.length },
  };
}

/**
 * Sends the new alerts of `model` (the tip the sync ended on), as seen at
 * `now`. Never throws: what goes wrong is logged. Runs under the sync's lock,
 * so two syncs never send the same alert.
 */
export async function notifyAlerts(
  m: Machine,
  model: RepoModel,
  now: Date,
  log: (line: string) => void,
  signal?: AbortSignal,
  /** Alerts this machine knows of that the tip cannot say yet (its own pushes refused: core/status/alerts.ts stalledAlert). */
  local: Alert[] = [],
): Promise<NotifyOutcome[]> {
  const notify = m.config.notify;
  if (!notify) return [];
  try {
    return await notifyAll(m, notify, model, now, log, signal, local);
  } catch (e) {
    const sentence = `notify: the alerts could not be checked (${redact((e as Error).message, secretsOf(notify))}); the next sync tries again`;
    log(sentence);
    await appendLog(m.stateDir, { kind: "notify", machine: m.config.name, ok: false, error: sentence }).catch(() => {});
    return [];
  }
}

async function notifyAll(
  m: Machine,
  notify: NotifyConfig,
  model: RepoModel,
  now: Date,
  log: (line: string) => void,
  signal: AbortSignal | undefined,
  local: Alert[],
): Promise<NotifyOutcome[]> {
  const status = deriveStatus(model);
  const fleet = alertsAt(status, now);
  const alerts = sortAlerts([...fleet, ...local.filter((a) => !fleet.some((f) => f.id === a.id))]);
  const wanted = notify.kinds ? alerts.filter((a) => (notify.kinds as readonly string[]).includes(a.kind)) : alerts;
  const before = await readNotified(m.stateDir);
  const plan = planNotify(wanted, before ?? {}, now);
  // Recorded first: a crash from here on sends nothing twice (and may send nothing at all: at most once).
  if (before === undefined || renderNotified(plan.notified) !== renderNotified(before)) await saveNotified(m.stateDir, plan.notified);
  const outcomes: NotifyOutcome[] = [];
  for (const notice of plan.send) {
    if (signal?.aborted) {
      const error = `notify: ${notice.id} was not sent (the sync was stopped); it is not sent again`;
      log(error);
      outcomes.push({ id: notice.id, ok: false, error });
      continue;
    }
    const payload = payloadOf(notice, m.config.name, status, alerts);
    const errors = (
      await Promise.all([
        notify.command !== undefined ? runCommand(m, notify, payload, signal) : undefined,
        notify.webhook !== undefined ? postWebhook(notify, payload, signal) : undefined,
      ])
    ).filter((e): e is string => e !== undefined);
    const error = errors.length ? `notify: ${errors.join("; ")}; it is not sent again` : undefined;
    if (error) log(error);
    else log(`notified ${notice.id}`);
    outcomes.push({ id: notice.id, ok: error === undefined, ...(error ? { error } : {}) });
    await appendLog(m.stateDir, {
      kind: "notify",
      machine: m.config.name,
      alert: notice.id,
      alertKind: notice.kind,
      ok: error === undefined,
      via: [...(notify.command !== undefined ? ["command"] : []), ...(notify.webhook !== undefined ? ["webhook"] : [])],
      ...(error ? { error } : {}),
    }).catch(() => {});
  }
  return outcomes;
}

/** What must never show in a log: the webhook URL whole and its path and query (a token often sits there, as in Slack's URLs). */
function secretsOf(notify: NotifyConfig): string[] {
  if (notify.webhook === undefined) return [];
  const out = [notify.webhook];
  try {
    const u = new URL(notify.webhook);
    if (u.pathname.length > 1) out.push(u.pathname, ...u.pathname.split("/").filter((p) => p.length >= 6));
    if (u.search) out.push(u.search, ...[...u.searchParams.values()].filter((v) => v.length >= 6));
    if (u.username) out.push(u.username);
    if (u.password) out.push(u.password);
  } catch {
    // The config refuses a URL that does not parse.
  }
  return out;
}

/** The webhook as logs name it: its scheme and host, nothing of its path, query or credentials. */
export function webhookName(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "the webhook";
  }
}

/** Runs the command for one notice; why it failed, or undefined. */
async function runCommand(m: Machine, notify: NotifyConfig, payload: NotifyPayload, signal?: AbortSignal): Promise<string | undefined> {
  const what = `the command for ${payload.alert.id}`;
  const r = await runTask({
    command: notify.command!, // as the user wrote it; the alert only on stdin and in the environment, never in the command line
    cwd: m.dir,
    timeout: notify.timeout,
    logFile: join(m.stateDir, "logs", "notify.log"),
    logCap: 256 * 1024,
    input: `${JSON.stringify(payload)}\n`,
    env: {
      ...(process.env as Record<string, string>),
      COORD_MACHINE: m.config.name,
      COORD_ALERT_ID: payload.alert.id,
      COORD_ALERT_KIND: payload.alert.kind,
      COORD_ALERT_TEXT: payload.alert.text,
    },
    program: "the notify command",
    ...(signal ? { signal } : {}),
  });
  if (r.error) return `${what} could not start (${r.error})`;
  if (r.timedOut) return `${what} timed out after ${formatDuration(notify.timeout)} and was stopped with its process group`;
  if (r.aborted) return `${what} was stopped (the sync was stopped)`;
  if (r.exitCode === 0) return undefined;
  const last = lastLine(r.tail);
  return `${what} ${r.exitCode !== null ? `exited ${r.exitCode}` : `was killed by ${r.signal}`}${last ? ` (${clip(redact(last, secretsOf(notify)), 200)})` : ""}`;
}

const lastLine = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();

/** Posts one notice to the webhook; why it failed, or undefined. */
async function postWebhook(notify: NotifyConfig, payload: NotifyPayload, signal?: AbortSignal): Promise<string | undefined> {
  const url = notify.webhook!;
  const what = `the webhook ${webhookName(url)} for ${payload.alert.id}`;
  const timeout = AbortSignal.timeout(notify.timeout * 1000);
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": `coord/${VERSION}` },
      body: JSON.stringify(payload),
      redirect: "manual", // the alert goes where the config says, nowhere else
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    });
    const body = await res.text().catch(() => "");
    if (res.status >= 200 && res.status < 300) return undefined;
    const line = lastLine(body.slice(0, 2000));
    const redirect = res.status >= 300 && res.status < 400 ? ", a redirect, not followed" : "";
    return `${what} answered HTTP ${res.status}${redirect}${line ? ` (${clip(redact(line, secretsOf(notify)), 200)})` : ""}`;
  } catch (e) {
    if (timeout.aborted) return `${what} did not answer within ${formatDuration(notify.timeout)}`;
    if (signal?.aborted) return `${what} was stopped (the sync was stopped)`;
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const why = err.cause?.code ?? err.cause?.message ?? err.message;
    return `${what} could not be reached (${redact(String(why), secretsOf(notify))})`;
  }
}
