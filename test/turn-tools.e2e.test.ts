// coord's tools for a turn, served from outside the agent's sandbox (src/commands/turn-tools.ts) and reached through the
// relay the turn's --mcp-config names (`coord mcp --connect`, src/commands/mcp-relay.ts): what is sent there is the
// turn's (marked as its agent's, in its chain), whatever the relay's own environment says; a connection without the
// turn's token is served nothing; the relay to a turn that is over says so. The real Claude Code through it:
// test/claude-real.e2e.test.ts (whoami, send, the permission prompt).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { outbox } from "../src/actions/messages.js";
import { RELAY_TOKEN_ENV, TURN_TOOLS } from "../src/core/agents/mcp-config.js";
import { ON_CALL_AGENT_ENV, ON_CALL_CHAIN_ENV, ON_CALL_THREAD_ENV, ON_CALL_TURN_ENV } from "../src/sync/on-call-turn.js";
import { serveTurnTools } from "../src/commands/turn-tools.js";
import { CLI, cli, cliExec, makeFleet } from "./helpers.js";
import { ok } from "./mcp-client.js";

const turn = { [ON_CALL_CHAIN_ENV]: "3", [ON_CALL_AGENT_ENV]: "claude", [ON_CALL_THREAD_ENV]: "peer/oncall/1", [ON_CALL_TURN_ENV]: "oncall/peer/oncall/1/2026" };

/** An MCP client's first line, as a raw connection sends it after the token line. */
const INITIALIZE = `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } })}\n`;

describe("a turn's coord tools, served outside its sandbox", () => {
  it("through the relay, a message sent is the turn's agent's, in its chain, though the relay's environment names no turn", async () => {
    const f = await makeFleet(["oncall", "peer"]);
    const dir = f.machines.oncall!;
    expect((await cli("sync", "--dir", dir)).code).toBe(0);
    const logs: string[] = [];
    const tools = await serveTurnTools(dir, turn, (l) => logs.push(l));
    try {
      // The relay as the turn's CLI starts it: no ON_CALL_* variable (an agent can take them out of its environment).
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [CLI, "mcp", "--connect", tools.address],
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", [RELAY_TOKEN_ENV]: tools.token },
        stderr: "pipe",
      });
      const client = new Client({ name: "coord-turn-tools-test", version: "1.0.0" });
      await client.connect(transport);
      expect((await ok(client, "whoami")).data.machine).toBe("oncall");
      // Only what reads the fleet, messages in the turn's name and asks its asker: nothing that acts as the machine
      // (an order runs outside any sandbox; an approval is a person's; an acknowledgement hides a message from them).
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual([...TURN_TOOLS].sort());
      for (const [name, args] of [
        ["order_add", { to: "oncall", run: "id" }],
        ["approve", { request: "peer/oncall/1", decision: "approve" }],
        ["ack", { all: true }],
        ["stop_turn", { thread: "peer/oncall/1" }],
      ] as const) {
        const r = await client.callTool({ name, arguments: args });
        expect(r.isError, name).toBe(true);
      }
      await ok(client, "send", { to: "peer", body: "from the turn" });
      // The thread tool shows it with its mark, as coord outbox --json does (a drift of the issue on the house).
      const thread = (await ok(client, "thread", { with: "peer" })).data.messages as { text: string; agent?: unknown }[];
      expect(thread.find((x) => x.text === "from the turn")?.agent).toEqual({ cli: "claude", chain: 3 });
      await client.close();
      const sent = (await outbox(dir)).messages.find((m) => m.text === "from the turn");
      expect(sent?.agent).toEqual({ cli: "claude", chain: 3 });
    } finally {
      await tools.close();
    }
  });

  it("a connection without the turn's token is closed unanswered; the relay to a turn that is over says so", async () => {
    const f = await makeFleet(["oncall"]);
    const dir = f.machines.oncall!;
    const logs: string[] = [];
    const tools = await serveTurnTools(dir, turn, (l) => logs.push(l));
    const [host, port] = tools.address.split(":");
    const answered = await new Promise<string>((resolve) => {
      let got = "";
      const s = connect({ host: host!, port: Number(port) }, () => {
        s.write("not-the-token\n");
        s.write(INITIALIZE);
      });
      s.on("data", (d) => (got += d));
      s.on("close", () => resolve(got));
      s.on("error", () => {});
    });
    expect(answered).toBe("");
    expect(logs.join("\n")).toMatch(/without its token was closed/);
    // 40 connections that never send the token do not keep out one that does.
    const idle = await Promise.all(
      Array.from(
        { length: 40 },
        () =>
          new Promise<Socket>((resolve) => {
            const s = connect({ host: host!, port: Number(port) }, () => resolve(s));
            s.on("error", () => {});
          }),
      ),
    );
    const served = await new Promise<string>((resolve) => {
      let got = "";
      const s = connect({ host: host!, port: Number(port) }, () => {
        s.write(`${tools.token}\n`);
        s.write(INITIALIZE);
      });
      s.on("data", (d) => {
        got += d;
        if (got.includes("\n")) {
          s.destroy();
          resolve(got);
        }
      });
      s.on("error", () => resolve(got));
    });
    expect(JSON.parse(served).result.serverInfo.name).toBe("coord");
    for (const s of idle) s.destroy();
    await tools.close();
    const r = await cliExec(["mcp", "--connect", tools.address], Buffer.from(""), { ...process.env, [RELAY_TOKEN_ENV]: tools.token });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^coord: could not reach the turn's coord tools at 127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\): the turn may be over\n$/);
  });
});
