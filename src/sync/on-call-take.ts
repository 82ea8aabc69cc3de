// The messages a sync delivered for on call, taken into their threads: each
// one, once, becomes an event of the turn's life (core/oncall/turn-life.ts):
// a decision of a waiting request, a /stop, a message queued for the next
// turn, or what the machine answers at once (a refusal, a note). Then they are
// off the mailbox's list. The engine (on-call.ts) says the answers and stops
// the turns asked to.
import { type AgentMark, DECIDED_BY_TURN_END, decidedMark, decidedText, isStop, type OnCallSettings, threadAsker, threadOf, whyNoTurn } from "../core/oncall/on-call.js";
import { decisionOf, mayDecide } from "../core/oncall/approvals.js";
import { BROADCAST, type InboxMessage, parseMessageId } from "../core/messages/messages.js";
import { type OnCallState, phaseOf } from "../core/oncall/turn-state.js";
import type { TurnSetting } from "../core/oncall/turn-life.js";
import { own } from "../core/types.js";
import { type MailboxData, readMailbox, updateMailbox, ackAnswered } from "../state/mailbox.js";
import { type OnCallLife, updateOnCallState } from "../state/on-call.js";
import { readPins } from "../state/trust.js";
import type { Machine } from "./machine.js";

/** Something the machine says at once in a thread: to whom, replying to which message, with its mark. */
export interface Said {
  to: string;
  replyTo: string;
  text: string;
  mark: AgentMark;
}

/** What taking the delivered messages left to do: answers to say, threads whose running turn is asked to stop. */
export interface Taken {
  said: Said[];
  stops: string[];
}

/** Takes the messages the mailbox holds for on call (none twice), under setting `s` (none: not on call, delivered as ever). */
export async function takeDelivered(m: Machine, s: OnCallSettings | undefined, now: Date): Promise<Taken> {
  const me = m.config.name;
  const mail = await readMailbox(m.stateDir);
  const pending = new Set(mail.turnPending ?? []);
  const out: Taken = { said: [], stops: [] };
  if (pending.size === 0) return out;
  const ctx: TakeContext = {
    me,
    s,
    now,
    out,
    decided: [],
    ...replyMap(mail, me),
    pins: m.config.trust.verifyMachines ? await readPins(m.stateDir) : new Map<string, string>(),
  };
  const fresh = mail.inbox.filter((x) => pending.has(x.id));
  await updateOnCallState(m.stateDir, (life) => {
    const known = knownIds(life.state);
    for (const msg of fresh) if (!life.apply({ kind: "take", id: msg.id }) && s) takeOne(life, msg, s, known, ctx);
  });
  // Taken: off the mailbox's list (a crash before this takes none twice: `taken` remembers them). Replies that decided
  // a request are acted on, so acknowledged (a decision is answered by the turn going on).
  await updateMailbox(
    m.stateDir,
    (data) => {
      const left = (data.turnPending ?? []).filter((id) => !pending.has(id));
      if (left.length) data.turnPending = left;
      else delete data.turnPending;
      ackAnswered(data, ctx.decided);
    },
    ctx.decided.length ? me : undefined,
  );
  return out;
}

interface TakeContext {
  me: string;
  s: OnCallSettings | undefined;
  now: Date;
  out: Taken;
  /** Replies that decided a request. */
  decided: string[];
  /** What each message replies to (ids that are message ids), received ones and this machine's own. */
  parent: Map<string, string>;
  texts: Map<string, { from: string; text: string }>;
  pins: ReadonlyMap<string, string>;
}

/**
 * The mailbox's messages as threads read them: what each replies to (only ids that are message ids) and its text,
 * received ones and this machine's own (its answers).
 */
export function replyMap(mail: Pick<MailboxData, "inbox" | "outbox">, me: string): Pick<TakeContext, "parent" | "texts"> {
  const parent = new Map<string, string>();
  const texts = new Map<string, { from: string; text: string }>();
  for (const x of mail.inbox) {
    if (x.replyTo && parseMessageId(x.replyTo)) parent.set(x.id, x.replyTo);
    texts.set(x.id, { from: x.from, text: x.text });
  }
  for (const [to, ch] of Object.entries(mail.outbox))
    for (const x of ch.messages) {
      const id = `${me}/${to}/${x.seq}`;
      if (x.replyTo && parseMessageId(x.replyTo)) parent.set(id, x.replyTo);
      texts.set(id, { from: me, text: x.text });
    }
  return { parent, texts };
}

/** Each message id of a known thread → that thread (answers are archived from the outbox after a day). */
function knownIds(state: OnCallState): Map<string, string> {
  const known = new Map<string, string>();
  for (const [root, t] of Object.entries(state.threads)) for (const id of t.ids ?? []) known.set(id, root);
  return known;
}

/** One message taken: a decision, a refusal, a /stop, or a message queued in its thread. */
function takeOne(life: OnCallLife, msg: InboxMessage, s: OnCallSettings, known: Map<string, string>, c: TakeContext): void {
  const refuse = (text: string, note?: AgentMark["note"]): void => {
    c.out.said.push({ to: msg.from, replyTo: msg.id, text, mark: { answer: true, cli: s.agent, ...(note ? { note } : { outcome: "refused" }) } });
  };
  // A reply to a request for a permission that decides it (approvals from afar): never a turn.
  const request = msg.replyTo ? own(life.state.requests, msg.replyTo) : undefined;
  const decision = request ? decisionOf(msg.text) : undefined;
  if (request && decision) {
    decideRequest(life, msg, request, decision, s, c);
    return;
  }
  const no = whyNoTurn(msg, s, { me: c.me, verified: c.pins.has(msg.from) });
  if (no && "silent" in no) return;
  const root = rootOf(life.state, msg, known, c.parent);
  if (no) {
    refuse(no.answer);
    return;
  }
  // A decision with no request to decide: it starts nothing (no turn is paid for an /approve), and says so.
  if (decisionOf(msg.text)) {
    const waiting = Object.entries(life.state.requests ?? {}).find(([, r]) => r.thread === root && !r.decision)?.[0];
    refuse(
      waiting
        ? `This message answers no request: request ${waiting} waits for a decision; reply to it (coord approve ${waiting}, coord deny ${waiting}). Nothing was started.`
        : "Nothing waits for approval here: /approve and /deny answer an agent's request for a permission, in reply to it. Nothing was started.",
    );
    return;
  }
  const setting: TurnSetting = { agent: s.agent, cwd: s.cwd, permissions: s.permissions };
  life.record({ kind: "join", thread: root, id: msg.id, from: msg.from, at: msg.at, setting });
  known.set(msg.id, root);
  const t = own(life.state.threads, root)!;
  if (isStop(msg.text)) {
    const dropped = t.queue.length;
    // A turn whose process may still be there: running, asked to stop, or ended with its answers not yet stored.
    const running = phaseOf(t) !== "idle" && phaseOf(t) !== "queued";
    life.record({
      kind: "stop",
      thread: root,
      by: `/stop from ${msg.from}${dropped ? `; ${dropped} waiting message${dropped === 1 ? "" : "s"} dropped` : ""}`,
      drop: true,
      byMessage: true,
    });
    if (running) c.out.stops.push(root);
    else
      refuse(
        dropped ? `Nothing was running; ${dropped} waiting message${dropped === 1 ? " was" : "s were"} dropped.` : "Nothing is running in this thread: nothing to stop.",
        "nothing-running",
      );
    return;
  }
  // The first message of a conversation with no session yet: the message it replies to is shown in its prompt, when
  // its sender could see it (one to or from it, or to ALL): never another asker's message it named by its id.
  const repliedTo = msg.replyTo && phaseOf(t) === "idle" && !t.session && seenBy(msg.replyTo, msg.from) ? c.texts.get(msg.replyTo) : undefined;
  life.record({
    kind: "queue",
    thread: root,
    ask: {
      id: msg.id,
      from: msg.from,
      text: msg.text,
      at: msg.at,
      chain: msg.agent?.chain ?? 0,
      ...(msg.replyTo ? { replyTo: msg.replyTo } : {}),
      ...(repliedTo ? { repliedTo: { id: msg.replyTo!, ...repliedTo } } : {}),
    },
  });
}

/**
 * The thread of a message: the one its replies lead to, when it is its asker's. A thread is one asker's conversation
 * (its session, and on Linux its CLI's state, are that asker's: core/agents/sandbox.ts): a machine that replies into
 * a conversation another machine began (a reply to a message to ALL, or to one the agent sent it) starts a
 * conversation of its own, which never reads what was said in the other.
 */
function rootOf(state: OnCallState, msg: InboxMessage, known: Map<string, string>, parent: Map<string, string>): string {
  const root = threadOf(
    msg.id,
    (id) => parent.get(id),
    (id) => known.get(id),
  );
  const existing = own(state.threads, root);
  if (existing) return threadAsker(root, existing) === msg.from ? root : msg.id;
  // A new thread is keyed by a message of its asker's own: a reply to another machine's message (one not delivered
  // yet, whose id it named ahead, included) never takes that message's id, under which its sender's thread would go.
  return parseMessageId(root)?.from === msg.from ? root : msg.id;
}

/** A reply /approve or /deny to a request: it decides it, if it comes from whom may and the request still waits. */
function decideRequest(
  life: OnCallLife,
  msg: InboxMessage,
  request: NonNullable<OnCallState["requests"]>[string],
  decision: NonNullable<ReturnType<typeof decisionOf>>,
  s: OnCallSettings,
  c: TakeContext,
): void {
  // From anyone but the asker or a sender on call for: it counts for nothing.
  if (!mayDecide(msg.from, request.asker, s.from, c.pins.has(msg.from))) return;
  // An agent's (on call, or a woken session's): a decision is a person's. Its machine's coord refuses to send one; a
  // machine that did anyway (an older coord, a forged mailbox) is told so, and the request waits on.
  if (msg.agent) {
    c.decided.push(msg.id);
    c.out.said.push({
      to: msg.from,
      replyTo: msg.id,
      text: `Request ${msg.replyTo} was not decided: this ${decision.behavior === "allow" ? "/approve" : "/deny"} came from an agent${msg.agent.cli ? ` (${msg.agent.cli})` : ""}, and a decision on a request is a person's: coord approve or coord deny on ${msg.from}, by the person.`,
      mark: { answer: true, cli: s.agent, outcome: "refused" },
    });
    return;
  }
  const refused = life.apply({
    kind: "decide",
    id: msg.replyTo!,
    decision: {
      behavior: decision.behavior,
      by: msg.from,
      at: c.now.toISOString(),
      ...(decision.behavior === "deny" && decision.message ? { message: decision.message } : {}),
      ...(decision.behavior === "allow" && decision.always ? { always: decision.always } : {}),
    },
  });
  if (refused) {
    const over = request.decision ?? { behavior: "deny" as const, by: DECIDED_BY_TURN_END };
    c.out.said.push({
      to: msg.from,
      replyTo: msg.id,
      text: `Request ${msg.replyTo} is over (${decidedText(over)}): this answer changes nothing.`,
      // What became of the request travels in the mark: no view reads the sentence.
      mark: { answer: true, cli: s.agent, outcome: "refused", decided: decidedMark(msg.replyTo!, over, c.me) },
    });
    return;
  }
  c.decided.push(msg.id);
  if (decision.behavior === "allow" && decision.always && own(life.state.threads, request.thread))
    c.out.said.push({
      to: msg.from,
      replyTo: msg.id,
      text: `${decision.always} is allowed without asking for the rest of this conversation's session.`,
      mark: { answer: true, cli: s.agent },
    });
}

/** Whether the message `id` is one `who` could see: from it, to it, or to ALL. */
function seenBy(id: string, who: string): boolean {
  const p = parseMessageId(id);
  return p !== undefined && (p.from === who || p.to === who || p.to === BROADCAST);
}
