// The process table as each system shows it, read: Linux's /proc files and
// macOS's `ps` and `lsof` output, parsed. Pure: platform/processes.ts reads
// them and calls these (issue 68: a turn's processes, a reused pid, a git at
// work in a checkout, a session's parent, a daemon's PATH, on both systems).
//
// What each can see: /proc gives every process of the machine (and of the pid
// namespace) with its state, parent, start in clock ticks since boot, command
// line, working directory and, for this user's processes, its environment.
// macOS's ps gives every process with its state, parent, start to the second
// and command line; its environment only for this user's processes (`ps -E`,
// appended to the command line with spaces: a value holding a space is cut
// there); lsof gives a process's working directory.

/** One row of the process table. */
export interface ProcessRow {
  pid: number;
  ppid: number;
  /** The first letter of its state: R, S, D, Z (a zombie), T, I, U… */
  state: string;
  /** When it started, to compare (a pid reused later is another start). */
  start: string;
  /** Its command line as the system shows it (macOS: one string, arguments joined by spaces). */
  command: string;
}

/** The fields of /proc/<pid>/stat coord reads: the state, the parent, the start in clock ticks since boot. */
export function parseProcStat(text: string): { state: string; ppid: number; startTicks: string } | undefined {
  // After the command name in parentheses (which may hold spaces and parentheses): the state, then field 22 is the 20th.
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const fields = text
    .slice(close + 2)
    .trim()
    .split(" ");
  const ppid = Number(fields[1]);
  const startTicks = fields[19];
  if (!fields[0] || !Number.isInteger(ppid) || startTicks === undefined || !/^\d+$/.test(startTicks)) return undefined;
  return { state: fields[0], ppid, startTicks };
}

/** The boot time of /proc/stat (seconds since the epoch), or undefined. */
export const procBootTime = (text: string): number | undefined => {
  const boot = /^btime (\d+)$/m.exec(text)?.[1];
  return boot === undefined ? undefined : Number(boot);
};

/**
 * A start as processStart compares it: Linux's boot time and ticks; macOS's ps `lstart` as it prints it. Linux's boot
 * time is the wall clock less the time since boot, so it moves with each step of the clock (NTP, a VM resumed): a
 * mark to know a process again is its identity (below), not this.
 */
export const linuxStart = (boot: number | undefined, ticks: string): string => `linux:${boot ?? "?"}:${ticks}`;
export const psStart = (lstart: string): string => `ps:${lstart.trim().replace(/\s+/g, " ")}`;

/** Linux's clock ticks a second (USER_HZ): 100 on every architecture Linux runs coord on. */
export const LINUX_TICKS = 100;

/** When a Linux process started, in ms since the epoch (moved by a step of the clock, as the boot time is). */
export const linuxStartMs = (boot: number, ticks: string): number => boot * 1000 + (Number(ticks) * 1000) / LINUX_TICKS;

/** A Linux process as no later one is: this boot's id (/proc/sys/kernel/random/boot_id) and its start in ticks since boot. */
export const linuxIdentity = (bootId: string, ticks: string): string => `${bootId}/${ticks}`;

/** Whether a recorded mark is a start (linuxStart, psStart: compared with a start now), not a Linux identity. */
export const isStartMark = (mark: string): boolean => mark.startsWith("linux:") || mark.startsWith("ps:");

/** The columns processTable asks macOS's ps for: `ps -axww -o pid=,ppid=,stat=,lstart=,command=`. */
export const PS_TABLE_ARGS = ["-axww", "-o", "pid=,ppid=,stat=,lstart=,command="];

/**
 * Rows of `ps -axww -o pid=,ppid=,stat=,lstart=,command=` (macOS and the BSDs; procps on Linux prints the same): the
 * start (`lstart`) is five words, "Sun Nov 29 10:20:01 2026"; lines it cannot read are left out.
 */
export function parsePsTable(text: string): ProcessRow[] {
  const rows: ProcessRow[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\w{3}\s+\w{3}\s+\d{1,2}\s+\d{1,2}:\d{2}:\d{2}\s+\d{4})\s?(.*)$/.exec(line);
    if (!m) continue;
    rows.push({ pid: Number(m[1]), ppid: Number(m[2]), state: m[3]!.slice(0, 1), start: psStart(m[4]!), command: m[5] ?? "" });
  }
  return rows;
}

/** The entries of an environment: /proc/<pid>/environ's NUL-separated block. */
export const procEnviron = (block: string): string[] => block.split("\0").filter(Boolean);

/**
 * The environment entries on a line of macOS's `ps -E -ww -o command=`: the words after the command line that look
 * like NAME=value (the command line's own words of that shape too: a marker is looked for as a whole word, which a
 * command line would have to hold on purpose).
 */
export const psEnviron = (line: string): string[] => line.split(" ").filter((w) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w));

/** The working directory in `lsof -a -d cwd -p <pid> -Fn` output: its `n` line. */
export function parseLsofCwd(text: string): string | undefined {
  const line = text.split("\n").find((l) => l.startsWith("n"));
  return line ? line.slice(1) : undefined;
}

/** The command name of a macOS ps command line: its first word's last path part. */
export const commandName = (command: string): string => (command.split(" ")[0] ?? "").split("/").pop() ?? "";

/** Whether an environment carries `variable=value`. */
export const carries = (environ: readonly string[], variable: string, value: string): boolean => environ.includes(`${variable}=${value}`);
