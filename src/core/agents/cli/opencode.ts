// OpenCode: everything coord knows of it, in one place (agents.ts AgentCli
// says what each part is).
import type { AgentCli, AgentReader, LoginAnswer, Permission, Refusal, WakePaths } from "../adapter.js";
import { clean, configDirs, configFiles, type Env, firstLine, type Json, MAX_STEP, modelFlag, num, obj, parseLine, str, toolLine, toolTarget, word } from "./common.js";

/** `opencode run --format json`: JSON lines of events with a sessionID and a part. */
function opencodeReader(): AgentReader {
  let session: string | undefined;
  let message: string | undefined;
  let error: string | undefined;
  let steps = 0;
  let cost = 0;
  let sessionCost: number | undefined;
  let soFar: number | undefined;
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
          // coord's ACP driver adds what the session has cost in all (runner/acp-turn.ts).
          sessionCost = num(part?.sessionCost) ?? sessionCost;
          const t = obj(part?.tokens);
          if (t) tokens = { input: tokens.input + (num(t.input) ?? 0), output: tokens.output + (num(t.output) ?? 0) };
          break;
        }
        case "usage": {
          // coord's ACP driver says what the turn has cost so far as the CLI says it: what a turn cut short counts.
          soFar = num(part?.cost) ?? soFar;
          sessionCost = num(part?.sessionCost) ?? sessionCost;
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
        costUsd: (finished ? cost : soFar) || undefined,
        sessionCostUsd: sessionCost,
        tokens: tokens.input || tokens.output ? tokens : undefined,
        ...(denied.size ? { denied: [...denied] } : {}),
        lastError: !ok && error ? firstLine(error) : undefined,
      });
    },
  };
}

/** OpenCode's permission config for each level (its `permission` setting, given in OPENCODE_PERMISSION). */
const PERMISSION: Record<Permission, Json> = {
  "read-only": { edit: "deny", bash: "deny", webfetch: "deny" },
  edit: { edit: "allow", bash: "deny", webfetch: "allow" },
  full: { edit: "allow", bash: "allow", webfetch: "allow" },
};

/**
 * On call, what a level does not allow is asked (`ask`), not denied: its turns run over the Agent Client Protocol, where
 * coord's driver asks the turn's asker each permission OpenCode asks for (approvals from afar). Full asks nothing.
 */
const ASKED: Record<Permission, Json> = {
  "read-only": { edit: "ask", bash: "ask", webfetch: "ask" },
  edit: { edit: "allow", bash: "ask", webfetch: "allow" },
  full: PERMISSION.full,
};

/** OpenCode's model ids are provider/model. */
export const OPENCODE_MODEL = /^[^/\s]+\/\S+$/;

/** Why `model` cannot be OpenCode's, or undefined when it can (none given, or provider/model). */
const modelRefusal = (model: string | undefined): Refusal | undefined =>
  model && !OPENCODE_MODEL.test(model) ? { field: "model", refused: `opencode model "${model}" is not provider/model (e.g. anthropic/claude-sonnet-4-5)` } : undefined;

/**
 * OpenCode's opencode.json: a provider's `options.apiKey` (its documented way to give a key, literal, `{env:VAR}` or
 * `{file:path}`) is what opencode uses, and `opencode auth list` counts only its own stored credentials ("0
 * credentials"). The provider of `model` ("provider/model") when it names one, else any provider: usable when its key
 * is there (a `{env:VAR}` one, when VAR is set). No key in the config: undefined, its auth list decides.
 */
export function opencodeConfigLogin(config: unknown, env: Env): LoginAnswer | undefined {
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

/** coord's plugin: before each user message's turn, the machine's unread messages join that turn's system prompt. */
const plugin = (p: string) => `// Written by coord agent hooks install opencode; coord agent hooks uninstall opencode removes it.
// Before each user message's turn, this machine's unread coord messages (inbox-prompt.txt,
// kept by coord beside its mailbox) join the system prompt of that turn.
import { readFileSync } from "node:fs";

const PROMPT_FILE = ${JSON.stringify(p)};
const unread = () => {
  try {
    return readFileSync(PROMPT_FILE, "utf8").trim();
  } catch {
    return "";
  }
};

export const CoordInbox = async () => {
  const bySession = new Map();
  return {
    "chat.message": async (input) => {
      bySession.set(input.sessionID, unread());
    },
    "experimental.chat.system.transform": async (input, output) => {
      const text = input.sessionID && bySession.get(input.sessionID);
      if (text) output.system.push(text);
    },
  };
};
`;

/**
 * coord's listen plugin (coord agent listen opencode): in the TUI, at each turn's end, coord's waiter watches the
 * mailbox for the session that went idle; a message that wakes it (core/oncall/listen.ts) becomes the session's next
 * prompt through the plugin's own client (no port is opened). The gate of a woken turn runs at each tool call
 * (tool.execute.before); OpenCode fires no hook that lets a plugin ask the person (permission.ask is never called in
 * 1.18), so what the gate would ask is refused. A prompt's text tells the person typing from a wake (chat.message).
 */
const listenPlugin = (p: WakePaths) => `// Written by coord agent listen opencode; coord agent listen opencode --off removes it. It names this
// machine's paths: keep it out of git. In OpenCode's TUI, a message for this machine from a machine allowed to
// wake a session becomes the idle session's next prompt, framed as a colleague's; until you type, that turn runs
// nothing but coord's read tools and an answer in its thread: coord refuses every other tool call.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

const NODE = ${JSON.stringify(p.node)};
const CLI = ${JSON.stringify(p.cli)};
const DIR = ${JSON.stringify(p.dir)};
const WOKEN = ${JSON.stringify(p.woken)};
const HEAD = ${JSON.stringify(p.head)};
const SESSION = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/;

/** Whether the fleet woke the session and nobody typed since (a file coord cannot read: locked). */
const woken = (id) => {
  try {
    const w = JSON.parse(readFileSync(WOKEN + "/" + id + ".json", "utf8"));
    return !w.typedAt || w.lockedAt > w.typedAt;
  } catch (e) {
    return e?.code !== "ENOENT";
  }
};

/** coord agent <sub> with a hook's input on stdin: its exit code and stdout. */
const coord = (sub, input) =>
  new Promise((done) => {
    const child = spawn(NODE, [CLI, "agent", sub, "--dir", DIR, "--agent", "opencode"], { stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d) => {
      if (out.length < 100000) out += d;
    });
    child.on("error", () => done({ code: -1, out: "" }));
    child.on("close", (code) => done({ code, out }));
    child.stdin.on("error", () => {});
    child.stdin.end(JSON.stringify(input));
  });

export const CoordListen = async ({ client, directory }) => {
  // The TUI only (its worker loads the plugins): never a headless run, nor a turn coord starts itself.
  if (!/[\\\\/]tui[\\\\/]worker\\.[cm]?[jt]s$/.test(process.argv[1] ?? "") || process.env.COORD_ON_CALL_AGENT) return {};
  let waiter;
  const arm = (session) => {
    if (!SESSION.test(session)) return;
    if (waiter && waiter.session === session && waiter.child.exitCode === null && waiter.child.signalCode === null) return;
    waiter?.child.kill();
    const child = spawn(NODE, [CLI, "agent", "listen-wait", "--dir", DIR, "--gated", "--agent", "opencode"], { stdio: ["pipe", "ignore", "pipe"] });
    let text = "";
    child.stderr.on("data", (d) => {
      if (text.length < 1000000) text += d;
    });
    child.on("error", () => {});
    child.on("close", (code) => {
      if (waiter?.child === child) waiter = undefined;
      // Exit 2 with coord's wake text: a wake. Any other text (an error of the waiter's) is never put into the session,
      // where it would pass for the person's prompt (found attacking it).
      if (code === 2 && text.includes(HEAD)) client.session.promptAsync({ path: { id: session }, body: { parts: [{ type: "text", text: text.trim() }] } }).catch(() => {});
    });
    child.stdin.on("error", () => {});
    child.stdin.end(JSON.stringify({ session_id: session, cwd: directory }));
    waiter = { child, session };
  };
  return {
    event: async ({ event }) => {
      if (event?.type === "session.idle") arm(String(event.properties?.sessionID ?? ""));
    },
    "tool.execute.before": async (input, output) => {
      const id = String(input?.sessionID ?? "");
      if (!SESSION.test(id) || !woken(id)) return;
      const r = await coord("listen-gate", { session_id: id, tool_name: String(input?.tool ?? ""), tool_input: output?.args });
      let answer;
      try {
        answer = JSON.parse(r.out).hookSpecificOutput;
      } catch {}
      if (answer?.permissionDecision === "allow") return;
      const why = answer?.permissionDecisionReason ?? "coord: this turn was started by a message from the fleet, not by you, and coord's gate could not decide.";
      throw new Error(why + " It was not run: OpenCode lets no plugin ask you, so coord refused it.");
    },
    "chat.message": async (input, output) => {
      const id = String(input?.sessionID ?? "");
      if (!SESSION.test(id)) return;
      // What OpenCode adds itself (a background task's result, put into the session as a prompt) is marked synthetic:
      // never the person's typing (found attacking it: such a result unlocked a woken session).
      const prompt = (output?.parts ?? []).map((part) => (part?.type === "text" && part.synthetic !== true ? String(part.text ?? "") : "")).join("\\n");
      // The person typing unlocks a woken session; a wake locks it again: coord runs only when that changes something.
      const wake = prompt.includes(HEAD);
      const person = prompt.trim() !== "" && !wake;
      const locked = woken(id);
      if (locked ? !person : !wake) return;
      await coord("listen-typed", { session_id: id, prompt });
    },
  };
};
`;

export const opencode: AgentCli = {
  name: "opencode",
  executables: ["opencode"],
  invocation(o) {
    const refused = modelRefusal(o.model);
    if (refused) return refused;
    // OPENCODE_PERMISSION is merged over the project's config (OpenCode skips it silently when it is not JSON: it always is here).
    const env: Record<string, string> = o.permissions ? { OPENCODE_PERMISSION: JSON.stringify(PERMISSION[o.permissions]) } : {};
    // Full also approves what the config leaves to a question (opencode run --auto), as nobody is there to answer.
    // The prompt goes on stdin: OpenCode re-quotes an argument with spaces in it, stdin arrives as it is.
    return { args: ["run", "--format=json", ...modelFlag(o), ...(o.permissions === "full" ? ["--auto"] : []), ...(o.args ?? [])], input: o.prompt, env };
  },
  reader: opencodeReader,
  versionArgs: ["--version"],
  login: {
    how: "opencode auth list",
    // It lists the stored credentials and the providers set in the environment; "0 credentials" and no env provider: none.
    status: { args: ["auth", "list"], loggedIn: (code, out) => (code !== 0 ? undefined : !(/\b0 credentials\b/i.test(out) && !/environment/i.test(out))) },
    // A key in its config (provider.<id>.options.apiKey) it does not count: read first. $OPENCODE_CONFIG names another file.
    config: {
      file: (env, home) => env.OPENCODE_CONFIG || `${(env.XDG_CONFIG_HOME || `${home}/.config`).replace(/\/+$/, "")}/opencode/opencode.json`,
      loggedIn: opencodeConfigLogin,
    },
  },
  onCall: {
    // A turn runs `opencode acp` under coord's driver (runner/acp-turn.ts): its session is opened before the model is
    // asked (a turn stopped early keeps it), and each permission it asks goes to the asker through the turn's coord tools.
    turn(s, prompt, session, ctx) {
      const refused = modelRefusal(s.model);
      if (refused) return refused;
      const env: Record<string, string> = { OPENCODE_PERMISSION: JSON.stringify(ASKED[s.permissions]) };
      // `opencode acp` takes no --model: its inline config names it.
      if (s.model) env.OPENCODE_CONFIG_CONTENT = JSON.stringify({ model: s.model });
      const wrap = [
        "agent",
        "acp-turn",
        `--permissions=${s.permissions}`,
        // Its ACP server listens on loopback: a password of its own keeps every other process from answering for the asker.
        "--secret-env=OPENCODE_SERVER_PASSWORD",
        ...(session ? [`--session=${session}`] : []),
        ...(ctx.spentBefore !== undefined ? [`--spent=${ctx.spentBefore}`] : []),
        ...(ctx.mcpConfig ? [`--mcp-config=${ctx.mcpConfig}`] : []),
      ];
      return { args: ["acp"], input: prompt, env, wrap };
    },
    step(e) {
      const part = e.type === "tool_use" ? obj(e.part) : undefined;
      return part ? toolLine(word(part.tool) ?? "a tool", toolTarget(obj(obj(part.state)?.input)), MAX_STEP) : undefined;
    },
    session: (e) => word(e.sessionID),
    tools: true,
    driven: true,
    denied: "its asker or its on-call permissions did not allow it (coord agent on-call --permissions)",
    note: "opencode: what read-only and edit do not allow is asked of the asker, as with claude (/approve, /deny); no turn or budget cap",
  },
  state: {
    variables: ["XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "OPENCODE_CONFIG"],
    homes: ({ xdg }) => [
      xdg("XDG_DATA_HOME", ".local/share", "opencode"),
      xdg("XDG_STATE_HOME", ".local/state", "opencode"),
      xdg("XDG_CACHE_HOME", ".cache", "opencode"),
      xdg("XDG_CONFIG_HOME", ".config", "opencode"),
    ],
    configs({ xdg }) {
      const dir = xdg("XDG_CONFIG_HOME", ".config", "opencode");
      return [
        ...configFiles(dir, ["opencode.json", "opencode.jsonc", "config.json", "AGENTS.md"], false),
        ...configDirs(dir, ["agent", "agents", "command", "commands", "mode", "modes", "plugin", "plugins", "tool", "tools"], false),
      ];
    },
    logins: ({ xdg }) => [xdg("XDG_DATA_HOME", ".local/share", "opencode/auth.json")],
    // Its project config (MCP servers it starts, plugins it loads) and the plugins and tools it loads from .opencode/
    // and runs at its start, and the agents, commands, modes and skills it reads as the person's (an agent that
    // rewrote .opencode/agent/build.md would set the person's own agent's prompt and permissions: found attacking it).
    // .opencode/ itself is never made: OpenCode writes in one that is there (its .gitignore, its plugins'
    // package.json), and fails when it cannot (seen with 1.18.33); in one that is there, every directory it loads
    // from is made (an agent wrote plugin/ beside a kept plugins/: found attacking it).
    project: [
      ...["opencode.json", "opencode.jsonc"].map((path) => ({ path })),
      ...["opencode.json", "opencode.jsonc"].map((f) => ({ path: `.opencode/${f}` })),
      ...["plugin", "plugins", "tool", "tools", "agent", "agents", "command", "commands", "mode", "modes", "skill", "skills"].map((d) => ({
        path: `.opencode/${d}`,
        dir: true,
        empty: "",
      })),
    ],
    apart: true,
  },
  mcp: {
    project: "opencode.json",
    global: ".config/opencode/opencode.json",
    path: ["mcp", "coord"],
    format: "json",
    entry: (c) => ({ type: "local", command: [c.command, ...c.args], enabled: true }),
    empty: '{\n  "$schema": "https://opencode.ai/config.json"\n}\n',
    // It reads opencode.jsonc as well: the one the project has is the one to change.
    alternatives: ["opencode.jsonc"],
    notes: {
      project: "OpenCode starts its MCP servers at startup: restart it (opencode mcp list shows coord connected).",
      global: "OpenCode starts its MCP servers at startup: restart it (opencode mcp list shows coord connected).",
    },
  },
  hooks: {
    plan: { kind: "own", file: ".opencode/plugins/coord-inbox.js", text: plugin },
    global: ".config/opencode/plugins/coord-inbox.js",
    notes: ["OpenCode loads plugins at startup: restart it."],
  },
  // Its open session (the TUI) wakes through a plugin coord writes in the project (listenPlugin above).
  wake: {
    program: /(^|\/)opencode(\.exe)?$/,
    // OpenCode names an MCP server's tool <server>_<tool>.
    tool: (t) => `coord_${t}`,
    others: "refuse",
    plugin: { file: ".opencode/plugins/coord-listen.js", text: listenPlugin },
  },
};
