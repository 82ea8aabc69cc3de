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
