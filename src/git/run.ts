// Running one git command: the process, its deadline, its abort, its output.
// Every git call of src/git goes through here.
//
// coord ran git through simple-git before. simple-git waits 50 ms after every
// command that prints nothing (a quiet fetch, an update-ref, a merge
// --ff-only), which was a third of a sync's time; what coord used of it is
// this file. Its rule for failure is kept: a command fails when it exits
// non-zero and says something on stderr; a non-zero exit with a silent stderr
// is an answer (`rev-parse --verify --quiet` of a missing ref, `merge-base
// --is-ancestor`, fsck's report on stdout), which the callers read as such.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { processSlot } from "../process-slot.js";
import { killTree, ownTree } from "../platform/tree.js";

/**
 * The git commands running now, by process group (each is one: detached, so that a deadline takes what it
 * started too), for whichever copy of this module started them (src/process-slot.ts): a signal coord dies of
 * takes them along (stopRunningGit), where the terminal's Ctrl-C would have reached git itself.
 */
const runningSlot = processSlot<{ groups: Set<number> }>("runningGit");
runningSlot.groups ??= new Set();
const running = runningSlot.groups;

/** Ends every git command running now with its group (SIGTERM: a clone removes what it made); the caller is going. */
export function stopRunningGit(): void {
  for (const group of running) killTree(group, "SIGTERM");
  running.clear();
}

export interface RunOptions {
  cwd: string;
  /** The whole environment of the command. */
  env: Record<string, string>;
  /** Milliseconds the command may take in all (a deadline, not an inactivity timeout); then it is killed. */
  timeoutMs: number;
  /** Written to the command's stdin, which is closed after it; without it, stdin is closed at once. */
  input?: string | Buffer;
  /** Aborting kills the command. */
  signal?: AbortSignal;
}

/** Said of a command coord stopped itself: its deadline passed, or its caller aborted. */
export class GitStopped extends Error {
  constructor(
    readonly why: "timeout" | "abort",
    command: string,
  ) {
    super(why === "timeout" ? `git ${command}: block timeout reached` : `git ${command}: Abort signal received`);
  }
}

/** A git command that failed: its output (stdout, then stderr) is the message, as git said it. */
export class GitFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

/**
 * Starts `git <args>` to talk to over its pipes (batch.ts: one `cat-file --batch` for many reads), in a group of
 * its own that a signal coord dies of takes along, as every git command; the caller ends it.
 */
export function startGit(args: string[], opts: { cwd: string; env: Record<string, string> }): ChildProcessWithoutNullStreams {
  const child = spawn("git", args, { cwd: opts.cwd, env: opts.env, ...ownTree(), stdio: ["pipe", "pipe", "pipe"] });
  const group = child.pid;
  if (group !== undefined) {
    running.add(group);
    child.on("exit", () => running.delete(group));
  }
  return child;
}

/** How long output is still read after git exited, from processes it left holding its pipes. */
const EXIT_GRACE_MS = 200;

/** Runs `git <args>`; resolves with its stdout (see the file's head for what counts as failing). */
export function runGit(args: string[], opts: RunOptions): Promise<Buffer> {
  const command = args.find((a) => !a.startsWith("-") && !a.includes("=")) ?? "";
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new GitStopped("abort", command));
    // A process group of its own: a git stopped at its deadline goes with what it started (ssh, a credential helper, an upload-pack).
    const child = spawn("git", args, { cwd: opts.cwd, env: opts.env, ...ownTree(), stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    const group = child.pid;
    if (group !== undefined) running.add(group);
    const signalGroup = (sig: NodeJS.Signals) => {
      if (group === undefined)
        child.kill(sig); // it did not start: no group
      else killTree(group, sig);
    };
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let stopped: GitStopped | undefined;
    const stop = (why: "timeout" | "abort") => {
      stopped ??= new GitStopped(why, command);
      signalGroup("SIGTERM");
      // A git that ignores SIGTERM (stuck in a helper that ignores it) is not waited for long; the group goes in any case.
      setTimeout(() => signalGroup("SIGKILL"), 2000).unref();
    };
    const deadline = setTimeout(() => stop("timeout"), Math.min(opts.timeoutMs, 2 ** 31 - 1));
    const onAbort = () => stop("abort");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      clearTimeout(deadline);
      opts.signal?.removeEventListener("abort", onAbort);
    };
    // Output read since the grace after git's exit began (see below): the grace starts again.
    let fresh = false;
    child.stdout!.on("data", (b: Buffer) => {
      out.push(b);
      fresh = true;
    });
    child.stderr!.on("data", (b: Buffer) => {
      err.push(b);
      fresh = true;
    });
    child.on("error", (e) => {
      done();
      reject(e);
    });
    let ended = false;
    let grace: NodeJS.Timeout | undefined;
    const end = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(grace);
      if (ended) return;
      ended = true;
      done();
      if (stopped) return reject(stopped);
      const stderr = Buffer.concat(err);
      if (signal) return reject(new GitFailed(`git ${command} was killed (${signal})${stderr.length ? `: ${stderr}` : ""}`, null));
      if (code !== 0 && stderr.length) return reject(new GitFailed(Buffer.concat([...out, stderr]).toString("utf8"), code));
      resolve(Buffer.concat(out));
    };
    // Done when its output is read to the end ("close"); a process it left behind holding the pipes (an
    // upload-pack that hangs, killed git's ssh) must not keep the call waiting: soon after git's exit, that is the end.
    child.on("close", end);
    child.on("exit", (code, signal) => {
      if (group !== undefined) running.delete(group);
      // It finished: a deadline or an abort from now on would stop nothing (and must not turn a push that landed into a failure).
      if (!stopped) done();
      // What git wrote is in the pipes already, but a loop that was busy past the grace runs the timer before it reads
      // them (timers come before I/O): the end waits for one more turn of the loop (setImmediate: after its reads),
      // and for a grace with nothing new read, so that git's output is never cut short; only a process git left
      // holding the pipes, silent, is left behind.
      const settle = () => {
        fresh = false;
        grace = setTimeout(
          () =>
            setImmediate(() => {
              if (ended) return;
              if (fresh) return settle();
              end(code, signal);
              child.stdout!.destroy();
              child.stderr!.destroy();
            }),
          EXIT_GRACE_MS,
        );
      };
      settle();
    });
    if (opts.input !== undefined) {
      child.stdin!.on("error", () => {}); // a command that exits before reading all of it: its exit says what happened
      child.stdin!.end(opts.input);
    }
  });
}
