// One turn of an agent on call, as a process: where it may run, the command
// line and the permission prompt's config, the CLI run with the turn's marker
// in every process it starts, its pid, session and steps recorded as events of
// the turn's life, and how it ended as the answer that goes back. The engine
// (on-call.ts) claims the turn before and ends it after.
import { mkdir, realpath, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { AGENTS, agentReader } from "../core/agents/agents.js";
import { RELAY_TOKEN_ENV } from "../core/agents/mcp-config.js";
import {
  ON_CALL_AGENT_ENV,
  ON_CALL_ASKER_ENV,
  ON_CALL_CHAIN_ENV,
  ON_CALL_THREAD_ENV,
  ON_CALL_TURN_ENV,
  type AgentMark,
  answerOf,
  type Ask,
  chainOf,
  type OnCallSettings,
  sessionOf,
  sessionId,
  stepOf,
  threadAsker,
  turnSpend,
  turnInvocation,
  turnPrompt,
} from "../core/oncall/on-call.js";
import { cwdRefusal } from "../core/oncall/reach.js";
import { system } from "../platform/system.js";
import type { ThreadState } from "../core/oncall/turn-state.js";
import type { TurnEvent } from "../core/oncall/turn-life.js";
import { outputTail, redactClipped } from "../core/trust/redact.js";
import { type ProcessEnd, processEnd } from "../core/work/process-end.js";
import { describeFailure } from "../failure.js";
import { CLI_PATH } from "../package.js";
import { type Marker, type RunResult, type runTask, stopProcesses } from "../runner/run.js";
import { agentPolicyFile } from "../state/agent-policy.js";
import { agentExecutable } from "../state/capabilities.js";
import { readOnCallState, updateOnCallState } from "../state/on-call.js";
import { signingKeyPath } from "../state/paths.js";
import { own } from "../core/types.js";
import { timings } from "../timings.js";
import { type TurnTools, turnToolsServer } from "./turn-tools.js";
import type { Machine } from "./machine.js";
import { allowedDir, inheritedEnv } from "./tasks.js";
import { storeLogins, unpublishable } from "../state/secrets.js";

export { ON_CALL_AGENT_ENV, ON_CALL_CHAIN_ENV, ON_CALL_THREAD_ENV, ON_CALL_TURN_ENV } from "../core/oncall/on-call.js";

/** How often at most a new step of a running turn asks for a publish (a step is never urgent: the push budget decides when). */
const STEP_PUBLISH_MS = 5_000;

export const turnMarker = (machine: string, thread: string, startedAt: string) => `${machine}/${thread}/${startedAt}`;
/** The marker every process of a turn carries in its environment. */
export const markerOf = (machine: string, thread: string, startedAt: string): Marker => ({ variable: ON_CALL_TURN_ENV, value: turnMarker(machine, thread, startedAt) });

/** How a turn ended: its answer to each asker, and the session and cost it returned. */
export interface Ended {
  text: string;
  mark: AgentMark;
  session?: string;
  costUsd?: number;
  /** The session's whole cost after the turn, where its CLI says it. */
  sessionUsd?: number;
}

/** Runs one process of a turn (runner/run.ts runTask; a test's engine may run a scripted one). */
export type RunProcess = typeof runTask;

/** A turn claimed: its thread, its start, what it answers, and the note of a new session when the setting changed. */
export interface ClaimedTurn {
  root: string;
  startedAt: string;
  thread: ThreadState;
  asks: Ask[];
  note?: string;
}

/** What a turn's process works with: the machine as its config was when the turn started, and the engine's edges. */
export interface TurnIo {
  m: Machine;
  log: (line: string) => void;
  publish: (why: "step") => void;
  run: RunProcess;
  abort: AbortController;
}

/** Runs the CLI for turn `t` under setting `s`: how it ended, as the answer that goes back (a refusal to start is one too). */
export async function runTurnProcess(t: ClaimedTurn, s: OnCallSettings, io: TurnIo): Promise<Ended> {
  const told = (text: string) => (t.note ? `${t.note}\n\n${text}` : text);
  const chain = chainOf(t.asks);
  const prepared = await prepare(t, s, io.m, io.log);
  if ("refused" in prepared)
    return { text: told(`The turn could not start: ${prepared.refused}.`), mark: { answer: true, cli: t.thread.agent, chain: chain + 1, outcome: "failed" } };
  try {
    const ended = await runCli(t, s, io, prepared);
    return { ...ended, text: told(ended.text) };
  } finally {
    await prepared.tools?.close();
    if (prepared.mcpConfig) await rm(prepared.mcpConfig, { force: true }).catch(() => {});
  }
}

interface Prepared {
  cwd: string;
  argv: string[];
  env: Record<string, string>;
  input?: string;
  mcpConfig?: string;
  /** coord's tools for the turn, served from outside its sandbox (turn-tools.ts): the --mcp-config relays to them. */
  tools?: TurnTools;
}

/** Whose conversation the turn's thread is, in its environment (the sandbox keeps its CLI's state as that asker's). */
const asker = (t: ClaimedTurn): Record<string, string> => {
  const who = threadAsker(t.root, t.thread) ?? t.asks[0]?.from;
  return who ? { [ON_CALL_ASKER_ENV]: who } : {};
};

/** The environment that names a turn to coord: its chain, CLI, thread, asker and marker (actions/messages.ts, askPermission). */
export const turnEnv = (machine: string, t: ClaimedTurn): Record<string, string> => ({
  [ON_CALL_CHAIN_ENV]: String(chainOf(t.asks) + 1),
  [ON_CALL_AGENT_ENV]: t.thread.agent,
  [ON_CALL_THREAD_ENV]: t.root,
  ...asker(t),
  [ON_CALL_TURN_ENV]: turnMarker(machine, t.root, t.startedAt),
});

/** The cost of the thread's session before this turn, as coord counted it, when the turn resumes that session. */
const spentBefore = (t: ClaimedTurn): number | undefined => (t.thread.session ? t.thread.sessionUsd : undefined);

/** Where and how the turn runs, or why it may not: the cwd allowed and out of the key's reach, the CLI's command line. */
async function prepare(t: ClaimedTurn, s: OnCallSettings, m: Machine, log: (line: string) => void): Promise<Prepared | { refused: string }> {
  const where = await allowedDir(m, t.thread.cwd);
  if ("refused" in where) return where;
  // machine.yaml may have been edited by hand: the key stays out of the agent's reach.
  const keyNear = await cwdRefused(m, where.cwd);
  if (keyNear) return { refused: `cwd ${keyNear}` };
  const prompt = turnPrompt(m.config.name, t.asks, t.thread.session ? undefined : t.asks[0]!.repliedTo);
  // A CLI whose turns get coord's tools (Claude Code) asks what its permissions do not cover through coord's permission
  // prompt tool (approvals from afar), served with coord's other tools from outside its sandbox, for this turn alone.
  const serve = turnToolsServer();
  const served = AGENTS.get(t.thread.agent)?.onCall?.tools === true;
  if (served && !serve) return { refused: "this process cannot serve coord's tools for the turn (a coord built without its CLI)" };
  const tools = served && serve ? await serve(m.dir, turnEnv(m.config.name, t), log) : undefined;
  const mcpConfig = tools ? await writeMcpConfig(m, t.root, t.startedAt, tools) : undefined;
  // A CLI that takes coord's policy for its level (Gemini CLI): one not written leaves the turn refused, with why.
  const policyFile = await agentPolicyFile(m.stateDir, t.thread.agent, s.permissions).catch(() => undefined);
  const before = spentBefore(t);
  const how = turnInvocation({ ...s, agent: t.thread.agent }, prompt, t.thread.session, {
    root: process.getuid?.() === 0,
    executable: agentExecutable(t.thread.agent),
    self: [process.execPath, CLI_PATH],
    ...(before !== undefined ? { spentBefore: before } : {}),
    ...(mcpConfig ? { mcpConfig } : {}),
    ...(policyFile ? { policyFile } : {}),
  });
  if ("refused" in how) {
    await tools?.close();
    if (mcpConfig) await rm(mcpConfig, { force: true }).catch(() => {});
    return how;
  }
  return {
    cwd: where.cwd,
    argv: how.argv,
    env: how.env,
    ...(how.input !== undefined ? { input: how.input } : {}),
    ...(mcpConfig ? { mcpConfig } : {}),
    ...(tools ? { tools } : {}),
  };
}

/** The CLI's run: its pid, session and steps recorded as they come, then its end read as the answer. */
async function runCli(t: ClaimedTurn, s: OnCallSettings, io: TurnIo, p: Prepared): Promise<Ended> {
  const { m, log } = io;
  const { root, startedAt } = t;
  const me = m.config.name;
  const chain = chainOf(t.asks);
  const reader = agentReader(t.thread.agent);
  /** The records under way (pid, session, steps): the turn ends after them, so none outlives it. */
  const recording = new Set<Promise<void>>();
  const record = (event: TurnEvent, what: string) => {
    const p = updateOnCallState(m.stateDir, (life) => life.record(event)).catch((e: unknown) => log(`on call: could not record the turn's ${what}: ${describeFailure(e).message}`));
    recording.add(p);
    void p.finally(() => recording.delete(p));
    return p;
  };
  const steps = stepRecorder((step) => record({ kind: "step", thread: root, turn: startedAt, step }, "step").then(() => io.publish("step")));
  let session: string | undefined;
  const began = Date.now();
  log(
    `on call: turn of thread ${root} for ${t.asks[t.asks.length - 1]!.from} starts (${t.thread.agent}${t.thread.session ? `, resuming ${t.thread.session}` : ", a new session"})`,
  );
  const marker = markerOf(me, root, startedAt);
  const cli = t.thread.agent;
  // Its login from the machine's secret store, when coord's environment has none (a daemon started by launchd).
  const logins = await storeLogins(m.stateDir, cli);
  // What its steps, last error and output never carry, redacted where they are read: a step is cut to its length by
  // its reader, and a secret across the cut is redacted by its head (redactClipped), before it is recorded or answered.
  const secrets = await unpublishable(m.stateDir, m.config);
  const scrub = (text: string | undefined) => (text === undefined ? undefined : redactClipped(text, secrets));
  const r = await io.run({
    argv: p.argv,
    cwd: p.cwd,
    // coord's own environment without its COORD_SECRET_ variables, as a task's.
    env: { ...inheritedEnv(), ...logins, ...p.env, ...turnEnv(me, t) },
    // Every process of the turn carries it: a stop ends those the CLI put in sessions of their own too.
    marker,
    timeout: s.timeout,
    idleTimeout: m.config.agentIdleTimeout,
    logFile: join(m.stateDir, "logs", `on-call.${safeName(root)}.${startedAt.replace(/[:.]/g, "-")}.log`),
    ...(p.input !== undefined ? { input: p.input } : {}),
    signal: io.abort.signal,
    program: `the agent CLI ${t.thread.agent}`,
    // Its own turn's MCP config: the only one it sees (another turn's names that turn's tools and token).
    ...(p.mcpConfig ? { sees: [p.mcpConfig] } : {}),
    onStart: (pid) => void record({ kind: "pid", thread: root, turn: startedAt, pid }, "pid"),
    onLine: (line) => {
      reader?.line(line);
      const named = sessionOf(cli, line);
      // Crash recovery resumes the session the turn named: a failure to record it is said.
      if (named !== undefined && named !== session) {
        session = named;
        void record({ kind: "session", thread: root, turn: startedAt, session: named }, "session");
      }
      steps.saw(scrub(stepOf(cli, line)));
    },
  });
  steps.done();
  await Promise.all(recording);
  const stopRecord = own((await readOnCallState(m.stateDir)).threads, root)?.running;
  const stopState = stopRecord?.stop;
  // Whatever the turn left behind (stopped from another process, or a process it put in a session of its own to
  // outlive it, which would keep a sandbox from before the files it masks were replaced) ends with it.
  await stopProcesses({ marker }, timings.killGraceS);
  // Asked to stop (a /stop, coord agent stop: recorded first), or stopped by this engine (the daemon stopping).
  const stopped = stopState ?? (r.aborted ? abortReason(io.abort) : undefined);
  // Asked to stop (recorded, or the engine's abort with no words: a /stop), or the engine closing (its words).
  const stopCause = stopState || typeof io.abort.signal.reason !== "string" ? ("stop" as const) : ("shutdown" as const);
  const read = reader?.result();
  const said = read?.lastError === undefined ? read : { ...read, lastError: scrub(read.lastError)! };
  const a = answerOf(endOf(r, { stopped, stopCause, step: steps.last(), idleTimeout: m.config.agentIdleTimeout, timeout: s.timeout, began, said, secrets }), t.thread.agent, chain);
  log(`on call: turn of thread ${root} ended (${a.mark.outcome ?? "answered"})`);
  // A session its reader read from a result line is held to the rule sessionOf holds each line to (a forged line).
  const back = sessionId(said?.session) ?? session;
  const cap = AGENTS.get(cli)?.onCall?.budgetCap ? s.maxBudgetUsd : undefined;
  const clean = r.exitCode === 0 && r.signal === null && !r.timedOut && !r.aborted;
  const spent = turnSpend(said?.costUsd, cap, { ran: r.error === undefined, clean, stoppedByPerson: stopped !== undefined && !stopRecord?.stopByMessage });
  // Where the CLI says the session's whole cost, the next turn counts from what this one began at and counted: never
  // from the total a line said (an agent that wrote a huge total into its output would make every later turn free).
  const before = spentBefore(t);
  const sessionUsd = said?.sessionCostUsd !== undefined ? (before ?? 0) + (spent ?? 0) : undefined;
  return { ...a, ...(back ? { session: back } : {}), ...(spent ? { costUsd: spent } : {}), ...(sessionUsd !== undefined ? { sessionUsd } : {}) };
}

/** How the process ended, as core/oncall/on-call.ts answerOf reads it. */
function endOf(
  r: RunResult,
  o: {
    stopped: string | undefined;
    stopCause: "stop" | "shutdown";
    step: string | undefined;
    idleTimeout: number | undefined;
    timeout: number;
    began: number;
    said: ReturnType<NonNullable<ReturnType<typeof agentReader>>["result"]> | undefined;
    /** Redacted from its output before that is cut to its last lines. */
    secrets: string[];
  },
): Parameters<typeof answerOf>[0] {
  // Read as a task's process is (core/work/process-end.ts), said in the turn's words.
  // A turn that went silent was stopped for that, whatever came in its grace (a stop, the timeout): its answer says so.
  const end: ProcessEnd = r.idle && !r.error ? { how: "idle", after: o.idleTimeout ?? 0 } : processEnd(r, { timeout: o.timeout, idleTimeout: o.idleTimeout, stoppedBy: o.stopped });
  return {
    ...(o.said ? { said: o.said } : {}),
    exitCode: r.exitCode,
    ...(end.how === "stopped" ? { stopped: end.by, cause: o.stopCause } : {}),
    ...(end.how === "idle" ? { stopped: `it wrote nothing for ${end.after} s`, cause: "idle" as const } : {}),
    ...(end.how === "timed-out" ? { timedOut: true } : {}),
    ...(end.how === "not-started" ? { error: end.error } : {}),
    timeout: o.timeout,
    durationMs: Date.now() - o.began,
    tail: outputTail(r.tail, 5, undefined, o.secrets),
    ...(o.step ? { step: o.step } : {}),
  };
}

/** A turn's latest step, saved at most every STEP_PUBLISH_MS (the last one saved once the pause is over). */
function stepRecorder(save: (step: string) => Promise<unknown>) {
  let step: string | undefined;
  let savedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    savedAt = Date.now();
    if (step) void save(step);
  };
  return {
    saw(next: string | undefined) {
      if (next === undefined || next === step) return;
      step = next;
      clearTimeout(timer);
      const wait = STEP_PUBLISH_MS - (Date.now() - savedAt);
      if (wait <= 0) flush();
      else timer = setTimeout(flush, wait);
    },
    last: () => step,
    done: () => clearTimeout(timer),
  };
}

const abortReason = (abort: AbortController) => (typeof abort.signal.reason === "string" ? abort.signal.reason : "stopped");

export const safeName = (id: string) => id.replace(/[^A-Za-z0-9-]/g, "_");

/** The --mcp-config file's name of the turn of thread `root` started at `startedAt`. */
export const mcpConfigName = (root: string, startedAt: string) => `${safeName(root)}.${startedAt.replace(/[:.]/g, "-")}.mcp.json`;

/**
 * The --mcp-config file of one Claude Code turn: `coord mcp --connect`, which relays to the turn's coord tools served
 * outside its sandbox (`tools`), so that its permission prompt tool asks the turn's asker (actions/on-call.ts
 * askPermission) and what it sends is the turn's.
 */
async function writeMcpConfig(m: Machine, root: string, startedAt: string, tools: TurnTools): Promise<string> {
  const dir = join(m.stateDir, "on-call");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, mcpConfigName(root, startedAt));
  const env = { [RELAY_TOKEN_ENV]: tools.token };
  const config = { mcpServers: { coord: { type: "stdio", command: process.execPath, args: [CLI_PATH, "mcp", "--connect", tools.address], env } } };
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
  return cwdRefusal(await real(cwd), { checkout, gitDir, ...(key ? { key: await real(key) } : {}) }, system());
}
