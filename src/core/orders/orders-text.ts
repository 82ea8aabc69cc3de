// Edits to ORDERS.json as text, for `coord order add/cancel --human`: jsonc-parser
// finds where the change goes, and only that place changes. The person's
// formatting, key order and other orders stay byte for byte. Pure.
import { applyEdits, findNodeAtLocation, getNodeValue, modify, parseTree, type Edit, type Node } from "jsonc-parser";

const lineOf = (text: string, offset: number): number => text.slice(0, offset).split("\n").length;
const eolOf = (text: string): string => (text.includes("\r\n") ? "\r\n" : "\n");

/** Leading whitespace of the line that holds `offset`. */
function indentAt(text: string, offset: number): string {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))![0];
}

/** One level of indentation as the file writes it (tab, or the smallest run of spaces; 2 by default). */
function indentUnit(text: string): string {
  if (/^\t/m.test(text)) return "\t";
  const sizes = [...text.matchAll(/^( +)\S/gm)].map((m) => m[1]!.length);
  return " ".repeat(sizes.length ? Math.min(...sizes) : 2);
}

/** `value` as indented JSON whose lines after the first start with `indent`. */
function pretty(value: unknown, text: string, indent: string): string {
  return JSON.stringify(value, null, indentUnit(text)).replace(/\n/g, eolOf(text) + indent);
}

function ordersArray(text: string): Node | undefined {
  const root = parseTree(text, [], { disallowComments: true });
  const list = root && findNodeAtLocation(root, ["orders"]);
  return list?.type === "array" ? list : undefined;
}

/** The index of the order with `id` in the file, or undefined. */
export function orderIndex(text: string, id: string): number | undefined {
  const list = ordersArray(text);
  const i = (list?.children ?? []).findIndex((node) => {
    const value: unknown = getNodeValue(node);
    return typeof value === "object" && value !== null && (value as { id?: unknown }).id === id;
  });
  return i === -1 ? undefined : i;
}

/** The text with `order` appended to the list of orders, or undefined when the file has no such list. */
export function insertOrder(text: string, order: Record<string, unknown>): string | undefined {
  const list = ordersArray(text);
  if (!list) return undefined;
  const items = list.children ?? [];
  const last = items.at(-1);
  if (!last) {
    // An empty list: the order goes between the brackets, one level deeper than the line of "orders".
    const eol = eolOf(text);
    const indent = indentAt(text, list.offset);
    const inner = indent + indentUnit(text);
    return applyEdits(text, [{ offset: list.offset + 1, length: list.length - 2, content: `${eol}${inner}${pretty(order, text, inner)}${eol}${indent}` }]);
  }
  const [edit] = modify(text, ["orders", -1], order, { isArrayInsertion: true });
  const multiline = lineOf(text, list.offset) !== lineOf(text, last.offset);
  const eol = eolOf(text);
  const indent = indentAt(text, last.offset);
  const content = multiline ? `,${eol}${indent}${pretty(order, text, indent)}` : `, ${JSON.stringify(order)}`;
  return applyEdits(text, [{ ...(edit as Edit), content }]);
}

/** The text with `"cancelled": true` on the order at `index` (added after its last field, or set in place). */
export function cancelOrder(text: string, index: number): string {
  const root = parseTree(text, [], { disallowComments: true });
  const order = root && findNodeAtLocation(root, ["orders", index]);
  if (order?.type !== "object") throw new Error(`no order at orders[${index}]`);
  const edits = modify(text, ["orders", index, "cancelled"], true, {});
  if (findNodeAtLocation(order, ["cancelled"])) return applyEdits(text, edits);
  const last = order.children?.at(-1);
  if (!last) return applyEdits(text, edits);
  const multiline = lineOf(text, order.offset) !== lineOf(text, last.offset);
  const eol = eolOf(text);
  const content = multiline ? `,${eol}${indentAt(text, last.offset)}"cancelled": true` : `, "cancelled": true`;
  return applyEdits(text, [{ ...edits[0]!, content }]);
}

type Json = unknown;
const same = (a: Json, b: Json): boolean => canonical(a) === canonical(b);
function canonical(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, Json>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "undefined";
}

/** The orders of a parsed ORDERS.json by id, and its other top-level fields. */
function split(text: string): { orders: Map<string, Record<string, Json>>; rest: Record<string, Json> } | undefined {
  const root = parseTree(text, [], { allowTrailingComma: true });
  const value: Json = root ? getNodeValue(root) : undefined;
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const { orders, ...rest } = value as Record<string, Json>;
  const byId = new Map<string, Record<string, Json>>();
  if (Array.isArray(orders))
    for (const o of orders) if (o && typeof o === "object" && typeof (o as { id?: unknown }).id === "string") byId.set((o as { id: string }).id, o as Record<string, Json>);
  return { orders: byId, rest };
}

/**
 * Whether `mine` already holds every change from `base` to `theirs`: each
 * order they added is there, each they removed is gone, each field they
 * changed has their value, and so has each other top-level field they
 * changed. True when a person merged a remote change into their edit by hand.
 */
export function includesChanges(base: string, theirs: string, mine: string): boolean {
  const [b, t, m] = [split(base), split(theirs), split(mine)];
  if (!b || !t || !m) return false;
  for (const key of new Set([...Object.keys(b.rest), ...Object.keys(t.rest)])) if (!same(b.rest[key], t.rest[key]) && !same(m.rest[key], t.rest[key])) return false;
  for (const id of new Set([...b.orders.keys(), ...t.orders.keys()])) {
    const [bo, to, mo] = [b.orders.get(id), t.orders.get(id), m.orders.get(id)];
    if (!to) {
      if (mo) return false; // they removed it
      continue;
    }
    if (!bo) {
      if (!mo) return false; // they added it
      continue;
    }
    for (const key of new Set([...Object.keys(bo), ...Object.keys(to)])) if (!same(bo[key], to[key]) && (!mo || !same(mo[key], to[key]))) return false;
  }
  return true;
}
