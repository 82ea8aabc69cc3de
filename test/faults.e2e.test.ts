// One fault on one machine is that task's problem: a task that cannot start,
// a log that cannot be written, a huge timeout. Real processes, real git.
import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runTask, type RunSpec } from "../src/runner/run.js";
import { LATE, MAX_TIMEOUT_MS, setLongTimeout, within } from "../src/runner/timer.js";
import { sync } from "../src/sync/sync.js";
import { cliProcess, hubFile, hubStatus, killRecorded, makeFleet, pushOrders, type Recorded, recorded, setConfig, tempDir, waitFor, type Fleet } from "./helpers.js";
import { procStatFields } from "./proc-stat.js";

let fleet: Fleet | undefined;
const dirs: string[] = [];
const children: ChildProcess[] = [];
/** Process groups of tasks a test started, killed afterwards if a failed test left them. */
const groups: Recorded[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const g of groups.splice(0)) if (groupMembers(g.pid).length) killRecorded(g, true);
  await fleet?.cleanup();
  fleet = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** The live (not zombie) processes of process group `pgid` (Linux /proc). */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const [state, , pgrp] = procStatFields(stat);
      if (Number(pgrp) === pgid && state !== "Z") members.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

async function spec(extra: Partial<RunSpec>): Promise<RunSpec> {
  const dir = await tempDir();
  dirs.push(dir);
  return { cwd: dir, env: { PATH: process.env.PATH! }, timeout: 30, logFile: join(dir, "logs", "task.log"), ...extra };
}

describe("a task that cannot start is that task's failure, with a reason", () => {
  it("a NUL byte in the command or an env value, a cwd that is a file, a program not on PATH: a sentence, never a throw", async () => {
    const cases: [Partial<RunSpec>, string][] = [
      [{ command: "echo a\0b" }, "the command contains a NUL byte, which no program can be given"],
      [{ command: "echo a", env: { PATH: process.env.PATH!, TOKEN: "x\0y" } }, 'env "TOKEN" contains a NUL byte, which no program can be given'],
      [{ command: "echo a", cwd: "/etc/hostname" }, "cwd /etc/hostname is not a directory"],
      [{ command: "echo a", cwd: "/no/such/dir" }, "cwd /no/such/dir does not exist"],
      [{ argv: ["nosuchagent", "-p", "hi"], program: "the agent CLI nosuchagent" }, "the agent CLI nosuchagent is not on PATH"],
    ];
    const script = join(await tempDir(), "not-executable.sh");
    dirs.push(dirname(script));
    await writeFile(script, "#!/bin/sh\necho hi\n", { mode: 0o644 });
    cases.push([{ argv: [script] }, `${script} cannot be run (permission denied: is it executable?)`]);
    for (const [extra, reason] of cases) {
      const r = await runTask(await spec(extra));
      expect(r, reason).toMatchObject({ exitCode: null, aborted: false, timedOut: false, error: reason });
    }
  });

  it("an argument list over the system limit (E2BIG, thrown by spawn) is a reason too", async () => {
    const r = await runTask(await spec({ argv: ["echo", "x".repeat(300_000)] }));
    expect(r.error).toMatch(/^its command line and environment are too large for the system to start it \(E2BIG: \d+ KB/);
  });

  it("a full disk under the output log (/dev/full) does not stop the task: it runs to its end, its tail is kept, the log problem is said", async () => {
    const s = await spec({ command: "head -c 200000 /dev/zero | tr '\\0' y; echo; echo last line", logFile: "/dev/full" });
    const r = await runTask(s);
    expect(r).toMatchObject({ exitCode: 0, aborted: false, timedOut: false });
    expect(r.tail).toMatch(/last line\n$/);
    expect(r.logError).toBe("the output log /dev/full could not be written (ENOSPC); the task ran on and its last lines are kept");
  });

  it("a missing log directory (removed by hand) is made again", async () => {
    const s = await spec({ command: "echo hello" });
    const r = await runTask(s);
    expect(r.logError).toBeUndefined();
    expect(await readFile(s.logFile, "utf8")).toBe("hello\n");
  });
});

describe("a timeout of any length", () => {
  it("30 days or Infinity do not kill the task at once (setTimeout overflows past 24.8 days)", async () => {
    for (const timeout of [30 * 86400, 1e12, Infinity]) {
      const t = await runTask(await spec({ command: "sleep 0.3; echo done", timeout }));
      expect(t, String(timeout)).toMatchObject({ exitCode: 0, timedOut: false, tail: "done\n" });
    }
  });

  it("fires a delay past setTimeout's limit at its time, in chunks, and can be cancelled", () => {
    vi.useFakeTimers();
    try {
      const fired: string[] = [];
      setLongTimeout(() => fired.push("30d"), 30 * 86400_000);
      const cancel = setLongTimeout(() => fired.push("cancelled"), 40 * 86400_000);
      setLongTimeout(() => fired.push("never"), Infinity);
      vi.advanceTimersByTime(MAX_TIMEOUT_MS + 1000);
      expect(fired).toEqual([]);
      vi.advanceTimersByTime(30 * 86400_000 - MAX_TIMEOUT_MS - 1001);
      expect(fired).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(fired).toEqual(["30d"]);
      cancel();
      vi.advanceTimersByTime(365 * 86400_000);
      expect(fired).toEqual(["30d"]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("within: the work's answer when it comes first, LATE when the wait ends first, and no timer left either way", async () => {
    // Its own timers are followed (not the process's count, which other tests' timers move).
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    const armed = new Set<unknown>();
    const done = new Set<unknown>();
    const set = vi.spyOn(globalThis, "setTimeout").mockImplementation(((fn: () => void, ms?: number) => {
      const handle: unknown = realSet(() => {
        done.add(handle);
        fn();
      }, ms);
      armed.add(handle);
      return handle;
    }) as typeof setTimeout);
    const clear = vi.spyOn(globalThis, "clearTimeout").mockImplementation(((handle: NodeJS.Timeout) => {
      done.add(handle);
      realClear(handle);
    }) as typeof clearTimeout);
    const left = () => [...armed].filter((h) => !done.has(h)).length;
    try {
      expect(await within(Promise.resolve("done"), 60_000)).toBe("done");
      expect(left()).toBe(0);
      expect(await within(new Promise(() => {}), 5)).toBe(LATE);
      expect(left()).toBe(0);
      await expect(within(Promise.reject(new Error("failed")), 60_000)).rejects.toThrow("failed");
      expect(left()).toBe(0);
      expect(armed.size).toBe(3);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });
});

describe("tasks that cannot run, in a fleet", () => {
  it("each fails with its reason, is published, and the daemon keeps running the next orders", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const missing = join(fleet.root, "no-such-dir");
    // The machine says it has the agent (a label), but its CLI is not on PATH (uninstalled since).
    await setConfig(dir, { labels: ["nosuchagent"] });
    await pushOrders(fleet, [
      { id: "nocwd", to: "izzit7", run: "echo never", cwd: missing },
      { id: "noagent", to: "izzit7", agent: "nosuchagent", prompt: "hello" },
      { id: "huge", to: "izzit7", run: "echo never", env: { BIG: "x".repeat(200_000) } },
    ]);
    const daemon = cliProcess(["daemon", "run", "--dir", dir, "--schedule", "* * * * * *", "--jitter", "0"]);
    children.push(daemon);
    let out = "";
    daemon.stdout!.on("data", (d) => (out += d));
    daemon.stderr!.on("data", (d) => (out += d));
    const status = await waitFor(
      async () => {
        const s = await hubStatus(fleet!);
        return ["nocwd", "noagent", "huge"].every((id) => s.orders[id]?.machines.izzit7?.state === "failed") && s;
      },
      30_000,
      "the three failures published",
    );
    expect(status.orders.nocwd?.machines.izzit7?.reason).toBe(`cwd ${missing} does not exist`);
    expect(status.orders.noagent?.machines.izzit7?.reason).toBe("the agent CLI nosuchagent is not on PATH");
    expect(status.orders.huge?.machines.izzit7?.reason).toMatch(/too large for the system to start it \(E2BIG/);
    expect(await hubFile(fleet, "STATUS.md")).toContain(`cwd ${missing} does not exist`);

    // The same daemon runs what comes next.
    await pushOrders(fleet, [{ id: "next", to: "izzit7", run: "echo still here" }]);
    await waitFor(async () => (await hubStatus(fleet!)).orders.next?.state === "completed", 30_000, "the next order completed by the same daemon");
    expect(daemon.exitCode).toBeNull();
    expect(out).not.toMatch(/\n\s+at |Unhandled|uncaught/i);
    daemon.kill("SIGTERM");
    await new Promise((r) => daemon.once("exit", r));
  });

  it("a task whose output log cannot be written completes; the published output says so (a link there is not written through)", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    await pushOrders(fleet, [{ id: "build", to: "izzit7", run: "echo built" }]);
    // Where this attempt's log goes, a link to /dev/full: coord opens its logs without following a link (an agent's
    // could point at a file of the user's), so the log is not written, and the task goes on.
    await mkdir(join(dir, ".git", "coord", "logs"), { recursive: true });
    await symlink("/dev/full", join(dir, ".git", "coord", "logs", "build.r1.a1.log"));
    const r = await sync({ dir });
    expect(r.ran).toEqual([{ id: "build", rev: 1, state: "completed", exitCode: 0 }]);
    const computer = await hubFile(fleet, "coordination/COMPUTER_izzit7.md");
    expect(computer).toContain("built");
    expect(computer).toContain("build.r1.a1.log could not be written (ELOOP)");
  });
});

describe("coord sync stopped by a signal", () => {
  /** A sync of a machine running one long task in the CLI process; resolves once the task runs, with its process group. */
  async function longSync(script: string) {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const started = join(fleet.root, "started");
    await pushOrders(fleet, [{ id: "long", to: "izzit7", run: `${script}; echo $$ > ${started}.tmp; mv ${started}.tmp ${started}; sleep 60` }]);
    const child = cliProcess(["sync", "--dir", dir]);
    children.push(child);
    const io = { out: "", err: "" };
    child.stdout!.on("data", (d) => (io.out += d));
    child.stderr!.on("data", (d) => (io.err += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const pgid = await waitFor(async () => Number(await readFile(started, "utf8")) || undefined, 30_000, "the task to start");
    groups.push(recorded(pgid));
    return { dir, child, io, exited, pgid };
  }

  it("SIGTERM: its task's process group is killed, reported failed (interrupted) and published, the lock released; exit 143", async () => {
    const { dir, child, io, exited, pgid } = await longSync("true");
    expect(groupMembers(pgid).length).toBeGreaterThan(0);
    child.kill("SIGTERM");
    expect(await exited).toBe(143);
    await waitFor(async () => groupMembers(pgid).length === 0, 30_000, "the task's process group to be gone");
    expect(io.err).toContain("coord: SIGTERM: stopping the running tasks and publishing what they did; send it again to exit at once");
    expect(io.out).toContain("long: failed (interrupted: coord was stopped)");
    expect(io.err).not.toMatch(/\n\s+at /);
    expect((await hubStatus(fleet!)).orders.long?.machines.izzit7).toMatchObject({ state: "failed", reason: "interrupted: coord was stopped" });
    // The lock was released: the next sync runs at once (it is not skipped).
    expect((await sync({ dir })).skipped).toBe(false);
  });

  it("SIGINT (Ctrl-C): the same clean stop, exit 130", async () => {
    const { dir, child, io, exited, pgid } = await longSync("true");
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    await waitFor(async () => groupMembers(pgid).length === 0, 30_000, "the task's process group to be gone");
    expect(io.err).toContain("coord: SIGINT: stopping the running tasks and publishing what they did; send it again to exit at once");
    expect(io.err).not.toMatch(/\n\s+at /);
    expect((await hubStatus(fleet!)).orders.long?.machines.izzit7).toMatchObject({ state: "failed", reason: "interrupted: coord was stopped" });
    expect((await sync({ dir })).skipped).toBe(false);
  });

  it("a second signal exits at once; the next sync stops the task left behind and reports it interrupted", async () => {
    // A task that ignores SIGTERM: a clean stop would wait for the kill grace.
    const { dir, child, io, exited, pgid } = await longSync("trap '' TERM INT");
    child.kill("SIGINT");
    await waitFor(async () => io.err.includes("SIGINT: stopping"), 10_000, "the first signal to be heard");
    const second = Date.now();
    child.kill("SIGTERM");
    expect(await exited).toBe(143);
    expect(Date.now() - second).toBeLessThan(3_000);
    expect(groupMembers(pgid).length).toBeGreaterThan(0); // left running…
    const r = await sync({ dir }); // …and the lock released on exit
    expect(r).toMatchObject({ skipped: false, interrupted: ["long"] });
    // A bound, not a speed: the task ignores SIGTERM, so it goes at the kill grace, later still on a busy machine.
    await waitFor(async () => groupMembers(pgid).length === 0, 30_000, "the task left behind to be stopped");
    expect((await hubStatus(fleet!)).orders.long?.machines.izzit7).toMatchObject({ state: "failed", reason: "interrupted" });
  });
});
