// Runs one shell task: its own process group (so a timeout kills everything it
// started), the full output to a local log file up to a cap, the last lines
// kept for publishing.
import { spawn, type ChildProcess } from "node:child_process";
import { constants, createWriteStream } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import { dirname, resolve as resolvePath } from "node:path";
import { finished } from "node:stream/promises";
import { StringDecoder } from "node:string_decoder";
import { setLongTimeout, within } from "./timer.js";
import { timings } from "../timings.js";
import { carriesMarker as carries, processesCarrying } from "../platform/processes.js";
import { killTree, ownTree, treeAlive } from "../platform/tree.js";

export interface RunSpec {
  /** A shell command (run with /bin/sh -c), or… */
  command?: string;
  /** …an executable and its arguments, run without a shell. */
  argv?: string[];
  cwd: string;
  env: Record<string, string>;
  /** Seconds; any value is safe (a long one is waited for in chunks, Infinity never times out). */
  timeout: number;
  logFile: string;
  /** Bytes of output written to the log file at most. */
  logCap?: number;
  /** Seconds between SIGTERM and SIGKILL on timeout. */
  killGrace?: number;
  /** Called with the child's pid once it started. */
  onStart?: (pid: number) => void;
  /** Written to the process's stdin (which is otherwise empty). */
  input?: string;
  /** Each given to the process on its own pipe, as fds 3, 4, …, then closed (bubblewrap's --seccomp reads one). */
  fdInputs?: Uint8Array[];
  /** Aborting stops the task: SIGTERM to its group, SIGKILL after the grace. */
  signal?: AbortSignal;
  /** How the program is named when it cannot start, e.g. "the agent CLI claude" (default: its file). */
  program?: string;
  /** Seconds without any output after which the task is stopped as stuck (default: never). */
  idleTimeout?: number;
  /** Called with each line the program writes on stdout (an agent's JSON events). */
  onLine?: (line: string) => void;
  /**
   * Set in its environment; when the task is stopped (timeout, idle, abort), every process that carries it is
   * stopped with its group: those it put in sessions of their own too (Linux).
   */
  marker?: Marker;
  /** Behind the shield (sync/sandbox.ts): files it must see where it sees nothing else (its turn's own MCP config). */
  sees?: readonly string[];
}

export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Stopped because it wrote nothing for `idleTimeout` seconds. */
  idle?: boolean;
  /** Stopped through the abort signal. */
  aborted: boolean;
  /** The last part of the output (up to 64 KiB), raw. */
  tail: string;
  /** Why the process could not start, as a sentence (for example "cwd /x does not exist"). */
  error?: string;
  /** Why the output log could not be written (a full disk): the task ran on, its tail is kept. */
  logError?: string;
}

const TAIL_BYTES = 64 * 1024;

/** A variable set in a run's environment that every process it starts inherits: what it started is known by it. */
export interface Marker {
  variable: string;
  value: string;
}

/**
 * The processes that carry `marker` in their environment, this one left out: what a run started, those it put in
 * sessions of their own included (codex runs each command in one). platform/processes.ts: /proc on Linux, ps on macOS.
 */
export const markedProcesses = (marker: Marker): Promise<number[]> => processesCarrying(marker.variable, marker.value);

const killOne = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(pid, signal);
  } catch {
    // Gone already.
  }
};

/** Sends `signal` to the group `pid` leads and to every process carrying `marker`; whether any of them is left. */
async function signalAll(target: { pid?: number; marker?: Marker }, signal: NodeJS.Signals | 0): Promise<boolean> {
  const marked = target.marker ? await markedProcesses(target.marker) : [];
  if (signal !== 0) {
    if (target.pid !== undefined) killTree(target.pid, signal);
    for (const pid of marked) killOne(pid, signal);
  }
  return (target.pid !== undefined && treeAlive(target.pid)) || marked.length > 0;
}

/**
 * Stops everything a run started: SIGTERM to the process group `pid` leads and to every process that carries
 * `marker` (Linux: those the program put in sessions of their own, out of its group), then SIGKILL to what is left
 * after `graceS` seconds. Resolves when all of it is gone, or at worst a second after the SIGKILL. The one way coord
 * stops a task, a turn on call or a service.
 */
export async function stopProcesses(target: { pid?: number; marker?: Marker }, graceS: number): Promise<void> {
  if (!(await signalAll(target, "SIGTERM"))) return;
  const deadline = Date.now() + graceS * 1000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, target.marker ? 100 : 50));
    if (!(await signalAll(target, 0))) return;
  }
  await signalAll(target, "SIGKILL");
  const last = Date.now() + 1000;
  while ((await signalAll(target, 0)) && Date.now() < last) await new Promise((r) => setTimeout(r, 20));
}

/** What no program can be given (spawn refuses it): a NUL byte in the command, cwd or environment. */
export function nulProblem(spec: Pick<RunSpec, "command" | "cwd" | "env">, file: string, args: string[], program: string): string | undefined {
  const what = "a NUL byte, which no program can be given";
  if ([file, ...args].some((a) => a.includes("\0"))) return spec.command !== undefined ? `the command contains ${what}` : `the command line of ${program} contains ${what}`;
  if (spec.cwd.includes("\0")) return `the cwd contains ${what}`;
  for (const [name, value] of Object.entries(spec.env))
    if (name.includes("\0") || (typeof value === "string" && value.includes("\0"))) return `env ${JSON.stringify(name)} contains ${what}`;
  return undefined;
}

/** The sentence for a process that could not start: what is wrong, named. */
export async function startProblem(e: NodeJS.ErrnoException, spec: Pick<RunSpec, "cwd" | "env">, file: string, args: string[], program: string): Promise<string> {
  const cwd = await stat(spec.cwd).catch((err: NodeJS.ErrnoException) => err);
  if (cwd instanceof Error) {
    if (cwd.code === "ENOENT") return `cwd ${spec.cwd} does not exist`;
    if (cwd.code === "ENOTDIR") return `cwd ${spec.cwd} is not a directory`;
    if (cwd.code === "EACCES") return `cwd ${spec.cwd} cannot be reached (permission denied)`;
  } else if (!cwd.isDirectory()) return `cwd ${spec.cwd} is not a directory`;
  switch (e.code) {
    case "ENOENT":
      return file.includes("/") ? `${program} does not exist` : `${program} is not on PATH`;
    case "ENOTDIR":
      return `${program} does not exist (a part of its path is not a directory)`;
    case "EACCES":
    case "EPERM":
      if (
        await access(spec.cwd, constants.X_OK).then(
          () => false,
          () => true,
        )
      )
        return `cwd ${spec.cwd} cannot be entered (permission denied)`;
      return `${program} cannot be run (permission denied: is it executable?)`;
    case "ENOEXEC":
      return `${program} is not a program this system can run`;
    case "E2BIG": {
      const bytes = [file, ...args, ...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`)].reduce((n, s) => n + Buffer.byteLength(s) + 1, 0);
      return `its command line and environment are too large for the system to start it (E2BIG: ${Math.ceil(bytes / 1024)} KB, or one value over 128 KB); pass large values through a file instead`;
    }
    default:
      return `${program} could not be started (${e.code ?? e.message})`;
  }
}

/** The output log: written while it can be; a write error (a full disk, a missing directory) is kept, never thrown. */
async function openLog(path: string) {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch(() => {});
  // Only its owner reads it: a task's whole output (an agent's too) may hold what is redacted from what is published.
  // Never through a link (an agent's, in coord's state directory), nor blocking on a FIFO there.
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const stream = createWriteStream(path, { flags: flags as unknown as string, mode: 0o600 });
  let error: NodeJS.ErrnoException | undefined;
  stream.on("error", (e) => (error ??= e));
  return {
    write: (data: Buffer | string) => {
      if (!error && !stream.destroyed) stream.write(data);
    },
    /** Closes it; returns why it could not be written, if it could not. */
    close: async (): Promise<string | undefined> => {
      if (!stream.destroyed) stream.end();
      await finished(stream).catch(() => {});
      return error ? `the output log ${path} could not be written (${error.code ?? error.message}); the task ran on and its last lines are kept` : undefined;
    },
  };
}

/**
 * The environment of a process started in `cwd`: PWD says where it runs. A shell sets PWD itself, but a program
 * started directly takes it from its parent (OpenCode takes its directory from $PWD, not from the process's working
 * directory: with the daemon's PWD it worked in the daemon's checkout).
 */
export function envIn(env: Readonly<Record<string, string | undefined>>, cwd: string): Record<string, string | undefined> {
  return { ...env, PWD: resolvePath(cwd) };
}

/**
 * Runs one task. It never throws: a process that cannot start (a missing cwd
 * or program, a NUL byte, E2BIG) comes back with `error`, a log that cannot be
 * written with `logError`.
 */
export async function runTask(spec: RunSpec): Promise<RunResult> {
  const log = await openLog(spec.logFile);
  const cap = spec.logCap ?? 10 * 1024 * 1024;
  let logged = 0;
  let tail = Buffer.alloc(0);
  let timedOut = false;

  const [file, ...args] = spec.argv ?? ["/bin/sh", "-c", spec.command ?? "true"];
  const program = spec.program ?? file!;
  const notStarted = async (error: string): Promise<RunResult> => {
    log.write(`[coord: ${error}]\n`);
    const logError = await log.close();
    return { exitCode: null, signal: null, timedOut: false, aborted: false, tail: "", error, ...(logError ? { logError } : {}) };
  };
  const marker = spec.marker;
  const env = envIn(marker ? { ...spec.env, [marker.variable]: marker.value } : spec.env, spec.cwd);
  const refused = nulProblem(spec, file!, args, program);
  if (refused) return notStarted(refused);
  let child: ChildProcess;
  try {
    child = spawn(file!, args, {
      cwd: spec.cwd,
      env,
      ...ownTree(), // a process group of its own (platform/tree.ts)
      stdio: [spec.input === undefined ? "ignore" : "pipe", "pipe", "pipe", ...(spec.fdInputs ?? []).map(() => "pipe" as const)],
    });
  } catch (e) {
    // Some errors are thrown at once (E2BIG, ENOTDIR, an invalid argument), others come as 'error'.
    return notStarted(await startProblem(e as NodeJS.ErrnoException, spec, file!, args, program));
  }
  // Resolved once: spawned, or why not. A later 'error' (a kill that failed) changes nothing.
  const first = new Promise<Error | undefined>((resolve) => {
    child.once("spawn", () => resolve(undefined));
    child.on("error", (e) => resolve(e));
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  if (spec.input !== undefined) {
    child.stdin!.on("error", () => {}); // a hook that does not read its stdin is fine
    child.stdin!.end(spec.input);
  }
  (spec.fdInputs ?? []).forEach((bytes, n) => {
    const pipe = child.stdio[3 + n] as NodeJS.WritableStream & { on(e: "error", f: () => void): unknown };
    pipe.on("error", () => {});
    pipe.end(bytes);
  });
  const onData = (chunk: Buffer) => {
    if (logged < cap) {
      const part = chunk.subarray(0, cap - logged);
      log.write(part);
      logged += part.length;
      if (logged >= cap) log.write(`\n[coord: log truncated at ${cap} bytes]\n`);
    }
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > TAIL_BYTES) tail = tail.subarray(tail.length - TAIL_BYTES);
  };
  for (const out of [child.stdout!, child.stderr!]) {
    out.on("data", onData);
    out.on("error", () => {});
  }
  // stdout as lines for a reader of the program's own account (an agent's JSON events); a line is bounded like the tail.
  let partial = "";
  let overlong = false;
  const lines = spec.onLine;
  if (lines) {
    const decoder = new StringDecoder("utf8"); // a character split across chunks stays whole
    child.stdout!.on("data", (chunk: Buffer) => {
      const parts = (partial + decoder.write(chunk)).split("\n");
      partial = parts.pop() ?? "";
      // A line of over 1 MiB is no event anyone can read: it is skipped whole, up to its newline (its tail is never taken for a line).
      const first = overlong ? parts.shift() : undefined;
      if (first !== undefined) overlong = false;
      for (const line of parts) lines(line);
      if (partial.length > TAIL_BYTES * 16) {
        partial = "";
        overlong = true;
      }
    });
  }

  const failed = await first;
  if (failed) return notStarted(await startProblem(failed as NodeJS.ErrnoException, spec, file!, args, program));
  spec.onStart?.(child.pid!);

  let killTimer: NodeJS.Timeout | undefined;
  let aborted = false;
  const grace = spec.killGrace ?? timings.killGraceS;
  const stop = () => {
    void signalAll({ pid: child.pid!, ...(marker ? { marker } : {}) }, "SIGTERM");
    killTimer ??= setTimeout(() => void signalAll({ pid: child.pid!, ...(marker ? { marker } : {}) }, "SIGKILL"), grace * 1000);
  };
  const cancelTimer = setLongTimeout(() => {
    timedOut = true;
    stop();
  }, spec.timeout * 1000);
  // Stuck: nothing written for idleTimeout seconds (re-armed at every chunk of output).
  let idle = false;
  let cancelIdle = () => {};
  const armIdle = () => {
    if (spec.idleTimeout === undefined || idle || timedOut) return;
    cancelIdle();
    cancelIdle = setLongTimeout(() => {
      idle = true;
      stop();
    }, spec.idleTimeout * 1000);
  };
  armIdle();
  if (spec.idleTimeout !== undefined) for (const out of [child.stdout!, child.stderr!]) out.on("data", armIdle);
  const onAbort = () => {
    aborted = true;
    stop();
  };
  if (spec.signal?.aborted) onAbort();
  else spec.signal?.addEventListener("abort", onAbort, { once: true });

  // The task ends when its command exits. Output still in the pipes is read, but a process it left
  // in a session of its own (setsid: a service) may hold them for ever: it is not waited for.
  const { code, signal } = await exited;
  await within(closed, timings.pipeGraceMs); // its timer cleared: one left armed would keep a `coord sync` alive for the grace
  child.stdout!.destroy();
  child.stderr!.destroy();
  cancelTimer();
  cancelIdle();
  spec.signal?.removeEventListener("abort", onAbort);
  if (lines && partial && !overlong) lines(partial);
  if (killTimer) clearTimeout(killTimer);
  // Whatever the shell left behind in its group goes with it, and what carries its marker out of the group.
  if (timedOut || aborted || idle) {
    killTree(child.pid!, "SIGKILL");
    if (marker) await stopProcesses({ marker }, grace);
  }
  const logError = await log.close();
  return { exitCode: code, signal, timedOut, aborted, ...(idle ? { idle } : {}), tail: tail.toString("utf8"), ...(logError ? { logError } : {}) };
}

/**
 * Stops the process group of a task that outlived a crashed coord, but only
 * when the process still carries the task's COORD_TASK marker (or `variable`'s: an on-call turn's) (Linux /proc),
 * so a reused pid is never killed, and every other process that carries it. Elsewhere it does nothing. `pid`
 * undefined: coord stopped before it recorded the pid (it is written after the start): the marked processes alone.
 */
export async function killOrphan(pid: number | undefined, marker: string, variable = "COORD_TASK"): Promise<boolean> {
  const leader = pid !== undefined && (await carriesMarker(pid, marker, variable)) === true;
  if (leader) killTree(pid!, "SIGKILL");
  // What it put in sessions of its own carries the marker too, its leader gone or not.
  const marked = await markedProcesses({ variable, value: marker });
  for (const p of marked) killOne(p, "SIGKILL");
  return leader || marked.length > 0;
}

/**
 * Whether process `pid` carries `variable=marker` in its environment: false when it does not or is gone, undefined
 * where that cannot be told (no process table).
 */
export const carriesMarker = (pid: number, marker: string, variable = "COORD_TASK"): Promise<boolean | undefined> => carries(pid, variable, marker);
