import type { Command } from "commander";
import { status } from "../../commands/status.js";
import { statusText } from "../../core/terminal.js";
import { resolveDir } from "../dir.js";
import { dirOption, examples, type Io } from "../shared.js";

export function registerStatus(program: Command, io: Io): void {
  program
    .command("status")
    .description("show machines (offline when 3 heartbeats are missed) and orders")
    .addOption(dirOption())
    .option("--json", "print STATUS.json plus the offline list")
    .option("--no-fetch", "use the last fetched commit instead of fetching")
    .addHelpText("after", examples("coord status", "coord status --json | jq '.orders'", "coord status --no-fetch"))
    .action(async (o: { dir?: string; json?: boolean; fetch: boolean }) => {
      const r = await status({ dir: await resolveDir(o.dir), fetch: o.fetch });
      if (r.stale) io.err(`warning: ${r.stale}`);
      if (o.json) io.out(JSON.stringify({ ...r.status, offline: r.offline, commit: r.commit, ...(r.stale ? { stale: r.stale } : {}) }, null, 2));
      else io.out(statusText(r.status, new Date()));
    });
}
