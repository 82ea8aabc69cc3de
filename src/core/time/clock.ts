// Other machines' times as a reader may believe them: their clocks drift, and
// a file may say anything.

/**
 * How far ahead of the reader's clock another machine's time may be and
 * still be believed (clocks drift; `coord doctor` warns past this).
 */
export const CLOCK_SKEW = 300;

/**
 * When a machine was last heard of, as the reader may believe it: its
 * `lastSeen`, but never later than now; one more than CLOCK_SKEW ahead (a
 * clock set years ahead, or a forged file) is not believed at all, else such
 * a machine would hold its claims and look online forever.
 */
export function heardAt(lastSeen: string | undefined, now: Date): number | undefined {
  const seen = Date.parse(lastSeen ?? "");
  if (!Number.isFinite(seen) || seen > now.getTime() + CLOCK_SKEW * 1000) return undefined;
  return Math.min(seen, now.getTime());
}

/**
 * Whether a machine whose lastSeen is `lastSeen` was heard of within
 * `seconds` before `now`: by its word (as believed, heardAt), or because the
 * reader saw that very lastSeen appear within that time by its own clock.
 */
export function heardWithin(lastSeen: string | undefined, seconds: number, now: Date, observed?: Observation): boolean {
  const limit = seconds * 1000;
  const seen = heardAt(lastSeen, now);
  if (seen !== undefined && now.getTime() - seen <= limit) return true;
  return observed !== undefined && observed.lastSeen === lastSeen && now.getTime() - observed.at <= limit;
}

/**
 * When heardWithin's answer next changes after `now` (ms since the epoch): the first instant it is no longer
 * true (its newest source, plus the limit, passed), or the instant a lastSeen too far ahead to be believed
 * becomes believable; undefined when it never changes by the clock alone. Its deadline, beside its rule.
 */
export function heardWithinUntil(lastSeen: string | undefined, seconds: number, now: Date, observed?: Observation): number | undefined {
  const limit = Math.floor(seconds * 1000);
  const seen = Date.parse(lastSeen ?? "");
  // The answer is true on [seen - skew, seen + limit] (believed, and not yet silent too long) and up to
  // at + limit by the reader's own observation: it can change only where one of these begins or ends (in whole
  // ms, as the rule compares), so the first of those instants where it differs is the deadline.
  const edges = [
    ...(Number.isFinite(seen) ? [seen - CLOCK_SKEW * 1000, seen + limit + 1] : []),
    ...(observed !== undefined && observed.lastSeen === lastSeen ? [observed.at + limit + 1] : []),
  ];
  return firstChange(edges, now, (at) => heardWithin(lastSeen, seconds, at, observed));
}

/** The first of `edges` after `now` (ms) at which `answer` differs from its answer at `now`: a rule's deadline from the instants it can change at. */
export function firstChange<A>(edges: number[], now: Date, answer: (at: Date) => A): number | undefined {
  const before = answer(now);
  return edges
    .filter((t) => Number.isFinite(t) && t > now.getTime())
    .sort((a, b) => a - b)
    .find((t) => answer(new Date(t)) !== before);
}

/** What a reader saw of a machine: the `lastSeen` it last read, and when (by the reader's own clock, ms) it first read that value. */
export interface Observation {
  lastSeen: string;
  at: number;
}

/**
 * The reader's observations after reading the machines' `lastSeen` values at
 * `now`: a value not seen before (a new machine, a renewed heartbeat) is
 * stamped with the reader's clock; an unchanged one keeps its stamp. Since
 * only the reader's clock measures how long a value has not changed, a
 * writer's clock running behind (or ahead) cannot make its claims look
 * older (or younger) than they are. A machine no longer read is forgotten.
 */
export function observe(previous: ReadonlyMap<string, Observation>, lastSeen: ReadonlyMap<string, string>, now: Date): Map<string, Observation> {
  const next = new Map<string, Observation>();
  for (const [name, seen] of lastSeen) {
    const before = previous.get(name);
    next.set(name, before && before.lastSeen === seen && before.at <= now.getTime() ? before : { lastSeen: seen, at: now.getTime() });
  }
  return next;
}
