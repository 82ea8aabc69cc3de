// The agent CLIs coord runs headless, one adapter each: how to start it so the
// prompt cannot be taken for an option, which flags a permission level maps
// to, and how to read what the agent itself says happened from its
// machine-readable output. Pure: the runner feeds it the output lines.

import { clip } from "../limits.js";

export const PERMISSIONS = ["read-only", "edit", "full"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** What an agent said about its run, from its own output. */
export interface AgentResult {
  /** The agent's verdict: false when it says it failed (an error result, max turns, an API error…). */
  ok: boolean;
  /** Why it failed, in the agent's words where it gave them. */
  reason?: string;
  /** Its final message. */
  message?: string;
  /** The session (thread) id, to resume it by hand. */
  session?: string;
  turns?: number;
  costUsd?: number;
  tokens?: { input: number; output: number };
  /** Tools it was not allowed to use, by name (Claude Code's permission denials). */
  denied?: string[];
  /** The last error it reported, in its words, when it did not succeed (a turn that timed out says it: codex's "Reconnecting..."). */
  lastError?: string;
}

/** How to start one agent run: argv, the prompt on stdin or not, extra environment. */
export interface AgentInvocation {
  argv: string[];
  /** The prompt, when it goes on stdin. */
  input?: string;
  env: Record<string, string>;
}

/** The fields of an agent order an adapter reads. */
export interface AgentOrder {
  agent: string;
  prompt: string;
  model?: string;
  args?: string[];
  permissions?: Permission;
}

/** Why an order cannot be run by its CLI, and the field that says what it cannot do. */
export interface Refusal {
  refused: string;
  field: "permissions" | "model";
}

/** Reads an agent's output line by line and gives its verdict at the end. */
export interface AgentReader {
  line(text: string): void;
  /** The verdict once the process exited; undefined when the output said nothing readable. */
  result(): AgentResult | undefined;
}

export interface AgentCli {
  name: string;
  /** The executables that run it, first found wins. */
  executables: string[];
  /** argv after the executable; or why this order cannot be run by it (a permission level it cannot honour). */
  invocation(order: AgentOrder, ctx: { root: boolean }): (Omit<AgentInvocation, "argv"> & { args: string[] }) | Refusal;
  /** A reader of its machine-readable output; none for an agent coord knows nothing about. */
  reader?: () => AgentReader;
  /** Arguments that print the version. */
  versionArgs: string[];
  /** Arguments that say whether it is logged in, and how to read the answer (undefined: cannot tell). */
  login?: {
    args: string[];
    loggedIn(exitCode: number | null, output: string): boolean | undefined;
    how: string;
    /** Variables that log it in without its status command knowing (an API key): when one is set, it counts as usable. */
    keys?: string[];
    /**
     * Its config file, when what the config names can log it in without its status command knowing (codex's
     * `model_providers` with an `env_key`): where the file is (from the environment and the home directory), and
     * what the parsed file says (undefined: nothing; ask the status command).
     */
    config?: {
      file(env: Readonly<Record<string, string | undefined>>, home: string): string;
      loggedIn(config: unknown, env: Readonly<Record<string, string | undefined>>): LoginAnswer | undefined;
    };
  };
}

/** Whether a CLI can be used, and by what, when coord can tell without asking the CLI. */
export interface LoginAnswer {
  loggedIn: boolean;
  /** What logs it in, or what is missing, for people: "CODEX_API_KEY", "model provider x, its key in X". */
  via: string;
}

/**
 * What can be told of a CLI's login without asking it (pure: its parsed config file and the environment): what its
 * config names first (a provider whose key variable is set, or not), then an API key in the environment. Undefined:
 * ask its status command.
 */
export function loginWithoutAsking(cli: AgentCli, env: Readonly<Record<string, string | undefined>>, config?: unknown): LoginAnswer | undefined {
  const login = cli.login;
  if (!login) return undefined;
  const fromConfig = config === undefined ? undefined : login.config?.loggedIn(config, env);
  if (fromConfig) return fromConfig;
  const key = login.keys?.find((k) => Boolean(env[k]));
  return key ? { loggedIn: true, via: key } : undefined;
}

/**
 * Codex's config.toml: `model_provider` naming a `[model_providers.<id>]` entry of its own (a local server, a proxy,
 * Azure) is what codex uses, whatever `codex login status` says (it knows only its own login): with an `env_key`,
 * usable when that variable is set; without one and without `requires_openai_auth`, it needs no key. A built-in
 * provider (openai, no entry): undefined, its login decides.
 */
export function codexConfigLogin(config: unknown, env: Readonly<Record<string, string | undefined>>): LoginAnswer | undefined {
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

/**
 * OpenCode's opencode.json: a provider's `options.apiKey` (its documented way to give a key, literal, `{env:VAR}` or
 * `{file:path}`) is what opencode uses, and `opencode auth list` counts only its own stored credentials ("0
 * credentials"). The provider of `model` ("provider/model") when it names one, else any provider: usable when its key
 * is there (a `{env:VAR}` one, when VAR is set). No key in the config: undefined, its auth list decides.
 */
export function opencodeConfigLogin(config: unknown, env: Readonly<Record<string, string | undefined>>): LoginAnswer | undefined {
  const c = obj(config);
  const providers = obj(c?.provider);
  if (!providers) return undefined;
  const model = str(c?.model);
  const named = model && OPENCODE_MODEL.test(model) ? model.slice(0, model.indexOf("/")) : undefined;
  const ids = named ? (Object.hasOwn(providers, named) ? [named] : []) : Object.keys(providers);
  const answers: LoginAnswer[] = [];
  for (const id of ids) {
    const key = str(obj(obj(providers[id])?.options)?.apiKey)?.trim();
    if (!key) continue;
    const variable = /^\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(key)?.[1];
    if (!variable) answers.push({ loggedIn: true, via: `provider ${id}, its key in opencode.json` });
    else if (env[variable]) answers.push({ loggedIn: true, via: `provider ${id}, its key in ${variable}` });
    else answers.push({ loggedIn: false, via: `provider ${id} needs ${variable}, which is not set` });
  }
  return answers.find((a) => a.loggedIn) ?? answers[0];
}

// ---------- reading JSON lines ----------

type Json = Record<string, unknown>;

function parseLine(text: string): Json | undefined {
  const t = text.trim();
  if (!t.startsWith("{")) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined; // not a JSON line: a warning the CLI printed, kept in the log only
  }
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);
const obj = (v: unknown): Json | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined);

/** Drops undefined fields, so a result carries only what the agent said. */
function clean(r: AgentResult): AgentResult {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as AgentResult;
}

function tokensOf(usage: Json | undefined, input: string[], output: string[]): AgentResult["tokens"] {
  if (!usage) return undefined;
  const sum = (keys: string[]) => keys.reduce((n, k) => n + (num(usage[k]) ?? 0), 0);
  const t = { input: sum(input), output: sum(output) };
  return t.input || t.output ? t : undefined;
}

// ---------- Claude Code (and Cursor's CLI, which prints the same result object) ----------

const CLAUDE_SUBTYPES: Record<string, string> = {
  error_max_turns: "it reached its maximum number of turns",
  error_during_execution: "it failed while running",
  error_max_budget_usd: "it reached its budget",
  error_max_structured_output_retries: "it could not produce the structured output asked for",
};

/** `--output-format stream-json`: one JSON object a line, the last of type "result". */
function resultReader(): AgentReader {
  let session: string | undefined;
  let final: Json | undefined;
  let lastText: string | undefined;
  return {
    line(text) {
      const e = parseLine(text);
      if (!e) return;
      session = str(e.session_id) ?? session;
      if (e.type === "result") final = e;
      else if (e.type === "assistant") {
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
      if (failed) reason = CLAUDE_SUBTYPES[subtype] ?? (message ? `it said: ${firstLine(message)}` : `it ended with ${subtype || "an error"}`);
      else if (denied?.length) reason = `it was denied ${denied.join(", ")} (permissions: raise the order's permissions or narrow its prompt)`;
      return clean({
        ok: !failed && !denied?.length,
        reason,
        message,
        session: str(final.session_id) ?? session,
        turns: num(final.num_turns),
        costUsd: num(final.total_cost_usd),
        tokens: tokensOf(obj(final.usage), ["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"], ["output_tokens"]),
        ...(denied?.length ? { denied } : {}),
      });
    },
  };
}

const firstLine = (text: string) => clip(text.trim().split("\n")[0] ?? "", 200);

const model = (o: AgentOrder, flag = "--model") => (o.model ? [`${flag}=${o.model}`] : []);

const claude: AgentCli = {
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
    return { args: ["-p", "--output-format=stream-json", "--verbose", ...model(o), ...permission, ...(o.args ?? [])], input: o.prompt, env };
  },
  reader: resultReader,
  versionArgs: ["--version"],
  login: {
    args: ["auth", "status"],
    how: "claude auth status",
    keys: ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"],
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
};

const cursor: AgentCli = {
  name: "cursor",
  executables: ["cursor-agent", "agent"],
  invocation(o) {
    // Cursor's CLI has a read-only mode (plan) and full (--force), nothing that allows edits but not commands.
    if (o.permissions === "edit") return { field: "permissions", refused: `cursor cannot run with permissions "edit": its CLI offers read-only (--mode plan) or full (--force)` };
    const permission = o.permissions === "full" ? ["--force"] : o.permissions === "read-only" ? ["--mode=plan"] : [];
    // --trust: a headless run cannot answer the workspace-trust question.
    return { args: ["-p", "--output-format=stream-json", "--trust", ...model(o), ...permission, ...(o.args ?? []), "--", o.prompt], env: {} };
  },
  reader: resultReader,
  versionArgs: ["--version"],
  login: {
    args: ["status"],
    how: "cursor-agent status (or agent status)",
    keys: ["CURSOR_API_KEY"],
    loggedIn: (code, out) => (/not logged in|login required/i.test(out) ? false : code === 0 ? true : undefined),
  },
};

// ---------- Codex ----------

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

const codex: AgentCli = {
  name: "codex",
  executables: ["codex"],
  invocation(o) {
    const sandbox = { "read-only": "read-only", edit: "workspace-write", full: "danger-full-access" } as const;
    const permission = o.permissions ? [`--sandbox=${sandbox[o.permissions]}`] : [];
    // "-" reads the prompt from stdin.
    return { args: ["exec", "--json", ...model(o), ...permission, ...(o.args ?? []), "-"], input: o.prompt, env: {} };
  },
  reader: codexReader,
  versionArgs: ["--version"],
  // codex login status counts neither an API key in the environment (CODEX_API_KEY is what codex exec takes) nor a
  // provider of the config's own (codex 0.171.0 says "Not logged in" for both).
  login: {
    args: ["login", "status"],
    how: "codex login status",
    keys: ["CODEX_API_KEY", "OPENAI_API_KEY"],
    loggedIn: (code) => (code === 0 ? true : code === null ? undefined : false),
    config: {
      file: (env, home) => `${(env.CODEX_HOME || `${home}/.codex`).replace(/\/+$/, "")}/config.toml`,
      loggedIn: codexConfigLogin,
    },
  },
};

// ---------- OpenCode ----------

/** `opencode run --format json`: JSON lines of events with a sessionID and a part. */
function opencodeReader(): AgentReader {
  let session: string | undefined;
  let message: string | undefined;
  let error: string | undefined;
  let steps = 0;
  let cost = 0;
  let tokens = { input: 0, output: 0 };
  let finished = false;
  const denied = new Set<string>();
  return {
    line(text) {
      const e = parseLine(text);
      if (!e) return;
      session = str(e.sessionID) ?? session;
      const part = obj(e.part);
      switch (e.type) {
        case "text":
          message = str(part?.text) ?? message;
          break;
        case "tool_use": {
          // A tool call its permissions did not allow: run mode rejects what would need a question, and the run stops.
          const state = obj(part?.state);
          if (state?.status === "error" && /rejected permission/i.test(str(state.error) ?? "")) denied.add(str(part?.tool) ?? "a tool");
          break;
        }
        case "step_finish": {
          steps++;
          finished = true;
          cost += num(part?.cost) ?? 0;
          const t = obj(part?.tokens);
          if (t) tokens = { input: tokens.input + (num(t.input) ?? 0), output: tokens.output + (num(t.output) ?? 0) };
          break;
        }
        case "error": {
          const err = obj(e.error);
          error = str(obj(err?.data)?.message) ?? str(err?.message) ?? str(err?.name) ?? "an error";
          break;
        }
      }
    },
    result() {
      if (!session && !error) return undefined;
      const ok = finished && !error && denied.size === 0;
      const reason = ok
        ? undefined
        : error
          ? `it said: ${firstLine(error)}`
          : denied.size
            ? `it was denied ${[...denied].join(", ")} (permissions: raise the order's permissions or narrow its prompt)`
            : "it stopped before it finished a step";
      return clean({
        ok,
        reason,
        message,
        session,
        turns: steps || undefined,
        costUsd: cost || undefined,
        tokens: tokens.input || tokens.output ? tokens : undefined,
        ...(denied.size ? { denied: [...denied] } : {}),
        lastError: !ok && error ? firstLine(error) : undefined,
      });
    },
  };
}

/** OpenCode's permission config for each level (its `permission` setting, given in OPENCODE_PERMISSION). */
const OPENCODE_PERMISSION: Record<Permission, Json> = {
  "read-only": { edit: "deny", bash: "deny", webfetch: "deny" },
  edit: { edit: "allow", bash: "deny", webfetch: "allow" },
  full: { edit: "allow", bash: "allow", webfetch: "allow" },
};

/** OpenCode's model ids are provider/model. */
export const OPENCODE_MODEL = /^[^/\s]+\/\S+$/;

const opencode: AgentCli = {
  name: "opencode",
  executables: ["opencode"],
  invocation(o) {
    if (o.model && !OPENCODE_MODEL.test(o.model)) return { field: "model", refused: `opencode model "${o.model}" is not provider/model (e.g. anthropic/claude-sonnet-4-5)` };
    // OPENCODE_PERMISSION is merged over the project's config (OpenCode skips it silently when it is not JSON: it always is here).
    const env: Record<string, string> = o.permissions ? { OPENCODE_PERMISSION: JSON.stringify(OPENCODE_PERMISSION[o.permissions]) } : {};
    // Full also approves what the config leaves to a question (opencode run --auto), as nobody is there to answer.
    // The prompt goes on stdin: OpenCode re-quotes an argument with spaces in it, stdin arrives as it is.
    return { args: ["run", "--format=json", ...model(o), ...(o.permissions === "full" ? ["--auto"] : []), ...(o.args ?? [])], input: o.prompt, env };
  },
  reader: opencodeReader,
  versionArgs: ["--version"],
  login: {
    args: ["auth", "list"],
    how: "opencode auth list",
    // It lists the stored credentials and the providers set in the environment; "0 credentials" and no env provider: none.
    loggedIn: (code, out) => (code !== 0 ? undefined : !(/\b0 credentials\b/i.test(out) && !/environment/i.test(out))),
    // A key in its config (provider.<id>.options.apiKey) it does not count: read first. $OPENCODE_CONFIG names another file.
    config: {
      file: (env, home) => env.OPENCODE_CONFIG || `${(env.XDG_CONFIG_HOME || `${home}/.config`).replace(/\/+$/, "")}/opencode/opencode.json`,
      loggedIn: opencodeConfigLogin,
    },
  },
};

// ---------- Gemini CLI ----------

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

const gemini: AgentCli = {
  name: "gemini",
  executables: ["gemini"],
  invocation(o) {
    // In a folder it does not trust, Gemini CLI falls back to its default mode; the scratch directory is new to it.
    const mode = { "read-only": "plan", edit: "auto_edit", full: "yolo" } as const;
    const permission = o.permissions ? [`--approval-mode=${mode[o.permissions]}`] : [];
    // -p's text is added to what comes on stdin, which is empty: the prompt is glued to its option, so no parser takes it for one.
    return { args: ["--output-format=stream-json", ...model(o), ...permission, ...(o.args ?? []), `--prompt=${o.prompt}`], env: {} };
  },
  reader: geminiReader,
  versionArgs: ["--version"],
};

/** The agent CLIs coord knows, by the name an order gives in `agent`. */
export const AGENTS: ReadonlyMap<string, AgentCli> = new Map([claude, codex, opencode, cursor, gemini].map((a) => [a.name, a]));

/**
 * The argv, stdin and environment of one agent run, or why it cannot be run.
 * An agent coord does not know (a label the machine adds) runs as `<name> <args…> -- <prompt>`
 * and is judged by its exit code; a permission level cannot be given to it.
 */
export function agentInvocation(order: AgentOrder, ctx: { root: boolean; executable?: string }): AgentInvocation | Refusal {
  const cli = AGENTS.get(order.agent);
  if (!cli) {
    if (order.permissions)
      return { field: "permissions", refused: `coord does not know how to give ${order.agent} permissions "${order.permissions}"; remove permissions or use a known agent` };
    return { argv: [ctx.executable ?? order.agent, ...(order.args ?? []), "--", order.prompt], env: {} };
  }
  const how = cli.invocation(order, ctx);
  if ("refused" in how) return how;
  return { argv: [ctx.executable ?? cli.executables[0]!, ...how.args], env: how.env, ...(how.input !== undefined ? { input: how.input } : {}) };
}

/** A reader for the agent's output, or undefined when coord cannot read it (judged by exit code). */
export function agentReader(agent: string): AgentReader | undefined {
  return AGENTS.get(agent)?.reader?.();
}

/**
 * The task's outcome from the process's and the agent's word: an agent that
 * says it failed fails with its reason whatever its exit code (exit 0 with
 * every write denied is no success); one that says it succeeded but exited
 * non-zero fails without a reason of its own (its exit code says it).
 */
export function agentVerdict(exitCode: number | null, said: AgentResult): { ok: boolean; reason?: string } {
  if (!said.ok) return { ok: false, reason: said.reason ?? "the agent said it failed" };
  return exitCode === 0 ? { ok: true } : { ok: false };
}

/** What in an agent order its CLI cannot do as written (a permission level, a model id), as the field and a sentence; checked when ORDERS.json is read. */
export function agentOrderProblem(order: AgentOrder): Refusal | undefined {
  const how = agentInvocation(order, { root: false });
  return "refused" in how ? how : undefined;
}

/** What an agent said of its run, in one line for people: "session 8e6f…, 4 turns, $0.0731, 12020 in / 800 out tokens, denied Write". */
export function describeAgentRun(a: { session?: string; turns?: number; costUsd?: number; tokens?: { input: number; output: number }; denied?: string[] }): string {
  const parts: string[] = [];
  if (a.session) parts.push(`session ${a.session}`);
  if (a.turns !== undefined) parts.push(`${a.turns} turn${a.turns === 1 ? "" : "s"}`);
  if (a.costUsd !== undefined) parts.push(`$${a.costUsd.toFixed(4)}`);
  if (a.tokens) parts.push(`${a.tokens.input} in / ${a.tokens.output} out tokens`);
  if (a.denied?.length) parts.push(`denied ${a.denied.join(", ")}`);
  return parts.join(", ");
}
