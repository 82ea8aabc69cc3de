// What a crontab line and a systemd timer share: the machine and checkout a
// schedule runs, its cron fields checked, and running crontab or systemctl.
import { spawn } from "node:child_process";
import { realpath } from "node:fs/promises";
import { resolve } from "node:path";
import { CLI_PATH, PACKAGE_ROOT } from "../../package.js";
import { cronProblem } from "../../core/time/cron.js";
import { CoordError, EXIT } from "../../errors.js";
import { loadConfig } from "../../state/config.js";
import { exists } from "../../state/files.js";
import { stateDirOf } from "../../state/paths.js";

export type ScheduleAction = "print" | "install" | "uninstall";
export type ScheduleKind = "cron" | "systemd";

export const DEFAULT_SCHEDULE = "*/5 * * * *";

export interface ScheduleOptions {
  dir: string;
  action: ScheduleAction;
  /** Say what would be written and run; change nothing. */
  dryRun?: boolean;
  /** Five cron fields (default every 5 minutes). */
  schedule?: string;
  /** A systemd user timer instead of a crontab line. */
  systemd?: boolean;
  /** Where PATH (crontab, systemctl), XDG_CONFIG_HOME and HOME come from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface ScheduleFile {
  path: string;
  /** The content written (install, print) or removed (uninstall). */
  content: string;
}

export interface ScheduleResult {
  kind: ScheduleKind;
  action: ScheduleAction;
  dryRun: boolean;
  machine: string;
  checkout: string;
  /** The schedule as cron fields. */
  schedule: string;
  /** cron: this checkout's line. */
  line?: string;
  /** cron install/uninstall: the whole crontab as written (or as it would be with dryRun). */
  crontab?: string;
  /** systemd: the unit files written (or that would be) by install and print, removed by uninstall. */
  files: ScheduleFile[];
  /** Commands run (or that would run with dryRun), as shell text. */
  commands: string[];
  /** Whether anything changed (or would change): false when already installed as is, or nothing to remove. */
  changed: boolean;
  /** Things a person should know (systemctl missing, lingering, CLI not built). */
  notes: string[];
}

export interface ScheduleStatus {
  machine: string;
  checkout: string;
  /** This checkout's active crontab line, when there is one. */
  cron?: string;
  /** The path of this checkout's systemd timer unit, when there is one. */
  systemd?: string;
  /** Why a kind could not be checked (no crontab command, crontab -l failed). */
  notes: string[];
}

/** What a schedule runs: this checkout, as this machine, with this node and coord. */
export interface Target {
  machine: string;
  checkout: string;
  stateDir: string;
  node: string;
  cli: string;
  notes: string[];
}

export async function target(dir: string): Promise<Target> {
  const stateDir = await stateDirOf(dir);
  const config = await loadConfig(stateDir);
  if (!config) throw new CoordError(`${dir} has no coord machine config; run coord init there first`, EXIT.USAGE);
  const checkout = await realpath(resolve(dir));
  const notes: string[] = [];
  let cli = CLI_PATH;
  if (await exists(cli)) cli = await realpath(cli);
  else notes.push(`${cli} does not exist yet: run npm run build in ${PACKAGE_ROOT} before the first scheduled sync`);
  for (const [what, p] of [
    ["the checkout", checkout],
    ["the state directory", stateDir],
    ["node", process.execPath],
    ["coord", cli],
  ] as const)
    if (/[\n\r%]/.test(p) || p !== p.trim())
      throw new CoordError(`the path of ${what} (${JSON.stringify(p)}) has a newline, a % or a space at an end, which a schedule cannot hold; move it`, EXIT.USAGE);
  return { machine: config.name, checkout, stateDir, node: process.execPath, cli, notes };
}

/** `coord:<machine>:<checkout>`: how a line or unit says whose it is. */
export function marker(t: Target): string {
  return `coord:${t.machine}:${t.checkout}`;
}

/** The schedule normalised (single spaces), or a usage error. */
export function checkSchedule(schedule: string): string {
  const s = schedule.trim().replace(/\s+/g, " ");
  const bad = cronProblem(s, { aliases: true });
  if (bad) throw new CoordError(`--schedule "${schedule}" is not a cron schedule: ${bad}; write it like "*/5 * * * *" (every 5 minutes)`, EXIT.USAGE);
  return s;
}

export { fill, PLAIN } from "../../core/setup/service-text.js";

// ---------------------------------------------------------------- running commands

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCommand(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 30_000): Promise<Ran> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { env, stdio: ["pipe", "pipe", "pipe"], timeout: timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.stdin.on("error", () => {}); // a command that exits without reading its input
    child.on("close", (code, signal) => resolvePromise({ code: signal ? null : code, stdout, stderr: signal ? `${stderr}killed by ${signal} (timed out?)` : stderr }));
    child.stdin.end(input ?? "");
  });
}

/** The first line with text of a command's output. */
export const firstLine = (s: string) =>
  s
    .split("\n")
    .map((l) => l.trim())
    .find(Boolean) ?? "";
