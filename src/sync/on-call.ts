// Agents on call, carried out: the messages a sync delivered are taken from
// the mailbox into their threads (.git/coord/on-call.json), each thread runs
// one turn of the agent CLI at a time (a new session for its first message,
// the session its last turn returned for each later one), and the turn's
// final message goes back into the thread as the agent's answer. The rules
// are core/oncall/on-call.ts; the daemon runs turns beside its syncs, a sync
// without a daemon runs them before it publishes.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CLI_PATH } from "../package.js";
import { agentReader } from "../core/agents/agents.js";
import {
  answerOf,
  type AgentMark,
  chainOf,
  dayOf,
  interruptedAnswer,
  isStop,
  type OnCallSettings,
  sessionOf,
  stepOf,
  threadOf,
  turnInvocation,
  turnPrompt,
  whyNoTurn,
  withinDailyBudget,
} from "../core/oncall/on-call.js";
import { outputTail, redact } from "../core/trust/redact.js";
import { decisionOf, mayDecide } from "../core/oncall/approvals.js";
import { own } from "../core/types.js";
import { killGroup, killOrphan, runTask } from "../runner/run.js";
import { agentExecutable } from "../state/capabilities.js";
import { pidAlive } from "../state/lock.js";
import { readMailbox, updateMailbox } from "../state/mailbox.js";
import { loadOnCall, type OnCallState, readOnCallState, type ThreadState, updateOnCallState } from "../state/on-call.js";
import { readPins } from "../state/trust.js";
import { describeFailure } from "../failure.js";
import { MAX_ON_CALL_TURNS, type OnCallReport } from "../core/fleet/computer.js";
import type { Machine } from "./machine.js";
import { queueMessage } from "./mail.js";
import { allowedDir } from "./tasks.js";
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

/** Something the engine says in a thread: to whom, replying to which message. */
interface Note {
  to: string;
  replyTo: string;
  text: string;
}

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
  /** The turns this engine runs: thread → what stops it, and its end. */
  const running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  let lastProblem: string | undefined;
  let pumping: Promise<void> = Promise.resolve();

  /** Stores an answer in the thread, to `to`, replying to `replyTo`. */
  async function answer(to: string, replyTo: string, text: string, mark: AgentMark): Promise<void> {
    const model = (await lastFetchedModel(m, READ_PATHS).catch(() => undefined))?.model;
    if (model && !model.machineNames.includes(to)) return; // gone from the fleet: nobody to answer
    await queueMessage(m, model, { to, text: clipAnswer(redact(text)), priority: "normal", replyTo, agent: mark });
    opts.publish("answer");
  }

  async function settings(): Promise<OnCallSettings | undefined> {
    const read = await loadOnCall(m.stateDir);
    if (read.problem !== undefined && read.problem !== lastProblem) log(`on call: ${read.problem}`);
    lastProblem = read.problem;
    return read.settings;
  }

  async function take(s: OnCallSettings | undefined): Promise<{ refusals: Note[]; notes: Note[]; stops: string[] }> {
    const mail = await readMailbox(m.stateDir);
    const pending = new Set(mail.turnPending ?? []);
    const out = { refusals: [] as Note[], notes: [] as Note[], stops: [] as string[] };
    if (pending.size === 0) return out;
    // What each message replies to: received ones, and this machine's own (its answers), for the threads.
    const parent = new Map<string, string>();
    const texts = new Map<string, { from: string; text: string }>();
    for (const x of mail.inbox) {
      if (x.replyTo) parent.set(x.id, x.replyTo);
      texts.set(x.id, { from: x.from, text: x.text });
    }
    for (const [to, ch] of Object.entries(mail.outbox))
      for (const x of ch.messages) {
        const id = `${me}/${to}/${x.seq}`;
        if (x.replyTo) parent.set(id, x.replyTo);
        texts.set(id, { from: me, text: x.text });
      }
    const pins = m.config.trust.verifyMachines ? await readPins(m.stateDir) : new Map<string, string>();
    const fresh = mail.inbox.filter((x) => pending.has(x.id));
    await updateOnCallState(m.stateDir, (state) => {
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
          const over = request.decision ?? (state.threads[request.thread]?.running?.startedAt === request.turn ? undefined : { behavior: "deny", by: "the turn ended" });
          if (over) {
            out.refusals.push({
              to: msg.from,
              replyTo: msg.id,
              text: `Request ${msg.replyTo} is over (${over.behavior === "allow" ? "approved" : "denied"} by ${over.by}): this answer changes nothing.`,
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
          const thread = state.threads[request.thread];
          if (decision.behavior === "allow" && decision.always && thread) {
            thread.allowed = [...new Set([...(thread.allowed ?? []), decision.always])].slice(-100);
            out.notes.push({ to: msg.from, replyTo: msg.id, text: `${decision.always} is allowed without asking for the rest of this conversation's session.` });
          }
          continue;
        }
        const no = whyNoTurn(msg, s, { me, verified: pins.has(msg.from) });
        if (no && "silent" in no) continue;
        const root = threadOf(
          msg.id,
          (id) => parent.get(id),
          (id) => known.get(id),
        );
        if (no) {
          out.refusals.push({ to: msg.from, replyTo: msg.id, text: no.answer });
          continue;
        }
        const thread: ThreadState = state.threads[root] ?? { agent: s.agent, cwd: s.cwd, queue: [], lastAt: msg.at, ids: [] };
        state.threads[root] = thread;
        thread.ids = [...(thread.ids ?? []), msg.id].slice(-200);
        thread.lastAt = msg.at;
        known.set(msg.id, root);
        if (isStop(msg.text)) {
          if (thread.running) {
            thread.running.stop ??= `/stop from ${msg.from}`;
            out.stops.push(root);
          } else out.refusals.push({ to: msg.from, replyTo: msg.id, text: "Nothing is running in this thread: nothing to stop." });
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
    await updateMailbox(m.stateDir, (data) => {
      const left = (data.turnPending ?? []).filter((id) => !pending.has(id));
      if (left.length) data.turnPending = left;
      else delete data.turnPending;
    });
    return out;
  }

  /** Stops a running turn of this engine, or of a process that crashed or runs elsewhere (by its process group). */
  function stopTurn(root: string, t: ThreadState): void {
    const mine = running.get(root);
    if (mine) mine.abort.abort();
    else if (t.running?.pid) killGroup(t.running.pid, "SIGTERM");
  }

  async function startDue(s: OnCallSettings): Promise<void> {
    const state = await readOnCallState(m.stateDir);
    const others = Object.values(state.threads).filter((t) => t.running).length;
    let free = s.maxParallel - others;
    for (const [root, t] of Object.entries(state.threads).sort(([, a], [, b]) => ((a.queue[0]?.at ?? "") < (b.queue[0]?.at ?? "") ? -1 : 1))) {
      if (free <= 0) break;
      if (t.running || t.queue.length === 0 || running.has(root)) continue;
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
    await updateOnCallState(m.stateDir, (state) => {
      const th = state.threads[root];
      if (th) th.budgetSaid = day;
    });
    const last = t.queue[t.queue.length - 1]!;
    await answer(
      last.from,
      last.id,
      `Waiting: this machine's on-call budget of $${s.dailyBudgetUsd} for today (UTC) is spent. The message is kept and answered tomorrow, or when the budget is raised.`,
      {
        answer: true,
        cli: s.agent,
        outcome: "refused",
      },
    );
  }

  function startTurn(root: string, s: OnCallSettings): void {
    const abort = new AbortController();
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((r) => (resolveDone = r));
    running.set(root, { abort, done });
    void runTurn(root, s, abort)
      .catch((e: unknown) => log(`on call: the turn of thread ${root} failed: ${describeFailure(e).message}`))
      .finally(() => {
        running.delete(root);
        resolveDone();
        void engine.pump();
      });
  }

  async function runTurn(root: string, s: OnCallSettings, abort: AbortController): Promise<void> {
    const startedAt = now().toISOString();
    // The queue becomes the running turn, durably, before anything starts: a crash from here on is an interruption.
    const turn = await updateOnCallState(m.stateDir, (state) => {
      const t = state.threads[root];
      if (!t || t.running || t.queue.length === 0) return undefined;
      t.running = { runner: process.pid, startedAt, asks: t.queue };
      t.queue = [];
      return { thread: { ...t }, asks: t.running.asks };
    });
    if (!turn) return;
    const { thread, asks } = turn;
    const chain = chainOf(asks);
    const last = asks[asks.length - 1]!;
    const first = asks[0]!;
    const finish = async (text: string, mark: AgentMark, session?: string, costUsd?: number) => {
      await updateOnCallState(m.stateDir, (state) => {
        endRequests(state, root, startedAt, "the turn ended", now());
        const t = state.threads[root];
        if (!t) return;
        delete t.running;
        if (session) t.session = session;
        t.lastAt = now().toISOString();
        if (costUsd) {
          const day = dayOf(now());
          state.spent = { day, usd: (state.spent?.day === day ? state.spent.usd : 0) + costUsd };
        }
      });
      await answer(last.from, last.id, text, mark);
    };
    const where = await allowedDir(m, thread.cwd);
    if ("refused" in where) return finish(`The turn could not start: ${where.refused}.`, { answer: true, cli: thread.agent, chain: chain + 1, outcome: "failed" });
    const settingsNow = { ...s, agent: thread.agent as OnCallSettings["agent"] };
    const prompt = turnPrompt(me, asks, thread.session ? undefined : first.repliedTo);
    // Claude Code asks what its permissions do not cover through coord's permission prompt tool (approvals from afar).
    const mcpConfig = thread.agent === "claude" ? await writeMcpConfig(m, root, startedAt) : undefined;
    const how = turnInvocation(settingsNow, prompt, thread.session, {
      root: process.getuid?.() === 0,
      executable: agentExecutable(thread.agent),
      ...(mcpConfig ? { mcpConfig } : {}),
    });
    if ("refused" in how) return finish(`The turn could not start: ${how.refused}.`, { answer: true, cli: thread.agent, chain: chain + 1, outcome: "failed" });
    const reader = agentReader(thread.agent);
    let step: string | undefined;
    let stepSaved = 0;
    const saveStep = () => {
      stepSaved = Date.now();
      const at = step;
      void updateOnCallState(m.stateDir, (state) => {
        const r = state.threads[root]?.running;
        if (r && r.startedAt === startedAt) r.step = at;
      })
        .then(() => opts.publish("step"))
        .catch(() => {});
    };
    let stepTimer: NodeJS.Timeout | undefined;
    let session: string | undefined;
    const began = Date.now();
    log(`on call: turn of thread ${root} for ${last.from} starts (${thread.agent}${thread.session ? `, resuming ${thread.session}` : ", a new session"})`);
    const r = await runTask({
      argv: how.argv,
      cwd: where.cwd,
      env: {
        ...(process.env as Record<string, string>),
        ...how.env,
        [ON_CALL_CHAIN_ENV]: String(chain + 1),
        [ON_CALL_AGENT_ENV]: thread.agent,
        [ON_CALL_THREAD_ENV]: root,
        [ON_CALL_TURN_ENV]: turnMarker(me, root, startedAt),
      },
      timeout: s.timeout,
      idleTimeout: m.config.agentIdleTimeout,
      logFile: join(m.stateDir, "logs", `on-call.${safeName(root)}.${startedAt.replace(/[:.]/g, "-")}.log`),
      ...(how.input !== undefined ? { input: how.input } : {}),
      signal: abort.signal,
      program: `the agent CLI ${thread.agent}`,
      onStart: (pid) => {
        void updateOnCallState(m.stateDir, (state) => {
          const run = state.threads[root]?.running;
          if (run && run.startedAt === startedAt) run.pid = pid;
        }).catch((e: unknown) => log(`on call: could not record the turn's pid: ${describeFailure(e).message}`));
      },
      onLine: (line) => {
        reader?.line(line);
        const named = sessionOf(line);
        if (named !== undefined && named !== session) {
          session = named;
          void updateOnCallState(m.stateDir, (state) => {
            const run = state.threads[root]?.running;
            if (run && run.startedAt === startedAt) run.session = named;
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
    const stopState = (await readOnCallState(m.stateDir)).threads[root]?.running?.stop;
    // Asked to stop (a /stop, coord agent stop: recorded first), or stopped by this engine (the daemon stopping).
    const stopped = stopState ?? (r.aborted ? abortReason(abort) : undefined);
    const a = answerOf(
      {
        ...(said ? { said } : {}),
        exitCode: r.exitCode,
        ...(stopped ? { stopped } : {}),
        ...(r.timedOut ? { timedOut: true } : {}),
        ...(r.idle ? { stopped: `it wrote nothing for ${m.config.agentIdleTimeout} s` } : {}),
        ...(r.error ? { error: r.error } : {}),
        timeout: s.timeout,
        durationMs: Date.now() - began,
        tail: outputTail(r.tail, 5),
      },
      thread.agent,
      chain,
    );
    log(`on call: turn of thread ${root} ended (${a.mark.outcome ?? "answered"})`);
    await finish(a.text, a.mark, said?.session ?? session, said?.costUsd);
  }

  const abortReason = (abort: AbortController) => (typeof abort.signal.reason === "string" ? abort.signal.reason : "stopped");

  const engine: OnCallEngine = {
    pump() {
      // One pump at a time: each sees what the one before took.
      const next = pumping.then(async () => {
        const s = await settings();
        const { refusals, notes, stops } = await take(s);
        for (const r of refusals) await answer(r.to, r.replyTo, r.text, { answer: true, ...(s ? { cli: s.agent } : {}), outcome: "refused" });
        for (const r of notes) await answer(r.to, r.replyTo, r.text, { answer: true, ...(s ? { cli: s.agent } : {}) });
        if (stops.length) {
          const state = await readOnCallState(m.stateDir);
          for (const root of stops) {
            const t = state.threads[root];
            if (t) stopTurn(root, t);
          }
        }
        if (s) await startDue(s);
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
      const state = await readOnCallState(m.stateDir);
      const orphans = Object.entries(state.threads).filter(([, t]) => t.running && t.running.runner !== process.pid && !pidAlive(t.running.runner));
      for (const [root, t] of orphans) {
        const run = t.running!;
        if (run.pid) await killOrphan(run.pid, turnMarker(me, root, run.startedAt), ON_CALL_TURN_ENV);
        await updateOnCallState(m.stateDir, (st: OnCallState) => {
          endRequests(st, root, run.startedAt, "the turn ended", now());
          const th = st.threads[root];
          if (th?.running?.startedAt !== run.startedAt) return;
          // The session stays: "go on" continues it.
          if (run.session) th.session = run.session;
          delete th.running;
        });
        const last = run.asks[run.asks.length - 1];
        log(`on call: the turn of thread ${root} was interrupted (its coord process ${run.runner} is gone)`);
        if (last) {
          const a = interruptedAnswer(t.agent, chainOf(run.asks), run.step);
          await answer(last.from, last.id, a.text, a.mark);
        }
      }
    },
    async close(why) {
      for (const r of running.values()) r.abort.abort(why);
      await Promise.all([...running.values()].map((r) => r.done));
      await pumping;
    },
  };
  return engine;
}

/**
 * The --mcp-config file of one Claude Code turn: coord mcp for this checkout, told the turn it serves, so that its
 * permission prompt tool asks the turn's asker (commands/on-call.ts askPermission).
 */
async function writeMcpConfig(m: Machine, root: string, startedAt: string): Promise<string> {
  const dir = join(m.stateDir, "on-call");
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${safeName(root)}.${startedAt.replace(/[:.]/g, "-")}.mcp.json`);
  const env = { [ON_CALL_THREAD_ENV]: root, [ON_CALL_TURN_ENV]: turnMarker(m.config.name, root, startedAt) };
  const config = { mcpServers: { coord: { type: "stdio", command: process.execPath, args: [CLI_PATH, "mcp", "--dir", m.dir], env } } };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

/** The longest answer a turn sends (a message is text for people: the full output stays in the turn's log). */
const MAX_ANSWER = 8000;
const clipAnswer = (text: string) => (text.length > MAX_ANSWER ? `${text.slice(0, MAX_ANSWER - 60)}\n… (cut: the whole answer is in the turn's log)` : text);

/** What this machine's file says of it on call: its CLI, for whom, the turns running with their latest steps, today's spend. */
export async function publishedOnCall(m: Machine, now: Date): Promise<OnCallReport | undefined> {
  if (m.config.onCall === undefined) return undefined;
  const read = await loadOnCall(m.stateDir);
  if (!read.settings) return undefined;
  const state = await readOnCallState(m.stateDir);
  const turns = Object.entries(state.threads)
    .filter(([, t]) => t.running)
    .map(([thread, t]) => {
      const r = t.running!;
      return { thread, asker: r.asks[r.asks.length - 1]?.from ?? "?", since: r.startedAt, ...(r.step ? { step: r.step } : {}) };
    })
    .sort((a, b) => (a.since < b.since ? -1 : 1))
    .slice(0, MAX_ON_CALL_TURNS);
  const s = read.settings;
  return {
    agent: s.agent,
    from: s.from,
    permissions: s.permissions,
    ...(turns.length ? { turns } : {}),
    ...(state.spent && state.spent.day === dayOf(now) ? { spent: { day: state.spent.day, usd: Math.round(state.spent.usd * 10_000) / 10_000 } } : {}),
  };
}
