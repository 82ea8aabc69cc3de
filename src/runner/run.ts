// Runs one shell task: its own process group (so a timeout kills everything it
// started), the full output to a local log file up to a cap, the last lines
// kept for publishing.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { readFile } from "node:fs/promises";

export interface RunSpec {
  /** A shell command (run with /bin/sh -c), or… */
  command?: string;
  /** …an executable and its arguments, run without a shell. */
  argv?: string[];
  cwd: string;
  env: Record<string, string>;
  /** Seconds. */
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
  /** Aborting stops the task: SIGTERM to its group, SIGKILL after the grace. */
  signal?: AbortSignal;
}

export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Stopped through the abort signal. */
  aborted: boolean;
  /** The last part of the output (up to 64 KiB), raw. */
  tail: string;
  /** Error starting the process (for example a cwd that does not exist). */
  error?: string;
}

const TAIL_BYTES = 64 * 1024;
/** How long output is still read after the command exited, from processes it left holding its pipes. */
const PIPE_GRACE_MS = 1000;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

export async function runTask(spec: RunSpec): Promise<RunResult> {
  const log = createWriteStream(spec.logFile, { flags: "w" });
  const cap = spec.logCap ?? 10 * 1024 * 1024;
  let logged = 0;
  let tail = Buffer.alloc(0);
  let timedOut = false;

  const [file, ...args] = spec.argv ?? ["/bin/sh", "-c", spec.command ?? "true"];
  const child = spawn(file!, args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true, // a process group of its own
    stdio: [spec.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (spec.input !== undefined) {
    child.stdin!.on("error", () => {}); // a hook that does not read its stdin is fine
    child.stdin!.end(spec.input);
  }
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
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);

  const started = new Promise<void>((resolve) => child.once("spawn", resolve));
  const failed = once(child, "error").then(([e]) => e as Error);
  const exited = once(child, "exit").then(([code, signal]) => ({ code: code as number | null, signal: signal as string | null }));
  const closed = once(child, "close");

  const first = await Promise.race([started.then(() => undefined), failed]);
  if (first instanceof Error) {
    log.end();
    await once(log, "close");
    return { exitCode: null, signal: null, timedOut: false, aborted: false, tail: "", error: first.message };
  }
  spec.onStart?.(child.pid!);

  let killTimer: NodeJS.Timeout | undefined;
  let aborted = false;
  const stop = () => {
    killGroup(child.pid!, "SIGTERM");
    killTimer ??= setTimeout(() => killGroup(child.pid!, "SIGKILL"), (spec.killGrace ?? 5) * 1000);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, spec.timeout * 1000);
  const onAbort = () => {
    aborted = true;
    stop();
  };
  if (spec.signal?.aborted) onAbort();
  else spec.signal?.addEventListener("abort", onAbort, { once: true });

  // The task ends when its command exits. Output still in the pipes is read, but a process it left
  // in a session of its own (setsid: a service) may hold them for ever: it is not waited for.
  const { code, signal } = await exited;
  await Promise.race([closed, new Promise((r) => setTimeout(r, PIPE_GRACE_MS))]);
  child.stdout!.destroy();
  child.stderr!.destroy();
  clearTimeout(timer);
  spec.signal?.removeEventListener("abort", onAbort);
  // Whatever the shell left behind in its group goes with it.
  if (timedOut || aborted) killGroup(child.pid!, "SIGKILL");
  if (killTimer) clearTimeout(killTimer);
  log.end();
  await once(log, "close");
  return { exitCode: code, signal, timedOut, aborted, tail: tail.toString("utf8") };
}

/**
 * Stops the process group of a task that outlived a crashed coord, but only
 * when the process still carries the task's COORD_TASK marker (Linux /proc),
 * so a reused pid is never killed. Elsewhere it does nothing.
 */
export async function killOrphan(pid: number, marker: string): Promise<boolean> {
  try {
    const environ = await readFile(`/proc/${pid}/environ`, "utf8");
    if (!environ.split("\0").includes(`COORD_TASK=${marker}`)) return false;
  } catch {
    return false;
  }
  killGroup(pid, "SIGKILL");
  return true;
}
