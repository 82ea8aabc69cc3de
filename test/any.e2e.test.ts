// to: ANY on real git: many machines draining a queue at once, capability, a live holder and a
// silent one (its own file: the two longest tests of the engine, run beside the rest).
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sync } from "../src/sync/sync.js";
import { cliExec, cliProcess, hubStatus, journal, makeFleet, pushOrders, setConfig, waitFor, type Fleet, readLines as lines } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;
const syncAll = (names: string[]) => Promise.all(names.map((n) => cliExec(["sync", "--dir", dirOf(n)])));

describe("to: ANY", () => {
  it("20 ANY orders of 1 s and 5 machines, each running coord sync per round: each order runs exactly once, all done in at most 5 rounds, every machine works", async () => {
    const names = ["m1", "m2", "m3", "m4", "m5"];
    fleet = await makeFleet(names);
    const log = join(fleet.root, "ran.log");
    const orders = Array.from({ length: 20 }, (_, i) => ({
      id: `job-${i}`,
      to: "ANY",
      run: `echo "$COORD_ORDER $COORD_MACHINE" >> ${log}; sleep 1`,
      priority: i < 5 ? "high" : "normal",
    }));
    await pushOrders(fleet, orders);
    let rounds = 0;
    while (rounds < 12) {
      rounds++;
      const results = await syncAll(names);
      for (const r of results) expect(r.code, r.err).toBe(0);
      // The queue left waiting for a slot is one line, not one per order.
      if (rounds === 1) for (const r of results) expect(r.out).toMatch(/^job-\S+, job-\S+, job-\S+ and \d+ more: not started: no free slot on this machine \(maxParallel\)$/m);
      const status = await hubStatus(fleet);
      if (orders.every((o) => status.orders[o.id].state === "completed")) break;
    }
    const ran = await lines(log);
    const ids = ran.map((l) => l.split(" ")[0]);
    expect([...ids].sort()).toEqual(orders.map((o) => o.id).sort()); // each exactly once
    const status = await hubStatus(fleet);
    for (const o of orders) expect(status.orders[o.id]).toMatchObject({ state: "completed", done: true });
    // Machines rank the queue each their own way (core/rank.ts), a lost claim plans again at once,
    // and a sync that ran work drains more: every machine works from the first round, and the
    // queue is empty within 5 rounds (one, measured, since syncs drain).
    expect(rounds).toBeLessThanOrEqual(5);
    expect(new Set(ran.map((l) => l.split(" ")[1]))).toEqual(new Set(names));
  }, 180_000);

  it("only a capable machine claims it; a holder that stays alive keeps it; a silent holder is taken over after the lease", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti", "machine-2"]);
    for (const n of ["izzit7", "soda-yeti"]) await setConfig(dirOf(n), { claimLease: "10s", checkEvery: "1s", labels: ["gpu"] });
    const log = join(fleet.root, "ran.log");
    await pushOrders(fleet, [{ id: "train", to: "ANY", requires: ["gpu"], run: `echo "$COORD_MACHINE $COORD_ATTEMPT" >> ${log}; [ "$COORD_MACHINE" = soda-yeti ] || sleep 60` }]);
    expect((await sync({ dir: dirOf("machine-2") })).ran).toEqual([]); // no gpu: never claims

    const holder = cliProcess(["sync", "--dir", dirOf("izzit7")]);
    const entry = await waitFor(
      async () => {
        const t = (await journal(dirOf("izzit7"))).tasks.train;
        return t?.state === "in_progress" && t.pid ? t : undefined;
      },
      20_000,
      "izzit7 to run its claim",
    );
    // Alive and renewing: for longer than a lease, nobody else may take it.
    await new Promise((r) => setTimeout(r, 11_000));
    const meanwhile = await sync({ dir: dirOf("soda-yeti") });
    expect(meanwhile.ran).toEqual([]);
    expect(meanwhile.waiting).toEqual([{ id: "train", reason: "claimed by izzit7" }]);

    // The holder dies with its task (a machine lost power).
    holder.kill("SIGKILL");
    process.kill(-entry.pid, "SIGKILL");
    const taken = await waitFor(
      async () => {
        const r = await sync({ dir: dirOf("soda-yeti") });
        return r.ran.length ? r : undefined;
      },
      60_000,
      "the lease to expire",
      1000,
    );
    expect(taken.ran).toEqual([expect.objectContaining({ id: "train", state: "completed" })]);
    const status = await hubStatus(fleet);
    expect(status.orders.train).toMatchObject({ state: "completed", done: true });
    expect(status.orders.train.machines["soda-yeti"]).toMatchObject({ state: "completed", takeoverFrom: "izzit7", attempts: 1 });
    expect(await lines(log)).toEqual(["izzit7 1", "soda-yeti 1"]);
  }, 180_000);
});
