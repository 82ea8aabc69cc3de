// Cursor's CLI (cursor-agent, or agent): everything coord knows of it, in one
// place (agents.ts AgentCli says what each part is). It is not on npm: it
// follows its documented flags and hooks, and was never run in coord's tests.
import type { AgentCli } from "../adapter.js";
import { configDirs, configFiles, modelFlag, shellQuote } from "./common.js";
import { resultReader, resultSession, resultStep } from "./claude.js";

/** Cursor's hooks must print JSON: the block as `additional_context` at session start, or a follow-up message after the first stop of a prompt. */
function cursorCommand(promptFile: string, field: "additional_context" | "followup_message"): string {
  const js =
    field === "additional_context"
      ? `let o='';try{o=require('fs').readFileSync(${JSON.stringify(promptFile)},'utf8')}catch{}process.stdout.write(JSON.stringify(o.trim()?{additional_context:o}:{}))`
      : `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{let o='';try{if(!JSON.parse(s).loop_count)o=require('fs').readFileSync(${JSON.stringify(promptFile)},'utf8')}catch{}process.stdout.write(JSON.stringify(o.trim()?{followup_message:o}:{}))})`;
  return `node -e ${shellQuote(js)}`;
}

export const cursor: AgentCli = {
  name: "cursor",
  executables: ["cursor-agent", "agent"],
  invocation(o) {
    // Cursor's CLI has a read-only mode (plan) and full (--force), nothing that allows edits but not commands.
    if (o.permissions === "edit") return { field: "permissions", refused: `cursor cannot run with permissions "edit": its CLI offers read-only (--mode plan) or full (--force)` };
    const permission = o.permissions === "full" ? ["--force"] : o.permissions === "read-only" ? ["--mode=plan"] : [];
    // --trust: a headless run cannot answer the workspace-trust question.
    return { args: ["-p", "--output-format=stream-json", "--trust", ...modelFlag(o), ...permission, ...(o.args ?? []), "--", o.prompt], env: {} };
  },
  reader: resultReader,
  versionArgs: ["--version"],
  login: {
    how: "cursor-agent status (or agent status)",
    keys: ["CURSOR_API_KEY"],
    status: { args: ["status"], loggedIn: (code, out) => (/not logged in|login required/i.test(out) ? false : code === 0 ? true : undefined) },
  },
  onCall: {
    turn(s, prompt, session, ctx) {
      const args = session ? [`--resume=${session}`] : [];
      return cursor.invocation({ agent: s.agent, prompt, permissions: s.permissions, args, ...(s.model ? { model: s.model } : {}) }, ctx);
    },
    step: resultStep,
    session: resultSession,
    denied: "its on-call permissions do not allow it (coord agent on-call --permissions)",
    note: "cursor: read-only (--mode plan) or full (--force) only; no turn or budget cap; no approval callback: permissions decide alone",
  },
  state: {
    homes: ({ at, xdg }) => [at(".cursor"), xdg("XDG_CONFIG_HOME", ".config", "cursor")],
    variables: ["XDG_CONFIG_HOME"],
    configs: ({ at }) => [...configFiles(at(".cursor"), ["cli-config.json", "mcp.json", "hooks.json"], false), ...configDirs(at(".cursor"), ["rules", "commands"], false)],
    project: [{ path: ".cursor", dir: true, empty: "" }],
  },
  mcp: {
    project: ".cursor/mcp.json",
    global: ".cursor/mcp.json",
    path: ["mcpServers", "coord"],
    format: "json",
    entry: (c) => ({ command: c.command, args: c.args }),
    notes: {
      project: "Cursor asks to enable a new MCP server of the project: enable coord (Settings → MCP; cursor-agent mcp list shows it).",
      global: "Cursor loads ~/.cursor/mcp.json at startup: restart it and enable coord (Settings → MCP).",
    },
  },
  hooks: {
    plan: {
      kind: "json",
      file: ".cursor/hooks.json",
      events: ["sessionStart", "stop"],
      entry: (p, event) => ({ command: cursorCommand(p, event === "stop" ? "followup_message" : "additional_context") }),
      // Its hooks file starts with its version.
      head: { version: 1 },
    },
    global: ".cursor/hooks.json",
    notes: ["Cursor reads .cursor/hooks.json in a trusted workspace: restart Cursor (Settings → Hooks lists it)."],
  },
};
