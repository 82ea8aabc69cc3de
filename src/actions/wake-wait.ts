// The waiter of an open session: it watches the mailbox the daemon writes, takes the messages that wake the session
// (core/oncall/listen.ts wakeable), marks them read and locks the session (its woken state) before the session hears
// of them. A CLI's hook runs it (coord agent listen-wait, commands/listen.ts) and exits 2 with the text; coord's own
// opener of a Codex session (actions/codex-open.ts) runs it in its process and starts the woken turn itself.
import { type FSWatcher, watch } from "node:fs";
import { stat } from "node:fs/promises";
import type { WakeCli } from "../core/agents/adapter.js";
import { type AgentCli, agentCli, WAKE_AGENTS } from "../core/agents/agents.js";
import { channelKey, type InboxMessage, isAcked, parseMessageId } from "../core/messages/messages.js";
import { afterWake, standDown, threadRoot, WAITER_TIMEOUT_S, type WakeContext, type Waiter, wakeable, wakeText } from "../core/oncall/listen.js";
import { whyNoTurn } from "../core/oncall/on-call.js";
import { own } from "../core/types.js";
import { CoordError, EXIT } from "../errors.js";
import { configPath, loadConfig, type MachineConfig } from "../state/config.js";
import { type ListenState, listenPath, listenSettings, readListen, updateListen, updateWoken } from "../state/listen.js";
import { pidAlive } from "../state/lock.js";
import { mailboxPath, readMailbox, updateMailbox, ackInData } from "../state/mailbox.js";
import { loadOnCall } from "../state/on-call.js";
import { pinsPath, readPins } from "../state/trust.js";
import { replyMap } from "../sync/on-call-take.js";

export type Waker = AgentCli & { wake: WakeCli };

/**
 * How a gate finds the thread of a send's reply_to: through each message's parent (received ones, and this machine's
 * own). Read only for a send: no other tool's call reads the mailbox.
 */
export async function threadRootOf(stateDir: string, send: boolean): Promise<(id: string) => string> {
  const config = send ? await loadConfig(stateDir) : undefined;
  const parents = config ? replyMap(await readMailbox(stateDir), config.name).parent : new Map<string, string>();
  return (id) => threadRoot(id, parents);
}

/** The CLI whose open sessions listen wakes, by name: its adapter says how. */
export function wakerOf(name: string): Waker {
  const cli = agentCli(name);
  if (!cli?.wake) throw new CoordError(`${name}: coord cannot wake an open session of it; give one of ${WAKE_AGENTS.join(", ")}`, EXIT.USAGE);
  return cli as Waker;
}

export interface WakeWaitOptions {
  stateDir: string;
  config: MachineConfig;
  waker: Waker;
  /** The session's id (the CLI's), the key of its waiter and its woken state. */
  sessionId: string;
  /** The session's process: the waiter ends when it does; what is sent from under it is an agent's once woken. */
  session: number;
  /** Where the session works (shown by coord agent listen). */
  cwd?: string;
  /** How often the files are looked at besides their watch (ms). */
  pollMs?: number;
  /** Ends the wait (nothing taken). */
  signal?: AbortSignal;
  /** A hook's waiter, a process of its own: SIGHUP, SIGTERM and SIGINT end the wait. */
  signals?: boolean;
  /** Asked before each take: true holds every message where it is (unread) until a later look. */
  held?: () => Promise<boolean>;
}

/** A wake: the model's text, and the messages it holds (taken, marked read, the session locked). */
export interface Wake {
  text: string;
  got: InboxMessage[];
}

/**
 * Waits as the session's one waiter until messages wake it (a wake), or until the session ends, another waiter
 * replaces this one, nobody may wake it, the week is over or the signal fires (undefined).
 */
export async function waitForWake(o: WakeWaitOptions): Promise<Wake | undefined> {
  const { stateDir, config, waker, sessionId, session } = o;
  const me: Waiter = { pid: process.pid, session, since: new Date().toISOString(), ...(o.cwd !== undefined ? { cwd: o.cwd.slice(0, 500) } : {}) };
  const armed = await updateListen(stateDir, (s) => {
    if (s.from !== "ALL" && s.from.length === 0) return false; // nobody may wake a session
    if (standDown(own(s.waiters, sessionId), process.pid, pidAlive)) return false;
    for (const [id, w] of Object.entries(s.waiters)) if (!pidAlive(w.pid) || !pidAlive(w.session)) delete s.waiters[id];
    s.waiters[sessionId] = me;
    return true;
  });
  if (!armed) return undefined;

  /** Takes the messages that wake this session (under the lock: another session's waiter may take them first), marks them read. */
  const take = async (listenState: ListenState): Promise<{ got: InboxMessage[]; parents: Map<string, string> }> => {
    const mail = await readMailbox(stateDir);
    // Each message's parent (received ones, and this machine's own): a message's thread is found through them.
    const parents = replyMap(mail, config.name).parent;
    const pins = config.trust.verifyMachines ? await readPins(stateDir) : new Map<string, string>();
    const onCall = (await loadOnCall(stateDir)).settings;
    // A message the machine's agent on call answers (a turn, or its refusal): the session would answer it twice.
    const onCallAnswers = (m: InboxMessage) => {
      const no = onCall ? whyNoTurn(m, onCall, { me: config.name, verified: pins.has(m.from) }) : { silent: "not on call" };
      return !(no && "silent" in no);
    };
    const rootOf = (m: InboxMessage) => threadRoot(m.id, parents);
    const context = (wakes: Readonly<Record<string, number>>, taken: ReadonlySet<string>): WakeContext => ({
      isAcked: (m) => {
        const p = parseMessageId(m.id);
        return p !== undefined && isAcked(own(mail.receipts, channelKey(p.from, p.to)), p.seq);
      },
      verified: (m) => pins.has(m.from),
      onCallTakes: onCallAnswers,
      taken,
      agentWakes: (m) => own(wakes, rootOf(m)) ?? 0,
    });
    const settings = listenSettings(listenState);
    if (wakeable(mail.inbox, context(listenState.agentWakes, new Set(listenState.taken)), settings).length === 0) return { got: [], parents };
    const got = await updateListen(stateDir, (s) => {
      if (own(s.waiters, sessionId)?.pid !== process.pid) return []; // replaced meanwhile
      const found = wakeable(mail.inbox, context(s.agentWakes, new Set(s.taken)), listenSettings(s));
      s.taken.push(...found.map((m) => m.id));
      // Agents' answers count toward a thread's limit; a person's message in it starts the count again.
      for (const m of found) s.agentWakes[rootOf(m)] = m.agent?.answer ? (own(s.agentWakes, rootOf(m)) ?? 0) + 1 : 0;
      if (found.length) delete s.waiters[sessionId];
      return found;
    });
    // Read by the session: acknowledged (it rides along with the next publish), and no longer in the prompt hook's file.
    if (got.length)
      await updateMailbox(
        stateDir,
        (d) =>
          void ackInData(
            d,
            got.map((m) => m.id),
          ),
        config.name,
      );
    return { got, parents };
  };

  const ends = Date.now() + (WAITER_TIMEOUT_S - 60) * 1000;
  // What a look reads changes only when one of these files does: a look that finds them as they were reads nothing more.
  const watched = [mailboxPath(stateDir), listenPath(stateDir), pinsPath(stateDir), configPath(stateDir)];
  let seen = "";
  let watcher: FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  try {
    return await new Promise<Wake | undefined>((done, fail) => {
      let busy = false;
      let again = false;
      let stopped = false;
      const look = async () => {
        if (busy) {
          again = true;
          return;
        }
        busy = true;
        try {
          do {
            again = false;
            if (stopped || !pidAlive(session) || Date.now() > ends) return done(undefined);
            const now = await filesNow(watched);
            if (now === seen) continue;
            seen = now;
            const s = await readListen(stateDir);
            if (own(s.waiters, sessionId)?.pid !== process.pid) return done(undefined); // replaced, or listening was turned off
            if (await o.held?.()) {
              seen = ""; // looked at again at the next poll
              continue;
            }
            const { got, parents } = await take(s);
            if (got.length) {
              // Locked before the session hears of it: its first tool call already meets the gate.
              const now = new Date().toISOString();
              await updateWoken(stateDir, sessionId, (w) => afterWake(w, got, (id) => threadRoot(id, parents), now, session, waker.name));
              return done({ text: wakeText(config.name, got, (id) => threadRoot(id, parents), waker.wake.others), got });
            }
          } while (again);
        } catch (e) {
          fail(e);
        } finally {
          busy = false;
          if (stopped) done(undefined); // nothing taken (a wake above resolved first)
        }
      };
      // The daemon writes the mailbox by renaming a new file over it: watch the folder.
      watcher = watch(stateDir, (_event, name) => {
        if (name === null || name === "mailbox.json" || String(name).startsWith("mailbox.json")) void look();
      });
      watcher.on("error", () => {}); // the poll below goes on
      // The session's terminal closing (SIGHUP) or a stop: the waiter ends as its session does, leaving no entry.
      if (o.signals) for (const sig of ["SIGHUP", "SIGTERM", "SIGINT"] as const) process.once(sig, () => done(undefined));
      // A stop while a look takes messages waits for it: what it took (marked read, the session locked) is a wake
      // the caller still delivers (found attacking it: taken and never shown).
      const stop = () => {
        stopped = true;
        if (!busy) done(undefined);
      };
      if (o.signal?.aborted) return done(undefined);
      o.signal?.addEventListener("abort", stop, { once: true });
      poll = setInterval(() => void look(), o.pollMs ?? 1000);
      void look();
    });
  } finally {
    watcher?.close();
    if (poll) clearInterval(poll);
    await updateListen(stateDir, (s) => {
      if (own(s.waiters, sessionId)?.pid === process.pid) delete s.waiters[sessionId];
    }).catch(() => {});
  }
}

/** The files as they are now (each one's size and change time, or its absence), in one string to compare. */
async function filesNow(paths: readonly string[]): Promise<string> {
  const stats = await Promise.all(paths.map((p) => stat(p).catch(() => undefined)));
  return stats.map((s) => (s ? `${s.size}:${s.mtimeMs}:${s.ino}` : "-")).join("|");
}
