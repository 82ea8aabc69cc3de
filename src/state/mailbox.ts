// The machine's mailbox: what it sent (the live messages of the channels it
// owns) and what it received, with its receipts. `coord send`, `coord inbox
// ack` and `coord sync` each change it in a short read-modify-write under its
// own lock, so a send is durable at once, even while a long sync runs.
import { join } from "node:path";
import * as z from "zod";
import { channelKey, type InboxMessage, isAcked, type Message, promptBlock, type Receipts } from "../core/messages/messages.js";
import { MACHINE_NAME } from "../core/files/names.js";
import { ownTable } from "../core/types.js";
import { CoordError, EXIT } from "../errors.js";
import { asidePath, checkState, setAside } from "./corrupt.js";
import { readIfExists, updateLocked, writeDurably } from "./files.js";
import { KNOWN_FLEET_FILE } from "./quiet.js";

// Not z.output of mailboxSchema: that checks only the fields coord relies on (a priority as any text), the type says what coord writes.
export interface MailboxData {
  version: 1;
  /** Recipient (a machine or ALL) → the channel's next seq and its live messages. */
  outbox: Record<string, { next: number; messages: Message[] }>;
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
  outbox: z.record(z.string(), z.looseObject({ next: seq.min(1), messages: z.array(message) })),
  inbox: z.array(message.extend({ id: z.string(), from: z.string(), to: z.string() })),
  receipts: z.record(z.string(), z.looseObject({ received: seq, acked: seq, also: z.array(seq).optional() })),
  joined: z.boolean().optional(),
  hookPending: z.array(z.string()).optional(),
  turnPending: z.array(z.string()).optional(),
  ackWaits: z.array(z.string()).optional(),
  setAside: z.looseObject({ at: z.string(), aside: z.string(), problem: z.string() }).optional(),
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
  return { ...data, outbox: ownTable(data.outbox), receipts: ownTable(data.receipts) };
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

export async function writeInboxPrompt(stateDir: string, machine: string, data: MailboxData): Promise<void> {
  const unread = data.inbox.filter((x) => !ackedHere(data, x));
  const block = promptBlock(machine, unread);
  await writeDurably(inboxPromptPath(stateDir), block ? `${block}\n` : "");
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

/** Keeps the fleet's machines as verified, whole (written only when they changed: most syncs change nothing). */
export async function writeKnownFleet(stateDir: string, machines: readonly string[]): Promise<void> {
  const text = `${JSON.stringify({ version: 1, machines: [...new Set(machines)].sort() })}\n`;
  const path = knownFleetPath(stateDir);
  if ((await readIfExists(path).catch(() => undefined)) !== text) await writeDurably(path, text);
}
