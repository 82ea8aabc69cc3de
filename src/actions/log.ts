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
import { trustVerify, type VerifiedCommit } from "./trust.js";

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

  const commits = await branchesLog(repo, tip, max, opts.here === true);
  if (commits.length === 0) return [];
  // In a machine's checkout, the history as its sync believes it: a change it refuses is said, never taken for the file.
  const refused = machine === undefined ? new Map<string, VerifiedCommit>() : await refusedChanges(opts.dir, max, opts.here === true);

  // What was there before the first commit shown of each branch (the history may be cut by maxCount).
  const files = new Map<string, string>();
  for (const role of ["people", "machines"] as const) {
    const first = commits.find((c) => c.roles.has(role));
    const parent = first && (await repo.resolve(`${first.sha}^`));
    if (!parent) continue;
    for (const [path, text] of await repo.readFiles(parent, [ORDERS_FILE, "coordination"])) if (roleOf(path) === role) files.set(path, text);
  }
  let definition = definitionIn(files, opts.id, undefined);
  const reports = new Map<string, TaskReport | undefined>();
  const reportIn = (text: string | undefined, name: string, before: TaskReport | undefined): TaskReport | undefined => {
    if (text === undefined) return undefined;
    try {
      return parseComputer(text, name).tasks[opts.id];
    } catch {
      return before; // a broken file says nothing new
    }
  };
  const reportOf = (path: string, name: string) => reportIn(files.get(path), name, reports.get(name));
  for (const path of files.keys()) {
    const name = machineOfPath(path);
    if (name !== undefined) reports.set(name, reportOf(path, name));
  }

  const events: LogEvent[] = [];
  for (const c of commits) {
    if (c.paths.length === 0) continue; // a merge: its side's commits are in the walk
    const changed = await repo.readFiles(c.sha, c.paths);
    for (const path of c.paths) {
      const why = refused.get(`${c.sha}\0${path}`);
      const text = changed.get(path);
      if (why) {
        // The file stays as believed before; the change is named only if it touched this order.
        const name = machineOfPath(path);
        const after = new Map(files);
        if (text === undefined) after.delete(path);
        else after.set(path, text);
        const touched =
          name === undefined
            ? JSON.stringify(definitionIn(after, opts.id, definition)) !== JSON.stringify(definition)
            : reportKey(reportIn(after.get(path), name, reports.get(name))) !== reportKey(reports.get(name));
        if (touched) events.push({ at: c.at, commit: c.sha, who: c.who, what: `a change of ${path} not believed (${why.why}); what it said is not shown`, refused: true });
      } else if (text === undefined) files.delete(path);
      else files.set(path, text);
    }
    if (c.paths.some((p) => p === ORDERS_FILE || p.startsWith(`${ORDERS_DIR}/`))) {
      const next = definitionIn(files, opts.id, definition);
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

/**
 * The changes of orders files and machines' COMPUTER files in the latest `max` of each that a sync in the machine's
 * checkout `dir` refuses, by commit and path (trustVerify's verdicts): ORDERS.json's only when it must be signed.
 * `here`: from the commits the checkout has (as the log's own walk).
 */
async function refusedChanges(dir: string, max: number, here: boolean): Promise<Map<string, VerifiedCommit>> {
  const only = (p: string) => p === ORDERS_FILE || p.startsWith(`${ORDERS_DIR}/`) || machineOfPath(p) !== undefined;
  const { commits, requireSignedOrders } = await trustVerify(dir, { max, only, here });
  const out = new Map<string, VerifiedCommit>();
  for (const c of commits) if (!c.good && !c.uncheckable && (c.path !== ORDERS_FILE || requireSignedOrders)) out.set(`${c.commit}\0${c.path}`, c);
  return out;
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
