// coord agent hooks install|uninstall <cli>: the hook configuration that shows
// this machine's unread messages to an agent session in a project, written
// into the project's own config files (src/core/agents/hooks.ts says what), with
// every change printed. No COORD_DIR to remember: the hook names the prompt
// file of this checkout by its absolute path.
import { mkdir, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { CLAUDE_SHARED_SETTINGS, HOOKS, type HookAgent, installJson, uninstallJson } from "../core/agents/hooks.js";
import {
  CLAUDE_LOCAL_FILE,
  installClaudeLocal,
  installMcp,
  MCP_PLANS,
  type McpAgent,
  SERVER_NAME,
  type ServerCommand,
  uninstallClaudeLocal,
  uninstallMcp,
} from "../core/agents/mcp-config.js";
import { CLI_PATH } from "../package.js";
import { CoordError, EXIT } from "../errors.js";
import { exists, readIfExists, writeThroughLink } from "../state/files.js";
import { inboxPromptPath, readMailbox, writeInboxPrompt } from "../state/mailbox.js";
import { openMachine } from "../sync/machine.js";

export interface HooksResult {
  /** One line per file: what was done to it. */
  changes: string[];
  notes: string[];
}

const NOTES: Record<HookAgent, string[]> = {
  claude: [
    "Claude Code reads .claude/settings.local.json at session start: restart open sessions (check with /hooks). It holds this machine's paths; Claude Code keeps it out of git.",
  ],
  codex: [
    "Codex runs a hook only once you trust it: start codex here, open /hooks and trust coord's (it asks again if the hook changes); a project's .codex/hooks.json also needs the project trusted. Until then nothing is shown.",
  ],
  cursor: ["Cursor reads .cursor/hooks.json in a trusted workspace: restart Cursor (Settings → Hooks lists it)."],
  opencode: ["OpenCode loads plugins at startup: restart it."],
};

/** Marks coord's own plugin file, so uninstall never removes a file someone else wrote. */
const OWN_MARK = "coord agent hooks install";

/** The user's own config of each CLI, for --global: the same entries, for every project. */
const GLOBAL: Record<HookAgent, string> = {
  claude: ".claude/settings.json",
  codex: ".codex/hooks.json",
  cursor: ".cursor/hooks.json",
  opencode: ".config/opencode/plugins/coord-inbox.js",
};

export interface HooksOptions {
  /** The machine's checkout. */
  dir: string;
  agent: HookAgent;
  /** The project the agent works in (its config files), or… */
  project?: string;
  /** …the user's home, for the CLI's global config. */
  home?: string;
  uninstall?: boolean;
}

export async function agentHooks(opts: HooksOptions): Promise<HooksResult> {
  // Claude Code, one project: an older install wrote the hook (this machine's path) into the shared settings. Read
  // first: a file coord cannot read stops everything, with one sentence.
  const shared = opts.agent === "claude" && opts.home === undefined ? resolve(opts.project ?? ".", CLAUDE_SHARED_SETTINGS) : undefined;
  const old = shared ? uninstallJson("claude", await readIfExists(shared, "reading the Claude Code settings file")) : undefined;
  if (old && "error" in old) throw new CoordError(old.error.replace(HOOKS.claude.file, CLAUDE_SHARED_SETTINGS), EXIT.USAGE);
  const r = await agentHooksIn(opts);
  if (shared && old?.removed) {
    await writeThroughLink(shared, old.text ?? "{}\n");
    r.changes.unshift(`${CLAUDE_SHARED_SETTINGS}: coord's hook taken out (it held this machine's path in a file teams commit); it is in ${HOOKS.claude.file} now`);
  }
  return r;
}

async function agentHooksIn(opts: HooksOptions): Promise<HooksResult> {
  const plan = HOOKS[opts.agent];
  const path = opts.home !== undefined ? join(opts.home, GLOBAL[opts.agent]) : resolve(opts.project ?? ".", plan.file);
  const shown = opts.home !== undefined ? `~/${GLOBAL[opts.agent]}` : plan.file;
  const text = await readIfExists(path, `reading the ${opts.agent} settings file`);
  const changes: string[] = [];
  if (opts.uninstall) {
    if (plan.kind === "own") {
      if (text === undefined) changes.push(`${shown}: not there, nothing to remove`);
      else if (!text.includes(OWN_MARK)) throw new CoordError(`${path} was not written by coord; it was left alone`, EXIT.USAGE);
      else {
        await rm(path);
        changes.push(`${shown}: removed`);
      }
      return { changes, notes: [] };
    }
    const r = uninstallJson(opts.agent, text);
    if ("error" in r) throw new CoordError(r.error, EXIT.USAGE);
    if (!r.removed) changes.push(`${shown}: no coord hook in it, nothing changed`);
    else if (r.text === undefined) {
      await rm(path);
      changes.push(`${shown}: removed (coord's hook was all it held)`);
    } else {
      await writeThroughLink(path, r.text);
      changes.push(`${shown}: coord's hook entries taken out (${r.removed}); the rest kept as it was`);
    }
    return { changes, notes: [] };
  }
  // The prompt file the hook reads is this checkout's, made now so the hook has something to read before the next sync.
  const m = await openMachine(opts.dir);
  const promptFile = inboxPromptPath(m.stateDir);
  await writeInboxPrompt(m.stateDir, m.config.name, await readMailbox(m.stateDir));
  await mkdir(dirname(path), { recursive: true });
  if (plan.kind === "own") {
    if (text !== undefined && !text.includes(OWN_MARK)) throw new CoordError(`${path} exists and was not written by coord; move it away, then run this again`, EXIT.USAGE);
    const next = plan.text(promptFile);
    if (next === text) changes.push(`${shown}: already installed, nothing changed`);
    else {
      await writeThroughLink(path, next);
      changes.push(`${shown}: ${text === undefined ? "written" : "rewritten"} (reads ${promptFile})`);
    }
  } else {
    const r = installJson(opts.agent, text, promptFile);
    if ("error" in r) throw new CoordError(r.error, EXIT.USAGE);
    if (!r.changed) changes.push(`${shown}: already installed, nothing changed`);
    else {
      await writeThroughLink(path, r.text);
      changes.push(`${shown}: ${text === undefined ? "written" : "updated"}: ${plan.events.join(" and ")} ${plan.events.length > 1 ? "hooks" : "hook"} print ${promptFile}`);
    }
  }
  return { changes, notes: [...NOTES[opts.agent], `Messages for ${m.config.name} show up once a sync delivers them; acknowledge one with coord inbox ack <id>.`] };
}

// ------------------------------------------------- coord agent install <cli>

const MCP_NOTES: Record<McpAgent, { project: string; global: string }> = {
  claude: {
    project: "Claude Code starts a project's local servers with each session: restart open sessions (claude mcp list in the project shows coord; /mcp in a session).",
    global: "Claude Code reads ~/.claude.json at session start: restart open sessions (claude mcp list shows coord).",
  },
  codex: {
    project: "Codex reads a project's .codex/config.toml only once the project is trusted (codex asks the first time it starts there); codex mcp list in the project shows coord.",
    global: "Codex starts its MCP servers with each session: restart open sessions (codex mcp list shows coord).",
  },
  opencode: {
    project: "OpenCode starts its MCP servers at startup: restart it (opencode mcp list shows coord connected).",
    global: "OpenCode starts its MCP servers at startup: restart it (opencode mcp list shows coord connected).",
  },
  cursor: {
    project: "Cursor asks to enable a new MCP server of the project: enable coord (Settings → MCP; cursor-agent mcp list shows it).",
    global: "Cursor loads ~/.cursor/mcp.json at startup: restart it and enable coord (Settings → MCP).",
  },
};

export interface McpInstallOptions {
  /** The machine's checkout (install only: the server is started for it). */
  dir: string;
  agent: McpAgent;
  /** The project the agent works in, or… */
  project?: string;
  /** …the user's home, for the CLI's config of every project. */
  home?: string;
  uninstall?: boolean;
  /** Where Codex keeps its config when CODEX_HOME is set (default: ~/.codex). */
  codexHome?: string;
  /** The user's home, where Claude Code keeps a project's local servers (~/.claude.json; default: os.homedir()). */
  userHome?: string;
}

/** The file of `agent`'s config that holds its MCP servers, and how to show it. */
async function mcpFile(opts: McpInstallOptions): Promise<{ path: string; shown: string }> {
  const plan = MCP_PLANS[opts.agent];
  if (opts.home !== undefined) {
    if (opts.agent === "codex" && opts.codexHome) return { path: join(opts.codexHome, "config.toml"), shown: join(opts.codexHome, "config.toml") };
    return { path: join(opts.home, plan.global), shown: `~/${plan.global}` };
  }
  const project = resolve(opts.project ?? ".");
  // OpenCode reads opencode.jsonc as well: the one the project has is the one to change.
  if (opts.agent === "opencode" && !(await exists(join(project, "opencode.json"))) && (await exists(join(project, "opencode.jsonc"))))
    return { path: join(project, "opencode.jsonc"), shown: "opencode.jsonc" };
  return { path: join(project, plan.project), shown: plan.project };
}

/**
 * Registers `coord mcp --dir <checkout>` as the MCP server "coord" of an agent CLI, in the file that CLI documents
 * (src/core/agents/mcp-config.ts), or takes exactly that entry out again; prints one line per file.
 */
export async function agentMcp(opts: McpInstallOptions): Promise<HooksResult> {
  if (opts.agent === "claude" && opts.home === undefined) return claudeLocalMcp(opts);
  const { path, shown } = await mcpFile(opts);
  const text = await readIfExists(path, "reading the agent CLI's MCP settings file");
  const changes: string[] = [];
  if (opts.uninstall) {
    const r = uninstallMcp(opts.agent, shown, text);
    if ("error" in r) throw new CoordError(r.error, EXIT.USAGE);
    if (text === undefined) changes.push(`${shown}: not there, nothing to remove`);
    else if (r.notOurs) changes.push(`${shown}: its "${SERVER_NAME}" server does not run coord mcp; left alone`);
    else if (!r.removed) changes.push(`${shown}: no coord server in it, nothing changed`);
    else if (r.text === undefined) {
      await rm(path);
      changes.push(`${shown}: removed (coord's server was all it held)`);
    } else {
      await writeThroughLink(path, r.text);
      changes.push(`${shown}: the "${SERVER_NAME}" server taken out; the rest kept as it was`);
    }
    return { changes, notes: [] };
  }
  const m = await openMachine(opts.dir);
  const command: ServerCommand = { command: process.execPath, args: [CLI_PATH, "mcp", "--dir", resolve(m.dir)] };
  const r = installMcp(opts.agent, shown, text, command);
  if ("error" in r) throw new CoordError(r.error, EXIT.USAGE);
  const runs = [command.command, ...command.args].join(" ");
  if (!r.changed) changes.push(`${shown}: already installed, nothing changed`);
  else {
    await mkdir(dirname(path), { recursive: true });
    await writeThroughLink(path, r.text);
    changes.push(`${shown}: ${text === undefined ? "written" : "updated"}: MCP server "${SERVER_NAME}" runs ${runs}`);
  }
  return {
    changes,
    notes: [MCP_NOTES[opts.agent][opts.home !== undefined ? "global" : "project"], `The tools act as ${m.config.name}; coord agent uninstall ${opts.agent} takes the server out.`],
  };
}

/**
 * Claude Code, one project: coord's server in Claude Code's local scope (~/.claude.json, this project on this machine
 * only), never in the project's .mcp.json (a file teams commit: an older install's entry there, with this machine's
 * paths, is taken out by install and uninstall alike).
 */
async function claudeLocalMcp(opts: McpInstallOptions): Promise<HooksResult> {
  const project = resolve(opts.project ?? ".");
  const changes: string[] = [];
  const shared = join(project, MCP_PLANS.claude.project);
  const sharedText = await readIfExists(shared, "reading the project's .mcp.json");
  const old = uninstallMcp("claude", MCP_PLANS.claude.project, sharedText);
  if ("error" in old) throw new CoordError(old.error, EXIT.USAGE);
  if (old.removed) {
    if (old.text === undefined) await rm(shared);
    else await writeThroughLink(shared, old.text);
    changes.push(
      `${MCP_PLANS.claude.project}: coord's server taken out (it held this machine's paths in a file teams commit)${old.text === undefined ? "; the file held nothing else and is removed" : ""}`,
    );
  }
  const file = join(opts.userHome ?? homedir(), CLAUDE_LOCAL_FILE);
  const shown = `~/${CLAUDE_LOCAL_FILE} (local scope of ${project})`;
  const text = await readIfExists(file, "reading Claude Code's ~/.claude.json");
  if (opts.uninstall) {
    const r = uninstallClaudeLocal(shown, text, project);
    if ("error" in r) throw new CoordError(r.error, EXIT.USAGE);
    if (r.notOurs) changes.push(`${shown}: its "${SERVER_NAME}" server does not run coord mcp; left alone`);
    else if (!r.removed) changes.push(`${shown}: no coord server in it, nothing changed`);
    else {
      await writeThroughLink(file, r.text!);
      changes.push(`${shown}: the "${SERVER_NAME}" server taken out; the rest kept as it was`);
    }
    return { changes, notes: [] };
  }
  const m = await openMachine(opts.dir);
  const command: ServerCommand = { command: process.execPath, args: [CLI_PATH, "mcp", "--dir", resolve(m.dir)] };
  const r = installClaudeLocal(shown, text, project, command);
  if ("error" in r) throw new CoordError(r.error, EXIT.USAGE);
  if (!r.changed) changes.push(`${shown}: already installed, nothing changed`);
  else {
    await writeThroughLink(file, r.text);
    changes.push(`${shown}: ${text === undefined ? "written" : "updated"}: MCP server "${SERVER_NAME}" runs ${[command.command, ...command.args].join(" ")}`);
  }
  return { changes, notes: [MCP_NOTES.claude.project, `The tools act as ${m.config.name}; coord agent uninstall claude --project ${project} takes the server out.`] };
}
