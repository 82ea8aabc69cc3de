// The hook configuration coord installs into a project so that an agent
// session there sees this machine's unread messages: which file each CLI reads,
// what entry coord adds, and how it is taken out again. Pure: the command layer
// reads and writes the files.
//
// Every hook answers from one file coord keeps beside the mailbox (the unread
// messages as a prompt block, empty when none), so it costs a `cat`, never a
// coord process or the network.

export const HOOK_AGENTS = ["claude", "codex", "cursor", "opencode"] as const;
export type HookAgent = (typeof HOOK_AGENTS)[number];

/** Entries coord wrote: its prompt file, or (older templates) a call of `coord inbox --format prompt`. */
const OURS = /inbox-prompt\.txt|coord inbox --format prompt/;

/** A path in single quotes for sh. */
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** What to write for one agent CLI: the file (relative to the project) and its new text, or a file of coord's own. */
export type HookPlan =
  | { kind: "json"; file: string; events: string[]; entry: (promptFile: string, event: string) => Record<string, unknown> }
  | { kind: "own"; file: string; text: (promptFile: string) => string };

/** Prints the prompt file, or nothing: a hook that fails must never block a prompt (exit 2 blocks one in Claude Code and Codex). */
const catCommand = (promptFile: string) => `cat ${shellQuote(promptFile)} 2>/dev/null || true`;

/** Cursor's hooks must print JSON: the block as `additional_context` at session start, or a follow-up message after the first stop of a prompt. */
function cursorCommand(promptFile: string, field: "additional_context" | "followup_message"): string {
  const js =
    field === "additional_context"
      ? `let o='';try{o=require('fs').readFileSync(${JSON.stringify(promptFile)},'utf8')}catch{}process.stdout.write(JSON.stringify(o.trim()?{additional_context:o}:{}))`
      : `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{let o='';try{if(!JSON.parse(s).loop_count)o=require('fs').readFileSync(${JSON.stringify(promptFile)},'utf8')}catch{}process.stdout.write(JSON.stringify(o.trim()?{followup_message:o}:{}))})`;
  return `node -e ${shellQuote(js)}`;
}

export const HOOKS: Record<HookAgent, HookPlan> = {
  // UserPromptSubmit only: its stdout joins the context before every prompt, the first one included
  // (a SessionStart hook as well showed the messages twice on the first prompt).
  // The project's local settings: the hook names this machine's prompt file (.claude/settings.json is the team's).
  claude: { kind: "json", file: ".claude/settings.local.json", events: ["UserPromptSubmit"], entry: (p) => ({ hooks: [{ type: "command", command: catCommand(p), timeout: 5 }] }) },
  codex: { kind: "json", file: ".codex/hooks.json", events: ["UserPromptSubmit"], entry: (p) => ({ hooks: [{ type: "command", command: catCommand(p), timeout: 5 }] }) },
  cursor: {
    kind: "json",
    file: ".cursor/hooks.json",
    events: ["sessionStart", "stop"],
    entry: (p, event) => ({ command: cursorCommand(p, event === "stop" ? "followup_message" : "additional_context") }),
  },
  opencode: {
    kind: "own",
    file: ".opencode/plugins/coord-inbox.js",
    text: (p) => `// Written by coord agent hooks install opencode; coord agent hooks uninstall opencode removes it.
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
`,
  },
};

/** Claude Code's shared settings of a project (a file teams commit): an older coord wrote its hooks there. */
export const CLAUDE_SHARED_SETTINGS = ".claude/settings.json";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** An entry of an event list holds coord's command (Claude/Codex: { hooks: [{ command }] }; Cursor: { command }). */
function isOurs(entry: unknown): boolean {
  if (!isObject(entry)) return false;
  if (typeof entry.command === "string" && OURS.test(entry.command)) return true;
  return Array.isArray(entry.hooks) && entry.hooks.some((h) => isObject(h) && typeof h.command === "string" && OURS.test(h.command));
}

/** The config without the hook entries `ours` picks (events left empty are dropped). */
function withoutEntries(config: Json, ours: (entry: unknown) => boolean): { config: Json; removed: number } {
  const hooks = isObject(config.hooks) ? config.hooks : undefined;
  if (!hooks) return { config, removed: 0 };
  let removed = 0;
  const kept: Json = {};
  for (const [event, list] of Object.entries(hooks)) {
    if (!Array.isArray(list)) {
      kept[event] = list;
      continue;
    }
    const rest = list.filter((e) => !ours(e));
    removed += list.length - rest.length;
    if (rest.length) kept[event] = rest;
  }
  const { hooks: _old, ...others } = config;
  return { config: Object.keys(kept).length ? { ...others, hooks: kept } : others, removed };
}

/** The config without coord's prompt-hook entries. */
const withoutOurs = (config: Json) => withoutEntries(config, isOurs);

function parse(file: string, text: string | undefined): Json | string {
  if (text === undefined || text.trim() === "") return {};
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : `${file} is not a JSON object; fix or move it, then run this again`;
  } catch (e) {
    return `${file} is not valid JSON (${(e as Error).message}); fix it, then run this again (coord never overwrites a file it cannot read)`;
  }
}

const render = (config: Json) => `${JSON.stringify(config, null, 2)}\n`;

/** The new text of a JSON hook file with coord's entries (replacing any it wrote before), or why it cannot be changed. */
export function installJson(agent: HookAgent, text: string | undefined, promptFile: string): { text: string; changed: boolean } | { error: string } {
  const plan = HOOKS[agent];
  if (plan.kind !== "json") throw new Error(`${agent} has no JSON hook file`);
  const parsed = parse(plan.file, text);
  if (typeof parsed === "string") return { error: parsed };
  const { config } = withoutOurs(parsed);
  const hooks: Json = isObject(config.hooks) ? { ...config.hooks } : {};
  for (const event of plan.events) hooks[event] = [...(Array.isArray(hooks[event]) ? (hooks[event] as unknown[]) : []), plan.entry(promptFile, event)];
  const next: Json = { ...(agent === "cursor" ? { version: 1 } : {}), ...config, hooks };
  const out = render(next);
  return { text: out, changed: out !== text };
}

/** The text without coord's entries (undefined: nothing else was in the file, remove it), or why it cannot be changed. */
export function uninstallJson(agent: HookAgent, text: string | undefined): { text: string | undefined; removed: number } | { error: string } {
  const plan = HOOKS[agent];
  if (text === undefined) return { text: undefined, removed: 0 };
  const parsed = parse(plan.file, text);
  if (typeof parsed === "string") return { error: parsed };
  const { config, removed } = withoutOurs(parsed);
  if (!removed) return { text, removed: 0 };
  const rest = Object.keys(config).filter((k) => !(agent === "cursor" && k === "version") && k !== "$schema");
  return { text: rest.length ? render(config) : undefined, removed };
}

// ------------------------------------------ an open session hears the fleet

/** coord's waiter, gate or typed-prompt hook in a hook entry (coord agent listen). */
const LISTEN_OURS = /\bagent'? '?listen-wait\b|coord-listen-(gate|typed)\b/;

const isListenEntry = (entry: unknown): boolean =>
  isObject(entry) && Array.isArray(entry.hooks) && entry.hooks.some((h) => isObject(h) && typeof h.command === "string" && LISTEN_OURS.test(h.command));

/**
 * Claude Code's settings with coord's listen hooks armed (`entries`: each event's entry, replacing any coord wrote
 * before), and the permission rules an older listen added (`drop`) taken out; or why it cannot be changed.
 * Everything else is kept as it was.
 */
export function installListen(
  text: string | undefined,
  entries: Readonly<Record<string, Record<string, unknown>>>,
  drop: readonly string[],
  file: string = HOOKS.claude.file,
): { text: string; changed: boolean } | { error: string } {
  const parsed = parse(file, text);
  if (typeof parsed === "string") return { error: parsed };
  const { config } = withoutListen(parsed, drop);
  const hooks: Json = isObject(config.hooks) ? { ...config.hooks } : {};
  for (const [event, entry] of Object.entries(entries)) hooks[event] = [...(Array.isArray(hooks[event]) ? (hooks[event] as unknown[]) : []), entry];
  const out = render({ ...config, hooks });
  return { text: out, changed: out !== text };
}

/** The settings without coord's listen entries and without the `drop` rules (undefined: nothing else was in it). */
export function uninstallListen(
  text: string | undefined,
  drop: readonly string[],
  file: string = HOOKS.claude.file,
): { text: string | undefined; removed: number } | { error: string } {
  if (text === undefined) return { text: undefined, removed: 0 };
  const parsed = parse(file, text);
  if (typeof parsed === "string") return { error: parsed };
  const { config, removed } = withoutListen(parsed, drop);
  if (!removed) return { text, removed: 0 };
  return { text: Object.keys(config).filter((k) => k !== "$schema").length ? render(config) : undefined, removed };
}

function withoutListen(config: Json, allow: readonly string[]): { config: Json; removed: number } {
  let { config: next, removed } = withoutEntries(config, isListenEntry);
  if (allow.length && isObject(config.permissions) && Array.isArray(config.permissions.allow)) {
    const list = config.permissions.allow as unknown[];
    const rest = list.filter((a) => !(typeof a === "string" && allow.includes(a)));
    removed += list.length - rest.length;
    const { allow: _a, ...perms } = config.permissions;
    const permissions: Json = rest.length ? { ...perms, allow: rest } : perms;
    const { permissions: _p, ...others } = next;
    next = Object.keys(permissions).length ? { ...others, permissions } : others;
  }
  return { config: next, removed };
}
