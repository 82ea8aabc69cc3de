// `.git/coord/on-call.json` as data: its schema, and the types derived from
// it (the engine, the commands and the page read and write nothing else). The
// file is checked against the schema when it is read (state/on-call.ts); the
// fields a newer coord adds are kept as they are. What may happen to it is the
// turn's life (turn-life.ts). Pure.
import * as z from "zod";
import { PERMISSIONS } from "../agents/agents.js";
import type { Message } from "../messages/messages.js";

/** What an agent wrote in a message (core/messages/messages.ts): `answer` on a turn's answer, `chain` the agent turns behind it. */
export type AgentMark = NonNullable<Message["agent"]>;

const mark = z.custom<AgentMark>((v) => typeof v === "object" && v !== null && !Array.isArray(v), { message: "is not a message's mark" });

/** One message a turn answers. */
const askSchema = z.object({
  id: z.string(),
  from: z.string(),
  text: z.string(),
  at: z.string(),
  /** Agent turns behind it (0: a person's). */
  chain: z.number().int().min(0),
  replyTo: z.string().optional(),
  /** The message it replies to, for the prompt of a thread's first turn. */
  repliedTo: z.object({ id: z.string(), from: z.string(), text: z.string() }).optional(),
});

/** An answer of a turn that ended, to store in the outbox. */
const pendingAnswerSchema = z.object({ to: z.string(), replyTo: z.string(), text: z.string(), mark });

/** A turn running, as its engine recorded it before it started the CLI. */
const runningSchema = z.object({
  /** The process group leader's pid, once started. */
  pid: z.number().int().positive().optional(),
  /** The pid of the coord process that runs it (a daemon, or a sync): gone means the turn was orphaned. */
  runner: z.number().int(),
  startedAt: z.string(),
  asks: z.array(askSchema),
  /** Its latest step (a tool call, a command), from the CLI's events. */
  step: z.string().optional(),
  /** Set when someone asked it to stop (a /stop, coord agent stop): who, in words. */
  stop: z.string().optional(),
  /** The stop came in a message (its asker's /stop), not from a person on this machine: its spend counts its cap (turnSpend). */
  stopByMessage: z.literal(true).optional().catch(undefined),
  /** The session the CLI named while it ran: kept when the turn is cut short, so "go on" continues it. */
  session: z.string().optional(),
  /** The engine that runs it (a random id per process's engine): a runner pid alive again in another engine is no owner. */
  engine: z.string().optional(),
  /** Once it ended: its answers, recorded before they are stored in the outbox (a crash between is finished by the next engine). */
  answers: z.array(pendingAnswerSchema).optional(),
});

const ids = z.array(z.string());

const threadSchema = z.object({
  /** The CLI and the directory of its session (a session lives in its cwd: resumed only there). */
  agent: z.string(),
  cwd: z.string(),
  /** The permissions its session ran with: another CLI or other permissions on call start a new session (core threadSwitch). */
  permissions: z.enum(PERMISSIONS).optional().catch(undefined),
  /** The CLI's session id to resume: the one the last turn returned. */
  session: z.string().optional(),
  /** That session's whole cost after the last turn, where its CLI says only the session's (OpenCode): the next turn's is counted from it. */
  sessionUsd: z.number().min(0).optional().catch(undefined),
  /** Its session is kept in coord's own copy of the CLI's state, apart from the person's (absent: the person's). */
  apart: z.boolean().optional().catch(undefined),
  /** Messages that came while a turn ran (or before one could start), answered together by the next turn, in order. */
  queue: z.array(askSchema),
  running: runningSchema.optional(),
  /** When it last changed (a message, a turn's end): the threads idle longest are forgotten first. */
  lastAt: z.string(),
  /** The thread's message ids (the newest THREAD_IDS_KEPT): a reply to any of them is in this thread. */
  ids: ids.optional(),
  /** The day (UTC) its asker was told the daily budget is spent. */
  budgetSaid: z.string().optional(),
  /** Tools `/approve always <tool>` allowed for the rest of this thread's session. */
  allowed: ids.optional(),
  /** The machines that asked in it: only they (or a reply to a message to or from a machine) join it. */
  askers: ids.optional(),
});

const decisionSchema = z.object({
  behavior: z.enum(["allow", "deny"]),
  /** A machine (with how: "izzit7 (coord approve)"), or DECIDED_BY_TIMEOUT, DECIDED_BY_TURN_END. */
  by: z.string(),
  at: z.string(),
  message: z.string().optional(),
  always: z.string().optional(),
});

/** A request for a permission an agent on call made (approvals from afar), by its message's id. */
const requestSchema = z.object({
  thread: z.string(),
  /** The turn that asked (its startedAt): a request outlives no turn. */
  turn: z.string(),
  tool: z.string(),
  /** What the tool would do, as the request said it. */
  what: z.string(),
  /** sha256 of the tool's input it showed (approvals.ts inputDigest): an approval allows that input only. */
  digest: z.string().optional(),
  /** The machine the request went to: the turn's asker. */
  asker: z.string(),
  at: z.string(),
  /** When it is denied for want of an answer. */
  until: z.string(),
  /** Once decided: how, by whom, when. */
  decision: decisionSchema.optional(),
});

/** Today's spend: see onCallStateSchema. */
export const spentSchema = z.object({ day: z.string(), usd: z.number().min(0), held: z.literal(true).optional() });

/** A damaged on-call.json: when and where it was set aside, why, and in words what of it was kept and what lost. */
const setAsideSchema = z.object({ at: z.string(), aside: z.string(), problem: z.string(), kept: z.string(), lost: z.string() });

export const onCallStateSchema = z.object({
  version: z.literal(1),
  /** Thread (its first message's id) → its state. */
  threads: z.record(z.string(), threadSchema),
  /** Message ids already taken (the newest TAKEN_KEPT): a crash between taking and clearing the mailbox's list takes none twice. */
  taken: ids,
  /**
   * Today's spend (UTC day), for dailyBudgetUsd and STATUS. `held`: the spend of that day was lost with a damaged file
   * (setAside): the daily budget counts as spent that day, until a person sets it (coord agent on-call --spent-today).
   */
  spent: spentSchema.optional(),
  /** Requests for permissions, by their message's id (decided ones kept a day, for a late answer to be told). */
  requests: z.record(z.string(), requestSchema).optional(),
  /**
   * Asker → when its last turn started: turns go round robin, to the asker served least recently first (turn-order.ts).
   * This and budgetTold only order turns and spare notes: a malformed one is dropped, never the file.
   */
  served: z.record(z.string(), z.string()).optional().catch(undefined),
  /** The askers told on `day` that the daily budget holds their messages: each once a day, not once a message. */
  budgetTold: z.object({ day: z.string(), askers: ids }).optional().catch(undefined),
  /** The file this state replaced could not be read and was set aside: what was kept of it and what was lost (core/oncall/salvage.ts). */
  setAside: setAsideSchema.optional(),
});

export type Ask = z.output<typeof askSchema>;
export type PendingAnswer = z.output<typeof pendingAnswerSchema>;
export type RunningTurn = z.output<typeof runningSchema>;
export type ThreadState = z.output<typeof threadSchema>;
export type RequestDecision = z.output<typeof decisionSchema>;
export type ApprovalRequest = z.output<typeof requestSchema>;
export type OnCallState = z.output<typeof onCallStateSchema>;
export type OnCallSetAside = z.output<typeof setAsideSchema>;

/** The schemas of the parts of the state, for reading what can be kept of a damaged file (salvage.ts). */
export const onCallParts = { thread: threadSchema, request: requestSchema, spent: spentSchema };

/** Where a thread's turn is: no thread, nothing to do, messages waiting, a turn running (asked to stop), answers not yet stored. */
export type TurnPhase = "none" | "idle" | "queued" | "running" | "stopping" | "ended";

/** The phase of a thread's turn, from its state: what every reader asks (turn-life.ts's table moves it). */
export function phaseOf(t: ThreadState | undefined): TurnPhase {
  if (!t) return "none";
  if (t.running) return t.running.answers ? "ended" : t.running.stop !== undefined ? "stopping" : "running";
  return t.queue.length ? "queued" : "idle";
}
