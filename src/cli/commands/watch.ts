import type { Command } from "commander";
import { parseDuration } from "../../core/time/duration.js";
import { everyToSchedule, watch } from "../../daemon/watch.js";
import { CoordError, EXIT } from "../../errors.js";
import { resolveDir } from "../dir.js";
import { count, dirOption, examples, type Io, stamped } from "../shared.js";

export function registerWatch(program: Command, io: Io): void {
  program
    .command("watch")
    .description("the daemon's loop in the foreground, and ORDERS.json saved in the checkout is validated, committed and pushed at once")
    .addOption(dirOption())
    .option("--every <duration>", "fetch and sync this often: 5s, 10s, 30s, 1m, 5m", "30s")
    .option("--schedule <cron>", "instead of --every: a cron expression (5 fields, or 6 with seconds first)")
    .option("--debounce <ms>", "quiet time after the last save before pushing", "500")
    .addHelpText("after", examples("coord watch --every 5s", "coord watch --dir ~/fleet --debounce 2000"))
    .action(async (o: { dir?: string; every: string; schedule?: string; debounce: string }) => {
      const every = parseDuration(o.every);
      if (every === undefined) throw new CoordError(`--every "${o.every}" is not a duration; write it like 5s, 30s or 5m`, EXIT.USAGE);
      await watch({
        dir: await resolveDir(o.dir),
        schedule: o.schedule ?? everyToSchedule(every),
        jitter: 0,
        debounceMs: count("--debounce", o.debounce),
        log: stamped(io),
      });
    });
}
