// coord cron print|install|uninstall: run `coord sync` on a schedule, from the
// user's crontab or from a systemd user timer. Only this checkout's line (or
// units) is ever written or removed; every other crontab line is kept as is.
import { cronProblem } from "../core/cron.js";
import { spawn } from "node:child_process";
import { access, constants, mkdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CoordError, EXIT } from "../errors.js";
import { loadConfig } from "../state/config.js";
import { exists } from "../state/files.js";
import { CRON_LOG } from "../state/logs.js";
import { stateDirOf } from "../state/paths.js";
import { template } from "../templates.js";

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
interface Target {
  machine: string;
  checkout: string;
  stateDir: string;
  node: string;
  cli: string;
  notes: string[];
}

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

async function target(dir: string): Promise<Target> {
  const stateDir = await stateDirOf(dir);
  const config = await loadConfig(stateDir);
  if (!config) throw new CoordError(`${dir} has no coord machine config; run coord init there first`, EXIT.USAGE);
  const checkout = await realpath(resolve(dir));
  const notes: string[] = [];
  let cli = join(PACKAGE_ROOT, "dist", "cli", "main.js");
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
function marker(t: Target): string {
  return `coord:${t.machine}:${t.checkout}`;
}

// ---------------------------------------------------------------- schedules

/** The schedule normalised (single spaces), or a usage error. */
export function checkSchedule(schedule: string): string {
  const s = schedule.trim().replace(/\s+/g, " ");
  const bad = cronProblem(s, { aliases: true });
  if (bad) throw new CoordError(`--schedule "${schedule}" is not a cron schedule: ${bad}; write it like "*/5 * * * *" (every 5 minutes)`, EXIT.USAGE);
  return s;
}

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

// ---------------------------------------------------------------- quoting

const PLAIN = /^[A-Za-z0-9_/.,:@+=-]+$/;

/** One word for /bin/sh. */
function shQuote(s: string): string {
  return PLAIN.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** One word of a systemd ExecStart= line (specifiers and variables escaped). */
function unitWord(s: string): string {
  const word = PLAIN.test(s) ? s : `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  return word.replace(/%/g, "%%").replace(/\$/g, () => "$$");
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (all, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`template placeholder ${all} has no value`);
    return v;
  });
}

// ---------------------------------------------------------------- running commands

export async function findOnPath(executable: string, path = process.env.PATH ?? ""): Promise<string | undefined> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, executable);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCommand(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 30_000): Promise<Ran> {
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

const firstLine = (s: string) =>
  s
    .split("\n")
    .map((l) => l.trim())
    .find(Boolean) ?? "";

// ---------------------------------------------------------------- cron

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
function isOurLine(line: string, mark: string): boolean {
  return !line.trimStart().startsWith("#") && line.trimEnd().endsWith(`# ${mark}`);
}

async function crontabCommand(env: NodeJS.ProcessEnv): Promise<string> {
  const crontab = await findOnPath("crontab", env.PATH);
  if (!crontab)
    throw new CoordError("no crontab command on PATH; install cron (for example apt install cron), or use a systemd user timer: coord cron install --systemd", EXIT.FAILURE);
  return crontab;
}

/** The user's crontab ("" when there is none yet). */
async function readCrontab(crontab: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = await runCommand(crontab, ["-l"], env).catch((e: Error) => {
    throw new CoordError(`could not run ${crontab} -l: ${e.message}`, EXIT.FAILURE);
  });
  if (r.code === 0) return r.stdout;
  if (/no crontab/i.test(r.stderr)) return "";
  throw new CoordError(`${crontab} -l failed: ${firstLine(r.stderr) || `exit code ${r.code}`}`, EXIT.FAILURE);
}

async function writeCrontab(crontab: string, env: NodeJS.ProcessEnv, table: string): Promise<void> {
  const r = await runCommand(crontab, ["-"], env, table).catch((e: Error) => {
    throw new CoordError(`could not run ${crontab} -: ${e.message}`, EXIT.FAILURE);
  });
  if (r.code !== 0) throw new CoordError(`${crontab} - refused the new crontab: ${firstLine(r.stderr) || `exit code ${r.code}`}; nothing was changed`, EXIT.FAILURE);
}

function tableLines(table: string): string[] {
  return table === "" ? [] : table.replace(/\n$/, "").split("\n");
}

const joinTable = (lines: string[]) => (lines.length ? lines.join("\n") + "\n" : "");

async function cron(opts: ScheduleOptions, t: Target, schedule: string, env: NodeJS.ProcessEnv): Promise<ScheduleResult> {
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

// ---------------------------------------------------------------- systemd

function unitDir(env: NodeJS.ProcessEnv): string {
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
async function unitOwner(path: string, mark: string): Promise<"ours" | "other" | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  return text.split("\n").some((l) => l.trim() === `# ${mark}`) ? "ours" : "other";
}

function ownerOf(text: string): string | undefined {
  return /^# coord:[^:\n]+:(.+)$/m.exec(text)?.[1];
}

async function systemd(opts: ScheduleOptions, t: Target, schedule: string, env: NodeJS.ProcessEnv): Promise<ScheduleResult> {
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
  const systemctl = await findOnPath("systemctl", env.PATH);
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

// ---------------------------------------------------------------- entry points

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
  const crontab = await findOnPath("crontab", env.PATH);
  if (!crontab) result.notes.push("no crontab command on PATH");
  else
    try {
      result.cron = tableLines(await readCrontab(crontab, env)).find((l) => isOurLine(l, mark));
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
