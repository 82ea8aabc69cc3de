// What coord ui's page shows, as plain data built from one commit: the stats
// bar, the machines (online, stale or offline at the reader's time, with
// presenceOf: one rule for every view), the orders × machines matrix with
// failures first, an order's reports and output, and the conversation
// between two machines: agents' answers marked, an agent's request for a
// permission with what became of it (approvals from afar), a side on call with
// the turns it runs for the other, and the thread a message sent from the page goes in.
// The page only lays it out (with textContent).
import { sanitizeDeep } from "../files/shown.js";
import { failuresText } from "../fleet/failures.js";
import { alertsAt, askedText } from "./alerts.js";
import { clip } from "../limits.js";
import { agentLine, BROADCAST, channelKey, isAcked, type Message, messageId, parseMessageId } from "../messages/messages.js";
import { requestView } from "../oncall/approvals.js";
import { type RequestState, requestState } from "../oncall/request-state.js";
import { STOP_WORD, threadOf } from "../oncall/on-call.js";
import { formatProblem } from "../orders/orders.js";
import { formatDuration } from "../time/duration.js";
import { agoText, type Heard, type Presence, presenceOf, silentFor, spanText, utcText } from "../fleet/presence.js";
import type { RepoModel } from "../repo/repo.js";
import { ATTENTION, deriveStatus } from "./status.js";
import { describeEvery } from "../time/every.js";
import { own, type Priority, TASK_STATES, type TaskState } from "../types.js";
import type { Alert, AlertKind, MachineStatus, OrderStatus, StatusJson } from "../fleet/status-types.js";

export interface UiMachine {
  name: string;
  presence: Presence;
  /** idle, working, emergency, stalled, suspended: what the machine said of itself. */
  state: string;
  lastSeen: string;
  /** "47 min ago (2026-11-22 14:03 UTC)". */
  seen: string;
  /** "15m". */
  heartbeat: string;
  /** This checkout's machine (the one the page sends as). */
  local: boolean;
  /** Why it is in state emergency or suspended. */
  stateReason?: string;
  /** Orders it is running now. */
  running: string[];
  messages: { waiting: number; unacked: number };
  /** Capability names. */
  capabilities: string[];
  /** When it reports itself stalled: its last error. */
  health?: string;
  /** On call: its agent answers messages. */
  onCall?: UiMachineOnCall;
}

export interface UiMachineOnCall {
  /** The agent CLI: "claude". */
  agent: string;
  /** Whose messages it answers: "ALL" or "izzit7, mule-3". */
  from: string;
  /** Whether it answers this checkout's machine (absent when the page is not a machine's). */
  answersLocal?: boolean;
  /** Turns running now, for anyone. */
  turns: number;
  /** "$0.0210 today". */
  spent?: string;
}

export interface UiCell {
  state: TaskState;
  /** Why, the exit code, or when it is retried: one short line. */
  note?: string;
}

export interface UiOrder {
  id: string;
  rev: number;
  state: TaskState;
  done: boolean;
  /** "izzit7", "izzit7, soda-yeti", "ALL" or "ANY". */
  to: string;
  reason?: string;
  /** Why it is not going well, in one short line: its reason, else the first failed, rejected or blocked machine's note. */
  why?: string;
  holder?: string;
  /** Machine → its cell of the matrix (absent: not addressed to it). */
  machines: Record<string, UiCell>;
}

export interface UiAlert {
  kind: AlertKind;
  text: string;
}

/** A path reservation live at the reader's time. */
export interface UiReservation {
  machine: string;
  paths: string;
  shared: boolean;
  until: string;
  /** "2026-11-24 16:00 UTC (in 2 h)". */
  untilText: string;
  reason?: string;
}

/** One service on one machine, as that machine reports it. */
export interface UiService {
  id: string;
  machine: string;
  state: string;
  health?: string;
  restarts: number;
  /** Why it is not running, or unhealthy. */
  reason?: string;
}

export interface UiSnapshot {
  /** The commit shown. */
  commit: string;
  /** The reader's time the presence marks are computed at. */
  now: string;
  /** Set when the fetch failed: what is shown is the last fetched state. */
  stale?: string;
  /** ORDERS.json stops the fleet: why. */
  emergency?: string;
  /** This checkout's machine, when it is one (sending and adding orders need it). */
  local?: string;
  stats: {
    machines: Record<Presence, number>;
    /** Orders by their summary state (states with none left out). */
    orders: Partial<Record<TaskState, number>>;
    alerts: number;
  };
  machines: UiMachine[];
  /** Failed first, then the other states that need a look, then the rest; by id within a state. */
  orders: UiOrder[];
  alerts: UiAlert[];
  /** Who edits which paths of a project, live at `now`. */
  reservations: UiReservation[];
  services: UiService[];
  /** Problems of the files (invalid orders, broken files), one line each. */
  errors: string[];
}

/** "47 min ago (2026-11-22 14:03 UTC)"; the UTC time alone when the machine's clock is not believed. */
export function seenText(m: Heard, now: Date): string {
  const silent = silentFor(m, now);
  return silent === undefined ? `${utcText(m.lastSeen)} (not believed: ahead of this clock)` : `${agoText(silent)} (${utcText(m.lastSeen)})`;
}

/** Whether an on-call machine answers machine `asker`. */
const answers = (o: NonNullable<MachineStatus["onCall"]>, asker: string) => o.from === "ALL" || o.from.includes(asker);
const fromText = (o: NonNullable<MachineStatus["onCall"]>) => (o.from === "ALL" ? "ALL" : o.from.join(", ") || "no one");

function uiOnCall(o: NonNullable<MachineStatus["onCall"]>, local: string | undefined): UiMachineOnCall {
  return {
    agent: o.agent,
    from: clip(fromText(o), 300),
    ...(local ? { answersLocal: answers(o, local) } : {}),
    turns: o.turns?.length ?? 0,
    ...(o.spent ? { spent: `$${o.spent.usd.toFixed(4)} today` } : {}),
  };
}

function uiMachine(name: string, m: MachineStatus, status: StatusJson, local: string | undefined, now: Date): UiMachine {
  const running = Object.entries(status.orders)
    .filter(([, o]) => own(o.machines, name)?.state === "in_progress")
    .map(([id]) => id);
  return {
    name,
    presence: presenceOf(m, now),
    state: m.state,
    lastSeen: m.lastSeen,
    seen: seenText(m, now),
    heartbeat: formatDuration(m.heartbeat),
    local: name === local,
    running,
    messages: m.messages,
    capabilities: Object.keys(m.capabilities),
    ...(m.health ? { health: clip(failuresText(m.health), 400) } : {}),
    ...(m.stateReason ? { stateReason: clip(m.stateReason, 300) } : {}),
    ...(m.onCall ? { onCall: uiOnCall(m.onCall, local) } : {}),
  };
}

function cellNote(m: OrderStatus["machines"][string]): string | undefined {
  const parts: string[] = [];
  if (m.reason) parts.push(m.reason);
  else if (m.exitCode !== null && m.state !== "completed") parts.push(`exit ${m.exitCode}`);
  if (m.retryAt) parts.push(`retry at ${utcText(m.retryAt)}`);
  if (m.retriesExhausted && m.attempts > 1) parts.push(`no retry left after ${m.attempts} attempts`);
  return parts.length ? clip(parts.join("; "), 200) : undefined;
}

function uiOrder(id: string, o: OrderStatus): UiOrder {
  const machines: Record<string, UiCell> = {};
  for (const [name, m] of Object.entries(o.machines)) {
    const note = cellNote(m);
    machines[name] = { state: m.state, ...(note ? { note } : {}) };
  }
  const trouble = Object.entries(machines).find(([, c]) => c.note && (c.state === "failed" || c.state === "rejected" || c.state === "blocked"));
  const why = o.reason ?? (trouble ? `${trouble[0]}: ${trouble[1].note}` : undefined);
  return {
    id,
    rev: o.rev,
    state: o.state,
    done: o.done,
    to: Array.isArray(o.to) ? o.to.join(", ") : o.to,
    ...(o.reason ? { reason: clip(o.reason, 300) } : {}),
    ...(why && o.state !== "completed" ? { why: clip(why, 160) } : {}),
    ...(o.holder ? { holder: o.holder } : {}),
    machines,
  };
}

/** An alert as one line: an urgent message says who sent it and who has not read it yet. */
function alertText(a: Alert, now: Date): string {
  if (a.kind === "approval") return `${askedText(a, now)}: ${a.text}`;
  if (a.kind !== "urgent" || !a.from) return a.text;
  return `${a.from} to ${a.recipients?.length ? a.recipients.join(", ") : (a.to ?? "?")} (${a.id}): ${a.text}`;
}

export interface SnapshotInput {
  status: StatusJson;
  commit: string;
  stale?: string;
  local?: string;
  now: Date;
}

/** The page's data at `now`. */
export function uiSnapshot(input: SnapshotInput): UiSnapshot {
  const { status, now } = input;
  const machines = Object.entries(status.machines)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, m]) => uiMachine(name, m, status, input.local, now));
  const orders = Object.entries(status.orders)
    .map(([id, o]) => uiOrder(id, o))
    .sort((a, b) => ATTENTION[a.state] - ATTENTION[b.state] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const presence: Record<Presence, number> = { online: 0, stale: 0, offline: 0 };
  for (const m of machines) presence[m.presence]++;
  const byState: Partial<Record<TaskState, number>> = {};
  for (const state of TASK_STATES) {
    const n = orders.filter((o) => o.state === state).length;
    if (n) byState[state] = n;
  }
  // Offline alerts at the reader's time, like the marks; the others as derived from the files.
  const alerts = alertsAt(status, now).map((a): UiAlert => ({ kind: a.kind, text: clip(alertText(a, now), 300) }));
  const reservations = (status.reservations ?? [])
    .filter((r) => Date.parse(r.until) > now.getTime())
    .map(
      (r): UiReservation => ({
        machine: r.machine,
        paths: clip(r.paths.join(" "), 500),
        shared: r.shared === true,
        until: r.until,
        untilText: `${utcText(r.until)} (in ${spanText((Date.parse(r.until) - now.getTime()) / 1000)})`,
        ...(r.reason ? { reason: clip(r.reason, 300) } : {}),
      }),
    );
  const services = Object.entries(status.services ?? {}).flatMap(([id, svc]) =>
    Object.entries(svc.machines).map(
      ([machine, r]): UiService => ({
        id,
        machine,
        state: r.state,
        ...(r.health ? { health: r.health } : {}),
        restarts: r.restarts,
        ...(r.reason && (r.state !== "running" || r.health === "unhealthy") ? { reason: clip(r.reason, 300) } : {}),
      }),
    ),
  );
  return {
    commit: input.commit,
    now: now.toISOString(),
    ...(input.stale ? { stale: input.stale } : {}),
    ...(status.emergency ? { emergency: status.emergency.reason } : {}),
    ...(input.local ? { local: input.local } : {}),
    stats: { machines: presence, orders: byState, alerts: alerts.length },
    machines,
    orders,
    alerts,
    reservations,
    services,
    errors: status.errors.map((p) => clip(formatProblem(p), 500)),
  };
}

/**
 * What tells two snapshots apart for a person: the commit, the minute, the
 * stale note and each machine's mark. A new snapshot is pushed to the page
 * when it changes.
 */
export function snapshotKey(s: UiSnapshot): string {
  return JSON.stringify([s.commit, s.now.slice(0, 16), s.stale ?? "", s.emergency ?? "", s.machines.map((m) => [m.name, m.presence])]);
}

// ------------------------------------------------------------------ an order

export interface UiReport {
  machine: string;
  state: TaskState;
  attempts: number;
  exitCode: number | null;
  reason?: string;
  startedAt?: string;
  finishedAt?: string;
  /** A recurring order: the slot of this run. */
  slot?: string;
  /** The last lines of its output, as the machine published them (redacted by it). */
  output?: string;
}

export interface UiOrderDetail {
  id: string;
  /** The order as defined (the file it is in, its command or agent), when it is defined. */
  definition?: { file: string; to: string; rev: number; what: string; priority: Priority; every?: string; next?: string };
  /** Each machine's report of it, failed first. */
  reports: UiReport[];
}

/** An order's definition and every machine's report of it, with the output tails. */
export function orderDetail(model: RepoModel, id: string): UiOrderDetail {
  // The machines' reports (output lines): what a person could not see, escaped (core/files/shown.ts).
  return sanitizeDeep(detailOf(model, id));
}

function detailOf(model: RepoModel, id: string): UiOrderDetail {
  const order = model.orders?.orders.find((o) => o.id === id);
  const reports: UiReport[] = [];
  for (const [machine, c] of [...model.computers].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const t = own(c.tasks, id);
    if (!t) continue;
    reports.push({
      machine,
      state: t.state,
      attempts: t.attempts,
      exitCode: t.exitCode ?? null,
      ...(t.reason ? { reason: t.reason } : {}),
      ...(t.startedAt ? { startedAt: t.startedAt } : {}),
      ...(t.finishedAt ? { finishedAt: t.finishedAt } : {}),
      ...(t.slot ? { slot: t.slot } : {}),
      ...(t.output ? { output: t.output } : {}),
    });
  }
  reports.sort((a, b) => ATTENTION[a.state] - ATTENTION[b.state] || (a.machine < b.machine ? -1 : 1));
  if (!order) return { id, reports };
  const what = order.run !== undefined ? `run: ${order.run}` : `agent ${order.agent ?? "?"}: ${order.prompt ?? ""}`;
  const next = order.every ? own(deriveStatus(model).orders, id)?.next : undefined;
  return {
    id,
    definition: {
      file: model.ordersOrigin[id] ?? "",
      to: Array.isArray(order.to) ? order.to.join(", ") : order.to,
      rev: order.rev,
      what: clip(what, 2000),
      priority: order.priority,
      ...(order.every ? { every: describeEvery(order)! } : {}),
      ...(next ? { next } : {}),
    },
    reports,
  };
}

// ----------------------------------------------------------------- the chat

/** An agent's mark on a message (agents on call), for people. */
export interface UiAgentMark {
  /** The answer to a turn; else a message an agent sent from inside one. */
  answer: boolean;
  /** "answer by claude, 12 s, 3 turns, $0.0210" (agentLine). */
  line: string;
  /** A turn that did not end well: the page marks it. */
  outcome?: NonNullable<Message["agent"]>["outcome"];
  /** Why it ended so: "timeout", "idle", "stop", "shutdown" (messages.ts TURN_CAUSES). */
  cause?: NonNullable<Message["agent"]>["cause"];
  /** On the asking machine's word that a request is over: what became of it (requestState reads it). */
  decided?: Decided;
}

type Decided = NonNullable<NonNullable<Message["agent"]>["decided"]>;

export interface UiChatMessage {
  id: string;
  from: string;
  to: string;
  at: string;
  /** "2026-11-22 14:03 UTC". */
  when: string;
  priority: Priority;
  text: string;
  replyTo?: string;
  /** Its thread: the first message of the replies it is in, as far as the live messages go (threadOf). */
  thread: string;
  /** Written by an agent on call. */
  agent?: UiAgentMark;
  /** A request for a permission (approvals from afar): what became of it, and whether the page may answer it. */
  request?: RequestState;
  /** As the recipient's file says: not fetched yet, received, or acknowledged. */
  receipt: "waiting" | "received" | "acked";
}

/** An agent's mark as the page shows it. */
function uiMark(a: NonNullable<Message["agent"]>): UiAgentMark {
  return {
    answer: a.answer === true,
    line: agentLine(a),
    ...(a.outcome ? { outcome: a.outcome } : {}),
    ...(a.cause ? { cause: a.cause } : {}),
    ...(a.decided ? { decided: a.decided } : {}),
  };
}

/**
 * The live messages between machines `a` and `b`, both ways, oldest first (archived ones are in git's history only);
 * a request for a permission with what became of it, as the page of machine `local` shows it.
 */
export function conversation(model: RepoModel, a: string, b: string, local?: string): UiChatMessage[] {
  if (a === b || a === BROADCAST || b === BROADCAST) return [];
  const out: Omit<UiChatMessage, "thread">[] = [];
  const tools = new Map<string, string>();
  const inputs = new Map<string, Pick<RequestState, "input" | "digest" | "whole" | "cut">>();
  for (const f of model.messageFiles) {
    if (!((f.from === a && f.to === b) || (f.from === b && f.to === a))) continue;
    const receipts = model.computers.get(f.to)?.messages;
    const receipt = own(receipts, channelKey(f.from, f.to));
    for (const m of f.messages) {
      if (m.agent?.request) {
        tools.set(messageId(f.from, f.to, m.seq), m.agent.request);
        const { input, digest } = m.agent;
        const view = requestView(m.text, m.agent.request, input, digest);
        inputs.set(messageId(f.from, f.to, m.seq), {
          ...(input !== undefined ? { input } : {}),
          ...(digest ? { digest } : {}),
          ...(view.whole !== undefined ? { whole: view.whole } : {}),
          cut: view.cut,
        });
      }
      out.push({
        id: messageId(f.from, f.to, m.seq),
        from: f.from,
        to: f.to,
        at: m.at,
        when: utcText(m.at),
        priority: m.priority,
        text: m.text,
        ...(m.replyTo ? { replyTo: m.replyTo } : {}),
        ...(m.agent ? { agent: uiMark(m.agent) } : {}),
        receipt: isAcked(receipt, m.seq) ? "acked" : m.seq <= (receipt?.received ?? 0) ? "received" : "waiting",
      });
    }
  }
  const parent = new Map(out.map((m) => [m.id, m.replyTo]));
  const messages = out
    .sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : x.id < y.id ? -1 : 1))
    .map(({ receipt, ...m }): UiChatMessage => ({ ...m, thread: threadOf(m.id, (id) => parent.get(id)), receipt }));
  // Read as sent (decisions, requests), then shown: what a person could not see, escaped (core/files/shown.ts).
  return sanitizeDeep(
    messages.map((m) => {
      const tool = tools.get(m.id);
      return tool === undefined ? m : { ...m, request: { ...requestState(m, tool, messages, local), ...inputs.get(m.id) } };
    }),
  );
}

/** A turn an agent on call runs now, in a conversation. */
export interface UiTurn {
  /** The thread it answers (its first message's id): a reply to it goes into the turn's session. */
  thread: string;
  asker: string;
  since: string;
  /** "2026-11-22 14:03 UTC (2 min)". */
  sinceText: string;
  /** Its latest step, as the machine published it: "Bash: npm test". */
  step?: string;
  /** The thread's first message, cut, when it is live. */
  about?: string;
  /** Asked by this checkout's machine: the page may send /stop in its thread. */
  stoppable: boolean;
}

/** One side of a chat on call, as it concerns the other side. */
export interface UiChatOnCall {
  /** The machine on call. */
  machine: string;
  agent: string;
  /** The other side of the chat. */
  asker: string;
  /** Whether its agent answers the other side. */
  answers: boolean;
  /** "soda-yeti's claude answers you"; "… does not answer you: it answers mule-3". */
  text: string;
  /** Its turns running now for the other side, oldest first. */
  turns: UiTurn[];
}

export interface UiChat {
  messages: UiChatMessage[];
  /** Each side that is on call (its agent answers messages). */
  onCall: UiChatOnCall[];
  /**
   * Where a message from this checkout's machine goes by default once the other side answers with an agent: a reply
   * to the thread of the latest message (its first message, which this machine sent, so replying to it is
   * allowed), which its agent answers in that thread's session. Absent: a new message, a new conversation.
   */
  reply?: { thread: string; latest: string };
  /** The reply that stops a thread's running turn. */
  stopText: string;
}

export interface ChatInput {
  model: RepoModel;
  status: StatusJson;
  a: string;
  b: string;
  /** This checkout's machine, when it is one. */
  local?: string;
  now: Date;
}

/**
 * The chat between `a` and `b`: its messages (a request for a permission with what became of it, and whether this
 * machine may answer it), each side on call with the turns it runs for the other, where a reply goes.
 */
export function chatView(input: ChatInput): UiChat {
  const { status, a, b, local, now } = input;
  const messages = conversation(input.model, a, b, local);
  const onCall: UiChatOnCall[] = [];
  for (const [machine, asker] of [
    [a, b],
    [b, a],
  ] as const) {
    const m = own(status.machines, machine);
    const o = m?.onCall;
    if (!m || !o || asker === BROADCAST || machine === asker) continue;
    const who = asker === local ? "you" : asker;
    const yes = answers(o, asker);
    const presence = presenceOf(m, now);
    const away = presence === "online" ? "" : `; ${machine} is ${presence}, last seen ${seenText(m, now)}`;
    const text = yes ? `${machine}'s ${o.agent} answers ${who}${away}` : `${machine}'s ${o.agent} is on call but does not answer ${who}: it answers ${clip(fromText(o), 300)}`;
    const turns = (o.turns ?? [])
      .filter((t) => t.asker === asker)
      .map((t): UiTurn => {
        const first = messages.find((x) => x.id === t.thread);
        const seconds = (now.getTime() - Date.parse(t.since)) / 1000;
        return {
          thread: t.thread,
          asker: t.asker,
          since: t.since,
          sinceText: Number.isFinite(seconds) ? `${utcText(t.since)} (${spanText(seconds)})` : t.since,
          ...(t.step ? { step: t.step } : {}),
          ...(first ? { about: clip(first.text, 160) } : {}),
          stoppable: asker === local,
        };
      });
    onCall.push({ machine, agent: o.agent, asker, answers: yes, text, turns });
  }
  const peer = local === a ? b : local === b ? a : undefined;
  const latest = messages.at(-1);
  const agentAnswers = peer !== undefined && (onCall.some((o) => o.machine === peer && o.answers) || messages.some((x) => x.from === peer && x.agent?.answer));
  const reply = agentAnswers && latest && parseMessageId(latest.thread)?.from === local ? { thread: latest.thread, latest: latest.id } : undefined;
  return { messages, onCall, ...(reply ? { reply } : {}), stopText: STOP_WORD };
}
