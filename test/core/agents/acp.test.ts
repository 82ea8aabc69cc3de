// The Agent Client Protocol as coord's driver speaks it to `opencode acp` (core/agents/acp.ts): the messages as the
// real OpenCode 1.18.33 sent them (recorded against the scripted model server), sorted and read into the lines
// opencode's reader reads, and those lines read by that reader into the turn's result.
import { describe, expect, it } from "vitest";
import { acpEnd, acpIncoming, acpUpdate, type AcpTurn, deniedLine, newTurn, openSession, permissionAnswer, permissionAsked, sessionLine } from "../../../src/core/agents/acp.js";
import { agentReader } from "../../../src/core/agents/agents.js";

const S = "ses_dda1a7e87ffeaEfXWd5WJ62YvT";
const update = (u: Record<string, unknown>, session = S) => ({ sessionId: session, update: u });

describe("acpIncoming: what a line from the CLI is", () => {
  it.each([
    ['{"jsonrpc":"2.0","id":3,"result":{"stopReason":"end_turn"}}', { kind: "answer", id: 3, result: { stopReason: "end_turn" } }],
    ['{"jsonrpc":"2.0","id":2,"error":{"code":-32603,"message":"Internal error"}}', { kind: "answer", id: 2, error: "Internal error" }],
    [
      '{"jsonrpc":"2.0","id":0,"method":"session/request_permission","params":{"sessionId":"s"}}',
      { kind: "request", id: 0, method: "session/request_permission", params: { sessionId: "s" } },
    ],
    ['{"jsonrpc":"2.0","method":"session/update","params":{"sessionId":"s"}}', { kind: "notice", method: "session/update", params: { sessionId: "s" } }],
    ["not json", { kind: "other" }],
    ["[1,2]", { kind: "other" }],
    ['{"jsonrpc":"2.0","id":"x","result":{}}', { kind: "other" }],
  ])("%s", (line, expected) => {
    expect(acpIncoming(line)).toEqual(expected);
  });
});

describe("openSession", () => {
  it("a new session, or the one to resume (no history replayed); coord gives it no MCP server", () => {
    expect(openSession("/w", undefined)).toEqual({ method: "session/new", params: { cwd: "/w", mcpServers: [] } });
    expect(openSession("/w", "ses_1")).toEqual({ method: "session/resume", params: { sessionId: "ses_1", cwd: "/w", mcpServers: [] } });
  });
});

describe("permissionAsked and permissionAnswer", () => {
  const options = [
    { optionId: "once", kind: "allow_once", name: "Allow once" },
    { optionId: "always", kind: "allow_always", name: "Always allow" },
    { optionId: "reject", kind: "reject_once", name: "Reject" },
  ];
  it.each([
    ["a command", { kind: "execute", title: "echo hi > x.txt", rawInput: { command: "echo hi > x.txt" } }, "bash", { command: "echo hi > x.txt" }],
    ["an edit", { kind: "edit", title: "a.ts", rawInput: { filePath: "/w/a.ts" } }, "edit", { filePath: "/w/a.ts" }],
    ["a fetch", { kind: "fetch", title: "https://x", rawInput: { url: "https://x" } }, "webfetch", { url: "https://x" }],
    ["a kind coord does not know: its title", { kind: "other", title: "external_directory" }, "external_directory", {}],
    ["nothing said", {}, "a tool", {}],
  ])("%s", (_what, toolCall, tool, input) => {
    expect(permissionAsked({ sessionId: S, toolCall, options })).toEqual({ tool, input, allow: "once", reject: "reject" });
  });
  it("an allow is once, never always (the asker's /approve always is coord's to keep); no fitting option: cancelled", () => {
    expect(permissionAsked({ toolCall: {}, options: [{ optionId: "a", kind: "allow_always" }] })).toEqual({ tool: "a tool", input: {} });
    expect(permissionAnswer("once")).toEqual({ outcome: { outcome: "selected", optionId: "once" } });
    expect(permissionAnswer(undefined)).toEqual({ outcome: { outcome: "cancelled" } });
  });
});

/** Runs updates through acpUpdate from a turn with the session open. */
function read(updates: Record<string, unknown>[], from: AcpTurn = { ...newTurn(), session: S }): { turn: AcpTurn; print: string[] } {
  let turn = from;
  const print: string[] = [];
  for (const u of updates) {
    const r = acpUpdate(turn, u);
    turn = r.turn;
    print.push(...r.print);
  }
  return { turn, print };
}

describe("acpUpdate and acpEnd: a turn as opencode run would print it", () => {
  const bashTurn = [
    update({ sessionUpdate: "tool_call", toolCallId: "call_1", title: "bash", kind: "execute", status: "pending", rawInput: { cwd: "/w" } }),
    update({ sessionUpdate: "tool_call_update", toolCallId: "call_1", status: "in_progress", kind: "execute", rawInput: { command: "pwd", cwd: "/w" } }),
    update({ sessionUpdate: "tool_call_update", toolCallId: "call_1", status: "completed", kind: "execute", rawInput: { command: "pwd", cwd: "/w" } }),
    update({ sessionUpdate: "agent_message_chunk", messageId: "m1", content: { type: "text", text: "ran: " } }),
    update({ sessionUpdate: "agent_message_chunk", messageId: "m1", content: { type: "text", text: "/w" } }),
    update({ sessionUpdate: "usage_update", used: 10, size: 128000, cost: { amount: 0.000315, currency: "USD" } }),
    update({ sessionUpdate: "agent_message_chunk", messageId: "x", content: { type: "text", text: "another session's" } }, "ses_other"),
  ];

  it("a step once a tool call's input is known (once), the message whole, the cost so far said at once", () => {
    const { turn, print } = read(bashTurn, { ...newTurn(0.0001), session: S });
    expect(print.map((l) => JSON.parse(l))).toEqual([
      { type: "tool_use", sessionID: S, part: { tool: "bash", state: { status: "running", input: { command: "pwd", cwd: "/w" } } } },
      { type: "usage", sessionID: S, part: { cost: expect.closeTo(0.000215, 10), sessionCost: 0.000315 } },
    ]);
    expect(turn).toMatchObject({ text: "ran: /w", textId: "m1", sessionCost: 0.000315, shown: ["call_1"] });
  });

  it("a second message: the first is printed as it begins", () => {
    const { turn, print } = read([
      update({ sessionUpdate: "agent_message_chunk", messageId: "m1", content: { type: "text", text: "first" } }),
      update({ sessionUpdate: "agent_message_chunk", messageId: "m2", content: { type: "text", text: "second" } }),
    ]);
    expect(print.map((l) => JSON.parse(l).part.text)).toEqual(["first"]);
    expect(turn.text).toBe("second");
  });

  it.each([
    ["a new session: the whole cost", undefined, 0.000315],
    ["a resumed one: what the turn added to the session's cost", 0.00021, 0.000105],
    ["a cost before above the total (a lie or a new session): none, never below", 0.01, 0],
  ])("%s", (_what, before, cost) => {
    const { turn, print } = read(bashTurn, { ...newTurn(before), session: S });
    const lines = [...print, ...acpEnd(turn, { result: { stopReason: "end_turn", usage: { inputTokens: 10, outputTokens: 5 } } })];
    const reader = agentReader("opencode")!;
    for (const l of [sessionLine(S), ...lines]) reader.line(l);
    const r = reader.result()!;
    expect(r).toMatchObject({ ok: true, message: "ran: /w", session: S, turns: 1, tokens: { input: 10, output: 5 }, sessionCostUsd: 0.000315 });
    if (cost) expect(r.costUsd).toBeCloseTo(cost, 10);
    else expect(r.costUsd).toBeUndefined();
  });

  it.each([
    ["the CLI's error", { error: "Internal error: Cannot connect to API" }, "it said: Internal error: Cannot connect to API"],
    ["cancelled", { result: { stopReason: "cancelled" } }, "it said: the turn stopped: cancelled"],
    ["max tokens", { result: { stopReason: "max_tokens" } }, "it said: the turn stopped: max_tokens"],
  ])("a turn that did not end by its agent's end of turn fails: %s", (_what, end, reason) => {
    const reader = agentReader("opencode")!;
    for (const l of [sessionLine(S), ...acpEnd({ ...newTurn(), session: S }, end)]) reader.line(l);
    expect(reader.result()).toMatchObject({ ok: false, reason, session: S });
  });

  it("a tool call the asker denied: the turn says so, though it ended by itself", () => {
    const reader = agentReader("opencode")!;
    const turn: AcpTurn = { ...newTurn(), session: S, text: "I could not run it." };
    for (const l of [sessionLine(S), deniedLine(turn, "bash"), ...acpEnd(turn, { result: { stopReason: "end_turn" } })]) reader.line(l);
    expect(reader.result()).toMatchObject({ ok: false, denied: ["bash"], message: "I could not run it.", reason: expect.stringMatching(/^it was denied bash/) });
  });

  it("a turn cut short counts what it cost so far (its last usage line), and keeps its session", () => {
    const reader = agentReader("opencode")!;
    const { print } = read(bashTurn, { ...newTurn(0.0001), session: S });
    for (const l of [sessionLine(S), ...print]) reader.line(l);
    expect(reader.result()).toMatchObject({ ok: false, session: S, costUsd: expect.closeTo(0.000215, 10), sessionCostUsd: 0.000315 });
  });

  it("a session named before any model output: a turn cut short keeps it", () => {
    const reader = agentReader("opencode")!;
    reader.line(sessionLine(S));
    expect(reader.result()).toMatchObject({ ok: false, session: S, reason: "it stopped before it finished a step" });
  });
});
