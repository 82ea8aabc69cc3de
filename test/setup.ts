// Every test runs as on a fresh machine: an empty HOME, so no git identity,
// no global git config, nothing of the developer's leaks in.
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, expect } from "vitest";
import { serveTurnTools } from "../src/commands/turn-tools.js";
import { forgetCapabilities } from "../src/state/capabilities.js";
import { provideTurnTools } from "../src/sync/turn-tools.js";
import { procStatFields } from "./proc-stat.js";

// A temporary directory of the file's own, below the run's: what a test leaves at its top (as the real codex, run behind
// coord's sandbox, leaves an empty .git there: a mount point of its own sandbox) meets no other file's test (one that
// needs a directory outside any git repository did, when the two ran at once).
process.env.COORD_TEST_RUN_TMPDIR ??= tmpdir();
// A short name: a socket's path below it (ssh's ControlPath in gitolite.e2e) must stay under 108 bytes.
const fileTmp = mkdtempSync(join(process.env.COORD_TEST_RUN_TMPDIR, "f-"));
process.env.TMPDIR = fileTmp;
process.env.HOME = mkdtempSync(join(tmpdir(), "coord-home-"));
process.env.GIT_CONFIG_NOSYSTEM = "1";
// As the CLI does at its start (cli/main.ts): an engine a test runs in its own process serves its turns' coord tools.
provideTurnTools(serveTurnTools);
// Short lock staleness and grace periods (src/timings.ts), inherited by every CLI a test starts.
process.env.COORD_TEST_TIMINGS = "fast";
for (const k of ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL", "COORD_DIR"]) delete process.env[k];
// ... and as in a process of its own, as far as the capabilities memo goes (src/state/capabilities.ts). A worker runs
// many files in one process (vitest.config.ts: not isolated); on a loaded machine it lives past the memo's 10 minutes,
// and the in-process sync that finds them older is not quiet (its answers are asked again), nor is the one after a
// stamp that ended then: a test counting on a quiet sync failed when that moment fell in it (notify.e2e, 2026-11-26).
beforeEach(() => forgetCapabilities());
// Removed after the file's own hooks (registered first, it runs last): where the run's directory is not one of its own
// on the RAM disk (vitest.config.ts), nothing is left in the system's temp directory.
afterAll(() => rm(fileTmp, { recursive: true, force: true }).catch(() => {}));

// Where the suite's CPU goes, by file: with COORD_TEST_CPU_LOG=<file>, each test file appends a line "<s of CPU> <s
// of wall> <path>" (docs/performance.md, the test suite). The CPU is the worker's own and that of the processes it
// started and waited for (git, coord's commands, the agent CLIs: /proc/self/stat's utime, stime, cutime and cstime,
// in USER_HZ, 100 a second on Linux), from this module's import (vitest imports it again before each file: the file's
// import and collection count) to the file's last hook; a daemon that left its parent for init is not in it, nor a
// file that failed to load or skipped every test. A worker runs one file at a time, so the lines add up.
const cpuLog = process.env.COORD_TEST_CPU_LOG;
if (cpuLog && process.platform === "linux") {
  const ticks = () => {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const f = procStatFields(stat);
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i]), 0); // fields 14-17 of proc(5), after the name
  };
  const start = { cpu: ticks(), at: Date.now(), path: expect.getState().testPath ?? "?" };
  afterAll(() => {
    const cpu = (ticks() - start.cpu) / 100;
    appendFileSync(cpuLog, `${cpu.toFixed(2)} ${((Date.now() - start.at) / 1000).toFixed(1)} ${start.path}\n`);
  });
}
