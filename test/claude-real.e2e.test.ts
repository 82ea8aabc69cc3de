// Agents on call and approvals from afar with the REAL Claude Code (the pinned versions, scripts/agent-clis.json),
// pointed at a scripted Anthropic Messages API on loopback (test/anthropic-server.ts): no account, no internet.
// A `claude` on PATH runs the real one with the server's address and key and a throw-away HOME. A version that is
// not installed is skipped, by name, with the way to install it (node scripts/install-agent-clis.mjs).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { agentInvocation } from "../src/core/agents/agents.js";
import { inbox } from "../src/actions/messages.js";
import { type AnthropicServer, claudeEnv, startAnthropicServer } from "./anthropic-server.js";
import { cli, filesNamed, tempDir, waitFor } from "./helpers.js";
import { type Msg, onCallTests } from "./on-call-fleet.js";
import { pinnedVersions, realCli } from "./real-clis.js";
import { patient } from "./patience.js";

const t = onCallTests("coord-claude-real-");
const { dirOf, send, arrives } = t;

const answerTo = (q: string) => (x: Msg) => x.replyTo === q && x.agent?.answer === true && x.agent.request === undefined;
const requestFor = (q: string) => (x: Msg) => x.agent?.request !== undefined && x.replyTo === q;
const requestsAt = async (name: string) => ((await inbox({ dir: dirOf(name), all: true })).messages as Msg[]).filter((x) => x.agent?.request !== undefined);

/** Puts `claude` on the test's PATH: the real one at `bin`, pointed at `server` (with `key`, the server's by default). */
async function realClaudeOnPath(bin: string, server: AnthropicServer, key = server.key): Promise<void> {
  // The daemon's own HOME (the person's): the shield gives the agent its own copy of ~/.claude there.
  const home = process.env.HOME!;
  await mkdir(home, { recursive: true });
  const env = Object.entries(claudeEnv(server, home, key))
    .map(([k, v]) => `export ${k}='${v}'`)
    .join("\n");
  await writeFile(join(t.bin, "claude"), `#!/bin/sh\n${env}\nexec '${bin}' "$@"\n`);
  await chmod(join(t.bin, "claude"), 0o755);
  // The real CLI's own directory on the daemon's PATH too (after the wrapper): where the CLIs are installed below /tmp
  // (a CI's HOME), the shield sees a PATH directory again, never a program named only inside a script.
  // (Only there: elsewhere "claude missing from PATH" below is checked too.)
  const fresh = ["/tmp/", "/var/tmp/", "/dev/shm/"].some((f) => bin.startsWith(f));
  if (fresh && !(process.env.PATH ?? "").split(":").includes(dirname(bin))) process.env.PATH = `${process.env.PATH}:${dirname(bin)}`;
}

/** A fleet whose machine "oncall" has the real claude on call for "asker" (its daemon started), and the model server. */
async function onCall(bin: string, extra: string[] = [], opts: { key?: string } = {}): Promise<AnthropicServer> {
  const server = await startAnthropicServer();
  t.onEnd(() => server.close());
  await realClaudeOnPath(bin, server, opts.key);
  await t.fleet(["asker", "oncall"]);
  const set = await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker", ...extra);
  expect(set.code, set.err).toBe(0);
  t.startDaemon("oncall");
  return server;
}

/** The session of thread `q` on the machine on call, as its last turn returned it. */
async function sessionOf(q: string): Promise<string | undefined> {
  const r = await cli("agent", "on-call", "--dir", dirOf("oncall"), "--json");
  return (JSON.parse(r.out) as { threads: { thread: string; session?: string }[] }).threads.find((x) => x.thread === q)?.session;
}

/** Runs the real claude once, as coord runs an order (agentInvocation), against `server`: its JSON lines. */
async function runClaude(bin: string, server: AnthropicServer, cwd: string, prompt: string, permissions: "read-only" | "edit", args: string[] = []): Promise<string> {
  const how = agentInvocation({ agent: "claude", prompt, permissions, args }, { root: false, executable: bin });
  if (!("argv" in how)) throw new Error(how.refused);
  const home = await tempDir("coord-claude-home-");
  const p = spawn(how.argv[0]!, how.argv.slice(1), { cwd, env: { PATH: process.env.PATH, ...claudeEnv(server, home), ...how.env }, stdio: ["pipe", "pipe", "pipe"] });
  p.stdin.end(how.input ?? "");
  let out = "";
  p.stdout.on("data", (d) => (out += d));
  const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
  await new Promise((r) => p.once("close", r));
  clearTimeout(timer);
  return out;
}

/** A permission prompt tool as a tiny MCP server (no SDK) that allows everything, with `structuredContent` or without. */
async function promptServer(dir: string, structured: boolean): Promise<string> {
  const script = join(dir, "prompt-server.cjs");
  await writeFile(
    script,
    `let buf = "";
const send = (m) => process.stdout.write(JSON.stringify({ jsonrpc: "2.0", ...m }) + "\\n");
process.stdin.on("data", (d) => {
  buf += d;
  for (let i = buf.indexOf("\\n"); i >= 0; i = buf.indexOf("\\n")) {
    const m = JSON.parse(buf.slice(0, i)); buf = buf.slice(i + 1);
    if (m.method === "initialize") send({ id: m.id, result: { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "p", version: "1" } } });
    else if (m.method === "tools/list") send({ id: m.id, result: { tools: [{ name: "ask", description: "asks", inputSchema: { type: "object" } }] } });
    else if (m.method === "tools/call") {
      require("fs").appendFileSync(${JSON.stringify(join(dir, "prompt-calls.log"))}, JSON.stringify(m.params) + "\\n");
      const a = { behavior: "allow", updatedInput: m.params.arguments.input };
      send({ id: m.id, result: { content: [{ type: "text", text: JSON.stringify(a) }]${structured ? ", structuredContent: a" : ""} } });
    } else if (m.id !== undefined) send({ id: m.id, result: {} });
  }
});
`,
  );
  const config = join(dir, `prompt-${structured}.mcp.json`);
  await writeFile(config, JSON.stringify({ mcpServers: { p: { type: "stdio", command: process.execPath, args: [script] } } }));
  return config;
}

const [newest, oldest] = pinnedVersions("claude") as [string, string];

for (const version of [newest, oldest]) {
  const real = realCli("claude", version);
  const suite = "bin" in real ? describe : describe.skip;
  const isNewest = version === newest;
  suite(`the real claude ${version}${"missing" in real ? ` (skipped: ${real.missing})` : ""}`, () => {
    const bin = "bin" in real ? real.bin : "";

    it("a thread over three turns: the model sees the earlier turns; coord's whoami and send run without a person, and the model reads coord's words", {
      timeout: patient(240_000),
    }, async () => {
      const server = await onCall(bin);
      const q1 = await send("asker", "oncall", "what is 2+2");
      const a1 = await arrives("asker", answerTo(q1), "the first answer");
      expect(a1.text).toBe('heard "what is 2+2" in 1 user turns');
      expect(a1.agent).toMatchObject({ answer: true, cli: "claude", turns: 1 });
      const s1 = await sessionOf(q1);
      const q2 = await send("asker", "oncall", "and 3+3", a1.id);
      expect((await arrives("asker", answerTo(q2), "the second answer")).text).toBe('heard "and 3+3" in 2 user turns');
      const s2 = await sessionOf(q1);
      // What claude does on resume (docs/agents.md): 2.1.197 and 2.1.332 keep the session id (coord resumes whatever id
      // the last turn returned, so a CLI that writes a new one, as the stand-in does, works too).
      expect(s1).toMatch(/^[0-9a-f-]{36}$/);
      expect(s2).toBe(s1);
      const q3 = await send("asker", "oncall", "call mcp__coord__whoami {}", q2);
      const a3 = await arrives("asker", answerTo(q3), "the third answer");
      // The model was shown coord's sentence first (the structured content, which claude shows instead of the text).
      expect(a3.text).toMatch(/^tool said: \{"text":"This machine is oncall \(checkout [^)]+\), hub .*Peers as of commit [0-9a-f]{12}: asker online\.","machine":"oncall"/);
      const seen = JSON.stringify(server.turns().at(-1)!.body.messages);
      for (const earlier of ["what is 2+2", "and 3+3"]) expect(seen).toContain(earlier);
      const q4 = await send("asker", "oncall", 'call mcp__coord__send {"to":"asker","body":"hello from the agent"}', q3);
      expect((await arrives("asker", answerTo(q4), "the fourth answer")).text).toMatch(/^tool said: \{"text":"Queued oncall\/asker\/\d+ for asker;/);
      expect((await arrives("asker", (x) => x.text === "hello from the agent", "the agent's message")).from).toBe("oncall");
      expect(await requestsAt("asker")).toEqual([]);
      // Behind the shield the session is kept in the agents' own copy of ~/.claude, never in the person's.
      if (process.env.COORD_AGENT_SANDBOX !== "off") {
        expect(await filesNamed(join(process.env.HOME!, ".claude"), `${s1}.jsonl`)).toEqual([]);
        expect(await filesNamed(join(dirOf("oncall"), ".git", "coord", "agent-state", "askers", "asker", "claude", "home", ".claude"), `${s1}.jsonl`)).toHaveLength(1);
      }
    });

    it("/approve: the command runs; /deny: the model is told who denied and why", { timeout: patient(240_000) }, async () => {
      await onCall(bin);
      const q = await send("asker", "oncall", "run: echo approved > approved.txt");
      const req = await arrives("asker", requestFor(q), "the request");
      expect(req.text).toMatch(/^Permission asked: Bash: echo approved > approved\.txt\n/);
      await send("asker", "oncall", "/approve", req.id);
      expect((await arrives("asker", answerTo(q), "the answer")).text).toBe("ran: (Bash completed with no output)");
      expect(await readFile(join(t.work, "approved.txt"), "utf8")).toBe("approved\n");
      const q2 = await send("asker", "oncall", "run: echo denied > denied.txt");
      const req2 = await arrives("asker", requestFor(q2), "the second request");
      await send("asker", "oncall", "/deny not today", req2.id);
      // The turn ends denied; the model was told who denied and why, and said so last.
      expect((await arrives("asker", answerTo(q2), "the second answer")).text).toBe(
        "The turn ended with Bash denied: the asker denied it, or nobody answered in time.\n\nWhat it said last:\nnot allowed: denied by asker: not today",
      );
      await expect(readFile(join(t.work, "denied.txt"))).rejects.toThrow();
    });

    // Behind the shield (src/sync/sandbox.ts); a run without bubblewrap turns it off (vitest.config.ts) and skips this.
    it.skipIf(process.env.COORD_AGENT_SANDBOX === "off")(
      "with every permission (full), the machine's key stays out of reach: by its path, in hex, base32 or reversed, a glob, a link, a copy of .git, /proc/<pid>/root",
      { timeout: patient(120_000) },
      async () => {
        await onCall(bin, ["--permissions", "full"]);
        const dir = dirOf("oncall");
        const key = join(dir, ".git", "coord", "machine_key");
        const body = (await readFile(key, "utf8")).split("\n").filter((l) => l && !l.startsWith("-----"));
        const raw = Buffer.from(body.join(""), "base64");
        const copy = join(t.work, "dotgit-copy");
        const cmd = [
          `od -An -tx1 ${key} | head -3`,
          `base32 ${key} | head -2`,
          `cat ${dir}/.git/coord/machine_k?y | rev | head -3`,
          `ln -sf ${key} ${t.work}/k.link; cat ${t.work}/k.link`,
          `cp -r ${dir}/.git ${copy} 2>&1 | head -2; cat ${copy}/coord/machine_key`,
          `for p in /proc/[0-9]*; do cat $p/root${key}; done 2>/dev/null | head -3`,
          "echo end of attempts",
        ].join("; ");
        const q = await send("asker", "oncall", `run: ${cmd}`);
        const a = await arrives("asker", answerTo(q), "the answer");
        expect(a.text).toMatch(/^ran: /);
        expect(a.text).toContain("end of attempts");
        expect(a.text).toMatch(/machine_key: Permission denied/);
        // No shape of the key: its hex (od's bytes), its base64 lines, reversed.
        const flat = a.text.replace(/\s/g, "");
        expect(flat).not.toContain(raw.subarray(0, 16).toString("hex"));
        for (const l of body) {
          expect(a.text).not.toContain(l.slice(0, 20));
          expect(a.text).not.toContain([...l].reverse().join("").slice(0, 20));
        }
      },
    );

    it("/approve always Bash: the next command of the thread runs without asking", { timeout: patient(240_000) }, async () => {
      await onCall(bin);
      const q = await send("asker", "oncall", "run: echo one > one.txt");
      const req = await arrives("asker", requestFor(q), "the request");
      await send("asker", "oncall", "/approve always Bash", req.id);
      const a = await arrives("asker", answerTo(q), "the answer");
      expect(a.text).toBe("ran: (Bash completed with no output)");
      const q2 = await send("asker", "oncall", "run: echo two > two.txt", a.id);
      expect((await arrives("asker", answerTo(q2), "the second answer")).text).toBe("ran: (Bash completed with no output)");
      expect(await readFile(join(t.work, "two.txt"), "utf8")).toBe("two\n");
      expect(await requestsAt("asker")).toHaveLength(1);
    });

    it("no decision within the approval timeout: denied, and the model is told", { timeout: patient(180_000) }, async () => {
      await onCall(bin, ["--approval-timeout", "5s"]);
      const q = await send("asker", "oncall", "run: echo late > late.txt");
      await arrives("asker", requestFor(q), "the request");
      expect((await arrives("asker", answerTo(q), "the answer")).text).toBe(
        "The turn ended with Bash denied: the asker denied it, or nobody answered in time.\n\nWhat it said last:\nnot allowed: nobody answered within 5 s",
      );
      await expect(readFile(join(t.work, "late.txt"))).rejects.toThrow();
    });

    it("read-only orders (coord's invocation, no prompt tool): reads run, a write is denied", { timeout: patient(180_000) }, async () => {
      const server = await startAnthropicServer();
      t.onEnd(() => server.close());
      const work = await tempDir("coord-claude-order-");
      const wrote = await runClaude(bin, server, work, "run: echo x > wrote.txt", "read-only");
      expect(wrote).toContain('"type":"result"');
      await expect(readFile(join(work, "wrote.txt"))).rejects.toThrow();
      await writeFile(join(work, "seen.txt"), "y\n");
      expect(await runClaude(bin, server, work, "run: cat seen.txt", "read-only")).toContain("ran: y");
    });

    it("the stand-in's rule holds: claude refuses a permission prompt answer with structuredContent, takes one text block", { timeout: patient(180_000) }, async () => {
      const server = await startAnthropicServer();
      t.onEnd(() => server.close());
      const work = await tempDir("coord-claude-prompt-");
      for (const structured of [true, false]) {
        const config = await promptServer(work, structured);
        const out = await runClaude(bin, server, work, `run: echo ${structured} > s.txt`, "read-only", [`--mcp-config=${config}`, "--permission-prompt-tool=mcp__p__ask"]);
        if (structured) expect(out).toContain("Permission prompt tool returned an invalid result. Expected a single text block param");
        else expect(out).toContain("ran: (Bash completed with no output)");
      }
      expect(await readFile(join(work, "s.txt"), "utf8")).toBe("false\n");
    });

    if (!isNewest) return;

    it("plan mode (2.1.278 on) never calls the permission prompt tool: the API's check passes a write and claude runs it, nobody asked", {
      timeout: patient(120_000),
    }, async () => {
      const server = await startAnthropicServer();
      t.onEnd(() => server.close());
      const work = await tempDir("coord-claude-plan-");
      const config = await promptServer(work, false);
      await runClaude(bin, server, work, "run: echo x > p.txt", "read-only", [`--mcp-config=${config}`, "--permission-prompt-tool=mcp__p__ask", "--permission-mode=plan"]);
      expect(server.turns().some((r) => "safeguards" in r.body)).toBe(true);
      expect(await readFile(join(work, "p.txt"), "utf8")).toBe("x\n");
      await expect(readFile(join(work, "prompt-calls.log"))).rejects.toThrow();
    });

    it("/stop ends a running turn", { timeout: patient(180_000) }, async () => {
      const server = await onCall(bin);
      const q = await send("asker", "oncall", "slow 60");
      await waitFor(async () => server.turns().length > 0, 60_000, "the model's request");
      await send("asker", "oncall", "/stop", q);
      const a = await arrives("asker", answerTo(q), "the stopped answer");
      expect(a.agent?.outcome).toBe("stopped");
    });

    it("the timeout stops a turn whose model does not answer", { timeout: patient(180_000) }, async () => {
      await onCall(bin, ["--timeout", "8s"]);
      const q = await send("asker", "oncall", "slow 60");
      const a = await arrives("asker", answerTo(q), "the timed-out answer");
      expect(a.text).toMatch(/^The turn timed out after 8 s and was stopped\./);
    });

    it("maxTurns and the budget: claude stops at them, and the answer says so", { timeout: patient(180_000) }, async () => {
      await onCall(bin, ["--max-turns", "1", "--max-budget-usd", "0.5", "--permissions", "edit"]);
      const q = await send("asker", "oncall", "run: ls");
      const a = await arrives("asker", answerTo(q), "the answer at max turns");
      expect(a.agent?.outcome).toBe("failed");
      expect(a.text).toBe("The turn failed: it reached its maximum number of turns.");
      const q2 = await send("asker", "oncall", "expensive");
      const a2 = await arrives("asker", answerTo(q2), "the answer over budget");
      expect(a2.text).toMatch(/^The turn failed: it reached its budget\./);
      expect(a2.agent?.costUsd).toBeGreaterThan(0.5);
    });

    it("an API error, a wrong key, and claude missing from PATH: each answer says the turn failed", { timeout: patient(240_000) }, async () => {
      // A timeout a loaded machine does not reach before claude gives up on the 400 (8 s did, in CI).
      await onCall(bin, ["--timeout", "20s"]);
      const q = await send("asker", "oncall", "http 400");
      const a = await arrives("asker", answerTo(q), "the answer to an API error");
      expect(a.agent?.outcome).toBe("failed");
      expect(a.text).toMatch(/^The turn failed: it said: API Error: 400 scripted error 400\./);
      // A wrong key: claude retries 401s for minutes; the turn's timeout ends it.
      const server = await startAnthropicServer();
      t.onEnd(() => server.close());
      await realClaudeOnPath(bin, server, "sk-ant-wrong");
      const q2 = await send("asker", "oncall", "hello");
      const a2 = await arrives("asker", answerTo(q2), "the answer with a wrong key");
      expect(a2.text).toMatch(/^The turn timed out after 20 s and was stopped\./);
      expect(server.requests.every((r) => r.key === "sk-ant-wrong")).toBe(true);
      // No claude on PATH (unless this machine has one of its own, which the daemon would then find).
      await rm(join(t.bin, "claude"));
      const own = (process.env.PATH ?? "").split(":").filter((d) => d && d !== t.bin && existsSync(join(d, "claude")));
      if (own.length) return console.log(`claude missing from PATH: not checked, this machine has ${join(own[0]!, "claude")}`);
      const q3 = await send("asker", "oncall", "hello again");
      const a3 = await arrives("asker", answerTo(q3), "the answer without claude");
      expect(a3.text).toMatch(/^The turn could not start: .*claude/);
    });
  });
}
