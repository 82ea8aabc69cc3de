// The host's budgets, and the fleet's read budget: how often machines may look
// at the hub. Pure: the host named by the hub's URL, its published figures,
// each machine's share of the reads, and the bucket its looks are paid from.
//
// A look is the cheapest read that says whether either branch moved: one
// `git fetch` of both refs into refs of its own (Hub.look: what ls-remote
// costs when nothing moved, the new commits in the same read when something
// did), compared with the tip this machine last fetched or pushed. A full sync follows only a move, a deadline
// that is due (the quiet stamp), or the schedule (src/core/machine/daemon-loop.ts).
//
// Hosts publish how much they take. GitHub recommends at most 15 git reads a
// second and 6 pushes a minute per repository; GitLab.com limits git
// operations over SSH to 600 a minute per user and project, each command on
// its own; a hub on a path (or file://) is this machine's own disk, with no
// host to spare. Any other host gets a conservative default. ORDERS.json's
// `"hub": {"pushesPerMinute": …, "readsPerSecond": …}` always wins.
//
// The machines take READ_PART of the host's reads and leave the rest to
// people (clones, CI, the web page): each machine looks at most once a second
// (twice when eager: EAGER_LOOK_MS), and as often as its equal share of that
// part allows. Every read it makes is paid from a small bucket: a look, and the
// fetch of a full sync after a move (none when it takes the tip its look
// brought) or at a tick, so that a fleet whose hub moves often looks less.
import { isRecord } from "../types.js";

/** GitHub's recommendation ("Repository limits"): at most 6 pushes per minute per repository. */
export const GITHUB_PUSHES_PER_MINUTE = 6;

/** The smallest and largest push budgets people may set: one push every 10 minutes; a server of one's own with no limit to speak of. */
export const MIN_PUSHES_PER_MINUTE = 0.1;
export const MAX_PUSHES_PER_MINUTE = 100_000;

/** GitHub's recommendation, the push budget of a fleet whose ORDERS.json and host say nothing else. */
export const DEFAULT_PUSHES_PER_MINUTE = GITHUB_PUSHES_PER_MINUTE;

/** A bucket of reads (or pushes): tokens (below 0: a debt), as of `at` (ms). */
export interface Bucket {
  tokens: number;
  at: number;
}

/** The part of the host's reads the machines take: the rest is left to people. */
export const READ_PART = 0.8;

/** A machine looks at most this often (ms), whatever the budget: once a second (an eager one: EAGER_LOOK_MS). */
export const MIN_LOOK_MS = 1000;

/**
 * A machine someone is likely to ask or answer within seconds looks at most this often (ms), within its equal share
 * still: one with an agent on call (whoever asks it waits for the answer), and one that published something someone
 * waits for (a message, an answer, a decision) in the last EAGER_FOR_MS, whose reply may come as soon. A fleet of 3
 * on GitHub's figures: such a machine looks twice a second, the others once; a fleet of 30 cannot afford it (a look
 * every 2.5 s each) and looks as always.
 */
export const EAGER_LOOK_MS = 500;
/** How long after it published something someone waits for a machine looks eagerly (EAGER_LOOK_MS). */
export const EAGER_FOR_MS = 60_000;
/** Reads a look bucket holds at most: a look and the fetch that follows a move. */
export const READ_CAPACITY = 2;

/** The smallest and largest read budgets people may set (reads a second, for the whole fleet). */
export const MIN_READS_PER_SECOND = 0.01;
export const MAX_READS_PER_SECOND = 10_000;

/** GitHub's recommendation: at most 15 git reads a second per repository. */
export const GITHUB_READS_PER_SECOND = 15;

/** What kind of host a hub's URL names. */
export type HostKind = "local" | "github" | "gitlab" | "other";

/** A host's budgets: undefined is none (a hub on a path: nothing to spare, nothing to save). */
export interface HostBudget {
  kind: HostKind;
  /** The host's name as the URL gives it ("github.com"), or the path for a local hub. */
  host: string;
  pushesPerMinute?: number;
  readsPerSecond?: number;
  /** Where the figures come from, in words. */
  source: string;
}

/** The figures of each kind of host (docs/protocol.md, "The read budget"). */
const HOSTS: Record<Exclude<HostKind, "local">, Omit<HostBudget, "kind" | "host">> = {
  github: { pushesPerMinute: GITHUB_PUSHES_PER_MINUTE, readsPerSecond: GITHUB_READS_PER_SECOND, source: "GitHub's recommendation" },
  // 600 git operations a minute per user and project, each command on its own (GitLab's "Git SSH operations" limit):
  // 10 reads a second; pushes at a tenth of theirs, as machines may share one account and a push costs the host more.
  gitlab: { pushesPerMinute: 60, readsPerSecond: 10, source: "GitLab.com's limits" },
  other: { pushesPerMinute: GITHUB_PUSHES_PER_MINUTE, readsPerSecond: 2, source: "coord's conservative default for a host it does not know" },
};

/**
 * The host a hub's URL names: a path or file:// is local; scp-like `user@host:path`, ssh://, git://, http(s)://
 * name their host. Pure string work: nothing is resolved.
 */
export function hostOfUrl(url: string): { kind: HostKind; host: string } {
  const u = url.trim();
  if (/^file:/i.test(u)) return { kind: "local", host: u };
  let host: string | undefined;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^/:?#]*)/i.exec(u);
  if (scheme) host = scheme[1];
  else {
    // scp-like: [user@]host:path, where host has no slash before the colon (git's own rule); a Windows drive letter is a path.
    const scp = /^(?:[^@/:]*@)?([^/:]+):(?!\/\/)/.exec(u);
    if (scp && !/^[a-z]$/i.test(scp[1]!)) host = scp[1];
  }
  if (host === undefined) return { kind: "local", host: u };
  const name = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (name === "github.com" || name.endsWith(".github.com")) return { kind: "github", host: name };
  if (name === "gitlab.com" || name.endsWith(".gitlab.com")) return { kind: "gitlab", host: name };
  return { kind: "other", host: name };
}

/** The host's budgets for a hub at `url`. */
export function hostBudgetOf(url: string): HostBudget {
  const { kind, host } = hostOfUrl(url);
  if (kind === "local") return { kind, host, source: "a hub on this machine's disk: no host to spare" };
  return { kind, host, ...HOSTS[kind] };
}

/** The budgets ORDERS.json's `"hub"` sets, each only when written and in range (read leniently: anything else is unset). */
export function hubBudgetOf(data: unknown): { pushesPerMinute?: number; readsPerSecond?: number } {
  const hub = isRecord(data) ? data.hub : undefined;
  if (!isRecord(hub)) return {};
  const within = (v: unknown, min: number, max: number) => typeof v === "number" && Number.isFinite(v) && v >= min && v <= max;
  return {
    ...(within(hub.pushesPerMinute, MIN_PUSHES_PER_MINUTE, MAX_PUSHES_PER_MINUTE) ? { pushesPerMinute: hub.pushesPerMinute as number } : {}),
    ...(within(hub.readsPerSecond, MIN_READS_PER_SECOND, MAX_READS_PER_SECOND) ? { readsPerSecond: hub.readsPerSecond as number } : {}),
  };
}

/** The budget ORDERS.json's `"hub": {"pushesPerMinute": …}` sets (read leniently: anything else is the default). */
export function pushesPerMinuteOf(data: unknown): number {
  const hub = isRecord(data) ? data.hub : undefined;
  const v = isRecord(hub) ? hub.pushesPerMinute : undefined;
  return typeof v === "number" && Number.isFinite(v) && v >= MIN_PUSHES_PER_MINUTE && v <= MAX_PUSHES_PER_MINUTE ? v : DEFAULT_PUSHES_PER_MINUTE;
}

/** The budgets a machine works under: ORDERS.json's where it sets them, else the host's. */
export interface Budgets {
  /** Pushes a minute for the fleet; undefined: none (a local hub). */
  pushesPerMinute?: number;
  /** Reads a second for the fleet; undefined: none. */
  readsPerSecond?: number;
  /** In words, where each comes from ("ORDERS.json", "GitHub's recommendation", …). */
  pushesFrom: string;
  readsFrom: string;
}

export function budgetsOf(set: { pushesPerMinute?: number; readsPerSecond?: number }, host: HostBudget): Budgets {
  const pushes = set.pushesPerMinute ?? host.pushesPerMinute;
  const reads = set.readsPerSecond ?? host.readsPerSecond;
  return {
    ...(pushes !== undefined ? { pushesPerMinute: pushes } : {}),
    ...(reads !== undefined ? { readsPerSecond: reads } : {}),
    pushesFrom: set.pushesPerMinute !== undefined ? "ORDERS.json" : host.source,
    readsFrom: set.readsPerSecond !== undefined ? "ORDERS.json" : host.source,
  };
}

/** The push budget a share is computed with: none is the largest budget people may set. */
export function pushBudgetOf(b: Budgets): number {
  return b.pushesPerMinute ?? MAX_PUSHES_PER_MINUTE;
}

/** One machine's share of the fleet's reads: how often it looks (ms between looks) and its reads a second. */
export interface ReadShare {
  /** The fleet's read budget (reads a second), or undefined: none. */
  budget?: number;
  machines: number;
  /** This machine's reads a second, sustained. */
  perSecond: number;
  /** The time between two looks (ms), at least MIN_LOOK_MS (EAGER_LOOK_MS for an eager machine's). */
  lookEveryMs: number;
}

/**
 * The share of one of `machines` machines under `readsPerSecond` (undefined: no budget, a look a second); `eager`: a
 * machine someone is likely to ask or answer within seconds, whose looks may come as often as EAGER_LOOK_MS.
 */
export function readShareOf(readsPerSecond: number | undefined, machines: number, eager = false): ReadShare {
  const n = Math.max(1, Math.floor(machines));
  const floor = eager ? EAGER_LOOK_MS : MIN_LOOK_MS;
  const perSecond = readsPerSecond === undefined ? 1000 / floor : Math.min(1000 / floor, (readsPerSecond * READ_PART) / n);
  return { ...(readsPerSecond !== undefined ? { budget: readsPerSecond } : {}), machines: n, perSecond, lookEveryMs: Math.max(floor, Math.ceil(1000 / perSecond)) };
}

/** The read bucket at `now` (ms): refilled at the share's rate since it was last counted, at most full. None: full. */
export function refillReads(b: Bucket | undefined, now: number, share: ReadShare): Bucket {
  if (!b || !Number.isFinite(b.tokens) || !Number.isFinite(b.at)) return { tokens: READ_CAPACITY, at: now };
  const elapsed = Math.max(0, now - b.at);
  return { tokens: Math.min(READ_CAPACITY, b.tokens + (elapsed / 1000) * share.perSecond), at: now };
}

/**
 * The bucket after `reads` reads at `now`: a look spends one, a full sync's fetch one more. It may go into debt (a
 * scheduled sync reads whatever the bucket says) down to -READ_CAPACITY: the looks after it wait until it is repaid.
 */
export function spendReads(b: Bucket | undefined, now: number, share: ReadShare, reads = 1): Bucket {
  const r = refillReads(b, now, share);
  return { tokens: Math.max(-READ_CAPACITY, r.tokens - reads), at: now };
}

/**
 * When (ms) the next look may be: once the bucket holds a whole read again, and never sooner than a share's
 * interval after the last look (`lastLook`), spread by `random` (in [0, 1)) over a tenth of that interval so
 * that machines started together do not look in step.
 */
export function nextLookAt(b: Bucket | undefined, lastLook: number, share: ReadShare, random: number): number {
  const r = refillReads(b, lastLook, share);
  const refilled = r.tokens >= 1 ? lastLook : lastLook + Math.ceil(((1 - r.tokens) / share.perSecond) * 1000);
  const spread = random * share.lookEveryMs * 0.1;
  return Math.max(refilled, lastLook + share.lookEveryMs) + spread;
}

/** A share in words: "a look every 2.5 s (15 reads a second shared by 30 machines, 80 % of them)". */
export function describeReadShare(s: ReadShare): string {
  const every = s.lookEveryMs < 60_000 ? `${Math.round(s.lookEveryMs / 100) / 10} s` : `${Math.round(s.lookEveryMs / 6000) / 10} min`;
  if (s.budget === undefined) return `a look every ${every} (no read budget: a hub on this machine's disk)`;
  return `a look every ${every} (${s.budget} read${s.budget === 1 ? "" : "s"} a second shared by ${s.machines} machine${s.machines === 1 ? "" : "s"}, ${Math.round(READ_PART * 100)} % of them)`;
}

/** The host defaults in one sentence, as `coord hub create` and STATUS name them, with how to change them. */
export const HOST_DEFAULTS_TEXT =
  "without a \"hub\" budget in ORDERS.json each machine takes its host's: github.com 6 pushes a minute and 15 reads a second (GitHub's recommendation), " +
  "gitlab.com 60 and 10, a hub on a path none, any other host a conservative 6 and 2; " +
  'set or raise them in ORDERS.json: "hub": {"pushesPerMinute": 30, "readsPerSecond": 10}';

/** What a machine works under, in words: "15 reads a second (GitHub's recommendation), 6 pushes a minute (…)". */
export function describeBudgets(b: Budgets): string {
  const pushes = b.pushesPerMinute === undefined ? "no push budget" : `${b.pushesPerMinute} push${b.pushesPerMinute === 1 ? "" : "es"} a minute`;
  const reads = b.readsPerSecond === undefined ? "no read budget" : `${b.readsPerSecond} read${b.readsPerSecond === 1 ? "" : "s"} a second`;
  return b.pushesFrom === b.readsFrom ? `${pushes} and ${reads} (${b.pushesFrom})` : `${pushes} (${b.pushesFrom}) and ${reads} (${b.readsFrom})`;
}

/** The most a move's sync is spread over (ms): a quarter second for each other machine, at most 2 s. */
export const MOVE_SPREAD_PER_MACHINE_MS = 250;
export const MAX_MOVE_SPREAD_MS = 2000;

/**
 * How long (ms) after a look saw the hub move a machine may start its sync, at random, in a fleet of `machines`:
 * they all see a move within a look of each other, and machines that all sync (and push) at once lose their races
 * to each other; one machine alone has nobody to race.
 */
export function moveSpreadOf(machines: number): number {
  return Math.min(MAX_MOVE_SPREAD_MS, MOVE_SPREAD_PER_MACHINE_MS * Math.max(0, Math.floor(machines) - 1));
}
