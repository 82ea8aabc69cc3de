// Running one task of an order on this machine: the journal around it, the
// command (a shell line or a headless agent CLI), its output.
import { readdir, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { formatDuration } from "../core/duration.js";
import { nextAttempt } from "../core/plan.js";
import { outputTail } from "../core/redact.js";
import type { Order, TaskReport } from "../core/types.js";
import { runTask, type RunResult } from "../runner/run.js";
import { AGENT_CLIS } from "../state/capabilities.js";
import type { Journal } from "../state/journal.js";
import type { Machine } from "./machine.js";

export interface TaskOutcome {
  id: string;
  rev: number;
  state: TaskReport["state"];
  exitCode: number | null;
  reason?: string;
}

/** Set in a task's environment, so a task orphaned by a crash can be recognised and stopped. */
export const taskMarker = (machine: string, id: string, rev: number, attempt: number) => `${machine}/${id}/r${rev}/a${attempt}`;

/**
 * The headless, non-interactive invocation of each agent CLI:
 * claude -p, opencode run, cursor-agent -p, codex exec, gemini -p.
 * Any other agent name (a label the machine config adds) runs as `<name> <args…> <prompt>`.
 */
export function agentArgv(order: Order): string[] {
  const agent = order.agent!;
  const prompt = order.prompt ?? "";
  const model = order.model ? ["--model", order.model] : [];
  const args = order.args ?? [];
  switch (agent) {
    case "claude":
      return ["claude", "-p", ...model, ...args, prompt];
    case "opencode":
      return ["opencode", "run", ...model, ...args, prompt];
    case "cursor":
      return [AGENT_CLIS.cursor!, "-p", ...model, ...args, prompt];
    case "codex":
      return ["codex", "exec", ...model, ...args, prompt];
    case "gemini":
      return ["gemini", ...model, ...args, "-p", prompt];
    default:
      return [agent, ...args, prompt];
  }
}

export function expandHome(path: string | undefined): string {
  const home = homedir();
  if (!path || path === "~") return home;
  if (path.startsWith("~/")) return join(home, path.slice(2));
  return resolve(home, path);
}

function describeFailure(r: RunResult, timeout: number, stopReason?: string): string | undefined {
  if (r.error) return r.error; // a sentence naming what is wrong: "cwd /x does not exist"
  if (r.aborted) return stopReason ?? "stopped";
  if (r.timedOut) return `timed out after ${formatDuration(timeout)}; its process group was killed`;
  if (r.signal) return `killed by ${r.signal}`;
  if (r.exitCode !== 0) return `exit code ${r.exitCode}`;
  return undefined;
}

export interface RunningTask {
  order: Order;
  /** Stop it: the reason goes into its report; `state` is what it ends as (cancelled, failed). */
  stop(reason: string, state: "cancelled" | "failed"): void;
}

/** Runs `order` once (attempt `attempt`), journaling every step of its life (core/task-life.ts) durably. */
export async function runOne(
  m: Machine,
  journal: Journal,
  order: Order,
  now: () => Date,
  opts: { attempt?: number; onStart?: (t: RunningTask) => void } = {},
): Promise<TaskOutcome> {
  const attempt = opts.attempt ?? nextAttempt(order, journal.entry(order.id));
  const logFile = join(m.stateDir, "logs", `${order.id}.r${order.rev}.a${attempt}.log`);
  // Durable before the process exists: a crash from here on is an interruption, never a second run.
  await journal.apply(order.id, { kind: "start", rev: order.rev, attempt, at: now().toISOString(), log: logFile });
  const timeout = order.timeout ?? m.config.defaultTimeout;
  const cwd = expandHome(order.cwd);
  const controller = new AbortController();
  let stopped: { reason: string; state: "cancelled" | "failed" } | undefined;
  opts.onStart?.({
    order,
    stop: (reason, state) => {
      stopped ??= { reason, state };
      controller.abort();
    },
  });
  // runTask never throws; this is the last guard, so that a task that could not run is failed, never left in progress.
  const r = await runTask({
    ...(order.agent ? { argv: agentArgv(order), program: `the agent CLI ${order.agent}` } : { command: order.run! }),
    cwd,
    timeout,
    logFile,
    signal: controller.signal,
    env: {
      ...(process.env as Record<string, string>),
      ...order.env,
      COORD_MACHINE: m.config.name,
      COORD_ORDER: order.id,
      COORD_REV: String(order.rev),
      COORD_ATTEMPT: String(attempt),
      COORD_TASK: taskMarker(m.config.name, order.id, order.rev, attempt),
    },
    // The pid is a help for killing an orphan later; a failed write of it (a full disk) is not the task's failure.
    onStart: (pid) => void journal.apply(order.id, { kind: "pid", pid }).catch(() => {}),
  }).catch((e: unknown): RunResult => ({ exitCode: null, signal: null, timedOut: false, aborted: false, tail: "", error: `coord could not run it (${(e as Error).message})` }));
  const reason = describeFailure(r, timeout, stopped?.reason);
  const state = r.aborted && stopped ? stopped.state : reason ? "failed" : "completed";
  const secrets = (order.secrets ?? []).map((name) => order.env[name] ?? "").filter(Boolean);
  // A log that could not be written (a full disk) is said where the output is published.
  const output = [outputTail(r.tail, m.config.outputLines, 4000, secrets), r.logError && `[coord: ${r.logError}]`].filter(Boolean).join("\n");
  await journal.apply(order.id, { kind: "finish", state, exitCode: r.exitCode, at: now().toISOString(), ...(reason ? { reason } : {}), ...(output ? { output } : {}) });
  await pruneLogs(join(m.stateDir, "logs"), 500);
  return { id: order.id, rev: order.rev, state, exitCode: r.exitCode, ...(reason ? { reason } : {}) };
}

/** Keeps the newest `keep` log files. */
export async function pruneLogs(dir: string, keep: number): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  if (names.length <= keep) return;
  const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => b.t - a.t);
  await Promise.all(dated.slice(keep).map(({ n }) => rm(join(dir, n), { force: true })));
}
