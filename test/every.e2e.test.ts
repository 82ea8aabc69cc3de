// Recurring orders on real git, under a faked clock passed to each sync: three
// checkouts racing their pushes for an ANY order run each slot once, and a
// named machine back from an outage that missed three slots runs the last one
// once. (The rules are table-tested in every.test.ts; the whole cycle at more
// slots and machines on the in-memory hub in every-memory.test.ts.)
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sync } from "../src/sync/sync.js";
import { hubStatus, makeFleet, pushOrders, type Fleet, readLines as lines } from "./helpers.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;
/** Hour `h` (and minute `m`) of day `d` in 2027 January, UTC (after the machines registered at the real time). */
const at = (d: number, h: number, m = 0) => new Date(Date.UTC(2027, 0, 9 + d, h, m));

describe("every, on real git", () => {
  it("an ANY order: three machines syncing together run each slot once; after all missed three slots, the latest runs once", { timeout: patient(120_000) }, async () => {
    const names = ["a", "b", "c"];
    fleet = await makeFleet(names);
    const log = join(fleet.root, "ran.log");
    await pushOrders(fleet, [{ id: "report", to: "ANY", every: "0 */6 * * *", run: `echo "$COORD_SLOT $COORD_MACHINE" >> ${log}` }]);
    const together = async (t: Date) => {
      for (let round = 0; round < 2; round++) {
        const now = new Date(t.getTime() + round * 1000);
        await Promise.all(names.map((n) => sync({ dir: dirOf(n), now: () => now })));
      }
    };
    for (const h of [6, 12]) await together(at(1, h, 1));
    await together(at(2, 15)); // the slots of 18:00, 00:00, 06:00 and 12:00 were missed
    expect((await lines(log)).map((l) => l.split(" ")[0])).toEqual([at(1, 6), at(1, 12), at(2, 12)].map((d) => d.toISOString()));
    expect((await hubStatus(fleet)).orders.report).toMatchObject({ state: "completed", slot: at(2, 12).toISOString(), next: at(2, 18).toISOString() });
  });

  it("a named order runs once per slot; back from an outage that missed three slots it runs the latest once", { timeout: patient(120_000) }, async () => {
    fleet = await makeFleet(["a"]);
    const log = join(fleet.root, "ran.log");
    await pushOrders(fleet, [{ id: "nightly", to: "a", every: "0 3 * * *", timezone: "Europe/Paris", run: `echo "$COORD_SLOT" >> ${log}` }]);
    // 03:00 in Paris in January is 02:00 UTC.
    for (const t of [at(1, 2, 1), at(1, 2, 30), at(2, 2, 1), at(5, 9), at(5, 9, 30)]) await sync({ dir: dirOf("a"), now: () => t });
    expect(await lines(log)).toEqual([at(1, 2), at(2, 2), at(5, 2)].map((d) => d.toISOString()));
    const status = await hubStatus(fleet);
    expect(status.orders.nightly).toMatchObject({ every: "0 3 * * * (Europe/Paris)", slot: at(5, 2).toISOString(), next: at(6, 2).toISOString() });
    expect(status.orders.nightly?.machines.a).toMatchObject({ state: "completed", slot: at(5, 2).toISOString() });
  });
});
