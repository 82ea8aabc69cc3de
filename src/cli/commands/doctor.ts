import type { Command } from "commander";
import { doctor, doctorExitCode, formatChecks } from "../../commands/doctor.js";
import { resolveDir } from "../dir.js";
import { dirOption, examples, type Io } from "../shared.js";

export function registerDoctor(program: Command, io: Io): void {
  program
    .command("doctor")
    .description(
      "check and explain: git, remote reachable, branches, a real push (of a ref of its own, deleted after), the last syncs, lock, clock skew, identity, schedule, agent CLIs",
    )
    .addOption(dirOption())
    .option("--json", "print the checks as JSON")
    .addHelpText("after", examples("coord doctor", "coord doctor --dir ~/fleet --json"))
    .action(async (o: { dir?: string; json?: boolean }) => {
      const checks = await doctor({ dir: await resolveDir(o.dir) });
      io.out(o.json ? JSON.stringify(checks, null, 2) : formatChecks(checks));
      process.exitCode = doctorExitCode(checks);
    });
}
