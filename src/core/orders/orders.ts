// ORDERS.json: turn the text people write into validated Orders, or into a list
// of problems that each say what is wrong, where (line and JSON path) and what
// to do. Pure: no files, git or clock. An invalid file yields no orders at all.
// The parts: the schema (orders-schema.ts), problems located in the text
// (orders-problems.ts); here, the rules across fields and files and the entry
// points.
import { getNodeValue, parseTree, type ParseError } from "jsonc-parser";
import { agentOrderProblem, PERMISSIONS, type Permission } from "../agents/agents.js";
import { jsonDepth, MAX_DEPTH, ORDERS_LIMIT, unreadable } from "../limits.js";
import { machineNameProblem } from "../files/names.js";
import { sanitizeText } from "../files/shown.js";
import {
  type Doc,
  duplicateKeyProblems,
  issueProblems,
  lineAt,
  lineOf,
  lineStarts,
  orderName,
  type Path,
  placeName,
  problem,
  show,
  syntaxProblem,
  valueAt,
} from "./orders-problems.js";
import { isGroup, type Order, type Orders, OrdersFileSchema, toOrder } from "./orders-schema.js";
import { envValueWarning, writtenFieldWarning } from "../trust/secrets.js";
import { isRecord, ownTable, type Problem } from "../types.js";

// ------------------------------------------------- rules across fields and files

/** The raw orders of a file, as written (the rules below run even when the schema failed). */
function rawOrders(doc: Doc): unknown[] {
  const raw = valueAt(doc.data, ["orders"]);
  return Array.isArray(raw) ? raw : [];
}

/** Rules across the fields of one order: run XOR agent + prompt; prefer only for "ANY"; timezone only with every. */
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
    if (has("timezone") && !has("every")) {
      out.push(problem(doc, at("timezone"), `${name} has timezone, which only applies with every; add every (a cron expression), or remove timezone`));
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

/**
 * Warnings, not problems (the file stays valid): credentials written where
 * they should not be, in the repository — an env value marked secret, one
 * that looks like a token or sits under a secret's name; a token, a URL's
 * password, a `password=…` in a command, a directory or an agent's argument —
 * each with how to move it to the machines' secret stores. Orders' and
 * services' alike; a warning names where, never the value.
 */
function credentialWarnings(doc: Doc): Problem[] {
  const out: Problem[] = [];
  const warn = (path: Path, warning: string | undefined) => {
    if (warning) out.push(problem(doc, path, `${placeName(doc, path)}: ${warning}`));
  };
  for (const list of ["orders", "services"] as const) {
    const entries = valueAt(doc.data, [list]);
    if (!Array.isArray(entries)) continue;
    entries.forEach((entry: unknown, i) => {
      if (!isRecord(entry)) return;
      for (const field of ["run", "cwd"] as const) if (typeof entry[field] === "string") warn([list, i, field], writtenFieldWarning(field, entry[field]));
      if (Array.isArray(entry.args))
        entry.args.forEach((arg: unknown, j) => {
          if (typeof arg === "string") warn([list, i, "args", j], writtenFieldWarning("args", arg));
        });
      if (!isRecord(entry.env)) return;
      for (const [variable, written] of Object.entries(entry.env)) {
        if (typeof written !== "string" && !isRecord(written)) continue;
        warn([list, i, "env", variable], envValueWarning(variable, written));
      }
    });
  }
  return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
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
  const known = new Set(machines);
  const list = machines?.length ? `registered: ${[...machines].sort().join(", ")}` : "no machine is registered yet";

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

/** A machine's delegated orders (coordination/orders/<machine>.json), where a person's fields (services, controls) do not belong. */
const isDelegatedFile = (file: string) => /(^|\/)coordination\/orders\/[^/]+\.json$/.test(file);

/** The fleet controls (core/hub/controls.ts) and the fleet's keys are a person's: only in ORDERS.json; `pause` and `keys` name machines. */
function controlProblems(doc: Doc): Problem[] {
  const data = doc.data as Record<string, unknown>;
  const out: Problem[] = [];
  // Any other path is a person's ORDERS.json checked before it is pushed (coord validate ~/fleet/ORDERS.json).
  for (const key of ["emergency", "pause", "services", "keys"] as const)
    if (isDelegatedFile(doc.file) && Object.hasOwn(data, key)) out.push(problem(doc, [key], `${key} belongs in ORDERS.json (a person's file), not in ${doc.file}; remove it here`));
  for (const field of ["pause", "keys"] as const) {
    const named = data[field];
    if (isRecord(named))
      for (const name of Object.keys(named)) {
        const bad = machineNameProblem(name);
        if (bad) out.push(problem(doc, [field, name], bad));
      }
  }
  return out;
}

// ------------------------------------------------------------------- the API

/**
 * One file on its own: syntax, version, schema, duplicate keys and the rules
 * within each order. `doc` is there when the file is a JSON object, so the
 * rules across files can run on it; `orders` only when it has no problem.
 */
function checkFile(file: string, text: string): { doc?: Doc; orders?: Order[]; problems: Problem[]; warnings?: Problem[] } {
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

  // Services are read on their own (core/services/services.ts): a bad service is that service's problem, never the orders'.
  const { services: _services, ...withoutServices } = doc.data;
  const result = OrdersFileSchema.safeParse(isDelegatedFile(file) ? doc.data : withoutServices);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (version === undefined && issue.path.length === 1 && issue.path[0] === "version") continue;
      problems.push(...issueProblems(doc, issue));
    }
  }
  const duplicates = duplicateKeyProblems(doc, root).filter((p) => isDelegatedFile(file) || !/^services(\[|$)/.test(p.path ?? ""));
  problems.push(...duplicates, ...orderFieldProblems(doc), ...controlProblems(doc));
  const orders = result.success && problems.length === 0 ? result.data.orders.map(toOrder) : undefined;
  return { doc, orders, problems, warnings: credentialWarnings(doc) };
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
): { orders?: Orders; problems: Problem[]; origin: Record<string, string>; warnings: Problem[] } {
  const checked = sources.map((s) => checkFile(s.file, s.text));
  const warnings = checked.flatMap((c) => c.warnings ?? []);
  const docs = checked.flatMap((c) => (c.doc ? [c.doc] : []));
  const union = unionProblems(docs, opts.machines);
  const origin = ownTable<string>();
  for (const [id, place] of union.first) origin[id] = place.doc.file;

  const rank = new Map(sources.map((s, i) => [s.file, i] as const));
  const problems = [...checked.flatMap((c) => c.problems), ...union.problems].sort((a, b) => (rank.get(a.file) ?? 0) - (rank.get(b.file) ?? 0) || (a.line ?? 0) - (b.line ?? 0));
  if (problems.length > 0 || checked.some((c) => !c.orders)) return { problems, origin, warnings };
  return { orders: { version: 1, orders: checked.flatMap((c) => c.orders!) }, problems: [], origin, warnings };
}

/** What parseOrderSources returned, given back after a trip through JSON (a parse cache): its tables without a prototype again. */
export function reviveOrderSources<T extends { orders?: Orders; origin: Record<string, string> }>(parsed: T): T {
  const orders = parsed.orders?.orders.map((o) => ({ ...o, env: ownTable(o.env), ...(o.secretRefs ? { secretRefs: ownTable(o.secretRefs) } : {}) }));
  return { ...parsed, origin: ownTable(parsed.origin), ...(parsed.orders && orders ? { orders: { ...parsed.orders, orders } } : {}) };
}

/**
 * Parse and validate one file of orders (ORDERS.json by default) on its own.
 * Returns the orders only when there is no problem at all; otherwise every
 * problem found, sorted by line.
 */
export function parseOrders(text: string, opts: { file?: string; machines?: string[] } = {}): { orders?: Orders; problems: Problem[]; warnings: Problem[] } {
  const { orders, problems, warnings } = parseOrderSources([{ file: opts.file ?? "ORDERS.json", text }], opts);
  return orders ? { orders, problems, warnings } : { problems, warnings };
}

/**
 * `ORDERS.json:12 orders[2].timeout: message`, leaving out what is unknown; as a person may be shown it (a parser's
 * message quotes the file's line, which another machine wrote: its escapes and bidi controls are written as \u escapes).
 */
export function formatProblem(p: Problem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}` : p.file;
  return sanitizeText(p.path ? `${where} ${p.path}: ${p.message}` : `${where}: ${p.message}`);
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
