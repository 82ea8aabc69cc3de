// Every error that reaches a user from the CLI is one sentence and an exit
// code; a stack trace only with COORD_DEBUG=1. Cron schedules are checked
// field by field. (The sentences themselves: errors-top.test.ts.)
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, cli, cliExec, makeFleet, tempDir } from "./helpers.js";

describe("the CLI's filesystem errors", () => {
  it("hub create where a path part is a file: one sentence, exit 2, no stack", async () => {
    const root = await tempDir();
    await writeFile(join(root, "file"), "x");
    const r = await cliExec(["hub", "create", join(root, "file", "hub.git")]);
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe(`coord: ${join(root, "file")} is a file, not a directory; choose another path for the hub`);
    const deeper = await cliExec(["hub", "create", join(root, "file", "a", "hub.git")]);
    expect(deeper.code).toBe(2);
    expect(deeper.err.trim()).toMatch(/^coord: mkdir \S+ failed: [^\n]+ \((ENOTDIR|EEXIST)\); [^\n]+$/);
  });

  it("COORD_DEBUG=1 adds the stack to a failing command's sentence; without it, the sentence alone", async () => {
    const root = await tempDir();
    await writeFile(join(root, "file"), "x");
    const args = ["hub", "create", join(root, "file", "hub.git")];
    const { COORD_DEBUG: _, ...env } = process.env;
    const plain = await cliExec(args, undefined, env);
    const debug = await cliExec(args, undefined, { ...env, COORD_DEBUG: "1" });
    const sentence = `coord: ${join(root, "file")} is a file, not a directory; choose another path for the hub`;
    expect(plain.code).toBe(2);
    expect(plain.err.trim()).toBe(sentence);
    expect(debug.code).toBe(2);
    expect(debug.err.split("\n")[0]).toBe(sentence);
    expect(debug.err).toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
  });

  it("hub create under /proc (the kernel answers ENOENT) ends with a sentence instead of looping", async () => {
    const r = await cliExec(["hub", "create", "/proc/coord-hub-test"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^coord: mkdir \/proc\/coord-hub-test failed: no such file or directory \(ENOENT\); check the path\n?$/);
  });

  // A uid with no passwd entry and no HOME (a container's --user), or another user's HOME it may not read:
  // os.homedir() throws, stat of ~/.gitconfig fails with EACCES. A sentence, never a stack.
  it.skipIf(process.getuid?.() !== 0 || !existsSync("/usr/bin/setpriv"))("a user without a home, or in another user's, gets sentences, not stacks", async () => {
    const missing = join(await tempDir(), "no-checkout");
    for (const home of [undefined, "/root"]) {
      const env: NodeJS.ProcessEnv = { ...process.env };
      if (home === undefined) delete env.HOME;
      else env.HOME = home;
      const as = (args: string[]) => runAs(["setpriv", "--reuid=4242", "--regid=4242", "--clear-groups", process.execPath, CLI, ...args], env);
      expect(await as(["--version"])).toMatchObject({ code: 0, err: "" });
      const r = await as(["sync", "--dir", missing]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^coord: .*not a git checkout[^\n]*\n?$/);
    }
  });
});

/** Runs `argv` to its end. */
function runAs(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr!.on("data", (d) => (err += d));
    child.on("close", (code) => resolve({ code, err }));
  });
}

describe("cron schedules", () => {
  it("coord cron and coord daemon name the field that is wrong", async () => {
    const fleet = await makeFleet(["alpha"]);
    try {
      const c = await cli("cron", "print", "--dir", fleet.machines.alpha!, "--schedule", "61 * * * *");
      expect(c.code).toBe(2);
      expect(c.err).toMatch(/the minute field: 61 is not within 0-59/);
      const d = await cli("daemon", "start", "--dir", fleet.machines.alpha!, "--schedule", "* * 32 * *");
      expect(d.code).toBe(2);
      expect(d.err).toMatch(/the day-of-month field: 32 is not within 1-31/);
    } finally {
      await fleet.cleanup();
    }
  });
});
