// ORDERS.json: turn the text people write into validated Orders, or into a list
// of problems that each say what is wrong, where (line and JSON path) and what
// to do. Pure: no files, git or clock. An invalid file yields no orders at all.

import { z } from "zod";
import { agentOrderProblem, PERMISSIONS, type Permission } from "./agents.js";
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import { parseDuration } from "./duration.js";
import { jsonDepth, MAX_COUNT, MAX_DEPTH, ORDERS_LIMIT, unreadable } from "./limits.js";
import { MACHINE_NAME, machineNameProblem } from "./names.js";
import { suggestField } from "./suggest.js";
import { isRecord, own, ownTable, PRIORITIES, type Order, type Orders, type Problem } from "./types.js";

export const ORDER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GROUPS = ["ALL", "ANY"] as const;
const isGroup = (value: string): boolean => (GROUPS as readonly string[]).includes(value);

type Path = (string | number)[];

// ---------------------------------------------------------------- the schema

/** Why one address in `to` is wrong, or undefined when it is a fine machine name. */
function addressProblem(name: string, inList: boolean): string | undefined {
  if (["all", "any"].includes(name.toLowerCase())) {
    return inList
      ? `"${name}" is reserved; a list holds machine names only, so write "ALL" or "ANY" on its own instead of a list`
      : `"${name}" is reserved; write "ALL" or "ANY" in capitals to address a group, or name one machine`;
  }
  return machineNameProblem(name);
}

const machineName = z.string().meta({ pattern: MACHINE_NAME.source });

const to = z
  .union([z.enum(GROUPS), machineName, z.array(machineName).min(1)])
  .superRefine((value, ctx) => {
    if (typeof value === "string") {
      const problem = isGroup(value) ? undefined : addressProblem(value, false);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
      return;
    }
    value.forEach((name, i) => {
      const problem = addressProblem(name, true);
      if (problem) ctx.addIssue({ code: "custom", message: problem, path: [i] });
    });
  })
  .describe(
    'Who runs this order: a machine name, a list of machine names, "ALL" (every machine that has `requires`, also machines that join later) or "ANY" (exactly one such machine).',
  );

/** The longest timeout an order may set: 7 days. */
export const MAX_TIMEOUT = 7 * 86_400;

/** An optional duration field of an order, in seconds, at most 7 days. */
function duration(field: string, description: string) {
  return z
    .union([z.string(), z.number()])
    .transform((value, ctx) => {
      const seconds = parseDuration(value);
      if (seconds !== undefined && seconds > MAX_TIMEOUT) {
        ctx.issues.push({ code: "custom", input: value, message: `${JSON.stringify(value)} is longer than 7 days: ${field} must be at most 7d` });
        return z.NEVER;
      }
      if (seconds !== undefined) return seconds;
      ctx.issues.push({
        code: "custom",
        input: value,
        message: `${JSON.stringify(value)} is not a duration; write it like "90s", "15m" or "2h"`,
      });
      return z.NEVER;
    })
    .optional()
    .describe(description);
}

const timeout = duration(
  "timeout",
  'Longest time the task may run before it is killed: "90s", "15m", "2h", "1d" or a number of seconds, at most 7d. Default: the machine\'s default.',
);

/** An env value written as an object, to mark it secret. */
const SecretValue = z
  .strictObject({
    value: z.string().describe("The variable's value."),
    secret: z.boolean().optional().describe("true: the value is redacted from the output the machine publishes."),
  })
  .describe('A value marked secret: {"value": "…", "secret": true}.');

/** One order as written in ORDERS.json; the parsed output is an `Order` with defaults applied. */
export const OrderSchema = z
  .strictObject({
    id: z.string().regex(ORDER_ID).describe('Unique id of the order: letters, digits, ".", "_" and "-", up to 128, starting with a letter or digit.'),
    to,
    run: z.string().min(1).optional().describe("Shell command to run. Use either run, or agent + prompt."),
    agent: z.string().min(1).optional().describe('Headless agent CLI to run instead of a command, e.g. "claude", "opencode", "cursor", "codex". Needs prompt.'),
    prompt: z.string().min(1).optional().describe("What the agent should do. Only with agent."),
    model: z.string().optional().describe("Model for the agent. Only with agent."),
    args: z.array(z.string()).optional().describe("Extra command-line arguments for the agent CLI. Only with agent."),
    permissions: z
      .enum(PERMISSIONS)
      .optional()
      .describe(
        'What the agent may do unattended: "read-only" (read and answer), "edit" (change files in its directory), "full" (run anything). Mapped per CLI (docs/agents.md); a level a CLI cannot honour is refused. Default: the CLI\'s own. Only with agent.',
      ),
    rev: z.number().int().min(1).max(MAX_COUNT).default(1).describe("Revision: a task is identified by (id, rev, machine); bump rev to run the order again."),
    after: z.array(z.string()).default([]).describe("Ids of orders that must be completed first, on whichever machines ran them."),
    requires: z.array(z.string().min(1)).default([]).describe('Capabilities a machine must have to run this order, e.g. ["node", "claude"]; others reject it.'),
    cwd: z.string().optional().describe("Directory to run in; ~ is the home directory."),
    env: z
      .record(z.string().regex(ENV_NAME), z.union([z.string(), SecretValue]))
      .default({})
      .describe('Extra environment variables, e.g. {"NODE_ENV": "test", "API_KEY": {"value": "…", "secret": true}}.'),
    timeout,
    idleTimeout: duration(
      "idleTimeout",
      'Longest time the task may write no output before it is stopped as stuck: a duration like "10m", at most 7d. Default: the machine\'s agentIdleTimeout for an agent, none for a command.',
    ),
    retries: z.number().int().min(0).max(100).default(0).describe("How many times to run the task again after it fails (0 to 100)."),
    priority: z.enum(PRIORITIES).default("normal").describe("Higher priority tasks start first."),
    cancelled: z.boolean().default(false).describe("true stops the task from starting, or stops it if it is running."),
    notBefore: z.iso.datetime({ offset: true }).optional().describe('Do not start before this time: an ISO 8601 date-time with a time zone, e.g. "2025-06-01T09:00:00Z".'),
    prefer: z
      .array(machineName)
      .min(1)
      .superRefine((names, ctx) => {
        names.forEach((name, i) => {
          const problem = addressProblem(name, true);
          if (problem) ctx.addIssue({ code: "custom", message: problem, path: [i] });
        });
      })
      .optional()
      .describe(
        'Only with to: "ANY": the machines that take it first, in order, e.g. ["gpu-1", "gpu-2"]: a machine claims it only while every machine listed before it (for a machine not listed: every one listed) is offline or lacks what it requires. Failover for work that should run on one machine.',
      ),
    failoverAfter: duration(
      "failoverAfter",
      "How long a machine may go unheard before it counts as gone: with prefer, the next machine takes over; with one named machine, STATUS.md says the order waits on a machine that is gone. Default: 3 missed heartbeats.",
    ),
  })
  .describe("One piece of work for one or more machines.");

/** The whole ORDERS.json file. */
export const OrdersFileSchema = z
  .strictObject({
    $schema: z.string().optional().describe("Path or URL of this JSON Schema, for editors."),
    version: z.literal(1).describe("Format version of this file: 1."),
    orders: z.array(OrderSchema).describe("The work to do."),
  })
  .describe("The work for the machines coordinated by coord: ORDERS.json (people edit it) or coordination/orders/<machine>.json (work that machine delegates).");

/** What each field must be, as a noun phrase for messages. */
const EXPECT: Record<string, string> = {
  $schema: "a string (the path of the JSON Schema, for editors)",
  version: "1",
  orders: "a list of orders",
  order: 'an order object like {"id": "build", "to": "my-machine", "run": "make"}',
  id: 'an id of letters, digits, ".", "_" and "-" (up to 128, starting with a letter or digit)',
  to: 'a machine name, a non-empty list of machine names, "ALL" or "ANY"',
  run: "a non-empty shell command",
  agent: 'the name of an agent CLI, like "claude"',
  prompt: "a non-empty text telling the agent what to do",
  model: "a model name (a string)",
  args: "a list of strings",
  permissions: '"read-only", "edit" or "full"',
  idleTimeout: 'a duration like "90s", "15m" or "2h", or a number of seconds',
  rev: `a whole number from 1 to ${MAX_COUNT}`,
  after: "a list of order ids",
  requires: "a list of capability names",
  cwd: "a directory (a string)",
  env: 'an object of variable names to string values, like {"NODE_ENV": "test"}',
  timeout: 'a duration like "90s", "15m" or "2h", or a number of seconds',
  retries: "a whole number from 0 to 100",
  priority: '"low", "normal", "high" or "urgent"',
  cancelled: "true or false",
  notBefore: 'an ISO 8601 date-time with a time zone, like "2025-06-01T09:00:00Z"',
  prefer: 'a non-empty list of machine names, like ["gpu-1", "gpu-2"]',
  failoverAfter: 'a duration like "90s", "15m" or "2h", or a number of seconds',
};

/** What each element of a list or object field must be. */
const EXPECT_ITEM: Record<string, string> = {
  to: "a machine name",
  args: "a string",
  after: "an order id (a string)",
  requires: "a non-empty capability name",
  prefer: "a machine name",
  env: "a string",
};

// ------------------------------------------------------------ where things are

/** Everything needed to point at a place in the file. */
interface Doc {
  file: string;
  root: Node;
  data: unknown;
  lineStarts: number[];
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return starts;
}

/** 1-based line of a character offset. */
function lineAt(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** `orders[2].env.NODE_ENV`, or `env["MY-VAR"]` for keys that are not identifiers. */
export function formatPath(path: Path): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Line of the deepest existing node on `path` (the key's line for a property). */
function lineOf(doc: Doc, path: Path): number {
  for (let n = path.length; n >= 0; n--) {
    const node = findNodeAtLocation(doc.root, path.slice(0, n));
    if (node) return lineAt(doc.lineStarts, node.parent?.type === "property" ? node.parent.offset : node.offset);
  }
  return 1;
}

function valueAt(data: unknown, path: Path): unknown {
  let value = data;
  for (const seg of path) {
    if (typeof seg === "number" ? !Array.isArray(value) : !isRecord(value)) return undefined;
    value = (value as Record<string | number, unknown>)[seg];
  }
  return value;
}

/** `order "build"`, or `orders[2]` when the order has no usable id. */
function orderName(doc: Doc, index: number): string {
  const id = valueAt(doc.data, ["orders", index, "id"]);
  return typeof id === "string" && id !== "" ? `order ${JSON.stringify(id)}` : `orders[${index}]`;
}

/** Who owns the object at `path`: the file, or an order. */
function ownerName(doc: Doc, path: Path): string {
  if (path[0] === "orders" && typeof path[1] === "number") return orderName(doc, path[1]);
  return path.length === 0 ? doc.file : `field ${formatPath(path)}`;
}

/** `order "build" field timeout`, `order "build" field after[1]`, `field version`, `orders[2]`. */
function placeName(doc: Doc, path: Path): string {
  if (path[0] === "orders" && typeof path[1] === "number") {
    const rest = path.slice(2);
    return rest.length === 0 ? orderName(doc, path[1]) : `${orderName(doc, path[1])} field ${formatPath(rest)}`;
  }
  return path.length === 0 ? doc.file : `field ${formatPath(path)}`;
}

/** A value as a short quote for messages. */
function show(value: unknown): string {
  if (Array.isArray(value)) return value.length ? "a list" : "an empty list";
  if (isRecord(value)) return "an object";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}..."` : text;
}

/** The field a path is about ("order" for a whole order) and whether it points inside it. */
function fieldOf(path: Path): { field: string; inside: boolean } {
  const [first, index, field] = path;
  if (first === "orders" && typeof index === "number") {
    return field === undefined ? { field: "order", inside: false } : { field: String(field), inside: path.length > 3 };
  }
  return { field: String(first ?? ""), inside: path.length > 1 };
}

// ------------------------------------------------------------------ problems

function problem(doc: Doc, path: Path, message: string, line = lineOf(doc, path)): Problem {
  return { file: doc.file, line, path: formatPath(path), message };
}

/** Problems for one zod issue. */
function issueProblems(doc: Doc, issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path.filter((s): s is string | number => typeof s !== "symbol");

  const inEnvValue = path[0] === "orders" && path[2] === "env" && path.length >= 4;

  // An env value that is an object: report what is wrong inside it, not that it is no string.
  if (issue.code === "invalid_union" && inEnvValue && isRecord(valueAt(doc.data, path))) {
    const inner = issue.errors.find((errors) => errors.some((e) => e.path.length > 0 || e.code !== "invalid_type")) ?? [];
    return inner.flatMap((e) => issueProblems(doc, { ...e, path: [...path, ...e.path] }));
  }
  if (inEnvValue && path.length === 5) {
    const value = valueAt(doc.data, path);
    if (value === undefined) return [problem(doc, path, `${placeName(doc, path.slice(0, -1))} is missing field "value"; write it like {"value": "…", "secret": true}`)];
    return [problem(doc, path, `${placeName(doc, path)} must be ${path[4] === "secret" ? "true or false" : "a string"}, not ${show(value)}`)];
  }

  if (issue.code === "unrecognized_keys") {
    const known = Object.keys(path.length === 0 ? OrdersFileSchema.shape : inEnvValue ? SecretValue.shape : OrderSchema.shape);
    const owner = inEnvValue ? placeName(doc, path) : ownerName(doc, path);
    return issue.keys.map((key) => {
      const guess = suggestField(key, known);
      const fix = guess ? `rename it to "${guess}" or remove it` : "remove it or fix its name";
      return problem(doc, [...path, key], `${owner} has an unknown field "${key}"; ${fix}`);
    });
  }

  if (issue.code === "invalid_key") {
    const key = path.at(-1);
    return [problem(doc, path, `${placeName(doc, path.slice(0, -1))}: ${show(key)} is not a valid variable name; use letters, digits and "_", not starting with a digit`)];
  }

  if (issue.code === "custom") return [problem(doc, path, `${placeName(doc, path)}: ${issue.message}`)];

  const value = valueAt(doc.data, path);
  const { field, inside } = fieldOf(path);
  if (value === undefined && !inside) {
    const owner = ownerName(doc, path.slice(0, -1));
    return [problem(doc, path, `${owner} is missing field "${field}"; set it to ${own(EXPECT, field) ?? "a value"}`)];
  }
  const expected = inside ? (own(EXPECT_ITEM, field) ?? "a string") : (own(EXPECT, field) ?? "something else");
  return [problem(doc, path, `${placeName(doc, path)} must be ${expected}, not ${show(value)}`)];
}

/** The first JSON syntax error, in words. */
function syntaxProblem(doc: Doc, error: ParseError, text: string): Problem {
  const what: Record<string, string> = {
    InvalidSymbol: "unexpected character",
    InvalidNumberFormat: "invalid number",
    PropertyNameExpected: "expected a field name in double quotes",
    ValueExpected: "expected a value",
    ColonExpected: 'expected ":"',
    CommaExpected: 'expected ","',
    CloseBraceExpected: 'expected "}"',
    CloseBracketExpected: 'expected "]"',
    EndOfFileExpected: "unexpected text after the end",
    InvalidCommentToken: "comments are not allowed in JSON",
    UnexpectedEndOfComment: "unfinished comment",
    UnexpectedEndOfString: "unfinished string",
    UnexpectedEndOfNumber: "unfinished number",
    InvalidUnicode: "invalid \\u escape",
    InvalidEscapeCharacter: "invalid escape character",
    InvalidCharacter: "invalid character in a string",
  };
  const code = printParseErrorCode(error.error);
  const line = lineAt(doc.lineStarts, error.offset);
  const column = error.offset - doc.lineStarts[line - 1]! + 1;
  const near = text.slice(error.offset, error.offset + Math.max(1, Math.min(error.length, 20)));
  const hint = code === "PropertyNameExpected" || code === "ValueExpected" ? " (JSON allows no trailing commas or comments)" : "";
  const at = near.trim() ? ` near ${JSON.stringify(near)}` : "";
  return {
    file: doc.file,
    line,
    path: "",
    message: `${doc.file} is not valid JSON at line ${line}, column ${column}${at}: ${own(what, code) ?? code}${hint}; fix it and commit again`,
  };
}

/** Object fields written twice: JSON parsers silently keep the last one. */
function duplicateKeyProblems(doc: Doc, node: Node, path: Path = []): Problem[] {
  const out: Problem[] = [];
  if (node.type === "object") {
    const seen = new Map<string, number>();
    for (const prop of node.children ?? []) {
      const [keyNode, valueNode] = prop.children ?? [];
      if (!keyNode) continue;
      const key = String(keyNode.value);
      const line = lineAt(doc.lineStarts, prop.offset);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, line);
      else out.push(problem(doc, [...path, key], `${ownerName(doc, path)} has field "${key}" twice (first at line ${first}); keep only one`, line));
      if (valueNode) out.push(...duplicateKeyProblems(doc, valueNode, [...path, key]));
    }
  } else if (node.type === "array") {
    for (const [i, child] of (node.children ?? []).entries()) out.push(...duplicateKeyProblems(doc, child, [...path, i]));
  }
  return out;
}

/** The raw orders of a file, as written (the rules below run even when the schema failed). */
function rawOrders(doc: Doc): unknown[] {
  const raw = valueAt(doc.data, ["orders"]);
  return Array.isArray(raw) ? raw : [];
}

/** Rules across the fields of one order: run XOR agent + prompt; prefer only for "ANY". */
function orderFieldProblems(doc: Doc): Problem[] {
  const out: Problem[] = [];
  rawOrders(doc).forEach((order, i) => {
    if (!isRecord(order)) return;
    const name = orderName(doc, i);
    const at = (...rest: Path): Path => ["orders", i, ...rest];
    const has = (field: string) => order[field] !== undefined;
    if (has("run") && has("agent")) {
      out.push(problem(doc, at("agent"), `${name} has both run and agent; keep run for a shell command, or agent + prompt for an agent, not both`));
    } else if (!has("run") && !has("agent")) {
      out.push(problem(doc, at(), `${name} has neither run nor agent; add run (a shell command) or agent + prompt`));
    }
    if (has("agent") && !has("prompt")) {
      out.push(problem(doc, at("agent"), `${name} has agent but no prompt; add prompt: what the agent should do`));
    }
    if (has("prefer") && order.to !== "ANY") {
      out.push(problem(doc, at("prefer"), `${name} has prefer, which only applies to to: "ANY"; write "to": "ANY" (one machine of the list runs it), or remove prefer`));
    }
    if (typeof order.agent === "string" && typeof order.prompt === "string") {
      const cannot = agentOrderProblem({
        agent: order.agent,
        prompt: order.prompt,
        ...(typeof order.model === "string" ? { model: order.model } : {}),
        ...((PERMISSIONS as readonly unknown[]).includes(order.permissions) ? { permissions: order.permissions as Permission } : {}),
      });
      if (cannot) out.push(problem(doc, at(cannot.field), `${name}: ${cannot.refused}`));
    }
    if (!has("agent")) {
      for (const field of ["prompt", "model", "args", "permissions"]) {
        if (has(field)) out.push(problem(doc, at(field), `${name} field ${field} only applies to agents; remove it, or make this an agent order with agent + prompt`));
      }
    }
  });
  return out;
}

/** Where an order is: its file and index. */
interface Place {
  doc: Doc;
  index: number;
}

/** An `after` entry: the order waits for `to`. */
interface Edge {
  to: string;
  doc: Doc;
  path: Path;
}

/**
 * Rules over all the order files together: ids unique across files, known
 * dependencies, no cycles, registered machines. Returns the first place of
 * each id too (its origin).
 */
function unionProblems(docs: Doc[], machines: string[] | undefined): { problems: Problem[]; first: Map<string, Place> } {
  const out: Problem[] = [];
  const first = new Map<string, Place>();

  for (const doc of docs) {
    rawOrders(doc).forEach((order, i) => {
      if (!isRecord(order)) return;
      const at = (...rest: Path): Path => ["orders", i, ...rest];

      // unique ids
      if (typeof order.id === "string") {
        const seen = first.get(order.id);
        if (seen === undefined) first.set(order.id, { doc, index: i });
        else {
          const line = lineOf(seen.doc, ["orders", seen.index, "id"]);
          const where = seen.doc === doc ? `at line ${line}` : `in ${seen.doc.file} at line ${line}`;
          out.push(problem(doc, at("id"), `order id "${order.id}" is already used ${where}; give each order its own id`));
        }
      }

      // registered machines
      if (machines) {
        const known = new Set(machines);
        const list = machines.length ? `registered: ${[...machines].sort().join(", ")}` : "no machine is registered yet";
        const check = (target: unknown, path: Path) => {
          if (typeof target !== "string" || isGroup(target) || machineNameProblem(target)) return;
          if (!known.has(target))
            out.push(problem(doc, path, `${placeName(doc, path)}: no machine named "${target}" is registered (${list}); fix the name or set up that machine first`));
        };
        if (Array.isArray(order.to)) for (const [k, target] of order.to.entries()) check(target, at("to", k));
        else check(order.to, at("to"));
      }
    });
  }

  // after: known ids, no self-dependency
  const edges = new Map<string, Edge[]>();
  for (const doc of docs) {
    rawOrders(doc).forEach((order, i) => {
      if (!isRecord(order) || !Array.isArray(order.after)) return;
      const id = typeof order.id === "string" ? order.id : undefined;
      const mine: Edge[] = [];
      order.after.forEach((dep, k) => {
        if (typeof dep !== "string") return;
        const path: Path = ["orders", i, "after", k];
        if (dep === id) out.push(problem(doc, path, `${orderName(doc, i)} field after: it depends on itself; remove "${dep}" from after`));
        else if (!first.has(dep)) out.push(problem(doc, path, `${orderName(doc, i)} field after: there is no order "${dep}"; fix the id or remove it`));
        else mine.push({ to: dep, doc, path });
      });
      const place = id === undefined ? undefined : first.get(id);
      if (id !== undefined && place?.doc === doc && place.index === i) edges.set(id, mine);
    });
  }
  out.push(...cycleProblems(edges));
  return { problems: out, first };
}

/** Dependency cycles, each reported once at the `after` entry that closes it. */
function cycleProblems(edges: Map<string, Edge[]>): Problem[] {
  const out: Problem[] = [];
  const state = new Map<string, "active" | "done">();
  const stack: string[] = [];
  const reported = new Set<string>();

  const visit = (id: string): void => {
    state.set(id, "active");
    stack.push(id);
    for (const edge of edges.get(id) ?? []) {
      const s = state.get(edge.to);
      if (s === undefined) visit(edge.to);
      else if (s === "active") {
        // Start the cycle at this order: id waits for edge.to, which waits ... for id.
        const cycle = [id, ...stack.slice(stack.indexOf(edge.to), -1), id];
        const key = [...new Set(cycle)].sort().join("\n");
        if (reported.has(key)) continue;
        reported.add(key);
        out.push(
          problem(
            edge.doc,
            edge.path,
            `${placeName(edge.doc, edge.path.slice(0, -1))}: the orders wait for each other in a cycle, ${cycle.join(" → ")}, so none of them can start; remove one of these after entries`,
          ),
        );
      }
    }
    stack.pop();
    state.set(id, "done");
  };
  for (const id of edges.keys()) if (!state.has(id)) visit(id);
  return out;
}

// ------------------------------------------------------------------- the API

/** The parsed form of one order as written: env objects become values plus the names of the secret ones. */
function toOrder(written: z.output<typeof OrderSchema>): Order {
  const env: Record<string, string> = {};
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(written.env)) {
    if (typeof value === "string") env[name] = value;
    else {
      env[name] = value.value;
      if (value.secret) secrets.push(name);
    }
  }
  return { ...written, env, ...(secrets.length ? { secrets } : {}) };
}

/**
 * One file on its own: syntax, version, schema, duplicate keys and the rules
 * within each order. `doc` is there when the file is a JSON object, so the
 * rules across files can run on it; `orders` only when it has no problem.
 */
function checkFile(file: string, text: string): { doc?: Doc; orders?: Order[]; problems: Problem[] } {
  // Bounded before any parser runs: a huge or deeply nested file is this file's problem, not a crash.
  const cannot = unreadable(file, text, ORDERS_LIMIT);
  if (cannot) return { problems: [{ file, path: "", message: `${file} is not read: ${cannot}; fix it and commit again` }] };
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const starts = lineStarts(text);

  if (text.trim() === "") {
    return { problems: [{ file, line: 1, path: "", message: `${file} is empty; write {"version": 1, "orders": []} for a file with no orders` }] };
  }

  const marker = /^(<<<<<<<|=======|>>>>>>>)/m.exec(text);
  if (marker) {
    const line = lineAt(starts, marker.index);
    return {
      problems: [{ file, line, path: "", message: `${file} has git conflict markers at line ${line}: resolve the merge, then commit the file again` }],
    };
  }

  const deep = jsonDepth(text, MAX_DEPTH);
  if (deep.offset !== undefined) {
    const line = lineAt(starts, deep.offset);
    return {
      problems: [
        { file, line, path: "", message: `${file} nests lists and objects more than ${MAX_DEPTH} levels deep at line ${line}; orders need a few levels, so fix the file` },
      ],
    };
  }

  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const doc: Doc = { file, root: root!, data: root ? getNodeValue(root) : undefined, lineStarts: starts };
  if (errors[0] || !root) {
    // Later syntax errors are mostly echoes of the first one.
    const first = errors[0] ?? { error: 4, offset: 0, length: 0 };
    return { problems: [syntaxProblem(doc, first, text)] };
  }
  if (!isRecord(doc.data)) {
    return {
      problems: [{ file, line: 1, path: "", message: `${file} must hold one JSON object like {"version": 1, "orders": [...]}, not ${show(doc.data)}` }],
    };
  }

  const problems: Problem[] = [];
  const version = doc.data.version;
  if (typeof version === "number" && Number.isInteger(version) && version > 1) {
    // A newer format: its other rules are unknown here, so say only this.
    return {
      problems: [problem(doc, ["version"], `${file} is version ${version}, written for a newer coord; upgrade coord on this machine to read it`)],
    };
  }
  if (version === undefined) {
    problems.push({ file, line: 1, path: "version", message: `${file} has no version; add "version": 1 at the top level` });
  }

  const result = OrdersFileSchema.safeParse(doc.data);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (version === undefined && issue.path.length === 1 && issue.path[0] === "version") continue;
      problems.push(...issueProblems(doc, issue));
    }
  }
  problems.push(...duplicateKeyProblems(doc, root), ...orderFieldProblems(doc));
  const orders = result.success && problems.length === 0 ? result.data.orders.map(toOrder) : undefined;
  return { doc, orders, problems };
}

/**
 * Parse and validate the order files together: ORDERS.json and the machines'
 * coordination/orders/<name>.json. Each file is checked on its own, then the
 * rules across orders run on their union (ids unique across files, known
 * dependencies, no cycles, registered machines). Returns the orders (defaults
 * applied, in the order of `sources`) only when there is no problem anywhere;
 * otherwise every problem, by file then line. `origin`: order id → the file
 * that defines it (the first one, for a duplicate). `machines`: the registered
 * machine names; when given, orders addressed to other names are errors.
 */
export function parseOrderSources(
  sources: { file: string; text: string }[],
  opts: { machines?: string[] } = {},
): { orders?: Orders; problems: Problem[]; origin: Record<string, string> } {
  const checked = sources.map((s) => checkFile(s.file, s.text));
  const docs = checked.flatMap((c) => (c.doc ? [c.doc] : []));
  const union = unionProblems(docs, opts.machines);
  const origin = ownTable<string>();
  for (const [id, place] of union.first) origin[id] = place.doc.file;

  const rank = new Map(sources.map((s, i) => [s.file, i] as const));
  const problems = [...checked.flatMap((c) => c.problems), ...union.problems].sort((a, b) => (rank.get(a.file) ?? 0) - (rank.get(b.file) ?? 0) || (a.line ?? 0) - (b.line ?? 0));
  if (problems.length > 0 || checked.some((c) => !c.orders)) return { problems, origin };
  return { orders: { version: 1, orders: checked.flatMap((c) => c.orders!) }, problems: [], origin };
}

/**
 * Parse and validate one file of orders (ORDERS.json by default) on its own.
 * Returns the orders only when there is no problem at all; otherwise every
 * problem found, sorted by line.
 */
export function parseOrders(text: string, opts: { file?: string; machines?: string[] } = {}): { orders?: Orders; problems: Problem[] } {
  const { orders, problems } = parseOrderSources([{ file: opts.file ?? "ORDERS.json", text }], opts);
  return orders ? { orders, problems } : { problems };
}

/** `ORDERS.json:12 orders[2].timeout: message`, leaving out what is unknown. */
export function formatProblem(p: Problem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}` : p.file;
  return p.path ? `${where} ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

/**
 * The registered machines an order is addressed to by name: a name → [name],
 * a list → the list, "ALL" → every machine (sorted), "ANY" → [] (nobody in
 * particular; machines claim it). `requires` is not checked here.
 */
export function ordersTargets(order: Order, machines: string[]): string[] {
  if (Array.isArray(order.to)) return [...order.to];
  if (order.to === "ALL") return [...machines].sort();
  if (order.to === "ANY") return [];
  return [order.to];
}
