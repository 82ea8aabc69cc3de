// `node scripts/install-agent-clis.mjs`: installs the real agent CLIs the tests run (scripts/agent-clis.json: Claude
// Code, Codex, OpenCode and Gemini CLI, pinned) from the npm registry into a cache outside node_modules, one folder a version:
// $COORD_AGENT_CLIS (default ~/.cache/coord-agent-clis)/<name>@<version>. They are large (codex's binary alone is
// 315 MB), so `npm ci` stays as fast as it is for a user; .ci/run calls this, and a test whose CLI is not installed
// says it is skipped, by name. A version already installed is kept. Exit 0 even when one fails (its tests then say
// they are skipped); each failure is printed.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const pins = JSON.parse(readFileSync(new URL("./agent-clis.json", import.meta.url), "utf8")).clis;
const cache = process.env.COORD_AGENT_CLIS || join(homedir(), ".cache", "coord-agent-clis");

for (const p of pins) {
  const dir = join(cache, `${p.name}@${p.version}`);
  const bin = join(dir, "node_modules", ".bin", p.bin);
  if (existsSync(bin)) {
    console.log(`install-agent-clis: ${p.name} ${p.version} already in ${dir}`);
    continue;
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), '{"private":true}\n');
  const started = Date.now();
  try {
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--no-save", "--loglevel=error", `${p.package}@${p.version}`], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] });
    const version = execFileSync(bin, ["--version"], { encoding: "utf8", timeout: 60_000 }).trim();
    console.log(`install-agent-clis: ${p.name} ${p.version} installed in ${((Date.now() - started) / 1000).toFixed(1)} s (${version})`);
  } catch (e) {
    console.log(`install-agent-clis: could not install ${p.package}@${p.version} (${e instanceof Error ? e.message.split("\n")[0] : e}); its tests will say they are skipped`);
  }
}
