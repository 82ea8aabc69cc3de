// coord's structured log: append, rotation under concurrency (in this process), reading, format.
// (Appending processes, following the log, and coord logs on a checkout: logs.e2e.test.ts.)
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendLog, formatLogRecord, type LogRecord, type OtherLogRecord, readLogs, syncRecord } from "../src/state/logs.js";
import { tempDir } from "./helpers.js";
import { allLines } from "./log-files.js";

/** The records these tests append, of kinds of their own: numbered `i`, some by writer `w`. */
type Numbered = OtherLogRecord & { i: number; w?: number };
const numbered = (records: LogRecord[]) => records as Numbered[];

let dir: string;
beforeEach(async () => {
  dir = await tempDir("coord-logs-");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("appendLog / readLogs", () => {
  it("appends JSON lines with `at` and reads them oldest first, the last N with a limit", async () => {
    await appendLog(dir, { kind: "sync", machine: "m1", ok: true, durationMs: 5, ran: [], delivered: 0 });
    await appendLog(dir, { kind: "task", machine: "m1", id: "b", rev: 1, attempt: 1, state: "completed", exitCode: 0, durationMs: 7, at: "2026-01-01T00:00:00.000Z" });
    await appendLog(dir, { kind: "note", n: 3 });
    const all = await readLogs(dir);
    expect(all.map((r) => r.kind)).toEqual(["sync", "task", "note"]);
    expect(Date.parse(all[0]!.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(all[1]!.at).toBe("2026-01-01T00:00:00.000Z");
    expect((await readLogs(dir, { limit: 2 })).map((r) => r.kind)).toEqual(["task", "note"]);
    expect(await readLogs(dir, { limit: 0 })).toEqual([]);
    const raw = await readFile(join(dir, "coord.log"), "utf8");
    expect(raw.split("\n")).toHaveLength(4);
    expect(raw.startsWith('{"at":')).toBe(true);
  });

  it("reads nothing, without failing, when there is no log", async () => {
    expect(await readLogs(join(dir, "none"))).toEqual([]);
  });

  it("rotates by size, keeping `keep` old files, oldest first across them", async () => {
    for (let i = 0; i < 60; i++) await appendLog(dir, { kind: "n", i }, { maxBytes: 400, keep: 3 });
    const names = (await readdir(dir)).filter((n) => /^coord\.log(\.\d+)?$/.test(n)).sort();
    expect(names).toEqual(["coord.log", "coord.log.1", "coord.log.2", "coord.log.3"]);
    for (const n of names) expect((await stat(join(dir, n))).size).toBeLessThanOrEqual(400);
    const got = numbered(await readLogs(dir)).map((r) => r.i);
    expect(got[got.length - 1]).toBe(59);
    // Consecutive: nothing inside the kept window is missing or out of order.
    expect(got).toEqual(Array.from({ length: got.length }, (_, k) => 59 - got.length + 1 + k));
    expect(got.length).toBeGreaterThan(10);
  });

  it("skips a corrupt or unfinished line instead of failing", async () => {
    await appendLog(dir, { kind: "n", i: 1 }, { maxBytes: 60 });
    await appendLog(dir, { kind: "n", i: 2 }, { maxBytes: 60 });
    await writeFile(join(dir, "coord.log.1"), (await readFile(join(dir, "coord.log.1"), "utf8")) + 'not json\n[1,2]\n{"no":"at"}\n');
    await writeFile(join(dir, "coord.log"), (await readFile(join(dir, "coord.log"), "utf8")) + '{"at":"2026-01-01T00:00:00Z","kind":"n","i":');
    expect(numbered(await readLogs(dir)).map((r) => r.i)).toEqual([1, 2]);
    // The next line does not stick to the unfinished one: it starts on a line of its own.
    await appendLog(dir, { kind: "n", i: 3 }, { maxBytes: 1_000_000 });
    await appendLog(dir, { kind: "n", i: 4 }, { maxBytes: 1_000_000 });
    expect(numbered(await readLogs(dir)).map((r) => r.i)).toEqual([1, 2, 3, 4]);
  });

  it("keeps a huge record on one short line", async () => {
    await appendLog(dir, { kind: "sync", machine: "m1", ok: false, durationMs: 1, ran: [], delivered: 0, error: "x".repeat(50_000) });
    const raw = await readFile(join(dir, "coord.log"), "utf8");
    expect(Buffer.byteLength(raw)).toBeLessThan(4096);
    const [r] = await readLogs(dir);
    expect(r).toMatchObject({ kind: "sync", error: expect.stringMatching(/^x+…\[truncated\]$/) });
  });

  it("loses and splits no line with many concurrent appenders across rotations", async () => {
    const writers = 8;
    const each = 30;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < each; i++) await appendLog(dir, { kind: "n", w, i, pad: "p".repeat(40) }, { maxBytes: 2000, keep: 100 });
      }),
    );
    const { lines, sizes } = await allLines(dir);
    const seen = lines.map((l) => JSON.parse(l) as { w: number; i: number });
    expect(seen).toHaveLength(writers * each);
    expect(new Set(seen.map((r) => `${r.w}/${r.i}`)).size).toBe(writers * each);
    expect(Object.keys(sizes).length).toBeGreaterThan(5);
    // Each writer's own lines stay in order across the files.
    const ordered = numbered(await readLogs(dir));
    for (let w = 0; w < writers; w++) expect(ordered.filter((r) => r.w === w).map((r) => r.i)).toEqual(Array.from({ length: each }, (_, i) => i));
  });
});

describe("formatLogRecord", () => {
  const at = "2026-11-22T07:35:13.578Z";
  it("says what a sync did", () => {
    expect(
      formatLogRecord({ kind: "sync", at, machine: "izzit7", ok: true, durationMs: 1234, ran: [{ id: "build", state: "completed" }], pushed: "1a2b3c4d5e6f7a8b", delivered: 0 }),
    ).toBe("2026-11-22T07:35:13Z sync izzit7 ok: ran build (completed), pushed 1a2b3c4d (1.2s)");
    expect(formatLogRecord({ kind: "sync", at, machine: "izzit7", ok: true, durationMs: 80, ran: [], delivered: 2 })).toBe(
      "2026-11-22T07:35:13Z sync izzit7 ok: 2 messages delivered (0.1s)",
    );
    expect(formatLogRecord({ kind: "sync", at, machine: "izzit7", ok: true, durationMs: 80, ran: [], delivered: 0 })).toBe(
      "2026-11-22T07:35:13Z sync izzit7 ok: nothing new (0.1s)",
    );
    expect(formatLogRecord({ kind: "sync", at, machine: "izzit7", ok: false, durationMs: 20_500, ran: [], delivered: 0, error: "could not reach the remote /x: boom\nmore" })).toBe(
      "2026-11-22T07:35:13Z sync izzit7 failed: could not reach the remote /x: boom more (21s)",
    );
    expect(formatLogRecord({ kind: "sync", at, machine: "izzit7", ok: true, skipped: true, durationMs: 3, ran: [], delivered: 0 })).toBe(
      "2026-11-22T07:35:13Z sync izzit7 skipped: another sync is running (0.0s)",
    );
  });

  it("says how a task ended", () => {
    expect(formatLogRecord({ kind: "task", at, machine: "m", id: "build", rev: 1, attempt: 1, state: "completed", exitCode: 0, durationMs: 3100 })).toBe(
      "2026-11-22T07:35:13Z task build rev 1 attempt 1 completed exit 0 (3.1s)",
    );
    expect(
      formatLogRecord({ kind: "task", at, machine: "m", id: "t", rev: 2, attempt: 3, state: "failed", exitCode: null, durationMs: 125_000, reason: "timed out after 2m" }),
    ).toBe("2026-11-22T07:35:13Z task t rev 2 attempt 3 failed no exit code: timed out after 2m (2m05s)");
    expect(formatLogRecord({ at, kind: "other", x: 1 })).toBe('2026-11-22T07:35:13Z other {"x":1}');
  });

  it("builds a sync record from a result or an error", () => {
    const result = { machine: "m1", skipped: false, ran: [{ id: "a", rev: 1, state: "completed" as const, exitCode: 0 }], delivered: ["x", "y"], pushed: "abc" } as never;
    expect(syncRecord({ machine: "m1", durationMs: 12.4, result })).toEqual({
      kind: "sync",
      machine: "m1",
      ok: true,
      durationMs: 12,
      ran: [{ id: "a", state: "completed" }],
      delivered: 2,
      pushed: "abc",
    });
    expect(syncRecord({ machine: "m1", durationMs: 3, error: new Error("no remote") })).toEqual({
      kind: "sync",
      machine: "m1",
      ok: false,
      durationMs: 3,
      ran: [],
      delivered: 0,
      error: "no remote",
    });
  });
});
