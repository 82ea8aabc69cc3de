// Following coord.log (`coord logs -f`) while writers append and rotate it.
//
// A file is known by its inode, which survives the renames of a rotation:
// - listing: the log files as no rotation is half done (two listings agree);
// - reading: a file's bytes from an offset, wherever rotation has moved it;
// - lines: records from bytes that may end mid-line;
// - settling: rotated files a late append may still land in;
// - the follower: one tick reads what is new, and the loop polls until aborted.
import { open, stat } from "node:fs/promises";
import { type LogPosition, type LogRecord, logPath, parseLine, rotatedFiles, rotationLock } from "./logs.js";

/** A log file: where it is now, and which file it is. */
interface LogFile {
  path: string;
  ino: number;
}

/** How long a rotated file is still read for late appends. */
const SETTLE_MS = 2000;
/** Listings taken at most until two agree. */
const LISTINGS = 20;
/** Ticks in a row the file being read must be found under no name before it counts as gone. */
const UNFOUND_TICKS = 5;

/** The log files by inode, oldest first: coord.log.N … coord.log.1, coord.log. */
async function listOnce(stateDir: string): Promise<LogFile[]> {
  const found: LogFile[] = [];
  for (const f of [...(await rotatedFiles(stateDir)), logPath(stateDir)]) {
    const st = await stat(f).catch(() => undefined); // renamed or gone since the listing: not there
    if (st) found.push({ path: f, ino: st.ino });
  }
  return found;
}

const sameListing = (a: LogFile[], b: LogFile[]) => a.length === b.length && a.every((f, j) => f.path === b[j]!.path && f.ino === b[j]!.ino);

/** Runs `f` with rotations held off (the writers' rotation lock); without it when the lock cannot be had. */
async function holdingRotation<T>(stateDir: string, f: () => Promise<T>): Promise<T> {
  const release = await rotationLock(logPath(stateDir));
  try {
    return await f();
  } finally {
    // The lock already gone (taken over as stale): nothing left to release.
    await release?.().catch(() => {});
  }
}

/**
 * The log files, oldest first, as no rotation is half done (a rotation
 * renames every file): listed with rotations held off, and listed again
 * until two listings agree, for a rotation that did not take the lock (a
 * listing torn by a rename can miss a file).
 */
export function stableListing(stateDir: string): Promise<LogFile[]> {
  return holdingRotation(stateDir, async () => {
    let list = await listOnce(stateDir);
    for (let i = 0; i < LISTINGS; i++) {
      const again = await listOnce(stateDir);
      if (sameListing(again, list)) break;
      list = again;
    }
    return list;
  });
}

/** The bytes of the file with inode `want` from `from`, wherever rotation has moved it; undefined when it is not found. */
async function readInoOnce(stateDir: string, want: number, from: number): Promise<Buffer | undefined> {
  for (const f of [logPath(stateDir), ...(await rotatedFiles(stateDir))]) {
    const fh = await open(f, "r").catch(() => undefined); // renamed or gone since the listing: look at the next name
    if (!fh) continue;
    try {
      const st = await fh.stat();
      if (st.ino !== want) continue;
      if (st.size <= from) return Buffer.alloc(0);
      const buf = Buffer.alloc(st.size - from);
      const { bytesRead } = await fh.read(buf, 0, buf.length, from);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
  return undefined;
}

/** The same; a file not found (mid-rotation, renamed under our feet) is looked for again with rotations held off. */
export async function readFrom(stateDir: string, want: number, from: number): Promise<Buffer | undefined> {
  return (await readInoOnce(stateDir, want, from)) ?? (await holdingRotation(stateDir, () => readInoOnce(stateDir, want, from)));
}

/** Records from chunks of bytes; an unfinished last line waits for the rest of it. */
class Lines {
  private partial = Buffer.alloc(0);

  /** The complete lines' records; `final`: no more bytes come to this file, its unfinished line is dropped. */
  push(chunk: Buffer, final: boolean): LogRecord[] {
    const records: LogRecord[] = [];
    let data = this.partial.length ? Buffer.concat([this.partial, chunk]) : chunk;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10)) {
      const r = parseLine(data.subarray(0, nl).toString("utf8"));
      data = data.subarray(nl + 1);
      if (r) records.push(r);
    }
    this.partial = final ? Buffer.alloc(0) : Buffer.from(data);
    return records;
  }

  reset(): void {
    this.partial = Buffer.alloc(0);
  }
}

/** The records of the complete lines at the start of `chunk`, and how many bytes they take. */
function completeLines(chunk: Buffer): { records: LogRecord[]; bytes: number } {
  const bytes = chunk.lastIndexOf(10) + 1;
  const records: LogRecord[] = [];
  if (bytes > 0)
    for (const line of chunk.subarray(0, bytes).toString("utf8").split("\n")) {
      const r = parseLine(line);
      if (r) records.push(r);
    }
  return { records, bytes };
}

/**
 * Rotated files read to their end a moment ago: an append that opened
 * coord.log just before it was renamed may still land there. Their new
 * complete lines are read for a while yet (so they come late, never not at all).
 */
class Settling {
  private readonly files = new Map<number, { offset: number; until: number }>();

  constructor(private readonly stateDir: string) {}

  add(ino: number, offset: number): void {
    this.files.set(ino, { offset, until: Date.now() + SETTLE_MS });
  }

  delete(ino: number): void {
    this.files.delete(ino);
  }

  /** The late lines of every settling file. */
  async read(deliver: (r: LogRecord) => void): Promise<void> {
    for (const [ino, s] of this.files) {
      const chunk = await readFrom(this.stateDir, ino, s.offset);
      if (chunk) {
        const { records, bytes } = completeLines(chunk);
        for (const r of records) deliver(r);
        s.offset += bytes;
      }
      if (!chunk || Date.now() > s.until) this.files.delete(ino);
    }
  }
}

/** Where the follower is: the file it reads (by inode) and how far. */
class Follower {
  private readonly path: string;
  private readonly lines = new Lines();
  private readonly settling: Settling;
  /** Ticks in a row our file was found under no name (UNFOUND_TICKS: it is gone). */
  private unfound = 0;

  private constructor(
    private readonly stateDir: string,
    private ino: number | undefined,
    private offset: number,
    /** The files there before we started (when coord.log itself was not), all already read. */
    private readonly startedWith: Set<number>,
  ) {
    this.path = logPath(stateDir);
    this.settling = new Settling(stateDir);
  }

  /** From `since`, else from the end of coord.log, else (no coord.log yet) from the first file that is not there now. */
  static async start(stateDir: string, since: LogPosition | undefined): Promise<Follower> {
    if (since) return new Follower(stateDir, since.ino, since.offset, new Set());
    const st = await stat(logPath(stateDir)).catch(() => undefined); // no coord.log yet
    if (st) return new Follower(stateDir, st.ino, st.size, new Set());
    const startedWith = new Set<number>();
    for (const f of await rotatedFiles(stateDir)) {
      const old = await stat(f).catch(() => undefined); // rotated away since the listing: not there
      if (old) startedWith.add(old.ino);
    }
    return new Follower(stateDir, undefined, 0, startedWith);
  }

  /** Delivers what was appended since the last tick. */
  async tick(deliver: (r: LogRecord) => void): Promise<void> {
    const emit = (chunk: Buffer, final: boolean) => {
      for (const r of this.lines.push(chunk, final)) deliver(r);
    };
    await this.settling.read(deliver);
    const st = await stat(this.path).catch(() => undefined); // between a rotation and the next append
    if (st && st.ino === this.ino) {
      if (st.size < this.offset) {
        this.offset = 0; // truncated in place
        this.lines.reset();
      }
      if (st.size > this.offset) {
        // By inode: coord.log may have rotated since the stat.
        const chunk = (await readFrom(this.stateDir, st.ino, this.offset)) ?? Buffer.alloc(0);
        this.offset += chunk.length;
        emit(chunk, false);
      }
      return;
    }
    // Rotated (once or more, and coord.log may not exist again yet): the rest
    // of the file we were reading, then every newer file, oldest first.
    const list = await stableListing(this.stateDir);
    const at = this.ino === undefined ? -1 : list.findIndex((f) => f.ino === this.ino);
    if (at >= 0 && list[at]!.path === this.path) return; // it came back under its name: read at the next tick
    let next: number;
    if (at >= 0) this.unfound = 0;
    if (at >= 0) {
      const rest = (await readFrom(this.stateDir, list[at]!.ino, this.offset)) ?? Buffer.alloc(0);
      this.offset += rest.length; // stays ours until a newer file is read
      emit(rest, true);
      next = at + 1;
    } else {
      // Our file is still there, only not in this listing: look again at the next tick.
      if (this.ino !== undefined && (await readFrom(this.stateDir, this.ino, this.offset)) !== undefined) return;
      // Not found either: a listing and a read torn by renames can both miss a file that is there (a rotation
      // without the lock). Only when it stays unfound is it gone (rotated out of reach), and the rest skipped:
      // jumping on at once would read newer files first and our file's rest after them.
      if (this.ino !== undefined && ++this.unfound < UNFOUND_TICKS) return;
      this.unfound = 0;
      this.lines.reset();
      // Never seen a file yet: every file that appeared since we started is new.
      // Lost track (our file rotated out of reach): the rotated files are older, start at coord.log.
      next = this.ino === undefined ? list.findIndex((f) => !this.startedWith.has(f.ino)) : list.findIndex((f) => f.path === this.path);
      if (next < 0) next = list.length;
    }
    for (const f of list.slice(next)) {
      if (this.ino !== undefined && this.ino !== f.ino) this.settling.add(this.ino, this.offset); // left behind: late appends are still read
      const chunk = (await readFrom(this.stateDir, f.ino, 0)) ?? Buffer.alloc(0);
      // Remember the last file read, rotated or not: the next tick goes on after it.
      this.ino = f.ino;
      this.settling.delete(f.ino);
      this.offset = chunk.length;
      emit(chunk, f.path !== this.path);
    }
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Calls `onRecord` for each record appended from now on (or from `since`),
 * polling every `intervalMs` (200 ms); follows rotation (the rest of the old
 * file first, then the new one). Resolves when `signal` aborts. `started`: told
 * once it has taken its place ("now"), before its first poll.
 */
export async function followLogs(
  stateDir: string,
  onRecord: (r: LogRecord) => void,
  signal: AbortSignal,
  opts: { intervalMs?: number; since?: LogPosition; started?: () => void } = {},
): Promise<void> {
  const interval = opts.intervalMs ?? 200;
  const follower = await Follower.start(stateDir, opts.since);
  opts.started?.();
  const deliver = (r: LogRecord) => {
    if (!signal.aborted) onRecord(r);
  };
  while (!signal.aborted) {
    try {
      await follower.tick(deliver);
    } catch {
      // A file renamed or removed between its stat and its read (ENOENT mid-rotation), or any error of
      // one poll: the follower keeps its place and looks again at the next tick; it never stops by itself.
    }
    if (signal.aborted) break;
    await pause(interval, signal);
  }
}
