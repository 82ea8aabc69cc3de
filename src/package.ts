// Where coord is installed, found from this file whether it runs built
// (dist/package.js), bundled (dist/coord.mjs) or from the sources (tests):
// the nearest folder above with coord's package.json.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function packageRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start, up = dirname(dir); ; dir = up, up = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "templates"))) return dir;
    if (up === dir) throw new Error(`coord's package.json was not found in ${start} or above it; reinstall coord`);
  }
}

/** The installed package's folder (package.json, templates/, dist/). */
export const PACKAGE_ROOT = packageRoot();

export const VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;

/** The CLI a daemon start, a crontab line or a systemd unit runs: the bundle `npm run build` writes. */
export const CLI_PATH = join(PACKAGE_ROOT, "dist", "coord.mjs");
