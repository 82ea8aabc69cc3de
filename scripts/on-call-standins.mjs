// Stand-ins for agent CLIs on call (used by test/on-call.e2e.test.ts and the bench) that keep sessions as the real ones do
// (docs/agents.md, "Agents on call"; ../shared/research/agents-on-call.md):
//   claude: `-p` with `--resume=<id>` writes a NEW session id, holding the
//     conversation so far and this turn; the old id keeps the old conversation
//     only. Sessions live per directory: a session resumed from another cwd is
//     "No conversation found". A resumed session keeps no flag: each call's
//     flags are its own.
//   codex: `exec --json [-c sandbox_mode=…] [resume <id>] -`; `resume` refuses
//     -s/--sandbox and -C; the thread id stays the same; sessions are global.
// Each remembers the messages of its session and answers with them, so a test
// sees whether a turn resumed the right session. The prompt decides the rest:
// "sleep N" runs a tool (a step), then sleeps N seconds; claude's "wait for gate G"
// runs a tool, then waits until the file <home>/gate-G exists (a test opens it when
// what it must see first holds, so no timing decides the order); "think N" names its
// session, then says nothing for N seconds (no step) and answers; "fail" fails; "quiet"
// prints nothing readable; claude's "please run: <command>" asks coord's
// permission prompt tool through the MCP server its --mcp-config names, as
// Claude Code does, and answers "ran: …" or "not allowed: …"; like Claude Code it refuses a prompt tool's answer
// that is not exactly one text block (test/claude-real.e2e.test.ts holds this against the real one). Every call is
// recorded in <home>/calls.jsonl.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const COMMON = `
const fs = require("fs");
const path = require("path");
const home = process.env.STANDIN_HOME;
const args = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
// What coord asks of an installed CLI (its version, whether it is logged in): answered, not recorded.
if (args[0] === "--version") { process.stdout.write("9.9.9 (stand-in)\\n"); process.exit(0); }
if (["auth", "login"].includes(args[0]) && args[1] === "status") { process.stdout.write('{"loggedIn": true}\\n'); process.exit(0); }
const input = fs.readFileSync(0, "utf8");
fs.appendFileSync(path.join(home, "calls.jsonl"), JSON.stringify({ cli: NAME, args, cwd: process.cwd(), pid: process.pid, chain: process.env.COORD_ON_CALL_CHAIN, prompt: input }) + "\\n");
// The messages of this prompt: the quoted lines after each "Message … from …:" line.
const asked = [];
let inMessage = false;
for (const line of input.split("\\n")) {
  if (/^Message \\S+ from /.test(line)) { inMessage = true; asked.push(""); continue; }
  if (inMessage && line.startsWith("> ")) { asked[asked.length - 1] += (asked[asked.length - 1] ? " " : "") + line.slice(2); continue; }
  inMessage = false;
}
const said = asked.join(" / ");
const sleepFor = /sleep (\\d+)/.exec(said);
const thinkFor = /think (\\d+)/.exec(said);
const gateFor = /wait for gate (\\w+)/.exec(said);
const newId = () => require("crypto").randomUUID();
`;

const CLAUDE = `#!/usr/bin/env node
const NAME = "claude";
${COMMON}
const resume = (args.find((a) => a.startsWith("--resume=")) || "").slice("--resume=".length);
const dir = path.join(home, "claude", process.cwd().replace(/[^A-Za-z0-9]/g, "-"));
fs.mkdirSync(dir, { recursive: true });
let history = [];
if (resume) {
  const file = path.join(dir, resume + ".json");
  if (!fs.existsSync(file)) {
    out({ type: "result", subtype: "error_during_execution", is_error: true, result: "No conversation found with session ID: " + resume, session_id: resume, num_turns: 0 });
    process.exit(1);
  }
  history = JSON.parse(fs.readFileSync(file, "utf8"));
}
const id = newId();
history = [...history, said];
fs.writeFileSync(path.join(dir, id + ".json"), JSON.stringify(history));
out({ type: "system", subtype: "init", session_id: id, cwd: process.cwd() });
const finish = () => {
  if (/\\bquiet\\b/.test(said)) { process.stdout.write("no json here\\n"); process.exit(0); }
  if (/\\bfail\\b/.test(said)) {
    out({ type: "result", subtype: "success", is_error: true, result: "I could not do that", session_id: id, num_turns: 1, total_cost_usd: 0.002 });
    process.exit(1);
  }
  const text = "heard: " + history.join(" | ");
  out({ type: "assistant", message: { content: [{ type: "text", text }] }, session_id: id });
  out({ type: "result", subtype: "success", is_error: false, result: text, session_id: id, num_turns: 2, total_cost_usd: 0.01 });
};
// "please run json: <a JSON string>": the command is that string, its escapes read (a model may emit any character).
const wantsJson = /please run json: (".*")$/.exec(said);
const wantsToRun = wantsJson || /please run: (.+)$/.exec(said);
if (wantsToRun) {
  // Its permissions do not cover Bash: it asks the permission prompt tool, through the MCP server --mcp-config names,
  // as Claude Code does (initialize, then tools/call of mcp__<server>__<tool>), and goes on by the answer.
  const command = wantsJson ? JSON.parse(wantsJson[1]) : wantsToRun[1];
  out({ type: "assistant", message: { content: [{ type: "tool_use", name: "Bash", input: { command } }] }, session_id: id });
  const flag = (args.find((a) => a.startsWith("--permission-prompt-tool=")) || "").split("=")[1] || "";
  const [, server, tool] = /^mcp__([^_]+(?:_[^_]+)*)__(.+)$/.exec(flag) || [];
  const configPath = (args.find((a) => a.startsWith("--mcp-config=")) || "").slice("--mcp-config=".length);
  const answerWith = (text) => {
    out({ type: "assistant", message: { content: [{ type: "text", text }] }, session_id: id });
    out({ type: "result", subtype: "success", is_error: false, result: text, session_id: id, num_turns: 3, total_cost_usd: 0.02 });
    process.exit(0);
  };
  if (!server || !configPath) answerWith("not allowed: nobody to ask (no permission prompt tool)");
  const conf = JSON.parse(fs.readFileSync(configPath, "utf8")).mcpServers[server];
  const child = require("child_process").spawn(conf.command, conf.args, { env: { ...process.env, ...(conf.env || {}) }, stdio: ["pipe", "pipe", "inherit"] });
  const send = (m) => child.stdin.write(JSON.stringify({ jsonrpc: "2.0", ...m }) + "\\n");
  let buf = "";
  child.stdout.on("data", (d) => {
    buf += d;
    for (let i = buf.indexOf("\\n"); i >= 0; i = buf.indexOf("\\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.trim()) continue;
      const m = JSON.parse(line);
      if (m.id === 1) {
        send({ method: "notifications/initialized" });
        send({ id: 2, method: "tools/call", params: { name: tool, arguments: { tool_name: "Bash", input: { command }, tool_use_id: "toolu_standin" } } });
      } else if (m.id === 2) {
        // As Claude Code: the answer must be exactly one text block, and nothing else (no structuredContent).
        const c = (m.result && m.result.content) || [];
        if (c.length !== 1 || c[0].type !== "text" || typeof c[0].text !== "string" || m.result.structuredContent !== undefined) {
          child.kill();
          answerWith('not allowed: <tool_use_error>Error calling tool (Bash): Permission prompt tool returned an invalid result. Expected a single text block param with type="text" and a string text value.</tool_use_error>');
          return;
        }
        const text = c[0].text;
        let d;
        try { d = JSON.parse(text); } catch { d = { behavior: "deny", message: "unreadable answer: " + text }; }
        child.kill();
        answerWith(d.behavior === "allow" ? "ran: " + d.updatedInput.command : "not allowed: " + d.message);
      }
    }
  });
  send({ id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "claude-standin", version: "1" } } });
} else if (gateFor) {
  out({ type: "assistant", message: { content: [{ type: "text", text: "Waiting." }, { type: "tool_use", name: "Bash", input: { command: "wait for gate " + gateFor[1] } }] }, session_id: id });
  const gate = path.join(home, "gate-" + gateFor[1]);
  const until = Date.now() + 600000;
  // Ends unanswered when its test's directory is gone (a test that failed before opening the gate) or after 10 minutes.
  const look = () => (fs.existsSync(gate) ? finish() : Date.now() > until || !fs.existsSync(home) ? process.exit(1) : setTimeout(look, 50));
  look();
} else if (sleepFor) {
  out({ type: "assistant", message: { content: [{ type: "text", text: "Working on it." }, { type: "tool_use", name: "Bash", input: { command: "sleep " + sleepFor[1] } }] }, session_id: id });
  setTimeout(finish, Number(sleepFor[1]) * 1000);
} else if (thinkFor) {
  out({ type: "system", subtype: "init", session_id: id });
  setTimeout(finish, Number(thinkFor[1]) * 1000);
} else finish();
`;

const CODEX = `#!/usr/bin/env node
const NAME = "codex";
${COMMON}
const at = args.indexOf("resume");
if (at >= 0) {
  const bad = args.find((a) => a === "-s" || a.startsWith("--sandbox") || a === "-C" || a.startsWith("--cd"));
  if (bad) { process.stderr.write("error: unexpected argument '" + bad + "' found\\n"); process.exit(2); }
}
const resume = at >= 0 ? args[at + 1] : undefined;
const dir = path.join(home, "codex");
fs.mkdirSync(dir, { recursive: true });
let history = [];
const id = resume || newId();
if (resume) {
  const file = path.join(dir, resume + ".json");
  if (!fs.existsSync(file)) { out({ type: "error", message: "thread " + resume + " not found" }); process.exit(1); }
  history = JSON.parse(fs.readFileSync(file, "utf8"));
}
history = [...history, said];
fs.writeFileSync(path.join(dir, id + ".json"), JSON.stringify(history));
out({ type: "thread.started", thread_id: id });
out({ type: "turn.started" });
const finish = () => {
  out({ type: "item.completed", item: { id: "i2", type: "agent_message", text: "heard: " + history.join(" | ") } });
  out({ type: "turn.completed", usage: { input_tokens: 10, output_tokens: 5 } });
};
if (sleepFor) {
  out({ type: "item.started", item: { id: "i1", type: "command_execution", command: "sleep " + sleepFor[1], status: "in_progress" } });
  setTimeout(finish, Number(sleepFor[1]) * 1000);
} else if (thinkFor) {
  setTimeout(finish, Number(thinkFor[1]) * 1000);
} else finish();
`;

/** Writes the stand-ins `claude` and `codex` into `bin`, keeping their sessions and calls under `home`. */
export async function writeStandIns(bin, home) {
  await mkdir(bin, { recursive: true });
  await mkdir(home, { recursive: true });
  for (const [name, text] of [
    ["claude", CLAUDE],
    ["codex", CODEX],
  ]) {
    await writeFile(join(bin, name), text);
    await chmod(join(bin, name), 0o755);
  }
}

/** The calls the stand-ins recorded under `home`, in order. */
export async function standInCalls(home) {
  const text = await readFile(join(home, "calls.jsonl"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
