// What each field of ORDERS.json must be, in words, comes from the schema alone (core/orders/field-words.ts): the
// problem texts say it, and the docs' field tables are rendered from it. Checked here place by place, and on the
// docs as committed: a field added, removed or reworded in the schema asks for the docs to be refreshed.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { expectedAt, FIELD_TABLES, fieldsAt, fieldsTable, withTable } from "../../../src/core/orders/field-words.js";
import { MAX_COUNT } from "../../../src/core/limits.js";
import { parseOrders } from "../../../src/core/orders/orders.js";
import { readServices } from "../../../src/core/services/services.js";
import { OrderSchema, ServiceSchema } from "../../../src/core/orders/orders-schema.js";

const DURATION = 'a duration like "90s", "15m" or "2h", or a number of seconds';

describe("what each field must be, from the schema", () => {
  it.each([
    [["$schema"], "a string (the path of the JSON Schema, for editors)"],
    [["version"], "1"],
    [["orders"], "a list of orders"],
    [["orders", 0], 'an order object like {"id": "build", "to": "my-machine", "run": "make"}'],
    [["orders", 0, "id"], 'an id of letters, digits, ".", "_" and "-" (up to 128, starting with a letter or digit)'],
    [["orders", 0, "to"], 'a machine name, a non-empty list of machine names, "ALL" or "ANY"'],
    [["orders", 0, "to", 1], "a machine name"],
    [["orders", 0, "run"], "a non-empty shell command"],
    [["orders", 0, "agent"], 'the name of an agent CLI, like "claude"'],
    [["orders", 0, "prompt"], "a non-empty text telling the agent what to do"],
    [["orders", 0, "model"], "a model name (a string)"],
    [["orders", 0, "args"], "a list of strings"],
    [["orders", 0, "args", 0], "a string"],
    [["orders", 0, "permissions"], '"read-only", "edit" or "full"'],
    [["orders", 0, "rev"], `a whole number from 1 to ${MAX_COUNT}`],
    [["orders", 0, "after"], "a list of order ids"],
    [["orders", 0, "after", 2], "an order id (a string)"],
    [["orders", 0, "requires"], "a list of capability names"],
    [["orders", 0, "requires", 0], "a non-empty capability name"],
    [["orders", 0, "cwd"], "a directory (a string)"],
    [["orders", 0, "env"], 'an object of variable names to string values, like {"NODE_ENV": "test"}'],
    [["orders", 0, "env", "NODE_ENV"], "a string"],
    [["orders", 0, "timeout"], DURATION],
    [["orders", 0, "idleTimeout"], DURATION],
    [["orders", 0, "failoverAfter"], DURATION],
    [["orders", 0, "retries"], "a whole number from 0 to 100"],
    [["orders", 0, "priority"], '"low", "normal", "high" or "urgent"'],
    [["orders", 0, "cancelled"], "true or false"],
    [["orders", 0, "notBefore"], 'an ISO 8601 date-time with a time zone, like "2025-06-01T09:00:00Z"'],
    [["orders", 0, "every"], 'a cron expression like "0 3 * * *" (minute hour day-of-month month day-of-week)'],
    [["orders", 0, "timezone"], 'an IANA time zone like "Europe/Paris"'],
    [["orders", 0, "prefer"], 'a non-empty list of machine names, like ["gpu-1", "gpu-2"]'],
    [["orders", 0, "prefer", 0], "a machine name"],
    [["services"], "a list of services"],
    [["services", 0], 'a service object like {"id": "web", "to": "my-machine", "run": "node server.js"}'],
    [["services", 0, "to"], 'a machine name, a non-empty list of machine names, or "ALL"'],
    [["services", 0, "run"], "a non-empty shell command"],
    [["services", 0, "env", "PORT"], "a string"],
    [["services", 0, "health"], 'a health check like {"http": "http://localhost:8080/health", "interval": "30s"}'],
    [["services", 0, "health", "http"], 'an http URL on this machine, like "http://localhost:8080/health"'],
    [["services", 0, "health", "interval"], 'a duration like "30s" or "5m", or a number of seconds'],
    [["services", 0, "health", "timeout"], DURATION],
    [["services", 0, "health", "unhealthyAfter"], "a whole number from 1 to 100"],
    [["services", 0, "restart"], 'a restart policy like {"max": 3, "window": "10m", "delay": "1s"}'],
    [["services", 0, "restart", "max"], "a whole number from 0 to 100"],
    [["services", 0, "restart", "window"], 'a duration like "10m" or "1h", or a number of seconds'],
    [["services", 0, "restart", "delay"], 'a duration like "1s" or "30s", or a number of seconds'],
    [["emergency", "stop"], "true or false"],
    [["pause", "gpu-1", "stop"], "true or false"],
    [["hub", "statusHistory"], 'a number of commits (at least 10) or an age like "7d" (at least "1h")'],
    [["hub", "pushesPerMinute"], expect.stringMatching(/^a number from [\d.]+ to \d+$/)],
  ] as const)("%j must be %s", (path, words) => {
    expect(expectedAt(path)).toEqual(words);
  });

  it.each([
    [[], ["$schema", "version", "orders", "services", "emergency", "pause", "keys", "hub"]],
    [["orders", 3], expect.arrayContaining(["id", "to", "run", "every", "failoverAfter"])],
    [
      ["orders", 0, "env", "TOKEN"],
      ["value", "secret"],
    ],
    [
      ["services", 1, "health"],
      ["run", "http", "interval", "timeout", "unhealthyAfter"],
    ],
    [
      ["pause", "gpu-1"],
      ["reason", "stop"],
    ],
    [["orders", 0, "to"], []],
  ] as const)("the fields an object at %j may have: %j", (path, fields) => {
    expect(fieldsAt(path)).toEqual(fields);
  });

  it("a problem says the words of its place, also where no order is", () => {
    const text = JSON.stringify({
      version: 1,
      orders: [],
      services: [{ id: "web", to: 5, run: "x", health: { timeout: true } }],
      pause: { "gpu-1": { stop: "yes", reasn: "r" } },
      hub: { statusHistory: true },
    });
    expect(readServices(text, ["gpu-1"]).problems.map((p) => p.message)).toEqual([
      'service "web" field to must be a machine name, a non-empty list of machine names, or "ALL", not 5',
      'service "web" field health.timeout must be a duration like "90s", "15m" or "2h", or a number of seconds, not true',
    ]);
    expect(parseOrders(text).problems.map((p) => p.message)).toEqual([
      'field pause["gpu-1"].stop must be true or false, not "yes"',
      'field pause["gpu-1"] has an unknown field "reasn"; rename it to "reason" or remove it',
      'field hub.statusHistory must be a number of commits (at least 10) or an age like "7d" (at least "1h"), not true',
    ]);
  });

  it("has no words for a place the schema does not have", () => {
    expect(expectedAt(["orders", 0, "nope"])).toBeUndefined();
    expect(expectedAt(["orders", "x"])).toBeUndefined();
  });
});

describe("the docs' field tables, from the schema", () => {
  it("shows each field with what it must be, its default and its description", () => {
    const table = fieldsTable();
    expect(table.split("\n").slice(0, 2)).toEqual(["| field | must be | default | meaning |", "|---|---|---|---|"]);
    expect(table).toContain(`| \`retries\` | a whole number from 0 to 100 | \`0\` | ${OrderSchema.shape.retries.description} |`);
    expect(table).toMatch(/^\| `id` \| an id of letters.* \| required \| Unique id of the order/m);
    expect(table).toMatch(/^\| `timeout` \| a duration like .* \| — \| Longest time the task may run/m);
    // A nested object's fields follow it.
    expect(fieldsTable(ServiceSchema)).toMatch(/^\| `health` \|.*\n\| `health\.run` \|/m);
  });

  it.each(FIELD_TABLES)("$file shows the table of $marker as the schema renders it", ({ file, marker, table }) => {
    const text = readFileSync(file, "utf8");
    const fresh = withTable(text, marker, table());
    expect(fresh, `${file} has no <!-- ${marker}:start --> … <!-- ${marker}:end --> markers`).toBeDefined();
    expect(text, `${file}'s field table is not the schema's; refresh it: npm run docs:fields`).toBe(fresh);
  });
});
