import { type Command, Option } from "commander";
import { ack, inbox, inboxPrompt, outbox, send } from "../../commands/messages.js";
import { CoordError, EXIT } from "../../errors.js";
import { publishedText } from "../../sync/result.js";
import { resolveDir } from "../dir.js";
import { dirOption, examples, type Io, readStdin } from "../shared.js";

/** send, inbox and outbox: the messages between machines. */
export function registerMessages(program: Command, io: Io): void {
  program
    .command("send <to> <text...>")
    .description("send a message to a machine or ALL; durable at once, published at the next sync (or --now)")
    .addOption(dirOption())
    .addOption(new Option("--priority <p>", "low, normal, high or urgent").default("normal"))
    .option("--reply-to <id>", "the id of the message this answers")
    .option("--now", "publish at once (a sync that starts no task)")
    .addHelpText(
      "after",
      examples(
        'coord send soda-yeti "build is green, go ahead with the tests"',
        'coord send ALL "deploy freeze until 18:00" --priority urgent',
        "git log -1 | coord send izzit7 -   # text from stdin",
        'coord send izzit7 --reply-to soda-yeti/izzit7/3 "done" --now',
      ),
    )
    .action(async (to: string, words: string[], o: { dir?: string; priority: string; replyTo?: string; now?: boolean }) => {
      const text = words.length === 1 && words[0] === "-" ? await readStdin() : words.join(" ");
      const r = await send({ dir: await resolveDir(o.dir), to, text, priority: o.priority, replyTo: o.replyTo, now: o.now });
      io.out(
        `queued ${r.id}${r.published ? (r.published.skipped ? " (a sync is running; it goes out with the next one)" : r.published.pushed || r.published.deferred ? `; ${publishedText(r.published)}` : "") : "; it goes out at the next sync"}`,
      );
    });

  program
    .command("inbox [action] [ids...]")
    .description("messages to this machine (and broadcasts), oldest first; `inbox ack <id…|--all>` acknowledges")
    .addOption(dirOption())
    .option("--unread", "only messages not acknowledged yet")
    .option("--all", "every message ever received (default: the last 50); with ack: acknowledge all")
    .option("--from <machine>", "only messages from this machine")
    .option("--json", "print an array of { id, from, to, at, priority, text, replyTo, acked }")
    .addOption(new Option("--format <format>", "prompt: unread messages as a block for an AI agent's context (nothing when none)").choices(["text", "prompt"]).default("text"))
    .addHelpText(
      "after",
      examples(
        "coord inbox --unread",
        "coord inbox --json --from izzit7",
        "coord inbox ack izzit7/soda-yeti/3 izzit7/ALL/7",
        "coord inbox ack --all",
        "coord inbox --format prompt   # in an agent hook",
      ),
    )
    .action(async (action: string | undefined, ids: string[], o: { dir?: string; unread?: boolean; all?: boolean; from?: string; json?: boolean; format: string }) => {
      const dir = await resolveDir(o.dir);
      if (action === "ack") {
        if (!o.all && ids.length === 0) throw new CoordError("name the messages to acknowledge (ids from coord inbox), or pass --all", EXIT.USAGE);
        const done = await ack(dir, ids, !!o.all);
        io.out(done.length ? `acknowledged ${done.join(", ")}; the senders see it after the next sync` : "nothing to acknowledge");
        return;
      }
      if (action !== undefined) throw new CoordError(`unknown inbox action "${action}"; the only one is ack`, EXIT.USAGE);
      const r = await inbox({ dir, unread: o.unread || o.format === "prompt", all: o.all, from: o.from });
      if (o.format === "prompt") {
        const block = inboxPrompt(r.machine, r.messages);
        if (block) io.out(block);
      } else if (o.json)
        io.out(
          JSON.stringify(
            r.messages.map((x) => ({ id: x.id, from: x.from, to: x.to, at: x.at, priority: x.priority, text: x.text, replyTo: x.replyTo ?? null, acked: x.acked })),
            null,
            2,
          ),
        );
      else if (r.messages.length === 0) io.out(o.unread ? "no unread messages" : "no messages");
      else
        for (const x of r.messages)
          io.out(`${x.acked ? " " : "*"} ${x.id}  ${x.at}  ${x.priority}${x.replyTo ? `  re ${x.replyTo}` : ""}
    ${x.text.split("\n").join("\n    ")}`);
    });

  program
    .command("outbox")
    .description("messages this machine sent that are still live, and who received and acknowledged them")
    .addOption(dirOption())
    .option("--json", "print as JSON")
    .addHelpText("after", examples("coord outbox", "coord sync && coord outbox --json"))
    .action(async (o: { dir?: string; json?: boolean }) => {
      const r = await outbox(await resolveDir(o.dir));
      if (o.json) io.out(JSON.stringify(r.messages, null, 2));
      else if (r.messages.length === 0) io.out("no live sent messages (acknowledged ones are archived)");
      else
        for (const x of r.messages)
          io.out(`${x.id}  ${x.at}  ${Object.entries(x.recipients)
            .map(([n, s]) => `${n}=${s}`)
            .join(" ")}
    ${x.text.split("\n")[0]}`);
    });
}
