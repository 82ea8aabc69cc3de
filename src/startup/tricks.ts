// coord's start-up tricks, in one place: what each is, where it lives, what
// it buys today, and the bench row that shows it (`node scripts/bench.mjs
// --only=startup` measures each on and off in one run, against raw git;
// docs/performance.md, "Start-up tricks", lists them with the row of each;
// the amounts are row 15 of bench/results.md).
//
// src/startup/ holds the tricks that work before the CLI loads: the code
// cache, the head start and the early clone, and this index. The quiet stamp
// and the parse memo are rules and local state of the sync's, and stay in its
// layers (core, state, sync); they are named here with the others. The sync
// knows none of them: `coord sync`'s command hands it the head start
// (head-start.ts), `coord init` takes its early clone.
//
// What each buys, 2026-11-25: the median of paired on/off runs (9 pairs a
// run, six runs at load 4–7 on this project's 2-core machine, Node 20.20,
// one of them without NODE_EXTRA_CA_CERTS as cron runs coord):
//
// - quiet stamp (`quiet`): a cron `coord sync` with nothing new answered from
//   .git/coord/quiet.json and one `git ls-remote`, before the CLI loads.
//   src/cli/entry.ts, src/sync/quiet.ts, src/state/quiet.ts,
//   src/core/machine/quiet-stamp.ts. Buys 100–180 ms of a no-op sync (98 ms–0.20 s
//   with, 0.20–0.43 s without; `git fetch` 52–69 ms). Row 15a (row 1).
// - two bundles: the executable as small ES chunks, the CLI as one CommonJS
//   file. scripts/build.mjs, src/process-slot.ts. Not switched: the quiet
//   path does without loading the CLI, 50–61 ms in four runs and 0.12–0.14 s
//   in two (`coord --version` less `node -e 0`); and the code cache needs
//   the CommonJS file (Node 20 keeps none for ES modules). Row 15b.
// - code cache (`codecache`): the CLI compiled from V8's cached data in
//   ~/.cache/coord. src/startup/code-cache.ts. Buys 37–52 ms of a sync that runs a
//   task (0.26–0.51 s) in five runs, nothing in one at load 6. Row 15c (row 2).
// - head start (`prefetch`): a sync's fetch started before the CLI loads.
//   src/startup/prefetch.ts (handed to the sync by `coord sync`'s command:
//   src/startup/head-start.ts). Buys 39–71 ms of a sync
//   that runs a task in five runs, nothing in one at load 6 (the fetch and
//   compiling then share a busy CPU); more over a real network, where the
//   fetch waits and the CPU is free. Row 15d (row 2).
// - early clone (`earlyclone`): init's clone started before the CLI loads.
//   src/startup/early-clone.ts (taken in src/actions/init.ts). Buys
//   35–89 ms of a `coord init` of a small hub (0.38–1.2 s); 58 ms on row 5's
//   hub of 100,000 commits (0.42 s with, 0.47 s without; 7 pairs, once).
//   Row 15e (row 5).
// - parse memo (`parsememo`): parse results kept by blob id across processes
//   in .git/coord/parsed.json. src/state/parsed.ts (src/core/repo/parsed.ts keeps
//   them in the process). At row 4's scale (100 machines, 1,000 orders,
//   10,000 messages; three runs of 3 pairs) buys 0.57–1.4 s of a sync with
//   nothing new that the stamp does not answer (0.33–0.90 s with, 0.90–2.7 s
//   without) and 0.53–1.2 s of one that runs a task (0.48–1.2 s with,
//   1.0–2.3 s without; row 4b's goal is under 2 s). Rows 15f–g (row 4).
//
// Each still pays for itself: none buys less than ~35 ms, about a tenth of the
// command it speeds up, and rows 1, 2 and 4b lean on them for their goals. Not switched off here: the daemon's quiet answer at
// each tick (in process: sync/sync.ts) and the in-process parse memo.
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
