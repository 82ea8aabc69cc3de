// The transcript in docs/agents.md ("Tools: coord mcp"): a real session's tool calls, made through the MCP SDK's
// own client against `node dist/coord.mjs mcp` on a fleet of two machines built in a temp dir (a hub on a local
// path, HOME of its own). Prints markdown; run after npm run build:
//
//   node scripts/mcp-transcript.mjs > /tmp/transcript.md
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CLI } from "./bench/lib.mjs";

const root = mkdtempSync(join(tmpdir(), "coord-mcp-transcript-"));
const home = join(root, "home");
mkdirSync(home);
const env = { ...process.env, HOME: home, GIT_CONFIG_NOSYSTEM: "1" };
for (const k of Object.keys(env)) if (/^COORD_/.test(k)) delete env[k];
const coord = (...args) => execFileSync(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] }).toString();

const clients = [];
try {
  coord("hub", "create", join(root, "hub.git"));
  for (const name of ["izzit7", "soda-yeti"]) coord("init", join(root, name), "--name", name, "--remote", join(root, "hub.git"));
  coord("sync", "--dir", join(root, "izzit7"));
  const connect = async (name) => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, "mcp", "--dir", join(root, name)], env, stderr: "ignore" });
    const client = new Client({ name: "transcript", version: "1" });
    await client.connect(transport);
    clients.push(client);
    return client;
  };
  const a = await connect("izzit7");
  const b = await connect("soda-yeti");
  const out = [];
  const shown = (text) => text.replaceAll(root, "/home/me").replace(/\b[0-9a-f]{12}\b/g, (h) => `${h.slice(0, 7)}…`);
  const call = async (machine, client, name, args = {}) => {
    const r = await client.callTool({ name, arguments: args });
    const text = r.content.map((c) => c.text).join("\n");
    out.push(
      `${machine} → ${name} ${JSON.stringify(args)}`,
      ...shown(`${r.isError ? "error: " : ""}${text}`)
        .split("\n")
        .map((l) => `  ${l}`),
      "",
    );
    return r;
  };
  await call("izzit7", a, "whoami");
  // send, ack and order_add publish at once by default; the asker waits for the reply in the same turn (inbox wait).
  await call("izzit7", a, "send", { to: "soda-yeti", body: "The build on main is green: please rebase feature/login and run the e2e tests.", priority: "high" });
  await call("soda-yeti", b, "sync");
  const inbox = await call("soda-yeti", b, "inbox");
  const id = inbox.structuredContent.messages[0].id;
  await call("soda-yeti", b, "send", { to: "izzit7", body: "Rebased; starting the e2e tests now.", reply_to: id });
  await call("izzit7", a, "inbox", { wait: "30s", reply_to: id });
  await call("soda-yeti", b, "ack", { ids: [id] });
  await call("izzit7", a, "order_add", { to: "soda-yeti", run: "npm run e2e", id: "e2e-login", timeout: "30m", now: true });
  await call("izzit7", a, "order_add", { to: "zeta", run: "true" });
  await call("izzit7", a, "sync");
  await call("izzit7", a, "reserve", { paths: ["src/auth/**"], for: "2h", reason: "rewriting the login flow", now: true });
  await call("soda-yeti", b, "reserve", { paths: ["src/auth/login.ts"], now: true });
  await call("soda-yeti", b, "reservations");
  await call("izzit7", a, "thread", { with: "soda-yeti" });
  await call("izzit7", a, "status", { order: "e2e-login", history: 0 });
  console.log(out.join("\n"));
} finally {
  for (const c of clients) await c.close().catch(() => {});
  rmSync(root, { recursive: true, force: true });
}
