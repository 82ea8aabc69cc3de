// coord cron print|install|uninstall: run `coord sync` on a schedule, from the
// user's crontab (schedule/cron.ts) or from a systemd user timer
// (schedule/systemd.ts). Only this checkout's line (or units) is ever written
// or removed; every other crontab line is kept as is.
import { onPath } from "../platform/executables.js";
import { join } from "node:path";
import { checkSchedule, DEFAULT_SCHEDULE, marker, type ScheduleOptions, type ScheduleResult, type ScheduleStatus, target } from "./schedule/common.js";
import { cron, installedCronLine } from "./schedule/cron.js";
import { systemd, unitDir, unitNames, unitOwner } from "./schedule/systemd.js";

export type {
  ScheduleAction,
  ScheduleFile,
  ScheduleKind,
  ScheduleOptions,
  ScheduleResult,
  ScheduleStatus,
} from "./schedule/common.js";

export async function schedule(opts: ScheduleOptions): Promise<ScheduleResult> {
  const env = opts.env ?? process.env;
  const s = checkSchedule(opts.schedule ?? DEFAULT_SCHEDULE);
  const t = await target(opts.dir);
  return opts.systemd ? systemd(opts, t, s, env) : cron(opts, t, s, env);
}

/** Which schedules (crontab line, systemd timer) are installed for this checkout. */
export async function scheduleStatus(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<ScheduleStatus> {
  const t = await target(dir);
  const mark = marker(t);
  const result: ScheduleStatus = { machine: t.machine, checkout: t.checkout, notes: [] };
  const crontab = await onPath("crontab", env.PATH);
  if (!crontab) result.notes.push("no crontab command on PATH");
  else
    try {
      result.cron = await installedCronLine(crontab, mark, env);
    } catch (e) {
      result.notes.push((e as Error).message);
    }
  const timer = join(unitDir(env), unitNames(t.machine).timer);
  if ((await unitOwner(timer, mark)) === "ours") result.systemd = timer;
  return result;
}

/** The result as people read it. */
export function formatSchedule(r: ScheduleResult): string {
  const out: string[] = [];
  const would = r.dryRun ? "would " : "";
  if (r.kind === "cron") {
    if (r.action === "print") out.push(r.line!);
    else if (r.dryRun) out.push(r.changed ? `would write this crontab:\n${r.crontab}`.trimEnd() : "the crontab is already as it should be; nothing to write");
    else if (r.action === "install") out.push(r.changed ? `installed in the crontab:\n${r.line}` : `already in the crontab:\n${r.line}`);
    else if (r.changed) out.push(`removed the coord line for ${r.checkout} from the crontab`);
  } else {
    if (r.action === "print" || (r.action === "install" && r.dryRun)) for (const f of r.files) out.push(`# ${f.path}\n${f.content.trimEnd()}`);
    else if (r.action === "install") out.push(`${r.changed ? "wrote" : "unchanged"}: ${r.files.map((f) => f.path).join(", ")}`);
    else if (r.changed) out.push(`${would}remove ${r.files.map((f) => f.path).join(", ")}`);
    if (r.action !== "print") for (const c of r.commands) out.push(`${r.dryRun ? "would run" : "ran"}: ${c}`);
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join("\n");
}
