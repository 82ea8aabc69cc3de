// Approvals from afar, end to end on real git: an agent on call (a stand-in
// claude that calls the permission prompt tool through the MCP server its
// --mcp-config names, as Claude Code does) asks in its thread; /approve,
// /deny, /approve always, a timeout, a reply from a machine not allowed, and
// a stop while waiting each end the wait as a user expects.
import { inbox } from "../src/actions/messages.js";
import { queueMessage } from "../src/state/mailbox.js";
import { openMachine } from "../src/sync/sync.js";
import { describe, expect, it } from "vitest";
import { cli } from "./helpers.js";
import { answerTo, type Msg, onCallTests, requestFor } from "./on-call-fleet.js";
import { standInCalls } from "./on-call-standins.js";
import { patient } from "./patience.js";

const t = onCallTests("coord-approvals-");
const { dirOf, send, arrives } = t;

const onCallFleet = (names: string[], ...extra: string[]) => t.claudeOnCall(names, ...extra);

describe("approvals from afar", () => {
  it("the agent asks in its thread; coord approve lets it go on, and the turn ran with coord's permission prompt tool", { timeout: patient(90_000) }, async () => {
    await onCallFleet(["asker", "oncall"]);
    const q = await send("asker", "oncall", "please run: rm -rf build");
    const req = await arrives("asker", requestFor(q), "the request");
    expect(req.text).toMatch(/^Permission asked: Bash: rm -rf build\n\nReply \/approve or \/deny .*\/approve always Bash .*No answer within 10 min: denied\.$/s);
    // Waiting for a person: an alert where people look, with how long; the machine answering, not idle (issue 58, finding 12).
    const shown = await cli("status", "--dir", dirOf("asker"), "--no-fetch");
    expect(shown.out).toContain(`: oncall's claude waits for asker to approve or deny Bash (request ${req.id}): coord approve ${req.id}, or coord deny ${req.id}\n`);
    expect(shown.out).toMatch(/approval waiting, asked (just now|\d+ s ago): oncall's claude waits/);
    expect(shown.out).toMatch(/oncall +\S+ +answering \(1 turn on call\)/);
    const ok = await cli("approve", req.id, "--dir", dirOf("asker"));
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(new RegExp(`^approved ${req.id}: sent asker/oncall/\\d+ into its thread$`));
    // Deciding the request acknowledged it: a wait for the thread's answer waits for the answer (issue 65, finding 8).
    const waited = await cli("inbox", "--dir", dirOf("asker"), "--wait", "60s", "--reply-to", q, "--json");
    expect(waited.code, waited.err).toBe(0);
    const got = JSON.parse(waited.out) as Msg[];
    expect(got.map((x) => [x.agent?.request !== undefined, x.text])).toEqual([[false, "ran: rm -rf build"]]);
    const a = await arrives("asker", answerTo(q), "the answer");
    expect(a.text).toBe("ran: rm -rf build");
    const call = (await standInCalls(t.home)).find((c) => c.prompt.includes("please run"))!;
    expect(call.args).toEqual(expect.arrayContaining(["--permission-mode=default", "--permission-prompt-tool=mcp__coord__permission_prompt"]));
    expect(call.args.some((x) => x.startsWith("--mcp-config="))).toBe(true);
    // The request and the decision are signed messages in the thread: the hub's history is the record.
    const late = await send("asker", "oncall", "/approve", req.id);
    const over = await arrives("asker", (x) => x.replyTo === late, "the late answer's reply");
    expect(over.text).toBe(`Request ${req.id} is over (approved by asker): this answer changes nothing.`);
    // What became of the request travels in the mark (issue 59): no view reads the sentence.
    expect(over.agent).toMatchObject({ answer: true, outcome: "refused", decided: { request: req.id, behavior: "allow", by: "asker" } });
    // Each was acted on, and is acknowledged: the question (answered), the /approve (it decided), the late one (refused).
    const decision = /sent (asker\/oncall\/\d+)/.exec(ok.out)![1]!;
    const out = JSON.parse((await cli("outbox", "--dir", dirOf("asker"), "--json")).out) as { id: string; recipients: Record<string, string> }[];
    expect(Object.fromEntries(out.filter((x) => [q, decision, late].includes(x.id)).map((x) => [x.id, x.recipients.oncall]))).toEqual({
      [q]: "acked",
      [decision]: "acked",
      [late]: "acked",
    });
    if (process.env.COORD_TRANSCRIPT) console.log((await cli("inbox", "--dir", dirOf("asker"), "--all")).out);
  });

  it("/deny with a reason reaches the agent; /approve always lets the same tool run without asking for the rest of the thread", { timeout: patient(120_000) }, async () => {
    await onCallFleet(["asker", "oncall"]);
    const q = await send("asker", "oncall", "please run: git push --force");
    const req = await arrives("asker", requestFor(q), "the request");
    await send("asker", "oncall", "/deny not on main", req.id);
    expect((await arrives("asker", answerTo(q), "the answer")).text).toBe("not allowed: denied by asker: not on main");
    const q2 = await send("asker", "oncall", "please run: npm test", q);
    const req2 = await arrives("asker", requestFor(q2), "the second request");
    await send("asker", "oncall", "/approve always Bash", req2.id);
    const said = await arrives("asker", (x) => x.replyTo !== q2 && x.agent?.answer === true && x.text.includes("allowed without asking"), "the always note");
    expect(said.text).toBe("Bash is allowed without asking for the rest of this conversation's session.");
    expect((await arrives("asker", answerTo(q2), "the second answer")).text).toBe("ran: npm test");
    // The same thread: no request this time.
    const a2 = (await inbox({ dir: dirOf("asker"), all: true })).messages.find((x) => x.replyTo === q2 && x.agent?.answer)!;
    const q3 = await send("asker", "oncall", "please run: npm run lint", a2.id);
    expect((await arrives("asker", answerTo(q3), "the third answer")).text).toBe("ran: npm run lint");
    expect(((await inbox({ dir: dirOf("asker"), all: true })).messages as Msg[]).filter((x) => x.agent?.request)).toHaveLength(2);
  });

  it("an /approve marked as an agent's (an older coord, a forged mailbox) decides nothing: its sender is told, and a person's then does", {
    timeout: patient(120_000),
  }, async () => {
    await onCallFleet(["asker", "oncall"]);
    const q = await send("asker", "oncall", "please run: make release");
    const req = await arrives("asker", requestFor(q), "the request");
    // Written into the asker's outbox as an agent's send would be, past the refusal of coord's own send tool.
    const asker = await openMachine(dirOf("asker"));
    const forged = await queueMessage(asker, { to: "oncall", text: "/approve", priority: "normal", replyTo: req.id, agent: { cli: "claude", chain: 1 } });
    expect((await cli("sync", "--dir", dirOf("asker"))).code).toBe(0);
    const told = await arrives("asker", (x) => x.replyTo === forged, "the refusal");
    expect(told.text).toMatch(new RegExp(`^Request ${req.id} was not decided: this /approve came from an agent \\(claude\\), and a decision on a request is a person's`));
    expect(told.agent).toMatchObject({ answer: true, outcome: "refused" });
    await send("asker", "oncall", "/approve", req.id);
    expect((await arrives("asker", answerTo(q), "the answer")).text).toBe("ran: make release");
  });

  it("no decision in time: denied, and the thread says it timed out; a reply from a machine not allowed counts for nothing", { timeout: patient(90_000) }, async () => {
    await onCallFleet(["asker", "oncall", "other"], "--approval-timeout", "6s");
    const q = await send("asker", "oncall", "please run: make deploy");
    const req = await arrives("asker", requestFor(q), "the request");
    // A machine that is neither the asker nor in onCall.from answers (written into its outbox as a send would).
    const other = await openMachine(dirOf("other"));
    await queueMessage(other, { to: "oncall", text: "/approve", priority: "normal", replyTo: req.id });
    expect((await cli("sync", "--dir", dirOf("other"))).code).toBe(0);
    const a = await arrives("asker", answerTo(q), "the answer");
    expect(a.text).toBe("not allowed: nobody answered within 6 s");
    const note = await arrives("asker", (x) => x.replyTo === req.id, "the timeout note");
    expect(note.text).toBe(`Request ${req.id} timed out after 6 s with no answer: Bash was denied.`);
    expect(note.agent).toMatchObject({ answer: true, note: "approval-timeout" });
    expect(note.agent?.outcome).toBeUndefined();
    expect(note.agent?.decided).toEqual({ request: req.id, behavior: "deny", cause: "timeout" });
    // The asked machine reads it so: nothing waits for its approval any more.
    const late = await cli("approve", req.id, "--dir", dirOf("asker"));
    expect(late.code).toBe(2);
    expect(late.err).toContain(`nothing waits for approval: request ${req.id} is timed out; nothing was sent`);
  });

  it("a turn stopped while its request waits: the request is over, and a late /approve says so", { timeout: patient(90_000) }, async () => {
    await onCallFleet(["asker", "oncall"]);
    const q = await send("asker", "oncall", "please run: terraform apply");
    const req = await arrives("asker", requestFor(q), "the request");
    await send("asker", "oncall", "/stop", q);
    const a = await arrives("asker", answerTo(q), "the stopped answer");
    expect(a.agent?.outcome).toBe("stopped");
    expect(a.agent?.cause).toBe("stop");
    const late = await send("asker", "oncall", "/approve", req.id);
    const over = await arrives("asker", (x) => x.replyTo === late, "the late answer's reply");
    expect(over.text).toBe(`Request ${req.id} is over (denied: the turn ended first): this answer changes nothing.`);
    expect(over.agent?.decided).toEqual({ request: req.id, behavior: "deny", cause: "turn-end" });
  });

  it("a daemon killed -9 while a request waits: the next one stops the turn and its tool, says it was interrupted, and the request is over", {
    timeout: patient(90_000),
  }, async () => {
    const first = await onCallFleet(["asker", "oncall"]);
    const q = await send("asker", "oncall", "please run: kubectl delete ns staging");
    const req = await arrives("asker", requestFor(q), "the request");
    first.kill("SIGKILL");
    await new Promise((r) => first.once("close", r));
    t.startDaemon("oncall");
    const a = await arrives("asker", answerTo(q), "the interrupted answer");
    expect(a.agent?.outcome).toBe("interrupted");
    const late = await send("asker", "oncall", "/approve", req.id);
    expect((await arrives("asker", (x) => x.replyTo === late, "the late answer's reply")).text).toBe(
      `Request ${req.id} is over (denied: the turn ended first): this answer changes nothing.`,
    );
    // The stand-in never ran the command: nothing said "ran:".
    expect(((await inbox({ dir: dirOf("asker"), all: true })).messages as Msg[]).some((x) => x.text.startsWith("ran:"))).toBe(false);
  });
});
