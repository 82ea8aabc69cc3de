import type { Command } from "commander";
import { init } from "../../actions/init.js";
import { shownLine } from "../../core/files/shown.js";
import { formatSchedule, schedule } from "../../actions/schedule.js";
import { CoordError, EXIT } from "../../errors.js";
import { examples, type Io } from "../shared.js";

export function registerInit(program: Command, io: Io): void {
  program
    .command("init <dir>")
    .description("clone (or adopt) a checkout of the hub and register this machine in it")
    .requiredOption("--name <machine>", "this machine's name: lowercase letters, digits and dashes")
    .requiredOption(
      "--remote <url>",
      "the hub: a path (cloned whole), or a URL (newest commit only): scp-like [user@]host:path (an ssh alias of ~/.ssh/config too), ssh://, https://, git:// or file://",
    )
    .option("--branch <branch>", "branch to use", "main")
    .option("--heartbeat <duration>", "commit lastSeen at most this often when nothing else changes (default 15m)")
    .option("--reclaim", "take over the existing machine file of this name (this machine, reinstalled)")
    .option("--key <path>", "the private SSH key this machine signs its commits with (default: an ed25519 key made in .git/coord/machine_key)")
    .option("--no-key", "sign nothing: other machines cannot tell this machine's changes from anyone's (docs/security.md)")
    .option("--cron", "also install the crontab line that syncs every 5 minutes (see coord cron)")
    .option("--systemd", "also install a systemd user timer that syncs every 5 minutes (see coord cron --systemd)")
    .addHelpText(
      "after",
      examples(
        "coord init ~/fleet --name izzit7 --remote git@github.com:org/fleet.git",
        "coord init ~/fleet --name izzit7 --remote fleet-hub:fleet.git            # an ssh alias (Host fleet-hub in ~/.ssh/config)",
        "coord init ~/fleet --name izzit7 --remote ssh://git@host:2222/fleet.git  # another ssh port",
        "coord init ~/fleet --name izzit7 --remote https://github.com/org/fleet.git",
        "coord init ~/fleet-2 --name soda-yeti --remote ~/fleet.git --heartbeat 5m",
        "coord init ~/fleet --name izzit7 --remote ~/fleet.git --reclaim --key ~/backup/izzit7_key   # reinstalled, its old key kept",
        "coord init ~/fleet --name izzit7 --remote git@github.com:org/fleet.git --cron",
      ),
    )
    .action(
      async (dir: string, o: { name: string; remote: string; branch: string; heartbeat?: string; reclaim?: boolean; key?: string | false; cron?: boolean; systemd?: boolean }) => {
        const r = await init({ dir, name: o.name, remote: o.remote, branch: o.branch, heartbeat: o.heartbeat, reclaim: o.reclaim, ...(o.key !== undefined ? { key: o.key } : {}) });
        if (o.cron || o.systemd) {
          const installed = await schedule({ dir: r.dir, action: "install", ...(o.systemd ? { systemd: true } : {}) }).catch((e: unknown) => e as Error);
          if (installed instanceof Error) {
            // Registered either way: say so, and how to get the schedule once the cause is fixed.
            const code = installed instanceof CoordError ? installed.exitCode : EXIT.FAILURE;
            throw new CoordError(`registered machine ${r.name} in ${r.dir}, but the schedule was not installed: ${installed.message}`, code);
          }
          io.out(formatSchedule(installed));
        }
        io.out(
          `${r.reclaimed ? "reclaimed" : "registered"} machine ${r.name} (${r.uuid}) in ${r.dir}` +
            (r.scaffolded ? "\nthe remote was empty: scaffolded ORDERS.json, STATUS files and the schema" : "") +
            (o.cron || o.systemd ? "" : `\nnext: coord daemon install --dir ${r.dir}   (or coord cron install --dir ${r.dir})`),
        );
        for (const line of r.notes) io.out(shownLine(line));
      },
    );
}
