// Codex: everything coord knows of it, in one place (agents.ts AgentCli says
// what each part is).
import { join } from "node:path";
import type { AgentCli, AgentReader, LoginAnswer } from "../adapter.js";
import { SERVER_NAME } from "../mcp-config.js";
import { catCommand, clean, configDirs, configFiles, type Env, firstLine, type Json, modelFlag, num, obj, oneLine, parseLine, str, word } from "./common.js";

/** `codex exec --json`: JSON lines of thread, turn and item events. */
function codexReader(): AgentReader {
  let session: string | undefined;
  let message: string | undefined;
  let error: string | undefined;
  let turns = 0;
  let completed = false;
  let usage = { input: 0, output: 0 };
  return {
    line(text) {
      const e = parseLine(text);
      if (!e) return;
      switch (e.type) {
        case "thread.started":
          session = str(e.thread_id) ?? session;
          break;
        case "turn.completed": {
          turns++;
          completed = true;
          error = undefined;
          const u = obj(e.usage);
          if (u) usage = { input: usage.input + (num(u.input_tokens) ?? 0), output: usage.output + (num(u.output_tokens) ?? 0) };
          break;
        }
        case "turn.failed":
          turns++;
          completed = false;
          error = str(obj(e.error)?.message) ?? "the turn failed";
          break;
        case "error":
          error = str(e.message) ?? error ?? "an error";
          break;
        case "item.completed": {
          const item = obj(e.item);
          if (item?.type === "agent_message") message = str(item.text) ?? message;
          break;
        }
      }
    },
    result() {
      if (!session && !error && !completed) return undefined;
      const ok = completed && !error;
      return clean({
        ok,
        reason: ok ? undefined : error ? `it said: ${firstLine(error)}` : "it stopped before its turn completed",
        message,
        session,
        turns: turns || undefined,
        tokens: usage.input || usage.output ? usage : undefined,
        lastError: !ok && error ? firstLine(error) : undefined,
      });
    },
  };
}

/**
 * Codex's config.toml: `model_provider` naming a `[model_providers.<id>]` entry of its own (a local server, a proxy,
 * Azure) is what codex uses, whatever `codex login status` says (it knows only its own login): with an `env_key`,
 * usable when that variable is set; without one and without `requires_openai_auth`, it needs no key. A built-in
 * provider (openai, no entry): undefined, its login decides.
 */
export function codexConfigLogin(config: unknown, env: Env): LoginAnswer | undefined {
  const c = obj(config);
  const provider = str(c?.model_provider);
  const providers = obj(c?.model_providers);
  if (!provider || !providers || !Object.hasOwn(providers, provider)) return undefined;
  const entry = obj(providers[provider]);
  if (!entry) return undefined;
  const envKey = str(entry.env_key);
  if (envKey)
    return env[envKey]
      ? { loggedIn: true, via: `model provider ${provider}, its key in ${envKey}` }
      : { loggedIn: false, via: `model provider ${provider} needs ${envKey}, which is not set` };
  if (entry.requires_openai_auth === true) return undefined;
  return { loggedIn: true, via: `model provider ${provider}, which needs no key` };
}

/** The step of an item event: a command it runs, a file change, an MCP tool call. */
function codexStep(e: Json): string | undefined {
  if (e.type !== "item.started" && e.type !== "item.completed") return undefined;
  const item = obj(e.item);
  if (item?.type === "command_execution") return oneLine(`$ ${word(item.command) ?? "a command"}`);
  if (item?.type === "file_change") {
    const paths = Array.isArray(item.changes) ? item.changes.map((c) => word(obj(c)?.path)).filter(Boolean) : [];
    return oneLine(`edit: ${Array.isArray(item.changes) ? paths.join(", ") : "files"}`);
  }
  if (item?.type === "mcp_tool_call") return oneLine(`${word(item.server) ?? "mcp"}: ${word(item.tool) ?? "a tool"}`);
  return undefined;
}

const SANDBOX = { "read-only": "read-only", edit: "workspace-write", full: "danger-full-access" } as const;

export const codex: AgentCli = {
  name: "codex",
  executables: ["codex"],
  invocation(o) {
    const permission = o.permissions ? [`--sandbox=${SANDBOX[o.permissions]}`] : [];
    // "-" reads the prompt from stdin.
    return { args: ["exec", "--json", ...modelFlag(o), ...permission, ...(o.args ?? []), "-"], input: o.prompt, env: {} };
  },
  reader: codexReader,
  versionArgs: ["--version"],
  // codex login status counts neither an API key in the environment (CODEX_API_KEY is what codex exec takes) nor a
  // provider of the config's own (codex 0.171.0 says "Not logged in" for both).
  login: {
    how: "codex login status",
    keys: ["CODEX_API_KEY", "OPENAI_API_KEY"],
    status: { args: ["login", "status"], loggedIn: (code) => (code === 0 ? true : code === null ? undefined : false) },
    config: {
      file: (env, home) => `${(env.CODEX_HOME || `${home}/.codex`).replace(/\/+$/, "")}/config.toml`,
      loggedIn: codexConfigLogin,
    },
  },
  onCall: {
    turn(s, prompt, session) {
      // `codex exec resume` refuses -s and -C: the sandbox goes as a config override, on the first call as on a resume.
      const args = ["exec", "--json", ...modelFlag(s), "-c", `sandbox_mode="${SANDBOX[s.permissions]}"`, ...(session ? ["resume", session] : []), "-"];
      return { args, input: prompt, env: {} };
    },
    step: codexStep,
    session: (e) => (e.type === "thread.started" ? word(e.thread_id) : undefined),
    gitRepo: true,
    denied: "its on-call permissions do not allow it (coord agent on-call --permissions)",
    note: "codex: the sandbox goes on every turn as -c sandbox_mode (codex exec resume refuses -s); no turn or budget cap (timeout and dailyBudgetUsd still hold); no approval callback: permissions decide alone; cwd must be a git repository codex trusts",
  },
  state: {
    homes: ({ env, at }) => [env.CODEX_HOME || at(".codex")],
    variables: ["CODEX_HOME"],
    configs({ env, at }) {
      const dir = env.CODEX_HOME || at(".codex");
      // .env: variables codex loads at its start (a PATH, a BASH_ENV of the agent's would run in the person's next codex).
      return [
        ...configFiles(dir, ["config.toml", "AGENTS.md", "AGENTS.override.md", ".env"], true),
        ...configFiles(dir, ["hooks.json", "managed_config.toml", "requirements.toml"], false),
        ...configDirs(dir, ["prompts", "rules", "skills"], true),
        ...configDirs(dir, ["memories"], false),
      ];
    },
    logins: ({ env, at }) => [`${env.CODEX_HOME || at(".codex")}/auth.json`],
    apart: true,
    project: [{ path: ".codex", dir: true, empty: "" }],
  },
  mcp: {
    project: ".codex/config.toml",
    global: ".codex/config.toml",
    path: ["mcp_servers", "coord"],
    format: "toml",
    entry: (c) => ({ command: c.command, args: c.args }),
    // Its config for every project is in $CODEX_HOME when that is set.
    homeVariable: "CODEX_HOME",
    homeFile: "config.toml",
    notes: {
      project:
        "Codex reads a project's .codex/config.toml only once the project is trusted (codex asks the first time it starts there); codex mcp list in the project shows coord.",
      global: "Codex starts its MCP servers with each session: restart open sessions (codex mcp list shows coord).",
    },
  },
  hooks: {
    plan: { kind: "json", file: ".codex/hooks.json", events: ["UserPromptSubmit"], entry: (p) => ({ hooks: [{ type: "command", command: catCommand(p), timeout: 5 }] }) },
    global: ".codex/hooks.json",
    notes: [
      "Codex runs a hook only once you trust it: start codex here, open /hooks and trust coord's (it asks again if the hook changes); a project's .codex/hooks.json also needs the project trusted. Until then nothing is shown.",
    ],
  },
  // Its open session hears the fleet when coord starts it (coord agent open codex): its TUI on an app-server of
  // coord's, which feeds it a wake as a turn of the TUI's own thread (core/agents/codex-relay.ts). Codex asks the
  // person, in the TUI, before a woken turn runs a command, an edit or an MCP tool not marked read-only.
  wake: {
    // The app-server coord starts (its npm wrapper under node, or the binary): coord's MCP server runs under it.
    program: /(^|[\\/])codex(\.exe|\.js)?$/,
    tool: (t) => t,
    others: "coord-refuses",
    opened: {
      // coord's MCP server for this checkout (as coord agent install codex writes it: a JSON string or array of
      // strings is a TOML one on its -c), its send run without asking so that an answer needs nobody; no goals
      // (found attacking it: a goal a wake set went on in turns of Codex's own, and as the person's once they typed).
      server: (socket, mcp) => [
        "app-server",
        "--listen",
        `unix://${socket}`,
        "-c",
        `mcp_servers.${SERVER_NAME}.command=${JSON.stringify(mcp.command)}`,
        "-c",
        `mcp_servers.${SERVER_NAME}.args=${JSON.stringify(mcp.args)}`,
        "-c",
        `mcp_servers.${SERVER_NAME}.tools.send.approval_mode="approve"`,
        "-c",
        "features.goals=false",
        // No subagents either (found attacking it: one a wake spawned outlived the woken turn and acted as the
        // machine once the person typed).
        "-c",
        "features.multi_agent=false",
        "-c",
        "features.multi_agent_v2=false",
      ],
      tui: (socket, project, more) => ["--remote", `unix://${socket}`, "-C", project, ...more],
      // Its execpolicy rules (what "don't ask again" writes): an allow runs the command unasked and outside the
      // sandbox, in a woken turn too, whatever its approval policy. Its own, the system's, and a .codex/rules of
      // every folder from the project up to its git root. A rule is Starlark, and "allow" is its default decision:
      // any file that holds more than comments may allow (found attacking it: a regex missed most ways to say so).
      rules: {
        dirs: (env, home, up) => [join(env.CODEX_HOME || join(home, ".codex"), "rules"), "/etc/codex/rules", ...up.map((d) => join(d, ".codex", "rules"))],
        allows: (text) => text.split("\n").some((l) => l.trim() !== "" && !l.trim().startsWith("#")),
      },
    },
  },
};
