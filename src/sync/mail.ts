// The messaging part of a sync: deliver what arrived, run the onMessage hook,
// and render the message files this machine owns.
import { join } from "node:path";
import {
  BROADCAST,
  channelOfPath,
  parseMessageFile,
  ackedIn,
  channelKey,
  joiningReceipts,
  liveMessages,
  lostChannelFloor,
  messageId,
  messagePath,
  newMessages,
  speakers,
  strangersTo,
  receivedMark,
  trustedReceipts,
  type InboxMessage,
  type Message,
  type MessageFile,
  type ShownChannel,
  type Receipts,
} from "../core/messages/messages.js";
import { MAX_COUNT, someOf } from "../core/limits.js";
import { deliveryOf, fitChannel, fitNotes, type Fitted } from "../core/messages/fit.js";
import { describeFailure } from "../failure.js";
import { ownerOf } from "../core/trust/ownership.js";
import type { MachineFiles, RepoModel } from "../core/repo/repo.js";
import { own } from "../core/types.js";
import { runTask } from "../runner/run.js";
import { ackInData, knownFleetPath, readMailbox, updateMailbox, writeKnownFleet, type MailboxData } from "../state/mailbox.js";
import { computerPath } from "../core/files/names.js";
import { selfSignerPath } from "../state/trust.js";
import type { Machine } from "./machine.js";
import type { Cycle } from "./cycle.js";

/**
 * Takes into the mailbox every live message addressed to this machine above
 * its received marks (exactly once: the marks move in the same durable
 * write). Also adopts, after a reinstall, the channels and receipts this
 * machine had published. Returns what it delivered, and the names of the
 * senders it did not deliver from because no registered machine has them.
 */
export async function deliver(
  m: Machine,
  model: RepoModel,
  adoptReceipts = true,
  files?: ReadonlyMap<string, string>,
  publishedAt?: PublishedAt,
): Promise<{ fresh: InboxMessage[]; strangers: string[]; renumbered: string[] }> {
  const me = m.config.name;
  // Only machines speak: a channel "from" a name no machine has is not delivered (receive says so in the log).
  const strangers = new Set(strangersTo(model.messageFiles, me, speakers(model.machineNames, model.keys)));
  let renumbered: string[] = [];
  const fresh = await updateMailbox(
    m.stateDir,
    async (data) => {
      const unverified = data.joined ? [] : [...(files ? unverifiedOwn(files, model, me) : []), ...signedFloors(data)];
      renumbered = await adoptPublished(data, model, me, unverified, publishedAt);
      delete data.signedFloors; // taken (a mailbox that joined numbers from its own record from here on)
      // A mailbox set aside is rebuilt here, from what the hub has: nothing more to say of it (coord inbox, doctor).
      delete data.setAside;
      // Receipts this machine published but no longer has (its mailbox was lost): what it acknowledged
      // stays acknowledged; what it had received but not acknowledged is delivered again, not lost.
      // Only receipts for channels to this machine, up to what their senders sent (a forged one skips nothing).
      const published = adoptReceipts ? publishedReceipts(model, me) : {};
      if (!data.joined) {
        // Only a machine not registered yet joins (the last few past broadcasts); one that lost its mailbox keeps its place.
        const joining = model.computers.has(me) ? {} : joiningReceipts(model.messageFiles, me, m.config.pastBroadcasts);
        data.receipts = { ...joining, ...published, ...data.receipts };
        data.joined = true;
      } else for (const [k, r] of Object.entries(published)) if (!Object.hasOwn(data.receipts, k)) data.receipts[k] = r;
      const fresh = newMessages(
        model.messageFiles.filter((f) => !strangers.has(f)),
        me,
        data.receipts,
      );
      const seen = new Set(data.inbox.map((x) => x.id));
      for (const msg of fresh) {
        if (!seen.has(msg.id)) data.inbox.push(msg);
        const key = channelKey(msg.from, msg.to);
        const r = own(data.receipts, key) ?? { received: 0, acked: 0 };
        data.receipts[key] = { ...r, received: Math.max(r.received, msg.seq) };
      }
      // On call: each new message owes the on-call engine a look, in the same durable write that delivers it.
      if (m.config.onCall !== undefined && fresh.length) data.turnPending = [...(data.turnPending ?? []), ...fresh.map((x) => x.id)].slice(-TURN_PENDING_KEPT);
      return fresh;
    },
    me,
  );
  // The fleet as this sync verified it, for a send or an answer to check names against (this machine registers now if
  // new). Not written: said, and the sync goes on (sends are refused a name the last file written lacks).
  const kept = await writeKnownFleet(m.stateDir, [...model.machineNames, me]).then(
    () => [],
    (e: unknown) => [
      `the fleet a send checks names against could not be written (${describeFailure(e).message}); until it can, a send to a name not in the last one written is refused, and where none can be read every send is: move aside what is at ${knownFleetPath(m.stateDir)}`,
    ],
  );
  return { fresh, strangers: [...new Set([...strangers].map((f) => f.from))], renumbered: [...renumbered, ...kept] };
}

/**
 * The channels this machine owns as the repository has them, merged into its
 * outbox: after the mailbox was lost (and even if a send came first), no live
 * message it published is dropped, no sequence number is used twice, and a
 * file of its own that someone broke is rewritten. Where its file is broken,
 * or gone while its mailbox was lost too (a reinstall), it numbers above what
 * its recipients received: the only word left of what it sent; above its own
 * file on the hub too, as far as that file can show, where it cannot verify
 * it (`unverified`: a reclaim without its key).
 */
export async function adoptPublished(data: MailboxData, model: MachineFiles, me: string, unverified: readonly Shown[] = [], publishedAt?: PublishedAt): Promise<string[]> {
  /** Above every seq a recipient says it received: never reused. */
  const receipts = new Map([...model.computers].map(([name, c]) => [name, c.messages] as const));
  const afterReceipts = (to: string) => 1 + receivedMark(receipts, me, to);
  const read = new Set<string>();
  const notes: string[] = [];
  for (const f of model.messageFiles) {
    if (f.from !== me) continue;
    read.add(f.to);
    if (!own(data.outbox, f.to)) data.outbox[f.to] = { next: f.next, messages: [], seen: f.next };
    const channel = data.outbox[f.to]!;
    notes.push(...(await renumberClashes(channel, f, me, publishedAt)));
    channel.seen = Math.max(channel.seen ?? 0, f.next);
    const have = new Set(channel.messages.map((x) => x.seq));
    const missing = f.messages.filter((x) => !have.has(x.seq) && x.seq < channel.next);
    if (missing.length) channel.messages = [...channel.messages, ...missing].sort((a, b) => a.seq - b.seq);
    // Its readable file says what it sent: a receipt above `next − 1` is a turned recipient's (for ALL, any machine's),
    // never a number to skip to (one near 2^31 would leave the channel none to send). Receipts count only below.
    channel.next = Math.max(channel.next, f.next);
  }
  for (const p of model.fileProblems) {
    // A broken message file of its own: rewritten from the outbox, never reusing a seq.
    const ch = ownerOf(p.file);
    if (ch.kind !== "messages" || ch.machine !== me) continue;
    read.add(ch.to);
    if (!own(data.outbox, ch.to)) data.outbox[ch.to] = { next: 1, messages: [] };
    const channel = data.outbox[ch.to]!;
    channel.next = Math.max(channel.next, afterReceipts(ch.to));
  }
  if (data.joined) return notes;
  // A mailbox lost, and a channel of its own with no file on the hub it can verify (deleted, or a reclaim without its
  // key, and its record of what it signed lost too: a reinstall): above what its recipients vouch for, and what any
  // one of them says within a bound (lostChannelFloor): a channel never used has no file either, and a turned
  // machine's claim on it must not leave it no number to send. A file of its own it cannot verify (the hub's, and
  // the newest version signed with the key the reclaim read by) raises that as far as each can show; their messages
  // are not taken: nothing tells them from a pusher's.
  for (const to of [...receipts.keys(), BROADCAST]) {
    if (to === me || read.has(to)) continue;
    const after = lostChannelFloor(
      receipts,
      me,
      to,
      unverified.filter((f) => f.to === to),
    );
    if (after === 1) continue;
    if (!own(data.outbox, to)) data.outbox[to] = { next: 1, messages: [] };
    data.outbox[to]!.next = Math.max(data.outbox[to]!.next, after);
  }
  return notes;
}

/** A channel of this machine's own, as a file it cannot verify shows its numbers. */
type Shown = ShownChannel & { to: string };

/** This machine's own message files as the tip has them that the verified model lacks (a reclaim without its key); a broken one is skipped. */
function unverifiedOwn(files: ReadonlyMap<string, string>, model: MachineFiles, me: string): Shown[] {
  const verified = new Set(model.messageFiles.filter((f) => f.from === me).map((f) => f.to));
  const found: Shown[] = [];
  for (const [path, text] of files) {
    const channel = channelOfPath(path);
    if (channel?.from !== me || verified.has(channel.to)) continue;
    try {
      const file = parseMessageFile(text, path);
      found.push({ to: file.to, next: file.next, listed: file.messages.length });
    } catch {
      // Broken: it shows nothing to number above.
    }
  }
  return found;
}

/** What a reclaim without the key found its channels' files last signed with (MailboxData.signedFloors). */
function signedFloors(data: MailboxData): Shown[] {
  return Object.entries(data.signedFloors ?? {}).map(([to, f]) => ({ to, next: f.next, listed: f.listed }));
}

/** When this machine last changed its file of channel `to` on the hub, in ms (second precision); undefined: unknown. */
type PublishedAt = (to: string) => Promise<number | undefined>;

/** PublishedAt from the history at `tip`: the newest commit that changed the channel's file (a failure: unknown). */
export function publishedAtOn(m: Pick<Machine, "hub" | "config">, tip: string | undefined): PublishedAt {
  return async (to) => {
    if (!tip) return undefined;
    const [last] = await m.hub.pathHistory(tip, messagePath(m.config.name, to), 1).catch(() => []);
    return last?.at.getTime();
  };
}

/**
 * Messages of the outbox under a number the hub's file of the channel used for another message: a mailbox put back
 * from an older copy (a snapshot, a backup) numbered a new message from its older count, and its recipients took the
 * published one under that number and would drop this one. Such a message goes out under the next free numbers
 * instead, said in the notes (its first id is gone), and every later one of the channel after it, in the order sent
 * ("deploy" never after the "cancel the deploy" sent after it). Two ways to tell:
 * - the file holds another message under its number (another send time: texts may not come back from the file byte
 *   for byte, terminal codes), and a published message must never go out twice;
 * - the file no longer lists its number (archived: every recipient took one under it) and no file of the channel
 *   this mailbox published or took in numbered past it (`seen`): no publish it knows of carried it. A message the
 *   copy held unpublished, which went out after the copy was made and was archived since, goes out again (the note
 *   says so): twice is better than never, and nothing on the hub can tell the two apart (a date a pusher writes, or
 *   one the machine's clock wrote before it was set back). A mailbox of a coord before `seen` tells by time: stored
 *   after the file last changed on the hub (`publishedAt`).
 *   Outside a copy put back, the outbox never holds a number below the file's `next` that the file does not list:
 *   archiving drops a message from both at once.
 * Never past the last number a file holds: the channel's sends are refused from there (queueMessage).
 */
async function renumberClashes(channel: MailboxData["outbox"][string], f: MessageFile, me: string, publishedAt?: PublishedAt): Promise<string[]> {
  const sentAt = new Map(f.messages.map((x) => [x.seq, x.at]));
  const unlisted = channel.messages.filter((x) => !sentAt.has(x.seq) && x.seq < f.next);
  const { seen } = channel;
  // The file's time has second precision: a message of the same second counts as published with it.
  const changed = seen === undefined && unlisted.length && publishedAt ? await publishedAt(f.to) : undefined;
  const unpublished = (x: Message) => (seen !== undefined ? x.seq >= seen : changed !== undefined && Date.parse(x.at) >= changed + 1000);
  const clashes = channel.messages.filter((x) => (sentAt.has(x.seq) ? sentAt.get(x.seq) !== x.at : unlisted.includes(x) && unpublished(x)));
  if (!clashes.length) return [];
  const first = Math.min(...clashes.map((x) => x.seq));
  // With every later one the hub has not (a later one it has stays: it went out in its place).
  const moved = channel.messages.filter((x) => clashes.includes(x) || (x.seq > first && !sentAt.has(x.seq) && x.seq >= f.next));
  // From the first number a moved one held that the hub had not (this machine's own, unpublished), else past all.
  let next = Math.min(Math.max(channel.next, f.next), ...moved.filter((x) => x.seq >= f.next).map((x) => x.seq));
  if (next + moved.length > MAX_COUNT)
    return [
      `${clashes.length === 1 ? "message" : "messages"} ${clashes.map((x) => messageId(me, f.to, x.seq)).join(", ")} had a number the hub's ${messagePath(me, f.to)} holds for another message, and no number is left above it to move to (its next is ${next}): recipients drop them; see docs/security.md, forged counters and receipts`,
    ];
  const cause = "this machine's mailbox was put back from an older copy, or someone changed that file";
  const notes = moved.map((x) => {
    const from = messageId(me, f.to, x.seq);
    const why = !clashes.includes(x)
      ? "was sent after a message moved so"
      : sentAt.has(x.seq)
        ? `had a number the hub's ${messagePath(me, f.to)} used for another message (${cause})`
        : `had a number the hub's ${messagePath(me, f.to)} used and archived since (${cause}; if the copy held it unpublished, it went out then and its recipients see it twice)`;
    x.seq = next++;
    return `message ${from} (sent ${x.at}) ${why}: it goes out as ${messageId(me, f.to, x.seq)}`;
  });
  channel.messages = [...channel.messages.filter((x) => !moved.includes(x)), ...moved].sort((a, b) => a.seq - b.seq);
  channel.next = next;
  return notes;
}

/** Messages waiting for the on-call engine's look, at most (the newest). */
const TURN_PENDING_KEPT = 1000;

/** The acknowledgements still waited for: those the hub's own file of this machine does not show (`published`), kept in `data`. */
function ackWaitsOn(data: MailboxData, published: Receipts | undefined): string[] {
  const shown = new Set(ackedIn(data.ackWaits ?? [], published));
  const waits = (data.ackWaits ?? []).filter((id) => !shown.has(id));
  if (waits.length) data.ackWaits = waits;
  else delete data.ackWaits;
  return waits;
}

/** Runs the onMessage hook for each message; those it exits 0 for are acknowledged. */
export async function runMessageHooks(m: Machine, messages: InboxMessage[], log: (line: string) => void): Promise<string[]> {
  const hook = m.config.onMessage;
  if (!hook || messages.length === 0) return [];
  const acked: string[] = [];
  for (const msg of messages) {
    const r = await runTask({
      command: hook,
      cwd: m.dir,
      timeout: m.config.onMessageTimeout,
      logFile: join(m.stateDir, "logs", `onMessage.${msg.id.replace(/\//g, "_")}.log`),
      input: JSON.stringify(msg) + "\n",
      env: { ...(process.env as Record<string, string>), COORD_MACHINE: m.config.name, COORD_MESSAGE_ID: msg.id, COORD_MESSAGE_FROM: msg.from },
    });
    const ok = r.exitCode === 0;
    if (ok) acked.push(msg.id);
    else
      log(
        `onMessage hook for ${msg.id} ${r.error ? `could not start: ${r.error}` : r.timedOut ? "timed out" : `exited ${r.exitCode ?? r.signal}`}; the message stays unacknowledged`,
      );
    // Durably, one message at a time: a crash runs the hook again for this one at most.
    await updateMailbox(
      m.stateDir,
      (data) => {
        data.hookPending = (data.hookPending ?? []).filter((id) => id !== msg.id);
        if (ok) ackInData(data, [msg.id]);
      },
      m.config.name,
    );
  }
  return acked;
}

/**
 * The message files this machine owns, as they should be now: archived
 * messages (acknowledged by every recipient, older than the retention) leave
 * the live file and the local outbox.
 */
export async function ownMessageFiles(
  m: Machine,
  model: RepoModel,
  now: Date,
  tip: string,
): Promise<{ files: MessageFile[]; receipts: Receipts; ackWaits: string[]; notes: string[] }> {
  const me = m.config.name;
  return updateMailbox(
    m.stateDir,
    async (data) => {
      const notes = await adoptPublished(data, model, me, [], publishedAtOn(m, tip));
      const files: MessageFile[] = [];
      for (const [to, channel] of Object.entries(data.outbox).sort(([a], [b]) => (a < b ? -1 : 1))) {
        const { file, fit } = fittedChannel(me, to, channel, model, now, m.config.messageRetention * 1000);
        channel.messages = fit.kept;
        channel.seen = Math.max(channel.seen ?? 0, fit.file.next); // what this publish carries, as far as a copy of this mailbox knows
        files.push(fit.file);
        notes.push(...fitNotes(file, fit));
      }
      return { files, receipts: data.receipts, ackWaits: ackWaitsOn(data, model.computers.get(me)?.messages), notes };
    },
    me,
  );
}

/**
 * A channel of this machine's outbox as its next publish writes it: the archived messages left (acknowledged by
 * every recipient, older than the retention), then fitted under what its recipients read (core/messages/fit.ts).
 */
export function fittedChannel(
  me: string,
  to: string,
  channel: MailboxData["outbox"][string],
  model: RepoModel,
  now: Date,
  retentionMs: number,
): { file: MessageFile; fit: Fitted } {
  const receiptsOf = (name: string) => model.computers.get(name)?.messages;
  const file: MessageFile = { coord: 1, from: me, to, next: channel.next, messages: channel.messages };
  const live = { ...file, messages: liveMessages(file, receiptsOf, model.machineNames, now, retentionMs) };
  return { file: live, fit: fitChannel(live, deliveryOf(live, receiptsOf, model.machineNames)) };
}

/** The receipts this machine's file on the hub shows for channels to it, as it would adopt them (acknowledged). */
function publishedReceipts(model: RepoModel, me: string): Receipts {
  return Object.fromEntries(
    Object.entries(trustedReceipts(model.computers.get(me)?.messages, me, model.messageFiles)).map(([k, r]) => [
      k,
      { received: r.acked, acked: r.acked, ...(r.also?.length ? { also: r.also } : {}) },
    ]),
  );
}

/** What receiving messages needs of a cycle: the machine, its log, its report, and the tip it saw last. */
type Receiver = Pick<Cycle, "m" | "log" | "result" | "view" | "onReceived">;

/**
 * Whether the receipts of this machine's own file on the hub may be adopted (deliver): always when it signs nothing;
 * when it signs its commits, only as its own signed commit wrote them. A receipt someone else wrote there (for a
 * channel its mailbox has no receipt of) would mark messages acknowledged that it never received: they would be lost.
 * Asked of git only when there is something to adopt (after a reinstall, or a forgery).
 */
async function mayAdoptReceipts(c: Receiver, model: RepoModel): Promise<boolean> {
  const { config, hub, stateDir } = c.m;
  if (!c.m.signing?.publicKey || !hub.lastChange) return true;
  const data = await readMailbox(stateDir);
  const published = Object.keys(publishedReceipts(model, config.name));
  if (!published.some((k) => !data.joined || !Object.hasOwn(data.receipts, k))) return true;
  const path = computerPath(config.name);
  const change = await hub.lastChange(c.view.tip, path, { allowed: selfSignerPath(stateDir) });
  if (change?.status === "G" && change.signer === config.name) return true;
  // (Also after this machine changed its key, or another machine started a new root: its receipts are then delivered again, never lost.)
  c.result.warnings.push(
    `${path} on the hub shows receipts whose newest change is not signed with this machine's key (commit ${change?.commit.slice(0, 12) ?? "unknown"} by ${change?.author ?? "someone"}): ` +
      "they were not taken (messages they mark acknowledged are delivered instead), and this sync writes the file again",
  );
  return false;
}

/** New messages: into the mailbox, then the onMessage hook. */
export async function receive(c: Receiver, view: { model: RepoModel; files: ReadonlyMap<string, string> }, runHooks: boolean): Promise<void> {
  const { model, files } = view;
  const { fresh, strangers, renumbered } = await deliver(c.m, model, await mayAdoptReceipts(c, model), files, publishedAtOn(c.m, c.view.tip));
  for (const note of renumbered) {
    c.log(note);
    c.result.warnings.push(note);
  }
  if (strangers.length)
    c.log(
      `not delivered: messages from ${someOf(strangers)}, which no registered machine is (no coordination/COMPUTER_<name>.md); remove their files if those machines left the fleet`,
    );
  if (fresh.length) {
    for (const x of fresh) c.result.delivered.push(x.id);
    c.log(`${fresh.length} new message${fresh.length === 1 ? "" : "s"}: ${someOf(fresh.map((x) => x.id))}`);
    c.onReceived?.();
  }
  if (!c.m.config.onMessage) return;
  // Each new message owes a hook run until its run ended: a sync that runs no hooks, or one that
  // stops in the middle of them, leaves the rest to the next one.
  const owed = await updateMailbox(c.m.stateDir, (data) => {
    const ids = new Set([...(data.hookPending ?? []), ...fresh.map((x) => x.id)]);
    const owed = data.inbox.filter((x) => ids.has(x.id));
    data.hookPending = owed.map((x) => x.id);
    return runHooks ? owed : [];
  });
  if (owed.length) c.result.hookAcked.push(...(await runMessageHooks(c.m, owed, c.log)));
}
