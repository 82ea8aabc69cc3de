// coord's start-up tricks, in one place: what each is, where it lives, what
// it buys today, and the bench row that shows it (`node scripts/bench.mjs
// --only=startup` measures each on and off in one run, against raw git;
// docs/performance.md, "Start-up tricks", has the same table).
//
// | trick | where | buys (2026-11-26, medians, this 2-core machine) | row |
// |---|---|---|---|
// FIGURES
//
// COORD_STARTUP_OFF=<names> (comma-separated, among those of TRICKS) switches
// tricks off, for the bench that measures them: a measuring aid, not a user
// setting (nothing is faster or safer with a trick off). Read here only.

/** The tricks, by the name COORD_STARTUP_OFF knows them by. */
export const TRICKS = ["quiet", "codecache", "prefetch", "earlyclone", "parsememo"] as const;
export type Trick = (typeof TRICKS)[number];

/** Whether the measuring aid switched `trick` off in this process. */
export function trickOff(trick: Trick, env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.COORD_STARTUP_OFF ?? "").split(",").some((name) => name.trim() === trick);
}
