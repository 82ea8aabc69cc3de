// Durable local files: written to a temp file, fsynced, renamed into place
// (one write of a file at a time, in the order they were asked).
import { inTurnBy } from "../serial.js";
import { randomBytes } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, renameSync } from "node:fs";
import { access, lstat, open, readdir, realpath, rm, stat } from "node:fs/promises";
import { rename } from "../platform/files.js";
import { join, resolve } from "node:path";
import lockfile from "proper-lockfile";
import { CoordError, EXIT } from "../errors.js";
import { ownFileError } from "../failure.js";
import { timings } from "../timings.js";
import { noteWritten } from "./written.js";

/**
 * coord's own file, durably. A link at its place is replaced, never written through: in coord's state directory one
 * may be an agent's (its sandbox lets coord's tools write there), pointing at a file of the user's to overwrite.
 */
export async function writeDurably(path: string, content: string): Promise<void> {
  await replaceFile(path, content, true, false);
}

/** A file of the person's (a CLI's settings, a project's .mcp.json), durably, through a link (a dotfiles repository's stays a link). */
export async function writeThroughLink(path: string, content: string): Promise<void> {
  await replaceFile(path, content, true, true);
}

/** Whole or not at all (temp file, rename), without waiting for the disk: for a file whose loss costs nothing but caution. */
export async function writeWhole(path: string, content: string): Promise<void> {
  await replaceFile(path, content, false, false);
}

/**
 * Opens coord's own log `path` to append to, synchronously (a daemon's or a service's output, given to a child): never
 * through a link, nor a FIFO or anything else but a file (an agent's, in coord's state directory), which is moved
 * aside and a new file made instead.
 */
export function openOwnAppendSync(path: string, mode = 0o600): number {
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
  const aside = () => renameSync(path, `${path}.not-a-file-${Date.now()}`);
  let fd: number;
  try {
    fd = openSync(path, flags, mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ELOOP" && code !== "ENXIO") throw e;
    aside();
    return openSync(path, flags | constants.O_EXCL, mode);
  }
  if (fstatSync(fd).isFile()) return fd;
  closeSync(fd);
  aside();
  return openSync(path, flags | constants.O_EXCL, mode);
}

/** Each file's writes one after another: a later write of a file lands after an earlier one (the journal's are not all awaited). */
const writes = inTurnBy();

/**
 * `content` in a temp file beside `path` (0600, fsynced when `durable`),
 * renamed over it: the old text or the new, never half. A link is followed
 * only when `follow` (else the link itself is replaced), and a file written
 * as root keeps its owner.
 */
async function replaceFile(path: string, content: string, durable: boolean, follow: boolean): Promise<void> {
  const key = resolve(path); // queued at once, by the name given: the order of the calls is the order of the writes
  await writes(key, async () => {
    const target = follow ? await realpath(key).catch(() => key) : key; // none yet: written where asked
    const tmp = `${target}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      const file = await open(tmp, "wx", 0o600);
      try {
        const owner = process.getuid?.() === 0 ? await (follow ? stat : lstat)(target).catch(() => undefined) : undefined;
        if (owner) await file.chown(owner.uid, owner.gid);
        await file.writeFile(content);
        if (durable) await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => {});
      throw e;
    }
  });
}

/** A temp file of replaceFile: `<file>.<pid>.<12 hex>.tmp`. */
const TEMP_FILE = /\.\d+\.[0-9a-f]{12}\.tmp$/;

/**
 * Temp files of writes that never ended (a process killed in the middle of
 * one) in `dir`, an hour old or more, are removed; a write in flight takes
 * milliseconds. Never throws.
 */
export async function sweepTempFiles(dir: string, now = Date.now()): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => TEMP_FILE.test(n))) {
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (st?.isFile() && now - st.mtimeMs >= 60 * 60_000) await rm(path, { force: true }).catch(() => {});
  }
}

/** Whether something exists at `path` (false too when it cannot be looked at). */
export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The largest local-state file coord reads: 256 MiB, far above any it writes, below what a string can hold. */
export const MAX_STATE_BYTES = 256 * 1024 * 1024;

/**
 * The file's text, or undefined when it does not exist. Any other failure is said with the path and `doing`
 * (failure.ts ownFileError: a directory where the file should be is no usage mistake, and Node names no path for it).
 */
export async function readIfExists(path: string, doing = "reading coord's local state"): Promise<string | undefined> {
  try {
    // Never waiting on a FIFO (an agent's, put where coord's state file goes): opened without blocking, read only as a file.
    const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const st = await file.stat();
      if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read`), { code: "EISDIR", syscall: "read" });
      if (!st.isFile()) throw new CoordError(`${path} is not a file (a FIFO, a socket or a device where coord keeps a file of its own): move it aside`, EXIT.FAILURE);
      // Far past any file coord writes, and near what a string holds (Node reads 2 GiB at most): said, not "unexpected".
      if (st.size > MAX_STATE_BYTES) throw new CoordError(`${path} is ${st.size} bytes, more than coord reads of such a file (256 MiB): move it aside`, EXIT.FAILURE);
      return await file.readFile("utf8");
    } finally {
      await file.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw ownFileError(e, doing, path);
  }
}

/**
 * How long a local-state file's lock is waited for: past its staleness, so the lock of a process killed -9 while
 * holding it (a daemon, a sync) is taken over, not reported (proper-lockfile checks staleness at each retry). A wait
 * of 9.5 s against a staleness of 10 s failed the sync that followed such a kill (CI, 2026-11-27).
 */
const LOCK_WAIT_MS = timings.fileLockStaleMs + 3_000;
const LOCK_RETRY_MS = 200;

/**
 * A short read-modify-write of one local-state file under its own lock
 * (`<stateDir>/<name>.lock`), for files that commands and a running sync both
 * change: read → change → durable write. Nothing is written when `change`
 * throws or the lock was lost meanwhile, or when it changed nothing (the same
 * text: most syncs, and a durable write costs an fsync).
 */
export async function updateLocked<D, T>(
  stateDir: string,
  name: string,
  io: { read: () => Promise<D>; path: string; render: (data: D) => string; what: string; saved?: (data: D) => Promise<void> },
  change: (data: D) => T | Promise<T>,
): Promise<T> {
  let compromised: Error | undefined;
  const release = await lockfile
    .lock(join(stateDir, name), {
      realpath: false,
      lockfilePath: join(stateDir, `${name}.lock`),
      stale: timings.fileLockStaleMs,
      retries: { retries: Math.ceil(LOCK_WAIT_MS / LOCK_RETRY_MS), minTimeout: 20, maxTimeout: LOCK_RETRY_MS },
      onCompromised: (e) => {
        compromised = e;
      },
    })
    .catch((e: NodeJS.ErrnoException) => {
      // Held all along by a live process (proper-lockfile's "Lock file is already being held" says neither what nor what to do).
      if (e.code === "ELOCKED")
        throw new CoordError(
          `the ${io.what} stayed locked by another coord process (a sync or a command) for about ${Math.round(LOCK_WAIT_MS / 1000)} s; nothing was changed, try again`,
          EXIT.FAILURE,
        );
      throw e;
    });
  try {
    const data = await io.read();
    const before = io.render(data);
    const result = await change(data);
    if (compromised) throw new CoordError(`the ${io.what} lock was lost (${compromised.message}); nothing was changed, try again`, EXIT.FAILURE);
    const text = io.render(data);
    if (text !== before) {
      await writeDurably(io.path, text);
      await io.saved?.(data); // still under the lock: what is derived from the file is written in the same order
      await noteWritten(stateDir); // for a sync another process may be running (state/written.ts)
    }
    return result;
  } finally {
    if (!compromised) await release().catch(() => {});
  }
}
