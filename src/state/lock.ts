// One sync at a time per checkout: proper-lockfile on the local state, plus
// the holder's pid, so that a sync that is alive but paused (SIGSTOP, a
// debugger) is never taken for a dead one.
import { readFile, rm, rmdir, stat } from "node:fs/promises";
import { join } from "node:path";
import lockfile from "proper-lockfile";
import { SANDBOXED_ENV } from "../core/agents/sandbox.js";
import { timings } from "../timings.js";
import { writeWhole } from "./files.js";
import { isSameProcess, isZombieNow, processIdentity, startedAtMs } from "../platform/processes.js";

export interface HeldLock {
  release(): Promise<void>;
  /** Set when the lock was lost (for example the process was frozen past the stale time). */
  compromised?: Error;
}

/**
 * Whether the process exists and is not a zombie (Linux /proc; elsewhere signal 0). Inside an agent's sandbox (a PID
 * namespace of its own) no process outside can be seen: every one is taken for alive, so that nothing there judges
 * the daemon or a lock's owner gone.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false; // not a process id (a hand-edited daemon.json); 0 and -1 would name groups
  if (process.env[SANDBOXED_ENV]) return true;
  try {
    process.kill(pid, 0);
  } catch (e) {
    // ESRCH: no such process. EPERM: there is one, another user's (a reused pid): alive, the lock waits out its stale time.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ESRCH") return false;
    if (code === "EPERM") return true;
    throw e;
  }
  // A zombie is gone. Where that cannot be told at once (not Linux), or the process ended between the two looks: alive,
  // as signal 0 said; the next look tells.
  return isZombieNow(pid) !== true;
}

/**
 * Whether the process a file of coord's names still runs: its pid is alive and, where the file also holds a mark of
 * it (platform/processes.ts processMark or processIdentity), it is that process, not one that got the pid since (a
 * kill -9, then a reboot: a system soon uses its low pids again). Where that cannot be told, the pid alone.
 */
export async function stillRuns(pid: number, mark: string | undefined): Promise<boolean> {
  if (!pidAlive(pid)) return false;
  return mark === undefined || (await isSameProcess(pid, mark)) !== false;
}

/**
 * Who holds the sync lock: `sync.owner` says "<pid> <inode of sync.lock> <identity>",
 * written by the holder right after it took the lock, so it names the lock it
 * belongs to (a lock taken again since, by another process, has another inode)
 * and, on Linux, which process holds it (processIdentity: a pid used again is
 * another identity; an owner file of an older coord has none).
 */
interface Holder {
  pid: number;
  /** The owner file names this very lock. */
  ofThisLock: boolean;
  alive: boolean;
}

async function holder(stateDir: string): Promise<{ lockIno: number; lockMtimeMs: number; holder?: Holder } | undefined> {
  const lock = await stat(join(stateDir, "sync.lock")).catch(() => undefined);
  if (!lock) return undefined;
  const owner = join(stateDir, "sync.owner");
  const [pidText, inoText, mark] = (await readFile(owner, "utf8").catch(() => "")).trim().split(" ");
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return { lockIno: lock.ino, lockMtimeMs: lock.mtimeMs };
  // This process (another sync in it, as tests run them) is not known to be gone: proper-lockfile decides.
  if (pid === process.pid) return { lockIno: lock.ino, lockMtimeMs: lock.mtimeMs };
  // A pid reused since (the holder died) is another identity.
  let alive = await stillRuns(pid, mark || undefined);
  const written = (await stat(owner).catch(() => undefined))?.mtimeMs;
  // An older coord's owner file names no identity: that pid started after it took the lock is another process.
  const started = alive && !mark ? await startedAtMs(pid) : undefined;
  if (written !== undefined && started !== undefined && started > written + 2000) alive = false;
  // An inode number can be reused at once: an owner file written before this lock was made is not its.
  const ofThisLock = inoText === String(lock.ino) && written !== undefined && !(lock.birthtimeMs > 0 && written < lock.birthtimeMs);
  return { lockIno: lock.ino, lockMtimeMs: lock.mtimeMs, holder: { pid, ofThisLock, alive } };
}

/**
 * Takes the sync lock, or returns undefined when another process holds it.
 * A holder that is alive keeps it, even paused past the stale time (for up to
 * liveHolderMaxMs without a refresh); a lock whose holder is known to be gone
 * (killed -9, its pid no longer running) is broken at once; a lock whose
 * holder is unknown is taken over once stale.
 */
export async function tryLock(stateDir: string): Promise<HeldLock | undefined> {
  const found = await holder(stateDir);
  if (found?.holder?.alive && Date.now() - found.lockMtimeMs <= timings.liveHolderMaxMs) return undefined;
  if (found?.holder?.ofThisLock && !found.holder.alive) {
    // Its holder is gone: the lock is broken now, not after the stale time. (As with
    // proper-lockfile's own stale takeover, the lock is removed by path.)
    const again = await stat(join(stateDir, "sync.lock")).catch(() => undefined);
    // Gone already (another sync broke it first): lockfile.lock below decides who has it.
    if (again?.ino === found.lockIno) await rmdir(join(stateDir, "sync.lock")).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : Promise.reject(e)));
  }
  const held: HeldLock = { release: async () => {} };
  try {
    const release = await lockfile.lock(join(stateDir, "sync"), {
      realpath: false,
      lockfilePath: join(stateDir, "sync.lock"),
      // A sync killed with -9 blocks the next one for at most this long.
      stale: timings.syncLockStaleMs,
      update: timings.syncLockUpdateMs,
      retries: 0,
      // The default throws from a timer and kills the process; record it instead,
      // and the sync stops starting tasks.
      onCompromised: (err) => {
        held.compromised = err;
      },
    });
    const ino = (await stat(join(stateDir, "sync.lock"))).ino;
    const me = await processIdentity(process.pid);
    await writeWhole(join(stateDir, "sync.owner"), `${process.pid} ${ino}${me ? ` ${me}` : ""}\n`); // a link there (an agent's) replaced, not written through
    held.release = async () => {
      if (held.compromised) return;
      await rm(join(stateDir, "sync.owner"), { force: true });
      await release().catch(() => {});
    };
    return held;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOCKED") return undefined;
    throw e;
  }
}
