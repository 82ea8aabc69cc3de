// The fleet's push budget: how often machines may push to the hub, shared
// with no coordinator. Pure: the share, the token bucket, the heartbeat that
// stretches with the fleet, and which changes are worth a push at all.
//
// Applied by the publish step (sync/push.ts judge) and before claiming
// (sync/push.ts claimsWait); the bucket is kept in .git/coord/budget.json.
//
// People set the budget on the hub (ORDERS.json `"hub": {"pushesPerMinute":
// 6}`, GitHub's recommendation by default). Each machine counts the machines
// it sees (those not offline) and takes an equal share: a token bucket that
// refills at budget/N per minute and holds a few tokens, so a short burst of
// work goes out at once and is paid back after. Each push, and each retry
// after a lost compare-and-swap, spends a token:
//
//   - urgent (a claim, its renewal, its end, a failure, a result another
//     order waits on, a new message or delegated order: someone waits for
//     it, a machine's first file) may borrow: it goes while the bucket is
//     above -capacity, and the debt holds back the rest; a new message or
//     delegated order held back even then may go on the fleet's spare
//     pushes (fleetSpares);
//   - work (results, a message archived, a changed capability, service or state) goes
//     while the bucket is not in debt (it may take the last token and one
//     more: a burst of work ends with its results out, not minutes later);
//   - heartbeats wait for a whole token, receipts alone for two, leaving room
//     for results;
//   - STATUS.* alone (a person changed ORDERS.json, a file went bad) waits
//     for a whole token: it is the same on every machine (derived from the
//     tip), so the first machine to sync says it and the others find it said.
//
// What waits rides along with the next push; nothing merely read (a new tip,
// a new ORDERS.json: `orders.seen`) is a reason to push.
//
// Heartbeats alone take at most half the budget: each machine's heartbeat is
// at least N / (budget / 2) minutes, and that effective heartbeat is what it
// publishes, so others judge it stale and offline by it. A claim's lease
// stretches with it (a holder renews every third of its lease, as often as
// the fleet's heartbeat at most): failover after a silent holder takes longer
// in a large fleet, and no renewal pushes past the budget.
import { MAX_LEASE, RENEW_PARTS } from "../work/claims.js";
import { plural } from "../limits.js";
import { isActive } from "../work/task-life.js";
import { isOffline, MAX_HEARTBEAT, spanText } from "../fleet/presence.js";
import { TURNS, type TurnTimes } from "./turns.js";
import { type Bucket, DEFAULT_PUSHES_PER_MINUTE, MAX_PUSHES_PER_MINUTE, MIN_PUSHES_PER_MINUTE } from "../hub/reads.js";
import type { ComputerFile } from "../fleet/computer.js";
import type { FleetBudget } from "../fleet/status-types.js";

export { MAX_PUSHES_PER_MINUTE, MIN_PUSHES_PER_MINUTE };

/** Tokens a machine's bucket holds at most: the burst it may push at once. */
export const BUCKET_CAPACITY = 3;

/** Why a publish is worth a push, most pressing first. */
export const PUSH_CLASSES = ["urgent", "work", "heartbeat", "receipts", "status"] as const;
export type PushClass = (typeof PUSH_CLASSES)[number];

/** A machine's share of the budget, as it sees the fleet now. */
export interface Share {
  /** The fleet's budget (pushes per minute). */
  budget: number;
  /** The machines counted (not offline, itself included). */
  machines: number;
  /** This machine's pushes per minute, sustained. */
  perMinute: number;
  /** Its heartbeat (seconds): the configured one, stretched so that heartbeats take at most half the budget. */
  heartbeat: number;
}

/** The share of one of `machines` machines under `budget` pushes a minute, with `configured` its heartbeat setting (seconds). */
export function shareOf(budget: number, machines: number, configured: number): Share {
  const n = Math.max(1, Math.floor(machines));
  const b = budget > 0 ? budget : DEFAULT_PUSHES_PER_MINUTE;
  return { budget: b, machines: n, perMinute: b / n, heartbeat: Math.min(MAX_HEARTBEAT, Math.max(configured, fleetHeartbeat(b, n))) };
}

/** The shortest heartbeat (seconds) with which `machines` heartbeats take at most half of `budget` pushes a minute. */
export function fleetHeartbeat(budget: number, machines: number): number {
  return Math.ceil((machines * 60) / (budget / 2));
}

/**
 * The lease (seconds) a machine's claims hold for under `share`: the configured one, or, when the fleet's heartbeat
 * is longer, RENEW_PARTS of it, so that renewals (every third of a lease) come no oftener than heartbeats.
 */
export function claimLeaseOf(share: Share, configured: number): number {
  return Math.min(MAX_LEASE, Math.max(configured, RENEW_PARTS * fleetHeartbeat(share.budget, share.machines)));
}

/** A machine's token bucket: tokens (may be negative: a debt), as of `at` (ms). */
export type { Bucket };

/** The bucket at `now`: refilled at the share's rate since it was last counted, at most full. A machine with none starts full. */
export function refill(b: Bucket | undefined, now: number, share: Share): Bucket {
  if (!b || !Number.isFinite(b.tokens) || !Number.isFinite(b.at)) return { tokens: BUCKET_CAPACITY, at: now };
  // A clock set back refills nothing, and counts on from its own time (the bucket never waits for the old one).
  const elapsed = Math.max(0, now - b.at);
  return { tokens: Math.min(BUCKET_CAPACITY, b.tokens + (elapsed / 60_000) * share.perMinute), at: now };
}

/** The bucket after one push (or one retry). */
export function spend(b: Bucket): Bucket {
  return { tokens: b.tokens - 1, at: b.at };
}

/** The tokens a push of class `cls` needs in the bucket (urgent: more than this, a debt allowed). */
function floorOf(cls: PushClass): number {
  return cls === "urgent" ? -BUCKET_CAPACITY : cls === "work" ? 0 : cls === "receipts" ? 2 : 1;
}

/** Whether the bucket (refilled to now) lets a push of class `cls` go. */
export function admits(b: Bucket, cls: PushClass): boolean {
  return cls === "urgent" ? b.tokens > floorOf(cls) : b.tokens >= floorOf(cls);
}

/** When (ms) a push of class `cls` may go, the bucket refilling at the share's rate: now when it may. */
export function admitsAt(b: Bucket, cls: PushClass, share: Share): number {
  if (admits(b, cls)) return b.at;
  const missing = floorOf(cls) - b.tokens + (cls === "urgent" ? 1e-6 : 0);
  return b.at + Math.ceil((missing / share.perMinute) * 60_000);
}

/**
 * Pushes a minute a publish on the fleet's spare pushes leaves to people and to lost races: it goes only while the
 * hub's branches took at most the budget less this, less one, in the last minute.
 */
export const SPARE_LEFT = 2;

/** How far back (ms) the fleet's pushes are counted for its spare ones: a minute, as the budget is counted. */
export const SPARE_WINDOW_MS = 60_000;

/**
 * Whether what someone waits for (a new message, a delegated order) that its machine's bucket holds back may go on
 * the pushes the fleet left unused: the hub's branches took `recent` commits in the last minute (SPARE_WINDOW_MS),
 * and one more leaves SPARE_LEFT of the budget. Every machine counts the same commits, and each spare push lands on
 * a tip that shows the ones before it (a compare-and-swap), so the fleet's spare pushes stop at that line however
 * many machines take them at once. A machine's own share is too small to wait on in a large fleet (30 machines on
 * GitHub's 6 a minute: one push every 5 minutes each), while the fleet pushes nothing for minutes.
 */
export function fleetSpares(share: Share, recent: number): boolean {
  return Number.isFinite(recent) && recent >= 0 && recent + 1 + SPARE_LEFT <= share.budget;
}

/**
 * The bucket after a push on the fleet's spare pushes: it pays back what it can, one token, but never below the
 * floor an urgent push may take it to, so that its heartbeat waits no longer than after a claim.
 */
export function spendSpare(b: Bucket): Bucket {
  return { tokens: Math.min(b.tokens, Math.max(-BUCKET_CAPACITY, b.tokens - 1)), at: b.at };
}

/** The more pressing of two classes. */
export function mostPressing(a: PushClass | undefined, b: PushClass | undefined): PushClass | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return PUSH_CLASSES.indexOf(a) <= PUSH_CLASSES.indexOf(b) ? a : b;
}

/** What else the machine knows of a publish: which of its changes others wait on. */
export interface PushContext {
  /** Order ids another order waits on (`after`): a result of one is urgent. */
  waitedOn: ReadonlySet<string>;
  /** Its own message files change: a new message (urgent when one is), or one archived. */
  messages?: "urgent" | "work";
  /** Its heartbeat is due (sooner while it holds claims: `renewsClaims`). */
  heartbeatDue: boolean;
  /** The heartbeat renews claims it holds (urgent: a lapsed claim is taken over). */
  renewsClaims: boolean;
}

/**
 * Why machine file `mine` is worth a push over `previous` (what the hub has), or undefined when the
 * differences can wait: what it read of ORDERS.json (`orders`) and its lastSeen before a heartbeat is due.
 */
export function pushClassOf(previousFile: ComputerFile | undefined, mineFile: ComputerFile, ctx: PushContext): PushClass | undefined {
  if (!previousFile) return "urgent"; // its first file: the fleet learns of it
  const previous = previousFile;
  const mine = mineFile;
  let cls: PushClass | undefined = ctx.messages;
  const ids = new Set([...Object.keys(previous.tasks), ...Object.keys(mine.tasks)]);
  for (const id of ids) {
    const before = Object.hasOwn(previous.tasks, id) ? previous.tasks[id] : undefined;
    const now = Object.hasOwn(mine.tasks, id) ? mine.tasks[id] : undefined;
    if (same(before, now)) continue;
    // A claim's end is urgent too: the hub shows it held (a lease) until then, and a result that waited past the lease
    // would let another machine take the order over and run it again.
    const endsClaim = before?.lease !== undefined && isActive(before.state) && now !== undefined && !isActive(now.state);
    const urgent = now !== undefined && (now.state === "assigned" || now.state === "failed" || endsClaim || (now.state === "completed" && ctx.waitedOn.has(id)));
    cls = mostPressing(cls, urgent ? "urgent" : "work");
  }
  const { tasks: _t, messages: receiptsNow, ...rest } = ridingAlong(mine, previous);
  const { tasks: _pt, messages: receiptsBefore, ...restBefore } = previous;
  if (!same(rest, restBefore)) cls = mostPressing(cls, "work");
  if (!same(receiptsNow ?? {}, receiptsBefore ?? {})) cls = mostPressing(cls, "receipts");
  if (ctx.heartbeatDue) cls = mostPressing(cls, ctx.renewsClaims ? "urgent" : "heartbeat");
  return cls;
}

/**
 * Machine file `mine` with what rides along with the next push as `previous` (the hub's) has it, for a publish that
 * is worth none (pushClassOf says no class): what it read of ORDERS.json (`orders`), its lastSeen (a heartbeat not
 * due), a heartbeat of another length (heartbeatOf: the one published is never left longer than the one kept), and
 * the summary of its last sync (`lastRun`): a result in it comes with its task's change, and a delivery alone
 * ("received 1 message") is a receipt, not work: a message must not cost its recipient a push of its own, nor a
 * drained queue a push for its summary after its results went out.
 */
export function ridingAlong(mine: ComputerFile, previous: ComputerFile): ComputerFile {
  const { lastRun: _r, ...rest } = mine;
  return { ...rest, orders: previous.orders, lastSeen: previous.lastSeen, heartbeat: previous.heartbeat, ...(previous.lastRun !== undefined ? { lastRun: previous.lastRun } : {}) };
}

/**
 * The heartbeat (seconds) a machine publishes, given the one it published (`published`) and the one its share
 * asks for now (`wanted`): kept while it is no shorter and at most half as long again (a fleet whose size
 * wavers does not make every machine rewrite its file), else the one wanted.
 */
export function heartbeatOf(published: number | undefined, wanted: number): number {
  return published !== undefined && published >= wanted && published <= wanted * 1.5 ? published : wanted;
}

/**
 * How long (seconds) after its last published lastSeen a machine's heartbeat is due: by the heartbeat others
 * judge it by (the one published) while that is shorter than the one it keeps now, so it never goes quiet for
 * longer than it said; the push that goes then publishes the new one.
 */
export function heartbeatDueAfter(published: number | undefined, kept: number): number {
  return published !== undefined ? Math.min(published, kept) : kept;
}

/**
 * A draining machine claims its next orders while one runs when its tasks so far took at most this long (seconds):
 * an order claimed ahead waits about that long at most behind the tasks of its machine.
 */
export const CLAIM_AHEAD_MAX_S = 60;

/**
 * How long (seconds) one push to a branch takes from the fleet, in a round of pushes that all but one lose: each
 * try fetches, builds and pushes, and a compare-and-swap lets one writer through at a time. Even a hub with no
 * budget (a path, a server of one's own) takes about one push a second from a busy fleet.
 */
export const BRANCH_PUSH_S = 1;

/**
 * How many orders of its own share a draining machine with one slot claims ahead in one push, its tasks so far
 * having taken at most `longestTaskS` seconds each: as many as it would run before its bucket earns the next
 * push, and at least as many as it would run while each machine counted pushes once (BRANCH_PUSH_S each: on a
 * hub with no budget, a fleet that pushes after every short task spends its time losing races), at most
 * CLAIM_AHEAD_MAX_S of work, so that one push carries them all. A fleet of one claims one at a time. 0: its
 * tasks run too long to claim any ahead.
 */
export function claimsAhead(share: Share, longestTaskS: number): number {
  if (!(longestTaskS >= 0) || longestTaskS > CLAIM_AHEAD_MAX_S) return 0;
  const window = Math.min(CLAIM_AHEAD_MAX_S, Math.max(60 / share.perMinute, share.machines * BRANCH_PUSH_S));
  return Math.max(1, Math.floor(window / Math.max(1, longestTaskS)));
}

/** The machines a machine counts for its share at `now`, by name: those not offline, itself included. */
export function countedMachines(me: string, computers: ReadonlyMap<string, Pick<ComputerFile, "lastSeen" | "heartbeat">>, now: Date): string[] {
  const names = computers.has(me) ? [] : [me];
  for (const [name, file] of computers) if (name === me || !isOffline(file, now)) names.push(name);
  return names.sort();
}

/** How many machines a machine counts for its share at `now` (countedMachines). */
export function machinesCounted(me: string, computers: ReadonlyMap<string, Pick<ComputerFile, "lastSeen" | "heartbeat">>, now: Date): number {
  return countedMachines(me, computers, now).length;
}

/**
 * How long (ms) a machine waits for its turn to push, `rank` being its place among the machines counted (by name) and
 * `nowMs` the wall clock. When a token refills slower than two turns, time is cut into turns of `turnMs`, one for each
 * machine in its name's order (as many as fit in a token's refill and in `roundMaxMs`; past that, machines
 * share a turn), and a machine begins a push only in the first half of its own turn. Machines in step (daemons that
 * all see new orders at once) would otherwise push together and all but one lose the race, each losing try a token
 * of the budget. 0: now (its turn, or no turns: a budget that is no constraint, a fleet of one). Clocks that
 * disagree cost lost races, never a wrong result.
 */
export function turnWait(share: Share, rank: number, nowMs: number, times: TurnTimes = TURNS): number {
  const { turnMs } = times;
  const turns = turnsOf(share, times);
  if (!(turns >= 2) || !Number.isFinite(nowMs)) return 0;
  const round = turns * turnMs;
  const start = (Math.max(0, Math.floor(rank) || 0) % turns) * turnMs;
  const at = ((nowMs % round) + round) % round;
  if (at >= start && at - start < turnMs / 2) return 0;
  return (((start - at) % round) + round) % round;
}

/** How many turns a round of turnWait has under `share` (fewer than 2: no turns, a push goes at once). */
export function turnsOf(share: Share, { turnMs, roundMaxMs }: TurnTimes = TURNS): number {
  return Math.min(share.machines, Math.floor(Math.min(60_000 / share.perMinute, roundMaxMs) / turnMs));
}

/** Whether two values read from JSON are the same, whatever the order of their keys; absent keys and undefined are alike. */
function same(a: unknown, b: unknown): boolean {
  return stable(a) === stable(b);
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "undefined";
}

/** The share in words: "6 pushes a minute shared by 24 machines, a heartbeat every 8 min". */
export function describeShare(share: Share): string {
  return `${sharedBy(share.budget, share.machines)}, a heartbeat every ${spanText(share.heartbeat)}`;
}

/** "6 pushes a minute shared by 24 machines". */
function sharedBy(pushesPerMinute: number, machines: number): string {
  return `${pushesPerMinute} push${pushesPerMinute === 1 ? "" : "es"} a minute shared by ${plural(machines, "machine")}`;
}

export function fleetBudget(pushesPerMinute: number, machines: number, set: { pushesPerMinute?: number; readsPerSecond?: number } = { pushesPerMinute }): FleetBudget {
  return {
    pushesPerMinute,
    machines,
    heartbeat: fleetHeartbeat(pushesPerMinute, Math.max(1, machines)),
    ...(set.pushesPerMinute === undefined ? { byHost: true as const } : {}),
    ...(set.readsPerSecond !== undefined ? { readsPerSecond: set.readsPerSecond } : {}),
  };
}

/** "6 pushes a minute shared by 24 machines: heartbeats every 8 min or longer". */
const pushesText = (pushesPerMinute: number, machines: number, heartbeat: number) =>
  `${sharedBy(pushesPerMinute, machines)}: heartbeats every ${heartbeat < 5 ? `${heartbeat} s` : spanText(heartbeat)} or longer`;

/**
 * The fleet's push budget in words. Not set in ORDERS.json, each machine takes its host's figures (core/hub/reads.ts):
 * with the host of the reader's hub (`host`: the terminal knows it) its figure and name; without (STATUS.md, the same
 * on every machine), every host's, and the heartbeats where it is 6 a minute, naming no host.
 */
export function describeBudget(b: FleetBudget, host?: { kind: string; host: string; pushesPerMinute?: number }): string {
  const reads = b.readsPerSecond !== undefined ? `; ${b.readsPerSecond} read${b.readsPerSecond === 1 ? "" : "s"} a second for the machines' looks (80 % of it)` : "";
  if (!b.byHost) return pushesText(b.pushesPerMinute, b.machines, b.heartbeat) + reads;
  if (host?.kind === "local" || (host && host.pushesPerMinute === undefined)) return `not set, and a hub on a path has none: heartbeats are as each machine's setting says${reads}`;
  if (host?.pushesPerMinute !== undefined) {
    const at = fleetBudget(host.pushesPerMinute, b.machines);
    return `not set, so each machine takes its host's: on ${host.host}, ${pushesText(at.pushesPerMinute, at.machines, at.heartbeat)}${reads}`;
  }
  return `not set, so each machine takes its host's (github.com: 6 pushes a minute and 15 reads a second; gitlab.com: 60 and 10; any other host: 6 and 2; a hub on a path: none); at ${b.pushesPerMinute} a minute, shared by ${plural(b.machines, "machine")}: heartbeats every ${b.heartbeat < 5 ? `${b.heartbeat} s` : spanText(b.heartbeat)} or longer${reads}`;
}
