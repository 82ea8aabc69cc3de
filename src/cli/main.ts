#!/usr/bin/env node
// The CLI: commander wiring only. Each action maps flags to a library call and
// its result to output; a CoordError becomes process.exitCode here, at the top.
import { Command, CommanderError, Option } from "commander";
import { createRequire } from "node:module";
import { CoordError, EXIT } from "../errors.js";
import { hubCreate } from "../commands/hub.js";
import { init } from "../commands/init.js";
import { status } from "../commands/status.js";
import { validate } from "../commands/validate.js";
import { demo } from "../commands/demo.js";
import { ack, inbox, inboxPrompt, outbox, send } from "../commands/messages.js";
import { orderAdd, orderCancel, orderList } from "../commands/order.js";
import { orderLog } from "../commands/log.js";
import { sync, type SyncResult } from "../sync/sync.js";
import { formatProblem } from "../core/orders.js";
import { statusText } from "../core/terminal.js";
import { resolveDir } from "./dir.js";
import { daemonStatus, runDaemon, startDaemon, stopDaemon } from "../daemon/daemon.js";
import { everyToSchedule, watch } from "../daemon/watch.js";
import { schedule, formatSchedule } from "../commands/schedule.js";
import { doctor, doctorExitCode, formatChecks } from "../commands/doctor.js";
import { logs } from "../commands/logs.js";
import { parseDuration } from "../core/duration.js";
import { stopOnSignals } from "./signals.js";
import { describeFailure, failureLines } from "../failure.js";

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const EXIT_CODES = `
Exit codes:
  0  done (sync: also when another sync was running in this checkout, so this one skipped)
  1  could not reach the remote, or another failure
  2  bad usage or configuration, or an order given on the command line is invalid (nothing changed)
  3  ORDERS.json is invalid (validate: the problems are printed; sync: it synced, but started no new task)`;

const SYNC_STOPPED = `
  130, 143  stopped by SIGINT (Ctrl-C) or SIGTERM: its running tasks were stopped (their process groups killed) and
            reported failed, "interrupted: coord was stopped"; the result was published and the lock released.
            A second signal exits at once (the next sync stops a task left running and reports it interrupted).`;

/** A whole number given for `flag`, or one sentence saying what to give. */
function count(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new CoordError(`${flag} must be a whole number, 0 or more, not "${value}"`, EXIT.USAGE);
  return n;
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
}

function printSync(r: SyncResult, io: Io): void {
  if (r.backoff) {
    io.out(
      `${r.machine}: backing off after ${r.backoff.failures} failed syncs until ${r.backoff.until} (last error: ${r.backoff.lastError}); run coord sync without --scheduled to try now`,
    );
    return;
  }
  if (r.skipped) {
    io.out(`${r.machine}: another coord sync is running in this checkout; skipped.`);
    return;
  }
  for (const id of r.interrupted) io.out(`${id}: interrupted by a crash; reported failed`);
  if (r.delivered.length) io.out(`${r.delivered.length} new message${r.delivered.length === 1 ? "" : "s"} (coord inbox): ${r.delivered.join(", ")}`);
  if (r.hookAcked.length) io.out(`acknowledged by the onMessage hook: ${r.hookAcked.join(", ")}`);
  for (const t of r.ran) io.out(`${t.id}: ${t.state}${t.reason ? ` (${t.reason})` : ""}`);
  for (const w of r.waiting) io.out(`${w.id}: not started: ${w.reason}`);
  for (const p of [...r.ordersProblems, ...r.fileProblems]) io.err(formatProblem(p));
  for (const w of r.warnings) io.err(`warning: ${w}`);
  io.out(r.pushed ? `${r.machine}: published ${r.pushed.slice(0, 12)}` : `${r.machine}: up to date, nothing to publish`);
}

export function buildProgram(io: Io): Command {
  const program = new Command("coord")
    .description("Coordinate machines and AI coding agents through one git repository.")
    .version(version)
    .exitOverride() // before the subcommands, so they inherit it: nothing here calls process.exit
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, "")), writeErr: (s) => io.err(s.replace(/\n$/, "")) })
    .addHelpText("after", EXIT_CODES + examples("coord hub create ~/fleet.git", "coord init ~/fleet --name izzit7 --remote ~/fleet.git", "coord sync --dir ~/fleet", "coord demo"));

  const dirOption = () => new Option("--dir <dir>", "the machine's checkout (default: $COORD_DIR, else the checkout around the current directory)");

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

  program
    .command("init <dir>")
    .description("clone (or adopt) a checkout of the hub and register this machine in it")
    .requiredOption("--name <machine>", "this machine's name: lowercase letters, digits and dashes")
    .requiredOption("--remote <url>", "the hub: a path, ssh://, https:// or git:// URL")
    .option("--branch <branch>", "branch to use", "main")
    .option("--heartbeat <duration>", "commit lastSeen at most this often when nothing else changes (default 15m)")
    .option("--reclaim", "take over the existing machine file of this name (this machine, reinstalled)")
    .option("--cron", "also install the crontab line that syncs every 5 minutes (see coord cron)")
    .option("--systemd", "also install a systemd user timer that syncs every 5 minutes (see coord cron --systemd)")
    .addHelpText(
      "after",
      examples(
        "coord init ~/fleet --name izzit7 --remote git@github.com:me/fleet.git",
        "coord init ~/fleet-2 --name soda-yeti --remote ~/fleet.git --heartbeat 5m",
        "coord init ~/fleet --name izzit7 --remote ~/fleet.git --reclaim",
        "coord init ~/fleet --name izzit7 --remote git@github.com:me/fleet.git --cron",
      ),
    )
    .action(async (dir: string, o: { name: string; remote: string; branch: string; heartbeat?: string; reclaim?: boolean; cron?: boolean; systemd?: boolean }) => {
      const r = await init({ dir, name: o.name, remote: o.remote, branch: o.branch, heartbeat: o.heartbeat, reclaim: o.reclaim });
      if (o.cron || o.systemd) {
        const installed = await schedule({ dir: r.dir, action: "install", ...(o.systemd ? { systemd: true } : {}) }).catch((e: unknown) => e as Error);
        if (installed instanceof Error) {
          // Registered either way: say so, and how to get the schedule once the cause is fixed.
          const code = installed instanceof CoordError ? installed.exitCode : EXIT.FAILURE;
          throw new CoordError(`registered machine ${r.name} in ${r.dir}, but the schedule was not installed: ${installed.message}`, code);
        }
        io.out(formatSchedule(installed));
      }
      io.out(
        `${r.reclaimed ? "reclaimed" : "registered"} machine ${r.name} (${r.uuid}) in ${r.dir}` +
          (r.scaffolded ? "\nthe remote was empty: scaffolded ORDERS.json, STATUS files and the schema" : "") +
          (o.cron || o.systemd ? "" : `\nnext: coord cron install --dir ${r.dir}   (or coord daemon start --dir ${r.dir})`),
      );
    });

  program
    .command("sync")
    .description("pull, run the tasks addressed to this machine, publish its status")
    .addOption(dirOption())
    .option("--no-run", "publish status but start no task")
    .option("--dry-run", "print what would run; change nothing")
    .option("--json", "print the result as JSON")
    .option("--scheduled", "a run from cron or a timer: after failures, back off (1, 2, 4 … 60 minutes) instead of trying every time")
    .addHelpText(
      "after",
      EXIT_CODES +
        SYNC_STOPPED +
        examples("coord sync", "coord sync --dir ~/fleet --dry-run", "*/5 * * * * coord sync --scheduled --dir ~/fleet   # crontab line (see coord cron)"),
    )
    .action(async (o: { dir?: string; run: boolean; dryRun?: boolean; json?: boolean; scheduled?: boolean }) => {
      const dir = await resolveDir(o.dir);
      const progress = o.json ? undefined : startProgress(io);
      // Stopped by a signal, it stops its tasks, reports and publishes them, and releases its lock; no orphan is left.
      const stop = stopOnSignals((s) => io.err(`coord: ${s}: stopping the running tasks and publishing what they did; send it again to exit at once`));
      const r = await sync({ dir, run: o.run, dryRun: o.dryRun, scheduled: o.scheduled, signal: stop.signal, ...(progress ? { log: progress.line } : {}) }).finally(() => {
        progress?.end();
        stop.dispose();
      });
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else if (o.dryRun) {
        if (r.wouldRun.length === 0) io.out(`${r.machine}: nothing would start`);
        for (const t of r.wouldRun) io.out(`would run ${t.id} (rev ${t.rev}, attempt ${t.attempt}): ${t.command}`);
        for (const w of r.waiting) io.out(`${w.id}: not started: ${w.reason}`);
        for (const p of r.ordersProblems) io.err(formatProblem(p));
      } else printSync(r, io);
      if (!r.skipped && r.ordersProblems.length) process.exitCode = EXIT.INVALID_ORDERS;
      if (stop.received()) process.exitCode = stop.exitCode();
    });

  program
    .command("status")
    .description("show machines (offline when 3 heartbeats are missed) and orders")
    .addOption(dirOption())
    .option("--json", "print STATUS.json plus the offline list")
    .option("--no-fetch", "use the last fetched commit instead of fetching")
    .addHelpText("after", examples("coord status", "coord status --json | jq '.orders'", "coord status --no-fetch"))
    .action(async (o: { dir?: string; json?: boolean; fetch: boolean }) => {
      const r = await status({ dir: await resolveDir(o.dir), fetch: o.fetch });
      if (r.stale) io.err(`warning: ${r.stale}`);
      if (o.json) io.out(JSON.stringify({ ...r.status, offline: r.offline, commit: r.commit, ...(r.stale ? { stale: r.stale } : {}) }, null, 2));
      else io.out(statusText(r.status, new Date()));
    });

  program
    .command("validate [file]")
    .description("check ORDERS.json: schema, unique ids, known dependencies, no cycles, machine names")
    .addOption(dirOption())
    .option("--json", "print the problems as JSON")
    .addHelpText("after", EXIT_CODES + examples("coord validate", "coord validate ~/fleet/ORDERS.json", "coord validate ORDERS.json --json"))
    .action(async (file: string | undefined, o: { dir?: string; json?: boolean }) => {
      const path = file ?? `${await resolveDir(o.dir)}/ORDERS.json`;
      const r = await validate(path);
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else if (r.valid) io.out(`${path}: valid, ${r.orders} order${r.orders === 1 ? "" : "s"}`);
      else for (const p of r.problems) io.err(formatProblem(p));
      if (!r.valid) process.exitCode = EXIT.INVALID_ORDERS;
    });

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
        `queued ${r.id}${r.published ? (r.published.skipped ? " (a sync is running; it goes out with the next one)" : r.published.pushed ? `; published ${r.published.pushed.slice(0, 12)}` : "") : "; it goes out at the next sync"}`,
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

  const list = (v: string) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  const order = program.command("order").description("give, cancel and list orders from the command line");
  order
    .command("add [command...]")
    .description("add an order: this machine delegates it (published at its next sync), or --human commits it to ORDERS.json as you")
    .addOption(dirOption())
    .requiredOption("--to <machines>", "a machine name, a comma-separated list of names, ALL or ANY")
    .option("--run <command>", "the shell command to run (or give it after --)")
    .option("--id <id>", "the order's id (default: <machine>-<yyyymmddhhmmss>-<4 random characters>, or person-… with --human)")
    .option("--after <ids>", "comma-separated ids of orders that must complete first")
    .option("--requires <capabilities>", "comma-separated capabilities a machine needs, e.g. node,claude")
    .option("--priority <p>", "low, normal, high or urgent")
    .option("--timeout <duration>", 'longest run time, e.g. "90s", "15m", "2h"')
    .option("--retries <n>", "times to run it again after a failure (0 to 100)")
    .option("--cwd <dir>", "directory to run in (~ is the machine user's home)")
    .option("--human", "as a person: commit to ORDERS.json with this clone's git user.name/user.email and push")
    .addHelpText(
      "after",
      EXIT_CODES +
        examples(
          "coord order add --to soda-yeti --cwd ~/dev/dao -- npm test",
          "coord order add --to ANY --requires node --after build-42 -- npm run lint",
          'coord order add --to izzit7,machine-2 --run "make build" --id build-42 --timeout 15m --retries 1',
          'coord order add --to ALL --run "node --version" --human --dir ~/fleet-clone',
        ),
    )
    .action(
      async (
        words: string[],
        o: {
          dir?: string;
          to: string;
          run?: string;
          id?: string;
          after?: string;
          requires?: string;
          priority?: string;
          timeout?: string;
          retries?: string;
          cwd?: string;
          human?: boolean;
        },
      ) => {
        const run = o.run ?? words.join(" ");
        if (!run.trim()) throw new CoordError("give the command to run after -- (coord order add --to m1 -- make test) or with --run", EXIT.USAGE);
        if (o.run !== undefined && words.length) throw new CoordError("give the command either with --run or after --, not both", EXIT.USAGE);
        const r = await orderAdd({
          dir: await resolveDir(o.dir),
          to: o.to,
          run,
          id: o.id,
          after: o.after === undefined ? undefined : list(o.after),
          requires: o.requires === undefined ? undefined : list(o.requires),
          priority: o.priority,
          timeout: o.timeout,
          retries: o.retries,
          cwd: o.cwd,
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

  program
    .command("log <order-id>")
    .description("an order's history across machines, from git: added, changed, cancelled, and each machine's runs")
    .addOption(dirOption())
    .option("--max-count <n>", "look at most at this many of the latest commits", "300")
    .option("--json", "print an array of { at, commit, who, what }")
    .addHelpText("after", examples("coord log build-42", "coord log build-42 --max-count 1000 --json"))
    .action(async (id: string, o: { dir?: string; maxCount: string; json?: boolean }) => {
      const maxCount = count("--max-count", o.maxCount);
      const events = await orderLog({ dir: await resolveDir(o.dir), id, maxCount });
      if (o.json) io.out(JSON.stringify(events, null, 2));
      else if (events.length === 0) io.out(`no history for order ${id} in the last ${maxCount} commits`);
      else for (const e of events) io.out(`${e.at}  ${e.commit.slice(0, 10)}  ${e.who}: ${e.what}`);
    });

  const daemon = program.command("daemon").description("sync on a schedule in the background, for months");
  const scheduleOption = () => new Option("--schedule <cron>", 'cron expression: 5 fields, or 6 with seconds first (default "*/5 * * * *")');
  const jitterOption = () => new Option("--jitter <seconds>", "random delay before each sync, so a fleet does not push at the same second (default 30)");
  daemon
    .command("start")
    .description("start the daemon in the background (pid file and lock in .git/coord/)")
    .addOption(dirOption())
    .addOption(scheduleOption())
    .addOption(jitterOption())
    .addHelpText("after", examples("coord daemon start", 'coord daemon start --schedule "*/2 * * * *"', "coord daemon start --dir ~/fleet --jitter 60"))
    .action(async (o: { dir?: string; schedule?: string; jitter?: string }) => {
      const dir = await resolveDir(o.dir);
      const pid = await startDaemon({ dir, ...(o.schedule ? { schedule: o.schedule } : {}), ...(o.jitter !== undefined ? { jitter: Number(o.jitter) } : {}) });
      io.out(`coord daemon started (pid ${pid}); coord daemon status shows what it does, coord logs -f follows it`);
    });
  daemon
    .command("stop")
    .description("stop the daemon: it finishes (or, after 10 s, cleanly interrupts) the running sync")
    .addOption(dirOption())
    .addHelpText("after", examples("coord daemon stop"))
    .action(async (o: { dir?: string }) => {
      const r = await stopDaemon({ dir: await resolveDir(o.dir) });
      io.out(r.wasRunning ? `coord daemon ${r.pid} stopped` : "no coord daemon was running");
    });
  daemon
    .command("restart")
    .description("stop, then start the daemon")
    .addOption(dirOption())
    .addOption(scheduleOption())
    .addOption(jitterOption())
    .addHelpText("after", examples("coord daemon restart", 'coord daemon restart --schedule "*/10 * * * *"'))
    .action(async (o: { dir?: string; schedule?: string; jitter?: string }) => {
      const dir = await resolveDir(o.dir);
      const before = await daemonStatus(dir);
      await stopDaemon({ dir });
      // What it ran with, unless the flags say otherwise.
      const schedule = o.schedule ?? before.info?.schedule;
      const jitter = o.jitter !== undefined ? Number(o.jitter) : before.info?.jitter;
      const pid = await startDaemon({ dir, ...(schedule ? { schedule } : {}), ...(jitter !== undefined ? { jitter } : {}) });
      io.out(`coord daemon restarted (pid ${pid})`);
    });
  daemon
    .command("status")
    .description("pid, uptime, last and next sync, last error")
    .addOption(dirOption())
    .option("--json", "print as JSON")
    .addHelpText("after", examples("coord daemon status", "coord daemon status --json"))
    .action(async (o: { dir?: string; json?: boolean }) => {
      const r = await daemonStatus(await resolveDir(o.dir));
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else if (!r.running)
        io.out(`not running${r.info ? ` (last ran as pid ${r.info.pid}, ${r.info.stoppedAt ? `stopped ${r.info.stoppedAt}` : "ended without stopping: killed or crashed"})` : ""}`);
      else {
        const i = r.info!;
        io.out(`running: pid ${i.pid}, up ${r.uptimeSeconds}s, schedule "${i.schedule}"`);
        if (i.lastSync) io.out(`last sync: ${i.lastSync.at}, ${i.lastSync.ok ? "ok" : "FAILED"}: ${i.lastSync.error ?? i.lastSync.summary}`);
        if (i.syncingSince)
          io.out(
            `syncing now: since ${i.syncingSince} (${Math.round((Date.now() - Date.parse(i.syncingSince)) / 1000)}s; a long task keeps its sync running, and the next one starts at the first tick after it)`,
          );
        else if (i.nextSync) io.out(`next sync: ${i.nextSync}`);
      }
    });
  daemon
    .command("run", { hidden: true })
    .description("the daemon in the foreground (what start runs in the background)")
    .addOption(dirOption())
    .addOption(scheduleOption())
    .addOption(jitterOption())
    .action(async (o: { dir?: string; schedule?: string; jitter?: string }) => {
      await runDaemon({
        dir: await resolveDir(o.dir),
        ...(o.schedule ? { schedule: o.schedule } : {}),
        ...(o.jitter !== undefined ? { jitter: Number(o.jitter) } : {}),
        log: (l) => io.out(`${new Date().toISOString()} ${l}`),
      });
    });

  program
    .command("watch")
    .description("the daemon's loop in the foreground, and ORDERS.json saved in the checkout is validated, committed and pushed at once")
    .addOption(dirOption())
    .option("--every <duration>", "fetch and sync this often: 5s, 10s, 30s, 1m, 5m", "30s")
    .option("--schedule <cron>", "instead of --every: a cron expression (5 fields, or 6 with seconds first)")
    .option("--debounce <ms>", "quiet time after the last save before pushing", "500")
    .addHelpText("after", examples("coord watch --every 5s", "coord watch --dir ~/fleet --debounce 2000"))
    .action(async (o: { dir?: string; every: string; schedule?: string; debounce: string }) => {
      const every = parseDuration(o.every);
      if (every === undefined) throw new CoordError(`--every "${o.every}" is not a duration; write it like 5s, 30s or 5m`, EXIT.USAGE);
      await watch({
        dir: await resolveDir(o.dir),
        schedule: o.schedule ?? everyToSchedule(every),
        jitter: 0,
        debounceMs: count("--debounce", o.debounce),
        log: (l) => io.out(`${new Date().toISOString()} ${l}`),
      });
    });

  const cronCmd = program.command("cron").description("install the schedule that survives restarts: a crontab line or a systemd user timer");
  for (const action of ["print", "install", "uninstall"] as const)
    cronCmd
      .command(action)
      .description(action === "print" ? "show the crontab line (or systemd units) for this checkout" : `${action} it for this checkout`)
      .addOption(dirOption())
      .option("--schedule <cron>", 'five cron fields (default "*/5 * * * *", every 5 minutes)')
      .option("--systemd", "a systemd user timer and service instead of a crontab line")
      .option("--dry-run", "show what would be written; change nothing")
      .addHelpText("after", examples(`coord cron ${action}`, `coord cron ${action} --systemd`, `coord cron ${action} --schedule "*/10 * * * *" --dry-run`))
      .action(async (o: { dir?: string; schedule?: string; systemd?: boolean; dryRun?: boolean }) => {
        const r = await schedule({
          dir: await resolveDir(o.dir),
          action,
          ...(o.schedule ? { schedule: o.schedule } : {}),
          ...(o.systemd ? { systemd: true } : {}),
          ...(o.dryRun ? { dryRun: true } : {}),
        });
        io.out(formatSchedule(r));
      });

  program
    .command("doctor")
    .description("check and explain: git, remote reachable and writable, branch, lock, clock skew, identity, schedule, agent CLIs")
    .addOption(dirOption())
    .option("--json", "print the checks as JSON")
    .addHelpText("after", examples("coord doctor", "coord doctor --dir ~/fleet --json"))
    .action(async (o: { dir?: string; json?: boolean }) => {
      const checks = await doctor({ dir: await resolveDir(o.dir) });
      io.out(o.json ? JSON.stringify(checks, null, 2) : formatChecks(checks));
      process.exitCode = doctorExitCode(checks);
    });

  program
    .command("logs")
    .description("this machine's own log: one line per sync and per task (rotated by size)")
    .addOption(dirOption())
    .option("-f, --follow", "keep printing new lines")
    .option("-n, --lines <n>", "only the last n records")
    .option("--json", "the raw JSON lines")
    .addHelpText("after", examples("coord logs -n 20", "coord logs -f", "coord logs --json | jq 'select(.kind == \"task\")'"))
    .action(async (o: { dir?: string; follow?: boolean; lines?: string; json?: boolean }) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      await logs(await resolveDir(o.dir), {
        follow: !!o.follow,
        json: !!o.json,
        ...(o.lines !== undefined ? { limit: count("-n", o.lines) } : {}),
        out: io.out,
        signal: controller.signal,
      });
      process.off("SIGINT", stop);
    });

  program
    .command("demo")
    .description("three machines on a local hub: a person's orders, real commands, concurrent syncs")
    .option("--dir <dir>", "where to create the demo (default: a new temporary directory)")
    .option("--keep", "print where the repositories are, to look at them afterwards")
    .addHelpText("after", examples("coord demo", "coord demo --dir /tmp/coord-demo --keep"))
    .action(async (o: { dir?: string; keep?: boolean }) => {
      const r = await demo({ dir: o.dir, log: (l) => io.out(l) });
      io.out("");
      io.out(statusText(r.final.status, new Date()));
      if (o.keep || o.dir) {
        io.out(`\nThe repositories are in ${r.root}:`);
        io.out(`  hub (bare):  ${r.hub}`);
        for (const [name, dir] of Object.entries(r.machines)) io.out(`  ${name.padEnd(11)}  ${dir}`);
        io.out(`  person:      ${r.person}`);
        io.out(`Try: coord status --dir ${r.machines.izzit7}   or   cat ${r.machines.izzit7}/STATUS.md`);
      } else {
        const { rm } = await import("node:fs/promises");
        await rm(r.root, { recursive: true, force: true });
        io.out("\n(run with --keep to look at the repositories afterwards)");
      }
    });

  return program;
}

/**
 * What a long sync is doing, on stderr: a spinner line on a terminal, plain
 * lines otherwise (cron logs). Stdout keeps only the result.
 */
function startProgress(io: Io): { line: (text: string) => void; end: () => void } {
  if (!process.stderr.isTTY) return { line: (text) => io.err(`… ${text}`), end: () => {} };
  const frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
  let i = 0;
  let last = "starting";
  const draw = () => process.stderr.write(`\r\x1b[2K${frames[i++ % frames.length]} ${last.slice(0, (process.stderr.columns ?? 80) - 3)}`);
  const timer = setInterval(draw, 100);
  return {
    line: (text) => {
      last = text;
      draw();
    },
    end: () => {
      clearInterval(timer);
      process.stderr.write("\r\x1b[2K");
    },
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8"); // invalid UTF-8 becomes U+FFFD
}

/** Runs the CLI in-process; returns the exit code instead of exiting. */
export async function main(argv: string[], io: Io = { out: (s) => console.log(s), err: (s) => console.error(s) }): Promise<number> {
  const program = buildProgram(io);
  process.exitCode = 0;
  try {
    await program.parseAsync(argv, { from: "user" });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT.USAGE;
    for (const line of failureLines(e)) io.err(line);
    return describeFailure(e).exitCode;
  }
}

const isEntry = process.argv[1] && import.meta.url === (await import("node:url")).pathToFileURL((await import("node:fs")).realpathSync(process.argv[1])).href;
if (isEntry) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // The command is done. A process a task or git left behind may still hold one of our pipes
  // (a fetch killed while its remote side hangs): it must not keep coord alive.
  setTimeout(() => process.exit(code), 1000).unref();
}
