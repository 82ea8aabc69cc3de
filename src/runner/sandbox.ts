// Which sandbox this machine has for agents (core/agents/sandbox.ts says what
// it hides): bubblewrap on Linux, sandbox-exec on macOS, each tried once with
// the options coord gives it, since a tool that is installed may still be
// unable to make a namespace (a container without user namespaces, an
// AppArmor rule). What was found is kept 10 minutes per process.
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { BWRAP_PLACES, bwrapArgs, type SandboxTool, seatbeltProfile, trustedProgram } from "../core/agents/sandbox.js";
import { system } from "../platform/system.js";

const TTL_MS = 10 * 60_000;
let found: { at: number; tool: Promise<SandboxTool> } | undefined;

/** The sandbox tool this machine has and can use, or why none (kept 10 minutes). */
export function sandboxTool(now = Date.now()): Promise<SandboxTool> {
  if (!found || now - found.at > TTL_MS) found = { at: now, tool: findTool() };
  return found.tool;
}

/** Forgets what was found (a test that installs or removes the tool). */
export function forgetSandboxTool(): void {
  found = undefined;
}

/** Where `name` is on `path` (PATH's form), as execvp would find it; undefined when it is not. */

/** Runs `argv` (a trial of the tool), resolving to its first line of complaint, or undefined when it exited 0. */
function trial(argv: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: 10_000 }, (error, _stdout, stderr) => {
      if (!error) return resolve(undefined);
      const said = String(stderr).trim().split("\n")[0];
      resolve(said || error.message.split("\n")[0]);
    });
  });
}

/**
 * The first of the system's places that holds a bubblewrap only root can change. `COORD_TEST_BWRAP` (the tests')
 * names the one place to look instead; the rule on its owner still holds.
 */
async function systemBwrap(): Promise<string | undefined> {
  const places = process.env.COORD_TEST_BWRAP ? [process.env.COORD_TEST_BWRAP] : BWRAP_PLACES;
  for (const path of places) {
    const st = await stat(path).catch(() => undefined);
    if (st && trustedProgram({ uid: st.uid, mode: st.mode, isFile: st.isFile() })) return path;
  }
  return undefined;
}

async function findTool(platform = system()): Promise<SandboxTool> {
  if (platform === "linux") {
    const path = await systemBwrap();
    if (!path) return { kind: "none", why: `bubblewrap (bwrap) is not installed by the system (none of ${BWRAP_PLACES.join(", ")} is root's alone)` };
    const failed = await trial([path, ...bwrapArgs({ hide: [], guard: [], write: [] }, process.getuid?.() === 0), "--", "true"]);
    if (failed) return { kind: "none", why: `bubblewrap at ${path} cannot make a sandbox here: ${failed}` };
    return { kind: "bwrap", path };
  }
  if (platform === "darwin") {
    const path = "/usr/bin/sandbox-exec";
    const failed = await trial([path, "-p", seatbeltProfile({ hide: [], guard: [], write: [] }), "--", "/usr/bin/true"]);
    if (failed) return { kind: "none", why: `sandbox-exec cannot make a sandbox here: ${failed}` };
    return { kind: "seatbelt", path };
  }
  return { kind: "none", why: `there is no sandbox coord can use on ${platform}` };
}
