// The real agent CLIs (Claude Code, Codex, OpenCode, Gemini CLI) that scripts/install-agent-clis.mjs put in the cache, pinned in
// scripts/agent-clis.json. A test that needs one it cannot find says it is skipped, with the name and the way to
// install it.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface RealCli {
  name: "claude" | "codex" | "opencode" | "gemini";
  version: string;
  /** The executable. */
  bin: string;
}

interface Pin {
  name: "claude" | "codex" | "opencode" | "gemini";
  package: string;
  version: string;
  bin: string;
}

const pins = (JSON.parse(readFileSync(new URL("../scripts/agent-clis.json", import.meta.url), "utf8")) as { clis: Pin[] }).clis;

/**
 * Where the CLIs are installed: as scripts/install-agent-clis.mjs puts them, under the HOME it ran with. The tests'
 * HOME is an empty one per file (test/setup.ts), so vitest.config.ts names the cache before they start.
 */
export const agentClisCache = (): string => process.env.COORD_AGENT_CLIS || join(homedir(), ".cache", "coord-agent-clis");

/** The pinned versions of one CLI, newest first as pinned. */
export const pinnedVersions = (name: RealCli["name"]): string[] => pins.filter((p) => p.name === name).map((p) => p.version);

/** One pinned CLI as installed, or why it is not there (for a skip's name). */
export function realCli(name: RealCli["name"], version = pinnedVersions(name)[0]!): RealCli | { missing: string } {
  const pin = pins.find((p) => p.name === name && p.version === version);
  if (!pin) return { missing: `${name} ${version} is not pinned in scripts/agent-clis.json` };
  const bin = join(agentClisCache(), `${name}@${version}`, "node_modules", ".bin", pin.bin);
  if (!existsSync(bin)) return { missing: `${name} ${version} not installed (node scripts/install-agent-clis.mjs)` };
  return { name, version, bin };
}

/**
 * Whether coord's MCP server for checkout `dir` runs (an open session of a real CLI started it: `node coord.mjs mcp
 * --dir <dir>`). The CLIs connect their MCP servers after the session starts; a wake before that would find no coord
 * tools to answer with.
 */
export function mcpServing(dir: string): true | undefined {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const at = args.indexOf("mcp");
      if (at > 0 && args[at + 1] === "--dir" && args[at + 2] === dir) return true;
    } catch {}
  }
  return undefined;
}
