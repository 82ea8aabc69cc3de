import { homedir } from "node:os";
import { type Command, Argument } from "commander";
import { agentHooks, agentMcp } from "../../commands/agent.js";
import { HOOK_AGENTS, type HookAgent } from "../../core/agents/hooks.js";
import { MCP_AGENTS, MCP_TOOLS, type McpAgent } from "../../core/agents/mcp-config.js";
import { resolveDir } from "../dir.js";
import { dirOption, EXIT_CODES, examples, type Io } from "../shared.js";

/** coord agent install|uninstall <cli> (the MCP server), coord agent hooks install|uninstall <cli>. */
export function registerAgent(program: Command, io: Io): void {
  const agent = program.command("agent").description("set up agent CLIs on this machine to work with coord: its tools (install) and its messages in each prompt (hooks)");
  for (const action of ["install", "uninstall"] as const) {
    agent
      .command(action)
      .description(
        action === "install"
          ? `register coord's MCP server (coord mcp: ${MCP_TOOLS.join(", ")}) in the project's config of that CLI (prints what it changed)`
          : "take coord's MCP server out of that CLI's config again, and nothing else (prints what it changed)",
      )
      .addArgument(new Argument("<cli>", "the agent CLI").choices(MCP_AGENTS))
      .addOption(dirOption())
      .option("--project <dir>", "the project the agent works in (default: the current directory)")
      .option(
        "--global",
        "the CLI's config in your home directory instead (every project): ~/.claude.json, ~/.codex/config.toml ($CODEX_HOME), ~/.config/opencode/opencode.json, ~/.cursor/mcp.json",
      )
      .addHelpText(
        "after",
        `
Files (in the project; --global: in your home):
  claude    .mcp.json             mcpServers.coord (Claude Code asks once to approve a project's servers)
  codex     .codex/config.toml    [mcp_servers.coord] (read in a trusted project only)
  opencode  opencode.json         mcp.coord (opencode.jsonc when the project has that one)
  cursor    .cursor/mcp.json      mcpServers.coord
The server runs as: <node> <coord>/dist/coord.mjs mcp --dir <checkout> (absolute paths).
${EXIT_CODES}${examples(`coord agent ${action} claude --project ~/dev/app --dir ~/fleet`, `coord agent ${action} codex --global`, `coord agent ${action} opencode`, `coord agent ${action} cursor --project .`)}`,
      )
      .action(async (cli: McpAgent, o: { dir?: string; project?: string; global?: boolean }) => {
        const r = await agentMcp({
          dir: action === "install" ? await resolveDir(o.dir) : (o.dir ?? "."),
          agent: cli,
          ...(o.global ? { home: homedir(), ...(process.env.CODEX_HOME ? { codexHome: process.env.CODEX_HOME } : {}) } : { project: o.project ?? process.cwd() }),
          uninstall: action === "uninstall",
        });
        for (const line of r.changes) io.out(line);
        for (const note of r.notes) io.out(`note: ${note}`);
      });
  }
  const hooks = agent.command("hooks").description("show this machine's unread messages to agent sessions (Claude Code, Codex, Cursor, OpenCode)");
  for (const action of ["install", "uninstall"] as const) {
    hooks
      .command(`${action}`)
      .description(
        action === "install"
          ? "write the hook that puts unread messages into each prompt's context, into the project's config of that CLI (prints what it changed)"
          : "take out exactly what install wrote (prints what it changed)",
      )
      .addArgument(new Argument("<cli>", "the agent CLI").choices(HOOK_AGENTS))
      .addOption(dirOption())
      .option("--project <dir>", "the project the agent works in (default: the current directory)")
      .option("--global", "the CLI's config in your home directory instead (every project)")
      .addHelpText(
        "after",
        EXIT_CODES +
          examples(`coord agent hooks ${action} claude --project ~/dev/app --dir ~/fleet`, `coord agent hooks ${action} codex --global`, `coord agent hooks ${action} opencode`),
      )
      .action(async (cli: HookAgent, o: { dir?: string; project?: string; global?: boolean }) => {
        const r = await agentHooks({
          dir: action === "install" ? await resolveDir(o.dir) : (o.dir ?? "."),
          agent: cli,
          ...(o.global ? { home: homedir() } : { project: o.project ?? process.cwd() }),
          uninstall: action === "uninstall",
        });
        for (const line of r.changes) io.out(line);
        for (const note of r.notes) io.out(`note: ${note}`);
      });
  }
}
