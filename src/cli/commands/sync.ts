import type { Command } from "commander";
import { backingOff } from "../../core/time/backoff.js";
import { plural, someOf } from "../../core/limits.js";
import { formatProblem } from "../../core/orders/orders.js";
import { EXIT } from "../../errors.js";
import { type SyncResult, sync } from "../../sync/sync.js";
import { publishedText } from "../../sync/result.js";
import { headStartFor } from "../../startup/head-start.js";
import { resolveDir } from "../dir.js";
import { daemonRunning } from "../../daemon/daemon.js";
import { stateDirOf } from "../../state/paths.js";
import { dirOption, EXIT_CODES, examples, type Io } from "../shared.js";
import { stopOnSignals } from "../signals.js";
import { waitingLines } from "../waiting.js";

const SYNC_STOPPED = `
  130, 143  stopped by SIGINT (Ctrl-C) or SIGTERM: its running tasks were stopped (their process groups killed) and
            reported failed, "interrupted: coord was stopped"; the result was published and the lock released.
            A second signal exits at once (the next sync stops a task left running and reports it interrupted).`;

export function registerSync(program: Command, io: Io): void {
  program
    .command("sync")
    .description(
      'pull, run the tasks addressed to this machine, publish its status (only what someone needs, within its share of the fleet\'s push budget: ORDERS.json "hub": {"pushesPerMinute": 6}; what waits goes with its next push)',
    )
    .addOption(dirOption())
    .option("--no-run", "publish status but start no task")
    .option("--dry-run", "print what would start now; change nothing (a real sync that ran work may then take on more ANY work)")
    .option("--json", "print the result as JSON")
    .option(
      "--scheduled",
      "a run from cron or a timer: after failures, back off (1, 2, 4, at most 5 minutes; after an outage it probes the hub each time and syncs as soon as it answers) instead of trying every time",
    )
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
      // The fetch src/cli/entry.ts started while the CLI loaded, when it did (src/startup/head-start.ts).
      const early = headStartFor(dir);
      // Agents on call: without a daemon, the turns of the messages delivered run in this sync (the daemon runs them itself).
      const onCallHere = o.run && !o.dryRun && !(await daemonRunning(await stateDirOf(dir)));
      const r = await sync({
        dir,
        run: o.run,
        dryRun: o.dryRun,
        scheduled: o.scheduled,
        onCallHere,
        signal: stop.signal,
        ...early,
        ...(progress ? { log: progress.line } : {}),
      }).finally(() => {
        progress?.end();
        stop.dispose();
      });
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else if (o.dryRun) {
        if (r.wouldRun.length === 0) io.out(`${r.machine}: nothing would start`);
        for (const t of r.wouldRun) io.out(`would run ${t.id} (rev ${t.rev}${t.slot ? `, slot ${t.slot}` : ""}, attempt ${t.attempt}): ${t.command}`);
        for (const line of waitingLines(r.waiting)) io.out(line);
        for (const p of r.ordersProblems) io.err(formatProblem(p));
      } else printSync(r, io);
      if (!r.skipped && r.ordersProblems.length) process.exitCode = EXIT.INVALID_ORDERS;
      if (stop.received()) process.exitCode = stop.exitCode();
    });
}

function printSync(r: SyncResult, io: Io): void {
  if (r.backoff) {
    io.out(`${r.machine}: ${backingOff(r.backoff, new Date())} (last error: ${r.backoff.lastError}); run coord sync without --scheduled to try now`);
    return;
  }
  if (r.skipped) {
    io.out(`${r.machine}: another coord sync is running in this checkout; skipped.`);
    return;
  }
  for (const id of r.interrupted) io.out(`${id}: interrupted by a crash; reported failed`);
  if (r.delivered.length) io.out(`${plural(r.delivered.length, "new message")} (coord inbox): ${someOf(r.delivered)}`);
  if (r.hookAcked.length) io.out(`acknowledged by the onMessage hook: ${someOf(r.hookAcked)}`);
  for (const t of r.ran) io.out(`${t.id}: ${t.state}${t.reason ? ` (${t.reason})` : ""}`);
  for (const l of r.reservationsLost ?? []) io.out(l.text);
  for (const line of waitingLines(r.waiting)) io.out(line);
  for (const p of [...r.ordersProblems, ...r.fileProblems]) io.err(formatProblem(p));
  for (const w of r.warnings) io.err(`warning: ${w}`);
  const sent = (r.notified ?? []).filter((n) => n.ok).map((n) => n.id);
  if (sent.length) io.out(`notified ${plural(sent.length, "alert")}: ${someOf(sent)}`);
  for (const n of r.notified ?? []) if (n.error) io.err(`warning: ${n.error}`);
  io.out(r.pushed || r.deferred ? `${r.machine}: ${publishedText(r)}` : `${r.machine}: up to date, nothing to publish`);
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
