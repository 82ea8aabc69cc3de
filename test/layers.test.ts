// The layers: cli → commands → actions → daemon → sync → state · runner · startup → git · platform → core.
// Each imports only the layers after it, and the core imports nothing of
// coord's but itself. A scan of the sources keeps it so.
import { readFile } from "node:fs/promises";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { SRC, sources } from "./sources.js";

/** Layers from the top down; state, runner and startup share a rank (none uses another but for the parse memo asking startup whether it is switched off). */
const RANK = new Map([
  ["cli", 7],
  ["commands", 6],
  // What commands, the MCP server and the page do (send, inbox, status, order, approve, on call's decisions): each once.
  ["actions", 5],
  ["daemon", 4],
  ["sync", 3],
  ["state", 2],
  ["startup", 2],
  ["runner", 2],
  ["git", 1],
  // The process table of each system (platform/processes.ts): below every layer that looks at processes, git's too.
  ["platform", 1],
  ["core", 0],
]);

/** The layer of a path under src/ ("top" for src/errors.ts and the like). */
const layerOf = (rel: string) => (rel.includes("/") ? rel.split("/")[0]! : "top");

/** `from → to` for each import that goes up a layer, or out of the core. */
function upwardImports(file: string, text: string): string[] {
  const from = layerOf(file);
  const found: string[] = [];
  for (const m of text.matchAll(/from\s+"(\.{1,2}\/[^"]+)"/g)) {
    const to = normalize(join(dirname(file), m[1]!));
    const target = layerOf(to);
    const up = (RANK.get(target) ?? -1) > (RANK.get(from) ?? 99);
    const outOfCore = from === "core" && target !== "core";
    if (up || outOfCore) found.push(`${file} imports ${to}`);
  }
  return found;
}

/** `from → to` for each import of a command (under commands/) that names another command or the page's view model. */
function sideImports(file: string, text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/from\s+"(\.{1,2}\/[^"]+)"/g)) {
    const to = normalize(join(dirname(file), m[1]!));
    if (layerOf(to) === "commands" || to === "core/status/ui-view.js") found.push(`${file} imports ${to}`);
  }
  return found;
}

describe("the layers", () => {
  it("no module imports a layer above its own, and the core imports only the core", async () => {
    const found: string[] = [];
    for (const path of await sources(SRC)) found.push(...upwardImports(relative(SRC, path), await readFile(path, "utf8")));
    expect(found).toEqual([]);
  });

  it("no command imports another command, nor the page's view model (an action or a rule they share lives below)", async () => {
    const found: string[] = [];
    for (const path of await sources(join(SRC, "commands"))) found.push(...sideImports(relative(SRC, path), await readFile(path, "utf8")));
    expect(found).toEqual([]);
  });

  it("the scan finds a command importing another and a command importing the view model", () => {
    expect(sideImports("commands/demo.ts", 'import { send } from "./messages.js";')).toEqual(["commands/demo.ts imports commands/messages.js"]);
    expect(sideImports("commands/ui.ts", 'import { chatView } from "../core/status/ui-view.js";')).toEqual(["commands/ui.ts imports core/status/ui-view.js"]);
    expect(sideImports("commands/demo.ts", 'import { send } from "../actions/messages.js";')).toEqual([]);
  });

  it("the scan finds an upward import and a core that reaches out", () => {
    expect(upwardImports("sync/sync.ts", 'import { x } from "../cli/main.js";')).toEqual(["sync/sync.ts imports cli/main.js"]);
    expect(upwardImports("core/machine/plan.ts", 'import { CoordError } from "../../errors.js";')).toEqual(["core/machine/plan.ts imports errors.js"]);
    expect(upwardImports("daemon/daemon.ts", 'import { sync } from "../sync/sync.js";')).toEqual([]);
  });
});
