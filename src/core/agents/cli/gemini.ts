// Gemini CLI: everything coord knows of it, in one place (agents.ts AgentCli
// says what each part is).
import type { AgentCli, AgentReader } from "../adapter.js";
import { clean, configDirs, configFiles, firstLine, type Json, modelFlag, obj, parseLine, str, tokensOf } from "./common.js";

/** `gemini --output-format stream-json`: init (session_id), message, tool_use, tool_result, error, result (status, stats). */
function geminiReader(): AgentReader {
  let session: string | undefined;
  let message = "";
  let error: string | undefined;
  let final: Json | undefined;
  return {
    line(text) {
      const e = parseLine(text);
      if (!e) return;
      session = str(e.session_id) ?? session;
      if (e.type === "message" && e.role === "assistant") message = e.delta === true ? message + (str(e.content) ?? "") : (str(e.content) ?? message);
      else if (e.type === "error") error = str(e.message) ?? str(obj(e.error)?.message) ?? "an error";
      else if (e.type === "result") final = e;
    },
    result() {
      if (!final && !error) return undefined;
      const ok = final?.status === "success" && !error;
      const stats = obj(final?.stats);
      const failure = str(obj(final?.error)?.message) ?? error;
      return clean({
        ok,
        reason: ok ? undefined : failure ? `it said: ${firstLine(failure)}` : "it ended with an error",
        message: message || undefined,
        session,
        tokens: tokensOf(stats, ["input_tokens"], ["output_tokens"]),
        lastError: !ok && failure ? firstLine(failure) : undefined,
      });
    },
  };
}

export const gemini: AgentCli = {
  name: "gemini",
  executables: ["gemini"],
  invocation(o) {
    // In a folder it does not trust, Gemini CLI falls back to its default mode; the scratch directory is new to it.
    const mode = { "read-only": "plan", edit: "auto_edit", full: "yolo" } as const;
    const permission = o.permissions ? [`--approval-mode=${mode[o.permissions]}`] : [];
    // -p's text is added to what comes on stdin, which is empty: the prompt is glued to its option, so no parser takes it for one.
    return { args: ["--output-format=stream-json", ...modelFlag(o), ...permission, ...(o.args ?? []), `--prompt=${o.prompt}`], env: {} };
  },
  reader: geminiReader,
  versionArgs: ["--version"],
  state: {
    homes: ({ at }) => [at(".gemini")],
    configs: ({ at }) => [...configFiles(at(".gemini"), ["settings.json", "GEMINI.md"], false), ...configDirs(at(".gemini"), ["commands", "extensions"], false)],
  },
};
