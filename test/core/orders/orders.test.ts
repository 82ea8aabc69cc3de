// Unit tests for ORDERS.json parsing: the valid example, every kind of problem
// (with its line, path and message), formatting, targets and the JSON Schema.

import { describe, it, expect } from "vitest";
import { formatProblem, ordersTargets, parseOrders } from "../../../src/core/orders/orders.js";
import { ordersJsonSchema } from "../../../src/core/orders/schema.js";
import type { Problem } from "../../../src/core/types.js";
import type { Order } from "../../../src/core/orders/orders-schema.js";

const EXAMPLE = `{
  "$schema": "coordination/orders.schema.json",
  "version": 1,
  "orders": [
    { "id": "build-dao", "to": "machine-2", "run": "npm ci && npm run build",
      "cwd": "~/dev/dao", "timeout": "15m", "priority": "high" },
    { "id": "test-dao", "to": "soda-yeti", "after": ["build-dao"],
      "run": "npm test", "retries": 1 },
    { "id": "toolchain", "to": "ALL", "requires": ["node"], "run": "node --version" },
    { "id": "review", "to": "ANY", "requires": ["claude"],
      "agent": "claude", "prompt": "Review the open PRs in ~/dev/dao" }
  ]
}`;

const MACHINES = ["machine-2", "soda-yeti", "izzit7"];

/** A file with one order per line, starting at line 3. */
function file(...orders: string[]): string {
  return `{\n  "version": 1,\n  "orders": [\n${orders.map((o) => `    ${o}`).join(",\n")}\n  ]\n}\n`;
}

/** The only problem of `text`; fails when there are none or several. */
function only(text: string, machines?: string[]): Problem {
  const result = parseOrders(text, { machines });
  expect(result.orders).toBeUndefined();
  expect(result.problems).toHaveLength(1);
  return result.problems[0]!;
}

describe("parseOrders: valid files", () => {
  it("parses the DESIGN.md example with defaults applied", () => {
    const { orders, problems } = parseOrders(EXAMPLE, { machines: MACHINES });
    expect(problems).toEqual([]);
    expect(orders?.version).toBe(1);
    expect(orders?.orders.map((o) => o.id)).toEqual(["build-dao", "test-dao", "toolchain", "review"]);
    expect(orders?.orders[0]).toEqual({
      id: "build-dao",
      to: "machine-2",
      run: "npm ci && npm run build",
      cwd: "~/dev/dao",
      timeout: 900,
      priority: "high",
      rev: 1,
      after: [],
      requires: [],
      env: {},
      retries: 0,
      cancelled: false,
    });
    expect(orders?.orders[1]).toMatchObject({ after: ["build-dao"], retries: 1, priority: "normal" });
    expect(orders?.orders[1]).not.toHaveProperty("timeout");
    expect(orders?.orders[3]).toMatchObject({ to: "ANY", agent: "claude", prompt: "Review the open PRs in ~/dev/dao" });
  });

  it("accepts every optional field", () => {
    const { orders, problems } = parseOrders(
      file(
        `{ "id": "a.b_c-1", "to": ["machine-2", "izzit7"], "agent": "claude", "prompt": "p", "model": "opus", "args": ["--x"], "rev": 3, "env": {"NODE_ENV": "test", "_x1": ""}, "timeout": 90, "retries": 100, "priority": "urgent", "cancelled": true, "notBefore": "2025-06-01T09:00:00+02:00" }`,
      ),
      { machines: MACHINES },
    );
    expect(problems).toEqual([]);
    expect(orders?.orders[0]).toMatchObject({ rev: 3, timeout: 90, retries: 100, cancelled: true, model: "opus" });
  });

  it("skips the machine check when no machines are given", () => {
    expect(parseOrders(file(`{ "id": "a", "to": "nobody", "run": "x" }`), {}).problems).toEqual([]);
  });

  it("accepts an empty order list and a byte order mark", () => {
    expect(parseOrders('\uFEFF{"version": 1, "orders": []}', {}).orders).toEqual({ version: 1, orders: [] });
  });
});

describe("parseOrders: whole-file problems", () => {
  it("empty file", () => {
    const p = only("  \n");
    expect(p.message).toMatch(/ORDERS\.json is empty/);
    expect(p.line).toBe(1);
  });

  it("git conflict markers", () => {
    const p = only(`{\n  "version": 1,\n<<<<<<< HEAD\n  "orders": []\n=======\n  "orders": [1]\n>>>>>>> other\n}`);
    expect(p.line).toBe(3);
    expect(p.message).toBe("ORDERS.json has git conflict markers at line 3: resolve the merge, then commit the file again");
  });

  it("malformed JSON gives the parser's error and line", () => {
    const p = only(`{\n  "version": 1\n  "orders": []\n}`);
    expect(p.line).toBe(3);
    expect(p.message).toMatch(/not valid JSON at line 3.*expected ","/);
  });

  it("trailing commas and comments are errors", () => {
    const comma = only(file(`{ "id": "a", "to": "m", "run": "x" },`));
    expect(comma.line).toBe(5);
    expect(comma.message).toMatch(/trailing commas/);
    const comment = only(`{\n  // orders\n  "version": 1, "orders": []\n}`);
    expect(comment.line).toBe(2);
    expect(comment.message).toMatch(/comments are not allowed/);
  });

  it("uses the file name given", () => {
    const p = parseOrders("", { file: "coordination/ORDERS.json" }).problems[0]!;
    expect(p.file).toBe("coordination/ORDERS.json");
    expect(p.message).toMatch(/^coordination\/ORDERS\.json is empty/);
  });

  it("a top level that is not an object", () => {
    expect(only("[]").message).toMatch(/must hold one JSON object/);
  });

  it("version 2 asks to upgrade coord", () => {
    const p = only(`{\n  "version": 2,\n  "orders": [{ "whatever": true }]\n}`);
    expect(p.line).toBe(2);
    expect(p.path).toBe("version");
    expect(p.message).toMatch(/newer coord; upgrade coord/);
  });

  it("missing version", () => {
    const p = only(`{ "orders": [] }`);
    expect(p.path).toBe("version");
    expect(p.line).toBe(1);
    expect(p.message).toMatch(/has no version; add "version": 1/);
  });

  it("wrong version type and missing orders", () => {
    const { problems } = parseOrders(`{\n  "version": "1"\n}`, {});
    expect(problems.map((p) => [p.line, p.path])).toEqual([
      [1, "orders"],
      [2, "version"],
    ]);
    expect(problems[0]!.message).toMatch(/missing field "orders"/);
    expect(problems[1]!.message).toBe('field version must be 1, not "1"');
  });
});

describe("parseOrders: problems in orders", () => {
  it("bad timeout", () => {
    const p = only(file(`{ "id": "ok", "to": "m", "run": "x" }`, `{ "id": "build", "to": "m", "run": "x", "timeout": "ten minutes" }`));
    expect(p).toEqual({
      file: "ORDERS.json",
      line: 5,
      path: "orders[1].timeout",
      message: 'order "build" field timeout: "ten minutes" is not a duration; write it like "90s", "15m" or "2h"',
    });
  });

  it("schema errors name the order and field", () => {
    const { problems } = parseOrders(file(`{ "id": "c", "to": "m", "run": "", "retries": 200, "priority": "asap", "rev": 0, "cancelled": "yes", "notBefore": "tomorrow" }`), {});
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(problems.every((p) => p.line === 4)).toBe(true);
    expect(byPath["orders[0].run"]).toBe('order "c" field run must be a non-empty shell command, not ""');
    expect(byPath["orders[0].retries"]).toMatch(/^order "c" field retries must be a whole number from 0 to 100, not 200$/);
    expect(byPath["orders[0].priority"]).toMatch(/^order "c" field priority must be "low", "normal", "high" or "urgent"/);
    expect(byPath["orders[0].rev"]).toMatch(/^order "c" field rev must be/);
    expect(byPath["orders[0].cancelled"]).toMatch(/^order "c" field cancelled must be true or false/);
    expect(byPath["orders[0].notBefore"]).toMatch(/^order "c" field notBefore must be an ISO 8601 date-time/);
  });

  it("missing id and bad id", () => {
    const { problems } = parseOrders(file(`{ "to": "m", "run": "x" }`, `{ "id": "bad id!", "to": "m", "run": "x" }`), {});
    expect(problems.map((p) => [p.line, p.path])).toEqual([
      [4, "orders[0].id"],
      [5, "orders[1].id"],
    ]);
    expect(problems[0]!.message).toMatch(/^orders\[0\] is missing field "id"/);
    expect(problems[1]!.message).toMatch(/^order "bad id!" field id must be an id of letters/);
  });

  it("env names and values", () => {
    const { problems } = parseOrders(file(`{ "id": "e", "to": "m", "run": "x", "env": { "1X": "a", "OK": 3 } }`), {});
    expect(problems.map((p) => p.path)).toEqual(['orders[0].env["1X"]', "orders[0].env.OK"]);
    expect(problems[0]!.message).toMatch(/^order "e" field env: "1X" is not a valid variable name/);
    expect(problems[1]!.message).toBe('order "e" field env.OK must be a string, not 3');
  });

  it("unknown field, with a suggestion", () => {
    const p = only(file(`{ "id": "a", "to": "m", "run": "x", "timout": "5m" }`));
    expect([p.line, p.path]).toEqual([4, "orders[0].timout"]);
    expect(p.message).toBe('order "a" has an unknown field "timout"; rename it to "timeout" or remove it');
    const top = only(`{\n  "version": 1,\n  "orders": [],\n  "extra": 1\n}`);
    expect([top.line, top.path]).toEqual([4, "extra"]);
    expect(top.message).toMatch(/unknown field "extra"/);
  });

  it("duplicate id names the first line", () => {
    const p = only(file(`{ "id": "a", "to": "m", "run": "x" }`, `{ "id": "b", "to": "m", "run": "x" }`, `{ "id": "a", "to": "m", "run": "y" }`));
    expect([p.line, p.path]).toEqual([6, "orders[2].id"]);
    expect(p.message).toBe('order id "a" is already used at line 4; give each order its own id');
  });

  it("a field written twice", () => {
    const p = only(file(`{ "id": "a", "to": "m", "run": "x", "run": "y" }`));
    expect(p.path).toBe("orders[0].run");
    expect(p.message).toMatch(/^order "a" has field "run" twice/);
  });

  it("unknown dependency", () => {
    const p = only(file(`{ "id": "a", "to": "m", "run": "x", "after": ["nope"] }`));
    expect([p.line, p.path]).toEqual([4, "orders[0].after[0]"]);
    expect(p.message).toBe('order "a" field after: there is no order "nope"; fix the id or remove it');
  });

  it("self-dependency", () => {
    const p = only(file(`{ "id": "a", "to": "m", "run": "x", "after": ["a"] }`));
    expect(p.path).toBe("orders[0].after[0]");
    expect(p.message).toMatch(/^order "a" field after: it depends on itself/);
  });

  it("dependency cycle lists the cycle", () => {
    const p = only(
      file(`{ "id": "a", "to": "m", "run": "x", "after": ["b"] }`, `{ "id": "b", "to": "m", "run": "x", "after": ["a"] }`, `{ "id": "c", "to": "m", "run": "x", "after": ["a"] }`),
    );
    expect([p.line, p.path]).toEqual([5, "orders[1].after[0]"]);
    expect(p.message).toMatch(/^order "b" field after: .*cycle, b → a → b/);
  });

  it("run and agent together, or neither", () => {
    const both = only(file(`{ "id": "a", "to": "m", "run": "x", "agent": "claude", "prompt": "p" }`));
    expect(both.path).toBe("orders[0].agent");
    expect(both.message).toMatch(/^order "a" has both run and agent/);
    const neither = only(file(`{ "id": "a", "to": "m" }`));
    expect([neither.line, neither.path]).toEqual([4, "orders[0]"]);
    expect(neither.message).toMatch(/^order "a" has neither run nor agent/);
  });

  it("agent needs prompt; prompt, model and args need agent", () => {
    expect(only(file(`{ "id": "a", "to": "m", "agent": "claude" }`)).message).toMatch(/has agent but no prompt/);
    const { problems } = parseOrders(file(`{ "id": "a", "to": "m", "run": "x", "prompt": "p", "model": "m", "args": [] }`), {});
    expect(problems.map((p) => p.path)).toEqual(["orders[0].prompt", "orders[0].model", "orders[0].args"]);
    expect(problems[1]!.message).toMatch(/^order "a" field model only applies to agents/);
  });

  it("prefer: machine names, only with to: ANY; failoverAfter: a duration", () => {
    const ok = parseOrders(file(`{ "id": "a", "to": "ANY", "run": "x", "prefer": ["gpu-1", "gpu-2"], "failoverAfter": "10m" }`), {});
    expect(ok.problems).toEqual([]);
    expect(ok.orders!.orders[0]).toMatchObject({ prefer: ["gpu-1", "gpu-2"], failoverAfter: 600 });
    expect(only(file(`{ "id": "a", "to": "m", "run": "x", "prefer": ["m"] }`))).toMatchObject({
      path: "orders[0].prefer",
      message: expect.stringMatching(/^order "a" has prefer, which only applies to to: "ANY"/),
    });
    expect(only(file(`{ "id": "a", "to": "ANY", "run": "x", "prefer": ["Bad Name"] }`)).path).toBe("orders[0].prefer[0]");
    expect(only(file(`{ "id": "a", "to": "ANY", "run": "x", "prefer": [] }`)).path).toBe("orders[0].prefer");
    expect(only(file(`{ "id": "a", "to": "m", "run": "x", "failoverAfter": "soon" }`)).message).toMatch(/"soon" is not a duration/);
    expect(only(file(`{ "id": "a", "to": "m", "run": "x", "failoverAfter": "8d" }`)).message).toMatch(/failoverAfter must be at most 7d/);
  });

  it("invalid machine names and reserved names", () => {
    const bad = only(file(`{ "id": "a", "to": "Bad_Name", "run": "x" }`));
    expect(bad.path).toBe("orders[0].to");
    expect(bad.message).toMatch(/^order "a" field to: "Bad_Name" is not a valid machine name/);
    const all = only(file(`{ "id": "a", "to": "all", "run": "x" }`));
    expect(all.message).toMatch(/^order "a" field to: "all" is reserved; write "ALL" or "ANY" in capitals/);
    const inList = only(file(`{ "id": "a", "to": ["izzit7", "ANY"], "run": "x" }`));
    expect(inList.path).toBe("orders[0].to[1]");
    expect(inList.message).toMatch(/"ANY" is reserved/);
    expect(only(file(`{ "id": "a", "to": [], "run": "x" }`)).message).toMatch(/not an empty list/);
  });

  it("unknown machine, only when machines are given", () => {
    const p = only(file(`{ "id": "a", "to": ["izzit7", "nobody"], "run": "x" }`), MACHINES);
    expect([p.line, p.path]).toEqual([4, "orders[0].to[1]"]);
    expect(p.message).toMatch(/^order "a" field to\[1\]: no machine named "nobody" is registered/);
    expect(only(file(`{ "id": "a", "to": "ghost", "run": "x" }`), []).message).toMatch(/no machine is registered yet/);
  });

  it("reports every problem, sorted by line", () => {
    const { orders, problems } = parseOrders(
      file(
        `{ "id": "a", "to": "m", "run": "x", "after": ["zzz"] }`,
        `{ "id": "b", "to": "m", "run": "x", "timeout": "ten minutes" }`,
        `{ "id": "a", "to": "m", "run": "x", "colour": "red" }`,
        `5`,
      ),
      {},
    );
    expect(orders).toBeUndefined();
    expect(problems.map((p) => [p.line, p.path])).toEqual([
      [4, "orders[0].after[0]"],
      [5, "orders[1].timeout"],
      [6, "orders[2].colour"],
      [6, "orders[2].id"],
      [7, "orders[3]"],
    ]);
  });
});

describe("formatProblem", () => {
  it("writes file:line path: message, leaving out what is missing", () => {
    expect(formatProblem({ file: "ORDERS.json", line: 12, path: "orders[2].timeout", message: "m" })).toBe("ORDERS.json:12 orders[2].timeout: m");
    expect(formatProblem({ file: "ORDERS.json", line: 3, path: "", message: "m" })).toBe("ORDERS.json:3: m");
    expect(formatProblem({ file: "ORDERS.json", message: "m" })).toBe("ORDERS.json: m");
    expect(formatProblem({ file: "ORDERS.json", path: "version", message: "m" })).toBe("ORDERS.json version: m");
  });

  it("a parser's quote of another machine's line reaches no terminal as escapes or bidi controls", () => {
    const line = "text: a: b \u001b]0;PWNED\u0007\u001b[31mRED \u202e reversed";
    const shown = formatProblem({ file: "coordination/messages/evil_TO_vic.md", message: `ignored: bad YAML at\n  ${line}` });
    expect(shown).toBe("coordination/messages/evil_TO_vic.md: ignored: bad YAML at\n  text: a: b \\u001b]0;PWNED\\u0007\\u001b[31mRED \\u202e reversed");
  });
});

describe("ordersTargets", () => {
  const order = (to: string | string[]): Order => parseOrders(file(JSON.stringify({ id: "a", to, run: "x" })), {}).orders!.orders[0]!;
  const machines = ["soda-yeti", "izzit7", "machine-2"];

  it("a name, a list, ALL and ANY", () => {
    expect(ordersTargets(order("izzit7"), machines)).toEqual(["izzit7"]);
    expect(ordersTargets(order(["machine-2", "izzit7"]), machines)).toEqual(["machine-2", "izzit7"]);
    expect(ordersTargets(order("ALL"), machines)).toEqual(["izzit7", "machine-2", "soda-yeti"]);
    expect(ordersTargets(order("ANY"), machines)).toEqual([]);
    expect(machines).toEqual(["soda-yeti", "izzit7", "machine-2"]);
  });
});

describe("ordersJsonSchema", () => {
  it("is JSON Schema 2020-12 that mentions the fields, and is deterministic", () => {
    const text = JSON.stringify(ordersJsonSchema(), null, 2);
    // biome-ignore lint/suspicious/noExplicitAny: a JSON schema, read by path
    const schema = JSON.parse(text) as Record<string, any>;
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.title).toBeTypeOf("string");
    expect(schema.required).toEqual(["version", "orders"]);
    const order = schema.properties.orders.items;
    expect(order.additionalProperties).toBe(false);
    expect(order.required).toEqual(["id", "to"]);
    for (const field of [
      "id",
      "to",
      "run",
      "agent",
      "prompt",
      "model",
      "args",
      "rev",
      "after",
      "requires",
      "cwd",
      "env",
      "timeout",
      "retries",
      "priority",
      "cancelled",
      "notBefore",
    ]) {
      expect(order.properties[field]?.description, field).toBeTypeOf("string");
    }
    expect(order.properties.priority.default).toBe("normal");
    expect(JSON.stringify(ordersJsonSchema(), null, 2)).toBe(text);
  });
});
