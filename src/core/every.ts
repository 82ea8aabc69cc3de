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
import { cronProblem } from "./cron.js";

export const DEFAULT_TIMEZONE = "UTC";

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** How far a search for a slot looks (days): 29 February may be 8 years away (2096 → 2104). */
const SEARCH_DAYS = 8 * 366 + 2;

/** Slots listed at most by slotsBetween. */
export const MAX_LISTED = 10_000;

const ALIASES: Record<string, string> = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
};

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** A cron expression as sets: index → whether it matches. */
export interface CronSets {
  minutes: boolean[];
  hours: boolean[];
  /** Index 1-31. */
  doms: boolean[];
  /** Index 1-12. */
  months: boolean[];
  /** Index 0-6, Sunday 0. */
  dows: boolean[];
  /** Day of month and day of week: when both are restricted (neither starts with "*"), a day matches either (as in Vixie cron); otherwise both. */
  either: boolean;
}

function expand(text: string, min: number, max: number, names?: string[], offset = 0): boolean[] {
  const set = new Array<boolean>(max + 1).fill(false);
  const num = (s: string) => {
    const i = names?.indexOf(s.toLowerCase()) ?? -1;
    return i >= 0 ? i + offset : Number(s);
  };
  for (const item of text.split(",")) {
    const [range = "*", stepText] = item.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo = min;
    let hi = max;
    if (range !== "*") {
      const [a = "", b] = range.split("-");
      lo = num(a);
      hi = b !== undefined ? num(b) : stepText !== undefined ? max : lo;
    }
    for (let v = lo; v <= hi; v += step) set[v] = true;
  }
  return set;
}

/** Month lengths in a leap year: what a day of the month can be at most. */
const LONGEST = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The sets of a cron expression (five fields, or an @alias), or why it is not one coord runs: a field named, or a day no month has. */
export function parseCron(expression: string): CronSets | string {
  const text = ALIASES[expression.trim().toLowerCase()] ?? expression;
  const problem = cronProblem(text);
  if (problem) return problem;
  const [mi = "", h = "", dom = "", mon = "", dow = ""] = text.trim().split(/\s+/);
  const dows = expand(dow, 0, 7, DAYS);
  if (dows[7]) dows[0] = true; // 7 is Sunday too
  const sets: CronSets = {
    minutes: expand(mi, 0, 59),
    hours: expand(h, 0, 23),
    doms: expand(dom, 1, 31),
    months: expand(mon, 1, 12, MONTHS, 1),
    dows: dows.slice(0, 7),
    either: !dom.startsWith("*") && !dow.startsWith("*"),
  };
  if (!sets.either) {
    const possible = sets.months.some((on, m) => on && sets.doms.some((d, day) => d && day <= LONGEST[m]!));
    if (!possible) return `the day-of-month field: no month it names has day ${sets.doms.indexOf(true)}, so it never runs`;
  }
  return sets;
}

const parsed = new Map<string, CronSets | string>();

function cronOf(expression: string): CronSets | string {
  let sets = parsed.get(expression);
  if (sets === undefined) {
    if (parsed.size >= 1000) parsed.clear();
    sets = parseCron(expression);
    parsed.set(expression, sets);
  }
  return sets;
}

/** Why `every` is not a recurrence coord runs (the cron field named), or undefined. */
export function everyProblem(every: string): string | undefined {
  const sets = cronOf(every);
  return typeof sets === "string" ? sets : undefined;
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

/** Midnight (as a UTC number) of the local day that holds instant `t`. */
function localDay(timezone: string, t: number): number {
  const wall = t + offsetAt(timezone, t);
  return wall - (((wall % DAY) + DAY) % DAY);
}

/** The instant of a wall time (ms as if UTC) of a day whose offsets are `before` and `after` (compatible: a gap runs later, a repeat first). */
function instantOf(timezone: string, wall: number, before: number, after: number): number {
  if (before === after) return wall - before;
  const fits = [wall - before, wall - after].filter((t) => offsetAt(timezone, t) === wall - t);
  if (fits.length) return Math.min(...fits);
  return wall - Math.min(before, after); // in the gap: as much later as the gap is long
}

/** The slots of one local day (its midnight as a UTC number), ascending, each once. */
function daySlots(sets: CronSets, timezone: string, day: number): number[] {
  const date = new Date(day);
  if (!sets.months[date.getUTCMonth() + 1]) return [];
  const dom = sets.doms[date.getUTCDate()]!;
  const dow = sets.dows[date.getUTCDay()]!;
  if (sets.either ? !(dom || dow) : !(dom && dow)) return [];
  const before = offsetAt(timezone, day - DAY);
  const after = offsetAt(timezone, day + 2 * DAY);
  const out = new Set<number>();
  for (let h = 0; h < 24; h++) {
    if (!sets.hours[h]) continue;
    for (let m = 0; m < 60; m++) if (sets.minutes[m]) out.add(instantOf(timezone, day + h * HOUR + m * MINUTE, before, after));
  }
  return [...out].sort((a, b) => a - b);
}

/** A recurrence: the cron expression and its time zone. */
export interface Recurrence {
  every: string;
  timezone?: string;
}

function setsOf(r: Recurrence): CronSets | undefined {
  const sets = cronOf(r.every);
  if (typeof sets === "string" || timezoneProblem(r.timezone ?? DEFAULT_TIMEZONE)) return undefined;
  return sets;
}

/** The slots after `from` and at or before `to` (ms), ascending, at most `max`, within 8 years of `from`. */
export function slotsBetween(r: Recurrence, from: number, to: number, max = MAX_LISTED): number[] {
  const sets = setsOf(r);
  if (!sets || !(to > from)) return [];
  const tz = r.timezone ?? DEFAULT_TIMEZONE;
  const out: number[] = [];
  const last = localDay(tz, to) + DAY;
  for (let day = localDay(tz, from) - DAY, n = 0; day <= last && out.length < max && n < SEARCH_DAYS; day += DAY, n++)
    for (const t of daySlots(sets, tz, day)) if (t > from && t <= to && out.length < max && t !== out[out.length - 1]) out.push(t);
  return out;
}

/** The latest slot at or before `now` (ms), not before `since` when given; undefined when there is none within 8 years. */
export function latestSlot(r: Recurrence, now: number, since?: number): number | undefined {
  const sets = setsOf(r);
  if (!sets) return undefined;
  const tz = r.timezone ?? DEFAULT_TIMEZONE;
  const stop = since === undefined ? -Infinity : localDay(tz, since) - DAY;
  let best: number | undefined;
  let found: number | undefined;
  for (let day = localDay(tz, now) + DAY, n = 0; n < SEARCH_DAYS && day >= stop; day -= DAY, n++) {
    // The day before the one a slot was found on is looked at too (a wall time moves by a gap, never by a day), then no further.
    if (found !== undefined && day < found - DAY) break;
    for (const t of daySlots(sets, tz, day)) if (t <= now && (since === undefined || t >= since) && (best === undefined || t > best)) best = t;
    if (best !== undefined) found ??= day;
  }
  return best;
}

/** The first slot after `now` (ms), not before `since` when given; undefined when there is none within 8 years. */
export function nextSlot(r: Recurrence, now: number, since?: number): number | undefined {
  const sets = setsOf(r);
  if (!sets) return undefined;
  const tz = r.timezone ?? DEFAULT_TIMEZONE;
  const from = since !== undefined && since > now ? since - 1 : now;
  let best: number | undefined;
  let found: number | undefined;
  for (let day = localDay(tz, from) - DAY, n = 0; n < SEARCH_DAYS; day += DAY, n++) {
    if (found !== undefined && day > found + DAY) break;
    for (const t of daySlots(sets, tz, day)) if (t > from && (best === undefined || t < best)) best = t;
    if (best !== undefined) found ??= day;
  }
  return best;
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

/** The first slot after `now` (ISO), not before `notBefore`. Undefined for an order without `every`. */
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
