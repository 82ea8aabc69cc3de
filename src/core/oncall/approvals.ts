// Approvals from afar: an agent on call that needs a permission it was not
// given asks in its thread, and goes on by the answer. Pure: what a reply
// decides (/approve, /deny, /approve always <tool>), who may decide, the
// request's text (the tool and what it would do), and the permission prompt
// tool's answer as Claude Code reads it. The MCP tool that asks is
// commands/mcp-tools.ts `permission_prompt`; the engine that takes the
// decisions is sync/on-call.ts.
import { clip } from "../limits.js";

/** The name of coord's permission prompt tool, and as Claude Code names it (--permission-prompt-tool). */
export const PERMISSION_TOOL = "permission_prompt";
export const PERMISSION_TOOL_FOR_CLAUDE = `mcp__coord__${PERMISSION_TOOL}`;

/**
 * coord's tools an agent on call uses without asking a person: they only read the fleet or message it (a message is
 * signed, kept in the thread's record, and the receiver's own rules decide what it starts). Everything else asks.
 */
export const FLEET_TOOLS = ["whoami", "inbox", "thread", "send", "status"] as const;

/**
 * Whether the permission prompt tool allows `tool` (as Claude Code names it) without asking: one of FLEET_TOOLS of
 * coord's own server. Claude Code 2.1.332 sends every MCP tool not marked read-only to the prompt tool, even one
 * --allowedTools names; 2.1.197 asks before each MCP tool call in default mode.
 */
export function allowedWithoutAsking(tool: string): boolean {
  const m = /^mcp__coord__([a-z_]+)$/.exec(tool);
  return m !== null && (FLEET_TOOLS as readonly string[]).includes(m[1]!);
}

/** How long a request waits for a decision when the setting says nothing (seconds). */
export const DEFAULT_APPROVAL_TIMEOUT = 600;

/** The longest "what it would do" a request shows. */
export const MAX_REQUEST_WHAT = 300;

/** What a reply to a request decides. */
export type Decision = { behavior: "allow"; always?: string } | { behavior: "deny"; message?: string };

/** A tool name as `/approve always <tool>` takes it (Bash, Write, mcp__x__y). */
const TOOL_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

/** The decision a reply's text makes, or undefined when it makes none (it is then a message of the thread). */
export function decisionOf(text: string): Decision | undefined {
  const t = text.trim();
  const m = /^\/(approve|allow|deny)\b(.*)$/is.exec(t);
  if (!m) return undefined;
  const word = m[1]!.toLowerCase();
  const rest = m[2]!.trim();
  if (word === "deny") return { behavior: "deny", ...(rest ? { message: clip(rest.replace(/\s+/g, " "), 300) } : {}) };
  if (rest === "") return { behavior: "allow" };
  const always = /^always\s+(\S+)$/i.exec(rest);
  if (always && TOOL_NAME.test(always[1]!)) return { behavior: "allow", always: always[1]! };
  return undefined;
}

/** Whether machine `sender` may decide a request of a turn asked by `asker`: the asker, or another sender on call for (`from`). */
export function mayDecide(sender: string, asker: string, from: readonly string[] | "ALL", verified: boolean): boolean {
  if (!verified) return false;
  return sender === asker || from === "ALL" || from.includes(sender);
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v : undefined);

/** What a tool call would do, in one line: its command, file, URL or pattern; else its input as JSON. */
export function whatItWouldDo(toolName: string, input: unknown): string {
  const i = typeof input === "object" && input !== null && !Array.isArray(input) ? (input as Json) : {};
  const what =
    str(i.command) ?? str(i.file_path) ?? str(i.filePath) ?? str(i.path) ?? str(i.url) ?? str(i.pattern) ?? str(i.query) ?? (Object.keys(i).length ? JSON.stringify(i) : "");
  return clip(`${toolName}${what ? `: ${what.replace(/\s+/g, " ").trim()}` : ""}`, MAX_REQUEST_WHAT);
}

/** The request's text in the thread: what the agent wants to do, and how to answer, by when. */
export function requestText(what: string, timeoutS: number): string {
  const within = timeoutS % 60 === 0 ? `${timeoutS / 60} min` : `${timeoutS} s`;
  const tool = what.split(":")[0]!;
  return [
    `Permission asked: ${what}`,
    "",
    `Reply /approve or /deny (with a reason if you like), or /approve always ${tool} for the rest of this conversation. No answer within ${within}: denied.`,
  ].join("\n");
}

/** The permission prompt tool's answer, as Claude Code reads it: the text of a JSON object. */
export function permissionAnswer(d: Decision, input: unknown): string {
  if (d.behavior === "allow") return JSON.stringify({ behavior: "allow", updatedInput: typeof input === "object" && input !== null ? input : {} });
  return JSON.stringify({ behavior: "deny", message: d.message ?? "denied" });
}
