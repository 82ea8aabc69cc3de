// The field pages of the protocol (docs/protocol/*.md) keep up with the schemas written by hand beside them: every
// top-level field of ORDERS.json (and of its `hub` and `emergency`) and every field of the on-call setting has a row
// there. The order and service fields are generated into their tables (npm run docs:fields; field-words.test.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type * as z from "zod";
import { unwrap } from "../src/core/orders/field-words.js";
import { OrdersFileSchema } from "../src/core/orders/orders-schema.js";
import { onCallSchema } from "../src/state/on-call.js";

const page = (name: string) => readFileSync(join(import.meta.dirname, "..", "docs", "protocol", name), "utf8");

/** The text of the section under heading `heading` (up to the next heading of its level or above). */
function section(text: string, heading: string): string {
  const from = text.indexOf(`\n${heading}\n`);
  if (from < 0) throw new Error(`no heading ${heading}`);
  const level = /^#+/.exec(heading)![0].length;
  const rest = text.slice(from + heading.length + 2);
  const next = rest.search(new RegExp(`^#{1,${level}} `, "m"));
  return next < 0 ? rest : rest.slice(0, next);
}

/** The field names a table's rows name first (`name`, after an anchor), e.g. "hub.statusHistory". */
function rowFields(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/^\| (?:<a id="[^"]+"><\/a>)?`([^`]+)`/gm)) out.add(m[1]!);
  return out;
}

const keys = (schema: z.ZodType) => Object.keys((unwrap(schema) as z.ZodObject).shape);

describe("the field pages", () => {
  it("have a row for every top-level field of ORDERS.json, and of its hub and emergency", () => {
    const rows = rowFields(section(page("hub.md"), "## `ORDERS.json`"));
    const shape = (OrdersFileSchema as z.ZodObject).shape as Record<string, z.ZodType>;
    const wanted = [
      ...keys(OrdersFileSchema).filter((k) => k !== "hub" && k !== "emergency"),
      ...keys(shape.hub!).map((k) => `hub.${k}`),
      ...keys(shape.emergency!).map((k) => `emergency.${k}`),
    ];
    expect(wanted.filter((k) => !rows.has(k))).toEqual([]);
    expect([...rows].filter((k) => !wanted.includes(k))).toEqual([]);
  });

  it("have a row for every field of the on-call setting", () => {
    const rows = rowFields(section(page("local-state.md"), "### `onCall`"));
    expect(keys(onCallSchema).filter((k) => !rows.has(k))).toEqual([]);
    expect([...rows].filter((k) => !keys(onCallSchema).includes(k))).toEqual([]);
  });
});
