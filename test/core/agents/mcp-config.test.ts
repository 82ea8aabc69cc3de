// coord agent install/uninstall's edits of each agent CLI's MCP config (src/core/agents/mcp-config.ts): the entry each
// CLI documents, idempotent, the rest of the user's file kept (comments too), and uninstall taking out exactly
// coord's server. What each real CLI reads from these files: test/mcp-agents.e2e.test.ts.
import { parse as parseJsonc } from "jsonc-parser";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { AGENTS, MCP_AGENTS } from "../../../src/core/agents/agents.js";
import { installMcp, isCoordEntry, TOML_MARK, uninstallMcp } from "../../../src/core/agents/mcp-config.js";

type McpAgent = string;
const plan = (agent: McpAgent) => AGENTS.get(agent)!.mcp!;

const cmd = { command: "/usr/bin/node", args: ["/opt/coord/dist/coord.mjs", "mcp", "--dir", "/home/u/fleet"] };
const argv = [cmd.command, ...cmd.args];

/** The parsed file, whatever its format. */
function read(agent: McpAgent, text: string): Record<string, unknown> {
  return (agent === "codex" ? parseToml(text) : parseJsonc(text)) as Record<string, unknown>;
}

/** Where each CLI finds the server, and the command line it runs. */
function serverOf(agent: McpAgent, text: string): { argv: string[]; entry: Record<string, unknown> } | undefined {
  const root = read(agent, text);
  const group = agent === "codex" ? "mcp_servers" : agent === "opencode" ? "mcp" : "mcpServers";
  const entry = (root[group] as Record<string, Record<string, unknown>> | undefined)?.coord;
  if (!entry) return undefined;
  const command = entry.command as string | string[];
  return { argv: Array.isArray(command) ? command : [command, ...((entry.args as string[]) ?? [])], entry: { ...entry } };
}

const ok = <T extends object>(r: T | { error: string }): T => {
  if ("error" in r) throw new Error(r.error);
  return r;
};

describe("the entry each CLI documents", () => {
  it.each([
    ["claude", { type: "stdio", command: cmd.command, args: cmd.args, env: {} }],
    ["codex", { command: cmd.command, args: cmd.args }],
    ["opencode", { type: "local", command: argv, enabled: true }],
    ["cursor", { command: cmd.command, args: cmd.args }],
  ] as const)("%s: a new file holds the coord server, running coord mcp --dir <checkout>", (agent, entry) => {
    const r = ok(installMcp(plan(agent), "f", undefined, cmd));
    expect(r.changed).toBe(true);
    expect(serverOf(agent, r.text)).toEqual({ argv, entry });
    if (agent === "opencode") expect(read(agent, r.text).$schema).toBe("https://opencode.ai/config.json");
    if (agent === "codex") expect(r.text).toContain(`${TOML_MARK}\n[mcp_servers.coord]\n`);
  });
});

describe.each(MCP_AGENTS)("%s", (agent) => {
  const json = agent !== "codex";
  /** A file of the user's: a comment, another server, other settings. */
  const users = json
    ? `{
  // mine
  "theme": "dark",
  "${agent === "opencode" ? "mcp" : "mcpServers"}": {
    "github": { "command": "gh-mcp", "args": ["--x"] }
  }
}
`
    : `# mine
model = "o3"

[mcp_servers.github]
command = "gh-mcp"
args = ["--x"]

[projects."/home/u/app"]
trust_level = "trusted"
`;

  it("install twice changes nothing the second time", () => {
    const first = ok(installMcp(plan(agent), "f", users, cmd));
    const again = ok(installMcp(plan(agent), "f", first.text, cmd));
    expect(again).toEqual({ text: first.text, changed: false });
  });

  it("keeps the user's settings, servers and comments; uninstall gives back what they had", () => {
    const installed = ok(installMcp(plan(agent), "f", users, cmd)).text;
    expect(installed).toContain("# mine".replace("#", json ? "//" : "#"));
    const withOurs = read(agent, installed);
    const before = read(agent, users);
    expect(serverOf(agent, installed)?.argv).toEqual(argv);
    if (json) {
      expect(withOurs.theme).toBe("dark");
      expect(Object.keys(withOurs[agent === "opencode" ? "mcp" : "mcpServers"] as object)).toEqual(["github", "coord"]);
    } else expect((withOurs.projects as Record<string, unknown>)["/home/u/app"]).toEqual({ trust_level: "trusted" });
    const back = ok(uninstallMcp(plan(agent), "f", installed));
    expect(back.removed).toBe(true);
    expect(JSON.stringify(read(agent, back.text!))).toBe(JSON.stringify(before));
    expect(back.text).toContain(json ? "// mine" : "# mine");
    if (!json) expect(back.text).toBe(users); // TOML: whole tables in and out, the text exactly as it was
  });

  it("a new coord entry replaces coord's old one (another checkout), in place", () => {
    const old = ok(installMcp(plan(agent), "f", users, { ...cmd, args: ["/old/coord.mjs", "mcp", "--dir", "/old/fleet"] })).text;
    const next = ok(installMcp(plan(agent), "f", old, cmd));
    expect(next.changed).toBe(true);
    expect(serverOf(agent, next.text)?.argv).toEqual(argv);
    if (!json) expect(next.text.split(TOML_MARK)).toHaveLength(2);
  });

  it("uninstall of a file that held only coord's server removes the file; of a file without it changes nothing", () => {
    const only = ok(installMcp(plan(agent), "f", undefined, cmd)).text;
    expect(ok(uninstallMcp(plan(agent), "f", only))).toEqual({ text: undefined, removed: true });
    expect(ok(uninstallMcp(plan(agent), "f", users))).toEqual({ text: users, removed: false });
    expect(ok(uninstallMcp(plan(agent), "f", undefined))).toEqual({ text: undefined, removed: false });
  });

  it("a server named coord that does not run coord mcp: install refuses, uninstall leaves it", () => {
    const theirs = json
      ? `{ "${agent === "opencode" ? "mcp" : "mcpServers"}": { "coord": { "command": "coordinator-mcp", "args": [] } } }\n`
      : `[mcp_servers.coord]\ncommand = "coordinator-mcp"\n`;
    expect(installMcp(plan(agent), "f", theirs, cmd)).toEqual({ error: expect.stringContaining('already has an MCP server named "coord" that does not run coord mcp') });
    expect(ok(uninstallMcp(plan(agent), "f", theirs))).toEqual({ text: theirs, removed: false, notOurs: true });
  });

  it("a file it cannot read is never overwritten: one sentence saying so", () => {
    const broken = json ? '{ "mcpServers": { ' : "[mcp_servers\ncommand = ";
    const r = installMcp(plan(agent), ".x/file", broken, cmd);
    expect(r).toEqual({ error: expect.stringMatching(json ? /^\.x\/file is not valid JSON .*coord never overwrites a file it cannot read\)$/ : /^\.x\/file is not valid TOML/) });
    expect(uninstallMcp(plan(agent), ".x/file", broken)).toEqual({ error: expect.any(String) });
  });
});

describe("codex's TOML", () => {
  it("coord's sub-tables go with it, and tables after it stay", () => {
    const text = `${TOML_MARK}\n[mcp_servers.coord]\ncommand = "/usr/bin/node"\nargs = ["/c/coord.mjs", "mcp"]\n\n[mcp_servers.coord.env]\nA = "1"\n\n[profiles.fast]\nmodel = "o4-mini"\n`;
    const r = ok(uninstallMcp(plan("codex"), "f", text));
    expect(r.text).toBe('[profiles.fast]\nmodel = "o4-mini"\n');
  });

  it("a coord server written as dotted keys is not edited by hand-made guesswork: refused with what to do", () => {
    const text = `[mcp_servers]\ncoord.command = "/usr/bin/node"\ncoord.args = ["/c/coord.mjs", "mcp"]\n`;
    expect(installMcp(plan("codex"), "f", text, cmd)).toEqual({ error: expect.stringContaining("in a form coord does not edit") });
  });
});

describe("isCoordEntry: what uninstall may take out", () => {
  it.each([
    [{ command: "/usr/bin/node", args: ["/x/dist/coord.mjs", "mcp", "--dir", "/f"] }, true],
    [{ command: "coord", args: ["mcp"] }, true],
    [{ type: "local", command: ["node", "/x/coord.mjs", "mcp"] }, true],
    [{ command: "coord", args: ["sync"] }, false],
    [{ command: "coordinator", args: ["mcp"] }, false],
    ["coord mcp", false],
  ])("%j → %s", (entry, ours) => {
    expect(isCoordEntry(entry)).toBe(ours);
  });
});
