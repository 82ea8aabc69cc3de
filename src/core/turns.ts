// The lengths of the turns to push under the fleet's budget (core/budget.ts turnWait), on their own so that
// src/timings.ts can name them without loading the budget's rules.

/** The lengths of turns to push (ms). */
export interface TurnTimes {
  /** How long a machine's turn lasts: one try (fetch, build, push) on a busy host fits in it. */
  turnMs: number;
  /** The longest round of turns: in a larger fleet several machines share a turn (each pushes seldom then). */
  roundMaxMs: number;
}

/** The turns coord keeps (src/timings.ts passes them; a bench that runs a fleet at a faster time shortens them too). */
export const TURNS: TurnTimes = { turnMs: 2_000, roundMaxMs: 30_000 };
