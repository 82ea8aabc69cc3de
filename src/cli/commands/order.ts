import type { Command } from "commander";
import { type OrderAddOptions, orderAdd, orderCancel, orderList } from "../../commands/order.js";
import { formatProblem } from "../../core/orders.js";
import { CoordError, EXIT } from "../../errors.js";
import { resolveDir } from "../dir.js";
import { dirOption, EXIT_CODES, examples, type Io, readStdin } from "../shared.js";

/** "a, b,,c" → ["a", "b", "c"]. */
const list = (v: string) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** order add, cancel and list. */
export function registerOrder(program: Command, io: Io): void {
  const order = program.command("order").description("give, cancel and list orders from the command line");
  order
    .command("add [command...]")
    .description("add an order: this machine delegates it (published at its next sync), or --human commits it to ORDERS.json as you")
    .addOption(dirOption())
    .requiredOption("--to <machines>", "a machine name, a comma-separated list of names, ALL or ANY")
    .option("--run <command>", "the shell command to run (or give it after --)")
    .option("--agent <cli>", "an agent order instead: claude, codex, opencode, cursor or gemini, run headless with --prompt")
    .option("--prompt <text>", "what the agent should do (with --agent); - reads it from stdin")
    .option("--model <model>", "the agent's model (opencode: provider/model)")
    .option("--permissions <level>", "what the agent may do unattended: read-only, edit or full")
    .option("--idle-timeout <duration>", 'stop it as stuck after this long without output, e.g. "10m"')
    .option("--id <id>", "the order's id (default: <machine>-<yyyymmddhhmmss>-<4 random characters>, or person-… with --human)")
    .option("--after <ids>", "comma-separated ids of orders that must complete first")
    .option("--requires <capabilities>", "comma-separated capabilities a machine needs, e.g. node,claude")
    .option("--priority <p>", "low, normal, high or urgent")
    .option("--timeout <duration>", 'longest run time, e.g. "90s", "15m", "2h"')
    .option("--retries <n>", "times to run it again after a failure (0 to 100)")
    .option("--cwd <dir>", "directory to run in (~ is the machine user's home)")
    .option("--every <cron>", 'run it at each time of this cron expression, e.g. "0 3 * * *" (a recurring order; a missed time runs once when the machine is back)')
    .option("--timezone <zone>", 'the time zone of --every, e.g. "Europe/Paris" (default UTC)')
    .option("--human", "as a person: commit to ORDERS.json with this clone's git user.name/user.email and push")
    .addHelpText(
      "after",
      EXIT_CODES +
        examples(
          "coord order add --to soda-yeti --cwd ~/dev/dao -- npm test",
          'coord order add --to izzit7 --agent claude --prompt "Fix the failing test in src/a.ts" --permissions edit --cwd ~/dev/app',
          "coord order add --to ANY --agent codex --permissions read-only --prompt - < review-prompt.md",
          "coord order add --to ANY --requires node --after build-42 -- npm run lint",
          'coord order add --to izzit7,machine-2 --run "make build" --id build-42 --timeout 15m --retries 1',
          'coord order add --to ALL --run "node --version" --human --dir ~/fleet-clone',
          'coord order add --to ANY --every "0 3 * * *" --timezone Europe/Paris --id nightly-backup -- ./backup.sh',
        ),
    )
    .action(
      async (
        words: string[],
        // The flags as commander gives them: lists as comma-separated text, the rest as OrderAddOptions takes them.
        o: Omit<OrderAddOptions, "dir" | "after" | "requires" | "retries" | "now"> & { dir?: string; after?: string; requires?: string; retries?: string },
      ) => {
        const run = o.run ?? (words.length ? words.join(" ") : undefined);
        if (o.agent !== undefined) {
          if (run !== undefined) throw new CoordError("give either a command (--run or after --) or --agent with --prompt, not both", EXIT.USAGE);
          if (o.prompt === undefined) throw new CoordError(`give the agent its task: --prompt "…" (or --prompt - to read it from stdin)`, EXIT.USAGE);
        } else {
          if (!run?.trim())
            throw new CoordError("give the command to run after -- (coord order add --to m1 -- make test), with --run, or an agent with --agent and --prompt", EXIT.USAGE);
          if (o.run !== undefined && words.length) throw new CoordError("give the command either with --run or after --, not both", EXIT.USAGE);
        }
        const prompt = o.prompt === "-" ? await readStdin() : o.prompt;
        const r = await orderAdd({
          dir: await resolveDir(o.dir),
          to: o.to,
          ...(run !== undefined ? { run } : {}),
          agent: o.agent,
          prompt,
          model: o.model,
          permissions: o.permissions,
          idleTimeout: o.idleTimeout,
          id: o.id,
          after: o.after === undefined ? undefined : list(o.after),
          requires: o.requires === undefined ? undefined : list(o.requires),
          priority: o.priority,
          timeout: o.timeout,
          retries: o.retries,
          cwd: o.cwd,
          every: o.every,
          timezone: o.timezone,
          human: o.human,
        });
        io.out(r.commit ? `added order ${r.id} to ${r.file}; pushed ${r.commit.slice(0, 12)}` : `added order ${r.id} to ${r.file}; it is published at the next sync`);
        for (const w of r.warnings) io.err(`warning: ${w}`);
      },
    );
  order
    .command("cancel <id>")
    .description("cancel an order: one this machine delegated, or with --human one in ORDERS.json")
    .addOption(dirOption())
    .option("--human", "as a person: commit to ORDERS.json with this clone's git user.name/user.email and push")
    .addHelpText("after", EXIT_CODES + examples("coord order cancel izzit7-20250601093000-k3f9", "coord order cancel nightly-backup --human --dir ~/fleet-clone"))
    .action(async (id: string, o: { dir?: string; human?: boolean }) => {
      const r = await orderCancel({ dir: await resolveDir(o.dir), id, human: o.human });
      if (!r.changed) io.out(`order ${r.id} was already cancelled in ${r.file}`);
      else io.out(r.commit ? `cancelled order ${r.id} in ${r.file}; pushed ${r.commit.slice(0, 12)}` : `cancelled order ${r.id} in ${r.file}; it is published at the next sync`);
      for (const w of r.warnings) io.err(`warning: ${w}`);
    });
  order
    .command("list")
    .description("every order (ORDERS.json and the machines' delegated files) at the last fetched commit, with its state and file")
    .addOption(dirOption())
    .option("--json", "print an array of { id, origin, rev, to, state, machines }")
    .addHelpText("after", EXIT_CODES + examples("coord order list", "coord sync --no-run && coord order list --json | jq '.[] | select(.state == \"failed\")'"))
    .action(async (o: { dir?: string; json?: boolean }) => {
      const r = await orderList(await resolveDir(o.dir));
      if (o.json) io.out(JSON.stringify(r.orders, null, 2));
      else if (r.orders.length === 0) io.out("no orders");
      else for (const x of r.orders) io.out(`${x.id}  ${x.state}  to ${Array.isArray(x.to) ? x.to.join(",") : x.to}  rev ${x.rev}  ${x.origin || "(reported by machines only)"}`);
      for (const p of r.problems) io.err(formatProblem(p));
      if (r.problems.length) process.exitCode = EXIT.INVALID_ORDERS;
    });
}
