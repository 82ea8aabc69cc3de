// One turn of an agent CLI driven over the Agent Client Protocol (ACP:
// JSON-RPC 2.0, one message a line, on the CLI's stdin and stdout), as coord's
// driver (runner/acp-turn.ts) speaks it to `opencode acp`: what to send, and
// what each message the CLI sends means for the turn. Pure: the driver owns
// the process, the clock and the asking.
//
// Why ACP and not `opencode run`: a session is created before the model is
// asked (its id is known at once, so a turn stopped before the model streams
// keeps it), and a permission the CLI asks for is a request its client
// answers (approvals from afar), where `opencode run` rejects every one.
//
// What the driver prints is what `opencode run --format json` prints (the
// lines opencode's reader reads: cli/opencode.ts), so that a turn is read the
// same way whichever way it ran.
import { clean, type Json, num, obj, str, word } from "./cli/common.js";

export const ACP_PROTOCOL_VERSION = 1;

/** A JSON-RPC request line. */
export const acpRequest = (id: number, method: string, params: Json): string => `${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`;
/** A JSON-RPC answer line to a request of the CLI's. */
export const acpAnswer = (id: unknown, result: Json): string => `${JSON.stringify({ jsonrpc: "2.0", id, result })}\n`;
/** A JSON-RPC error answer to a request of the CLI's that coord does not serve. */
export const acpRefusal = (id: unknown, message: string): string => `${JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32601, message } })}\n`;

/** The session to open: a new one in `cwd`, or `session` resumed there (no history replayed). No MCP server is given. */
export const openSession = (cwd: string, session: string | undefined): { method: string; params: Json } =>
  session ? { method: "session/resume", params: { sessionId: session, cwd, mcpServers: [] } } : { method: "session/new", params: { cwd, mcpServers: [] } };

/** A message from the CLI, sorted: an answer to one of ours, a request of its own, or a notification. */
export type AcpIncoming =
  | { kind: "answer"; id: number; result?: Json; error?: string }
  | { kind: "request"; id: unknown; method: string; params: Json }
  | { kind: "notice"; method: string; params: Json }
  | { kind: "other" };

/** What one line from the CLI is. */
export function acpIncoming(line: string): AcpIncoming {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { kind: "other" };
  }
  const m = obj(v);
  if (!m) return { kind: "other" };
  const method = str(m.method);
  const params = obj(m.params) ?? {};
  if (method && m.id !== undefined && m.id !== null) return { kind: "request", id: m.id, method, params };
  if (method) return { kind: "notice", method, params };
  if (typeof m.id === "number") {
    const err = obj(m.error);
    return err ? { kind: "answer", id: m.id, error: str(err.message) ?? "an error" } : { kind: "answer", id: m.id, ...(obj(m.result) ? { result: obj(m.result)! } : {}) };
  }
  return { kind: "other" };
}

/** The permission name OpenCode gives each kind of tool call (its `permission` config's keys). */
const TOOL_OF_KIND: ReadonlyMap<string, string> = new Map([
  ["execute", "bash"],
  ["edit", "edit"],
  ["delete", "edit"],
  ["move", "edit"],
  ["fetch", "webfetch"],
  ["read", "read"],
  ["search", "grep"],
]);

/** A tool call's tool, by its permission name (its kind), else its title. */
const toolOf = (kind: unknown, title: unknown): string => (typeof kind === "string" && TOOL_OF_KIND.get(kind)) || word(title)?.slice(0, 100) || "a tool";

/** What a `session/request_permission` asks: the tool (by its permission name) and its input, for the asker. */
export function permissionAsked(params: Json): { tool: string; input: Json; allow?: string; reject?: string } {
  const call = obj(params.toolCall) ?? {};
  const tool = toolOf(call.kind, call.title);
  const input = obj(call.rawInput) ?? {};
  const options = Array.isArray(params.options) ? params.options.map((o) => obj(o) ?? {}) : [];
  const pick = (kind: string) => str(options.find((o) => o.kind === kind)?.optionId);
  const allow = pick("allow_once");
  const reject = pick("reject_once");
  return { tool, input, ...(allow ? { allow } : {}), ...(reject ? { reject } : {}) };
}

/** The answer to a permission request: the option chosen, or cancelled when the CLI offered none that fits. */
export const permissionAnswer = (option: string | undefined): Json => (option ? { outcome: { outcome: "selected", optionId: option } } : { outcome: { outcome: "cancelled" } });

/** What the driver has read of the turn so far. */
export interface AcpTurn {
  session?: string;
  /** The text of the agent's latest message, and its id (a new id is a new message). */
  text: string;
  textId?: string;
  /** Tool calls already shown as a step. */
  shown: string[];
  /** The session's cost so far, as the CLI last said it (it says the session's total, not the turn's). */
  sessionCost?: number;
  /** The session's cost when the turn began, as the last turn left it (unknown: none, and the whole total counts). */
  spentBefore?: number;
}

export const newTurn = (spentBefore?: number): AcpTurn => ({ text: "", shown: [], ...(spentBefore !== undefined ? { spentBefore } : {}) });

/** What the turn has cost: the session's total less what it was before (unknown before: the whole total, counted over rather than under). */
const turnCost = (turn: AcpTurn): number | undefined => (turn.sessionCost === undefined ? undefined : Math.max(0, turn.sessionCost - (turn.spentBefore ?? 0)));

/** One line of `opencode run --format json`'s shape. */
const line = (type: string, session: string | undefined, more: Json): string => JSON.stringify(clean({ type, sessionID: session, ...more }));

/**
 * A `session/update` of the turn's session read: the turn after it, and the lines to print (a step as a tool call
 * starts, the latest message once another one begins).
 */
export function acpUpdate(turn: AcpTurn, params: Json): { turn: AcpTurn; print: string[] } {
  if (str(params.sessionId) !== turn.session) return { turn, print: [] };
  const u = obj(params.update) ?? {};
  switch (u.sessionUpdate) {
    case "agent_message_chunk": {
      const chunk = str(obj(u.content)?.text) ?? "";
      const id = str(u.messageId);
      // Another message began: the one before is said, as opencode run says each text part.
      if (id !== undefined && turn.textId !== undefined && id !== turn.textId && turn.text) {
        return { turn: { ...turn, text: chunk, textId: id }, print: [line("text", turn.session, { part: { text: turn.text } })] };
      }
      return { turn: { ...turn, text: turn.text + chunk, ...(id !== undefined ? { textId: id } : {}) }, print: [] };
    }
    case "tool_call":
    case "tool_call_update": {
      const id = str(u.toolCallId);
      const input = obj(u.rawInput);
      // A step once its input is known (the first event names only the cwd).
      const known = input && Object.keys(input).some((k) => k !== "cwd");
      if (!id || !known || turn.shown.includes(id)) return { turn, print: [] };
      const tool = toolOf(u.kind, u.title);
      return { turn: { ...turn, shown: [...turn.shown.slice(-99), id] }, print: [line("tool_use", turn.session, { part: { tool, state: { status: "running", input } } })] };
    }
    case "usage_update": {
      const cost = num(obj(u.cost)?.amount);
      if (cost === undefined) return { turn, print: [] };
      // Said at once: a turn stopped or killed before its end still counts what it cost so far.
      const next = { ...turn, sessionCost: cost };
      return { turn: next, print: [line("usage", turn.session, { part: { cost: turnCost(next), sessionCost: cost } })] };
    }
    default:
      return { turn, print: [] };
  }
}

/** A tool call the turn's asker (or its permissions) denied, as opencode run says a rejected one. */
export const deniedLine = (turn: AcpTurn, tool: string): string =>
  line("tool_use", turn.session, { part: { tool, state: { status: "error", error: "The user rejected permission to use this specific tool call." } } });

/** The session, as soon as it is open: a turn cut short keeps it. */
export const sessionLine = (session: string): string => line("session", session, {});

/**
 * The lines that end the turn, from the prompt's answer (`result`, or `error`): the agent's last message, then a
 * finished step with the turn's cost (the session's total now less the total when the turn began), or the error. A
 * turn that ended any other way than its agent's end of turn ends with an error.
 */
export function acpEnd(turn: AcpTurn, end: { result?: Json; error?: string }): string[] {
  const out: string[] = [];
  if (turn.text) out.push(line("text", turn.session, { part: { text: turn.text } }));
  if (end.error !== undefined) return [...out, line("error", turn.session, { error: { name: "AcpError", data: { message: end.error } } })];
  const reason = str(end.result?.stopReason) ?? "an unknown reason";
  if (reason !== "end_turn") return [...out, line("error", turn.session, { error: { name: "Stopped", data: { message: `the turn stopped: ${reason}` } } })];
  const usage = obj(end.result?.usage);
  const tokens = usage ? { input: num(usage.inputTokens) ?? 0, output: num(usage.outputTokens) ?? 0 } : undefined;
  return [...out, line("step_finish", turn.session, { part: clean({ cost: turnCost(turn), tokens, sessionCost: turn.sessionCost }) })];
}
