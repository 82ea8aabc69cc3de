// The process table, one module for every system coord runs on: Linux reads
// /proc, macOS asks `ps` and `lsof` (core/platform/processes.ts parses both
// and says what each can see). No other file reads /proc. Windows has
// neither: there every answer is "cannot tell" (undefined, or none found),
// which each caller already takes as such.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { readdir, readFile, readlink } from "node:fs/promises";
import { SANDBOXED_ENV } from "../core/agents/sandbox.js";
import {
  carries,
  commandName,
  isStartMark,
  linuxIdentity,
  linuxStart,
  linuxStartMs,
  PS_TABLE_ARGS,
  parseLsofCwd,
  parseProcStat,
  parsePsTable,
  procBootTime,
  procEnviron,
  type ProcessRow,
  psEnviron,
} from "../core/platform/processes.js";
import { system } from "./system.js";

/** How this system's process table is read: /proc, ps, or not at all. */
export type Way = "proc" | "ps" | "none";

let way: Way | undefined;
/** /proc where it answers for this very process; else ps on macOS and the BSDs; else none (Windows). */
function wayHere(): Way {
  if (way) return way;
  try {
    readFileSync("/proc/self/stat", "utf8");
    way = "proc";
  } catch {
    way = system() === "win32" ? "none" : "ps";
  }
  return way;
}

/** For the tests: read the table another system's way (ps runs on Linux too), or as found (undefined). */
export function useWay(w: Way | undefined): void {
  way = w;
}

/** A command's stdout, or undefined when it failed or is missing (bounded in time and size). */
function output(file: string, args: string[]): Promise<string | undefined> {
  return new Promise((done) =>
    execFile(file, args, { timeout: 5000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, LC_ALL: "C" } }, (error, stdout) => done(error ? undefined : String(stdout))),
  );
}

const validPid = (pid: number) => Number.isSafeInteger(pid) && pid > 1;
const bootTime = async () => procBootTime(await readFile("/proc/stat", "utf8").catch(() => ""));

/** One process's row, or undefined when there is none (or it cannot be told). */
async function row(pid: number): Promise<ProcessRow | undefined> {
  if (!validPid(pid)) return undefined;
  const w = wayHere();
  if (w === "proc") {
    const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
    const s = text === undefined ? undefined : parseProcStat(text);
    if (!s) return undefined;
    const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0").filter(Boolean);
    return { pid, ppid: s.ppid, state: s.state.slice(0, 1), start: linuxStart(await bootTime(), s.startTicks), command: argv.join(" ") };
  }
  if (w === "none") return undefined;
  const [r] = parsePsTable((await output("ps", ["-ww", "-o", PS_TABLE_ARGS[2]!, "-p", String(pid)])) ?? "");
  return r?.pid === pid ? r : undefined;
}

/**
 * When process `pid` started, as a string to compare (undefined: no such process, a zombie, or cannot be told). Linux:
 * the boot time and the ticks since boot, so a pid reused later, even after a reboot, is another process; macOS: ps's
 * `lstart` (to the second).
 */
export async function processStart(pid: number): Promise<string | undefined> {
  const r = await row(pid);
  return r && r.state !== "Z" && r.state !== "X" ? r.start : undefined;
}

/** This boot's id (it does not change while the system runs: kept once read), or undefined where it cannot be read. */
let bootId: string | undefined;
async function thisBoot(): Promise<string | undefined> {
  bootId ??= (await readFile("/proc/sys/kernel/random/boot_id", "utf8").catch(() => "")).trim() || undefined;
  return bootId;
}

/**
 * Process `pid`'s identity now; "gone" when there is no such process (its /proc entry is not there) or it is a zombie;
 * undefined when it cannot be told (no boot id, or its entry there but not readable).
 */
async function identityNow(pid: number): Promise<string | undefined> {
  if (wayHere() !== "proc") return undefined;
  if (!validPid(pid)) return "gone";
  const [stat, boot] = await Promise.all([
    readFile(`/proc/${pid}/stat`, "utf8").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" || e.code === "ESRCH" ? "" : undefined)),
    thisBoot(),
  ]);
  if (!boot || stat === undefined) return undefined;
  const s = parseProcStat(stat);
  return !s || s.state === "Z" || s.state === "X" ? "gone" : linuxIdentity(boot, s.startTicks);
}

/**
 * Process `pid` as no later process can be: this boot's id and the clock ticks from boot to its start (Linux only:
 * undefined elsewhere, or when there is none). Unlike a start time in wall-clock terms, a step of the clock (NTP at
 * boot, a VM resumed) does not change it, and after a reboot the boot's id differs even where the pid and ticks are
 * the same.
 */
export async function processIdentity(pid: number): Promise<string | undefined> {
  const id = await identityNow(pid);
  return id === "gone" ? undefined : id;
}

/**
 * A mark to know process `pid` again later (a service a daemon started, the daemon that supervises it): Linux its
 * identity (processIdentity); macOS, and Linux where the boot's id cannot be read, its start (processStart: ps's to
 * the second). Undefined when there is no such process or it cannot be told. */
export async function processMark(pid: number): Promise<string | undefined> {
  return (wayHere() === "proc" ? await processIdentity(pid) : undefined) ?? processStart(pid);
}

/**
 * Whether process `pid` is still the one `mark` was taken of (processMark, or processStart's start, as an older coord
 * recorded it): false when it is gone, a zombie, or another process that got the pid since; undefined when that
 * cannot be told here (no process table, or inside an agent's sandbox, whose /proc is its own).
 */
export async function isSameProcess(pid: number, mark: string): Promise<boolean | undefined> {
  if (process.env[SANDBOXED_ENV] || wayHere() === "none") return undefined;
  if (isStartMark(mark)) return (await processStart(pid)) === mark;
  const now = await identityNow(pid);
  return now === undefined ? undefined : now === mark;
}

/**
 * When process `pid` started, in ms since the epoch (Linux only: undefined elsewhere). In wall-clock terms: a step of
 * the clock moves it (only a `sync.owner` of an older coord, which names no identity, is checked by it).
 */
export async function startedAtMs(pid: number): Promise<number | undefined> {
  if (wayHere() !== "proc" || !validPid(pid)) return undefined;
  const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  const s = text === undefined ? undefined : parseProcStat(text);
  const boot = await bootTime();
  return s && boot !== undefined ? linuxStartMs(boot, s.startTicks) : undefined;
}

/** Whether process `pid` is a zombie, without waiting (Linux: /proc; elsewhere undefined: cannot tell at once). */
export function isZombieNow(pid: number): boolean | undefined {
  if (wayHere() !== "proc" || !validPid(pid)) return undefined;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"))?.state === "Z";
  } catch {
    return undefined;
  }
}

/** Process `pid`'s parent, or undefined. */
export async function parentOf(pid: number): Promise<number | undefined> {
  const p = (await row(pid))?.ppid;
  return p !== undefined && p > 0 ? p : undefined;
}

/** Process `pid`'s command line: Linux its argv; macOS its words (an argument holding a space comes apart). */
export async function argvOf(pid: number): Promise<string[]> {
  if (wayHere() === "proc") return validPid(pid) ? (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0").filter(Boolean) : [];
  return ((await row(pid))?.command ?? "").split(" ").filter(Boolean);
}

/** Process `pid`'s environment (this user's processes only), or undefined when it cannot be read. */
export async function environOf(pid: number): Promise<string[] | undefined> {
  if (!validPid(pid)) return undefined;
  const w = wayHere();
  if (w === "proc") {
    const block = await readFile(`/proc/${pid}/environ`, "utf8").catch(() => undefined);
    return block === undefined ? undefined : procEnviron(block);
  }
  if (w === "none") return undefined;
  const line = await output("ps", ["-E", "-ww", "-o", "command=", "-p", String(pid)]);
  return line === undefined || line.trim() === "" ? undefined : psEnviron(line.trim());
}

/**
 * Whether process `pid` carries `variable=value` in its environment: false when it does not or is gone, undefined
 * where that cannot be told (no process table here).
 */
export async function carriesMarker(pid: number, variable: string, value: string): Promise<boolean | undefined> {
  if (wayHere() === "none") return undefined;
  const env = await environOf(pid);
  return env !== undefined && carries(env, variable, value);
}

/**
 * The processes that carry `variable=value` in their environment, this one left out: what a run started, those it put
 * in sessions of their own included (codex runs each command in one). Linux: every process of this user; macOS: ps -E
 * of every process (this user's show their environment). None where there is no process table.
 */
export async function processesCarrying(variable: string, value: string): Promise<number[]> {
  const w = wayHere();
  const found: number[] = [];
  if (w === "proc") {
    const entries = await readdir("/proc").catch(() => [] as string[]);
    await Promise.all(
      entries.map(async (name) => {
        const pid = Number(name);
        if (!/^\d+$/.test(name) || pid === process.pid || pid <= 1) return;
        const block = await readFile(`/proc/${name}/environ`, "utf8").catch(() => "");
        if (block && carries(procEnviron(block), variable, value)) found.push(pid);
      }),
    );
  } else if (w === "ps") {
    const text = (await output("ps", ["-axE", "-ww", "-o", "pid=,command="])) ?? "";
    for (const line of text.split("\n")) {
      const m = /^\s*(\d+)\s(.*)$/.exec(line);
      const pid = Number(m?.[1]);
      if (m && pid !== process.pid && pid > 1 && carries(psEnviron(m[2]!), variable, value)) found.push(pid);
    }
  }
  return found.sort((a, b) => a - b);
}

/** Process `pid`'s working directory, or undefined. */
export async function cwdOf(pid: number): Promise<string | undefined> {
  if (!validPid(pid)) return undefined;
  const w = wayHere();
  if (w === "proc") return readlink(`/proc/${pid}/cwd`).catch(() => undefined);
  if (w === "none") return undefined;
  return parseLsofCwd((await output("lsof", ["-a", "-d", "cwd", "-p", String(pid), "-Fn"])) ?? "");
}

/** The processes whose program is named as `named` says (Linux: /proc/<pid>/comm; macOS: the command's first word). */
export async function processesNamed(named: (name: string) => boolean): Promise<number[]> {
  const w = wayHere();
  if (w === "proc") {
    const pids = (await readdir("/proc").catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
    const found: number[] = [];
    for (const pid of pids) if (named((await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "")).trim())) found.push(Number(pid));
    return found;
  }
  if (w === "none") return [];
  return parsePsTable((await output("ps", PS_TABLE_ARGS)) ?? "")
    .filter((r) => named(commandName(r.command)))
    .map((r) => r.pid);
}
