// The agent hook templates (templates/agents/), run as each agent runs them,
// against a real checkout with `coord` on PATH: what they print with an
// unread message, with none, and outside any checkout.
import { exec } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ack, send } from "../src/commands/messages.js";
import { sync } from "../src/sync/sync.js";
import { CLI, makeFleet, tempDir, type Fleet } from "./helpers.js";

const AGENTS = join(import.meta.dirname, "..", "templates", "agents");
let fleet: Fleet;
let bin: string;
let outside: string;
const dirOf = (name: string) => fleet.machines[name]!;

beforeAll(async () => {
  fleet = await makeFleet(["izzit7", "soda-yeti"]);
  bin = join(fleet.root, "bin");
  await mkdir(bin);
  await writeFile(join(bin, "coord"), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  await chmod(join(bin, "coord"), 0o755);
  outside = await tempDir("coord-no-checkout-");
  await send({ dir: dirOf("izzit7"), to: "soda-yeti", text: "please rebase onto main" });
  await sync({ dir: dirOf("izzit7") });
  await sync({ dir: dirOf("soda-yeti") });
}, 60_000);
afterAll(() => fleet?.cleanup());

/** Bumped when the inbox changes: hook runs are remembered until then (several templates share one command). */
let inboxVersion = 0;
const ran = new Map<string, Promise<{ code: number; out: string }>>();

/** Runs a hook command as the agent does: through a shell, in `cwd`, stdin given, `coord` on PATH. */
function hook(command: string, cwd: string, stdin = ""): Promise<{ code: number; out: string }> {
  const key = JSON.stringify([inboxVersion, command, cwd, stdin]);
  if (!ran.has(key)) ran.set(key, runHook(command, cwd, stdin));
  return ran.get(key)!;
}

function runHook(command: string, cwd: string, stdin: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = exec(command, { cwd, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, timeout: 30_000 }, (err, stdout) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout }),
    );
    child.stdin!.end(stdin);
  });
}

/** The command of every hook of a Claude Code / Codex style file, by event. */
async function commandHooks(file: string): Promise<Map<string, string[]>> {
  const settings = JSON.parse(await readFile(join(AGENTS, file), "utf8")) as { hooks: Record<string, { hooks: { type: string; command: string }[] }[]> };
  return new Map(Object.entries(settings.hooks).map(([event, groups]) => [event, groups.flatMap((g) => g.hooks.map((h) => h.command))]));
}

describe.each(["claude-code.settings.json", "codex-hooks.json"])("%s", (file) => {
  it("SessionStart and UserPromptSubmit print the unread message as plain text and exit 0; nothing, exit 0, when there is none or no checkout", async () => {
    const hooks = await commandHooks(file);
    expect([...hooks.keys()].sort()).toEqual(["SessionStart", "UserPromptSubmit"]);
    for (const [event, commands] of hooks) {
      expect(commands, event).toHaveLength(1);
      const command = commands[0]!;
      const unread = await hook(command, dirOf("soda-yeti"));
      expect(unread.code, event).toBe(0);
      expect(unread.out).toContain("please rebase onto main");
      expect(unread.out).toContain("izzit7/soda-yeti/1");
      expect(unread.out.trimStart()).not.toMatch(/^[[{]/); // Codex would parse it as JSON
      // The sender has nothing unread; outside any checkout, coord fails and the hook still exits 0 (exit 2 would block the prompt).
      expect(await hook(command, dirOf("izzit7")), event).toEqual({ code: 0, out: "" });
      expect(await hook(command, outside), event).toEqual({ code: 0, out: "" });
    }
  }, 60_000);
});

describe("cursor-hooks.json", () => {
  async function cursorHooks(): Promise<{ sessionStart: string; stop: string }> {
    const settings = JSON.parse(await readFile(join(AGENTS, "cursor-hooks.json"), "utf8")) as { version: number; hooks: Record<string, { command: string }[]> };
    expect(settings.version).toBe(1);
    expect(Object.keys(settings.hooks).sort()).toEqual(["sessionStart", "stop"]);
    return { sessionStart: settings.hooks.sessionStart![0]!.command, stop: settings.hooks.stop![0]!.command };
  }

  it("sessionStart prints {additional_context} with the unread message, {} when there is none or no checkout", async () => {
    const { sessionStart } = await cursorHooks();
    const unread = await hook(sessionStart, dirOf("soda-yeti"));
    expect(unread.code).toBe(0);
    expect(JSON.parse(unread.out).additional_context).toContain("please rebase onto main");
    expect(await hook(sessionStart, dirOf("izzit7"))).toEqual({ code: 0, out: "{}" });
    expect(await hook(sessionStart, outside)).toEqual({ code: 0, out: "{}" });
  }, 60_000);

  it("stop prints {followup_message} on the first stop after a prompt only (loop_count 0), {} otherwise", async () => {
    const { stop } = await cursorHooks();
    const first = await hook(stop, dirOf("soda-yeti"), JSON.stringify({ loop_count: 0 }));
    expect(first.code).toBe(0);
    expect(JSON.parse(first.out).followup_message).toContain("please rebase onto main");
    expect(await hook(stop, dirOf("soda-yeti"), JSON.stringify({ loop_count: 1 }))).toEqual({ code: 0, out: "{}" });
    expect(await hook(stop, dirOf("izzit7"), JSON.stringify({ loop_count: 0 }))).toEqual({ code: 0, out: "{}" });
    expect(await hook(stop, outside, "not json")).toEqual({ code: 0, out: "{}" });
  }, 60_000);
});

describe("opencode-plugin.js", () => {
  it("appends the unread message to the system prompt of the session's next turn; nothing when there is none", async () => {
    const { CoordInbox } = (await import(pathToFileURL(join(AGENTS, "opencode-plugin.js")).href)) as {
      CoordInbox: () => Promise<Record<string, (input: { sessionID?: string }, output: { system: string[] }) => Promise<void>>>;
    };
    const path = process.env.PATH;
    const cwd = process.cwd();
    process.env.PATH = `${bin}:${path}`;
    try {
      const hooks = await CoordInbox();
      process.chdir(dirOf("soda-yeti"));
      await hooks["chat.message"]!({ sessionID: "s1" }, { system: [] });
      process.chdir(dirOf("izzit7"));
      await hooks["chat.message"]!({ sessionID: "s2" }, { system: [] });
      const s1 = { system: ["base"] };
      await hooks["experimental.chat.system.transform"]!({ sessionID: "s1" }, s1);
      expect(s1.system).toHaveLength(2);
      expect(s1.system[1]).toContain("please rebase onto main");
      const s2 = { system: ["base"] };
      await hooks["experimental.chat.system.transform"]!({ sessionID: "s2" }, s2);
      expect(s2.system).toEqual(["base"]);
    } finally {
      process.chdir(cwd);
      process.env.PATH = path;
    }
  }, 60_000);
});

describe("after the message is acknowledged", () => {
  it("every hook prints nothing for it any more", async () => {
    await ack(dirOf("soda-yeti"), ["izzit7/soda-yeti/1"], false);
    inboxVersion++;
    for (const file of ["claude-code.settings.json", "codex-hooks.json"])
      for (const [event, [command]] of await commandHooks(file)) expect(await hook(command!, dirOf("soda-yeti")), `${file} ${event}`).toEqual({ code: 0, out: "" });
  }, 60_000);
});
