// coord reserve / release / reservations: path reservations, so that two agents
// never edit the same files unknowingly. Plain async functions taking {dir, …}
// and returning data (the CLI and, later, MCP tools call them). A reservation
// is stored at once in the machine's state (durable, offline), published by the
// next sync (or at once with `now`), and judged there: held, or lost to a
// reservation the hub saw first (core/fleet/reservations.ts). What the fleet holds is
// read from the last fetched state: no network, so the pre-commit hook is fast
// and works offline.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import {
  cleanReason,
  conflicts,
  DEFAULT_FOR,
  type FleetReservation,
  heldAt,
  holdersOf,
  isLive,
  type LocalReservation,
  MAX_FOR,
  MAX_PATTERNS,
  normalizePattern,
  type OwnState,
  ownState,
  patternProblem,
  readReservations,
  reservationKey,
} from "../core/fleet/reservations.js";
import { parseDuration } from "../core/time/duration.js";
import type { Problem } from "../core/types.js";
import { CoordError, EXIT } from "../errors.js";
import { firstLine } from "../git/git.js";
import { checkoutRoot, stagedPaths } from "../git/local.js";
import { readReservationsState, takeBack, updateReservations } from "../state/reservations.js";
import type { GitMachine } from "../sync/machine.js";
import { lastPublished } from "../sync/trust.js";
import { type Machine, openMachine, type SyncResult } from "../sync/sync.js";
import { publishNow } from "../daemon/publish-now.js";
import { refuseUnpublishable } from "../state/secrets.js";

/** One of this machine's reservations, as the commands show it. */
export interface OwnReservation {
  /** `<machine>/<id>`. */
  key: string;
  id: number;
  paths: string[];
  reason?: string;
  shared: boolean;
  /** pending: not published yet (the next sync decides); held; lost (to `lost`); expired. */
  state: OwnState;
  made: string;
  until: string;
  /** When it was first published. */
  at?: string;
  /** Lost: the reservation that holds instead (and whether it is still live as of the last fetch: when not, reserve again). */
  lost?: LocalReservation["lost"] & { live: boolean };
}

/** The fleet as the last fetch saw it (no network): the commit, and every machine's published reservations with the problems of bad ones. */
async function lastFetched(m: Machine): Promise<{ commit?: string; fleet: FleetReservation[]; problems: Problem[] }> {
  const known = await lastPublished(m);
  if (!known) return { fleet: [], problems: [] };
  const { reservations, problems } = readReservations(known.files.computers);
  return { commit: known.commit, fleet: reservations, problems };
}

function ownView(me: string, r: LocalReservation, now: Date, fleet: FleetReservation[]): OwnReservation {
  const live = (k: { machine: string; id: number }) => fleet.some((f) => f.machine === k.machine && f.id === k.id && isLive(f, now));
  return {
    key: reservationKey({ machine: me, id: r.id }),
    id: r.id,
    paths: r.paths,
    ...(r.reason ? { reason: r.reason } : {}),
    shared: r.shared === true,
    state: ownState(r, now),
    made: r.made,
    until: r.until,
    ...(r.at ? { at: r.at } : {}),
    ...(r.lost ? { lost: { ...r.lost, live: live(r.lost) } } : {}),
  };
}

/** The project's root around `cwd` (git's top level), or undefined outside a git work tree. */
const projectRoot = (cwd: string): Promise<string | undefined> =>
  checkoutRoot(cwd).then(
    (r) => r || undefined,
    () => undefined,
  );

/** Patterns as given, tidied and checked; a plain name of a directory of the project (`project`) becomes `<name>/**`. */
async function patternsOf(given: string[], project: string | undefined): Promise<{ paths: string[]; notes: string[] }> {
  const notes: string[] = [];
  const paths: string[] = [];
  for (const raw of given) {
    let p = normalizePattern(raw);
    const bad = patternProblem(p);
    if (bad) throw new CoordError(`the path ${JSON.stringify(raw)} cannot be reserved: ${bad}`, EXIT.USAGE);
    if (project && !/[*?[{\\]/.test(p) && (await stat(join(project, p)).catch(() => undefined))?.isDirectory()) {
      notes.push(`${p} is a directory of ${project}: reserved as ${p}/** (everything in it)`);
      p = `${p}/**`;
    }
    if (!paths.includes(p)) paths.push(p);
  }
  if (paths.length === 0) throw new CoordError("name the paths to reserve, like src/** or src/auth/login.ts", EXIT.USAGE);
  if (paths.length > MAX_PATTERNS) throw new CoordError(`a reservation holds at most ${MAX_PATTERNS} patterns; use globs (src/auth/**) or several reservations`, EXIT.USAGE);
  return { paths, notes };
}

/** The machine of `dir` when the caller opened it already (coord mcp's tools): not opened again. */
interface Opened {
  machine?: GitMachine;
}

export interface ReserveOptions extends Opened {
  /** The machine's checkout. */
  dir: string;
  /** Paths or globs, relative to the project's root (src/**, src/a.ts, docs/*.md). */
  paths: string[];
  /** How long: "90m", "2h", "1d" or seconds (default 2h, at most 7 days). */
  for?: string | number;
  reason?: string;
  /** Shared: other shared reservations of the same paths are fine; an exclusive one is not. */
  shared?: boolean;
  /** Publish at once (a sync that starts no task): the answer is then held or lost, not pending. */
  now?: boolean;
  /** A directory in the project the paths are in: a plain name of one of its directories is reserved as `<name>/**` (the CLI passes its working directory). */
  project?: string;
  clock?: () => Date;
}

export interface ReserveResult {
  machine: string;
  reservation: OwnReservation;
  /** The same paths were reserved already (and live): its time (and reason) renewed instead of a new reservation. */
  renewed: boolean;
  /** Reservations of other machines that hold these paths as of the last fetch: this one will lose to them unless they end first. */
  conflicts: FleetReservation[];
  notes: string[];
  /** The sync that published it (with `now`). */
  published?: SyncResult;
}

/** Reserves paths for this machine: stored at once; held or lost once published (at the next sync, or now). */
export async function reserve(opts: ReserveOptions): Promise<ReserveResult> {
  const m = opts.machine ?? (await openMachine(opts.dir));
  const clock = opts.clock ?? (() => new Date());
  const me = m.config.name;
  const project = opts.project ? ((await projectRoot(opts.project)) ?? opts.project) : undefined;
  const { paths, notes } = await patternsOf(opts.paths, project);
  const seconds = opts.for === undefined ? DEFAULT_FOR : parseDuration(opts.for);
  if (seconds === undefined) throw new CoordError(`--for ${JSON.stringify(String(opts.for))} is not a duration; write it like 90m, 2h or 1d`, EXIT.USAGE);
  if (seconds > MAX_FOR)
    throw new CoordError(`--for ${opts.for} is longer than ${MAX_FOR / 86_400} days, the longest a reservation holds; reserve again later to extend it`, EXIT.USAGE);
  const reason = opts.reason === undefined ? undefined : cleanReason(opts.reason);
  await refuseUnpublishable(m.stateDir, m.config, "the reservation", [reason ?? "", ...paths]);
  const known = await lastFetched(m);
  const shared = opts.shared === true;
  const same = (r: LocalReservation) => r.paths.length === paths.length && r.paths.every((p) => paths.includes(p)) && (r.shared === true) === shared;
  const made = await updateReservations(m.stateDir, (data) => {
    takeBack(data, me, known.fleet);
    const now = clock();
    const until = new Date(now.getTime() + seconds * 1000).toISOString();
    const live = data.reservations.find((r) => same(r) && !r.lost && isLive(r, now)); // held or pending (ownState)
    if (live) {
      live.until = until;
      if (reason) live.reason = reason;
      return { record: { ...live }, renewed: true };
    }
    const record: LocalReservation = { id: data.next++, paths, ...(reason ? { reason } : {}), ...(shared ? { shared: true } : {}), made: now.toISOString(), until };
    data.reservations.push(record);
    return { record: { ...record }, renewed: false };
  });
  const now = clock();
  const self = made.record; // as written under the lock
  const candidate: FleetReservation = { machine: me, id: self.id, paths: self.paths, ...(self.shared ? { shared: true } : {}), at: now.toISOString(), until: self.until };
  const against = self.at ? [] : heldAt(known.fleet, now).filter((r) => conflicts(r, candidate));
  let published: SyncResult | undefined;
  if (opts.now) published = await publishNow(m, `reserved ${me}/${self.id}`, "it goes out with the next sync, which says whether it holds");
  const fleet = opts.now ? (await lastFetched(m)).fleet : known.fleet;
  // After a sync, as the sync left it (held or lost); else as written.
  const r = opts.now ? ((await readReservationsState(m.stateDir)).reservations.find((x) => x.id === self.id) ?? self) : self;
  return {
    machine: me,
    reservation: ownView(me, r, clock(), fleet),
    renewed: made.renewed,
    conflicts: r.lost || r.at ? [] : against,
    notes,
    ...(published ? { published } : {}),
  };
}

export interface ReleaseOptions extends Opened {
  dir: string;
  /** Ids (3, or <machine>/3) or the patterns as reserved (src/**). */
  targets: string[];
  /** Every reservation of this machine. */
  all?: boolean;
  now?: boolean;
  clock?: () => Date;
}

/** Ends reservations of this machine: gone from its file at the next sync (or now). */
export async function release(opts: ReleaseOptions): Promise<{ machine: string; released: OwnReservation[]; published?: SyncResult }> {
  const m = opts.machine ?? (await openMachine(opts.dir));
  const me = m.config.name;
  const clock = opts.clock ?? (() => new Date());
  if (!opts.all && opts.targets.length === 0) throw new CoordError("name the reservations to release (ids or paths, see coord reservations), or pass --all", EXIT.USAGE);
  const known = await lastFetched(m);
  const released = await updateReservations(m.stateDir, (data) => {
    takeBack(data, me, known.fleet);
    const picked = new Set<number>();
    for (const t of opts.all ? [] : opts.targets) {
      const id = /^\d+$/.test(t) ? Number(t) : t.startsWith(`${me}/`) && /^\d+$/.test(t.slice(me.length + 1)) ? Number(t.slice(me.length + 1)) : undefined;
      const pattern = normalizePattern(t);
      const hits = data.reservations.filter((r) => r.id === id || (id === undefined && r.paths.includes(pattern)));
      if (hits.length === 0)
        throw new CoordError(
          `this machine has no reservation ${JSON.stringify(t)} (its reservations: ${data.reservations.map((r) => `${r.id} ${r.paths.join(" ")}`).join("; ") || "none"}); nothing was released`,
          EXIT.USAGE,
        );
      for (const r of hits) picked.add(r.id);
    }
    const gone = data.reservations.filter((r) => opts.all || picked.has(r.id));
    data.reservations = data.reservations.filter((r) => !gone.includes(r));
    return gone;
  });
  const now = clock();
  const view = released.map((r) => ownView(me, r, now, []));
  if (!opts.now || released.length === 0) return { machine: me, released: view };
  return { machine: me, released: view, published: await publishNow(m, `released ${view.map((r) => r.key).join(", ")}`, "the next sync does") };
}

export interface ReservationsResult {
  machine: string;
  /** The commit the fleet's reservations were read from (the last fetch); undefined when this checkout never synced. */
  commit?: string;
  /** This machine's reservations: pending, held, lost (with `all`, expired ones too). */
  own: OwnReservation[];
  /** The other machines' reservations that hold now, as of the last fetch. */
  fleet: FleetReservation[];
  /** Reservations in machines' files that coord refused (with `all`). */
  problems: Problem[];
}

/** This machine's reservations and the fleet's live ones, from local state and the last fetch (no network). */
export async function reservations(opts: Opened & { dir: string; all?: boolean; clock?: () => Date }): Promise<ReservationsResult> {
  const m = opts.machine ?? (await openMachine(opts.dir));
  const me = m.config.name;
  const now = (opts.clock ?? (() => new Date()))();
  const known = await lastFetched(m);
  const local = await readReservationsState(m.stateDir);
  takeBack(local, me, known.fleet); // a lost state file: what the machine's file publishes (the next sync writes it back)
  const own = local.reservations.map((r) => ownView(me, r, now, known.fleet)).filter((r) => opts.all || r.state !== "expired");
  return {
    machine: me,
    ...(known.commit ? { commit: known.commit } : {}),
    own,
    fleet: heldAt(known.fleet, now).filter((r) => r.machine !== me),
    problems: opts.all ? known.problems : [],
  };
}

export interface CheckOptions {
  dir: string;
  /** Paths to check, relative to the project's root. */
  paths?: string[];
  /** Also the paths of the changes staged for the next commit in `repo` (what a pre-commit hook asks). */
  staged?: boolean;
  /** The project repository (default: the working directory; in a git hook, git's own environment says which). */
  repo?: string;
  clock?: () => Date;
}

export interface CheckResult {
  machine: string;
  commit?: string;
  /** Every path checked. */
  checked: string[];
  /** Paths another machine holds exclusively, with its reservations: a commit of them is refused with --enforce. */
  held: { path: string; holders: FleetReservation[] }[];
  /** Paths another machine holds shared: said, never refused. */
  shared: { path: string; holders: FleetReservation[] }[];
}

/** The paths staged in the project repository at `cwd` (src/git/local.ts: git's hook environment is honoured). */
async function staged(cwd: string): Promise<string[]> {
  try {
    return await stagedPaths(cwd);
  } catch (e) {
    throw new CoordError(
      `could not list the changes staged in ${cwd} (${firstLine(String((e as Error).message))}); run it in the project's git work tree, or pass --repo`,
      EXIT.USAGE,
    );
  }
}

/** Whether paths (or the staged changes) touch what another machine holds, as of the last fetch: fast, offline. */
export async function check(opts: CheckOptions): Promise<CheckResult> {
  const m = await openMachine(opts.dir);
  const me = m.config.name;
  const now = (opts.clock ?? (() => new Date()))();
  const paths = [...(opts.paths ?? []).map((p) => normalizePattern(p)), ...(opts.staged ? await staged(opts.repo ?? process.cwd()) : [])];
  const known = await lastFetched(m);
  const held = heldAt(known.fleet, now);
  const result: CheckResult = { machine: me, ...(known.commit ? { commit: known.commit } : {}), checked: paths, held: [], shared: [] };
  for (const path of paths) {
    const holders = holdersOf(path, held, me);
    const exclusive = holders.filter((r) => !r.shared);
    if (exclusive.length) result.held.push({ path, holders: exclusive });
    else if (holders.length) result.shared.push({ path, holders });
  }
  return result;
}
