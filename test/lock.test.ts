// The sync lock: a holder known to be gone loses it at once, an unknown one
// only once it is stale. (A live holder in another process: lock.e2e.test.ts.)
import { spawn } from "node:child_process";
import { mkdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { processIdentity } from "../src/platform/processes.js";
import { tryLock } from "../src/state/lock.js";
import { tempDir } from "./helpers.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function stateDir(): Promise<string> {
  const d = await tempDir("coord-lock-");
  dirs.push(d);
  return d;
}

describe("sync lock", () => {
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
    const me = await processIdentity(process.pid);
    expect(await readFile(join(dir, "sync.owner"), "utf8")).toBe(`${process.pid} ${now}${me ? ` ${me}` : ""}\n`);
    await held!.release();
  });

  it.runIf(process.platform === "linux")("a live pid that is not the process the owner file names is gone: its lock is broken at once", async () => {
    const dir = await stateDir();
    await mkdir(join(dir, "sync.lock"));
    const ino = (await stat(join(dir, "sync.lock"))).ino;
    const parent = process.ppid; // alive, and not this process (whose own syncs proper-lockfile tells apart)
    const its = await processIdentity(parent);
    expect(its).toMatch(/^[0-9a-f-]{36}\/\d+$/);
    await writeFile(join(dir, "sync.owner"), `${parent} ${ino} ${its}\n`);
    expect(await tryLock(dir)).toBeUndefined(); // the holder it names runs
    // Another process with that pid (another start, or another boot): the holder is gone.
    await writeFile(join(dir, "sync.owner"), `${parent} ${ino} ${its!.replace(/\/\d+$/, "/1")}\n`);
    const held = await tryLock(dir);
    expect(held).toBeDefined();
    await held!.release();
  });

  it.runIf(process.platform === "linux")("a live holder keeps its lock when the wall clock says it started after its owner file (a clock stepped forward)", async () => {
    const dir = await stateDir();
    await mkdir(join(dir, "sync.lock"));
    const ino = (await stat(join(dir, "sync.lock"))).ino;
    const owner = join(dir, "sync.owner");
    await writeFile(owner, "");
    const written = (await stat(owner)).mtime;
    // A start in wall-clock terms is the boot time (now less the time since boot) plus the ticks: a step of the clock
    // forward moves it later. A holder that started over 2 s after its owner file was written looks the same (the boot
    // time is in whole seconds, so up to 1 s early: 3.2 s is past the older check's 2 s of room whatever its fraction).
    await new Promise((r) => setTimeout(r, 3200));
    const holder = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      await writeFile(owner, `${holder.pid} ${ino} ${await processIdentity(holder.pid!)}\n`);
      await utimes(owner, written, written);
      expect(await tryLock(dir)).toBeUndefined();
    } finally {
      holder.kill("SIGKILL");
    }
  });
});
