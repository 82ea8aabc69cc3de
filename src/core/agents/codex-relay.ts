// Codex's open session, fed by coord (`coord agent open codex`, actions/codex-open.ts): the rules of the relay
// between Codex's TUI and the app-server coord starts for it. Every JSON-RPC message between the two passes
// through coord, which reads them and changes one kind:
//
//   - a wake is a `turn/start` coord sends on the TUI's own connection, so that the TUI shows the turn and is
//     asked every approval of it. It overrides the thread's settings: Codex asks the person before anything
//     runs but what it holds safe (`untrusted`), its sandbox reads only, and a person, never an automatic
//     reviewer, answers what it asks;
//   - an app-server keeps a turn's settings for the turns after it, and the TUI sends with each prompt the
//     settings it last heard of: the wake's change of them is not passed to the TUI, and the person's next
//     `turn/start` gets the person's own settings back in any field the TUI did not set itself;
//   - an approval the person gives in a woken turn is for that one call: "don't ask again" (a rule Codex writes
//     and keeps, which would run the command unasked in later wakes) and "for this session" become a plain yes;
//   - a `turn/start` from the TUI is the person typing: the session is theirs again, and the thread is busy
//     from that moment (a wake sent before the app-server says so would join the person's turn, under their
//     settings). What the person types while a turn runs (`turn/steer`) joins that turn: a woken turn stays
//     under its rules until the person's next prompt.
//
// Pure: the edge passes each message in and sends what comes out. A message that is not JSON-RPC passes as it is.

export type Json = Record<string, unknown>;

const obj = (v: unknown): Json | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
type Id = string | number;

/** The settings of a thread that a wake overrides, as `turn/start` names them. */
export interface Settings {
  approvalPolicy?: unknown;
  approvalsReviewer?: unknown;
  sandboxPolicy?: unknown;
}
const SETTING_KEYS = ["approvalPolicy", "approvalsReviewer", "sandboxPolicy"] as const;

/** A woken turn's settings: Codex asks the person before it runs anything it does not hold safe, it reads only, and the person answers. */
export const WAKE_SETTINGS: Required<Settings> = {
  approvalPolicy: "untrusted",
  approvalsReviewer: "user",
  sandboxPolicy: { type: "readOnly", networkAccess: false },
};

/** What the relay knows of one connection of the TUI. */
export interface RelayState {
  /** The thread the TUI shows: the one its last `thread/start`, `thread/resume` or `thread/fork` answered with. */
  thread?: string;
  /** The TUI's requests that open a thread, whose answers name it. */
  opening: readonly Id[];
  /** The person's settings of that thread, as last seen outside a wake. */
  person: Settings;
  /** A wake changed the thread's settings: the person's next turn puts theirs back. */
  restore: boolean;
  /** The thread runs a turn now. */
  busy: boolean;
  /** The TUI's `turn/start` requests not answered yet: the thread is busy until they are. */
  starting: readonly Id[];
  /** The app-server's approval requests made since a wake, before the person typed: answered for that call only. */
  wokenAsks: readonly Id[];
}

export const newRelay = (): RelayState => ({ opening: [], person: {}, restore: false, busy: false, starting: [], wokenAsks: [] });

/** The app-server's requests that ask the person to approve something. */
const APPROVALS = new Set([
  "item/commandExecution/requestApproval",
  "item/fileChange/requestApproval",
  "item/permissions/requestApproval",
  "execCommandApproval",
  "applyPatchApproval",
]);

/** An approval's decision, for one call only: what would last beyond it (a rule, the session) becomes a plain yes. */
function oneCall(decision: unknown): unknown {
  if (decision === "acceptForSession" || decision === "approved_for_session") return decision === "acceptForSession" ? "accept" : "approved";
  const d = obj(decision);
  if (d && ("acceptWithExecpolicyAmendment" in d || "approved_execpolicy_amendment" in d)) return "acceptWithExecpolicyAmendment" in d ? "accept" : "approved";
  return decision;
}

/** Whether a wake must wait: a turn runs, or the TUI is starting one. */
export const isBusy = (s: RelayState): boolean => s.busy || s.starting.length > 0;

/** The ids of coord's own requests on the TUI's connection: their answers are coord's, never the TUI's. */
export const COORD_ID = /^coord-\d{1,12}$/;

/** The settings a message holds (a thread's answer names the sandbox `sandbox`, a notification `sandboxPolicy`). */
function settingsOf(x: Json | undefined): Settings {
  const out: Settings = {};
  if (!x) return out;
  if (x.approvalPolicy !== undefined) out.approvalPolicy = x.approvalPolicy;
  if (x.approvalsReviewer !== undefined) out.approvalsReviewer = x.approvalsReviewer;
  const sandbox = x.sandboxPolicy ?? x.sandbox;
  if (obj(sandbox)) out.sandboxPolicy = sandbox;
  return out;
}

/** The TUI's requests whose answer is the thread it shows from then on (a new one, one resumed, a fork: /new, /resume, /fork). */
const OPENING = new Set(["thread/start", "thread/resume", "thread/fork"]);

/** A message from the TUI: what goes on to the app-server, and whether the person typed. */
export function fromTui(s: RelayState, msg: Json): { s: RelayState; msg: Json; typed: boolean } {
  const method = msg.method;
  const id = msg.id as Id | undefined;
  if (method === undefined && id !== undefined && s.wokenAsks.includes(id)) {
    const wokenAsks = s.wokenAsks.filter((x) => x !== id);
    const result = obj(msg.result);
    if (!result || !("decision" in result)) return { s: { ...s, wokenAsks }, msg, typed: false };
    const decision = oneCall(result.decision);
    return { s: { ...s, wokenAsks }, msg: decision === result.decision ? msg : { ...msg, result: { ...result, decision } }, typed: false };
  }
  if (OPENING.has(String(method)) && id !== undefined) return { s: { ...s, opening: [...s.opening, id].slice(-20) }, msg, typed: false };
  if (method !== "turn/start") return { s, msg, typed: false };
  const params = obj(msg.params) ?? {};
  if (params.threadId === s.thread && id !== undefined) s = { ...s, starting: [...s.starting, id].slice(-20) };
  if (!s.restore || params.threadId !== s.thread) return { s, msg, typed: true };
  // The person's settings back, field by field, where the TUI did not set one itself (it sends null for those; a
  // /permissions of theirs wins, a permission profile of theirs included).
  const back: Json = { ...params };
  for (const k of SETTING_KEYS) if (back[k] == null && s.person[k] !== undefined && !(k === "sandboxPolicy" && back.permissions != null)) back[k] = s.person[k];
  return { s: { ...s, restore: false }, msg: { ...msg, params: back }, typed: true };
}

/** A message from the app-server: what the relay learns, and whether it goes on to the TUI (coord's own answers do not). */
export function fromServer(s: RelayState, msg: Json): { s: RelayState; forward: boolean } {
  const id = msg.id as Id | undefined;
  if (id !== undefined && APPROVALS.has(String(msg.method)) && s.restore) return { s: { ...s, wokenAsks: [...s.wokenAsks, id].slice(-50) }, forward: true };
  if (id !== undefined && msg.method === undefined) {
    if (typeof id === "string" && COORD_ID.test(id)) return { s, forward: false };
    if (s.starting.includes(id)) {
      // The TUI's turn started (it runs until the thread says idle), or was refused (nothing runs).
      const starting = s.starting.filter((x) => x !== id);
      return { s: { ...s, starting, busy: msg.error === undefined ? true : s.busy }, forward: true };
    }
    if (!s.opening.includes(id)) return { s, forward: true };
    const result = obj(msg.result);
    const thread = obj(result?.thread)?.id;
    const opening = s.opening.filter((x) => x !== id);
    if (typeof thread !== "string") return { s: { ...s, opening }, forward: true };
    // A thread the TUI opens now: its settings are the person's, and nothing of an earlier wake is owed to it.
    return { s: { ...s, opening, thread, person: settingsOf(result), restore: false, busy: false }, forward: true };
  }
  const params = obj(msg.params);
  if (!params || params.threadId !== s.thread || s.thread === undefined) return { s, forward: true };
  if (msg.method === "thread/settings/updated")
    // The wake's own change never reaches the TUI: it keeps the person's settings and sends them with their next turn.
    return s.restore ? { s, forward: false } : { s: { ...s, person: settingsOf(obj(params.threadSettings)) }, forward: true };
  if (msg.method === "thread/status/changed") return { s: { ...s, busy: obj(params.status)?.type === "active" }, forward: true };
  return { s, forward: true };
}

/** The wake: coord's `turn/start` of the thread the TUI shows, with `text`, under the woken turn's settings; or why not now. */
export function wakeTurn(s: RelayState, id: string, text: string): { s: RelayState; msg: Json } | { wait: string } {
  if (s.thread === undefined) return { wait: "the TUI has no thread yet" };
  if (isBusy(s)) return { wait: "a turn runs" };
  const msg = { id, method: "turn/start", params: { threadId: s.thread, input: [{ type: "text", text }], ...WAKE_SETTINGS } };
  return { s: { ...s, restore: true, busy: true }, msg };
}
