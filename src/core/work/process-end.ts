// How the process of a task or of a turn on call ended, in one vocabulary:
// what the runner saw (runner/run.ts RunResult), read once, in one order. A
// task's report and a turn's answer each say it in their own sentence, from
// this. Pure.
import { formatDuration } from "../time/duration.js";

export type ProcessEnd =
  /** It never ran: why (a sentence naming what is wrong: "cwd /x does not exist"). */
  | { how: "not-started"; error: string }
  /** Stopped on purpose: by whom or why, in words (a /stop, coord agent stop, a cancelled order, the daemon stopping). */
  | { how: "stopped"; by: string }
  /** It ran past its timeout (seconds): its process group was killed. */
  | { how: "timed-out"; after: number }
  /** It wrote nothing for its idle timeout (seconds): stopped as stuck. */
  | { how: "idle"; after: number }
  | { how: "killed"; signal: string }
  | { how: "exited"; code: number }
  | { how: "ok" };

/** What the runner saw of a process (runner/run.ts RunResult). */
export interface ProcessSeen {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  idle?: boolean;
  aborted: boolean;
  error?: string;
}

/**
 * How a process ended: it never ran; it was stopped (aborted here, or `stoppedBy` another process, recorded before
 * its signal); it timed out; it went silent; a signal; its exit code.
 */
export function processEnd(r: ProcessSeen, ctx: { timeout: number; idleTimeout?: number | undefined; stoppedBy?: string | undefined }): ProcessEnd {
  if (r.error) return { how: "not-started", error: r.error };
  if (ctx.stoppedBy !== undefined || r.aborted) return { how: "stopped", by: ctx.stoppedBy ?? "stopped" };
  if (r.timedOut) return { how: "timed-out", after: ctx.timeout };
  if (r.idle) return { how: "idle", after: ctx.idleTimeout ?? 0 };
  if (r.signal) return { how: "killed", signal: r.signal };
  if (r.exitCode !== 0) return { how: "exited", code: r.exitCode ?? -1 };
  return { how: "ok" };
}

/** Why a task failed, as its report says it (undefined: it did not). */
export function failureText(e: ProcessEnd): string | undefined {
  switch (e.how) {
    case "not-started":
      return e.error;
    case "stopped":
      return e.by;
    case "timed-out":
      return `timed out after ${formatDuration(e.after)}; its process group was killed`;
    case "idle":
      return `wrote nothing for ${formatDuration(e.after)} (idleTimeout); stopped as stuck, its process group was killed`;
    case "killed":
      return `killed by ${e.signal}`;
    case "exited":
      return `exit code ${e.code}`;
    case "ok":
      return undefined;
  }
}
