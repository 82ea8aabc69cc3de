// The hub's two branches, named once: the machines' branch, and a tip as the
// pair of both branches' commits. Pure and without imports, so that the
// light modules that run before the CLI loads (git/client.ts,
// git/remote-tip.ts) use the same name and the same form as the rest.

/** The hub's branch that machines publish on: everything they write lives there, and nothing else. */
export const MACHINES_BRANCH = "coord";

/**
 * The hub's state as a machine reads it: the people's branch commit (main:
 * ORDERS.json and what else people keep) and the machines' branch commit
 * (coord: every file machines write), written `<people>+<machines>`; the
 * machines' part is empty while that branch does not exist. Callers hold a
 * tip as an opaque name (compare, store, pass back); only a Hub takes it
 * apart. A plain commit id names that one commit, as ever.
 */
export function joinTip(people: string, machines: string | undefined): string {
  return `${people}+${machines ?? ""}`;
}

/** A tip's two commits, or undefined when `tip` is a plain commit id. */
export function splitTip(tip: string): { people: string; machines?: string } | undefined {
  const plus = tip.indexOf("+");
  if (plus < 0) return undefined;
  const machines = tip.slice(plus + 1);
  return { people: tip.slice(0, plus), ...(machines ? { machines } : {}) };
}
