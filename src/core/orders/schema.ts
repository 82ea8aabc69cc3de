// The JSON Schema of ORDERS.json (coordination/orders.schema.json), generated
// from the same zod schema that validates the file, so editors and coord agree.

import * as z from "zod";
import { OrdersFileSchema } from "./orders-schema.js";

/** Keywords that read best first; everything else follows in alphabetical order. */
const FIRST = ["$schema", "$id", "title", "description", "type"];

function rank(key: string): number {
  const i = FIRST.indexOf(key);
  return i === -1 ? FIRST.length : i;
}

/** A copy with object keys in a stable order, so the output never depends on zod's internals. */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value).sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, stable(v)]));
}

/** JSON Schema (draft 2020-12) for ORDERS.json (`schema`: the file's, or one extended in a test), for editor help. Deterministic. */
export function ordersJsonSchema(schema: z.ZodType = OrdersFileSchema): object {
  const json = z.toJSONSchema(schema, {
    io: "input",
    target: "draft-2020-12",
    override: (ctx) => {
      // "format": "date-time" says it; zod's long regex would only clutter editor messages.
      if (ctx.jsonSchema.format === "date-time") delete ctx.jsonSchema.pattern;
    },
  });
  return stable({ ...json, title: "coord ORDERS.json" }) as object;
}
