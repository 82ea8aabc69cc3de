// Agents on call: a machine whose agent CLI answers the messages sent to it,
// one session per conversation. Pure: which message starts a turn, the thread
// a message belongs to, the prompt, the command line of a first turn and of a
// resumed one and the latest step from the CLI's JSON events (each CLI's
// adapter, core/agents/cli/, says how), and the answer that goes back. The engine (sync/on-call.ts) runs the turns.
import { AGENTS, type AgentResult, type Permission, type TurnSetting } from "../agents/agents.js";
import { clip } from "../limits.js";
import { machineNameProblem } from "../files/names.js";
import { type InboxMessage, parseMessageId } from "../messages/messages.js";

export { ON_CALL_AGENTS, type OnCallAgent, type OnCallSettings } from "./settings.js";
import type { OnCallAgent, OnCallSettings } from "./settings.js";

/** Agent turns in a row without a person's message, at most: the 9th is refused, and the thread says why. */
export const MAX_AGENT_CHAIN = 8;

/** Set in a turn's environment: the agent turns in a row a message it sends carries (actions/messages.ts reads it). */
export const ON_CALL_CHAIN_ENV = "COORD_ON_CALL_CHAIN";
/** Set in a turn's environment: the CLI running it. */
export const ON_CALL_AGENT_ENV = "COORD_ON_CALL_AGENT";
/** Set in a turn's environment: the turn, so a process orphaned by a crash is recognised (never a reused pid). */
export const ON_CALL_TURN_ENV = "COORD_ON_CALL_TURN";
/** Set in a turn's environment: its thread. */
export const ON_CALL_THREAD_ENV = "COORD_ON_CALL_THREAD";
/** Set in a turn's environment: whose conversation its thread is (threadAsker): on Linux its CLI's state is that asker's copy. */
export const ON_CALL_ASKER_ENV = "COORD_ON_CALL_ASKER";

/**
 * Whose conversation a thread is: its first asker, or, for a thread begun before askers were kept, its first
 * message's sender. A thread is one asker's: another machine's reply into it begins a thread of its own.
 */
export function threadAsker(root: string, thread: { askers?: string[] | undefined }): string | undefined {
  return thread.askers?.[0] ?? parseMessageId(root)?.from;
}

/** Text a reply may be to stop the running turn of its thread. */
export const STOP_WORD = "/stop";

/** Replies followed from a message to its thread's first message, at most (a longer chain is cut there). */
const MAX_THREAD_DEPTH = 1000;

export type { AgentMark, Ask } from "./turn-state.js";
import type { AgentMark, Ask } from "./turn-state.js";

/** A message as on-call reads it (an inbox message, with the agent's mark where there is one). */
export type AskMessage = Pick<InboxMessage, "id" | "from" | "to" | "text" | "at"> & { replyTo?: string; agent?: AgentMark };

/** Why a message starts no turn: said nowhere (`silent`), or answered in its thread with this text. */
export type NoTurn = { silent: string } | { answer: string };

/**
 * Whether message `msg` delivered to machine `me` starts a turn: it is for this machine (direct or ALL), from a
 * sender the setting names, its sender's signature verified, not an agent's answer (an answer answers, it asks
 * nothing), and not past MAX_AGENT_CHAIN agent turns in a row. Undefined: it starts one.
 */
export function whyNoTurn(msg: AskMessage, s: Pick<OnCallSettings, "from">, ctx: { me: string; verified: boolean }): NoTurn | undefined {
  if (msg.from === ctx.me) return { silent: "it is this machine's own" };
  if (msg.agent?.answer) return { silent: "it is an agent's answer" };
  if (msg.agent?.request) return { silent: "it is an agent's request for a permission" };
  if (s.from !== "ALL" && !s.from.includes(msg.from)) return { silent: `${msg.from} is not in onCall.from` };
  if (!ctx.verified) return { silent: `${msg.from}'s signature is not verified here` };
  if ((msg.agent?.chain ?? 0) >= MAX_AGENT_CHAIN)
    return {
      answer: `Not answered: ${MAX_AGENT_CHAIN} agent turns in a row without a person's message. A person's message starts the conversation again.`,
    };
  return undefined;
}

/** Whether a message asks to stop its thread's running turn. */
export function isStop(text: string): boolean {
  return text.trim().toLowerCase() === STOP_WORD;
}

/**
 * The thread of message `id`: its first message, following replyTo (`parentOf`) as far as the messages known go; or,
 * as soon as a message on the way belongs to a thread already (`threadAt`: answers leave the outbox after a day),
 * that thread.
 */
export function threadOf(id: string, parentOf: (id: string) => string | undefined, threadAt: (id: string) => string | undefined = () => undefined): string {
  let at = id;
  const seen = new Set([id]);
  for (let i = 0; i < MAX_THREAD_DEPTH; i++) {
    const known = threadAt(at);
    if (known !== undefined) return known;
    const up = parentOf(at);
    if (up === undefined || seen.has(up)) return at;
    seen.add(up);
    at = up;
  }
  return at;
}

/** The chain of a turn started by these messages: past the highest of theirs (a person's message counts 0). */
export function chainOf(asks: readonly { chain: number }[]): number {
  return Math.max(0, ...asks.map((a) => a.chain));
}

/** The prompt of a turn: who asked, what, and the message it replies to (the first turn of a thread only: a resumed session has it). */
export function turnPrompt(me: string, asks: readonly Ask[], repliedTo?: { id: string; from: string; text: string }): string {
  const lines = [`You are the coding agent on call on machine ${me} of a coord fleet. Messages to this machine arrive as prompts; your final message is sent back as the answer.`];
  if (repliedTo) lines.push("", `It replies to ${repliedTo.id} from ${repliedTo.from}:`, quote(repliedTo.text));
  for (const a of asks) lines.push("", `Message ${a.id} from ${a.from} at ${a.at}${a.chain > 0 ? " (written by an agent)" : ""}:`, quote(a.text));
  lines.push("", "Do what is asked, then answer in a few lines: what you did and what came of it.");
  return lines.join("\n");
}

const quote = (text: string) =>
  text
    .split("\n")
    .map((l) => `> ${l}`)
    .join("\n");

/** The arguments of one turn after the executable, its stdin and environment: a new session, or `session` resumed (the CLI's adapter says how). */
export function turnInvocation(
  s: TurnSetting,
  prompt: string,
  session: string | undefined,
  ctx: {
    root: boolean;
    executable: string;
    /** A CLI whose turns get coord's tools: the --mcp-config file naming them for this turn. */
    mcpConfig?: string;
    /** Where coord wrote the CLI's policy for the setting's level (AgentCli.policy). */
    policyFile?: string;
    /** coord's own command line (node and its script): what runs a turn an adapter wraps (AgentCli.onCall.driven). */
    self: readonly string[];
    /** The cost of the thread's session before this turn, as its last turn said it. */
    spentBefore?: number;
  },
): { argv: string[]; input?: string; env: Record<string, string> } | { refused: string } {
  const onCall = AGENTS.get(s.agent)?.onCall;
  if (!onCall) return { refused: `coord cannot put ${s.agent} on call` };
  const how = onCall.turn(s, prompt, session, {
    root: ctx.root,
    ...(ctx.mcpConfig ? { mcpConfig: ctx.mcpConfig } : {}),
    ...(ctx.policyFile ? { policyFile: ctx.policyFile } : {}),
    ...(ctx.spentBefore !== undefined ? { spentBefore: ctx.spentBefore } : {}),
  });
  if ("refused" in how) return { refused: how.refused };
  const command = [ctx.executable, ...how.args];
  return { argv: how.wrap ? [...ctx.self, ...how.wrap, "--", ...command] : command, env: how.env, ...(how.input !== undefined ? { input: how.input } : {}) };
}

/** The JSON object of an output line, or undefined. */
function eventOf(line: string): Record<string, unknown> | undefined {
  const t = line.trim();
  if (!t.startsWith("{")) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The step an output line of `agent` shows (a tool call or a command it runs, its adapter reads it), or undefined for any other line. */
export function stepOf(agent: string, line: string): string | undefined {
  const read = AGENTS.get(agent)?.onCall?.step;
  const e = read ? eventOf(line) : undefined;
  return e ? read!(e) : undefined;
}

/** What a session id may be: a word that begins with a letter, a digit or `_`. */
const SESSION_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;

/**
 * `id` when it may be a session id, else undefined. A session id is a word of letters, digits, `_`, `-` and `.` (a
 * UUID, codex's thread id, OpenCode's ses_…), never a path and never an option: a line forged into the CLI's output
 * ("../../etc/passwd", "--dangerously-bypass-approvals-and-sandbox" as codex's resume id: found attacking it) would
 * jam the thread's resume or become a flag of its next command line.
 */
export function sessionId(id: string | undefined): string | undefined {
  return id !== undefined && SESSION_ID.test(id) && !id.includes("..") ? id : undefined;
}

/** The session an output line of `agent` names, as soon as it names one (so a turn cut short keeps its session): one word of at most 200 characters. */
export function sessionOf(agent: string, line: string): string | undefined {
  const read = AGENTS.get(agent)?.onCall?.session;
  const e = read ? eventOf(line) : undefined;
  return sessionId(e ? read!(e) : undefined);
}

/** How a turn's process ended, as the engine saw it. */
export interface TurnEnd {
  /** What the agent said (its reader's verdict), when it said anything readable. */
  said?: AgentResult;
  exitCode: number | null;
  /** Stopped by a /stop, coord agent stop, or the daemon stopping. */
  stopped?: string;
  /** With `stopped`: which it was (the mark's `cause`): "stop" (a /stop, coord agent stop), "idle", "shutdown". */
  cause?: "stop" | "idle" | "shutdown";
  timedOut?: boolean;
  /** Why the CLI could not start. */
  error?: string;
  /** The turn's timeout (seconds), for the sentence. */
  timeout: number;
  durationMs: number;
  /** The last lines of its output, when it said nothing readable. */
  tail?: string;
  /** Its latest step (a tool call, a command), for a turn that timed out. */
  step?: string;
}

/**
 * Why a turn that timed out had not ended, as far as the CLI said: its last error (codex retrying a dead server:
 * "Reconnecting... waiting for network"), else the step it was at, else its last line of output when it printed
 * nothing coord could read.
 */
export function timeoutCause(end: Pick<TurnEnd, "said" | "step" | "tail">): string | undefined {
  if (end.said?.lastError) return `Its last error: ${end.said.lastError}`;
  if (end.step) return `It was at: ${end.step}`;
  if (end.said) return undefined;
  const last = end.tail
    ?.trim()
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();
  return last ? `Its last line of output: ${clip(last, 300)}` : undefined;
}

/** The answer a turn sends back into its thread: the agent's final message, or why there is none, and the mark. */
export function answerOf(end: TurnEnd, cli: string, chain: number): { text: string; mark: AgentMark } {
  const said = end.said;
  const mark: AgentMark = {
    answer: true,
    cli,
    chain: chain + 1,
    durationMs: Math.max(0, Math.round(end.durationMs)),
    ...(said?.turns !== undefined ? { turns: said.turns } : {}),
    ...(said?.costUsd !== undefined ? { costUsd: said.costUsd } : {}),
  };
  const last = said?.message?.trim();
  const lastWords = last ? `\n\nWhat it said last:\n${last}` : "";
  if (end.stopped) return { text: `Stopped (${end.stopped}).${lastWords}`, mark: { ...mark, outcome: "stopped", ...(end.cause ? { cause: end.cause } : {}) } };
  if (end.error) return { text: `The turn could not start: ${end.error}.`, mark: { ...mark, outcome: "failed" } };
  if (end.timedOut) {
    const cause = timeoutCause(end);
    return {
      text: `The turn timed out after ${Math.round(end.timeout)} s and was stopped.${cause ? ` ${/[.!?)]$/.test(cause) ? cause : `${cause}.`}` : ""}${lastWords}`,
      mark: { ...mark, outcome: "failed", cause: "timeout" },
    };
  }
  if (said && !said.ok && said.denied?.length) {
    // Not an order's permissions to raise: claude on call asked the thread (a /deny, or no answer in time); another
    // CLI had only its on-call permissions.
    const why = AGENTS.get(cli)?.onCall?.denied ?? "its on-call permissions do not allow it (coord agent on-call --permissions)";
    return { text: `The turn ended with ${said.denied.join(", ")} denied: ${why}.${lastWords}`, mark: { ...mark, outcome: "failed" } };
  }
  if (said && !said.ok) return { text: `The turn failed: ${said.reason ?? "the agent said it failed"}.${lastWords}`, mark: { ...mark, outcome: "failed" } };
  if (said && end.exitCode !== 0) return { text: `The turn failed: ${cli} exited with ${end.exitCode ?? "a signal"}.${lastWords}`, mark: { ...mark, outcome: "failed" } };
  if (!said) {
    const tail = end.tail?.trim().split("\n").slice(-5).join("\n");
    const why = end.exitCode === 0 ? "it printed no result coord could read" : `${cli} exited with ${end.exitCode ?? "a signal"} before giving a result`;
    return { text: `The turn failed: ${why}.${tail ? `\n\nIts last lines:\n${tail}` : ""}`, mark: { ...mark, outcome: "failed" } };
  }
  return { text: last || "(The agent gave no final message.)", mark };
}

/** The answer to a turn that a crash interrupted (its daemon killed): the session stays, "go on" continues it. */
export function interruptedAnswer(cli: string, chain: number, step: string | undefined): { text: string; mark: AgentMark } {
  return {
    text: `Interrupted: the coord daemon running this turn stopped${step ? ` while the agent was at: ${step}` : ""}. The session is kept; reply "go on" to continue it.`,
    mark: { answer: true, cli, chain: chain + 1, outcome: "interrupted" },
  };
}

/**
 * What a turn counts against the daily budget: what its CLI said it cost, never more than the cap per turn
 * (`maxBudgetUsd`, which the CLI enforces: a line its agent wrote into its output may say anything), when it exited by
 * itself with a result (`clean`); the cap when it did not (killed, timed out, stopped by a /stop of its asker, no
 * result), unless a person on the machine stopped it (coord agent stop, the daemon stopping): an agent that forges a
 * result and kills its own CLI, or its asker that stops it, does not make its work free. Undefined: nothing to count.
 */
export function turnSpend(said: number | undefined, cap: number | undefined, end: { ran: boolean; clean: boolean; stoppedByPerson: boolean }): number | undefined {
  const capped = said !== undefined && cap !== undefined ? Math.min(said, cap) : said;
  if (!end.ran || end.stoppedByPerson || (end.clean && said !== undefined)) return capped;
  // It died, timed out or was stopped by its asker (who may be the one to spend the others' budget), or exited with
  // no result: what a line said counts for nothing less than the cap.
  return cap !== undefined ? Math.max(said ?? 0, cap) : said;
}

/** Today's day (UTC) for the daily budget. */
export const dayOf = (now: Date) => now.toISOString().slice(0, 10);

/** Whether today's spend leaves room for a turn under the daily budget. */
export function withinDailyBudget(s: Pick<OnCallSettings, "dailyBudgetUsd">, spent: { day: string; usd: number; held?: true } | undefined, now: Date): boolean {
  if (s.dailyBudgetUsd === undefined) return true;
  // Today's spend was lost (a damaged on-call.json, core/oncall/salvage.ts): counted as spent until a person sets it.
  if (spent?.held && spent.day === dayOf(now)) return false;
  const today = spent && spent.day === dayOf(now) ? spent.usd : 0;
  return today < s.dailyBudgetUsd;
}

/** Who decides a request that no person decided (ApprovalRequest.decision.by). */
export const DECIDED_BY_TIMEOUT = "timeout";
export const DECIDED_BY_TURN_END = "the turn ended";

/** A request's decision in words: "approved by izzit7", "denied by izzit7: not now", "denied: the turn ended first". */
export function decidedText(d: { behavior: "allow" | "deny"; by: string; message?: string }): string {
  const why = d.message ? `: ${d.message}` : "";
  if (d.by === DECIDED_BY_TIMEOUT) return `denied: nobody answered in time${why}`;
  if (d.by === DECIDED_BY_TURN_END) return `denied: the turn ended first${why}`;
  return `${d.behavior === "allow" ? "approved" : "denied"} by ${d.by}${d.behavior === "deny" ? why : ""}`;
}

/**
 * What the asking machine's word that request `request` is over carries in its mark (the timeout note, the answer
 * to a late decision): allowed or denied, and by which machine (a reply's sender, or `me` for coord approve/deny on
 * this machine, recorded as "<me> (coord approve)"), or why nobody decided (a timeout, the turn's end).
 */
export function decidedMark(request: string, d: { behavior: "allow" | "deny"; by: string; always?: string }, me: string): NonNullable<AgentMark["decided"]> {
  const base = { request, behavior: d.behavior };
  if (d.by === DECIDED_BY_TIMEOUT) return { ...base, cause: "timeout" };
  if (d.by === DECIDED_BY_TURN_END) return { ...base, cause: "turn-end" };
  const by = machineNameProblem(d.by) === undefined ? d.by : d.by.startsWith(`${me} (`) ? me : undefined;
  const always = d.behavior === "allow" && d.always && /^[A-Za-z0-9_.:-]{1,100}$/.test(d.always) ? d.always : undefined;
  return { ...base, ...(by ? { by } : {}), ...(always ? { always } : {}) };
}

/** What a thread ran with: its CLI, its session's directory, its permissions (absent in a thread recorded before they were). */
export interface ThreadSetting {
  agent: string;
  cwd: string;
  permissions?: Permission;
  session?: string;
  /** Its session is kept in coord's own copy of its CLI's state, apart from the person's (absent: the person's). */
  apart?: boolean;
}

/**
 * Whether a thread's next turn goes on with its session, or starts a new one with the machine's setting `s`: a session
 * never runs under another CLI or other permissions than it ran with (issue 58, finding 8). Undefined: it goes on.
 * Else the thread's new setting, no session, and `note`, said at the head of the turn's answer (none when the thread
 * had no session yet: nothing is lost).
 */
export function threadSwitch(
  t: ThreadSetting,
  s: Pick<OnCallSettings, "agent" | "cwd" | "permissions"> & { apart?: boolean },
): { agent: OnCallAgent; cwd: string; permissions: Permission; note?: string } | undefined {
  const cli = t.agent !== s.agent;
  const perms = t.permissions !== undefined && t.permissions !== s.permissions;
  // Its session kept in the person's CLI state and the turn now runs in the agent's own (or back): not there to resume.
  const moved = s.apart !== undefined && (t.apart ?? false) !== s.apart;
  if (!cli && !perms && !moved) return undefined;
  const next = { agent: s.agent, cwd: s.cwd, permissions: s.permissions };
  if (!t.session) return next;
  if (!cli && !perms)
    return {
      ...next,
      note: `Note: this conversation's earlier turns kept their session in ${t.apart ? "this machine's own copy of the" : "the person's own"} ${t.agent} state; its agents now keep theirs ${s.apart ? "apart from the person's" : "in the person's"}, so this turn started a new ${s.agent} session, which does not remember the earlier turns.`,
    };
  const was = cli ? `${t.agent}${t.permissions ? ` (${t.permissions})` : ""}` : `permissions ${t.permissions}`;
  const now = cli ? `${s.agent} (${s.permissions})` : `permissions ${s.permissions}`;
  return {
    ...next,
    note: `Note: this conversation's earlier turns ran with ${was}; this machine is now on call with ${now}, so this turn started a new ${s.agent} session, which does not remember the earlier turns (the old session was not resumed under the new setting).`,
  };
}
