import type { Command } from "commander";
import { machinesHistory, orderLog } from "../../actions/log.js";
import { shownLine } from "../../core/files/shown.js";
import { resolveDir } from "../dir.js";
import { count, dirOption, examples, type Io } from "../shared.js";

export function registerLog(program: Command, io: Io): void {
  program
    .command("log <order-id>")
    .description(
      "an order's history across machines, from git: added, changed, cancelled, and each machine's runs (in a machine's checkout, as its sync " +
        "believes them: a change it refuses is shown as refused, not as what it said); the machines' part goes back as far as " +
        'their branch keeps history (ORDERS.json "hub": {"statusHistory": …}, by default 10000 commits or 7 days)',
    )
    .addOption(dirOption())
    .option("--max-count <n>", "look at most at this many of the latest commits", "300")
    .option("--json", "print an array of { at, commit, who, what, refused? }: refused marks a change this machine's sync does not believe")
    .addHelpText("after", examples("coord log build-42", "coord log build-42 --max-count 1000 --json"))
    .action(async (id: string, o: { dir?: string; maxCount: string; json?: boolean }) => {
      const maxCount = count("--max-count", o.maxCount, 1);
      const events = await orderLog({ dir: await resolveDir(o.dir), id, maxCount });
      if (o.json) io.out(JSON.stringify(events, null, 2));
      else if (events.length === 0) io.out(`no history for order ${shownLine(id)} in the last ${maxCount} commits`);
      else for (const e of events) io.out(`${e.at}  ${e.commit.slice(0, 10)}  ${e.who}: ${e.what}`);
      if (o.json || events.length === 0) return;
      // The machines' history is bounded: say how far back it goes.
      const reach = await machinesHistory(await resolveDir(o.dir)).catch(() => undefined);
      if (reach) io.out(`(the machines' history goes back to ${reach.since.toISOString()}, ${reach.depth} commits; ORDERS.json "hub": {"statusHistory": …} sets how far)`);
    });
}
