// Messages at volume on the in-memory hub: the full sync cycle (syncMachine),
// every machine racing for the same tips in this process. The same
// guarantees as messages-volume.e2e (which keeps one run on real git with
// processes), at a volume that would take minutes there.
import { afterEach, describe, expect, it } from "vitest";
import { ackOn, inboxOf, sendFrom } from "../src/commands/messages.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

describe("messages on the in-memory hub", () => {
  it("five machines sending to each other and to ALL during concurrent syncs: none lost, none duplicated, every push landed after its lost races", async () => {
    const names = ["m1", "m2", "m3", "m4", "m5"];
    fleet = await memoryFleet(names);
    const f = fleet;
    const expected = new Map<string, string[]>(names.map((n) => [n, []]));
    // The first round's publishes race for the same tip whatever the machine's speed: held until all five are asked.
    f.remote.holdPushes(names.length);
    for (let round = 1; round <= 4; round++) {
      const work: Promise<unknown>[] = [];
      for (const from of names) {
        for (const to of [...names.filter((n) => n !== from), "ALL"]) {
          const text = `${from}->${to} round ${round}`;
          for (const r of to === "ALL" ? names.filter((n) => n !== from) : [to]) expected.get(r)!.push(text);
          work.push(sendFrom(f.m(from), { to, text }));
        }
        work.push(f.sync(from));
      }
      await Promise.all(work);
    }
    const refusedBefore = f.remote.pushes.refused;
    for (let i = 0; i < 3; i++) await Promise.all(names.map((n) => f.sync(n)));
    for (const name of names) {
      const texts = (await inboxOf(f.m(name), { all: true })).messages.map((m) => m.text);
      expect([...texts].sort()).toEqual([...expected.get(name)!].sort());
    }
    expect(refusedBefore).toBeGreaterThan(0); // the syncs did race for the same tips
    // Every machine reports every message it received, and no machine's file lists a message twice.
    const status = await f.status();
    for (const name of names) expect(status.machines[name].messages.unacked).toBe(expected.get(name)!.length);
  });

  it("senders archive what every recipient acknowledged; the live file stays small, inbox --all still has everything, the hub's history keeps each message", async () => {
    fleet = await memoryFleet(["izzit7", "soda-yeti"]);
    const f = fleet;
    // 20 days pass below: the machines' branch keeps its history by count only (by default it keeps 7 days).
    // The fleet's generous push budget kept (its own ORDERS.json would otherwise bring GitHub's 6 a minute, and each
    // publish would wait its turn in real time while the test's clock stands still).
    await f.pushOrders(JSON.stringify({ version: 1, orders: [], hub: { statusHistory: 100_000, pushesPerMinute: 100_000 } }));
    const day = 24 * 3600 * 1000;
    let clock = Date.now();
    const now = () => new Date(clock);
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 30; i++) await sendFrom(f.m("izzit7"), { to: "soda-yeti", text: `batch ${batch} message ${i} ${"x".repeat(200)}`, clock: now });
      await f.sync("izzit7", { now });
      await f.sync("soda-yeti", { now });
      await ackOn(f.m("soda-yeti"), [], true);
      await f.sync("soda-yeti", { now });
      clock += 2 * day; // past the default retention of 1 day
    }
    await f.sync("izzit7", { now });
    const path = "coordination/messages/izzit7_TO_soda-yeti.md";
    const live = (await f.files()).get(path)!;
    expect(live).toContain("next: 301");
    expect(live).not.toContain("seq:"); // all 300 archived
    expect(live.length).toBeLessThan(1000);
    expect((await inboxOf(f.m("soda-yeti"), { all: true })).messages).toHaveLength(300);
    expect((await inboxOf(f.m("soda-yeti"), {})).messages).toHaveLength(50);
    // The hub's history keeps every message.
    const tip = (await f.person.fetch())!;
    const versions = await Promise.all((await f.person.pathHistory(tip, path, 1000)).map(async (c) => (await f.person.readFiles(c.commit, [path])).get(path) ?? ""));
    for (const n of [0, 150, 299]) expect(versions.some((text) => text.includes(`batch ${Math.floor(n / 30)} message ${n % 30} `))).toBe(true);
  });
});
