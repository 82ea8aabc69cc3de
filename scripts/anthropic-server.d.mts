// Types of scripts/anthropic-server.mjs (a scripted Anthropic Messages API on loopback for the real Claude Code).
type Json = Record<string, unknown>;
type Block = { type: string; text?: string; content?: unknown; is_error?: boolean; name?: string; input?: unknown; id?: string; tool_use_id?: string };
type Msg = { role: string; content: string | Block[] };

/** A request the server got. */
export interface Recorded {
  path: string;
  key: string | undefined;
  /** When it came (Date.now()). */
  at: number;
  body: Json & { messages?: Msg[]; tools?: { name: string }[]; stream?: boolean; model?: string; safeguards?: unknown };
}

export interface AnthropicServer {
  url: string;
  key: string;
  requests: Recorded[];
  /** The main conversation's requests (those offering tools): what the model of the session saw. */
  turns(): Recorded[];
  close(): Promise<void>;
}

/** What a wake of a listening session (coord agent listen) asks: the first message's lines, indented under its header. */
export function wakeQuestion(text: string): string | undefined;

/** What a prompt asks: coord's quoted lines ("> …") when there are any, else the whole text. */
export function question(text: string): string;

/** Starts the server on 127.0.0.1 (a free port); `key` is the one API key it takes. */
export function startAnthropicServer(key?: string): Promise<AnthropicServer>;

/** The environment that points Claude Code at `s` (with its key, or another one), nothing sent elsewhere. */
export function claudeEnv(s: Pick<AnthropicServer, "url" | "key">, home: string, key?: string): Record<string, string>;

/** A person's Claude Code in `home`, set up once: onboarding done, `server`'s key approved, `project` trusted, its MCP servers allowed. */
export function claudeHome(home: string, project: string, version: string, server: Pick<AnthropicServer, "key">): void;
