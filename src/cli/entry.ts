#!/usr/bin/env node
// The `coord` executable. A plain `coord sync` (what cron runs every minute)
// first asks whether anything changed since a sync that had nothing to do
// (src/sync/quiet.ts): one look at the remote's tip, with little of coord
// loaded. Anything else, or any doubt, runs the CLI (main.ts), loaded only
// then: the bundle keeps the two apart (scripts/build.mjs), and loads the CLI
// with V8's code cache (src/startup/code-cache.ts). A sync that is not quiet starts
// its fetch before the CLI loads (src/startup/prefetch.ts), and does not ask the
// quiet stamp a second time; `coord init` starts its clone so
// (src/startup/early-clone.ts). What each of these tricks buys, and the
// bench row that shows it: src/startup/tricks.ts.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { stopRunningGit } from "../git/run.js";
import { signalsOwned } from "../signal-owners.js";
import { QUIET_FILE } from "../state/quiet.js";
import { trickOff } from "../startup/tricks.js";
import { initCandidate, quietCandidate } from "./quiet-args.js";

type Candidate = NonNullable<ReturnType<typeof quietCandidate>>;

async function quiet(candidate: Candidate): Promise<boolean> {
  if (trickOff("quiet")) return false; // the measuring aid (src/startup/tricks.ts): the CLI's sync, which starts full
  // No stamp (the last sync had work to do, or this checkout's .git is a file): not quiet, known without loading the check.
  if (!existsSync(join(candidate.dir, ".git", "coord", QUIET_FILE))) return false;
  try {
    const { quietCheckout } = await import("../sync/quiet.js");
    const stamp = await quietCheckout(candidate.dir, { scheduled: candidate.scheduled });
    if (!stamp) return false;
    if (candidate.json) {
      // The result `coord sync --json` prints, as a quiet sync in the CLI gives it.
      const { quietResult } = await import("../sync/result.js");
      console.log(JSON.stringify(quietResult(stamp), null, 2));
      return true;
    }
    const { waitingLines } = await import("./waiting.js");
    for (const line of waitingLines(stamp.waiting)) console.log(line);
    if (stamp.deferred) {
      const { publishedText, quietResult } = await import("../sync/result.js");
      console.log(`${stamp.machine}: ${publishedText(quietResult(stamp))}`);
    } else console.log(`${stamp.machine}: up to date, nothing to publish`);
    return true;
  } catch (e) {
    if (process.env.COORD_DEBUG === "1") console.error(e);
    return false; // any doubt: the ordinary sync runs, and says what is wrong
  }
}

// Output that cannot be written (a reader that went away: EPIPE; a log file on a full disk: ENOSPC;
// EIO) fails every write. Unheard, each failure is an uncaught error, which a daemon logs to the same
// output, which fails again: a loop that spins a core, starves the syncs and outlives SIGTERM. Output
// that cannot be written is dropped, whatever the reason; the work goes on. A command that did its
// work but lost its output for any reason but EPIPE (a reader that stopped reading on purpose, as
// head does) exits 1: `coord status --json > file` on a full disk must not look like a success.
let lostOutput = false;
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") lostOutput = true;
  });
process.on("exit", (code) => {
  if (lostOutput && code === 0) process.exitCode = 1;
});

// A signal that no handler of the command's takes (a command without one, or one that came before the command
// set its own): coord dies of it, as it would without this, and takes along the git commands it started, which
// run in process groups of their own (their deadlines take what they start) that the terminal's Ctrl-C does not
// reach: an init stopped in the middle of its clone, a sync stopped during its head start.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  const onSignal = () => {
    if (signalsOwned()) return; // the command's own (a sync stops its tasks and publishes): src/signal-owners.ts
    stopRunningGit();
    process.removeListener(sig, onSignal);
    process.kill(process.pid, sig);
  };
  process.on(sig, onSignal);
}

const argv = process.argv.slice(2);
const candidate = quietCandidate(argv);
if (!candidate || !(await quiet(candidate))) {
  // A sync that is not quiet starts its fetch now, while the CLI loads (src/startup/prefetch.ts).
  const prefetch = candidate && !trickOff("prefetch") ? await import("../startup/prefetch.js") : undefined;
  await prefetch?.startPrefetch(candidate!.dir);
  // So does coord init's clone (src/startup/early-clone.ts).
  const clone = trickOff("earlyclone") ? undefined : initCandidate(argv);
  const early = clone && (await import("../startup/early-clone.js"));
  await early?.startEarlyClone(clone!).catch(() => {}); // any doubt: init clones itself
  await (await import("./main.js")).run(argv);
  prefetch?.dropPrefetch();
  await early?.dropEarlyClone();
}
