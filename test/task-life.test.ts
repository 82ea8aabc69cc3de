// A task's life (src/core/work/task-life.ts): every (state, event) pair of the
// table, what the next entry is, and what is refused. The journal applies
// these steps and refuses the same ones, changing nothing.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { adopted, failedForGood, isActive, isFinal, isRefusal, type TaskEntry, type TaskEvent, TRANSITIONS, transition } from "../src/core/work/task-life.js";
import { TASK_STATES, type TaskState } from "../src/core/types.js";
import { Journal } from "../src/state/journal.js";
import { tempDir } from "./helpers.js";

const T = "2025-06-01T10:00:00.000Z";
const T2 = "2025-06-01T10:05:00.000Z";
const entry = (state: TaskState, over: Partial<TaskEntry> = {}): TaskEntry => ({ rev: 1, state, attempts: 1, startedAt: T, ...over });

const claim = (over: Partial<Extract<TaskEvent, { kind: "claim" }>> = {}): TaskEvent => ({ kind: "claim", rev: 1, attempt: 1, at: T, lease: 600, ...over });
const start = (over: Partial<Extract<TaskEvent, { kind: "start" }>> = {}): TaskEvent => ({ kind: "start", rev: 1, attempt: 1, at: T, log: "/l.log", ...over });
const finish = (state: "completed" | "failed" | "cancelled", over: Partial<Extract<TaskEvent, { kind: "finish" }>> = {}): TaskEvent => ({
  kind: "finish",
  state,
  exitCode: state === "completed" ? 0 : 1,
  at: T2,
  ...over,
});

describe("transition: the allowed steps", () => {
  it.each<[string, TaskEntry | undefined, TaskEvent, TaskEntry | undefined]>([
    ["claim a new task", undefined, claim(), { rev: 1, state: "assigned", attempts: 1, startedAt: T, lease: 600 }],
    [
      "take over (whom from is kept)",
      undefined,
      claim({ attempt: 3, takeoverFrom: "beta" }),
      { rev: 1, state: "assigned", attempts: 3, startedAt: T, lease: 600, takeoverFrom: "beta" },
    ],
    ["claim again a claim not run", entry("assigned", { lease: 600 }), claim(), { rev: 1, state: "assigned", attempts: 1, startedAt: T, lease: 600 }],
    ["claim the next attempt after a failure", entry("failed"), claim({ attempt: 2 }), { rev: 1, state: "assigned", attempts: 2, startedAt: T, lease: 600 }],
    ["claim a new rev after a completed one", entry("completed"), claim({ rev: 2 }), { rev: 2, state: "assigned", attempts: 1, startedAt: T, lease: 600 }],
    ["start a named task", undefined, start(), { rev: 1, state: "in_progress", attempts: 1, startedAt: T, log: "/l.log" }],
    [
      "start a claim: it keeps its lease and takeover",
      entry("assigned", { lease: 600, takeoverFrom: "beta" }),
      start(),
      { rev: 1, state: "in_progress", attempts: 1, startedAt: T, log: "/l.log", lease: 600, takeoverFrom: "beta" },
    ],
    [
      "start a new rev over an old claim: the claim is not kept",
      entry("assigned", { lease: 600 }),
      start({ rev: 2 }),
      { rev: 2, state: "in_progress", attempts: 1, startedAt: T, log: "/l.log" },
    ],
    [
      "retry after a failure",
      entry("failed", { reason: "exit code 1", exitCode: 1 }),
      start({ attempt: 2 }),
      { rev: 1, state: "in_progress", attempts: 2, startedAt: T, log: "/l.log" },
    ],
    ["a new rev after a cancelled one", entry("cancelled"), start({ rev: 2 }), { rev: 2, state: "in_progress", attempts: 1, startedAt: T, log: "/l.log" }],
    ["the process started", entry("in_progress"), { kind: "pid", pid: 42 }, { ...entry("in_progress"), pid: 42 }],
    [
      "it completed (the pid goes)",
      entry("in_progress", { pid: 42, log: "/l.log" }),
      finish("completed"),
      { ...entry("completed", { log: "/l.log" }), exitCode: 0, finishedAt: T2 },
    ],
    [
      "it failed, with why and its output",
      entry("in_progress"),
      finish("failed", { reason: "exit code 1", output: "boom" }),
      { ...entry("failed"), exitCode: 1, finishedAt: T2, reason: "exit code 1", output: "boom" },
    ],
    [
      "it was cancelled",
      entry("in_progress"),
      finish("cancelled", { exitCode: null, reason: "cancelled in ORDERS.json" }),
      { ...entry("cancelled"), exitCode: null, finishedAt: T2, reason: "cancelled in ORDERS.json" },
    ],
    [
      "found running after a crash: interrupted",
      entry("in_progress", { pid: 42 }),
      { kind: "interrupt", at: T2 },
      { ...entry("failed"), exitCode: null, finishedAt: T2, reason: "interrupted" },
    ],
    ["a lost claim gives back what it replaced", entry("assigned", { attempts: 2 }), { kind: "drop", previous: entry("failed") }, entry("failed")],
    ["a lost claim that replaced nothing leaves no entry", entry("assigned"), { kind: "drop", previous: undefined }, undefined],
    ["a lost claim that replaced an older claim leaves no entry", entry("assigned"), { kind: "drop", previous: entry("assigned") }, undefined],
  ])("%s", (_what, from, event, to) => {
    expect(transition(from, event)).toEqual(to);
  });
});

describe("transition: what is refused", () => {
  it.each<[string, TaskEntry | undefined, TaskEvent, RegExp]>([
    ["running a completed rev again", entry("completed"), start(), /not allowed from completed/],
    ["claiming a completed rev again", entry("completed"), claim(), /not allowed from completed/],
    ["running a cancelled rev", entry("cancelled"), start(), /not allowed from cancelled/],
    ["starting what runs", entry("in_progress"), start(), /it is running/],
    ["claiming what runs (even for a new rev)", entry("in_progress"), claim({ rev: 2 }), /it is running/],
    ["going back a rev", entry("failed", { rev: 2 }), start({ rev: 1 }), /rev 2 ran already; never go back to rev 1/],
    ["the same attempt twice", entry("failed", { attempts: 2 }), start({ attempt: 2 }), /attempt 2 ran already/],
    ["finishing what does not run", entry("assigned"), finish("completed"), /allowed only from in_progress/],
    ["finishing with no entry", undefined, finish("completed"), /a task with no entry/],
    ["interrupting what ended", entry("completed"), { kind: "interrupt", at: T2 }, /allowed only from in_progress/],
    ["a pid for what ended", entry("failed"), { kind: "pid", pid: 1 }, /allowed only from in_progress/],
    ["dropping a claim that runs", entry("in_progress"), { kind: "drop", previous: undefined }, /allowed only from assigned/],
  ])("%s", (_what, from, event, why) => {
    const r = transition(from, event);
    expect(isRefusal(r)).toBe(true);
    expect(isRefusal(r) && r.refused).toMatch(why);
  });

  it("every event's table row names only task states (or none)", () => {
    for (const from of Object.values(TRANSITIONS).flat()) expect(["none", ...TASK_STATES]).toContain(from);
  });
});

describe("state predicates (the planner and the renderer use them)", () => {
  it.each<[TaskState, boolean]>([
    ["queued", false],
    ["assigned", true],
    ["in_progress", true],
    ["completed", false],
    ["failed", false],
    ["blocked", false],
    ["cancelled", false],
    ["rejected", false],
  ])("%s is active: %s", (state, active) => {
    expect(isActive(state)).toBe(active);
  });

  it.each<[TaskState, number, number, boolean]>([
    ["completed", 1, 0, true],
    ["cancelled", 0, 3, true],
    ["rejected", 0, 3, true],
    ["failed", 1, 0, true],
    ["failed", 1, 1, false],
    ["failed", 2, 1, true],
    ["in_progress", 5, 0, false],
    ["blocked", 0, 0, false],
  ])("%s after %i attempts with %i retries is final: %s", (state, attempts, retries, final) => {
    expect(isFinal(state, attempts, retries)).toBe(final);
    if (state === "failed") expect(failedForGood(attempts, retries)).toBe(final);
  });

  it("a published report taken back into a lost journal: what ran or was claimed counts as interrupted", () => {
    expect(adopted(entry("in_progress"))).toEqual({ ...entry("failed"), exitCode: null, reason: "interrupted" });
    expect(adopted(entry("assigned"))).toMatchObject({ state: "failed", reason: "interrupted" });
    expect(adopted(entry("completed"))).toEqual(entry("completed"));
  });
});

describe("the journal applies the steps durably and refuses the others", () => {
  it("a refused step throws one sentence naming the task and changes nothing, in memory or on disk", async () => {
    const dir = await tempDir();
    const journal = await Journal.open(dir);
    await journal.apply("build", start());
    await journal.apply("build", finish("completed"));
    const before = await readFile(join(dir, "journal.json"), "utf8");
    await expect(journal.apply("build", start())).rejects.toThrow(
      /^task build: coord refused to start a task completed \(rev 1, attempt 1\): not allowed from completed; nothing was changed/,
    );
    expect(journal.entry("build")?.state).toBe("completed");
    expect(await readFile(join(dir, "journal.json"), "utf8")).toBe(before);
  });

  it("recoverInterrupted turns what a crash left running into failed, interrupted, and keeps the rest", async () => {
    const dir = await tempDir();
    const journal = await Journal.open(dir);
    await journal.apply("a", start());
    await journal.apply("a", { kind: "pid", pid: 99999999 });
    await journal.apply("b", start());
    await journal.apply("b", finish("completed"));
    expect(await journal.recoverInterrupted(new Date(T2))).toEqual(["a"]);
    const again = await Journal.open(dir);
    expect(again.entry("a")).toEqual({ rev: 1, state: "failed", attempts: 1, startedAt: T, log: "/l.log", exitCode: null, finishedAt: T2, reason: "interrupted" });
    expect(again.entry("b")?.state).toBe("completed");
    expect(again.entry("constructor")).toBeUndefined();
  });
});
