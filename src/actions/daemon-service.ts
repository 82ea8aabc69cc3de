// coord daemon install|uninstall: the daemon kept running by the system, so it
// survives a reboot and its own crash. A systemd user unit (Restart=on-failure)
// where the user's systemd answers, a launchd agent on macOS, a Task Scheduler
// task on Windows (at logon and every 5 minutes: started unless one runs), else
// two crontab lines that start it at reboot and again every 5 minutes if it died. The text
// is made in core/setup/daemon-service.ts from templates/; here it is written, run
// and removed. Only this checkout's unit, plist or lines are ever touched.
import { onPath } from "../platform/executables.js";
import { access, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import {
  type DaemonTarget,
  daemonCronLines,
  daemonMarker,
  daemonTargetProblem,
  daemonUnitName,
  daemonUnitText,
  launchdLabel,
  launchdPlistText,
  type LaunchdJob,
  parseLaunchctlPrint,
  parseSchtasksQuery,
  type ScheduledTaskState,
  scheduledTaskName,
  scheduledTaskXml,
} from "../core/setup/daemon-service.js";
import { windowsArg } from "../core/setup/service-text.js";
import { checkDaemonOptions, daemonRunning, ensureDaemon, readDaemonInfo, stopDaemon } from "../daemon/daemon.js";
import { STATE_VARIABLES } from "../core/agents/agents.js";
import { CoordError, EXIT } from "../errors.js";
import { template } from "../templates.js";
import { firstLine, runCommand, type ScheduleFile, target } from "./schedule/common.js";
import { crontabCommand, isOurLine, joinTable, readCrontab, tableLines, writeCrontab } from "./schedule/cron.js";
import { unitDir } from "./schedule/systemd.js";
import { system } from "../platform/system.js";

export type ServiceKind = "systemd" | "launchd" | "schtasks" | "cron";
export const SERVICE_KINDS: readonly ServiceKind[] = ["systemd", "launchd", "schtasks", "cron"];

export interface ServiceOptions {
  dir: string;
  action: "install" | "uninstall";
  /** Which way (default: launchd on macOS, the Task Scheduler on Windows, systemd where `systemctl --user` answers, else cron). */
  kind?: ServiceKind;
  /** The daemon's schedule and jitter (as for coord daemon start). */
  schedule?: string;
  jitter?: number;
  /** Say what would be written and run; change nothing. */
  dryRun?: boolean;
  /** Where PATH, HOME, XDG_CONFIG_HOME and USER come from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Default: this system (platform/system.ts). */
  platform?: NodeJS.Platform;
}

export interface ServiceResult {
  action: "install" | "uninstall";
  /** install: the way installed; uninstall: undefined. */
  kind?: ServiceKind;
  /** The ways found installed and removed (uninstall, or the other ways an install replaced). */
  removed: ServiceKind[];
  dryRun: boolean;
  machine: string;
  checkout: string;
  /** Files written (install) or removed (uninstall), with their content. */
  files: ScheduleFile[];
  /** cron: the lines written (install) or removed. */
  lines: string[];
  /** Commands run (or that would run), as shell text. */
  commands: string[];
  changed: boolean;
  notes: string[];
}

const DAEMON_OUT = "daemon.out";
/** The Task Scheduler's task as coord wrote it, in the checkout's state (Windows keeps its own copy once it is registered). */
const TASK_FILE = "daemon-task.xml";
/** Where systemd keeps the users who linger (their manager runs from boot, without a login). */
export const LINGER_DIR = "/var/lib/systemd/linger";

const userOf = (env: NodeJS.ProcessEnv) => env.USER || env.LOGNAME || userInfo().username;
export const launchAgentsDir = (env: NodeJS.ProcessEnv) => join(env.HOME || homedir(), "Library", "LaunchAgents");
const guiDomain = () => `gui/${process.getuid?.() ?? 501}`;
/** The Windows account the task runs as: DOMAIN\\name, as the installing shell says. */
const windowsUser = (env: NodeJS.ProcessEnv) => {
  const name = env.USERNAME || userOf(env);
  return env.USERDOMAIN ? `${env.USERDOMAIN}\\${name}` : name;
};
/** A file schtasks reads: UTF-16 with its byte order mark, as its XML says. */
const utf16 = (text: string) => Buffer.from(`\ufeff${text}`, "utf16le");
const readUtf16 = (p: string) =>
  readFile(p).then(
    (b) => (b[0] === 0xff && b[1] === 0xfe ? b.subarray(2).toString("utf16le") : b.toString("utf8")),
    () => undefined,
  );

async function daemonTarget(dir: string, env: NodeJS.ProcessEnv, opts: { schedule?: string; jitter?: number }) {
  const t = await target(dir);
  const dt: DaemonTarget = {
    machine: t.machine,
    checkout: t.checkout,
    stateDir: t.stateDir,
    node: t.node,
    cli: t.cli,
    path: env.PATH ?? "/usr/bin:/bin",
    // Where the agent CLIs keep their state, as this shell says (a service starts with none of it): not their secrets.
    env: Object.fromEntries(STATE_VARIABLES.flatMap((v) => (env[v] ? [[v, env[v]]] : []))),
    ...(opts.schedule !== undefined ? { schedule: opts.schedule } : {}),
    ...(opts.jitter !== undefined ? { jitter: opts.jitter } : {}),
  };
  const bad = daemonTargetProblem(dt);
  if (bad) throw new CoordError(bad, EXIT.USAGE);
  return { t, dt };
}

/** `systemctl --user …` and its exit code and output (code -1: it could not run). */
async function systemctl(bin: string, args: string[], env: NodeJS.ProcessEnv) {
  return runCommand(bin, ["--user", ...args], env, undefined, 60_000).catch((e: Error) => ({ code: -1, stdout: "", stderr: e.message }));
}

/** The systemctl binary when the user's systemd manager answers, else why not. */
export async function userSystemd(env: NodeJS.ProcessEnv): Promise<{ bin?: string; why?: string }> {
  const bin = await onPath("systemctl", env.PATH);
  if (!bin) return { why: "no systemctl on PATH" };
  const r = await systemctl(bin, ["show-environment"], env);
  return r.code === 0 ? { bin } : { why: `systemctl --user does not answer (${firstLine(r.stderr) || `exit code ${r.code}`})` };
}

async function chooseKind(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, notes: string[]): Promise<ServiceKind> {
  if (platform === "darwin") return "launchd";
  if (platform === "win32") return "schtasks";
  const s = await userSystemd(env);
  if (s.bin) return "systemd";
  notes.push(`${s.why}: the crontab keeps the daemon running instead`);
  return "cron";
}

const readOr = (p: string) => readFile(p, "utf8").catch(() => undefined);
const present = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

export async function daemonService(opts: ServiceOptions): Promise<ServiceResult> {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? system();
  checkDaemonOptions(opts);
  const { t, dt } = await daemonTarget(opts.dir, env, opts);
  const r: ServiceResult = {
    action: opts.action,
    removed: [],
    dryRun: !!opts.dryRun,
    machine: t.machine,
    checkout: t.checkout,
    files: [],
    lines: [],
    commands: [],
    changed: false,
    notes: [...t.notes],
  };
  const kind = opts.action === "install" ? (opts.kind ?? (await chooseKind(env, platform, r.notes))) : undefined;
  // An install replaces the other ways (two supervisors of one daemon fight); an uninstall removes all.
  for (const k of SERVICE_KINDS) if (k !== kind) await remove(k, dt, env, platform, r);
  if (opts.action === "uninstall") {
    if (!r.removed.length) r.notes.push(`no coord daemon service is installed for ${t.checkout}; nothing to remove`);
    else if (!r.dryRun && (await daemonRunning(dt.stateDir))) {
      const info = await readDaemonInfo(dt.stateDir);
      r.notes.push(`a daemon still runs for ${t.checkout}${info ? ` (pid ${info.pid})` : ""}: coord daemon stop stops it`);
    }
    return r;
  }
  r.kind = kind!;
  if (kind === "systemd") await installSystemd(dt, env, r);
  else if (kind === "launchd") await installLaunchd(dt, env, platform, r);
  else if (kind === "schtasks") await installSchtasks(dt, env, platform, r);
  else await installCron(dt, env, r);
  return r;
}

/** Runs each step of an install in turn; the first that fails ends it, saying which and what stands (`after`). */
async function runSteps(
  steps: string[][],
  run: (args: string[]) => Promise<{ code: number | null; stderr: string }>,
  shown: (args: string[]) => string,
  after: string,
): Promise<void> {
  for (const args of steps) {
    const ran = await run(args);
    if (ran.code !== 0) throw new CoordError(`${shown(args)} failed: ${firstLine(ran.stderr) || `exit code ${ran.code}`}; ${after}`, EXIT.FAILURE);
  }
}

/** Stops a daemon that runs outside the service (started by hand), so the service's own can take the lock. */
async function stopLoose(dt: DaemonTarget, r: ServiceResult): Promise<void> {
  if (!(await daemonRunning(dt.stateDir))) return;
  const info = await readDaemonInfo(dt.stateDir);
  r.notes.push(`${r.dryRun ? "would stop" : "stopped"} the daemon running outside the service${info ? ` (pid ${info.pid})` : ""}, so the service runs it`);
  if (!r.dryRun) await stopDaemon({ dir: dt.checkout });
}

async function installSystemd(dt: DaemonTarget, env: NodeJS.ProcessEnv, r: ServiceResult): Promise<void> {
  const unit = daemonUnitName(dt);
  const path = join(unitDir(env), unit);
  const content = daemonUnitText(await template("systemd/coord-daemon.service"), dt);
  const before = await readOr(path);
  if (before !== undefined && !before.split("\n").some((l) => l.trim() === `# ${daemonMarker(dt)}`))
    throw new CoordError(`${path} exists and was not written by coord for ${dt.checkout}; move it away first`, EXIT.USAGE);
  r.files.push({ path, content });
  r.changed = before !== content;
  const { bin, why } = await userSystemd(env);
  const active = bin ? (await systemctl(bin, ["is-active", unit], env)).code === 0 : false;
  const steps = [["daemon-reload"], ["enable", "--now", unit], ...(r.changed && active ? [["restart", unit]] : [])];
  const shown = (args: string[]) => `systemctl --user ${args.join(" ")}`;
  if (bin) r.commands = steps.map(shown);
  else r.notes.push(`${why}: the unit is written; run ${steps.map(shown).join(" && ")} where the user's systemd runs`);
  const user = userOf(env);
  if (!(await present(join(LINGER_DIR, user))))
    r.notes.push(`lingering is off for ${user}: the daemon starts at login, not at boot; to start it at boot: loginctl enable-linger ${user}`);
  r.notes.push(`output: journalctl --user -u ${unit}`);
  if (!active) await stopLoose(dt, r);
  if (r.dryRun) return;
  await mkdir(unitDir(env), { recursive: true });
  if (r.changed) await writeFile(path, content);
  if (bin) await runSteps(steps, (args) => systemctl(bin, args, env), shown, `${path} is written: run it yourself once the user's systemd answers`);
}

async function installLaunchd(dt: DaemonTarget, env: NodeJS.ProcessEnv, platform: NodeJS.Platform, r: ServiceResult): Promise<void> {
  const label = launchdLabel(dt);
  const path = join(launchAgentsDir(env), `${label}.plist`);
  const content = launchdPlistText(await template("launchd/coord-daemon.plist"), dt, join(dt.stateDir, DAEMON_OUT));
  const before = await readOr(path);
  r.files.push({ path, content });
  r.changed = before !== content;
  const launchctl = platform === "darwin" ? await onPath("launchctl", env.PATH) : undefined;
  const loaded = launchctl ? (await runCommand(launchctl, ["print", `${guiDomain()}/${label}`], env).catch(() => ({ code: -1 }))).code === 0 : false;
  const steps = [...(loaded && r.changed ? [["bootout", `${guiDomain()}/${label}`]] : []), ...(!loaded || r.changed ? [["bootstrap", guiDomain(), path]] : [])];
  const shown = (args: string[]) => `launchctl ${args.join(" ")}`;
  if (launchctl) r.commands = steps.map(shown);
  else r.notes.push(`no launchctl here: the plist is written; on the Mac run ${steps.map(shown).join(" && ")}`);
  if (!loaded) await stopLoose(dt, r);
  if (r.dryRun) return;
  await mkdir(launchAgentsDir(env), { recursive: true });
  if (r.changed) await writeFile(path, content);
  if (launchctl) await runSteps(steps, (args) => runCommand(launchctl, args, env).catch((e: Error) => ({ code: -1, stdout: "", stderr: e.message })), shown, `${path} is written`);
}

/** `schtasks` where this is Windows and it is on PATH. */
async function schtasksOf(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return platform === "win32" ? await onPath("schtasks", env.PATH) : undefined;
}
/** `schtasks …` and its exit code and output (code -1: it could not run). */
const schtasks = (bin: string, args: string[], env: NodeJS.ProcessEnv) =>
  runCommand(bin, args, env, undefined, 60_000).catch((e: Error) => ({ code: -1, stdout: "", stderr: e.message }));

async function installSchtasks(dt: DaemonTarget, env: NodeJS.ProcessEnv, platform: NodeJS.Platform, r: ServiceResult): Promise<void> {
  const name = scheduledTaskName(dt);
  const path = join(dt.stateDir, TASK_FILE);
  const content = scheduledTaskXml(await template("schtasks/coord-daemon.xml"), dt, windowsUser(env));
  r.files.push({ path, content });
  r.changed = (await readUtf16(path)) !== content;
  const bin = await schtasksOf(platform, env);
  const registered = bin ? (await schtasks(bin, ["/Query", "/TN", name], env)).code === 0 : false;
  const steps = [...(r.changed || !registered ? [["/Create", "/TN", name, "/XML", path, "/F"]] : []), ["/Run", "/TN", name]];
  const shown = (args: string[]) => `schtasks ${args.map(windowsArg).join(" ")}`;
  if (bin) r.commands = steps.map(shown);
  else r.notes.push(`no schtasks here: the task is written to ${path}; on the PC run ${steps.map(shown).join(" && ")}`);
  // A task has no environment of its own: it runs with the user's, as a new terminal has it.
  for (const [k, v] of Object.entries(dt.env ?? {}))
    r.notes.push(`${k} is set in this shell, but the task runs with your user's environment: setx ${k} ${windowsArg(v)} sets it there`);
  r.notes.push(`output: ${join(dt.stateDir, DAEMON_OUT)}`);
  if (r.dryRun) return;
  if (r.changed) await writeFile(path, utf16(content));
  if (bin) await runSteps(steps, (args) => schtasks(bin, args, env), shown, `${path} is written`);
}

async function installCron(dt: DaemonTarget, env: NodeJS.ProcessEnv, r: ServiceResult): Promise<void> {
  const lines = daemonCronLines(await template("cron/coord-daemon.crontab"), dt, join(dt.stateDir, DAEMON_OUT));
  r.lines = lines;
  const crontab = await crontabCommand(env).catch((e: Error) => {
    if (!r.dryRun) throw new CoordError(`${e.message.replace(/, or use a systemd user timer.*$/, "")}; or run the daemon under systemd or launchd`, EXIT.FAILURE);
    r.notes.push(e.message); // a dry run still shows the lines it would write
    return undefined;
  });
  if (!crontab) {
    r.changed = true;
    return;
  }
  const mark = daemonMarker(dt);
  const current = tableLines(await readCrontab(crontab, env));
  const at = current.findIndex((l) => isOurLine(l, mark));
  const kept = current.filter((l) => !isOurLine(l, mark));
  const next = at < 0 ? [...kept, ...lines] : [...kept.slice(0, at), ...lines, ...kept.slice(at)];
  r.changed = joinTable(next) !== joinTable(current);
  if (r.changed) r.commands.push(`${crontab} -`);
  if (r.dryRun) {
    r.notes.push("would start the daemon now unless one runs");
    return;
  }
  if (r.changed) await writeCrontab(crontab, env, joinTable(next));
  const started = await ensureDaemon({ dir: dt.checkout, ...(dt.schedule ? { schedule: dt.schedule } : {}), ...(dt.jitter !== undefined ? { jitter: dt.jitter } : {}) });
  r.notes.push(started.started ? `started the daemon (pid ${started.pid})` : `the daemon already runs (pid ${started.pid})`);
}

/** Removes one way, if this checkout has it installed; says what it did in r. */
async function remove(kind: ServiceKind, dt: DaemonTarget, env: NodeJS.ProcessEnv, platform: NodeJS.Platform, r: ServiceResult): Promise<void> {
  const say = (args: string[], bin: string) => r.commands.push(`${bin} ${args.join(" ")}`);
  if (kind === "systemd") {
    const unit = daemonUnitName(dt);
    const path = join(unitDir(env), unit);
    const text = await readOr(path);
    if (text === undefined || !text.split("\n").some((l) => l.trim() === `# ${daemonMarker(dt)}`)) return;
    r.removed.push(kind);
    r.files.push({ path, content: text });
    r.changed = true;
    const { bin, why } = await userSystemd(env);
    if (!bin) r.notes.push(`${why}: ${unit} is removed without it; run systemctl --user disable --now ${unit} where the user's systemd runs`);
    const steps = bin ? [["disable", "--now", unit]] : [];
    for (const s of steps) say(s, "systemctl --user");
    if (bin) say(["daemon-reload"], "systemctl --user");
    if (r.dryRun) return;
    for (const s of steps) {
      const ran = await systemctl(bin!, s, env);
      if (ran.code !== 0) r.notes.push(`systemctl --user ${s.join(" ")} failed: ${firstLine(ran.stderr) || `exit code ${ran.code}`}`);
    }
    await rm(path, { force: true });
    await rm(join(unitDir(env), "default.target.wants", unit), { force: true });
    if (bin) await systemctl(bin, ["daemon-reload"], env);
    return;
  }
  if (kind === "launchd") {
    const label = launchdLabel(dt);
    const path = join(launchAgentsDir(env), `${label}.plist`);
    const text = await readOr(path);
    if (text === undefined) return;
    r.removed.push(kind);
    r.files.push({ path, content: text });
    r.changed = true;
    const launchctl = platform === "darwin" ? await onPath("launchctl", env.PATH) : undefined;
    if (launchctl) say(["bootout", `${guiDomain()}/${label}`], "launchctl");
    if (r.dryRun) return;
    if (launchctl) await runCommand(launchctl, ["bootout", `${guiDomain()}/${label}`], env).catch(() => undefined); // not loaded: nothing to stop
    await rm(path, { force: true });
    return;
  }
  if (kind === "schtasks") {
    const name = scheduledTaskName(dt);
    const path = join(dt.stateDir, TASK_FILE);
    const text = await readUtf16(path);
    const bin = await schtasksOf(platform, env);
    const registered = bin ? (await schtasks(bin, ["/Query", "/TN", name], env)).code === 0 : false;
    if (text === undefined && !registered) return;
    r.removed.push(kind);
    if (text !== undefined) r.files.push({ path, content: text });
    r.changed = true;
    if (registered) say(["/Delete", "/TN", windowsArg(name), "/F"], "schtasks");
    if (r.dryRun) return;
    if (registered) {
      const ran = await schtasks(bin!, ["/Delete", "/TN", name, "/F"], env);
      if (ran.code !== 0) r.notes.push(`schtasks /Delete /TN ${windowsArg(name)} /F failed: ${firstLine(ran.stderr) || `exit code ${ran.code}`}`);
    }
    await rm(path, { force: true });
    const stopped = await stopDaemon({ dir: dt.checkout });
    if (stopped.wasRunning) r.notes.push(`stopped the daemon (pid ${stopped.pid}) the task had started`);
    return;
  }
  const crontab = await onPath("crontab", env.PATH);
  if (!crontab) return;
  const mark = daemonMarker(dt);
  let current: string[];
  try {
    current = tableLines(await readCrontab(crontab, env));
  } catch (e) {
    r.notes.push(`could not look for coord's crontab lines: ${(e as Error).message}`); // the other ways go on
    return;
  }
  const ours = current.filter((l) => isOurLine(l, mark));
  if (!ours.length) return;
  r.removed.push(kind);
  r.lines.push(...ours);
  r.changed = true;
  say(["-"], crontab);
  if (r.dryRun) return;
  await writeCrontab(crontab, env, joinTable(current.filter((l) => !isOurLine(l, mark))));
  const stopped = await stopDaemon({ dir: dt.checkout });
  if (stopped.wasRunning) r.notes.push(`stopped the daemon (pid ${stopped.pid}) the crontab had started`);
}

/** How this checkout's daemon survives a reboot, for coord doctor. */
export interface ServiceStatus {
  systemd?: { unit: string; path: string; enabled?: string; active?: string; why?: string; linger: boolean };
  /** `loaded`: what `launchctl print` says (false: not loaded; absent: no launchctl here). */
  launchd?: { label: string; path: string; loaded?: LaunchdJob | false };
  /** `registered`: what `schtasks /Query` says (false: not registered; absent: no schtasks here). */
  schtasks?: { name: string; path: string; registered?: ScheduledTaskState | false };
  cron?: string[];
  notes: string[];
}

export async function daemonServiceStatus(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<ServiceStatus> {
  const { dt } = await daemonTarget(dir, env, {});
  const s: ServiceStatus = { notes: [] };
  const unit = daemonUnitName(dt);
  const unitPath = join(unitDir(env), unit);
  const text = await readOr(unitPath);
  if (text?.split("\n").some((l) => l.trim() === `# ${daemonMarker(dt)}`)) {
    const { bin, why } = await userSystemd(env);
    const ask = async (what: string) => (bin ? (await systemctl(bin, [what, unit], env)).stdout.trim() || undefined : undefined);
    s.systemd = {
      unit,
      path: unitPath,
      ...(bin ? { enabled: (await ask("is-enabled")) ?? "unknown", active: (await ask("is-active")) ?? "unknown" } : { why: why! }),
      linger: await present(join(LINGER_DIR, userOf(env))),
    };
  }
  const plist = join(launchAgentsDir(env), `${launchdLabel(dt)}.plist`);
  if (await present(plist)) {
    s.launchd = { label: launchdLabel(dt), path: plist };
    const launchctl = await onPath("launchctl", env.PATH);
    if (launchctl) {
      const r = await runCommand(launchctl, ["print", `${guiDomain()}/${launchdLabel(dt)}`], env).catch(() => ({ code: -1, stdout: "" }));
      s.launchd.loaded = r.code === 0 ? parseLaunchctlPrint(r.stdout) : false;
    }
  }
  const taskFile = join(dt.stateDir, TASK_FILE);
  if (await present(taskFile)) {
    const name = scheduledTaskName(dt);
    s.schtasks = { name, path: taskFile };
    const bin = await onPath("schtasks", env.PATH);
    if (bin) {
      const r = await schtasks(bin, ["/Query", "/TN", name, "/FO", "CSV", "/NH"], env);
      s.schtasks.registered = r.code === 0 ? (parseSchtasksQuery(r.stdout) ?? { status: "registered" }) : false;
    }
  }
  const crontab = await onPath("crontab", env.PATH);
  if (crontab)
    try {
      const ours = tableLines(await readCrontab(crontab, env)).filter((l) => isOurLine(l, daemonMarker(dt)));
      if (ours.length) s.cron = ours;
    } catch (e) {
      s.notes.push((e as Error).message);
    }
  return s;
}

/** The result as people read it. */
export function formatService(r: ServiceResult): string {
  const out: string[] = [];
  const would = r.dryRun ? "would " : "";
  for (const k of r.removed) {
    const ending = k === "systemd" ? ".service" : k === "launchd" ? ".plist" : ".xml";
    const what = k === "cron" ? "the crontab lines" : (r.files.find((f) => f.path.endsWith(ending))?.path ?? `the task ${scheduledTaskName(r)}`);
    out.push(`${would}remove ${what}`);
  }
  if (r.action === "install") {
    if (r.kind === "cron") {
      if (r.dryRun) out.push(r.changed ? `would write these crontab lines:\n${r.lines.join("\n")}` : "the crontab lines are already as they should be");
      else out.push(`${r.changed ? "installed in the crontab" : "already in the crontab"}:\n${r.lines.join("\n")}`);
    } else {
      const f = r.files.at(-1)!;
      if (r.dryRun) out.push(`would write ${f.path}:\n${f.content.trimEnd()}`);
      else out.push(`${r.changed ? "wrote" : "unchanged"}: ${f.path}`);
    }
  }
  for (const c of r.commands) out.push(`${r.dryRun ? "would run" : "ran"}: ${c}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join("\n");
}
