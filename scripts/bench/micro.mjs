// A second, small section: figures that are not whole syncs. The pure core at
// fleet scale, in this process (dist/ modules), what an agent session pays
// per prompt for its machine's unread messages (the installed hook, a process),
// and what its tool calls cost through coord mcp (the SDK's own client).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { renderComputer } from "../../dist/core/fleet/computer.js";
import { parseOrders } from "../../dist/core/orders/orders.js";
import { readModel } from "../../dist/core/repo/repo.js";
import { deriveStatus, renderStatusJson } from "../../dist/core/status/status.js";
import { renderStatusMd } from "../../dist/core/status/status-md.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CLI, dur, fixture, fleet, median, must, size, spread, syncOk } from "./lib.mjs";

async function timed(runs, fn) {
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  return ms;
}

const line = (what, ms) => ({ what, figure: `${dur(median(ms))} median (${spread(ms)})` });

/** parseOrders, and STATUS derived and rendered, for 100 machines × 200 orders, in this process. */
export async function pureCore() {
  const machines = Array.from({ length: size(100) }, (_, i) => `m${i}`);
  const orders = Array.from({ length: size(200) }, (_, i) => ({ id: `o${i}`, to: i % 2 ? "ALL" : machines[i % machines.length], run: "true" }));
  const ordersText = JSON.stringify({ version: 1, orders }, null, 2);
  const files = new Map([["ORDERS.json", ordersText]]);
  for (const name of machines) {
    const tasks = Object.fromEntries(orders.filter((o, i) => i % 2 || o.to === name).map((o) => [o.id, { rev: 1, state: "completed", attempts: 1, exitCode: 0, output: "ok" }]));
    const computer = {
      coord: 1,
      name,
      uuid: name,
      state: "idle",
      lastSeen: "2026-01-01T00:00:00.000Z",
      heartbeat: 900,
      capabilities: { os: "linux" },
      orders: { seen: "x", valid: true },
      tasks,
    };
    files.set(`coordination/COMPUTER_${name}.md`, renderComputer(computer));
  }
  const label = `${machines.length} machines × ${orders.length} orders`;
  const derive = () => {
    const s = deriveStatus(readModel(files));
    renderStatusJson(s);
    renderStatusMd(s);
  };
  return [
    line(`parseOrders: ${orders.length} orders, ${machines.length} machines (in process)`, await timed(size(20, 5), () => parseOrders(ordersText, { machines }))),
    line(`read + derive + render STATUS, ${label}: first read (in process)`, await timed(1, derive)),
    line("  the same files again (parsed machine files memoised)", await timed(size(10, 3), derive)),
  ];
}

/** The hook `coord agent hooks install claude` writes (.claude/settings.local.json), run as the agent runs it, against `coord inbox --format prompt`. */
export async function agentHook() {
  const f = fixture("hook");
  try {
    const { dirs } = await fleet(f, ["a1", "a2"], { person: false });
    // A send checks its recipient against the machines its last sync verified: a1 registered before a2.
    await syncOk(f, dirs.a1);
    await f.mustCoord(["send", "a2", "please rebase onto main", "--dir", dirs.a1]);
    await syncOk(f, dirs.a1);
    await syncOk(f, dirs.a2);
    const project = join(f.root, "project");
    await f.mustCoord(["agent", "hooks", "install", "claude", "--project", project, "--dir", dirs.a2]);
    const settings = JSON.parse(readFileSync(join(project, ".claude", "settings.local.json"), "utf8"));
    const command = settings.hooks.UserPromptSubmit[0].hooks[0].command;
    const hook = [];
    for (let i = 0; i < size(20, 5); i++) hook.push((await must("/bin/sh", ["-c", command], { cwd: project, env: f.env })).ms);
    const inbox = [];
    for (let i = 0; i < size(5, 2); i++) inbox.push((await f.mustCoord(["inbox", "--format", "prompt", "--dir", dirs.a2])).ms);
    return [line("agent hook per prompt (installed: a cat of inbox-prompt.txt; a process)", hook), line("  coord inbox --format prompt (a coord process)", inbox)];
  } finally {
    await f.cleanup();
  }
}

/** Tool calls through `coord mcp` (one server process, the SDK's client over stdio): from the call to its answer. */
export async function mcpTools() {
  const f = fixture("mcp");
  let client;
  try {
    const { dirs } = await fleet(f, ["a1", "a2"], { person: false });
    await syncOk(f, dirs.a1);
    const started = performance.now();
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, "mcp", "--dir", dirs.a1], env: f.env, stderr: "ignore" });
    client = new Client({ name: "coord-bench", version: "1" });
    await client.connect(transport);
    const connected = performance.now() - started;
    const callOk = async (name, args) => {
      const r = await client.callTool({ name, arguments: args });
      if (r.isError) throw new Error(`the ${name} tool answered an error: ${r.content?.[0]?.text}`);
    };
    const calls = async (name, args) => timed(size(30, 5), (i) => callOk(name, typeof args === "function" ? args(i) : args));
    const send = await calls("send", (i) => ({ to: "a2", body: `message ${i}` }));
    const inbox = await calls("inbox", {});
    const whoami = await calls("whoami", {});
    const status = await calls("status", {});
    return [
      { what: "coord mcp: start and initialize (a process, the SDK's client)", figure: dur(connected) },
      line("  inbox tool call (local state)", inbox),
      line("  send tool call (journaled, published with the next sync)", send),
      line("  whoami tool call", whoami),
      line("  status tool call (the fleet)", status),
    ];
  } finally {
    await client?.close().catch(() => {});
    await f.cleanup();
  }
}
