// The machine's mailbox: what it sent (the live messages of the channels it
// owns) and what it received, with its receipts. `coord send`, `coord inbox
// ack` and `coord sync` each change it in a short read-modify-write under its
// own lock, so a send is durable at once, even while a long sync runs.
import { join } from "node:path";
import type { InboxMessage, Message, Receipts } from "../core/messages.js";
import { CoordError, EXIT } from "../errors.js";
import { readIfExists, updateLocked, writeDurably } from "./files.js";

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
}

const empty = (): MailboxData => ({ version: 1, outbox: {}, inbox: [], receipts: {} });

export function mailboxPath(stateDir: string): string {
  return join(stateDir, "mailbox.json");
}

export async function readMailbox(stateDir: string): Promise<MailboxData> {
  const path = mailboxPath(stateDir);
  const text = await readIfExists(path);
  if (text === undefined) return empty();
  try {
    const data = JSON.parse(text) as MailboxData;
    if (data.version !== 1) throw new Error(`unknown version ${String(data.version)}`);
    return data;
  } catch (e) {
    throw new CoordError(`the mailbox ${path} cannot be read (${(e as Error).message}); move it aside and run coord sync again: it rebuilds the receipts from this machine's published file and delivers again what was not acknowledged`, EXIT.USAGE);
  }
}

/** Runs `change` on the mailbox under its lock and saves the result durably. */
export async function updateMailbox<T>(stateDir: string, change: (data: MailboxData) => T | Promise<T>): Promise<T> {
  const io = { read: () => readMailbox(stateDir), write: (d: MailboxData) => writeDurably(mailboxPath(stateDir), JSON.stringify(d) + "\n"), what: "mailbox" };
  return updateLocked(stateDir, "mailbox", io, change);
}
