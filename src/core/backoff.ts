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

/** A rejected push (someone pushed first) is redone on the new tip after this: 50 ms, 100 ms, … up to 2 s, times 0.5–1.5. */
export const PUSH_BACKOFF: Backoff = { baseMs: 50, maxMs: 2000, jitter: 0.5 };

/** A fetch that raced another fetch of the same checkout for a ref's lock tries again after this. */
export const REF_LOCK_BACKOFF: Backoff = { baseMs: 50, maxMs: 1000, jitter: 0.5 };
