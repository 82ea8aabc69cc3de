// coord agent hooks install|uninstall <cli>: the hook configuration that shows
// this machine's unread messages to an agent session in a project, written
// into the project's own config files (src/core/agents/hooks.ts says what), with
// every change printed. No COORD_DIR to remember: the hook names the prompt
// file of this checkout by its absolute path.
import { mkdir, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type AgentCli, AGENTS } from "../core/agents/agents.js";
import { installJson, uninstallJson } from "../core/agents/hooks.js";
import { installLocal, installMcp, SERVER_NAME, type ServerCommand, uninstallLocal, uninstallMcp } from "../core/agents/mcp-config.js";
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

/** Marks coord's own plugin file, so uninstall never removes a file someone else wrote. */
const OWN_MARK = "coord agent hooks install";

/** The adapter's part `part` of a CLI the command line offers for it (a name it does not offer is a caller's mistake). */
function partOf<K extends "hooks" | "mcp">(agent: string, part: K): NonNullable<AgentCli[K]> {
  const found = AGENTS.get(agent)?.[part];
  if (!found) throw new CoordError(`coord does not know ${part === "mcp" ? "the MCP settings" : "the hooks"} of "${agent}"`, EXIT.USAGE);
  return found as NonNullable<AgentCli[K]>;
}

export interface HooksOptions {
  /** The machine's checkout. */
  dir: string;
  agent: string;
  /** The project the agent works in (its config files), or… */
  project?: string;
  /** …the user's home, for the CLI's global config. */
  home?: string;
  uninstall?: boolean;
}

export async function agentHooks(opts: HooksOptions): Promise<HooksResult> {
  // One project, where an older install wrote the hook (this machine's path) into a file teams commit (Claude Code's
  // shared settings). Read first: a file coord cannot read stops everything, with one sentence.
  const hooks = partOf(opts.agent, "hooks");
  const former = hooks.former && opts.home === undefined ? hooks.former : undefined;
  const shared = former ? resolve(opts.project ?? ".", former) : undefined;
  const old = shared ? uninstallJson(hooks.plan, await readIfExists(shared, `reading the ${opts.agent} settings file`)) : undefined;
  if (old && "error" in old) throw new CoordError(old.error.replace(hooks.plan.file, former!), EXIT.USAGE);
  const r = await agentHooksIn(opts);
  if (shared && old?.removed) {
    await writeThroughLink(shared, old.text ?? "{}\n");
    r.changes.unshift(`${former}: coord's hook taken out (it held this machine's path in a file teams commit); it is in ${hooks.plan.file} now`);
  }
  return r;
}

async function agentHooksIn(opts: HooksOptions): Promise<HooksResult> {
  const hooks = partOf(opts.agent, "hooks");
  const plan = hooks.plan;
  const path = opts.home !== undefined ? join(opts.home, hooks.global) : resolve(opts.project ?? ".", plan.file);
  const shown = opts.home !== undefined ? `~/${hooks.global}` : plan.file;
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
    const r = uninstallJson(plan, text);
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
    const r = installJson(plan, text, promptFile);
    if ("error" in r) throw new CoordError(r.error, EXIT.USAGE);
    if (!r.changed) changes.push(`${shown}: already installed, nothing changed`);
    else {
      await writeThroughLink(path, r.text);
      changes.push(`${shown}: ${text === undefined ? "written" : "updated"}: ${plan.events.join(" and ")} ${plan.events.length > 1 ? "hooks" : "hook"} print ${promptFile}`);
    }
  }
  return { changes, notes: [...hooks.notes, `Messages for ${m.config.name} show up once a sync delivers them; acknowledge one with coord inbox ack <id>.`] };
}

// ------------------------------------------------- coord agent install <cli>

export interface McpInstallOptions {
  /** The machine's checkout (install only: the server is started for it). */
  dir: string;
  agent: string;
  /** The project the agent works in, or… */
  project?: string;
  /** …the user's home, for the CLI's config of every project. */
  home?: string;
  uninstall?: boolean;
  /** The environment, for a CLI whose config directory a variable names (CODEX_HOME; default: this process's). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The user's home, where a CLI with a local scope keeps a project's servers (~/.claude.json; default: os.homedir()). */
  userHome?: string;
}

/** The file of `agent`'s config that holds its MCP servers, and how to show it. */
async function mcpFile(opts: McpInstallOptions): Promise<{ path: string; shown: string }> {
  const plan = partOf(opts.agent, "mcp");
  if (opts.home !== undefined) {
    const dir = plan.homeVariable ? (opts.env ?? process.env)[plan.homeVariable] : undefined;
    if (dir && plan.homeFile) return { path: join(dir, plan.homeFile), shown: join(dir, plan.homeFile) };
    return { path: join(opts.home, plan.global), shown: `~/${plan.global}` };
  }
  const project = resolve(opts.project ?? ".");
  // A CLI that reads other names of its file as well (opencode.jsonc): the one the project has is the one to change.
  if (!(await exists(join(project, plan.project))))
    for (const other of plan.alternatives ?? []) if (await exists(join(project, other))) return { path: join(project, other), shown: other };
  return { path: join(project, plan.project), shown: plan.project };
}

/**
 * Registers `coord mcp --dir <checkout>` as the MCP server "coord" of an agent CLI, in the file that CLI documents
 * (src/core/agents/mcp-config.ts), or takes exactly that entry out again; prints one line per file.
 */
export async function agentMcp(opts: McpInstallOptions): Promise<HooksResult> {
  const plan = partOf(opts.agent, "mcp");
  if (plan.local && opts.home === undefined) return localMcp(opts, plan.local);
  const { path, shown } = await mcpFile(opts);
  const text = await readIfExists(path, "reading the agent CLI's MCP settings file");
  const changes: string[] = [];
  if (opts.uninstall) {
    const r = uninstallMcp(partOf(opts.agent, "mcp"), shown, text);
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
  const r = installMcp(plan, shown, text, command);
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
    notes: [plan.notes[opts.home !== undefined ? "global" : "project"], `The tools act as ${m.config.name}; coord agent uninstall ${opts.agent} takes the server out.`],
  };
}

/**
 * One project of a CLI with a local scope (Claude Code): coord's server in the home's file (`local`, ~/.claude.json:
 * this project on this machine only), never in the project's file (.mcp.json, a file teams commit: an older
 * install's entry there, with this machine's paths, is taken out by install and uninstall alike).
 */
async function localMcp(opts: McpInstallOptions, local: string): Promise<HooksResult> {
  const plan = partOf(opts.agent, "mcp");
  const project = resolve(opts.project ?? ".");
  const changes: string[] = [];
  const shared = join(project, plan.project);
  const sharedText = await readIfExists(shared, `reading the project's ${plan.project}`);
  const old = uninstallMcp(plan, plan.project, sharedText);
  if ("error" in old) throw new CoordError(old.error, EXIT.USAGE);
  if (old.removed) {
    if (old.text === undefined) await rm(shared);
    else await writeThroughLink(shared, old.text);
    changes.push(
      `${plan.project}: coord's server taken out (it held this machine's paths in a file teams commit)${old.text === undefined ? "; the file held nothing else and is removed" : ""}`,
    );
  }
  const file = join(opts.userHome ?? homedir(), local);
  const shown = `~/${local} (local scope of ${project})`;
  const text = await readIfExists(file, `reading ${opts.agent}'s ~/${local}`);
  if (opts.uninstall) {
    const r = uninstallLocal(shown, text, project);
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
  const r = installLocal(plan, shown, text, project, command);
  if ("error" in r) throw new CoordError(r.error, EXIT.USAGE);
  if (!r.changed) changes.push(`${shown}: already installed, nothing changed`);
  else {
    await writeThroughLink(file, r.text);
    changes.push(`${shown}: ${text === undefined ? "written" : "updated"}: MCP server "${SERVER_NAME}" runs ${[command.command, ...command.args].join(" ")}`);
  }
  return { changes, notes: [plan.notes.project, `The tools act as ${m.config.name}; coord agent uninstall ${opts.agent} --project ${project} takes the server out.`] };
}
