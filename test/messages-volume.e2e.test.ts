// Messages at volume, end to end on real git: many machines sending to many during concurrent
// syncs, as separate processes. Archiving at volume, and more machines and rounds, run on the
// in-memory hub (messages-archive-memory.test.ts, messages-memory.test.ts).
import { afterEach, describe, expect, it } from "vitest";
import { inbox } from "../src/commands/messages.js";
import { cliExec, hubFile, makeFleet, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;

describe("messages at volume", () => {
  it("messages sent concurrently from many machines to many, during concurrent syncs: none lost, none duplicated, no conflict", async () => {
    const names = ["izzit7", "soda-yeti", "machine-2"];
    fleet = await makeFleet(names);
    const expected = new Map<string, string[]>(names.map((n) => [n, []]));
    // Two rounds of real processes; messages-memory.test.ts runs more machines and rounds on the in-memory hub.
    for (let round = 1; round <= 2; round++) {
      const work: Promise<unknown>[] = [];
      for (const from of names) {
        for (const to of [...names.filter((n) => n !== from), "ALL"]) {
          const text = `${from}->${to} round ${round}`;
          for (const r of to === "ALL" ? names.filter((n) => n !== from) : [to]) expected.get(r)!.push(text);
          work.push(cliExec(["send", "--dir", dirOf(from), to, text]));
        }
        work.push(cliExec(["sync", "--dir", dirOf(from)]));
      }
      const results = (await Promise.all(work)) as { code: number; err: string }[];
      for (const r of results) expect(r.code, r.err).toBe(0);
    }
    for (let i = 0; i < 3; i++) await Promise.all(names.map((n) => cliExec(["sync", "--dir", dirOf(n)])));
    for (const name of names) {
      const texts = (await inbox({ dir: dirOf(name), all: true })).messages.map((m) => m.text);
      expect([...texts].sort()).toEqual([...expected.get(name)!].sort());
    }
    for (const path of ["STATUS.md", "coordination/messages/izzit7_TO_ALL.md"]) expect(await hubFile(fleet, path)).not.toMatch(/^(<<<<<<<|>>>>>>>)/m);
  }, 120_000);
});
