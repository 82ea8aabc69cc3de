#!/usr/bin/env node
// The `coord` executable. A plain `coord sync` (what cron runs every minute)
// fetches first thing (src/sync/prefetch.ts) and asks whether anything changed
// since a sync that had nothing to do (src/sync/quiet.ts), with little of
// coord loaded. Anything else, or any doubt, runs the CLI (main.ts), loaded
// only then (the bundle keeps the two apart: scripts/bundle.mjs), while the
// fetch goes on; the sync takes its tip.
import { quietCandidate } from "./quiet-args.js";

type Candidate = NonNullable<ReturnType<typeof quietCandidate>>;
type Prefetch = typeof import("../sync/prefetch.js");

async function quiet(candidate: Candidate, prefetch: Prefetch): Promise<boolean> {
  try {
    const { quietCheckout } = await import("../sync/quiet.js");
    const stamp = await quietCheckout(candidate.dir, { scheduled: candidate.scheduled, fetched: (remote, branch) => prefetch.peekPrefetch(candidate.dir, remote, branch) });
    if (!stamp) return false;
    if (candidate.json) {
      // The result `coord sync --json` prints, as a quiet sync in the CLI gives it.
      const { quietResult } = await import("../sync/result.js");
      console.log(JSON.stringify(quietResult(stamp), null, 2));
      return true;
    }
    const { waitingLines } = await import("./waiting.js");
    for (const line of waitingLines(stamp.waiting)) console.log(line);
    console.log(`${stamp.machine}: up to date, nothing to publish`);
    return true;
  } catch (e) {
    if (process.env.COORD_DEBUG === "1") console.error(e);
    return false; // any doubt: the ordinary sync runs, and says what is wrong
  }
}

// A reader that went away (coord daemon run | head, a closed terminal) makes every write fail with
// EPIPE. Unheard, each failure is an uncaught error, which a daemon logs, which fails again: a loop
// that spins a core and starves the syncs. Output nobody reads is dropped; the work goes on.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  });

const argv = process.argv.slice(2);
const candidate = quietCandidate(argv);
if (!candidate) await (await import("./main.js")).run(argv);
else {
  // The fetch first (src/sync/prefetch.ts): the quiet check compares its tip with the stamp, and a sync that is not quiet takes it.
  const prefetch = await import("../sync/prefetch.js");
  prefetch.startPrefetch(candidate.dir);
  if (!(await quiet(candidate, prefetch))) await (await import("./main.js")).run(argv);
  prefetch.dropPrefetch();
}
