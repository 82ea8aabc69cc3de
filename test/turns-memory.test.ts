// Issue 46: a new message is what someone waits for. Under a budget that makes machines push in turns
// (core/budget/budget.ts turnWait), a task's result waits for its machine's turn; a new message goes at once,
// within the budget. On the in-memory fleet, with the machine's clock and its turn waits recorded.
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
});
