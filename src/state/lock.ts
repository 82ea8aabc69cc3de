// One sync at a time per checkout: proper-lockfile on the local state, plus
// the holder's pid, so that a sync that is alive but paused (SIGSTOP, a
// debugger) is never taken for a dead one.
import { readFileSync } from "node:fs";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import lockfile from "proper-lockfile";

export interface HeldLock {
  release(): Promise<void>;
  /** Set when the lock was lost (for example the process was frozen past the stale time). */
  compromised?: Error;
}

/** A lock not refreshed for this long is taken over even from a live pid (one reused after a reboot). */
const LIVE_HOLDER_MAX_MS = 60 * 60 * 1000;

/** Whether the process exists and is not a zombie (Linux /proc; elsewhere signal 0). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

/** When process `pid` started (Linux /proc, in ms since the epoch), or undefined elsewhere. */
async function startedAt(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  const boot = /^btime (\d+)$/m.exec(await readFile("/proc/stat", "utf8").catch(() => ""))?.[1];
  // Field 22, after the command name in parentheses (which may hold spaces): clock ticks (100 a second) since boot.
  const ticks = stat?.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  if (!boot || !ticks) return undefined;
  return Number(boot) * 1000 + Number(ticks) * 10;
}

/** The pid that holds the sync lock, while that process is alive (a stale lock of a dead one: undefined). */
async function liveHolder(stateDir: string): Promise<number | undefined> {
  const lock = await stat(join(stateDir, "sync.lock")).catch(() => undefined);
  if (!lock || Date.now() - lock.mtimeMs > LIVE_HOLDER_MAX_MS) return undefined;
  const owner = join(stateDir, "sync.owner");
  const pid = Number((await readFile(owner, "utf8").catch(() => "")).trim());
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || !pidAlive(pid)) return undefined;
  // A pid reused since (the holder died): that process started after it took the lock.
  const written = (await stat(owner).catch(() => undefined))?.mtimeMs;
  const started = await startedAt(pid);
  if (written !== undefined && started !== undefined && started > written + 2000) return undefined;
  return pid;
}

/** Takes the sync lock, or returns undefined when another process holds it. */
export async function tryLock(stateDir: string): Promise<HeldLock | undefined> {
  if (await liveHolder(stateDir)) return undefined; // alive, even if paused past the stale time
  const held: HeldLock = { release: async () => {} };
  try {
    const release = await lockfile.lock(join(stateDir, "sync"), {
      realpath: false,
      lockfilePath: join(stateDir, "sync.lock"),
      // A sync killed with -9 blocks the next one for at most this long.
      stale: 6_000,
      update: 1_500,
      retries: 0,
      // The default throws from a timer and kills the process; record it instead,
      // and the sync stops starting tasks.
      onCompromised: (err) => {
        held.compromised = err;
      },
    });
    await writeFile(join(stateDir, "sync.owner"), `${process.pid}\n`);
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
