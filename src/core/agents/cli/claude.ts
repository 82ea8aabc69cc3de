// Claude Code: everything coord knows of it, in one place (agents.ts AgentCli
// says what each part is). Its stream-json output is also Cursor's (cursor.ts
// reads it with resultReader).
import { type McpToolName, SERVER_NAME } from "../mcp-config.js";
import type { AgentCli, AgentReader } from "../adapter.js";
import { catCommand, clean, configDirs, configFiles, firstLine, type Json, MAX_STEP, modelFlag, num, obj, parseLine, str, tokensOf, toolLine, toolTarget, word } from "./common.js";

/** coord's permission prompt tool as Claude Code names a tool of an MCP server (--permission-prompt-tool). */
export const PERMISSION_TOOL_FOR_CLAUDE = `mcp__${SERVER_NAME}__${"permission_prompt" satisfies McpToolName}`;

const SUBTYPES: Record<string, string> = {
  error_max_turns: "it reached its maximum number of turns",
  error_during_execution: "it failed while running",
  error_max_budget_usd: "it reached its budget",
  error_max_structured_output_retries: "it could not produce the structured output asked for",
};

/** `--output-format stream-json`: one JSON object a line, the last of type "result" (Claude Code's, and Cursor's CLI's). */
export function resultReader(): AgentReader {
  let session: string | undefined;
  let final: Json | undefined;
  // An agent that may run commands can write lines into its CLI's output (pidfd_getfd of its fd 1): a result line of
  // its own says what it likes. The cost is taken only from an output of JSON lines with one result (the CLI writes
  // no other); a second result, or a line that is no JSON (one written to spoil the CLI's own result: found attacking
  // it), leaves the cost unsaid, and a turn with a cap then counts the cap (core/oncall/on-call.ts turnSpend).
  let results = 0;
  let broken = 0;
  let lastText: string | undefined;
  return {
    line(text) {
      const e = parseLine(text);
      if (!e) {
        if (text.trim()) broken++;
        return;
      }
      session = str(e.session_id) ?? session;
      if (e.type === "result") {
        final = e;
        results++;
      } else if (e.type === "assistant") {
        const content = obj(e.message)?.content;
        if (Array.isArray(content)) {
          const texts = content.map((c) => (obj(c)?.type === "text" ? str(obj(c)?.text) : undefined)).filter(Boolean);
          if (texts.length) lastText = texts.join("\n");
        }
      }
    },
    result() {
      if (!final) return session ? clean({ ok: false, reason: "it stopped before giving a result", session, message: lastText }) : undefined;
      const subtype = str(final.subtype) ?? "";
      const message = str(final.result) ?? lastText;
      const denied = Array.isArray(final.permission_denials) ? [...new Set(final.permission_denials.map((d) => str(obj(d)?.tool_name) ?? "a tool"))] : undefined;
      const failed = final.is_error === true || subtype.startsWith("error");
      let reason: string | undefined;
      if (failed) reason = SUBTYPES[subtype] ?? (message ? `it said: ${firstLine(message)}` : `it ended with ${subtype || "an error"}`);
      else if (denied?.length) reason = `it was denied ${denied.join(", ")} (permissions: raise the order's permissions or narrow its prompt)`;
      return clean({
        ok: !failed && !denied?.length,
        reason,
        message,
        session: str(final.session_id) ?? session,
        turns: num(final.num_turns),
        costUsd: results === 1 && broken === 0 ? num(final.total_cost_usd) : undefined,
        tokens: tokensOf(obj(final.usage), ["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"], ["output_tokens"]),
        ...(denied?.length ? { denied } : {}),
      });
    },
  };
}

/** The step of a stream-json line: the last tool call of an `assistant` message. */
export function resultStep(e: Json): string | undefined {
  if (e.type !== "assistant") return undefined;
  const content = obj(e.message)?.content;
  if (!Array.isArray(content)) return undefined;
  const tools = content.map(obj).filter((c) => c?.type === "tool_use");
  const last = tools[tools.length - 1];
  return last ? toolLine(word(last.name) ?? "a tool", toolTarget(obj(last.input)), MAX_STEP) : undefined;
}

/** The session a stream-json line names: its `session_id`. */
export const resultSession = (e: Json): string | undefined => word(e.session_id);

export const claude: AgentCli = {
  name: "claude",
  executables: ["claude"],
  invocation(o, { root }) {
    // Read-only is claude's default mode, not plan: with -p, default runs reads and denies (or, with a permission prompt
    // tool, asks it about) everything else, on every version. Plan mode stopped asking the prompt tool at 2.1.278 and
    // lets a safety check on the API's side decide instead, which may run a command itself (docs/agents.md).
    const mode = { "read-only": "default", edit: "acceptEdits", full: "bypassPermissions" } as const;
    const permission = o.permissions ? [`--permission-mode=${mode[o.permissions]}`] : [];
    // As root, Claude Code refuses bypassPermissions unless it is told it runs in a sandbox.
    const env: Record<string, string> = o.permissions === "full" && root ? { IS_SANDBOX: "1" } : {};
    // The prompt goes on stdin: nothing in it can be read as an option, and its size is not argv's.
    return { args: ["-p", "--output-format=stream-json", "--verbose", ...modelFlag(o), ...permission, ...(o.args ?? [])], input: o.prompt, env };
  },
  reader: resultReader,
  versionArgs: ["--version"],
  login: {
    how: "claude auth status",
    keys: ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"],
    unattended: "claude setup-token (once: it prints a token good for a year), then coord secret set CLAUDE_CODE_OAUTH_TOKEN with it on stdin",
    status: {
      args: ["auth", "status"],
      loggedIn: (code, out) => {
        const j = parseLine(
          out
            .trim()
            .split("\n")
            .find((l) => l.trim().startsWith("{")) ?? "",
        );
        if (j && typeof j.loggedIn === "boolean") return j.loggedIn;
        return code === 0 ? true : code === 1 ? false : undefined;
      },
    },
  },
  onCall: {
    budgetCap: true,
    turn(s, prompt, session, ctx) {
      // Every safety flag goes on every call, the first and each resume: a resumed session keeps only the conversation.
      const caps: string[] = [];
      if (s.maxTurns !== undefined) caps.push(`--max-turns=${s.maxTurns}`);
      if (s.maxBudgetUsd !== undefined) caps.push(`--max-budget-usd=${s.maxBudgetUsd}`);
      // What its permissions do not cover is asked of the thread's asker through coord's tool, whatever the level.
      if (ctx.mcpConfig) caps.push(`--mcp-config=${ctx.mcpConfig}`, `--permission-prompt-tool=${PERMISSION_TOOL_FOR_CLAUDE}`);
      if (session) caps.push(`--resume=${session}`);
      const how = claude.invocation({ agent: s.agent, prompt, permissions: s.permissions, args: caps, ...(s.model ? { model: s.model } : {}) }, ctx);
      if ("refused" in how) return how;
      // Claude Code may answer before its MCP servers are up (2.1.197 did on a loaded machine: the permission prompt tool
      // was not there yet when the model asked for Bash, and the turn failed): it waits for coord mcp when told so.
      return ctx.mcpConfig ? { ...how, env: { ...how.env, MCP_CONNECTION_NONBLOCKING: "false" } } : how;
    },
    step: resultStep,
    session: resultSession,
    tools: true,
    denied: "the asker denied it, or nobody answered in time",
    note: "claude: every turn gets --permission-mode{caps}; each resume continues the session the last turn returned; a tool its permissions do not cover is asked of the asker in the thread (/approve, /deny)",
  },
  state: {
    homes: ({ env, at }) => [env.CLAUDE_CONFIG_DIR || at(".claude"), at(".claude.json")],
    variables: ["CLAUDE_CONFIG_DIR"],
    configs({ env, at }) {
      const dir = env.CLAUDE_CONFIG_DIR || at(".claude");
      // Its global file (MCP servers, per project too) is in the config directory when one is named.
      return [
        { path: env.CLAUDE_CONFIG_DIR ? `${dir}/.claude.json` : at(".claude.json"), empty: "{}\n" },
        ...configFiles(dir, ["settings.json", "settings.local.json", "CLAUDE.md"], true),
        ...configDirs(dir, ["commands", "agents", "skills", "plugins", "hooks", "output-styles", "rules"], true),
      ];
    },
    // Its login on Linux (macOS keeps it in the Keychain), written in place when it is refreshed.
    logins: ({ env, at }) => [`${env.CLAUDE_CONFIG_DIR || at(".claude")}/.credentials.json`],
    apart: true,
    // The project's settings (hooks it runs, allow rules), its commands, agents and skills. .mcp.json's servers wait for
    // the person's approval (kept in the CLI's own state).
    project: [{ path: ".claude", dir: true, empty: "" }],
  },
  mcp: {
    project: ".mcp.json",
    global: ".claude.json",
    path: ["mcpServers", "coord"],
    format: "json",
    entry: (c) => ({ type: "stdio", command: c.command, args: c.args, env: {} }),
    // One project's server goes in Claude Code's local scope (~/.claude.json, this project on this machine only), never
    // in .mcp.json, a file teams commit (an older install's entry there is taken out).
    local: ".claude.json",
    notes: {
      project: "Claude Code starts a project's local servers with each session: restart open sessions (claude mcp list in the project shows coord; /mcp in a session).",
      global: "Claude Code reads ~/.claude.json at session start: restart open sessions (claude mcp list shows coord).",
    },
  },
  hooks: {
    // UserPromptSubmit only: its stdout joins the context before every prompt, the first one included
    // (a SessionStart hook as well showed the messages twice on the first prompt).
    // The project's local settings: the hook names this machine's prompt file (.claude/settings.json is the team's).
    plan: { kind: "json", file: ".claude/settings.local.json", events: ["UserPromptSubmit"], entry: (p) => ({ hooks: [{ type: "command", command: catCommand(p), timeout: 5 }] }) },
    global: ".claude/settings.json",
    // An older coord wrote its hook (this machine's path) into the shared settings, a file teams commit.
    former: ".claude/settings.json",
    notes: [
      "Claude Code reads .claude/settings.local.json at session start: restart open sessions (check with /hooks). It holds this machine's paths; Claude Code keeps it out of git.",
    ],
  },
  // Its open session wakes by hooks in the project's local settings (commands/listen.ts): asyncRewake on SessionStart and Stop.
  wake: {
    program: /(^|\/)claude(\.exe)?$/,
    tool: (t) => `mcp__coord__${t}`,
    // Its tool that loads a deferred tool's definition: a woken turn may need it to call coord's.
    free: ["ToolSearch"],
    others: "ask",
    settings: ".claude/settings.local.json",
    former: ".claude/settings.json",
  },
};
