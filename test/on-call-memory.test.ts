// The on-call round trip on the in-memory fleet (test/memory-fleet.ts), in the quick project: a asks b, b's sync
// delivers the question and runs the turn (a scripted Claude Code in place of its process: SyncOptions.onCallRun),
// its answer goes back in the thread, and a's sync delivers it. Every machine signs its commits and verifies the
// others' (on call starts a turn only for a verified sender). What only real processes show (process groups, the
// daemon, the real CLIs, git's signatures) stays in on-call*.e2e and claude-real.e2e.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sendFrom } from "../src/actions/messages.js";
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

/** A signed fleet with `onCall` on call with claude for `from` (its work in a folder of its own). */
async function fleetOnCall(names: string[], onCall: string, settings: Partial<OnCallSettings> = {}): Promise<MemoryFleet> {
  const f = await memoryFleet(names, { signed: true });
  const m = f.m(onCall);
  const work = join(f.root, "work");
  await mkdir(work, { recursive: true });
  const s: OnCallSettings = {
    agent: "claude",
    cwd: work,
    from: names.filter((n) => n !== onCall),
    permissions: "read-only",
    timeout: 600,
    maxParallel: 2,
    approvalTimeout: 600,
    allowTools: [],
    ...settings,
  };
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
});
