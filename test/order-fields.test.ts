// The fields of an order as `coord order add` and the MCP tool order_add take them come from OrderSchema alone
// (core/orders/order-fields.ts): a field added to the schema is a flag, a tool argument and a JSON Schema property with
// no other edit (issue 32), and has a problem text and a row in the docs' field table (core/orders/field-words.ts).
// Checked here on the real schema and on one extended by a probe field.
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { orderAddInput } from "../src/actions/mcp-tools.js";
import { getNodeValue, parseTree } from "jsonc-parser";
import { expectedOf, fieldsTable } from "../src/core/orders/field-words.js";
import { ADD_FIELDS, addFields, fieldValue } from "../src/core/orders/order-fields.js";
import { type Doc, issueProblems, lineStarts } from "../src/core/orders/orders-problems.js";
import { OrderSchema, OrdersFileSchema } from "../src/core/orders/orders-schema.js";
import { ordersJsonSchema } from "../src/core/orders/schema.js";

const byName = (name: string) => ADD_FIELDS.find((f) => f.name === name)!;

describe("the fields of an order, from its schema", () => {
  it("every field of OrderSchema but rev, cancelled and env is a flag, named after it", () => {
    expect(ADD_FIELDS.map((f) => f.name)).toEqual(Object.keys(OrderSchema.shape).filter((k) => !["rev", "cancelled", "env"].includes(k)));
    const flags = Object.fromEntries(ADD_FIELDS.map((f) => [f.name, `${f.flag} ${f.kind}`]));
    expect(flags).toMatchObject({
      id: "--id text",
      to: "--to text",
      idleTimeout: "--idle-timeout text",
      after: "--after list",
      retries: "--retries number",
      notBefore: "--not-before text",
      prefer: "--prefer list",
      failoverAfter: "--failover-after text",
    });
    // A field's help: its command-line wording where the schema has one, else its description.
    expect(byName("after").help).toBe("comma-separated ids of orders that must complete first");
    expect(ADD_FIELDS.every((f) => f.help.length > 10)).toBe(true);
  });

  it.each([
    ["after", "a, b,,c", ["a", "b", "c"]],
    ["retries", "2", 2],
    ["retries", "two", "two"], // the schema says what is wrong with it
    ["timeout", "90", 90], // seconds: the schema takes a number, not the text "90"
    ["timeout", "15m", "15m"],
    ["id", "123", "123"], // an id of digits stays text
    ["every", "0 3 * * *", "0 3 * * *"],
  ] as const)("reads --%s %j as %j", (name, given, value) => {
    expect(fieldValue(byName(name), given)).toEqual(value);
  });

  it.each([
    [z.enum(["low", "high"]).default("low"), '"low" or "high"'],
    [z.number().int().min(0).max(100).default(0), "a whole number from 0 to 100"],
    [z.number().int().min(1).optional(), "a whole number of 1 or more"],
    [z.number(), "a number"],
    [z.array(z.string()).default([]), "a list of strings"],
    [z.array(z.number().int()).min(1), "a non-empty list, each a whole number"],
    [z.string().min(1).optional(), "a non-empty string"],
    [z.boolean().default(false), "true or false"],
    [z.union([z.number(), z.string()]), "a number or a string"],
    [z.string().optional().describe("Only a description."), "a string"],
  ] as const)("says what a field must be from its schema alone: %#, %s", (schema, words) => {
    expect(expectedOf(schema)).toBe(words);
  });

  it("a field added to the schema alone is a flag, a tool argument, a JSON Schema property, a problem text and a docs row", () => {
    const Probe = OrderSchema.extend({ zzProbe: z.string().optional().describe("A probe field, for this test.") });
    const probe = addFields(Probe).find((f) => f.name === "zzProbe")!;
    expect(probe).toMatchObject({ flag: "--zz-probe", kind: "text", help: "A probe field, for this test.", value: "value" });
    expect(fieldValue(probe, "x")).toBe("x");
    // The tool's arguments: the probe is one, optional, typed as the schema says.
    const input = z.object(orderAddInput(addFields(Probe)));
    expect(input.safeParse({ to: "izzit7", zzProbe: "x" })).toMatchObject({ success: true, data: { zzProbe: "x" } });
    expect(input.safeParse({ to: "izzit7", zzProbe: 3 }).success).toBe(false);
    expect(input.safeParse({ to: "izzit7" }).success).toBe(true);
    // orders.schema.json, from the file's schema holding such orders.
    const File = OrdersFileSchema.extend({ orders: z.array(Probe) });
    const json = JSON.stringify(ordersJsonSchema(File));
    expect(json).toContain('"zzProbe":{"description":"A probe field, for this test.","type":"string"}');
    expect(JSON.stringify(ordersJsonSchema())).not.toContain("zzProbe");
    // What it must be, in a problem with it: from its schema.
    const text = JSON.stringify({ version: 1, orders: [{ id: "p", to: "izzit7", run: "true", zzProbe: 3 }] }, null, 2);
    const root = parseTree(text)!;
    const doc: Doc = { file: "ORDERS.json", root, data: getNodeValue(root), lineStarts: lineStarts(text), schema: File };
    const issues = File.safeParse(doc.data).error?.issues ?? [];
    expect(issues.flatMap((issue) => issueProblems(doc, issue))).toEqual([
      { file: "ORDERS.json", line: 8, path: "orders[0].zzProbe", message: 'order "p" field zzProbe must be a string, not 3' },
    ]);
    // Its row in the docs' table: the table of docs/protocol.md then asks to be refreshed (test/core/orders/field-words.test.ts).
    expect(fieldsTable(Probe)).toContain("| `zzProbe` | a string | — | A probe field, for this test. |");
    expect(fieldsTable()).not.toContain("zzProbe");
  });
});
