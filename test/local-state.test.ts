// Local state as read back from disk: the journal and the mailbox, what is
// wrong with them in one sentence, or their data. (Broken local state on a
// machine, kept aside and rebuilt by a sync on real git: local-state.e2e.test.ts.)
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { parseJournal } from "../src/state/journal.js";
import { knownFleetPath, parseMailbox, readKnownFleet, writeKnownFleet } from "../src/state/mailbox.js";

const entry = { rev: 1, state: "completed", attempts: 1, exitCode: 0 };

describe("reading local state", () => {
  it("a journal: what is wrong, or the data (an id like __proto__ is an entry like any other)", () => {
    const cases: [unknown, string][] = [
      ["{", "not JSON"],
      [null, "not a JSON object"],
      [{ version: 1, tasks: null }, "tasks is not an object"],
      [{ version: 1, tasks: [] }, "tasks is not an object"],
      [{ tasks: {} }, "no version 1"],
      [{ version: 2, tasks: {} }, "version 2"],
      [{ version: 1, tasks: { a: null } }, 'task "a"'],
      [{ version: 1, tasks: { a: { ...entry, state: "bogus" } } }, 'task "a" field state'],
      [{ version: 1, tasks: { a: { ...entry, attempts: "1" } } }, 'task "a" field attempts'],
      [{ version: 1, tasks: {}, lastRun: 5 }, "lastRun is not a text"],
    ];
    for (const [value, problem] of cases) {
      const r = parseJournal(typeof value === "string" ? value : JSON.stringify(value));
      expect(typeof r === "string" ? r : "parsed", JSON.stringify(value)).toContain(problem);
    }
    const ok = parseJournal(`{"version":1,"tasks":{"__proto__":${JSON.stringify(entry)},"build":${JSON.stringify({ ...entry, pid: 42, extra: "kept" })}}}`);
    if (typeof ok === "string") throw new Error(ok);
    expect(Object.keys(ok.tasks)).toEqual(["__proto__", "build"]);
    expect(Object.getPrototypeOf(ok.tasks)).toBeNull();
    expect(ok.tasks.build).toMatchObject({ pid: 42, extra: "kept" });
  });

  it("a mailbox: what is wrong, or the data", () => {
    const good = {
      version: 1,
      outbox: { "soda-yeti": { next: 2, messages: [{ seq: 1, at: "2026-01-01T00:00:00.000Z", priority: "normal", text: "hi" }] } },
      inbox: [],
      receipts: { "a/b": { received: 1, acked: 0 } },
    };
    const cases: [unknown, string][] = [
      [{ ...good, outbox: null }, "field outbox"],
      [{ ...good, inbox: {} }, "field inbox"],
      [{ ...good, receipts: { "a/b": { received: "x", acked: 0 } } }, "field receipts.a/b.received"],
      [{ ...good, outbox: { b: { next: 1, messages: [{ seq: 1 }] } } }, "field outbox.b.messages.0"],
      [{ ...good, ackWaits: "a/b/1" }, "field ackWaits"],
      [{ ...good, ackWaits: [1] }, "field ackWaits.0"],
      [{ ...good, version: 3 }, "version 3"],
      [7, "the file"],
    ];
    for (const [value, problem] of cases) {
      const r = parseMailbox(JSON.stringify(value));
      expect(typeof r === "string" ? r : "parsed", JSON.stringify(value)).toContain(problem);
    }
    expect(parseMailbox("{ broken")).toMatch(/^not JSON/);
    const ok = parseMailbox(JSON.stringify(good));
    expect(typeof ok === "string" ? ok : ok.outbox["soda-yeti"]?.next).toBe(2);
  });

  it("the fleet a send checks names against: written when it changed, a broken or odd one set aside (read as none), a newer one refused", async () => {
    const dir = await mkdtemp(join(tmpdir(), "coord-known-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    expect(await readKnownFleet(dir)).toBeUndefined();
    await writeKnownFleet(dir, ["b", "a", "b"]);
    expect(await readFile(knownFleetPath(dir), "utf8")).toBe('{"version":1,"machines":["a","b"]}\n');
    expect(await readKnownFleet(dir)).toEqual(["a", "b"]);
    const bad: [string, string][] = [
      ["{ broken", "not JSON"],
      ['{"version":1,"machines":["../x"]}', "machines.0"],
      ['{"version":1,"machines":"a"}', "machines"],
    ];
    for (const [text, problem] of bad) {
      await writeFile(knownFleetPath(dir), text);
      expect(await readKnownFleet(dir), text).toBeUndefined();
      expect((await readdir(dir)).filter((n) => n.startsWith("known-fleet.json.corrupt-")).length, text).toBeGreaterThan(0);
      expect(await readFile(join(dir, "coord.log"), "utf8"), text).toContain(problem);
    }
    await writeFile(knownFleetPath(dir), '{"version":2,"machines":[]}');
    await expect(readKnownFleet(dir)).rejects.toThrow(/is of version 2, written by a newer coord; update coord on this machine/);
    // A sync writes it whole, whatever was there.
    await writeKnownFleet(dir, ["a"]);
    expect(await readKnownFleet(dir)).toEqual(["a"]);
  });
});
