// Agents on call with the REAL Codex CLI (pinned in scripts/agent-clis.json, installed by
// scripts/install-agent-clis.mjs), pointed at a scripted OpenAI Responses API server on loopback
// (test/openai-server.ts) through a `model_providers` entry of its CODEX_HOME: a first turn, a thread over three
// turns (the server sees the earlier turns), /stop under --permissions full with a command codex put in a session of
// its own, the timeout (its answer says codex's last error), an API error, a wrong key, codex missing from PATH; and
// the rule the stand-in codex keeps (exec resume refuses -s) held against the real one. Skipped, by name, where the
// CLI is not installed.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { own } from "../src/core/types.js";
import { processesCarrying } from "../src/platform/processes.js";
import { readOnCallState } from "../src/state/on-call.js";
import { ON_CALL_TURN_ENV, turnMarker } from "../src/sync/on-call-turn.js";
import { cli, filesNamed, git, killRecorded, processGoneSince, type Recorded, recorded, waitFor } from "./helpers.js";
import { type OpenAiServer, CODEX_KEY_VAR, codexHome, startOpenAiServer } from "./openai-server.js";
import { type Msg, onCallTests } from "./on-call-fleet.js";
import { realCli } from "./real-clis.js";
import { patient } from "./patience.js";

const codex = realCli("codex");
const missing = "missing" in codex ? codex.missing : undefined;
const t = onCallTests("coord-codex-real-");
const { dirOf, send } = t;

let server: OpenAiServer | undefined;
const saved = { CODEX_HOME: process.env.CODEX_HOME, key: process.env[CODEX_KEY_VAR] };
let basePath = "";

beforeEach(async () => {
  if (missing) return;
  // The real codex ahead of the stand-ins (onCallTests put them first), its home naming the scripted server.
  basePath = process.env.PATH ?? "";
  process.env.PATH = `${dirname((codex as { bin: string }).bin)}:${basePath}`;
  server = await startOpenAiServer();
  // Outside the run's temp directory: behind coord's sandbox codex makes its own (bubblewrap) as a user, which needs
  // helper links in CODEX_HOME, and codex refuses to make them under TMPDIR (a real CODEX_HOME, ~/.codex, is not).
  codexHomes.push(await mkdtemp(join("/var/tmp", "coord-codex-home-")));
  process.env.CODEX_HOME = await codexHome(codexHomes[codexHomes.length - 1]!, server);
  process.env[CODEX_KEY_VAR] = server.key;
  // Codex runs only in a git repository.
  await git(t.work, "init", "-q");
});
/** The CODEX_HOMEs made outside the run's temp directory, removed after each test. */
const codexHomes: string[] = [];
/** Processes a test found (a failed one may leave them): killed after it, by pid. */
const leftovers: Recorded[] = [];
afterEach(async () => {
  for (const r of leftovers.splice(0)) killRecorded(r);
  await server?.close();
  server = undefined;
  for (const dir of codexHomes.splice(0)) await rm(dir, { recursive: true, force: true });
  for (const [k, v] of [
    ["CODEX_HOME", saved.CODEX_HOME],
    [CODEX_KEY_VAR, saved.key],
  ] as const)
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
});

const answerTo = (asker: string, id: string, ms = 60_000): Promise<Msg> => t.arrives(asker, (x) => x.replyTo === id && x.agent?.answer === true, `the answer to ${id}`, ms);

async function onCall(...args: string[]): Promise<void> {
  const r = await cli("agent", "on-call", "codex", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker", ...args);
  expect(r.code, r.err).toBe(0);
}

/** One turn without a daemon: the message sent, a sync of the machine on call (which runs the turn), its answer. */
async function turn(text: string, replyTo?: string): Promise<Msg> {
  const q = await send("asker", "oncall", text, replyTo);
  const s = await cli("sync", "--dir", dirOf("oncall"));
  expect(s.code, s.err).toBe(0);
  return answerTo("asker", q, 15_000);
}

/**
 * The processes whose command line is `command` and that carry the marker of the turn running in `thread` on this
 * test's machine on call: its start is in the marker, so that another test's turn of a thread of the same name (the
 * other worker's, a second npm test beside this one) is never taken for it.
 */
async function turnProcesses(thread: string, command: string): Promise<number[]> {
  const startedAt = own((await readOnCallState(join(dirOf("oncall"), ".git", "coord"))).threads, thread)?.running?.startedAt;
  if (!startedAt) return [];
  const marked = await processesCarrying(ON_CALL_TURN_ENV, turnMarker("oncall", thread, startedAt));
  const cmdlines = await Promise.all(marked.map((pid) => readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")));
  return marked.filter((_, i) => cmdlines[i]!.split("\0").join(" ").trim() === command);
}

describe.skipIf(missing !== undefined)(`the real codex on call${missing ? ` (skipped: ${missing})` : ` (${"version" in codex ? codex.version : ""})`}`, () => {
  it("a first turn and a thread over three turns: each resumes the session, and the server sees the earlier turns", { timeout: patient(120_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    await onCall("--permissions", "read-only");
    const a1 = await turn("which node version?");
    expect(a1.text).toBe("heard: which node version? (user turns: 1)");
    expect(a1.agent).toMatchObject({ answer: true, cli: "codex" });
    expect(a1.agent?.outcome).toBeUndefined();
    const a2 = await turn("and which npm?", a1.id);
    expect(a2.text).toBe("heard: and which npm? (user turns: 2)");
    const a3 = await turn("thanks, that is all", a2.id);
    expect(a3.text).toBe("heard: thanks, that is all (user turns: 3)");
    // The third request holds the first two questions: the conversation was resumed, not restarted.
    const third = server!.requests.filter((r) => r.lastUser.includes("thanks, that is all"));
    expect(third.length).toBeGreaterThan(0);
    const sent = JSON.stringify(third[0]!.body?.input);
    expect(sent).toContain("which node version?");
    expect(sent).toContain("and which npm?");
    expect(server!.requests.every((r) => r.key === server!.key)).toBe(true);
    // Behind the shield its session is kept in the agents' own copy of CODEX_HOME, never in the person's.
    if (process.env.COORD_AGENT_SANDBOX !== "off") {
      expect(await filesNamed(process.env.CODEX_HOME!, "rollout-")).toEqual([]);
      expect(await filesNamed(join(dirOf("oncall"), ".git", "coord", "agent-state", "askers", "asker", "codex"), "rollout-")).toHaveLength(1);
    }
  });

  /** A fleet whose machine on call (with `settings`) runs codex's `sleep 40` in a turn: the question, the sleeps, the daemon. */
  async function sleepingTurn(...settings: string[]) {
    await t.fleet(["asker", "oncall"]);
    await onCall(...settings);
    const daemon = t.startDaemon("oncall");
    const q = await send("asker", "oncall", "run: sleep 40; echo done");
    // The command runs: `sleep 40`, out of the turn's process group (codex puts each command in a session of its own).
    const sleeps = await waitFor(
      async () => {
        const found = await turnProcesses(q, "sleep 40");
        return found.length ? found : undefined;
      },
      60_000,
      "codex's sleep 40 running",
      200,
    );
    leftovers.push(...sleeps.map(recorded));
    return { q, sleeps, daemon };
  }

  it("/stop under --permissions full: the command codex ran in a session of its own is gone within 10 s", { timeout: patient(120_000) }, async () => {
    const { q, sleeps } = await sleepingTurn("--permissions", "full");
    const stop = Date.now();
    await send("asker", "oncall", "/stop", q);
    const a = await answerTo("asker", q);
    expect(a.agent).toMatchObject({ answer: true, cli: "codex", outcome: "stopped" });
    expect(a.text).toMatch(/^Stopped \(\/stop from asker\)\./);
    for (const pid of sleeps) expect(await processGoneSince(pid, stop, 10_000), `sleep 40 (pid ${pid}) gone within 10 s of the /stop`).toBe(true);
  });

  // The turn's timeout must fall while codex waits on its command: after codex has started it, and before codex's
  // command tool hands the model what the command said so far (after 10 s of it), when the scripted model answers and
  // the turn ends. That window is fixed by codex, not by the machine, so the patience cannot stretch it (24 s missed it).
  const timeoutSecs = 6;
  it.each([
    ["edit", "coord agent stop", /^Stopped \(coord agent stop on this machine\)\./],
    ["read-only", "a daemon stop", /^Stopped \(.*\)\.|^Interrupted/],
    ["full", "the timeout", new RegExp(`^The turn timed out after ${timeoutSecs} s and was stopped\\. It was at: \\$ .*sleep 40`)],
  ] as const)("--permissions %s, %s: the turn's command is gone within 10 s", async (permissions, how, answer) => {
    const { q, sleeps, daemon } = await sleepingTurn("--permissions", permissions, ...(how === "the timeout" ? ["--timeout", `${timeoutSecs}s`] : []));
    const stop = Date.now();
    if (how === "coord agent stop") {
      const r = await cli("agent", "stop", q, "--dir", dirOf("oncall"));
      expect(r.code, r.err).toBe(0);
    } else if (how === "a daemon stop") {
      daemon.kill("SIGTERM");
      await new Promise((r) => (daemon.exitCode !== null || daemon.signalCode !== null ? r(null) : daemon.once("close", r)));
    }
    const within = how === "the timeout" ? timeoutSecs * 1000 + 10_000 : 10_000;
    for (const pid of sleeps) expect(await processGoneSince(pid, stop, within), `sleep 40 (pid ${pid}) gone`).toBe(true);
    if (how === "a daemon stop") return; // its answer goes out with the daemon's last publish, or the next start's
    const a = await answerTo("asker", q);
    expect(a.text).toMatch(answer);
  });

  it("the timeout: codex retrying a server that does not answer is stopped, and the answer says codex's last error", { timeout: patient(120_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    // A provider at a port nobody listens on: codex says "Reconnecting... waiting for network" and retries.
    process.env.CODEX_HOME = await codexHome(join(t.home, "codex-dead"), { url: "http://127.0.0.1:9/v1" }, "");
    // Codex waits for the network for ever: a timeout long enough for a loaded machine to start it and see it retry.
    const secs = Math.ceil(patient(4_000) / 1000);
    await onCall("--timeout", `${secs}s`);
    const a = await turn("are you there?");
    expect(a.agent).toMatchObject({ outcome: "failed" });
    expect(a.text).toMatch(new RegExp(`^The turn timed out after ${secs} s and was stopped\\. Its last error: Reconnecting\\.\\.\\. waiting for network`));
  });

  it("an API error and a wrong key: the answer says what the server said", { timeout: patient(120_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    await onCall();
    const a = await turn("http 400");
    expect(a.agent).toMatchObject({ outcome: "failed" });
    expect(a.text).toMatch(/^The turn failed: it said: .*scripted error 400/);
    process.env[CODEX_KEY_VAR] = "sk-wrong";
    const b = await turn("hello again");
    expect(b.agent).toMatchObject({ outcome: "failed" });
    expect(b.text).toMatch(/^The turn failed: it said: unexpected status 401 Unauthorized: Incorrect API key provided/);
  });

  it("codex missing from PATH when a turn starts: the answer says so", { timeout: patient(120_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    await onCall();
    // Neither the real codex nor the stand-in on PATH now.
    process.env.PATH = basePath
      .split(":")
      .filter((d) => d !== t.bin)
      .join(":");
    const a = await turn("hello");
    expect(a.agent).toMatchObject({ outcome: "failed" });
    expect(a.text).toBe("The turn could not start: the agent CLI codex is not on PATH.");
  });

  it("`codex exec resume` refuses -s (the sandbox goes as -c), as the stand-in does", async () => {
    const run = (bin: string, args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const c = spawn(bin, args, { cwd: t.work, env: { ...process.env, STANDIN_HOME: t.home }, stdio: ["pipe", "ignore", "pipe"] });
        let err = "";
        c.stderr.on("data", (d) => (err += d));
        c.stdin.end("hello");
        const kill = setTimeout(() => c.kill("SIGKILL"), 20_000);
        c.on("close", (code) => {
          clearTimeout(kill);
          resolve({ code, err });
        });
      });
    const args = ["exec", "--json", "resume", "0199a213-81c0-7800-8aa1-bbab2a035a53", "-s", "read-only", "-"];
    const real = await run((codex as { bin: string }).bin, args);
    const standIn = await run(join(t.bin, "codex"), args);
    expect(real.code).toBe(2);
    expect(real.err).toContain("unexpected argument '-s' found");
    expect(standIn).toMatchObject({ code: real.code, err: expect.stringContaining("unexpected argument '-s' found") });
  });
});
