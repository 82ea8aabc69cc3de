import { rm } from "node:fs/promises";
import type { Command } from "commander";
import { demo } from "../../commands/demo.js";
import { colourWanted, paintFor } from "../../core/status/colour.js";
import { statusText } from "../../core/status/terminal.js";
import { examples, type Io } from "../shared.js";

export function registerDemo(program: Command, io: Io): void {
  program
    .command("demo")
    .description("three machines on a local hub: a person's orders, real commands, concurrent syncs")
    .option("--dir <dir>", "where to create the demo (default: a new temporary directory)")
    .option("--keep", "print where the repositories are, to look at them afterwards")
    .addHelpText("after", examples("coord demo", "coord demo --dir /tmp/coord-demo --keep"))
    .action(async (o: { dir?: string; keep?: boolean }) => {
      const r = await demo({ dir: o.dir, log: (l) => io.out(l) });
      io.out("");
      io.out(statusText(r.final.status, new Date(), { paint: paintFor(colourWanted(io.terminal?.() !== undefined, process.env)) }));
      if (o.keep || o.dir) {
        io.out(`\nThe repositories are in ${r.root}:`);
        io.out(`  hub (bare):  ${r.hub}`);
        for (const [name, dir] of Object.entries(r.machines)) io.out(`  ${name.padEnd(11)}  ${dir}`);
        io.out(`  person:      ${r.person}`);
        io.out(`Try: coord status --dir ${r.machines.izzit7}   or   git -C ${r.machines.izzit7} show origin/coord:STATUS.md`);
      } else {
        await rm(r.root, { recursive: true, force: true });
        io.out("\n(run with --keep to look at the repositories afterwards)");
      }
    });
}
