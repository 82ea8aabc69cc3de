import type { Command } from "commander";
import { publishedText } from "../../sync/result.js";
import { pause, resume } from "../../commands/pause.js";
import type { SyncResult } from "../../sync/sync.js";
import { resolveDir } from "../dir.js";
import { dirOption, examples, type Io } from "../shared.js";

const published = (r: SyncResult | undefined) =>
  r === undefined
    ? "; published at the next sync"
    : r.skipped
      ? "; a sync is running: it says so at its next look at the remote"
      : r.pushed || r.deferred
        ? `; ${publishedText(r)}`
        : "";

/** pause and resume: this machine stops taking work (state suspended), and takes it again. */
export function registerPause(program: Command, io: Io): void {
  program
    .command("pause")
    .description("this machine claims and starts nothing new (state suspended) until coord resume; --stop also stops what runs")
    .addOption(dirOption())
    .option("--reason <text>", "why, shown with its state in STATUS.md")
    .option("--stop", 'also stop the tasks running now (reported failed, "paused"; retried after resume when their retries allow)')
    .option("--no-now", "do not publish at once (the next sync does)")
    .addHelpText(
      "after",
      examples(
        'coord pause --reason "swapping the disk"',
        "coord pause --stop",
        "coord resume",
        '# the whole fleet, as a person: "emergency": {"stop": true, "reason": "…"} in ORDERS.json',
        '# another machine, as a person: "pause": {"soda-yeti": {"reason": "…"}} in ORDERS.json',
      ),
    )
    .action(async (o: { dir?: string; reason?: string; stop?: boolean; now: boolean }) => {
      const r = await pause({ dir: await resolveDir(o.dir), ...(o.reason ? { reason: o.reason } : {}), stop: !!o.stop, now: o.now });
      io.out(`paused${o.stop ? " (running tasks are stopped)" : ""}${published(r.published)}`);
    });
  program
    .command("resume")
    .description("this machine takes work again after coord pause")
    .addOption(dirOption())
    .option("--no-now", "do not publish at once (the next sync does)")
    .addHelpText("after", examples("coord resume", "coord resume --dir ~/fleet"))
    .action(async (o: { dir?: string; now: boolean }) => {
      const r = await resume({ dir: await resolveDir(o.dir), now: o.now });
      io.out(r.wasPaused ? `resumed${published(r.published)}` : "this machine was not paused");
    });
}
