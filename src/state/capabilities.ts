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

/** What was found, kept 10 minutes per process and PATH (a daemon sees a new agent CLI or git within that; a sync spends no time on it). */
const seen = new Map<string, { at: number; caps: Promise<Record<string, string>> }>();
const TTL_MS = 10 * 60_000;

export function detectCapabilities(dir: string): Promise<Record<string, string>> {
  const path = process.env.PATH ?? "";
  const hit = seen.get(path);
  if (hit && Date.now() - hit.at <= TTL_MS) return hit.caps.then((caps) => ({ ...caps }));
  const caps = detect(dir, path);
  seen.set(path, { at: Date.now(), caps });
  caps.catch(() => seen.delete(path));
  return caps.then((c) => ({ ...c }));
}

async function detect(dir: string, path: string): Promise<Record<string, string>> {
  const caps: Record<string, string> = {
    os: process.platform,
    arch: process.arch,
    node: process.versions.node,
  };
  const [git, ...found] = await Promise.all([
    // git missing would have failed long before this: no version is published then.
    gitVersion(dir).then(
      (v) => v.replace(/^git version\s*/, "").trim(),
      () => undefined,
    ),
    ...Object.values(AGENT_CLIS).map((exe) => onPath(exe, path)),
  ]);
  if (git) caps.git = git;
  Object.keys(AGENT_CLIS).forEach((agent, i) => {
    if (found[i]) caps[agent] = "installed";
  });
  return caps;
}
