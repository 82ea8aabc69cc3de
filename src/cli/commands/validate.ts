import type { Command } from "commander";
import { validate } from "../../commands/validate.js";
import { formatProblem } from "../../core/orders/orders.js";
import { EXIT } from "../../errors.js";
import { resolveDir } from "../dir.js";
import { dirOption, EXIT_CODES, examples, type Io } from "../shared.js";

export function registerValidate(program: Command, io: Io): void {
  program
    .command("validate [file]")
    .description("check ORDERS.json: schema, unique ids, known dependencies, no cycles, machine names; warns of secrets written in it")
    .addOption(dirOption())
    .option("--json", "print the problems as JSON")
    .addHelpText("after", EXIT_CODES + examples("coord validate", "coord validate ~/fleet/ORDERS.json", "coord validate ORDERS.json --json"))
    .action(async (file: string | undefined, o: { dir?: string; json?: boolean }) => {
      const path = file ?? `${await resolveDir(o.dir)}/ORDERS.json`;
      const r = await validate(path);
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else if (r.valid) io.out(`${path}: valid, ${r.orders} order${r.orders === 1 ? "" : "s"}${r.services ? `, ${r.services} service${r.services === 1 ? "" : "s"}` : ""}`);
      else for (const p of r.problems) io.err(formatProblem(p));
      if (!o.json) for (const w of r.warnings) io.err(`warning: ${formatProblem(w)}`);
      if (!r.valid) process.exitCode = EXIT.INVALID_ORDERS;
    });
}
