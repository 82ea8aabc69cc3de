// The wake refs' names (core/hub/wakes.ts), with nothing else loaded: the quiet
// sync's look (src/git/remote-tip.ts) runs before the rest of coord loads.

/** Where a machine's wake ref lives on the hub: refs/coord-wake/<machine>. */
export const WAKE_REF_PREFIX = "refs/coord-wake/";

/** The wake of every machine (a broadcast, an ANY order): not a machine name (names are lower case). */
export const EVERYONE = "ALL";

/** The wake ref of `machine` (a valid machine name: the caller checked), or of EVERYONE. */
export function wakeRefOf(machine: string): string {
  return `${WAKE_REF_PREFIX}${machine}`;
}

/** The wakes a look asks for beside the branches: its machine's, and the fleet's (EVERYONE). */
export interface WakesSeen {
  /** Its own wake ref's commit; undefined: the hub has none (it was never woken there). */
  wake?: string;
  /** The fleet's wake ref's commit (a broadcast, an ANY order); undefined: none yet. */
  everyone?: string;
}
