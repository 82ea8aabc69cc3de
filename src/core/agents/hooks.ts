// The hook configuration coord installs into a project so that an agent
// session there sees this machine's unread messages: the entry coord adds to
// the file a CLI reads (each CLI's file and entry are its adapter's,
// cli/<name>.ts `hooks`), and how it is taken out again. Pure: the command
// layer reads and writes the files.
//
// Every hook answers from one file coord keeps beside the mailbox (the unread
// messages as a prompt block, empty when none), so it costs a `cat`, never a
// coord process or the network.

/** Entries coord wrote: its prompt file, or (older templates) a call of `coord inbox --format prompt`. */
const OURS = /inbox-prompt\.txt|coord inbox --format prompt/;

export { shellQuote } from "./cli/common.js";

/** What to write for one agent CLI: the file (relative to the project) and its new text, or a file of coord's own. */
export type HookPlan =
  | {
      kind: "json";
      file: string;
      events: string[];
      entry: (promptFile: string, event: string) => Record<string, unknown>;
      /** Keys the file starts with (Cursor's `version`): written by install, and not counted as the user's by uninstall. */
      head?: Record<string, unknown>;
    }
  | { kind: "own"; file: string; text: (promptFile: string) => string };

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
export function installJson(plan: HookPlan, text: string | undefined, promptFile: string): { text: string; changed: boolean } | { error: string } {
  if (plan.kind !== "json") throw new Error(`${plan.file} is not a JSON hook file`);
  const parsed = parse(plan.file, text);
  if (typeof parsed === "string") return { error: parsed };
  const { config } = withoutOurs(parsed);
  const hooks: Json = isObject(config.hooks) ? { ...config.hooks } : {};
  for (const event of plan.events) hooks[event] = [...(Array.isArray(hooks[event]) ? (hooks[event] as unknown[]) : []), plan.entry(promptFile, event)];
  const next: Json = { ...plan.head, ...config, hooks };
  const out = render(next);
  return { text: out, changed: out !== text };
}

/** The text without coord's entries (undefined: nothing else was in the file, remove it), or why it cannot be changed. */
export function uninstallJson(plan: HookPlan, text: string | undefined): { text: string | undefined; removed: number } | { error: string } {
  if (text === undefined) return { text: undefined, removed: 0 };
  const parsed = parse(plan.file, text);
  if (typeof parsed === "string") return { error: parsed };
  const { config, removed } = withoutOurs(parsed);
  if (!removed) return { text, removed: 0 };
  const head = plan.kind === "json" ? Object.keys(plan.head ?? {}) : [];
  const rest = Object.keys(config).filter((k) => !head.includes(k) && k !== "$schema");
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
  file: string,
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
export function uninstallListen(text: string | undefined, drop: readonly string[], file: string): { text: string | undefined; removed: number } | { error: string } {
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
