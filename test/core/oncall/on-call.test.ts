// The rules of agents on call (src/core/oncall/on-call.ts): which message
// starts a turn, a message's thread, each CLI's first and resumed command line
// (every safety flag on every call), the step and session read from JSON
// events, and the answer a turn sends back.
import { describe, expect, it } from "vitest";
import {
  answerOf,
  type AskMessage,
  chainOf,
  decidedMark,
  decidedText,
  interruptedAnswer,
  isStop,
  MAX_AGENT_CHAIN,
  sessionOf,
  stepOf,
  threadOf,
  threadSwitch,
  turnInvocation,
  turnPrompt,
  whyNoTurn,
  turnSpend,
  withinDailyBudget,
} from "../../../src/core/oncall/on-call.js";
import { agentLine, parseMessageFile, renderMessageFile } from "../../../src/core/messages/messages.js";
import { noteOf } from "../../../src/actions/on-call.js";
import { allowedWithoutAsking, decisionOf, mayDecide, permissionAnswer, requestText, whatItWouldDo } from "../../../src/core/oncall/approvals.js";

const msg = (over: Partial<AskMessage> = {}): AskMessage => ({
  id: "izzit7/soda-yeti/1",
  from: "izzit7",
  to: "soda-yeti",
  text: "build it",
  at: "2026-11-27T10:00:00.000Z",
  ...over,
});
const ctx = { me: "soda-yeti", verified: true };

describe("whyNoTurn: which message starts a turn", () => {
  const cases: [string, AskMessage, { from: string[] | "ALL" }, { me: string; verified: boolean }, ReturnType<typeof whyNoTurn>][] = [
    ["a person's message from a sender named", msg(), { from: ["izzit7"] }, ctx, undefined],
    ["a broadcast from a sender named", msg({ to: "ALL", id: "izzit7/ALL/3" }), { from: ["izzit7"] }, ctx, undefined],
    ["any sender under ALL", msg({ from: "zeta" }), { from: "ALL" }, ctx, undefined],
    ["a sender not named", msg({ from: "zeta" }), { from: ["izzit7"] }, ctx, { silent: "zeta is not in onCall.from" }],
    ["a signature not verified", msg(), { from: ["izzit7"] }, { ...ctx, verified: false }, { silent: "izzit7's signature is not verified here" }],
    ["an agent's answer", msg({ agent: { answer: true, chain: 1 } }), { from: "ALL" }, ctx, { silent: "it is an agent's answer" }],
    ["its own message", msg({ from: "soda-yeti" }), { from: "ALL" }, ctx, { silent: "it is this machine's own" }],
    ["an agent's message within the chain", msg({ agent: { chain: MAX_AGENT_CHAIN - 1 } }), { from: "ALL" }, ctx, undefined],
  ];
  for (const [what, m, s, c, want] of cases) it(what, () => expect(whyNoTurn(m, s, c)).toEqual(want));

  it(`an agent's message past ${MAX_AGENT_CHAIN} agent turns in a row is answered, never run`, () => {
    const no = whyNoTurn(msg({ agent: { chain: MAX_AGENT_CHAIN } }), { from: "ALL" }, ctx);
    expect(no).toEqual({ answer: expect.stringMatching(/^Not answered: 8 agent turns in a row without a person's message\./) });
  });

  it("a turn's chain is past the highest of its messages' (a person's counts 0)", () => {
    expect(chainOf([{ chain: 0 }])).toBe(0);
    expect(chainOf([{ chain: 0 }, { chain: 3 }, { chain: 1 }])).toBe(3);
    expect(chainOf([])).toBe(0);
  });

  it("/stop, whatever its case and spaces, and nothing else", () => {
    expect([" /stop\n", "/STOP", "/stop"].map(isStop)).toEqual([true, true, true]);
    expect(["/stop now", "stop", "please /stop"].map(isStop)).toEqual([false, false, false]);
  });
});

describe("threadOf: a message's conversation", () => {
  const parents = new Map([
    ["b/a/1", "a/b/1"],
    ["a/b/2", "b/a/1"],
    ["b/a/2", "a/b/2"],
    ["x/y/2", "x/y/1"],
    ["loop/a/1", "loop/a/2"],
    ["loop/a/2", "loop/a/1"],
  ]);
  const up = (id: string) => parents.get(id);
  it.each([
    ["a first message is its own thread", "a/b/1", "a/b/1"],
    ["a reply to a reply to a reply", "b/a/2", "a/b/1"],
    ["a reply to a message nobody here knows: the oldest known", "zz/a/9", "zz/a/9"],
    ["a cycle of replies ends", "loop/a/1", "loop/a/2"],
  ])("%s", (_what, id, want) => expect(threadOf(id, up)).toBe(want));

  it("a message of a known thread on the way wins (answers leave the outbox after a day)", () => {
    const known = new Map([["b/a/1", "a/b/1"]]);
    expect(
      threadOf(
        "a/b/9",
        (id) => (id === "a/b/9" ? "b/a/1" : undefined),
        (id) => known.get(id),
      ),
    ).toBe("a/b/1");
  });
});

describe("turnInvocation: every safety flag on every call, resume as each CLI really works", () => {
  const base = { permissions: "read-only" as const, maxTurns: 20, maxBudgetUsd: 2 };
  const ctxOf = (executable: string) => ({ root: false, executable, self: ["/node", "/coord.mjs"] });
  it("claude: a new session, then --resume of the id the last turn returned, with the caps and the mode each time", () => {
    const first = turnInvocation({ agent: "claude", ...base }, "hello", undefined, ctxOf("claude"));
    const later = turnInvocation({ agent: "claude", ...base }, "go on", "s-2", ctxOf("claude"));
    expect(first).toEqual({
      argv: ["claude", "-p", "--output-format=stream-json", "--verbose", "--permission-mode=default", "--max-turns=20", "--max-budget-usd=2"],
      input: "hello",
      env: {},
    });
    expect(later).toEqual({
      argv: ["claude", "-p", "--output-format=stream-json", "--verbose", "--permission-mode=default", "--max-turns=20", "--max-budget-usd=2", "--resume=s-2"],
      input: "go on",
      env: {},
    });
  });
  it("claude with coord's MCP server (approvals from afar): the tool is named, and claude waits for the server before the model", () => {
    const r = turnInvocation({ agent: "claude", ...base }, "hi", undefined, { ...ctxOf("claude"), mcpConfig: "/s/mcp.json" });
    expect(r).toMatchObject({ env: { MCP_CONNECTION_NONBLOCKING: "false" } });
    expect("argv" in r && r.argv).toEqual(expect.arrayContaining(["--mcp-config=/s/mcp.json", "--permission-prompt-tool=mcp__coord__permission_prompt"]));
  });
  it("codex: exec resume <id> with the sandbox as -c sandbox_mode (resume refuses -s and -C), prompt on stdin", () => {
    expect(turnInvocation({ agent: "codex", ...base, permissions: "edit" }, "hi", undefined, ctxOf("codex"))).toEqual({
      argv: ["codex", "exec", "--json", "-c", 'sandbox_mode="workspace-write"', "-"],
      input: "hi",
      env: {},
    });
    const r = turnInvocation({ agent: "codex", ...base, permissions: "full", model: "gpt-5" }, "hi", "t-1", ctxOf("codex"));
    expect(r).toEqual({ argv: ["codex", "exec", "--json", "--model=gpt-5", "-c", 'sandbox_mode="danger-full-access"', "resume", "t-1", "-"], input: "hi", env: {} });
    expect("argv" in r && r.argv.some((a) => a === "-s" || a.startsWith("--sandbox") || a === "-C")).toBe(false);
  });
  it("opencode: coord's ACP driver runs `opencode acp`: the session, the permissions (what a level does not allow is asked), the cost so far, the server's password", () => {
    const r = turnInvocation({ agent: "opencode", ...base }, "hi", "ses_1", { ...ctxOf("/bin/opencode"), mcpConfig: "/s/mcp.json", spentBefore: 0.25 });
    expect(r).toEqual({
      argv: [
        "/node",
        "/coord.mjs",
        "agent",
        "acp-turn",
        "--permissions=read-only",
        "--secret-env=OPENCODE_SERVER_PASSWORD",
        "--session=ses_1",
        "--spent=0.25",
        "--mcp-config=/s/mcp.json",
        "--",
        "/bin/opencode",
        "acp",
      ],
      input: "hi",
      env: { OPENCODE_PERMISSION: '{"edit":"ask","bash":"ask","webfetch":"ask"}' },
    });
    const full = turnInvocation({ agent: "opencode", ...base, permissions: "full", model: "anthropic/claude-sonnet-4-5" }, "hi", undefined, ctxOf("/bin/opencode"));
    expect(full).toMatchObject({
      argv: ["/node", "/coord.mjs", "agent", "acp-turn", "--permissions=full", "--secret-env=OPENCODE_SERVER_PASSWORD", "--", "/bin/opencode", "acp"],
      env: { OPENCODE_PERMISSION: '{"edit":"allow","bash":"allow","webfetch":"allow"}', OPENCODE_CONFIG_CONTENT: '{"model":"anthropic/claude-sonnet-4-5"}' },
    });
    expect(turnInvocation({ agent: "opencode", ...base, model: "sonnet" }, "hi", undefined, ctxOf("/bin/opencode"))).toEqual({
      refused: expect.stringMatching(/not provider\/model/),
    });
  });
  it("cursor: --resume=<id> before the prompt after --; edit is refused", () => {
    expect(turnInvocation({ agent: "cursor", ...base }, "hi", "c-1", ctxOf("cursor-agent"))).toEqual({
      argv: ["cursor-agent", "-p", "--output-format=stream-json", "--trust", "--mode=plan", "--resume=c-1", "--", "hi"],
      env: {},
    });
    expect(turnInvocation({ agent: "cursor", ...base, permissions: "edit" }, "hi", undefined, ctxOf("cursor-agent"))).toEqual({
      refused: expect.stringMatching(/cursor cannot run with permissions "edit"/),
    });
  });
  it("a prompt that looks like a flag stays the prompt", () => {
    const r = turnInvocation({ agent: "claude", ...base }, "--dangerously-skip-permissions", "s", ctxOf("claude"));
    expect("argv" in r && r.argv).not.toContain("--dangerously-skip-permissions");
  });
});

describe("the prompt", () => {
  it("says who asked, what, and the message it replies to; an agent's message says so", () => {
    const p = turnPrompt(
      "soda-yeti",
      [
        { id: "izzit7/soda-yeti/2", from: "izzit7", text: "clone the repo\nand build", at: "T1", chain: 0 },
        { id: "m2/soda-yeti/1", from: "m2", text: "me too", at: "T2", chain: 2 },
      ],
      { id: "soda-yeti/izzit7/1", from: "soda-yeti", text: "ready" },
    );
    expect(p).toContain("on call on machine soda-yeti");
    expect(p).toContain("It replies to soda-yeti/izzit7/1 from soda-yeti:\n> ready");
    expect(p).toContain("Message izzit7/soda-yeti/2 from izzit7 at T1:\n> clone the repo\n> and build");
    expect(p).toContain("Message m2/soda-yeti/1 from m2 at T2 (written by an agent):\n> me too");
  });
});

describe("steps and sessions from the CLIs' JSON events", () => {
  const line = (o: object) => JSON.stringify(o);
  it.each([
    [
      "claude's tool call",
      "claude",
      line({
        type: "assistant",
        message: {
          content: [
            { type: "text", text: "ok" },
            { type: "tool_use", name: "Bash", input: { command: "npm test" } },
          ],
        },
      }),
      "Bash: npm test",
    ],
    ["claude's file edit", "claude", line({ type: "assistant", message: { content: [{ type: "tool_use", name: "Edit", input: { file_path: "src/a.ts" } }] } }), "Edit: src/a.ts"],
    ["codex's command", "codex", line({ type: "item.started", item: { type: "command_execution", command: "cargo build" } }), "$ cargo build"],
    ["codex's file change", "codex", line({ type: "item.completed", item: { type: "file_change", changes: [{ path: "a.rs" }, { path: "b.rs" }] } }), "edit: a.rs, b.rs"],
    ["opencode's tool", "opencode", line({ type: "tool_use", part: { tool: "bash", state: { input: { command: "ls" } } } }), "bash: ls"],
    [
      "cursor's tool call (claude's format)",
      "cursor",
      line({ type: "assistant", message: { content: [{ type: "tool_use", name: "Read", input: { file_path: "a" } }] } }),
      "Read: a",
    ],
    ["codex's command, read as claude's", "claude", line({ type: "item.started", item: { type: "command_execution", command: "ls" } }), undefined],
    ["gemini's tool", "gemini", line({ type: "tool_use", tool_name: "run_shell_command", tool_id: "t1", parameters: { command: "npm test" } }), "run_shell_command: npm test"],
    ["opencode's tool, read as gemini's", "gemini", line({ type: "tool_use", part: { tool: "bash", state: { input: { command: "ls" } } } }), "a tool"],
    ["a CLI coord cannot put on call", "aider", line({ type: "tool_use", part: { tool: "bash", state: { input: { command: "ls" } } } }), undefined],
    ["a text message", "claude", line({ type: "assistant", message: { content: [{ type: "text", text: "thinking" }] } }), undefined],
    ["not JSON", "codex", "Reconnecting...", undefined],
    ["a multi-line command, on one line", "codex", line({ type: "item.started", item: { type: "command_execution", command: "a &&\n  b" } }), "$ a && b"],
  ])("%s", (_w, cli, l, want) => expect(stepOf(cli, l)).toBe(want));

  it("a step is at most 200 characters", () => {
    expect(stepOf("codex", line({ type: "item.started", item: { type: "command_execution", command: "x".repeat(500) } }))!.length).toBe(200);
  });

  it.each([
    ["claude's init", "claude", line({ type: "system", subtype: "init", session_id: "abc-1" }), "abc-1"],
    ["codex's thread", "codex", line({ type: "thread.started", thread_id: "t-9" }), "t-9"],
    ["opencode's event", "opencode", line({ type: "text", sessionID: "ses_4", part: {} }), "ses_4"],
    ["gemini's init", "gemini", line({ type: "init", session_id: "4cd0ec9c-c20c", model: "gemini-2.5-flash" }), "4cd0ec9c-c20c"],
    ["gemini's result, no session named", "gemini", line({ type: "result", session_id: "x" }), undefined],
    ["cursor's init", "cursor", line({ type: "system", session_id: "c-1" }), "c-1"],
    ["codex's thread, read as opencode's", "opencode", line({ type: "thread.started", thread_id: "t-9" }), undefined],
    ["a path for an id (a forged line)", "gemini", line({ type: "init", session_id: "../../../../etc/passwd" }), undefined],
    ["an id with a slash", "claude", line({ type: "system", session_id: "a/b" }), undefined],
    ["an id with spaces", "claude", line({ session_id: "a b" }), undefined],
    [
      "an option for an id (a forged line; codex takes its resume id as an argument)",
      "codex",
      line({ type: "thread.started", thread_id: "--dangerously-bypass-approvals-and-sandbox" }),
      undefined,
    ],
    ["none", "codex", line({ type: "turn.started" }), undefined],
  ])("session: %s", (_w, cli, l, want) => expect(sessionOf(cli, l)).toBe(want));
});

describe("the answer", () => {
  const end = { exitCode: 0, timeout: 1800, durationMs: 12_400 };
  const said = { ok: true, message: "Built: 3 contracts, 0 errors.", session: "s", turns: 4, costUsd: 0.03 };
  it.each([
    ["the agent's final message", { ...end, said }, "Built: 3 contracts, 0 errors.", undefined],
    [
      "stopped, with what it said last",
      { ...end, said, stopped: "/stop from izzit7" },
      "Stopped (/stop from izzit7).\n\nWhat it said last:\nBuilt: 3 contracts, 0 errors.",
      "stopped",
    ],
    ["a CLI that could not start", { ...end, error: "the agent CLI claude is not on PATH" }, "The turn could not start: the agent CLI claude is not on PATH.", "failed"],
    ["a timeout", { ...end, timedOut: true, said: { ok: false } }, "The turn timed out after 1800 s and was stopped.", "failed"],
    [
      "a timeout says the CLI's last error (codex retrying a dead server)",
      { ...end, timedOut: true, step: "$ ls", said: { ok: false, lastError: "Reconnecting... waiting for network (Connection failed: error sending request)" } },
      "The turn timed out after 1800 s and was stopped. Its last error: Reconnecting... waiting for network (Connection failed: error sending request)",
      "failed",
    ],
    [
      "a timeout with no error says the step it was at, and what it said last",
      { ...end, timedOut: true, step: "$ sleep 40", said: { ok: false, message: "Running it." } },
      "The turn timed out after 1800 s and was stopped. It was at: $ sleep 40.\n\nWhat it said last:\nRunning it.",
      "failed",
    ],
    [
      "a timeout with nothing readable says its last line of output",
      { ...end, timedOut: true, tail: "starting\n  Connecting to api.example…\n\n" },
      "The turn timed out after 1800 s and was stopped. Its last line of output: Connecting to api.example….",
      "failed",
    ],
    [
      "the agent's own failure",
      { ...end, said: { ok: false, reason: "it reached its maximum number of turns" } },
      "The turn failed: it reached its maximum number of turns.",
      "failed",
    ],
    [
      "a tool denied on call (a /deny or no answer): not an order's permissions to raise",
      {
        ...end,
        said: {
          ok: false,
          reason: "it was denied Bash (permissions: raise the order's permissions or narrow its prompt)",
          denied: ["Bash"],
          message: "not allowed: denied by izzit7: no",
        },
      },
      "The turn ended with Bash denied: the asker denied it, or nobody answered in time.\n\nWhat it said last:\nnot allowed: denied by izzit7: no",
      "failed",
    ],
    ["nothing readable, exit 1", { ...end, exitCode: 1, tail: "boom\n" }, "The turn failed: claude exited with 1 before giving a result.\n\nIts last lines:\nboom", "failed"],
  ])("%s", (_w, e, text, outcome) => {
    const a = answerOf(e, "claude", 2);
    expect(a.text).toBe(text);
    expect(a.mark).toMatchObject({ answer: true, cli: "claude", chain: 3, durationMs: 12_400 });
    expect(a.mark.outcome).toBe(outcome);
  });
  it("carries turns and cost where the CLI reports them", () => {
    expect(answerOf({ ...end, said }, "claude", 0).mark).toEqual({ answer: true, cli: "claude", chain: 1, durationMs: 12_400, turns: 4, costUsd: 0.03 });
  });
  it("an interrupted turn keeps its session: go on continues it", () => {
    const a = interruptedAnswer("codex", 0, "$ npm test");
    expect(a.text).toBe('Interrupted: the coord daemon running this turn stopped while the agent was at: $ npm test. The session is kept; reply "go on" to continue it.');
    expect(a.mark).toEqual({ answer: true, cli: "codex", chain: 1, outcome: "interrupted" });
  });
});

describe("the daily budget", () => {
  const now = new Date("2026-11-27T12:00:00Z");
  it.each([
    ["no budget", undefined, { day: "2026-11-27", usd: 99 }, true],
    ["under it today", 5, { day: "2026-11-27", usd: 4.99 }, true],
    ["reached today", 5, { day: "2026-11-27", usd: 5 }, false],
    ["yesterday's spend does not count", 5, { day: "2026-11-26", usd: 50 }, true],
    ["nothing spent yet", 5, undefined, true],
  ])("%s", (_w, dailyBudgetUsd, spent, want) => expect(withinDailyBudget(dailyBudgetUsd === undefined ? {} : { dailyBudgetUsd }, spent, now)).toBe(want));

  const ran = { ran: true, clean: true, stoppedByPerson: false };
  const died = { ran: true, clean: false, stoppedByPerson: false };
  it.each([
    ["what the CLI said", 0.02, undefined, ran, 0.02],
    ["what it said, under the cap per turn", 0.02, 0.5, ran, 0.02],
    ["a forged cost over the cap counts the cap (it would eat the day's budget)", 4.99, 0.5, ran, 0.5],
    ["no result (its CLI killed by its agent, a timeout): the cap", undefined, 0.5, died, 0.5],
    ["a forged $0 result, then its CLI killed: the cap", 0, 0.5, died, 0.5],
    ["stopped by a /stop of its asker, who may be the one spending: the cap", 0.01, 0.5, died, 0.5],
    ["exited by itself with no result: the cap", undefined, 0.5, { ...ran, clean: true }, 0.5],
    ["no result and no cap: nothing to count", undefined, undefined, died, undefined],
    ["stopped by a person on the machine before its result: nothing", undefined, 0.5, { ran: true, clean: false, stoppedByPerson: true }, undefined],
    ["never started: nothing", undefined, 0.5, { ran: false, clean: false, stoppedByPerson: false }, undefined],
  ] as const)("a turn's spend: %s", (_w, said, cap, end, want) => expect(turnSpend(said, cap, end)).toBe(want));
});

describe("an agent's mark on a message file", () => {
  it("is kept through a render and a parse, its fields in one order; a malformed one is dropped, the message kept", () => {
    const file = {
      coord: 1 as const,
      from: "soda-yeti",
      to: "izzit7",
      next: 3,
      messages: [
        { seq: 1, at: "T", priority: "normal" as const, text: "done", replyTo: "izzit7/soda-yeti/1", agent: { costUsd: 0.01, answer: true, cli: "claude", chain: 1, turns: 2 } },
        { seq: 2, at: "T", priority: "normal" as const, text: "plain" },
      ],
    };
    const text = renderMessageFile(file);
    expect(text).toContain("answer by claude, 2 turns, \\$0.0100"); // as text: a dollar starts no math on GitHub
    const back = parseMessageFile(text, "coordination/messages/soda-yeti_TO_izzit7.md");
    expect(back.messages[0]!.agent).toEqual({ answer: true, cli: "claude", chain: 1, turns: 2, costUsd: 0.01 });
    expect(JSON.stringify(back.messages[0]!.agent)).toBe('{"answer":true,"cli":"claude","chain":1,"turns":2,"costUsd":0.01}');
    const broken = text.replace("answer: true", "answer: [1, 2]");
    const parsed = parseMessageFile(broken, "coordination/messages/soda-yeti_TO_izzit7.md");
    expect(parsed.messages[0]!.text).toBe("done");
    expect(parsed.messages[0]!.agent).toBeUndefined();
  });
});

describe("approvals: what a reply decides, who may, the request, the answer Claude Code reads", () => {
  it.each([
    ["/approve", { behavior: "allow" }],
    [" /APPROVE \n", { behavior: "allow" }],
    ["/allow", { behavior: "allow" }],
    ["/approve always Bash", { behavior: "allow", always: "Bash" }],
    ["/approve always mcp__github__create_pr", { behavior: "allow", always: "mcp__github__create_pr" }],
    ["/deny", { behavior: "deny" }],
    ["/deny   not on\nmain ", { behavior: "deny", message: "not on main" }],
    ["/approve it please", undefined],
    ["/approve always", undefined],
    ["approve", undefined],
    ["ok, go ahead", undefined],
    ["/approvement", undefined],
  ])("%j", (text, want) => expect(decisionOf(text)).toEqual(want));

  it.each([
    ["the asker", "izzit7", ["izzit7"], true, true],
    ["another sender on call for", "m2", ["izzit7", "m2"], true, true],
    ["anyone under ALL", "zz", "ALL", true, true],
    ["a machine not named", "zz", ["izzit7"], true, false],
    ["the asker, not verified", "izzit7", ["izzit7"], false, false],
  ] as const)("%s", (_w, sender, from, verified, want) => expect(mayDecide(sender, "izzit7", from, verified)).toBe(want));

  it("the request names the tool and what it would do, cut, with how to answer and by when", () => {
    expect(whatItWouldDo("Bash", { command: "rm -rf\n  build", description: "clean" })).toBe("Bash: rm -rf build");
    expect(whatItWouldDo("Write", { file_path: "src/a.ts", content: "x".repeat(9999) })).toBe("Write: src/a.ts");
    expect(whatItWouldDo("WebFetch", { url: "https://example.com" })).toBe("WebFetch: https://example.com");
    expect(whatItWouldDo("mcp__x__y", { a: 1 })).toBe('mcp__x__y: {"a":1}');
    expect(whatItWouldDo("Bash", { command: "y".repeat(1000) })).toHaveLength(300);
    expect(requestText("Bash: npm test", 600)).toBe(
      "Permission asked: Bash: npm test\n\nReply /approve or /deny (with a reason if you like), or /approve always Bash for the rest of this conversation. No answer within 10 min: denied.",
    );
  });

  it("the answer is the JSON Claude Code's permission prompt tool contract documents", () => {
    expect(JSON.parse(permissionAnswer({ behavior: "allow" }, { command: "ls" }))).toEqual({ behavior: "allow", updatedInput: { command: "ls" } });
    expect(JSON.parse(permissionAnswer({ behavior: "deny", message: "denied by izzit7: no" }, {}))).toEqual({ behavior: "deny", message: "denied by izzit7: no" });
  });

  it.each([
    ["mcp__coord__whoami", true],
    ["mcp__coord__inbox", true],
    ["mcp__coord__thread", true],
    ["mcp__coord__send", true],
    ["mcp__coord__status", true],
    ["mcp__coord__ack", false],
    ["mcp__coord__order_add", false],
    ["mcp__coord__reserve", false],
    ["mcp__coord__release", false],
    ["mcp__coord__sync", false],
    ["mcp__coord__stop_turn", false],
    ["mcp__coord__approve", false],
    ["mcp__coord__permission_prompt", false],
    ["mcp__other__send", false],
    ["mcp__coord__send_x", false],
    ["Bash", false],
    ["send", false],
  ])("%s runs without asking a person: %s", (tool, want) => expect(allowedWithoutAsking(tool)).toBe(want));

  it("a request never starts a turn where it lands", () => {
    expect(whyNoTurn(msg({ agent: { request: "Bash", chain: 1 } }), { from: "ALL" }, ctx)).toEqual({ silent: "it is an agent's request for a permission" });
  });

  it("claude's turn names coord's permission prompt tool and the turn's MCP config on every call", () => {
    const r = turnInvocation({ agent: "claude", permissions: "edit" }, "hi", "s-1", { root: false, executable: "claude", self: [], mcpConfig: "/x/t.mcp.json" });
    expect("argv" in r && r.argv.slice(-3)).toEqual(["--mcp-config=/x/t.mcp.json", "--permission-prompt-tool=mcp__coord__permission_prompt", "--resume=s-1"]);
  });
});

describe("outcomes as fields: what became of a turn or a request travels in the mark (issue 59, item 2)", () => {
  const end = { exitCode: 0, timeout: 1800, durationMs: 12_400 };
  it.each([
    ["a timeout: failed, by its timeout", { ...end, exitCode: null, timedOut: true }, "failed", "timeout"],
    ["a /stop or coord agent stop", { ...end, exitCode: null, stopped: "/stop from izzit7", cause: "stop" as const }, "stopped", "stop"],
    ["silent too long", { ...end, exitCode: null, stopped: "it wrote nothing for 600 s", cause: "idle" as const }, "stopped", "idle"],
    ["the daemon stopping", { ...end, exitCode: null, stopped: "the coord daemon stopped", cause: "shutdown" as const }, "stopped", "shutdown"],
    ["stopped as the timeout came: the stop", { ...end, exitCode: null, stopped: "/stop from izzit7", cause: "stop" as const, timedOut: true }, "stopped", "stop"],
    ["an answer has none", { ...end, said: { ok: true, message: "done" } }, undefined, undefined],
    ["a failure of the agent's own has none", { ...end, said: { ok: false, reason: "max turns" } }, "failed", undefined],
  ])("%s: outcome %s, cause %s", (_w, e, outcome, cause) => {
    const a = answerOf(e, "claude", 0);
    expect(a.mark.outcome).toBe(outcome);
    expect(a.mark.cause).toBe(cause);
  });

  it.each([
    ["a reply /approve from a machine", { behavior: "allow" as const, by: "izzit7" }, { behavior: "allow", by: "izzit7" }],
    ["/approve always", { behavior: "allow" as const, by: "izzit7", always: "Bash" }, { behavior: "allow", by: "izzit7", always: "Bash" }],
    ["a /deny with a reason (the reason stays in the text)", { behavior: "deny" as const, by: "izzit7", message: "no" }, { behavior: "deny", by: "izzit7" }],
    ["coord approve on the asking machine", { behavior: "allow" as const, by: "soda-yeti (coord approve)" }, { behavior: "allow", by: "soda-yeti" }],
    ["nobody in time", { behavior: "deny" as const, by: "timeout" }, { behavior: "deny", cause: "timeout" }],
    ["the turn ended first", { behavior: "deny" as const, by: "the turn ended" }, { behavior: "deny", cause: "turn-end" }],
    ["someone coord cannot name", { behavior: "deny" as const, by: "who knows" }, { behavior: "deny" }],
    ["/approve always of a tool no mark may name", { behavior: "allow" as const, by: "izzit7", always: "odd tool" }, { behavior: "allow", by: "izzit7" }],
  ])("a decision by %s is marked by fields", (_w, d, want) => {
    expect(decidedMark("soda-yeti/izzit7/4", d, "soda-yeti")).toEqual({ request: "soda-yeti/izzit7/4", ...want });
  });

  it.each([
    [{ answer: true, cli: "claude", chain: 1, outcome: "failed" as const, cause: "timeout" as const }, "answer by claude, failed (timed out)"],
    [{ answer: true, cli: "claude", chain: 1, outcome: "stopped" as const, cause: "stop" as const }, "answer by claude, stopped (asked to stop)"],
    [{ answer: true, cli: "claude", chain: 1, outcome: "stopped" as const, cause: "idle" as const }, "answer by claude, stopped (silent too long)"],
    [{ answer: true, cli: "claude", chain: 1, outcome: "stopped" as const, cause: "shutdown" as const }, "answer by claude, stopped (coord stopped)"],
    [
      { answer: true, cli: "claude", outcome: "refused" as const, decided: { request: "a/b/4", behavior: "allow" as const, by: "b" } },
      "answer by claude, refused, request a/b/4 approved by b",
    ],
    [
      { answer: true, cli: "claude", outcome: "refused" as const, decided: { request: "a/b/4", behavior: "deny" as const, cause: "turn-end" as const } },
      "answer by claude, refused, request a/b/4 denied: the turn ended first",
    ],
  ])("%j reads %j in coord inbox and the thread", (mark, line) => {
    expect(agentLine(mark)).toBe(line);
  });

  const file = (agent: object) =>
    renderMessageFile({
      coord: 1,
      from: "a",
      to: "b",
      next: 2,
      messages: [{ seq: 1, at: "2026-11-27T10:00:00.000Z", priority: "normal", text: "x", replyTo: "b/a/3", agent: agent as never }],
    });
  const parsed = (text: string) => parseMessageFile(text, "coordination/messages/a_TO_b.md").messages[0]!.agent;

  it("the fields go through the file and back, in one order", () => {
    const mark = { answer: true, cli: "claude", outcome: "refused" as const, decided: { always: "Bash", by: "b", behavior: "allow" as const, request: "b/a/3" } };
    const text = file(mark);
    expect(parsed(text)).toEqual(mark);
    expect(text.indexOf("request: b/a/3")).toBeLessThan(text.indexOf("behavior: allow"));
    expect(parsed(file({ answer: true, outcome: "stopped", cause: "stop" }))).toEqual({ answer: true, outcome: "stopped", cause: "stop" });
  });

  it.each([
    ["a cause the reader does not know", { answer: true, outcome: "stopped", cause: "meteor" }, { answer: true, outcome: "stopped" }],
    [
      "a decided cause it does not know",
      { answer: true, decided: { request: "b/a/3", behavior: "deny", cause: "meteor" } },
      { answer: true, decided: { request: "b/a/3", behavior: "deny" } },
    ],
    [
      "a decider that is no machine name",
      { answer: true, decided: { request: "b/a/3", behavior: "deny", by: "Not A Name" } },
      { answer: true, decided: { request: "b/a/3", behavior: "deny" } },
    ],
    ["a decided of no request", { answer: true, decided: { request: "nonsense", behavior: "deny" } }, { answer: true }],
    ["a decided of another behavior", { answer: true, decided: { request: "b/a/3", behavior: "maybe" } }, { answer: true }],
    [
      "a field a newer coord adds",
      { answer: true, decided: { request: "b/a/3", behavior: "deny", at: "noon" } },
      { answer: true, decided: { request: "b/a/3", behavior: "deny" } },
    ],
  ])("%s is dropped, the mark kept", (_w, agent, want) => {
    expect(parsed(file(agent))).toEqual(want);
  });
});

describe("the words of what is no turn's answer (issue 58, finding 14)", () => {
  it.each([
    [{ answer: true, cli: "claude", note: "budget" as const, outcome: "refused" as const }, "claude on call: waiting for the daily budget"],
    [{ answer: true, cli: "claude", note: "nothing-running" as const }, "claude on call: nothing was running"],
    [{ answer: true, cli: "claude", note: "approval-timeout" as const }, "claude on call: request timed out, denied"],
    [{ answer: true, cli: "claude", outcome: "refused" as const }, "answer by claude, refused"],
  ])("%j reads %j", (mark, line) => {
    expect(agentLine(mark)).toBe(line);
  });
  it("a note the reader does not know is dropped, the mark kept", () => {
    const text = renderMessageFile({
      coord: 1,
      from: "a",
      to: "b",
      next: 2,
      messages: [{ seq: 1, at: "2026-11-27T10:00:00.000Z", priority: "normal", text: "x", agent: { answer: true, cli: "claude", note: "budget" } }],
    });
    expect(text).toMatch(/note: budget/);
    const parsed = parseMessageFile(text.replace("note: budget", "note: someday"), "coordination/messages/a_TO_b.md");
    expect(parsed.messages[0]!.agent).toEqual({ answer: true, cli: "claude" });
  });
  it.each([
    [{ behavior: "deny" as const, by: "the turn ended" }, "denied: the turn ended first"],
    [{ behavior: "deny" as const, by: "timeout" }, "denied: nobody answered in time"],
    [{ behavior: "deny" as const, by: "izzit7", message: "not on main" }, "denied by izzit7: not on main"],
    [{ behavior: "allow" as const, by: "izzit7" }, "approved by izzit7"],
  ])("a decision %j reads %j", (d, text) => {
    expect(decidedText(d)).toBe(text);
  });
  it.each([
    [{}, "claude: every turn gets --permission-mode (no turn or budget cap per message is set);"],
    [{ maxTurns: 5 }, "claude: every turn gets --permission-mode and --max-turns;"],
    [{ maxTurns: 5, maxBudgetUsd: 2 }, "claude: every turn gets --permission-mode, --max-turns and --max-budget-usd;"],
  ])("claude's note with caps %j names only the caps set", (caps, start) => {
    const s = {
      agent: "claude" as const,
      cwd: "/x",
      from: "ALL" as const,
      permissions: "read-only" as const,
      timeout: 60,
      maxParallel: 2,
      approvalTimeout: 600,
      allowTools: [],
      ...caps,
    };
    expect(noteOf(s).startsWith(start)).toBe(true);
  });
});

describe("threadSwitch: a session never runs under another CLI or other permissions (issue 58, finding 8)", () => {
  const machine = { agent: "codex" as const, cwd: "/new", permissions: "read-only" as const };
  it.each([
    ["the same CLI and permissions: goes on", { agent: "codex", cwd: "/old", permissions: "read-only" as const, session: "s1" }, undefined],
    ["a thread recorded before permissions were: goes on under the same CLI", { agent: "codex", cwd: "/old", session: "s1" }, undefined],
    [
      "another CLI: a new session with the machine's, told",
      { agent: "claude", cwd: "/old", permissions: "edit" as const, session: "s1" },
      {
        agent: "codex",
        cwd: "/new",
        permissions: "read-only",
        note: expect.stringMatching(
          /^Note: this conversation's earlier turns ran with claude \(edit\); this machine is now on call with codex \(read-only\), so this turn started a new codex session/,
        ),
      },
    ],
    [
      "other permissions: a new session, told",
      { agent: "codex", cwd: "/old", permissions: "full" as const, session: "s1" },
      { agent: "codex", cwd: "/new", permissions: "read-only", note: expect.stringMatching(/ran with permissions full; this machine is now on call with permissions read-only/) },
    ],
    ["another CLI but no session yet: switched, nothing to tell", { agent: "claude", cwd: "/old" }, { agent: "codex", cwd: "/new", permissions: "read-only" }],
  ])("%s", (_, thread, want) => {
    expect(threadSwitch(thread, machine)).toEqual(want);
  });

  // Its session kept in the person's CLI state, and its agents now keep theirs apart (issue 65): not there to resume.
  it.each([
    [
      "kept in the person's, now apart: a new session, told",
      {},
      true,
      /kept their session in the person's own codex state; its agents now keep theirs apart from the person's, so this turn started a new codex session/,
    ],
    [
      "kept apart, now in the person's (the shield turned off): a new session, told",
      { apart: true },
      false,
      /in this machine's own copy of the codex state; its agents now keep theirs in the person's/,
    ],
    ["kept apart, still apart: goes on", { apart: true }, true, undefined],
    ["kept in the person's, still so: goes on", {}, false, undefined],
    ["not known where the turn keeps it (a count of sessions): goes on", {}, undefined, undefined],
  ] as const)("%s", (_, where, apart, note) => {
    const got = threadSwitch({ agent: "codex", cwd: "/old", permissions: "read-only", session: "s1", ...where }, { ...machine, ...(apart === undefined ? {} : { apart }) });
    if (note) expect(got).toEqual({ agent: "codex", cwd: "/new", permissions: "read-only", note: expect.stringMatching(note) });
    else expect(got).toBeUndefined();
  });
});
