// Colour in the terminal: whether to use it (a terminal, NO_COLOR, TERM=dumb,
// FORCE_COLOR), and the few styles the views use. Pure: the caller says
// whether its output is a terminal and passes the environment.
//
// Not node:util styleText: on Node 20 it decides by process.stdout itself
// (not the stream coord writes to), and skips that check for a list of
// styles; the rule here is the same on every Node and for every stream.
import type { Presence } from "../fleet/presence.js";
import type { TaskState } from "../types.js";

export type Tone = "red" | "yellow" | "green" | "cyan" | "magenta" | "dim" | "bold";

/** SGR codes: on, off. */
const SGR: Record<Tone, [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  bold: [1, 22],
  dim: [2, 22],
};

/**
 * Whether to colour: FORCE_COLOR set (not "0" or "false") says yes, whatever
 * else; then NO_COLOR (any non-empty value) or TERM=dumb say no; else only
 * when the output is a terminal.
 */
export function colourWanted(isTTY: boolean, env: Record<string, string | undefined>): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force.toLowerCase() !== "false";
  if (env.NO_COLOR) return false;
  if (env.TERM === "dumb") return false;
  return isTTY;
}

/** Styles text with a tone, or returns it as it is when colour is off. */
export type Paint = (tone: Tone | undefined, text: string) => string;

export const plain: Paint = (_tone, text) => text;

export const coloured: Paint = (tone, text) => {
  if (!tone || text === "") return text;
  const [on, off] = SGR[tone];
  return `\x1b[${on}m${text}\x1b[${off}m`;
};

export const paintFor = (on: boolean): Paint => (on ? coloured : plain);

/** SGR sequences (what `coloured` writes), for measuring and for tests. */
const SGR_SEQUENCE = /\x1b\[[0-9;]*m/g;

/** Text without its colours. */
export function stripColour(text: string): string {
  return text.replace(SGR_SEQUENCE, "");
}

/** Characters on screen (colours take none). */
export function visibleLength(text: string): number {
  return stripColour(text).length;
}

/** `text` cut to `columns` characters on screen, "…" at the cut; its colours kept, and reset after a cut. */
export function clipVisible(text: string, columns: number): string {
  if (visibleLength(text) <= columns) return text;
  let out = "";
  let shown = 0;
  let styled = false;
  for (let i = 0; i < text.length; ) {
    const sgr = /^\x1b\[[0-9;]*m/.exec(text.slice(i));
    if (sgr) {
      out += sgr[0];
      styled = true;
      i += sgr[0].length;
      continue;
    }
    if (shown === columns - 1) break;
    out += text[i];
    shown++;
    i++;
  }
  return `${out}…${styled ? "\x1b[0m" : ""}`;
}

/** A task's state: failed and rejected red, completed green, running cyan, waiting yellow. */
export const STATE_TONE: Record<TaskState, Tone | undefined> = {
  failed: "red",
  rejected: "red",
  blocked: "yellow",
  completed: "green",
  in_progress: "cyan",
  assigned: "cyan",
  queued: undefined,
  cancelled: "dim",
};

/** A machine's presence: offline red, stale yellow, online green. */
export const PRESENCE_TONE: Record<Presence, Tone> = { online: "green", stale: "yellow", offline: "red" };
