// Approvals from afar: an agent on call that needs a permission it was not
// given asks in its thread, and goes on by the answer. Pure: what a reply
// decides (/approve, /deny, /approve always <tool>), who may decide, the
// request (the tool's whole input, or its head and tail with its size; the
// whole input and its digest for its mark), whether an approval holds for an
// input (only the one whose digest it showed), and the permission prompt
// tool's answer as Claude Code reads it. The MCP tool that asks is
// actions/mcp-tools.ts `permission_prompt`; the engine that takes the
// decisions is sync/on-call.ts.
import { createHash } from "node:crypto";
import { sanitizeText } from "../files/shown.js";
import { toolLine, toolTarget } from "../agents/cli/common.js";
import { clip } from "../limits.js";

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

/** The longest one-line summary of a request kept in on-call.json (`what`); the request itself shows the whole input (approvalAsk). */
export const MAX_REQUEST_WHAT = 300;

/** What a reply to a request decides. */
export type Decision = { behavior: "allow"; always?: string } | { behavior: "deny"; message?: string };

/** A tool name as `/approve always <tool>` takes it (Bash, Write, mcp__x__y). */
export const TOOL_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

/** Whether a text reads as a decision on a request (/approve, /allow, /deny …, well-formed or not): a person's word, never an agent's. */
export const isDecision = (text: string): boolean => /^\/(approve|allow|deny)\b/i.test(text.trim());

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

export { toolLine, toolTarget } from "../agents/cli/common.js";

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v : undefined);

/** What a tool call would do, in one line, cut: what it acts on; else its input as JSON (a summary: approvalAsk shows it all). */
export function whatItWouldDo(toolName: string, input: unknown): string {
  const json = typeof input === "object" && input !== null && Object.keys(input).length ? JSON.stringify(input) : undefined;
  return toolLine(toolName, toolTarget(input) ?? json, MAX_REQUEST_WHAT);
}

/** A wait in words: "10 min", "90 s". */
export const waitWords = (seconds: number): string => (seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);

/** The request's text in the thread: what the agent wants to do, and how to answer, by when. */
export function requestText(what: string, timeoutS: number, tool = what.split(":")[0]!): string {
  const within = waitWords(timeoutS);
  return [
    `Permission asked: ${what}`,
    "",
    `Reply /approve or /deny (with a reason if you like), or /approve always ${tool} for the rest of this conversation. No answer within ${within}: denied.`,
  ].join("\n");
}

/** The longest input a request shows whole in its text; a longer one shows its head and its tail, with its size. */
export const MAX_SHOWN = 2000;
const SHOWN_HEAD = 1200;
const SHOWN_TAIL = 600;

/** The longest input a request carries whole (its mark's agent.input): a longer one is denied, never approved unseen. */
export const MAX_APPROVAL_INPUT = 64_000;

/** A value as JSON with the keys of every object sorted: the same input always gives the same text (and digest). */
export function canonicalJson(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (typeof v === "object" && v !== null)
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sorted((v as Json)[k])]),
      );
    return v;
  };
  return JSON.stringify(sorted(value ?? {})) ?? "{}";
}

/** The digest an approval holds for: sha256 (hex) of the tool's input as canonical JSON. */
export function inputDigest(input: unknown): string {
  return createHash("sha256").update(canonicalJson(input)).digest("hex");
}

/**
 * The whole of what a tool call would do, for people: the tool and its command, file, URL or pattern on the first
 * line, then every other field of its input (`content: …`), nothing cut and no whitespace folded; an input of another
 * shape as JSON.
 */
export function inputShown(toolName: string, input: unknown): string {
  const i = typeof input === "object" && input !== null && !Array.isArray(input) ? (input as Json) : undefined;
  if (!i) return input === undefined ? toolName : `${toolName}: ${canonicalJson(input)}`;
  const main = ["command", "file_path", "filePath", "path", "url", "pattern", "query"].find((k) => str(i[k]) !== undefined);
  const rest = Object.keys(i)
    .filter((k) => k !== main)
    .sort()
    .map((k) => `${k}: ${typeof i[k] === "string" ? (i[k] as string) : canonicalJson(i[k])}`);
  if (!main) return rest.length ? `${toolName}: ${canonicalJson(i)}` : toolName;
  return [`${toolName}: ${i[main] as string}`, ...rest].join("\n");
}

/** `text` whole when it is at most `max` characters; else its head and its tail around a line giving its size. */
export function headAndTail(text: string, max = MAX_SHOWN, head = SHOWN_HEAD, tail = SHOWN_TAIL): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  const hidden = chars.length - head - tail;
  return [
    chars.slice(0, head).join(""),
    `\n… [${hidden} of ${chars.length} characters not shown here: approve only what you read, with coord approve <this request's id> --show, or "show all" on coord ui's page] …\n`,
    chars.slice(chars.length - tail).join(""),
  ].join("");
}

/** A request for a permission as it is published: its text, and the whole input with its digest for its mark. */
export interface ApprovalAsk {
  text: string;
  /** The tool's input as canonical JSON: what the person approves, whole. */
  input: string;
  /** sha256 of the input as the agent gave it: the approval holds for this input only. */
  digest: string;
}

/**
 * The request for tool `toolName` with `input`, answered within `timeoutS`: the whole input, or its head and tail
 * with its size, in the text, and whole in the mark; `scrub` is the redaction everything published goes through.
 * Nothing is approved that nobody could see, so a request is refused (one sentence, nobody asked) when its input is
 * too long to carry whole, or when redaction would change it: a secret's shape in a command cannot be published, and
 * what redaction hides may run on past it (an unclosed key block hides everything after it).
 */
export function approvalAsk(toolName: string, input: unknown, timeoutS: number, scrub: (text: string) => string): ApprovalAsk | { refused: string } {
  const json = canonicalJson(input);
  if (json.length > MAX_APPROVAL_INPUT)
    return { refused: `its input is ${json.length} characters, more than the ${MAX_APPROVAL_INPUT} a request can show: nobody could see what they approve` };
  const whole = inputShown(toolName, input);
  if (scrub(json) !== json || scrub(whole) !== whole)
    return {
      refused:
        "its input holds what coord never publishes (a token's, a password's or a key's shape), so a person could not be shown all of it; run it without the secret in the command (an environment variable, a file)",
    };
  return { text: requestText(headAndTail(whole), timeoutS, toolName), input: json, digest: inputDigest(input) };
}

/** Whether an approval of a request with `digest` holds for a tool call with `input`: only for the input it showed. */
export function approvalHolds(digest: string | undefined, input: unknown): boolean {
  return digest !== undefined && digest === inputDigest(input);
}

/** The permission prompt tool's answer, as Claude Code reads it: the text of a JSON object. */
export function permissionAnswer(d: Decision, input: unknown): string {
  if (d.behavior === "allow") return JSON.stringify({ behavior: "allow", updatedInput: typeof input === "object" && input !== null ? input : {} });
  return JSON.stringify({ behavior: "deny", message: d.message ?? "denied" });
}

/** The shortest digest `coord approve --digest` takes: its first 12 hex digits. */
export const DIGEST_SHOWN = 12;

/**
 * A request as a person is shown it (coord approve --show, the page): the tool's whole input as inputShown lays it
 * out, what nobody can see escaped; whether its text showed less than that (its head and tail, or a text that is not
 * its input), so that approving it takes the digest the whole view prints; or why it cannot be approved at all.
 */
export interface RequestView {
  /** The whole input, escaped (core/files/shown.ts); absent when the request carries none. */
  whole?: string;
  /** Its text did not show the whole input: an approval names the digest (approvalRefusal). */
  cut: boolean;
  digest?: string;
  /** Why nothing can approve it: its input is not JSON, or its digest is not its input's. */
  problem?: string;
}

/** The view of a request whose message text is `text`, for `tool`, with its mark's `input` (canonical JSON) and `digest`. */
export function requestView(text: string, tool: string, input: string | undefined, digest: string | undefined): RequestView {
  if (input === undefined) return { cut: text.includes("characters not shown here"), ...(digest ? { digest } : {}) };
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch {
    return { cut: true, problem: "its input is not JSON" };
  }
  if (digest === undefined || createHash("sha256").update(input).digest("hex") !== digest)
    return { cut: true, problem: "its digest is not the sha256 of its input", ...(digest ? { digest } : {}) };
  const whole = inputShown(tool, parsed);
  return { whole: sanitizeText(whole), cut: Array.from(whole).length > MAX_SHOWN || !text.includes(whole), digest };
}

/**
 * Why `coord approve` refuses a request seen as `view`, with the digest `given` (--digest) or none; undefined when it
 * may approve. A request whose text showed its whole input needs nothing more (a digest, when given, must be its
 * own); one that showed less is approved only with its digest, which only the whole view prints.
 */
export function approvalRefusal(view: RequestView, given: string | undefined): string | undefined {
  if (view.problem) return `it cannot be approved: ${view.problem}`;
  if (given !== undefined) {
    const g = given.trim().toLowerCase();
    if (!new RegExp(`^[0-9a-f]{${DIGEST_SHOWN},64}$`).test(g)) return `--digest takes the first ${DIGEST_SHOWN} (or more) hex digits of the request's sha256, not "${given}"`;
    if (!view.digest?.startsWith(g)) return `--digest ${given} is not this request's: its input is not the one you looked at`;
    return undefined;
  }
  return view.cut ? "its text showed only part of its input" : undefined;
}
