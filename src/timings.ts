// Every wait coord does on its own account (not the user's settings in
// machine.yaml): lock staleness, lock refresh, stop and kill graces. Read in
// this one place; COORD_TEST_TIMINGS=fast (the test suite) shortens them so
// tests need not sit through real staleness and grace periods.

export interface Timings {
  /** A sync lock not refreshed for this long is taken over (a sync killed -9 whose pid is unknown). */
  syncLockStaleMs: number;
  /** How often a running sync refreshes its lock. */
  syncLockUpdateMs: number;
  /** A sync lock not refreshed for this long is taken over even from a live pid (one reused after a reboot). */
  liveHolderMaxMs: number;
  /** A local-state file lock (journal, mailbox, coord.log) not refreshed for this long is taken over. */
  fileLockStaleMs: number;
  /** A daemon lock not refreshed for this long is taken over. */
  daemonLockStaleMs: number;
  /** How often a running daemon refreshes its lock. */
  daemonLockUpdateMs: number;
  /** Default seconds `daemon stop` waits for a running sync before its tasks are interrupted. */
  daemonStopGraceS: number;
  /** Seconds after that grace before a git command the sync still waits on is killed. */
  daemonKillGitS: number;
  /** Default seconds between SIGTERM and SIGKILL of a task's process group. */
  killGraceS: number;
  /** How long a task's output is still read after it exited, from processes it left holding its pipes. */
  pipeGraceMs: number;
  /**
   * How many times faster than real time a bench's fleet rows run (COORD_BENCH_TIME_SCALE, a measuring aid, not a
   * user setting): the turns to push (core/budget/turns.ts) shorten by it, as the budget, heartbeats and schedule they set do.
   */
  timeScale: number;
}

const REAL: Timings = {
  syncLockStaleMs: 6_000,
  syncLockUpdateMs: 1_500,
  liveHolderMaxMs: 60 * 60 * 1000,
  fileLockStaleMs: 10_000,
  daemonLockStaleMs: 10_000,
  daemonLockUpdateMs: 2_000,
  daemonStopGraceS: 10,
  daemonKillGitS: 5,
  killGraceS: 5,
  pipeGraceMs: 1_000,
  timeScale: 1,
};

/** The same waits, short (proper-lockfile takes no stale time under 2 s nor an update under 1 s). */
const FAST: Timings = {
  syncLockStaleMs: 3_000,
  syncLockUpdateMs: 1_000,
  liveHolderMaxMs: 60 * 60 * 1000,
  fileLockStaleMs: 3_000,
  daemonLockStaleMs: 3_000,
  daemonLockUpdateMs: 1_000,
  daemonStopGraceS: 2,
  daemonKillGitS: 4, // the interrupted tasks are published first: on a loaded 2-core machine that took over 1 s
  killGraceS: 1,
  pipeGraceMs: 300,
  timeScale: 1,
};

const scale = Number(process.env.COORD_BENCH_TIME_SCALE);

export const timings: Readonly<Timings> = Object.freeze({
  ...(process.env.COORD_TEST_TIMINGS === "fast" ? FAST : REAL),
  ...(Number.isFinite(scale) && scale > 1 ? { timeScale: scale } : {}),
});
