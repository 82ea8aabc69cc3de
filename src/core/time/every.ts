// Recurring orders ("every"): the slots of a cron expression in a time zone,
// which slot is due, and the run a slot makes. Pure: the time comes in.
//
// A slot is an instant, written as its UTC ISO time ("2025-03-30T01:00:00.000Z").
// The run of an order is (rev, slot): a new slot is a new generation, as a
// bumped rev is, ordered after the rev (rev 2's slots come after rev 1's, a
// run without a slot before any with one). A machine runs the latest slot at
// or before now, once: a machine that was off for three slots runs the last
// one once when it is back, never the missed ones one by one, and never a
// slot older than one it ran.
//
// Time zones and daylight saving time, as Temporal's "compatible" rule: a
// wall time that does not exist (skipped when clocks go forward) is run as
// much later as the gap is long (02:30 → 03:30); a wall time that occurs
// twice (clocks go back) is run at its first occurrence only. Two wall times
// that fall on the same instant are one slot.
//
// croner (through core/time/cron.ts) finds the wall times of the expression: it is
// asked in UTC, so a wall time comes back as if it were a UTC instant, and
// this file maps it to the instant in the zone. croner's own time zones keep
// a different rule at the changes of the clocks (a skipped fixed time runs at
// the end of the gap, 03:00 instead of 03:30; a repeated "*/30" runs twice);
// the rule above is coord's, written in its contract (test/core/time/every.test.ts).
import { cronProblem, nextRun, previousRun } from "./cron.js";

export const DEFAULT_TIMEZONE = "UTC";

const DAY = 86_400_000;

/** Slots listed at most by slotsBetween. */
export const MAX_LISTED = 10_000;

/** Wall times looked at, at most, by one search (a minute's slots near a change of the clocks take about 120). */
const MAX_STEPS = 20_000;

/** An alias in any case as croner reads it ("@Daily" → "@daily"). */
const text = (every: string) => (every.trim().startsWith("@") ? every.trim().toLowerCase() : every);

const problems = new Map<string, string | undefined>();

/** Why `every` is not a recurrence coord runs (the cron field named, or a day no month has), or undefined. */
export function everyProblem(every: string): string | undefined {
  if (problems.has(every)) return problems.get(every);
  const problem = cronProblem(text(every), { aliases: true });
  if (problems.size >= 1000) problems.clear();
  problems.set(every, problem);
  return problem;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function formatOf(timezone: string): Intl.DateTimeFormat {
  let f = formats.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formats.set(timezone, f);
  }
  return f;
}

/** Why `timezone` is not a time zone this machine knows, or undefined. */
export function timezoneProblem(timezone: string): string | undefined {
  if (timezone === DEFAULT_TIMEZONE) return undefined;
  try {
    formatOf(timezone);
    return undefined;
  } catch {
    return `"${timezone}" is not a time zone known here; write an IANA name like "Europe/Paris" or "UTC"`;
  }
}

/** The zone's offset from UTC at instant `t` (ms; Paris in winter: +3 600 000). */
export function offsetAt(timezone: string, t: number): number {
  if (timezone === DEFAULT_TIMEZONE) return 0;
  const parts = formatOf(timezone).formatToParts(new Date(t));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour") % 24, get("minute"), get("second"));
  return wall - (t - (((t % 1000) + 1000) % 1000));
}

const near = new Map<string, [number, number]>();

/**
 * The zone's offsets around the UTC day that holds `t` (lowest first): one offset, or the two of a change of the
 * clocks. A wall time `t` (ms as if UTC) falls on an instant between the two (no zone is a day off). Kept per day:
 * the walks below ask for each wall time they look at, and Intl is slow.
 */
function offsetsNear(timezone: string, t: number): [number, number] {
  if (timezone === DEFAULT_TIMEZONE) return [0, 0];
  const day = t - (((t % DAY) + DAY) % DAY);
  const key = `${timezone} ${day}`;
  let pair = near.get(key);
  if (!pair) {
    const a = offsetAt(timezone, day - DAY);
    const b = offsetAt(timezone, day + 2 * DAY);
    pair = a <= b ? [a, b] : [b, a];
    if (near.size >= 10_000) near.clear();
    near.set(key, pair);
  }
  return pair;
}

/** The instant of a wall time (ms as if UTC), compatible: a wall time in a gap runs as much later as the gap is long, a repeated one at its first. */
function instantOf(timezone: string, wall: number): number {
  const [low, high] = offsetsNear(timezone, wall);
  if (low === high) return wall - low;
  const fits = [wall - high, wall - low].filter((t) => offsetAt(timezone, t) === wall - t);
  return fits[0] ?? wall - low; // the first that exists; in the gap: as much later as the gap is long
}

/** A recurrence: the cron expression and its time zone. */
export interface Recurrence {
  every: string;
  timezone?: string;
}

/** The recurrence's expression and zone when coord runs it. */
function usable(r: Recurrence): { every: string; tz: string } | undefined {
  const tz = r.timezone ?? DEFAULT_TIMEZONE;
  if (everyProblem(r.every) || timezoneProblem(tz)) return undefined;
  return { every: text(r.every), tz };
}

/** The wall time after `wall` (strictly), before it (`back`), as croner finds it in UTC. */
function step(every: string, wall: number, back: boolean): number | undefined {
  return (back ? previousRun(every, new Date(wall)) : nextRun(every, new Date(wall)))?.getTime();
}

// The searches walk wall times, and map each to its instant. In a zone an instant is its wall time less an
// offset, so a wall time more than the highest offset after an instant falls after it, and one less than the
// lowest offset after it falls before it: that bounds where each search starts and stops. Near a change of
// the clocks the instants are not in the order of the wall times (02:30 in the gap is 03:30, after 03:00),
// hence the walk past the first one found.

/** The first slot after `from` (ms), or undefined when there is none. */
function firstAfter(every: string, tz: string, from: number): number | undefined {
  let best: number | undefined;
  for (let wall = step(every, from + offsetsNear(tz, from)[0], false), n = 0; wall !== undefined && n < MAX_STEPS; wall = step(every, wall, false), n++) {
    const [, high] = offsetsNear(tz, wall);
    if (best !== undefined && wall - high >= best) break;
    const t = instantOf(tz, wall);
    if (t > from && (best === undefined || t < best)) best = t;
  }
  return best;
}

/** The slots after `from` and at or before `to` (ms), ascending, each once, at most `max`. */
export function slotsBetween(r: Recurrence, from: number, to: number, max = MAX_LISTED): number[] {
  const u = usable(r);
  if (!u || !(to > from) || max < 1) return [];
  const found = new Set<number>();
  let last = -Infinity;
  for (let wall = step(u.every, from + offsetsNear(u.tz, from)[0], false), n = 0; wall !== undefined && n < MAX_STEPS + max; wall = step(u.every, wall, false), n++) {
    const [, high] = offsetsNear(u.tz, wall);
    if (wall - high > to || (found.size >= max && wall - high > last)) break; // no later wall time falls before
    const t = instantOf(u.tz, wall);
    if (t > from && t <= to) {
      found.add(t);
      last = Math.max(last, t);
    }
  }
  return [...found].sort((a, b) => a - b).slice(0, max);
}

/** The latest slot at or before `now` (ms), not before `since` when given; undefined when there is none. */
export function latestSlot(r: Recurrence, now: number, since?: number): number | undefined {
  const u = usable(r);
  if (!u) return undefined;
  let best: number | undefined;
  // From the latest wall time that can fall at or before now (previousRun is strict: + 1 ms), back.
  for (let wall = step(u.every, now + offsetsNear(u.tz, now)[1] + 1, true), n = 0; wall !== undefined && n < MAX_STEPS; wall = step(u.every, wall, true), n++) {
    const [low] = offsetsNear(u.tz, wall);
    if ((best !== undefined && wall - low <= best) || (since !== undefined && wall - low < since)) break; // no earlier wall time falls later
    const t = instantOf(u.tz, wall);
    if (t <= now && (since === undefined || t >= since) && (best === undefined || t > best)) best = t;
  }
  return best;
}

/** The first slot after `now` (ms), not before `since` when given; undefined when there is none. */
export function nextSlot(r: Recurrence, now: number, since?: number): number | undefined {
  const u = usable(r);
  if (!u) return undefined;
  return firstAfter(u.every, u.tz, since !== undefined && since > now ? since - 1 : now);
}

/** What of an order the slots depend on. */
export interface Recurring extends Partial<Recurrence> {
  notBefore?: string;
}

const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());

function since(order: Recurring): number | undefined {
  const t = Date.parse(order.notBefore ?? "");
  return Number.isFinite(t) ? t : undefined;
}

/** The slot due now (ISO): the latest at or before `now` and not before `notBefore`. Undefined for an order without `every`, or none yet. */
export function dueSlot(order: Recurring, now: Date): string | undefined {
  if (!order.every) return undefined;
  return iso(latestSlot({ every: order.every, ...(order.timezone ? { timezone: order.timezone } : {}) }, now.getTime(), since(order)));
}

/** The first slot after `now` (ISO), not before `notBefore`: when dueSlot next changes (to it). Undefined for an order without `every`. */
export function upcomingSlot(order: Recurring, now: Date): string | undefined {
  if (!order.every) return undefined;
  return iso(nextSlot({ every: order.every, ...(order.timezone ? { timezone: order.timezone } : {}) }, now.getTime(), since(order)));
}

/** A run of an order: its rev, and for a recurring order the slot. */
export interface Run {
  rev: number;
  slot?: string | undefined;
}

/** A slot as coord writes it: a UTC ISO time on a whole minute (compared as text). */
export const SLOT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\.000Z$/;

/** Runs in order: by rev, then by slot (a run without one before any with one). Negative: a before b. */
export function compareRuns(a: Run, b: Run): number {
  if (a.rev !== b.rev) return a.rev - b.rev;
  const x = a.slot ?? "";
  const y = b.slot ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}

export const sameRun = (a: Run, b: Run) => compareRuns(a, b) === 0;

/** A run's key, as it names logs and process markers: "r2", or "r2@20250330T0100Z" for a slot. */
export function runKey(r: Run): string {
  return r.slot ? `r${r.rev}@${r.slot.slice(0, 16).replace(/[-:]/g, "")}Z` : `r${r.rev}`;
}

/** "0 3 * * * (Europe/Paris)": how an order's recurrence is shown. */
export function describeEvery(order: Recurring): string | undefined {
  if (!order.every) return undefined;
  return `${order.every}${order.timezone && order.timezone !== DEFAULT_TIMEZONE ? ` (${order.timezone})` : " (UTC)"}`;
}
