// Which `coord sync` command lines src/cli/entry.ts may answer quietly (the rest go to the CLI).
import { resolve } from "node:path";

/** The checkout of a `coord sync` that may be quiet: only `--dir D` (or $COORD_DIR), `--scheduled` and `--json` given. */
export function quietCandidate(argv: string[], env: NodeJS.ProcessEnv = process.env): { dir: string; scheduled: boolean; json: boolean } | undefined {
  if (argv[0] !== "sync") return undefined;
  let dir: string | undefined;
  let scheduled = false;
  let json = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--scheduled") scheduled = true;
    else if (a === "--json") json = true;
    else if (a === "--dir" && argv[i + 1] !== undefined) dir = argv[++i];
    else if (a.startsWith("--dir=")) dir = a.slice("--dir=".length);
    else return undefined; // anything else (--dry-run, --no-run, --help, a typo): the CLI handles it
  }
  dir ??= env.COORD_DIR;
  return dir ? { dir: resolve(dir), scheduled, json } : undefined;
}

/** init's options that take a value, and those that do not: a command line with any other starts no early clone. */
const INIT_VALUES = new Set(["--name", "--remote", "--branch", "--heartbeat"]);
const INIT_FLAGS = new Set(["--reclaim", "--cron", "--systemd"]);

/**
 * The clone a `coord init <dir> --name N --remote R [--branch B] …` will make,
 * to start before the CLI loads (src/startup/early-clone.ts); undefined for
 * any other command line (the CLI says what is wrong with it).
 */
export function initCandidate(argv: string[]): { dir: string; remote: string; branch: string } | undefined {
  if (argv[0] !== "init") return undefined;
  const dirs: string[] = [];
  const values = new Map<string, string>();
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf("=");
    const [name, inline] = a.startsWith("--") && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    if (INIT_FLAGS.has(a)) continue;
    if (INIT_VALUES.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === "" || value.startsWith("-") || values.has(name)) return undefined;
      values.set(name, value);
    } else if (a.startsWith("-")) return undefined;
    else dirs.push(a);
  }
  const remote = values.get("--remote");
  if (dirs.length !== 1 || !remote || !values.has("--name")) return undefined;
  return { dir: resolve(dirs[0]!), remote, branch: values.get("--branch") ?? "main" };
}
