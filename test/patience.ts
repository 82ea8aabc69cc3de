/**
 * How long a test waits for an event before it says the event never came: a ceiling, not a claim about speed (that is
 * the bench's: docs/performance.md). Every bound in the tests (vitest's test and hook timeouts, `waitFor` and the other
 * waits of helpers.ts, each test's own timeout) is written as what a quiet 2-core machine needs with room to spare,
 * and is multiplied by the patience: a loaded machine (a second `npm test` beside this one, about ten processes
 * runnable a core) runs each test several times slower, and a test that asserts what a user relies on still passes
 * there. A test that hangs still ends by itself, later. `COORD_TEST_PATIENCE=<n>` sets it (1 for a quiet machine's
 * bounds, more for a slower one); a bound that checks something does not happen (`stays`) is not multiplied: a quiet
 * wait proves no more on a loaded machine for being longer.
 */
export const PATIENCE = patienceOf(process.env.COORD_TEST_PATIENCE);

/** The patience `COORD_TEST_PATIENCE` names: a number from 1 to 100, or the default, 4. */
export function patienceOf(value: string | undefined): number {
  const n = Number(value); // NaN when unset or not a number, 0 when blank: both below 1
  return n >= 1 && n <= 100 ? n : 4;
}

/** A bound of `ms` on a quiet machine, as this run waits it. */
export function patient(ms: number): number {
  return Math.round(ms * PATIENCE);
}
