// Running one task of an order on this machine: the journal around it, the
// command (a shell line or a headless agent CLI), its output.
import { agentPolicyFile } from "../state/agent-policy.js";
import { lstat, mkdir, readdir, realpath, rm, stat } from "node:fs/promises";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { type AgentInvocation, type Refusal, agentInvocation, agentReader, agentVerdict } from "../core/agents/agents.js";
import { failureText, processEnd } from "../core/work/process-end.js";
import { nextAttempt } from "../core/machine/plan.js";
import { publishedAgentReport, secretValues } from "../core/machine/publish.js";
import { outputTail, redact } from "../core/trust/redact.js";
import { outsideRoots } from "../core/trust/roots.js";
import { system } from "../platform/system.js";
import { SECRET_ENV_PREFIX } from "../core/trust/secrets.js";
import { initScratch } from "../git/local.js";
import { runTask, type RunResult } from "../runner/run.js";
import { agentExecutable } from "../state/capabilities.js";
import { expandHome } from "../state/paths.js";
import type { Journal } from "../state/journal.js";
import { type Run, runKey } from "../core/time/every.js";
import { resolveOrderSecrets } from "../state/secrets.js";
import type { Machine } from "./machine.js";
import { shieldAgent } from "./sandbox.js";
import { whileShielded } from "../state/shielded.js";
import { describeFailure } from "../failure.js";
import type { Order } from "../core/orders/orders-schema.js";
import type { TaskReport } from "../core/fleet/computer.js";
import { storeLogins, unpublishable } from "../state/secrets.js";

export interface TaskOutcome {
  id: string;
  rev: number;
  state: TaskReport["state"];
  exitCode: number | null;
  reason?: string;
}

/**
 * Set in a task's environment, so that its processes can be stopped with it and a task orphaned by a crash recognised:
 * one run's own, from the start its journal entry records (`startedAt`) and a tag of the checkout, so that no other
 * checkout's task of the same machine name and order (a second fleet on the computer, a copy of the checkout) is ever
 * taken for it, whatever its clock. A checkout moved while coord was down finds its orphans no more (they run on).
 */
export const taskMarker = (m: { name: string; stateDir: string }, id: string, run: Run & { startedAt?: string | undefined }, attempt: number) =>
  `${m.name}/${id}/${runKey(run)}/a${attempt}/${run.startedAt ?? ""}/${createHash("sha256").update(m.stateDir).digest("hex").slice(0, 12)}`;

/** The marker every run of an order had before taskMarker was a run's own (sync.ts recover: a task an older coord left running). */
export const legacyTaskMarker = (machine: string, id: string, run: Run, attempt: number) => `${machine}/${id}/${runKey(run)}/a${attempt}`;

/** How an order's agent is started (its argv with the CLI found on this machine), or why it cannot be. */
export function agentRun(order: Order, policyFile?: string): AgentInvocation | Refusal {
  return agentInvocation(
    {
      agent: order.agent!,
      prompt: order.prompt ?? "",
      ...(order.model ? { model: order.model } : {}),
      ...(order.args ? { args: order.args } : {}),
      ...(order.permissions ? { permissions: order.permissions } : {}),
    },
    { root: process.getuid?.() === 0, executable: agentExecutable(order.agent!), ...(policyFile ? { policyFile } : {}) },
  );
}

/** The argv an order runs, for a dry run: its shell line, or its agent's command (the prompt on stdin said as such). */
export function describeCommand(order: Order): string {
  if (order.run) return order.run;
  const how = agentRun(order, "<coord's policy file>");
  if ("refused" in how) return `${order.agent} (refused: ${how.refused})`;
  return [...how.argv, ...(how.input !== undefined ? ["< prompt"] : [])].join(" ");
}

/** An agent order without a cwd works in a scratch git repository of its own under the machine's state (a CLI like codex wants a git directory). */
async function agentDir(m: Machine, order: Order): Promise<string> {
  // A link put in the way (an agent's, in a hole of its sandbox) would make another directory the next agent's cwd,
  // writable to it: the checkout, or /. Whatever is there and is not a directory is taken away first.
  const parent = join(m.stateDir, "agents");
  const dir = join(parent, order.id);
  for (const p of [parent, dir]) {
    const st = await lstat(p).catch(() => undefined);
    if (st && !st.isDirectory()) await rm(p, { force: true });
    await mkdir(p, { recursive: true });
  }
  if ((await realpath(dir)) !== join(await realpath(m.stateDir), "agents", order.id))
    throw new Error(`the scratch directory ${dir} is not where it should be (a link in its way?)`);
  await initScratch(dir);
  return dir;
}

/**
 * Where a task runs: an agent order without cwd in its scratch directory
 * (always allowed); else its cwd (home by default). With `allowedRoots` in
 * the machine's config, the cwd is resolved (symbolic links, "..") and must
 * lie inside one of the roots (resolved too): the task then runs in the
 * resolved directory, or not at all, with why.
 */
async function taskDir(m: Machine, order: Order, agent: boolean): Promise<{ cwd: string } | { refused: string }> {
  if (order.cwd === undefined && agent)
    return agentDir(m, order).then(
      (cwd) => ({ cwd }),
      (e: unknown) => ({ refused: `its scratch directory could not be made: ${describeFailure(e).message}` }),
    );
  return allowedDir(m, order.cwd);
}

/** A cwd as ORDERS.json writes it (home by default), resolved and checked against the machine's `allowedRoots` (see taskDir). */
export async function allowedDir(m: Machine, written: string | undefined): Promise<{ cwd: string } | { refused: string }> {
  const cwd = expandHome(written);
  const roots = m.config.allowedRoots;
  if (roots === undefined) return { cwd };
  let real: string;
  try {
    real = await realpath(cwd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { refused: `cwd ${cwd} does not exist` };
    if (code === "ENOTDIR") return { refused: `cwd ${cwd} is not a directory` };
    return { refused: `cwd ${cwd} cannot be resolved (${code ?? (e as Error).message})` };
  }
  const resolved = await Promise.all(
    roots.map(async (written) => {
      const path = expandHome(written);
      return { written, real: await realpath(path).catch(() => path) }; // a root that does not exist (yet) holds nothing that does
    }),
  );
  const outside = outsideRoots(real, resolved, system());
  return outside ? { refused: outside } : { cwd: real };
}

/** coord's environment for a task: its own, without the COORD_SECRET_ variables (a task gets only the secrets its order names). */
export function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith(SECRET_ENV_PREFIX)) env[k] = v;
  return env;
}

export interface RunningTask {
  order: Order;
  /** Stop it: the reason goes into its report; `state` is what it ends as (cancelled, failed). */
  stop(reason: string, state: "cancelled" | "failed"): void;
}

/** Runs `order` once (attempt `attempt`), journaling every step of its life (core/work/task-life.ts) durably. */
export async function runOne(
  m: Machine,
  journal: Journal,
  order: Order,
  now: () => Date,
  opts: { attempt?: number; onStart?: (t: RunningTask) => void } = {},
): Promise<TaskOutcome> {
  const attempt = opts.attempt ?? nextAttempt(order, journal.entry(order.id));
  const logFile = join(m.stateDir, "logs", `${order.id}.${runKey(order)}.a${attempt}.log`);
  // Durable before the process exists: a crash from here on is an interruption, never a second run.
  const startedAt = now().toISOString();
  await journal.apply(order.id, { kind: "start", rev: order.rev, ...(order.slot ? { slot: order.slot } : {}), attempt, at: startedAt, log: logFile });
  // A CLI that takes coord's policy for its level (Gemini CLI): written first; one not written leaves the order refused.
  const policyFile = order.agent ? await agentPolicyFile(m.stateDir, order.agent, order.permissions).catch(() => undefined) : undefined;
  const agent = order.agent ? agentRun(order, policyFile) : undefined;
  const timeout = order.timeout ?? (agent ? m.config.agentTimeout : m.config.defaultTimeout);
  const idleTimeout = order.idleTimeout ?? (agent ? m.config.agentIdleTimeout : undefined);
  const controller = new AbortController();
  let stopped: { reason: string; state: "cancelled" | "failed" } | undefined;
  opts.onStart?.({
    order,
    stop: (reason, state) => {
      stopped ??= { reason, state };
      controller.abort();
    },
  });
  const reader = order.agent ? agentReader(order.agent) : undefined;
  const notRun = (error: string): RunResult => ({ exitCode: null, signal: null, timedOut: false, aborted: false, tail: "", error });
  /** The values of the secrets the order names, as resolved on this machine: redacted like the ones written in the order. */
  let named: Record<string, string> = {};
  /** Its agent CLI's login from the machine's secret store, when coord's environment has none (state/secrets.ts storeLogins). */
  let logins: Record<string, string> = {};
  const run = async (): Promise<RunResult> => {
    if (agent && "refused" in agent) return notRun(agent.refused);
    // Nothing runs outside the machine's allowedRoots, nor without every secret the order names.
    const dir = await taskDir(m, order, agent !== undefined);
    if ("refused" in dir) return notRun(dir.refused);
    if (order.secretRefs) {
      const resolved = await resolveOrderSecrets(m, order.secretRefs);
      if ("refused" in resolved) return notRun(resolved.refused);
      named = resolved.env;
    }
    const cwd = dir.cwd;
    if (agent) logins = await storeLogins(m.stateDir, order.agent);
    // An agent runs behind the shield (sync/sandbox.ts): the machine's key and secrets are out of its reach.
    const shielded = agent
      ? await shieldAgent(m, agent.argv, { program: `the agent CLI ${order.agent}`, path: order.env?.PATH ?? process.env.PATH, cwd: dir.cwd, agent: order.agent! })
      : undefined;
    if (shielded && "refused" in shielded) return notRun(shielded.refused);
    // runTask never throws; this is the last guard, so that a task that could not run is failed, never left in progress.
    // Behind the shield, the agent is counted as running (state/shielded.ts) while it does.
    const counted = <T>(fn: () => Promise<T>) => (shielded && !shielded.warning ? whileShielded(m.stateDir, fn) : fn());
    return counted(() =>
      runTask({
        ...(agent && shielded
          ? {
              argv: shielded.argv,
              program: `the agent CLI ${order.agent}`,
              ...(agent.input !== undefined ? { input: agent.input } : {}),
              ...(shielded.fdInputs ? { fdInputs: shielded.fdInputs } : {}),
            }
          : { command: order.run! }),
        cwd,
        timeout,
        ...(idleTimeout !== undefined ? { idleTimeout } : {}),
        ...(reader ? { onLine: (line: string) => reader.line(line) } : {}),
        logFile,
        signal: controller.signal,
        env: {
          ...inheritedEnv(),
          ...logins,
          ...order.env,
          ...named,
          ...(agent ? agent.env : {}),
          ...(shielded ? shielded.env : {}),
          COORD_MACHINE: m.config.name,
          COORD_ORDER: order.id,
          COORD_REV: String(order.rev),
          ...(order.slot ? { COORD_SLOT: order.slot } : {}),
          COORD_ATTEMPT: String(attempt),
        },
        // Every process of the task carries it (COORD_TASK): a timeout or a stop ends those it put in sessions of their
        // own too (an agent CLI's commands), as a turn on call's marker does; an orphan is recognised by it.
        marker: { variable: "COORD_TASK", value: taskMarker({ name: m.config.name, stateDir: m.stateDir }, order.id, { ...order, startedAt }, attempt) },
        // The pid is a help for killing an orphan later; a failed write of it (a full disk) is not the task's failure.
        onStart: (pid) => void journal.apply(order.id, { kind: "pid", pid }).catch(() => {}),
      }),
    );
  };
  const r = await run().catch((e: unknown): RunResult => notRun(`coord could not run it (${(e as Error).message})`));
  // An agent is judged by its own account where it gave one: exit 0 with every write denied is no success.
  const said = reader && !r.error && !r.aborted && !r.timedOut && !r.idle ? reader.result() : undefined;
  const verdict = said ? agentVerdict(r.exitCode, said) : undefined;
  // And the machine's own key, in any shape: a task's output never publishes it either.
  const secrets = [...secretValues(order), ...Object.values(named), ...Object.values(logins), ...(await unpublishable(m.stateDir, m.config))];
  const failure = (verdict && !verdict.ok ? verdict.reason : undefined) ?? failureText(processEnd(r, { timeout, idleTimeout, stoppedBy: r.aborted ? stopped?.reason : undefined }));
  const reason = failure === undefined ? undefined : redact(failure, secrets);
  const state = r.aborted && stopped ? stopped.state : reason ? "failed" : "completed";
  // An agent's final message is its output; the raw events stay in the local log.
  const shown = said?.message ?? r.tail;
  // A log that could not be written (a full disk) is said where the output is published.
  const output = [outputTail(shown, m.config.outputLines, 4000, secrets), r.logError && `[coord: ${r.logError}]`].filter(Boolean).join("\n");
  const report = said ? publishedAgentReport(said, (t) => redact(t, secrets)) : undefined;
  await journal.apply(order.id, {
    kind: "finish",
    state,
    exitCode: r.exitCode,
    at: now().toISOString(),
    ...(reason ? { reason } : {}),
    ...(output ? { output } : {}),
    ...(report ? { agent: report } : {}),
  });
  await pruneLogs(join(m.stateDir, "logs"), 500);
  return { id: order.id, rev: order.rev, state, exitCode: r.exitCode, ...(reason ? { reason } : {}) };
}

/** The published part of what the agent said (its message is the output). */
/** Keeps the newest `keep` log files. */
export async function pruneLogs(dir: string, keep: number): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  if (names.length <= keep) return;
  const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => b.t - a.t);
  await Promise.all(dated.slice(keep).map(({ n }) => rm(join(dir, n), { force: true })));
}
