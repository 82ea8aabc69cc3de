// The fields a person or an agent gives when adding an order, derived from
// OrderSchema alone: `coord order add`'s flags (names, help, how a value is
// read), the MCP tool order_add's arguments and how they become the order,
// and what a problem says a field must be when nothing more precise is
// written. A field added to OrderSchema (with its .describe()) is a flag and
// an argument with no other edit; only its effect needs code. Pure.
import type * as z from "zod";
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

/** The definition inside optional, default and transform wrappers: what a value is checked as first. */
function core(schema: z.ZodType): z.core.$ZodTypeDef {
  const def = schema._zod.def as z.core.$ZodTypeDef & { innerType?: z.ZodType; in?: z.ZodType };
  if ((def.type === "optional" || def.type === "default" || def.type === "nullable") && def.innerType) return core(def.innerType);
  if (def.type === "pipe" && def.in) return core(def.in);
  return def;
}

function kindOf(schema: z.ZodType): FieldKind {
  const type = core(schema).type;
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

/** What a field must be, in words, from its schema: for a field no problem text names more precisely. */
export function expectedOf(schema: z.ZodType): string {
  const def = core(schema) as z.core.$ZodTypeDef & { entries?: Record<string, string> };
  switch (def.type) {
    case "array":
      return "a list";
    case "number":
      return "a number";
    case "boolean":
      return "true or false";
    case "enum": {
      const values = Object.values(def.entries ?? {}).map((v) => JSON.stringify(v));
      return values.length > 1 ? `${values.slice(0, -1).join(", ")} or ${values.at(-1)}` : (values[0] ?? "a value");
    }
    case "string":
      return "a string";
    default:
      return "a value of the right kind (see coordination/orders.schema.json)";
  }
}
