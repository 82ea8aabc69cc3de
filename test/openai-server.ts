// A scripted OpenAI Responses API server on loopback, for the real Codex CLI in the tests (no account, no internet):
// codex is pointed at it by a `model_providers` entry in its config.toml (codexHome below). It answers
// `POST /v1/responses` with the Responses API's server-sent events, as codex 0.171.0 reads them, scripted by the
// last user message of the request:
//   - "run: <command>"  a shell tool call of that command; once its output comes back, "ran: <command>" and the output;
//   - "call [<ns>__]<tool> <json>"  a call of tool <tool> (of namespace <ns>: codex names coord's server's tools
//                       mcp__coord) with those arguments; once its output comes back, "called: <tool>" and the output;
//   - "slow <N>"        the first words of the answer at once, the rest after N seconds;
//   - "http <NNN>"      that HTTP status with an error body (no answer);
//   - anything else     "heard: <the question> (user turns: <n>)": the question is the last quoted message of coord's
//                       prompt (its "> " lines), or the whole text; n counts the user messages the request holds, so a
//                       test sees whether a resumed session sent the earlier turns.
// A request whose bearer key is not the server's is refused with 401, as OpenAI refuses a wrong key. Every request is
// recorded.
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface RecordedRequest {
  method: string;
  path: string;
  /** The bearer key it carried ("" when none). */
  key: string;
  body: Record<string, unknown> | undefined;
  /** The text of its last user message. */
  lastUser: string;
  /** The user messages it holds (codex's own context messages not counted). */
  userTurns: number;
  /** When it came (Date.now(): the bench's clock). */
  at: number;
}

export interface OpenAiServer {
  /** The base URL a provider's `base_url` takes: http://127.0.0.1:<port>/v1. */
  url: string;
  /** The key it accepts. */
  key: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined);

/** The text of a message item's content (a string, or parts of input_text/output_text). */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((c) => obj(c))
    .map((c) => (typeof c?.text === "string" ? c.text : ""))
    .join("");
}

/** Codex's own context, sent as user messages (its environment, AGENTS.md, instructions): not a person's turn. */
const isContext = (text: string) => /^\s*<(environment_context|user_instructions|user_shell_command|turn_aborted)|^\s*# AGENTS\.md/.test(text);

/** The user messages of a request's input, codex's own context left out. */
function userMessages(input: unknown): string[] {
  if (!Array.isArray(input)) return [];
  return input
    .map(obj)
    .filter((i) => i && (i.type === "message" || i.type === undefined) && i.role === "user")
    .map((i) => textOf(i!.content))
    .filter((t) => !isContext(t));
}

/** The question of a coord prompt: its last quoted message ("> " lines after a "Message … from …:" line), else the whole text. */
export function questionOf(text: string): string {
  const asked: string[] = [];
  let inMessage = false;
  for (const line of text.split("\n")) {
    if (/^Message \S+ from /.test(line)) {
      inMessage = true;
      asked.push("");
      continue;
    }
    if (inMessage && line.startsWith("> ")) {
      asked[asked.length - 1] += (asked[asked.length - 1] ? " " : "") + line.slice(2);
      continue;
    }
    inMessage = false;
  }
  return asked.length ? asked.join(" / ") : text.trim();
}

let ids = 0;
const nextId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(++ids).toString(36)}`;

function sse(res: ServerResponse, event: Json): void {
  res.write(`event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`);
}

const usage = { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 17 };

/** Streams one response: its output items (each added, its text in deltas, done), then completed. `pause` seconds before the last delta. */
async function stream(res: ServerResponse, model: string, items: Json[], pause = 0): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const id = nextId("resp");
  const response = { id, object: "response", created_at: Math.floor(Date.now() / 1000), model, status: "in_progress", output: [] as Json[] };
  sse(res, { type: "response.created", response });
  sse(res, { type: "response.in_progress", response });
  for (const [index, item] of items.entries()) {
    if (item.type === "message") {
      const text = textOf(item.content);
      sse(res, { type: "response.output_item.added", output_index: index, item: { ...item, status: "in_progress", content: [] } });
      sse(res, { type: "response.content_part.added", item_id: item.id, output_index: index, content_index: 0, part: { type: "output_text", text: "", annotations: [] } });
      const cut = pause > 0 ? Math.min(text.length, 10) : text.length;
      sse(res, { type: "response.output_text.delta", item_id: item.id, output_index: index, content_index: 0, delta: text.slice(0, cut) });
      if (pause > 0) {
        await new Promise((r) => setTimeout(r, pause * 1000));
        if (res.destroyed) return;
        sse(res, { type: "response.output_text.delta", item_id: item.id, output_index: index, content_index: 0, delta: text.slice(cut) });
      }
      sse(res, { type: "response.output_text.done", item_id: item.id, output_index: index, content_index: 0, text });
      sse(res, { type: "response.content_part.done", item_id: item.id, output_index: index, content_index: 0, part: { type: "output_text", text, annotations: [] } });
    } else sse(res, { type: "response.output_item.added", output_index: index, item: { ...item, status: "in_progress" } });
    sse(res, { type: "response.output_item.done", output_index: index, item: { ...item, status: "completed" } });
  }
  sse(res, { type: "response.completed", response: { ...response, status: "completed", output: items, usage } });
  res.end();
}

const message = (text: string): Json => ({ type: "message", id: nextId("msg"), role: "assistant", content: [{ type: "output_text", text, annotations: [] }] });

/** The shell tool among the request's tools (codex names it shell, shell_command or exec_command by version), with how it takes a command. */
function shellCall(tools: unknown, command: string): Json {
  const names = (Array.isArray(tools) ? tools : []).map((t) => obj(t)).map((t) => String(t?.name ?? obj(t?.function)?.name ?? ""));
  const call_id = nextId("call");
  if (names.includes("shell_command")) return { type: "function_call", id: nextId("fc"), call_id, name: "shell_command", arguments: JSON.stringify({ command }) };
  if (names.includes("exec_command")) return { type: "function_call", id: nextId("fc"), call_id, name: "exec_command", arguments: JSON.stringify({ cmd: command }) };
  return { type: "function_call", id: nextId("fc"), call_id, name: "shell", arguments: JSON.stringify({ command: ["bash", "-lc", command] }) };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Starts the server on 127.0.0.1 (a free port). */
export async function startOpenAiServer(opts: { key?: string } = {}): Promise<OpenAiServer> {
  const key = opts.key ?? "sk-test-coord";
  const requests: RecordedRequest[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    open.add(res);
    res.on("close", () => open.delete(res));
    void (async () => {
      const raw = await readBody(req).catch(() => "");
      let body: Json | undefined;
      try {
        body = obj(JSON.parse(raw));
      } catch {
        body = undefined;
      }
      const users = userMessages(body?.input);
      const lastUser = users[users.length - 1] ?? "";
      const auth = String(req.headers.authorization ?? "");
      const given = auth.startsWith("Bearer ") ? auth.slice(7) : "";
      requests.push({ method: req.method ?? "", path: req.url ?? "", key: given, body, lastUser, userTurns: users.length, at: Date.now() });
      const path = (req.url ?? "").split("?")[0]!;
      if (req.method !== "POST" || !path.endsWith("/responses")) {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `no ${req.method} ${path} here`, type: "invalid_request_error" } }));
        return;
      }
      if (given !== key) {
        res
          .writeHead(401, { "content-type": "application/json" })
          .end(JSON.stringify({ error: { message: "Incorrect API key provided: the scripted server wants another.", type: "invalid_request_error", code: "invalid_api_key" } }));
        return;
      }
      const model = typeof body?.model === "string" ? body.model : "scripted";
      const question = questionOf(lastUser);
      const status = /\bhttp (\d{3})\b/.exec(question);
      if (status) {
        res
          .writeHead(Number(status[1]), { "content-type": "application/json" })
          .end(JSON.stringify({ error: { message: `scripted error ${status[1]}`, type: "server_error", code: null } }));
        return;
      }
      // The output of a tool call made for "run: …": the answer names it.
      const input = Array.isArray(body?.input) ? body.input.map(obj) : [];
      const last = input[input.length - 1];
      if (last?.type === "function_call_output") {
        const out = typeof last.output === "string" ? last.output : JSON.stringify(last.output);
        const called = /\bcall (?:\S+__)?(\w+) \{/.exec(question)?.[1];
        if (called) {
          await stream(res, model, [message(`called: ${called}\n${out.slice(0, 1500)}`)]);
          return;
        }
        const ran = /run: (.+)$/.exec(question)?.[1] ?? "a command";
        await stream(res, model, [message(`ran: ${ran}\n${out.slice(0, 500)}`)]);
        return;
      }
      const call = /\bcall (?:(\S+)__)?(\w+) (\{.*\})\s*$/.exec(question);
      if (call) {
        const [, namespace, name, args] = call;
        await stream(res, model, [{ type: "function_call", id: nextId("fc"), call_id: nextId("call"), ...(namespace ? { namespace } : {}), name, arguments: args }]);
        return;
      }
      const run = /run: (.+)$/.exec(question);
      if (run) {
        await stream(res, model, [shellCall(body?.tools, run[1]!)]);
        return;
      }
      const slow = /\bslow (\d+)\b/.exec(question);
      await stream(res, model, [message(`heard: ${question} (user turns: ${users.length})`)], slow ? Number(slow[1]) : 0);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    key,
    requests,
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The variable the scripted provider's key is read from (codex's `env_key`). */
export const CODEX_KEY_VAR = "COORD_TEST_OPENAI_KEY";

/**
 * A CODEX_HOME for the real codex that uses `server` through a custom provider (`model_provider = "scripted"`, its
 * key from CODEX_KEY_VAR), with no network retries worth waiting for; `more` is appended to config.toml.
 */
export async function codexHome(dir: string, server: Pick<OpenAiServer, "url">, more = ""): Promise<string> {
  await mkdir(dir, { recursive: true });
  const config = [
    'model = "scripted-model"',
    'model_provider = "scripted"',
    "",
    "[model_providers.scripted]",
    'name = "scripted"',
    `base_url = "${server.url}"`,
    'wire_api = "responses"',
    `env_key = "${CODEX_KEY_VAR}"`,
    "request_max_retries = 0",
    "stream_max_retries = 1",
    "stream_idle_timeout_ms = 60000",
    "",
    more,
  ].join("\n");
  await writeFile(join(dir, "config.toml"), config);
  return dir;
}
