// Preloaded with `node --import` by the fleet measurements: at exit, appends
// this process's peak resident set size (KiB) and CPU time (µs, user +
// system; git's processes not included) to $COORD_BENCH_RSS_FILE.
// Measurement only; never part of coord.
import { appendFileSync } from "node:fs";

const file = process.env.COORD_BENCH_RSS_FILE;
if (file)
  process.on("exit", () => {
    const u = process.resourceUsage();
    appendFileSync(file, `${u.maxRSS} ${u.userCPUTime + u.systemCPUTime}\n`);
  });
