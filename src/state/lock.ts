// One sync at a time per checkout: proper-lockfile on the local state.
import { join } from "node:path";
import lockfile from "proper-lockfile";

export interface HeldLock {
  release(): Promise<void>;
  /** Set when the lock was lost (for example the process was frozen past the stale time). */
  compromised?: Error;
}

/** Takes the sync lock, or returns undefined when another process holds it. */
export async function tryLock(stateDir: string): Promise<HeldLock | undefined> {
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
    held.release = async () => {
      if (!held.compromised) await release().catch(() => {});
    };
    return held;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOCKED") return undefined;
    throw e;
  }
}
