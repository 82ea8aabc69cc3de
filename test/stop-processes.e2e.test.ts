// A stopped run stops everything it started: its process group, and (Linux) every process that carries its marker,
// those it put in sessions of their own included (codex runs each shell command in one: issue 57).
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killOrphan, type Marker, runTask, stopProcesses } from "../src/runner/run.js";
import { Journal } from "../src/state/journal.js";
import { sync } from "../src/sync/sync.js";
import { makeFleet, processGone, pushOrders, runningTask, stays, tempDir, waitFor } from "./helpers.js";
import { procStatFields } from "./proc-stat.js";
import { patient } from "./patience.js";

const linux = process.platform === "linux";
const left: number[] = [];
afterEach(() => {
  for (const pid of left.splice(0))
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
});

/** A shell that starts `sleep 60` in a session of its own (out of its group), writes its pid, and waits. */
const escaper = (pidFile: string) => `setsid sleep 60 & echo $! > ${pidFile}; sleep 60`;

/** The session `pid` is in, from /proc/<pid>/stat (after the command's name: state, parent, group, session). */
async function sessionOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const session = Number(procStatFields(stat)[3]);
  return Number.isInteger(session) ? session : undefined;
}

/** The escaped sleep's pid, once it has left: `$!` is written before the child's setsid() runs, and a stop that
 *  comes in between still finds it in the shell's group (a loaded machine's CI run once did). */
async function escapedPid(pidFile: string): Promise<number> {
  const pid = await waitFor(async () => Number((await readFile(pidFile, "utf8").catch(() => "")).trim()) || undefined, 10_000, "the escaped sleep's pid", 50);
  left.push(pid);
  await waitFor(async () => ((await sessionOf(pid)) === pid ? true : undefined), 10_000, "the escaped sleep in a session of its own", 20);
  return pid;
}

describe.skipIf(!linux)("stopping a run ends what it put in sessions of its own", () => {
  it("an aborted task: the process that left its group with setsid is gone too (without a marker it lives on)", { timeout: patient(30_000) }, async () => {
    const dir = await tempDir("coord-stop-");
    const marker: Marker = { variable: "COORD_TEST_MARK", value: `abort-${process.pid}-${Date.now()}` };
    for (const marked of [true, false]) {
      const pidFile = join(dir, `pid-${marked}`);
      const abort = new AbortController();
      const run = runTask({
        command: escaper(pidFile),
        cwd: dir,
        env: { PATH: process.env.PATH ?? "" },
        timeout: 60,
        killGrace: 1,
        logFile: join(dir, `log-${marked}`),
        signal: abort.signal,
        ...(marked ? { marker } : {}),
      });
      const escaped = await escapedPid(pidFile);
      abort.abort();
      const r = await run;
      expect(r.aborted).toBe(true);
      if (marked) expect(await processGone(escaped, 3000), "the marked escapee is stopped").toBe(true);
      else expect(await stays(escaped, 500), "an unmarked escapee is out of reach").toBe(true);
    }
  });

  it("a task that times out: the escaped process is gone within the grace", { timeout: patient(30_000) }, async () => {
    const dir = await tempDir("coord-stop-");
    const pidFile = join(dir, "pid");
    const marker: Marker = { variable: "COORD_TEST_MARK", value: `timeout-${process.pid}-${Date.now()}` };
    const run = runTask({ command: escaper(pidFile), cwd: dir, env: { PATH: process.env.PATH ?? "" }, timeout: 2, killGrace: 1, logFile: join(dir, "log"), marker });
    const escaped = await escapedPid(pidFile);
    const r = await run;
    expect(r.timedOut).toBe(true);
    expect(await processGone(escaped, 3000)).toBe(true);
  });

  it("stopProcesses and killOrphan reach marked processes whose group leader is gone (another coord process stops the turn, or a crash left it)", {
    timeout: patient(30_000),
  }, async () => {
    const dir = await tempDir("coord-stop-");
    for (const how of ["stop", "orphan", "no-pid"] as const) {
      const pidFile = join(dir, `pid-${how}`);
      const marker: Marker = { variable: "COORD_TEST_MARK", value: `${how}-${process.pid}-${Date.now()}` };
      // The shell exits at once: only the escaped sleep is left, with parent 1.
      const r = await runTask({
        command: `setsid sleep 60 & echo $! > ${pidFile}`,
        cwd: dir,
        env: { PATH: process.env.PATH ?? "" },
        timeout: 10,
        logFile: join(dir, `log-${how}`),
        marker,
      });
      expect(r.exitCode).toBe(0);
      const escaped = await escapedPid(pidFile);
      expect(await stays(escaped, 300)).toBe(true);
      if (how === "stop") await stopProcesses({ marker }, 1);
      else if (how === "orphan") expect(await killOrphan(999_999_999, marker.value, marker.variable)).toBe(true);
      // coord stopped before it recorded the pid (a second signal just after the start): found by its marker alone.
      else expect(await killOrphan(undefined, marker.value, marker.variable)).toBe(true);
      expect(await processGone(escaped, 3000)).toBe(true);
    }
  });

  it("an order that times out: what it put in a session of its own is gone when the sync ends (COORD_TASK is its marker)", async ({ onTestFinished }) => {
    const fleet = await makeFleet(["a"]);
    onTestFinished(() => fleet.cleanup());
    const pidFile = join(fleet.root, "escaped.pid");
    await pushOrders(fleet, [{ id: "escape", to: "a", run: escaper(pidFile), timeout: "2s" }]);
    const r = await sync({ dir: fleet.machines.a! });
    expect(r.ran.map((x) => [x.id, x.state])).toEqual([["escape", "failed"]]);
    const escaped = Number((await readFile(pidFile, "utf8")).trim());
    left.push(escaped);
    expect(await processGone(escaped, 10_000), "the escaped sleep outlives its task").toBe(true);
  });

  it("a task's marker is its run's: a timeout in one checkout never stops another's task of the same machine name and order", { timeout: patient(90_000) }, async ({
    onTestFinished,
  }) => {
    // Two checkouts of one computer named alike (two fleets, or a copy): the same order id, revision and attempt, and
    // one clock that stands still (a start in the same millisecond).
    const [mine, theirs] = [await makeFleet(["a"]), await makeFleet(["a"])];
    const at = new Date();
    const now = () => at;
    onTestFinished(async () => {
      await Promise.all([mine.cleanup(), theirs.cleanup()]);
    });
    await pushOrders(theirs, [{ id: "job", to: "a", run: "sleep 60", timeout: "2m" }]);
    const running = sync({ dir: theirs.machines.a!, now }); // in this process too: both run the code under test
    const theirTask = (await runningTask(theirs.machines.a!, "job", 30_000, "the other checkout's task")).pid;
    left.push(theirTask);
    await pushOrders(mine, [{ id: "job", to: "a", run: "sleep 60", timeout: "1s" }]);
    const r = await sync({ dir: mine.machines.a!, now });
    expect(r.ran).toMatchObject([{ id: "job", state: "failed", reason: expect.stringContaining("timed out after 1s") }]);
    // Past the grace of the SIGTERM that stopped mine (5 s, then SIGKILL): theirs still runs.
    expect(await stays(theirTask, 6_000)).toBe(true);
    process.kill(-theirTask, "SIGKILL");
    expect((await running).ran).toMatchObject([{ id: "job", state: "failed", reason: "killed by SIGKILL" }]);
  });

  it("a task a coord of before per-run markers left running is still stopped as an orphan by the next sync", async ({ onTestFinished }) => {
    const fleet = await makeFleet(["a"]);
    onTestFinished(() => fleet.cleanup());
    await pushOrders(fleet, [{ id: "job", to: "a", run: "sleep 60" }]);
    // As that coord left it: the journal says it runs, and its process carries the marker every run of it had then.
    const stateDir = join(fleet.machines.a!, ".git", "coord");
    const orphan = spawn("sleep", ["60"], { detached: true, stdio: "ignore", env: { ...process.env, COORD_TASK: "a/job/r1/a1" } });
    left.push(orphan.pid!);
    const journal = await Journal.open(stateDir);
    await journal.apply("job", { kind: "start", rev: 1, attempt: 1, at: new Date().toISOString(), log: join(stateDir, "logs", "job.r1.a1.log") });
    await journal.apply("job", { kind: "pid", pid: orphan.pid! });
    const r = await sync({ dir: fleet.machines.a! });
    expect(r.interrupted).toEqual(["job"]);
    expect(await processGone(orphan.pid!, 5000)).toBe(true);
  });
});
