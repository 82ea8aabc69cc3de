// A timer for any delay: Node's setTimeout fires at once for more than
// 2^31-1 ms (about 24.8 days), so a long delay is waited for in chunks.

/** The longest delay setTimeout takes as given. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Calls `fn` after `ms` milliseconds, whatever `ms` is: a delay past what
 * setTimeout takes is waited for in chunks; Infinity (or NaN) never fires; 0
 * or less fires on the next turn. Returns a function that cancels it.
 */
export function setLongTimeout(fn: () => void, ms: number): () => void {
  if (Number.isNaN(ms) || ms === Infinity) return () => {};
  let timer: NodeJS.Timeout | undefined;
  // Counted down chunk by chunk (setTimeout's own monotonic clock), never from the wall clock.
  let left = Math.max(0, ms);
  const arm = () => {
    if (left > MAX_TIMEOUT_MS) {
      left -= MAX_TIMEOUT_MS;
      timer = setTimeout(arm, MAX_TIMEOUT_MS);
    } else timer = setTimeout(fn, left);
  };
  arm();
  return () => clearTimeout(timer);
}

/** What `within` gives when the work took longer than it waits. */
export const LATE: unique symbol = Symbol("late");

/** What `work` gives, or LATE once `ms` have passed first; the timer never outlives the race (it would keep a process alive). */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let cancel = () => {};
  const late = new Promise<typeof LATE>((resolve) => {
    cancel = setLongTimeout(() => resolve(LATE), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    cancel();
  }
}
