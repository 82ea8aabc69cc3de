// Agents on call with the REAL Gemini CLI (pinned in scripts/agent-clis.json, installed by
// scripts/install-agent-clis.mjs), pointed at a scripted Gemini API server on loopback (test/gemini-server.ts) by
// GOOGLE_GEMINI_BASE_URL and an API key, behind coord's shield: a thread over three turns (the server sees the
// earlier turns: gemini resumed its session) kept in the asker's own copy of ~/.gemini, never the person's; what each
// permission level offers it (read-only: no shell, and the answer says the shell was denied; full: a command runs in
// the turn's --cwd); an order as coord runs one, read by its reader. Skipped, by name, where the CLI is not installed. A run takes 4-5 s here.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { agentInvocation, agentReader, agentVerdict } from "../src/core/agents/agents.js";
import { agentPolicyFile } from "../src/state/agent-policy.js";
import { type GeminiServer, geminiHome, startGeminiServer } from "./gemini-server.js";
import { cli, cliExec, envScope, filesNamed, tempDir } from "./helpers.js";
import { type Msg, onCallTests } from "./on-call-fleet.js";
import { realCli } from "./real-clis.js";
import { patient } from "./patience.js";

const gemini = realCli("gemini");
const missing = "missing" in gemini ? gemini.missing : undefined;
const t = onCallTests("coord-gemini-real-");
const { dirOf, send } = t;

let server: GeminiServer | undefined;
const env = envScope();
const setEnv = env.set;

beforeEach(async () => {
  if (missing) return;
  // The real gemini ahead of the stand-ins (onCallTests put them first); its settings in this file's HOME.
  setEnv({ PATH: `${dirname((gemini as { bin: string }).bin)}:${process.env.PATH ?? ""}` });
  server = await startGeminiServer();
  setEnv(await geminiHome(process.env.HOME!, server));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  env.restore();
});

const answerTo = (asker: string, id: string, ms = 60_000): Promise<Msg> => t.arrives(asker, (x) => x.replyTo === id && x.agent?.answer === true, `the answer to ${id}`, ms);

async function onCall(...args: string[]): Promise<void> {
  const r = await cli("agent", "on-call", "gemini", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker", ...args);
  expect(r.code, r.err).toBe(0);
}

/** One turn without a daemon: the message sent, a sync of the machine on call (which runs the turn), its answer. */
async function turn(text: string, replyTo?: string): Promise<Msg> {
  const q = await send("asker", "oncall", text, replyTo);
  const s = await cli("sync", "--dir", dirOf("oncall"));
  expect(s.code, s.err).toBe(0);
  return answerTo("asker", q);
}

const shielded = process.env.COORD_AGENT_SANDBOX !== "off";

/** Runs the real gemini once as coord runs an order (agentInvocation, its reader, the verdict) in `cwd`. */
async function order(cwd: string, prompt: string, permissions: "read-only" | "edit" | "full", policyFile?: string) {
  const ctx = { root: false, executable: (gemini as { bin: string }).bin, ...(policyFile ? { policyFile } : {}) };
  const how = agentInvocation({ agent: "gemini", prompt, permissions }, ctx);
  if (!("argv" in how)) throw new Error(how.refused);
  const reader = agentReader("gemini")!;
  const p = spawn(how.argv[0]!, how.argv.slice(1), { cwd, env: { ...process.env, ...how.env }, stdio: ["pipe", "pipe", "ignore"] });
  p.stdin.end(how.input ?? "");
  let rest = "";
  p.stdout.on("data", (d: Buffer) => {
    const lines = (rest + d.toString("utf8")).split("\n");
    rest = lines.pop()!;
    for (const l of lines) reader.line(l);
  });
  const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
  const code = await new Promise<number | null>((r) => p.once("close", r));
  clearTimeout(timer);
  if (rest) reader.line(rest);
  const said = reader.result();
  return { code, said, verdict: said ? agentVerdict(code, said) : undefined };
}

describe.skipIf(missing !== undefined)(`the real gemini on call${missing ? ` (skipped: ${missing})` : ` (${"version" in gemini ? gemini.version : ""})`}`, () => {
  it("a thread over three turns: each resumes the session, kept in the asker's own copy of its state", { timeout: patient(240_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    await onCall("--permissions", "read-only");
    const a1 = await turn("which node version?");
    expect(a1.text).toBe("heard: which node version? (user turns: 1)");
    expect(a1.agent).toMatchObject({ answer: true, cli: "gemini" });
    expect(a1.agent?.outcome).toBeUndefined();
    const a2 = await turn("and which npm?", a1.id);
    expect(a2.text).toBe("heard: and which npm? (user turns: 2)");
    const a3 = await turn("thanks, that is all", a2.id);
    expect(a3.text).toBe("heard: thanks, that is all (user turns: 3)");
    const third = server!.requests.find((r) => r.lastUser.includes("thanks, that is all"));
    const sent = JSON.stringify(third?.body?.contents);
    expect(sent).toContain("which node version?");
    expect(sent).toContain("and which npm?");
    expect(server!.requests.every((r) => r.key === server!.key)).toBe(true);
    if (shielded) {
      expect(await filesNamed(join(process.env.HOME!, ".gemini"), "session-")).toEqual([]);
      expect(await filesNamed(join(dirOf("oncall"), ".git", "coord", "agent-state", "askers", "asker", "gemini"), "session-")).not.toEqual([]);
    }
  });

  it("read-only offers it no shell: the command does not run, and the answer says the shell was denied", { timeout: patient(120_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    await onCall("--permissions", "read-only");
    const a = await turn("run: echo hi > from-gemini.txt");
    expect(a.agent).toMatchObject({ outcome: "failed" });
    expect(a.text).toContain("run_shell_command denied");
    expect(existsSync(join(t.work, "from-gemini.txt"))).toBe(false);
    const asked = server!.requests.find((r) => r.lastUser.includes("from-gemini.txt"));
    expect(asked?.tools).not.toContain("run_shell_command");
    expect(asked?.tools).not.toContain("write_file");
  });

  it("as an order: its answer and session read from its output; read-only denies the shell, edit writes no shell either, full runs it", { timeout: patient(120_000) }, async () => {
    const work = await tempDir("coord-gemini-order-");
    const policies = await tempDir("coord-gemini-policy-");
    const policy = (level: "read-only" | "edit" | "full") => agentPolicyFile(policies, "gemini", level);
    const hello = await order(work, "hello", "read-only", await policy("read-only"));
    expect(hello.verdict).toEqual({ ok: true });
    expect(hello.said).toMatchObject({ ok: true, message: "heard: hello (user turns: 1)", session: expect.any(String), tokens: { input: 10, output: 5 } });
    for (const level of ["read-only", "edit"] as const) {
      const r = await order(work, `run: echo ${level} > ran.txt`, level, await policy(level));
      expect(r.said).toMatchObject({ ok: false, denied: ["run_shell_command"] });
      expect(r.verdict?.reason).toContain("denied run_shell_command");
    }
    expect(existsSync(join(work, "ran.txt"))).toBe(false);
    expect((await order(work, "run: echo full > ran.txt", "full")).verdict).toEqual({ ok: true });
    expect(await readFile(join(work, "ran.txt"), "utf8")).toBe("full\n");
  });

  it("its key in the environment: doctor says logged in, and by what (it has no status command)", { timeout: patient(120_000) }, async () => {
    await t.fleet(["oncall"]);
    const doctor = await cliExec(["doctor", "--dir", dirOf("oncall")]);
    expect(doctor.out).toMatch(new RegExp(`gemini ${(gemini as { version: string }).version}, logged in \\(GEMINI_API_KEY\\)`));
  });

  it("read-only and edit: its plan mode's way to YOLO is denied by coord's policy, and the shell never runs", { timeout: patient(240_000) }, async () => {
    // Found attacking it: headless, leaving plan mode switches to YOLO. A model that obeys the whole plan (worst case).
    const plan = (file: string) =>
      `script: ${JSON.stringify([
        { name: "enter_plan_mode", args: { reason: "p" } },
        { name: "write_file", args: { file_path: "plan.md", content: "# p\n" } },
        { name: "exit_plan_mode", args: { plan_filename: "plan.md" } },
        { name: "run_shell_command", args: { command: `id > ${file}` } },
      ])}`;
    await t.fleet(["asker", "oncall"]);
    for (const level of ["read-only", "edit"] as const) {
      await onCall("--permissions", level);
      const a = await turn(plan(`yolo-${level}.txt`));
      expect(a.text, level).not.toMatch(/Switching to YOLO/);
      expect(existsSync(join(t.work, `yolo-${level}.txt`)), level).toBe(false);
    }
    // As an order, the same.
    const work = await tempDir("coord-gemini-order-");
    for (const level of ["read-only", "edit"] as const) {
      const policyFile = await agentPolicyFile(dirOf("oncall"), "gemini", level);
      const r = await order(work, plan("yolo-order.txt"), level, policyFile);
      expect(r.verdict?.ok, level).toBe(false);
      expect(existsSync(join(work, "yolo-order.txt")), level).toBe(false);
    }
  });

  it("full: a command runs, in the turn's --cwd", { timeout: patient(120_000) }, async () => {
    await t.fleet(["asker", "oncall"]);
    await onCall("--permissions", "full");
    const a = await turn("run: echo hi > from-gemini.txt && pwd");
    expect(a.text).toMatch(/^ran: /);
    expect(a.agent?.outcome).toBeUndefined();
    expect(await readFile(join(t.work, "from-gemini.txt"), "utf8")).toBe("hi\n");
    expect(existsSync(join(dirOf("oncall"), "from-gemini.txt"))).toBe(false);
  });
});
