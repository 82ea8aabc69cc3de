// Stopping a process tree for real: on this machine, a group with a grandchild goes whole; read as Windows would, the
// tree is handed to `taskkill /PID <pid> /T /F` (a stand-in on PATH records what it was given).
import { spawn } from "node:child_process";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killTree, ownTree, treeAlive } from "../src/platform/tree.js";
import { tempDir, waitFor } from "./helpers.js";

const PATH = process.env.PATH;
afterEach(() => {
  process.env.PATH = PATH;
});

describe("a process tree", () => {
  it("Linux: SIGKILL to the tree takes the leader and what it started; the tree is then gone", async () => {
    const dir = await tempDir("coord-tree-");
    const pidFile = join(dir, "grandchild");
    const child = spawn("/bin/sh", ["-c", `sleep 300 & echo $! > ${pidFile}; wait`], { ...ownTree("linux"), stdio: "ignore" });
    await waitFor(async () => (await readFile(pidFile, "utf8").catch(() => "")).trim() !== "", 10_000, "the grandchild's pid");
    const grandchild = Number((await readFile(pidFile, "utf8")).trim());
    expect(treeAlive(child.pid!, "linux")).toBe(true);
    killTree(child.pid!, "SIGKILL", "linux");
    await waitFor(async () => !treeAlive(child.pid!, "linux"), 10_000, "the tree gone");
    const gone = (pid: number) => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    await waitFor(async () => gone(grandchild), 10_000, "the grandchild gone"); // reaped by init once its parent died
  });

  it("Windows: the tree is handed to taskkill /T /F, found on PATH", async () => {
    const bin = await tempDir("coord-taskkill-");
    const record = join(bin, "args");
    await writeFile(join(bin, "taskkill"), `#!/bin/sh\necho "$@" > ${record}\n`);
    await chmod(join(bin, "taskkill"), 0o755);
    process.env.PATH = `${bin}:${PATH}`;
    killTree(4242, "SIGTERM", "win32");
    await waitFor(async () => (await readFile(record, "utf8").catch(() => "")) !== "", 10_000, "taskkill's arguments");
    expect((await readFile(record, "utf8")).trim()).toBe("/PID 4242 /T /F");
  });

  it("Windows: with no taskkill to start, nothing is thrown", () => {
    process.env.PATH = "/nonexistent";
    expect(() => killTree(4242, "SIGKILL", "win32")).not.toThrow();
  });
});
