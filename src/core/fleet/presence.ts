// Whether a machine is there: online, stale (a heartbeat late) or offline (3
// missed), from its declared heartbeat and last seen time, at a time the
// reader passes in: its own clock (coord status, coord ui, notify), or the
// fleet's time (STATUS.md, a pure function of the files: see fleetTime).
import { CLOCK_SKEW, firstChange, heardAt } from "../time/clock.js";

export type Presence = "online" | "stale" | "offline";

/** Readers call a machine offline after this many missed heartbeats. */
export const MISSED_HEARTBEATS = 3;

/** Stale after this many heartbeats without news (a cron tick or a slow sync may make one late). */
export const STALE_HEARTBEATS = 1.5;

/** The longest heartbeat a reader believes (a machine with a longer one is offline after 3 weeks). */
export const MAX_HEARTBEAT = 7 * 86_400;

export interface Heard {
  lastSeen: string;
  /** Seconds between heartbeats, as the machine declares it. */
  heartbeat: number;
}

/** Seconds since the machine was last heard of at `now` (never negative); undefined when never, or its lastSeen is not believed (see heardAt). */
export function silentFor(m: Heard, now: Date): number | undefined {
  const seen = heardAt(m.lastSeen, now);
  return seen === undefined ? undefined : Math.max(0, Math.floor((now.getTime() - seen) / 1000));
}

/** Online, stale or offline at `now`. */
export function presenceOf(m: Heard, now: Date): Presence {
  const seen = heardAt(m.lastSeen, now);
  if (seen === undefined) return "offline";
  const silentMs = now.getTime() - seen;
  const beatMs = Math.min(m.heartbeat, MAX_HEARTBEAT) * 1000;
  if (silentMs > MISSED_HEARTBEATS * beatMs) return "offline";
  return silentMs > STALE_HEARTBEATS * beatMs ? "stale" : "online";
}

/** Offline: not heard of for 3 heartbeats; a lastSeen far in the reader's future is not believed (see heardAt). */
export function isOffline(m: Heard, now: Date): boolean {
  return presenceOf(m, now) === "offline";
}

/**
 * When isOffline's answer next changes after `now` (ms since the epoch): offline 1 ms after 3 heartbeats of silence,
 * online again once a lastSeen too far ahead becomes believable; undefined when it never changes by the clock alone.
 * Its deadline, beside its rule (a sync acts on offline, never on stale: stale is for people's views).
 */
export function offlineChangesAt(m: Heard, now: Date): number | undefined {
  const seen = Date.parse(m.lastSeen);
  if (!Number.isFinite(seen)) return undefined;
  const beatMs = Math.min(m.heartbeat, MAX_HEARTBEAT) * 1000;
  // Believed from seen - skew on; silence counts from the lastSeen itself (a future one within the skew is "now").
  return firstChange([seen - CLOCK_SKEW * 1000, seen + Math.floor(MISSED_HEARTBEATS * beatMs) + 1], now, (at) => isOffline(m, at));
}

/**
 * The fleet's time as its files say it: the newest lastSeen of any machine
 * (the writer of a commit publishes its own heartbeat in it). Deterministic:
 * every machine that reads the same files derives the same time. Undefined
 * with no machine.
 */
export function fleetTime(lastSeens: Iterable<string>): Date | undefined {
  let newest = Number.NEGATIVE_INFINITY;
  for (const s of lastSeens) {
    const t = Date.parse(s);
    if (Number.isFinite(t) && t > newest) newest = t;
  }
  return Number.isFinite(newest) ? new Date(newest) : undefined;
}

/** "just now", "47 s", "12 min", "3 h 5 min", "2 d 4 h": a span of seconds for people. */
export function spanText(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 5) return "just now";
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) {
    const m = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ""}`;
  }
  const h = Math.floor((s % 86_400) / 3600);
  return `${Math.floor(s / 86_400)} d${h ? ` ${h} h` : ""}`;
}

/** "47 min ago" (or "just now"). */
export function agoText(seconds: number): string {
  const span = spanText(seconds);
  return span === "just now" ? span : `${span} ago`;
}

/** "2026-11-22 14:03 UTC": a time for people, to the minute. */
export function utcText(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return `${new Date(t).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
