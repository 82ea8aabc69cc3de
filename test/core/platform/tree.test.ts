// How a process tree is stopped and asked about on each system: a signal to the group on Linux and macOS,
// `taskkill /T /F` on Windows (no signals, no groups there), and the spawn options that make a tree of its own.
import { describe, expect, it } from "vitest";
import { treeProbe, treeSpawnOptions, treeStop } from "../../../src/core/platform/tree.js";

describe("a process tree, on each system", () => {
  it.each([
    { platform: "linux", signal: "SIGTERM", want: { kind: "group", pid: -4242, signal: "SIGTERM" } },
    { platform: "linux", signal: "SIGKILL", want: { kind: "group", pid: -4242, signal: "SIGKILL" } },
    { platform: "darwin", signal: "SIGTERM", want: { kind: "group", pid: -4242, signal: "SIGTERM" } },
    { platform: "win32", signal: "SIGTERM", want: { kind: "command", file: "taskkill", args: ["/PID", "4242", "/T", "/F"] } },
    { platform: "win32", signal: "SIGKILL", want: { kind: "command", file: "taskkill", args: ["/PID", "4242", "/T", "/F"] } },
  ] as const)("$platform, $signal: $want.kind", ({ platform, signal, want }) => {
    expect(treeStop(platform, 4242, signal)).toEqual(want);
  });

  it.each([
    { platform: "linux", want: -4242 },
    { platform: "darwin", want: -4242 },
    { platform: "win32", want: 4242 },
  ] as const)("$platform asks $want whether the tree is there", ({ platform, want }) => {
    expect(treeProbe(platform, 4242)).toBe(want);
  });

  it.each([
    { platform: "linux", want: { detached: true } },
    { platform: "darwin", want: { detached: true } },
    { platform: "win32", want: { detached: true, windowsHide: true } },
  ] as const)("$platform starts a tree of its own with $want", ({ platform, want }) => {
    expect(treeSpawnOptions(platform)).toEqual(want);
  });
});
