// The scaffold (src/core/setup/scaffold.ts): the files coord hub create writes.
import { describe, it, expect } from "vitest";
import { parseOrders } from "../../../src/core/orders/orders.js";
import { ORDERS_FILE, readModel, SCHEMA_FILE, STATUS_JSON, STATUS_MD } from "../../../src/core/repo/repo.js";
import { EMPTY_ORDERS, scaffoldFiles } from "../../../src/core/setup/scaffold.js";
import { deriveStatus, renderStatusJson } from "../../../src/core/status/status.js";
import { renderStatusMd } from "../../../src/core/status/status-md.js";

describe("scaffoldFiles", () => {
  const files = scaffoldFiles("# My hub\n");

  it("writes ORDERS.json with $schema and no orders", () => {
    const orders = JSON.parse(files.get(ORDERS_FILE)!);
    expect(orders).toEqual({ $schema: SCHEMA_FILE, version: 1, orders: [] });
    expect(files.get(ORDERS_FILE)).toBe(EMPTY_ORDERS);
    expect(EMPTY_ORDERS.endsWith("}\n")).toBe(true);
    const parsed = parseOrders(files.get(ORDERS_FILE)!, { machines: [] });
    expect(parsed.problems).toEqual([]);
    expect(parsed.orders?.orders).toHaveLength(0);
  });

  it("writes the schema, the README given, and the STATUS files", () => {
    expect([...files.keys()].sort()).toEqual([ORDERS_FILE, "README.md", STATUS_JSON, STATUS_MD, SCHEMA_FILE].sort());
    expect(files.get("README.md")).toBe("# My hub\n");
    expect(JSON.parse(files.get(SCHEMA_FILE)!)).toMatchObject({ title: "coord ORDERS.json" });
    expect(JSON.parse(files.get(STATUS_JSON)!)).toEqual({
      coord: 1,
      machines: {},
      orders: {},
      // ORDERS.json sets no budget: each machine takes its host's (core/hub/reads.ts); STATUS says GitHub's figures.
      budget: { pushesPerMinute: 6, machines: 0, heartbeat: 20, byHost: true },
      alerts: [],
      errors: [],
    });
    expect(files.get(STATUS_MD)).toContain(
      "Push budget: not set, so each machine takes its host's (github.com: 6 pushes a minute and 15 reads a second; gitlab.com: 60 and 10; any other host: 6 and 2; a hub on a path: none); at 6 a minute, shared by 0 machines: heartbeats every 20 s or longer",
    );
    expect(files.get(STATUS_MD)).toContain("No machine has registered yet");
    expect(files.get(STATUS_MD)).toContain("No orders.");
  });

  it("is deterministic, LF only, and what any machine would derive from it", () => {
    const again = scaffoldFiles("# My hub\n");
    expect([...again]).toEqual([...files]);
    for (const [path, text] of files) {
      expect(text, path).not.toContain("\r");
      expect(text.endsWith("\n"), path).toBe(true);
    }
    const status = deriveStatus(readModel(files));
    expect(renderStatusJson(status)).toBe(files.get(STATUS_JSON));
    expect(renderStatusMd(status)).toBe(files.get(STATUS_MD));
  });
});
