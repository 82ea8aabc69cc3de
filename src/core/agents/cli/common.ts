// What the adapters of agent CLIs (this directory, one file a CLI) share: how
// a JSON line of a CLI's output is read, and how the paths of its state are
// named. Pure.
import { clip } from "../../limits.js";

export type Json = Record<string, unknown>;
export type Env = Readonly<Record<string, string | undefined>>;

/** A JSON object from one line of output; undefined for anything else (a warning the CLI printed is kept in the log only). */
export function parseLine(text: string): Json | undefined {
  const t = text.trim();
  if (!t.startsWith("{")) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

export const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);
/** A string with something in it but spaces. */
export const word = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);
export const obj = (v: unknown): Json | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined);

/** Drops undefined fields, so a result carries only what the agent said. */
export function clean<T extends object>(r: T): T {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as T;
}

/** Tokens in and out from a usage object, summing the keys given; undefined when there are none. */
export function tokensOf(usage: Json | undefined, input: string[], output: string[]): { input: number; output: number } | undefined {
  if (!usage) return undefined;
  const sum = (keys: string[]) => keys.reduce((n, k) => n + (num(usage[k]) ?? 0), 0);
  const t = { input: sum(input), output: sum(output) };
  return t.input || t.output ? t : undefined;
}

export const firstLine = (text: string) => clip(text.trim().split("\n")[0] ?? "", 200);

/** The model flag, glued to its value: `--model=x`. */
export const modelFlag = (o: { model?: string }, flag = "--model") => (o.model ? [`${flag}=${o.model}`] : []);

/** The longest step published. */
export const MAX_STEP = 200;

/** A step in one line, at most MAX_STEP characters. */
export const oneLine = (text: string) => clip(text.replace(/\s+/g, " ").trim(), MAX_STEP);

/** Where a CLI's state is, for one home directory and environment. */
export interface StatePaths {
  env: Env;
  /** A path below the home directory. */
  at(path: string): string;
  /** `$variable/sub`, or `~/fallback/sub` when the variable is not set (XDG's rule). */
  xdg(variable: string, fallback: string, sub: string): string;
}

export function statePaths(home: string, env: Env): StatePaths {
  const at = (p: string) => `${home}/${p}`;
  return { env, at, xdg: (v, fallback, sub) => `${env[v] || at(fallback)}/${sub}` };
}

/** One file or directory of a CLI's configuration; `empty`: made so (a file's text, or a directory) when missing. */
export interface ConfigEntry {
  path: string;
  dir?: boolean;
  empty?: string;
}

/** Files of `dir`, made empty (`{}` for JSON) when `made` and missing. */
export const configFiles = (dir: string, names: string[], made: boolean): ConfigEntry[] =>
  names.map((n) => ({ path: `${dir}/${n}`, ...(made ? { empty: n.endsWith(".json") ? "{}\n" : "" } : {}) }));

/** Directories of `dir`, made when `made` and missing. */
export const configDirs = (dir: string, names: string[], made: boolean): ConfigEntry[] => names.map((n) => ({ path: `${dir}/${n}`, dir: true, ...(made ? { empty: "" } : {}) }));

/** A path in single quotes for sh. */
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Prints the prompt file, or nothing: a hook that fails must never block a prompt (exit 2 blocks one in Claude Code and Codex). */
export const catCommand = (promptFile: string) => `cat ${shellQuote(promptFile)} 2>/dev/null || true`;

/** What a tool call acts on, from its input: its command, file, path, URL, pattern, query or description (the first there is). */
export function toolTarget(input: unknown): string | undefined {
  const i = obj(input) ?? {};
  return word(i.command) ?? word(i.file_path) ?? word(i.filePath) ?? word(i.path) ?? word(i.url) ?? word(i.pattern) ?? word(i.query) ?? word(i.description);
}

/** A tool call in one line of at most `max` characters: "Bash: npm test", or the tool's name alone. */
export function toolLine(toolName: string, target: string | undefined, max: number): string {
  return clip(`${toolName}${target ? `: ${target}` : ""}`.replace(/\s+/g, " ").trim(), max);
}
