// The schedule as a systemd user timer and service: only this checkout's
// units are ever written or removed.
import { onPath } from "../../platform/executables.js";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { CoordError, EXIT } from "../../errors.js";
import { template } from "../../templates.js";
import { unitWord } from "../../core/setup/service-text.js";
import { checkSchedule, fill, firstLine, marker, runCommand, type ScheduleFile, type ScheduleOptions, type ScheduleResult, type Target } from "./common.js";

/** The [Timer] lines for a cron schedule, done the simple way: every N minutes or hours. */
export function timerLines(schedule: string): string[] {
  const s = checkSchedule(schedule);
  const every = (n: number, unit: "min" | "h") => [`OnBootSec=1min`, `OnUnitActiveSec=${n}${unit}`];
  if (s === "* * * * *") return every(1, "min");
  let m = /^\*\/([1-9][0-9]*) \* \* \* \*$/.exec(s);
  if (m) return every(Number(m[1]), "min");
  m = /^0 \*\/([1-9][0-9]*) \* \* \*$/.exec(s);
  if (m) return every(Number(m[1]), "h");
  if (s === "0 * * * *" || s === "@hourly") return every(1, "h");
  throw new CoordError(
    `a systemd timer is made only from "*/N * * * *" (every N minutes), "0 */N * * *" (every N hours) or "@hourly"; ` +
      `"${schedule}" is none of them: use cron (without --systemd) or write the timer yourself`,
    EXIT.USAGE,
  );
}

export function unitDir(env: NodeJS.ProcessEnv): string {
  const config = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), ".config");
  return join(config, "systemd", "user");
}

export function unitNames(machine: string): { service: string; timer: string } {
  return { service: `coord-${machine}.service`, timer: `coord-${machine}.timer` };
}

async function renderUnits(t: Target, schedule: string, dir: string): Promise<ScheduleFile[]> {
  const names = unitNames(t.machine);
  const values = {
    machine: t.machine,
    marker_checkout: t.checkout,
    description: `${t.checkout} (machine ${t.machine})`.replace(/%/g, "%%"),
    node: unitWord(t.node),
    cli: unitWord(t.cli),
    checkout: unitWord(t.checkout),
    path: (process.env.PATH ?? "/usr/bin:/bin").replace(/%/g, "%%"),
    schedule_comment: schedule,
    timer: timerLines(schedule).join("\n"),
  };
  return [
    { path: join(dir, names.service), content: fill(await template("systemd/coord.service"), values) },
    { path: join(dir, names.timer), content: fill(await template("systemd/coord.timer"), values) },
  ];
}

/** Whether a unit file on disk is this checkout's (undefined: no such file). */
export async function unitOwner(path: string, mark: string): Promise<"ours" | "other" | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  return text.split("\n").some((l) => l.trim() === `# ${mark}`) ? "ours" : "other";
}

function ownerOf(text: string): string | undefined {
  return /^# coord:[^:\n]+:(.+)$/m.exec(text)?.[1];
}

export async function systemd(opts: ScheduleOptions, t: Target, schedule: string, env: NodeJS.ProcessEnv): Promise<ScheduleResult> {
  const dir = unitDir(env);
  const names = unitNames(t.machine);
  const files = await renderUnits(t, schedule, dir);
  const base: ScheduleResult = {
    kind: "systemd",
    action: opts.action,
    dryRun: !!opts.dryRun,
    machine: t.machine,
    checkout: t.checkout,
    schedule,
    files,
    commands: [],
    changed: false,
    notes: [...t.notes],
  };
  if (opts.action === "print") return base;
  const mark = marker(t);
  for (const f of files)
    if ((await unitOwner(f.path, mark)) === "other") {
      const owner = ownerOf(await readFile(f.path, "utf8"));
      throw new CoordError(
        owner
          ? `${f.path} schedules another checkout of machine ${t.machine} (${owner}); run coord cron uninstall --systemd --dir ${owner} first`
          : `${f.path} exists and was not written by coord for ${t.checkout}; move it away first`,
        EXIT.USAGE,
      );
    }
  const systemctl = await onPath("systemctl", env.PATH);
  const commands = opts.action === "install" ? [["daemon-reload"], ["enable", "--now", names.timer]] : [["disable", "--now", names.timer], ["daemon-reload"]];
  const shown = (args: string[]) => `systemctl --user ${args.join(" ")}`;

  if (opts.action === "install") {
    const current = await Promise.all(files.map((f) => readFile(f.path, "utf8").catch(() => undefined)));
    const changed = files.some((f, i) => current[i] !== f.content);
    base.changed = changed;
    if (systemctl) base.commands = commands.map(shown);
    else base.notes.push(`systemctl is not on PATH: run ${commands.map(shown).join(" && ")} where systemd runs`);
    base.notes.push(`to sync while you are logged out: loginctl enable-linger ${env.USER ?? "$USER"}; output: journalctl --user -u ${names.service}`);
    if (opts.dryRun) return base;
    await mkdir(dir, { recursive: true });
    for (const f of files) await writeFile(f.path, f.content);
    if (systemctl) for (const args of commands) await systemctlRun(systemctl, args, env, true);
    return base;
  }

  // uninstall
  const present: ScheduleFile[] = [];
  for (const f of files) {
    const text = await readFile(f.path, "utf8").catch(() => undefined);
    if (text !== undefined) present.push({ path: f.path, content: text });
  }
  base.files = present;
  if (!present.length) {
    base.notes.push(`no coord units for ${t.checkout} in ${dir}; nothing to remove`);
    return base;
  }
  base.changed = true;
  if (systemctl) base.commands = commands.map(shown);
  else base.notes.push(`systemctl is not on PATH: the unit files are removed without it; run ${commands.map(shown).join(" && ")} where systemd runs`);
  if (opts.dryRun) return base;
  if (systemctl) {
    const note = await systemctlRun(systemctl, commands[0]!, env, false);
    if (note) base.notes.push(note);
  }
  for (const f of present) await rm(f.path, { force: true });
  await rm(join(dir, "timers.target.wants", names.timer), { force: true });
  if (systemctl) {
    const note = await systemctlRun(systemctl, commands[1]!, env, false);
    if (note) base.notes.push(note);
  }
  return base;
}

/** Runs `systemctl --user …`; a failure throws (strict) or is returned as a note. */
async function systemctlRun(systemctl: string, args: string[], env: NodeJS.ProcessEnv, strict: boolean): Promise<string | undefined> {
  const text = `systemctl --user ${args.join(" ")}`;
  const r = await runCommand(systemctl, ["--user", ...args], env, undefined, 60_000).catch((e: Error) => ({ code: -1, stdout: "", stderr: e.message }));
  if (r.code === 0) return undefined;
  const why = `${text} failed: ${firstLine(r.stderr) || `exit code ${r.code}`}`;
  if (strict) throw new CoordError(`${why}; the unit files are written: run it yourself once the user's systemd is reachable`, EXIT.FAILURE);
  return why;
}
