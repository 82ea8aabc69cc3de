// coord's own structured log: one JSON line per sync and per task in
// <stateDir>/coord.log, rotated by size (coord.log.1 is the newest old file).
//
// Several processes (the daemon, a `coord sync` by hand) append at once. Each
// line is written by a single appendFile (O_APPEND, one write of a short
// string), so lines never interleave; rotation renames files under a small
// lock, and an append that races a rotation lands whole in one file or the
// other. Nothing here throws for a bad line: a reader skips it.
// Following the log while it rotates is src/state/log-follow.ts.
import { constants } from "node:fs";
// fs's own rename, not platform/files.ts's: this module runs alone in other processes (test/logs.e2e.test.ts), and a
// rotation refused for a moment on Windows costs no line (the next append rotates).
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { timings } from "../timings.js";

export const LOG_FILE = "coord.log";
/** Where the crontab line sends a scheduled sync's output (in the state dir). */
export const CRON_LOG = "cron.log";
export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_KEEP = 3;
/** A line this long or shorter is written by one write() and never interleaves with another. */
const ATOMIC_LINE = 4000;

/** One sync cycle. */
export interface SyncLogRecord {
  kind: "sync";
  at: string;
  machine: string;
  ok: boolean;
  durationMs: number;
  ran: { id: string; state: string }[];
  /** The commit pushed, if any. */
  pushed?: string;
  /** Messages delivered to this machine. */
  delivered: number;
  /** Files (and orders sets) this process parsed during the sync: only those not parsed before (state/parsed.ts keeps the rest). */
  parsed?: number;
  error?: string;
  /** Another sync held the lock. */
  skipped?: boolean;
  /** Nothing had changed since the last sync: it only looked at the remote's tip (src/sync/quiet.ts). */
  quiet?: boolean;
}

/** One attempt of a task. */
export interface TaskLogRecord {
  kind: "task";
  at: string;
  machine: string;
  id: string;
  rev: number;
  /** A recurring order: the slot of this run. */
  slot?: string;
  attempt: number;
  state: string;
  exitCode: number | null;
  durationMs: number;
  reason?: string;
}

/** Anything else a later version (or another component) writes. */
export interface OtherLogRecord {
  kind?: string;
  at: string;
  [key: string]: unknown;
}

export type LogRecord = SyncLogRecord | TaskLogRecord | OtherLogRecord;

export const isSyncRecord = (r: LogRecord): r is SyncLogRecord => r.kind === "sync";
export const isTaskRecord = (r: LogRecord): r is TaskLogRecord => r.kind === "task";

export interface RotateOptions {
  /** Rotate when the file would grow past this (default 1 MiB). */
  maxBytes?: number;
  /** Old files kept: coord.log.1 … coord.log.<keep> (default 3). */
  keep?: number;
}

export function logPath(stateDir: string): string {
  return join(stateDir, LOG_FILE);
}

/** What a log record needs of a sync's result (the shape of SyncResult). */
export interface SyncOutcome {
  machine: string;
  ran: { id: string; state: string }[];
  delivered: unknown[];
  pushed?: string;
  skipped?: boolean;
}

/** The record for one sync, from its result (or its error). */
export function syncRecord(args: { machine: string; durationMs: number; result?: SyncOutcome; error?: unknown; at?: Date }): Omit<SyncLogRecord, "at"> & { at?: string } {
  const { result, error } = args;
  const rec: Omit<SyncLogRecord, "at"> & { at?: string } = {
    kind: "sync",
    machine: result?.machine ?? args.machine,
    ok: error === undefined,
    durationMs: Math.round(args.durationMs),
    ran: (result?.ran ?? []).map((t) => ({ id: t.id, state: t.state })),
    delivered: result?.delivered.length ?? 0,
  };
  if (args.at) rec.at = args.at.toISOString();
  if (result?.pushed) rec.pushed = result.pushed;
  if (result?.skipped) rec.skipped = true;
  if (error !== undefined) rec.error = error instanceof Error ? error.message : String(error);
  return rec;
}

/** The line for `record`: compact JSON, long strings shortened so it stays one atomic write where possible. */
function lineOf(record: object): string {
  const withAt: Record<string, unknown> = { ...(record as Record<string, unknown>) };
  if (typeof withAt.at !== "string") withAt.at = new Date().toISOString();
  // `at` first, for people reading the raw file.
  const { at, ...rest } = withAt;
  let line = JSON.stringify({ at, ...rest });
  if (Buffer.byteLength(line) + 1 > ATOMIC_LINE) {
    const shorten = (v: unknown, max: number): unknown => {
      if (typeof v === "string") return v.length > max ? `${v.slice(0, max)}…[truncated]` : v;
      if (Array.isArray(v)) return v.map((x) => shorten(x, max));
      if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shorten(x, max)]));
      return v;
    };
    for (const max of [1000, 300, 80]) {
      line = JSON.stringify(shorten({ at, ...rest }, max));
      if (Buffer.byteLength(line) + 1 <= ATOMIC_LINE) break;
    }
  }
  return line + "\n";
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** coord.log → .1 → .2 …, dropping the oldest. Under the rotation lock. */
async function shift(stateDir: string, keep: number): Promise<void> {
  const base = logPath(stateDir);
  if (keep < 1) {
    await rm(base, { force: true });
    return;
  }
  await rm(`${base}.${keep}`, { force: true });
  for (let n = keep - 1; n >= 1; n--) {
    await rename(`${base}.${n}`, `${base}.${n + 1}`).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
    });
  }
  await rename(base, `${base}.1`).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw e;
  });
}

/** The rotation lock of coord.log (writers rotate under it; a follower lists under it), or undefined when it cannot be had. */
export async function rotationLock(path: string): Promise<(() => Promise<void>) | undefined> {
  // Loaded when a rotation needs it: appending a line (a quiet sync) loads no lock library.
  const { default: lockfile } = await import("proper-lockfile");
  return lockfile
    .lock(path, {
      realpath: false,
      lockfilePath: `${path}.lock`,
      stale: timings.fileLockStaleMs,
      retries: { retries: 40, minTimeout: 5, maxTimeout: 100, randomize: true },
      // Held for a few renames only: a holder taken over as stale has nothing left to protect.
      onCompromised: () => {},
    })
    .catch(() => undefined); // held by another process all along (ELOCKED), or no lock can be made here: go on without it
}

async function rotateIfNeeded(stateDir: string, incoming: number, maxBytes: number, keep: number): Promise<void> {
  const path = logPath(stateDir);
  const size = await sizeOf(path);
  if (size === undefined || size === 0 || size + incoming <= maxBytes) return;
  const release = await rotationLock(path);
  if (!release) return; // no rotation this time; the line is still appended
  try {
    // Another process may have rotated while we waited.
    const now = await sizeOf(path);
    if (now !== undefined && now > 0 && now + incoming > maxBytes) await shift(stateDir, keep);
  } finally {
    await release().catch(() => {}); // taken over as stale meanwhile: nothing left to release
  }
}

/**
 * Keeps an output file another program appends to (cron's `>> cron.log`)
 * under `maxBytes` (and one old copy): past it, the file becomes `<path>.1`.
 * The writer that has it open goes on writing there; the next one opens a new file.
 */
export async function rotateOutputFile(path: string, maxBytes = DEFAULT_MAX_BYTES): Promise<boolean> {
  const size = await sizeOf(path);
  if (size === undefined || size <= maxBytes) return false;
  await rename(path, `${path}.1`);
  return true;
}

/** Appends one record (with `at` added when absent) as a JSON line; rotates first when the file is full. */
export async function appendLog(stateDir: string, record: object, opts: RotateOptions = {}): Promise<void> {
  const line = lineOf(record);
  const bytes = Buffer.byteLength(line);
  await mkdir(stateDir, { recursive: true });
  try {
    await rotateIfNeeded(stateDir, bytes, opts.maxBytes ?? DEFAULT_MAX_BYTES, opts.keep ?? DEFAULT_KEEP);
  } catch {
    // A rotation that failed (a rename refused: permissions, a full disk) never costs the line:
    // it is appended to the full file, and the next append tries to rotate again.
  }
  // A line a crashed writer left unfinished must not swallow this one.
  const glue = (await endsMidLine(logPath(stateDir))) ? "\n" : "";
  await appendOwn(logPath(stateDir), glue + line);
}

/**
 * Appends to coord's own log, never through a link: an agent's link there (coord's tools in its sandbox write the
 * log) would have the daemon append its words to a file of the user's (a shell's start file). The link is moved
 * aside, as a damaged state file is, and the line goes to a new log.
 */
async function appendOwn(path: string, text: string): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const aside = async () => {
    await rename(path, `${path}.not-a-file-${Date.now()}`);
    return open(path, flags | constants.O_EXCL, 0o600);
  };
  let file = await open(path, flags, 0o600).catch(async (e: NodeJS.ErrnoException) => {
    // A link (ELOOP), or a FIFO nobody reads (ENXIO): not coord's log.
    if (e.code !== "ELOOP" && e.code !== "ENXIO") throw e;
    return aside();
  });
  if (!(await file.stat()).isFile()) {
    await file.close();
    file = await aside();
  }
  try {
    await file.appendFile(text, "utf8");
  } finally {
    await file.close();
  }
}

/** Whether the file's last byte is not a newline (a partial line). */
async function endsMidLine(path: string): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch {
    // No log yet (ENOENT); a log this process cannot open: the append that follows says why.
    return false;
  }
  try {
    const { size } = await fh.stat();
    if (size === 0) return false;
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - 1);
    return b[0] !== 10;
  } catch {
    // Cannot be read (EIO): the line goes on the file as it is; a reader skips a glued line.
    return false;
  } finally {
    await fh.close();
  }
}

/** The record of one line, or undefined for a line that is not one (corrupt lines are skipped). */
export function parseLine(line: string): LogRecord | undefined {
  if (!line.trim()) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    if (!v || typeof v !== "object" || Array.isArray(v) || typeof (v as { at?: unknown }).at !== "string") return undefined;
    return v as LogRecord;
  } catch {
    return undefined; // not JSON: a line cut short by a crash, or not coord's
  }
}

/** For .catch: `value` when the file is not there (ENOENT: rotated away since it was listed); any other error stands. */
const notThere =
  <T>(value: T) =>
  (e: NodeJS.ErrnoException): T => {
    if (e.code === "ENOENT") return value;
    throw e;
  };

/** The rotated files, oldest first (coord.log.3, .2, .1). */
export async function rotatedFiles(stateDir: string): Promise<string[]> {
  const names = await readdir(stateDir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return [] as string[]; // no state directory yet: no log
    throw e;
  });
  return names
    .map((n) => /^coord\.log\.(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]))
    .map((m) => join(stateDir, m[0]));
}

/** Where a follower starts: the current file and how far it was read. */
export interface LogPosition {
  ino?: number;
  offset: number;
}

/** Every record, oldest first, and the position just past the last complete line of coord.log. */
export async function readLogsWithPosition(stateDir: string, opts: { limit?: number } = {}): Promise<{ records: LogRecord[]; position: LogPosition }> {
  const records: LogRecord[] = [];
  const add = (text: string) => {
    for (const line of text.split("\n")) {
      const r = parseLine(line);
      if (r) records.push(r);
    }
  };
  for (const f of await rotatedFiles(stateDir)) add(await readFile(f, "utf8").catch(notThere("")));
  const position: LogPosition = { offset: 0 };
  let fh: FileHandle | undefined;
  try {
    fh = await open(logPath(stateDir), "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    fh = undefined; // rotated away and not written again yet
  }
  if (fh) {
    try {
      const st = await fh.stat();
      const buf = await fh.readFile();
      const end = buf.lastIndexOf(10) + 1; // an unfinished last line is left to the follower
      position.ino = st.ino;
      position.offset = end;
      add(buf.subarray(0, end).toString("utf8"));
    } finally {
      await fh.close();
    }
  }
  const limit = opts.limit;
  return { records: limit !== undefined && limit >= 0 ? records.slice(Math.max(0, records.length - limit)) : records, position };
}

/** The records, oldest first across the rotated files; the last `limit` when given. Corrupt lines are skipped. */
export async function readLogs(stateDir: string, opts: { limit?: number } = {}): Promise<LogRecord[]> {
  return (await readLogsWithPosition(stateDir, opts)).records;
}

/** 1.2s, 45s, 3m05s, 1h02m. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** 2026-11-22T07:35:13Z (seconds are enough for people). */
function formatAt(at: unknown): string {
  if (typeof at !== "string") return "?";
  return at.replace(/\.\d+Z$/, "Z");
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
/** One line, even when a field holds newlines. */
const oneLine = (s: string) => s.replace(/\s*\n\s*/g, " ").trim();

/** One human line per record. */
export function formatLogRecord(r: LogRecord): string {
  const at = formatAt(r.at);
  if (isSyncRecord(r)) {
    const dur = `(${formatMs(r.durationMs)})`;
    if (r.skipped) return `${at} sync ${r.machine} skipped: another sync is running ${dur}`;
    const done: string[] = [];
    if (r.ran?.length) done.push(`ran ${r.ran.map((t) => `${t.id} (${t.state})`).join(", ")}`);
    if (r.delivered) done.push(`${plural(r.delivered, "message")} delivered`);
    if (r.pushed) done.push(`pushed ${r.pushed.slice(0, 8)}`);
    if (!r.ok) return `${at} sync ${r.machine} failed: ${oneLine(r.error ?? "unknown error")}${done.length ? `; ${done.join(", ")}` : ""} ${dur}`;
    return `${at} sync ${r.machine} ok: ${done.length ? done.join(", ") : "nothing new"} ${dur}`;
  }
  if (isTaskRecord(r)) {
    const exit = r.exitCode === null || r.exitCode === undefined ? "no exit code" : `exit ${r.exitCode}`;
    const why = r.reason && r.state !== "completed" ? `: ${oneLine(r.reason)}` : "";
    return `${at} task ${r.id} rev ${r.rev}${typeof r.slot === "string" ? ` slot ${r.slot}` : ""} attempt ${r.attempt} ${r.state} ${exit}${why} (${formatMs(r.durationMs)})`;
  }
  const { at: _at, kind, ...rest } = r as OtherLogRecord;
  return `${at} ${typeof kind === "string" ? kind : "log"} ${JSON.stringify(rest)}`;
}
