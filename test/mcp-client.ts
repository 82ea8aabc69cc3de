// A client of coord mcp through the official SDK, served in the test's process (tests of the MCP server and of agents
// that use it).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult, JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { PassThrough } from "node:stream";
import { serveMcp } from "../src/actions/mcp.js";

/**
 * A client of the server `coord mcp --dir <dir>` runs (serveMcp), served in this process on a pair of
 * streams in newline-delimited JSON-RPC, as on stdio; its log lines as coord mcp writes them to stderr. Closed (its
 * input ended, the server awaited) by the stop given to `onEnd`.
 */
export async function connectMcp(dir: string, onEnd: (stop: () => Promise<unknown>) => void): Promise<{ client: Client; stderr: () => string }> {
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  let stderr = "";
  const serving = serveMcp({ dir, input: toServer, output: fromServer, log: (line) => (stderr += `coord mcp: ${line}\n`) });
  serving.catch(() => {}); // awaited when stopped
  const received = new ReadBuffer();
  const transport: Transport = {
    start: async () => {
      fromServer.on("data", (d: Buffer) => {
        received.append(d);
        for (let m = received.readMessage(); m; m = received.readMessage()) transport.onmessage?.(m);
      });
    },
    send: async (m: JSONRPCMessage) => {
      toServer.write(serializeMessage(m));
    },
    close: async () => {
      toServer.end();
      transport.onclose?.();
    },
  };
  const client = new Client({ name: "coord-test", version: "1.0.0" });
  await client.connect(transport);
  onEnd(async () => {
    await client.close();
    await serving;
  });
  return { client, stderr: () => stderr };
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult & { data: Record<string, unknown>; text: string }> {
  const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
  return { ...r, data: (r.structuredContent ?? {}) as Record<string, unknown>, text };
}

/** A call that must succeed: its structured content and text. */
export async function ok(client: Client, name: string, args: Record<string, unknown> = {}) {
  const r = await call(client, name, args);
  if (r.isError) throw new Error(`${name} answered an error: ${r.text}`);
  return r;
}
