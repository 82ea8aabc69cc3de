// The machine's mailbox: what it sent (the live messages of the channels it
// owns) and what it received, with its receipts. `coord send`, `coord inbox
// ack` and `coord sync` each change it in a short read-modify-write under its
// own lock, so a send is durable at once, even while a long sync runs.
import { join } from "node:path";
import * as z from "zod";
import {
  ackSeqs,
  channelKey,
  type InboxMessage,
  isAcked,
  type Message,
  messageId,
  parseMessageId,
  promptBlock,
  type Receipts,
  type ShownChannel,
} from "../core/messages/messages.js";
import { messageTooBig } from "../core/messages/fit.js";
import { MAX_COUNT } from "../core/limits.js";
import { redactKeys } from "../core/trust/redact.js";
import { MACHINE_NAME } from "../core/files/names.js";
import { own, ownTable } from "../core/types.js";
import { CoordError, EXIT } from "../errors.js";
import { asidePath, checkState, setAside } from "./corrupt.js";
import { readIfExists, updateLocked, writeDurably } from "./files.js";
import { KNOWN_FLEET_FILE } from "./quiet.js";
import type { MachineConfig } from "./config.js";
import { unpublishable } from "./secrets.js";

// Not z.output of mailboxSchema: that checks only the fields coord relies on (a priority as any text), the type says what coord writes.
export interface MailboxData {
  version: 1;
  /**
   * Recipient (a machine or ALL) → the channel's next seq and its live messages; `seen`: the highest `next` of a
   * file of the channel this mailbox published or took in from the hub (0 for a channel a send opened; none in a
   * mailbox of a coord before it). A message numbered from `seen` on was carried by no publish it knows of
   * (sync/mail.ts renumberClashes).
   */
  outbox: Record<string, { next: number; messages: Message[]; seen?: number }>;
  /** Every message delivered to this machine, oldest first (kept after the sender archives it). */
  inbox: InboxMessage[];
  /** This machine's receipts, as recipient. */
  receipts: Receipts;
  /** Set once the joining receipts (only the last few past broadcasts) were applied. */
  joined?: boolean;
  /** Messages delivered by a sync that ran no hooks (--no-run): the onMessage hook still owes them a run. */
  hookPending?: string[];
  /** Messages delivered while the machine is on call that its on-call engine has not taken yet (sync/on-call.ts). */
  turnPending?: string[];
  /**
   * Messages a person or an agent acknowledged (coord inbox ack, the MCP ack tool) that the hub does not show
   * acknowledged yet: a sender may wait for it, so the publish that carries it goes at once, as a new message does.
   * Not the onMessage hook's acknowledgements: those ride along (a message must not cost its recipient a push).
   */
  ackWaits?: string[];
  /**
   * The mailbox this one replaced could not be read and was set aside (when, where, why): coord inbox and doctor say
   * so until the next sync that fetches rebuilds it from the hub (sync/mail.ts deliver clears it).
   */
  setAside?: MailboxSetAside;
  /**
   * A reclaim without the machine's key (coord init --reclaim): recipient → what the newest version of this machine's
   * channel file signed with the key the reclaim reads by showed of its numbers. The first delivery numbers above
   * them, as far as each can show (unverifiedFloor), then drops them: a pusher who lowers or deletes the file on the
   * hub after that version takes no number back (actions/init.ts signedChannels).
   */
  signedFloors?: Record<string, ShownChannel>;
}

/** A mailbox that could not be read: when it was set aside, where, and what was wrong with it. */
export interface MailboxSetAside {
  at: string;
  aside: string;
  problem: string;
}

/** Tables keyed by machine or channel have no prototype, so no name ("__proto__", "constructor") is special. */
const empty = (): MailboxData => ({ version: 1, outbox: ownTable(), inbox: [], receipts: ownTable() });

const seq = z.number().int().min(0);
const message = z.looseObject({ seq: seq.min(1), at: z.string(), priority: z.string(), text: z.string(), replyTo: z.string().optional() });
/** The fields coord relies on; others are kept as they are. */
const mailboxSchema = z.looseObject({
  version: z.literal(1),
  outbox: z.record(z.string(), z.looseObject({ next: seq.min(1), messages: z.array(message), seen: seq.optional() })),
  inbox: z.array(message.extend({ id: z.string(), from: z.string(), to: z.string() })),
  receipts: z.record(z.string(), z.looseObject({ received: seq, acked: seq, also: z.array(seq).optional() })),
  joined: z.boolean().optional(),
  hookPending: z.array(z.string()).optional(),
  turnPending: z.array(z.string()).optional(),
  ackWaits: z.array(z.string()).optional(),
  setAside: z.looseObject({ at: z.string(), aside: z.string(), problem: z.string() }).optional(),
  signedFloors: z.record(z.string(), z.looseObject({ next: seq.min(1), listed: seq })).optional(),
});

/**
 * The last text that passed the schema: a sync reads the mailbox two or three
 * times, mostly unchanged, and checking thousands of messages is most of
 * reading it. Only a text equal to it skips the check.
 */
let checked: string | undefined;

/** The mailbox in `text`, or what is wrong with it ("version 2" for one of a newer coord). */
export function parseMailbox(text: string): MailboxData | string {
  let raw: unknown;
  if (text === checked) raw = JSON.parse(text);
  else {
    const r = checkState(text, mailboxSchema, { versioned: true });
    if (!r.ok) return r.problem;
    raw = r.raw;
    checked = text;
  }
  // From the raw object's own keys (a schema's record would treat "__proto__" as the prototype).
  const data = raw as unknown as MailboxData;
  return { ...data, outbox: ownTable(data.outbox), receipts: ownTable(data.receipts), ...(data.signedFloors ? { signedFloors: ownTable(data.signedFloors) } : {}) };
}

export function mailboxPath(stateDir: string): string {
  return join(stateDir, "mailbox.json");
}

/** The mailbox, read without its lock; a broken one is set aside under the lock (readLocked). */
export async function readMailbox(stateDir: string): Promise<MailboxData> {
  const read = await readParsed(stateDir);
  if (typeof read !== "string") return read;
  return updateMailbox(stateDir, (data) => data);
}

/** The mailbox, or what is wrong with it; one of a newer coord is refused. */
async function readParsed(stateDir: string): Promise<MailboxData | string> {
  const path = mailboxPath(stateDir);
  const text = await readIfExists(path);
  if (text === undefined) return empty();
  const data = parseMailbox(text);
  if (typeof data === "string" && data.startsWith("version "))
    throw new CoordError(`the mailbox ${path} is of ${data}, written by a newer coord; update coord on this machine`, EXIT.USAGE);
  return data;
}

/** What happens after a mailbox was set aside, in words (the log, a sync's warning, coord inbox, doctor). */
export const MAILBOX_REBUILT =
  "the next sync that reaches the hub (coord sync, or the daemon's) rebuilds it from what this machine published: messages the hub does not show acknowledged are delivered again (the onMessage hook runs for them again), acknowledged ones stay acknowledged and are only in the copy set aside, and messages sent but not published yet are lost (send them again)";

/**
 * The mailbox under its lock: a broken one (a bad hand edit, disk corruption) is kept aside, and a new one, saying
 * so, written at once: coord inbox and doctor say it until the next sync rebuilds it from what was published.
 */
async function readLocked(stateDir: string): Promise<MailboxData> {
  const read = await readParsed(stateDir);
  if (typeof read !== "string") return read;
  const path = mailboxPath(stateDir);
  const now = new Date();
  await setAside(path, read, `a new mailbox starts: ${MAILBOX_REBUILT}`, now);
  const fresh: MailboxData = { ...empty(), setAside: { at: now.toISOString(), aside: asidePath(path, now), problem: read } };
  await writeDurably(path, JSON.stringify(fresh) + "\n");
  return fresh;
}

/**
 * The unread messages as the block an agent hook shows (empty when none),
 * kept beside the mailbox at every change of it: a hook answers with `cat`,
 * in milliseconds, without starting coord (docs/agents.md).
 */
export function inboxPromptPath(stateDir: string): string {
  return join(stateDir, "inbox-prompt.txt");
}

/** Whether this machine acknowledged the message `x` of its inbox. */
export function ackedHere(data: MailboxData, x: { from: string; to: string; seq: number }): boolean {
  return isAcked(data.receipts[channelKey(x.from, x.to)], x.seq);
}

/** The unread messages as a block for an agent's prompt (inbox-prompt.txt), written only when it changed (a reply that acknowledges nothing). */
export async function writeInboxPrompt(stateDir: string, machine: string, data: MailboxData): Promise<void> {
  const unread = data.inbox.filter((x) => !ackedHere(data, x));
  const block = promptBlock(machine, unread);
  const text = block ? `${block}\n` : "";
  const path = inboxPromptPath(stateDir);
  if ((await readIfExists(path).catch(() => undefined)) !== text) await writeDurably(path, text);
}

/** Runs `change` on the mailbox under its lock and saves the result durably (and, given the machine's name, its prompt file). */
export async function updateMailbox<T>(stateDir: string, change: (data: MailboxData) => T | Promise<T>, machine?: string): Promise<T> {
  const io = {
    read: () => readLocked(stateDir),
    path: mailboxPath(stateDir),
    render: (d: MailboxData) => JSON.stringify(d) + "\n",
    what: "mailbox",
    ...(machine ? { saved: (d: MailboxData) => writeInboxPrompt(stateDir, machine, d) } : {}),
  };
  return updateLocked(stateDir, "mailbox", io, change);
}

/**
 * The fleet's machines as the last sync verified them, kept beside the mailbox for a send to read alone
 * (`known-fleet.json`): a send checks its recipient here, with no read of the hub. Written by each sync's delivery,
 * and by a send that looked on the hub for a name missing here.
 */
const knownFleetSchema = z.looseObject({ version: z.literal(1), machines: z.array(z.string().regex(MACHINE_NAME)) });

export function knownFleetPath(stateDir: string): string {
  return join(stateDir, KNOWN_FLEET_FILE);
}

/** The fleet's machines as last verified (this one among them); undefined when no sync wrote them, or they were broken (set aside). */
export async function readKnownFleet(stateDir: string): Promise<string[] | undefined> {
  const path = knownFleetPath(stateDir);
  const text = await readIfExists(path);
  if (text === undefined) return undefined;
  const r = checkState(text, knownFleetSchema, { versioned: true });
  if (r.ok) return r.data.machines;
  if (r.newer) throw new CoordError(`${path} is of version ${r.newer}, written by a newer coord; update coord on this machine`, EXIT.USAGE);
  await setAside(path, r.problem, "the next sync writes it again");
  return undefined;
}

/** Said when no sync of this coord wrote the fleet a send checks names against (it never synced, or only with an older coord). */
export class NoKnownFleet extends CoordError {
  /** `daemonAsked`: this machine's daemon was asked for a sync, which writes the file. */
  constructor(daemonAsked = false) {
    super(
      "this machine has no list of the fleet's machines from a sync to check names against (.git/coord/known-fleet.json: no sync of this coord wrote it yet, or it was removed or set aside); " +
        (daemonAsked ? "its daemon was asked to sync now, which writes it: send again in a few seconds" : "run coord sync, which writes it, then send again"),
      EXIT.FAILURE,
    );
  }
}

/** The machines of the fleet as this machine's last sync verified them (known-fleet.json: one small local read, offline too). */
export async function knownMachines(stateDir: string): Promise<string[]> {
  const known = await readKnownFleet(stateDir);
  if (!known) throw new NoKnownFleet();
  return known;
}

/** A name not in the fleet as checked: a send to it stores nothing. */
export class UnknownMachine extends CoordError {
  constructor(
    readonly machine: string,
    known: readonly string[],
  ) {
    // Quoted as JSON: a name given on the command line with a line break in it is shown as one line.
    super(`no machine ${JSON.stringify(machine)} is registered (known: ${known.join(", ") || "none"}); check the name, or run coord sync to refresh`, EXIT.USAGE);
  }
}

/** Keeps the fleet's machines as verified, whole (written only when they changed: most syncs change nothing). */
export async function writeKnownFleet(stateDir: string, machines: readonly string[]): Promise<void> {
  const text = `${JSON.stringify({ version: 1, machines: [...new Set(machines)].sort() })}\n`;
  const path = knownFleetPath(stateDir);
  if ((await readIfExists(path).catch(() => undefined)) !== text) await writeDurably(path, text);
}

/** A message to store in this machine's outbox. */
export interface Outgoing {
  to: string;
  text: string;
  priority: Message["priority"];
  replyTo?: string;
  agent?: Message["agent"];
  /**
   * Messages of this machine's inbox the message answers, acknowledged in the same durable write that stores it
   * (as coord inbox ack does: published at once); ids not delivered here are left alone.
   */
  acks?: string[];
}

/** A send into a mailbox no sync has delivered to since it was lost (deleted, set aside): nothing is stored until a sync rebuilt it. */
export class MailboxNeedsSync extends CoordError {
  constructor(setAside: boolean) {
    super(
      `this machine's mailbox ${setAside ? "was set aside" : "is new or was lost"}, and a send numbers its message above what this machine published, which only a sync reads from the hub: run coord sync (it rebuilds the mailbox), then send again; nothing was stored`,
      EXIT.FAILURE,
    );
  }
}

/**
 * Stores a message in the outbox of `m` (a machine: its state directory and config) durably and gives its id; the next publish sends it. Nothing of the hub is read.
 * Into a mailbox no sync has delivered to since it was lost (deleted, set aside) it stores nothing and says to sync
 * first: only the hub knows the numbers its channels used, and one used again would be dropped by its recipient.
 * `check` sees the mailbox in the same write: it may refuse the message by throwing (the mailbox is left as it was),
 * or give more messages of the inbox it acknowledges (as `acks`).
 */
export async function queueMessage(
  m: { stateDir: string; config: MachineConfig },
  msg: Outgoing,
  check?: (data: MailboxData) => readonly string[],
  clock?: () => Date,
): Promise<string> {
  const me = m.config.name;
  // Published: the machine's private key never leaves in a message, in any shape (an agent's, a person's).
  const text = redactKeys(msg.text, await unpublishable(m.stateDir, m.config));
  // One its channel could not carry is refused (core/messages/fit.ts), whoever sends it: nothing is stored.
  const big = messageTooBig(text);
  if (big) throw new CoordError(big, EXIT.USAGE);
  return updateMailbox(
    m.stateDir,
    (data) => {
      if (!data.joined) throw new MailboxNeedsSync(data.setAside !== undefined);
      const acks = [...(msg.acks ?? []), ...(check?.(data) ?? [])];
      if (!own(data.outbox, msg.to)) data.outbox[msg.to] = { next: 1, messages: [], seen: 0 };
      const channel = data.outbox[msg.to]!;
      // A number past what a file holds (2^31 - 1) would make the channel's file unreadable to every recipient.
      if (channel.next >= MAX_COUNT)
        throw new CoordError(
          `the channel to ${msg.to} has no number left to send (its next is ${channel.next}): nothing was stored; a receipt far above what this machine sent raised it (a turned machine's, in a fleet where no second one agrees: docs/security.md, forged counters and receipts)`,
          EXIT.FAILURE,
        );
      const seq = channel.next++;
      const at = (clock?.() ?? new Date()).toISOString(); // under the lock: seq order is time order
      channel.messages.push({ seq, at, priority: msg.priority, text, ...(msg.replyTo ? { replyTo: msg.replyTo } : {}), ...(msg.agent ? { agent: msg.agent } : {}) });
      if (acks.length) ackAnswered(data, acks);
      return messageId(me, msg.to, seq);
    },
    // What it acknowledges changes the inbox's prompt file: written again with the mailbox.
    msg.acks?.length || check ? me : undefined,
  );
}

/** Acknowledges the messages of `ids` delivered here and not acknowledged yet, as coord inbox ack does (published at once). */
export function ackAnswered(data: MailboxData, ids: readonly string[]): string[] {
  const open = new Set(data.inbox.filter((x) => !isAcked(own(data.receipts, channelKey(x.from, x.to)), x.seq)).map((x) => x.id));
  const targets = [...new Set(ids)].filter((id) => open.has(id));
  ackInData(data, targets);
  waitForAcks(data, targets);
  return targets;
}

/** Acknowledges messages by id in the mailbox data; returns the ids that were not delivered here. */
export function ackInData(data: MailboxData, ids: string[]): string[] {
  const delivered = new Set(data.inbox.map((x) => x.id));
  const unknown: string[] = [];
  for (const id of ids) {
    const p = parseMessageId(id);
    if (!p || !delivered.has(id)) {
      unknown.push(id);
      continue;
    }
    const key = channelKey(p.from, p.to);
    data.receipts[key] = ackSeqs(own(data.receipts, key) ?? { received: 0, acked: 0 }, [p.seq]);
  }
  return unknown;
}

/** How many acknowledgements a mailbox keeps waiting to be published (ackWaits), at most: the newest. */
const ACK_WAITS_KEPT = 1000;

/** Marks acknowledgements someone made (not the onMessage hook) as waited for until the hub shows them (MailboxData.ackWaits). */
export function waitForAcks(data: MailboxData, ids: string[]): void {
  if (ids.length === 0) return;
  data.ackWaits = [...new Set([...(data.ackWaits ?? []), ...ids])].slice(-ACK_WAITS_KEPT);
}
