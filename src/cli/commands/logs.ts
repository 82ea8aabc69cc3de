import { ownSignals } from "../../signal-owners.js";
import type { Command } from "commander";
import { logs } from "../../commands/logs.js";
import { serviceLogs } from "../../commands/services.js";
import { resolveDir } from "../dir.js";
import { count, dirOption, examples, type Io } from "../shared.js";

export function registerLogs(program: Command, io: Io): void {
  program
    .command("logs")
    .description("this machine's own log: one line per sync and per task (rotated by size)")
    .addOption(dirOption())
    .option("-f, --follow", "keep printing new lines (says on stderr when it is following; Ctrl-C stops)")
    .option("-n, --lines <n>", "only the last n records")
    .option("--json", "the raw JSON lines")
    .option("--service <id>", "a service's output on this machine instead (.git/coord/services/<id>.log, bounded at 1 MiB plus the part before)")
    .addHelpText(
      "after",
      examples("coord logs -n 20", "coord logs -f", "coord logs --json | jq 'select(.kind == \"task\")'", "coord logs --service web -n 50", "coord logs --service web -f"),
    )
    .action(async (o: { dir?: string; follow?: boolean; lines?: string; json?: boolean; service?: string }) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      const releaseSignals = ownSignals(); // its Ctrl-C ends the follow: the command returns
      if (o.service !== undefined) {
        await serviceLogs(await resolveDir(o.dir), o.service, {
          follow: !!o.follow,
          ...(o.lines !== undefined ? { limit: count("-n", o.lines) } : {}),
          out: io.out,
          ready: io.err,
          signal: controller.signal,
        });
        process.off("SIGINT", stop);
        releaseSignals();
        return;
      }
      await logs(await resolveDir(o.dir), {
        follow: !!o.follow,
        json: !!o.json,
        ...(o.lines !== undefined ? { limit: count("-n", o.lines) } : {}),
        out: io.out,
        ready: io.err, // on stderr: the records on stdout stay what they were (lines or JSON) for scripts
        signal: controller.signal,
      });
      process.off("SIGINT", stop);
      releaseSignals();
    });
}
