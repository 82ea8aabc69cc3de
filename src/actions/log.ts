// coord log <order-id>: an order's history across machines, from git alone.
// Walks the commits that touched the order files or the machines' files and
// says what changed for this order in each: its definition (who added, bumped,
// cancelled or removed it) and each machine's report (state, attempts, exit).
import { describeAgentRun } from "../core/agents/agents.js";
import { parseComputer, type TaskReport } from "../core/fleet/computer.js";
import { machineOfPath } from "../core/files/names.js";
import { ORDERS_DIR, ORDERS_FILE } from "../core/repo/repo.js";
import { type Role, roleOf } from "../core/trust/ownership.js";
import { commitOf, type PathLogEntry } from "../git/hub.js";
import type { HistoryMark } from "../core/hub/status-history.js";
import type { Repo } from "../git/git.js";
import { isRecord } from "../core/types.js";
import { shownLine } from "../core/files/shown.js";
import { CoordError, EXIT } from "../errors.js";
import { openClone } from "../sync/clone.js";
import { type Belief, judgeChange } from "../core/trust/history-belief.js";
import { ownerOf } from "../core/trust/ownership.js";
import { ordersSigners, readPins, readRoster, withSignersFile } from "../state/trust.js";
import { rosterAdmits } from "../core/trust/roster.js";
import { openMachine } from "../sync/machine.js";
import { machineOfFile, verifiedByOwner } from "../sync/trust.js";

export interface LogEvent {
  /** The commit's author date, ISO 8601. */
  at: string;
  commit: string;
  /** The commit's author for a change of the order or a refused change; the machine for a change of its report. */
  who: string;
  what: string;
  /** A change this machine's sync refuses (not signed by whom the file's owner must be): not believed, and not shown as what it said. */
  refused?: true;
}

/** The paths of the log on each branch: ORDERS.json on the people's, delegated orders and machines' files on the machines'. */
const PATHS: Record<Role, string[]> = { people: [ORDERS_FILE], machines: [ORDERS_DIR, "coordination/COMPUTER_*.md"] };

/** Where the order is defined and how, or undefined. A file that does not parse keeps what it said before. */
interface Definition {
  file: string;
  order: Record<string, unknown>;
}

function definitionIn(files: Map<string, string>, id: string, before: Definition | undefined): Definition | undefined {
  const sources = [...files.keys()]
    .filter((p) => p === ORDERS_FILE || p.startsWith(`${ORDERS_DIR}/`))
    .sort((a, b) => (a === ORDERS_FILE ? -1 : b === ORDERS_FILE ? 1 : a < b ? -1 : 1));
  for (const file of sources) {
    let data: unknown;
    try {
      data = JSON.parse(files.get(file)!);
    } catch {
      // Not JSON at this commit (a person's half-done edit): the order stays as it was in this file.
      if (before?.file === file) return before;
      continue;
    }
    const list = isRecord(data) && Array.isArray(data.orders) ? data.orders : [];
    const order = list.find((o): o is Record<string, unknown> => isRecord(o) && o.id === id);
    if (order) return { file, order };
  }
  return undefined;
}

function describeDefinition(before: Definition | undefined, after: Definition | undefined): string | undefined {
  const rev = (d: Definition) => (typeof d.order.rev === "number" ? d.order.rev : 1);
  if (!before && !after) return undefined;
  if (!before)
    return `added in ${after!.file} (rev ${rev(after!)}, to ${JSON.stringify(after!.order.to)}${typeof after!.order.run === "string" ? `, run ${JSON.stringify(after!.order.run)}` : ""}${after!.order.cancelled === true ? ", cancelled" : ""})`;
  if (!after) return `removed from ${before.file}`;
  const changes: string[] = [];
  if (before.file !== after.file) changes.push(`moved to ${after.file}`);
  if (rev(before) !== rev(after)) changes.push(`rev ${rev(before)} → ${rev(after)}`);
  if ((before.order.cancelled === true) !== (after.order.cancelled === true)) changes.push(after.order.cancelled === true ? "cancelled" : "no longer cancelled");
  const fields = [...new Set([...Object.keys(before.order), ...Object.keys(after.order)])].filter(
    (k) => !["rev", "cancelled"].includes(k) && JSON.stringify(before.order[k]) !== JSON.stringify(after.order[k]),
  );
  if (fields.length) changes.push(`changed ${fields.join(", ")}`);
  return changes.length ? changes.join("; ") : undefined;
}

/** The parts of a report the log speaks about. */
function reportKey(t: TaskReport | undefined): string {
  return t ? JSON.stringify([t.rev, t.state, t.attempts, t.exitCode ?? null, t.reason ?? null, t.takeoverFrom ?? null]) : "";
}

function describeReport(t: TaskReport): string {
  const details = [`rev ${t.rev}`, `attempt ${t.attempts}`];
  if (t.exitCode !== undefined && t.exitCode !== null) details.push(`exit ${t.exitCode}`);
  if (t.reason) details.push(t.reason);
  if (t.takeoverFrom) details.push(`taken over from ${t.takeoverFrom}`);
  if (t.agent) details.push(describeAgentRun(t.agent));
  return `${t.state} (${details.join(", ")})`;
}

/**
 * The order's events, oldest first, from at most `maxCount` of the latest commits that touched the order or machine
 * files. `here`: from the commits the checkout has, never fetching older ones (a shallow checkout's history is cut).
 */
export async function orderLog(opts: { dir: string; id: string; maxCount?: number; here?: boolean }): Promise<LogEvent[]> {
  const { repo, machine } = await openClone(opts.dir);
  const tip = await repo.resolve(repo.trackingRef);
  if (!tip) throw new CoordError(`nothing fetched from ${repo.remote}/${repo.branch} yet; run coord sync (or git fetch) first`, EXIT.FAILURE);
  const max = opts.maxCount ?? 300;
  if (!Number.isInteger(max) || max < 1) throw new CoordError(`--max-count must be a whole number, 1 or more`, EXIT.USAGE);

  // Only the files a sync reads (an odd name under coordination/ is no order and no machine's report).
  const commits = (await branchesLog(repo, tip, max, opts.here === true)).map((c) => ({ ...c, paths: c.paths.filter(logged) }));
  if (commits.length === 0) return [];
  // In a machine's checkout, the history as its sync believes it: a change it refuses is said, never taken for the file.
  if (machine === undefined) return walk(repo, opts.id, commits, undefined);
  return withHistoryJudge(opts.dir, opts.here === true, (judge) => walk(repo, opts.id, commits, judge));
}

/** The paths the log reads: ORDERS.json, delegated orders files and COMPUTER files, each by a name a sync reads. */
function logged(path: string): boolean {
  const kind = ownerOf(path).kind;
  return kind === "orders" || kind === "delegated" || kind === "computer";
}

/** The order's events from the log's commits (oldest first), each file's changes taken as `judge` believes them (none: all). */
async function walk(repo: Repo, id: string, commits: (PathLogEntry & { roles: Set<Role> })[], judge: HistoryJudge | undefined): Promise<LogEvent[]> {
  // What was there before the first commit shown of each branch (the history may be cut by maxCount): a version this
  // machine does not believe counts as absent (the first believed change says what it holds).
  const files = new Map<string, string>();
  for (const role of ["people", "machines"] as const) {
    const first = commits.find((c) => c.roles.has(role));
    const parent = first && (await repo.resolve(`${first.sha}^`));
    if (!parent) continue;
    for (const [path, text] of await repo.readFiles(parent, [ORDERS_FILE, "coordination"]))
      if (roleOf(path) === role && logged(path) && (!judge || (await judge.believedAt(parent, path)))) files.set(path, text);
  }
  // The files as written, beside them: a change not believed is said only when it touched the order.
  const written = new Map(files);
  const beliefs = judge ? await judge.beliefs(commits) : new Map<string, Belief>();
  let definition = definitionIn(files, id, undefined);
  const reports = new Map<string, TaskReport | undefined>();
  const reportIn = (text: string | undefined, name: string, before: TaskReport | undefined): TaskReport | undefined => {
    if (text === undefined) return undefined;
    try {
      return parseComputer(text, name).tasks[id];
    } catch {
      return before; // a broken file says nothing new
    }
  };
  const reportOf = (path: string, name: string) => reportIn(files.get(path), name, reports.get(name));
  for (const path of files.keys()) {
    const name = machineOfPath(path);
    if (name !== undefined) reports.set(name, reportOf(path, name));
  }
  /** Whether the order reads differently in `path` after this change than before it, in the files as written. */
  const touches = (path: string, text: string | undefined): boolean => {
    const after = new Map(written);
    if (text === undefined) after.delete(path);
    else after.set(path, text);
    const name = machineOfPath(path);
    if (name === undefined) return JSON.stringify(definitionIn(after, id, undefined)) !== JSON.stringify(definitionIn(written, id, undefined));
    return reportKey(reportIn(after.get(path), name, undefined)) !== reportKey(reportIn(written.get(path), name, undefined));
  };

  const events: LogEvent[] = [];
  for (const c of commits) {
    if (c.paths.length === 0) continue; // a merge: its side's commits are in the walk
    const changed = await repo.readFiles(c.sha, c.paths);
    for (const path of c.paths) {
      const text = changed.get(path);
      const belief = beliefs.get(`${c.sha}\0${path}`) ?? { believed: true };
      if (belief.believed) {
        if (text === undefined) files.delete(path);
        else files.set(path, text);
      } else if (belief.said && touches(path, text))
        events.push({ at: c.at, commit: c.sha, who: c.who, what: `a change of ${path} not believed (${belief.why}); what it said is not shown`, refused: true });
      if (text === undefined) written.delete(path);
      else written.set(path, text);
    }
    if (c.paths.some((p) => p === ORDERS_FILE || p.startsWith(`${ORDERS_DIR}/`))) {
      const next = definitionIn(files, id, definition);
      const what = describeDefinition(definition, next);
      if (what) events.push({ at: c.at, commit: c.sha, who: c.who, what });
      definition = next;
    }
    for (const path of c.paths) {
      const name = machineOfPath(path);
      if (name === undefined) continue;
      const report = reportOf(path, name);
      if (reportKey(report) !== reportKey(reports.get(name)) && report) events.push({ at: c.at, commit: c.sha, who: name, what: describeReport(report) });
      reports.set(name, report);
    }
  }
  // Who and what come from commits and files anyone with push access wrote: one line each, as a person may be shown it.
  return events.map((e) => ({ ...e, who: shownLine(e.who), what: shownLine(e.what) }));
}

/** What a machine's checkout believes of the history (core/trust/history-belief.ts), with the keys it knows now. */
interface HistoryJudge {
  /** The belief of each logged path's change in each of `commits`, by "<commit>\0<path>" (absent: believed). */
  beliefs(commits: PathLogEntry[]): Promise<Map<string, Belief>>;
  /** Whether the version of `path` at commit `at` is believed: its newest change there is. */
  believedAt(at: string, path: string): Promise<boolean>;
}

async function withHistoryJudge<T>(dir: string, here: boolean, use: (judge: HistoryJudge) => Promise<T>): Promise<T> {
  const m = await openMachine(dir);
  const { requireSignedOrders } = m.config.trust;
  // A machine's file by its key alone: the pinned ones, and this machine's own.
  const keyed = new Map(m.config.trust.verifyMachines ? await readPins(m.stateDir) : []);
  if (m.signing?.publicKey) keyed.set(m.config.name, m.signing.publicKey);
  const orders = await ordersSigners(m.stateDir, m.config);
  // ORDERS.json's keys, as the last sync read them: a machine they do not name is believed in nothing.
  const roster = m.config.trust.verifyMachines ? await readRoster(m.stateDir) : undefined;
  return withSignersFile(keyed, (file) => {
    const machineSigners = { allowed: file };
    /** How a path's changes are judged, and against which signers. */
    const rule = (path: string) => {
      const of = machineOfFile(path);
      const unnamed = of !== undefined && !rosterAdmits(roster, of, m.config.name);
      const owner = verifiedByOwner(path, requireSignedOrders);
      if (owner !== undefined) return { kind: "machine" as const, owner, checked: keyed.has(owner) || unnamed, unnamed, signers: machineSigners };
      return { kind: "orders" as const, ...(of !== undefined ? { owner: of } : {}), checked: requireSignedOrders || unnamed, unnamed, signers: orders };
    };
    return use({
      async beliefs(commits) {
        const asked = commits.flatMap((c) => c.paths.map((path) => ({ c, path, rule: rule(path) }))).filter((x) => x.rule.checked);
        const bySigners = async (signers: { allowed: string }) =>
          m.repo.verdicts(
            asked.filter((x) => x.rule.signers === signers).map((x) => x.c.sha),
            signers,
          );
        const [byMachine, byOrders] = await Promise.all([bySigners(machineSigners), bySigners(orders)]);
        const out = new Map<string, Belief>();
        for (const { c, path, rule: r } of asked) {
          const verdict = (r.kind === "machine" ? byMachine : byOrders).get(c.sha);
          out.set(`${c.sha}\0${path}`, judgeChange({ ...r, ...(verdict ? { verdict } : {}), root: c.root === true }));
        }
        return out;
      },
      async believedAt(at, path) {
        const r = rule(path);
        if (!r.checked) return true;
        const [change] = await m.repo.signedChanges(at, path, r.signers, 1, { here });
        return !change || judgeChange({ ...r, verdict: change, root: change.root }).believed;
      },
    });
  });
}

/**
 * How far back the machines' branch sees: its depth and since when (its history is bounded: ORDERS.json's
 * "hub": {"statusHistory": …}); undefined before it exists.
 */
export async function machinesHistory(dir: string): Promise<HistoryMark | undefined> {
  const { repo } = await openClone(dir);
  const tip = await repo.resolve(repo.trackingRef);
  return tip ? repo.historyOf(tip) : undefined;
}

/**
 * The commits of both branches that changed the log's paths (PATHS), oldest first, the latest `max`: each
 * branch's own paths from its own history. Their history before the hub was upgraded is one (the machines'
 * branch began as a child of the people's), so a commit found on both is listed once, with both its paths.
 */
async function branchesLog(repo: Repo, tip: string, max: number, here: boolean): Promise<(PathLogEntry & { roles: Set<Role> })[]> {
  // One after the other: in a shallow checkout each may fetch older history, and two fetches at once
  // would fight over .git/shallow.
  const logOf = async (role: Role) => (await repo.pathLog(commitOf(tip, role), PATHS[role], max, { here })).map((c) => ({ ...c, roles: new Set<Role>([role]) }));
  const people = await logOf("people");
  const machines = await logOf("machines");
  // Where each people's commit since the first listed one stands among the listed ones: a machine's commit
  // names the tip it was built on, often a commit that did not change ORDERS.json.
  const since = people[0] ? await repo.commitsSince(commitOf(tip, "people"), people[0].sha) : [];
  const listed = new Map(people.map((c, i) => [c.sha, i]));
  const rank = new Map<string, number>();
  let last = -1;
  for (const sha of since) {
    last = listed.get(sha) ?? last;
    rank.set(sha, last);
  }
  const merged = mergeByCause(people, machines, rank);
  const bySha = new Map<string, (typeof merged)[number]>();
  for (const c of merged) {
    const seen = bySha.get(c.sha);
    if (!seen) bySha.set(c.sha, c);
    else bySha.set(c.sha, { ...seen, paths: [...new Set([...seen.paths, ...c.paths])], roles: new Set([...seen.roles, ...c.roles]) });
  }
  const all = [...bySha.values()];
  return all.slice(Math.max(0, all.length - max));
}

/**
 * Two branches' logs (each oldest first) as one: by time, except that a machine's commit comes after the
 * people's commits it had read (its ORDERS_TRAILER names the tip it was built on; `rank` gives, for a people's
 * commit, the index in `people` of the latest listed one at or before it), which times of whole seconds
 * cannot tell; on a tie otherwise, the machine's first (it had not seen that people's commit).
 */
export function mergeByCause<T extends PathLogEntry>(people: T[], machines: T[], rank: ReadonlyMap<string, number>): T[] {
  const out: T[] = [];
  let p = 0;
  let m = 0;
  while (p < people.length || m < machines.length) {
    const P = people[p];
    const M = machines[m];
    if (!M) out.push(people[p++]!);
    else if (!P) out.push(machines[m++]!);
    else {
      const saw = M.orders === undefined ? -1 : (rank.get(M.orders) ?? -1);
      const peopleFirst = saw >= p || Date.parse(P.at) < Date.parse(M.at);
      out.push(peopleFirst ? people[p++]! : machines[m++]!);
    }
  }
  return out;
}
