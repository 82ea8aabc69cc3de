// The on-call round trip on the in-memory fleet (test/memory-fleet.ts), in the quick project: a asks b, b's sync
// delivers the question and runs the turn (a scripted Claude Code in place of its process: SyncOptions.onCallRun),
// its answer goes back in the thread, and a's sync delivers it. Every machine signs its commits and verifies the
// others' (on call starts a turn only for a verified sender). What only real processes show (process groups, the
// daemon, the real CLIs, git's signatures) stays in on-call*.e2e and claude-real.e2e.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ackOn, outboxEntries, sendFrom } from "../src/actions/messages.js";
import type { OnCallSettings } from "../src/core/oncall/on-call.js";
import { writtenSettings } from "../src/core/oncall/settings.js";
import { type MachineConfig, saveConfig } from "../src/state/config.js";
import { readMailbox } from "../src/state/mailbox.js";
import { readOnCallState } from "../src/state/on-call.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";
import { scriptedClaude } from "./scripted-claude.js";

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const SETTINGS: OnCallSettings = {
  agent: "claude",
  cwd: "",
  from: [],
  permissions: "read-only",
  timeout: 600,
  maxParallel: 2,
  approvalTimeout: 600,
  allowTools: [],
};

/** A signed fleet with `onCall` on call with claude for `from` (its work in a folder of its own). */
async function fleetOnCall(names: string[], onCall: string, settings: Partial<OnCallSettings> = {}): Promise<MemoryFleet> {
  const f = await memoryFleet(names, { signed: true });
  const m = f.m(onCall);
  const work = join(f.root, "work");
  await mkdir(work, { recursive: true });
  const s: OnCallSettings = { ...SETTINGS, cwd: work, from: names.filter((n) => n !== onCall), ...settings };
  const config = { ...m.config, onCall: writtenSettings(s) } as MachineConfig;
  await saveConfig(m.stateDir, config);
  f.machines.set(onCall, { ...m, config });
  // Each pins the others' keys on first sight: one more round after every machine registered.
  for (const n of names) await f.sync(n, { run: false });
  return f;
}

/** a's inbox, as `coord inbox --all` lists it. */
const inboxOf = async (f: MemoryFleet, name: string) => (await readMailbox(f.m(name).stateDir)).inbox;

describe("on call on the in-memory fleet", () => {
  it("a asks b; b's sync runs the turn and publishes the answer in the thread, acknowledging the question; a's sync delivers it", async () => {
    fleet = await fleetOnCall(["a", "b"], "b");
    const f = fleet;
    const cli = scriptedClaude();
    const { id: q } = await sendFrom(f.m("a"), { to: "b", text: "which port does the api use?" });
    await f.sync("a");
    const b = await f.sync("b", { onCallHere: true, onCallRun: cli.run });
    expect(b.pushed).toBeDefined();
    expect(cli.calls).toHaveLength(1);
    expect(cli.calls[0]!.prompt).toContain("which port does the api use?");
    await f.sync("a");
    const [answer, ...more] = await inboxOf(f, "a");
    expect(more).toEqual([]);
    expect(answer).toMatchObject({ from: "b", text: "answer 1", replyTo: q, agent: { answer: true, cli: "claude", chain: 1 } });
    // The question is acknowledged on b's side, as its published file shows a.
    expect((await f.model()).computers.get("b")?.messages?.["a/b"]?.acked).toBe(1);
  });

  it("a machine that registered since b's last sync asks in its first message: b's answer reaches it (found in attack)", async () => {
    const f = await memoryFleet(["a", "b", "c"], { signed: true, register: false });
    fleet = f;
    const m = f.m("b");
    const work = join(f.root, "work");
    await mkdir(work, { recursive: true });
    const config = { ...m.config, onCall: writtenSettings({ ...SETTINGS, cwd: work, from: ["a", "c"] }) } as MachineConfig;
    await saveConfig(m.stateDir, config);
    f.machines.set("b", { ...m, config });
    for (const n of ["a", "b", "a", "b"]) await f.sync(n, { run: false });
    // c joins, asks b, and publishes, all before b's next sync: b sees c and its question together.
    await f.sync("c", { run: false });
    const { id: q } = await sendFrom(f.m("c"), { to: "b", text: "hello from the new machine" });
    await f.sync("c", { run: false });
    const cli = scriptedClaude();
    await f.sync("b", { onCallHere: true, onCallRun: cli.run });
    expect(cli.calls).toHaveLength(1);
    await f.sync("c", { run: false });
    expect(await inboxOf(f, "c")).toEqual([expect.objectContaining({ from: "b", replyTo: q, text: "answer 1" })]);
  });

  it("a reply to the answer resumes the thread's session; a new question starts another", async () => {
    fleet = await fleetOnCall(["a", "b"], "b");
    const f = fleet;
    const cli = scriptedClaude();
    const ask = async (text: string, replyTo?: string) => {
      const { id } = await sendFrom(f.m("a"), { to: "b", text, ...(replyTo ? { replyTo } : {}) });
      await f.sync("a");
      await f.sync("b", { onCallHere: true, onCallRun: cli.run });
      await f.sync("a");
      return { id, answer: (await inboxOf(f, "a")).at(-1)! };
    };
    const first = await ask("first");
    const second = await ask("second", first.answer.id);
    const third = await ask("unrelated");
    expect(cli.calls.map((c) => c.resume)).toEqual([undefined, "session-1", undefined]);
    expect(second.answer).toMatchObject({ replyTo: second.id, text: "answer 2" });
    expect(third.answer).toMatchObject({ replyTo: third.id, text: "answer 3" });
    const threads = (await readOnCallState(f.m("b").stateDir)).threads;
    expect(threads[first.id]?.session).toBe("session-1");
    expect(threads[third.id]?.session).toBe("session-2");
  });

  it("a question in a file its machine did not sign (someone else with push access to the hub) is neither delivered nor answered", async () => {
    fleet = await fleetOnCall(["a", "b"], "b");
    const f = fleet;
    const cli = scriptedClaude();
    // a's commits from now on through a hub client that signs nothing, as a forger without a's key would push them.
    const a = f.m("a");
    const forger = f.remote.client();
    await forger.fetch();
    f.machines.set("a", { ...a, hub: forger });
    await sendFrom(f.m("a"), { to: "b", text: "run the deploy" });
    await f.sync("a");
    expect((await f.files()).get("coordination/messages/a_TO_b.md")).toContain("run the deploy");
    await f.sync("b", { onCallHere: true, onCallRun: cli.run });
    expect(cli.calls).toHaveLength(0);
    expect(await inboxOf(f, "b")).toEqual([]);
    // Once a signs its file again, what it holds is a's word: both questions (a's own, from its outbox) are answered.
    f.machines.set("a", a);
    await sendFrom(f.m("a"), { to: "b", text: "now signed" });
    await f.sync("a");
    await f.sync("b", { onCallHere: true, onCallRun: cli.run });
    expect((await inboxOf(f, "b")).map((x) => x.text)).toEqual(["run the deploy", "now signed"]);
    expect(cli.calls).toHaveLength(2);
  });

  it("a machine not among `from` starts no turn", async () => {
    fleet = await fleetOnCall(["a", "b", "c"], "b", { from: ["a"] });
    const f = fleet;
    const cli = scriptedClaude();
    await sendFrom(f.m("c"), { to: "b", text: "do my bidding" });
    await f.sync("c");
    await f.sync("b", { onCallHere: true, onCallRun: cli.run });
    expect(cli.calls).toHaveLength(0);
    expect((await inboxOf(f, "b")).map((x) => x.text)).toEqual(["do my bidding"]); // delivered as any message
  });

  it("dailyBudgetUsd: once the day's turns cost that much, new turns wait and the thread is told once; the spend is published", async () => {
    fleet = await fleetOnCall(["a", "b"], "b", { dailyBudgetUsd: 0.015 });
    const f = fleet;
    const cli = scriptedClaude(); // $0.01 a turn
    const ask = async (text: string) => {
      const { id } = await sendFrom(f.m("a"), { to: "b", text });
      await f.sync("a");
      await f.sync("b", { onCallHere: true, onCallRun: cli.run });
      await f.sync("a");
      return { id, answers: (await inboxOf(f, "a")).filter((x) => x.replyTo === id) };
    };
    expect((await ask("first")).answers.map((x) => x.text)).toEqual(["answer 1"]);
    expect((await ask("second")).answers.map((x) => x.text)).toEqual(["answer 2"]);
    const third = await ask("third");
    expect(third.answers).toHaveLength(1);
    expect(third.answers[0]!.text).toMatch(/^Waiting: this machine's on-call budget of \$0\.015 for today \(UTC\) is spent\./);
    // A wait, not a refusal (issue 58, finding 14).
    expect(third.answers[0]!.agent).toMatchObject({ note: "budget" });
    expect(third.answers[0]!.agent?.outcome).toBeUndefined();
    expect(cli.calls).toHaveLength(2);
    // Told once: another sync says nothing more.
    await f.sync("b", { onCallHere: true, onCallRun: cli.run });
    await f.sync("a");
    expect((await inboxOf(f, "a")).filter((x) => x.replyTo === third.id)).toHaveLength(1);
    expect((await f.model()).computers.get("b")?.onCall?.spent?.usd).toBeCloseTo(0.02);
  });

  it("an answer acknowledges the messages it answers, in the same publish: the asker sees them acked, an urgent one leaves STATUS.md", async () => {
    fleet = await fleetOnCall(["a", "b"], "b");
    const f = fleet;
    const cli = scriptedClaude();
    const { id: q } = await sendFrom(f.m("a"), { to: "b", text: "is the build green?", priority: "urgent" });
    await f.sync("a");
    expect((await f.files()).get("STATUS.md")).toContain(q);
    await f.sync("b", { onCallHere: true, onCallRun: cli.run });
    await f.sync("a");
    const model = await f.model();
    expect(outboxEntries("a", model, await readMailbox(f.m("a").stateDir)).find((x) => x.id === q)?.recipients).toEqual({ b: "acked" });
    expect((await f.files()).get("STATUS.md")).not.toContain(q);
  });

  it("a message past 8 agent turns in a row starts nothing and is answered so, acknowledged; an answer never starts a turn", async () => {
    fleet = await fleetOnCall(["a", "b"], "b");
    const f = fleet;
    // a on call too: an answer landing there must start nothing.
    const a = f.m("a");
    const onA = { ...a.config, onCall: writtenSettings({ ...SETTINGS, cwd: join(f.root, "work"), from: ["b"] }) } as MachineConfig;
    await saveConfig(a.stateDir, onA);
    f.machines.set("a", { ...a, config: onA });
    const cli = scriptedClaude();
    // As an agent's coord send inside its 8th turn would send it.
    const { id: q } = await sendFrom(f.m("a"), { to: "b", text: "ask the other agent again", env: { COORD_ON_CALL_CHAIN: "8" } });
    await f.sync("a", { onCallHere: true, onCallRun: cli.run });
    await f.sync("b", { onCallHere: true, onCallRun: cli.run });
    await f.sync("a", { onCallHere: true, onCallRun: cli.run });
    const [refused] = (await inboxOf(f, "a")).filter((x) => x.replyTo === q);
    expect(refused?.text).toMatch(/^Not answered: 8 agent turns in a row without a person's message/);
    expect(refused?.agent).toMatchObject({ outcome: "refused" });
    expect(outboxEntries("a", await f.model(), await readMailbox(f.m("a").stateDir)).find((x) => x.id === q)?.recipients).toEqual({ b: "acked" });
    // A person's message is answered; the answer lands on a, on call too, and starts nothing there.
    const { id: p } = await sendFrom(f.m("a"), { to: "b", text: "status please" });
    await f.sync("a", { onCallHere: true, onCallRun: cli.run });
    await f.sync("b", { onCallHere: true, onCallRun: cli.run });
    await f.sync("a", { onCallHere: true, onCallRun: cli.run });
    expect((await inboxOf(f, "a")).filter((x) => x.replyTo === p).map((x) => x.text)).toEqual(["answer 1"]);
    expect(cli.calls.map((c) => c.prompt.includes("status please"))).toEqual([true]);
  });

  it("a reply to an answer older than messageRetention (archived from the outbox) continues the conversation's session", async () => {
    fleet = await fleetOnCall(["a", "b"], "b");
    const f = fleet;
    const b = f.m("b");
    const config = { ...b.config, messageRetention: 1 } as MachineConfig; // the default 1d, shortened
    await saveConfig(b.stateDir, config);
    f.machines.set("b", { ...b, config });
    const cli = scriptedClaude();
    const { id: q1 } = await sendFrom(f.m("a"), { to: "b", text: "first question" });
    await f.sync("a");
    await f.sync("b", { onCallHere: true, onCallRun: cli.run });
    await f.sync("a");
    const [a1] = await inboxOf(f, "a");
    expect(a1).toMatchObject({ replyTo: q1, text: "answer 1" });
    // a reads the answer; a day later (here a second) it leaves b's outbox.
    await ackOn(f.m("a"), [a1!.id], false);
    await f.sync("a");
    const later = () => new Date(Date.now() + 5_000);
    await f.sync("b", { now: later, onCallHere: true, onCallRun: cli.run });
    expect((await readMailbox(f.m("b").stateDir)).outbox.a?.messages.map((x) => `b/a/${x.seq}`)).not.toContain(a1!.id);
    // a goes on in the conversation: the turn resumes the first one's session.
    const { id: q2 } = await sendFrom(f.m("a"), { to: "b", text: "second question", replyTo: a1!.id });
    await f.sync("a");
    await f.sync("b", { now: later, onCallHere: true, onCallRun: cli.run });
    await f.sync("a");
    expect(cli.calls.map((c) => c.resume)).toEqual([undefined, "session-1"]);
    expect((await inboxOf(f, "a")).filter((x) => x.replyTo === q2).map((x) => x.text)).toEqual(["answer 2"]);
  });

  it("every asker of a turn gets its answer: two machines' messages in one thread", async () => {
    fleet = await fleetOnCall(["asker", "oncall", "other"], "oncall");
    const f = fleet;
    const cli = scriptedClaude();
    const { id: q } = await sendFrom(f.m("asker"), { to: "ALL", text: "who can build the DAO contracts?" });
    await f.sync("asker");
    await f.sync("other", { run: false });
    const { id: r } = await sendFrom(f.m("other"), { to: "oncall", text: "and what compiler version?", replyTo: q });
    await f.sync("other");
    await f.sync("oncall", { onCallHere: true, onCallRun: cli.run });
    // Each asker gets its answer, in reply to its own message. A thread is one asker's (docs/security.md): other's
    // reply into asker's conversation starts a session of its own, which never sees asker's.
    expect(cli.calls.map((c) => c.resume)).toEqual([undefined, undefined]);
    for (const name of ["asker", "other"]) await f.sync(name, { run: false });
    expect((await inboxOf(f, "asker")).filter((x) => x.from === "oncall").map((x) => [x.replyTo, x.text])).toEqual([[q, "answer 1"]]);
    expect((await inboxOf(f, "other")).filter((x) => x.from === "oncall").map((x) => [x.replyTo, x.text])).toEqual([[r, "answer 2"]]);
  });
});
