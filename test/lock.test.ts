// The sync lock: a live holder keeps it (even paused), a holder known to be
// gone (killed -9) loses it at once, an unknown one only once it is stale.
import { spawn } from "node:child_process";
import { mkdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tryLock } from "../src/state/lock.js";
import { timings } from "../src/timings.js";
import { tempDir } from "./helpers.js";

const LOCK = join(import.meta.dirname, "..", "dist", "state", "lock.js");
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Another process that takes the sync lock of `stateDir` and holds it until killed. */
async function holderProcess(stateDir: string) {
  const child = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `const { tryLock } = await import(${JSON.stringify(LOCK)}); const l = await tryLock(${JSON.stringify(stateDir)}); console.log(l ? "held" : "busy"); setInterval(() => {}, 1000);`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const said = await new Promise<string>((resolve) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(out.trim());
    });
    child.on("close", () => resolve(out.trim()));
  });
  expect(said).toBe("held");
  return {
    pid: child.pid!,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const closed = new Promise((r) => child.once("close", r));
      child.kill("SIGKILL");
      await closed;
    },
  };
}

async function stateDir(): Promise<string> {
  const d = await tempDir("coord-lock-");
  dirs.push(d);
  return d;
}

describe("sync lock", () => {
  it("a live holder keeps it; once it is killed -9 the next sync takes it at once, long before the stale time", async () => {
    const dir = await stateDir();
    const other = await holderProcess(dir);
    try {
      expect(await tryLock(dir)).toBeUndefined();
    } finally {
      await other.kill();
    }
    const started = Date.now();
    const held = await tryLock(dir);
    expect(held).toBeDefined();
    expect(Date.now() - started).toBeLessThan(timings.syncLockStaleMs / 2);
    await held!.release();
  });

  it("a dead pid in an owner file that is not this lock's does not break it: the stale time decides", async () => {
    const dir = await stateDir();
    const owner = join(dir, "sync.owner");
    // Written by a holder that died, before this lock was made (its inode number may be the same, reused).
    await writeFile(owner, "999999999 0\n");
    await new Promise((r) => setTimeout(r, 20));
    await mkdir(join(dir, "sync.lock"));
    const ino = (await stat(join(dir, "sync.lock"))).ino;
    await writeFile(owner, `999999999 ${ino}\n`);
    const old = new Date(Date.now() - 60_000);
    await utimes(owner, old, old);
    expect(await tryLock(dir)).toBeUndefined();
    // Another lock's inode.
    await writeFile(owner, `999999999 ${ino + 1}\n`);
    expect(await tryLock(dir)).toBeUndefined();
    // The old format (a pid alone) does not say which lock it is.
    await writeFile(owner, "999999999\n");
    expect(await tryLock(dir)).toBeUndefined();
  });

  it("a lock of a holder that is gone is broken and taken, and its owner file names the new holder", async () => {
    const dir = await stateDir();
    await mkdir(join(dir, "sync.lock"));
    const ino = (await stat(join(dir, "sync.lock"))).ino;
    await writeFile(join(dir, "sync.owner"), `999999999 ${ino}\n`);
    const held = await tryLock(dir);
    expect(held).toBeDefined();
    const now = (await stat(join(dir, "sync.lock"))).ino;
    expect(await readFile(join(dir, "sync.owner"), "utf8")).toBe(`${process.pid} ${now}\n`);
    await held!.release();
  });
});
