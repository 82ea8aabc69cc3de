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
