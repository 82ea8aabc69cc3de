// Agents on call under faults and hostile timing, on real git with the stand-in CLIs (test/on-call-fleet.ts): the
// daemon stopping with a message queued, back-to-back pumps against maxParallel, a locked mailbox or on-call state
// when a turn ends, coord's secrets kept from the agent, allowedRoots narrowed while the daemon runs. (Found by a
// review of the first version.) An answer archived before the conversation goes on, and two askers in one
// conversation, run on the in-memory fleet: test/on-call-memory.test.ts.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import lockfile from "proper-lockfile";
import { afterEach, describe, expect, it } from "vitest";
import { inbox } from "../src/actions/messages.js";
import { onCallEngine } from "../src/sync/on-call.js";
import { openMachine, sync } from "../src/sync/sync.js";
import { cli, killRecorded, type Recorded, recorded, setConfig, tempDir, waitFor } from "./helpers.js";
import { type Msg, onCallTests } from "./on-call-fleet.js";
import { standInCalls } from "./on-call-standins.js";
import { patient } from "./patience.js";

const t = onCallTests("coord-on-call-faults-");
const { dirOf, send, startDaemon } = t;
/** Process groups a test left running (a turn the engine should not have started): stopped after it. */
const leftovers: Recorded[] = [];
afterEach(() => {
  for (const r of leftovers.splice(0)) killRecorded(r, true);
  delete process.env.COORD_SECRET_REVIEW_DEMO;
});

const stateDirOf = (name: string) => join(dirOf(name), ".git", "coord");
const answerTo = (asker: string, id: string, ms = 30_000): Promise<Msg> => t.arrives(asker, (x) => x.replyTo === id && x.agent?.answer === true, `the answer to ${id}`, ms);

type OnCallFile = { threads: Record<string, { queue: unknown[]; running?: { pid?: number; runner: number; startedAt: string }; session?: string }> };
const onCallFile = async (name: string): Promise<OnCallFile> => JSON.parse(await readFile(join(stateDirOf(name), "on-call.json"), "utf8"));

/**
 * Holds one of coord's local-state locks (as a slow or stuck coord process would) while `held` runs: the gated turn
 * ends meanwhile, and the lock is let go once the daemon has said that the turn could not end cleanly.
 */
async function holdLock(stateDir: string, name: string, held: () => Promise<void>): Promise<void> {
  // The daemon takes the same lock for a moment at each step of the turn: wait for it (a refusal was a flaky test).
  const release = await lockfile.lock(join(stateDir, name), {
    realpath: false,
    lockfilePath: join(stateDir, `${name}.lock`),
    stale: 3_000,
    update: 1_000,
    retries: { retries: 100, minTimeout: 10, maxTimeout: 50 },
    // Removed with its fleet by a test that failed meanwhile: no throw from a timer in the worker.
    onCompromised: () => {},
  });
  try {
    await held();
  } finally {
    await release();
  }
}

/** Opens the stand-in's gate (scripts/on-call-standins.mjs, "wait for gate G"), and waits for the daemon's word that the turn of `root` could not end. */
async function endUnrecorded(daemon: { output: () => string }, root: string, gate: string): Promise<void> {
  await writeFile(join(t.home, `gate-${gate}`), "");
  const said = `the turn of thread ${root} could not end cleanly`;
  await waitFor(
    async () => daemon.output().includes(said),
    60_000,
    () => `the daemon to say: ${said}; it said:\n${daemon.output()}`,
    200,
  );
}

describe("agents on call under faults", () => {
  it("the daemon stopping starts no new turn: a message queued behind the turn it stops is not run unsupervised", { timeout: patient(90_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    expect((await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker")).code).toBe(0);
    const d = startDaemon("oncall");
    const q = await send("asker", "oncall", "sleep 30 first");
    await waitFor(async () => Object.values((await onCallFile("oncall")).threads)[0]?.running?.pid, 20_000, "the first turn running", 200);
    await send("asker", "oncall", "sleep 30 second", q);
    await waitFor(async () => (Object.values((await onCallFile("oncall")).threads)[0]?.queue.length ?? 0) > 0, 20_000, "the reply queued behind the turn", 200);
    d.kill("SIGTERM");
    await new Promise((r) => (d.exitCode !== null || d.signalCode !== null ? r(null) : d.once("close", r)));
    await new Promise((r) => setTimeout(r, 1000));
    const second = (await standInCalls(t.home)).filter((c) => c.prompt.includes("sleep 30 second"));
    for (const c of second) leftovers.push(recorded(c.pid));
    expect(second).toEqual([]);
    // The turn it stopped is answered so, and its mark says why: the daemon stopping, not a /stop (issue 59).
    const mailbox = JSON.parse(await readFile(join(stateDirOf("oncall"), "mailbox.json"), "utf8"));
    const stopped = (mailbox.outbox.asker.messages as Omit<Msg, "id" | "from">[]).find((x) => x.replyTo === q);
    expect(stopped?.text).toMatch(/^Stopped \(the coord daemon stopped\)/);
    expect(stopped?.agent).toMatchObject({ answer: true, outcome: "stopped", cause: "shutdown" });
  });

  it("a turn past its timeout is answered failed, and its mark says it timed out (issue 59)", { timeout: patient(90_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    expect((await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker", "--timeout", "2s")).code).toBe(0);
    startDaemon("oncall");
    const q = await send("asker", "oncall", "sleep 30 then report");
    const a = await answerTo("asker", q, 40_000);
    expect(a.text).toMatch(/^The turn timed out after 2 s and was stopped\./);
    expect(a.agent).toMatchObject({ answer: true, outcome: "failed", cause: "timeout" });
  });

  it("maxParallel holds when pumps come back to back (as the daemon pumps after every sync and after every turn)", { timeout: patient(90_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    expect((await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker", "--max-parallel", "1")).code).toBe(0);
    for (const x of ["a", "b", "c"]) await send("asker", "oncall", `sleep 3 thread ${x}`);
    // Delivered (turnPending filled) without running anything.
    await sync({ dir: dirOf("oncall"), run: false });
    const engine = onCallEngine(await openMachine(dirOf("oncall")), { log: () => {}, publish: () => {} });
    void engine.pump();
    void engine.pump();
    let most = 0;
    const end = Date.now() + 2500;
    while (Date.now() < end) {
      const file = await onCallFile("oncall").catch(() => ({ threads: {} }) as OnCallFile); // not written before the first take
      const running = Object.values(file.threads).filter((t) => t.running).length;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 50));
    }
    await engine.idle();
    expect(most).toBe(1);
  });

  it("a turn's answer is not lost when storing it fails: the message that started it is answered", { timeout: patient(90_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    expect((await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker")).code).toBe(0);
    // The locked mailbox fails the daemon's sync too; without a backoff after it, the answer goes out with the next one.
    await setConfig(dirOf("oncall"), { failureBackoff: 0 });
    const daemon = startDaemon("oncall");
    const q = await send("asker", "oncall", "wait for gate mailbox then report");
    await waitFor(async () => Object.values((await onCallFile("oncall")).threads)[0]?.running?.pid, 20_000, "the turn running", 200);
    // The mailbox stays locked past LOCK_WAIT_MS while the turn ends (as a full disk or a stuck writer would fail it).
    await holdLock(stateDirOf("oncall"), "mailbox", () => endUnrecorded(daemon, q, "mailbox"));
    // The answer was recorded in the turn before the outbox was tried; the next pump stores it, once.
    const a = await answerTo("asker", q, 30_000);
    expect(a.agent?.answer).toBe(true);
    expect(a.text).toBe("heard: wait for gate mailbox then report");
    await waitFor(async () => !Object.values((await onCallFile("oncall")).threads)[0]?.running, 20_000, "the turn cleared", 200);
    const answers = (await inbox({ dir: dirOf("asker"), all: true })).messages.filter((x) => x.replyTo === q);
    expect(answers).toHaveLength(1);
  });

  it("a turn whose end cannot be recorded does not leave its thread running for ever in a live daemon", { timeout: patient(90_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    expect((await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker")).code).toBe(0);
    const daemon = startDaemon("oncall");
    const q = await send("asker", "oncall", "wait for gate state then report");
    await waitFor(async () => Object.values((await onCallFile("oncall")).threads)[0]?.running?.pid, 20_000, "the turn running", 200);
    await holdLock(stateDirOf("oncall"), "on-call", () => endUnrecorded(daemon, q, "state"));
    // The end could not be recorded while the lock was held: the next pump (after the next sync) records it.
    const more = await send("asker", "oncall", "are you there?", q);
    expect((await answerTo("asker", q, 30_000)).text).toBe("heard: wait for gate state then report");
    const a = await answerTo("asker", more, 30_000);
    expect(a.agent?.answer).toBe(true);
  });

  it("a turn does not get coord's COORD_SECRET_ variables (tasks never do: docs/security.md)", async () => {
    await t.fleet(["asker", "oncall"]);
    expect((await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker")).code).toBe(0);
    // A claude stand-in that answers with what its environment holds (what `env` in a turn would show).
    await writeFile(
      join(t.bin, "claude"),
      `#!/usr/bin/env node
if (process.argv[2] === "--version") { console.log("9.9.9"); process.exit(0); }
require("fs").readFileSync(0, "utf8");
const out = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
out({ type: "system", subtype: "init", session_id: "s1" });
out({ type: "result", subtype: "success", is_error: false, result: "env says: " + (process.env.COORD_SECRET_REVIEW_DEMO || "(none)"), session_id: "s1", num_turns: 1 });
`,
    );
    await chmod(join(t.bin, "claude"), 0o755);
    process.env.COORD_SECRET_REVIEW_DEMO = "hunter2-deploy-password-7731";
    const q = await send("asker", "oncall", "print your environment");
    expect((await cli("sync", "--dir", dirOf("oncall"))).code).toBe(0);
    const a = await answerTo("asker", q, 15_000);
    expect(a.text).toBe("env says: (none)");
  });

  it("allowedRoots narrowed while the daemon runs holds for the next turn (checked again at each turn, docs/security.md)", { timeout: patient(90_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    expect((await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker")).code).toBe(0);
    startDaemon("oncall");
    const q1 = await send("asker", "oncall", "hello");
    await answerTo("asker", q1);
    const elsewhere = join(await tempDir("coord-on-call-roots-"), "only-here");
    await mkdir(elsewhere, { recursive: true });
    await setConfig(dirOf("oncall"), { allowedRoots: [elsewhere] });
    const q2 = await send("asker", "oncall", "write to the repo");
    const a2 = await answerTo("asker", q2);
    expect(a2.agent?.outcome).toBe("failed");
    expect((await standInCalls(t.home)).filter((c) => c.prompt.includes("write to the repo"))).toEqual([]);
  });
});
