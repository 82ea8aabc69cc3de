import { type Command, Option } from "commander";
import { ack, type InboxEntry, inbox, inboxPrompt, listedMessage, outbox, publishSent, sendFrom, waitInbox } from "../../actions/messages.js";
import { formatDuration, parseDuration } from "../../core/time/duration.js";
import { agentLine, parseMessageId } from "../../core/messages/messages.js";
import { LINE_BREAKS, sanitizeText, shownLine } from "../../core/files/shown.js";
import { publishSoon, soonText } from "../../daemon/sync-now.js";
import { openMachine } from "../../sync/sync.js";
import { CoordError, EXIT } from "../../errors.js";
import { publishedText } from "../../sync/result.js";
import { resolveDir } from "../dir.js";
import { dirOption, examples, type Io, readStdin, textAfterDashes } from "../shared.js";

/** send, inbox and outbox: the messages between machines. */
export function registerMessages(program: Command, io: Io): void {
  program
    .command("send <to> <text...>")
    .description("send a message to a machine or ALL: durable at once, and published at once (--later: at the next sync)")
    .addOption(dirOption())
    .addOption(new Option("--priority <p>", "low, normal, high or urgent").default("normal"))
    .option("--reply-to <id>", "the id of the message this answers")
    .addOption(new Option("--now", "wait for the publish, and fail (exit 1) when the hub cannot be reached; the message stays stored").conflicts("later"))
    .option("--later", "store only: the next sync publishes it (scripts that send many at once)")
    .addHelpText(
      "after",
      `
By default the message is published at once, within the fleet's push budget: the checkout's daemon is asked
for a sync (it syncs at once, or right after the sync it is in, so messages sent meanwhile go in one push),
or, where no daemon runs, a sync here that starts no task. When the hub cannot be reached (as the daemon's
last sync or look found, or the sync here) the message is still sent: it is kept here, the line says that the
hub cannot be reached and when it goes (the first sync that reaches the hub: the daemon's next tick), exit 0,
so that a script or an agent does not send it twice; --now exits 1 instead.
The recipient must be among the machines the last sync verified (.git/coord/known-fleet.json): a machine that
registered since is refused until coord sync (a daemon syncs within seconds of it). Into a mailbox lost or set aside nothing is stored until a sync rebuilt it (exit 1: run coord sync).
A message is at most 512 KiB of text (UTF-8): a longer one is refused (exit 2), nothing stored; send the path of a
file instead. A channel's file stays under the 2 MiB its recipient reads: when unreceived messages fill it, the
newest wait in the outbox and go as the recipient receives the ones before them (coord doctor says so).
${examples(
  'coord send soda-yeti "build is green, go ahead with the tests"',
  'coord send ALL "deploy freeze until 18:00" --priority urgent',
  "git log -1 | coord send izzit7 -   # text from stdin",
  'coord send izzit7 --reply-to soda-yeti/izzit7/3 "done"',
  'coord send izzit7 "release tagged" --now   # exit 1 when it could not be published',
  'for f in *.log; do coord send izzit7 --later "$f failed"; done; coord sync --no-run   # one push',
)}`,
    )
    .action(async (to: string, words: string[], o: { dir?: string; priority: string; replyTo?: string; now?: boolean; later?: boolean }) => {
      const text = words.length === 1 && words[0] === "-" ? await readStdin() : words.join(" ");
      const m = await openMachine(await resolveDir(o.dir));
      const sent = await sendFrom(m, { to, text, priority: o.priority, replyTo: o.replyTo });
      const r = { ...sent, ...(await publishSent(m, o.now ? "now" : o.later ? "later" : "soon", sent.id)) };
      if (r.soon) io.out(`sent ${r.id}; ${soonText(r.soon)}`);
      else
        io.out(
          `queued ${r.id}${r.published ? (r.published.skipped ? " (a sync is running; it goes out with the next one)" : r.published.pushed || r.published.deferred ? `; ${publishedText(r.published)}` : "") : "; it goes out at the next sync"}`,
        );
      // The sync that published it here said something (the hub refused a wake): as coord sync would.
      for (const w of (r.soon?.by === "here" ? r.soon.result : r.published)?.warnings ?? []) io.err(`warning: ${w}`);
    });
  textAfterDashes(program.commands.find((c) => c.name() === "send")!, "coord send <to>");

  program
    .command("inbox [action] [ids...]")
    .description("messages to this machine (and broadcasts), oldest first; `inbox ack <id…|--all>` acknowledges")
    .addOption(dirOption())
    .option("--unread", "only messages not acknowledged yet")
    .option("--all", "every message ever received (default: the last 50); with ack: acknowledge all")
    .option("--from <machine>", "only messages from this machine")
    .option("--json", "print an array of { id, from, to, at, priority, text, replyTo, acked }")
    .option("--wait <duration>", "wait until a new message arrives (30s, 2m; at most 1d) and print only the new ones; exit 5 when none came in time")
    .option("--reply-to <id>", "with --wait: only a reply to this message id ends the wait (one already here and not acknowledged ends it at once)")
    .option("--later", "with ack: store the acknowledgement only; the next sync publishes it (default: published at once)")
    .addOption(new Option("--format <format>", "prompt: unread messages as a block for an AI agent's context (nothing when none)").choices(["text", "prompt"]).default("text"))
    .addHelpText(
      "after",
      `
With --wait, the command returns as soon as a message that was not in the inbox when it started (and that
matches --from and --reply-to) is here, printing it as coord inbox does (--json: an array of them), and exits 0;
with --reply-to, a reply that came before the wait and is not acknowledged returns at once (an agent on call
may answer before the wait begins);
at the deadline it says that no new message arrived and exits 5. Where the checkout's daemon runs, it receives
and the wait only reads the local mailbox; where none runs, the wait looks at the hub itself, as often as this
machine's share of the host's reads allows, and receives with a sync that starts no task when the hub moved.
A mailbox that could not be read (.git/coord/mailbox.json broken) is set aside: until the next sync rebuilds it
from the hub, coord inbox lists what came since, says so on stderr (where the copy is, what that sync does) and
exits 1.
${examples(
  "coord inbox --unread",
  "coord inbox --json --from izzit7",
  "coord inbox ack izzit7/soda-yeti/3 izzit7/ALL/7",
  "coord inbox ack --all",
  "coord inbox ack --all --later   # published by the next sync",
  "coord inbox --format prompt   # in an agent hook",
  "coord inbox --wait 2m --from izzit7   # returns when izzit7's next message is here",
  'id=$(coord send izzit7 "which port?" | cut -d" " -f2 | tr -d ";"); coord inbox --wait 60s --reply-to "$id" --json',
)}`,
    )
    .action(
      async (
        action: string | undefined,
        ids: string[],
        o: { dir?: string; unread?: boolean; all?: boolean; from?: string; json?: boolean; format: string; later?: boolean; wait?: string; replyTo?: string },
      ) => {
        const dir = await resolveDir(o.dir);
        if (o.replyTo !== undefined && o.wait === undefined) throw new CoordError("--reply-to goes with --wait: coord inbox --wait 60s --reply-to <id>", EXIT.USAGE);
        if (action === "ack") {
          if (!o.all && ids.length === 0) throw new CoordError("name the messages to acknowledge (ids from coord inbox), or pass --all", EXIT.USAGE);
          const done = await ack(dir, ids, !!o.all);
          if (done.length === 0) io.out("nothing to acknowledge");
          else if (o.later) io.out(`acknowledged ${done.join(", ")}; the senders see it after the next sync`);
          else io.out(`acknowledged ${done.join(", ")}; ${soonText(await publishSoon(await openMachine(dir)))}`);
          return;
        }
        if (action !== undefined) throw new CoordError(`unknown inbox action "${action}"; the only one is ack`, EXIT.USAGE);
        let r: { machine: string; messages: InboxEntry[]; unreadable?: string };
        if (o.wait !== undefined) {
          const seconds = parseDuration(o.wait);
          if (seconds === undefined || seconds > 86_400) throw new CoordError(`--wait must be a duration like 30s, 2m or 1h, at most 1d, not "${o.wait}"`, EXIT.USAGE);
          if (o.replyTo !== undefined && !parseMessageId(o.replyTo))
            throw new CoordError(`--reply-to "${o.replyTo}" is not a message id; ids look like izzit7/soda-yeti/3 (see coord send's output)`, EXIT.USAGE);
          r = await waitInbox(await openMachine(dir), { waitMs: seconds * 1000, from: o.from, replyTo: o.replyTo });
          if (r.messages.length === 0) {
            if (o.json) io.out("[]");
            const which = [o.from ? `from ${o.from}` : "", o.replyTo ? `replying to ${o.replyTo}` : ""].filter(Boolean).join(" ");
            io.err(`no new message${which ? ` ${which}` : ""} arrived within ${formatDuration(seconds)}`);
            process.exitCode = EXIT.NO_MESSAGE;
            return;
          }
        } else r = await inbox({ dir, unread: o.unread || o.format === "prompt", all: o.all, from: o.from });
        // Other machines' words: what a person could not see is shown escaped (core/files/shown.ts); JSON stays the same JSON.
        if (o.format === "prompt") {
          const block = inboxPrompt(r.machine, r.messages);
          if (block) io.out(block);
        } else if (o.json) io.out(sanitizeText(JSON.stringify(r.messages.map(listedMessage), null, 2)));
        else if (r.messages.length === 0) io.out(r.unreadable ? "no messages since the mailbox was set aside" : o.unread ? "no unread messages" : "no messages");
        else for (const x of r.messages) io.out(inboxLine(x));
        // The listing is not the whole inbox until a sync rebuilds the mailbox: said, and exit 1 (scripts tell it apart).
        if (r.unreadable) {
          io.err(`coord: ${r.unreadable}`);
          process.exitCode = EXIT.FAILURE;
        }
      },
    );

  program
    .command("outbox")
    .description("messages this machine sent that are still live, and who received and acknowledged them")
    .addOption(dirOption())
    .option("--json", "print as JSON")
    .addHelpText("after", examples("coord outbox", "coord sync && coord outbox --json"))
    .action(async (o: { dir?: string; json?: boolean }) => {
      const r = await outbox(await resolveDir(o.dir));
      if (o.json) io.out(sanitizeText(JSON.stringify(r.messages, null, 2)));
      else if (r.messages.length === 0) io.out("no live sent messages (acknowledged ones are archived)");
      else
        for (const x of r.messages)
          io.out(
            sanitizeText(`${x.id}  ${x.at}  ${Object.entries(x.recipients)
              .map(([n, s]) => `${n}=${s}`)
              .join(" ")}
    ${x.text.split(LINE_BREAKS)[0]}`),
          );
    });
}

/**
 * A message as coord inbox prints it: its id, time, priority, what it answers and its agent's mark, then its text
 * indented; what a person could not see, escaped (core/files/shown.ts): a line break but LF too (U+2028, a lone CR).
 */
export function inboxLine(x: InboxEntry): string {
  const head = shownLine(`${x.acked ? " " : "*"} ${x.id}  ${x.at}  ${x.priority}${x.replyTo ? `  re ${x.replyTo}` : ""}${x.agent ? `  (${agentLine(x.agent)})` : ""}`);
  return `${head}\n${sanitizeText(x.text)
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n")}`;
}
