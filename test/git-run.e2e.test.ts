// One git command as a process (src/git/run.ts): what it answers, when it
// fails, its deadline and abort, its stdin, and that a process git leaves
// behind holding its pipes does not keep the caller waiting.
import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { isTimeout } from "../src/git/git.js";
import { remoteTip } from "../src/git/remote-tip.js";
import { GitFailed, GitStopped, runGit } from "../src/git/run.js";
import { processGone, silentSsh, tempDir } from "./helpers.js";
import { patient } from "./patience.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", LC_ALL: "C", GIT_CONFIG_NOSYSTEM: "1" };

async function repo(): Promise<string> {
  dir = await tempDir("coord-run-");
  execFileSync("git", ["init", "-q", dir]);
  return dir;
}

const text = async (args: string[], more: Partial<Parameters<typeof runGit>[1]> = {}) => (await runGit(args, { cwd: dir!, env, timeoutMs: 10_000, ...more })).toString("utf8");

describe("runGit", () => {
  it("answers a command's stdout; a silent non-zero exit is an answer, a non-zero exit that says why fails with it", async () => {
    await repo();
    expect((await text(["rev-parse", "--is-inside-work-tree"])).trim()).toBe("true");
    // A missing ref: exit 1, nothing on stderr.
    expect(await text(["rev-parse", "--verify", "--quiet", "refs/heads/none^{commit}"])).toBe("");
    const failed = await text(["cat-file", "-p", "no-such-object"]).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(GitFailed);
    expect((failed as GitFailed).exitCode).not.toBe(0);
    expect((failed as Error).message).toMatch(/not a valid object name|no-such-object/);
  });

  it("writes the input to stdin and closes it; without input, stdin is closed (a command that reads it does not wait)", async () => {
    await repo();
    const id = (await text(["hash-object", "--stdin"], { input: "hello\n" })).trim();
    expect(id).toBe(execFileSync("git", ["hash-object", "--stdin"], { cwd: dir, input: "hello\n", encoding: "utf8" }).trim());
    expect((await text(["hash-object", "--stdin"])).trim()).toBe(execFileSync("git", ["hash-object", "--stdin"], { cwd: dir, input: "", encoding: "utf8" }).trim());
  });

  it("kills a command at its deadline with what it started: GitStopped, which isTimeout recognises; the caller is not held", { timeout: patient(30_000) }, async () => {
    const d = await repo();
    // A fetch whose ssh never answers: git's ssh keeps git's pipes; it must go too, and must not hold the call.
    const { command: ssh, pid: sshPid } = await silentSsh(d);
    const started = Date.now();
    const e = await text(["fetch", "ssh://nohost.invalid/x.git", "main"], { timeoutMs: 1000, env: { ...env, GIT_SSH_COMMAND: ssh } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GitStopped);
    expect((e as GitStopped).why).toBe("timeout");
    expect(isTimeout(e)).toBe(true);
    expect(Date.now() - started).toBeLessThan(20_000); // not the sleep's 30 s
    const pid = await sshPid();
    expect(pid).toBeGreaterThan(1);
    expect(await processGone(pid)).toBe(true);
  });

  it("the quiet sync's ls-remote (remoteTip) goes at its deadline with the ssh it started, as every git command does", { timeout: patient(30_000) }, async () => {
    const d = await repo();
    const { command: ssh, pid: sshPid } = await silentSsh(d);
    execFileSync("git", ["-C", d, "config", "core.sshCommand", ssh]);
    const e = await remoteTip(d, "ssh://nohost.invalid/x.git", "main", 1).catch((x: unknown) => x);
    expect(isTimeout(e)).toBe(true);
    expect(await processGone(await sshPid())).toBe(true);
  });

  it("a command that exited before its deadline is its answer, even while something it left holds the pipes past the deadline", async () => {
    await repo();
    // git exits at once (well within the 3 s deadline, even on a loaded machine); the sleep it left keeps stdout open
    // past the deadline, for 20 s: the exit grace ends the call long before (waiting for the pipes, it would take 20 s).
    const start = Date.now();
    expect((await text(["-c", "alias.quick=!echo done; (sleep 20 &)", "quick"], { timeoutMs: 3000 })).trim()).toBe("done");
    expect(Date.now() - start).toBeLessThan(15_000);
  });

  it("an abort kills the command; an abort before the start runs nothing", { timeout: patient(30_000) }, async () => {
    await repo();
    const ac = new AbortController();
    const running = text(["-c", "alias.hang=!sleep 30", "hang"], { signal: ac.signal }).catch((x: unknown) => x);
    setTimeout(() => ac.abort(), 200);
    const e = await running;
    expect(e).toBeInstanceOf(GitStopped);
    expect((e as GitStopped).why).toBe("abort");
    expect(isTimeout(e)).toBe(false);
    const before = await text(["--version"], { signal: AbortSignal.abort() }).catch((x: unknown) => x);
    expect((before as GitStopped).why).toBe("abort");
  });

  it("a directory that does not exist is a failure to start, not an answer", async () => {
    const e = await runGit(["--version"], { cwd: "/nonexistent/coord-run", env, timeoutMs: 5000 }).catch((x: unknown) => x);
    expect(String((e as Error).message)).toMatch(/ENOENT|spawn/);
  });
});
