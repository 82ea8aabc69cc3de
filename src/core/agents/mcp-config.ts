// The entry `coord agent install` puts into an agent CLI's MCP settings so
// that the CLI starts `coord mcp` for its sessions (each CLI's file and entry
// are its adapter's, cli/<name>.ts `mcp`), and the tools that server serves.
//
// Pure: text in, text out. The rest of the user's file is kept as it was
// (JSON with comments is edited in place by jsonc-parser; TOML by whole
// tables, the result checked by parsing it back), and uninstall takes out
// only an entry that runs `coord mcp`.
import { isDeepStrictEqual } from "node:util";
import { applyEdits, modify, type ParseError, parse as parseJsonc, printParseErrorCode } from "jsonc-parser";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { isRecord } from "../types.js";

/** The tools `coord mcp` serves, in the order a client lists them: the one list their names come from (actions/mcp-tools.ts TOOLS, help texts). */
export const MCP_TOOLS = [
  "whoami",
  "inbox",
  "ack",
  "send",
  "thread",
  "status",
  "order_add",
  "reserve",
  "release",
  "reservations",
  "sync",
  "stop_turn",
  "approve",
  "permission_prompt",
] as const;
export type McpToolName = (typeof MCP_TOOLS)[number];

/**
 * The tools a turn of an agent on call is served (commands/turn-tools.ts), outside its sandbox: it reads the fleet,
 * messages in its turn's name (marked as its agent's) and asks its asker for a permission. None acts as the machine:
 * no order (it would run outside any sandbox), no decision on a request (an approval is a person's), no
 * acknowledgement, no reservation, no sync, no stop of a turn.
 */
export const TURN_TOOLS: readonly McpToolName[] = ["whoami", "inbox", "thread", "send", "status", "reservations", "permission_prompt"];

/** In the environment of `coord mcp --connect` (a turn's relay, inside its sandbox): the token its coord tools are opened with. */
export const RELAY_TOKEN_ENV = "COORD_MCP_TOKEN";

/** The server's name in every CLI's config. */
export const SERVER_NAME = "coord";

/** How the CLI starts the server: a program and its arguments (absolute paths: no PATH needed). */
export interface ServerCommand {
  command: string;
  args: string[];
}

/** Where a CLI reads its MCP servers, and coord's entry there (each adapter, cli/<name>.ts, gives its own). */
export interface McpPlan {
  /** The file, relative to the project. */
  project: string;
  /** The file, relative to the home directory (the CLI's config for every project). */
  global: string;
  /** The keys leading to the entry (JSON), or the table (TOML). */
  path: [string, string];
  format: "json" | "toml";
  entry(cmd: ServerCommand): Record<string, unknown>;
  /** The text of a new file, before the entry goes in. */
  empty?: string;
}

type Json = Record<string, unknown>;

/** coord's entry at `path` in a parsed config, where install would write it: what is there now, or why it will not write. */
function entryToWrite(root: Json, [group, name]: [string, string], file: string, table: "object" | "table"): { existing: unknown } | { error: string } {
  const servers = root[group];
  if (servers !== undefined && !isRecord(servers)) return { error: `${file}: "${group}" is not ${table === "object" ? "an object" : "a table"}; fix it, then run this again` };
  const existing = servers?.[name];
  if (existing !== undefined && !isCoordEntry(existing)) return { error: notOursError(file) };
  return { existing };
}

/** Whether uninstall has an entry at `path` to take out: none, one that is not coord's (left alone), or coord's. */
function entryToRemove(root: Json, [group, name]: [string, string]): "none" | "not ours" | "ours" {
  const servers = root[group];
  if (!isRecord(servers) || servers[name] === undefined) return "none";
  return isCoordEntry(servers[name]) ? "ours" : "not ours";
}

/** The command line of an entry in any of the formats above. */
function argvOf(entry: unknown): string[] {
  if (!isRecord(entry)) return [];
  const command = entry.command;
  const args = Array.isArray(entry.args) ? entry.args : [];
  const all = Array.isArray(command) ? command : [command, ...args];
  return all.filter((a): a is string => typeof a === "string");
}

/** Whether an entry starts `coord mcp` (coord's own, or one a person wrote for it): what uninstall may take out. */
export function isCoordEntry(entry: unknown): boolean {
  const argv = argvOf(entry);
  const coord = argv.some((a) => /(^|[\\/])coord(\.m?js)?$/.test(a));
  return coord && argv.includes("mcp");
}

export type Installed = { text: string; changed: boolean } | { error: string };
/** `text` undefined: nothing of the user's is left, the file goes. `notOurs`: a server named coord that does not run coord mcp, left alone. */
export type Uninstalled = { text: string | undefined; removed: boolean; notOurs?: boolean } | { error: string };

const notOursError = (file: string) => `${file} already has an MCP server named "${SERVER_NAME}" that does not run coord mcp; rename or remove that entry, then run this again`;

/** The text of `file` with coord's server in it (replacing coord's own entry of before), or why it cannot be changed. */
export function installMcp(plan: McpPlan, file: string, text: string | undefined, cmd: ServerCommand): Installed {
  return plan.format === "json" ? installJson(plan, file, text, cmd) : installToml(plan, file, text, cmd);
}

/** The text of `file` without coord's server, or why it cannot be changed. */
export function uninstallMcp(plan: McpPlan, file: string, text: string | undefined): Uninstalled {
  if (text === undefined) return { text: undefined, removed: false };
  return plan.format === "json" ? uninstallJson(plan, file, text) : uninstallToml(plan, file, text);
}

// --------------------------------------------------------------------- JSON

const FORMAT = { formattingOptions: { insertSpaces: true, tabSize: 2, eol: "\n" } };

function readJson(file: string, text: string): Json | string {
  if (text.trim() === "") return {};
  const errors: ParseError[] = [];
  const value: unknown = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length)
    return `${file} is not valid JSON (${printParseErrorCode(errors[0]!.error)} at offset ${errors[0]!.offset}); fix it, then run this again (coord never overwrites a file it cannot read)`;
  return isRecord(value) ? value : `${file} is not a JSON object; fix or move it, then run this again`;
}

function installJson(plan: McpPlan, file: string, text: string | undefined, cmd: ServerCommand): Installed {
  const start = text === undefined || text.trim() === "" ? (plan.empty ?? "{}\n") : text;
  const root = readJson(file, start);
  if (typeof root === "string") return { error: root };
  const found = entryToWrite(root, plan.path, file, "object");
  if ("error" in found) return found;
  const entry = plan.entry(cmd);
  if (found.existing !== undefined && isDeepStrictEqual(found.existing, entry) && text !== undefined) return { text, changed: false };
  let out = applyEdits(start, modify(start, plan.path, entry, FORMAT));
  if (!out.endsWith("\n")) out += "\n";
  return { text: out, changed: out !== text };
}

function uninstallJson(plan: McpPlan, file: string, text: string): Uninstalled {
  const root = readJson(file, text);
  if (typeof root === "string") return { error: root };
  const there = entryToRemove(root, plan.path);
  if (there !== "ours") return { text, removed: false, ...(there === "not ours" ? { notOurs: true } : {}) };
  const [group] = plan.path;
  let out = applyEdits(text, modify(text, plan.path, undefined, FORMAT));
  // An object of servers left empty was coord's alone; a file left with nothing (or only OpenCode's $schema) goes.
  const after = readJson(file, out);
  if (typeof after !== "string" && isRecord(after[group]) && Object.keys(after[group]).length === 0) out = applyEdits(out, modify(out, [group], undefined, FORMAT));
  const rest = readJson(file, out);
  const left = typeof rest === "string" ? ["?"] : Object.keys(rest).filter((k) => k !== "$schema");
  return { text: left.length ? out : undefined, removed: true };
}

// --------------------------------------------------------------------- TOML

/** The comment above the table coord writes: says who wrote it and how it goes. */
export const TOML_MARK = "# coord agent install wrote this table; coord agent uninstall takes it out";

/** A table header's key path (`[a."b.c".d]` → a, b.c, d), or undefined for a line that is no table header. */
function headerPath(line: string): string[] | undefined {
  if (!/^\s*\[(?!\[)/.test(line)) return undefined;
  let value: unknown;
  try {
    value = parseToml(line); // a header alone is a document: {a: {"b.c": {d: {}}}}
  } catch {
    return undefined;
  }
  const keys: string[] = [];
  while (isRecord(value) && Object.keys(value).length === 1) {
    const key = Object.keys(value)[0]!;
    keys.push(key);
    value = value[key];
  }
  return keys.length ? keys : undefined;
}

/** The lines without coord's table(s) (the table, its sub-tables, and coord's comment above it); where the first one was. */
function withoutTable(lines: string[], path: string[]): { lines: string[]; at: number | undefined } {
  const out: string[] = [];
  let at: number | undefined;
  let inside = false;
  for (const line of lines) {
    const keys = headerPath(line);
    if (keys) inside = keys.length >= path.length && path.every((p, i) => keys[i] === p);
    if (inside) {
      if (keys && at === undefined) {
        if (out.at(-1) === TOML_MARK) out.pop();
        at = out.length;
      }
      continue;
    }
    out.push(line);
  }
  // The blank line coord put before its table, when it stood at the end.
  if (at !== undefined && at === out.length) while (out.length && out.at(-1)!.trim() === "") out.pop();
  return { lines: out, at };
}

/** A value for comparing: keys in order, no prototypes (smol-toml gives objects without one). */
const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (isRecord(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));

function readToml(file: string, text: string): Json | string {
  try {
    return parseToml(text) as Json;
  } catch (e) {
    const first = String((e as Error).message ?? e).split("\n")[0];
    return `${file} is not valid TOML (${first}); fix it, then run this again (coord never overwrites a file it cannot read)`;
  }
}

/** The parsed config without the entry at `path`, for comparing everything else. */
function minus(root: Json, [group, name]: [string, string]): Json {
  const copy = JSON.parse(canon(root)) as Json;
  const g = copy[group];
  if (isRecord(g)) {
    delete g[name];
    if (Object.keys(g).length === 0) delete copy[group];
  }
  return copy;
}

function installToml(plan: McpPlan, file: string, text: string | undefined, cmd: ServerCommand): Installed {
  const before = text ?? "";
  const root = readToml(file, before);
  if (typeof root === "string") return { error: root };
  const [group, name] = plan.path;
  const found = entryToWrite(root, plan.path, file, "table");
  if ("error" in found) return found;
  const { existing } = found;
  const entry = plan.entry(cmd);
  if (existing !== undefined && canon(existing) === canon(entry) && text !== undefined) return { text, changed: false };
  const table = [
    TOML_MARK,
    ...stringifyToml({ [group]: { [name]: entry } })
      .trimEnd()
      .split("\n"),
  ];
  const lines = before === "" ? [] : before.replace(/\n$/, "").split("\n");
  const { lines: rest, at } = withoutTable(lines, plan.path);
  if (existing !== undefined && at === undefined)
    return { error: `${file} sets ${group}.${name} in a form coord does not edit (not as a [${group}.${name}] table); change or remove it by hand, then run this again` };
  const next = at === undefined ? [...rest, ...(rest.length ? [""] : []), ...table] : [...rest.slice(0, at), ...table, ...rest.slice(at)];
  const out = `${next.join("\n")}\n`;
  // Parsed back, it must say what was there before plus coord's table: otherwise nothing is written.
  const check = readToml(file, out);
  if (typeof check === "string" || canon(minus(check, plan.path)) !== canon(minus(root, plan.path)) || canon((check[group] as Json | undefined)?.[name]) !== canon(entry))
    return { error: `could not add the [${group}.${name}] table to ${file} without changing the rest; add it by hand:\n${table.slice(1).join("\n")}` };
  return { text: out, changed: out !== text };
}

function uninstallToml(plan: McpPlan, file: string, text: string): Uninstalled {
  const root = readToml(file, text);
  if (typeof root === "string") return { error: root };
  const [group, name] = plan.path;
  const there = entryToRemove(root, plan.path);
  if (there !== "ours") return { text, removed: false, ...(there === "not ours" ? { notOurs: true } : {}) };
  const { lines, at } = withoutTable(text.replace(/\n$/, "").split("\n"), plan.path);
  if (at === undefined) return { error: `${file} sets ${group}.${name} in a form coord does not edit (not as a [${group}.${name}] table); remove it by hand` };
  const out = lines.join("\n").trim() === "" ? undefined : `${lines.join("\n")}\n`;
  const check = readToml(file, out ?? "");
  if (typeof check === "string" || canon(check) !== canon(minus(root, plan.path)))
    return { error: `could not take the [${group}.${name}] table out of ${file} without changing the rest; remove it by hand` };
  return { text: out, removed: true };
}

// ------------------------------------------------ a project's local scope

/**
 * A local scope (Claude Code's): the servers of one project on this machine only, in a file of the home
 * (~/.claude.json) under projects["<the project's absolute path>"].mcpServers (what `claude mcp add --scope local`
 * writes). No file of the project holds this machine's paths, and no approval of a project's servers is asked.
 */
const localPath = (project: string) => ["projects", project, "mcpServers", SERVER_NAME];

/** The home's file with coord's server in the project's local scope (the CLI's other settings kept), or why not. */
export function installLocal(plan: McpPlan, file: string, text: string | undefined, project: string, cmd: ServerCommand): Installed {
  const start = text === undefined || text.trim() === "" ? "{}\n" : text;
  const root = readJson(file, start);
  if (typeof root === "string") return { error: root };
  const projects = root.projects;
  const entry = plan.entry(cmd);
  const servers = isRecord(projects) && isRecord(projects[project]) ? projects[project].mcpServers : undefined;
  if (servers !== undefined && !isRecord(servers)) return { error: `${file}: projects["${project}"].mcpServers is not an object; fix it, then run this again` };
  const existing = servers?.[SERVER_NAME];
  if (existing !== undefined && !isCoordEntry(existing)) return { error: notOursError(file) };
  if (existing !== undefined && isDeepStrictEqual(existing, entry) && text !== undefined) return { text, changed: false };
  let out = applyEdits(start, modify(start, localPath(project), entry, FORMAT));
  if (!out.endsWith("\n")) out += "\n";
  return { text: out, changed: out !== text };
}

/** The home's file without coord's server in the project's local scope; the file stays (it is the CLI's). */
export function uninstallLocal(file: string, text: string | undefined, project: string): Uninstalled {
  if (text === undefined) return { text: undefined, removed: false };
  const root = readJson(file, text);
  if (typeof root === "string") return { error: root };
  const p = isRecord(root.projects) ? root.projects[project] : undefined;
  const servers = isRecord(p) && isRecord(p.mcpServers) ? p.mcpServers : undefined;
  const existing = servers?.[SERVER_NAME];
  if (existing === undefined) return { text, removed: false };
  if (!isCoordEntry(existing)) return { text, removed: false, notOurs: true };
  let out = applyEdits(text, modify(text, localPath(project), undefined, FORMAT));
  if (Object.keys(servers!).length === 1) out = applyEdits(out, modify(out, localPath(project).slice(0, 3), {}, FORMAT));
  return { text: out.endsWith("\n") ? out : `${out}\n`, removed: true };
}
