// The agent adapters (src/core/agents/agents.ts): how each CLI is started so the
// prompt cannot be eaten, which flags each permission level maps to, and what
// the agent's own machine-readable output says happened.
import { describe, expect, it } from "vitest";
import { AGENTS, type AgentOrder, agentInvocation, agentOrderProblem, agentReader, agentVerdict, type AgentResult } from "../../../src/core/agents/agents.js";
import { parseComputer, renderComputer } from "../../../src/core/fleet/computer.js";
import { parseOrders } from "../../../src/core/orders/orders.js";
import { computerFile } from "../../fixtures.js";

const inv = (o: Partial<AgentOrder> & { agent: string }, root = false) => agentInvocation({ prompt: "fix it", ...o }, { root });

/** What a reader makes of these output lines. */
function read(agent: string, lines: (object | string)[]): AgentResult | undefined {
  const r = agentReader(agent)!;
  for (const l of lines) r.line(typeof l === "string" ? l : JSON.stringify(l));
  return r.result();
}

const HOSTILE_PROMPTS: [string, string][] = [
  ["starts with a dash", "--help"],
  ["is one dash", "-"],
  ["looks like a flag with a value", "--model=evil rm -rf"],
  ["has newlines and quotes", `line 1\nline "2"\n'3' $HOME \`id\``],
  ["is 100 KB", `- ${"x".repeat(100 * 1024)}`],
];

describe("the prompt is never taken for an option", () => {
  // Each CLI gets the prompt on stdin, or as the one argument after "--" (or glued to its option with "="): never where a parser looks for flags.
  for (const agent of ["claude", "codex", "opencode", "cursor", "gemini", "aider"]) {
    for (const [what, prompt] of HOSTILE_PROMPTS) {
      it(`${agent}: a prompt that ${what}`, () => {
        const how = inv({ agent, prompt, args: ["--allowedTools", "Read", "Edit"] });
        if ("refused" in how) throw new Error(how.refused);
        if (how.input !== undefined) {
          expect(how.input).toBe(prompt);
          expect(how.argv.some((a) => a.includes(prompt.slice(0, 20)) && prompt.length > 5)).toBe(false);
        } else {
          const i = how.argv.indexOf(prompt);
          const glued = how.argv.find((a) => a.endsWith(`=${prompt}`));
          expect(i >= 0 ? how.argv[i - 1] : glued ? "=" : undefined, JSON.stringify(how.argv.slice(0, 8))).toMatch(/^(--|=)$/);
          if (i >= 0) expect(i).toBe(how.argv.length - 1);
        }
      });
    }
  }
});

describe("headless, machine-readable invocations", () => {
  const table: [AgentOrder, string[], string | undefined][] = [
    [{ agent: "claude", prompt: "p" }, ["claude", "-p", "--output-format=stream-json", "--verbose"], "p"],
    [
      { agent: "claude", prompt: "p", model: "opus", args: ["--max-turns", "3"] },
      ["claude", "-p", "--output-format=stream-json", "--verbose", "--model=opus", "--max-turns", "3"],
      "p",
    ],
    [{ agent: "codex", prompt: "p" }, ["codex", "exec", "--json", "-"], "p"],
    [{ agent: "codex", prompt: "p", model: "gpt-5", args: ["--skip-git-repo-check"] }, ["codex", "exec", "--json", "--model=gpt-5", "--skip-git-repo-check", "-"], "p"],
    [{ agent: "opencode", prompt: "p" }, ["opencode", "run", "--format=json"], "p"],
    [{ agent: "opencode", prompt: "two words", model: "anthropic/claude-sonnet-4-5" }, ["opencode", "run", "--format=json", "--model=anthropic/claude-sonnet-4-5"], "two words"],
    [{ agent: "cursor", prompt: "p" }, ["cursor-agent", "-p", "--output-format=stream-json", "--trust", "--", "p"], undefined],
    [{ agent: "gemini", prompt: "p" }, ["gemini", "--output-format=stream-json", "--prompt=p"], undefined],
    [{ agent: "aider", prompt: "p", args: ["--yes"] }, ["aider", "--yes", "--", "p"], undefined],
  ];
  it.each(table)("%o", (order, argv, input) => {
    const how = agentInvocation(order, { root: false });
    expect(how).toEqual({ argv, env: {}, ...(input !== undefined ? { input } : {}) });
  });

  it("opencode gets the prompt on stdin, as it is (it re-quotes an argument with spaces in it)", () => {
    const how = inv({ agent: "opencode", prompt: "fix the tests" });
    expect(how).toMatchObject({ input: "fix the tests" });
    expect("argv" in how && how.argv.includes("fix the tests")).toBe(false);
  });

  it("runs the executable found on this machine (cursor's agent)", () => {
    const how = agentInvocation({ agent: "cursor", prompt: "p" }, { root: false, executable: "agent" });
    expect("argv" in how && how.argv[0]).toBe("agent");
  });
});

describe("permissions map to each CLI's own flags; a level it cannot honour is refused", () => {
  const table: [string, AgentOrder["permissions"], string[] | string][] = [
    ["claude", "read-only", ["--permission-mode=default"]],
    ["claude", "edit", ["--permission-mode=acceptEdits"]],
    ["claude", "full", ["--permission-mode=bypassPermissions"]],
    ["codex", "read-only", ["--sandbox=read-only"]],
    ["codex", "edit", ["--sandbox=workspace-write"]],
    ["codex", "full", ["--sandbox=danger-full-access"]],
    ["gemini", "read-only", ["--approval-mode=default", "--admin-policy=/s/agent-policy"]],
    ["gemini", "edit", ["--approval-mode=auto_edit", "--admin-policy=/s/agent-policy"]],
    ["gemini", "full", ["--approval-mode=yolo"]],
    ["cursor", "full", ["--force"]],
    ["cursor", "read-only", ["--mode=plan"]],
    ["cursor", "edit", "refused"],
    ["aider", "edit", "refused"],
  ];
  it.each(table)("%s %s", (agent, permissions, want) => {
    const how = agentInvocation({ agent, prompt: "p", permissions: permissions! }, { root: false, policyFile: "/s/agent-policy" });
    if (want === "refused") {
      expect(how).toMatchObject({ field: "permissions", refused: expect.stringContaining(permissions!) });
      return;
    }
    if ("refused" in how) throw new Error(how.refused);
    for (const flag of want) expect(how.argv).toContain(flag);
  });

  it("gemini: read-only and edit deny, by coord's admin policy, plan mode (its way to YOLO) and the shell; without the file, refused", () => {
    const gemini = AGENTS.get("gemini")!;
    const denies = (level: "read-only" | "edit") => [...(gemini.policy!(level) ?? "").matchAll(/toolName = "([a-z_]+)"\ndecision = "deny"\npriority = 999/g)].map((m) => m[1]);
    expect(denies("read-only")).toEqual(["enter_plan_mode", "exit_plan_mode", "run_shell_command", "write_file", "replace", "web_fetch"]);
    expect(denies("edit")).toEqual(["enter_plan_mode", "exit_plan_mode", "run_shell_command"]);
    expect(gemini.policy!("full")).toBeUndefined();
    expect(agentInvocation({ agent: "gemini", prompt: "p", permissions: "read-only" }, { root: false })).toMatchObject({ refused: expect.stringContaining("policy file") });
    expect("refused" in agentInvocation({ agent: "gemini", prompt: "p", permissions: "full" }, { root: false })).toBe(false);
    // An order's problems are checked before any file is written: the level is no problem.
    expect(agentOrderProblem({ agent: "gemini", prompt: "p", permissions: "edit" })).toBeUndefined();
  });

  it("opencode takes its permission config in OPENCODE_PERMISSION, per level", () => {
    for (const [level, edit, bash] of [
      ["read-only", "deny", "deny"],
      ["edit", "allow", "deny"],
      ["full", "allow", "allow"],
    ] as const) {
      const how = inv({ agent: "opencode", permissions: level });
      if ("refused" in how) throw new Error(how.refused);
      expect(JSON.parse(how.env.OPENCODE_PERMISSION!)).toMatchObject({ edit, bash });
      expect(how.argv.includes("--auto")).toBe(level === "full");
    }
  });

  it("claude as root gets IS_SANDBOX=1 for full, which it needs to bypass permissions; not otherwise", () => {
    const env = (root: boolean, permissions: AgentOrder["permissions"]) => {
      const how = inv({ agent: "claude", permissions: permissions! }, root);
      return "env" in how ? how.env : undefined;
    };
    expect(env(true, "full")).toEqual({ IS_SANDBOX: "1" });
    expect(env(false, "full")).toEqual({});
    expect(env(true, "edit")).toEqual({});
  });

  it("opencode model ids must be provider/model", () => {
    expect(agentOrderProblem({ agent: "opencode", prompt: "p", model: "gpt-5" })).toMatchObject({ field: "model", refused: expect.stringContaining("provider/model") });
    expect(agentOrderProblem({ agent: "opencode", prompt: "p", model: "openai/gpt-5" })).toBeUndefined();
  });

  it("ORDERS.json with a level a CLI cannot honour is a problem on that field, found before any machine runs it", () => {
    const text = JSON.stringify({ version: 1, orders: [{ id: "a", to: "m", agent: "cursor", prompt: "p", permissions: "edit" }] });
    const { problems } = parseOrders(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: "orders[0].permissions", message: expect.stringContaining("cursor cannot run") });
    expect(parseOrders(JSON.stringify({ version: 1, orders: [{ id: "a", to: "m", run: "x", permissions: "edit" }] })).problems[0]?.message).toMatch(/only applies to agents/);
    expect(parseOrders(JSON.stringify({ version: 1, orders: [{ id: "a", to: "m", agent: "claude", prompt: "p", permissions: "all" }] })).problems[0]?.message).toMatch(
      /"read-only", "edit" or "full"/,
    );
  });
});

// The shapes below are the ones each CLI documents for its machine-readable mode (docs/agents.md cites them).
const claudeInit = { type: "system", subtype: "init", session_id: "5f1c", model: "claude-sonnet-4-5", permissionMode: "default", tools: ["Read", "Write"] };
const claudeResult = (over: object) => ({
  type: "result",
  subtype: "success",
  is_error: false,
  duration_ms: 2100,
  num_turns: 3,
  result: "Done: the test passes now.",
  session_id: "5f1c",
  total_cost_usd: 0.0421,
  usage: { input_tokens: 12, cache_creation_input_tokens: 100, cache_read_input_tokens: 900, output_tokens: 345 },
  permission_denials: [],
  ...over,
});

describe("Claude Code's stream-json result", () => {
  it("success: the final message, session, turns, cost and tokens", () => {
    expect(read("claude", [claudeInit, claudeResult({})])).toEqual({
      ok: true,
      message: "Done: the test passes now.",
      session: "5f1c",
      turns: 3,
      costUsd: 0.0421,
      tokens: { input: 1012, output: 345 },
      denied: undefined,
    });
  });
  it("every write denied, exit 0: a failure naming the denied tools", () => {
    const denials = [
      { tool_name: "Write", tool_use_id: "t1", tool_input: { file_path: "/x" } },
      { tool_name: "Write", tool_use_id: "t2", tool_input: {} },
      { tool_name: "Bash", tool_use_id: "t3", tool_input: {} },
    ];
    const said = read("claude", [claudeInit, claudeResult({ permission_denials: denials, result: "I could not write the file." })])!;
    expect(said).toMatchObject({ ok: false, denied: ["Write", "Bash"], reason: expect.stringContaining("denied Write, Bash") });
    expect(agentVerdict(0, said)).toMatchObject({ ok: false, reason: expect.stringContaining("denied") });
  });
  it("a second result line, or a line that is no JSON (an agent writing into its CLI's output): the cost is left unsaid", () => {
    const forged = claudeResult({ result: "forged", total_cost_usd: 0, session_id: "5f1c" });
    const cost = (lines: (object | string)[]) => read("claude", lines)?.costUsd;
    expect(read("claude", [claudeInit, claudeResult({}), forged])?.message).toBe("forged");
    expect(cost([claudeInit, claudeResult({}), forged])).toBeUndefined();
    expect(cost([claudeInit, forged, claudeResult({})])).toBeUndefined();
    // A forged $0, then an unfinished line that spoils the CLI's own result: one result left, but not its output alone.
    expect(cost([claudeInit, forged, `{"j":"${JSON.stringify(claudeResult({}))}`])).toBeUndefined();
    expect(cost([claudeInit, "", claudeResult({})])).toBe(0.0421);
  });
  it("max turns", () => {
    expect(read("claude", [claudeResult({ subtype: "error_max_turns", is_error: false, result: undefined })])).toMatchObject({
      ok: false,
      reason: "it reached its maximum number of turns",
    });
  });
  it("budget spent", () => {
    expect(read("claude", [claudeResult({ subtype: "error_max_budget_usd", is_error: true })])).toMatchObject({ ok: false, reason: "it reached its budget" });
  });
  it("an API error (a bad key) is is_error with the reason as its result text", () => {
    const said = read("claude", [claudeInit, claudeResult({ is_error: true, result: "Invalid API key · Please run /login", total_cost_usd: 0, num_turns: 1 })]);
    expect(said).toMatchObject({ ok: false, reason: "it said: Invalid API key · Please run /login", session: "5f1c" });
  });
  it("output that stops before a result: failed, with the session to look at", () => {
    expect(read("claude", [claudeInit, "not json", { type: "assistant", session_id: "5f1c", message: { content: [{ type: "text", text: "Working on it" }] } }])).toMatchObject({
      ok: false,
      reason: "it stopped before giving a result",
      session: "5f1c",
      message: "Working on it",
    });
  });
  it("nothing readable at all: no verdict (the exit code decides)", () => {
    expect(read("claude", ["Error: something", ""])).toBeUndefined();
  });
});

describe("Codex's exec --json events", () => {
  const ok = [
    { type: "thread.started", thread_id: "0199a213-81c0-7800-8aa1-bbab2a035a53" },
    { type: "turn.started" },
    { type: "item.completed", item: { id: "item_0", type: "reasoning", text: "**Scanning**" } },
    { type: "item.completed", item: { id: "item_1", type: "command_execution", command: "bash -lc ls", aggregated_output: "a\n", exit_code: 0, status: "completed" } },
    { type: "item.completed", item: { id: "item_2", type: "agent_message", text: "Fixed the test." } },
    { type: "turn.completed", usage: { input_tokens: 24763, cached_input_tokens: 24448, output_tokens: 122 } },
  ];
  it("a completed turn: the last agent message, thread id and tokens", () => {
    expect(read("codex", ok)).toEqual({ ok: true, message: "Fixed the test.", session: "0199a213-81c0-7800-8aa1-bbab2a035a53", turns: 1, tokens: { input: 24763, output: 122 } });
  });
  it("a failed turn says why", () => {
    const said = read("codex", [
      ok[0]!,
      ok[1]!,
      { type: "error", message: "stream disconnected before completion" },
      { type: "turn.failed", error: { message: "stream disconnected before completion" } },
    ]);
    expect(said).toMatchObject({ ok: false, reason: "it said: stream disconnected before completion", session: ok[0] && "0199a213-81c0-7800-8aa1-bbab2a035a53" });
  });
  it("a turn cut short while it retries (codex 0.171.0 against a dead server): the last error is kept", () => {
    const reconnecting = { type: "error", message: "Reconnecting... waiting for network (Connection failed: error sending request)" };
    expect(read("codex", [ok[0]!, ok[1]!, reconnecting, reconnecting])).toMatchObject({
      ok: false,
      lastError: "Reconnecting... waiting for network (Connection failed: error sending request)",
    });
    expect(read("codex", ok)).not.toHaveProperty("lastError");
  });
  it("an error with no turn (not logged in)", () => {
    expect(read("codex", [{ type: "error", message: "401 Unauthorized: Missing bearer authentication in header" }])).toMatchObject({
      ok: false,
      reason: expect.stringContaining("401 Unauthorized"),
    });
  });
});

describe("OpenCode's run --format json events", () => {
  const base = { timestamp: 1760000000000, sessionID: "ses_6a1b" };
  it("text and step_finish: the message, session, steps, cost and tokens", () => {
    const said = read("opencode", [
      { ...base, type: "step_start", part: { type: "step-start" } },
      { ...base, type: "text", part: { type: "text", text: "All green." } },
      { ...base, type: "step_finish", part: { type: "step-finish", reason: "stop", cost: 0.0031, tokens: { input: 900, output: 40, reasoning: 0, cache: { read: 0, write: 0 } } } },
    ]);
    expect(said).toEqual({ ok: true, message: "All green.", session: "ses_6a1b", turns: 1, costUsd: 0.0031, tokens: { input: 900, output: 40 } });
  });
  it("an error event says why", () => {
    const said = read("opencode", [{ ...base, type: "error", error: { name: "APIError", data: { message: "invalid x-api-key", statusCode: 401, isRetryable: false } } }]);
    expect(said).toMatchObject({ ok: false, reason: "it said: invalid x-api-key", session: "ses_6a1b" });
  });
  it("a tool call rejected for want of permission, exit 0: failed, the tool named", () => {
    const rejected = {
      type: "tool",
      tool: "write",
      callID: "toolu_8",
      state: { status: "error", input: {}, error: "The user rejected permission to use this specific tool call." },
    };
    const said = read("opencode", [
      { ...base, type: "step_start", part: { type: "step-start" } },
      { ...base, type: "tool_use", part: rejected },
      { ...base, type: "step_finish", part: { type: "step-finish", reason: "tool-calls", cost: 0, tokens: { input: 10, output: 5 } } },
    ]);
    expect(said).toMatchObject({ ok: false, denied: ["write"], reason: expect.stringContaining("denied write") });
  });
});

describe("Gemini CLI's stream-json events", () => {
  it("a success result: the assistant's message (deltas joined), session and tokens", () => {
    const said = read("gemini", [
      { type: "init", timestamp: "2026-11-23T10:00:00.000Z", session_id: "g-1", model: "gemini-2.5-pro" },
      { type: "message", role: "user", content: "p" },
      { type: "message", role: "assistant", content: "Do", delta: true },
      { type: "message", role: "assistant", content: "ne.", delta: true },
      { type: "result", status: "success", stats: { total_tokens: 120, input_tokens: 100, output_tokens: 20, duration_ms: 900, tool_calls: 0 } },
    ]);
    expect(said).toEqual({ ok: true, message: "Done.", session: "g-1", tokens: { input: 100, output: 20 } });
  });
  it("a tool its mode did not offer (tool_not_registered): denied, even when the run ends in success", () => {
    const said = read("gemini", [
      { type: "init", session_id: "g-2" },
      { type: "tool_use", tool_name: "run_shell_command", tool_id: "t1", parameters: { command: "ls" } },
      { type: "tool_result", tool_id: "t1", status: "error", error: { type: "tool_not_registered", message: 'Tool "run_shell_command" not found.' } },
      { type: "tool_use", tool_name: "read_file", tool_id: "t2", parameters: { file_path: "a" } },
      { type: "tool_result", tool_id: "t2", status: "error", error: { type: "file_not_found", message: "no such file" } },
      { type: "message", role: "assistant", content: "I cannot run it.", delta: true },
      { type: "result", status: "success", stats: { input_tokens: 10, output_tokens: 5 } },
    ]);
    expect(said).toMatchObject({ ok: false, denied: ["run_shell_command"], reason: expect.stringContaining("it was denied run_shell_command") });
    expect(agentVerdict(0, said!)).toEqual({ ok: false, reason: said!.reason });
  });
  it("cut short before its result: not a success, its session kept", () => {
    expect(read("gemini", [{ type: "init", session_id: "g-3" }])).toEqual({ ok: false, reason: "it stopped before giving a result", session: "g-3" });
  });
  it("an error result says why", () => {
    expect(read("gemini", [{ type: "result", status: "error", error: { type: "FatalAuthenticationError", message: "Please set an Auth method" } }])).toMatchObject({
      ok: false,
      reason: "it said: Please set an Auth method",
    });
  });
});

describe("the verdict: the agent's word over the exit code", () => {
  it.each([
    [0, { ok: true }, { ok: true }],
    [1, { ok: true }, { ok: false }],
    [0, { ok: false, reason: "it reached its budget" }, { ok: false, reason: "it reached its budget" }],
    [1, { ok: false }, { ok: false, reason: "the agent said it failed" }],
  ] as [number, AgentResult, object][])("exit %i, said %o", (code, said, want) => {
    expect(agentVerdict(code, said)).toEqual(want);
  });
});

describe("an agent's account in a machine's file", () => {
  it("is bounded as readers check it: a huge session id, fractional or huge counts and 500 denied tools never make the file unreadable", () => {
    const agent = { session: "s".repeat(5000), turns: 2.5, costUsd: 0.1, tokens: { input: 1e30, output: 3.7 }, denied: Array.from({ length: 500 }, () => "T".repeat(999)) };
    const text = renderComputer(computerFile("b", { tasks: { x: { rev: 1, state: "completed", attempts: 1, agent } } }));
    const back = parseComputer(text, "b").tasks.x!.agent!;
    expect(back.session).toHaveLength(200);
    expect(back.turns).toBe(2);
    expect(back.tokens?.output).toBe(3);
    expect(back.denied).toHaveLength(100);
  });
});
