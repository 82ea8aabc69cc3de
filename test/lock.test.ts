// The sync lock: a holder known to be gone loses it at once, an unknown one
// only once it is stale. (A live holder in another process: lock.e2e.test.ts.)
import { mkdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
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
    expect(await readFile(join(dir, "sync.owner"), "utf8")).toBe(`${process.pid} ${now}\n`);
    await held!.release();
  });
});
