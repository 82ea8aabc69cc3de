// A service's process: started in a process group of its own with its output
// appended straight to a log file (not a pipe: the service outlives a daemon
// that crashes, and a pipe with nobody reading it would stop it), recognised
// again later by its pid and its mark (processMark), stopped with its whole group.
import { spawn } from "node:child_process";
import { closeSync } from "node:fs";
import { openOwnAppendSync } from "../state/files.js";
import { copyFile, mkdir, open, stat, truncate } from "node:fs/promises";
import { dirname } from "node:path";
import { envIn, nulProblem, startProblem, stopProcesses } from "./run.js";
import { processMark } from "../platform/processes.js";
import { ownTree } from "../platform/tree.js";

export { treeAlive } from "../platform/tree.js";

export interface ServiceSpawn {
  /** A shell command, run with /bin/sh -c. */
  command: string;
  cwd: string;
  env: Record<string, string>;
  /** Output (stdout and stderr) is appended here. */
  logFile: string;
}

export interface Spawned {
  pid: number;
  /** A mark of the process (platform/processes.ts processMark), to know it again. */
  start?: string;
  /** Settles when it exits. */
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/** Starts a service; never throws: a process that cannot start comes back with why, as a sentence. */
export async function spawnService(spec: ServiceSpawn): Promise<Spawned | { error: string }> {
  const args = ["-c", spec.command];
  const refused = nulProblem(spec, "/bin/sh", args, "/bin/sh");
  if (refused) return { error: refused };
  let fd: number;
  try {
    await mkdir(dirname(spec.logFile), { recursive: true });
    fd = openOwnAppendSync(spec.logFile); // O_APPEND: the log can be cut short under it (boundLog); never through a link
  } catch (e) {
    return { error: `its output log ${spec.logFile} cannot be opened (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  try {
    const child = spawn("/bin/sh", args, { cwd: spec.cwd, env: envIn(spec.env, spec.cwd), ...ownTree(), stdio: ["ignore", fd, fd] });
    const started = await new Promise<Error | undefined>((resolve) => {
      child.once("spawn", () => resolve(undefined));
      child.once("error", (e) => resolve(e));
    });
    if (started) return { error: await startProblem(started as NodeJS.ErrnoException, spec, "/bin/sh", args, "/bin/sh") };
    child.on("error", () => {}); // a later error (a kill that failed) changes nothing
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    child.unref(); // the daemon's own life does not wait for its services
    const pid = child.pid!;
    const start = await processMark(pid);
    return { pid, ...(start ? { start } : {}), exited };
  } catch (e) {
    return { error: await startProblem(e as NodeJS.ErrnoException, spec, "/bin/sh", args, "/bin/sh") };
  } finally {
    closeSync(fd);
  }
}

/** A mark to know process `pid` again, and the check of one: platform/processes.ts. */
export { isSameProcess, processMark } from "../platform/processes.js";

/**
 * Stops the process group `pid` leads: SIGTERM, then SIGKILL after `graceS`
 * seconds if any of it is left (runner/run.ts stopProcesses, the one stopper).
 */
export const stopGroup = (pid: number, graceS: number): Promise<void> => stopProcesses({ pid }, graceS);

/** Keeps a service's log under `cap` bytes: past it, the log becomes `<log>.1` (the one before is dropped) and starts empty. */
export async function boundLog(path: string, cap: number): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (!st || st.size <= cap) return;
  await copyFile(path, `${path}.1`);
  await truncate(path, 0); // the service appends (O_APPEND): its next line starts the file again
}

/** The last `bytes` of a file (or less), as text; "" when it cannot be read. */
export async function readTail(path: string, bytes: number): Promise<string> {
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return "";
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString("utf8");
  } catch {
    return "";
  } finally {
    await handle.close().catch(() => {});
  }
}
