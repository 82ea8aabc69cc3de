// The fleet controls as ORDERS.json says them (read leniently), what halts a
// machine, and where the fields may be written; a fleet's syncs under them on
// the in-memory hub. (Running tasks stopped, coord pause: controls.e2e.test.ts.)
import { afterEach, describe, expect, it } from "vitest";
import { haltOf, readControls } from "../src/core/hub/controls.js";
import { parseOrderSources } from "../src/core/orders/orders.js";
import { UNLIMITED } from "./helpers.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";

const orders = (extra: object) => JSON.stringify({ version: 1, orders: [], ...extra });

describe("readControls", () => {
  it.each([
    ["no controls", orders({}), undefined, []],
    ["an emergency stop with its reason", orders({ emergency: { stop: true, reason: " bad\n deploy " } }), "bad deploy", []],
    ["stop false is no emergency", orders({ emergency: { stop: false, reason: "x" } }), undefined, []],
    ["a stop without a reason", orders({ emergency: { stop: true } }), "no reason given", []],
    ["stop must be true, not truthy", orders({ emergency: { stop: "yes" } }), undefined, []],
    ["an emergency in a file invalid otherwise", '{"version": 1, "emergency": {"stop": true, "reason": "r"}, "orders": [{"id": "x"}]}', "r", []],
    [
      "pauses by machine, bad names dropped",
      orders({ pause: { "soda-yeti": { reason: "disk", stop: true }, izzit7: {}, "Bad Name": {}, m: "no" } }),
      undefined,
      ["soda-yeti", "izzit7"],
    ],
    ["not JSON", '{"version": 1, "emergency": {"stop": true', undefined, []],
    ["not an object", "[1, 2]", undefined, []],
    ["no file", undefined, undefined, []],
  ])("%s", (_what, text, emergency, paused) => {
    const c = readControls(text as string | undefined);
    expect(c.emergency?.reason).toBe(emergency);
    expect([...c.paused.keys()]).toEqual(paused);
  });

  it("a long reason is clipped", () => {
    expect(readControls(orders({ emergency: { stop: true, reason: "x".repeat(1000) } })).emergency!.reason).toHaveLength(300);
  });
});

describe("haltOf", () => {
  const controls = (o: object) => readControls(orders(o));
  it.each([
    ["nothing", {}, undefined, undefined],
    [
      "the emergency stops everything, whatever pauses say",
      { emergency: { stop: true, reason: "r" }, pause: { me: { stop: false } } },
      undefined,
      { state: "emergency", reason: "emergency stop: r", stopRunning: true },
    ],
    ["ORDERS.json pauses me", { pause: { me: { reason: "disk" } } }, undefined, { state: "suspended", reason: "paused (ORDERS.json): disk", stopRunning: false }],
    ["another machine's pause is not mine", { pause: { other: { stop: true } } }, undefined, undefined],
    ["my own pause, with stop", {}, { reason: "swap", stop: true }, { state: "suspended", reason: "paused (coord pause): swap", stopRunning: true }],
    [
      "ORDERS.json's pause wins over mine",
      { pause: { me: { stop: true } } },
      { reason: "mine", stop: false },
      { state: "suspended", reason: "paused (ORDERS.json)", stopRunning: true },
    ],
  ])("%s", (_what, o, local, halt) => {
    expect(haltOf("me", controls(o), local as never)).toEqual(halt);
  });
});

describe("where the controls may be written", () => {
  const problems = (file: string, extra: object) => parseOrderSources([{ file, text: orders(extra) }]).problems.map((p) => `${p.path}: ${p.message}`);
  it("in ORDERS.json, valid", () => {
    expect(problems("ORDERS.json", { emergency: { stop: true, reason: "r" }, pause: { "soda-yeti": { reason: "x", stop: false } } })).toEqual([]);
  });
  it("in a person's ORDERS.json given by any path (coord validate before pushing), valid", () => {
    for (const file of ["/home/ann/fleet/ORDERS.json", "drafts/orders.json"])
      expect(problems(file, { emergency: { stop: true, reason: "r" }, pause: { "soda-yeti": { reason: "x", stop: false } } })).toEqual([]);
  });
  it("not in a machine's delegated orders", () => {
    expect(problems("coordination/orders/izzit7.json", { emergency: { stop: true } })).toEqual([
      "emergency: emergency belongs in ORDERS.json (a person's file), not in coordination/orders/izzit7.json; remove it here",
    ]);
  });
  it("pause names machines; a field it does not know is refused", () => {
    expect(problems("ORDERS.json", { pause: { "Bad Name": {} } })).toEqual([expect.stringMatching(/^pause\["Bad Name"\]: "Bad Name" is not a valid machine name/)]);
    expect(problems("ORDERS.json", { emergency: { stop: true, why: "x" } })).toEqual(['emergency.why: field emergency has an unknown field "why"; remove it or fix its name']);
  });
});

describe("fleet controls, on the in-memory hub", () => {
  let fleet: MemoryFleet | undefined;
  afterEach(async () => {
    await fleet?.cleanup();
    fleet = undefined;
  });

  it("an emergency stop counts even when the rest of ORDERS.json is invalid", async () => {
    fleet = await memoryFleet(["izzit7"]);
    await fleet.pushOrders('{ "version": 1, "emergency": { "stop": true, "reason": "halt" }, "orders": [ { "id": "x", "to": "izzit7", "run": "true", "timeout": "soon" } ] }');
    await fleet.sync("izzit7").catch(() => {});
    expect((await fleet.status()).machines.izzit7?.state).toBe("emergency");
  });

  it("a pause in ORDERS.json suspends that machine only", async () => {
    fleet = await memoryFleet(["izzit7", "soda-yeti"]);
    await fleet.pushOrders(
      JSON.stringify({
        version: 1,
        hub: UNLIMITED,
        pause: { "soda-yeti": { reason: "maintenance" } },
        orders: [
          { id: "a", to: "izzit7", run: "true" },
          { id: "b", to: "soda-yeti", run: "true" },
        ],
      }),
    );
    expect((await fleet.sync("izzit7")).ran).toEqual([expect.objectContaining({ id: "a" })]);
    expect((await fleet.sync("soda-yeti")).ran).toEqual([]);
    expect((await fleet.status()).machines["soda-yeti"]).toMatchObject({ state: "suspended", stateReason: "paused (ORDERS.json): maintenance" });
  });
});
