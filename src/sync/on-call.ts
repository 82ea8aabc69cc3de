// Agents on call, carried out: the messages a sync delivered are taken from
// the mailbox into their threads (.git/coord/on-call.json), each thread runs
// one turn of the agent CLI at a time (a new session for its first message,
// the session its last turn returned for each later one), and the turn's
// final message goes back into the thread as the agent's answer. The rules
// are core/oncall/on-call.ts; the daemon runs turns beside its syncs, a sync
// without a daemon runs them before it publishes.
import { mkdir, readdir, realpath, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { cwdRefusal } from "../core/oncall/reach.js";
import { CLI_PATH } from "../package.js";
import { agentReader } from "../core/agents/agents.js";
import {
  answerOf,
  type Ask,
  type AgentMark,
  chainOf,
  dayOf,
  DECIDED_BY_TURN_END,
  decidedMark,
  decidedText,
  interruptedAnswer,
  isStop,
  type OnCallSettings,
  sessionOf,
  stepOf,
  threadOf,
  threadSwitch,
  turnInvocation,
  turnPrompt,
  whyNoTurn,
  withinDailyBudget,
} from "../core/oncall/on-call.js";
import { outputTail, redact } from "../core/trust/redact.js";
import { decisionOf, mayDecide } from "../core/oncall/approvals.js";
import { own } from "../core/types.js";
import { carriesMarker, killOrphan, type Marker, runTask, stopProcesses } from "../runner/run.js";
import { agentExecutable } from "../state/capabilities.js";
import { pidAlive } from "../state/lock.js";
import { readMailbox, updateMailbox } from "../state/mailbox.js";
import { loadOnCall, type OnCallState, type PendingAnswer, readOnCallState, type RunningTurn, type ThreadState, updateOnCallState } from "../state/on-call.js";
import { loadConfig } from "../state/config.js";
import { timings } from "../timings.js";
import { randomUUID } from "node:crypto";
import { BROADCAST, parseMessageId } from "../core/messages/messages.js";
import { machineKeySecrets, readPins, signingKeyPath } from "../state/trust.js";
import { describeFailure } from "../failure.js";
import { MAX_ON_CALL_TURNS, type OnCallReport } from "../core/fleet/computer.js";
import type { Machine } from "./machine.js";
import { ackAnswered, queueMessage } from "./mail.js";
import { allowedDir, inheritedEnv } from "./tasks.js";
import { lastFetchedModel } from "./trust.js";
import { READ_PATHS } from "./cycle.js";

/** Set in a turn's environment: the agent turns in a row a message it sends carries (commands/messages.ts reads it). */
export const ON_CALL_CHAIN_ENV = "COORD_ON_CALL_CHAIN";
/** Set in a turn's environment: the CLI running it. */
export const ON_CALL_AGENT_ENV = "COORD_ON_CALL_AGENT";
/** Set in a turn's environment: the turn, so a process orphaned by a crash is recognised (never a reused pid). */
export const ON_CALL_TURN_ENV = "COORD_ON_CALL_TURN";
/** Set in a turn's environment: its thread. */
export const ON_CALL_THREAD_ENV = "COORD_ON_CALL_THREAD";

/** How long after a turn's end could not be recorded or stored (a locked or full disk) the engine tries again. */
const SETTLE_RETRY_MS = 5_000;

/** How often at most a new step of a running turn asks for a publish (a step is never urgent: the push budget decides when). */
const STEP_PUBLISH_MS = 5_000;

export interface OnCallEngine {
  /** Takes the messages delivered since, stops what /stop asks to, and starts the turns now due. */
  pump(): Promise<void>;
  /** Resolves when no turn of this engine runs (each one's answer stored). */
  idle(): Promise<void>;
  /** Turns a crashed coord left running: their processes stopped, each thread told it was interrupted. */
  recover(): Promise<void>;
  /** Stops every turn of this engine (the daemon stopping); each thread is told. */
  close(why: string): Promise<void>;
}

export interface EngineOptions {
  log: (line: string) => void;
  /** Called when something was stored that should be published now (an answer, a step). */
  publish: (why: "answer" | "step") => void;
  now?: () => Date;
}

export const turnMarker = (machine: string, thread: string, startedAt: string) => `${machine}/${thread}/${startedAt}`;
/** The marker every process of a turn carries in its environment. */
const markerOf = (machine: string, thread: string, startedAt: string): Marker => ({ variable: ON_CALL_TURN_ENV, value: turnMarker(machine, thread, startedAt) });

/** Something the engine says in a thread: to whom, replying to which message. */
interface Note {
  to: string;
  replyTo: string;
  text: string;
  /** A note that refuses nothing (a /stop with nothing running): said so in its mark, not "refused". */
  note?: NonNullable<AgentMark["note"]>;
  /** The request a refusal says is over, and what became of it: in its mark, so no view reads the sentence. */
  decided?: AgentMark["decided"];
}

/** A refusal's mark: a note (that refuses nothing) or refused; for a request that is over, what became of it. */
const refusalMark = (r: Note, s: OnCallSettings | undefined): AgentMark => ({
  answer: true,
  ...(s ? { cli: s.agent } : {}),
  ...(r.note ? { note: r.note } : { outcome: "refused" }),
  ...(r.decided ? { decided: r.decided } : {}),
});

/** Requests of turn `turn` of thread `thread` still waiting: denied, by `why` (a late /approve is told the request is over). */
export function endRequests(state: OnCallState, thread: string, turn: string, why: string, at: Date): void {
  for (const r of Object.values(state.requests ?? {})) if (r.thread === thread && r.turn === turn && !r.decision) r.decision = { behavior: "deny", by: why, at: at.toISOString() };
}
const safeName = (id: string) => id.replace(/[^A-Za-z0-9-]/g, "_");

/** The on-call engine of machine `m`: one per process that runs turns (the daemon, or a sync without one). */
export function onCallEngine(m: Machine, opts: EngineOptions): OnCallEngine {
  const { log } = opts;
  const now = opts.now ?? (() => new Date());
  const me = m.config.name;
  /** This engine, in the turns it records: a turn of another engine whose process is gone (or has this pid again) is an orphan. */
  const engineId = randomUUID();
  /** The machine with its config as machine.yaml says now (read at each pump: allowedRoots, trust, timeouts changed meanwhile). */
  let cur: Machine = m;
  /** The machine's private key, redacted from every answer in any shape (read at each pump: a key may change). */
  let keySecrets: string[] = [];
  /** The turns this engine runs: thread → what stops it, and its end. */
  const running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  let lastProblem: string | undefined;
  let pumping: Promise<void> = Promise.resolve();
  /** Set by close: nothing new starts. */
  let closing = false;
  /** Turns that ended but whose end could not be recorded or stored yet (a locked or full disk): tried again at each pump. */
  const unsettled = new Map<string, { startedAt: string; end: Ended }>();
  /** A pump later, to settle what could not be settled (no sync may come for minutes to pump). */
  let retry: NodeJS.Timeout | undefined;
  const retryLater = () => {
    if (retry || closing) return;
    retry = setTimeout(() => {
      retry = undefined;
      void engine.pump();
    }, SETTLE_RETRY_MS);
    retry.unref();
  };

  /** Stores a message of the engine's in the thread (an answer, a refusal, a note), to `to`, replying to `replyTo`; its id, or none when `to` left the fleet. */
  async function answer(to: string, replyTo: string, text: string, mark: AgentMark, acks: string[] = []): Promise<string | undefined> {
    const model = (await lastFetchedModel(cur, READ_PATHS).catch(() => undefined))?.model;
    if (model && !model.machineNames.includes(to)) {
      // Gone from the fleet: nobody to answer, but what it asked is dealt with.
      if (acks.length) await updateMailbox(cur.stateDir, (data) => void ackAnswered(data, acks), me);
      return undefined;
    }
    // The messages answered are acknowledged in the same write that stores the answer (as coord inbox ack does).
    const id = await queueMessage(cur, model, { to, text: clipAnswer(redact(text, keySecrets)), priority: "normal", replyTo, agent: mark, acks });
    opts.publish("answer");
    return id;
  }

  /** Stores a turn's answers that are not in the outbox yet (a crash may have come after some were stored): each once. */
  async function deliver(root: string, answers: PendingAnswer[], asks: readonly Ask[]): Promise<string[]> {
    const outbox = (await readMailbox(cur.stateDir)).outbox;
    const ids: string[] = [];
    for (const a of answers) {
      // Every message of this asker in the turn is answered by it: acknowledged with it.
      const acks = [...new Set([...asks.filter((x) => x.from === a.to).map((x) => x.id), a.replyTo])];
      const stored = (own(outbox, a.to)?.messages ?? []).find((x) => x.replyTo === a.replyTo && x.agent?.answer && x.text === a.text);
      if (stored) {
        // Stored before a crash: its acknowledgements may not be (an older coord stored answers without them).
        await updateMailbox(cur.stateDir, (data) => void ackAnswered(data, acks), me);
        continue;
      }
      const id = await answer(a.to, a.replyTo, a.text, a.mark, acks);
      if (id) ids.push(id);
    }
    if (ids.length) log(`on call: answered in thread ${root}: ${ids.join(", ")}`);
    return ids;
  }

  async function settings(): Promise<OnCallSettings | undefined> {
    const read = await loadOnCall(cur.stateDir);
    if (read.problem !== undefined && read.problem !== lastProblem) log(`on call: ${read.problem}`);
    lastProblem = read.problem;
    return read.settings;
  }

  async function take(s: OnCallSettings | undefined): Promise<{ refusals: Note[]; notes: Note[]; stops: string[] }> {
    const mail = await readMailbox(cur.stateDir);
    const pending = new Set(mail.turnPending ?? []);
    const out = { refusals: [] as Note[], notes: [] as Note[], stops: [] as string[] };
    if (pending.size === 0) return out;
    /** Replies that decided a request: acted on, so acknowledged (a decision is answered by the turn going on). */
    const decided: string[] = [];
    // What each message replies to (only ids that are message ids): received ones, and this machine's own (its answers).
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
    const pins = cur.config.trust.verifyMachines ? await readPins(cur.stateDir) : new Map<string, string>();
    const fresh = mail.inbox.filter((x) => pending.has(x.id));
    await updateOnCallState(cur.stateDir, (state) => {
      const taken = new Set(state.taken);
      // Each message id of a known thread → that thread (answers are archived from the outbox after a day).
      const known = new Map<string, string>();
      for (const [root, t] of Object.entries(state.threads)) for (const id of t.ids ?? []) known.set(id, root);
      for (const msg of fresh) {
        if (taken.has(msg.id)) continue;
        state.taken.push(msg.id);
        taken.add(msg.id);
        if (!s) continue; // not on call (or its setting is broken): delivered as ever
        // A reply to a request for a permission that decides it (approvals from afar): never a turn.
        const request = msg.replyTo ? own(state.requests, msg.replyTo) : undefined;
        const decision = request ? decisionOf(msg.text) : undefined;
        if (request && decision) {
          // From anyone but the asker or a sender on call for: it counts for nothing.
          if (!mayDecide(msg.from, request.asker, s.from, pins.has(msg.from))) continue;
          const over =
            request.decision ?? (state.threads[request.thread]?.running?.startedAt === request.turn ? undefined : { behavior: "deny" as const, by: DECIDED_BY_TURN_END });
          if (over) {
            out.refusals.push({
              to: msg.from,
              replyTo: msg.id,
              text: `Request ${msg.replyTo} is over (${decidedText(over)}): this answer changes nothing.`,
              decided: decidedMark(msg.replyTo!, over, me),
            });
            continue;
          }
          request.decision = {
            behavior: decision.behavior,
            by: msg.from,
            at: now().toISOString(),
            ...(decision.behavior === "deny" && decision.message ? { message: decision.message } : {}),
            ...(decision.behavior === "allow" && decision.always ? { always: decision.always } : {}),
          };
          decided.push(msg.id);
          const thread = state.threads[request.thread];
          if (decision.behavior === "allow" && decision.always && thread) {
            thread.allowed = [...new Set([...(thread.allowed ?? []), decision.always])].slice(-100);
            out.notes.push({ to: msg.from, replyTo: msg.id, text: `${decision.always} is allowed without asking for the rest of this conversation's session.` });
          }
          continue;
        }
        const no = whyNoTurn(msg, s, { me, verified: pins.has(msg.from) });
        if (no && "silent" in no) continue;
        let root = threadOf(
          msg.id,
          (id) => parent.get(id),
          (id) => known.get(id),
        );
        // A machine joins a conversation only where it asked, or by replying to a message to or from it (or to ALL):
        // a reply that names another machine's message (written by hand) starts a conversation of its own.
        const existing = own(state.threads, root);
        if (existing && root !== msg.id && !(existing.askers ?? []).includes(msg.from) && !concerns(msg.replyTo, msg.from)) root = msg.id;
        if (no) {
          out.refusals.push({ to: msg.from, replyTo: msg.id, text: no.answer });
          continue;
        }
        // A decision with no request to decide: it starts nothing (no turn is paid for an /approve), and says so.
        if (decisionOf(msg.text)) {
          const waiting = Object.entries(state.requests ?? {}).find(([, r]) => r.thread === root && !r.decision)?.[0];
          out.refusals.push({
            to: msg.from,
            replyTo: msg.id,
            text: waiting
              ? `This message answers no request: request ${waiting} waits for a decision; reply to it (coord approve ${waiting}, coord deny ${waiting}). Nothing was started.`
              : "Nothing waits for approval here: /approve and /deny answer an agent's request for a permission, in reply to it. Nothing was started.",
          });
          continue;
        }
        const thread: ThreadState = own(state.threads, root) ?? { agent: s.agent, cwd: s.cwd, permissions: s.permissions, queue: [], lastAt: msg.at, ids: [] };
        state.threads[root] = thread;
        thread.ids = [...(thread.ids ?? []), msg.id].slice(-200);
        thread.askers = [...new Set([...(thread.askers ?? []), msg.from])].slice(-50);
        thread.lastAt = msg.at;
        known.set(msg.id, root);
        if (isStop(msg.text)) {
          const dropped = thread.queue.length;
          thread.queue = [];
          if (thread.running) {
            thread.running.stop ??= `/stop from ${msg.from}${dropped ? `; ${dropped} waiting message${dropped === 1 ? "" : "s"} dropped` : ""}`;
            out.stops.push(root);
          } else
            out.refusals.push({
              to: msg.from,
              replyTo: msg.id,
              text: dropped
                ? `Nothing was running; ${dropped} waiting message${dropped === 1 ? " was" : "s were"} dropped.`
                : "Nothing is running in this thread: nothing to stop.",
              note: "nothing-running",
            });
          continue;
        }
        const repliedTo = msg.replyTo && thread.queue.length === 0 && !thread.session && !thread.running ? texts.get(msg.replyTo) : undefined;
        thread.queue.push({
          id: msg.id,
          from: msg.from,
          text: msg.text,
          at: msg.at,
          chain: msg.agent?.chain ?? 0,
          ...(msg.replyTo ? { replyTo: msg.replyTo } : {}),
          ...(repliedTo ? { repliedTo: { id: msg.replyTo!, ...repliedTo } } : {}),
        });
      }
    });
    // Taken: off the mailbox's list (a crash before this takes none twice: `taken` remembers them).
    await updateMailbox(
      cur.stateDir,
      (data) => {
        const left = (data.turnPending ?? []).filter((id) => !pending.has(id));
        if (left.length) data.turnPending = left;
        else delete data.turnPending;
        ackAnswered(data, decided);
      },
      decided.length ? me : undefined,
    );
    return out;
  }

  /** Stops a running turn of this engine; of another process, its process group when it still carries the turn's marker. */
  async function stopTurn(root: string, t: ThreadState): Promise<void> {
    const mine = running.get(root);
    if (mine) return mine.abort.abort();
    const run = t.running;
    if (!run) return;
    // Its group only while its leader is still the turn's (never a reused pid); what carries its marker in any case.
    const marker = markerOf(me, root, run.startedAt);
    const leader = run.pid !== undefined && (await carriesMarker(run.pid, marker.value, marker.variable)) !== false;
    void stopProcesses({ ...(leader ? { pid: run.pid } : {}), marker }, timings.killGraceS);
  }

  async function startDue(s: OnCallSettings): Promise<void> {
    const state = await readOnCallState(cur.stateDir);
    // The turns running now: those of other processes as the state says, and this engine's (some not recorded yet).
    const others = Object.entries(state.threads).filter(([root, t]) => t.running && !running.has(root)).length;
    let free = s.maxParallel - others - running.size;
    const queued = Object.entries(state.threads)
      .filter(([root, t]) => !t.running && t.queue.length > 0 && !running.has(root))
      .sort(([, a], [, b]) => (a.queue[0]!.at < b.queue[0]!.at ? -1 : 1));
    for (const [root, t] of queued) {
      if (free <= 0 || closing) break;
      if (!withinDailyBudget(s, state.spent, now())) {
        await budgetReached(root, t, s);
        continue;
      }
      free--;
      startTurn(root, s);
    }
  }

  async function budgetReached(root: string, t: ThreadState, s: OnCallSettings): Promise<void> {
    const day = dayOf(now());
    if (t.budgetSaid === day) return;
    await updateOnCallState(cur.stateDir, (state) => {
      const th = own(state.threads, root);
      if (th) th.budgetSaid = day;
    });
    const last = t.queue[t.queue.length - 1]!;
    await answer(
      last.from,
      last.id,
      `Waiting: this machine's on-call budget of $${s.dailyBudgetUsd} for today (UTC) is spent. The message is kept and answered tomorrow, or when the budget is raised.`,
      { answer: true, cli: s.agent, note: "budget" },
    );
  }

  function startTurn(root: string, s: OnCallSettings): void {
    const abort = new AbortController();
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((r) => (resolveDone = r));
    running.set(root, { abort, done });
    const startedAt = now().toISOString();
    const ended: { end?: Ended } = {};
    void runTurn(root, s, abort, startedAt, ended)
      .catch((e: unknown) => {
        // Whatever failed, the thread is not left running: its end (the agent's answer when it had one, else the
        // failure) is tried again at each pump until it is recorded and stored.
        const why = describeFailure(e).message;
        log(`on call: the turn of thread ${root} could not end cleanly (${why}); its end is tried again at the next pump`);
        unsettled.set(root, { startedAt, end: ended.end ?? { text: `The turn failed: ${why}.`, mark: { answer: true, outcome: "failed" } } });
        retryLater();
      })
      .finally(() => {
        running.delete(root);
        resolveDone();
        if (!closing) void engine.pump();
      });
  }

  /**
   * Ends turn `startedAt` of thread `root` with `end` (its answer to each asker; the session and cost it returned):
   * the answers are recorded in the turn first, then stored in the outbox, then the turn is cleared. A crash between
   * the steps leaves the turn with its answers, which the next engine stores (each once).
   */
  async function endTurn(root: string, startedAt: string, end: Ended): Promise<void> {
    const answers = await updateOnCallState(cur.stateDir, (state) => {
      const t = own(state.threads, root);
      const run = t?.running;
      if (!t || !run || run.startedAt !== startedAt) return undefined;
      run.answers ??= askersOf(run.asks).map((a) => ({ to: a.from, replyTo: a.id, text: clipAnswer(redact(end.text, keySecrets)), mark: end.mark }));
      if (end.session) t.session = end.session;
      if (end.costUsd) {
        const day = dayOf(now());
        state.spent = { day, usd: (state.spent?.day === day ? state.spent.usd : 0) + end.costUsd };
      }
      endRequests(state, root, startedAt, DECIDED_BY_TURN_END, now());
      return { answers: run.answers, asks: run.asks };
    });
    if (!answers) return;
    const ids = await deliver(root, answers.answers, answers.asks);
    await updateOnCallState(cur.stateDir, (state) => {
      const t = own(state.threads, root);
      if (!t || t.running?.startedAt !== startedAt) return;
      delete t.running;
      t.ids = [...(t.ids ?? []), ...ids].slice(-200);
      t.lastAt = now().toISOString();
    });
  }

  async function runTurn(root: string, s: OnCallSettings, abort: AbortController, startedAt: string, ended: { end?: Ended }): Promise<void> {
    // The queue becomes the running turn, durably, before anything starts: a crash from here on is an interruption.
    // Under the lock, maxParallel holds across processes and pumps.
    const turn = await updateOnCallState(cur.stateDir, (state) => {
      const t = own(state.threads, root);
      if (!t || t.running || t.queue.length === 0) return undefined;
      if (Object.values(state.threads).filter((x) => x.running).length >= s.maxParallel) return undefined;
      // The machine's CLI or permissions changed since the thread's session ran: a new session, with today's setting.
      const switched = threadSwitch(t, s);
      if (switched) {
        t.agent = switched.agent;
        t.cwd = switched.cwd;
        t.permissions = switched.permissions;
        delete t.session;
        delete t.allowed;
      }
      t.permissions ??= s.permissions;
      t.running = { runner: process.pid, engine: engineId, startedAt, asks: t.queue };
      t.queue = [];
      return { thread: { ...t }, asks: t.running.asks, ...(switched?.note ? { note: switched.note } : {}) };
    });
    if (!turn) return;
    const m = cur; // this turn's config, as it was when it started
    const { thread, asks } = turn;
    /** The answer's text, with the note of a new session at its head. */
    const told = (text: string) => (turn.note ? `${turn.note}\n\n${text}` : text);
    if (turn.note) log(`on call: thread ${root} starts a new ${thread.agent} session: the setting on call changed since its last turn`);
    const chain = chainOf(asks);
    const last = asks[asks.length - 1]!;
    const first = asks[0]!;
    const fail = (why: string) => {
      ended.end = { text: told(`The turn could not start: ${why}.`), mark: { answer: true, cli: thread.agent, chain: chain + 1, outcome: "failed" } };
      return endTurn(root, startedAt, ended.end);
    };
    const where = await allowedDir(m, thread.cwd);
    if ("refused" in where) return fail(where.refused);
    // machine.yaml may have been edited by hand: the key stays out of the agent's reach.
    const keyNear = await cwdRefused(m, where.cwd);
    if (keyNear) return fail(`cwd ${keyNear}`);
    const settingsNow = { ...s, agent: thread.agent as OnCallSettings["agent"] };
    const prompt = turnPrompt(me, asks, thread.session ? undefined : first.repliedTo);
    // Claude Code asks what its permissions do not cover through coord's permission prompt tool (approvals from afar).
    const mcpConfig = thread.agent === "claude" ? await writeMcpConfig(m, root, startedAt) : undefined;
    const how = turnInvocation(settingsNow, prompt, thread.session, {
      root: process.getuid?.() === 0,
      executable: agentExecutable(thread.agent),
      ...(mcpConfig ? { mcpConfig } : {}),
    });
    if ("refused" in how) return fail(how.refused);
    const reader = agentReader(thread.agent);
    let step: string | undefined;
    let stepSaved = 0;
    const recordRun = (change: (run: RunningTurn) => void) =>
      updateOnCallState(m.stateDir, (state) => {
        const run = own(state.threads, root)?.running;
        if (run && run.startedAt === startedAt) change(run);
      });
    const saveStep = () => {
      stepSaved = Date.now();
      const at = step;
      void recordRun((run) => {
        if (at) run.step = at;
      })
        .then(() => opts.publish("step"))
        .catch(() => {});
    };
    let stepTimer: NodeJS.Timeout | undefined;
    let session: string | undefined;
    const began = Date.now();
    log(`on call: turn of thread ${root} for ${last.from} starts (${thread.agent}${thread.session ? `, resuming ${thread.session}` : ", a new session"})`);
    const marker = markerOf(me, root, startedAt);
    const r = await runTask({
      argv: how.argv,
      cwd: where.cwd,
      env: {
        // coord's own environment without its COORD_SECRET_ variables, as a task's.
        ...inheritedEnv(),
        ...how.env,
        [ON_CALL_CHAIN_ENV]: String(chain + 1),
        [ON_CALL_AGENT_ENV]: thread.agent,
        [ON_CALL_THREAD_ENV]: root,
      },
      // Every process of the turn carries it: a stop ends those the CLI put in sessions of their own too.
      marker,
      timeout: s.timeout,
      idleTimeout: m.config.agentIdleTimeout,
      logFile: join(m.stateDir, "logs", `on-call.${safeName(root)}.${startedAt.replace(/[:.]/g, "-")}.log`),
      ...(how.input !== undefined ? { input: how.input } : {}),
      signal: abort.signal,
      program: `the agent CLI ${thread.agent}`,
      onStart: (pid) => {
        recordRun((run) => {
          run.pid = pid;
        }).catch((e: unknown) => log(`on call: could not record the turn's pid: ${describeFailure(e).message}`));
      },
      onLine: (line) => {
        reader?.line(line);
        const named = sessionOf(line);
        if (named !== undefined && named !== session) {
          session = named;
          recordRun((run) => {
            run.session = named;
          }).catch(() => {});
        }
        const next = stepOf(line);
        if (next === undefined || next === step) return;
        step = next;
        clearTimeout(stepTimer);
        const wait = STEP_PUBLISH_MS - (Date.now() - stepSaved);
        if (wait <= 0) saveStep();
        else stepTimer = setTimeout(saveStep, wait);
      },
    });
    clearTimeout(stepTimer);
    if (mcpConfig) await rm(mcpConfig, { force: true }).catch(() => {});
    const said = reader?.result();
    const stopState = own((await readOnCallState(m.stateDir)).threads, root)?.running?.stop;
    // Stopped from another process (coord agent stop): what the turn left out of its group is ended here too.
    if (stopState || r.timedOut || r.idle || r.aborted) await stopProcesses({ marker }, timings.killGraceS);
    // Asked to stop (a /stop, coord agent stop: recorded first), or stopped by this engine (the daemon stopping).
    const stopped = stopState ?? (r.aborted ? abortReason(abort) : undefined);
    const a = answerOf(
      {
        ...(said ? { said } : {}),
        exitCode: r.exitCode,
        ...(stopped ? { stopped, cause: stopState || typeof abort.signal.reason !== "string" ? ("stop" as const) : ("shutdown" as const) } : {}),
        ...(r.timedOut ? { timedOut: true } : {}),
        ...(r.idle ? { stopped: `it wrote nothing for ${m.config.agentIdleTimeout} s`, cause: "idle" as const } : {}),
        ...(r.error ? { error: r.error } : {}),
        timeout: s.timeout,
        durationMs: Date.now() - began,
        tail: outputTail(r.tail, 5),
        ...(step ? { step } : {}),
      },
      thread.agent,
      chain,
    );
    log(`on call: turn of thread ${root} ended (${a.mark.outcome ?? "answered"})`);
    const back = said?.session ?? session;
    ended.end = { ...a, text: told(a.text), ...(back ? { session: back } : {}), ...(said?.costUsd ? { costUsd: said.costUsd } : {}) };
    await endTurn(root, startedAt, ended.end);
  }

  /**
   * Ends the turns no process runs any more: those of this engine whose end could not be recorded before (their
   * answer when they had one), and orphans of an engine whose process is gone or has this pid again (a restart in a
   * container): killed if still running, their answers stored when they had ended, else told interrupted.
   */
  async function settle(): Promise<void> {
    for (const [root, u] of [...unsettled]) {
      try {
        await endTurn(root, u.startedAt, u.end);
        unsettled.delete(root);
      } catch (e) {
        log(`on call: the end of thread ${root}'s turn is still not recorded (${describeFailure(e).message}); tried again at the next pump`);
        retryLater();
      }
    }
    const state = await readOnCallState(cur.stateDir);
    const orphan = (root: string, run: RunningTurn) => (run.engine === engineId ? !running.has(root) && !unsettled.has(root) : run.runner === process.pid || !pidAlive(run.runner));
    for (const [root, t] of Object.entries(state.threads)) {
      const run = t.running;
      if (!run || !orphan(root, run)) continue;
      if (run.pid) await killOrphan(run.pid, turnMarker(me, root, run.startedAt), ON_CALL_TURN_ENV);
      if (run.answers) {
        // It had ended: its answers are stored (those not stored yet), and the turn cleared.
        await endTurn(root, run.startedAt, { text: "", mark: {} });
        continue;
      }
      log(`on call: the turn of thread ${root} was interrupted (its coord process ${run.runner} is gone)`);
      const a = interruptedAnswer(t.agent, chainOf(run.asks), run.step);
      // The session stays: "go on" continues it.
      await endTurn(root, run.startedAt, { ...a, ...(run.session ? { session: run.session } : {}) });
    }
  }

  /** The --mcp-config files no running turn uses any more (a turn killed -9 with its coord process leaves its own). */
  async function removeStaleMcpConfigs(): Promise<void> {
    const dir = join(cur.stateDir, "on-call");
    const names = await readdir(dir).catch(() => [] as string[]);
    if (!names.some((n) => n.endsWith(".mcp.json"))) return;
    const state = await readOnCallState(cur.stateDir);
    const live = new Set(Object.entries(state.threads).flatMap(([root, t]) => (t.running ? [mcpConfigName(root, t.running.startedAt)] : [])));
    for (const n of names) if (n.endsWith(".mcp.json") && !live.has(n)) await rm(join(dir, n), { force: true }).catch(() => {});
  }

  const abortReason = (abort: AbortController) => (typeof abort.signal.reason === "string" ? abort.signal.reason : "stopped");

  const engine: OnCallEngine = {
    pump() {
      // One pump at a time: each sees what the one before took.
      const next = pumping.then(async () => {
        if (closing) return;
        const config = await loadConfig(m.stateDir).catch(() => undefined);
        if (config) cur = { ...m, config };
        keySecrets = await machineKeySecrets(cur.stateDir, cur.config);
        await settle();
        const s = await settings();
        const { refusals, notes, stops } = await take(s);
        // A refusal or a note is the message's whole answer: acknowledged with it.
        for (const r of refusals) await answer(r.to, r.replyTo, r.text, refusalMark(r, s), [r.replyTo]);
        for (const r of notes) await answer(r.to, r.replyTo, r.text, { answer: true, ...(s ? { cli: s.agent } : {}) }, [r.replyTo]);
        if (stops.length) {
          const state = await readOnCallState(cur.stateDir);
          for (const root of stops) {
            const t = own(state.threads, root);
            if (t) await stopTurn(root, t);
          }
        }
        if (s && !closing) await startDue(s);
      });
      pumping = next.catch((e: unknown) => log(`on call: ${describeFailure(e).message}`));
      return pumping;
    },
    async idle() {
      // A turn's end pumps again, which may start the next queued turn: idle once a pump leaves nothing running.
      for (;;) {
        await pumping;
        if (running.size === 0) return;
        await Promise.all([...running.values()].map((r) => r.done));
      }
    },
    async recover() {
      keySecrets = await machineKeySecrets(cur.stateDir, cur.config);
      await settle();
      await removeStaleMcpConfigs();
    },
    async close(why) {
      closing = true;
      clearTimeout(retry);
      for (const r of running.values()) r.abort.abort(why);
      while (running.size) await Promise.all([...running.values()].map((r) => r.done));
      await pumping;
    },
  };
  return engine;
}

/** How a turn ended: its answer to each asker, and the session and cost it returned. */
interface Ended {
  text: string;
  mark: AgentMark;
  session?: string;
  costUsd?: number;
}

/** A message to or from machine `who` (or to ALL), by its id: one it may reply to. */
function concerns(id: string | undefined, who: string): boolean {
  const p = id ? parseMessageId(id) : undefined;
  return p !== undefined && (p.from === who || p.to === who || p.to === BROADCAST);
}

/** The askers of a turn, each with its last message (an answer goes to each, in reply to that). */
function askersOf(asks: readonly Ask[]): Ask[] {
  const last = new Map<string, Ask>();
  for (const a of asks) last.set(a.from, a);
  return [...last.values()];
}

/**
 * The --mcp-config file of one Claude Code turn: coord mcp for this checkout, told the turn it serves, so that its
 * permission prompt tool asks the turn's asker (commands/on-call.ts askPermission).
 */
async function writeMcpConfig(m: Machine, root: string, startedAt: string): Promise<string> {
  const dir = join(m.stateDir, "on-call");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, mcpConfigName(root, startedAt));
  const env = { [ON_CALL_THREAD_ENV]: root, [ON_CALL_TURN_ENV]: turnMarker(m.config.name, root, startedAt) };
  const config = { mcpServers: { coord: { type: "stdio", command: process.execPath, args: [CLI_PATH, "mcp", "--dir", m.dir], env } } };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/**
 * Why an agent of machine `m` may not work in `cwd` (core/oncall/reach.ts), with the paths resolved as the agent
 * would meet them (symbolic links followed); undefined when the checkout and the key are out of its reach.
 */
export async function cwdRefused(m: Machine, cwd: string): Promise<string | undefined> {
  const real = (p: string) => realpath(p).catch(() => resolve(p));
  const key = m.config.trust.signingKey ? signingKeyPath(m.stateDir, m.config.trust.signingKey) : undefined;
  const gitDir = await real(dirname(m.stateDir));
  const checkout = basename(gitDir) === ".git" ? dirname(gitDir) : await real(m.dir);
  return cwdRefusal(await real(cwd), { checkout, gitDir, ...(key ? { key: await real(key) } : {}) });
}

/** The --mcp-config file's name of the turn of thread `root` started at `startedAt`. */
const mcpConfigName = (root: string, startedAt: string) => `${safeName(root)}.${startedAt.replace(/[:.]/g, "-")}.mcp.json`;

/** The longest answer a turn sends (a message is text for people: the full output stays in the turn's log). */
const MAX_ANSWER = 8000;
const clipAnswer = (text: string) => (text.length > MAX_ANSWER ? `${text.slice(0, MAX_ANSWER - 60)}\n… (cut: the whole answer is in the turn's log)` : text);

/** What this machine's file says of it on call: its CLI, for whom, the turns running with their latest steps, today's spend. */
export async function publishedOnCall(m: Machine, now: Date): Promise<OnCallReport | undefined> {
  // Without verified signatures no message starts a turn: the machine is not on call, whatever the setting says.
  if (m.config.onCall === undefined || !m.config.trust.verifyMachines) return undefined;
  const read = await loadOnCall(m.stateDir);
  if (!read.settings) return undefined;
  const state = await readOnCallState(m.stateDir);
  const turns = Object.entries(state.threads)
    // A turn whose coord process is gone (a daemon killed -9) runs no more: the next engine says it was interrupted.
    .filter(([, t]) => t.running && pidAlive(t.running.runner))
    .map(([thread, t]) => {
      const r = t.running!;
      return { thread, asker: r.asks[r.asks.length - 1]?.from ?? "?", since: r.startedAt, ...(r.step ? { step: r.step } : {}) };
    })
    .sort((a, b) => (a.since < b.since ? -1 : 1))
    .slice(0, MAX_ON_CALL_TURNS);
  const s = read.settings;
  if (turns.some((t) => t.step)) {
    const secrets = await machineKeySecrets(m.stateDir, m.config);
    for (const t of turns) if (t.step) t.step = redact(t.step, secrets);
  }
  // Requests waiting for a person (alerts where people look), of turns still running.
  const live = new Set(turns.map((t) => `${t.thread}\n${t.since}`));
  const waiting = Object.entries(state.requests ?? {})
    .filter(([, r]) => !r.decision && live.has(`${r.thread}\n${r.turn}`))
    .map(([request, r]) => ({ request, tool: r.tool, asker: r.asker, since: r.at }))
    .sort((a, b) => (a.since < b.since ? -1 : 1))
    .slice(0, MAX_ON_CALL_TURNS);
  return {
    agent: s.agent,
    from: s.from,
    permissions: s.permissions,
    ...(turns.length ? { turns } : {}),
    ...(waiting.length ? { waiting } : {}),
    ...(state.spent && state.spent.day === dayOf(now) ? { spent: { day: state.spent.day, usd: Math.round(state.spent.usd * 10_000) / 10_000 } } : {}),
  };
}
