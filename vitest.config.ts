import { mkdtempSync, readdirSync, rmSync, statfsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";
import { pidAlive } from "./src/state/lock.js";

/**
 * The run's temporary files (the tests' fleets, HOMEs and checkouts: os.tmpdir() in vitest, its workers and every
 * process they start) go to a directory of the run's own on Linux's RAM disk, /dev/shm, when it has 2 GB free and
 * TMPDIR is not set; the directory goes when the run ends (and a killed run's, at the next run). The tests create
 * and remove tens of thousands of small files (git's objects, refs and locks, coord's local state and its fsyncs,
 * copies of template fleets): on this machine's disk that was about a sixth of the suite's CPU. What they check
 * does not depend on the disk. Elsewhere: the system's temp dir, as before.
 */
function runTmpdir(): string | undefined {
  const ram = "/dev/shm";
  try {
    const fs = statfsSync(ram);
    if (fs.type !== 0x01021994 || fs.bavail * fs.bsize < 2 * 1024 ** 3) return undefined; // TMPFS_MAGIC
    for (const old of readdirSync(ram)) {
      const pid = Number(/^coord-tests-(\d+)-/.exec(old)?.[1]);
      if (pid && !pidAlive(pid)) rmSync(join(ram, old), { recursive: true, force: true });
    }
    const dir = mkdtempSync(join(ram, `coord-tests-${process.pid}-`));
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  } catch {
    return undefined;
  }
}

const cores = availableParallelism();

if (!process.env.TMPDIR) {
  const dir = runTmpdir();
  if (dir) process.env.TMPDIR = dir;
}

// Two projects: "quick" (pure and unit tests, and rule scenarios on the in-memory fleet: `npm run test:quick`, the
// inner loop) and "e2e" (every file that runs git or a process, named `*.e2e.test.ts`: real git, processes, daemons).
// `npm test` runs both. End-to-end files wait on git, child processes and clocks (leases, heartbeats, the push budget)
// much of the time, so three files a core run at once: with four workers on 2 cores, all four were often waiting
// together and the cores idle a quarter of the run (vitest 157–161 s); with six, 131–137 s for the same CPU; eight took
// no less than six. test:quick's files never wait: two workers a core (on 2 cores: 8.6 s, against 10.0–10.3 s with six
// and 11.4 s with two). vitest's --maxWorkers flag does not change a count the config sets. Neither project isolates
// its files: a worker imports coord's modules once, not once a file (the whole suite took 382 s of CPU isolated, 344 s
// not); setup.ts still gives each file its own HOME, and a test that counts what this process did counts it for its own
// checkout (git.ts blobsRead). Files run in vitest's own order: longest first as its cache measured them, and on a
// clean clone (no cache) largest first.
const slow = ["test/**/*.e2e.test.ts"];

export default defineConfig({
  test: {
    setupFiles: ["test/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: process.env.npm_lifecycle_event === "test:quick" ? 2 * cores : 3 * cores,
    projects: [
      { extends: true, test: { name: "quick", include: ["test/**/*.test.ts"], exclude: slow, isolate: false } },
      { extends: true, test: { name: "e2e", include: slow, globalSetup: ["test/global-setup.ts"], isolate: false } },
    ],
  },
});
