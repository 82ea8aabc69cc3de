// What became of an agent's request for a permission (approvals from afar), read from its conversation: waiting,
// approved or denied by its recipient's reply, or over. A rule of on call: the page shows it (core/status/ui-view.ts)
// and the machine that asked answers a late decision with it (src/actions/on-call.ts).
import type { Message } from "../messages/messages.js";
import { decisionOf } from "./approvals.js";

type Decided = NonNullable<NonNullable<Message["agent"]>["decided"]>;

/**
 * An agent's request for a permission (a message marked `agent.request`), as its conversation shows it: waiting,
 * decided by its recipient's reply /approve or /deny, or over (a timeout note, the machine's "is over" answer to
 * the decision, or the turn's answer with no decision in the conversation).
 */
export interface RequestState {
  /** The tool the agent asks to use: "Bash". */
  tool: string;
  state: "waiting" | "approved" | "denied" | "over";
  /** Who decided: "you" (this checkout's machine), another machine, or "timeout". */
  by?: string;
  /** Denied with a reason: the reason. */
  reason?: string;
  /** Approved for the rest of the conversation: the tool. */
  always?: string;
  /** The reply that decided it or said it is over. */
  decidedIn?: string;
  /** "waiting for your answer", "approved by you", "denied by you: not on main", "timed out", "over: the turn has ended". */
  text: string;
  /** With state over, when the asking machine said why: "the turn has ended", "approved by you" (its text says "over: " and this). */
  why?: string;
  /** The tool's whole input as the request carries it (its mark's agent.input: JSON); the text may show only its head and tail. */
  input?: string;
  /** sha256 of the input: an approval allows the tool call with this input only. */
  digest?: string;
  /** The whole input as people read it (approvals.ts requestView: inputShown, what nobody can see escaped). */
  whole?: string;
  /** Its text showed part of its input: the page's Approve works once the whole was opened ("show all"). */
  cut?: boolean;
  /** Sent to this checkout's machine and still waiting: the page shows Approve, Deny and Approve always. */
  canAnswer: boolean;
  /** With canAnswer: what each button sends as a reply to the request (a reason may follow deny's). */
  replies?: { approve: string; deny: string; always?: string };
}

/** What the page says of a request whose turn ended first. */
const TURN_ENDED = "the turn has ended";

/**
 * LEGACY (coord before issue 59, whose messages carry no `decided` mark): how the asking machine's timeout note and
 * "Request … is over (…)" answer said what became of a request, in words. Read ONLY for a message without the mark.
 */
const legacy = {
  /** Who an older coord named as deciding the requests of a turn that ended (sync/on-call.ts endRequests). */
  ENDED: "the turn ended",
  /** The timeout note: "Request … timed out after 10 min with no answer: Bash was denied." */
  timedOut: (text: string): boolean => /\btimed out\b/.test(text),
  /** The answer to a late decision: "Request <id> is over (…): this answer changes nothing." */
  isOver: (text: string, request: string): boolean => text.startsWith(`Request ${request} is over`),
  /**
   * What the "is over" answer says: "(denied: nobody answered in time)", "(denied: the turn ended first)",
   * "(approved by soda-yeti (coord approve))"; before issue 58 "(denied by timeout)", "(denied by the turn ended)".
   */
  decided(text: string, request: string): Omit<Decided, "by"> & { by?: string } {
    const said = /^Request \S+ is over \(denied: (nobody answered in time|the turn ended first)[):]/s.exec(text);
    if (said) return { request, behavior: "deny", cause: said[1] === "nobody answered in time" ? "timeout" : "turn-end" };
    const why = /^Request \S+ is over \((approved|denied) by (.*)\): /s.exec(text);
    const behavior = why?.[1] === "approved" ? "allow" : "deny";
    if (!why) return { request, behavior };
    if (why[2] === "timeout") return { request, behavior, cause: "timeout" };
    if (why[2] === legacy.ENDED) return { request, behavior, cause: "turn-end" };
    return { request, behavior, by: why[2]! };
  },
};

/**
 * What became of request `r` (a message marked `agent.request` asking for `tool`), from the other messages of its
 * conversation `messages`, as the page of machine `local` shows it. The machine that asked decides; its messages
 * say what it decided, and they come first: a timeout note (its reply to the request), its "Request … is over"
 * answer to a decision that came too late (each with what became of the request in its mark, `agent.decided`; only
 * a message of an older coord without it is read in words, `legacy`), then the first decision its recipient sent (a
 * reply /approve or /deny to the request), then the turn's answer (the reply to the message the request replied
 * to, which ends the turn and every request of it).
 */
export function requestState(
  r: { id: string; from: string; to: string; replyTo?: string | undefined },
  tool: string,
  messages: readonly { id: string; from: string; replyTo?: string | undefined; text: string; agent?: { answer: boolean; decided?: Decided | undefined } | undefined }[],
  local?: string,
): RequestState {
  const who = (machine: string) => (machine === local ? "you" : machine);
  const theirs = messages.filter((x) => x.from === r.from && x.id !== r.id);
  /** Over: `why` in words when said ("over: <why>"), else "timed out" (by timeout) or just "over". */
  const over = (why: string | undefined, by: string | undefined, decidedIn: string): RequestState => ({
    tool,
    state: "over",
    ...(by ? { by } : {}),
    decidedIn,
    text: why ? `over: ${why}` : by === "timeout" ? "timed out" : "over",
    ...(why ? { why } : {}),
    canAnswer: false,
  });
  /** What the asking machine said became of the request, as its mark says (by: a machine name, or older words). */
  const overBy = (d: Omit<Decided, "by"> & { by?: string }, decidedIn: string): RequestState => {
    if (d.cause === "timeout") return over(undefined, "timeout", decidedIn);
    if (d.cause === "turn-end") return over(TURN_ENDED, undefined, decidedIn);
    if (!d.by) return over(undefined, undefined, decidedIn);
    return over(`${d.behavior === "allow" ? "approved" : "denied"} by ${who(d.by)}`, who(d.by), decidedIn);
  };
  const note = theirs.find((x) => x.replyTo === r.id);
  if (note) {
    if (note.agent?.decided) return overBy(note.agent.decided, note.id);
    return over(undefined, legacy.timedOut(note.text) ? "timeout" : undefined, note.id);
  }
  const decisions = messages.flatMap((x) => {
    const d = x.from === r.to && x.replyTo === r.id ? decisionOf(x.text) : undefined;
    return d ? [{ x, d }] : [];
  });
  const first = decisions[0];
  if (first) {
    // The asking machine's answer to the decision: the request was over when it came (its mark says how).
    const late = theirs.find((x) => x.replyTo === first.x.id && (x.agent?.decided ? x.agent.decided.request === r.id : legacy.isOver(x.text, r.id)));
    if (late) return overBy(late.agent?.decided ?? legacy.decided(late.text, r.id), late.id);
    const by = who(first.x.from);
    const d = first.d;
    if (d.behavior === "allow")
      return {
        tool,
        state: "approved",
        by,
        ...(d.always ? { always: d.always } : {}),
        decidedIn: first.x.id,
        text: `approved by ${by}${d.always ? `, and ${d.always} without asking for the rest of this conversation` : ""}`,
        canAnswer: false,
      };
    return {
      tool,
      state: "denied",
      by,
      ...(d.message ? { reason: d.message } : {}),
      decidedIn: first.x.id,
      text: `denied by ${by}${d.message ? `: ${d.message}` : ""}`,
      canAnswer: false,
    };
  }
  const at = messages.findIndex((x) => x.id === r.id);
  const ended = r.replyTo ? messages.find((x, i) => i > at && x.from === r.from && x.agent?.answer && x.replyTo === r.replyTo) : undefined;
  if (ended) return over(TURN_ENDED, undefined, ended.id);
  const canAnswer = local !== undefined && r.to === local && r.from !== local;
  const always = `/approve always ${tool}`;
  return {
    tool,
    state: "waiting",
    text: r.to === local ? "waiting for your answer" : `waiting for ${r.to}'s answer`,
    canAnswer,
    // Offered only for a tool name /approve always takes (else the reply would be a message that starts a turn).
    ...(canAnswer ? { replies: { approve: "/approve", deny: "/deny", ...(decisionOf(always)?.behavior === "allow" ? { always } : {}) } } : {}),
  };
}
