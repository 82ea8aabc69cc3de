import type { Command } from "commander";
import { hubCreate } from "../../commands/hub.js";
import { examples, type Io } from "../shared.js";

export function registerHub(program: Command, io: Io): void {
  const hub = program.command("hub").description("create a coordination hub");
  hub
    .command("create <path>")
    .description("create a bare git repository scaffolded as a coordination hub")
    .option("--branch <branch>", "branch name", "main")
    .addHelpText("after", examples("coord hub create ~/fleet.git", "coord hub create /srv/git/fleet.git --branch main"))
    .action(async (path: string, o: { branch: string }) => {
      const r = await hubCreate(path, o.branch);
      io.out(`created hub ${r.path} (${r.commit.slice(0, 12)})\nnext: coord init <dir> --name <machine> --remote ${r.path}`);
    });
}
