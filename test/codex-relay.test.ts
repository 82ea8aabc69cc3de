// The relay between Codex's TUI and coord's app-server (core/agents/codex-relay.ts), as a table of message
// sequences: what coord learns, what it changes, what it keeps from the TUI.
import { describe, expect, it } from "vitest";
import { AGENTS } from "../src/core/agents/agents.js";
import { COORD_ID, fromServer, fromTui, type Json, newRelay, type RelayState, WAKE_SETTINGS, wakeTurn } from "../src/core/agents/codex-relay.js";

const person = { approvalPolicy: "on-request", approvalsReviewer: "user", sandbox: { type: "workspaceWrite", writableRoots: [], networkAccess: false } };
const personSettings = { approvalPolicy: "on-request", approvalsReviewer: "user", sandboxPolicy: person.sandbox };

type Step = { tui: Json } | { server: Json } | { wake: string };

/** Runs the steps from a new relay: the state after them, the last message each side produced, and what the steps said. */
function run(steps: Step[]) {
  let s: RelayState = newRelay();
  const out: { toServer: Json[]; toTui: Json[]; typed: number; waits: string[] } = { toServer: [], toTui: [], typed: 0, waits: [] };
  for (const step of steps) {
    if ("tui" in step) {
      const r = fromTui(s, step.tui);
      s = r.s;
      out.toServer.push(r.msg);
      if (r.typed) out.typed++;
    } else if ("server" in step) {
      const r = fromServer(s, step.server);
      s = r.s;
      if (r.forward) out.toTui.push(step.server);
    } else {
      const r = wakeTurn(s, "coord-1", step.wake);
      if ("wait" in r) out.waits.push(r.wait);
      else {
        s = r.s;
        out.toServer.push(r.msg);
      }
    }
  }
  return { s, ...out };
}

const open: Step[] = [{ tui: { id: 1, method: "thread/start", params: {} } }, { server: { id: 1, result: { thread: { id: "T" }, ...person } } }];
const turn = (text: string, extra: Json = {}): Step => ({ tui: { id: 9, method: "turn/start", params: { threadId: "T", input: [{ type: "text", text }], ...extra } } });
const status = (type: string): Step => ({ server: { method: "thread/status/changed", params: { threadId: "T", status: { type } } } });
const settingsUpdated = (x: Json): Step => ({ server: { method: "thread/settings/updated", params: { threadId: "T", threadSettings: x } } });

describe("the relay between Codex's TUI and coord's app-server", () => {
  it.each<[string, Step[], (r: ReturnType<typeof run>) => void]>([
    [
      "the thread the TUI opens, and the person's settings, come from the answer to its thread/start",
      open,
      (r) => {
        expect(r.s.thread).toBe("T");
        expect(r.s.person).toEqual(personSettings);
        expect(r.toTui).toHaveLength(1);
      },
    ],
    ["no wake before the TUI has a thread", [{ wake: "hi" }], (r) => expect(r.waits).toEqual(["the TUI has no thread yet"])],
    ["no wake while a turn runs", [...open, status("active"), { wake: "hi" }], (r) => expect(r.waits).toEqual(["a turn runs"])],
    [
      "a wake is a turn/start of the TUI's thread under the woken settings, with coord's id",
      [...open, status("idle"), { wake: "the text" }],
      (r) => {
        const w = r.toServer.at(-1)!;
        expect(w).toMatchObject({ id: "coord-1", method: "turn/start", params: { threadId: "T", input: [{ type: "text", text: "the text" }], ...WAKE_SETTINGS } });
        expect(r.s.restore).toBe(true);
      },
    ],
    [
      "the wake's own settings change is not taken for the person's; their next turn gets theirs back, field by field",
      [...open, { wake: "w" }, settingsUpdated({ approvalPolicy: "untrusted", sandboxPolicy: { type: "readOnly" } }), status("idle"), turn("mine")],
      (r) => {
        expect(r.toServer.at(-1)!.params).toMatchObject(personSettings);
        expect(r.typed).toBe(1);
        expect(r.s.restore).toBe(false);
      },
    ],
    [
      "the wake's change of the settings never reaches the TUI (it sends what it last heard with the person's next turn); the person's own changes do",
      [...open, { wake: "w" }, settingsUpdated({ approvalPolicy: "untrusted" }), turn("mine"), settingsUpdated({ approvalPolicy: "on-request" })],
      (r) => expect(r.toTui.filter((m) => m.method === "thread/settings/updated").map((m) => (m.params as Json).threadSettings)).toEqual([{ approvalPolicy: "on-request" }]),
    ],
    [
      "a setting the person chose in the TUI (/permissions) is kept; only the missing ones come back",
      [...open, { wake: "w" }, turn("mine", { approvalPolicy: "never" })],
      (r) => expect(r.toServer.at(-1)!.params).toMatchObject({ approvalPolicy: "never", sandboxPolicy: person.sandbox, approvalsReviewer: "user" }),
    ],
    [
      "a field the TUI sends as null is one it did not set: the person's comes back; a permission profile of theirs keeps the sandbox theirs",
      [
        ...open,
        { wake: "w" },
        status("idle"),
        turn("mine", { approvalPolicy: "on-request", sandboxPolicy: null, approvalsReviewer: null }),
        { server: { id: 9, result: { turn: { id: "m" } } } },
        status("idle"),
        { wake: "w2" },
        turn("again", { sandboxPolicy: null, permissions: { id: "p" } }),
      ],
      (r) => {
        expect(r.toServer.at(-3)!.params).toMatchObject(personSettings);
        expect(r.toServer.at(-1)!.params).toMatchObject({ sandboxPolicy: null, permissions: { id: "p" }, approvalPolicy: "on-request" });
      },
    ],
    [
      "only the turn right after a wake is changed: later turns go as the TUI sent them",
      [...open, { wake: "w" }, turn("one"), turn("two")],
      (r) => expect(r.toServer.at(-1)!.params).toEqual({ threadId: "T", input: [{ type: "text", text: "two" }] }),
    ],
    [
      "the person's own settings changes are followed, so a later wake's restore is theirs",
      [...open, settingsUpdated({ approvalPolicy: "never", approvalsReviewer: "user", sandboxPolicy: { type: "dangerFullAccess" } }), { wake: "w" }, turn("mine")],
      (r) => expect(r.toServer.at(-1)!.params).toMatchObject({ approvalPolicy: "never", sandboxPolicy: { type: "dangerFullAccess" } }),
    ],
    [
      "what the person types into a running turn (a steer) joins it: a woken turn stays locked",
      [...open, { wake: "w" }, { tui: { id: 3, method: "turn/steer", params: { threadId: "T" } } }],
      (r) => expect(r.typed).toBe(0),
    ],
    [
      "the thread is busy from the TUI's turn/start on, before the app-server says so (found attacking it: a wake joined the person's turn)",
      [...open, status("idle"), turn("mine"), { wake: "w" }],
      (r) => {
        expect(r.waits).toEqual(["a turn runs"]);
        expect(r.toServer.at(-1)!.method).toBe("turn/start");
      },
    ],
    [
      "an idle status that comes before the answer to the TUI's turn/start does not free the thread",
      [...open, turn("mine"), status("idle"), { wake: "w" }, { server: { id: 9, result: { turn: { id: "x" } } } }, { wake: "w" }, status("idle"), { wake: "w" }],
      (r) => {
        expect(r.waits).toEqual(["a turn runs", "a turn runs"]);
        expect(r.toServer.at(-1)!.id).toBe("coord-1");
      },
    ],
    [
      "a turn/start the app-server refuses leaves the thread free",
      [...open, turn("mine"), { server: { id: 9, error: { message: "no" } } }, { wake: "w" }],
      (r) => expect(r.toServer.at(-1)!.id).toBe("coord-1"),
    ],
    [
      "answers to coord's own requests never reach the TUI; the TUI's do",
      [...open, { server: { id: "coord-1", result: {} } }, { server: { id: 7, result: {} } }],
      (r) => expect(r.toTui.map((m) => m.id)).toEqual([1, 7]),
    ],
    [
      "a new thread the TUI opens after a wake owes nothing to it",
      [...open, { wake: "w" }, { tui: { id: 4, method: "thread/start", params: {} } }, { server: { id: 4, result: { thread: { id: "U" }, ...person } } }],
      (r) => {
        expect(r.s.thread).toBe("U");
        expect(r.s.restore).toBe(false);
      },
    ],
    [
      "a fork the TUI makes (/fork) is the thread it shows from then on",
      [...open, { tui: { id: 5, method: "thread/fork", params: { threadId: "T" } } }, { server: { id: 5, result: { thread: { id: "F" }, ...person } } }],
      (r) => expect(r.s.thread).toBe("F"),
    ],
    [
      "in a woken turn, the person's 'don't ask again' and 'for this session' are for that call only; their own turns' are kept",
      [
        ...open,
        { wake: "w" },
        { server: { id: 0, method: "item/commandExecution/requestApproval", params: { threadId: "T" } } },
        { tui: { id: 0, result: { decision: { acceptWithExecpolicyAmendment: { execpolicy_amendment: ["touch"] } } } } },
        { server: { id: 1, method: "item/commandExecution/requestApproval", params: { threadId: "T" } } },
        { tui: { id: 1, result: { decision: "acceptForSession" } } },
        { server: { id: 2, method: "item/fileChange/requestApproval", params: { threadId: "T" } } },
        { tui: { id: 2, result: { decision: "decline" } } },
        status("idle"),
        turn("mine"),
        { server: { id: 3, method: "item/commandExecution/requestApproval", params: { threadId: "T" } } },
        { tui: { id: 3, result: { decision: "acceptForSession" } } },
      ],
      (r) => {
        const answers = r.toServer.filter((m) => m.method === undefined).map((m) => (m.result as Json).decision);
        expect(answers).toEqual(["accept", "accept", "decline", "acceptForSession"]);
      },
    ],
    [
      "the legacy approval requests' decisions too: 'for this session' and a rule become a plain yes in a woken turn",
      [
        ...open,
        { wake: "w" },
        { server: { id: 4, method: "execCommandApproval", params: {} } },
        { tui: { id: 4, result: { decision: "approved_for_session" } } },
        { server: { id: 5, method: "execCommandApproval", params: {} } },
        { tui: { id: 5, result: { decision: { approved_execpolicy_amendment: { proposed_execpolicy_amendment: ["touch"] } } } } },
      ],
      (r) => expect(r.toServer.filter((m) => m.method === undefined).map((m) => (m.result as Json).decision)).toEqual(["approved", "approved"]),
    ],
    [
      "another thread's events change nothing",
      [...open, { server: { method: "thread/status/changed", params: { threadId: "sub", status: { type: "active" } } } }],
      (r) => expect(r.s.busy).toBe(false),
    ],
  ])("%s", (_name, steps, check) => check(run(steps)));

  it("coord's ids are its own shape", () => {
    expect(COORD_ID.test("coord-12")).toBe(true);
    expect(COORD_ID.test("12")).toBe(false);
    expect(COORD_ID.test("coord-x")).toBe(false);
  });
});

describe("Codex's command rules, which hold every wake (its adapter's wake.opened.rules)", () => {
  const rules = AGENTS.get("codex")!.wake!.opened!.rules!;
  it.each([
    ['prefix_rule(pattern=["touch"], decision="allow")', true, "an allow"],
    ['prefix_rule(pattern=["touch"])', true, "allow is the default decision (found attacking it)"],
    ['prefix_rule(["touch"], "al" + "low")', true, "Starlark builds it any way it likes"],
    ['prefix_rule(pattern=["rm"], decision="forbidden")', true, "any rule: coord does not evaluate Starlark"],
    ["# a comment\n\n   # another", false, "comments only"],
    ["", false, "empty"],
  ])("%s: %s (%s)", (text, holds) => expect(rules.allows(text)).toBe(holds));
  it("are read from Codex's home, the system's folder, and each folder from the project up to its git root", () => {
    expect(rules.dirs({ CODEX_HOME: "/h/.cx" }, "/home/p", ["/r/app", "/r"])).toEqual(["/h/.cx/rules", "/etc/codex/rules", "/r/app/.codex/rules", "/r/.codex/rules"]);
    expect(rules.dirs({}, "/home/p", ["/r"])[0]).toBe("/home/p/.codex/rules");
  });
});
