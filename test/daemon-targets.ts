// The targets of coord daemon install the daemon-service tests render (a plain one, and one whose checkout holds
// every character a unit file, a plist or a crontab line must quote), and the templates they render.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { DaemonTarget } from "../src/core/setup/daemon-service.js";

const TEMPLATES = join(import.meta.dirname, "..", "templates");
export const tpl = (name: string) => readFile(join(TEMPLATES, name), "utf8");

export const plain: DaemonTarget = {
  machine: "alpha",
  checkout: "/home/pat/fleet",
  stateDir: "/home/pat/fleet/.git/coord",
  node: process.execPath,
  cli: "/opt/coord/dist/coord.mjs",
  path: "/usr/local/bin:/usr/bin:/bin",
};
export const odd: DaemonTarget = {
  ...plain,
  machine: "beta-2",
  checkout: "/home/pat/it's a <fleet> & $HOME 100%",
  stateDir: "/home/pat/it's a <fleet> & $HOME 100%/.git/coord",
  schedule: "*/2 * * * *",
  jitter: 10,
  // Where the agent CLIs keep their state, as the installing shell said: carried into the service.
  env: { CODEX_HOME: '/home/pat/it\'s "codex" <home> & $HOME', XDG_CONFIG_HOME: "/home/pat/.config" },
};
/** A crontab line cannot hold a % (the edge refuses such a path): the same without it. */
export const oddCron: DaemonTarget = { ...odd, checkout: "/home/pat/it's a <fleet> & $HOME", stateDir: "/home/pat/it's a <fleet> & $HOME/.git/coord" };

/** A Windows PC's target: drive letters, backslashes, a space and a quote in the checkout (the Task Scheduler's task). */
export const windows: DaemonTarget = {
  machine: "pc-1",
  checkout: 'C:\\Users\\Pat Doe\\my "fleet"\\',
  stateDir: 'C:\\Users\\Pat Doe\\my "fleet"\\.git\\coord',
  node: "C:\\Program Files\\nodejs\\node.exe",
  cli: "C:\\Users\\Pat Doe\\AppData\\Roaming\\npm\\node_modules\\coord\\dist\\coord.mjs",
  path: "C:\\Windows\\system32;C:\\Program Files\\nodejs",
  schedule: "*/2 * * * *",
};
