// Gemini CLI: everything coord knows of it, in one place (agents.ts AgentCli
// says what each part is). Run for real in the tests (0.61.0, against a
// scripted Gemini API server): headless, on call over a thread of turns, its
// permission levels, its state apart.
import type { AgentCli, AgentReader, Permission } from "../adapter.js";
import { clean, configDirs, configFiles, firstLine, type Json, MAX_STEP, modelFlag, obj, parseLine, str, tokensOf, toolLine, toolTarget, word } from "./common.js";

/**
 * Its approval mode for each level. Headless, it offers no tool that would need a question: read-only is its default
 * mode (read, list and search tools only: no shell, no write; plan mode would offer writes of plan files), edit is
 * auto_edit (writes and edits too, still no shell), full is yolo (the shell and everything else).
 */
const MODE: Record<Permission, string> = { "read-only": "default", edit: "auto_edit", full: "yolo" };

/**
 * What each level denies in its admin policy (the highest tier of its policy engine: above the project's, an
 * extension's and the agent's own settings and policies, and above YOLO). Its plan mode is one of the tools: run
 * headless, leaving plan mode switches to YOLO (0.61.0: "Plan approved. Switching to YOLO mode"), so a read-only or
 * edit turn could reach the shell by entering and leaving it (found by attacking it).
 */
const DENIED: Record<Permission, readonly string[]> = {
  "read-only": ["enter_plan_mode", "exit_plan_mode", "run_shell_command", "write_file", "replace", "web_fetch"],
  edit: ["enter_plan_mode", "exit_plan_mode", "run_shell_command"],
  full: [],
};

/** The admin policy of a level: one deny rule a tool, at the top priority. */
function policyOf(level: Permission): string | undefined {
  const tools = DENIED[level];
  if (!tools.length) return undefined;
  const rule = (tool: string) => `[[rule]]\ntoolName = "${tool}"\ndecision = "deny"\npriority = 999\ndenyMessage = "coord: permissions ${level} do not allow ${tool}"\n`;
  return `# Written by coord: what an agent with permissions ${level} may not do, whatever else says.\n\n${tools.map(rule).join("\n")}`;
}

/** The flag naming the policy file, or why the level cannot be run without one (none was written). */
function policyArgs(level: Permission | undefined, policyFile: string | undefined): string[] | { field: "permissions"; refused: string } {
  if (!level || !policyOf(level)) return [];
  if (!policyFile) return { field: "permissions", refused: `gemini with permissions "${level}" needs coord's policy file, which was not written` };
  return [`--admin-policy=${policyFile}`];
}

/**
 * `gemini --output-format stream-json`: init (session_id), message, tool_use, tool_result, error, result (status,
 * stats). A tool its mode did not offer comes back as a tool_result with error `tool_not_registered`: denied.
 */
function geminiReader(): AgentReader {
  let session: string | undefined;
  let message = "";
  let error: string | undefined;
  let final: Json | undefined;
  const tools = new Map<string, string>();
  const denied = new Set<string>();
  return {
    line(text) {
      const e = parseLine(text);
      if (!e) return;
      session = str(e.session_id) ?? session;
      if (e.type === "message" && e.role === "assistant") message = e.delta === true ? message + (str(e.content) ?? "") : (str(e.content) ?? message);
      else if (e.type === "tool_use" && str(e.tool_id)) tools.set(str(e.tool_id)!, str(e.tool_name) ?? "a tool");
      else if (e.type === "tool_result" && e.status === "error" && obj(e.error)?.type === "tool_not_registered") denied.add(tools.get(str(e.tool_id) ?? "") ?? "a tool");
      else if (e.type === "error") error = str(e.message) ?? str(obj(e.error)?.message) ?? "an error";
      else if (e.type === "result") final = e;
    },
    result() {
      if (!final && !error) return session ? clean({ ok: false, reason: "it stopped before giving a result", session, message: message || undefined }) : undefined;
      const failed = final?.status !== "success" || error !== undefined;
      const stats = obj(final?.stats);
      const failure = str(obj(final?.error)?.message) ?? error;
      let reason: string | undefined;
      if (failed) reason = failure ? `it said: ${firstLine(failure)}` : "it ended with an error";
      else if (denied.size) reason = `it was denied ${[...denied].join(", ")} (permissions: raise the order's permissions or narrow its prompt)`;
      return clean({
        ok: !failed && denied.size === 0,
        reason,
        message: message || undefined,
        session,
        tokens: tokensOf(stats, ["input_tokens"], ["output_tokens"]),
        ...(denied.size ? { denied: [...denied] } : {}),
        lastError: failed && failure ? firstLine(failure) : undefined,
      });
    },
  };
}

export const gemini: AgentCli = {
  name: "gemini",
  executables: ["gemini"],
  invocation(o, ctx) {
    const policy = policyArgs(o.permissions, ctx.policyFile);
    if (!Array.isArray(policy)) return policy;
    const permission = o.permissions ? [`--approval-mode=${MODE[o.permissions]}`, ...policy] : [];
    // -p's text is added to what comes on stdin, which is empty: the prompt is glued to its option, so no parser takes it for one.
    return { args: ["--output-format=stream-json", ...modelFlag(o), ...permission, ...(o.args ?? []), `--prompt=${o.prompt}`], env: {} };
  },
  policy: policyOf,
  reader: geminiReader,
  versionArgs: ["--version"],
  // No status command: an API key in the environment tells; a Google login (or a key in ~/.gemini/.env) it cannot.
  login: { how: "GEMINI_API_KEY, or gemini's Google login", keys: ["GEMINI_API_KEY", "GOOGLE_API_KEY"] },
  onCall: {
    turn(s, prompt, session, ctx) {
      const policy = policyArgs(s.permissions, ctx.policyFile);
      if (!Array.isArray(policy)) return policy;
      // Every flag on every call: a resumed session keeps only the conversation. The prompt goes on stdin (with no -p,
      // a stdin that is not a terminal is the prompt of a headless run): its size is not argv's.
      const args = ["--output-format=stream-json", ...modelFlag(s), `--approval-mode=${MODE[s.permissions]}`, ...policy, ...(session ? [`--resume=${session}`] : [])];
      return { args, input: prompt, env: {} };
    },
    step: (e) => (e.type === "tool_use" ? toolLine(word(e.tool_name) ?? "a tool", toolTarget(obj(e.parameters)), MAX_STEP) : undefined),
    session: (e) => (e.type === "init" ? word(e.session_id) : undefined),
    denied: "its on-call permissions do not offer it (coord agent on-call --permissions: read-only has no shell and no writes, edit no shell)",
    note: "gemini: read-only runs its default mode (reads and searches only), edit auto_edit (writes, no shell), full yolo (everything), read-only and edit under coord's policy (no plan mode, no shell); a tool it may not use is denied, nothing is asked; no turn or budget cap, no cost reported (timeout still holds; dailyBudgetUsd counts nothing); with its folder trust on, the cwd must be trusted; the cwd's .gemini/ is read-only to it, but the project's .env it may write (Gemini CLI loads it): with edit or full, give it a directory of its own",
  },
  state: {
    homes: ({ at }) => [at(".gemini")],
    // .env: variables it loads at its start; trustedFolders.json: where it may leave its default mode; policies: its rules.
    configs: ({ at }) => [
      ...configFiles(at(".gemini"), ["settings.json", "GEMINI.md", ".env", "trustedFolders.json"], false),
      ...configDirs(at(".gemini"), ["commands", "extensions", "policies", "agents", "skills"], false),
    ],
    // Its Google login (an API key in the environment needs none).
    logins: ({ at }) => [at(".gemini/oauth_creds.json"), at(".gemini/google_accounts.json")],
    apart: true,
    // Its project settings start MCP servers and run hooks as a session starts, nothing asked; its policies, commands.
    project: [{ path: ".gemini", dir: true, empty: "" }],
  },
};
