// A scripted Anthropic Messages API on loopback, for running the real Claude Code in tests and in the bench (no
// account, no internet): point claude at it with claudeEnv(). It answers `HEAD /`, `POST /v1/messages` streamed
// (SSE) or plain JSON, and count_tokens; it records every request and when it came, so a test can see what the model
// was shown.
// Types: scripts/anthropic-server.d.mts; tests import it through test/anthropic-server.ts.
//
// What it answers is decided by the last user message's text (coord's prompt quotes the message; the quoted
// lines are what is read when there are any; a wake of a listening session is read as its message's lines):
//   "run: <command>"        a Bash tool call; after its result: "ran: <the result>" or "not allowed: <the error>"
//   "call <tool> <json>"    a call of that tool (mcp__coord__whoami {}); after its result: "tool said: <it>"
//   "slow <n>"              the answer after n seconds
//   "http <status>"         that HTTP error, with Anthropic's error body
//   "expensive"             an answer whose usage costs dollars (a million input tokens)
//   anything else           heard "<the question>" in <n> user turns (the conversation's messages from a person)
// A request that carries `safeguards` (claude 2.1.278 on, in plan and auto modes) gets the safety check's results
// with the answer, each tool call "not_flagged", as the real API's check lets a harmless command run.
// A request with a key other than the server's is 401, as the real API answers.
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";

/**
 * @typedef {Record<string, unknown>} Json
 * @typedef {{ type: string; text?: string; content?: unknown; is_error?: boolean; name?: string; input?: unknown; id?: string; tool_use_id?: string }} Block
 * @typedef {{ role: string; content: string | Block[] }} Msg
 * @typedef {import("./anthropic-server.d.mts").Recorded} Recorded
 * @typedef {import("./anthropic-server.d.mts").AnthropicServer} AnthropicServer
 * @typedef {{ http: number } | { delayS: number; content: Block[]; usage?: Json }} Answer
 */

/** @param {Msg} m @returns {Block[]} */
const blocks = (m) => (typeof m.content === "string" ? [{ type: "text", text: m.content }] : m.content);
/** @param {unknown} c @returns {string} */
const textOf = (c) => (typeof c === "string" ? c : Array.isArray(c) ? c.map((/** @type {Block} */ b) => (b.type === "text" ? (b.text ?? "") : "")).join("") : "");
/** A person's text in a user message: its text blocks less claude's system reminders. @param {Msg} m */
const personText = (m) =>
  blocks(m)
    .filter((b) => b.type === "text" && !/^\s*<system-reminder>/.test(b.text ?? ""))
    .map((b) => b.text ?? "")
    .join("\n")
    .trim();

/**
 * What a wake of a listening session (coord agent listen) asks: the first message's lines, indented under its header.
 * @param {string} text
 * @returns {string | undefined}
 */
export function wakeQuestion(text) {
  const m = /--- message \S+ from machine [^\n]*:\n((?: {2}[^\n]*(?:\n|$))+)/.exec(text);
  return m?.[1]
    ? m[1]
        .split("\n")
        .map((l) => l.slice(2))
        .join(" ")
        .trim()
    : undefined;
}

/**
 * What a prompt asks: coord's quoted lines ("> …") when there are any, else the whole text.
 * @param {string} text
 * @returns {string}
 */
export function question(text) {
  const quoted = text
    .split("\n")
    .filter((l) => l.startsWith("> "))
    .map((l) => l.slice(2));
  return (quoted.length ? quoted.join(" ") : text).trim();
}

/**
 * The script: what the conversation so far is answered.
 * @param {Msg[]} all
 * @returns {Answer}
 */
function answer(all) {
  // Only the conversation's user and assistant messages: claude adds messages of its own (role "system") after them.
  const messages = all.filter((m) => m.role === "user" || m.role === "assistant");
  const last = [...messages].reverse().find((m) => m.role === "user");
  const lastBlocks = last ? blocks(last) : [];
  const result = lastBlocks.find((b) => b.type === "tool_result");
  if (result) {
    const said = textOf(result.content);
    const call = messages
      .slice(0, -1)
      .flatMap(blocks)
      .find((b) => b.type === "tool_use" && b.id === result.tool_use_id);
    const text = call?.name === "Bash" ? (result.is_error ? `not allowed: ${said}` : `ran: ${said}`) : `tool said: ${result.is_error ? "ERROR " : ""}${said}`;
    return { delayS: 0, content: [{ type: "text", text: text.trim() }] };
  }
  const people = messages.filter((m) => m.role === "user" && personText(m) !== "");
  // A wake comes as a system reminder (2.1.332) or as text (2.1.197): its message is what is asked.
  const woken = wakeQuestion(lastBlocks.map((b) => (b.type === "text" ? (b.text ?? "") : "")).join("\n"));
  const q = woken ?? question(last ? personText(last) : "");
  const http = /\bhttp (\d{3})\b/.exec(q);
  if (http) return { http: Number(http[1]) };
  const run = /\brun: (.+)$/.exec(q);
  if (run) return { delayS: 0, content: [{ type: "tool_use", id: `toolu_${Date.now()}`, name: "Bash", input: { command: run[1], description: "run it" } }] };
  const call = /\bcall (mcp__\S+|[A-Z]\w+)\s*(\{.*\})?\s*$/.exec(q);
  if (call) return { delayS: 0, content: [{ type: "tool_use", id: `toolu_${Date.now()}`, name: call[1], input: /** @type {Json} */ (JSON.parse(call[2] ?? "{}")) }] };
  const delayS = Number(/\bslow (\d+)\b/.exec(q)?.[1] ?? 0);
  const usage = /\bexpensive\b/.test(q) ? { input_tokens: 1_000_000, output_tokens: 10 } : undefined;
  return { delayS, content: [{ type: "text", text: `heard "${q}" in ${people.length} user turns` }], ...(usage ? { usage } : {}) };
}

/** @param {import("node:http").ServerResponse} res @param {string} type @param {Json} data */
const sse = (res, type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);

/**
 * @param {import("node:http").ServerResponse} res
 * @param {Recorded["body"]} body
 * @param {{ delayS: number; content: Block[]; usage?: Json }} a
 */
function reply(res, body, a) {
  const usage = a.usage ?? { input_tokens: 20, output_tokens: 10 };
  const stop = a.content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn";
  const message = { id: `msg_${Date.now()}`, type: "message", role: "assistant", model: body.model ?? "claude-sonnet-4-5", stop_sequence: null };
  if (!body.stream) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ...message, content: a.content, stop_reason: stop, usage }));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  sse(res, "message_start", { message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } });
  a.content.forEach((b, index) => {
    if (b.type === "tool_use") {
      sse(res, "content_block_start", { index, content_block: { type: "tool_use", id: b.id, name: b.name, input: {} } });
      sse(res, "content_block_delta", { index, delta: { type: "input_json_delta", partial_json: JSON.stringify(b.input) } });
    } else {
      sse(res, "content_block_start", { index, content_block: { type: "text", text: "" } });
      sse(res, "content_block_delta", { index, delta: { type: "text_delta", text: b.text } });
    }
    sse(res, "content_block_stop", { index });
  });
  // A request with `safeguards` (2.1.278 on, plan and auto modes) expects the API's safety check on each tool call:
  // this one flags none, as the real check lets a harmless command run.
  const safeguards = body.safeguards
    ? {
        safeguard_results: [
          {
            type: "dangerous_tool_use",
            status: {
              type: "available",
              tool_uses: Object.fromEntries(a.content.filter((b) => b.type === "tool_use").map((b) => [b.id, { type: "evaluated", outcome: "not_flagged" }])),
            },
          },
        ],
      }
    : {};
  sse(res, "message_delta", { delta: { stop_reason: stop, stop_sequence: null, ...safeguards }, usage: { output_tokens: usage.output_tokens } });
  sse(res, "message_stop", {});
  res.end();
}

/** @param {import("node:http").ServerResponse} res @param {number} status */
function error(res, status) {
  /** @type {Record<number, string>} */
  const types = { 401: "authentication_error", 403: "permission_error", 429: "rate_limit_error", 529: "overloaded_error" };
  const type = types[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ type: "error", error: { type, message: status === 401 ? "invalid x-api-key" : `scripted error ${status}` } }));
}

/**
 * Starts the server on 127.0.0.1 (a free port); `key` is the one API key it takes.
 * @param {string} [key]
 * @returns {Promise<AnthropicServer>}
 */
export async function startAnthropicServer(key = "sk-ant-test-key") {
  /** @type {Recorded[]} */
  const requests = [];
  /** @type {Set<NodeJS.Timeout>} */
  const timers = new Set();
  const server = createServer((req, res) => {
    if (req.method === "HEAD" || req.method === "GET") {
      res.writeHead(200).end();
      return;
    }
    let raw = "";
    req.on("data", (d) => {
      raw += d;
    });
    req.on("end", () => {
      /** @type {Recorded["body"]} */
      let body = {};
      try {
        body = JSON.parse(raw || "{}");
      } catch {
        return error(res, 400);
      }
      const header = req.headers["x-api-key"];
      const given = (typeof header === "string" ? header : undefined) ?? req.headers.authorization?.replace(/^Bearer /, "");
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      requests.push({ path, key: given, body, at: Date.now() });
      if (given !== key) return error(res, 401);
      if (path.endsWith("/count_tokens")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ input_tokens: 20 }));
        return;
      }
      if (!path.endsWith("/v1/messages")) return error(res, 404);
      const a = answer(body.messages ?? []);
      if ("http" in a) return error(res, a.http);
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) reply(res, body, a);
      }, a.delayS * 1000);
      timers.add(t);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = server.address();
  const port = address && typeof address === "object" ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    key,
    requests,
    turns: () => requests.filter((r) => r.path.endsWith("/v1/messages") && (r.body.tools?.length ?? 0) > 0),
    close: () =>
      new Promise((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The environment that points Claude Code at `s` (with its key, or another one), nothing sent elsewhere.
 * @param {Pick<AnthropicServer, "url" | "key">} s
 * @param {string} home
 * @param {string} [key]
 * @returns {Record<string, string>}
 */
export function claudeEnv(s, home, key = s.key) {
  return {
    ANTHROPIC_BASE_URL: s.url,
    ANTHROPIC_API_KEY: key,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_ERROR_REPORTING: "1",
    HOME: home,
  };
}

/**
 * A person's Claude Code in `home`, set up once (the tests of an open session and bench row 18): onboarding done, `server`'s key
 * approved, `project` trusted, its MCP servers allowed.
 */
export function claudeHome(home, project, version, server) {
  mkdirSync(home, { recursive: true });
  mkdirSync(join(project, ".claude"), { recursive: true });
  writeFileSync(
    join(home, ".claude.json"),
    JSON.stringify({
      hasCompletedOnboarding: true,
      lastOnboardingVersion: version,
      theme: "dark",
      customApiKeyResponses: { approved: [server.key.slice(-20)], rejected: [] },
      projects: { [project]: { hasTrustDialogAccepted: true, allowedTools: [] } },
    }),
  );
  writeFileSync(join(project, ".claude", "settings.local.json"), JSON.stringify({ enableAllProjectMcpServers: true }));
}
