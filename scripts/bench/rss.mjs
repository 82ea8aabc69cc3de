// Preloaded by the bench (node --import) into a coord process it measures: at
// exit, the process's peak resident set size (kilobytes, as getrusage gives it)
// is written to the file named by BENCH_RSS_FILE. Nothing of it is in coord.
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_RSS_FILE;
if (file) {
  delete process.env.BENCH_RSS_FILE; // not inherited by the tasks and git processes coord starts
  process.on("exit", () => {
    try {
      writeFileSync(file, String(process.resourceUsage().maxRSS));
    } catch {
      /* the bench reports the figure missing */
    }
  });
}
