// A service's process at the edges: its start time (to know it again), its
// group stopped whole.
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { processStart, spawnService, stopGroup, treeAlive } from "../src/runner/service.js";
import { tempDir } from "./helpers.js";

describe("processStart", () => {
  it("names a running process the same way each time, another process differently, a gone one not at all", async () => {
    const me = await processStart(process.pid);
    expect(me).toBeDefined();
    expect(await processStart(process.pid)).toBe(me);
    const child = spawn("sleep", ["5"], { stdio: "ignore" });
    const other = await processStart(child.pid!);
    expect(other).toBeDefined();
    expect(other).not.toBe(me);
    const closed = new Promise((r) => child.once("close", r));
    child.kill("SIGKILL");
    await closed;
    expect(await processStart(child.pid!)).toBeUndefined();
    expect(await processStart(0)).toBeUndefined();
    expect(await processStart(-1)).toBeUndefined();
  });
});

describe("spawnService and stopGroup", () => {
  it("starts a process group with its output appended to the log; stopping it stops what it started too", async () => {
    const dir = await tempDir();
    const log = join(dir, "s", "web.log");
    await writeFile(join(dir, "before"), "");
    const s = await spawnService({ command: "echo hello; sleep 300 & echo started; exec sleep 301", cwd: dir, env: { PATH: process.env.PATH ?? "" }, logFile: log });
    if ("error" in s) throw new Error(s.error);
    expect(s.start).toBe(await processStart(s.pid));
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
