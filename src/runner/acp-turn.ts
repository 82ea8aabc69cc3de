// coord's driver of one turn of an agent CLI over the Agent Client Protocol
// (`opencode acp`): run inside the turn's sandbox in the CLI's place, it starts
// the CLI, opens or resumes the session, gives it the prompt, asks the turn's
// asker each permission the CLI asks for (through the permission prompt tool of
// the turn's coord tools, which the engine serves outside the sandbox: the same
// one Claude Code's turns ask through), and prints the turn as `opencode run
// --format json` lines for the engine to read. The rules of the protocol are
// core/agents/acp.ts; this file is the process and the pipes.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  ACP_PROTOCOL_VERSION,
  type AcpTurn,
  acpAnswer,
  acpEnd,
  acpIncoming,
  acpRefusal,
  acpRequest,
  acpUpdate,
  deniedLine,
  newTurn,
  openSession,
  permissionAnswer,
  permissionAsked,
  sessionLine,
} from "../core/agents/acp.js";
import type { Permission } from "../core/agents/adapter.js";
import type { Json } from "../core/agents/cli/common.js";

export interface AcpTurnOptions {
  /** The CLI's ACP command line (`opencode acp`). */
  command: string[];
  prompt: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The session to resume. */
  session?: string;
  permissions: Permission;
  /** The session's cost before this turn, as the last turn left it. */
  spentBefore?: number;
  /** The turn's --mcp-config (its coord tools): where a permission is asked. None: every request is refused. */
  mcpConfig?: string;
  /**
   * Variables set to a fresh random secret for the CLI alone. `opencode acp` serves its session over HTTP on loopback
   * (127.0.0.1:4096 or another port), where any process of the machine could answer its permission requests or prompt
   * it: OPENCODE_SERVER_PASSWORD makes that server ask for a password nobody else has.
   */
  secretEnv?: readonly string[];
  print(line: string): void;
  log(line: string): void;
}

/** The `coord` server of a turn's --mcp-config, to start as an MCP client's transport. */
async function toolsServer(file: string): Promise<{ command: string; args: string[]; env: Record<string, string> }> {
  const c = JSON.parse(await readFile(file, "utf8")) as { mcpServers?: { coord?: { command?: string; args?: string[]; env?: Record<string, string> } } };
  const s = c.mcpServers?.coord;
  if (!s?.command || !Array.isArray(s.args)) throw new Error(`${file} names no coord server`);
  return { command: s.command, args: s.args, env: s.env ?? {} };
}

/** Asks the turn's asker whether `tool` may run with `input`, through the turn's permission prompt tool: true to allow. */
async function askAsker(o: AcpTurnOptions, client: () => Promise<Client>, tool: string, input: Json): Promise<boolean> {
  if (o.permissions === "full") return true;
  if (!o.mcpConfig) return false;
  try {
    const r = await (await client()).callTool({ name: "permission_prompt", arguments: { tool_name: tool, input } }, undefined, { timeout: 2 ** 31 - 1 });
    const text = (r.content as { type: string; text?: string }[] | undefined)?.find((c) => c.type === "text")?.text ?? "";
    return (JSON.parse(text) as { behavior?: string }).behavior === "allow";
  } catch (e) {
    o.log(`coord acp: could not ask for ${tool}: ${(e as Error).message}`);
    return false;
  }
}

/** Runs the turn; resolves with the exit code the driver ends with (0: the turn's end was printed). */
export async function runAcpTurn(o: AcpTurnOptions): Promise<number> {
  const [exe, ...args] = o.command;
  if (!exe) throw new Error("no ACP command line given");
  const secrets = Object.fromEntries((o.secretEnv ?? []).map((name) => [name, randomBytes(32).toString("hex")]));
  const child = spawn(exe, args, { cwd: o.cwd, env: { ...o.env, ...secrets }, stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<string>((resolve) => {
    child.once("error", (e) => resolve(`could not start ${exe}: ${e.message}`));
    child.once("exit", (code, signal) => resolve(`${exe} exited (${signal ?? `code ${code}`}) before the turn ended`));
  });
  child.stdin.on("error", () => {});
  let mcp: Promise<Client> | undefined;
  const client = () => {
    mcp ??= (async () => {
      const c = new Client({ name: "coord-acp-turn", version: "1" });
      await c.connect(new StdioClientTransport({ ...(await toolsServer(o.mcpConfig!)), stderr: "inherit" }));
      return c;
    })();
    return mcp;
  };
  let next = 0;
  const waiting = new Map<number, (a: { result?: Json; error?: string }) => void>();
  const call = (method: string, params: Json) =>
    new Promise<{ result?: Json; error?: string }>((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      child.stdin.write(acpRequest(id, method, params));
    });
  let turn: AcpTurn = newTurn(o.spentBefore);
  const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on("line", (text) => {
    const m = acpIncoming(text);
    if (m.kind === "answer") {
      waiting.get(m.id)?.(m);
      waiting.delete(m.id);
    } else if (m.kind === "notice" && m.method === "session/update") {
      const r = acpUpdate(turn, m.params);
      turn = r.turn;
      for (const l of r.print) o.print(l);
    } else if (m.kind === "request" && m.method === "session/request_permission") {
      const asked = permissionAsked(m.params);
      void askAsker(o, client, asked.tool, asked.input).then((allowed) => {
        if (!allowed) o.print(deniedLine(turn, asked.tool));
        child.stdin.write(acpAnswer(m.id, permissionAnswer(allowed ? asked.allow : asked.reject)));
      });
    } else if (m.kind === "request") {
      child.stdin.write(acpRefusal(m.id, `coord does not serve ${m.method}`));
    }
  });
  const steps = (async () => {
    const init = await call("initialize", { protocolVersion: ACP_PROTOCOL_VERSION, clientCapabilities: {} });
    if (init.error !== undefined) return { error: `it refused to start: ${init.error}` };
    const open = openSession(o.cwd, o.session);
    const opened = await call(open.method, open.params);
    if (opened.error !== undefined) return { error: `${o.session ? `could not resume session ${o.session}` : "could not open a session"}: ${opened.error}` };
    const session = o.session ?? (typeof opened.result?.sessionId === "string" ? opened.result.sessionId : undefined);
    if (!session) return { error: "it opened a session without an id" };
    turn = { ...turn, session };
    o.print(sessionLine(session));
    return call("session/prompt", { sessionId: session, prompt: [{ type: "text", text: o.prompt }] });
  })();
  const end = await Promise.race([steps, exited.then((why) => ({ error: why }))]);
  for (const l of acpEnd(turn, end)) o.print(l);
  child.kill("SIGTERM");
  await (await mcp?.catch(() => undefined))?.close().catch(() => {});
  return end.error === undefined ? 0 : 1;
}
