// Messages at volume, end to end on real git: many machines sending to many during concurrent
// syncs, as separate processes. Archiving at volume, and more machines and rounds, run on the
// in-memory hub (messages-archive-memory.test.ts, messages-memory.test.ts).
import { afterEach, describe, expect, it } from "vitest";
import { inbox } from "../src/actions/messages.js";
import { cli, cliExec, hubFile, makeFleet, type Fleet } from "./helpers.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;

describe("messages at volume", () => {
  it("messages sent concurrently from many machines to many, during concurrent syncs: none lost, none duplicated, no conflict", { timeout: patient(120_000) }, async () => {
    const names = ["izzit7", "soda-yeti", "machine-2"];
    fleet = await makeFleet(names);
    const expected = new Map<string, string[]>(names.map((n) => [n, []]));
    const expect_ = (from: string, to: string, text: string) => {
      for (const r of to === "ALL" ? names.filter((n) => n !== from) : [to]) expected.get(r)!.push(text);
    };
    // First, messages in flight: each machine sends to ALL and publishes, one after another in this process, so
    // that the race below delivers them (to izzit7 and soda-yeti at least) while new ones are being sent.
    for (const from of names) {
      const text = `${from}->ALL before the race`;
      expect_(from, "ALL", text);
      expect((await cli("send", "--dir", dirOf(from), "ALL", text)).code).toBe(0);
      expect((await cli("sync", "--dir", dirOf(from))).code).toBe(0);
    }
    // The race, as separate processes: every machine sends to the next one and to ALL (two sends racing for its
    // mailbox) while it syncs (delivering, publishing) and the others sync (racing for the hub). One round of real
    // processes; messages-memory.test.ts runs more machines and rounds on the in-memory hub.
    const work: Promise<{ code: number; err: string }>[] = [];
    for (const [i, from] of names.entries()) {
      for (const to of [names[(i + 1) % names.length]!, "ALL"]) {
        const text = `${from}->${to} in the race`;
        expect_(from, to, text);
        work.push(cliExec(["send", "--dir", dirOf(from), to, text]));
      }
      work.push(cliExec(["sync", "--dir", dirOf(from)]));
    }
    for (const r of await Promise.all(work)) expect(r.code, r.err).toBe(0);
    // Then every machine catches up, one after another in this process (the race is over), up to a round that
    // starts with every message delivered: that last round shows nothing comes twice (bounded: 4 rounds).
    const texts = async (name: string) => (await inbox({ dir: dirOf(name), all: true })).messages.map((m) => m.text).sort();
    const delivered = async () => {
      for (const name of names) if (JSON.stringify(await texts(name)) !== JSON.stringify([...expected.get(name)!].sort())) return false;
      return true;
    };
    for (let i = 0; i < 4; i++) {
      const done = await delivered();
      for (const n of names) expect((await cli("sync", "--dir", dirOf(n))).code).toBe(0);
      if (done) break;
    }
    for (const name of names) expect(await texts(name)).toEqual([...expected.get(name)!].sort());
    for (const path of ["STATUS.md", "coordination/messages/izzit7_TO_ALL.md"]) expect(await hubFile(fleet, path)).not.toMatch(/^(<<<<<<<|>>>>>>>)/m);
  });
});
