// coord send / inbox / outbox: messages between machines, through the sync loop.
import { readShareAt } from "../sync/view.js";
import { BROADCAST, channelKey, isAcked, type InboxMessage, type Message, messageId, messageJson, parseMessageId, promptBlock, sanitizeText } from "../core/messages/messages.js";
import type { RepoModel } from "../core/repo/repo.js";
import { own, PRIORITIES, type Priority } from "../core/types.js";
import { CoordError, EXIT } from "../errors.js";
import {
  ackedHere,
  MAILBOX_REBUILT,
  type MailboxData,
  type MailboxSetAside,
  mailboxPath,
  knownMachines,
  NoKnownFleet,
  UnknownMachine,
  readMailbox,
  updateMailbox,
  writeKnownFleet,
  ackInData,
  queueMessage,
  waitForAcks,
} from "../state/mailbox.js";
import { ON_CALL_AGENT_ENV, ON_CALL_CHAIN_ENV } from "../sync/on-call.js";
import { arrivedSince, maxWaitSteps, READ_EVERY_MS, seenAtStart, waitStep } from "../core/messages/inbox-wait.js";
import { type Bucket, nextLookAt, type readShareOf, spendReads } from "../core/hub/reads.js";
import { daemonRunning } from "../daemon/daemon.js";
import { requestSync } from "../daemon/request.js";
import { lastFetchedModel, lastKnownMachines } from "../sync/trust.js";
import { type Machine, openMachine, READ_PATHS, type SyncResult, syncMachine } from "../sync/sync.js";
import { publishNow } from "../daemon/publish-now.js";
import { decisionOf } from "../core/oncall/approvals.js";
import { wokenMark } from "../state/listen.js";
import { publishSoon, type Soon } from "../daemon/sync-now.js";

/** Said to a checkout that never fetched, which has no last known fleet. */
const neverSynced = () => new CoordError("this checkout has never synced; run coord sync first", EXIT.FAILURE);

/**
 * The fleet's names as the hub shows them now (fetched, and verified as the last sync verified the rest), kept in
 * known-fleet.json with this machine among them, for a name the last sync did not know: it may have registered since
 * (coord agent on-call --from). Undefined when the hub cannot be reached. A send never looks: it reads what the last
 * sync verified, and a name missing there is refused (run coord sync).
 */
export async function machinesOnHub(m: Machine): Promise<string[] | undefined> {
  if (!(await m.hub.fetch().catch(() => undefined))) return undefined;
  const listed = await lastKnownMachines(m).catch(() => undefined);
  if (!listed) return undefined;
  const machines = [...new Set([...listed, m.config.name])].sort();
  // Names that cannot be kept (a read-only state directory) are looked for again next time.
  await writeKnownFleet(m.stateDir, machines).catch(() => {});
  return machines;
}

/** The repository as of the last fetch (works offline). */
export async function lastKnown(m: Machine): Promise<RepoModel> {
  const known = await lastFetchedModel(m, READ_PATHS);
  if (!known) throw neverSynced();
  return known.model;
}

export interface SendOptions {
  dir: string;
  to: string;
  text: string;
  priority?: string;
  replyTo?: string;
  clock?: () => Date;
  /** The turn it is sent from, as its environment names it (coord's tools for a turn, served outside it); default: this process's. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface Sent {
  id: string;
}

/** Stores a message in the outbox of the checkout at `opts.dir`; publishing it is publishSent's (the next sync's, else). */
export async function send(opts: SendOptions): Promise<Sent> {
  return sendFrom(await openMachine(opts.dir), opts);
}

/**
 * When a message stored goes out: "now" (a sync that starts no task, waited for, failing loudly), "soon" (the default
 * of coord send and the MCP send tool: the daemon is asked, or a sync here; a failure to publish is no failed send,
 * see publishSoon), or "later" (the next sync publishes it: for callers that batch).
 */
export type When = "now" | "soon" | "later";

/** What publishing a message did: with "now", the sync that published it; with "soon", what asking for it did. */
export interface Published {
  published?: SyncResult;
  soon?: Soon;
}

/** Publishes what `m` stored (message `id` among it) as `when` says. */
export async function publishSent(m: Machine, when: When, id: string): Promise<Published> {
  if (when === "soon") return { soon: await publishSoon(m) };
  if (when === "later") return {};
  return { published: await publishNow(m, `sent ${id}`, "it goes out with the next sync") };
}

/**
 * Stores a message in `m`'s outbox, durably, and gives its id: the recipient checked against the fleet as the last
 * sync verified it (one local file: nothing of the hub is read), the message marked as an agent's when one sends it,
 * acknowledging a request it decides. Nothing is published here (publishSent).
 */
export async function sendFrom(m: Machine, opts: Omit<SendOptions, "dir">): Promise<Sent> {
  const me = m.config.name;
  const priority = (opts.priority ?? "normal") as Priority;
  if (!PRIORITIES.includes(priority)) throw new CoordError(`--priority must be one of ${PRIORITIES.join(", ")}, not "${opts.priority}"`, EXIT.USAGE);
  const replyTo = opts.replyTo;
  const r = replyTo === undefined ? undefined : parseMessageId(replyTo);
  if (replyTo !== undefined && !r) throw new CoordError(`--reply-to "${replyTo}" is not a message id; ids look like izzit7/soda-yeti/3 (see coord inbox)`, EXIT.USAGE);
  const text = sanitizeText(opts.text);
  if (text.trim() === "") throw new CoordError("the message is empty; give its text as arguments, or - to read it from stdin", EXIT.USAGE);
  if (opts.to === me) throw new CoordError(`"${me}" is this machine; send to another machine or ALL`, EXIT.USAGE);
  if (opts.to !== BROADCAST) {
    const machines = await knownMachines(m.stateDir).catch(async (e: unknown) => {
      // Found in attack: with a daemon, the file removed or set aside held every send back until its next sync (110 s).
      if (e instanceof NoKnownFleet && (await daemonRunning(m.stateDir))) {
        await requestSync(m.stateDir);
        throw new NoKnownFleet(true);
      }
      throw e;
    });
    if (!machines.includes(opts.to))
      throw new UnknownMachine(
        opts.to,
        machines.filter((n) => n !== me),
      );
  }
  const onCall = agentMarkOf(opts.env ?? process.env);
  const mark = onCall.agent ? onCall : await wokenMark(m.stateDir);
  const decides = decisionOf(text) !== undefined;
  const outgoing = { to: opts.to, text, priority, ...(replyTo ? { replyTo } : {}), ...mark };
  // A reply is checked, and a decision's request acknowledged, in the write that stores it: the mailbox as it is then.
  const reply =
    r &&
    ((data: MailboxData) => {
      const received = data.inbox.find((x) => x.id === replyTo);
      const sent = r.from === me && r.seq < (own(data.outbox, r.to)?.next ?? 1);
      // Thrown inside the change: the mailbox is left as it was.
      if (!received && !sent) throw new CoordError(`--reply-to ${replyTo}: this machine neither received nor sent that message; see coord inbox --all for the ids`, EXIT.USAGE);
      // A decision (/approve, /deny: coord approve) in reply to an agent's request for a permission acknowledges the
      // request: deciding it is reading it, and `inbox --wait --reply-to` of the thread then waits for the answer, not
      // for the request decided (issue 65, finding 8).
      return decides && received?.agent?.request ? [received.id] : [];
    });
  return { id: await queueMessage(m, outgoing, reply, opts.clock) };
}

/**
 * A message sent from inside an on-call turn (its agent's `coord send` or MCP `send`: sync/on-call.ts sets the
 * variables) carries the agent turns behind it, so a loop of agents asking agents ends (core/oncall/on-call.ts).
 * One sent from a session the fleet woke is marked by the session's woken state instead (state/listen.ts wokenMark).
 */
function agentMarkOf(env: Readonly<Record<string, string | undefined>>): { agent?: { cli?: string; chain: number } } {
  const chain = Number(env[ON_CALL_CHAIN_ENV]);
  if (!Number.isInteger(chain) || chain < 1 || chain > 1000) return {};
  const cli = env[ON_CALL_AGENT_ENV];
  return { agent: { ...(cli && cli.length <= 40 ? { cli } : {}), chain } };
}

export interface InboxEntry extends InboxMessage {
  acked: boolean;
}

/** A message of the inbox as JSON for scripts and agents (coord inbox --json, the inbox tool): replyTo null when none, an agent's mark when there is one. */
export function listedMessage(x: InboxEntry) {
  return { ...messageJson(x), acked: x.acked };
}

export interface InboxOptions {
  dir: string;
  unread?: boolean;
  all?: boolean;
  from?: string;
}

/** The inbox as listed; `unreadable`: the mailbox could not be read and was set aside, and no sync rebuilt it yet (what to say). */
export interface InboxListing {
  machine: string;
  messages: InboxEntry[];
  unreadable?: string;
}

/** Messages delivered to this machine, oldest first. Default: the last 50; --all: every one; --unread: not acknowledged. */
export async function inbox(opts: InboxOptions): Promise<InboxListing> {
  return inboxOf(await openMachine(opts.dir), opts);
}

export async function inboxOf(m: Machine, opts: Omit<InboxOptions, "dir">): Promise<InboxListing> {
  const data = await readMailbox(m.stateDir);
  let messages = data.inbox.map((x) => ({ ...x, acked: ackedHere(data, x) }));
  if (opts.from) messages = messages.filter((x) => x.from === opts.from);
  if (opts.unread) messages = messages.filter((x) => !x.acked);
  else if (!opts.all) messages = messages.slice(-50);
  return { machine: m.config.name, messages, ...(data.setAside ? { unreadable: unreadableText(m.stateDir, data.setAside) } : {}) };
}

/** A mailbox set aside and not rebuilt yet, in a sentence: where, why, what the next sync does. */
function unreadableText(stateDir: string, lost: MailboxSetAside): string {
  return `this machine's mailbox ${mailboxPath(stateDir)} could not be read (${lost.problem}) and was set aside as ${lost.aside} at ${lost.at}, so the inbox shows only what came since; ${MAILBOX_REBUILT}; run coord sync to rebuild it now`;
}

export interface WaitInboxOptions {
  /** How long to wait (ms). */
  waitMs: number;
  /** Only a message from this machine ends the wait. */
  from?: string | undefined;
  /** Only a reply to this message id ends the wait. */
  replyTo?: string | undefined;
  /** How often the local mailbox is read (ms; default READ_EVERY_MS). */
  readEveryMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for a new message in `m`'s inbox (not there when the wait began, or with `replyTo` a reply to it not read yet:
 * seenAtStart; matching the filters): those, oldest
 * first, or none at the deadline. Where the checkout's daemon runs, it looks at the hub and receives, and this only
 * reads the mailbox; where none runs, this looks at the hub within this machine's share of the host's reads and, when
 * the hub moved, receives with a sync that starts no task. A hub that does not answer is no move: the wait goes on.
 */
export async function waitInbox(m: Machine, opts: WaitInboxOptions): Promise<{ machine: string; messages: InboxEntry[] }> {
  const me = m.config.name;
  const filter = { from: opts.from, replyTo: opts.replyTo };
  const before = await readMailbox(m.stateDir);
  // Until a sync rebuilds a mailbox set aside, every message it delivers again would look new: no wait on it.
  if (before.setAside) throw new CoordError(`cannot wait: ${unreadableText(m.stateDir, before.setAside)}, then wait again`, EXIT.FAILURE);
  const seen = seenAtStart(before.inbox, (x) => ackedHere(before, x), filter);
  const started = Date.now();
  const deadline = started + Math.max(0, opts.waitMs);
  let look: { share: ReturnType<typeof readShareOf>; at: number; bucket?: Bucket } | undefined;
  if (!(await daemonRunning(m.stateDir))) {
    const model = await lastKnown(m);
    const share = readShareAt(m, me, model, new Date());
    look = { share, at: started }; // a first look at once: the message may be on the hub already
  }
  let owed = false;
  for (let step = 0, steps = maxWaitSteps(opts.waitMs); step < steps; step++) {
    const data = await readMailbox(m.stateDir);
    const fresh = arrivedSince(data.inbox, seen, filter);
    if (fresh.length) return { machine: me, messages: fresh.map((x) => ({ ...x, acked: ackedHere(data, x) })) };
    const next = waitStep(Date.now(), deadline, look?.at, opts.readEveryMs ?? READ_EVERY_MS);
    if (next.kind === "deadline") break;
    if (next.kind === "sleep") {
      await sleep(next.ms);
      continue;
    }
    const l = look!;
    const [remote, tracked] = await Promise.all([m.hub.remoteTip(), m.hub.resolve(m.hub.trackingRef)]).catch(() => [undefined, undefined]);
    // A sync is owed, too, when the last one's publish landed on a tip newer than it read (what that tip brought is
    // where this machine last saw the hub: no look sees it move), or another process held the checkout.
    const due = (remote !== undefined && remote !== tracked) || owed;
    // A look is one read; receiving after a move is one more (the sync's fetch).
    l.bucket = spendReads(l.bucket, Date.now(), l.share, due ? 2 : 1);
    if (due) {
      const r = await syncMachine(m, { run: false }).catch(() => undefined);
      owed = r !== undefined && (r.newerTip === true || r.skipped === true);
    }
    l.at = nextLookAt(l.bucket, Date.now(), l.share, Math.random());
  }
  return { machine: me, messages: [] };
}

export async function ack(dir: string, ids: string[], all: boolean): Promise<string[]> {
  return ackOn(await openMachine(dir), ids, all);
}

/** Acknowledges messages in `m`'s inbox (every unacknowledged one with `all`); an id not there acknowledges nothing. */
export async function ackOn(m: Pick<Machine, "stateDir" | "config">, ids: string[], all: boolean): Promise<string[]> {
  return updateMailbox(
    m.stateDir,
    (data) => {
      const targets = all ? data.inbox.filter((x) => !ackedHere(data, x)).map((x) => x.id) : ids;
      const unknown = ackInData(data, targets);
      if (unknown.length) throw new CoordError(`not in this machine's inbox: ${unknown.join(", ")}; see coord inbox --all for the ids (nothing was acknowledged)`, EXIT.USAGE);
      waitForAcks(data, targets);
      return targets;
    },
    m.config.name,
  );
}

export function inboxPrompt(machine: string, messages: InboxEntry[]): string {
  return promptBlock(
    machine,
    messages.filter((x) => !x.acked),
  );
}

export interface OutboxEntry {
  id: string;
  to: string;
  at: string;
  priority: Priority;
  text: string;
  replyTo?: string;
  /** Its agent's mark when an agent sent it (on call, or a woken session), as it is published. */
  agent?: Message["agent"];
  /** Recipient → "waiting" (not fetched yet) | "received" | "acked", as of the last fetch. */
  recipients: Record<string, "waiting" | "received" | "acked">;
}

/** What this machine sent that is still live, and who received and acknowledged it (as of the last fetch). */
export async function outbox(dir: string): Promise<{ machine: string; messages: OutboxEntry[] }> {
  const m = await openMachine(dir);
  const me = m.config.name;
  return { machine: me, messages: outboxEntries(me, await lastKnown(m), await readMailbox(m.stateDir)) };
}

/** The live sent messages of mailbox `data`, oldest first, each with its recipients' receipts as `model` (the last fetch) shows them. */
export function outboxEntries(me: string, model: RepoModel, data: MailboxData): OutboxEntry[] {
  const out: OutboxEntry[] = [];
  for (const [to, channel] of Object.entries(data.outbox)) {
    const recipients = to === BROADCAST ? model.machineNames.filter((n) => n !== me) : [to];
    const key = channelKey(me, to);
    for (const msg of channel.messages) {
      const state: OutboxEntry["recipients"] = {};
      for (const r of recipients) {
        const receipt = model.computers.get(r)?.messages?.[key];
        state[r] = isAcked(receipt, msg.seq) ? "acked" : msg.seq <= (receipt?.received ?? 0) ? "received" : "waiting";
      }
      out.push({
        id: messageId(me, to, msg.seq),
        to,
        at: msg.at,
        priority: msg.priority,
        text: msg.text,
        ...(msg.replyTo ? { replyTo: msg.replyTo } : {}),
        ...(msg.agent ? { agent: msg.agent } : {}),
        recipients: state,
      });
    }
  }
  const seqOf = (id: string) => parseMessageId(id)!.seq;
  out.sort((a, b) => a.at.localeCompare(b.at) || a.to.localeCompare(b.to) || seqOf(a.id) - seqOf(b.id));
  return out;
}
