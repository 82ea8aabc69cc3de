// A scripted Gemini API server on loopback, for the real Gemini CLI in the tests (no account, no internet): Gemini CLI
// is pointed at it by GOOGLE_GEMINI_BASE_URL with an API key (geminiHome below). It answers
// `POST /v1beta/models/<model>:streamGenerateContent?alt=sse` with server-sent chunks, as gemini 0.61.0 reads them,
// scripted by the last user text of the request:
//   - "run: <command>"  a `run_shell_command` call of that command; once its result comes back, "ran: " and the result;
//   - "script: <json>"  each call of the list (`[{"name", "args"}]`) in turn, one a request, then "results: " and the
//                       responses as JSON (a model that obeys a whole plan: the worst case);
//   - anything else     "heard: <the question> (user turns: <n>)": the question is the last quoted message of coord's
//                       prompt (its "> " lines), or the whole text; n counts the user contents that carry text (not a
//                       function's response), so a test sees whether a resumed session sent the earlier turns.
// `generateContent` (not streamed: the CLI's own side questions) is answered with an empty JSON object as text. A
// request whose x-goog-api-key is not the server's is refused with 400, as the API does. Every request is recorded.
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { questionOf } from "./chat-server.js";

export interface GeminiRequest {
  url: string;
  key: string;
  body: Record<string, unknown> | undefined;
  /** The text of its last user content (its `<session_context>` part left out). */
  lastUser: string;
  userTurns: number;
  /** The function declarations it offered, by name. */
  tools: string[];
}

export interface GeminiServer {
  /** The base URL GOOGLE_GEMINI_BASE_URL takes: http://127.0.0.1:<port>. */
  url: string;
  key: string;
  requests: GeminiRequest[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.map((x) => obj(x) ?? {}) : []);

/** The text parts of a content, but the CLI's own context block. */
const textOf = (content: Json): string =>
  list(content.parts)
    .map((p) => (typeof p.text === "string" && !p.text.trimStart().startsWith("<session_context>") ? p.text : ""))
    .filter(Boolean)
    .join("\n");

const USAGE = { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 };

function send(res: ServerResponse, parts: Json[]): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const body = { candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }], usageMetadata: USAGE, modelVersion: "gemini-2.5-flash" };
  res.end(`data: ${JSON.stringify(body)}\n\n`);
}

export async function startGeminiServer(key = "gemini-test-key"): Promise<GeminiServer> {
  const requests: GeminiRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      let body: Json | undefined;
      try {
        body = obj(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        body = undefined;
      }
      const contents = list(body?.contents);
      const users = contents.filter((c) => c.role === "user" && textOf(c) !== "");
      const last = contents[contents.length - 1];
      const lastUser = users.length ? textOf(users[users.length - 1]!) : "";
      const tools = list(body?.tools).flatMap((t) => list(t.functionDeclarations).map((f) => String(f.name)));
      const given = String(req.headers["x-goog-api-key"] ?? "");
      const url = String(req.url);
      requests.push({ url, key: given, body, lastUser, userTurns: users.length, tools });
      if (given !== key) {
        res
          .writeHead(400, { "content-type": "application/json" })
          .end('{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}');
        return;
      }
      if (req.method !== "POST" || !/:(stream)?generateContent/i.test(url)) {
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"code":404,"message":"not found","status":"NOT_FOUND"}}');
        return;
      }
      if (!/:streamGenerateContent/.test(url)) {
        const answer = { candidates: [{ content: { role: "model", parts: [{ text: "{}" }] }, finishReason: "STOP", index: 0 }], usageMetadata: USAGE };
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
        return;
      }
      const question = questionOf(lastUser);
      const script = /^script: (.*)$/s.exec(question)?.[1];
      if (script) {
        // The responses since the last user text: one for each call made so far.
        const at = contents.reduce((found, c, i) => (c.role === "user" && textOf(c) !== "" ? i : found), -1);
        const responses = contents.slice(at + 1).flatMap((c) => list(c.parts).flatMap((p) => (obj(p.functionResponse) ? [obj(p.functionResponse)!.response ?? {}] : [])));
        const steps = JSON.parse(script) as { name: string; args?: Json }[];
        const next = steps[responses.length];
        if (next) return send(res, [{ functionCall: { name: next.name, args: next.args ?? {} } }]);
        return send(res, [{ text: `results: ${JSON.stringify(responses)}` }]);
      }
      // The function's result came back: say it.
      const response = list(last?.parts).find((p) => obj(p.functionResponse));
      if (response) {
        const output = JSON.stringify(obj(response.functionResponse)?.response ?? {});
        return send(res, [{ text: `ran: ${output}` }]);
      }
      const run = /^run: (.*)$/s.exec(question)?.[1];
      if (run) return send(res, [{ functionCall: { name: "run_shell_command", args: { command: run, description: "runs what was asked" } } }]);
      send(res, [{ text: `heard: ${question} (user turns: ${users.length})` }]);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    key,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Gemini CLI's home under `home` (~/.gemini/settings.json: an API key's auth, the model fixed, nothing sent anywhere
 * but `server`): the variables to set (HOME is the caller's to choose).
 */
export async function geminiHome(home: string, server: GeminiServer): Promise<Record<string, string>> {
  await mkdir(join(home, ".gemini"), { recursive: true });
  const settings = {
    security: { auth: { selectedType: "gemini-api-key" }, folderTrust: { enabled: false } },
    model: { name: "gemini-2.5-flash" },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    general: { disableAutoUpdate: true, disableUpdateNag: true },
    ide: { enabled: false },
  };
  await writeFile(join(home, ".gemini", "settings.json"), `${JSON.stringify(settings, null, 2)}\n`);
  return { GOOGLE_GEMINI_BASE_URL: server.url, GEMINI_API_KEY: server.key };
}
