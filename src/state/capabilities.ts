// What this machine can do, as published in its file: os, arch, node, git, and
// the agent CLIs found on PATH.
import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { gitVersion } from "../git/local.js";

/** Agent name → the executable its CLI installs. */
export const AGENT_CLIS: Record<string, string> = {
  claude: "claude",
  opencode: "opencode",
  cursor: "cursor-agent",
  codex: "codex",
  gemini: "gemini",
};

export async function onPath(executable: string, path = process.env.PATH ?? ""): Promise<boolean> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    try {
      await access(join(dir, executable), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

export async function detectCapabilities(dir: string): Promise<Record<string, string>> {
  const caps: Record<string, string> = {
    os: process.platform,
    arch: process.arch,
    node: process.versions.node,
  };
  try {
    const v = await gitVersion(dir);
    caps.git = v.replace(/^git version\s*/, "").trim();
  } catch {
    // git missing would have failed long before this
  }
  for (const [agent, exe] of Object.entries(AGENT_CLIS)) if (await onPath(exe)) caps[agent] = "installed";
  return caps;
}
