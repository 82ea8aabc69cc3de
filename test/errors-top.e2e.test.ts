// Every error that reaches a user is one sentence and an exit code; a stack
// trace only with COORD_DEBUG=1. Cron schedules are checked field by field.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeFailure, failureLines } from "../src/failure.js";
import { cronProblem } from "../src/core/cron.js";
import { CoordError, EXIT } from "../src/errors.js";
import { CLI, cli, cliExec, makeFleet, tempDir } from "./helpers.js";

/** An error shaped like the ones node:fs throws. */
function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path, errno: -1 });
}

describe("describeFailure", () => {
  it.each([
    [errno("EACCES", "mkdir", "/root/x"), "mkdir /root/x failed: permission denied (EACCES); check its permissions, or choose a path you can write", EXIT.FAILURE],
    [
      errno("ENOSPC", "write", "/var/coord/journal.json"),
      "write /var/coord/journal.json failed: no space left on the device (ENOSPC); free some space and run again",
      EXIT.FAILURE,
    ],
    [errno("ENOTDIR", "mkdir", "/etc/passwd/x"), "mkdir /etc/passwd/x failed: a part of the path is a file, not a directory (ENOTDIR); check the path", EXIT.USAGE],
    [new CoordError("the remote has no branch main", EXIT.USAGE), "the remote has no branch main", EXIT.USAGE],
    [
      new TypeError("Cannot read properties of null (reading 'x')\n    at f (file.js:1:1)"),
      "unexpected error: Cannot read properties of null (reading 'x'); run again with COORD_DEBUG=1 for details, and report it if it persists",
      EXIT.FAILURE,
    ],
    ["a string", "unexpected error: a string; run again with COORD_DEBUG=1 for details, and report it if it persists", EXIT.FAILURE],
  ])("%s", (e, message, exitCode) => {
    expect(describeFailure(e)).toEqual({ message, exitCode });
  });

  it("redacts what it prints", () => {
    const r = describeFailure(new Error("fetch https://x/?t=1 with token ghp_abcdefghijklmnopqrstuvwxyz0123456789 failed"));
    expect(r.message).not.toContain("ghp_abcdefghijklmnopqrstuvwxyz0123456789");
  });

  it("prints a stack only with COORD_DEBUG=1", () => {
    const e = new RangeError("Maximum call stack size exceeded");
    expect(failureLines(e, {})).toHaveLength(1);
    expect(failureLines(e, {}).join("\n")).not.toMatch(/\n\s+at /);
    expect(failureLines(e, { COORD_DEBUG: "1" }).join("\n")).toMatch(/\n\s+at /);
  });
});

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
  it.each([
    ["*/5 * * * *", {}, undefined],
    ["0 9-17 * * mon-fri", {}, undefined],
    ["15,45 */2 1 jan,jul 0", {}, undefined],
    ["0 0 * * 7", {}, undefined],
    ["@daily", { aliases: true }, undefined],
    ["*/10 * * * * *", { seconds: true }, undefined],
    ["61 * * * *", {}, "the minute field: 61 is not within 0-59"],
    ["* 24 * * *", {}, "the hour field: 24 is not within 0-23"],
    ["* * 0 * *", {}, "the day-of-month field: 0 is not within 1-31"],
    ["* * * 13 *", {}, "the month field: 13 is not within 1-12"],
    ["* * * * 8", {}, "the day-of-week field: 8 is not within 0-7"],
    ["*/0 * * * *", {}, 'the minute field: the step "0" must be a whole number of 1 or more'],
    ["30-10 * * * *", {}, "the minute field: the range 30-10 runs backwards"],
    ["* * * foo *", {}, 'the month field: "foo" is not a number or a name like jan'],
    ["1,,2 * * * *", {}, 'the minute field: "" is not a value, a range or a step'],
    ["* * * *", {}, "it has 4 fields; write five (minute hour day-of-month month day-of-week)"],
    ["*/10 * * * * *", {}, "it has 6 fields; write five (minute hour day-of-month month day-of-week)"],
    ["61 * * * * *", { seconds: true }, "the second field: 61 is not within 0-59"],
    ["@daily", {}, "it has 1 field; write five (minute hour day-of-month month day-of-week)"],
  ])("%s %j", (expression, opts, problem) => {
    expect(cronProblem(expression, opts)).toBe(problem);
  });

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
