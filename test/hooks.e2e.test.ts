// coord agent hooks install|uninstall, end to end: the hooks written into a
// project for each agent CLI, run as that CLI runs them (a shell command in
// the project, or OpenCode's plugin module), against a real checkout that
// received a message. They answer from the prompt file coord keeps (no coord
// on PATH), show nothing once the message is acknowledged, keep what else the
// config held, and uninstall takes out exactly what install wrote.
import { exec } from "node:child_process";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ack, send } from "../src/actions/messages.js";
import { sync } from "../src/sync/sync.js";
import { cli, type Fleet, makeFleet, tempDir } from "./helpers.js";
import { patient } from "./patience.js";

let fleet: Fleet;
const dirOf = (name: string) => fleet.machines[name]!;

beforeAll(async () => {
  fleet = await makeFleet(["izzit7", "soda-yeti"]);
  await send({ dir: dirOf("izzit7"), to: "soda-yeti", text: "please rebase onto main" });
  await sync({ dir: dirOf("izzit7") });
  await sync({ dir: dirOf("soda-yeti") });
}, patient(60_000));
afterAll(() => fleet?.cleanup());

/** Runs a hook command as the agent does: through a shell, in the project, stdin given; coord is NOT on PATH. */
function hook(command: string, cwd: string, stdin = ""): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = exec(command, { cwd, env: { PATH: "/usr/bin:/bin", HOME: cwd }, timeout: 10_000 }, (err, stdout) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout }),
    );
    child.stdin!.on("error", () => {}); // a hook that does not read its stdin (cat) may be gone before it is written
    child.stdin!.end(stdin);
  });
}

const install = (agent: string, project: string, ...more: string[]) => cli("agent", "hooks", "install", agent, "--project", project, "--dir", dirOf("soda-yeti"), ...more);
const uninstall = (agent: string, project: string) => cli("agent", "hooks", "uninstall", agent, "--project", project);

type Settings = { hooks: Record<string, { matcher?: string; hooks?: { type: string; command: string }[]; command?: string }[]> } & Record<string, unknown>;
const json = async (path: string) => JSON.parse(await readFile(path, "utf8")) as Settings;

describe.each([
  ["claude", ".claude/settings.local.json"],
  ["codex", ".codex/hooks.json"],
])("%s", (agent, file) => {
  it("install writes one UserPromptSubmit hook that prints the unread message as plain text, from local state; again changes nothing; uninstall removes the file", async () => {
    const project = await tempDir(`coord-${agent}-project-`);
    const r = await install(agent, project);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${file}: written`);
    const settings = await json(join(project, file));
    expect(Object.keys(settings.hooks)).toEqual(["UserPromptSubmit"]); // no SessionStart: the first prompt saw the messages twice
    const command = settings.hooks.UserPromptSubmit![0]!.hooks![0]!.command;
    const unread = await hook(command, project);
    expect(unread.code).toBe(0);
    expect(unread.out).toContain("please rebase onto main");
    expect(unread.out).toContain("izzit7/soda-yeti/1");
    expect(unread.out.trimStart()).not.toMatch(/^[[{]/); // Codex would parse it as JSON
    expect((await install(agent, project)).out).toContain(`${file}: already installed, nothing changed`);
    expect((await uninstall(agent, project)).out).toContain(`${file}: removed`);
    await expect(stat(join(project, file))).rejects.toThrow();
  });

  it("keeps the user's settings and hooks, replaces the old template's entries, and uninstall gives back the rest untouched", async () => {
    const project = await tempDir(`coord-${agent}-mine-`);
    const mine = {
      model: "opus",
      hooks: {
        PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: "./check.sh" }] }],
        SessionStart: [{ hooks: [{ type: "command", command: "coord inbox --format prompt --unread || true", timeout: 10 }] }],
        UserPromptSubmit: [{ hooks: [{ type: "command", command: "echo mine" }] }],
      },
    };
    const path = join(project, file);
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, JSON.stringify(mine, null, 2));
    expect((await install(agent, project)).code).toBe(0);
    const settings = await json(path);
    expect(settings.model).toBe("opus");
    expect(settings.hooks.PreToolUse).toEqual(mine.hooks.PreToolUse);
    expect(settings.hooks.SessionStart).toBeUndefined();
    expect(settings.hooks.UserPromptSubmit!.map((e) => e.hooks![0]!.command)).toEqual(["echo mine", expect.stringContaining("inbox-prompt.txt")]);
    expect((await uninstall(agent, project)).out).toContain("coord's hook entries taken out (1)");
    expect(await json(path)).toEqual({ model: "opus", hooks: { PreToolUse: mine.hooks.PreToolUse, UserPromptSubmit: mine.hooks.UserPromptSubmit } });
  });
});

describe("claude: this machine's path stays out of the project's shared settings", () => {
  it("an older install's hook in .claude/settings.json moves to .claude/settings.local.json; the team's entries stay", async () => {
    const project = await tempDir("coord-claude-shared-");
    const shared = join(project, ".claude", "settings.json");
    const team = { hooks: { UserPromptSubmit: [{ hooks: [{ type: "command", command: "echo team" }] }] } };
    const older = {
      hooks: {
        UserPromptSubmit: [
          ...team.hooks.UserPromptSubmit,
          { hooks: [{ type: "command", command: "cat '/home/x/fleet/.git/coord/inbox-prompt.txt' 2>/dev/null || true", timeout: 5 }] },
        ],
      },
    };
    await mkdir(join(project, ".claude"), { recursive: true });
    await writeFile(shared, JSON.stringify(older));
    const r = await install("claude", project);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(".claude/settings.json: coord's hook taken out");
    expect(await json(shared)).toEqual(team);
    expect(JSON.stringify(await json(join(project, ".claude", "settings.local.json")))).toContain("inbox-prompt.txt");
  });
});

describe("cursor", () => {
  it("sessionStart prints {additional_context}; stop prints {followup_message} on the first stop after a prompt only", async () => {
    const project = await tempDir("coord-cursor-project-");
    expect((await install("cursor", project)).code).toBe(0);
    const settings = await json(join(project, ".cursor/hooks.json"));
    expect(settings.version).toBe(1);
    const start = settings.hooks.sessionStart![0]!.command!;
    const stop = settings.hooks.stop![0]!.command!;
    const withNode = (command: string) => command.replace(/^node /, `'${process.execPath}' `); // the hook finds node on PATH; here PATH is bare
    const s = await hook(withNode(start), project);
    expect(JSON.parse(s.out).additional_context).toContain("please rebase onto main");
    expect(JSON.parse((await hook(withNode(stop), project, JSON.stringify({ loop_count: 0 }))).out).followup_message).toContain("please rebase onto main");
    expect(await hook(withNode(stop), project, JSON.stringify({ loop_count: 1 }))).toEqual({ code: 0, out: "{}" });
    expect(await hook(withNode(stop), project, "not json")).toEqual({ code: 0, out: "{}" });
    expect((await uninstall("cursor", project)).out).toContain("removed");
  });
});

describe("opencode", () => {
  it("the plugin appends the unread message to the system prompt of the session's next turn", async () => {
    const project = await tempDir("coord-opencode-project-");
    expect((await install("opencode", project)).code).toBe(0);
    const file = join(project, ".opencode/plugins/coord-inbox.js");
    const { CoordInbox } = (await import(pathToFileURL(file).href)) as {
      CoordInbox: () => Promise<Record<string, (input: { sessionID?: string }, output: { system: string[] }) => Promise<void>>>;
    };
    const hooks = await CoordInbox();
    await hooks["chat.message"]!({ sessionID: "s1" }, { system: [] });
    const s1 = { system: ["base"] };
    await hooks["experimental.chat.system.transform"]!({ sessionID: "s1" }, s1);
    expect(s1.system).toHaveLength(2);
    expect(s1.system[1]).toContain("please rebase onto main");
    await writeFile(join(project, ".opencode/plugins/other.js"), "// someone else's\n");
    expect((await uninstall("opencode", project)).out).toContain(".opencode/plugins/coord-inbox.js: removed");
    await expect(stat(file)).rejects.toThrow();
  });
});

describe("after the message is acknowledged", () => {
  it("the hook prints nothing for it any more (the prompt file follows the mailbox)", async () => {
    const project = await tempDir("coord-ack-project-");
    await install("claude", project);
    const command = (await json(join(project, ".claude/settings.local.json"))).hooks.UserPromptSubmit![0]!.hooks![0]!.command;
    expect((await hook(command, project)).out).toContain("please rebase onto main");
    await ack(dirOf("soda-yeti"), ["izzit7/soda-yeti/1"], false);
    expect(await hook(command, project)).toEqual({ code: 0, out: "" });
  });

  it("a file coord cannot read is left alone, with one sentence", async () => {
    const project = await tempDir("coord-broken-project-");
    await mkdir(join(project, ".claude"));
    await writeFile(join(project, ".claude/settings.json"), "{ not json");
    const r = await install("claude", project);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/settings\.json is not valid JSON .*coord never overwrites a file it cannot read/);
    expect(await readFile(join(project, ".claude/settings.json"), "utf8")).toBe("{ not json");
  });
});
