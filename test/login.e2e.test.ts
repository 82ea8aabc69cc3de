// "Logged in is what the CLI can use" (issue 57): a codex that runs through a provider of its config's own (its
// env_key set) or an API key in the environment is logged in for coord status, doctor and orders, though
// `codex login status` says "Not logged in" (as 0.171.0 does: the stand-in here answers as it). Without the key it
// is not, and doctor says what is missing. claude's Bedrock, Vertex and apiKeyHelper: its own auth status counts
// them, held here against the real claude (skipped, by name, when it is not installed).
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findAgents } from "../src/state/capabilities.js";
import { cliExec, type Fleet, hubStatus, makeFleet, pushOrders, tempDir, waitFor } from "./helpers.js";
import { realCli } from "./real-clis.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

/** A codex that says "Not logged in" and runs an exec turn that answers "done"; a CODEX_HOME naming a provider whose key is in LOCAL_KEY. */
async function codexSetup(root: string): Promise<{ path: string; codexHome: string }> {
  const bin = join(root, "bin");
  await mkdir(bin, { recursive: true });
  await writeFile(
    join(bin, "codex"),
    `#!/bin/sh
[ "$1" = "--version" ] && { echo "codex-cli 0.171.0"; exit 0; }
[ "$1" = "login" ] && { echo "Not logged in"; exit 1; }
cat > /dev/null
echo '{"type":"thread.started","thread_id":"t1"}'
echo '{"type":"item.completed","item":{"id":"i1","type":"agent_message","text":"done"}}'
echo '{"type":"turn.completed","usage":{"input_tokens":1,"output_tokens":1}}'
`,
  );
  await chmod(join(bin, "codex"), 0o755);
  const codexHome = join(root, "codex-home");
  await mkdir(codexHome, { recursive: true });
  await writeFile(
    join(codexHome, "config.toml"),
    'model_provider = "local"\n\n[model_providers.local]\nname = "local"\nbase_url = "http://127.0.0.1:9/v1"\nwire_api = "responses"\nenv_key = "LOCAL_KEY"\n',
  );
  return { path: `${bin}:${process.env.PATH}`, codexHome };
}

/** The environment coord runs in: no API key of the developer's leaks in. */
const clean = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env = { ...process.env, ...extra };
  for (const k of ["CODEX_API_KEY", "OPENAI_API_KEY", "LOCAL_KEY"]) if (!(k in extra)) delete env[k];
  return env;
};

describe("logged in is what the CLI can use", () => {
  it("codex through its config's provider with the key set: published logged in, doctor says by what, an order for codex runs; without the key: not logged in, and doctor names the variable", {
    timeout: patient(90_000),
  }, async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const { path, codexHome } = await codexSetup(fleet.root);
    await pushOrders(fleet, [{ id: "review", to: "izzit7", agent: "codex", prompt: "review the code" }]);

    const keyed = clean({ PATH: path, CODEX_HOME: codexHome, LOCAL_KEY: "k" });
    expect((await cliExec(["sync", "--dir", dir], undefined, keyed)).code).toBe(0);
    const status = await waitFor(
      async () => {
        const s = await hubStatus(fleet!);
        return s.orders.review?.machines.izzit7?.state === "completed" ? s : undefined;
      },
      30_000,
      "the codex order completed",
    );
    expect(status.machines.izzit7?.capabilities.codex).toBe("0.171.0");
    const doctor = await cliExec(["doctor", "--dir", dir], undefined, keyed);
    expect(doctor.out).toContain("codex 0.171.0, logged in (model provider local, its key in LOCAL_KEY)");

    // The key gone (asked again: the answers are kept 10 minutes): not logged in, and doctor says what is missing.
    await writeFile(join(dir, ".git", "coord", "agents.json"), "");
    const unkeyed = clean({ PATH: path, CODEX_HOME: codexHome });
    const noKey = await cliExec(["doctor", "--dir", dir], undefined, unkeyed);
    expect(noKey.out).toContain("codex 0.171.0, not logged in (model provider local needs LOCAL_KEY, which is not set)");
    expect(noKey.out).toContain("set what is missing (model provider local needs LOCAL_KEY, which is not set) where coord runs");
  });

  it("opencode with its key in opencode.json (comments and all), which its auth list does not count: logged in, doctor says by what", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const bin = join(fleet.root, "bin");
    await mkdir(bin, { recursive: true });
    // As opencode-ai 1.18.33 answers with the key in its config (issue 66): "0 credentials".
    await writeFile(join(bin, "opencode"), '#!/bin/sh\n[ "$1" = "--version" ] && { echo "1.18.33"; exit 0; }\n[ "$1" = "auth" ] && { echo "0 credentials"; exit 0; }\nexit 1\n');
    await chmod(join(bin, "opencode"), 0o755);
    const config = join(fleet.root, "xdg");
    await mkdir(join(config, "opencode"), { recursive: true });
    await writeFile(
      join(config, "opencode", "opencode.json"),
      '{\n  // a provider of its own\n  "model": "local/m",\n  "provider": { "local": { "options": { "baseURL": "http://127.0.0.1:9/v1", "apiKey": "{env:LOCAL_KEY}" } } },\n}\n',
    );
    const env = clean({ PATH: `${bin}:${process.env.PATH}`, XDG_CONFIG_HOME: config, LOCAL_KEY: "k" });
    expect((await cliExec(["doctor", "--dir", dir], undefined, env)).out).toContain("opencode 1.18.33, logged in (provider local, its key in LOCAL_KEY)");
    await writeFile(join(dir, ".git", "coord", "agents.json"), "");
    const unkeyed = clean({ PATH: `${bin}:${process.env.PATH}`, XDG_CONFIG_HOME: config });
    expect((await cliExec(["doctor", "--dir", dir], undefined, unkeyed)).out).toContain("opencode 1.18.33, not logged in (provider local needs LOCAL_KEY, which is not set)");
  });

  it("codex with OPENAI_API_KEY or CODEX_API_KEY in the environment: logged in, by that key", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const { path } = await codexSetup(fleet.root);
    for (const key of ["OPENAI_API_KEY", "CODEX_API_KEY"]) {
      await writeFile(join(dir, ".git", "coord", "agents.json"), "");
      const r = await cliExec(["doctor", "--dir", dir], undefined, clean({ PATH: path, CODEX_HOME: join(fleet.root, "no-codex-home"), [key]: "k" }));
      expect(r.out).toContain(`codex 0.171.0, logged in (${key})`);
    }
    await writeFile(join(dir, ".git", "coord", "agents.json"), "");
    const none = await cliExec(["doctor", "--dir", dir], undefined, clean({ PATH: path, CODEX_HOME: join(fleet.root, "no-codex-home") }));
    expect(none.out).toContain("codex 0.171.0, not logged in");
  });
});

const claude = realCli("claude");
const noClaude = "missing" in claude ? claude.missing : undefined;

describe.skipIf(noClaude !== undefined)(`the real claude's own auth status counts what it can use${noClaude ? ` (skipped: ${noClaude})` : ""}`, () => {
  it.each([
    ["nothing: not logged in", {}, false],
    ["Bedrock (CLAUDE_CODE_USE_BEDROCK=1): logged in", { CLAUDE_CODE_USE_BEDROCK: "1" }, true],
    ["Vertex (CLAUDE_CODE_USE_VERTEX=1): logged in", { CLAUDE_CODE_USE_VERTEX: "1" }, true],
    ["an apiKeyHelper in its settings: logged in", { helper: "1" }, true],
    ["ANTHROPIC_API_KEY: logged in", { ANTHROPIC_API_KEY: "sk-ant-test" }, true],
  ] as const)("%s", { timeout: patient(30_000) }, async (_, vars, want) => {
    const home = await tempDir("coord-claude-home-");
    if ("helper" in vars) {
      await mkdir(join(home, ".claude"), { recursive: true });
      await writeFile(join(home, ".claude", "settings.json"), JSON.stringify({ apiKeyHelper: "echo sk-ant-test" }));
    }
    const saved = { ...process.env };
    try {
      for (const k of ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX"]) delete process.env[k];
      Object.assign(process.env, { HOME: home, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", DISABLE_AUTOUPDATER: "1" });
      for (const [k, v] of Object.entries(vars)) if (k !== "helper") process.env[k] = v;
      const found = (await findAgents(`${dirname((claude as { bin: string }).bin)}:${process.env.PATH}`)).find((a) => a.name === "claude");
      expect(found?.loggedIn).toBe(want);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
