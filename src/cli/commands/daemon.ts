import { type Command, Option } from "commander";
import { daemonStatus, ensureDaemon, runDaemon, startDaemon, stopDaemon } from "../../daemon/daemon.js";
import { daemonService, formatService, SERVICE_KINDS, type ServiceKind } from "../../actions/daemon-service.js";
import { resolveDir } from "../dir.js";
import { dirOption, examples, type Io, stamped } from "../shared.js";

/** daemon start, stop, restart, status, and run (hidden: what start runs in the background). */
export function registerDaemon(program: Command, io: Io): void {
  const daemon = program.command("daemon").description("sync on a schedule in the background, for months");
  const scheduleOption = () => new Option("--schedule <cron>", 'cron expression: 5 fields, or 6 with seconds first (default "*/5 * * * *")');
  const jitterOption = () => new Option("--jitter <seconds>", "random delay before each sync, so a fleet does not push at the same second (default 30)");
  const lookOption = () =>
    new Option(
      "--no-look",
      "sync on the schedule alone, as cron does; by default the daemon looks at the hub between ticks (one git fetch into refs of its own, as often as its share of the fleet's read budget allows: once a second in a small fleet, twice with an agent on call or a reply awaited) and syncs at once when it moved",
    );
  daemon
    .command("start")
    .description("start the daemon in the background (pid file and lock in .git/coord/)")
    .addOption(dirOption())
    .addOption(scheduleOption())
    .addOption(jitterOption())
    .option("--if-not-running", "with a daemon already running for the checkout, exit 0 and say nothing (what the crontab lines of coord daemon install run)")
    .addOption(lookOption())
    .addHelpText(
      "after",
      examples("coord daemon start", 'coord daemon start --schedule "*/2 * * * *"', "coord daemon start --dir ~/fleet --jitter 60", "coord daemon start --no-look"),
    )
    .action(async (o: { dir?: string; schedule?: string; jitter?: string; ifNotRunning?: boolean; look: boolean }) => {
      const dir = await resolveDir(o.dir);
      const r = await ensureDaemon(
        { dir, ...(o.schedule ? { schedule: o.schedule } : {}), ...(o.jitter !== undefined ? { jitter: Number(o.jitter) } : {}), ...(o.look === false ? { look: false } : {}) },
        !!o.ifNotRunning,
      );
      if (r.started) io.out(`coord daemon started (pid ${r.pid}); coord daemon status shows what it does, coord logs -f follows it`);
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
      const pid = await startDaemon({
        dir,
        ...(schedule ? { schedule } : {}),
        ...(jitter !== undefined ? { jitter } : {}),
        ...(before.info?.look === false ? { look: false } : {}),
      });
      io.out(`coord daemon restarted (pid ${pid})`);
    });
  daemon
    .command("status")
    .description("pid, uptime, last and next sync, last error, and the services it runs")
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
        if (i.look === false) io.out("looks: none (--no-look): it syncs on its schedule alone");
        else if (i.looks) io.out(`looks: ${i.looks.every}; since it started: ${i.looks.looks} looks, ${i.looks.moved} saw a move, ${i.looks.reads} reads of the hub in all`);
      }
      if (!o.json && r.failing) io.out(r.failing);
      if (!o.json && r.services?.length)
        io.out(
          `services: ${r.services.map((s) => `${s.id} ${s.state}${s.health ? ` (${s.health})` : ""}${s.pid !== undefined ? `, pid ${s.pid}` : ""}`).join("; ")} (coord services: the fleet's)`,
        );
    });
  for (const action of ["install", "uninstall"] as const) {
    const cmd = daemon
      .command(action)
      .description(
        action === "install"
          ? "keep the daemon running across reboots and crashes: a systemd user service (Restart=on-failure), a launchd agent on macOS, a Task Scheduler task on Windows (at logon and every 5 minutes, started unless one runs), or crontab lines where none of these runs"
          : "remove what coord daemon install wrote for this checkout, and stop the daemon it ran",
      )
      .addOption(dirOption())
      .option("--dry-run", "show what would be written and run; change nothing");
    if (action === "install")
      cmd
        .addOption(scheduleOption())
        .addOption(jitterOption())
        .addOption(new Option("--kind <kind>", "the way, instead of the one this system offers").choices([...SERVICE_KINDS]));
    cmd
      .addHelpText(
        "after",
        action === "install"
          ? examples(
              "coord daemon install",
              'coord daemon install --schedule "*/2 * * * *" --dry-run',
              "coord daemon install --kind cron",
              "coord daemon install --kind schtasks --dry-run",
            )
          : examples("coord daemon uninstall", "coord daemon uninstall --dry-run"),
      )
      .action(async (o: { dir?: string; schedule?: string; jitter?: string; kind?: ServiceKind; dryRun?: boolean }) => {
        const jitter = o.jitter !== undefined ? Number(o.jitter) : undefined;
        const r = await daemonService({
          dir: await resolveDir(o.dir),
          action,
          ...(o.kind ? { kind: o.kind } : {}),
          ...(o.schedule ? { schedule: o.schedule } : {}),
          ...(jitter !== undefined ? { jitter } : {}),
          ...(o.dryRun ? { dryRun: true } : {}),
        });
        io.out(formatService(r));
      });
  }
  daemon
    .command("run", { hidden: true })
    .description("the daemon in the foreground (what start runs in the background)")
    .addOption(dirOption())
    .addOption(scheduleOption())
    .addOption(jitterOption())
    .addOption(lookOption())
    .action(async (o: { dir?: string; schedule?: string; jitter?: string; look: boolean }) => {
      await runDaemon({
        dir: await resolveDir(o.dir),
        ...(o.schedule ? { schedule: o.schedule } : {}),
        ...(o.jitter !== undefined ? { jitter: Number(o.jitter) } : {}),
        ...(o.look === false ? { look: false } : {}),
        log: stamped(io),
      });
    });
}
