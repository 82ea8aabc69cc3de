// Fleet controls on real git: an emergency stop in ORDERS.json stops running
// tasks on every machine within one sync each and starts nothing until it is
// lifted; coord pause / resume on one machine. (The controls read from
// ORDERS.json, on the in-memory hub: controls.test.ts.)
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sync } from "../src/sync/sync.js";
import { cli, hubFile, hubStatus, makeFleet, pushOrders, setConfig, waitFor, type Fleet } from "./helpers.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;

describe("fleet controls", () => {
  it("an emergency stop in ORDERS.json stops the running tasks of every machine, starts nothing, says why first; lifted, work goes on", { timeout: patient(90_000) }, async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    for (const n of ["izzit7", "soda-yeti"]) await setConfig(dirOf(n), { checkEvery: "1s" });
    const started = (n: string) => join(fleet!.root, `${n}-started`);
    const long = [
      { id: "long-a", to: "izzit7", run: `touch ${started("izzit7")}; sleep 300` },
      { id: "long-b", to: "soda-yeti", run: `touch ${started("soda-yeti")}; sleep 300` },
    ];
    await pushOrders(fleet, long);
    const running = [sync({ dir: dirOf("izzit7") }), sync({ dir: dirOf("soda-yeti") })] as const;
    await waitFor(async () => existsSync(started("izzit7")) && existsSync(started("soda-yeti")), 20_000, "both long tasks to start");

    const later = { id: "later", to: "izzit7", run: `touch ${join(fleet.root, "later-ran")}` };
    await pushOrders(fleet, JSON.stringify({ version: 1, emergency: { stop: true, reason: "bad deploy, stop everything" }, orders: [...long, later] }));
    const [a, b] = await Promise.all(running);
    expect(a.ran).toEqual([expect.objectContaining({ id: "long-a", state: "failed" })]);
    expect(b.ran).toEqual([expect.objectContaining({ id: "long-b", state: "failed" })]);
    let status = await hubStatus(fleet);
    expect(status.orders["long-a"]?.machines.izzit7?.reason).toBe("emergency stop: bad deploy, stop everything");
    expect(status.emergency).toEqual({ reason: "bad deploy, stop everything" });

    // Nothing starts while it stands; the machines say they are stopped.
    for (const n of ["izzit7", "soda-yeti"]) expect((await sync({ dir: dirOf(n) })).ran).toEqual([]);
    status = await hubStatus(fleet);
    expect(status.machines.izzit7?.state).toBe("emergency");
    expect(status.machines["soda-yeti"]?.state).toBe("emergency");
    expect(existsSync(join(fleet.root, "later-ran"))).toBe(false);
    const md = await hubFile(fleet, "STATUS.md");
    expect(md).toContain("## 🛑 Emergency stop\n\n**bad deploy, stop everything**");
    expect(md.match(/^## .*/m)![0]).toBe("## 🛑 Emergency stop"); // the first thing said
    expect((await cli("status", "--dir", dirOf("izzit7"))).out).toMatch(/^EMERGENCY STOP: bad deploy, stop everything\n/);

    // Lifted: the new order runs; the stopped ones stay failed (no retries).
    await pushOrders(fleet, [...long, later]);
    expect((await sync({ dir: dirOf("izzit7") })).ran).toEqual([expect.objectContaining({ id: "later", state: "completed" })]);
    status = await hubStatus(fleet);
    expect(status.emergency).toBeUndefined();
    expect(status.machines.izzit7?.state).toBe("idle");
    expect(status.orders["long-a"]?.machines.izzit7?.state).toBe("failed");
  });

  it("coord pause: nothing new starts and the machine is suspended, with its reason; coord resume: the order runs", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = dirOf("izzit7");
    const paused = await cli("pause", "--dir", dir, "--reason", "swapping the disk");
    expect(paused.code, paused.err).toBe(0);
    expect(paused.out).toMatch(/^paused; published [0-9a-f]{12}/);
    await pushOrders(fleet, [{ id: "job", to: "izzit7", run: "true" }]);
    expect((await sync({ dir })).ran).toEqual([]);
    const status = await hubStatus(fleet);
    expect(status.machines.izzit7).toMatchObject({ state: "suspended", stateReason: "paused (coord pause): swapping the disk" });
    expect(await hubFile(fleet, "STATUS.md")).toContain("- izzit7 suspended: paused (coord pause): swapping the disk");
    expect((await cli("status", "--dir", dir)).out).toContain("izzit7 is suspended: paused (coord pause): swapping the disk");
    expect((await cli("resume", "--dir", dir)).out).toMatch(/^resumed/);
    expect((await sync({ dir })).ran).toEqual([expect.objectContaining({ id: "job", state: "completed" })]);
    expect((await hubStatus(fleet)).machines.izzit7?.state).toBe("idle");
    expect((await cli("resume", "--dir", dir)).out).toBe("this machine was not paused");
  });
});
