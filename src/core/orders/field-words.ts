// What each field of ORDERS.json must be, in words, from the schema alone:
// the words kept beside a field (FIELD_WORDS in core/orders/orders-schema.ts), else
// words derived from its type (enum values, ranges, lists). The problem texts
// of ORDERS.json say them ("must be …"), and the docs' field tables (orders in
// docs/protocol.md, services in docs/services.md) are rendered from them with
// each field's default and description. A field added to the schema has its
// words and its row with no other edit. Pure.
import type * as z from "zod";
import { FIELD_WORDS, OrderSchema, OrdersFileSchema, ServiceSchema } from "./orders-schema.js";

type Def = z.core.$ZodTypeDef & {
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, string>;
  values?: unknown[];
  format?: string;
  defaultValue?: unknown;
};

const defOf = (schema: z.ZodType) => schema._zod.def as Def;

/** The schema inside optional, default, nullable and transform wrappers: what a value is checked as first. */
export function unwrap(schema: z.ZodType): z.ZodType {
  const def = defOf(schema);
  if ((def.type === "optional" || def.type === "default" || def.type === "nullable") && def.innerType) return unwrap(def.innerType);
  if (def.type === "pipe" && def.in) return unwrap(def.in);
  return schema;
}

/** The words kept for a schema or for one it wraps. */
function keptWords(schema: z.ZodType): string | undefined {
  const kept = FIELD_WORDS.get(schema)?.expect;
  if (kept) return kept;
  const def = defOf(schema);
  const inner = def.type === "pipe" ? def.in : def.innerType;
  return (def.type === "optional" || def.type === "default" || def.type === "nullable" || def.type === "pipe") && inner ? keptWords(inner) : undefined;
}

/** A check of a schema: its bounds (a number's value, a length's minimum) where it has them. */
type CheckDef = { check: string; value?: number; minimum?: number; inclusive?: boolean };
const check = (def: Def, name: string) => def.checks?.map((c) => c._zod.def as CheckDef).find((c) => c.check === name);

/** "a", "b" or "c". */
const either = (words: string[]) => (words.length > 1 ? `${words.slice(0, -1).join(", ")} or ${words.at(-1)}` : (words[0] ?? "a value"));

/** What a value of `schema` must be, as a noun phrase: its kept words, else derived from its type. */
export function expectedOf(schema: z.ZodType): string {
  const kept = keptWords(schema);
  if (kept) return kept;
  const def = defOf(unwrap(schema));
  switch (def.type) {
    case "string":
      return def.format === "datetime" ? "an ISO 8601 date-time" : (check(def, "min_length")?.minimum ?? 0) > 0 ? "a non-empty string" : "a string";
    case "number": {
      const whole = check(def, "number_format") !== undefined;
      const noun = whole ? "a whole number" : "a number";
      const min = check(def, "greater_than");
      const max = check(def, "less_than");
      if (min?.inclusive && max?.inclusive) return `${noun} from ${min.value} to ${max.value}`;
      if (min?.inclusive) return `${noun} of ${min.value} or more`;
      if (max?.inclusive) return `${noun} of ${max.value} or less`;
      return noun;
    }
    case "boolean":
      return "true or false";
    case "enum":
      return either(Object.values(def.entries ?? {}).map((v) => JSON.stringify(v)));
    case "literal":
      return either((def.values ?? []).map((v) => JSON.stringify(v)));
    case "array": {
      const list = (check(def, "min_length")?.minimum ?? 0) > 0 ? "a non-empty list" : "a list";
      const item = def.element ? expectedOf(def.element) : "a value";
      return item === "a string" ? `${list} of strings` : `${list}, each ${item}`;
    }
    case "record":
      return def.valueType ? `an object whose values are each ${expectedOf(def.valueType)}` : "an object";
    case "object":
      return "an object";
    case "union":
      return either([...new Set((def.options ?? []).map(expectedOf))]);
    default:
      return "a value of the right kind (see coordination/orders.schema.json)";
  }
}

/** The schema of the value at `path` in a file of `root` (a key of an object or a record, an index of a list), or undefined. */
export function schemaAt(root: z.ZodType, path: readonly (string | number)[]): z.ZodType | undefined {
  let at: z.ZodType | undefined = root;
  for (const seg of path) {
    if (!at) return undefined;
    at = step(unwrap(at), seg);
  }
  return at;
}

function step(schema: z.ZodType, seg: string | number): z.ZodType | undefined {
  const def = defOf(schema);
  if (def.type === "object" && typeof seg === "string") return def.shape && Object.hasOwn(def.shape, seg) ? def.shape[seg] : undefined;
  if (def.type === "record" && typeof seg === "string") return def.valueType;
  if (def.type === "array" && typeof seg === "number") return def.element;
  if (def.type === "union") {
    for (const option of def.options ?? []) {
      const found = step(unwrap(option), seg);
      if (found) return found;
    }
  }
  return undefined;
}

/** What the value at `path` in ORDERS.json (or a file of `root`) must be, or undefined where the schema has no such place. */
export function expectedAt(path: readonly (string | number)[], root: z.ZodType = OrdersFileSchema): string | undefined {
  const schema = schemaAt(root, path);
  return schema ? expectedOf(schema) : undefined;
}

/** The fields an object at `path` may have (of each object it may be, for a union), for a misspelt field's "did you mean". */
export function fieldsAt(path: readonly (string | number)[], root: z.ZodType = OrdersFileSchema): string[] {
  const at = schemaAt(root, path);
  const def = at && defOf(unwrap(at));
  if (def?.type === "object") return Object.keys(def.shape ?? {});
  if (def?.type === "union") return [...new Set((def.options ?? []).flatMap((option) => fieldsAt([], option)))];
  return [];
}

// ------------------------------------------------------------ the docs' tables

/** A table cell: one line, no column break. */
const cell = (text: string) => text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");

/** A field's default as the docs show it: its value, "required", or "—" (its description says what applies). */
function defaultOf(schema: z.ZodType): string {
  const def = defOf(schema);
  if (def.type === "default") return `\`${JSON.stringify(typeof def.defaultValue === "function" ? def.defaultValue() : def.defaultValue)}\``;
  if (def.type === "optional") return "—";
  if (def.type === "pipe" && def.in) return defaultOf(def.in);
  return "required";
}

/** A field's description, or that of the schema it wraps (health: HealthSchema's). */
function descriptionOf(schema: z.ZodType): string {
  if (schema.description) return schema.description;
  const def = defOf(schema);
  const inner = def.type === "pipe" ? def.in : def.innerType;
  return inner && ["optional", "default", "nullable", "pipe"].includes(def.type) ? descriptionOf(inner) : "";
}

/** One row per field of `schema`, in its order; the fields of a nested object follow it as `outer.inner`. */
function rows(schema: z.ZodObject, prefix = ""): string[] {
  return Object.entries(schema.shape as Record<string, z.ZodType>).flatMap(([name, field]) => {
    const row = `| \`${prefix}${name}\` | ${cell(expectedOf(field))} | ${defaultOf(field)} | ${cell(descriptionOf(field))} |`;
    const inner = unwrap(field);
    return defOf(inner).type === "object" ? [row, ...rows(inner as z.ZodObject, `${prefix}${name}.`)] : [row];
  });
}

/** The markdown table of the fields of an order (OrderSchema, or one extended in a test): docs/protocol.md shows it. */
export function fieldsTable(schema: z.ZodObject = OrderSchema): string {
  return ["| field | must be | default | meaning |", "|---|---|---|---|", ...rows(schema)].join("\n");
}

/** The docs' tables, each between `<!-- <marker>:start -->` and `<!-- <marker>:end -->` in its file. */
export const FIELD_TABLES = [
  { file: "docs/protocol.md", marker: "order-fields", table: () => fieldsTable(OrderSchema) },
  { file: "docs/services.md", marker: "service-fields", table: () => fieldsTable(ServiceSchema) },
] as const;

/** `text` with the table between its markers replaced by `table`, or undefined when the markers are missing. */
export function withTable(text: string, marker: string, table: string): string | undefined {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end, from);
  if (from === -1 || to === -1) return undefined;
  return `${text.slice(0, from + start.length)}\n${table}\n${text.slice(to)}`;
}
