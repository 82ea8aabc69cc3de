// The daemon kept running by the system (coord daemon install): the names and
// the text of a systemd user unit, a launchd plist, a Task Scheduler task, or
// the crontab lines of the fallback. Pure: the templates come in as text, the
// files go out as text.
import { createHash } from "node:crypto";
import { fill, shQuote, templateLines, unitWord, windowsArg, xmlText } from "./service-text.js";

/** What the installed daemon runs: this checkout, as this machine, with this node and coord. */
export interface DaemonTarget {
  machine: string;
  /** The checkout's absolute real path. */
  checkout: string;
  /** The checkout's state directory (.git/coord): daemon.out lives there. */
  stateDir: string;
  node: string;
  cli: string;
  /** PATH as the installing shell had it: git and agent CLIs are found as from there. */
  path: string;
  /** The variables that say where the agent CLIs keep their state, as the installing shell had them (none: their defaults). */
  env?: Readonly<Record<string, string>>;
  /** The daemon's schedule and jitter, when not the defaults. */
  schedule?: string;
  jitter?: number;
}

/** `<machine>-<8 hex of the checkout>`: two checkouts (of two fleets) never share a unit. */
export function serviceId(t: Pick<DaemonTarget, "machine" | "checkout">): string {
  return `${t.machine}-${createHash("sha256").update(t.checkout).digest("hex").slice(0, 8)}`;
}

export const daemonUnitName = (t: Pick<DaemonTarget, "machine" | "checkout">) => `coord-daemon-${serviceId(t)}.service`;
export const launchdLabel = (t: Pick<DaemonTarget, "machine" | "checkout">) => `dev.coord.daemon.${serviceId(t)}`;
/** The Task Scheduler's name of the task, in a folder of coord's. */
export const scheduledTaskName = (t: Pick<DaemonTarget, "machine" | "checkout">) => `\\coord\\daemon-${serviceId(t)}`;
/** How the unit file and the crontab lines say whose they are. */
export const daemonMarker = (t: Pick<DaemonTarget, "machine" | "checkout">) => `coord-daemon:${t.machine}:${t.checkout}`;

/** The daemon's options after `--dir <checkout>`. */
function options(t: DaemonTarget): string[] {
  return [...(t.schedule ? ["--schedule", t.schedule] : []), ...(t.jitter !== undefined ? ["--jitter", String(t.jitter)] : [])];
}

/** The command of the unit and the plist: the daemon in the foreground. */
export function daemonRunArgs(t: DaemonTarget): string[] {
  return [t.node, t.cli, "daemon", "run", "--dir", t.checkout, ...options(t)];
}

export function daemonUnitText(template: string, t: DaemonTarget): string {
  return fill(template, {
    machine: t.machine,
    marker_checkout: t.checkout,
    unit: daemonUnitName(t),
    description: `${t.checkout} (machine ${t.machine})`.replace(/%/g, "%%"),
    path: t.path.replace(/%/g, "%%"),
    environment: Object.entries(t.env ?? {})
      .map(([k, v]) => `\nEnvironment=${unitWord(`${k}=${v}`)}`)
      .join(""),
    exec: daemonRunArgs(t).map(unitWord).join(" "),
  });
}

export function launchdPlistText(template: string, t: DaemonTarget, log: string): string {
  return fill(template, {
    label: xmlText(launchdLabel(t)),
    arguments: daemonRunArgs(t)
      .map((a) => `\t\t<string>${xmlText(a)}</string>`)
      .join("\n"),
    path: xmlText(t.path),
    environment: Object.entries(t.env ?? {})
      .map(([k, v]) => `\n\t\t<key>${xmlText(k)}</key>\n\t\t<string>${xmlText(v)}</string>`)
      .join(""),
    checkout: xmlText(t.checkout),
    log: xmlText(log),
  });
}

/** What the crontab lines and the Task Scheduler's task run (after node): the daemon started in the background unless one runs. */
function daemonStartArgs(t: DaemonTarget): string[] {
  return [t.cli, "daemon", "start", "--if-not-running", "--dir", t.checkout, ...options(t)];
}

/** The crontab lines (at reboot, and every 5 minutes if it died) that start the daemon unless one runs. */
export function daemonCronLines(template: string, t: DaemonTarget, log: string): string[] {
  const start = [t.node, ...daemonStartArgs(t)].map(shQuote).join(" ");
  const vars = Object.entries(t.env ?? {}).map(([k, v]) => `${k}=${shQuote(v)} `);
  const values = { start: `PATH=${shQuote(t.path)} ${vars.join("")}${start} >> ${shQuote(log)} 2>&1`, machine: t.machine, marker_checkout: t.checkout };
  return templateLines(template).map((l) => fill(l, values));
}

/**
 * The Task Scheduler's task (schema 1.2, which schtasks /Create /XML reads): at the logon of `user`
 * (`DOMAIN\\name`) and every 5 minutes after, the daemon started unless one runs, as the crontab lines do (a task
 * has no output file of its own: the daemon's start writes daemon.out). It runs with the user's own environment,
 * as a new terminal has it.
 */
export function scheduledTaskXml(template: string, t: DaemonTarget, user: string): string {
  return fill(template, {
    uri: xmlText(scheduledTaskName(t)),
    description: xmlText(`coord daemon of ${t.checkout} (machine ${t.machine})`),
    user: xmlText(user),
    command: xmlText(t.node),
    arguments: xmlText(daemonStartArgs(t).map(windowsArg).join(" ")),
    checkout: xmlText(t.checkout),
  });
}

/** What `schtasks /Query /TN <name> /FO CSV /NH` says of a task: its status as Windows words it ("Ready", "Running", "Disabled", in the system's language) and its next run. */
export interface ScheduledTaskState {
  status: string;
  nextRun?: string;
}

/** The first row of schtasks' CSV answer (TaskName, Next Run Time, Status; quoted, "" inside), or undefined when there is none. */
export function parseSchtasksQuery(text: string): ScheduledTaskState | undefined {
  const line = text.split(/\r?\n/).find((l) => l.trim().startsWith('"'));
  if (!line) return undefined;
  const fields = [...line.trim().matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1]!.replace(/""/g, '"'));
  if (fields.length < 3) return undefined;
  const next = fields[1]!;
  return { status: fields[2]!, ...(next && next !== "N/A" ? { nextRun: next } : {}) };
}

/** Why a value cannot go into a crontab line or unit file, or undefined. */
export function daemonTargetProblem(t: DaemonTarget): string | undefined {
  if (/[\n\r%]/.test(t.path)) return "PATH has a newline or a %, which a crontab line cannot hold; run coord daemon install from a shell whose PATH has none";
  for (const [k, v] of Object.entries(t.env ?? {}))
    if (/[\n\r%]/.test(v)) return `${k} has a newline or a %, which a crontab line cannot hold; run coord daemon install from a shell where it has none`;
  if (t.schedule !== undefined && /[\n\r%]/.test(t.schedule)) return `--schedule ${JSON.stringify(t.schedule)} has a newline or a %`;
  return undefined;
}

/** What `launchctl print gui/<uid>/<label>` says of a loaded job: its state, its pid while it runs, its last exit code. */
export interface LaunchdJob {
  state?: string;
  pid?: number;
  lastExit?: string;
}

/**
 * `launchctl print`'s answer for one job (macOS 10.10 and later: "key = value" lines, nested blocks in braces): the
 * job's own state, pid and last exit code, from its top level (a nested block's lines are not the job's).
 */
export function parseLaunchctlPrint(text: string): LaunchdJob {
  const job: LaunchdJob = {};
  let depth = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.endsWith("{")) {
      depth++;
      continue;
    }
    if (line.startsWith("}")) {
      depth--;
      continue;
    }
    if (depth !== 1) continue;
    const m = /^([a-z ]+?) = (.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === "state") job.state = m[2];
    else if (m[1] === "pid" && /^\d+$/.test(m[2]!)) job.pid = Number(m[2]);
    else if (m[1] === "last exit code") job.lastExit = m[2];
  }
  return job;
}
