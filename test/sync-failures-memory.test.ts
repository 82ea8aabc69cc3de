// A sync that fails, on the in-memory hub: the full sync cycle (syncMachine) against a hub that is down, fails
// otherwise, or takes no push. A scheduled sync waits out its backoff unless the hub merely came back; a publish that
// keeps losing gives up within its budget and the next sync publishes what ran, without running it again. (Apart from
// work-memory.test.ts, so that the two run in parallel workers.) A hub that refuses the machine's pushes: only a push it
// accepts ends the refusal.
import { mkdir, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ordersText, readLines as lines } from "./helpers.js";
import { localFailures } from "../src/actions/status.js";
import { CoordError, EXIT, PushRefused, RemoteUnreachable } from "../src/errors.js";
import { describeFailure } from "../src/failure.js";
import { readHealth } from "../src/state/health.js";
import type { Hub } from "../src/git/hub.js";
import type { SyncResult } from "../src/sync/sync.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
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

describe("a file in the sync's way", () => {
  it("a directory where a local state file should be fails the sync with exit 1, naming the path and what it read, and the next sync goes on", async () => {
    fleet = await memoryFleet(["a"]);
    const f = fleet;
    const a = f.m("a");
    const observed = join(a.stateDir, "observed.json");
    await mkdir(observed); // as a race or a half-written state could leave it for a moment
    const failed = await f.sync("a", { full: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const said = describeFailure(failed);
    expect(said.exitCode).toBe(EXIT.FAILURE); // not 2, bad usage: nobody gave coord a wrong path
    expect(said.message).toBe(
      `reading coord's local state: read ${observed} failed: it is a directory (EISDIR); ` +
        "a directory stands where coord keeps a file, or stood there a moment; run again, and if it persists move that directory aside",
    );
    expect(await readHealth(a.stateDir)).toMatchObject({ failures: 1, lastError: said.message }); // a failed sync, as any other

    await rmdir(observed);
    expect((await f.sync("a", { full: true })).skipped).toBe(false);
    expect((await readHealth(a.stateDir)).failures).toBe(0);
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
    // A budget of 2 s: the first four pushes go at once, then the backoff grows; on a loaded 2-core machine (two
    // suites beside this one) four took more than 400 ms.
    await expect(f.sync("a", { pushBudgetMs: 2000 })).rejects.toThrow(
      /^gave up publishing after \d+ rejected pushes in \d+ s \(the remote is very busy\); results are kept and the next sync publishes them$/,
    );
    expect(pushes).toBeGreaterThan(3);
    expect(await lines(log)).toEqual(["ran"]);
    expect((await f.status()).orders.job?.state).not.toBe("completed"); // nothing reached the hub

    // The hub answered all along: a scheduled sync does not wait out a failure's backoff, it tries again at once.
    expect(await readHealth(a.stateDir)).toMatchObject({ failures: 1, busy: true });
    f.machines.set("a", a); // the remote calms down
    const next = await f.sync("a", { scheduled: true });
    expect(next.skipped).toBeFalsy();
    expect(next.ran).toEqual([]);
    expect((await f.status()).orders.job).toMatchObject({ state: "completed", done: true });
    expect(await lines(log)).toEqual(["ran"]); // ran once
  });
});

describe("a hub that refuses this machine's pushes", () => {
  it("a sync whose publish waits for the push budget leaves the machine refused; the push the hub accepts ends it, and says so then", async () => {
    fleet = await memoryFleet(["a", "b"], { orders: ordersText([], {}) }); // the default budget: 6 pushes a minute for 2 machines
    const f = fleet;
    const a = f.m("a");
    const inner = a.hub;
    let refusing = true;
    const refuses: Hub = Object.assign(Object.create(inner) as Hub, {
      push: async (...args: Parameters<Hub["push"]>) => {
        if (refusing) throw new PushRefused("the remote refused the push: GH006: Protected branch update failed for refs/heads/coord");
        return inner.push(...args);
      },
    });
    f.machines.set("a", { ...a, hub: refuses });
    await f.pushOrders(ordersText([{ id: "job", to: "a", run: "true" }], {})); // a has a result to publish
    let t = Date.now();
    // Its clock, and its turns to push waited for on it.
    const at = {
      now: () => new Date(t),
      waitTurn: async (ms: number) => {
        t += ms;
      },
    };
    // Each refused push spends a token of a's bucket: after a few, a sync holds its publish back and exits 0.
    let held: SyncResult | undefined;
    for (let i = 0; i < 10 && !held; i++) {
      held = await f.sync("a", { ...at, full: true }).catch((e: unknown) => {
        expect(e).toBeInstanceOf(PushRefused);
        return undefined;
      });
    }
    expect(held).toMatchObject({ deferred: expect.any(String) });
    expect(held?.pushed).toBeUndefined();
    // coord status on a still says it is refused (its --json "local").
    const local = await localFailures(a.stateDir, "a");
    expect(local?.health).toMatchObject({ refused: true, lastError: expect.stringMatching(/GH006/) });
    expect(local?.text).toMatch(/^a \(this machine\) is refused by the hub since /);

    // Ten minutes later (its bucket refilled) the hub accepts: the push that lands ends the refusal, and says it ended then.
    refusing = false;
    t += 10 * 60_000;
    const accepted = t;
    const back = await f.sync("a", { ...at, full: true });
    expect(back.pushed).toBeDefined();
    expect(await localFailures(a.stateDir, "a")).toBeUndefined();
    const health = (await f.model()).computers.get("a")?.health;
    expect(health).toMatchObject({ refused: true, cleared: expect.any(String) });
    expect(Date.parse(health!.cleared!)).toBeGreaterThanOrEqual(accepted);
  });
});
