// Whether a daemon runs, told from its lock and daemon.json alone: a lock a daemon killed -9 left is cleared, and the
// lock of a daemon in its first moments (daemon.json still names the one before it) is not. (Daemons for real:
// daemon.e2e.test.ts and daemon-install.e2e.test.ts.)
import { execFileSync } from "node:child_process";
import { mkdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { daemonRunning, stopDaemon } from "../src/daemon/daemon.js";
import { tempDir } from "./helpers.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A checkout (git init: nothing more is read) and its local state directory. */
async function checkout(): Promise<{ dir: string; state: string }> {
  const dir = await tempDir("coord-daemon-running-");
  dirs.push(dir);
  execFileSync("git", ["init", "-q", dir]);
  const state = join(dir, ".git", "coord");
  await mkdir(state);
  return { dir, state };
}

/** daemon.json of a daemon whose pid is gone and that never said it stopped (a kill -9, a power cut). */
const killed = (dir: string) => JSON.stringify({ pid: 999_999_999, dir, startedAt: "2026-12-03T10:00:00.000Z", schedule: "*/5 * * * *" });

/** Whether this system says when a directory was made (Linux's statx on most file systems; not every one). */
async function birthKnown(dir: string): Promise<boolean> {
  const probe = join(dir, "probe");
  await mkdir(probe);
  return (await stat(probe)).birthtimeMs > 0;
}

describe("daemonRunning", () => {
  it("a lock a daemon killed -9 left is removed: nothing blocks the next start", async () => {
    const { dir, state } = await checkout();
    await mkdir(join(state, "daemon.lock"));
    await writeFile(join(state, "daemon.json"), killed(dir)); // written while it ran, after it took its lock
    expect(await daemonRunning(state)).toBe(false);
    await expect(stat(join(state, "daemon.lock"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await stopDaemon({ dir, timeout: 1 })).toEqual({ wasRunning: false, pid: 999_999_999 });
  });

  it("a lock made after daemon.json was written is a newer daemon's, before it names itself: kept, and not signalled", async (ctx) => {
    const { dir, state } = await checkout();
    if (!(await birthKnown(state))) ctx.skip();
    await writeFile(join(state, "daemon.json"), killed(dir));
    const before = new Date(Date.now() - 5000);
    await utimes(join(state, "daemon.json"), before, before);
    await mkdir(join(state, "daemon.lock")); // the new daemon's lock, taken a moment ago
    expect(await daemonRunning(state)).toBe(true);
    expect(await daemonRunning(state)).toBe(true);
    await stat(join(state, "daemon.lock"));
    // `daemon stop` waits for daemon.json to name it, and never signals the pid of the one before.
    const stopped = stopDaemon({ dir, timeout: 1 });
    await expect(stopped).rejects.toThrow(/does not name it; try again/);
  });
});
