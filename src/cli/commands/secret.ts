import type { Command } from "commander";
import { secretList, secretRemove, secretSet } from "../../commands/secret.js";
import { resolveDir } from "../dir.js";
import { dirOption, examples, type Io, readStdin } from "../shared.js";

/** stdin whole, without the one line break `echo` or a terminal adds at the end. */
async function readValue(): Promise<string> {
  return (await readStdin()).replace(/\r?\n$/, "");
}

export function registerSecret(program: Command, io: Io): void {
  const secret = program
    .command("secret")
    .description('this machine\'s secret store (.git/coord/secrets.yaml, 0600): orders name a secret with "env": {"TOKEN": {"secret": "<name>"}}')
    .addHelpText(
      "after",
      `
A task whose order names a secret gets its value from the variable COORD_SECRET_<NAME> of
the coord that runs it (the name upper-cased, every other character as "_"), else from the store.
A secret in neither fails the task without running it. Values are redacted from all published output.
` + examples("coord secret set deploy-token -  < token.txt", "pass show deploy | coord secret set deploy-token", "coord secret list", "coord secret rm deploy-token"),
    );
  secret
    .command("set <name> [value]")
    .description("store a secret (the value from stdin when it is - or left out: a value on the command line stays in the shell's history)")
    .addOption(dirOption())
    .addHelpText(
      "after",
      examples("coord secret set deploy-token -  < token.txt", 'printf %s "$TOKEN" | coord secret set deploy-token', 'coord secret set api-key "$API_KEY" --dir ~/fleet'),
    )
    .action(async (name: string, value: string | undefined, o: { dir?: string }) => {
      const dir = await resolveDir(o.dir);
      if (value === undefined || value === "-") {
        if (process.stdin.isTTY) io.err(`type the value of secret ${name}, then press Enter and Ctrl-D`);
        value = await readValue();
      }
      io.out(await secretSet(dir, name, value));
    });
  secret
    .command("list")
    .description("the names of the secrets this machine holds (never their values)")
    .addOption(dirOption())
    .option("--json", "print the names as JSON")
    .addHelpText("after", examples("coord secret list", "coord secret list --json"))
    .action(async (o: { dir?: string; json?: boolean }) => {
      const r = await secretList(await resolveDir(o.dir));
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else {
        for (const name of r.store) io.out(name);
        for (const variable of r.variables) io.out(`${variable} (environment of this process)`);
        if (!r.store.length && !r.variables.length) io.err("no secrets: coord secret set <name> adds one");
      }
    });
  secret
    .command("rm <name>")
    .description("remove a secret from the store")
    .addOption(dirOption())
    .addHelpText("after", examples("coord secret rm deploy-token"))
    .action(async (name: string, o: { dir?: string }) => {
      io.out(await secretRemove(await resolveDir(o.dir), name));
    });
}
