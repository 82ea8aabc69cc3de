// A scripted OpenAI Chat Completions server on loopback, for the real OpenCode CLI in the tests (no account, no
// internet): OpenCode is pointed at it by a provider of its own in opencode.json (opencodeHome below, through the
// `@ai-sdk/openai-compatible` it bundles). It answers `POST /v1/chat/completions` with server-sent chunks, as
// opencode 1.18.33 reads them, scripted by the last user message of the request:
//   - "slow <s>"        nothing for <s> seconds, then "slept <s> s";
//   - "run: <command>"  a `bash` tool call of that command; once its result comes back, "ran: " and the result;
//   - "call <tool> <json>" a call of that tool with those arguments (coord's MCP tools are OpenCode's coord_<name>);
//                       once its result comes back, "tool said: " and the result;
//   - anything else     "heard: <the question> (user turns: <n>)": the question is the last quoted message of coord's
//                       prompt (its "> " lines), or the whole text; n counts the user messages the request holds, so a
//                       test sees whether a resumed session sent the earlier turns.
// A request without tools (OpenCode's title of a new session) is answered "a title". A request whose bearer key is
// not the server's is refused with 401. Every request is recorded.
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { wakeQuestion } from "../scripts/anthropic-server.mjs";

export interface ChatRequest {
  key: string;
  body: Record<string, unknown> | undefined;
  /** The text of its last user message. */
  lastUser: string;
  userTurns: number;
  tools: boolean;
}

export interface ChatServer {
  /** The base URL a provider's `options.baseURL` takes: http://127.0.0.1:<port>/v1. */
  url: string;
  key: string;
  requests: ChatRequest[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined);

/** A message's text: a string, or its text parts. */
const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content
          .map((p) => obj(p))
          .map((p) => (p?.type === "text" && typeof p.text === "string" ? p.text : ""))
          .join("\n")
      : "";

/** The question in coord's prompt (its "> " lines), or the whole text, a prompt quoted whole by OpenCode unwrapped. */
export function questionOf(text: string): string {
  // A wake of an open session (coord agent listen): the message's indented text.
  const woken = wakeQuestion(text);
  if (woken !== undefined) return woken;
  const quoted = text
    .split("\n")
    .filter((l) => l.startsWith("> "))
    .map((l) => l.slice(2));
  const q = (quoted.length ? quoted.join("\n") : text).trim();
  return /^".*"$/s.test(q) ? q.slice(1, -1) : q;
}

function chunk(res: ServerResponse, delta: Json, finish: string | null = null, usage?: Json): void {
  const body = {
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: Math.floor(Date.now() / 1000),
    model: "fake-model",
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
  res.write(`data: ${JSON.stringify(usage ? { ...body, usage } : body)}\n\n`);
}

export async function startChatServer(key = "sk-chat-test-key"): Promise<ChatServer> {
  const requests: ChatRequest[] = [];
  let calls = 0;
  const called = new Set<string>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      let body: Json | undefined;
      try {
        body = obj(JSON.parse(Buffer.concat(parts).toString("utf8")));
      } catch {
        body = undefined;
      }
      const messages = (Array.isArray(body?.messages) ? body.messages : []).map((m) => obj(m) ?? {});
      const users = messages.filter((m) => m.role === "user");
      const last = messages[messages.length - 1];
      const lastUser = textOf(users[users.length - 1]?.content);
      const tools = Array.isArray(body?.tools) && body.tools.length > 0;
      const given = /^Bearer (.*)$/.exec(String(req.headers.authorization ?? ""))?.[1] ?? "";
      requests.push({ key: given, body, lastUser, userTurns: users.length, tools });
      if (req.method !== "POST" || !String(req.url).endsWith("/chat/completions")) {
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"not found"}}');
        return;
      }
      if (given !== key) {
        res.writeHead(401, { "content-type": "application/json" }).end('{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}');
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
      const say = (text: string) => {
        chunk(res, { role: "assistant", content: text });
        chunk(res, {}, "stop", usage);
        res.end("data: [DONE]\n\n");
      };
      if (!tools) return say("a title");
      const question = questionOf(lastUser);
      // The tool's result came back: say it.
      if (last?.role === "tool") return say(`${called.has(String(last.tool_call_id)) ? "tool said" : "ran"}: ${textOf(last.content).trim()}`);
      // "slow <s>": nothing streamed for that long (a turn stopped before the model streams).
      const slow = /^slow (\d+)$/.exec(question)?.[1];
      if (slow) {
        const timer = setTimeout(() => say(`slept ${slow} s`), Number(slow) * 1000);
        res.once("close", () => clearTimeout(timer));
        return;
      }
      const call = /^call (\S+) (\{.*\})$/s.exec(question);
      const run = /^run: (.*)$/s.exec(question)?.[1];
      if (call) {
        calls += 1;
        called.add(`call_${calls}`);
        chunk(res, { role: "assistant", content: null, tool_calls: [{ index: 0, id: `call_${calls}`, type: "function", function: { name: call[1], arguments: "" } }] });
        chunk(res, { tool_calls: [{ index: 0, function: { arguments: call[2] } }] });
        chunk(res, {}, "tool_calls", usage);
        res.end("data: [DONE]\n\n");
        return;
      }
      if (run) {
        calls += 1;
        chunk(res, { role: "assistant", content: null, tool_calls: [{ index: 0, id: `call_${calls}`, type: "function", function: { name: "bash", arguments: "" } }] });
        chunk(res, { tool_calls: [{ index: 0, function: { arguments: JSON.stringify({ command: run, description: "runs what was asked" }) } }] });
        chunk(res, {}, "tool_calls", usage);
        res.end("data: [DONE]\n\n");
        return;
      }
      say(`heard: ${question} (user turns: ${users.length})`);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    key,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The variable OpenCode's provider takes its key from (opencode.json's `{env:…}`). */
export const OPENCODE_KEY_VAR = "COORD_TEST_CHAT_KEY";

/** The environment that keeps OpenCode offline and quiet (no models.dev, no update, no LSP download, no share). */
export const OPENCODE_QUIET: Readonly<Record<string, string>> = {
  OPENCODE_DISABLE_MODELS_FETCH: "1",
  OPENCODE_DISABLE_AUTOUPDATE: "1",
  OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
  OPENCODE_DISABLE_SHARE: "1",
  OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
  OPENCODE_DISABLE_CLAUDE_CODE: "1",
};

/**
 * OpenCode's XDG homes under `root`, its opencode.json naming `server` as provider "fake" (key in OPENCODE_KEY_VAR):
 * the variables to set.
 */
export async function opencodeHome(root: string, server: ChatServer): Promise<Record<string, string>> {
  const env = {
    XDG_CONFIG_HOME: join(root, "config"),
    XDG_DATA_HOME: join(root, "data"),
    XDG_CACHE_HOME: join(root, "cache"),
    XDG_STATE_HOME: join(root, "state"),
  };
  for (const dir of Object.values(env)) await mkdir(dir, { recursive: true });
  await mkdir(join(env.XDG_CONFIG_HOME, "opencode"), { recursive: true });
  const config = {
    model: "fake/fake-model",
    small_model: "fake/fake-model",
    autoupdate: false,
    share: "disabled",
    enabled_providers: ["fake"],
    provider: {
      fake: {
        npm: "@ai-sdk/openai-compatible",
        name: "Fake (scripted)",
        options: { baseURL: server.url, apiKey: `{env:${OPENCODE_KEY_VAR}}` },
        models: { "fake-model": { name: "Fake model", tool_call: true, cost: { input: 3, output: 15 }, limit: { context: 128000, output: 4096 } } },
      },
    },
  };
  await writeFile(join(env.XDG_CONFIG_HOME, "opencode", "opencode.json"), `${JSON.stringify(config, null, 2)}\n`);
  return env;
}
