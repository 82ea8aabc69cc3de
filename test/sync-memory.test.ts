// The sync loop's rules on the in-memory hub (test/memory-fleet.ts): the same sync cycle as on git (syncMachine), the
// tasks real processes, the journal a real file; only the hub is in memory. The real-git checks of the same paths stay
// in test/sync.e2e.test.ts: its first test's last sync runs nothing again, STATUS.* there are what the tip derives, and
// an invalid ORDERS.json there exits 3 (coord sync exits 3 exactly when the sync reports ordersProblems).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { deriveStatus, renderStatusJson } from "../src/core/status/status.js";
import { renderStatusMd } from "../src/core/status/status-md.js";
import { readModel } from "../src/core/repo/repo.js";
import { formatProblem } from "../src/core/orders/orders.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const order = (id: string, to: unknown, run: string, extra: object = {}) => ({ id, to, run, ...extra });
const lines = async (path: string) => (await readFile(path, "utf8")).split("\n").filter(Boolean);

describe("a fleet on the in-memory hub", () => {
  it("runs a task once per (order, rev, machine); a new rev runs it again; retries re-run failures", async () => {
    // retryBackoff 0: retry at the very next sync (the backoff has its own test)
    fleet = await memoryFleet(["izzit7"], { config: { retryBackoff: 0 } });
    const counter = join(fleet.root, "count");
    await fleet.pushOrders([order("count", "izzit7", `echo x >> ${counter}`), order("retry", "izzit7", `echo r >> ${counter}.r; exit 1`, { retries: 2 })]);
    for (let i = 0; i < 5; i++) await fleet.sync("izzit7");
    expect(await lines(counter)).toHaveLength(1);
    expect(await lines(`${counter}.r`)).toHaveLength(3); // 1 + 2 retries
    expect((await fleet.status()).orders.retry?.machines.izzit7).toMatchObject({ state: "failed", attempts: 3 });

    await fleet.pushOrders([order("count", "izzit7", `echo x >> ${counter}`, { rev: 2 })]);
    await fleet.sync("izzit7");
    await fleet.sync("izzit7");
    expect(await lines(counter)).toHaveLength(2);
    expect((await fleet.status()).orders.count).toMatchObject({ rev: 2, state: "completed" });
  });

  it("STATUS.json and STATUS.md are exactly what any machine derives from the tip", async () => {
    fleet = await memoryFleet(["izzit7", "soda-yeti", "machine-2"]);
    await fleet.pushOrders([order("x", "ALL", "echo x")]);
    for (const name of fleet.machines.keys()) await fleet.sync(name);
    const files = await fleet.files();
    expect(files.has("STATUS.json") && files.has("coordination/COMPUTER_izzit7.md") && files.has("ORDERS.json")).toBe(true);
    const status = deriveStatus(readModel(files));
    expect(status.orders.x?.state).toBe("completed");
    expect(files.get("STATUS.json")).toBe(renderStatusJson(status));
    expect(files.get("STATUS.md")).toBe(renderStatusMd(status));
  });
});

describe("bad input gets a clear error and loses nothing, on the in-memory hub", () => {
  it.each([
    ["malformed JSON", '{ "version": 1, "orders": [ }', /not valid JSON at line 1/],
    ["conflict markers", '<<<<<<< HEAD\n{ "version": 1, "orders": [] }\n=======\n{ "version": 1, "orders": [] }\n>>>>>>> theirs\n', /conflict markers/],
    ["a future version", '{ "version": 2, "orders": [] }', /newer|upgrade/],
    ["a dependency cycle", JSON.stringify({ version: 1, orders: [order("a", "izzit7", "true", { after: ["b"] }), order("b", "izzit7", "true", { after: ["a"] })] }), /cycle/],
    ["an unknown machine", JSON.stringify({ version: 1, orders: [order("a", "nobody", "true")] }), /nobody/],
  ])("%s: a problem of ORDERS.json (coord sync exits 3) and a clear message", async (_what, text, message) => {
    fleet = await memoryFleet(["izzit7"]);
    await fleet.pushOrders(text);
    const r = await fleet.sync("izzit7");
    expect(r.skipped).toBe(false);
    expect(r.ordersProblems.length).toBeGreaterThan(0); // what makes coord sync exit 3
    expect(r.ordersProblems.map(formatProblem).join("\n")).toMatch(message); // what it prints
    expect((await fleet.status()).errors[0]?.message).toMatch(message);
    expect((await fleet.files()).get("ORDERS.json")).toBe(text);
  });
});
