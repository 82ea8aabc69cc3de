// The sync lock held by another process (the built dist/state/lock.js): a live
// holder keeps it, one killed -9 loses it at once.
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
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
});
