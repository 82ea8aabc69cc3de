// The schedule as a line of the user's crontab: only this checkout's line is
// ever written or removed; every other line is kept as is.
import { onPath } from "../../platform/executables.js";
import { join } from "node:path";
import { CoordError, EXIT } from "../../errors.js";
import { CRON_LOG } from "../../state/logs.js";
import { template } from "../../templates.js";
import { shQuote } from "../../core/setup/service-text.js";
import { fill, firstLine, marker, runCommand, type ScheduleOptions, type ScheduleResult, type Target } from "./common.js";

async function cronLine(t: Target, schedule: string): Promise<string> {
  const text = await template("cron/coord.crontab");
  const line = text
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .at(-1);
  if (!line) throw new Error("templates/cron/coord.crontab has no line");
  const path = process.env.PATH ?? "/usr/bin:/bin";
  if (/[\n\r%]/.test(path))
    throw new CoordError("PATH has a newline or a %, which a crontab line cannot hold; run coord cron install from a shell whose PATH has none", EXIT.USAGE);
  return fill(line, {
    schedule,
    node: shQuote(t.node),
    cli: shQuote(t.cli),
    checkout: shQuote(t.checkout),
    log: shQuote(join(t.stateDir, CRON_LOG)),
    path: shQuote(path),
    machine: t.machine,
    marker_checkout: t.checkout,
  });
}

/** Whether a crontab line is the active line of this marker. */
export function isOurLine(line: string, mark: string): boolean {
  return !line.trimStart().startsWith("#") && line.trimEnd().endsWith(`# ${mark}`);
}

export async function crontabCommand(env: NodeJS.ProcessEnv): Promise<string> {
  const crontab = await onPath("crontab", env.PATH);
  if (!crontab)
    throw new CoordError("no crontab command on PATH; install cron (for example apt install cron), or use a systemd user timer: coord cron install --systemd", EXIT.FAILURE);
  return crontab;
}

/** The user's crontab ("" when there is none yet). */
export async function readCrontab(crontab: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = await runCommand(crontab, ["-l"], env).catch((e: Error) => {
    throw new CoordError(`could not run ${crontab} -l: ${e.message}`, EXIT.FAILURE);
  });
  if (r.code === 0) return r.stdout;
  if (/no crontab/i.test(r.stderr)) return "";
  throw new CoordError(`${crontab} -l failed: ${firstLine(r.stderr) || `exit code ${r.code}`}`, EXIT.FAILURE);
}

export async function writeCrontab(crontab: string, env: NodeJS.ProcessEnv, table: string): Promise<void> {
  const r = await runCommand(crontab, ["-"], env, table).catch((e: Error) => {
    throw new CoordError(`could not run ${crontab} -: ${e.message}`, EXIT.FAILURE);
  });
  if (r.code !== 0) throw new CoordError(`${crontab} - refused the new crontab: ${firstLine(r.stderr) || `exit code ${r.code}`}; nothing was changed`, EXIT.FAILURE);
}

export function tableLines(table: string): string[] {
  return table === "" ? [] : table.replace(/\n$/, "").split("\n");
}

export const joinTable = (lines: string[]) => (lines.length ? lines.join("\n") + "\n" : "");

export async function cron(opts: ScheduleOptions, t: Target, schedule: string, env: NodeJS.ProcessEnv): Promise<ScheduleResult> {
  const line = await cronLine(t, schedule);
  const base: ScheduleResult = {
    kind: "cron",
    action: opts.action,
    dryRun: !!opts.dryRun,
    machine: t.machine,
    checkout: t.checkout,
    schedule,
    line,
    files: [],
    commands: [],
    changed: false,
    notes: [...t.notes],
  };
  if (opts.action === "print") return base;
  const crontab = await crontabCommand(env).catch((e: unknown) => {
    if (!opts.dryRun) throw e;
    base.notes.push((e as Error).message); // a dry run still shows the line it would write
    return undefined;
  });
  if (crontab === undefined) return opts.action === "install" ? { ...base, crontab: joinTable([line]), changed: true } : base;
  const current = await readCrontab(crontab, env);
  const mark = marker(t);
  const lines = tableLines(current);
  let next: string[];
  if (opts.action === "install") {
    const at = lines.findIndex((l) => isOurLine(l, mark));
    next = at < 0 ? [...lines, line] : lines.flatMap((l, i) => (i === at ? [line] : isOurLine(l, mark) ? [] : [l]));
  } else {
    next = lines.filter((l) => !isOurLine(l, mark));
    if (next.length === lines.length) base.notes.push(`the crontab has no coord line for ${t.checkout}; nothing to remove`);
  }
  const table = joinTable(next);
  const changed = table !== joinTable(lines);
  if (changed) {
    base.commands.push(`${crontab} -`);
    if (!opts.dryRun) await writeCrontab(crontab, env, table);
  }
  return { ...base, crontab: table, changed };
}

/** This checkout's active crontab line, if any. */
export async function installedCronLine(crontab: string, mark: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return tableLines(await readCrontab(crontab, env)).find((l) => isOurLine(l, mark));
}
