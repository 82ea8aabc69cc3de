// A service's process at the edges: its mark (to know it again), its
// group stopped whole.
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { processStart } from "../src/platform/processes.js";
import { isSameProcess, processMark, spawnService, stopGroup, treeAlive } from "../src/runner/service.js";
import { tempDir } from "./helpers.js";

describe("processMark and isSameProcess", () => {
  it("mark a running process the same way each time and another process differently; a gone one is not the same", async () => {
    const me = await processMark(process.pid);
    expect(me).toBeDefined();
    expect(await processMark(process.pid)).toBe(me);
    expect(await isSameProcess(process.pid, me!)).toBe(true);
    const child = spawn("sleep", ["5"], { stdio: "ignore" });
    const other = await processMark(child.pid!);
    expect(other).toBeDefined();
    expect(other).not.toBe(me);
    expect(await isSameProcess(child.pid!, me!)).toBe(false); // a pid that is now another process
    // A service record of an older coord holds the process's start time: still known by it.
    const older = await processStart(child.pid!);
    expect(await isSameProcess(child.pid!, older!)).toBe(true);
    const closed = new Promise((r) => child.once("close", r));
    child.kill("SIGKILL");
    await closed;
    expect(await processMark(child.pid!)).toBeUndefined();
    expect(await isSameProcess(child.pid!, other!)).toBe(false);
    expect(await isSameProcess(child.pid!, older!)).toBe(false);
    expect(await processMark(0)).toBeUndefined();
    expect(await processMark(-1)).toBeUndefined();
  });
});

describe("spawnService and stopGroup", () => {
  it("starts a process group with its output appended to the log; stopping it stops what it started too", async () => {
    const dir = await tempDir();
    const log = join(dir, "s", "web.log");
    await writeFile(join(dir, "before"), "");
    const s = await spawnService({ command: "echo hello; sleep 300 & echo started; exec sleep 301", cwd: dir, env: { PATH: process.env.PATH ?? "" }, logFile: log });
    if ("error" in s) throw new Error(s.error);
    expect(s.start).toBe(await processMark(s.pid));
    await expect.poll(async () => readFile(log, "utf8").catch(() => ""), { timeout: 5000 }).toBe("hello\nstarted\n");
    expect(treeAlive(s.pid)).toBe(true);
    await stopGroup(s.pid, 1);
    expect(treeAlive(s.pid)).toBe(false);
    expect((await s.exited).signal).toBe("SIGTERM");
  });

  it("a cwd that does not exist is a sentence, not an exception", async () => {
    const dir = await tempDir();
    const s = await spawnService({ command: "true", cwd: join(dir, "nope"), env: {}, logFile: join(dir, "x.log") });
    expect(s).toEqual({ error: `cwd ${join(dir, "nope")} does not exist` });
  });
});
