// Issue 46: a new message is what someone waits for. Under a budget that makes machines push in turns
// (core/budget/budget.ts turnWait), a task's result waits for its machine's turn; a new message goes at once,
// within the budget. A daemon's sync does not wait for a far turn: it ends until then, so that its looks deliver
// what comes meanwhile, and the sync it wakes for pushes at once. On the in-memory fleet, with the machine's clock
// and its turn waits recorded.
import { afterEach, describe, expect, it } from "vitest";
import { sendFrom } from "../src/commands/messages.js";
import { ordersText } from "./helpers.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

/** A clock in the middle of a round of turns, where "a" (the first by name of 3) is not in its turn: 6 s rounds, a's the first 2 s. */
const NOT_A_TURN = Math.floor(Date.now() / 6000) * 6000 + 3000 + 6000;

describe("turns under GitHub's budget", () => {
  it("a task's result waits for its machine's turn; a new message waits for none", async () => {
    fleet = await memoryFleet(["a", "b", "c"], { orders: ordersText([], {}) }); // no hub budget: a hub in memory takes GitHub's 6 a minute
    const f = fleet;
    const waited: number[] = [];
    let t = NOT_A_TURN;
    const at = {
      now: () => new Date(t),
      waitTurn: async (ms: number) => {
        waited.push(ms);
        t += ms;
      },
    };
    await sendFrom(f.m("a"), { to: "b", text: "are you there?", clock: at.now });
    const sent = await f.sync("a", { ...at, full: true });
    expect(sent.pushed).toBeDefined();
    expect(waited).toEqual([]);
    expect((await f.files()).get("coordination/messages/a_TO_b.md")).toContain("are you there?");

    t = NOT_A_TURN + 60_000; // a's bucket refilled; again out of its turn
    await f.pushOrders(ordersText([{ id: "job", to: "a", run: "true" }], {}));
    const ran = await f.sync("a", { ...at, full: true });
    expect(ran.ran.map((r) => r.id)).toEqual(["job"]);
    expect(ran.pushed).toBeDefined();
    expect(waited.length).toBeGreaterThan(0); // its result waited for its turn
  });

  it("a daemon's sync ends until a far turn instead of waiting for it; the sync woken then pushes at once; a near turn is waited for", async () => {
    fleet = await memoryFleet(["a", "b", "c"], { orders: ordersText([], {}) });
    const f = fleet;
    const waited: number[] = [];
    let t = NOT_A_TURN; // a's turn begins 3 s later (6 s rounds, 2 s turns): further than one turn
    const at = {
      now: () => new Date(t),
      waitTurn: async (ms: number) => {
        waited.push(ms);
        t += ms;
      },
    };
    await f.pushOrders(ordersText([{ id: "job", to: "a", run: "true" }], {}));
    const ran = await f.sync("a", { ...at, full: true, turns: "defer" });
    expect(ran.ran.map((r) => r.id)).toEqual(["job"]);
    expect(ran.pushed).toBeUndefined();
    expect(waited).toEqual([]);
    expect(Date.parse(ran.deferred!)).toBe(NOT_A_TURN + 3000);
    expect((await f.status()).orders.job?.machines.a?.state).not.toBe("completed");

    // The daemon wakes for that turn (a little later, as its wakes are spread): what waited goes out at once.
    t = NOT_A_TURN + 3000 + 1500;
    const woke = await f.sync("a", { ...at, turns: "now" });
    expect(woke.pushed).toBeDefined();
    expect(woke.deferred).toBeUndefined();
    expect(waited).toEqual([]);
    expect((await f.status()).orders.job?.machines.a?.state).toBe("completed");

    // A turn at most one turn away is waited for within the sync, as cron's sync waits for any.
    t = NOT_A_TURN + 60_000 + 1500; // a's turn begins 1.5 s later
    await f.pushOrders(
      ordersText(
        [
          { id: "job", to: "a", run: "true" },
          { id: "next", to: "a", run: "true" },
        ],
        {},
      ),
    );
    const near = await f.sync("a", { ...at, full: true, turns: "defer" });
    expect(near.pushed).toBeDefined();
    expect(waited).toEqual([1500]);
  });
});
