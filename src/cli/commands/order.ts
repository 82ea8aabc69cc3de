import type { Command } from "commander";
import { orderAdd, orderCancel, orderList } from "../../actions/order.js";
import { ADD_FIELDS, fieldValue } from "../../core/orders/order-fields.js";
import { formatProblem } from "../../core/orders/orders.js";
import { publishSoon, soonText } from "../../daemon/sync-now.js";
import { CoordError, EXIT } from "../../errors.js";
import { openMachine } from "../../sync/sync.js";
import { resolveDir } from "../dir.js";
import { dirOption, EXIT_CODES, examples, type Io, readStdin } from "../shared.js";

/** After a delegated order changed: published at once (the daemon asked, or a sync here), or with --later at the next sync. */
async function delegatedText(dir: string, later: boolean | undefined): Promise<string> {
  return later ? "it is published at the next sync" : soonText(await publishSoon(await openMachine(dir)));
}

/** order add, cancel and list. */
export function registerOrder(program: Command, io: Io): void {
  const order = program.command("order").description("give, cancel and list orders from the command line");
  const add = order
    .command("add [command...]")
    .description("add an order: this machine delegates it (published at once; --later: at its next sync), or --human commits it to ORDERS.json as you")
    .addOption(dirOption());
  // One flag for each field of an order (core/orders/order-fields.ts, from ORDERS.json's schema): --to first, it is required.
  const to = ADD_FIELDS.find((f) => f.name === "to")!;
  add.requiredOption(`${to.flag} <${to.value}>`, to.help);
  for (const f of ADD_FIELDS) if (f !== to) add.option(f.kind === "flag" ? f.flag : `${f.flag} <${f.value}>`, f.help);
  add
    .option("--human", "as a person: commit to ORDERS.json with this clone's git user.name/user.email and push")
    .option("--later", "store the delegated order only: the next sync publishes it (default: at once, the daemon asked or a sync here)")
    .addHelpText(
      "after",
      EXIT_CODES +
        examples(
          "coord order add --to soda-yeti --cwd ~/dev/dao -- npm test",
          "coord order add --to soda-yeti --id lint --later -- npm run lint   # published by the next sync",
          'coord order add --to izzit7 --agent claude --prompt "Fix the failing test in src/a.ts" --permissions edit --cwd ~/dev/app',
          "coord order add --to ANY --agent codex --permissions read-only --prompt - < review-prompt.md",
          "coord order add --to ANY --requires node --after build-42 -- npm run lint",
          'coord order add --to izzit7,machine-2 --run "make build" --id build-42 --timeout 15m --retries 1',
          'coord order add --to ALL --run "node --version" --human --dir ~/fleet-clone',
          'coord order add --to ANY --every "0 3 * * *" --timezone Europe/Paris --id nightly-backup -- ./backup.sh',
          "coord order add --to ANY --prefer gpu-1,gpu-2 --failover-after 10m -- ./train.sh",
        ),
    )
    .action(async (words: string[], o: Record<string, string | boolean | undefined> & { dir?: string; to: string; human?: boolean; later?: boolean }) => {
      const text = (name: string) => (typeof o[name] === "string" ? (o[name] as string) : undefined);
      const run = text("run") ?? (words.length ? words.join(" ") : undefined);
      if (text("agent") !== undefined) {
        if (run !== undefined) throw new CoordError("give either a command (--run or after --) or --agent with --prompt, not both", EXIT.USAGE);
        if (text("prompt") === undefined) throw new CoordError(`give the agent its task: --prompt "…" (or --prompt - to read it from stdin)`, EXIT.USAGE);
      } else {
        if (!run?.trim())
          throw new CoordError("give the command to run after -- (coord order add --to m1 -- make test), with --run, or an agent with --agent and --prompt", EXIT.USAGE);
        if (text("run") !== undefined && words.length) throw new CoordError("give the command either with --run or after --, not both", EXIT.USAGE);
      }
      const fields: Record<string, unknown> = Object.create(null);
      for (const f of ADD_FIELDS) {
        const given = o[f.name];
        if (f === to || given === undefined) continue;
        fields[f.name] = fieldValue(f, given);
      }
      if (run !== undefined) fields.run = run;
      if (text("prompt") === "-") fields.prompt = await readStdin();
      const dir = await resolveDir(o.dir);
      const r = await orderAdd({ dir, to: o.to, fields, ...(o.human ? { human: true } : {}) });
      io.out(
        `added order ${r.id} to ${r.file}; ${o.human ? (r.commit ? `pushed ${r.commit.slice(0, 12)}` : "it is published at the next sync") : await delegatedText(dir, o.later)}`,
      );
      for (const w of r.warnings) io.err(`warning: ${w}`);
    });
  order
    .command("cancel <id>")
    .description("cancel an order: one this machine delegated (published at once; --later: at its next sync), or with --human one in ORDERS.json")
    .addOption(dirOption())
    .option("--human", "as a person: commit to ORDERS.json with this clone's git user.name/user.email and push")
    .option("--later", "store the cancellation only: the next sync publishes it")
    .addHelpText("after", EXIT_CODES + examples("coord order cancel izzit7-20250601093000-k3f9", "coord order cancel nightly-backup --human --dir ~/fleet-clone"))
    .action(async (id: string, o: { dir?: string; human?: boolean; later?: boolean }) => {
      const dir = await resolveDir(o.dir);
      const r = await orderCancel({ dir, id, human: o.human });
      if (!r.changed) io.out(`order ${r.id} was already cancelled in ${r.file}`);
      else
        io.out(
          `cancelled order ${r.id} in ${r.file}; ${o.human ? (r.commit ? `pushed ${r.commit.slice(0, 12)}` : "it is published at the next sync") : await delegatedText(dir, o.later)}`,
        );
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
