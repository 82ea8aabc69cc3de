// Contract with the real agent CLIs: the config `coord agent install <cli>` writes is the one that CLI reads. Each
// CLI is installed from npm into a cache directory of its own (never into package.json: tmpdir()/coord-agent-clis,
// kept between runs, or $COORD_AGENT_CLIS), run with a HOME of the test's, and asked what it sees: Claude Code and OpenCode start the
// server and say it is connected; Codex lists it from the project's config (trusted) and from ~/.codex. Where a
// CLI cannot be installed or run (no registry, another platform), its tests are skipped with a line saying why.
// coord agent install runs in this process (with the test's HOME): the file it writes is the point; the server the
// agent CLIs start is the built one (node dist/coord.mjs mcp). The file format itself, table by table:
// test/core/agents/mcp-config.test.ts.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { cli, type Fleet, makeFleet } from "./helpers.js";
import { patient } from "./patience.js";

const run = promisify(execFile);

/** The versions docs/agents.md names (the ones coord's agent orders were checked against). */
const CLIS = {
  claude: { pkg: "@anthropic-ai/claude-code", version: "2.1.197", bin: "claude" },
  codex: { pkg: "@openai/codex", version: "0.169.0", bin: "codex" },
  opencode: { pkg: "opencode-ai", version: "1.18.33", bin: "opencode" },
} as const;
type Cli = keyof typeof CLIS;

/** Where they are installed (COORD_AGENT_CLIS: another place, e.g. a CI cache). */
const CACHE = process.env.COORD_AGENT_CLIS ?? join(tmpdir(), "coord-agent-clis");

/** The CLI's executable, installed into the cache on first use (built aside, then renamed into place: another run may race); or why it cannot be had. */
async function installCli(name: Cli): Promise<{ bin: string } | { why: string }> {
  const { pkg, version, bin } = CLIS[name];
  const dir = join(CACHE, `${pkg.replace("/", "+")}@${version}`);
  const exe = join(dir, "node_modules", ".bin", bin);
  if (!(await stat(exe).catch(() => undefined))) {
    await mkdir(CACHE, { recursive: true });
    const building = await mkdtemp(join(CACHE, "building-"));
    try {
      await run("npm", ["install", "--prefix", building, "--no-audit", "--no-fund", "--no-save", "--fetch-retries=1", "--fetch-timeout=60000", `${pkg}@${version}`], {
        timeout: 300_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      await rename(building, dir).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;
      });
    } catch (e) {
      return {
        why: `${name}: skipped, npm could not install ${pkg}@${version} (${String((e as Error).message)
          .split("\n")[0]
          ?.slice(0, 200)})`,
      };
    } finally {
      await rm(building, { recursive: true, force: true });
    }
  }
  // Once it ran on this platform, a file beside it says so, and it is not started again to find out (OpenCode's start
  // alone costs 0.7 s of CPU).
  const ran = join(dir, `ran-on-${process.platform}-${process.arch}`);
  if (await stat(ran).catch(() => undefined)) return { bin: exe };
  const home = await mkdtemp(join(tmpdir(), "coord-cli-home-"));
  try {
    await run(exe, ["--version"], { timeout: 60_000, env: { ...process.env, HOME: home } });
    await writeFile(ran, "");
    return { bin: exe };
  } catch (e) {
    return {
      why: `${name}: skipped, ${pkg}@${version} is installed but does not run here (${String((e as Error).message)
        .split("\n")[0]
        ?.slice(0, 200)})`,
    };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

const found = new Map<Cli, { bin: string } | { why: string }>();
// Side by side: on a fresh machine (CI) the three downloads take as long as the longest, bounded by its 300 s.
for (const [name, got] of await Promise.all((Object.keys(CLIS) as Cli[]).map(async (n) => [n, await installCli(n)] as const))) found.set(name, got);
const binOf = (name: Cli) => (found.get(name) as { bin: string }).bin;
const why = (name: Cli) => {
  const f = found.get(name)!;
  return "why" in f ? f.why : undefined;
};

let fleet: Fleet | undefined;
const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
afterAll(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

/**
 * A fresh HOME (never the user's) and a project; a machine "alpha" whose checkout the server serves, one for the
 * file (made by the first test that runs): the servers only read it.
 */
async function setup(): Promise<{ home: string; project: string; checkout: string; env: NodeJS.ProcessEnv }> {
  fleet ??= await makeFleet(["alpha"]);
  const root = await mkdtemp(join(tmpdir(), "coord-mcp-agents-"));
  temps.push(root);
  const home = join(root, "home");
  const project = join(root, "app");
  await mkdir(home);
  await mkdir(project);
  await run("git", ["init", "--quiet", project]);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_STATE_HOME: join(home, ".local", "state"),
  };
  delete env.CODEX_HOME;
  return { home, project, checkout: fleet.machines.alpha!, env };
}

/**
 * coord with `args`, in this process: what it writes, and where, is the point, not its process. Its $HOME (where
 * --global finds the user's config, os.homedir()) and $CODEX_HOME are the test's for the call.
 */
async function coord(env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  const saved = { HOME: process.env.HOME, CODEX_HOME: process.env.CODEX_HOME };
  const set = (name: "HOME" | "CODEX_HOME", value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  set("HOME", env.HOME);
  set("CODEX_HOME", env.CODEX_HOME);
  const r = await cli(...args).finally(() => {
    set("HOME", saved.HOME);
    set("CODEX_HOME", saved.CODEX_HOME);
  });
  if (r.code !== 0) throw new Error(`coord ${args.join(" ")} failed (${r.code}): ${r.err || r.out}`);
  return r.out;
}

/** Runs an agent CLI to its end (bounded), whatever its exit code: what it printed, colours removed. */
async function agent(name: Cli, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; stdout: string }> {
  const r = await run(binOf(name), args, { cwd, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }).then(
    (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" }),
  );
  const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");
  return { code: r.code, out: plain(`${r.stdout}${r.stderr}`), stdout: plain(r.stdout) };
}

const serverArgs = (checkout: string) => `mcp --dir ${checkout}`;

describe("Claude Code reads its local scope (and ~/.claude.json's user scope) as coord agent install writes them", () => {
  it.skipIf(why("claude") !== undefined)(
    why("claude") ??
      `claude ${CLIS.claude.version}: the project's server is in Claude Code's local scope, not in .mcp.json (no machine's paths in a file teams commit); an older install's .mcp.json entry is taken out; it starts and connects; uninstall takes it out`,
    { timeout: patient(240_000) },
    async () => {
      const { home, project, checkout, env } = await setup();
      // An older coord agent install wrote this machine's paths into the project's .mcp.json, beside the team's own server.
      const team = { type: "stdio", command: "npx", args: ["team-server"], env: {} };
      await writeFile(
        join(project, ".mcp.json"),
        JSON.stringify({ mcpServers: { team, coord: { type: "stdio", command: process.execPath, args: ["/old/dist/coord.mjs", "mcp", "--dir", checkout], env: {} } } }),
      );
      const out = await coord(env, "agent", "install", "claude", "--project", project, "--dir", checkout);
      expect(out).toContain(".mcp.json: coord's server taken out");
      expect(out).toContain(`~/.claude.json (local scope of ${project}): `);
      expect(JSON.parse(await readFile(join(project, ".mcp.json"), "utf8"))).toEqual({ mcpServers: { team } });
      await writeFile(join(project, ".mcp.json"), "{}\n");
      const got = await agent("claude", ["mcp", "get", "coord"], project, env);
      expect(got.out).toMatch(/Scope: Local config/);
      expect(got.out).toMatch(new RegExp(`coord\\.mjs ${serverArgs(checkout).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
      expect(got.out).toMatch(/Status: ✔ Connected/);
      // Another project on this machine does not see it.
      const other = join(home, "other");
      await mkdir(other, { recursive: true });
      expect((await agent("claude", ["mcp", "get", "coord"], other, env)).code).not.toBe(0);
      expect(await coord(env, "agent", "uninstall", "claude", "--project", project)).toContain('the "coord" server taken out');
      expect((await agent("claude", ["mcp", "get", "coord"], project, env)).code).not.toBe(0);
      expect(Object.keys(JSON.parse(await readFile(join(home, ".claude.json"), "utf8"))).length).toBeGreaterThan(0); // Claude Code's own settings stay
    },
  );

  it.skipIf(why("claude") !== undefined)(
    why("claude") ?? `claude ${CLIS.claude.version}: --global is the user scope (~/.claude.json), connected from any directory; uninstall keeps Claude's own settings there`,
    { timeout: patient(240_000) },
    async () => {
      const { home, project, checkout, env } = await setup();
      await coord(env, "agent", "install", "claude", "--global", "--dir", checkout);
      const got = await agent("claude", ["mcp", "get", "coord"], project, env);
      expect(got.out).toMatch(/Scope: User config/);
      expect(got.out).toMatch(/Status: ✔ Connected/);
      await coord(env, "agent", "uninstall", "claude", "--global");
      const left = JSON.parse(await readFile(join(home, ".claude.json"), "utf8"));
      expect(left.mcpServers).toBeUndefined();
      expect(Object.keys(left).length).toBeGreaterThan(0); // what Claude Code wrote there itself stays
      expect((await agent("claude", ["mcp", "get", "coord"], project, env)).code).not.toBe(0);
    },
  );
});

describe("Codex reads [mcp_servers.coord] from a trusted project's .codex/config.toml and from ~/.codex/config.toml", () => {
  const listed = async (cwd: string, env: NodeJS.ProcessEnv) => {
    const r = await agent("codex", ["mcp", "list", "--json"], cwd, env);
    return (JSON.parse(r.stdout) as { name: string; transport: { command: string; args: string[] } }[]).find((s) => s.name === "coord");
  };

  it.skipIf(why("codex") !== undefined)(
    why("codex") ?? `codex ${CLIS.codex.version}: the project's table, once the project is trusted; then ~/.codex/config.toml with the user's tables kept`,
    { timeout: patient(240_000) },
    async () => {
      const { home, project, checkout, env } = await setup();
      await coord(env, "agent", "install", "codex", "--project", project, "--dir", checkout);
      expect(await listed(project, env)).toBeUndefined(); // an untrusted project's config is not read
      // A person trusts the project (what codex asks at its first start there).
      await mkdir(join(home, ".codex"), { recursive: true });
      const trust = `[projects."${project}"]\ntrust_level = "trusted"\n`;
      await writeFile(join(home, ".codex", "config.toml"), trust);
      expect(await listed(project, env)).toEqual(
        expect.objectContaining({ transport: expect.objectContaining({ command: process.execPath, args: [expect.stringMatching(/coord\.mjs$/), "mcp", "--dir", checkout] }) }),
      );
      await coord(env, "agent", "uninstall", "codex", "--project", project);
      expect(await listed(project, env)).toBeUndefined();

      await coord(env, "agent", "install", "codex", "--global", "--dir", checkout);
      expect(await listed(home, env)).toEqual(expect.objectContaining({ transport: expect.objectContaining({ args: expect.arrayContaining(["mcp", checkout]) }) }));
      await coord(env, "agent", "uninstall", "codex", "--global");
      expect(await readFile(join(home, ".codex", "config.toml"), "utf8")).toBe(trust);
      expect(await listed(home, env)).toBeUndefined();
    },
  );
});

describe("OpenCode reads mcp.coord from the project's opencode.json", () => {
  it.skipIf(why("opencode") !== undefined)(
    why("opencode") ?? `opencode ${CLIS.opencode.version}: it starts the server and lists it connected; uninstall takes the file out`,
    { timeout: patient(240_000) },
    async () => {
      const { project, checkout, env } = await setup();
      await coord(env, "agent", "install", "opencode", "--project", project, "--dir", checkout);
      const list = await agent("opencode", ["mcp", "list"], project, env);
      expect(list.out).toMatch(/✓ coord\s+connected/);
      expect(list.out).toContain(serverArgs(checkout));
      // The file held coord's server alone: it is gone.
      expect(await coord(env, "agent", "uninstall", "opencode", "--project", project)).toContain("opencode.json: removed");
      expect(await stat(join(project, "opencode.json")).catch(() => undefined)).toBeUndefined();
    },
  );
});

describe("Cursor", () => {
  it.skip("cursor: skipped, Cursor's CLI (cursor-agent) is not on npm; .cursor/mcp.json follows Cursor's documentation (test/core/agents/mcp-config.test.ts)", () => {});
});
