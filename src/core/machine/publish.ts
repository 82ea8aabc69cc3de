// What a machine publishes, as pure functions of data: its own file from its
// local task records, the repository as it will look once that file is
// replaced, and the bytes of every file a publish changes.
import type { Refusal } from "../trust/trust.js";
import { gitBlobId } from "../repo/blob.js";
import { firstChange } from "../time/clock.js";
import { canonicalComputer, type ComputerFile, type Identity, type OnCallReport, renderComputer, type TaskReport } from "../fleet/computer.js";
import { messagePath, renderMessageFile, type MessageFile, type Receipts } from "../messages/messages.js";
import { computerPath } from "../files/names.js";
import { formatProblem } from "../orders/orders.js";
import { upcomingSlot } from "../time/every.js";
import { retryAt } from "./plan.js";
import { redact } from "../trust/redact.js";
import { STATUS_JSON, STATUS_MD, type RepoModel } from "../repo/repo.js";
import { deriveStatus, renderStatusJson } from "../status/status.js";
import { renderStatusMd } from "../status/status-md.js";
import type { ServiceReport } from "../services/services.js";
import { MAX_REASON, type Reservation } from "../fleet/reservations.js";
import { clip } from "../limits.js";
import type { Order } from "../orders/orders-schema.js";
import type { AgentResult } from "../agents/adapter.js";
import type { AgentReport } from "../fleet/computer.js";
import { sessionId } from "../oncall/on-call.js";
import { TOOL_NAME } from "../oncall/approvals.js";

/** The machine as it knows itself: identity, what it has, what it ran. */
export interface Self {
  name: string;
  uuid: string;
  heartbeat: number;
  capabilities: Record<string, string>;
  /** Seconds before the first retry of a failed task (doubling): when each retry will run is published. */
  retryBackoff: number;
  /** Its task records (local-only fields are dropped when rendered). */
  tasks: Record<string, TaskReport>;
  lastRun?: string;
  /** Published after a reclaim (epoch above 0). */
  identity?: Identity;
  /** Changes of orders files it refused (signed orders). */
  refused?: Refusal[];
  /** Its SSH public key, when it signs its commits. */
  key?: string;
  /** Its old key's signed notice naming `key`, after a planned key change. */
  keyNotice?: { from: string; signature: string };
  /** The email its commits are by, when it sets one (trust.commitEmail). */
  email?: string;
  /** Why its commits are not signed, when they are not. */
  unsigned?: string;
  /** Stopped by the fleet's emergency stop, or paused: the state it publishes, and why. */
  halt?: { state: "emergency" | "suspended"; reason: string };
  /** Its services as its daemon keeps them (their output redacted with their secrets already). */
  services?: Record<string, ServiceReport>;
  /** Its path reservations that hold on the tip (core/fleet/reservations.ts settle). */
  reservations?: Reservation[];
  /** On call: its agent CLI, for whom, the turns running (their steps redacted here). */
  onCall?: OnCallReport;
}

/**
 * Days the report of a "to: ANY" order (one with a claim `lease`) stays in the
 * machine's file after the order left ORDERS.json. A named order's machine
 * remembers in its journal what it ran; the fleet remembers an ANY order only
 * by the published reports, so one restored by mistake does not run again.
 */
export const REMOVED_ANY_KEEP_DAYS = 7;

/** The machine's own file as its records say, on top of what the remote has (`model`, whose ORDERS.json text is `ordersText`). */
export function ownComputer(self: Self, model: RepoModel, ordersText: string | undefined, now: Date, receipts: Receipts = {}): ComputerFile {
  const known = model.orders ? new Set(model.orders.orders.map((o) => o.id)) : undefined;
  const tasks: Record<string, TaskReport> = {};
  for (const [id, { retryAt: _stale, ...report }] of Object.entries(self.tasks)) {
    // Orders removed from ORDERS.json leave the file (git keeps history), but for a while the ANY ones.
    if (!reportKept(id, report, known, now)) continue;
    const order = model.orders?.orders.find((o) => o.id === id);
    const at = order && report.state === "failed" && report.rev === order.rev ? retryBefore(order, report, retryAt(order, report, self.retryBackoff)) : undefined;
    tasks[id] = redactReport(at ? { ...report, retryAt: at.toISOString() } : report, order);
  }
  const error = model.ordersProblems[0];
  return canonicalComputer({
    coord: 1,
    name: self.name,
    uuid: self.uuid,
    state: self.halt?.state ?? (Object.values(tasks).some((t) => t.state === "in_progress") ? "working" : "idle"),
    ...(self.halt ? { stateReason: redact(self.halt.reason) } : {}),
    lastSeen: now.toISOString(),
    heartbeat: self.heartbeat,
    capabilities: self.capabilities,
    orders: {
      seen: ordersText === undefined ? "" : gitBlobId(ordersText),
      valid: model.orders !== undefined,
      ...(error ? { error: formatProblem(error) } : {}),
    },
    tasks,
    ...(self.services && Object.keys(self.services).length ? { services: redactServices(self.services) } : {}),
    messages: receipts,
    ...(self.lastRun ? { lastRun: self.lastRun } : {}),
    ...(self.identity ? { identity: self.identity } : {}),
    ...(self.key ? { key: self.key } : {}),
    ...(self.key && self.keyNotice ? { keyNotice: { from: self.keyNotice.from, signature: self.keyNotice.signature } } : {}),
    ...(self.key && self.email ? { email: self.email } : {}),
    ...(self.unsigned && !self.key ? { unsigned: redact(self.unsigned) } : {}),
    ...(self.refused?.length ? { trust: { refused: self.refused } } : {}),
    ...(self.reservations?.length ? { reservations: self.reservations.map((r) => (r.reason ? { ...r, reason: clip(redact(r.reason), MAX_REASON) } : r)) } : {}),
    ...(self.onCall ? { onCall: { ...self.onCall, ...(self.onCall.turns ? { turns: self.onCall.turns.map((t) => (t.step ? { ...t, step: redact(t.step) } : t)) } : {}) } } : {}),
  });
}

/** A recurring order's retry is made only before its next slot (whose run replaces it). */
function retryBefore(order: Order, report: TaskReport, at: Date | undefined): Date | undefined {
  if (!at || !order.every || !report.slot) return at;
  const next = upcomingSlot(order, new Date(Date.parse(report.slot)));
  return next && Date.parse(next) <= at.getTime() ? undefined : at;
}

/** The values of an order's secret env entries. */
export function secretValues(order: Order | undefined): string[] {
  return (order?.secrets ?? []).map((name) => order?.env[name] ?? "").filter(Boolean);
}

/** What of a task's report is text (its reason, its output) redacted: known token shapes and the order's secret values. */
function redactReport(report: TaskReport, order: Order | undefined): TaskReport {
  const secrets = secretValues(order);
  return {
    ...report,
    ...(report.reason !== undefined ? { reason: redact(report.reason, secrets) } : {}),
    ...(report.output !== undefined ? { output: redact(report.output, secrets) } : {}),
  };
}

/** Every text of the services published passes the redaction rules (their own secrets were taken out where they were known). */
function redactServices(services: Record<string, ServiceReport>): Record<string, ServiceReport> {
  const out: Record<string, ServiceReport> = {};
  for (const [id, r] of Object.entries(services))
    out[id] = { ...r, ...(r.reason !== undefined ? { reason: redact(r.reason) } : {}), ...(r.output !== undefined ? { output: redact(r.output) } : {}) };
  return out;
}

/**
 * Whether a task report stays in its machine's file at `now`: its order is in ORDERS.json (`known`, the ids;
 * undefined when ORDERS.json is unreadable: every report stays), or it is an ANY order's (it has a lease)
 * that ended less than REMOVED_ANY_KEEP_DAYS ago.
 */
export function reportKept(id: string, report: TaskReport, known: ReadonlySet<string> | undefined, now: Date): boolean {
  if (!known || known.has(id)) return true;
  const ended = endedAt(report);
  return report.lease !== undefined && Number.isFinite(ended) && now.getTime() - ended < REMOVED_ANY_KEEP_DAYS * 86_400_000;
}

/** When reportKept's answer next changes after `now` (ms): a removed ANY order's report leaves the file; undefined when it never does by the clock alone. Its deadline. */
export function reportKeptUntil(id: string, report: TaskReport, known: ReadonlySet<string> | undefined, now: Date): number | undefined {
  return firstChange([endedAt(report) + REMOVED_ANY_KEEP_DAYS * 86_400_000], now, (at) => reportKept(id, report, known, at));
}

const endedAt = (report: TaskReport) => Date.parse(report.finishedAt ?? report.startedAt ?? "");

/** The repository as it will be once this machine's file and message files are replaced. */
export function viewWith(model: RepoModel, mine: ComputerFile, messageFiles: MessageFile[]): RepoModel {
  const ownPaths = new Set([computerPath(mine.name), ...messageFiles.map((f) => messagePath(f.from, f.to))]);
  return {
    ...model,
    computers: new Map(model.computers).set(mine.name, mine),
    machineNames: [...new Set([...model.machineNames, mine.name])].sort(),
    fileProblems: model.fileProblems.filter((p) => !ownPaths.has(p.file)),
    messageFiles: [...model.messageFiles.filter((f) => !ownPaths.has(messagePath(f.from, f.to))), ...messageFiles],
  };
}

/** The bytes to write (`files` is the tree as read): this machine's file, its message files and the derived ones; changed paths only. */
export function renderChanges(files: Map<string, string>, model: RepoModel, input: ComputerFile, messageFiles: MessageFile[] = []): Map<string, string> {
  // The health text comes from errors of this machine (a remote URL with a token in it): redacted like all the rest.
  const mine = canonicalComputer(input.health ? { ...input, health: { ...input.health, lastError: redact(input.health.lastError) } } : input);
  const status = deriveStatus(viewWith(model, mine, messageFiles));
  const wanted = new Map([
    [computerPath(mine.name), renderComputer(mine)],
    ...messageFiles.map((f): [string, string] => [messagePath(f.from, f.to), renderMessageFile(f)]),
    [STATUS_JSON, renderStatusJson(status)],
    [STATUS_MD, renderStatusMd(status)],
  ]);
  for (const [path, content] of wanted) if (files.get(path) === content) wanted.delete(path);
  return wanted;
}

/**
 * What of an agent's own account of its run a task publishes: its session (a session id's shape), turns, cost,
 * tokens, and the tools it was denied (a tool name's shape). Its strings are the CLI's output, which the agent can
 * shape: one that `scrub` would change (a secret, a token's shape in it) is left out, not published redacted.
 */
export function publishedAgentReport(said: AgentResult, scrub: (text: string) => string): AgentReport | undefined {
  const clean = (s: string) => scrub(s) === s;
  const session = sessionId(said.session);
  const denied = said.denied?.filter((d) => TOOL_NAME.test(d) && clean(d));
  const report: AgentReport = {
    ...(session && clean(session) ? { session } : {}),
    ...(said.turns !== undefined ? { turns: said.turns } : {}),
    ...(said.costUsd !== undefined ? { costUsd: said.costUsd } : {}),
    ...(said.tokens ? { tokens: said.tokens } : {}),
    ...(denied?.length ? { denied } : {}),
  };
  return Object.keys(report).length ? report : undefined;
}
