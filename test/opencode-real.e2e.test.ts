// Agents on call with the REAL OpenCode CLI (pinned in scripts/agent-clis.json, installed by
// scripts/install-agent-clis.mjs), pointed at a scripted Chat Completions server on loopback (test/chat-server.ts)
// through a provider of its opencode.json, behind coord's shield: a thread over three turns (the server sees the
// earlier turns: OpenCode resumed its session), a command under --permissions full that lands in the turn's --cwd and
// nowhere else (OpenCode works in $PWD: it wrote into the daemon's checkout before coord set PWD, issue 66), and
// doctor's "logged in" for its key in opencode.json, which `opencode auth list` does not count; its turns run over
// the Agent Client Protocol under coord's driver: a permission asked of the asker (/approve, /deny), each turn's
// cost though OpenCode says the session's, and a session kept by a turn stopped before the model streamed. Skipped,
// by name, where the CLI is not installed. A cold start takes 6-26 s here: few turns, generous bounds.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ChatServer, OPENCODE_KEY_VAR, OPENCODE_QUIET, opencodeHome, startChatServer } from "./chat-server.js";
import { cli, cliExec, envScope, waitFor } from "./helpers.js";
import { answerTo as answers, type Msg, onCallTests, requestFor } from "./on-call-fleet.js";
import { realCli } from "./real-clis.js";
import { patient } from "./patience.js";

const opencode = realCli("opencode");
const missing = "missing" in opencode ? opencode.missing : undefined;
const t = onCallTests("coord-opencode-real-");
const { dirOf, send, arrives } = t;

let server: ChatServer | undefined;
const homes: string[] = [];
const env = envScope();
const setEnv = env.set;

beforeEach(async () => {
  if (missing) return;
  // The real opencode ahead of the stand-ins (onCallTests put them first), its XDG homes naming the scripted server.
  setEnv({ PATH: `${dirname((opencode as { bin: string }).bin)}:${process.env.PATH ?? ""}` });
  server = await startChatServer();
  homes.push(await mkdtemp(join("/var/tmp", "coord-opencode-home-")));
  setEnv({ ...(await opencodeHome(homes[homes.length - 1]!, server)), ...OPENCODE_QUIET, [OPENCODE_KEY_VAR]: server.key });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const dir of homes.splice(0)) await rm(dir, { recursive: true, force: true });
  env.restore();
});

const answerTo = (asker: string, id: string, ms = 120_000): Promise<Msg> => t.arrives(asker, (x) => x.replyTo === id && x.agent?.answer === true, `the answer to ${id}`, ms);

async function onCall(...args: string[]): Promise<void> {
  const r = await cli("agent", "on-call", "opencode", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker", ...args);
  expect(r.code, r.err).toBe(0);
}

/** One turn without a daemon: the message sent, a sync of the machine on call (which runs the turn), its answer. */
async function turn(text: string, replyTo?: string): Promise<Msg> {
  const q = await send("asker", "oncall", text, replyTo);
  const s = await cli("sync", "--dir", dirOf("oncall"));
  expect(s.code, s.err).toBe(0);
  return answerTo("asker", q, 60_000);
}

describe.skipIf(missing !== undefined)(`the real opencode on call${missing ? ` (skipped: ${missing})` : ` (${"version" in opencode ? opencode.version : ""})`}`, () => {
  it("a thread over three turns: each resumes the session, and the server sees the earlier turns", { timeout: patient(480_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    await onCall("--permissions", "read-only");
    const a1 = await turn("which node version?");
    expect(a1.text).toBe("heard: which node version? (user turns: 1)");
    expect(a1.agent).toMatchObject({ answer: true, cli: "opencode" });
    const a2 = await turn("and which npm?", a1.id);
    expect(a2.text).toBe("heard: and which npm? (user turns: 2)");
    const a3 = await turn("thanks, that is all", a2.id);
    expect(a3.text).toBe("heard: thanks, that is all (user turns: 3)");
    const third = server!.requests.find((r) => r.tools && r.lastUser.includes("thanks, that is all"));
    const sent = JSON.stringify(third?.body?.messages);
    expect(sent).toContain("which node version?");
    expect(sent).toContain("and which npm?");
    expect(server!.requests.every((r) => r.key === server!.key)).toBe(true);
  });

  it("--permissions full: a command writes in the turn's --cwd, never in the daemon's PWD, the machine's checkout (OpenCode works in $PWD)", {
    timeout: patient(180_000),
  }, async () => {
    await t.fleet(["asker", "oncall"]);
    // coord started in its checkout (its PWD), and without the shield: bubblewrap sets PWD itself, sandbox-exec does not.
    setEnv({ PWD: dirOf("oncall"), COORD_AGENT_SANDBOX: "off" });
    await onCall("--permissions", "full");
    const a = await turn("run: echo hi > from-oc.txt && pwd");
    expect(a.text).toMatch(/^ran: /);
    expect(await readFile(join(t.work, "from-oc.txt"), "utf8")).toBe("hi\n");
    expect(existsSync(join(dirOf("oncall"), "from-oc.txt"))).toBe(false);
    expect(existsSync(join(process.cwd(), "from-oc.txt"))).toBe(false);
  });

  it("its key in opencode.json ({env:…}), which its auth list does not count: doctor says logged in, and by what", { timeout: patient(120_000) }, async () => {
    await t.fleet(["oncall"]);
    const doctor = await cliExec(["doctor", "--dir", dirOf("oncall")]);
    expect(doctor.out).toMatch(new RegExp(`opencode ${(opencode as { version: string }).version}, logged in \\(provider fake, its key in ${OPENCODE_KEY_VAR}\\)`));
  });

  it("approvals from afar: what read-only does not allow is asked of the asker; /approve runs it in --cwd, /deny ends the turn denied", { timeout: patient(480_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    await onCall("--permissions", "read-only");
    t.startDaemon("oncall");
    const q = await send("asker", "oncall", "run: echo approved > approved.txt");
    const req = await arrives("asker", requestFor(q), "the request", 180_000);
    expect(req.text).toMatch(/^Permission asked: bash: echo approved > approved\.txt\n/);
    await send("asker", "oncall", "/approve", req.id);
    const a = await arrives("asker", answers(q), "the answer", 120_000);
    expect(a.text).toMatch(/^ran: /);
    expect(await readFile(join(t.work, "approved.txt"), "utf8")).toBe("approved\n");
    const q2 = await send("asker", "oncall", "run: echo denied > denied.txt", a.id);
    const req2 = await arrives("asker", requestFor(q2), "the second request", 120_000);
    await send("asker", "oncall", "/deny not today", req2.id);
    const a2 = await arrives("asker", answers(q2), "the second answer", 120_000);
    expect(a2.text).toMatch(/^The turn ended with bash denied: /);
    // Each turn counts what it cost, though OpenCode says the session's whole cost: $3 in and $15 out a million
    // tokens, 10 in and 5 out a request: two requests (the call, then the answer), then one in the resumed session.
    expect(a.agent?.costUsd).toBeCloseTo(0.00021, 8);
    expect(a2.agent?.costUsd).toBeCloseTo(0.000105, 8);
    expect(existsSync(join(t.work, "denied.txt"))).toBe(false);
  });

  it("/stop before the model streams keeps the session: the next message of the thread continues it", { timeout: patient(480_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    await onCall("--permissions", "read-only");
    t.startDaemon("oncall");
    const q = await send("asker", "oncall", "slow 120");
    await waitFor(async () => server!.requests.some((r) => r.tools && r.lastUser.includes("slow 120")), 180_000, "the model asked for the turn", 200);
    await send("asker", "oncall", "/stop", q);
    const a = await arrives("asker", answers(q), "the stopped answer", 120_000);
    expect(a.agent?.outcome).toBe("stopped");
    const q2 = await send("asker", "oncall", "go on", a.id);
    const a2 = await arrives("asker", answers(q2), "the answer that continues", 180_000);
    expect(a2.text).toBe("heard: go on (user turns: 2)");
  });
});
