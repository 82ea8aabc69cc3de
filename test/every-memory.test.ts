// Recurring orders ("every") through the whole sync cycle on the in-memory hub,
// under a faked clock: each slot is a run of its own, once per machine (ANY:
// once in the fleet), a machine back from an outage runs the latest slot it
// missed once, and a quiet machine wakes for the next slot.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readLines as lines } from "./helpers.js";
import { orderText } from "../src/core/status/terminal.js";
import { readQuiet } from "../src/state/quiet.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

/** Day 1 at 10:00 UTC (after the machines registered at the real time). */
const DAY = 86_400_000;
const T0 = Date.parse("2027-01-10T10:00:00.000Z");
/** `h` hours (and `m` minutes) after day `d`'s midnight UTC, day 1 being T0's. */
const at = (d: number, h: number, m = 0) => new Date(T0 - 10 * 3_600_000 + (d - 1) * DAY + h * 3_600_000 + m * 60_000);
const clock = (d: Date) => () => d;

/** The slot of 03:00 UTC on day `d`, as published. */
const slot = (d: number) => at(d, 3).toISOString();

describe("recurring orders on the in-memory hub", () => {
  it("a named order runs once per slot, and once after an outage that missed three slots", async () => {
    fleet = await memoryFleet(["a"]);
    const f = fleet;
    const log = join(f.root, "ran.log");
    await f.pushOrders([{ id: "nightly", to: "a", every: "0 3 * * *", run: `echo "$COORD_SLOT" >> ${log}` }]);

    // Added at 10:00: the slot of 03:00 today is due (as a missed one would be), and runs once.
    expect((await f.sync("a", { now: clock(at(1, 10)) })).ran.map((t) => t.id)).toEqual(["nightly"]);
    expect((await f.sync("a", { now: clock(at(1, 10, 5)) })).ran).toEqual([]);
    expect((await f.sync("a", { now: clock(at(2, 2, 59)) })).ran).toEqual([]);
    // The next slot: once.
    expect((await f.sync("a", { now: clock(at(2, 3, 1)) })).ran.map((t) => t.id)).toEqual(["nightly"]);
    expect((await f.sync("a", { now: clock(at(2, 3, 2)) })).ran).toEqual([]);
    // Off from day 2 to day 5 at 10:00: the slots of days 3, 4 and 5 were missed; the latest runs, once.
    expect((await f.sync("a", { now: clock(at(5, 10)) })).ran.map((t) => t.id)).toEqual(["nightly"]);
    expect((await f.sync("a", { now: clock(at(5, 11)) })).ran).toEqual([]);
    expect(await lines(log)).toEqual([slot(1), slot(2), slot(5)]);
    // coord.log: each attempt with its slot; a dry run says which slot would run.
    const records = (await lines(join(f.m("a").stateDir, "coord.log"))).map((l) => JSON.parse(l)).filter((r) => r.kind === "task");
    expect(records.map((r) => r.slot)).toEqual([slot(1), slot(2), slot(5)]);
    expect((await f.sync("a", { now: clock(at(6, 4)), dryRun: true })).wouldRun).toEqual([expect.objectContaining({ id: "nightly", slot: slot(6), attempt: 1 })]);

    // Published: the last slot run and its result; the next slot.
    const status = await f.status();
    expect(status.orders.nightly).toMatchObject({ slot: slot(5), next: slot(6), every: "0 3 * * * (UTC)", done: false });
    expect(status.orders.nightly?.machines.a).toMatchObject({ state: "completed", slot: slot(5) });
    const file = (await f.model()).computers.get("a")!;
    expect(file.tasks.nightly).toMatchObject({ slot: slot(5), state: "completed", attempts: 1 });
    const d = (n: number) => `${slot(n).slice(0, 16).replace("T", " ")} UTC`;
    expect((await f.files()).get("STATUS.md")).toContain(`- \`nightly\` every \`0 3 * * * (UTC)\`: last run ${d(5)} (completed) · next ${d(6)}`);
    // coord status --order, at the reader's clock: the last run, and the next (or a slot due and not run yet).
    const order = (await f.model()).orders!.orders[0]!;
    const view = orderText("nightly", status, at(5, 11), { order });
    expect(view).toMatch(new RegExp(`last run +the slot of ${d(5)}: completed`));
    expect(view).toMatch(new RegExp(`next run +in 16 h \\(${d(6)}\\)`));
    expect(view).toMatch(/SLOT/);
    expect(orderText("nightly", status, at(6, 4), { order })).toMatch(new RegExp(`next run +due now: the slot of ${d(6)} runs at the next sync of each machine`));
  });

  it("an ALL order: each machine runs each slot once; one back from an outage runs the latest it missed, once", async () => {
    fleet = await memoryFleet(["a", "b"]);
    const f = fleet;
    const log = join(f.root, "ran.log");
    await f.pushOrders([{ id: "backup", to: "ALL", every: "0 3 * * *", notBefore: at(1, 12).toISOString(), run: `echo "$COORD_MACHINE $COORD_SLOT" >> ${log}` }]);
    // notBefore: the first slot is the first from it (day 2), nothing before.
    for (const n of ["a", "b"]) {
      const r = await f.sync(n, { now: clock(at(1, 13)) });
      expect(r.ran).toEqual([]);
      expect(r.waiting).toEqual([{ id: "backup", reason: `first run at ${slot(2)}` }]);
    }
    for (const d of [2, 3, 4]) {
      await f.sync("a", { now: clock(at(d, 3, 1)) });
      await f.sync("a", { now: clock(at(d, 3, 30)) });
    }
    // b was off for days 2 and 3; back on day 4 after its slot.
    await f.sync("b", { now: clock(at(4, 9)) });
    await f.sync("b", { now: clock(at(4, 9, 1)) });
    const ran = await lines(log);
    expect(ran.filter((l) => l.startsWith("a "))).toEqual([2, 3, 4].map((d) => `a ${slot(d)}`));
    expect(ran.filter((l) => l.startsWith("b "))).toEqual([`b ${slot(4)}`]);
  });

  it("an ANY order runs once per slot across three machines syncing together, and once after all missed three slots", async () => {
    const names = ["a", "b", "c"];
    fleet = await memoryFleet(names);
    const f = fleet;
    const log = join(f.root, "ran.log");
    await f.pushOrders([{ id: "report", to: "ANY", every: "0 */6 * * *", run: `echo "$COORD_SLOT $COORD_MACHINE" >> ${log}` }]);
    const together = async (t: Date) => {
      // Two rounds at each moment: a lost claim is planned again, a late machine sees what the others did.
      for (let round = 0; round < 2; round++) await Promise.all(names.map((n) => f.sync(n, { now: clock(new Date(t.getTime() + round * 1000)) })));
    };
    const slots: string[] = [];
    for (const h of [6, 12]) {
      await together(at(1, h, 1));
      slots.push(at(1, h).toISOString());
    }
    // Everyone off from day 1 12:01 to day 2 09:00: the slots of 18:00, 00:00 and 06:00 were missed.
    await together(at(2, 9));
    slots.push(at(2, 6).toISOString());
    const ran = await lines(log);
    expect(ran.map((l) => l.split(" ")[0])).toEqual(slots); // each slot exactly once, in order
    const status = await f.status();
    expect(status.orders.report).toMatchObject({ state: "completed", slot: at(2, 6).toISOString(), next: at(2, 12).toISOString() });
  });

  it("a failed slot is retried within its slot; the next slot is a new run (attempt 1); a rev bump runs the current slot again", async () => {
    fleet = await memoryFleet(["a"], { config: { retryBackoff: 60 } });
    const f = fleet;
    const log = join(f.root, "ran.log");
    const order = { id: "flaky", to: "a", every: "0 * * * *", retries: 1, run: `echo "$COORD_SLOT $COORD_ATTEMPT" >> ${log}; exit 1` };
    await f.pushOrders([order]);
    await f.sync("a", { now: clock(at(1, 10, 0)) }); // slot 10:00, attempt 1 fails
    await f.sync("a", { now: clock(at(1, 10, 0.5)) }); // the retry waits its backoff
    await f.sync("a", { now: clock(at(1, 10, 2)) }); // attempt 2 fails: that slot is over
    await f.sync("a", { now: clock(at(1, 10, 30)) });
    await f.sync("a", { now: clock(at(1, 11, 1)) }); // slot 11:00, attempt 1
    const hour = (h: number) => at(1, h).toISOString();
    expect(await lines(log)).toEqual([`${hour(10)} 1`, `${hour(10)} 2`, `${hour(11)} 1`]);
    await f.pushOrders([{ ...order, rev: 2, retries: 0 }]);
    await f.sync("a", { now: clock(at(1, 11, 30)) }); // rev 2: the slot of 11:00 again
    await f.sync("a", { now: clock(at(1, 11, 31)) });
    expect((await lines(log)).slice(3)).toEqual([`${hour(11)} 1`]);
    const status = await f.status();
    expect(status.orders.flaky?.machines.a).toMatchObject({ state: "failed", slot: hour(11), retriesExhausted: true });
    expect(status.orders.flaky?.done).toBe(false); // another slot comes
    expect(status.alerts.map((a: { id: string }) => a.id)).toContain(`failed/flaky/2@${hour(11)}/a/1`);
  });

  it("a quiet machine's stamp ends by the next slot, and the sync just after it runs the slot", async () => {
    fleet = await memoryFleet(["a"], { config: { heartbeat: 3600 } });
    const f = fleet;
    const log = join(f.root, "ran.log");
    await f.pushOrders([{ id: "tick", to: "a", every: "20 10 * * *", run: `echo "$COORD_SLOT" >> ${log}` }]);
    // At 10:00 the slot of yesterday 10:20 runs; then nothing to do until today's 10:20.
    for (let i = 0; i < 4; i++) {
      const r = await f.sync("a", { now: clock(at(1, 10)) });
      if (!r.pushed && !r.ran.length && !r.quiet) break;
    }
    const stamp = await readQuiet(f.m("a").stateDir);
    expect(stamp).toBeDefined();
    expect(stamp!.until).toBeLessThanOrEqual(at(1, 10, 20).getTime());
    expect(await lines(log)).toEqual([at(0, 10, 20).toISOString()]);
    // A sync before the slot with the stamp removed has nothing to run; just after it, it runs the slot.
    await rm(join(f.m("a").stateDir, "quiet.json"), { force: true });
    expect((await f.sync("a", { now: clock(at(1, 10, 19)) })).ran).toEqual([]);
    const r = await f.sync("a", { now: clock(new Date(at(1, 10, 20).getTime() + 1000)) });
    expect(r.quiet).toBeUndefined();
    expect(r.ran.map((t) => t.id)).toEqual(["tick"]);
  });
});
