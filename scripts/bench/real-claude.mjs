// The real Claude Code for the bench's rows 17 and 18: the newest pinned in scripts/agent-clis.json, as
// scripts/install-agent-clis.mjs put it in the cache (test/real-clis.ts finds it the same way for the tests), pointed at
// the scripted Anthropic Messages API on loopback (scripts/anthropic-server.mjs): no account, no internet.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { chmodSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { claudeEnv } from "../anthropic-server.mjs";

const pins = JSON.parse(readFileSync(new URL("../agent-clis.json", import.meta.url), "utf8")).clis;

/** Where the CLIs are installed: as scripts/install-agent-clis.mjs puts them (COORD_AGENT_CLIS, else under HOME). */
const cache = () => process.env.COORD_AGENT_CLIS || join(homedir(), ".cache", "coord-agent-clis");

/** The newest pinned claude as installed: { version, bin }, or { missing: why } (the way to install it said). */
export function newestClaude() {
  const pin = pins.find((p) => p.name === "claude");
  if (!pin) return { missing: "no claude is pinned in scripts/agent-clis.json" };
  const bin = join(cache(), `claude@${pin.version}`, "node_modules", ".bin", pin.bin);
  if (!existsSync(bin)) return { missing: `claude ${pin.version} is not installed (node scripts/install-agent-clis.mjs)` };
  return { version: pin.version, bin };
}

/**
 * Writes `claude` into `binDir`: a script that runs the real one at `bin` with `server`'s address and key and `home`
 * as its HOME, whoever starts it (a daemon on call inherits only its own environment; the script brings the rest).
 */
export function realClaudeOnPath(binDir, bin, server, home) {
  mkdirSync(binDir, { recursive: true });
  mkdirSync(home, { recursive: true });
  const env = Object.entries(claudeEnv(server, home))
    .map(([k, v]) => `export ${k}='${v}'`)
    .join("\n");
  writeFileSync(join(binDir, "claude"), `#!/bin/sh\n${env}\nexec '${bin}' "$@"\n`);
  chmodSync(join(binDir, "claude"), 0o755);
}

/** Which agent rows 17 run: COORD_BENCH_AGENT=real|standin; by default the real claude when it is installed. */
export function benchAgent() {
  const asked = process.env.COORD_BENCH_AGENT;
  if (asked !== undefined && asked !== "real" && asked !== "standin") throw new Error(`COORD_BENCH_AGENT must be "real" or "standin", not "${asked}"`);
  const claude = newestClaude();
  if (asked === "real" && "missing" in claude) throw new Error(`COORD_BENCH_AGENT=real: ${claude.missing}`);
  if (asked === "standin" || "missing" in claude) return { kind: "standin", why: asked === "standin" ? "COORD_BENCH_AGENT=standin" : claude.missing };
  return { kind: "real", ...claude };
}
