// Agents on call, carried out: the messages a sync delivered are taken from
// the mailbox into their threads (on-call-take.ts), each thread runs one turn
// of the agent CLI at a time (on-call-turn.ts: a new session for its first
// message, the session its last turn returned for each later one), and the
// turn's final message goes back into the thread as the agent's answer. What
// may happen to a thread is the turn's life (core/oncall/turn-life.ts): the
// engine and the commands only apply its events. The daemon runs turns beside
// its syncs, a sync without a daemon runs them before it publishes.
//
// The engine is one context (`Engine`) and a pump of named steps over it
// (`PUMP`), as a sync is (sync.ts STEPS); a turn is claimed, run, ended.
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { type Ask, chainOf, dayOf, interruptedAnswer, type OnCallSettings, threadSwitch, withinDailyBudget } from "../core/oncall/on-call.js";
import type { OnCallState, PendingAnswer, RunningTurn, ThreadState } from "../core/oncall/turn-state.js";
import { type BudgetNote, budgetNotes, turnOrder } from "../core/oncall/turn-order.js";
import { emptyOnCallState, phaseOf, RUNNING_PHASES } from "../core/oncall/turn-life.js";
import { MAX_ON_CALL_TURNS, type OnCallReport } from "../core/fleet/computer.js";
import { redact, redactClipped } from "../core/trust/redact.js";
import { own } from "../core/types.js";
import { describeFailure } from "../failure.js";
import { carriesMarker, killOrphan, runTask, stopProcesses } from "../runner/run.js";
import { keptApart, shieldedRun } from "./sandbox.js";
import { loadConfig } from "../state/config.js";
import { pidAlive } from "../state/lock.js";
import { readKnownFleet, readMailbox, updateMailbox, ackAnswered, MailboxNeedsSync, queueMessage } from "../state/mailbox.js";
import { loadOnCall, readOnCallState, updateOnCallState } from "../state/on-call.js";
import { timings } from "../timings.js";
import type { Machine } from "./machine.js";
import { type Said, takeDelivered, type Taken } from "./on-call-take.js";
import { type ClaimedTurn, type Ended, markerOf, mcpConfigName, ON_CALL_TURN_ENV, type RunProcess, runTurnProcess, turnMarker } from "./on-call-turn.js";
import { unpublishable } from "../state/secrets.js";

export { cwdRefused, markerOf, ON_CALL_AGENT_ENV, ON_CALL_CHAIN_ENV, ON_CALL_THREAD_ENV, ON_CALL_TURN_ENV, turnMarker } from "./on-call-turn.js";

/** How long after a turn's end could not be recorded or stored (a locked or full disk) the engine tries again. */
const SETTLE_RETRY_MS = 5_000;

export interface OnCallEngine {
  /** Takes the messages delivered since, stops what /stop asks to, and starts the turns now due. */
  pump(): Promise<void>;
  /** Resolves when no turn of this engine runs (each one's answer stored). */
  idle(): Promise<void>;
  /** Turns a crashed coord left running: their processes stopped, each thread told it was interrupted. */
  recover(): Promise<void>;
  /** Stops every turn of this engine (the daemon stopping); each thread is told. */
  close(why: string): Promise<void>;
  /** Whether an agent is on call here, as machine.yaml said at the last pump. */
  onCall(): boolean;
}

export interface EngineOptions {
  log: (line: string) => void;
  /** Called when something was stored that should be published now (an answer, a step). */
  publish: (why: "answer" | "step") => void;
  now?: () => Date;
  /** Runs a turn's process (default runner/run.ts runTask; a test on the in-memory fleet runs a scripted CLI). */
  run?: RunProcess;
}

/** One engine: the machine (its config as machine.yaml says at the last pump), the turns it runs, what is left to settle. */
interface Engine {
  readonly m: Machine;
  cur: Machine;
  readonly me: string;
  /** This engine, in the turns it records: a turn of another engine whose process is gone (or has this pid again) is an orphan. */
  readonly id: string;
  /** The machine's private key, and the agent logins its secret store holds: redacted from every answer in any shape (read at each pump: a key may change). */
  keySecrets: string[];
  /** The turns this engine runs: thread → what stops it, and its end. */
  readonly running: Map<string, { abort: AbortController; done: Promise<void> }>;
  /** Turns that ended but whose end could not be recorded or stored yet (a locked or full disk): tried again at each pump. */
  readonly unsettled: Map<string, { startedAt: string; end: Ended }>;
  lastProblem?: string;
  /** Whether the last pump read settings of an agent on call. */
  onCall: boolean;
  /** Set by close: nothing new starts. */
  closing: boolean;
  pumping: Promise<void>;
  /** A pump later, to settle what could not be settled (no sync may come for minutes to pump). */
  retry?: NodeJS.Timeout;
  readonly log: (line: string) => void;
  readonly publish: (why: "answer" | "step") => void;
  readonly now: () => Date;
  readonly run: RunProcess;
  pump(): Promise<void>;
}

/** What a pump's steps made so far. */
interface Pumped {
  settings?: OnCallSettings;
  taken?: Taken;
}

type PumpStep = (e: Engine, p: Pumped) => Promise<Partial<Pumped> | undefined>;

/** A pump: each step in order, on what the ones before made. */
const PUMP: readonly PumpStep[] = [
  async function refresh(e) {
    const config = await loadConfig(e.m.stateDir).catch(() => undefined);
    if (config) e.cur = { ...e.m, config };
    e.keySecrets = await unpublishable(e.cur.stateDir, e.cur.config);
    return undefined;
  },
  async function settleLeftovers(e) {
    await settle(e);
    return undefined;
  },
  async function readSettings(e) {
    const read = await loadOnCall(e.cur.stateDir);
    if (read.problem !== undefined && read.problem !== e.lastProblem) e.log(`on call: ${read.problem}`);
    e.lastProblem = read.problem;
    e.onCall = read.settings !== undefined;
    return { settings: read.settings };
  },
  async function take(e, p) {
    return { taken: await takeDelivered(e.cur, p.settings, e.now()) };
  },
  async function sayAtOnce(e, p) {
    // A refusal or a note is the message's whole answer: acknowledged with it.
    for (const x of p.taken?.said ?? []) await answer(e, x, [x.replyTo]);
    return undefined;
  },
  async function stopAsked(e, p) {
    if (!p.taken?.stops.length) return undefined;
    const state = await readOnCallState(e.cur.stateDir);
    for (const root of p.taken.stops) {
      const t = own(state.threads, root);
      if (t) await stopRunning(e, root, t);
    }
    return undefined;
  },
  async function startDue(e, p) {
    if (p.settings && !e.closing) await startQueued(e, p.settings);
    return undefined;
  },
];

/** The on-call engine of machine `m`: one per process that runs turns (the daemon, or a sync without one). */
export function onCallEngine(m: Machine, opts: EngineOptions): OnCallEngine {
  const e: Engine = {
    m,
    cur: m,
    me: m.config.name,
    id: randomUUID(),
    keySecrets: [],
    running: new Map(),
    unsettled: new Map(),
    onCall: false,
    closing: false,
    pumping: Promise.resolve(),
    log: opts.log,
    publish: opts.publish,
    now: opts.now ?? (() => new Date()),
    run: opts.run ?? runTask,
    pump() {
      // One pump at a time: each sees what the one before took.
      const next = e.pumping.then(async () => {
        // Closing: nothing new is taken. A pump under way goes to its end (what it took is answered); it starts nothing.
        if (e.closing) return;
        let made: Pumped = {};
        for (const step of PUMP) made = { ...made, ...(await step(e, made)) };
      });
      e.pumping = next.catch((err: unknown) => e.log(`on call: ${describeFailure(err).message}`));
      return e.pumping;
    },
  };
  return {
    pump: () => e.pump(),
    onCall: () => e.onCall,
    async idle() {
      // A turn's end pumps again, which may start the next queued turn: idle once a pump leaves nothing running.
      for (;;) {
        await e.pumping;
        if (e.running.size === 0) return;
        await Promise.all([...e.running.values()].map((r) => r.done));
      }
    },
    async recover() {
      e.keySecrets = await unpublishable(e.cur.stateDir, e.cur.config);
      await settle(e);
      await removeStaleMcpConfigs(e);
    },
    async close(why) {
      e.closing = true;
      clearTimeout(e.retry);
      for (const r of e.running.values()) r.abort.abort(why);
      while (e.running.size) await Promise.all([...e.running.values()].map((r) => r.done));
      await e.pumping;
    },
  };
}

function retryLater(e: Engine): void {
  if (e.retry || e.closing) return;
  e.retry = setTimeout(() => {
    e.retry = undefined;
    void e.pump();
  }, SETTLE_RETRY_MS);
  e.retry.unref();
}

/** Stores a message of the engine's in the thread (an answer, a refusal, a note); its id, or none when its recipient left the fleet. */
async function answer(e: Engine, x: Said, acks: string[] = []): Promise<string | undefined> {
  // The fleet's names as the last sync verified them (one local file): all an answer needs of the hub.
  const machines = await readKnownFleet(e.cur.stateDir).catch(() => undefined);
  if (machines && !machines.includes(x.to)) {
    // Gone from the fleet: nobody to answer, but what it asked is dealt with.
    if (acks.length) await updateMailbox(e.cur.stateDir, (data) => void ackAnswered(data, acks), e.me);
    return undefined;
  }
  // The messages answered are acknowledged in the same write that stores the answer (as coord inbox ack does).
  const id = await queueMessage(e.cur, {
    to: x.to,
    text: clipAnswer(redact(x.text, e.keySecrets)),
    priority: "normal",
    replyTo: x.replyTo,
    agent: x.mark,
    acks,
  }).catch((err: unknown) => {
    // A mailbox lost meanwhile: the sync asked for now rebuilds it (a turn's answers are tried again after it; a note is not).
    if (err instanceof MailboxNeedsSync) e.publish("answer");
    throw err;
  });
  e.publish("answer");
  return id;
}

/** Stores a turn's answers that are not in the outbox yet (a crash may have come after some were stored): each once. */
async function deliver(e: Engine, root: string, answers: readonly PendingAnswer[], asks: readonly Ask[]): Promise<string[]> {
  const outbox = (await readMailbox(e.cur.stateDir)).outbox;
  const ids: string[] = [];
  for (const a of answers) {
    // Every message of this asker in the turn is answered by it: acknowledged with it.
    const acks = [...new Set([...asks.filter((x) => x.from === a.to).map((x) => x.id), a.replyTo])];
    const stored = (own(outbox, a.to)?.messages ?? []).find((x) => x.replyTo === a.replyTo && x.agent?.answer && x.text === a.text);
    if (stored) {
      // Stored before a crash: its acknowledgements may not be (an older coord stored answers without them).
      await updateMailbox(e.cur.stateDir, (data) => void ackAnswered(data, acks), e.me);
      continue;
    }
    const id = await answer(e, a, acks);
    if (id) ids.push(id);
  }
  if (ids.length) e.log(`on call: answered in thread ${root}: ${ids.join(", ")}`);
  return ids;
}

/** Stops a running turn of this engine; of another process, its process group when it still carries the turn's marker. */
async function stopRunning(e: Engine, root: string, t: ThreadState): Promise<void> {
  const mine = e.running.get(root);
  if (mine) return mine.abort.abort();
  const run = t.running;
  if (!run) return;
  // Its group only while its leader is still the turn's (never a reused pid); what carries its marker in any case.
  const marker = markerOf(e.me, root, run.startedAt);
  const leader = run.pid !== undefined && (await carriesMarker(run.pid, marker.value, marker.variable)) !== false;
  void stopProcesses({ ...(leader ? { pid: run.pid } : {}), marker }, timings.killGraceS);
}

/**
 * Starts the queued threads' turns as maxParallel allows, shared among askers round robin (core/oncall/turn-order.ts);
 * none while the daily budget is spent (each asker is told once).
 */
async function startQueued(e: Engine, s: OnCallSettings): Promise<void> {
  const state = await readOnCallState(e.cur.stateDir);
  if (!withinDailyBudget(s, state.spent, e.now())) return budgetReached(e, state, s);
  // The turns running now: those of other processes as the state says, and this engine's (some not recorded yet).
  const others = Object.entries(state.threads).filter(([root, t]) => t.running && !e.running.has(root)).length;
  const free = s.maxParallel - others - e.running.size;
  for (const root of turnOrder(state, free, new Set(e.running.keys()))) {
    if (e.closing) break;
    startTurn(e, root, s);
  }
}

/** Each asker with a message waiting is told, once a day (not once a message), that the daily budget is spent. */
async function budgetReached(e: Engine, state: OnCallState, s: OnCallSettings): Promise<void> {
  const day = dayOf(e.now());
  if (budgetNotes(state, day).length === 0) return;
  // Not while the mailbox waits for the sync that rebuilds it (asked for now): a note said but not stored is lost.
  if (!(await readMailbox(e.cur.stateDir)).joined) return void e.publish("answer");
  const notes = await updateOnCallState(e.cur.stateDir, (life) => {
    // Under the lock: another process may have told them since the read.
    const due = budgetNotes(life.state, day);
    for (const [thread, to] of groupBy(due)) life.record({ kind: "budget-said", thread, day, to });
    return due;
  });
  // Held (a damaged on-call.json lost today's spend, core/oncall/salvage.ts): said as it is, not as spent.
  const text =
    state.spent?.held === true
      ? `Waiting: this machine's on-call state was damaged and today's spend could not be read, so its budget of $${s.dailyBudgetUsd} for today (UTC) counts as spent until a person there sets the spend. This message, and any you send until then, is kept and answered tomorrow, or once the spend is set; this is the only note today.`
      : `Waiting: this machine's on-call budget of $${s.dailyBudgetUsd} for today (UTC) is spent. This message, and any you send until then, is kept and answered tomorrow, or when the budget is raised; this is the only note today.`;
  for (const n of notes) await answer(e, { to: n.to, replyTo: n.replyTo, text, mark: { answer: true, cli: s.agent, note: "budget" } });
}

/** The askers told in each thread. */
function groupBy(notes: readonly BudgetNote[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const n of notes) by.set(n.thread, [...(by.get(n.thread) ?? []), n.to]);
  return by;
}

/** A turn of thread `root`, run beside the engine: claimed, its process run, ended; whatever fails, its end is settled. */
function startTurn(e: Engine, root: string, s: OnCallSettings): void {
  const abort = new AbortController();
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  e.running.set(root, { abort, done });
  const startedAt = e.now().toISOString();
  const ended: { end?: Ended } = {};
  const turn = async () => {
    const claimed = await claim(e, root, s, startedAt);
    if (!claimed) return;
    // The machine's file says the turn runs from its start, not from its first step (a turn that thinks before its
    // first tool call was shown as "no turn running"): its start is published as a step is.
    e.publish("step");
    // The real CLI runs behind the machine's shield (sync/sandbox.ts); a scripted one (a test's) as it is.
    const run = e.run === runTask ? shieldedRun(e.cur, (line) => e.log(`on call: ${line}`)) : e.run;
    ended.end = await runTurnProcess(claimed, s, { m: e.cur, log: e.log, publish: e.publish, run, abort });
    await endTurn(e, root, startedAt, ended.end);
  };
  void turn()
    .catch((err: unknown) => {
      // Whatever failed, the thread is not left running: its end (the agent's answer when it had one, else the
      // failure) is tried again at each pump until it is recorded and stored.
      const why = describeFailure(err).message;
      e.log(`on call: the turn of thread ${root} could not end cleanly (${why}); its end is tried again at the next pump`);
      e.unsettled.set(root, { startedAt, end: ended.end ?? { text: `The turn failed: ${why}.`, mark: { answer: true, outcome: "failed" } } });
      retryLater(e);
    })
    .finally(() => {
      e.running.delete(root);
      resolveDone();
      if (!e.closing) void e.pump();
    });
}

/**
 * The thread's queue becomes its running turn, durably, before anything starts: a crash from here on is an
 * interruption. Under the lock, maxParallel holds across processes and pumps. Undefined: nothing to start.
 */
async function claim(e: Engine, root: string, s: OnCallSettings, startedAt: string): Promise<ClaimedTurn | undefined> {
  // Where its session is kept: the agent's own CLI state when it runs apart from the person's (sync/sandbox.ts).
  const apart = e.run === runTask ? await keptApart(e.cur, s.agent) : false;
  const setting = { agent: s.agent, cwd: s.cwd, permissions: s.permissions, apart };
  const claimed = await updateOnCallState(e.cur.stateDir, (life) => {
    const before = own(life.state.threads, root);
    const refused = life.apply({ kind: "start", thread: root, turn: startedAt, runner: process.pid, engine: e.id, setting, maxParallel: s.maxParallel });
    if (refused || !before) return undefined;
    const thread = own(life.state.threads, root)!;
    // The machine's CLI or permissions changed since the thread's session ran: a new session, and the answer says so.
    const note = threadSwitch(before, setting)?.note;
    return { root, startedAt, thread: { ...thread }, asks: thread.running!.asks, ...(note ? { note } : {}) };
  });
  if (claimed?.note) e.log(`on call: thread ${root} starts a new ${claimed.thread.agent} session: the setting on call changed since its last turn`);
  return claimed;
}

/**
 * Ends turn `startedAt` of thread `root` with `end` (its answer to each asker; the session and cost it returned):
 * the answers are recorded in the turn first, then stored in the outbox, then the turn is over. A crash between
 * the steps leaves the turn with its answers, which the next engine stores (each once).
 */
async function endTurn(e: Engine, root: string, startedAt: string, end: Ended | undefined): Promise<void> {
  const at = e.now().toISOString();
  const recorded = await updateOnCallState(e.cur.stateDir, (life) => {
    const run = own(life.state.threads, root)?.running;
    if (!run || run.startedAt !== startedAt) return undefined;
    if (end && !run.answers) {
      const text = clipAnswer(redact(end.text, e.keySecrets));
      const answers = askersOf(run.asks).map((a) => ({ to: a.from, replyTo: a.id, text, mark: end.mark }));
      life.record({
        kind: "end",
        thread: root,
        turn: startedAt,
        answers,
        at,
        ...(end.session ? { session: end.session } : {}),
        ...(end.costUsd ? { costUsd: end.costUsd } : {}),
        ...(end.sessionUsd !== undefined ? { sessionUsd: end.sessionUsd } : {}),
      });
    }
    const now = own(life.state.threads, root)?.running;
    return now?.answers ? { answers: now.answers, asks: now.asks } : undefined;
  });
  if (!recorded) return;
  const ids = await deliver(e, root, recorded.answers, recorded.asks);
  await updateOnCallState(e.cur.stateDir, (life) => life.record({ kind: "delivered", thread: root, turn: startedAt, ids, at: e.now().toISOString() }));
}

/**
 * Ends the turns no process runs any more: those of this engine whose end could not be recorded before (their
 * answer when they had one), and orphans of an engine whose process is gone or has this pid again (a restart in a
 * container): killed if still running, their answers stored when they had ended, else told interrupted.
 */
async function settle(e: Engine): Promise<void> {
  for (const [root, u] of [...e.unsettled]) {
    try {
      await endTurn(e, root, u.startedAt, u.end);
      e.unsettled.delete(root);
    } catch (err) {
      e.log(`on call: the end of thread ${root}'s turn is still not recorded (${describeFailure(err).message}); tried again at the next pump`);
      retryLater(e);
    }
  }
  const state = await readOnCallState(e.cur.stateDir);
  const orphan = (root: string, run: RunningTurn) => (run.engine === e.id ? !e.running.has(root) && !e.unsettled.has(root) : run.runner === process.pid || !pidAlive(run.runner));
  for (const [root, t] of Object.entries(state.threads)) {
    const run = t.running;
    if (!run || !orphan(root, run)) continue;
    await killOrphan(run.pid, turnMarker(e.me, root, run.startedAt), ON_CALL_TURN_ENV); // its pid unrecorded too
    if (run.answers) {
      // It had ended: its answers are stored (those not stored yet), and the turn is over.
      await endTurn(e, root, run.startedAt, undefined);
      continue;
    }
    e.log(`on call: the turn of thread ${root} was interrupted (its coord process ${run.runner} is gone)`);
    // Its last step was cut to its length: a secret across the cut is redacted by its head (redactClipped).
    const a = interruptedAnswer(t.agent, chainOf(run.asks), run.step === undefined ? undefined : redactClipped(run.step, e.keySecrets));
    // The session stays: "go on" continues it.
    await endTurn(e, root, run.startedAt, { ...a, ...(run.session ? { session: run.session } : {}) });
  }
}

/** The --mcp-config files no running turn uses any more (a turn killed -9 with its coord process leaves its own). */
async function removeStaleMcpConfigs(e: Engine): Promise<void> {
  const dir = join(e.cur.stateDir, "on-call");
  const names = await readdir(dir).catch(() => [] as string[]);
  if (!names.some((n) => n.endsWith(".mcp.json"))) return;
  const state = await readOnCallState(e.cur.stateDir);
  const live = new Set(Object.entries(state.threads).flatMap(([root, t]) => (t.running ? [mcpConfigName(root, t.running.startedAt)] : [])));
  for (const n of names) if (n.endsWith(".mcp.json") && !live.has(n)) await rm(join(dir, n), { force: true }).catch(() => {});
}

/** The askers of a turn, each with its last message (an answer goes to each, in reply to that). */
function askersOf(asks: readonly Ask[]): Ask[] {
  const last = new Map<string, Ask>();
  for (const a of asks) last.set(a.from, a);
  return [...last.values()];
}

/** The longest answer a turn sends (a message is text for people: the full output stays in the turn's log). */
const MAX_ANSWER = 8000;
const clipAnswer = (text: string) => (text.length > MAX_ANSWER ? `${text.slice(0, MAX_ANSWER - 60)}\n… (cut: the whole answer is in the turn's log)` : text);

/** What this machine's file says of it on call: its CLI, for whom, the turns running with their latest steps, today's spend. */
export async function publishedOnCall(m: Machine, now: Date): Promise<OnCallReport | undefined> {
  // Without verified signatures no message starts a turn: the machine is not on call, whatever the setting says.
  if (m.config.onCall === undefined || !m.config.trust.verifyMachines) return undefined;
  const read = await loadOnCall(m.stateDir);
  if (!read.settings) return undefined;
  // One of a newer coord is not read (the engine says so in the log): no turn shows as running.
  const state = await readOnCallState(m.stateDir).catch(() => emptyOnCallState());
  const turns = Object.entries(state.threads)
    // Running as the turn's life says (one that ended, its answers not stored yet, runs no more); a turn whose coord
    // process is gone (a daemon killed -9) runs no more either: the next engine says it was interrupted.
    .filter(([, t]) => RUNNING_PHASES.includes(phaseOf(t)) && pidAlive(t.running!.runner))
    .map(([thread, t]) => {
      const r = t.running!;
      return { thread, asker: r.asks[r.asks.length - 1]?.from ?? "?", since: r.startedAt, ...(r.step ? { step: r.step } : {}) };
    })
    .sort((a, b) => (a.since < b.since ? -1 : 1))
    .slice(0, MAX_ON_CALL_TURNS);
  const s = read.settings;
  if (turns.some((t) => t.step)) {
    const secrets = await unpublishable(m.stateDir, m.config);
    for (const t of turns) if (t.step) t.step = redactClipped(t.step, secrets);
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
    // A held spend (lost with a damaged file) is not known: not published as $0.
    ...(state.spent && state.spent.day === dayOf(now) && !state.spent.held ? { spent: { day: state.spent.day, usd: Math.round(state.spent.usd * 10_000) / 10_000 } } : {}),
  };
}
