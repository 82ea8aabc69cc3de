// Messages between machines: coordination/messages/<from>_TO_<to>.md, owned by
// <from>. Pure: file format, delivery, receipts, archiving, views.
import * as z from "zod";
import { dataProblem, parseFrontMatter, renderFrontMatter } from "../files/frontmatter.js";
import { MAX_COUNT } from "../limits.js";
import { code, fence, inline } from "../files/markdown.js";
import { machineNameProblem } from "../files/names.js";
import { LINE_BREAKS, sanitizeText, shownLine } from "../files/shown.js";
import { own, ownTable, PRIORITIES } from "../types.js";

export const BROADCAST = "ALL";
export const MESSAGES_DIR = "coordination/messages";

/** A counter of messages: safe to add one to. */
const count = z.number().int().nonnegative().max(MAX_COUNT);

/** What a machine on call says that is no turn's answer: a message waiting for the daily budget, a /stop with nothing running, a request for a permission nobody answered. */
export const AGENT_NOTES = ["budget", "nothing-running", "approval-timeout"] as const;

/**
 * Why a turn ended as it did, beside its outcome: "timeout" (its time on call ran out: outcome failed), "idle" (it
 * wrote nothing for agentIdleTimeout), "stop" (a /stop or coord agent stop), "shutdown" (the coord daemon or sync
 * running it stopped); those three with outcome stopped.
 */
export const TURN_CAUSES = ["timeout", "idle", "stop", "shutdown"] as const;

/** Why a request was denied with nobody deciding: no answer within approvalTimeout, or its turn ended first. */
export const DECIDED_CAUSES = ["timeout", "turn-end"] as const;

/** A tool's name as a mark carries it (Bash, Write, mcp__x__y). */
const TOOL = /^[A-Za-z0-9_.:-]{1,100}$/;

/**
 * What became of a request for a permission, on the asking machine's message that says it is over (the timeout
 * note, the answer to a decision that came too late): the request's id, allowed or denied, and who decided it (a
 * machine) or why nobody did (`cause`). A part out of range is dropped; a mark without request or behavior has none.
 */
const decidedSchema = z.object({
  request: z
    .string()
    .max(200)
    .refine((id) => parseMessageId(id) !== undefined),
  behavior: z.enum(["allow", "deny"]),
  by: z
    .string()
    .refine((name) => machineNameProblem(name) === undefined)
    .optional()
    .catch(undefined),
  cause: z.enum(DECIDED_CAUSES).optional().catch(undefined),
  always: z.string().regex(TOOL).optional().catch(undefined),
});

const messageSchema = z.object({
  /** Sequence number in its channel, from 1. */
  seq: z.number().int().positive().max(MAX_COUNT),
  at: z.string(),
  priority: z.enum(PRIORITIES),
  text: z.string(),
  /** Id of the message this answers. */
  replyTo: z.string().optional(),
  /**
   * Written by an agent (agents on call, core/oncall/on-call.ts): `answer` on the answer to a turn, which never
   * starts one; `chain` the agent turns in a row behind it. Dropped when malformed: the message stays a message.
   */
  agent: z
    .object({
      answer: z.boolean().optional(),
      /** A request for a permission (the tool's name): answered /approve or /deny, it never starts a turn. */
      request: z.string().max(100).optional(),
      /** With a request: the tool's whole input as canonical JSON (the text may show only its head and tail). */
      input: z.string().max(64_000).optional(),
      /** With a request: sha256 (hex) of the input as the agent gave it; an approval holds for that input only. */
      digest: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
      cli: z.string().max(40).optional(),
      chain: z.number().int().min(0).max(MAX_COUNT).optional(),
      durationMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
      turns: z.number().int().min(0).max(MAX_COUNT).optional(),
      costUsd: z.number().min(0).max(1e9).optional(),
      outcome: z.enum(["failed", "stopped", "interrupted", "refused"]).optional(),
      /** A note of the machine on call that is no turn's answer (an unknown one is dropped, the mark kept). */
      note: z.enum(AGENT_NOTES).optional().catch(undefined),
      /** Why the turn ended as it did (TURN_CAUSES; an unknown one is dropped, the mark kept). */
      cause: z.enum(TURN_CAUSES).optional().catch(undefined),
      /** On the asking machine's word that a request is over: what became of it (a malformed one is dropped, the mark kept). */
      decided: decidedSchema.optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
});

export type Message = z.output<typeof messageSchema>;

/** Front matter of a message file: one sender, one recipient (or ALL). */
const fileSchema = z.object({
  coord: z.literal(1),
  from: z.string(),
  to: z.string(),
  /** The next sequence number: every seq below it was sent. */
  next: z.number().int().positive().max(MAX_COUNT),
  /** Live messages, oldest first; older ones were archived (git history keeps them). */
  messages: z.array(messageSchema),
});

export type MessageFile = z.output<typeof fileSchema>;

/** A message as a recipient sees it. */
export interface InboxMessage extends Message {
  id: string;
  from: string;
  to: string;
}

/**
 * A message as JSON for scripts and agents (coord inbox --json, the MCP inbox and thread tools): replyTo null when
 * none, the agent's mark when there is one (an answer's outcome, a decision's mark: what an agent reads them by).
 */
export function messageJson(x: Pick<InboxMessage, "id" | "from" | "to" | "at" | "priority" | "text" | "replyTo" | "agent">) {
  return { id: x.id, from: x.from, to: x.to, at: x.at, priority: x.priority, text: x.text, replyTo: x.replyTo ?? null, ...(x.agent ? { agent: x.agent } : {}) };
}

/** What a recipient publishes about one channel (in its machine file): received through `received`; acknowledged through `acked`, plus `also`. */
export const ChannelReceiptSchema = z.object({ received: count, acked: count, also: z.array(count.positive()).optional() });

export type ChannelReceipt = z.output<typeof ChannelReceiptSchema>;

/** Channel key "<from>/<to>" → receipt. */
export type Receipts = Record<string, ChannelReceipt>;

export const channelKey = (from: string, to: string) => `${from}/${to}`;
export const messageId = (from: string, to: string, seq: number) => `${from}/${to}/${seq}`;
export const messagePath = (from: string, to: string) => `${MESSAGES_DIR}/${from}_TO_${to}.md`;

/** A message's id: `<from>/<to or ALL>/<seq>`, e.g. izzit7/soda-yeti/3. */
export const MESSAGE_ID = /^([a-z0-9][a-z0-9-]*)\/([a-z0-9][a-z0-9-]*|ALL)\/([1-9][0-9]*)$/;

export function parseMessageId(id: string): { from: string; to: string; seq: number } | undefined {
  const m = MESSAGE_ID.exec(id);
  return m ? { from: m[1]!, to: m[2]!, seq: Number(m[3]) } : undefined;
}

/** The channel of a receipt key "<from>/<to>", or undefined when it is not one. */
export function parseChannelKey(key: string): { from: string; to: string } | undefined {
  const m = /^([^/]+)\/([^/]+)$/.exec(key);
  if (!m) return undefined;
  const [from, to] = [m[1]!, m[2]!];
  if (machineNameProblem(from) || (to !== BROADCAST && machineNameProblem(to))) return undefined;
  return { from, to };
}

/** The channel of a message file path, or undefined for any other path. */
export function channelOfPath(path: string): { from: string; to: string } | undefined {
  const m = /^coordination\/messages\/(.+)_TO_(.+)\.md$/.exec(path);
  if (!m) return undefined;
  const [from, to] = [m[1]!, m[2]!];
  if (machineNameProblem(from) || (to !== BROADCAST && machineNameProblem(to))) return undefined;
  return { from, to };
}

export function parseMessageFile(text: string, path: string): MessageFile {
  const channel = channelOfPath(path);
  if (!channel) throw new Error("not a message file name (<from>_TO_<to>.md)");
  const result = fileSchema.safeParse(parseFrontMatter(text).data);
  if (!result.success) {
    throw new Error(dataProblem(result.error.issues[0]!));
  }
  const file = result.data as MessageFile;
  if (file.from !== channel.from || file.to !== channel.to)
    throw new Error(`front matter says ${file.from} to ${file.to}, but the file name says ${channel.from} to ${channel.to}`);
  for (let i = 1; i < file.messages.length; i++) if (file.messages[i]!.seq <= file.messages[i - 1]!.seq) throw new Error("messages are not in sequence order");
  if (file.messages.some((m) => m.seq >= file.next)) throw new Error("a message has a seq not below next");
  return file;
}

function canonicalMessage(m: Message): Message {
  return { seq: m.seq, at: m.at, priority: m.priority, text: m.text, ...(m.replyTo ? { replyTo: m.replyTo } : {}), ...(m.agent ? { agent: canonicalMark(m.agent) } : {}) };
}

/** An agent's mark with its fields in one order. */
function canonicalMark(a: NonNullable<Message["agent"]>): NonNullable<Message["agent"]> {
  const keys = ["answer", "request", "input", "digest", "cli", "chain", "durationMs", "turns", "costUsd", "outcome", "cause", "note", "decided"] as const;
  const out: Record<string, unknown> = Object.fromEntries(keys.filter((k) => a[k] !== undefined).map((k) => [k, a[k]]));
  if (a.decided) {
    const d = a.decided;
    out.decided = Object.fromEntries((["request", "behavior", "by", "cause", "always"] as const).filter((k) => d[k] !== undefined).map((k) => [k, d[k]]));
  }
  return out as NonNullable<Message["agent"]>;
}

export function renderMessageFile(file: MessageFile): string {
  const data: MessageFile = { coord: 1, from: file.from, to: file.to, next: file.next, messages: file.messages.map(canonicalMessage) };
  const who = file.to === BROADCAST ? "every machine" : file.to;
  const lines = [`# Messages from ${file.from} to ${who}`, ""];
  if (data.messages.length === 0) lines.push("No live messages (acknowledged ones are archived; git history keeps them).");
  for (const m of [...data.messages].reverse()) {
    // The sender's words as text (its time, what it answers, its agent's mark); coord's own emphasis as Markdown.
    const meta = [inline(m.at), m.priority !== "normal" ? `**${m.priority}**` : "", m.replyTo ? `reply to ${code(m.replyTo)}` : "", inline(agentLine(m.agent))]
      .filter(Boolean)
      .join(" · ");
    lines.push(`### ${messageId(file.from, file.to, m.seq)}`, "", meta, "", fence(m.text), "");
  }
  lines.push("---", `*Written by coord on machine ${file.from}. The front matter is the data; this view is re-rendered at every sync.*`);
  return renderFrontMatter(data, lines.join("\n"));
}

const NOTE_WORDS: Record<(typeof AGENT_NOTES)[number], string> = {
  budget: "waiting for the daily budget",
  "nothing-running": "nothing was running",
  "approval-timeout": "request timed out, denied",
};

const CAUSE_WORDS: Record<(typeof TURN_CAUSES)[number], string> = {
  timeout: "timed out",
  idle: "silent too long",
  stop: "asked to stop",
  shutdown: "coord stopped",
};

/** "request izzit7/soda-yeti/4 approved by izzit7", "request … denied: nobody answered in time", "… denied: the turn ended first". */
function decidedWords(d: NonNullable<NonNullable<Message["agent"]>["decided"]>): string {
  const what = `request ${d.request} ${d.behavior === "allow" ? "approved" : "denied"}`;
  if (d.cause === "timeout") return `${what}: nobody answered in time`;
  if (d.cause === "turn-end") return `${what}: the turn ended first`;
  return d.by ? `${what} by ${d.by}` : what;
}

/** How a message's agent mark reads for people: "answer by claude, 12 s, 3 turns, $0.0210". */
export function agentLine(a: Message["agent"]): string {
  if (!a) return "";
  if (a.note) return `${a.cli ?? "the agent"} on call: ${NOTE_WORDS[a.note]}`;
  const parts = [a.request ? `${a.cli ?? "an agent"} asks to use ${a.request}` : a.answer ? `answer by ${a.cli ?? "an agent"}` : `by ${a.cli ?? "an agent"}`];
  if (a.outcome) parts.push(a.cause ? `${a.outcome} (${CAUSE_WORDS[a.cause]})` : a.outcome);
  if (a.decided) parts.push(decidedWords(a.decided));
  if (a.durationMs !== undefined) parts.push(`${Math.round(a.durationMs / 1000)} s`);
  if (a.turns !== undefined) parts.push(`${a.turns} turn${a.turns === 1 ? "" : "s"}`);
  if (a.costUsd !== undefined) parts.push(`$${a.costUsd.toFixed(4)}`);
  return parts.join(", ");
}

/** A message's text as it is stored and shown: what a person cannot see, escaped (core/files/shown.ts). */
export { sanitizeText };

export function isAcked(receipt: ChannelReceipt | undefined, seq: number): boolean {
  return !!receipt && (seq <= receipt.acked || (receipt.also ?? []).includes(seq));
}

/** The message ids of `ids` (from/to/seq) that `receipts` show acknowledged. */
export function ackedIn(ids: readonly string[], receipts: Receipts | undefined): string[] {
  return ids.filter((id) => {
    const p = parseMessageId(id);
    return p !== undefined && receipts !== undefined && isAcked(own(receipts, channelKey(p.from, p.to)), p.seq);
  });
}

/** Adds acknowledged seqs to a receipt, folding `also` into `acked` where it becomes contiguous. */
export function ackSeqs(receipt: ChannelReceipt, seqs: number[]): ChannelReceipt {
  const also = new Set([...(receipt.also ?? []), ...seqs.filter((s) => s > receipt.acked)]);
  let acked = receipt.acked;
  while (also.has(acked + 1)) also.delete(++acked);
  const rest = [...also].filter((s) => s > acked).sort((a, b) => a - b);
  return { received: Math.max(receipt.received, acked, ...rest), acked, ...(rest.length ? { also: rest } : {}) };
}

/** The channels a machine receives from: messages to it, and broadcasts from others. */
export function addressedTo(file: MessageFile, machine: string): boolean {
  return file.from !== machine && (file.to === machine || file.to === BROADCAST);
}

/**
 * Who speaks in the fleet: a registered machine (`machines`: every name with a COMPUTER file), and where ORDERS.json's
 * keys name the fleet's machines, one they name. A channel from anyone else is no machine's word, whoever pushed it:
 * nothing of it is delivered (the sync), counted as waiting or alerted (STATUS).
 */
export function speakers(machines: readonly string[], keys?: ReadonlyMap<string, string>): (name: string) => boolean {
  const registered = new Set(machines);
  return (name) => registered.has(name) && (!keys || keys.has(name));
}

/** The channels addressed to `machine` whose sender does not speak (`speaks`: speakers): nothing of them is delivered. */
export function strangersTo(files: readonly MessageFile[], machine: string, speaks: (name: string) => boolean): MessageFile[] {
  return files.filter((f) => addressedTo(f, machine) && !speaks(f.from));
}

/**
 * Messages newly delivered to `machine`: in every channel addressed to it,
 * the live messages above its `received` mark, oldest first per channel.
 */
export function newMessages(files: MessageFile[], machine: string, receipts: Receipts): InboxMessage[] {
  const out: InboxMessage[] = [];
  for (const f of files) {
    if (!addressedTo(f, machine)) continue;
    const mark = own(receipts, channelKey(f.from, f.to))?.received ?? 0;
    for (const m of f.messages) if (m.seq > mark) out.push({ ...m, id: messageId(f.from, f.to, m.seq), from: f.from, to: f.to });
  }
  return inOrder(out);
}

/**
 * Oldest first across channels, but always in sequence order within one: a
 * sender's clock may step back, and "deploy" must not arrive after "cancel
 * the deploy" that was sent after it.
 */
export function inOrder(messages: InboxMessage[]): InboxMessage[] {
  const channels = new Map<string, InboxMessage[]>();
  for (const m of messages) {
    const key = channelKey(m.from, m.to);
    if (!channels.has(key)) channels.set(key, []);
    channels.get(key)!.push(m);
  }
  const queues = [...channels.values()].map((q) => q.sort((a, b) => a.seq - b.seq));
  const out: InboxMessage[] = [];
  for (;;) {
    let next: InboxMessage[] | undefined;
    for (const q of queues) if (q.length && (!next || byTime(q[0]!, next[0]!) < 0)) next = q;
    if (!next) return out;
    out.push(next.shift()!);
  }
}

/** Oldest first; same time: by channel, then seq as a number. */
export function byTime(a: InboxMessage, b: InboxMessage): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  const ca = channelKey(a.from, a.to);
  const cb = channelKey(b.from, b.to);
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.seq - b.seq;
}

/**
 * The receipts in `machine`'s own published file that it may hold: only for
 * channels addressed to it, and never past what the channel's sender sent
 * (its file's next − 1), so a forged receipt cannot make it skip messages.
 * A channel whose sender's file is not there (or broken) keeps its receipt.
 */
export function trustedReceipts(published: Receipts | undefined, machine: string, files: MessageFile[]): Receipts {
  const out = ownTable<ChannelReceipt>();
  for (const [key, r] of Object.entries(published ?? {})) {
    const ch = parseChannelKey(key);
    if (!ch || ch.from === machine || (ch.to !== machine && ch.to !== BROADCAST)) continue;
    const sent = files.find((f) => f.from === ch.from && f.to === ch.to)?.next;
    const received = sent === undefined ? r.received : Math.min(r.received, sent - 1);
    const acked = Math.min(r.acked, received);
    const also = (r.also ?? []).filter((s) => s > acked && s <= received);
    out[key] = { received, acked, ...(also.length ? { also } : {}) };
  }
  return out;
}

/**
 * The highest seq of channel `from`/`to` that a recipient says it received:
 * read only from the recipients' own files (`to`'s, or for ALL every machine
 * but the sender), so no other machine can push a sender's numbers up.
 */
export function receivedMark(receiptsOf: Map<string, Receipts | undefined>, from: string, to: string): number {
  const key = channelKey(from, to);
  let mark = 0;
  for (const [name, receipts] of receiptsOf) if (name !== from && (to === BROADCAST || name === to)) mark = Math.max(mark, own(receipts, key)?.received ?? 0);
  return mark;
}

/**
 * The highest seq of channel `from`→`to` its recipients vouch for having received (`receiptsOf`: each machine's
 * published receipts): for a direct channel its recipient's own receipt; for ALL the highest mark a second recipient
 * agrees with (the only recipient's, in a fleet of two). A sender whose own record of the channel is gone numbers
 * above it; no one turned machine can make it skip numbers on a channel others read (a claim near 2^31 would leave it
 * none to send).
 */
export function vouchedMark(receiptsOf: Map<string, Receipts | undefined>, from: string, to: string): number {
  const key = channelKey(from, to);
  const markOf = (name: string) => own(receiptsOf.get(name), key)?.received ?? 0;
  if (to !== BROADCAST) return receiptsOf.has(to) ? markOf(to) : 0;
  const marks = [...receiptsOf.keys()]
    .filter((n) => n !== from)
    .map(markOf)
    .sort((a, b) => b - a);
  return (marks.length === 1 ? marks[0] : marks[1]) ?? 0;
}

/**
 * Where a sender whose own record of channel `file` is gone numbers from, given what its recipients vouch for
 * (`vouched`, vouchedMark) and the channel's file on the hub that it cannot verify as its own (after a reclaim without
 * its key): above the file's `next` as far as the file can show it. A message above what its recipients received is
 * never archived, so the sender's real file lists every one of them: its next is at most `vouched` + 1 + the messages
 * it lists. A forged file skips at most as many numbers as it lists (a file holds a few thousand at most), never to
 * 2^31; a real one keeps a new message from a number a recipient took without vouching for it yet (a broadcast's
 * second recipient, a receipt not yet published), which it would drop.
 */
export function unverifiedFloor(file: ShownChannel, vouched: number): number {
  return Math.max(vouched + 1, Math.min(file.next, vouched + 1 + file.listed));
}

/** How many numbers above what its recipients vouch for one recipient's word alone may make a sender skip (lostChannelFloor). */
export const UNVOUCHED_SKIP = 10_000;

/**
 * Where a sender whose own record of channel `from`→`to` is gone, and whose file of it on the hub it cannot verify
 * (`shown`: that file, and the newest version it signed with the key it was reclaimed by), numbers from: above what its
 * recipients vouch for (vouchedMark), above each version as far as it can show (unverifiedFloor), and above what any
 * one recipient says it received, up to UNVOUCHED_SKIP numbers above the vouched mark. That last keeps a broadcast
 * taken by one machine that a second has not vouched for yet from being numbered again (the first would drop the new
 * one) when a pusher lowered, deleted or rolled back the file, or changed the key it is read by; a turned recipient's
 * claim near 2^31 skips 10,000 numbers, never the channel's last.
 */
export function lostChannelFloor(receiptsOf: Map<string, Receipts | undefined>, from: string, to: string, shown: readonly ShownChannel[]): number {
  const vouched = vouchedMark(receiptsOf, from, to);
  const claimed = Math.min(receivedMark(receiptsOf, from, to), vouched + UNVOUCHED_SKIP);
  return Math.max(1 + vouched, 1 + claimed, ...shown.map((f) => unverifiedFloor(f, vouched)));
}

/** What a version of a sender's channel file shows of its numbers: its `next` and how many messages it lists. */
export interface ShownChannel {
  next: number;
  listed: number;
}

/**
 * Receipts for a machine that registers now: it receives the last `keep`
 * broadcasts of each existing broadcast channel, not the whole past.
 */
export function joiningReceipts(files: MessageFile[], machine: string, keep: number): Receipts {
  const receipts: Receipts = {};
  for (const f of files)
    if (f.to === BROADCAST && f.from !== machine) {
      const mark = Math.max(0, f.next - 1 - keep);
      if (mark > 0) receipts[channelKey(f.from, f.to)] = { received: mark, acked: mark };
    }
  return receipts;
}

/**
 * The live messages a sender keeps: it archives a message once every
 * recipient acknowledged it and it is older than `retentionMs`. For a
 * broadcast, the recipients are all registered machines but the sender.
 */
export function liveMessages(file: MessageFile, receiptsOf: (machine: string) => Receipts | undefined, machines: string[], now: Date, retentionMs: number): Message[] {
  const allAcked = ackedByAll(file, receiptsOf, machines);
  return file.messages.filter((m) => !(allAcked(m) && now.getTime() - Date.parse(m.at) >= retentionMs));
}

/**
 * When liveMessages' answer next changes after `now` (ms): the first message acknowledged by every recipient
 * grows older than the retention (in whole ms, as the rule compares); undefined when none will by the clock
 * alone (the others wait for receipts, which come with a new tip). Its deadline.
 */
export function liveMessagesUntil(
  file: MessageFile,
  receiptsOf: (machine: string) => Receipts | undefined,
  machines: string[],
  now: Date,
  retentionMs: number,
): number | undefined {
  const allAcked = ackedByAll(file, receiptsOf, machines);
  let first: number | undefined;
  for (const m of file.messages) {
    const old = Date.parse(m.at) + Math.ceil(retentionMs);
    if (old > now.getTime() && (first === undefined || old < first) && allAcked(m)) first = old;
  }
  return first;
}

/** Whether every recipient of `file` acknowledged a message; for a broadcast, every registered machine but the sender. */
function ackedByAll(file: MessageFile, receiptsOf: (machine: string) => Receipts | undefined, machines: string[]): (m: Message) => boolean {
  const recipients = file.to === BROADCAST ? machines.filter((m) => m !== file.from) : [file.to];
  const key = channelKey(file.from, file.to);
  return (m) => recipients.length > 0 && recipients.every((r) => isAcked(own(receiptsOf(r), key), m.seq));
}

/** Unacknowledged live messages addressed to `machine`, from the files at one commit. */
export function unackedFor(files: MessageFile[], machine: string, receipts: Receipts): InboxMessage[] {
  const out: InboxMessage[] = [];
  for (const f of files) {
    if (!addressedTo(f, machine)) continue;
    const r = own(receipts, channelKey(f.from, f.to));
    for (const m of f.messages) if (!isAcked(r, m.seq)) out.push({ ...m, id: messageId(f.from, f.to, m.seq), from: f.from, to: f.to });
  }
  return out;
}

/** Unread messages as a block an AI agent can read in its context; "" when there are none. */
export function promptBlock(machine: string, messages: InboxMessage[]): string {
  if (messages.length === 0) return "";
  const lines = [`<coord-messages machine="${machine}" unread="${messages.length}">`];
  for (const m of messages) {
    lines.push(
      shownLine(`--- message ${m.id} from ${m.from}${m.to === BROADCAST ? " to ALL" : ""} at ${m.at}, priority ${m.priority}${m.replyTo ? `, reply to ${m.replyTo}` : ""}`),
    );
    // Indented at every line break, so no text can close the block or pose as another message.
    lines.push(
      m.text
        .split(LINE_BREAKS)
        .map((l) => `  ${sanitizeText(l)}`)
        .join("\n"),
    );
  }
  lines.push("</coord-messages>");
  lines.push(`When you have acted on a message, acknowledge it: coord inbox ack <id>. Reply with: coord send <machine> --reply-to <id> "<text>".`);
  return lines.join("\n");
}
