// A conversation's life on a machine on call, as `.git/coord/on-call.json`
// records it: one transition function over one table. Pure: the time comes in
// the events; the state is never changed in place (a new one is returned).
//
//            join (a message of the thread, or its first: the thread begins)
//              │
//   (none) ─join─▶ idle ─queue─▶ queued ─start─▶ running ─end─▶ ended ─delivered─▶ idle (or queued)
//                   ▲  ◀─stop (drops the queue)─┘   │  ▲            │
//                   │                               │  └─pid, session, step
//                   │                               └─stop─▶ stopping ─end─▶ ended
//                   └────────────────────────────────────────────────────────────┘
//
// queue, stop and join may happen in every phase but none (a message that
// comes while a turn runs waits for the next one); `end` records the turn's
// answers before they are stored in the outbox, `delivered` clears the turn
// once they are (a crash between leaves an ended turn, whose answers the next
// engine stores, each once). A turn that a crash interrupted ends like any
// other, with the answer that says so.
//
// A request for a permission (approvals from afar) lives in its turn:
//   (none) ─request─▶ waiting ─decide─▶ decided (by a person, the timeout, or the turn's end)
// and a decided one is kept a day, for a late answer to be told it is over.
import { DECIDED_BY_TURN_END, type OnCallAgent, threadSwitch } from "./on-call.js";
import type { Permission } from "../agents/agents.js";
import {
  type ApprovalRequest,
  type Ask,
  type OnCallState,
  type PendingAnswer,
  phaseOf,
  type RequestDecision,
  type RunningTurn,
  type ThreadState,
  type TurnPhase,
} from "./turn-state.js";

export { phaseOf, type TurnPhase };
import { own, ownTable } from "../types.js";
import { servedBy, TOLD_KEPT, withServed } from "./turn-order.js";

/** Message ids remembered as taken, at most. */
export const TAKEN_KEPT = 2000;
/** Threads kept, at most: the ones idle longest go first (their sessions stay in the CLI; a new message starts a new one). */
export const THREADS_KEPT = 500;
/** A thread's message ids kept (a reply to any of them is in the thread), its askers, the tools allowed in it. */
export const THREAD_IDS_KEPT = 200;
export const ASKERS_KEPT = 50;
export const ALLOWED_KEPT = 100;
/** How long a decided request is kept (a late /approve is told the request is over). */
export const DECIDED_KEPT_MS = 86_400_000;

/** What a thread runs with: the machine's setting on call when its turn starts. */
export interface TurnSetting {
  agent: OnCallAgent;
  cwd: string;
  permissions: Permission;
  /** Whether its CLI's state is the agent's own, apart from the person's (undefined: not known, as it was). */
  apart?: boolean;
}

export type TurnEvent =
  /** A message delivered to the machine, taken by on call: once (a crash before the mailbox forgets it takes none twice). */
  | { kind: "take"; id: string }
  /** A message of thread `thread` (its first: the thread begins, with `setting`): the thread knows its id and asker. */
  | { kind: "join"; thread: string; id: string; from: string; at: string; setting: TurnSetting }
  /** A message waits for the thread's next turn. */
  | { kind: "queue"; thread: string; ask: Ask }
  /** Stop asked: the running turn (turn `turn` only, when given) is asked to stop, by `by` in words; `drop`: the waiting messages go too (a /stop). */
  | { kind: "stop"; thread: string; by: string; drop: boolean; turn?: string; byMessage?: true }
  /** The queue becomes turn `turn` (its start time), durably, before the CLI starts; at most `maxParallel` turns at once on the machine. */
  | { kind: "start"; thread: string; turn: string; runner: number; engine: string; setting: TurnSetting; maxParallel: number }
  /** The CLI's process group leader exists. */
  | { kind: "pid"; thread: string; turn: string; pid: number }
  /** The CLI named its session (kept when the turn is cut short: "go on" continues it). */
  | { kind: "session"; thread: string; turn: string; session: string }
  /** The turn's latest step (a tool call, a command). */
  | { kind: "step"; thread: string; turn: string; step: string }
  /** The turn ended: its answers (stored next), the session and cost it returned; its requests still waiting are denied. */
  | { kind: "end"; thread: string; turn: string; answers: PendingAnswer[]; session?: string; costUsd?: number; sessionUsd?: number; at: string }
  /** Its answers are in the outbox (their ids): the turn is over. */
  | { kind: "delivered"; thread: string; turn: string; ids: string[]; at: string }
  /** Askers `to` of the thread were told on `day` that the daily budget holds their messages (each once a day). */
  | { kind: "budget-said"; thread: string; day: string; to: string[] }
  /** Turn `request.turn` asks for a permission, by the request's message id. */
  | { kind: "request"; id: string; request: Omit<ApprovalRequest, "decision"> }
  /** A waiting request is decided; `always` allows its tool for the rest of the thread's session. */
  | { kind: "decide"; id: string; decision: RequestDecision }
  /** A person set today's spend (coord agent on-call --spent-today): a held spend is lifted, the damage notice read. */
  | { kind: "spend-set"; day: string; usd: number };

export type TurnEventKind = TurnEvent["kind"];

const LIVE: readonly TurnPhase[] = ["idle", "queued", "running", "stopping", "ended"];
/** The phases of a thread whose turn runs (asked to stop or not): what "running" means wherever a turn is shown. */
export const RUNNING_PHASES: readonly TurnPhase[] = ["running", "stopping"];
const RUNNING = RUNNING_PHASES;

/** The one table: from which phases of its thread each event may happen (take, request and decide: see `transition`). */
export const TRANSITIONS: Readonly<Record<Exclude<TurnEventKind, "take" | "decide" | "request" | "spend-set">, readonly TurnPhase[]>> = {
  join: ["none", ...LIVE],
  queue: LIVE,
  stop: LIVE,
  start: ["queued"],
  pid: RUNNING,
  session: RUNNING,
  step: RUNNING,
  end: RUNNING,
  delivered: ["ended"],
  "budget-said": ["queued"],
};

/** A transition the table does not allow, with why. */
export interface Refusal {
  refused: string;
}

export function isRefusal<T>(r: T | Refusal): r is Refusal {
  return typeof r === "object" && r !== null && "refused" in r;
}

/** A request's phase: none, waiting, or decided. */
export function requestPhase(r: ApprovalRequest | undefined): "none" | "waiting" | "decided" {
  return !r ? "none" : r.decision ? "decided" : "waiting";
}

/** The thread message `id` is part of (its first message's id, or any message of it): its root and state. */
export function threadHolding(state: OnCallState, id: string): [string, ThreadState] | undefined {
  return Object.entries(state.threads).find(([root, t]) => root === id || (t.ids ?? []).includes(id));
}

/** An empty state. */
export const emptyOnCallState = (): OnCallState => ({ version: 1, threads: ownTable(), taken: [] });

/** The state after `event`, or why it may not happen now. Never changes `state`. */
export function transition(state: OnCallState, event: TurnEvent): OnCallState | Refusal {
  if (event.kind === "take") {
    if (state.taken.includes(event.id)) return { refused: `take ${event.id}: taken already` };
    return { ...state, taken: [...state.taken, event.id] };
  }
  if (event.kind === "decide") return decide(state, event.id, event.decision);
  if (event.kind === "spend-set") {
    const { setAside: _read, ...rest } = state;
    return { ...rest, spent: { day: event.day, usd: event.usd } };
  }
  if (event.kind === "request") return request(state, event.id, event.request);
  const thread = event.thread;
  const t = own(state.threads, thread);
  const phase = phaseOf(t);
  const refuse = (why: string): Refusal => ({ refused: `${event.kind} in thread ${thread} (${phase}): ${why}` });
  if (!TRANSITIONS[event.kind].includes(phase)) return refuse(`allowed only when ${TRANSITIONS[event.kind].join(" or ")}`);
  const turn = "turn" in event ? event.turn : undefined;
  if (turn !== undefined && RUNNING.concat("ended").includes(phase) && t!.running!.startedAt !== turn) return refuse(`turn ${turn} is over (${t!.running!.startedAt} runs)`);
  const put = (next: ThreadState): OnCallState => ({ ...state, threads: ownTable({ ...state.threads, [thread]: next }) });
  const run = (change: Partial<RunningTurn>): OnCallState => put({ ...t!, running: { ...t!.running!, ...change } });
  switch (event.kind) {
    case "join": {
      const base: ThreadState = t ?? { ...event.setting, queue: [], lastAt: event.at, ids: [] };
      return put({
        ...base,
        ids: [...(base.ids ?? []), event.id].slice(-THREAD_IDS_KEPT),
        askers: [...new Set([...(base.askers ?? []), event.from])].slice(-ASKERS_KEPT),
        lastAt: event.at,
      });
    }
    case "queue":
      return put({ ...t!, queue: [...t!.queue, event.ask] });
    case "stop": {
      const next: ThreadState = { ...t!, ...(event.drop ? { queue: [] } : {}) };
      if (RUNNING.includes(phase) && t!.running!.stop === undefined)
        next.running = { ...t!.running!, stop: event.by, ...(event.byMessage ? { stopByMessage: true as const } : {}) };
      return put(next);
    }
    case "start": {
      const runs = Object.values(state.threads).filter((x) => x.running).length;
      if (runs >= event.maxParallel) return refuse(`${runs} turns run already (maxParallel ${event.maxParallel})`);
      // The machine's CLI or permissions changed since the thread's session ran: a new session, with today's setting.
      const switched = threadSwitch(t!, event.setting);
      const { session: _s, sessionUsd: _u, allowed: _a, ...rest } = t!;
      const base: ThreadState = switched ? { ...rest, agent: switched.agent, cwd: switched.cwd, permissions: switched.permissions } : { ...t! };
      base.permissions ??= event.setting.permissions;
      // Where its session is kept from now on: the agent's own CLI state, or the person's.
      if (event.setting.apart) base.apart = true;
      else if (event.setting.apart === false) delete base.apart;
      // Its askers were served now: the next turns go to the others first (turn-order.ts).
      const started = put({ ...base, queue: [], running: { runner: event.runner, engine: event.engine, startedAt: event.turn, asks: t!.queue } });
      return { ...started, served: withServed(state.served, servedBy(t!.queue), event.turn) };
    }
    case "pid":
      return run({ pid: event.pid });
    case "session":
      return run({ session: event.session });
    case "step":
      return run({ step: event.step });
    case "end": {
      // The session's whole cost is kept only with the session it was said of.
      const { sessionUsd: _u, ...was } = t!;
      const same = event.session === undefined || event.session === t!.session;
      const sessionUsd = event.sessionUsd ?? (same ? t!.sessionUsd : undefined);
      const next = put({
        ...was,
        ...(event.session ? { session: event.session } : {}),
        ...(sessionUsd !== undefined ? { sessionUsd } : {}),
        running: { ...t!.running!, answers: event.answers },
      });
      const day = event.at.slice(0, 10);
      // A held spend (salvage.ts) stays held: the cost is added to what is known of the day.
      if (event.costUsd) next.spent = { ...(state.spent?.day === day ? state.spent : {}), day, usd: (state.spent?.day === day ? state.spent.usd : 0) + event.costUsd };
      return endRequests(next, thread, event.turn, event.at);
    }
    case "delivered": {
      const { running: _r, ...rest } = t!;
      return put({ ...rest, ids: [...(t!.ids ?? []), ...event.ids].slice(-THREAD_IDS_KEPT), lastAt: event.at });
    }
    case "budget-said": {
      const before = state.budgetTold?.day === event.day ? state.budgetTold.askers : [];
      const askers = [...new Set([...before, ...event.to])].slice(0, TOLD_KEPT);
      return { ...put({ ...t!, budgetSaid: event.day }), budgetTold: { day: event.day, askers } };
    }
  }
}

/**
 * A request of turn `r.turn`: waiting while that turn runs; recorded decided when the turn is over already (it ended
 * between the question and its record): a late answer to it is told the turn ended first.
 */
function request(state: OnCallState, id: string, r: Omit<ApprovalRequest, "decision">): OnCallState | Refusal {
  if (own(state.requests, id)) return { refused: `request ${id}: it exists already` };
  const t = own(state.threads, r.thread);
  if (!t) return { refused: `request ${id}: no thread ${r.thread}` };
  const live = t.running !== undefined && !t.running.answers && t.running.startedAt === r.turn;
  const recorded: ApprovalRequest = live ? { ...r } : { ...r, decision: { behavior: "deny", by: DECIDED_BY_TURN_END, at: r.at } };
  return { ...state, requests: ownTable({ ...state.requests, [id]: recorded }) };
}

/** A waiting request decided, while its turn runs; `always` adds its tool to the thread's allowed ones. */
function decide(state: OnCallState, id: string, decision: RequestDecision): OnCallState | Refusal {
  const r = own(state.requests, id);
  if (!r) return { refused: `decide ${id}: no such request` };
  if (r.decision) return { refused: `decide ${id}: decided already (${r.decision.behavior} by ${r.decision.by})` };
  const t = own(state.threads, r.thread);
  if (!t?.running || t.running.startedAt !== r.turn || t.running.answers) return { refused: `decide ${id}: its turn is over` };
  const next: OnCallState = { ...state, requests: ownTable({ ...state.requests, [id]: { ...r, decision } }) };
  if (decision.behavior === "allow" && decision.always)
    next.threads = ownTable({ ...state.threads, [r.thread]: { ...t, allowed: [...new Set([...(t.allowed ?? []), decision.always])].slice(-ALLOWED_KEPT) } });
  return next;
}

/** The requests of turn `turn` of `thread` still waiting, denied: the turn ended first. */
function endRequests(state: OnCallState, thread: string, turn: string, at: string): OnCallState {
  if (!state.requests) return state;
  const requests = ownTable({ ...state.requests });
  for (const [id, r] of Object.entries(requests))
    if (r.thread === thread && r.turn === turn && !r.decision) requests[id] = { ...r, decision: { behavior: "deny", by: DECIDED_BY_TURN_END, at } };
  return { ...state, requests };
}

/**
 * What the state keeps: the newest TAKEN_KEPT taken ids, decided requests for a day, at most THREADS_KEPT threads
 * (the idle ones unchanged longest go first). Applied at each save.
 */
export function retain(state: OnCallState, now: Date): OnCallState {
  let next = state;
  if (next.taken.length > TAKEN_KEPT) next = { ...next, taken: next.taken.slice(-TAKEN_KEPT) };
  const dayAgo = new Date(now.getTime() - DECIDED_KEPT_MS).toISOString();
  if (next.requests && Object.values(next.requests).some((r) => r.decision && r.decision.at < dayAgo))
    next = { ...next, requests: ownTable(Object.fromEntries(Object.entries(next.requests).filter(([, r]) => !(r.decision && r.decision.at < dayAgo)))) };
  const ids = Object.keys(next.threads);
  if (ids.length > THREADS_KEPT) {
    const threads = next.threads;
    const idle = ids.filter((id) => phaseOf(threads[id]) === "idle").sort((a, b) => (threads[a]!.lastAt < threads[b]!.lastAt ? -1 : 1));
    const gone = new Set(idle.slice(0, ids.length - THREADS_KEPT));
    next = { ...next, threads: ownTable(Object.fromEntries(Object.entries(threads).filter(([id]) => !gone.has(id)))) };
  }
  return next;
}
