import type { Command } from "commander";
import { formatSchedule, schedule } from "../../actions/schedule.js";
import { resolveDir } from "../dir.js";
import { dirOption, examples, type Io } from "../shared.js";

/** cron print, install and uninstall: a crontab line or a systemd user timer. */
export function registerCron(program: Command, io: Io): void {
  const cronCmd = program.command("cron").description("install the schedule that survives restarts: a crontab line or a systemd user timer");
  for (const action of ["print", "install", "uninstall"] as const)
    cronCmd
      .command(action)
      .description(action === "print" ? "show the crontab line (or systemd units) for this checkout" : `${action} it for this checkout`)
      .addOption(dirOption())
      .option("--schedule <cron>", 'five cron fields (default "*/5 * * * *", every 5 minutes)')
      .option("--systemd", "a systemd user timer and service instead of a crontab line")
      .option("--dry-run", "show what would be written; change nothing")
      .addHelpText("after", examples(`coord cron ${action}`, `coord cron ${action} --systemd`, `coord cron ${action} --schedule "*/10 * * * *" --dry-run`))
      .action(async (o: { dir?: string; schedule?: string; systemd?: boolean; dryRun?: boolean }) => {
        const r = await schedule({
          dir: await resolveDir(o.dir),
          action,
          ...(o.schedule ? { schedule: o.schedule } : {}),
          ...(o.systemd ? { systemd: true } : {}),
          ...(o.dryRun ? { dryRun: true } : {}),
        });
        io.out(formatSchedule(r));
      });
}
