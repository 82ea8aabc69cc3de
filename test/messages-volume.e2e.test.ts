// Messages at volume, end to end on real git: many machines sending to many during concurrent
// syncs, and senders archiving what was acknowledged (their own file: the longest message tests).
import { afterEach, describe, expect, it } from "vitest";
import { ack, inbox, send } from "../src/commands/messages.js";
import { sync } from "../src/sync/sync.js";
import { cliExec, git, hubFile, makeFleet, type Fleet } from "./helpers.js";

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
    for (let round = 1; round <= 3; round++) {
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

  it("senders archive what every recipient acknowledged; the live file stays small, inbox --all still has everything", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const day = 24 * 3600 * 1000;
    let clock = Date.now();
    const now = () => new Date(clock);
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 30; i++) await send({ dir: dirOf("izzit7"), to: "soda-yeti", text: `batch ${batch} message ${i} ${"x".repeat(200)}`, clock: now });
      await sync({ dir: dirOf("izzit7"), now });
      await sync({ dir: dirOf("soda-yeti"), now });
      await ack(dirOf("soda-yeti"), [], true);
      await sync({ dir: dirOf("soda-yeti"), now });
      clock += 2 * day; // past the default retention of 1 day
    }
    await sync({ dir: dirOf("izzit7"), now });
    const live = await hubFile(fleet, "coordination/messages/izzit7_TO_soda-yeti.md");
    expect(live).toContain("next: 301");
    expect(live).not.toContain("seq:"); // all 300 archived
    expect(live.length).toBeLessThan(1000);
    expect((await inbox({ dir: dirOf("soda-yeti"), all: true })).messages).toHaveLength(300);
    expect((await inbox({ dir: dirOf("soda-yeti") })).messages).toHaveLength(50);
    // git history keeps every message.
    const history = await git(fleet.hubPath, "log", "-p", "main", "--", "coordination/messages/izzit7_TO_soda-yeti.md");
    for (const n of [0, 150, 299]) expect(history).toContain(`batch ${Math.floor(n / 30)} message ${n % 30} `);
  }, 120_000);
});
