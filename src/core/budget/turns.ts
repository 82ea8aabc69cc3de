// The lengths of the turns to push under the fleet's budget (core/budget/budget.ts turnWait).

/** The lengths of turns to push (ms). */
export interface TurnTimes {
  /** How long a machine's turn lasts: one try (fetch, build, push) on a busy host fits in it. */
  turnMs: number;
  /** The longest round of turns: in a larger fleet several machines share a turn (each pushes seldom then). */
  roundMaxMs: number;
}

/** The turns coord keeps. */
export const TURNS: TurnTimes = { turnMs: 2_000, roundMaxMs: 30_000 };

/** The turns of a fleet run `scale` times faster than real time (a bench's fleet rows: src/timings.ts timeScale). */
export function turnsAt(scale: number): TurnTimes {
  return scale > 1 ? { turnMs: TURNS.turnMs / scale, roundMaxMs: TURNS.roundMaxMs / scale } : TURNS;
}
