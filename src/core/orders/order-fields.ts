// The fields a person or an agent gives when adding an order, derived from
// OrderSchema alone: `coord order add`'s flags (names, help, how a value is
// read), the MCP tool order_add's arguments and how they become the order.
// A field added to OrderSchema (with its .describe()) is a flag and an
// argument with no other edit (its problem text and its row in the docs:
// core/orders/field-words.ts); only its effect needs code. Pure.
import type * as z from "zod";
import { unwrap } from "./field-words.js";
import { ORDER_CLI, OrderSchema } from "./orders-schema.js";

/** How a value given on the command line is read: as it is, a comma-separated list, a whole number, or a flag without a value. */
export type FieldKind = "text" | "list" | "number" | "flag";

export interface AddField {
  /** As written in ORDERS.json: idleTimeout. */
  name: string;
  /** Its flag: --idle-timeout. */
  flag: string;
  kind: FieldKind;
  /** Its help on the command line (the schema's description, unless ORDER_CLI words it for a flag). */
  help: string;
  /** The value's name in --help: "duration" in --timeout <duration>. */
  value: string;
  schema: z.ZodType;
}

/** What adding an order never takes: set by other commands (rev, cancelled), or structured (env: secrets are named in ORDERS.json). */
const NOT_GIVEN = new Set(["rev", "cancelled", "env"]);

function kindOf(schema: z.ZodType): FieldKind {
  const type = unwrap(schema)._zod.def.type;
  return type === "array" ? "list" : type === "number" ? "number" : type === "boolean" ? "flag" : "text";
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The fields of `schema` (OrderSchema, or one extended in a test) that adding an order takes, in the schema's order. */
export function addFields(schema: z.ZodObject = OrderSchema): AddField[] {
  return Object.entries(schema.shape as Record<string, z.ZodType>)
    .filter(([name]) => !NOT_GIVEN.has(name))
    .map(([name, field]) => {
      const cli = ORDER_CLI.get(field);
      const kind = kindOf(field);
      return {
        name,
        flag: `--${kebab(name)}`,
        kind,
        help: cli?.help ?? field.description ?? name,
        value: cli?.value ?? (kind === "list" ? "values" : kind === "number" ? "n" : "value"),
        schema: field,
      };
    });
}

export const ADD_FIELDS: readonly AddField[] = addFields();

/**
 * A command-line value as the JSON value written in the order: a list split at commas; digits as a number where
 * the field takes a number and not the text (a count, or seconds of a duration); the rest as written. What is
 * wrong with it is the schema's to say (the whole file is checked before anything changes).
 */
export function fieldValue(field: AddField, given: string | boolean): unknown {
  if (typeof given === "boolean") return given;
  if (field.kind === "list")
    return given
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  if (!/^\d+$/.test(given.trim())) return given;
  const n = Number(given);
  return field.kind === "number" || (!field.schema.safeParse(given).success && field.schema.safeParse(n).success) ? n : given;
}
