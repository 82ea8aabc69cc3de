import type { Command } from "commander";
import { hubCreate, hubUpgrade } from "../../actions/hub.js";
import { examples, type Io } from "../shared.js";
import { HOST_DEFAULTS_TEXT } from "../../core/hub/reads.js";

export function registerHub(program: Command, io: Io): void {
  const hub = program.command("hub").description("create a coordination hub, or upgrade one made by an older coord");
  hub
    .command("create <path>")
    .description("create a bare git repository scaffolded as a coordination hub")
    .option("--branch <branch>", "branch name", "main")
    .addHelpText("after", examples("coord hub create ~/fleet.git", "coord hub create /srv/git/fleet.git --branch main"))
    .action(async (path: string, o: { branch: string }) => {
      const r = await hubCreate(path, o.branch);
      io.out(`created hub ${r.path} (${r.commit.slice(0, 12)})\nnext: coord init <dir> --name <machine> --remote ${r.path}`);
      // Where it will be served decides how often the machines may push and look (core/hub/reads.ts): said once, here.
      io.out(`budget: served from this path, the fleet has no push or read budget to keep; ${HOST_DEFAULTS_TEXT}`);
    });
  hub
    .command("upgrade")
    .description(
      "move a hub of an older coord (machines' files on the people's branch) to two branches: the machines' files to the branch coord, " +
        "in one atomic push as you (your clone's git user); nothing is lost, and an older coord still running stops and says to upgrade. " +
        "The first sync of this version does the same, unless the host lets only people push the people's branch",
    )
    .option("--dir <clone>", "a clone of the hub", ".")
    .addHelpText("after", examples("coord hub upgrade", "coord hub upgrade --dir ~/fleet"))
    .action(async (o: { dir: string }) => {
      const r = await hubUpgrade({ dir: o.dir });
      for (const w of r.warnings) io.err(`warning: ${w}`);
      if (r.outcome === "upgraded")
        io.out(`upgraded: the machines publish on the branch coord (${r.machines?.slice(0, 12)}); ORDERS.json stays where it is (${r.people?.slice(0, 12)})`);
      else io.out("nothing to do: the machines of this hub publish on the branch coord already");
    });
}
