// One `git cat-file --batch` that a checkout keeps open for its reads: the
// commits, trees and blobs of a tip (read.ts), the trees a publish edits
// (commit.ts). Each was a git process of its own before (an ls-tree and a
// cat-file for each branch), and starting a process (a fork of a large Node
// process) is the dearest part of a git command (docs/performance.md).
//
// Reads take turns; each has the checkout's deadline and abort. The process
// ends after IDLE_MS with nothing asked, and never keeps coord running. A
// record over the caller's cap is not read: git is stopped at its header and
// started again for the rest, so a blob made huge costs a process, not its
// bytes; the sizes of the rest of that read are then asked in one
// `--batch-check`, so that no other record stops it.
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { killTree } from "../platform/tree.js";
import { gitCommandEnv } from "./env.js";
import { GitFailed, GitStopped, runGit, startGit } from "./run.js";

/** One object as `cat-file --batch` gave it. */
export interface BatchRecord {
  /** The object's id; the name asked when git has no such object. */
  id: string;
  /** "blob", "tree", "commit" or "tag"; "missing" when git has no such object, or the name is ambiguous. */
  type: string;
  /** Its size in bytes (0 when missing). */
  size: number;
  /** Its content; undefined when missing or over the cap asked for it. */
  body?: Buffer;
}

/** How long the process is kept with nothing asked: a sync's reads come in bursts, a daemon's syncs seconds apart. */
export const IDLE_MS = 1000;

/** The most bytes git's diagnostics are kept of (a failure's message). */
const STDERR_KEPT = 4096;

export class ObjectBatch {
  private process?: BatchProcess;
  private turn: Promise<unknown> = Promise.resolve();
  private idle?: NodeJS.Timeout;

  constructor(
    private readonly dir: string,
    /** Milliseconds one read may take in all. */
    private readonly timeoutMs: number,
    private readonly signal?: AbortSignal,
  ) {}

  /**
   * The objects `names` name (ids, or names git resolves: `<commit>^{tree}`), one record each in their order;
   * `caps[i]`: the most bytes read of the i-th (beyond it, the record comes without its body).
   */
  read(names: readonly string[], caps?: readonly number[]): Promise<BatchRecord[]> {
    const bad = names.find((n) => n === "" || /[\n\r\0]/.test(n));
    if (bad !== undefined) return Promise.reject(new Error(`not an object name for cat-file --batch: ${JSON.stringify(bad)}`));
    const run = this.turn.then(() => this.readNow(names, caps));
    this.turn = run.catch(() => {});
    return run;
  }

  /** The running git's pid, if one runs (for tests). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Ends the process now (a checkout done with). */
  close(): void {
    clearTimeout(this.idle);
    this.process?.end(false);
    this.process = undefined;
  }

  private async readNow(names: readonly string[], caps: readonly number[] | undefined): Promise<BatchRecord[]> {
    clearTimeout(this.idle);
    const records: BatchRecord[] = [];
    const deadline = Date.now() + this.timeoutMs;
    // After a record over its cap, the sizes of the rest, asked in one --batch-check: no other stops git (found in
    // attack: 2,000 files just over their limit cost a process each, and every sync its deadline).
    let sized: Map<number, BatchRecord> | undefined;
    const skipped = (i: number) => {
      const known = sized?.get(i);
      return known !== undefined && (known.type === "missing" || known.size > (caps?.[i] ?? Number.POSITIVE_INFINITY)) ? known : undefined;
    };
    try {
      while (records.length < names.length) {
        if (this.signal?.aborted) throw new GitStopped("abort", "cat-file");
        const from = records.length;
        const known = skipped(from);
        if (known) {
          records.push(known);
          continue;
        }
        let to = from + 1;
        while (to < names.length && !skipped(to)) to++;
        if (this.process?.gone) this.process = undefined; // ended by someone else: started again
        this.process ??= new BatchProcess(this.dir);
        const got = await this.process.ask(names.slice(from, to), caps?.slice(from, to), deadline, this.signal);
        records.push(...got.records);
        if (got.stopped) {
          this.process = undefined;
          if (!sized && records.length < names.length) sized = await sizesOf(this.dir, names, records.length, deadline, this.signal);
        }
      }
      return records;
    } catch (e) {
      this.process?.end();
      this.process = undefined;
      throw e;
    } finally {
      this.process?.sleep();
      this.idle = setTimeout(() => this.close(), IDLE_MS).unref();
    }
  }
}

/** The type and size of each of `names` from `from` on, by index, in one `cat-file --batch-check`. */
async function sizesOf(dir: string, names: readonly string[], from: number, deadline: number, signal?: AbortSignal): Promise<Map<number, BatchRecord>> {
  const { env, config } = gitCommandEnv(dir);
  const rest = names.slice(from);
  const out = await runGit([...config, "cat-file", "--batch-check"], {
    cwd: dir,
    env,
    timeoutMs: Math.max(1, deadline - Date.now()),
    input: `${rest.join("\n")}\n`,
    ...(signal ? { signal } : {}),
  });
  const sizes = new Map<number, BatchRecord>();
  out
    .toString("utf8")
    .split("\n")
    .slice(0, rest.length)
    .forEach((line, i) => {
      const header = parseHeader(line);
      if (header) sizes.set(from + i, header);
    });
  return sizes;
}

/** A record's header as cat-file prints it: `<id> <type> <size>`, or `<name> missing` (ambiguous); undefined if neither. */
function parseHeader(line: string): BatchRecord | undefined {
  const at = line.lastIndexOf(" ");
  const last = line.slice(at + 1);
  if (last === "missing" || last === "ambiguous") return { id: line.slice(0, at), type: "missing", size: 0 };
  const first = line.indexOf(" ");
  const size = Number(last);
  if (first < 0 || first === at || !Number.isSafeInteger(size)) return undefined;
  return { id: line.slice(0, first), type: line.slice(first + 1, at), size };
}

/** The running `git cat-file --batch`: what is asked goes to its stdin, its records come back on its stdout. */
class BatchProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private stderr = "";
  private closed = false;
  /** The ask waiting for output; called on each chunk, and when the process is gone. */
  private listener?: () => void;

  constructor(dir: string) {
    const { env, config } = gitCommandEnv(dir);
    this.child = startGit([...config, "cat-file", "--batch"], { cwd: dir, env });
    this.child.stdout.on("data", (b: Buffer) => {
      this.chunks.push(b);
      this.buffered += b.length;
      this.listener?.();
    });
    this.child.stderr.on("data", (b: Buffer) => {
      if (this.stderr.length < STDERR_KEPT) this.stderr += b.toString("utf8").slice(0, STDERR_KEPT - this.stderr.length);
    });
    this.child.stdin.on("error", () => {}); // a git that is gone: its close says so
    const gone = () => {
      this.closed = true;
      this.listener?.();
    };
    this.child.on("error", (e) => {
      this.stderr ||= e.message;
      gone();
    });
    this.child.on("close", gone);
  }

  /**
   * Asks for `names` and reads their records; stops early, and ends the process, after a record over its cap
   * (`stopped`). Fails at `deadline` (ms since the epoch), on `signal`, or when git is gone.
   */
  ask(names: readonly string[], caps: readonly number[] | undefined, deadline: number, signal?: AbortSignal): Promise<{ records: BatchRecord[]; stopped: boolean }> {
    this.wake();
    return new Promise((resolve, reject) => {
      const records: BatchRecord[] = [];
      let header: BatchRecord | undefined;
      const finish = (error?: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.listener = undefined;
        if (error) {
          this.end();
          reject(error);
        }
      };
      const timer = setTimeout(() => finish(new GitStopped("timeout", "cat-file")), Math.max(0, Math.min(deadline - Date.now(), 2 ** 31 - 1)));
      const onAbort = () => finish(new GitStopped("abort", "cat-file"));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.listener = () => {
        for (;;) {
          if (!header) {
            const line = this.line();
            if (line === undefined) break;
            const parsed = parseHeader(line);
            if (!parsed) return finish(new GitFailed(`git cat-file --batch said ${JSON.stringify(line.slice(0, 200))}`, null));
            if (parsed.type === "missing") records.push(parsed);
            else {
              header = parsed;
              const cap = caps?.[records.length];
              if (cap !== undefined && header.size > cap) {
                records.push(header);
                finish();
                this.end();
                return resolve({ records, stopped: true });
              }
            }
          } else {
            if (this.buffered < header.size + 1) break;
            const data = this.take(header.size + 1);
            records.push({ ...header, body: data.subarray(0, header.size) });
            header = undefined;
          }
          if (records.length === names.length) {
            finish();
            return resolve({ records, stopped: false });
          }
        }
        if (this.closed) finish(new GitFailed(`git cat-file --batch ended${this.stderr ? `: ${this.stderr.trim()}` : ""}`, this.child.exitCode));
      };
      this.child.stdin.write(`${names.join("\n")}\n`);
      this.listener();
    });
  }

  /** The next line of output without its newline, taken; undefined when none is whole yet. */
  private line(): string | undefined {
    let offset = 0;
    for (const chunk of this.chunks) {
      const lf = chunk.indexOf(10);
      if (lf >= 0) {
        const line = this.take(offset + lf + 1);
        return line.toString("utf8", 0, line.length - 1);
      }
      offset += chunk.length;
    }
    return undefined;
  }

  /** The next `n` bytes of output, taken. */
  private take(n: number): Buffer {
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const chunk = this.chunks[0]!;
      if (chunk.length <= need) {
        parts.push(chunk);
        this.chunks.shift();
        need -= chunk.length;
      } else {
        parts.push(chunk.subarray(0, need));
        this.chunks[0] = chunk.subarray(need);
        need = 0;
      }
    }
    this.buffered -= n;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /** While it answers, it keeps coord running. */
  private wake(): void {
    this.child.ref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as { ref?(): void }).ref?.();
  }

  /** Between reads it does not keep coord running: its stdin closes when coord exits, and it exits with it. */
  sleep(): void {
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as { unref?(): void }).unref?.();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process has ended. */
  get gone(): boolean {
    return this.closed;
  }

  /** Ends it: at once (`kill`: it may be writing), or by closing its stdin (it has answered everything). */
  end(kill = true): void {
    this.listener = undefined;
    this.child.stdin.end();
    if (!kill) {
      this.sleep();
      return;
    }
    this.child.stdout.destroy();
    this.child.stderr.destroy();
    if (this.child.pid !== undefined && !this.closed) killTree(this.child.pid, "SIGKILL");
  }
}
