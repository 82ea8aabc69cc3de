// Every error that reaches a user is one sentence and an exit code; a stack
// trace only with COORD_DEBUG=1. Cron schedules are checked field by field.
// (The same through the CLI, as processes and on real git: errors-top.e2e.test.ts.)
import { describe, expect, it } from "vitest";
import { describeFailure, failureLines } from "../src/failure.js";
import { cronProblem } from "../src/core/cron.js";
import { CoordError, EXIT } from "../src/errors.js";

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
