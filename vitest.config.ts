import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statfsSync } from "node:fs";
import { availableParallelism, homedir } from "node:os";
import { join, relative, sep } from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { pidAlive } from "./src/state/lock.js";
import { patient } from "./test/patience.js";

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

// The real agent CLIs (scripts/install-agent-clis.mjs) are in the HOME the run started with: named before test/setup.ts
// gives each test file an empty HOME (test/real-clis.ts reads it).
process.env.COORD_AGENT_CLIS ??= join(homedir(), ".cache", "coord-agent-clis");

/**
 * Every agent coord starts runs behind bubblewrap (src/sync/sandbox.ts), and does not start where there is none. A
 * machine without it (a developer's, not CI: .ci/run installs it) runs the suite with the shield off, as
 * `COORD_AGENT_SANDBOX=off` does for any coord, and says so; the shield's own tests then say they are skipped.
 */
function sandboxUsable(): boolean {
  if (process.platform !== "linux") return false;
  try {
    const bwrap = ["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"].find((p) => existsSync(p)) ?? "bwrap";
    const args = ["--unshare-user", "--unshare-pid", "--die-with-parent", "--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--cap-drop", "ALL", "--", "true"];
    execFileSync(bwrap, args, { stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
if (!process.env.COORD_AGENT_SANDBOX && !sandboxUsable()) {
  process.env.COORD_AGENT_SANDBOX = "off";
  console.warn("vitest.config.ts: bubblewrap cannot run here: agents run without the shield in this run (COORD_AGENT_SANDBOX=off); its tests say they are skipped");
}

// Two projects: "quick" (pure and unit tests, and rule scenarios on the in-memory fleet: `npm run test:quick`, the
// inner loop) and "e2e" (every file that runs git or a process, named `*.e2e.test.ts`: real git, processes, daemons).
// `npm test` runs both. Two files a core run at once. On an idle 2-core machine three a core were faster (end-to-end
// files wait on git, processes and clocks much of the time: 131–137 s with six workers, 157–161 s with four), but on
// one half as fast (CI on 2026-11-26: 898 s) the suite is CPU-bound: six workers took 876–1109 s and four 880 s, and
// six left each test a sixth of a core, so that 4–6 tests a run crossed a bound on a wait (four: 3). test:quick's
// files never wait: two a core suit them too (8.6 s on the idle machine). vitest's --maxWorkers flag does not change a
// count the config sets. Neither project isolates
// its files: a worker imports coord's modules once, not once a file (the whole suite took 382 s of CPU isolated, 344 s
// not); setup.ts still gives each file its own HOME, and a test that counts what this process did counts it for its own
// checkout (git.ts blobsRead). Files run in vitest's own order: longest first as its cache measured them, and on a
// clean clone (no cache) largest first; the sessions' files alone in the order listed below.
const slow = ["test/**/*.e2e.test.ts"];
// A third, "agents": the files that run the real agent CLIs (test/real-clis.ts), after the other two have ended, one a
// core. Each turn of a real CLI starts a large program and waits on it against bounds a person would wait; run beside
// the whole suite on CI's slower machine (2026-11-28: 1545 s) they starved and 9 of their tests crossed a bound, where
// each passed alone. The push budget's daemons (budget.e2e: a machine must never show stale, with every phase of a
// heartbeat at time ÷ 3) wait on the clock the same way: in a loaded CI run (2026-11-29, 1680 s) a push that took 4 s
// lost two races and a machine showed stale for 3 s; they run here too. The budget's file mostly waits (its daemons
// idle: about a fifth of a core, 130 s), so it takes a worker of its own, first, beside the CLIs' two: one a core.
// Run in the e2e files' pool, with the sessions' run beside the main one (2026-12-03), the suite was a fifth faster
// here, but CI's run of it did not end within its 90 minutes, and its log did not say what it waited on: until
// test/silence-report.ts says that, the parts run one after another, as they passed there (docs/performance.md).
const budget = "test/budget.e2e.test.ts";
const agents = [budget, "test/claude-real.e2e.test.ts", "test/codex-real.e2e.test.ts", "test/opencode-real.e2e.test.ts", "test/gemini-real.e2e.test.ts", "test/login.e2e.test.ts"];
// A fourth, "sessions": the open Claude Code, Codex and OpenCode sessions in a terminal (tmux), in a vitest run of their
// own after the rest (scripts/test.mjs says why), two files at once: a session's test mostly waits on a terminal (on a
// quiet 2-core machine the run took 164 s with two, its CPU 36 % of that, against 234 s and 22 % with one). They
// start in the order listed, the longest first: the woken sessions' file (two versions, six modes each) takes as long
// as the other three together, and vitest's own order on a clean clone (largest first) would start it third.
const sessions = ["test/listen-woken.e2e.test.ts", "test/listen-claude.e2e.test.ts", "test/listen-opencode.e2e.test.ts", "test/listen-codex.e2e.test.ts"];

/** Vitest's order, but the budget's file first and the sessions' files in the order listed among themselves. */
class SessionsAsListed extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const named = (f: TestSpecification) => relative(root, f.moduleId).split(sep).join("/");
    const sorted = (await super.sort(files)).sort((a, b) => Number(named(b) === budget) - Number(named(a) === budget));
    const rank = (f: TestSpecification) => (f.project.name === "sessions" ? sessions.indexOf(named(f)) : -1);
    const at = sorted.flatMap((f, i) => (rank(f) >= 0 ? [i] : []));
    const listed = at.map((i) => sorted[i]!).sort((a, b) => rank(a) - rank(b));
    at.forEach((i, k) => {
      sorted[i] = listed[k]!;
    });
    return sorted;
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: SessionsAsListed },
    // test/silence-report.ts: when no test has ended for 5 minutes, which files and processes the run waits on.
    reporters: ["default", "./test/silence-report.ts"],
    setupFiles: ["test/setup.ts"],
    // Ceilings, not claims of speed: a minute on a quiet machine, times the run's patience (test/patience.ts).
    testTimeout: patient(60_000),
    hookTimeout: patient(60_000),
    pool: "forks",
    maxWorkers: 2 * cores,
    projects: [
      { extends: true, test: { name: "quick", include: ["test/**/*.test.ts"], exclude: slow, isolate: false } },
      { extends: true, test: { name: "e2e", include: slow, exclude: [...agents, ...sessions], globalSetup: ["test/global-setup.ts"], isolate: false } },
      {
        extends: true,
        test: { name: "agents", include: agents, globalSetup: ["test/global-setup.ts"], isolate: false, maxWorkers: cores + 1, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: { name: "sessions", include: sessions, globalSetup: ["test/global-setup.ts"], isolate: false, maxWorkers: 2, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
