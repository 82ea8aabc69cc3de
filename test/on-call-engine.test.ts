// The on-call engine (src/sync/on-call.ts) in the quick project: a machine's
// local state in a temp dir, messages put in its mailbox as a sync delivers
// them, and a scripted Claude Code in place of the process (EngineOptions.run):
// every rule of the turn's life without git or processes. What only real
// processes show (process groups, crashes, the daemon, the real CLIs) stays in
// on-call*.e2e, approvals*.e2e and claude-real.e2e.
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { OnCallSettings } from "../src/core/oncall/on-call.js";
import { writtenSettings } from "../src/core/oncall/settings.js";
import { MemoryRemote } from "../src/git/memory-hub.js";
import { type MachineConfig, newConfig, saveConfig } from "../src/state/config.js";
import { readMailbox, updateMailbox } from "../src/state/mailbox.js";
import { onCallStatePath, readOnCallState, updateOnCallState } from "../src/state/on-call.js";
import { setSecret } from "../src/state/secrets.js";
import { savePins } from "../src/state/trust.js";
import type { Machine } from "../src/sync/machine.js";
import { type EngineOptions, onCallEngine, publishedOnCall } from "../src/sync/on-call.js";
import type { RunProcess } from "../src/sync/on-call-turn.js";
import { scriptedClaude } from "./scripted-claude.js";

const roots: string[] = [];
afterEach(async () => {
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true, maxRetries: 5 });
});

interface Setup {
  m: Machine;
  work: string;
  /** Puts a message from `from` in the machine's mailbox as a sync delivers it; its id. */
  deliver(from: string, text: string, replyTo?: string, agent?: { chain: number }): Promise<string>;
  /** The machine's answers to `to`, oldest first. */
  answers(to?: string): Promise<{ id: string; text: string; replyTo?: string; agent?: Record<string, unknown> }[]>;
  engine(o?: Partial<EngineOptions>): ReturnType<typeof onCallEngine>;
  log: string[];
}

async function onCallMachine(settings: Partial<OnCallSettings> = {}): Promise<Setup> {
  const root = await mkdtemp(join(tmpdir(), "coord-engine-"));
  roots.push(root);
  const dir = join(root, "oncall");
  const stateDir = join(dir, ".git", "coord");
  const work = join(root, "work");
  await mkdir(stateDir, { recursive: true });
  await mkdir(work, { recursive: true });
  const s: OnCallSettings = {
    agent: "claude",
    cwd: work,
    from: ["asker", "other"],
    permissions: "read-only",
    timeout: 600,
    maxParallel: 2,
    approvalTimeout: 600,
    allowTools: [],
    ...settings,
  };
  const config = { ...newConfig({ name: "oncall", uuid: randomUUID() }), onCall: writtenSettings(s) } as MachineConfig;
  await saveConfig(stateDir, config);
  // Their signatures verify (state/trust.ts pins): only then does a message start a turn.
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGs1v2bdV6k0yqUZGfVrQKc2b1i3ZVn2Uq7vZbYc5x9T";
  await savePins(stateDir, new Map(["asker", "other", "stranger"].map((n) => [n, key])));
  const m: Machine = { dir, stateDir, config, hub: new MemoryRemote(() => new Date()).client() };
  // A machine that synced: its mailbox has had a delivery (a send into one that had none stores nothing).
  await updateMailbox(stateDir, (data) => {
    data.joined = true;
  });
  const seqs = new Map<string, number>();
  const log: string[] = [];
  return {
    m,
    work,
    log,
    async deliver(from, text, replyTo, agent) {
      const seq = (seqs.get(from) ?? 0) + 1;
      seqs.set(from, seq);
      const id = `${from}/oncall/${seq}`;
      await updateMailbox(stateDir, (data) => {
        data.inbox.push({ id, from, to: "oncall", seq, at: new Date().toISOString(), priority: "normal", text, ...(replyTo ? { replyTo } : {}), ...(agent ? { agent } : {}) });
        data.turnPending = [...(data.turnPending ?? []), id];
      });
      return id;
    },
    async answers(to = "asker") {
      const ch = (await readMailbox(stateDir)).outbox[to];
      return (ch?.messages ?? []).map((x) => ({ id: `oncall/${to}/${x.seq}`, text: x.text, ...(x.replyTo ? { replyTo: x.replyTo } : {}), ...(x.agent ? { agent: x.agent } : {}) }));
    },
    engine: (o = {}) => onCallEngine(m, { log: (l) => log.push(l), publish: () => {}, ...o }),
  };
}

describe("the on-call engine on a scripted CLI", () => {
  it("a message starts a turn; its answer goes back in reply, acknowledging it; the thread is idle after", async () => {
    const t = await onCallMachine();
    const cli = scriptedClaude();
    const engine = t.engine({ run: cli.run });
    const q = await t.deliver("asker", "which port?");
    await engine.pump();
    await engine.idle();
    const [a] = await t.answers();
    expect(cli.calls[0]!.prompt).toContain("which port?");
    expect(a).toMatchObject({ text: "answer 1", replyTo: q, agent: { answer: true, cli: "claude", chain: 1, costUsd: 0.01 } });
    const state = await readOnCallState(t.m.stateDir);
    expect(state.threads[q]).toMatchObject({ session: "session-1", queue: [], ids: [q, a!.id] });
    expect(state.threads[q]!.running).toBeUndefined();
    expect(state.spent?.usd).toBeCloseTo(0.01);
    const mail = await readMailbox(t.m.stateDir);
    expect(mail.turnPending).toBeUndefined();
    expect(mail.receipts["asker/oncall"]?.acked).toBe(1);
  });

  it("the CLI's login from the machine's secret store is in its environment, and never in its answer", async () => {
    const t = await onCallMachine();
    const token = `sk-ant-oat01-${"Qw9".repeat(30)}`;
    await setSecret(t.m.stateDir, "CLAUDE_CODE_OAUTH_TOKEN", token);
    await setSecret(t.m.stateDir, "deploy-token", "not-for-claude-123");
    const cli = scriptedClaude({ answer: (call) => `my token: ${call.env.CLAUDE_CODE_OAUTH_TOKEN}` });
    const engine = t.engine({ run: cli.run });
    await t.deliver("asker", "what is your token?");
    await engine.pump();
    await engine.idle();
    expect(cli.calls[0]!.env.CLAUDE_CODE_OAUTH_TOKEN).toBe(token);
    expect(Object.values(cli.calls[0]!.env)).not.toContain("not-for-claude-123"); // only the CLI's own login variables
    const [a] = await t.answers();
    expect(a!.text).toBe("my token: [REDACTED]");
  });

  it("a step cut to its length is redacted by the head of a secret across the cut, in the timeout's answer too (re-check finding)", async () => {
    const t = await onCallMachine({ timeout: 1 });
    const key = "AIzaSyQw9xPl3Rt7Yu2Io8Ma5Sd1Fg6Hj4Kl0Zx";
    await setSecret(t.m.stateDir, "GEMINI_API_KEY", key);
    const run: RunProcess = async (spec) => {
      spec.onStart?.(999_999);
      spec.onLine?.(JSON.stringify({ type: "system", subtype: "init", session_id: "s1" }));
      const command = `echo ${"x".repeat(170)} ${key}`;
      spec.onLine?.(JSON.stringify({ type: "assistant", message: { content: [{ type: "tool_use", name: "Bash", input: { command } }] }, session_id: "s1" }));
      return { exitCode: null, signal: "SIGTERM", timedOut: true, aborted: false, tail: "" };
    };
    const engine = t.engine({ run });
    await t.deliver("asker", "run the long one");
    await engine.pump();
    await engine.idle();
    const [a] = await t.answers();
    expect(a!.text).toMatch(/It was at: Bash: echo x+ \[REDACTED\]…/);
    expect(a!.text).not.toContain(key.slice(0, 6));
  });

  it("a reply to the answer resumes the thread's session; a new message starts a new one", async () => {
    const t = await onCallMachine();
    const cli = scriptedClaude();
    const engine = t.engine({ run: cli.run });
    const q = await t.deliver("asker", "first");
    await engine.pump();
    await engine.idle();
    const [a] = await t.answers();
    await t.deliver("asker", "second", a!.id);
    await t.deliver("asker", "unrelated");
    await engine.pump();
    await engine.idle();
    expect(cli.calls.map((c) => c.resume)).toEqual([undefined, "session-1", undefined]);
    const state = await readOnCallState(t.m.stateDir);
    expect(Object.keys(state.threads).sort()).toEqual([q, "asker/oncall/3"].sort());
  });

  it("a thread is its asker's: another machine's reply into it begins its own, with its own session and CLI state", async () => {
    const t = await onCallMachine();
    const cli = scriptedClaude();
    const engine = t.engine({ run: cli.run });
    // The asker's message to ALL (every machine sees it), answered privately to the asker.
    const broadcast = "asker/ALL/1";
    await updateMailbox(t.m.stateDir, (data) => {
      data.inbox.push({ id: broadcast, from: "asker", to: "ALL", seq: 1, at: new Date().toISOString(), priority: "normal", text: "the plan" });
      data.turnPending = [...(data.turnPending ?? []), broadcast];
    });
    await engine.pump();
    await engine.idle();
    // Another machine replies to it (it saw it): the asker's conversation is not its own.
    const theirs = await t.deliver("other", "what did they say?", broadcast);
    await engine.pump();
    await engine.idle();
    expect(cli.calls.map((c) => c.resume)).toEqual([undefined, undefined]);
    expect(cli.calls.map((c) => [c.env.COORD_ON_CALL_THREAD, c.env.COORD_ON_CALL_ASKER])).toEqual([
      [broadcast, "asker"],
      [theirs, "other"],
    ]);
    const state = await readOnCallState(t.m.stateDir);
    expect(state.threads[broadcast]).toMatchObject({ askers: ["asker"], session: "session-1" });
    expect(state.threads[theirs]).toMatchObject({ askers: ["other"], session: "session-2" });
    // The asker's own reply goes on in its session.
    const [a] = await t.answers("asker");
    await t.deliver("asker", "go on", a!.id);
    await engine.pump();
    await engine.idle();
    expect(cli.calls.at(-1)).toMatchObject({ resume: "session-1", env: { COORD_ON_CALL_ASKER: "asker" } });
  });

  it("a reply naming an asker's message ahead of it (an id not delivered yet) takes no thread of the asker's", async () => {
    const t = await onCallMachine();
    const cli = scriptedClaude();
    const engine = t.engine({ run: cli.run });
    // "other" replies to asker/oncall/1 before asker sent it: the id its next message will have.
    const squat = await t.deliver("other", "remember what the next one says", "asker/oncall/1");
    await engine.pump();
    await engine.idle();
    const secret = await t.deliver("asker", "my private plan is XYZZY");
    expect(secret).toBe("asker/oncall/1");
    await engine.pump();
    await engine.idle();
    const [theirs] = await t.answers("other");
    await t.deliver("other", "what did it say?", theirs!.id);
    await engine.pump();
    await engine.idle();
    // Three turns: other's, asker's in a session of its own, other's again in its own session.
    expect(cli.calls.map((c) => [c.env.COORD_ON_CALL_THREAD, c.env.COORD_ON_CALL_ASKER, c.resume])).toEqual([
      [squat, "other", undefined],
      [secret, "asker", undefined],
      [squat, "other", "session-1"],
    ]);
    expect(cli.calls[2]!.prompt).not.toContain("XYZZY");
    const state = await readOnCallState(t.m.stateDir);
    expect(state.threads[secret]).toMatchObject({ askers: ["asker"], session: "session-2" });
    // In the same delivery, in either order: still apart.
    const u = await onCallMachine();
    const cli2 = scriptedClaude();
    const engine2 = u.engine({ run: cli2.run });
    await u.deliver("other", "ahead", "asker/oncall/1");
    await u.deliver("asker", "private");
    await engine2.pump();
    await engine2.idle();
    expect(cli2.calls.map((c) => c.env.COORD_ON_CALL_ASKER).sort()).toEqual(["asker", "other"]);
    expect(cli2.calls.find((c) => c.env.COORD_ON_CALL_ASKER === "other")!.prompt).not.toContain("private");
  });

  it("messages that come while a turn runs are answered together by the next turn", async () => {
    const t = await onCallMachine();
    let holding = true;
    const cli = scriptedClaude({ hold: () => holding });
    const engine = t.engine({ run: cli.run });
    const q = await t.deliver("asker", "long one");
    await engine.pump();
    await until(async () => (await readOnCallState(t.m.stateDir)).threads[q]?.running?.pid !== undefined);
    const [, a2] = [await t.deliver("asker", "more", q), await t.deliver("asker", "and more", q)];
    await engine.pump();
    expect((await readOnCallState(t.m.stateDir)).threads[q]!.queue.map((x) => x.text)).toEqual(["more", "and more"]);
    holding = false;
    await t.deliver("asker", "/stop", q);
    await engine.pump();
    await engine.idle();
    // The /stop dropped the waiting messages and stopped the turn: one answer, "stopped".
    const answers = await t.answers();
    expect(answers.map((x) => [x.agent?.outcome, x.agent?.cause])).toEqual([["stopped", "stop"]]);
    expect(answers[0]!.text).toMatch(/\/stop from asker; 2 waiting messages dropped/);
    expect(cli.calls).toHaveLength(1);
    expect(a2).toBe("asker/oncall/3");
  });

  it("maxParallel holds: a third thread waits for a turn to end", async () => {
    const t = await onCallMachine({ maxParallel: 2 });
    const release: (() => void)[] = [];
    const cli = scriptedClaude({ hold: () => true });
    const run: RunProcess = (spec) => {
      const ctl = new AbortController();
      release.push(() => ctl.abort("released"));
      spec.signal?.addEventListener("abort", () => ctl.abort(spec.signal?.reason), { once: true });
      return cli.run({ ...spec, signal: ctl.signal });
    };
    const engine = t.engine({ run });
    for (const text of ["one", "two", "three"]) await t.deliver(text === "three" ? "other" : "asker", text);
    await engine.pump();
    await until(async () => cli.calls.length === 2);
    expect(Object.values((await readOnCallState(t.m.stateDir)).threads).filter((x) => x.running)).toHaveLength(2);
    release[0]!();
    await until(async () => cli.calls.length === 3);
    for (const r of release) r();
    await engine.close("the test ends");
  });

  it("who it is not on call for starts nothing and is not answered; a ninth agent turn in a row is refused; /approve with nothing waiting starts nothing", async () => {
    const t = await onCallMachine({ from: ["asker", "other"] });
    const cli = scriptedClaude();
    const engine = t.engine({ run: cli.run });
    await t.deliver("stranger", "do it");
    await t.deliver("other", "and again", undefined, { chain: 8 });
    await t.deliver("asker", "/approve");
    await engine.pump();
    await engine.idle();
    expect(cli.calls).toHaveLength(0);
    expect(await t.answers("stranger")).toEqual([]);
    const [refused] = await t.answers("other");
    expect(refused).toMatchObject({ agent: { outcome: "refused" } });
    expect(refused!.text).toMatch(/^Not answered: 8 agent turns in a row/);
    const [nothing] = await t.answers("asker");
    expect(nothing!.text).toMatch(/^Nothing waits for approval here/);
    expect((await readOnCallState(t.m.stateDir)).taken).toHaveLength(3);
  });

  it("the daily budget spent while the mailbox waits for its rebuild: the note waits too, a sync is asked for, and it is said once rebuilt (found in attack)", async () => {
    const t = await onCallMachine({ dailyBudgetUsd: 0.01 });
    const cli = scriptedClaude({ cost: 0.01 });
    const asked: string[] = [];
    const engine = t.engine({ run: cli.run, publish: (why) => void asked.push(why) });
    await t.deliver("asker", "first");
    await engine.pump();
    await engine.idle();
    await t.deliver("asker", "second");
    // The mailbox lost (its delivery marks gone) after the message came: nothing can be stored until a sync.
    await updateMailbox(t.m.stateDir, (data) => {
      data.joined = false;
    });
    asked.length = 0;
    await engine.pump();
    await engine.idle();
    expect(asked).toContain("answer");
    expect((await readOnCallState(t.m.stateDir)).budgetTold).toBeUndefined();
    // The sync rebuilt it: the note is said, once.
    await updateMailbox(t.m.stateDir, (data) => {
      data.joined = true;
    });
    await engine.pump();
    await engine.pump();
    await engine.idle();
    expect((await t.answers()).filter((x) => x.agent?.note === "budget")).toHaveLength(1);
    expect(cli.calls).toHaveLength(1);
  });

  it("the daily budget spent: the message waits, its asker is told once, and it runs when the budget is raised", async () => {
    const t = await onCallMachine({ dailyBudgetUsd: 0.01 });
    const cli = scriptedClaude({ cost: 0.01 });
    const engine = t.engine({ run: cli.run });
    await t.deliver("asker", "first");
    await engine.pump();
    await engine.idle();
    await t.deliver("asker", "second");
    await engine.pump();
    await engine.pump();
    await engine.idle();
    expect(cli.calls).toHaveLength(1);
    expect((await t.answers()).filter((x) => x.agent?.note === "budget")).toHaveLength(1);
    await saveConfig(t.m.stateDir, { ...t.m.config, onCall: { ...(t.m.config.onCall as object), dailyBudgetUsd: 1 } } as MachineConfig);
    await engine.pump();
    await engine.idle();
    expect(cli.calls).toHaveLength(2);
  });

  it("a turn whose coord process is gone is told interrupted, its session kept; an ended one's answers are stored once", async () => {
    const t = await onCallMachine();
    const setting = { agent: "claude" as const, cwd: t.work, permissions: "read-only" as const };
    const at = new Date().toISOString();
    const ask = (id: string) => ({ id, from: "asker", text: "q", at, chain: 0 });
    // Two turns of a dead coord process (pid 2^22+1 is past Linux's pid_max): one running, one ended with its answers.
    await updateOnCallState(t.m.stateDir, (life) => {
      for (const id of ["asker/oncall/1", "asker/oncall/2"]) {
        life.apply({ kind: "join", thread: id, id, from: "asker", at, setting });
        life.apply({ kind: "queue", thread: id, ask: ask(id) });
        life.apply({ kind: "start", thread: id, turn: at, runner: 4_194_305, engine: "gone", setting, maxParallel: 2 });
      }
      life.apply({ kind: "session", thread: "asker/oncall/1", turn: at, session: "kept" });
      life.apply({
        kind: "end",
        thread: "asker/oncall/2",
        turn: at,
        answers: [{ to: "asker", replyTo: "asker/oncall/2", text: "done before the crash", mark: { answer: true } }],
        at,
      });
    });
    const engine = t.engine({ run: scriptedClaude().run });
    await engine.recover();
    await engine.recover();
    const answers = await t.answers();
    expect(answers.map((x) => [x.replyTo, x.agent?.outcome ?? "answered"])).toEqual([
      ["asker/oncall/1", "interrupted"],
      ["asker/oncall/2", "answered"],
    ]);
    const state = await readOnCallState(t.m.stateDir);
    expect(state.threads["asker/oncall/1"]).toMatchObject({ session: "kept" });
    expect(Object.values(state.threads).filter((x) => x.running)).toHaveLength(0);
  });

  it("a turn stopped as silent is answered so, though the daemon's stop came during its grace (as before the split)", async () => {
    const t = await onCallMachine();
    const cli = scriptedClaude({ hold: () => true });
    // The runner saw both: the idle timeout stopped it, then the engine's close aborted it while it was ending.
    const run: RunProcess = async (spec) => ({ ...(await cli.run(spec)), idle: true });
    const engine = t.engine({ run });
    const q = await t.deliver("asker", "long one");
    await engine.pump();
    await until(async () => (await readOnCallState(t.m.stateDir)).threads[q]?.running?.pid !== undefined);
    await engine.close("the daemon stops");
    const [a] = await t.answers();
    expect(a!.text).toMatch(/^Stopped \(it wrote nothing for/);
    expect(a!.agent).toMatchObject({ outcome: "stopped", cause: "idle" });
  });

  it("an approval request of a turn is denied when the turn ends, and a late /approve is told it is over", async () => {
    const t = await onCallMachine();
    let turn: string | undefined;
    const cli = scriptedClaude();
    const run: RunProcess = async (spec) => {
      const state = await readOnCallState(t.m.stateDir);
      turn = Object.values(state.threads)[0]!.running!.startedAt;
      await updateOnCallState(t.m.stateDir, (life) =>
        life.apply({
          kind: "request",
          id: "oncall/asker/1",
          request: { thread: "asker/oncall/1", turn: turn!, tool: "Bash", what: "Bash: ls", asker: "asker", at: turn!, until: turn! },
        }),
      );
      return cli.run(spec);
    };
    const engine = t.engine({ run });
    await t.deliver("asker", "list files");
    await engine.pump();
    await engine.idle();
    expect((await readOnCallState(t.m.stateDir)).requests?.["oncall/asker/1"]?.decision).toMatchObject({ behavior: "deny", by: "the turn ended" });
    await t.deliver("asker", "/approve", "oncall/asker/1");
    await engine.pump();
    await engine.idle();
    const late = (await t.answers()).at(-1)!;
    expect(late.text).toMatch(/^Request oncall\/asker\/1 is over \(denied: the turn ended first\)/);
    expect(late.agent).toMatchObject({ outcome: "refused", decided: { request: "oncall/asker/1", behavior: "deny", cause: "turn-end" } });
    expect(cli.calls).toHaveLength(1);
  });
});

describe("turns shared among askers (issue 65)", () => {
  it("a flood of one asker does not starve another: round robin, the asker served least recently first (finding 6)", async () => {
    const t = await onCallMachine({ maxParallel: 2 });
    const release: (() => void)[] = [];
    const cli = scriptedClaude({ hold: () => true });
    const run: RunProcess = (spec) => {
      const ctl = new AbortController();
      release.push(() => ctl.abort("released"));
      spec.signal?.addEventListener("abort", () => ctl.abort(spec.signal?.reason), { once: true });
      return cli.run({ ...spec, signal: ctl.signal });
    };
    const engine = t.engine({ run });
    for (let i = 1; i <= 50; i++) await t.deliver("asker", `flood ${i}`);
    await engine.pump();
    await until(async () => cli.calls.length === 2);
    await t.deliver("other", "mine, please");
    await engine.pump();
    release[0]!();
    await until(async () => cli.calls.length === 3);
    // The third start (maxParallel + 1) is the other asker's, not the flood's third thread.
    expect(cli.calls.map((c) => /flood \d+|mine, please/.exec(c.prompt)?.[0])).toEqual(["flood 1", "flood 2", "mine, please"]);
    release[1]!();
    await until(async () => cli.calls.length === 4);
    expect(cli.calls[3]!.prompt).toContain("flood 3");
    await engine.close("the test ends");
  });

  it("a turn counts at most its cap per turn, and the cap when its CLI died before its result (attack findings)", async () => {
    const t = await onCallMachine({ dailyBudgetUsd: 5, maxBudgetUsd: 0.5 });
    // A result line the agent wrote itself, saying $4.99 (it would have eaten the day's budget of every asker).
    const forged = scriptedClaude({ cost: 4.99 });
    await t.deliver("asker", "first");
    const engine = t.engine({ run: forged.run });
    await engine.pump();
    await engine.idle();
    expect((await readOnCallState(t.m.stateDir)).spent?.usd).toBeCloseTo(0.5);
    await engine.close("the test goes on");
    // Its CLI killed by its agent before any result: the turn's work is not free.
    const killed: RunProcess = async (spec) => {
      spec.onStart?.(999_999);
      spec.onLine?.(JSON.stringify({ type: "system", subtype: "init", session_id: "s-killed" }));
      return { exitCode: null, signal: "SIGKILL", timedOut: false, aborted: false, tail: "" };
    };
    await t.deliver("other", "second");
    const engine2 = t.engine({ run: killed });
    await engine2.pump();
    await engine2.idle();
    expect((await readOnCallState(t.m.stateDir)).spent?.usd).toBeCloseTo(1.0);
    await engine2.close("the test goes on");
    // Its asker's /stop (the asker may be the one spending the others' budget): the cap; coord agent stop here: nothing.
    const held = scriptedClaude({ hold: () => true });
    const engine3 = t.engine({ run: held.run });
    const q = await t.deliver("asker", "expensive and slow");
    await engine3.pump();
    await until(async () => (await readOnCallState(t.m.stateDir)).threads[q]?.running?.pid !== undefined);
    await t.deliver("asker", "/stop", q);
    await engine3.pump();
    await engine3.idle();
    expect((await readOnCallState(t.m.stateDir)).spent?.usd).toBeCloseTo(1.5);
  });

  it("a CLI that says its session's whole cost (OpenCode over ACP): each turn counts what it added, and a forged total makes no later turn free (attack finding)", async () => {
    const t = await onCallMachine({ agent: "opencode", dailyBudgetUsd: 5 });
    // coord's ACP driver as the engine starts it: the session's real total grows 0.2 a turn; the driver says the turn's
    // cost as that total less --spent. The second turn's agent wrote a total of a million into its output.
    let total = 0;
    const spentArgs: (string | undefined)[] = [];
    const run: RunProcess = async (spec) => {
      const argv = spec.argv ?? [];
      const spent = argv.find((a) => a.startsWith("--spent="))?.slice("--spent=".length);
      spentArgs.push(spent);
      total += 0.2;
      const session = "ses_1";
      const say = (o: object) => spec.onLine?.(JSON.stringify(o));
      spec.onStart?.(999_999);
      say({ type: "session", sessionID: session });
      say({ type: "text", sessionID: session, part: { text: `answer ${spentArgs.length}` } });
      const cost = total - Number(spent ?? 0);
      if (spentArgs.length === 2) say({ type: "step_finish", sessionID: session, part: { cost, sessionCost: 1_000_000 } });
      else say({ type: "step_finish", sessionID: session, part: { cost, sessionCost: total } });
      return { exitCode: 0, signal: null, timedOut: false, aborted: false, tail: "" };
    };
    const engine = t.engine({ run });
    await t.deliver("asker", "first");
    for (let i = 0; i < 3; i++) {
      await engine.pump();
      await engine.idle();
      const answers = await t.answers("asker");
      if (i < 2) await t.deliver("asker", `turn ${i + 2}`, answers.at(-1)!.id);
    }
    expect(spentArgs.map((x) => (x === undefined ? undefined : Number(x)))).toEqual([undefined, expect.closeTo(0.2, 10), expect.closeTo(0.4, 10)]);
    const state = await readOnCallState(t.m.stateDir);
    expect(state.spent?.usd).toBeCloseTo(0.6, 10);
    expect(Object.values(state.threads)[0]?.sessionUsd).toBeCloseTo(0.6, 10);
    expect((await t.answers("asker")).map((a) => a.agent?.costUsd)).toEqual([expect.closeTo(0.2, 10), expect.closeTo(0.2, 10), expect.closeTo(0.2, 10)]);
    await engine.close("the test ends");
  });

  it("the daily budget spent: one note to each asker, not one a message (finding 14)", async () => {
    const t = await onCallMachine({ dailyBudgetUsd: 0.01 });
    const cli = scriptedClaude({ cost: 0.01 });
    const engine = t.engine({ run: cli.run });
    await t.deliver("asker", "first");
    await engine.pump();
    await engine.idle();
    for (let i = 0; i < 6; i++) await t.deliver("asker", `held ${i}`);
    for (let i = 0; i < 3; i++) await t.deliver("other", `held too ${i}`);
    await engine.pump();
    await t.deliver("asker", "held later");
    await engine.pump();
    await engine.idle();
    expect(cli.calls).toHaveLength(1);
    const notes = async (to: string) => (await t.answers(to)).filter((x) => x.agent?.note === "budget");
    expect((await notes("asker")).map((x) => x.replyTo)).toEqual(["asker/oncall/2"]);
    expect((await notes("other")).map((x) => x.replyTo)).toEqual(["other/oncall/1"]);
    expect((await notes("asker"))[0]!.text).toMatch(/this is the only note today/);
    // Every held message waits: answered when the budget is raised.
    await saveConfig(t.m.stateDir, { ...t.m.config, onCall: { ...(t.m.config.onCall as object), dailyBudgetUsd: 1 } } as MachineConfig);
    await engine.pump();
    await engine.idle();
    expect(cli.calls).toHaveLength(11);
  });
});

describe("a turn shown as it runs (issue 65, finding 9)", () => {
  it("its start is published at once, before any step: the machine's file shows it running", async () => {
    const t = await onCallMachine();
    const published: string[] = [];
    const run: RunProcess = async (spec) => {
      spec.onStart?.(999_999);
      // Thinking: no line yet, no step.
      await new Promise((r) => spec.signal?.addEventListener("abort", r, { once: true }));
      return { exitCode: null, signal: "SIGTERM", timedOut: false, aborted: true, tail: "" };
    };
    const engine = t.engine({ run, publish: (why) => published.push(why) });
    const q = await t.deliver("asker", "think hard");
    await engine.pump();
    await until(async () => (await readOnCallState(t.m.stateDir)).threads[q]?.running?.pid !== undefined);
    expect(published).toEqual(["step"]);
    const shown = await publishedOnCall({ ...t.m, config: { ...t.m.config, trust: { ...t.m.config.trust, verifyMachines: true } } }, new Date());
    expect(shown?.turns?.map((x) => x.thread)).toEqual([q]);
    await engine.close("the test ends");
  });
});

describe("a turn's phase decides what is shown (issue 65, finding 9)", () => {
  it("a turn that ended (its answers recorded, not stored yet) is not published as running", async () => {
    const t = await onCallMachine();
    const setting = { agent: "claude" as const, cwd: t.work, permissions: "read-only" as const };
    const at = new Date().toISOString();
    await updateOnCallState(t.m.stateDir, (life) => {
      for (const id of ["asker/oncall/1", "asker/oncall/2"]) {
        life.apply({ kind: "join", thread: id, id, from: "asker", at, setting });
        life.apply({ kind: "queue", thread: id, ask: { id, from: "asker", text: "q", at, chain: 0 } });
        life.apply({ kind: "start", thread: id, turn: at, runner: process.pid, engine: "this", setting, maxParallel: 2 });
      }
      life.apply({ kind: "end", thread: "asker/oncall/2", turn: at, answers: [{ to: "asker", replyTo: "asker/oncall/2", text: "done", mark: { answer: true } }], at });
    });
    const shown = await publishedOnCall({ ...t.m, config: { ...t.m.config, trust: { ...t.m.config.trust, verifyMachines: true } } }, new Date());
    expect(shown?.turns?.map((x) => x.thread)).toEqual(["asker/oncall/1"]);
  });
});

describe("an on-call state of a newer coord", () => {
  it("is left as it is: no turn starts, the log says why, the machine's file shows none running", async () => {
    const t = await onCallMachine();
    const newer = `${JSON.stringify({ version: 2, threads: {}, taken: [], futureField: true })}\n`;
    await writeFile(onCallStatePath(t.m.stateDir), newer);
    const cli = scriptedClaude();
    const engine = t.engine({ run: cli.run });
    await t.deliver("asker", "which port?");
    await engine.pump();
    await engine.idle();
    expect(cli.calls).toHaveLength(0);
    expect(t.log.join("\n")).toMatch(/on-call state .* is of version 2, written by a newer coord; update coord on this machine/);
    expect(await readFile(onCallStatePath(t.m.stateDir), "utf8")).toBe(newer);
    expect((await readdir(t.m.stateDir)).filter((n) => n.includes("corrupt"))).toEqual([]);
    expect((await publishedOnCall({ ...t.m, config: { ...t.m.config, trust: { ...t.m.config.trust, verifyMachines: true } } }, new Date()))?.turns).toBeUndefined();
  });
});

/** Waits until `ok` (bounded: 5 s). */
async function until(ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("not within 5 s");
}
