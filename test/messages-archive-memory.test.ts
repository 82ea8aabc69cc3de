// Archiving messages on the in-memory hub: 60 messages over 8 days through the full sync cycle (syncMachine); the
// sender's live file keeps only what its recipient has not acknowledged, the hub's history keeps every message. (A file
// of its own beside messages-memory.test.ts: each file runs in one worker, and the two scenarios in parallel.)
import { afterEach, describe, expect, it } from "vitest";
import { ackOn, inboxOf, sendFrom } from "../src/actions/messages.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

describe("archiving messages on the in-memory hub", () => {
  it("senders archive what every recipient acknowledged; the live file stays small, inbox --all still has everything, the hub's history keeps each message", async () => {
    fleet = await memoryFleet(["izzit7", "soda-yeti"]);
    const f = fleet;
    // 8 days pass below: the machines' branch keeps its history by count only (by default it keeps 7 days).
    // The fleet's generous push budget kept (its own ORDERS.json would otherwise bring GitHub's 6 a minute, and each
    // publish would wait its turn in real time while the test's clock stands still).
    await f.pushOrders(JSON.stringify({ version: 1, orders: [], hub: { statusHistory: 100_000, pushesPerMinute: 100_000 } }));
    const day = 24 * 3600 * 1000;
    // Four batches of 15, two days apart: more than inbox shows by default (50), each batch archived before the next.
    const batches = 4;
    const perBatch = 15;
    const total = batches * perBatch;
    let clock = Date.now();
    const now = () => new Date(clock);
    for (let batch = 0; batch < batches; batch++) {
      for (let i = 0; i < perBatch; i++) await sendFrom(f.m("izzit7"), { to: "soda-yeti", text: `batch ${batch} message ${i} ${"x".repeat(200)}`, clock: now });
      await f.sync("izzit7", { now });
      await f.sync("soda-yeti", { now });
      await ackOn(f.m("soda-yeti"), [], true);
      await f.sync("soda-yeti", { now });
      clock += 2 * day; // past the default retention of 1 day
    }
    await f.sync("izzit7", { now });
    const path = "coordination/messages/izzit7_TO_soda-yeti.md";
    const live = (await f.files()).get(path)!;
    expect(live).toContain(`next: ${total + 1}`);
    expect(live).not.toContain("seq:"); // all archived
    expect(live.length).toBeLessThan(1000);
    expect((await inboxOf(f.m("soda-yeti"), { all: true })).messages).toHaveLength(total);
    expect((await inboxOf(f.m("soda-yeti"), {})).messages).toHaveLength(50);
    // The hub's history keeps every message.
    const tip = (await f.person.fetch())!;
    const versions = await Promise.all((await f.person.pathHistory(tip, path, 1000)).map(async (c) => (await f.person.readFiles(c.commit, [path])).get(path) ?? ""));
    for (const n of [0, total / 2, total - 1]) expect(versions.some((text) => text.includes(`batch ${Math.floor(n / perBatch)} message ${n % perBatch} `))).toBe(true);
  });
});
