// Contract tests of agent orders: stand-ins for the real CLIs (claude, codex,
// opencode) print the JSON their machine-readable modes document, and a real
// sync cycle (on the in-memory hub) runs them. Each shape must become the
// right task state, reason and published fields: exit 0 is not success when
// the agent says otherwise. (COORD_LIVE_AGENTS=1 runs the real CLIs: agents-live.e2e.test.ts.)
import { chmod, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";

let fleet: MemoryFleet | undefined;
const savedPath = process.env.PATH;
const bins: string[] = [];
afterEach(async () => {
  process.env.PATH = savedPath;
  await Promise.all(bins.splice(0).flatMap((b) => [rm(b, { recursive: true, force: true }), rm(`${b}.calls`, { recursive: true, force: true })]));
  await fleet?.cleanup();
  fleet = undefined;
});

interface Scenario {
  /** Chosen when the prompt contains this. */
  when: string;
  lines: (object | string)[];
  exit?: number;
  /** Write the lines, then print nothing and never exit. */
  hang?: boolean;
}

interface StandIn {
  version: string;
  /** Arguments of its login status command, and how it answers. */
  login?: { args: string; code: number; out: string };
  /** Whether the prompt comes on stdin (else it is the last argument). */
  stdin: boolean;
  scenarios: Scenario[];
}

/** An executable `name` in `bin` that answers like the real CLI, and records each call (argv, prompt, cwd, env) in calls.jsonl. */
async function standIn(bin: string, name: string, spec: StandIn): Promise<string> {
  await mkdir(bin, { recursive: true });
  // Beside the directory on PATH, not in it: the shield keeps a PATH directory in a hole read-only.
  await mkdir(`${bin}.calls`, { recursive: true });
  const calls = join(`${bin}.calls`, "calls.jsonl");
  await writeFile(join(bin, `${name}.json`), JSON.stringify({ ...spec, calls }));
  await writeFile(
    join(bin, name),
    `#!/usr/bin/env node
const fs = require("fs");
const spec = JSON.parse(fs.readFileSync(__filename + ".json", "utf8"));
const args = process.argv.slice(2);
if (args[0] === "--version") { console.log(spec.version); process.exit(0); }
if (spec.login && args.join(" ") === spec.login.args) { console.log(spec.login.out); process.exit(spec.login.code); }
const prompt = spec.stdin ? fs.readFileSync(0, "utf8") : args[args.length - 1];
fs.appendFileSync(spec.calls, JSON.stringify({ args, prompt, cwd: process.cwd(), IS_SANDBOX: process.env.IS_SANDBOX, OPENCODE_PERMISSION: process.env.OPENCODE_PERMISSION }) + "\\n");
const s = spec.scenarios.find((s) => prompt.includes(s.when));
if (!s) { console.error("stand-in: no scenario for this prompt"); process.exit(9); }
for (const l of s.lines) console.log(typeof l === "string" ? l : JSON.stringify(l));
if (s.hang) setInterval(() => {}, 1000); else process.exitCode = s.exit ?? 0;
`,
  );
  await chmod(join(bin, name), 0o755);
  return calls;
}

async function callsOf(file: string): Promise<{ args: string[]; prompt: string; cwd: string; IS_SANDBOX?: string; OPENCODE_PERMISSION?: string }[]> {
  return (await readFile(file, "utf8").catch(() => ""))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Runs `orders` on one machine "m" with `bin` first on PATH; returns its published task reports and STATUS.json. */
async function runOn(bin: string, orders: object[], config: Record<string, unknown> = {}) {
  fleet = await memoryFleet(["m"], { config });
  process.env.PATH = `${bin}:${savedPath}`;
  await fleet.pushOrders(orders);
  const r = await fleet.sync("m");
  const model = await fleet.model();
  return { ran: r.ran, tasks: model.computers.get("m")!.tasks, capabilities: model.computers.get("m")!.capabilities, status: await fleet.status(), f: fleet };
}

let binCount = 0;
const newBin = () => {
  const bin = join(tmpdir(), `coord-agents-${process.pid}-${Date.now()}-${binCount++}`);
  bins.push(bin);
  return bin;
};

// ---------------------------------------------------------------- Claude Code

const session = "8e6f0c52-2f5a-4b8e-9f55-0f4c3f1b2d7a";
const init = { type: "system", subtype: "init", session_id: session, cwd: "/x", tools: ["Read", "Write", "Bash"], model: "claude-sonnet-4-5", permissionMode: "default" };
const result = (over: object) => ({
  type: "result",
  subtype: "success",
  is_error: false,
  duration_ms: 5230,
  duration_api_ms: 4900,
  num_turns: 4,
  result: "Fixed the flaky test; all 12 pass.",
  session_id: session,
  total_cost_usd: 0.0731,
  usage: { input_tokens: 20, cache_creation_input_tokens: 2000, cache_read_input_tokens: 10000, output_tokens: 800 },
  permission_denials: [],
  ...over,
});
const claudeSpec: StandIn = {
  version: "2.1.3 (Claude Code)",
  login: { args: "auth status", code: 0, out: JSON.stringify({ loggedIn: true, authMethod: "claude.ai" }) },
  stdin: true,
  scenarios: [
    { when: "SUCCEED", lines: [init, { type: "assistant", session_id: session, message: { content: [{ type: "text", text: "Looking" }] } }, result({})] },
    {
      when: "DENIED",
      lines: [
        init,
        result({
          result: "I need permission to write src/a.ts.",
          permission_denials: [{ tool_name: "Write", tool_use_id: "toolu_1", tool_input: { file_path: "src/a.ts", content: "x" } }],
        }),
      ],
      exit: 0,
    },
    { when: "TURNS", lines: [init, result({ subtype: "error_max_turns", result: undefined, num_turns: 3 })], exit: 0 },
    { when: "BADKEY", lines: [init, result({ is_error: true, result: "Invalid API key · Please run /login", num_turns: 1, total_cost_usd: 0 })], exit: 1 },
    { when: "HANG", lines: [init], hang: true },
  ],
};

describe("Claude Code (stream-json)", () => {
  it("success: completed, its final message as the output, session, turns, cost and tokens published; the prompt arrived whole on stdin", async () => {
    const bin = newBin();
    const calls = await standIn(bin, "claude", claudeSpec);
    const prompt = `-SUCCEED "quoted" 'too'\nsecond line ${"z".repeat(100 * 1024)}`;
    const { ran, tasks, capabilities } = await runOn(bin, [{ id: "fix", to: "m", agent: "claude", prompt, permissions: "edit" }]);
    expect(ran).toEqual([expect.objectContaining({ id: "fix", state: "completed" })]);
    expect(tasks.fix).toMatchObject({
      state: "completed",
      output: "Fixed the flaky test; all 12 pass.",
      agent: { session, turns: 4, costUsd: 0.0731, tokens: { input: 12020, output: 800 } },
    });
    const [call] = await callsOf(calls);
    expect(call!.prompt).toBe(prompt);
    expect(call!.args).toEqual(["-p", "--output-format=stream-json", "--verbose", "--permission-mode=acceptEdits"]);
    expect(capabilities.claude).toBe("2.1.3");
    // People read it in the machine's file: the session to resume, the cost.
    expect((await fleet!.files()).get("coordination/COMPUTER_m.md")).toContain(`Agent run: session ${session}, 4 turns, \\$0.0731, 12020 in / 800 out tokens`);
  });

  it("every write denied, exit 0: failed with the denied tool named, not completed", async () => {
    const bin = newBin();
    await standIn(bin, "claude", claudeSpec);
    const { tasks, status } = await runOn(bin, [{ id: "w", to: "m", agent: "claude", prompt: "DENIED" }]);
    expect(tasks.w).toMatchObject({ state: "failed", exitCode: 0, reason: expect.stringContaining("denied Write"), agent: { denied: ["Write"], session } });
    expect(status.orders.w?.machines.m?.reason).toMatch(/denied Write/);
  });

  it("max turns, exit 0: failed, the agent's reason", async () => {
    const bin = newBin();
    await standIn(bin, "claude", claudeSpec);
    const { tasks } = await runOn(bin, [{ id: "t", to: "m", agent: "claude", prompt: "TURNS" }]);
    expect(tasks.t).toMatchObject({ state: "failed", reason: "it reached its maximum number of turns", agent: { turns: 3 } });
  });

  it("a bad API key: failed with the agent's words, not 'exit code 1'", async () => {
    const bin = newBin();
    await standIn(bin, "claude", claudeSpec);
    const { tasks, status } = await runOn(bin, [{ id: "k", to: "m", agent: "claude", prompt: "BADKEY" }]);
    expect(tasks.k).toMatchObject({ state: "failed", exitCode: 1, reason: "it said: Invalid API key · Please run /login" });
    expect(status.orders.k?.machines.m?.reason).toBe("it said: Invalid API key · Please run /login");
  });

  it("an agent that goes quiet is stopped after its idleTimeout, long before its timeout", async () => {
    const bin = newBin();
    await standIn(bin, "claude", claudeSpec);
    const { tasks } = await runOn(bin, [{ id: "h", to: "m", agent: "claude", prompt: "HANG", idleTimeout: "1s" }]);
    expect(tasks.h).toMatchObject({ state: "failed", reason: expect.stringMatching(/^wrote nothing for 1s \(idleTimeout\)/) });
  });

  it("full permissions as root set IS_SANDBOX=1, which claude needs to bypass permissions there", async () => {
    const bin = newBin();
    const calls = await standIn(bin, "claude", claudeSpec);
    await runOn(bin, [{ id: "full", to: "m", agent: "claude", prompt: "SUCCEED", permissions: "full" }]);
    const [call] = await callsOf(calls);
    expect(call!.args).toContain("--permission-mode=bypassPermissions");
    expect(call!.IS_SANDBOX).toBe(process.getuid?.() === 0 ? "1" : undefined);
  });

  it("installed but not logged in: published as such, and an order for it is rejected with that reason before anything runs", async () => {
    const bin = newBin();
    const calls = await standIn(bin, "claude", { ...claudeSpec, login: { args: "auth status", code: 1, out: JSON.stringify({ loggedIn: false }) } });
    const { tasks, capabilities, status } = await runOn(bin, [{ id: "r", to: "m", agent: "claude", prompt: "SUCCEED" }]);
    expect(capabilities.claude).toBe("2.1.3 (not logged in)");
    expect(tasks.r).toBeUndefined();
    expect(status.orders.r?.machines.m).toMatchObject({ state: "rejected", reason: "m has claude installed but not logged in" });
    expect(await callsOf(calls)).toEqual([]);
  });
});

// ---------------------------------------------------------------------- Codex

const thread = "0199a213-81c0-7800-8aa1-bbab2a035a53";
const codexSpec: StandIn = {
  version: "codex-cli 0.169.0",
  login: { args: "login status", code: 0, out: "Logged in using ChatGPT" },
  stdin: true,
  scenarios: [
    {
      when: "SUCCEED",
      lines: [
        { type: "thread.started", thread_id: thread },
        { type: "turn.started" },
        { type: "item.completed", item: { id: "item_0", type: "command_execution", command: "bash -lc 'npm test'", aggregated_output: "ok\n", exit_code: 0, status: "completed" } },
        { type: "item.completed", item: { id: "item_1", type: "agent_message", text: "Tests pass." } },
        { type: "turn.completed", usage: { input_tokens: 3000, cached_input_tokens: 1000, output_tokens: 150 } },
      ],
    },
    {
      when: "FAIL",
      lines: [
        { type: "thread.started", thread_id: thread },
        { type: "turn.started" },
        { type: "error", message: "Reconnecting... 1/5" },
        { type: "turn.failed", error: { message: "stream error: unexpected status 401 Unauthorized" } },
      ],
      exit: 1,
    },
  ],
};

describe("Codex (exec --json)", () => {
  it("success in a scratch git directory of its own when the order names no cwd", async () => {
    const bin = newBin();
    const calls = await standIn(bin, "codex", codexSpec);
    const { tasks, f } = await runOn(bin, [{ id: "c", to: "m", agent: "codex", prompt: "--SUCCEED", permissions: "read-only" }]);
    expect(tasks.c).toMatchObject({ state: "completed", output: "Tests pass.", agent: { session: thread, turns: 1, tokens: { input: 3000, output: 150 } } });
    const [call] = await callsOf(calls);
    expect(call!.args).toEqual(["exec", "--json", "--sandbox=read-only", "-"]);
    expect(call!.prompt).toBe("--SUCCEED");
    expect(call!.cwd).toBe(join(f.m("m").stateDir, "agents", "c"));
    expect((await stat(join(call!.cwd, ".git"))).isDirectory()).toBe(true); // codex runs only in a git directory
  });

  it("a failed turn: failed with the agent's reason", async () => {
    const bin = newBin();
    await standIn(bin, "codex", codexSpec);
    const { tasks } = await runOn(bin, [{ id: "c", to: "m", agent: "codex", prompt: "FAIL" }]);
    expect(tasks.c).toMatchObject({ state: "failed", reason: "it said: stream error: unexpected status 401 Unauthorized", agent: { session: thread } });
  });
});

// ------------------------------------------------------------------- OpenCode

const ses = "ses_5c1f2e3d4ffeAbCdEf";
const ev = (type: string, part: object) => ({ type, timestamp: 1763900000000, sessionID: ses, part });
const opencodeSpec: StandIn = {
  version: "1.18.2",
  login: { args: "auth list", code: 0, out: "Credentials ~/.local/share/opencode/auth.json\n● Anthropic api\n1 credentials" },
  stdin: true,
  scenarios: [
    {
      when: "SUCCEED",
      lines: [
        ev("step_start", { type: "step-start" }),
        ev("text", { type: "text", text: "Renamed the function." }),
        ev("step_finish", { type: "step-finish", reason: "stop", cost: 0.012, tokens: { input: 4000, output: 300, reasoning: 0, cache: { read: 0, write: 0 } } }),
      ],
    },
    {
      when: "ERROR",
      lines: [{ type: "error", timestamp: 1763900000000, sessionID: ses, error: { name: "APIError", data: { message: "Model not found: anthropic/nope" } } }],
      exit: 0,
    },
  ],
};

describe("OpenCode (run --format json)", () => {
  it("success: a prompt with spaces and a leading dash arrives as it is on stdin; permissions go in OPENCODE_PERMISSION", async () => {
    const bin = newBin();
    const calls = await standIn(bin, "opencode", opencodeSpec);
    const { tasks } = await runOn(bin, [{ id: "o", to: "m", agent: "opencode", prompt: "-SUCCEED with spaces", model: "anthropic/claude-sonnet-4-5", permissions: "edit" }]);
    expect(tasks.o).toMatchObject({ state: "completed", output: "Renamed the function.", agent: { session: ses, costUsd: 0.012, tokens: { input: 4000, output: 300 } } });
    const [call] = await callsOf(calls);
    expect(call!.args).toEqual(["run", "--format=json", "--model=anthropic/claude-sonnet-4-5"]);
    expect(call!.prompt).toBe("-SUCCEED with spaces");
    expect(JSON.parse(call!.OPENCODE_PERMISSION!)).toEqual({ edit: "allow", bash: "deny", webfetch: "allow" });
  });

  it("an error event with exit 0: failed with its message", async () => {
    const bin = newBin();
    await standIn(bin, "opencode", opencodeSpec);
    const { tasks } = await runOn(bin, [{ id: "o", to: "m", agent: "opencode", prompt: "ERROR" }]);
    expect(tasks.o).toMatchObject({ state: "failed", exitCode: 0, reason: "it said: Model not found: anthropic/nope" });
  });
});
