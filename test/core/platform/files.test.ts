// A rename on each system: Windows' passing holds (EPERM, EACCES, EBUSY: another process has the file open for a
// moment) are waited out, 10 ms more each time up to 100 ms, for at most 10 s; anything else, and any other system,
// gives the error at once.
import { describe, expect, it } from "vitest";
import { RENAME_RETRY_MS, renameRetryAfter, repositorySettings } from "../../../src/core/platform/files.js";

describe("a rename that fails", () => {
  it.each([
    { platform: "win32", code: "EPERM", attempt: 0, elapsed: 0, want: 10 },
    { platform: "win32", code: "EACCES", attempt: 1, elapsed: 12, want: 20 },
    { platform: "win32", code: "EBUSY", attempt: 4, elapsed: 120, want: 50 },
    { platform: "win32", code: "EPERM", attempt: 30, elapsed: 2_000, want: 100 },
    { platform: "win32", code: "EPERM", attempt: 120, elapsed: RENAME_RETRY_MS, want: undefined },
    { platform: "win32", code: "ENOENT", attempt: 0, elapsed: 0, want: undefined },
    { platform: "win32", code: "EXDEV", attempt: 0, elapsed: 0, want: undefined },
    { platform: "win32", code: undefined, attempt: 0, elapsed: 0, want: undefined },
    { platform: "linux", code: "EPERM", attempt: 0, elapsed: 0, want: undefined },
    { platform: "darwin", code: "EBUSY", attempt: 0, elapsed: 0, want: undefined },
  ] as const)("$platform $code at try $attempt, $elapsed ms in: $want", ({ platform, code, attempt, elapsed, want }) => {
    expect(renameRetryAfter(platform, code, attempt, elapsed)).toBe(want);
  });
});

describe("what git is told of a repository coord makes", () => {
  it.each([
    { platform: "linux", want: [] },
    { platform: "darwin", want: [] },
    { platform: "win32", want: ["core.longpaths=true"] },
  ] as const)("$platform: $want", ({ platform, want }) => {
    expect(repositorySettings(platform)).toEqual(want);
  });
});
