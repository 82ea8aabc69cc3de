// The fleet's push budget on the publish path (issue 30, "What must hold"), on the in-memory fleet
// (test/memory-fleet.ts), with a simulated clock: a publish over its share waits, says until when, and goes out then;
// what a machine merely read is no reason to push; its heartbeat stretches with the fleet and is published; a
// person's order for one machine of 10 costs the hub at most 2 machine commits; a new message may borrow; a spent
// bucket claims no ANY order. Pushes are counted at the hub as they reach it (MemoryRemote.pushes). What only real
// git and real time show (idle daemons staying online, a burst drained by daemons) stays in budget.e2e.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inboxOf, sendFrom } from "../src/actions/messages.js";
import { BUCKET_CAPACITY } from "../src/core/budget/budget.js";
import { presenceOf } from "../src/core/fleet/presence.js";
import { delegatedOrdersPath } from "../src/core/repo/repo.js";
import { updateDelegated } from "../src/state/delegated.js";
import { publishedText } from "../src/sync/result.js";
import { ordersText } from "./helpers.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

/**
 * The syncs here run one at a time, as a machine syncs when alone: its turn to push (core/budget/budget.ts turnWait, turns of
 * 2 s that keep machines in step apart) is no one else's, so they wait for none. What they push, and when the budget
 * holds it back, is the same.
 */
const alone = { waitTurn: async () => {} };
/** ORDERS.json with no "hub" key: the default budget, GitHub's 6 pushes a minute. */
const defaultBudget = (orders: unknown[]) => `${JSON.stringify({ $schema: "coordination/orders.schema.json", version: 1, orders }, null, 2)}\n`;
const TEN = Array.from({ length: 10 }, (_, i) => `ten${String(i + 1).padStart(2, "0")}`);
const bucketOf = (f: MemoryFleet, name: string) => join(f.m(name).stateDir, "budget.json");

describe("a publish within the fleet's push budget", () => {
  it("over its share, a result waits until when it says; it goes out when the bucket has refilled, and nothing is lost", async () => {
    fleet = await memoryFleet(["a", "b"]);
    const f = fleet;
    // 1 push a minute for 2 machines: a's share is one every 2 minutes, with a burst of 3 (its registration took one,
    // and work may take one more than there is).
    const orders = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `o${i + 1}`, to: "a", run: "true" }));
    const t0 = Date.now();
    const at = (s: number) => () => new Date(t0 + s * 1000);
    await writeFile(bucketOf(f, "a"), `${JSON.stringify({ tokens: 2, at: t0 })}\n`);
    const pushed: (string | undefined)[] = [];
    for (let n = 1; n <= 4; n++) {
      await f.pushOrders(ordersText(orders(n), { pushesPerMinute: 1 }));
      const r = await f.sync("a", { now: at(n), ...alone });
      expect(r.ran.map((t) => t.id)).toEqual([`o${n}`]);
      pushed.push(r.pushed);
      if (n === 4) {
        // Its bucket is spent: the result waits for 2 minutes (a token at 0.5 a minute), and the sync says so.
        expect(r.pushed).toBeUndefined();
        expect(Date.parse(r.deferred!)).toBeGreaterThan(t0 + 60_000);
        expect(Date.parse(r.deferred!)).toBeLessThanOrEqual(t0 + 5_000 + 120_000);
      }
    }
    expect(pushed.slice(0, 3).every(Boolean)).toBe(true);
    expect((await f.status()).orders.o4?.machines.a?.state).not.toBe("completed");
    // A sync before then pushes nothing, and says until when it waits.
    const before = await f.sync("a", { now: at(60), ...alone });
    expect(before.pushed).toBeUndefined();
    expect(Date.parse(before.deferred!)).toBeGreaterThan(t0 + 60_000);
    expect(publishedText(before)).toMatch(/^what changed waits for the fleet's push budget until \d{4}-\d\d-\d\d \d\d:\d\d UTC/); // as coord sync says it
    // Once the bucket has refilled, it goes out: o4 completed on the hub, each order ran once.
    const later = await f.sync("a", { now: () => new Date(Date.now() + 180_000), ...alone });
    expect(later.pushed).toBeDefined();
    const status = await f.status();
    for (let n = 1; n <= 4; n++) expect(status.orders[`o${n}`]?.machines.a).toMatchObject({ state: "completed", attempts: 1 });
  });

  it("a new ORDERS.json that is not for a machine makes it push nothing; STATUS says the budget and the heartbeat it stretches to", async () => {
    fleet = await memoryFleet(["a", "b", "c"]);
    const f = fleet;
    await f.pushOrders(ordersText([], { pushesPerMinute: 6 }));
    for (const m of ["a", "b", "c"]) await f.sync(m, alone);
    const before = f.machinesCommits();
    await f.pushOrders(ordersText([{ id: "for-c", to: "c", run: "true" }], { pushesPerMinute: 6 }));
    for (const m of ["a", "b", "c"]) await f.sync(m, alone);
    // a says the new order in STATUS (it synced first), b finds it said, c runs it: 2 commits, not 3.
    expect(f.machinesCommits() - before).toBeLessThanOrEqual(2);
    const status = await f.status();
    expect(status.orders["for-c"]?.machines.c?.state).toBe("completed");
    expect(status.budget).toEqual({ pushesPerMinute: 6, machines: 3, heartbeat: 60 });
    expect((await f.files()).get("STATUS.md")).toContain("Push budget: 6 pushes a minute shared by 3 machines: heartbeats every 1 min or longer");
  });

  it("with no budget too, the summary of a sync alone is no push: it rides along with the next change", async () => {
    fleet = await memoryFleet(["a"]);
    const f = fleet;
    await f.pushOrders(ordersText([{ id: "x", to: "a", run: "true" }]));
    expect((await f.sync("a", alone)).pushed).toBeDefined();
    // A drain's last results went out with a claim's push: the summary its sync writes at the end is all that is new.
    const journalPath = join(f.m("a").stateDir, "journal.json");
    const journal = JSON.parse(await readFile(journalPath, "utf8"));
    journal.lastRun = "2026-11-27T00:00:00.000Z: ran y (completed)";
    await writeFile(journalPath, JSON.stringify(journal));
    // A person's commit the machine reads in full, with nothing in it for the machine.
    await f.personCommit("README.md", "the fleet\n", "a readme");
    const before = f.machinesCommits();
    expect((await f.sync("a", { full: true, ...alone })).pushed).toBeUndefined();
    expect(f.machinesCommits()).toBe(before);
    // The next change worth a push carries the summary of its own sync.
    await f.pushOrders(
      ordersText([
        { id: "x", to: "a", run: "true" },
        { id: "z", to: "a", run: "true" },
      ]),
    );
    expect((await f.sync("a", alone)).pushed).toBeDefined();
    expect((await f.files()).get("coordination/COMPUTER_a.md")).toMatch(/^Last run: \S+: ran z \(completed\)$/m);
  });

  it("a fleet of 10 that synced: a person's order for one machine, then one sync of each machine, adds at most 2 machine commits", async () => {
    fleet = await memoryFleet(TEN);
    const f = fleet;
    await f.pushOrders(defaultBudget([]));
    for (const name of TEN) await f.sync(name, alone);
    const before = f.machinesCommits();
    const pushes = f.remote.pushes.landed + f.remote.pushes.refused;
    const target = TEN[4]!; // neither the first nor the last to sync
    await f.pushOrders(defaultBudget([{ id: "one", to: target, run: "true" }]));
    const ran: string[] = [];
    for (const name of TEN) for (const t of (await f.sync(name, alone)).ran) ran.push(`${t.id} ${name}`);
    const added = f.machinesCommits() - before;
    const tried = f.remote.pushes.landed + f.remote.pushes.refused - pushes;
    console.log(`budget: an order for one of 10 machines, then one sync of each: ${added} machine commits on coord, ${tried} pushes reached the hub`);
    expect((await f.status()).orders.one?.state).toBe("completed");
    expect(ran).toEqual([`one ${target}`]);
    expect(added).toBeLessThanOrEqual(2);
  });

  it("a machine's heartbeat stretches with the fleet, is published in its file, and no machine shows offline for it", async () => {
    fleet = await memoryFleet(["a", "b", "c", "d"]);
    const f = fleet;
    // 0.1 a minute for 4 machines: heartbeats take at most half, one every 80 minutes at least.
    await f.pushOrders(ordersText([], { pushesPerMinute: 0.1 }));
    const t0 = Date.now();
    // Each machine's heartbeat is due by the one it published (15 min, init's): then it publishes the stretched one.
    for (const m of ["a", "b", "c", "d"]) await f.sync(m, { now: () => new Date(t0 + 16 * 60_000), ...alone });
    const status = await f.status();
    for (const m of ["a", "b", "c", "d"]) expect(status.machines[m]).toMatchObject({ heartbeat: 4800, presence: "online" });
    expect((await f.files()).get("coordination/COMPUTER_a.md")).toMatch(/^heartbeat: 4800$/m);
    // An hour and a half later nobody has pushed (their heartbeats are not due), and nobody is offline for it.
    const before = f.machinesCommits();
    const t1 = t0 + 16 * 60_000 + 90 * 60_000;
    for (const m of ["a", "b", "c", "d"]) expect((await f.sync(m, { now: () => new Date(t1 - 20 * 60_000), full: true, ...alone })).pushed).toBeUndefined();
    expect(f.machinesCommits()).toBe(before);
    const machines = Object.values((await f.status()).machines as Record<string, { lastSeen: string; heartbeat: number }>);
    expect(machines.map((m) => presenceOf(m, new Date(t1)))).toEqual(["online", "online", "online", "online"]);
  });

  it("a new message may borrow as a claim does; its bucket at the floor, it goes on the fleet's spare pushes after a quiet minute, and waits after a busy one", async () => {
    fleet = await memoryFleet(["a", "b"]);
    const f = fleet;
    await f.pushOrders(ordersText([], { pushesPerMinute: 6 }));
    for (const m of ["a", "b"]) await f.sync(m, alone);
    // a spent its share (its bucket at the floor an urgent push leaves it at); by its clock the hub's commits are 90 s old.
    const bucketFile = bucketOf(f, "a");
    const later = Date.now() + 90_000;
    await writeFile(bucketFile, `${JSON.stringify({ tokens: -BUCKET_CAPACITY, at: later })}\n`);
    await sendFrom(f.m("a"), { to: "b", text: "are you there?" });
    const lines: string[] = [];
    const r = await f.sync("a", { now: () => new Date(later), log: (l) => lines.push(l), ...alone });
    expect(r.pushed, lines.join("\n")).toBeDefined();
    expect(lines.join("\n")).toMatch(/goes on the fleet's spare pushes: the hub took 0 commits in the last minute, of 6 pushes a minute/);
    // It paid back what it could: its bucket stays at the floor, so its heartbeat waits no longer than after a claim.
    expect(JSON.parse(await readFile(bucketFile, "utf8")).tokens).toBe(-BUCKET_CAPACITY);
    await f.sync("b", alone);
    expect((await inboxOf(f.m("b"), {})).messages.map((m) => m.text)).toEqual(["are you there?"]);

    // People pushed 4 commits in the last minute (by the wall clock now): one more would leave fewer than 2 of the 6.
    for (let i = 1; i <= 4; i++) await f.personCommit(`notes/n${i}.md`, `note ${i}\n`, `note ${i}`);
    // (Half a token past the floor: the milliseconds until the sync reads it refill nothing that lets it borrow.)
    await writeFile(bucketFile, `${JSON.stringify({ tokens: -BUCKET_CAPACITY - 0.5, at: Date.now() })}\n`);
    await sendFrom(f.m("a"), { to: "b", text: "still there?" });
    const busy: string[] = [];
    const before = f.machinesCommits();
    const waits = await f.sync("a", { log: (l) => busy.push(l), ...alone });
    expect(waits.pushed).toBeUndefined();
    expect(Date.parse(waits.deferred!)).toBeGreaterThan(Date.now());
    expect(busy.join("\n")).not.toMatch(/spare pushes/);
    expect(f.machinesCommits()).toBe(before);
    // Above that floor, it may borrow as a claim does (what someone waits for is urgent), fleet or no fleet.
    await writeFile(bucketFile, `${JSON.stringify({ tokens: -1, at: Date.now() })}\n`);
    const borrowed: string[] = [];
    expect((await f.sync("a", { log: (l) => borrowed.push(l), ...alone })).pushed).toBeDefined();
    expect(borrowed.join("\n")).not.toMatch(/spare pushes/);
    expect(JSON.parse(await readFile(bucketFile, "utf8")).tokens).toBeCloseTo(-2, 1);
    // So does an order it delegates (someone waits for it too), as coord order add leaves it: the machine it names runs it.
    await updateDelegated(f.m("a").stateDir, (data) => {
      data.orders.push({ id: "for-b", to: "b", run: "true" });
    });
    expect((await f.sync("a", alone)).pushed).toBeDefined();
    expect((await f.files()).get(delegatedOrdersPath("a"))).toContain('"for-b"');
    const ran = await f.sync("b", alone);
    expect(ran.ran.map((t) => t.id)).toEqual(["for-b"]);
  });

  it("a machine whose bucket is spent claims no ANY order until it refills; another machine takes it", async () => {
    fleet = await memoryFleet(["a", "b"]);
    const f = fleet;
    await f.pushOrders(ordersText([{ id: "job", to: "ANY", run: 'echo "$COORD_MACHINE"' }], { pushesPerMinute: 6 }));
    // a's bucket is past its floor (a burst of claims, and the retries of lost races): 4 tokens in debt.
    await writeFile(bucketOf(f, "a"), `${JSON.stringify({ tokens: -4, at: Date.now() })}\n`);
    const lines: string[] = [];
    const a = await f.sync("a", { log: (l) => lines.push(l), ...alone });
    expect(a.ran).toEqual([]);
    expect(lines.join("\n")).toMatch(/claims wait for the fleet's push budget \(6 pushes a minute shared by 2 machines, a heartbeat every 15 min\) until \d{4}-/);
    expect(Date.parse(a.deferred!)).toBeGreaterThan(Date.now());
    const b = await f.sync("b", alone);
    expect(b.ran.map((t) => t.id)).toEqual(["job"]);
    expect((await f.status()).orders.job).toMatchObject({ state: "completed", machines: { b: { state: "completed" } } });
  });
});
