// The policy files of the agent CLIs that take one (core/agents/adapter.ts AgentCli.policy: Gemini CLI's admin
// policy): written in coord's state directory, which every agent sees read-only, and named on each command line of
// the level. Written again when coord's text changed (a new coord, or a file changed by hand).
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { AGENTS, type Permission } from "../core/agents/agents.js";
import { readIfExists, writeDurably } from "./files.js";

/** The policy file of `agent` at `permissions`, written if it is not as coord writes it; undefined when the level needs none. */
export async function agentPolicyFile(stateDir: string, agent: string, permissions: Permission | undefined): Promise<string | undefined> {
  const text = permissions ? AGENTS.get(agent)?.policy?.(permissions) : undefined;
  if (text === undefined) return undefined;
  const path = join(stateDir, "agent-policy", `${agent}.${permissions}.toml`);
  if ((await readIfExists(path, "reading an agent CLI's policy file")) !== text) {
    await mkdir(dirname(path), { recursive: true });
    await writeDurably(path, text);
  }
  return path;
}
