// The fleet's push budget on the publish path, on real git with a simulated
// clock: what a machine pushes when (core/budget.ts applied by sync/push.ts
// judge): a publish over its share waits, says until when, and goes out then;
// what it merely read is no reason to push; its heartbeat stretches with the
// fleet and is published; a person's order for one machine of 10 costs the
// hub at most 2 machine commits.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { presenceOf } from "../src/core/presence.js";
import { sync } from "../src/sync/sync.js";
import { countPushes, defaultBudget, machineCommits, TEN } from "./budget-fleet.js";
import { cli, git, hubStatus, makeFleet, ordersText, pushOrders, readLines, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

/**
 * The syncs here run one at a time, as a machine syncs when alone: its turn to push (core/budget.ts turnWait, turns of
 * 2 s that keep machines in step apart) is no one else's, so they wait for none (a simulated clock's turn would be
 * waited for in real time). What they push, and when the budget holds it back, is the same.
 */
const alone = { waitTurn: async () => {} };

const commitsOnCoord = async (f: Fleet) => Number((await git(f.hubPath, "rev-list", "--count", "coord")).trim());

describe("a publish within the fleet's push budget", () => {
  it("over its share, a result waits and says until when; it goes out when the bucket has refilled, and nothing is lost", async () => {
    fleet = await makeFleet(["a", "b"]);
    const f = fleet;
    const dir = f.machines.a!;
    // 1 push a minute for 2 machines: a's share is one every 2 minutes, with a burst of 3 (its registration took one,
    // and work may take one more than there is).
    const orders = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `o${i + 1}`, to: "a", run: "true" }));
    const t0 = Date.now();
    const at = (s: number) => () => new Date(t0 + s * 1000);
    // Its bucket as its registration left it (3 tokens, one spent), counted from t0: a slow machine's setup refills nothing.
    await writeFile(join(dir, ".git", "coord", "budget.json"), `${JSON.stringify({ tokens: 2, at: t0 })}\n`);
    const pushed: (string | undefined)[] = [];
    for (let n = 1; n <= 4; n++) {
      await pushOrders(f, ordersText(orders(n), { pushesPerMinute: 1 }));
      const r = await sync({ dir, now: at(n), ...alone });
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
    expect((await hubStatus(f)).orders.o4?.machines.a?.state).not.toBe("completed");
    // A sync before then pushes nothing; `coord sync` says what waits and until when.
    expect((await sync({ dir, now: at(60), ...alone })).pushed).toBeUndefined();
    const said = await cli("sync", "--dir", dir);
    expect(said.out).toMatch(/^a: what changed waits for the fleet's push budget until \d{4}-\d\d-\d\d \d\d:\d\d UTC/m);
    // Once the bucket has refilled, it goes out: o4 completed on the hub, each order ran once.
    const later = await sync({ dir, now: () => new Date(Date.now() + 180_000), ...alone });
    expect(later.pushed).toBeDefined();
    const status = await hubStatus(f);
    for (let n = 1; n <= 4; n++) expect(status.orders[`o${n}`]?.machines.a).toMatchObject({ state: "completed", attempts: 1 });
  });

  it("a new ORDERS.json that is not for a machine makes it push nothing; STATUS says the budget and the heartbeat it stretches to", async () => {
    fleet = await makeFleet(["a", "b", "c"]);
    const f = fleet;
    await pushOrders(f, ordersText([], { pushesPerMinute: 6 }));
    for (const m of ["a", "b", "c"]) await sync({ dir: f.machines[m]!, ...alone });
    const before = await commitsOnCoord(f);
    await pushOrders(f, ordersText([{ id: "for-c", to: "c", run: "true" }], { pushesPerMinute: 6 }));
    for (const m of ["a", "b", "c"]) await sync({ dir: f.machines[m]!, ...alone });
    // a says the new order in STATUS (it synced first), b finds it said, c runs it: 2 commits, not 3.
    expect((await commitsOnCoord(f)) - before).toBeLessThanOrEqual(2);
    const status = await hubStatus(f);
    expect(status.orders["for-c"]?.machines.c?.state).toBe("completed");
    expect(status.budget).toEqual({ pushesPerMinute: 6, machines: 3, heartbeat: 60 });
    const md = await git(f.hubPath, "show", "coord:STATUS.md");
    expect(md).toContain("Push budget: 6 pushes a minute shared by 3 machines: heartbeats every 1 min or longer");
  });

  it("a fleet of 10 that synced: a person's order for one machine, then one sync of each machine, adds at most 2 machine commits", async () => {
    fleet = await makeFleet(TEN);
    const f = fleet;
    const syncAlone = (name: string) => sync({ dir: f.machines[name]!, ...alone });
    await pushOrders(f, defaultBudget([]), "the hub's budget: GitHub's 6 pushes a minute");
    for (const name of TEN) await syncAlone(name);
    const pushes = await countPushes(f);
    const before = await machineCommits(f);
    const target = TEN[4]!; // neither the first nor the last to sync
    const log = join(f.root, "ran.log");
    await pushOrders(f, defaultBudget([{ id: "one", to: target, run: `echo "$COORD_ORDER $COORD_MACHINE" >> ${log}` }]), "an order for one machine");
    for (const name of TEN) await syncAlone(name);
    const added = (await machineCommits(f)) - before;
    const tried = await pushes();
    const authors = (await git(f.hubPath, "log", "--format=%an: %s", `-${Math.max(added, 1)}`, "coord")).trim().split("\n");
    console.log(`budget: an order for one of 10 machines, then one sync of each: ${added} machine commits on coord (${authors.join("; ")}), ${tried} pushes reached the hub`);
    expect((await hubStatus(f)).orders.one?.state).toBe("completed");
    expect(await readLines(log)).toEqual([`one ${target}`]);
    expect(added).toBeLessThanOrEqual(2);
  });

  it("a machine's heartbeat stretches with the fleet, is published in its file, and no machine shows offline for it", async () => {
    fleet = await makeFleet(["a", "b", "c", "d"]);
    const f = fleet;
    // 0.1 a minute for 4 machines: heartbeats take at most half, one every 80 minutes at least.
    await pushOrders(f, ordersText([], { pushesPerMinute: 0.1 }));
    const t0 = Date.now();
    // Each machine's heartbeat is due by the one it published (15 min, init's): then it publishes the stretched one.
    for (const m of ["a", "b", "c", "d"]) await sync({ dir: f.machines[m]!, now: () => new Date(t0 + 16 * 60_000), ...alone });
    const status = await hubStatus(f);
    for (const m of ["a", "b", "c", "d"]) expect(status.machines[m]).toMatchObject({ heartbeat: 4800, presence: "online" });
    // An hour and a half later nobody has pushed (their heartbeats are not due), and nobody is offline for it.
    const before = await commitsOnCoord(f);
    const t1 = t0 + 16 * 60_000 + 90 * 60_000;
    for (const m of ["a", "b", "c", "d"]) expect((await sync({ dir: f.machines[m]!, now: () => new Date(t1 - 20 * 60_000), ...alone })).pushed).toBeUndefined();
    expect(await commitsOnCoord(f)).toBe(before);
    const machines = Object.values((await hubStatus(f)).machines as Record<string, { lastSeen: string; heartbeat: number }>);
    expect(machines.map((m) => presenceOf(m, new Date(t1)))).toEqual(["online", "online", "online", "online"]);
  });

  it("a machine whose bucket is spent claims no ANY order until it refills; another machine takes it", async () => {
    fleet = await makeFleet(["a", "b"]);
    const f = fleet;
    await pushOrders(f, ordersText([{ id: "job", to: "ANY", run: 'echo "$COORD_MACHINE"' }], { pushesPerMinute: 6 }));
    // a's bucket is past its floor (a burst of claims, and the retries of lost races): 4 tokens in debt.
    await writeFile(join(f.machines.a!, ".git", "coord", "budget.json"), `${JSON.stringify({ tokens: -4, at: Date.now() })}\n`);
    const lines: string[] = [];
    const a = await sync({ dir: f.machines.a!, log: (l) => lines.push(l), ...alone });
    expect(a.ran).toEqual([]);
    expect(lines.join("\n")).toMatch(/claims wait for the fleet's push budget \(6 pushes a minute shared by 2 machines, a heartbeat every 15 min\) until \d{4}-/);
    expect(Date.parse(a.deferred!)).toBeGreaterThan(Date.now());
    const b = await sync({ dir: f.machines.b!, ...alone });
    expect(b.ran.map((t) => t.id)).toEqual(["job"]);
    expect((await hubStatus(f)).orders.job).toMatchObject({ state: "completed", machines: { b: { state: "completed" } } });
  });
});
