// coord agent on-call (set, show, --off) and coord agent stop: a machine whose
// agent CLI answers the messages sent to it (sync/on-call.ts runs the turns).
import { stat } from "node:fs/promises";
import { ON_CALL_AGENTS, type OnCallSettings } from "../core/oncall/on-call.js";
import { BROADCAST } from "../core/messages/messages.js";
import { parseMessageId } from "../core/messages/messages.js";
import { CoordError, EXIT } from "../errors.js";
import { killGroup } from "../runner/run.js";
import { AGENT_CLIS, whichOf } from "../state/capabilities.js";
import { loadConfig, saveConfig } from "../state/config.js";
import { loadOnCall, parseOnCall, readOnCallState, type RunningTurn, updateOnCallState } from "../state/on-call.js";
import { expandHome } from "../state/paths.js";
import { pidAlive } from "../state/lock.js";
import { type Machine, openMachine } from "../sync/sync.js";
import { allowedDir } from "../sync/tasks.js";
import { lastKnown } from "./messages.js";

export interface OnCallOptions {
  dir: string;
  /** The CLI to put on call; absent with `off` absent: show the setting. */
  agent?: string;
  cwd?: string;
  /** Machine names, comma-separated or several, or ALL. */
  from?: string[];
  permissions?: string;
  maxTurns?: number;
  maxBudgetUsd?: number;
  timeout?: string;
  maxParallel?: number;
  dailyBudgetUsd?: number;
  model?: string;
  off?: boolean;
  /** PATH to look for the CLI on (default: this process's). */
  path?: string;
}

export interface OnCallShown {
  machine: string;
  settings?: OnCallSettings;
  /** What is wrong with the setting in machine.yaml. */
  problem?: string;
  /** What the command changed ("" when nothing). */
  changed?: string;
  /** Turns running now. */
  running: { thread: string; asker: string; since: string; step?: string; pid?: number; session?: string }[];
  /** Threads and their sessions. */
  threads: { thread: string; agent: string; session?: string; queued: number }[];
  spentToday?: number;
  /** What the CLI can and cannot do on call, in a sentence. */
  notes: string[];
}

/** What each CLI can do on call that a person should know when setting it. */
export const ON_CALL_NOTES: Record<string, string> = {
  claude: "claude: every turn gets --permission-mode, --max-turns and --max-budget-usd; each resume continues the session the last turn returned",
  codex: "codex: the sandbox goes on every turn as -c sandbox_mode (codex exec resume refuses -s); codex takes no turn or budget cap (timeout and dailyBudgetUsd still hold)",
  opencode: "opencode: read-only and edit deny what they do not allow (opencode run rejects every permission question unless full); it takes no turn or budget cap",
  cursor: "cursor: read-only (--mode plan) or full (--force) only; it takes no turn or budget cap",
};

/** Sets, shows or takes off this machine's on-call setting. */
export async function onCall(opts: OnCallOptions): Promise<OnCallShown> {
  const m = await openMachine(opts.dir);
  let changed: string | undefined;
  if (opts.off) {
    const config = (await loadConfig(m.stateDir))!;
    if (config.onCall !== undefined) {
      delete config.onCall;
      await saveConfig(m.stateDir, config);
      changed = "off call: no new turn starts (a running one finishes)";
    } else changed = "";
  } else if (opts.agent !== undefined) {
    const settings = await checkedSettings(m, opts);
    const config = (await loadConfig(m.stateDir))!;
    config.onCall = written(settings);
    await saveConfig(m.stateDir, config);
    changed = `on call with ${settings.agent} in ${settings.cwd} for ${settings.from === "ALL" ? "every machine" : settings.from.join(", ")}`;
  }
  return { ...(await shown(m)), ...(changed !== undefined ? { changed } : {}) };
}

/** The setting as machine.yaml keeps it: only what was given, defaults left out. */
function written(s: OnCallSettings): Record<string, unknown> {
  return {
    agent: s.agent,
    cwd: s.cwd,
    from: s.from,
    permissions: s.permissions,
    ...(s.maxTurns !== undefined ? { maxTurns: s.maxTurns } : {}),
    ...(s.maxBudgetUsd !== undefined ? { maxBudgetUsd: s.maxBudgetUsd } : {}),
    timeout: `${s.timeout}s`,
    maxParallel: s.maxParallel,
    ...(s.dailyBudgetUsd !== undefined ? { dailyBudgetUsd: s.dailyBudgetUsd } : {}),
    ...(s.model !== undefined ? { model: s.model } : {}),
  };
}

/** The setting the options ask for, checked: one sentence for the first thing wrong, nothing changed. */
async function checkedSettings(m: Machine, opts: OnCallOptions): Promise<OnCallSettings> {
  const usage = (text: string) => new CoordError(text, EXIT.USAGE);
  const agent = opts.agent!;
  if (!(ON_CALL_AGENTS as readonly string[]).includes(agent)) throw usage(`coord cannot put "${agent}" on call; give one of ${ON_CALL_AGENTS.join(", ")}`);
  const path = opts.path ?? process.env.PATH ?? "";
  const names = AGENT_CLIS.get(agent) ?? [agent];
  const found = (await Promise.all(names.map((n) => whichOf(n, path)))).some(Boolean);
  if (!found) throw usage(`${agent} is not on PATH (looked for ${names.join(" or ")}); install it, or put it on the PATH coord runs with`);
  if (!opts.cwd) throw usage("--cwd is required: the directory the agent works in (its sessions live there)");
  const dir = expandHome(opts.cwd);
  const st = await stat(dir).catch(() => undefined);
  if (!st) throw usage(`--cwd ${opts.cwd} does not exist; create it, or give the directory the agent should work in`);
  if (!st.isDirectory()) throw usage(`--cwd ${opts.cwd} is not a directory`);
  const allowed = await allowedDir(m, opts.cwd);
  if ("refused" in allowed) throw usage(`--cwd: ${allowed.refused}`);
  if (!opts.from?.length) throw usage("--from is required: the machines whose messages start turns (a list, or ALL); a machine is on call for no one by default");
  const list = opts.from
    .flatMap((f) => f.split(","))
    .map((f) => f.trim())
    .filter(Boolean);
  let from: string[] | "ALL";
  if (list.includes(BROADCAST)) {
    if (list.length > 1) throw usage("--from ALL stands alone: give ALL, or a list of machines");
    from = "ALL";
  } else {
    let model = await lastKnown(m);
    // Perhaps one registered since the last sync: look once more at the remote (offline, the last known state stands).
    if (list.some((n) => !model.machineNames.includes(n)) && (await m.hub.fetch().catch(() => undefined))) model = await lastKnown(m);
    const me = m.config.name;
    for (const name of list) {
      if (name === me) throw usage(`--from ${name}: that is this machine; its own messages never start a turn`);
      if (!model.machineNames.includes(name))
        throw usage(
          `--from: no machine "${name}" is registered (known: ${model.machineNames.filter((n) => n !== me).join(", ") || "none"}); check the name, or run coord sync to refresh`,
        );
    }
    from = [...new Set(list)];
  }
  if (!m.config.trust.verifyMachines)
    throw usage(
      "this machine does not verify other machines' signatures (trust.verifyMachines is false), and a turn starts only for a message whose signature verifies; run coord trust machines on first",
    );
  const raw = {
    agent,
    cwd: opts.cwd,
    from,
    permissions: opts.permissions ?? "read-only",
    ...(opts.maxTurns !== undefined ? { maxTurns: opts.maxTurns } : {}),
    ...(opts.maxBudgetUsd !== undefined ? { maxBudgetUsd: opts.maxBudgetUsd } : {}),
    ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
    ...(opts.maxParallel !== undefined ? { maxParallel: opts.maxParallel } : {}),
    ...(opts.dailyBudgetUsd !== undefined ? { dailyBudgetUsd: opts.dailyBudgetUsd } : {}),
    ...(opts.model !== undefined ? { model: opts.model } : {}),
  };
  const r = parseOnCall(raw);
  if ("problem" in r) throw usage(r.problem.replace(/^field onCall\.(\w+)/, (_, f: string) => `--${flagOf(f)}`));
  return r.settings;
}

const flagOf = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

async function shown(m: Machine): Promise<Omit<OnCallShown, "changed">> {
  const read = await loadOnCall(m.stateDir);
  const state = await readOnCallState(m.stateDir);
  const running: OnCallShown["running"] = [];
  const threads: OnCallShown["threads"] = [];
  for (const [thread, t] of Object.entries(state.threads)) {
    threads.push({ thread, agent: t.agent, ...(t.session ? { session: t.session } : {}), queued: t.queue.length });
    if (t.running) running.push(runningOf(thread, t.running));
  }
  const today = new Date().toISOString().slice(0, 10);
  return {
    machine: m.config.name,
    ...(read.settings ? { settings: read.settings } : {}),
    ...(read.problem ? { problem: read.problem } : {}),
    running,
    threads,
    ...(state.spent?.day === today ? { spentToday: state.spent.usd } : {}),
    notes: read.settings ? [ON_CALL_NOTES[read.settings.agent]!] : [],
  };
}

function runningOf(thread: string, r: RunningTurn): OnCallShown["running"][number] {
  const last = r.asks[r.asks.length - 1];
  return {
    thread,
    asker: last?.from ?? "?",
    since: r.startedAt,
    ...(r.step ? { step: r.step } : {}),
    ...(r.pid ? { pid: r.pid } : {}),
    ...(r.session ? { session: r.session } : {}),
  };
}

/**
 * Stops the running turn of a thread (its first message's id, or any message of it): recorded first, so its
 * engine answers "stopped", then its process group is sent SIGTERM, and SIGKILL after `graceMs`.
 */
export async function stopTurn(opts: { dir: string; thread: string; graceMs?: number; by?: string }): Promise<{ thread: string; pid?: number }> {
  const m = await openMachine(opts.dir);
  if (!parseMessageId(opts.thread))
    throw new CoordError(`"${opts.thread}" is not a message id; threads are named by their first message, like izzit7/soda-yeti/3 (coord agent on-call lists them)`, EXIT.USAGE);
  const hit = await updateOnCallState(m.stateDir, (state) => {
    for (const [root, t] of Object.entries(state.threads)) {
      if (root !== opts.thread && !(t.ids ?? []).includes(opts.thread)) continue;
      if (!t.running) return { root };
      t.running.stop ??= opts.by ?? "coord agent stop on this machine";
      return { root, pid: t.running.pid };
    }
    return undefined;
  });
  if (!hit) throw new CoordError(`no thread ${opts.thread} on this machine (coord agent on-call lists its threads)`, EXIT.USAGE);
  if (hit.pid === undefined) throw new CoordError(`nothing runs in thread ${hit.root} now`, EXIT.FAILURE);
  killGroup(hit.pid, "SIGTERM");
  const deadline = Date.now() + (opts.graceMs ?? 5000);
  while (pidAlive(hit.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (pidAlive(hit.pid)) killGroup(hit.pid, "SIGKILL");
  return { thread: hit.root, pid: hit.pid };
}
