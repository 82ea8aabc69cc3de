// A channel's file must stay readable by its recipients: they read at most
// 2 MiB of it (core/limits.ts), and a file over that delivers nothing, so one
// big message would hold every later one back for good. Pure: how big one
// message may be, and how the sender fits a channel's live messages under the
// limit (archiving early what was delivered, holding back the newest).
import { formatBytes, sizeLimit, utf8Length } from "../limits.js";
import { own } from "../types.js";
import { BROADCAST, channelKey, isAcked, type Message, type MessageFile, messageId, messagePath, type Receipts, renderMessageFile } from "./messages.js";

/** The most bytes a channel's file may have: what its recipients read of it. */
export const CHANNEL_LIMIT = sizeLimit(messagePath("a", "b"));

/**
 * The most bytes (UTF-8) of one message's text. The file holds each message twice (its front matter, its view),
 * escaped, so one of this size always fits a channel alone, with room for others.
 */
export const MESSAGE_LIMIT = 512 * 1024;

/** Why `text` cannot be sent as one message (one sentence, the limit named), or undefined when it can. */
export function messageTooBig(text: string): string | undefined {
  if (utf8Length(text, MESSAGE_LIMIT) <= MESSAGE_LIMIT) return undefined;
  return (
    `the message is ${formatBytes(utf8Length(text))}, more than the ${formatBytes(MESSAGE_LIMIT)} one message may be ` +
    `(a recipient reads at most ${formatBytes(CHANNEL_LIMIT)} of a channel, which holds each message twice); ` +
    "put the text in a file the recipient can reach and send its path"
  );
}

/** What stands in the channel for a message too big for it (one an older coord, or a hand edit, let in). */
export function cutNotice(bytes: number): string {
  return `[coord: this message was ${formatBytes(bytes)}, more than the ${formatBytes(MESSAGE_LIMIT)} one message may be: its text was not sent. Ask its sender for it another way.]`;
}

/** How far a message of a channel got: every recipient acknowledged it, or received it; or not every one received it yet. */
export type Delivery = "acked" | "received" | "open";

/** The delivery of each message of `file` (by seq), from its recipients' receipts (for ALL, every machine but the sender). */
export function deliveryOf(file: MessageFile, receiptsOf: (machine: string) => Receipts | undefined, machines: readonly string[]): (seq: number) => Delivery {
  const recipients = file.to === BROADCAST ? machines.filter((m) => m !== file.from) : [file.to];
  const key = channelKey(file.from, file.to);
  const receipts = recipients.map((r) => own(receiptsOf(r), key));
  return (seq) => {
    if (recipients.length === 0) return "open";
    if (receipts.every((r) => isAcked(r, seq))) return "acked";
    return receipts.every((r) => (r?.received ?? 0) >= seq) ? "received" : "open";
  };
}

export interface Fitted {
  /** The channel's file to publish: at most `limit` bytes. */
  file: MessageFile;
  /** The live messages the sender keeps (its outbox): those of the file and those held back, texts too big cut. */
  kept: Message[];
  /** Messages archived early to make room (acknowledged, then received, by every recipient), oldest first. */
  archived: number[];
  /** Messages whose text was over MESSAGE_LIMIT: a notice stands in for it (cutNotice), with its size. */
  cut: { seq: number; bytes: number }[];
  /** The newest messages, held back from the file (its `next` stops below them): they wait for room in the outbox. */
  held: number[];
}

const bytesOf = (file: MessageFile) => utf8Length(renderMessageFile(file));

/**
 * Whether the file is under `limit` by a bound that renders nothing (most channels: a few small messages): a UTF-16
 * unit of a text (or of a mark's text: a request's whole input) is at most 3 bytes in the view and 6 escaped in the
 * front matter; the rest of a message (its id, time, the marks' names and numbers) under 2 KiB; the frame under 4 KiB.
 */
function surelyUnder(file: MessageFile, limit: number): boolean {
  let bound = 4096;
  for (const m of file.messages) bound += 9 * (m.text.length + (m.replyTo?.length ?? 0) + (m.agent ? JSON.stringify(m.agent).length : 0)) + 2048;
  return bound <= limit;
}

/**
 * The channel's live messages fitted under the limit its recipients read. A text over MESSAGE_LIMIT is cut (a notice
 * in its place, the message kept: its id still arrives, saying what happened). Then, while the file is over the
 * limit: messages every recipient acknowledged are archived, oldest first, then those every recipient received (they
 * are in its mailbox); then the newest are held back (the file's `next` stops below them, so no recipient takes them
 * for archived): they go out as the ones before them leave. Never a file over the limit: later messages always go.
 */
export function fitChannel(file: MessageFile, delivery: (seq: number) => Delivery, limit = CHANNEL_LIMIT): Fitted {
  const cut: Fitted["cut"] = [];
  const messages = file.messages.map((m) => {
    if (messageTooBig(m.text) === undefined) return m;
    const bytes = utf8Length(m.text);
    cut.push({ seq: m.seq, bytes });
    return { ...m, text: cutNotice(bytes) };
  });
  const whole = { ...file, messages };
  if (surelyUnder(whole, limit) || bytesOf(whole) <= limit) return { file: whole, kept: messages, archived: [], cut, held: [] };
  // What each message adds to the file, measured alone: the file of one message is the frame, what only an empty
  // file says (its "no live messages" line, `empty`), and the message. (The verification below corrects the rest.)
  const frame = bytesOf({ ...file, messages: [] });
  const alone = new Map(messages.map((m) => [m.seq, bytesOf({ ...file, messages: [m] })]));
  const [a, b] = messages;
  const empty = a && b ? Math.max(0, frame - (alone.get(a.seq)! + alone.get(b.seq)! - bytesOf({ ...file, messages: [a, b] }))) : 0;
  const base = frame - empty;
  const cost = new Map(messages.map((m) => [m.seq, Math.max(1, alone.get(m.seq)! - base)]));
  let size = base + messages.reduce((n, m) => n + cost.get(m.seq)!, 0);
  const gone = new Set<number>();
  for (const want of ["acked", "received"] as const)
    for (const m of messages) {
      if (size <= limit) break;
      if (gone.has(m.seq) || delivery(m.seq) !== want) continue;
      gone.add(m.seq);
      size -= cost.get(m.seq)!;
    }
  const kept = messages.filter((m) => !gone.has(m.seq));
  // Then the newest wait: as many as it takes, each try measured (bounded: one fewer message each time).
  let shown = kept.length;
  for (let est = size; shown > 0 && est > limit; ) est -= cost.get(kept[--shown]!.seq)!;
  const fileOf = (n: number): MessageFile => ({ ...file, next: n < kept.length ? kept[n]!.seq : file.next, messages: kept.slice(0, n) });
  let fitted = fileOf(shown);
  // Measured: while over, as many more of the newest as the excess takes (bounded: fewer messages each time).
  for (let over = bytesOf(fitted) - limit; over > 0 && shown > 0; over = bytesOf(fitted) - limit) {
    for (let freed = 0; freed < over && shown > 0; ) freed += cost.get(kept[--shown]!.seq)!;
    fitted = fileOf(shown);
  }
  return {
    file: fitted,
    kept,
    archived: messages.filter((m) => gone.has(m.seq)).map((m) => m.seq),
    cut,
    held: kept.slice(shown).map((m) => m.seq),
  };
}

/** What fitting did to a channel, for people: one sentence per thing, empty when it did nothing. */
export function fitNotes(file: MessageFile, fit: Fitted): string[] {
  const id = (seq: number) => messageId(file.from, file.to, seq);
  const notes: string[] = [];
  for (const c of fit.cut)
    notes.push(`message ${id(c.seq)} was ${formatBytes(c.bytes)}, more than the ${formatBytes(MESSAGE_LIMIT)} one message may be: a notice went in its place`);
  if (fit.archived.length)
    notes.push(
      `the channel to ${file.to} was over the ${formatBytes(CHANNEL_LIMIT)} its recipients read: ${fit.archived.length} delivered message${fit.archived.length === 1 ? " was" : "s were"} archived early (${fit.archived.map(id).join(", ")})`,
    );
  return notes;
}
