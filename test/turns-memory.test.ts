// Issue 46: a new message is what someone waits for. Under a budget that makes machines push in turns
// (core/budget/budget.ts turnWait), a task's result waits for its machine's turn; a new message goes at once,
// within the budget. A daemon's sync does not wait for a far turn: it ends until then, so that its looks deliver
// what comes meanwhile, and the sync it wakes for pushes at once. On the in-memory fleet, with the machine's clock
// and its turn waits recorded.
import { afterEach, describe, expect, it } from "vitest";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ackOn, sendFrom } from "../src/actions/messages.js";
import { readMailbox } from "../src/state/mailbox.js";
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
    // The daemon is woken 1.5 s before that turn (TURN_LEAD_MS), so that its fetch and build are done when it begins.
    expect(Date.parse(ran.deferred!)).toBe(NOT_A_TURN + 3000 - 1500);
    expect((await f.status()).orders.job?.machines.a?.state).not.toBe("completed");

    // Its wake comes a little later (spread), and the sync waits the rest of the turn, then pushes.
    t = NOT_A_TURN + 3000 - 1000;
    const early = await f.sync("a", { ...at, turns: "now" });
    expect(waited).toEqual([1000]);
    expect(early.pushed).toBeDefined();
    expect((await f.status()).orders.job?.machines.a?.state).toBe("completed");

    // A wake that comes past the turn's first half (a loaded machine) pushes at once: it does not wait a round.
    waited.length = 0;
    await f.pushOrders(ordersText([{ id: "job", to: "a", run: "true", rev: 2 }], {}));
    t = NOT_A_TURN + 6000; // a round later (6 s): a's turn 3 s away again
    expect((await f.sync("a", { ...at, full: true, turns: "defer" })).pushed).toBeUndefined();
    t = NOT_A_TURN + 6000 + 3000 + 1500;
    const woke = await f.sync("a", { ...at, turns: "now" });
    expect(woke.pushed).toBeDefined();
    expect(woke.deferred).toBeUndefined();
    expect(waited).toEqual([]);
    expect((await f.status()).orders.job).toMatchObject({ rev: 2, state: "completed" });

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

  it("a publish that would wait for its turn goes at once once something someone waits for was stored meanwhile (urged: issue 57 item 10)", async () => {
    fleet = await memoryFleet(["a", "b", "c"], { orders: ordersText([], {}) });
    const f = fleet;
    const waited: number[] = [];
    let t = NOT_A_TURN + 60_000 + 1500; // a's turn begins 1.5 s later: a near turn, waited for within the sync
    const at = {
      now: () => new Date(t),
      waitTurn: async (ms: number) => {
        waited.push(ms);
        t += ms;
      },
    };
    await f.pushOrders(ordersText([{ id: "job", to: "a", run: "true" }], {}));
    // The daemon was told of an agent's answer stored while this sync ran (daemon.ts aborts `urged`).
    const urge = new AbortController();
    urge.abort();
    const r = await f.sync("a", { ...at, full: true, turns: "defer", urged: urge.signal });
    expect(r.ran.map((x) => x.id)).toEqual(["job"]);
    expect(r.pushed).toBeDefined();
    expect(waited).toEqual([]);
  });

  it("a wait for its turn cut short by what someone waits for builds again on the tip it saw, with no second fetch", async () => {
    fleet = await memoryFleet(["a", "b", "c"], { orders: ordersText([], {}) });
    const f = fleet;
    const urge = new AbortController();
    const waited: number[] = [];
    let t = NOT_A_TURN + 60_000 + 1500; // a near turn, waited for within the sync
    const at = {
      now: () => new Date(t),
      // While the sync waits for its turn, an agent's answer is stored and the daemon urges it (daemon.ts).
      waitTurn: async (ms: number) => {
        waited.push(ms);
        t += 200;
        await sendFrom(f.m("a"), { to: "b", text: "the answer", clock: at.now });
        urge.abort();
      },
    };
    await f.pushOrders(ordersText([{ id: "job", to: "a", run: "true" }], {}));
    const hub = f.m("a").hub;
    const fetch = hub.fetch.bind(hub);
    let fetches = 0;
    hub.fetch = () => {
      fetches++;
      return fetch();
    };
    const r = await f.sync("a", { ...at, full: true, turns: "defer", urged: urge.signal });
    expect(waited).toHaveLength(1);
    expect(r.pushed).toBeDefined();
    expect(fetches).toBe(1); // the sync's own read; before, the try built again after a fetch of its own
    expect((await f.files()).get("coordination/messages/a_TO_b.md")).toContain("the answer");
  });

  it("a try built again unfetched after its cut-short wait loses to a move meanwhile, and the next fetches and lands", async () => {
    fleet = await memoryFleet(["a", "b", "c"], { orders: ordersText([], {}) });
    const f = fleet;
    const urge = new AbortController();
    let t = NOT_A_TURN + 60_000 + 1500;
    const at = {
      now: () => new Date(t),
      waitTurn: async () => {
        t += 200;
        // Meanwhile b publishes (the hub moves), and a's answer is stored.
        await sendFrom(f.m("b"), { to: "c", text: "elsewhere" });
        await f.sync("b", { full: true });
        await sendFrom(f.m("a"), { to: "b", text: "the answer", clock: at.now });
        urge.abort();
      },
    };
    await f.pushOrders(ordersText([{ id: "job", to: "a", run: "true" }], {}));
    const refused = f.remote.pushes.refused;
    const r = await f.sync("a", { ...at, full: true, turns: "defer", urged: urge.signal });
    expect(r.pushed).toBeDefined();
    expect(f.remote.pushes.refused - refused).toBe(1); // the try on the tip it saw lost; the next, fetched, landed
    const files = await f.files();
    expect(files.get("coordination/messages/a_TO_b.md")).toContain("the answer");
    expect(files.get("coordination/messages/b_TO_c.md")).toContain("elsewhere");
  });

  it("an acknowledgement someone made goes at once, as a message does, where a received mark waits for the bucket", async () => {
    fleet = await memoryFleet(["a", "b", "c"], { orders: ordersText([], {}) });
    const f = fleet;
    let t = NOT_A_TURN + 120_000;
    const at = {
      now: () => new Date(t),
      waitTurn: async (ms: number) => {
        t += ms;
      },
    };
    await sendFrom(f.m("a"), { to: "b", text: "read this", clock: at.now });
    expect((await f.sync("a", { ...at, full: true })).pushed).toBeDefined();
    // b's bucket below what a receipt needs (2 tokens), above the urgent floor (−3).
    await writeFile(join(f.m("b").stateDir, "budget.json"), `${JSON.stringify({ tokens: 0.5, at: t })}\n`);
    const got = await f.sync("b", { ...at, full: true });
    expect(got.delivered).toEqual(["a/b/1"]);
    expect(got.pushed).toBeUndefined();
    expect(got.deferred).toBeDefined();
    // b's person acknowledges it (coord inbox ack): the next publish goes at once, the bucket still under 2.
    t += 1000;
    await ackOn(f.m("b"), ["a/b/1"], false);
    const acked = await f.sync("b", { ...at, full: true, turns: "defer" });
    expect(acked.pushed).toBeDefined();
    expect(acked.deferred).toBeUndefined();
    expect((await f.model()).computers.get("b")?.messages?.["a/b"]).toMatchObject({ acked: 1 });
    // Shown on the hub, it is waited for no more: the next sync finds it there and pushes nothing.
    t += 1000;
    expect((await f.sync("b", { ...at, full: true })).pushed).toBeUndefined();
    expect((await readMailbox(f.m("b").stateDir)).ackWaits).toBeUndefined();
  });
});
