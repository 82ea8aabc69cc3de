// Waiting before trying again: the one backoff of coord. Capped doubling,
// with optional jitter; pure (the random source is passed in).

export interface Backoff {
  /** The first wait, in milliseconds. */
  baseMs: number;
  /** The longest wait: the growth stops there. */
  maxMs: number;
  /** Growth per attempt (2: doubling). */
  factor?: number;
  /** 0 to 1: the wait is multiplied by a random 1 − jitter … 1 + jitter. */
  jitter?: number;
}

/**
 * The wait before trying again after `attempt` failures (1: the first):
 * `baseMs · factor^(attempt − 1)`, at most `maxMs`, jittered. Any attempt
 * count is safe: a growth past what a number holds is `maxMs`.
 */
export function backoffDelay(attempt: number, { baseMs, maxMs, factor = 2, jitter = 0 }: Backoff, random: () => number = Math.random): number {
  if (!(baseMs > 0)) return 0;
  const grown = baseMs * factor ** Math.max(0, attempt - 1);
  const capped = Number.isFinite(grown) ? Math.min(maxMs, grown) : maxMs;
  return jitter ? capped * (1 - jitter + 2 * jitter * random()) : capped;
}

/**
 * The wait after rejected push number `attempt` (a lost compare-and-swap),
 * when that try (fetch, build, push) took `tryMs`. The first IMMEDIATE_RETRIES
 * are redone at once: under steady traffic (machines pushing one after
 * another) the next try has the same chance as this one, and a wait only
 * makes the loser fall behind; in a burst each round of tries lands one push
 * whatever their spread, so the last of 4 lands on its 4th try, unhindered.
 * After that, "full jitter": a uniform draw from 0 to
 * `base · factor^(attempt − 1 − IMMEDIATE_RETRIES)`, where the base is at
 * least one try's duration, and at most CONTENTION_TRIES tries' worth and
 * `maxMs`: the losers of a bigger burst spread over the time the winners'
 * pushes take, instead of coming back together and losing again (a try takes
 * longer beside others on the same cores, so the spread grows with the
 * crowd). The numbers were chosen on a simulation of the loop:
 * test/cas-race.test.ts.
 */
export function contentionDelay(attempt: number, tryMs: number, { baseMs, maxMs, factor = 2 }: Backoff, random: () => number = Math.random): number {
  if (attempt <= IMMEDIATE_RETRIES) return 0;
  const base = Math.max(baseMs, Number.isFinite(tryMs) ? tryMs : 0);
  const grown = base * factor ** Math.max(0, attempt - 1 - IMMEDIATE_RETRIES);
  return Math.min(Number.isFinite(grown) ? grown : maxMs, maxMs, base * CONTENTION_TRIES) * random();
}

/** Rejected pushes redone at once before contentionDelay waits. */
export const IMMEDIATE_RETRIES = 3;

/** How many tries' durations a wait after a rejected push spans at most (contentionDelay). */
export const CONTENTION_TRIES = 2;

/** The bounds of the wait after a rejected push (contentionDelay): from 50 ms or one try's duration, doubling, at most 2 tries' worth and 2 s. */
export const PUSH_BACKOFF: Backoff = { baseMs: 50, maxMs: 2000 };

/** A fetch that raced another fetch of the same checkout for a ref's lock tries again after this. */
export const REF_LOCK_BACKOFF: Backoff = { baseMs: 50, maxMs: 1000, jitter: 0.5 };

/**
 * What a scheduled sync that skipped in its backoff says: how many syncs failed, and until when it waits. A
 * time already past (the probe of the hub took longer than what was left) is not named: it tries again at
 * the next tick.
 */
export function backingOff(backoff: { failures: number; until: string }, now: Date): string {
  const failed = `${backoff.failures} failed sync${backoff.failures === 1 ? "" : "s"}`;
  const until = Date.parse(backoff.until);
  return until > now.getTime() ? `backing off after ${failed} until ${backoff.until}` : `backing off after ${failed}; it tries again at the next tick`;
}
