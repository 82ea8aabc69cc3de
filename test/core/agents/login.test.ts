// "Logged in is what the CLI can use" (issue 57): what coord tells of a CLI's login without asking it, from its
// config and the environment. codex login status says "Not logged in" (0.171.0) for a key in the environment and for
// a provider of the config's own, with which codex runs.
import { describe, expect, it } from "vitest";
import { AGENTS, agentsLoggedInBy, loginsFromStore, loginWithoutAsking, unattendedLogin } from "../../../src/core/agents/agents.js";
import { codexConfigLogin } from "../../../src/core/agents/cli/codex.js";
import { opencodeConfigLogin } from "../../../src/core/agents/cli/opencode.js";

const codex = AGENTS.get("codex")!;
const claude = AGENTS.get("claude")!;
const opencode = AGENTS.get("opencode")!;
const provider = (entry: Record<string, unknown>, name = "local") => ({ model_provider: name, model_providers: { [name]: entry } });

describe("codex's config.toml: a provider of its own", () => {
  const cases: [string, unknown, Record<string, string>, ReturnType<typeof codexConfigLogin>][] = [
    [
      "its env_key set",
      provider({ base_url: "http://127.0.0.1:1/v1", env_key: "LOCAL_KEY" }),
      { LOCAL_KEY: "k" },
      { loggedIn: true, via: "model provider local, its key in LOCAL_KEY" },
    ],
    ["its env_key not set", provider({ env_key: "LOCAL_KEY" }), {}, { loggedIn: false, via: "model provider local needs LOCAL_KEY, which is not set" }],
    ["its env_key set empty", provider({ env_key: "LOCAL_KEY" }), { LOCAL_KEY: "" }, { loggedIn: false, via: "model provider local needs LOCAL_KEY, which is not set" }],
    ["no env_key: no key needed", provider({ base_url: "http://127.0.0.1:1/v1" }), {}, { loggedIn: true, via: "model provider local, which needs no key" }],
    ["requires_openai_auth: its login decides", provider({ requires_openai_auth: true }), {}, undefined],
    ["a built-in provider (no entry): its login decides", { model_provider: "openai" }, {}, undefined],
    ["no model_provider", { model: "gpt-5" }, {}, undefined],
    ["a provider named like a prototype key", { model_provider: "constructor", model_providers: {} }, {}, undefined],
    ["not a table", "x", {}, undefined],
  ];
  it.each(cases)("%s", (_, config, env, want) => {
    expect(codexConfigLogin(config, env)).toEqual(want);
  });
});

// issue 66, item 2: the real opencode 1.18.33 with its key in opencode.json says "0 credentials" in `opencode auth list`.
describe("OpenCode's opencode.json: a provider's options.apiKey", () => {
  const key = (apiKey: unknown, id = "local") => ({ [id]: { npm: "@ai-sdk/openai-compatible", options: { baseURL: "http://127.0.0.1:1/v1", apiKey } } });
  const cases: [string, unknown, Record<string, string>, ReturnType<typeof opencodeConfigLogin>][] = [
    ["a literal key, the model's provider", { model: "local/m", provider: key("sk-1") }, {}, { loggedIn: true, via: "provider local, its key in opencode.json" }],
    ["{env:VAR} set", { model: "local/m", provider: key("{env:LOCAL_KEY}") }, { LOCAL_KEY: "k" }, { loggedIn: true, via: "provider local, its key in LOCAL_KEY" }],
    ["{env:VAR} not set", { model: "local/m", provider: key("{env:LOCAL_KEY}") }, {}, { loggedIn: false, via: "provider local needs LOCAL_KEY, which is not set" }],
    ["{file:path}: a key in a file", { provider: key("{file:~/.keys/local}") }, {}, { loggedIn: true, via: "provider local, its key in opencode.json" }],
    ["the model names another provider: its auth list decides", { model: "anthropic/claude", provider: key("sk-1") }, {}, undefined],
    ["no model: any provider with its key", { provider: { ...key("{env:UNSET}", "a"), ...key("sk-2", "b") } }, {}, { loggedIn: true, via: "provider b, its key in opencode.json" }],
    ["a provider without options: asked", { provider: { anthropic: {} } }, {}, undefined],
    ["an empty key: asked", { provider: key("  ") }, {}, undefined],
    ["no provider: asked", { model: "anthropic/claude" }, {}, undefined],
    ["a model provider named like a prototype key", { model: "constructor/x", provider: {} }, {}, undefined],
    ["not an object", "x", {}, undefined],
  ];
  it.each(cases)("%s", (_, config, env, want) => {
    expect(opencodeConfigLogin(config, env)).toEqual(want);
  });

  it("the file: $OPENCODE_CONFIG, else $XDG_CONFIG_HOME/opencode/opencode.json, else ~/.config/opencode/opencode.json", () => {
    expect(opencode.login!.config!.file({ OPENCODE_CONFIG: "/srv/oc.json", XDG_CONFIG_HOME: "/x" }, "/home/me")).toBe("/srv/oc.json");
    expect(opencode.login!.config!.file({ XDG_CONFIG_HOME: "/x/" }, "/home/me")).toBe("/x/opencode/opencode.json");
    expect(opencode.login!.config!.file({}, "/home/me")).toBe("/home/me/.config/opencode/opencode.json");
    expect(loginWithoutAsking(opencode, {}, { model: "local/m", provider: { local: { options: { apiKey: "sk" } } } })).toEqual({
      loggedIn: true,
      via: "provider local, its key in opencode.json",
    });
  });
});

describe("loginWithoutAsking: the config first, then a key in the environment; else the CLI is asked", () => {
  it.each([
    ["codex, a provider with its key", codex, { LOCAL_KEY: "k" }, provider({ env_key: "LOCAL_KEY" }), { loggedIn: true, via: "model provider local, its key in LOCAL_KEY" }],
    [
      "codex, a provider without its key, OPENAI_API_KEY set: codex uses the provider, which cannot run",
      codex,
      { OPENAI_API_KEY: "k" },
      provider({ env_key: "LOCAL_KEY" }),
      { loggedIn: false, via: "model provider local needs LOCAL_KEY, which is not set" },
    ],
    ["codex, CODEX_API_KEY", codex, { CODEX_API_KEY: "k" }, undefined, { loggedIn: true, via: "CODEX_API_KEY" }],
    ["codex, OPENAI_API_KEY", codex, { OPENAI_API_KEY: "k" }, undefined, { loggedIn: true, via: "OPENAI_API_KEY" }],
    ["codex, nothing: asked", codex, {}, undefined, undefined],
    ["claude, ANTHROPIC_API_KEY", claude, { ANTHROPIC_API_KEY: "k" }, undefined, { loggedIn: true, via: "ANTHROPIC_API_KEY" }],
    ["claude, Bedrock: its auth status counts it, asked", claude, { CLAUDE_CODE_USE_BEDROCK: "1" }, undefined, undefined],
  ] as const)("%s", (_, cli, env, config, want) => {
    expect(loginWithoutAsking(cli, env, config)).toEqual(want);
  });

  it("a provider without its key, and no API key: not logged in, saying what is missing", () => {
    expect(loginWithoutAsking(codex, {}, provider({ env_key: "LOCAL_KEY" }))).toEqual({ loggedIn: false, via: "model provider local needs LOCAL_KEY, which is not set" });
  });

  it("codex's config file: $CODEX_HOME/config.toml, else ~/.codex/config.toml", () => {
    expect(codex.login!.config!.file({ CODEX_HOME: "/srv/codex/" }, "/home/me")).toBe("/srv/codex/config.toml");
    expect(codex.login!.config!.file({}, "/home/me")).toBe("/home/me/.codex/config.toml");
  });
});

describe("an agent CLI's login from the machine's secret store (a daemon that cannot read the person's login)", () => {
  const store = Object.assign(Object.create(null) as Record<string, string>, { CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-tok", "deploy-token": "d" });
  it.each([
    { env: {}, want: { CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-tok" }, why: "the environment has none: the store's" },
    { env: { CLAUDE_CODE_OAUTH_TOKEN: "from-env" }, want: {}, why: "the environment's wins" },
    { env: { CLAUDE_CODE_OAUTH_TOKEN: "" }, want: { CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-tok" }, why: "an empty variable is none" },
  ])("$why", ({ env, want }) => {
    expect(loginsFromStore(claude, env, store)).toEqual(want);
  });

  it("only the CLI's own login variables, never another secret, never from the prototype", () => {
    expect(loginsFromStore(AGENTS.get("codex")!, {}, store)).toEqual({});
    expect(loginsFromStore(claude, {}, {})).toEqual({});
    expect(loginsFromStore(undefined, {}, store)).toEqual({});
    expect(loginsFromStore(claude, {}, JSON.parse('{"__proto__": {"CLAUDE_CODE_OAUTH_TOKEN": "x"}}'))).toEqual({});
  });

  it("which CLIs a secret's name logs in, and how each is logged in unattended", () => {
    expect(agentsLoggedInBy("CLAUDE_CODE_OAUTH_TOKEN")).toEqual(["claude"]);
    expect(agentsLoggedInBy("OPENAI_API_KEY").length).toBeGreaterThan(0);
    expect(agentsLoggedInBy("deploy-token")).toEqual([]);
    expect(unattendedLogin(claude)).toMatch(/^claude setup-token .*coord secret set CLAUDE_CODE_OAUTH_TOKEN/);
    expect(unattendedLogin(AGENTS.get("codex")!)).toMatch(/^coord secret set [A-Z_]+ with its value on stdin$/);
  });
});
