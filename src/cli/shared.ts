// What the command modules share: where output goes, the help text every
// command repeats, and the flag parsers that turn a bad value into one sentence.
import { shownLine } from "../core/files/shown.js";
import { type Command, Option } from "commander";
import { CoordError, EXIT } from "../errors.js";

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Set when `out` goes to a terminal: its size now (a window may be resized). Absent: a pipe, a file, a test. */
  terminal?: () => { rows?: number; columns?: number } | undefined;
}

/** The process's own output: stdout, stderr, and stdout's terminal when it is one. */
export const processIo: Io = {
  out: (s) => console.log(s),
  err: (s) => console.error(s),
  terminal: () => (process.stdout.isTTY ? { rows: process.stdout.rows, columns: process.stdout.columns } : undefined),
};

export const EXIT_CODES = `
Exit codes:
  0  done (sync: also when another sync was running in this checkout, so this one skipped)
  1  could not reach the remote, or another failure
  2  bad usage or configuration, or an order given on the command line is invalid (nothing changed)
  3  ORDERS.json is invalid (validate: the problems are printed; sync: it synced, but started no new task)`;

/** A whole number given for `flag`, or one sentence saying what to give. */
export function count(flag: string, value: string, least = 0): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < least)
    throw new CoordError(`${flag} must be a whole number, ${least} or more, not "${shownLine(value)}"`, EXIT.USAGE);
  return n;
}

/** The "Examples:" block of a command's help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
}

/** --dir, the option every command working on a checkout has (a new Option each time: commander owns it once added). */
export const dirOption = () => new Option("--dir <dir>", "the machine's checkout (default: $COORD_DIR, else the checkout around the current directory)");

/** A log line of a foreground loop (daemon run, watch): the time first. */
export const stamped =
  (io: Io) =>
  (line: string): void =>
    io.out(`${new Date().toISOString()} ${line}`);

/** All of stdin, as text (a message, a prompt or a secret given as -); invalid UTF-8 becomes U+FFFD. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A command whose last argument is text: an unknown option is most likely text that begins with "-", so the error is
 * one sentence saying to put it after -- (not the whole help).
 */
export function textAfterDashes(cmd: Command, usage: string): Command {
  (cmd as unknown as { unknownOption: (flag: string) => void }).unknownOption = (flag: string) => {
    throw new CoordError(`unknown option ${flag}; a text that begins with "-" goes after --: ${usage} -- "${flag}" (coord ${cmd.name()} --help lists the options)`, EXIT.USAGE);
  };
  return cmd;
}
