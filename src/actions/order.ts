// coord order add / cancel / list: work given from the command line.
//
// A machine delegates: the order goes into its own coordination/orders/<name>.json
// (local state, published at its next sync). A person (--human) commits to
// ORDERS.json in any clone of the hub, as themselves, changing only the text of
// that order. Either way the orders as they would be afterwards are checked
// first, and nothing is written when they would be invalid.
import { SANDBOXED_ENV } from "../core/agents/sandbox.js";
import { commitOf } from "../git/hub.js";
import { randomInt } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ADD_FIELDS } from "../core/orders/order-fields.js";
import { cancelOrder, insertOrder, orderIndex } from "../core/orders/orders-text.js";
import { formatProblem } from "../core/orders/orders.js";
import { delegatedOrdersPath, ORDERS_FILE, readModel, type RepoModel } from "../core/repo/repo.js";
import { deriveStatus } from "../core/status/status.js";
import type { Problem, TaskState } from "../core/types.js";
import { peopleBranchRefused, personClone } from "../daemon/watch.js";
import { CoordError, EXIT, PushRefused } from "../errors.js";
import type { Repo } from "../git/git.js";
import { readDelegated, renderDelegated, updateDelegated, type DelegatedOrders } from "../state/delegated.js";
import { PUSH_BUDGET_MS, publishWithRetry } from "../sync/cas.js";
import { openMachine, READ_PATHS } from "../sync/sync.js";
import { lastVerified } from "../sync/trust.js";
import { openClone, personAuthor } from "../sync/clone.js";
import type { GitMachine } from "../sync/machine.js";
import { refuseUnpublishable } from "../state/secrets.js";

// ------------------------------------------------------------------ clones

/** The files of the last fetched commit (works offline). */
async function lastFetched(repo: Repo): Promise<{ tip: string; files: Map<string, string> }> {
  const tip = await repo.resolve(repo.trackingRef);
  if (!tip) throw new CoordError(`nothing fetched from ${repo.remote}/${repo.branch} yet; run coord sync (or git fetch) first`, EXIT.FAILURE);
  return { tip, files: await repo.readFiles(tip, READ_PATHS) };
}

/**
 * What machine `m` last fetched, as it last verified it (sync/trust.ts lastVerified): its own delegated orders as it
 * signed them (a version someone else pushed is never taken in and published again under its key: found in attack),
 * and, with signed orders, ORDERS.json as last accepted.
 */
async function lastFetchedVerified(m: GitMachine): Promise<Map<string, string>> {
  return lastVerified(m, (await lastFetched(m.repo)).files);
}

/** The flag of `coord order add` that sets each field of an order (core/orders/order-fields.ts; the command goes after --). */
const FLAGS = new Map<string, string>([...ADD_FIELDS.map((f): [string, string] => [f.name, f.flag]), ["run", "the command after --"]]);

/**
 * Refuses a change with its problems; those in the order the command line
 * wrote (`added`: its file and index) are named by the flag that set them
 * (a tool call's: by the field), one problem a line (a tool call's: one line).
 */
function refuse(what: string, problems: Problem[], added?: { file: string; index: number }, by: "cli" | "tool" = "cli"): CoordError {
  const prefix = added && `orders[${added.index}]`;
  const line = (p: Problem) => {
    if (added && p.file === added.file && p.path && (p.path === prefix || p.path.startsWith(`${prefix}.`))) {
      const field = p.path.slice(prefix!.length + 1).split(/[.[]/)[0] ?? "";
      // (A tool's caller wrote the fields themselves: the problem, which names its field, is enough.)
      if (by === "tool") return p.message;
      const flag = FLAGS.get(field);
      if (flag) return `${flag}: ${p.message}`;
    }
    return formatProblem(p);
  };
  if (by === "tool") return new CoordError(`${what}, nothing was changed: ${problems.map(line).join("; ")}`, EXIT.USAGE);
  const list = problems.map((p) => `  ${line(p)}`).join("\n");
  return new CoordError(`${what}: the orders would be invalid, so nothing was changed:\n${list}`, EXIT.USAGE);
}

// ------------------------------------------------------------ the order

export interface OrderAddOptions {
  dir: string;
  /** The machine of `dir` when the caller opened it already (coord mcp's tools): not opened again. */
  machine?: GitMachine;
  /** A machine name, a comma-separated list, ALL or ANY. */
  to: string;
  /**
   * The order's other fields as written in ORDERS.json (core/orders/order-fields.ts ADD_FIELDS: run, or agent and prompt;
   * id, after, timeout, every, …); checked with the whole file before anything is written.
   */
  fields: Record<string, unknown>;
  /** A person's order: committed to ORDERS.json as the clone's git user, instead of this machine's delegated orders. */
  human?: boolean;
  now?: () => Date;
  /** Who asks: the command line (problems named by flag, one a line) or a tool call of coord mcp (by field, in one line). */
  by?: "cli" | "tool";
}

export interface OrderChange {
  id: string;
  /** The file the order is in. */
  file: string;
  /** With --human: the commit pushed (undefined when nothing had to change). */
  commit?: string;
  /** False when the order already was as asked (cancelled twice). */
  changed: boolean;
  warnings: string[];
}

/** `izzit7-20250601093000-k3f9`: who, when (UTC), and 4 random characters. */
export function newOrderId(who: string, now: Date): string {
  const stamp = now.toISOString().replace(/\D/g, "").slice(0, 14);
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  const random = Array.from({ length: 4 }, () => chars[randomInt(chars.length)]).join("");
  return `${who}-${stamp}-${random}`;
}

/** The order as written in a file: its id, whom it is for, and the fields given; the validation of the result says what is wrong with it. */
function writtenOrder(opts: OrderAddOptions, id: string): Record<string, unknown> {
  const names = opts.to
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const order: Record<string, unknown> = { id, to: names.length === 1 ? names[0] : names };
  for (const f of ADD_FIELDS) {
    const value = Object.hasOwn(opts.fields, f.name) ? opts.fields[f.name] : undefined;
    if (f.name === "id" || f.name === "to" || value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    order[f.name] = value;
  }
  return order;
}

/** The machine's delegated orders; when its local copy is gone (a reinstall), the published file as it signed it is the start. */
function seed(data: DelegatedOrders, published: string | undefined): void {
  if (data.orders.length > 0 || published === undefined) return;
  try {
    const parsed = JSON.parse(published) as { orders?: unknown };
    if (Array.isArray(parsed.orders)) data.orders.push(...(parsed.orders as Record<string, unknown>[]));
  } catch {
    // A broken published file is replaced by what this machine writes.
  }
}

/** The id the caller gave, if any (a wrong one is the validation's to name). */
function givenId(opts: OrderAddOptions): string | undefined {
  const id = Object.hasOwn(opts.fields, "id") ? opts.fields.id : undefined;
  return typeof id === "string" ? id : undefined;
}

export async function orderAdd(opts: OrderAddOptions): Promise<OrderChange> {
  // An agent coord started (a turn on call for another machine's asker, an agent order) gives no orders: its machine's
  // orders run outside the agent's sandbox and are signed with the machine's key (docs/security.md).
  if (process.env[SANDBOXED_ENV])
    throw new CoordError("an agent coord started cannot give orders: they would run outside its sandbox, as this machine; ask a person there", EXIT.USAGE);
  const now = opts.now?.() ?? new Date();
  if (opts.human) {
    const id = givenId(opts) ?? newOrderId("person", now);
    const order = writtenOrder(opts, id);
    return asPerson(opts.dir, `coord order add ${id}`, id, ADDING, (text) => {
      const next = insertOrder(text, order);
      if (next === undefined) throw new CoordError(`${ORDERS_FILE} has no list of orders to add to; fix it first (coord validate)`, EXIT.USAGE);
      return next;
    });
  }
  const m = opts.machine ?? (await openMachine(opts.dir));
  const me = m.config.name;
  const own = delegatedOrdersPath(me);
  const id = givenId(opts) ?? newOrderId(me, now);
  const order = writtenOrder(opts, id);
  await refuseUnpublishable(m.stateDir, m.config, `order ${id}`, [JSON.stringify(order)]);
  let files = await lastFetchedVerified(m);
  const problems = (data: DelegatedOrders) => readModel(new Map(files).set(own, renderDelegated(data))).ordersProblems;
  const add = (data: DelegatedOrders) => {
    seed(data, files.get(own));
    data.orders.push(order);
  };
  // Perhaps a machine registered (or an order came) since the last sync: look once more at the remote (offline, the last fetch stands).
  const draft = await readDelegated(m.stateDir);
  add(draft);
  if (problems(draft).length && (await m.repo.fetch().catch(() => undefined))) files = await lastFetchedVerified(m);
  await updateDelegated(m.stateDir, (data) => {
    add(data);
    const found = problems(data);
    if (found.length) throw refuse(`order ${id} was not added`, found, { file: own, index: data.orders.length - 1 }, opts.by);
  });
  return { id, file: own, changed: true, warnings: [] };
}

export async function orderCancel(opts: { dir: string; id: string; human?: boolean }): Promise<OrderChange> {
  const { id } = opts;
  if (opts.human) {
    return asPerson(opts.dir, `coord order cancel ${id}`, id, CANCELLING, (text, model) => {
      const index = orderIndex(text, id);
      if (index === undefined) {
        const origin = model.ordersOrigin[id];
        const owner = origin?.replace(/^coordination\/orders\/(.+)\.json$/, "$1");
        throw new CoordError(
          origin && owner !== origin
            ? `order ${id} is delegated by machine ${owner} (${origin}); cancel it there: coord order cancel ${id} --dir <its checkout>`
            : `there is no order ${id} in ${ORDERS_FILE}; see coord order list`,
          EXIT.USAGE,
        );
      }
      return cancelOrder(text, index);
    });
  }
  const m = await openMachine(opts.dir);
  const own = delegatedOrdersPath(m.config.name);
  const files = await lastFetchedVerified(m);
  const changed = await updateDelegated(m.stateDir, (data) => {
    seed(data, files.get(own));
    const order = data.orders.find((o) => o.id === id);
    if (!order) {
      const origin = readModel(files).ordersOrigin[id];
      const where = origin
        ? `it is in ${origin}${origin === ORDERS_FILE ? "; a person cancels it with coord order cancel --human, or by editing ORDERS.json" : ""}`
        : "see coord order list";
      throw new CoordError(`order ${id} is not one of ${m.config.name}'s delegated orders; ${where}`, EXIT.USAGE);
    }
    if (order.cancelled === true) return false;
    order.cancelled = true;
    return true;
  });
  return { id, file: own, changed, warnings: [] };
}

// ---------------------------------------------------------- as a person

/**
 * The clone's git user, as whom a person's commits are made; a usage error when it has none, saying which
 * commit needs it (`commits`: the command's, as the sentence begins).
 */

/** A person's change of ORDERS.json: whether the result is validated, and how it is made from a person's clone when the hub refuses this one's push. */
interface PersonChange {
  validate: boolean;
  what: string;
  again: (id: string) => string;
}

const ADDING: PersonChange = { validate: true, what: "add the order", again: () => "coord order add --human --dir fleet with the same options" };
const CANCELLING: PersonChange = { validate: false, what: "cancel the order", again: (id) => `coord order cancel ${id} --human --dir fleet` };

/**
 * Changes ORDERS.json on the remote tip as the clone's git user: fetch, edit the
 * text, check, commit, push without force; a rejected push is redone on the new
 * tip (at most 10 times). `edit` returning the text unchanged commits nothing.
 * A push the hub refuses (a machine's key where only people may push main) says
 * so, and how to make the change from a person's clone.
 */
async function asPerson(dir: string, message: string, id: string, change: PersonChange, edit: (text: string, model: RepoModel) => string): Promise<OrderChange> {
  const author = await personAuthor(dir);
  const scratch = await mkdtemp(join(tmpdir(), "coord-order-"));
  try {
    const { repo } = await openClone(dir, scratch);
    return await publishWithRetry<OrderChange>(
      {
        attempt: async () => {
          const tip = await repo.fetch();
          if (!tip) throw new CoordError(`the remote has no branch ${repo.branch}; is ${dir} a clone of a coord hub?`, EXIT.USAGE);
          const files = await repo.readFiles(tip, READ_PATHS);
          const text = files.get(ORDERS_FILE);
          if (text === undefined) throw new CoordError(`${ORDERS_FILE} is missing on ${repo.remote}/${repo.branch}; restore it first`, EXIT.USAGE);
          const next = edit(text, readModel(files));
          if (next === text) return { done: { id, file: ORDERS_FILE, changed: false, warnings: [] } };
          if (change.validate) {
            const model = readModel(new Map(files).set(ORDERS_FILE, next));
            if (model.ordersProblems.length) throw refuse(`order ${id} was not added`, model.ordersProblems, { file: ORDERS_FILE, index: orderIndex(next, id) ?? -1 });
          }
          const commit = await repo.commitFiles(tip, new Map([[ORDERS_FILE, next]]), author, message);
          return {
            commit,
            landed: async () => {
              const warning = await repo.fastForward(commit);
              const keep = "what was pushed does not have your uncommitted edits; to bring both together: git stash && git pull --ff-only && git stash pop";
              return { id, file: ORDERS_FILE, commit: commitOf(commit, "people"), changed: true, warnings: warning ? [`${warning}; ${keep}`] : [] };
            },
          };
        },
        push: (commit) =>
          repo.push(commit, ["people"]).catch(async (e: unknown) => {
            if (!(e instanceof PushRefused)) throw e;
            const clone = personClone(repo.branch, await repo.displayUrl());
            throw peopleBranchRefused(
              e,
              repo.branch,
              `nothing was changed; ${change.what} from a person's clone: ${clone}, then ${change.again(id)} (or edit ${ORDERS_FILE} there, commit and push)`,
            );
          }),
        gaveUp: (n, ms) => new CoordError(`others pushed first ${n} times in ${Math.round(ms / 1000)} s; nothing was changed, try again`, EXIT.FAILURE),
      },
      { budgetMs: PUSH_BUDGET_MS },
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ list

export interface OrderListEntry {
  id: string;
  /** ORDERS.json or coordination/orders/<machine>.json ("" when only a machine's report knows the order). */
  origin: string;
  rev: number;
  to: string | string[];
  state: TaskState;
  /** Machine → its state for this order. */
  machines: Record<string, TaskState>;
}

/** Every order of the union at the last fetched commit, with its summary state and the file it comes from. */
export async function orderList(dir: string): Promise<{ orders: OrderListEntry[]; problems: Problem[] }> {
  const { repo } = await openClone(dir);
  const model = readModel((await lastFetched(repo)).files);
  const status = deriveStatus(model);
  const orders = Object.entries(status.orders).map(([id, o]) => ({
    id,
    origin: model.ordersOrigin[id] ?? "",
    rev: o.rev,
    to: o.to,
    state: o.state,
    machines: Object.fromEntries(Object.entries(o.machines).map(([name, s]) => [name, s.state])),
  }));
  return { orders, problems: model.ordersProblems };
}
