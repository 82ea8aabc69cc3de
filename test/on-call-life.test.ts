// The on-call state changes only by the events of a turn's life (core/oncall/turn-life.ts), and no refusal of one is
// dropped: `apply` gives it to the caller, `record` writes it to the machine's log. A scan of src/ holds every site
// to one of the two.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { TurnEvent } from "../src/core/oncall/turn-life.js";
import { readLogs } from "../src/state/logs.js";
import { readOnCallState, updateOnCallState } from "../src/state/on-call.js";
import { SRC, sources } from "./sources.js";

const roots: string[] = [];
afterEach(async () => {
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});

describe("a refused event of the on-call state", () => {
  it("record: the refusal goes to the machine's log, the state unchanged; apply: the caller gets it, nothing logged", async () => {
    const dir = await mkdtemp(join(tmpdir(), "coord-life-"));
    roots.push(dir);
    const before = await readOnCallState(dir);
    // No thread "t": a turn cannot end in it.
    const end: TurnEvent = { kind: "end", thread: "t", turn: "2026-11-29T00:00:00.000Z", answers: [], at: "2026-11-29T00:00:01.000Z" };
    await updateOnCallState(dir, (life) => life.record(end));
    expect(await readOnCallState(dir)).toEqual(before);
    const logged = (await readLogs(dir)).filter((r) => (r as { kind?: string }).kind === "on-call");
    expect(logged).toEqual([expect.objectContaining({ kind: "on-call", refused: expect.stringContaining("end in thread t (none)") })]);
    const given = await updateOnCallState(dir, (life) => life.apply(end));
    expect(given?.refused).toContain("end in thread t (none)");
    expect((await readLogs(dir)).filter((r) => (r as { kind?: string }).kind === "on-call")).toHaveLength(1);
    // A taken message taken again: refused, by apply's caller (the engine's take) as by record.
    await updateOnCallState(dir, (life) => {
      life.record({ kind: "take", id: "a/b/1" });
      life.record({ kind: "take", id: "a/b/1" });
    });
    expect((await readOnCallState(dir)).taken).toEqual(["a/b/1"]);
    expect((await readLogs(dir)).filter((r) => (r as { kind?: string }).kind === "on-call")).toHaveLength(2);
  });

  it("no site in src/ drops what apply gives: a statement of life.apply is a record", async () => {
    const dropped: string[] = [];
    for (const file of await sources()) {
      const lines = (await readFile(file, "utf8")).split("\n");
      lines.forEach((line, i) => {
        // A statement: a line that starts with it (not an arrow's body or a value on the line before), or `void` of it.
        const statement = /^\s*life\.apply\(/.test(line) && !/(=>|=|\(|return)\s*$/.test(lines[i - 1] ?? "");
        if (statement || /void\s+life\.apply\(/.test(line)) dropped.push(`${relative(SRC, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(dropped).toEqual([]);
  });
});
