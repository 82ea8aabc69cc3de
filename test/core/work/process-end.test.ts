// How a task's or a turn's process ended (core/work/process-end.ts): one reading of what the runner saw, in order.
import { describe, expect, it } from "vitest";
import { failureText, type ProcessEnd, type ProcessSeen, processEnd } from "../../../src/core/work/process-end.js";

const ran: ProcessSeen = { exitCode: 0, signal: null, timedOut: false, aborted: false };
const ctx = { timeout: 1800, idleTimeout: 300 };

describe("processEnd: what the runner saw, read once", () => {
  it.each<[string, ProcessSeen, { stoppedBy?: string }, ProcessEnd, string | undefined]>([
    ["exit 0", ran, {}, { how: "ok" }, undefined],
    ["exit 3", { ...ran, exitCode: 3 }, {}, { how: "exited", code: 3 }, "exit code 3"],
    ["a signal", { ...ran, exitCode: null, signal: "SIGKILL" }, {}, { how: "killed", signal: "SIGKILL" }, "killed by SIGKILL"],
    ["its timeout", { ...ran, exitCode: null, signal: "SIGTERM", timedOut: true }, {}, { how: "timed-out", after: 1800 }, "timed out after 30m; its process group was killed"],
    [
      "silent too long",
      { ...ran, exitCode: null, signal: "SIGTERM", idle: true },
      {},
      { how: "idle", after: 300 },
      "wrote nothing for 5m (idleTimeout); stopped as stuck, its process group was killed",
    ],
    ["aborted here", { ...ran, exitCode: null, signal: "SIGTERM", aborted: true }, {}, { how: "stopped", by: "stopped" }, "stopped"],
    [
      "aborted, with why",
      { ...ran, exitCode: null, aborted: true },
      { stoppedBy: "cancelled by the orders" },
      { how: "stopped", by: "cancelled by the orders" },
      "cancelled by the orders",
    ],
    // Another process recorded the stop, then signalled the group: a stop, not a signal.
    ["stopped from elsewhere", { ...ran, exitCode: null, signal: "SIGTERM" }, { stoppedBy: "/stop from izzit7" }, { how: "stopped", by: "/stop from izzit7" }, "/stop from izzit7"],
    [
      "a stop wins over the timeout it raced",
      { ...ran, exitCode: null, timedOut: true },
      { stoppedBy: "coord agent stop" },
      { how: "stopped", by: "coord agent stop" },
      "coord agent stop",
    ],
    [
      "never started",
      { ...ran, exitCode: null, error: "cwd /x does not exist" },
      { stoppedBy: "x" },
      { how: "not-started", error: "cwd /x does not exist" },
      "cwd /x does not exist",
    ],
  ])("%s", (_, seen, extra, end, words) => {
    const e = processEnd(seen, { ...ctx, ...extra });
    expect(e).toEqual(end);
    expect(failureText(e)).toBe(words);
  });
});
