import type { Command } from "commander";
import { services } from "../../commands/services.js";
import { colourWanted, paintFor } from "../../core/status/colour.js";
import { servicesLines } from "../../core/status/terminal.js";
import { resolveDir } from "../dir.js";
import { dirOption, examples, type Io } from "../shared.js";

/** coord services: the fleet's services, each machine's report. */
export function registerServices(program: Command, io: Io): void {
  program
    .command("services")
    .description("the services of ORDERS.json on every machine: state, health, pid, restarts, uptime (services run under coord daemon)")
    .addOption(dirOption())
    .option("--json", "print STATUS.json's services, with this machine's own records under local")
    .option("--no-fetch", "use the last fetched commit instead of fetching")
    .addHelpText(
      "after",
      examples(
        "coord services",
        "coord services --json | jq '.services.web.machines'",
        "coord logs --service web -n 50",
        '# define one in ORDERS.json: "services": [{"id": "web", "to": "izzit7", "run": "node server.js", "health": {"http": "http://localhost:8080/health"}}]',
        "# then run the machine's daemon: coord daemon start (or coord daemon install)",
      ),
    )
    .action(async (o: { dir?: string; json?: boolean; fetch: boolean }) => {
      const r = await services({ dir: await resolveDir(o.dir), fetch: o.fetch });
      if (r.result.stale) io.err(`warning: ${r.result.stale}`);
      if (o.json) {
        const local = Object.fromEntries([...r.local].map(([id, { id: _id, ...rec }]) => [id, rec]));
        io.out(JSON.stringify({ services: r.services, local, commit: r.result.commit, ...(r.result.stale ? { stale: r.result.stale } : {}) }, null, 2));
        return;
      }
      const lines = servicesLines(r.result.status, new Date(), paintFor(colourWanted(io.terminal?.() !== undefined, process.env)));
      io.out(lines.length ? lines.join("\n") : 'No services. Add them to ORDERS.json as "services": [{"id", "to", "run"}] (docs/services.md).');
      const problems = r.result.model.services?.problems ?? [];
      for (const p of problems) io.err(`${p.file}${p.line ? `:${p.line}` : ""} ${p.path ?? ""}: ${p.message}`);
    });
}
