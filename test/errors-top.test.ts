// Every error that reaches a user is one sentence and an exit code; a stack
// trace only with COORD_DEBUG=1. Cron schedules are checked field by field.
// (The same through the CLI, as processes and on real git: errors-top.e2e.test.ts.)
import { mkdir, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeFailure, failureLines, ownFailure, ownFileError } from "../src/failure.js";
import { cronProblem } from "../src/core/time/cron.js";
import { CoordError, EXIT } from "../src/errors.js";
import { type HistoryGit, shallowBoundary } from "../src/git/history.js";
import { MAX_STATE_BYTES, readIfExists } from "../src/state/files.js";
import { tempDir } from "./helpers.js";

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

describe("a path of coord's own that is not as it should be (a race, a state left half-written)", () => {
  /** What node:fs throws for a read that meets a directory: the syscall, and no path. */
  const readOfADirectory = () => Object.assign(new Error("EISDIR: illegal operation on a directory, read"), { code: "EISDIR", syscall: "read", errno: -21 });

  it("is said with the path and what coord was doing, exit 1: no usage mistake, since nobody gave coord the path", () => {
    expect(describeFailure(readOfADirectory())).toEqual({ message: "read failed: it is a directory (EISDIR); give a file's path", exitCode: EXIT.USAGE });
    expect(describeFailure(ownFileError(readOfADirectory(), "reading coord's local state", "/c/.git/coord/observed.json"))).toEqual({
      message:
        "reading coord's local state: read /c/.git/coord/observed.json failed: it is a directory (EISDIR); " +
        "a directory stands where coord keeps a file, or stood there a moment; run again, and if it persists move that directory aside",
      exitCode: EXIT.FAILURE,
    });
    // What an inner call said stands; an outer one adds only what is missing.
    const inner = ownFileError(ownFileError(errno("ENOENT", "open", "/c/x"), "reading the journal"), "syncing a", "/elsewhere");
    expect(describeFailure(inner).message).toBe("reading the journal: open /c/x failed: no such file or directory (ENOENT); it was removed meanwhile, or never made; run again");
  });

  it("ownFailure: an errno error becomes a CoordError of exit 1 with the sentence; anything else stays as it is", () => {
    const e = ownFailure(readOfADirectory(), "syncing a");
    expect(e).toBeInstanceOf(CoordError);
    expect(e).toMatchObject({ exitCode: EXIT.FAILURE, message: expect.stringMatching(/^syncing a: read failed: it is a directory \(EISDIR\); /) });
    const usage = new CoordError("the journal is of version 9, written by a newer coord", EXIT.USAGE);
    expect(ownFailure(usage, "syncing a")).toBe(usage);
    const bug = new TypeError("x is undefined");
    expect(ownFailure(bug, "syncing a")).toBe(bug);
  });

  it("readIfExists names the file that is a directory", async () => {
    const dir = await tempDir();
    const path = join(dir, "health.json");
    await mkdir(path);
    const e = await readIfExists(path).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(describeFailure(e)).toMatchObject({
      message: `reading coord's local state: read ${path} failed: it is a directory (EISDIR); a directory stands where coord keeps a file, or stood there a moment; run again, and if it persists move that directory aside`,
      exitCode: EXIT.FAILURE,
    });
    expect(await readIfExists(join(dir, "missing.json"))).toBeUndefined();
  });

  it.each([
    ["past 2 GiB, which Node does not read", 3 * 2 ** 30],
    ["past what a string holds", 600 * 2 ** 20],
    ["just past the bound", MAX_STATE_BYTES + 1],
  ])("readIfExists names a file %s (sparse here) in a sentence that says to move it aside, without reading it", async (_, size) => {
    const path = join(await tempDir(), "known-fleet.json");
    await truncate(await writeFile(path, "").then(() => path), size);
    const e = await readIfExists(path).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(describeFailure(e)).toEqual({ message: `${path} is ${size} bytes, more than coord reads of such a file (256 MiB): move it aside`, exitCode: EXIT.FAILURE });
  });

  it("shallowBoundary never reads the checkout itself when git names no shallow file: it asks again, then fails this sync with a sentence, and caches nothing", async () => {
    // A worktree's checkout (.git is a file): git says where its shallow file is.
    const dir = await tempDir();
    await writeFile(join(dir, ".git"), "gitdir: gitdir\n");
    await mkdir(join(dir, "gitdir"));
    await writeFile(join(dir, "gitdir", "shallow"), `${"a".repeat(40)}\n`);
    const answers: string[] = [];
    const h = (say: string[], at = dir): HistoryGit => ({
      run: async () => {
        const answer = say.shift() ?? "gitdir/shallow\n";
        answers.push(answer);
        return answer;
      },
      dir: at,
      remote: "origin",
      branch: "main",
      timeout: 30,
      describe: (e) => String(e),
    });
    const failed = await shallowBoundary(h(["", "\n"])).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(CoordError);
    expect(describeFailure(failed)).toEqual({
      message: `git did not say where the checkout ${dir} keeps its shallow file (git rev-parse --git-path shallow answered nothing); run again`,
      exitCode: EXIT.FAILURE,
    });
    // A moment's empty answer: asked again, and the file read.
    expect(await shallowBoundary(h([""]))).toEqual(new Set(["a".repeat(40)]));
    expect(answers).toEqual(["", "\n", "", "gitdir/shallow\n"]);
    // A checkout's own .git directory keeps it there: git is not asked.
    const plain = await tempDir();
    await mkdir(join(plain, ".git"));
    await writeFile(join(plain, ".git", "shallow"), `${"b".repeat(40)}\n`);
    expect(await shallowBoundary(h(["not asked\n"], plain))).toEqual(new Set(["b".repeat(40)]));
    expect(answers).toHaveLength(4);
  });
});

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
});
