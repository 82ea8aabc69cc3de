// Work distribution on the in-memory hub: the full sync cycle (syncMachine) of
// several machines in this process, racing for the same tips. Spreading,
// re-planning after a lost claim and exactly-once, at volumes and with
// interleavings that would take minutes on real git (any.e2e keeps the
// acceptance run on real git, with processes; the scenarios that wait on a
// task's process while other syncs go on: work-memory.e2e.test.ts).
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readLines as lines } from "./helpers.js";
import { CoordError, RemoteUnreachable } from "../src/errors.js";
import type { Hub } from "../src/git/hub.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

describe("to: ANY on the in-memory hub", () => {
  it("20 ANY orders, 5 machines syncing together each round: each runs exactly once, all done in at most 5 rounds, every machine works", async () => {
    const names = ["m1", "m2", "m3", "m4", "m5"];
    fleet = await memoryFleet(names);
    const f = fleet;
    const log = join(f.root, "ran.log");
    const orders = Array.from({ length: 20 }, (_, i) => ({ id: `job-${i}`, to: "ANY", run: `echo "$COORD_ORDER $COORD_MACHINE" >> ${log}`, priority: i < 5 ? "high" : "normal" }));
    await f.pushOrders(orders);
    let rounds = 0;
    for (; rounds < 12; ) {
      rounds++;
      await Promise.all(names.map((n) => f.sync(n)));
      const status = await f.status();
      if (orders.every((o) => status.orders[o.id].state === "completed")) break;
    }
    const ran = await lines(log);
    expect(ran.map((l) => l.split(" ")[0]).sort()).toEqual(orders.map((o) => o.id).sort()); // each exactly once
    expect(rounds).toBeLessThanOrEqual(5);
    expect(new Set(ran.map((l) => l.split(" ")[1]))).toEqual(new Set(names));
  });

  it("a claim that loses the push plans again on the fresh tip and claims the next free order in the same sync", async () => {
    fleet = await memoryFleet(["a", "b"]);
    const f = fleet;
    const log = join(f.root, "ran.log");
    // Both rank "first" on top (it is urgent); b's claim push is overtaken by a whole sync of a.
    // Only b can take "second" (a would otherwise drain it in that same sync).
    await f.pushOrders([
      { id: "first", to: "ANY", priority: "urgent", run: `echo "first $COORD_MACHINE" >> ${log}` },
      { id: "second", to: "ANY", requires: ["gpu"], run: `echo "second $COORD_MACHINE" >> ${log}` },
    ]);
    const b = { ...f.m("b"), config: { ...f.m("b").config, labels: ["gpu"] } };
    const inner = b.hub;
    let overtaken = false;
    const racing: Hub = Object.assign(Object.create(inner) as Hub, {
      push: async (commit: string) => {
        if (!overtaken) {
          overtaken = true;
          const r = await f.sync("a");
          expect(r.ran.map((t) => t.id)).toEqual(["first"]);
        }
        return inner.push(commit);
      },
    });
    f.machines.set("b", { ...b, hub: racing });
    const said: string[] = [];
    const r = await f.sync("b", { log: (l) => said.push(l) });
    expect(overtaken).toBe(true);
    expect(said).toContain("first: another machine claimed it first");
    expect(said).toContain("claiming second instead");
    expect(r.ran.map((t) => [t.id, t.state])).toEqual([["second", "completed"]]);
    expect((await lines(log)).sort()).toEqual(["first a", "second b"]);
    const status = await f.status();
    expect(status.orders.first).toMatchObject({ state: "completed", done: true });
    expect(status.orders.second).toMatchObject({ state: "completed", done: true });
  });
});

describe("after a failure, on the in-memory hub", () => {
  it("an outage: scheduled syncs skip while the hub is down and sync at the first tick it answers again, whatever the backoff", async () => {
    fleet = await memoryFleet(["a"], { config: { failureBackoff: 3600 } });
    const f = fleet;
    f.remote.down = true;
    await expect(f.sync("a", { scheduled: true })).rejects.toBeInstanceOf(RemoteUnreachable);
    const waiting = await f.sync("a", { scheduled: true });
    expect(waiting).toMatchObject({ skipped: true, backoff: { failures: 1, lastError: expect.stringMatching(/could not reach the remote/) } });
    f.remote.down = false;
    await f.pushOrders([{ id: "job", to: "a", run: "true" }]);
    const said: string[] = [];
    const back = await f.sync("a", { scheduled: true, log: (l) => said.push(l) });
    expect(back.skipped).toBe(false);
    expect(back.ran.map((t) => [t.id, t.state])).toEqual([["job", "completed"]]);
    expect(said).toContain("the hub answers again: syncing now instead of waiting out the backoff");
  });

  it("a failure that is not an outage waits out its backoff although the hub answers", async () => {
    fleet = await memoryFleet(["a"], { config: { failureBackoff: 3600 } });
    const f = fleet;
    const a = f.m("a");
    const inner = a.hub;
    let broken = true;
    const failing: Hub = Object.assign(Object.create(inner) as Hub, {
      fetch: async () => {
        if (broken) throw new CoordError("something else went wrong");
        return inner.fetch();
      },
    });
    f.machines.set("a", { ...a, hub: failing });
    await expect(f.sync("a", { scheduled: true })).rejects.toThrow("something else went wrong");
    broken = false;
    expect(await failing.reachable()).toBe(true);
    expect(await f.sync("a", { scheduled: true })).toMatchObject({ skipped: true, backoff: { failures: 1 } });
    expect((await f.sync("a")).skipped).toBe(false); // a manual sync always tries
  });
});

describe("a remote too busy to publish to", () => {
  it("a sync whose pushes keep losing gives up when its push budget is spent, says so, and the next sync publishes the result without running it again", async () => {
    fleet = await memoryFleet(["a"]);
    const f = fleet;
    const log = join(f.root, "ran.log");
    await f.pushOrders([{ id: "job", to: "a", run: `echo ran >> ${log}` }]);
    const a = f.m("a");
    const inner = a.hub;
    let pushes = 0;
    const busy: Hub = Object.assign(Object.create(inner) as Hub, {
      push: async () => {
        pushes++;
        return false; // someone else always pushed first
      },
    });
    f.machines.set("a", { ...a, hub: busy });
    await expect(f.sync("a", { pushBudgetMs: 1_000 })).rejects.toThrow(
      /^gave up publishing after \d+ rejected pushes in \d+ s \(the remote is very busy\); results are kept and the next sync publishes them$/,
    );
    expect(pushes).toBeGreaterThan(3);
    expect(await lines(log)).toEqual(["ran"]);
    expect((await f.status()).orders.job?.state).not.toBe("completed"); // nothing reached the hub

    f.machines.set("a", a); // the remote calms down
    const next = await f.sync("a");
    expect(next.ran).toEqual([]);
    expect((await f.status()).orders.job).toMatchObject({ state: "completed", done: true });
    expect(await lines(log)).toEqual(["ran"]); // ran once
  });
});

describe("clock skew, on the in-memory hub", () => {
  it("a silent holder is still taken over once the reader saw its lastSeen unchanged for a lease", async () => {
    fleet = await memoryFleet(["a", "b"], { config: { claimLease: 300, checkEvery: 1 } });
    const f = fleet;
    const log = join(f.root, "ran.log");
    await f.pushOrders([{ id: "job", to: "ANY", run: `echo $COORD_MACHINE >> ${log}; [ "$COORD_MACHINE" = b ] || sleep 30` }]);
    // a claims, then can no longer publish: its claim is never renewed.
    const a = f.m("a");
    const inner = a.hub;
    let landed = 0;
    const cutOff: Hub = Object.assign(Object.create(inner) as Hub, {
      push: async (commit: string) => {
        if (landed > 0) throw new RemoteUnreachable("could not reach the remote memory: cut off");
        const ok = await inner.push(commit);
        if (ok) landed++;
        return ok;
      },
    });
    f.machines.set("a", { ...a, hub: cutOff });
    const stop = new AbortController();
    const holder = f.sync("a", { signal: stop.signal }).catch((e: Error) => e);
    for (let i = 0; i < 200 && !(await lines(log)).length; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await f.sync("b")).toMatchObject({ ran: [], waiting: [{ id: "job", reason: "claimed by a" }] });
    // Five minutes and a second later by b's clock, with a still silent: taken over.
    const later = await f.sync("b", { now: () => new Date(Date.now() + 301_000) });
    expect(later.ran.map((t) => [t.id, t.state])).toEqual([["job", "completed"]]);
    stop.abort();
    await holder;
    expect((await lines(log)).sort()).toEqual(["a", "b"]);
  });

  it("observations are kept across syncs; a broken observed.json is kept aside with one sentence and the sync goes on", async () => {
    fleet = await memoryFleet(["a", "b"]);
    const f = fleet;
    await f.sync("a"); // a registered before b: now it sees b
    const file = join(f.m("a").stateDir, "observed.json");
    const kept = JSON.parse(await readFile(file, "utf8"));
    expect(kept).toMatchObject({ version: 1, machines: { b: { lastSeen: expect.any(String), at: expect.any(Number) } } });
    await writeFile(file, "{ not json");
    const r = await f.sync("a");
    expect(r.warnings.join("\n")).toMatch(/observed\.json.*not JSON.*every machine is seen as just heard/s);
    expect((await readdir(f.m("a").stateDir)).filter((n) => n.startsWith("observed.json.corrupt-"))).toHaveLength(1);
    expect(JSON.parse(await readFile(file, "utf8")).machines.b.lastSeen).toBe(kept.machines.b.lastSeen);
  });
});

describe("failover with prefer, on the in-memory hub", () => {
  it("the first preferred machine runs it while it is there; when it has been silent for failoverAfter, the next one does", async () => {
    fleet = await memoryFleet(["gpu-1", "gpu-2"]);
    const f = fleet;
    const log = join(f.root, "ran.log");
    const order = (id: string) => ({ id, to: "ANY", run: `echo "${id} $COORD_MACHINE" >> ${log}`, prefer: ["gpu-1", "gpu-2"], failoverAfter: "2m" });
    await f.pushOrders([order("first")]);
    expect(await f.sync("gpu-2")).toMatchObject({ ran: [], waiting: [{ id: "first", reason: "gpu-1 takes it first (prefer); this machine takes over when it is gone" }] });
    expect((await f.sync("gpu-1")).ran.map((t) => t.id)).toEqual(["first"]);
    // gpu-1 goes silent; a new order comes.
    await f.pushOrders([order("first"), order("second")]);
    expect((await f.sync("gpu-2")).ran).toEqual([]);
    const later = await f.sync("gpu-2", { now: () => new Date(Date.now() + 121_000) });
    expect(later.ran.map((t) => [t.id, t.state])).toEqual([["second", "completed"]]);
    expect(await lines(log)).toEqual(["first gpu-1", "second gpu-2"]);
  });
});
