// Agents on call, end to end on real git: a machine whose daemon answers each
// message with its agent CLI (stand-ins that keep sessions as the real CLIs
// do: test/on-call-standins.ts), one session per conversation, a /stop, a
// daemon killed mid-turn, a sync without a daemon. The rules of the round trip
// (the daily budget, the loop rule, acknowledgements, who may ask) run on the
// in-memory fleet: test/on-call-memory.test.ts.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inbox } from "../src/actions/messages.js";
import { sync } from "../src/sync/sync.js";
import { cli, ordersText, processGone, pushOrders, stays, waitFor } from "./helpers.js";
import { call, connectMcp, ok } from "./mcp-client.js";
import { type Msg, onCallTests } from "./on-call-fleet.js";
import { standInCalls } from "./on-call-standins.js";
import { patient } from "./patience.js";

const t = onCallTests();
const { dirOf, send, startDaemon } = t;

/** The answer to message `id` at machine `asker` (its syncs receive it), within `ms`. */
const answerTo = (asker: string, id: string, ms = 30_000): Promise<Msg> => t.arrives(asker, (x) => x.replyTo === id && x.agent?.answer === true, `the answer to ${id}`, ms);

async function onCallJson(
  name: string,
): Promise<{ running: { thread: string; step?: string; pid?: number; session?: string }[]; threads: { thread: string; session?: string }[] }> {
  const r = await cli("agent", "on-call", "--dir", dirOf(name), "--json");
  return JSON.parse(r.out);
}

describe("agents on call", () => {
  it("a conversation is one session: each reply resumes the session the last turn returned (claude's new id each time), in the same cwd, with every flag", {
    timeout: patient(120_000),
  }, async () => {
    await t.fleet(["asker", "oncall"]);
    const set = await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker", "--max-turns", "5");
    expect(set.code, set.err).toBe(0);
    expect(set.out).toContain(`on call with claude in ${t.work} for asker`);
    startDaemon("oncall");
    const q1 = await send("asker", "oncall", "clone the DAO repo");
    const a1 = await answerTo("asker", q1);
    expect(a1.text).toBe("heard: clone the DAO repo");
    expect(a1.agent).toMatchObject({ answer: true, cli: "claude", chain: 1, turns: 2, costUsd: 0.01 });
    const q2 = await send("asker", "oncall", "now build it", a1.id);
    const a2 = await answerTo("asker", q2);
    expect(a2.text).toBe("heard: clone the DAO repo | now build it");
    const q3 = await send("asker", "oncall", "and run the tests", a2.id);
    const a3 = await answerTo("asker", q3);
    // The third turn resumed the second's session, not the first's (which holds only the first message).
    expect(a3.text).toBe("heard: clone the DAO repo | now build it | and run the tests");
    const calls = (await standInCalls(t.home)).filter((c) => c.cli === "claude");
    expect(calls).toHaveLength(3);
    for (const c of calls) {
      expect(c.cwd).toBe(t.work);
      expect(c.args).toEqual(expect.arrayContaining(["-p", "--output-format=stream-json", "--permission-mode=default", "--max-turns=5"]));
    }
    expect(calls[0]!.args.some((a) => a.startsWith("--resume"))).toBe(false);
    const resumed = calls.slice(1).map((c) => c.args.find((a) => a.startsWith("--resume="))!.slice(9));
    expect(resumed[0]).not.toBe(resumed[1]);
    // The first prompt says who asked and what.
    expect(calls[0]!.prompt).toContain(`Message ${q1} from asker`);
    // One conversation, as coord agent on-call --json lists it. (A new question starts another session, and a machine
    // not in onCall.from starts none: test/on-call-memory.test.ts.)
    const shown = await onCallJson("oncall");
    expect(shown.threads.map((t) => t.thread)).toEqual([q1]);
  });

  it("a turn shows as running from its start, before any step: coord status <machine> says so in its header and its on-call line (issue 65, finding 9)", {
    timeout: patient(120_000),
  }, async () => {
    // A fleet as the docs make it: GitHub's push budget (the test fleets' own allows bursts), under which the sync
    // that delivered the message published before the turn was claimed, and nothing published it until its answer.
    const f = await t.fleet(["asker", "oncall"]);
    await pushOrders(f, ordersText([], {}));
    for (const n of ["asker", "oncall"]) await sync({ dir: dirOf(n), run: false });
    const set = await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker");
    expect(set.code, set.err).toBe(0);
    startDaemon("oncall");
    // It names its session, then thinks (no tool call, no step) for 60 s.
    const q = await send("asker", "oncall", "think 60");
    await waitFor(async () => (await onCallJson("oncall")).running.find((r) => r.thread === q), 20_000, "the thinking turn on the machine", 200);
    const started = Date.now();
    const shown = await waitFor(
      async () => {
        await sync({ dir: dirOf("asker"), run: false });
        const r = await cli("status", "oncall", "--dir", dirOf("asker"), "--no-fetch");
        return r.out.includes(`running: thread ${q}`) ? r.out : undefined;
      },
      20_000,
      "the thinking turn in coord status oncall",
      500,
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(shown.split("\n")[0]).toMatch(/^oncall: \S+ · answering \(1 turn on call\)$/);
    expect(shown).not.toMatch(/no turn running/);
  });

  it("a /stop in the thread stops the running turn within seconds: its process group gone, the thread told with what the agent said last; the step was visible", {
    timeout: patient(120_000),
  }, async () => {
    await t.fleet(["asker", "oncall", "other"]);
    const set = await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker,other");
    expect(set.code, set.err).toBe(0);
    startDaemon("oncall");
    const q = await send("asker", "oncall", "sleep 60 then report");
    const running = await waitFor(
      async () => {
        const r = (await onCallJson("oncall")).running[0];
        return r?.step && r.pid ? r : undefined;
      },
      20_000,
      "the running turn and its step",
      200,
    );
    expect(running.step).toBe("Bash: sleep 60");
    // The step is published in the machine's file: the asker's coord status shows it.
    await waitFor(
      async () => {
        await sync({ dir: dirOf("asker"), run: false });
        const r = await cli("status", "oncall", "--dir", dirOf("asker"), "--no-fetch");
        return r.out.includes("Bash: sleep 60") ? r : undefined;
      },
      30_000,
      "the step in coord status oncall",
      500,
    );
    const stop = await send("asker", "oncall", "/stop", q);
    const a = await answerTo("asker", q);
    expect(a.agent).toMatchObject({ answer: true, outcome: "stopped", cause: "stop" });
    expect(a.text).toMatch(/^Stopped \(\/stop from asker\)\.\n\nWhat it said last:\nWorking on it\.$/);
    expect(await processGone(running.pid!, 10_000)).toBe(true);
    expect(stop).toMatch(/^asker\/oncall\//);
    // A /stop with nothing running is said so, not "refused" (issue 58, finding 14).
    const again = await send("asker", "oncall", "/stop", q);
    const none = await answerTo("asker", again);
    expect(none.text).toBe("Nothing is running in this thread: nothing to stop.");
    expect(none.agent).toMatchObject({ answer: true, note: "nothing-running" });
    expect(none.agent?.outcome).toBeUndefined();
  });

  it("a daemon killed -9 mid-turn: the next one stops the orphan, says the turn was interrupted, and 'go on' continues the session", { timeout: patient(120_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    expect((await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker")).code).toBe(0);
    const first = startDaemon("oncall");
    const q = await send("asker", "oncall", "sleep 120 on the migration");
    const running = await waitFor(
      async () => {
        // Killed once the CLI named its session (before that, there is no session to keep).
        const r = (await onCallJson("oncall")).running[0];
        return r?.pid && r.session ? r : undefined;
      },
      20_000,
      "the running turn and its session",
      200,
    );
    first.kill("SIGKILL");
    await new Promise((r) => first.once("close", r));
    // Behind bubblewrap the turn ends with its daemon (--die-with-parent; the pid kept is bwrap's, a zombie until init
    // reaps it); without the shield it outlives its daemon, and the next daemon must stop it.
    if (process.env.COORD_AGENT_SANDBOX === "off") expect(await stays(running.pid!, 500)).toBe(true);
    // Its coord process gone, it is not shown as running (issue 58, finding 12).
    const shown = (await cli("agent", "on-call", "--dir", dirOf("oncall"))).out;
    expect(shown).toMatch(/^interrupted: thread \S+ for asker \(its coord process is gone/m);
    expect(shown).not.toMatch(/^running:/m);
    startDaemon("oncall");
    // A ceiling, not a pace: the new daemon starts, stops the orphan's group (its grace) and answers; on a loaded
    // machine (a suite beside an attack's daemons) that took over 30 s.
    const a = await answerTo("asker", q, 60_000);
    expect(a.agent).toMatchObject({ outcome: "interrupted" });
    expect(a.text).toContain('reply "go on" to continue it');
    expect(await processGone(running.pid!, 10_000)).toBe(true);
    const more = await send("asker", "oncall", "go on", a.id);
    expect((await answerTo("asker", more)).text).toBe("heard: sleep 120 on the migration | go on");
    expect((await standInCalls(t.home)).filter((c) => c.prompt.includes("sleep 120"))).toHaveLength(1); // not run again
  });

  it("a thread whose CLI or permissions are no longer the machine's starts a new session with the machine's CLI, and says so (issue 58, finding 8)", {
    timeout: patient(90_000),
  }, async () => {
    await t.fleet(["asker", "oncall"]);
    const dir = dirOf("oncall");
    const turn = async (text: string, replyTo?: string) => {
      const q = await send("asker", "oncall", text, replyTo);
      expect((await cli("sync", "--dir", dir)).code).toBe(0);
      return answerTo("asker", q, 10_000);
    };
    expect((await cli("agent", "on-call", "claude", "--dir", dir, "--cwd", t.work, "--from", "asker", "--permissions", "edit")).code).toBe(0);
    const a1 = await turn("clone the repo");
    expect(a1.agent).toMatchObject({ cli: "claude" });
    // The machine switches to codex, read-only: the claude session is not resumed, by codex or by claude.
    const set = await cli("agent", "on-call", "codex", "--dir", dir, "--cwd", t.work, "--from", "asker");
    expect(set.out).toMatch(
      /^on call with codex in .* for asker; 1 conversation that ran with another CLI or other permissions starts a new codex session at its next message, and is told so$/m,
    );
    const a2 = await turn("now build it", a1.id);
    expect(a2.agent).toMatchObject({ cli: "codex" });
    expect(a2.text).toBe(
      "Note: this conversation's earlier turns ran with claude (edit); this machine is now on call with codex (read-only), so this turn started a new codex session, which does not remember the earlier turns (the old session was not resumed under the new setting).\n\nheard: now build it",
    );
    // The next message of the thread resumes the codex session, with nothing to say.
    const a3 = await turn("and test it", a2.id);
    expect(a3.text).toBe("heard: now build it | and test it");
    // Permissions alone changed: a new session too.
    expect((await cli("agent", "on-call", "codex", "--dir", dir, "--cwd", t.work, "--from", "asker", "--permissions", "edit")).code).toBe(0);
    const a4 = await turn("and ship it", a3.id);
    expect(a4.text).toMatch(
      /^Note: this conversation's earlier turns ran with permissions read-only; this machine is now on call with permissions edit, so this turn started a new codex session.*\n\nheard: and ship it$/,
    );
    const calls = await standInCalls(t.home);
    expect(calls.map((c) => [c.cli, c.args.includes("resume") || c.args.some((a) => a.startsWith("--resume"))])).toEqual([
      ["claude", false],
      ["codex", false],
      ["codex", true],
      ["codex", false],
    ]);
    expect(calls[3]!.args).toContain('sandbox_mode="workspace-write"');
  });

  it("doctor checks what the daemon will see: trust, the cwd, codex's git repository, the CLI on the daemon's PATH (issue 58, finding 10)", {
    timeout: patient(90_000),
  }, async () => {
    await t.fleet(["asker", "oncall"]);
    const dir = dirOf("oncall");
    const onCallLine = async () => (await cli("doctor", "--dir", dir)).out.split("\n").find((l) => /\bon call\b/.test(l)) ?? "";
    expect((await cli("agent", "on-call", "claude", "--dir", dir, "--cwd", t.work, "--from", "asker")).code).toBe(0);
    expect(await onCallLine()).toMatch(/no daemon runs/);
    // Trust off: no message starts a turn; doctor says so, the machine's file no longer says it is on call.
    expect((await cli("trust", "machines", "off", "--dir", dir)).code).toBe(0);
    expect(await onCallLine()).toMatch(/no message starts a turn: this machine does not verify other machines' signatures/);
    expect((await cli("agent", "on-call", "--dir", dir)).out).toContain("note: no message starts a turn");
    expect((await cli("sync", "--dir", dir)).code).toBe(0);
    await sync({ dir: dirOf("asker"), run: false });
    expect((await cli("status", "oncall", "--dir", dirOf("asker"), "--no-fetch")).out).not.toMatch(/on call +claude/);
    expect((await cli("trust", "machines", "on", "--dir", dir)).code).toBe(0);
    // The cwd gone.
    const gone = join(t.work, "gone");
    await mkdir(gone);
    expect((await cli("agent", "on-call", "claude", "--dir", dir, "--cwd", gone, "--from", "asker")).code).toBe(0);
    await rm(gone, { recursive: true });
    expect(await onCallLine()).toMatch(new RegExp(`every turn fails: cwd ${gone} does not exist`));
    // Codex outside a git repository.
    const plain = await mkdtemp(join(tmpdir(), "coord-not-git-"));
    expect((await cli("agent", "on-call", "codex", "--dir", dir, "--cwd", plain, "--from", "asker")).code).toBe(0);
    expect(await onCallLine()).toMatch(/codex refuses a cwd that is not inside a git repository/);
    await rm(plain, { recursive: true });
    // A daemon started without claude on its PATH: doctor looks at the daemon's PATH, not its own.
    expect((await cli("agent", "on-call", "claude", "--dir", dir, "--cwd", t.work, "--from", "asker")).code).toBe(0);
    const withBin = process.env.PATH!;
    process.env.PATH = withBin
      .split(":")
      .filter((p) => p !== t.bin)
      .join(":");
    startDaemon("oncall");
    process.env.PATH = withBin;
    // Until the daemon has started and written what it runs with, doctor says no daemon runs, then that the daemon's
    // PATH is not known (a loaded machine took seconds for each).
    let last = "";
    const line = await waitFor(
      async () => {
        last = await onCallLine();
        return last.includes("the daemon's PATH") ? last : undefined;
      },
      20_000,
      "the daemon seen by doctor",
      200,
    ).catch((e) => {
      throw new Error(`${e.message}; doctor's last on-call line: ${last}`);
    });
    expect(line).toMatch(/claude is not on the daemon's PATH \(pid \d+\) \(claude\): every turn fails/);
  });

  it("codex without a daemon: coord sync runs the turns, resumes with exec resume and the sandbox as -c on every call", async () => {
    await t.fleet(["asker", "oncall"]);
    expect((await cli("agent", "on-call", "codex", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker", "--permissions", "edit")).code).toBe(0);
    const q1 = await send("asker", "oncall", "what is in the repo?");
    expect((await cli("sync", "--dir", dirOf("oncall"))).code).toBe(0);
    const a1 = await answerTo("asker", q1, 10_000);
    expect(a1.text).toBe("heard: what is in the repo?");
    expect(a1.agent).toMatchObject({ answer: true, cli: "codex" });
    const q2 = await send("asker", "oncall", "and the tests?", a1.id);
    expect((await cli("sync", "--dir", dirOf("oncall"))).code).toBe(0);
    expect((await answerTo("asker", q2, 10_000)).text).toBe("heard: what is in the repo? | and the tests?");
    const calls = (await standInCalls(t.home)).filter((c) => c.cli === "codex");
    expect(calls.map((c) => c.args)).toEqual([
      ["exec", "--json", "-c", 'sandbox_mode="workspace-write"', "-"],
      ["exec", "--json", "-c", 'sandbox_mode="workspace-write"', "resume", expect.any(String), "-"],
    ]);
  });

  it("raising the daily budget starts the waiting turn at once: the command asks the daemon, no unrelated sync needed", { timeout: patient(90_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    const set = (usd: string) => cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker", "--daily-budget-usd", usd);
    // The stand-in claude reports $0.01 a turn: the first turn spends the day's $0.005.
    expect((await set("0.005")).code).toBe(0);
    startDaemon("oncall");
    const q1 = await send("asker", "oncall", "first");
    expect((await answerTo("asker", q1)).text).toBe("heard: first");
    const q2 = await send("asker", "oncall", "second");
    expect((await answerTo("asker", q2)).text).toMatch(/^Waiting: /);
    // The asker's receipts are published and the daemon has nothing left to do: only the raise may start the turn.
    expect((await cli("sync", "--dir", dirOf("asker"))).code).toBe(0);
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await standInCalls(t.home)).filter((c) => c.prompt.includes("second"))).toEqual([]);
    const raised = await set("1");
    expect(raised.code, raised.err).toBe(0);
    // Far sooner than the daemon's next sync of its own (its heartbeat, a look that sees the hub move).
    await waitFor(async () => (await standInCalls(t.home)).some((c) => c.prompt.includes("second")), 10_000, "the waiting turn to start after the raise", 100);
    await t.arrives("asker", (x) => x.replyTo === q2 && x.text === "heard: second", "the answer to the turn that waited");
  });

  it("bad settings are refused with one sentence and change nothing; a broken onCall block is named by its line", { timeout: patient(90_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    const dir = dirOf("oncall");
    await writeFile(join(t.bin, "cursor-agent"), "#!/bin/sh\nexit 0\n");
    await chmod(join(t.bin, "cursor-agent"), 0o755);
    const file = join(t.work, "file.txt");
    await writeFile(file, "x");
    const cases: [string[], RegExp][] = [
      [["aider", "--cwd", t.work, "--from", "asker"], /^coord cannot put "aider" on call; give one of claude, codex, opencode, cursor, gemini$/],
      [["opencode", "--cwd", t.work, "--from", "asker"], /^opencode is not on PATH \(looked for opencode\)/],
      [["claude", "--cwd", join(t.work, "nope"), "--from", "asker"], /does not exist/],
      [["claude", "--cwd", file, "--from", "asker"], /is not a directory$/],
      [["claude", "--cwd", t.work], /^--from is required/],
      [["claude", "--cwd", t.work, "--from", "zeta"], /^--from: no machine "zeta" is registered/],
      [["cursor", "--cwd", t.work, "--from", "asker", "--permissions", "edit"], /^--permissions: cursor cannot run with permissions "edit"/],
      [["claude", "--cwd", t.work, "--from", "asker", "--permissions", "root"], /^--permissions must be one of read-only, edit, full/],
      [["claude", "--cwd", t.work, "--from", "asker", "--timeout", "soon"], /^--timeout "soon" is not a duration/],
    ];
    const before = await readFile(join(dir, ".git", "coord", "machine.yaml"), "utf8");
    for (const [args, want] of cases) {
      const r = await cli("agent", "on-call", ...args, "--dir", dir);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err.replace(/^coord: /, ""), args.join(" ")).toMatch(want);
      expect(r.err).not.toContain("    at ");
    }
    expect(await readFile(join(dir, ".git", "coord", "machine.yaml"), "utf8")).toBe(before);
    // By hand, broken: the daemon and the command name the line; messages are still delivered.
    await writeFile(join(dir, ".git", "coord", "machine.yaml"), `${before}onCall:\n  agent: claude\n  cwd: ${t.work}\n  from: asker\n`);
    const shown = await cli("agent", "on-call", "--dir", dir);
    expect(shown.code).toBe(2);
    expect(shown.out).toMatch(/^not on call: .*machine\.yaml:\d+: field onCall\.from must be a list of machine names, or ALL/);
    const doctor = await cli("doctor", "--dir", dir);
    expect(doctor.out).toMatch(/on call.*machine\.yaml:\d+: field onCall\.from must be a list of machine names, or ALL/);
    const q = await send("asker", "oncall", "are you there?");
    expect((await cli("sync", "--dir", dir)).code).toBe(0);
    expect((await inbox({ dir })).messages.map((x) => x.id)).toContain(q);
    expect(await standInCalls(t.home)).toEqual([]);
    // Not even YAML inside the block (issue 58, finding 7): only the machine's on-call is off; status, sync, doctor work.
    await writeFile(join(dir, ".git", "coord", "machine.yaml"), `${before}onCall:\n  agent: claude\n  cwd: ${t.work}\n  from: [asker\n  permissions: edit\n`);
    const line = before.split("\n").length + 4;
    expect((await cli("status", "--dir", dir)).code).toBe(0);
    const q2 = await send("asker", "oncall", "still there?");
    expect((await cli("sync", "--dir", dir)).code).toBe(0);
    expect((await inbox({ dir })).messages.map((x) => x.id)).toContain(q2);
    const doctor2 = await cli("doctor", "--dir", dir);
    expect(doctor2.out).toMatch(new RegExp(`on call.*machine\\.yaml:${line}: the onCall block is not valid YAML`));
    expect(doctor2.out).not.toContain("--reclaim");
    expect((await cli("agent", "on-call", "--dir", dir)).out).toMatch(/^not on call: .*the onCall block is not valid YAML/);
    expect(await standInCalls(t.home)).toEqual([]);
    // The daemon runs (no backoff) and its log names the line.
    const daemon = startDaemon("oncall");
    await waitFor(async () => (daemon.output().includes(`machine.yaml:${line}: the onCall block is not valid YAML`) ? true : undefined), 20_000, "the daemon's log", 200);
    expect(daemon.output()).not.toContain("--reclaim");
    daemon.kill("SIGTERM");
    await new Promise((r) => daemon.once("close", r));
    // The fix is the command: it rewrites the block.
    const fixed = await cli("agent", "on-call", "claude", "--cwd", t.work, "--from", "asker", "--dir", dir);
    expect(fixed.code).toBe(0);
    // No daemon runs here: the command says when turns start (finding 14).
    expect(fixed.out).toContain("note: no coord daemon runs here: a message starts a turn only when a coord sync delivers it");
    expect((await cli("doctor", "--dir", dir)).out).not.toContain("not valid YAML");
  });

  it("an agent asks another machine's agent through coord mcp and has the answer in the same turn; stop_turn stops a turn there or here", {
    timeout: patient(240_000),
  }, async () => {
    await t.fleet(["asker", "oncall"]);
    expect((await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker")).code).toBe(0);
    startDaemon("oncall");
    const { client } = await connectMcp(dirOf("asker"), t.onEnd);
    const transcript: string[] = [];
    const step = async (name: string, args: Record<string, unknown>) => {
      const r = await ok(client, name, args);
      transcript.push(`asker → ${name} ${JSON.stringify(args)}`, ...r.text.split("\n").map((l) => `  ${l}`), "");
      return r;
    };
    const sent = await step("send", { to: "oncall", body: "Which Node version does the DAO build need?" });
    const id = sent.data.id as string;
    const answered = await step("inbox", { wait: "40s", reply_to: id });
    expect(answered.data).toMatchObject({ arrived: true });
    expect(answered.text).toContain("heard: Which Node version does the DAO build need?");
    // A turn there, stopped from here: a /stop in its thread.
    const long = await step("send", { to: "oncall", body: "sleep 60, then run the whole test suite" });
    const longId = long.data.id as string;
    // As long as an answer may take (the inbox waits 40 s): on a loaded machine the daemon's look and turn come later.
    await waitFor(async () => (await onCallJson("oncall")).running[0]?.pid, 40_000, "the turn running", 200);
    const stopped = await step("stop_turn", { thread: longId });
    expect(stopped.data).toMatchObject({ stopped: "asked", to: "oncall" });
    const a = await step("inbox", { wait: "40s", reply_to: longId });
    expect(a.text).toContain("Stopped (/stop from asker).");
    if (process.env.COORD_TRANSCRIPT) console.log(transcript.join("\n"));
    // A turn here, stopped here (the machine's own tool, as coord agent stop).
    const q = await send("asker", "oncall", "sleep 60 again");
    // Its process started (a turn still starting is refused: "try again in a moment").
    const running = await waitFor(async () => (await onCallJson("oncall")).running.find((r) => r.thread === q && r.pid), 40_000, "the second turn's process", 200);
    const { client: local } = await connectMcp(dirOf("oncall"), t.onEnd);
    const here = await call(local, "stop_turn", { thread: q });
    expect(here.isError, here.text).toBeFalsy();
    expect(here.text).toBe(`Stopped the turn of thread ${q} on this machine.`);
    expect((await answerTo("asker", q)).text).toMatch(/^Stopped \(the stop_turn tool on this machine\)\./);
    expect(await processGone(running.pid!, 10_000)).toBe(true);
    const none = await call(local, "stop_turn", { thread: q });
    expect(none).toMatchObject({ isError: true, text: `nothing runs in thread ${q} now` });
  });
});
