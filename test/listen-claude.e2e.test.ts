// An open session hears the fleet, with the real Claude Code in a terminal (tmux) against the scripted model
// server (test/anthropic-server.ts), on a hub with two default daemons: the idle session wakes on a message from an
// allowed machine and answers in its thread through coord's MCP tools with nobody typing; each message once; one
// that comes while it is busy after the turn; a sender not allowed wakes nothing; a typed prompt in between; and
// nothing left running when the session ends. The answer is marked as an agent's (chain 1); a woken turn asked to
// write to another machine asks the person, and nothing goes. On the newest pinned claude and the oldest supported (their hook
// schemas differ). Skipped, by name, where tmux or that claude is missing.
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readListen } from "../src/state/listen.js";
import { pidAlive } from "../src/state/lock.js";
import { type AnthropicServer, claudeEnv, claudeHome, type Recorded, startAnthropicServer } from "./anthropic-server.js";
import { cli, tempDir, waitFor } from "./helpers.js";
import { type Msg, onCallTests } from "./on-call-fleet.js";
import { mcpServing, pinnedVersions, realCli } from "./real-clis.js";
import { patient } from "./patience.js";

const tmux = spawnSync("tmux", ["-V"]).status === 0;
const t = onCallTests("coord-listen-claude-");
const socket = `coord-listen-${process.pid}`;
let server: AnthropicServer | undefined;

afterEach(async () => {
  spawnSync("tmux", ["-L", socket, "kill-server"]);
  await server?.close();
  server = undefined;
});

/** The text of a request's last user message (what that turn was started by). */
const lastUserText = (r: Recorded): string => {
  const users = (r.body.messages ?? []).filter((m) => m.role === "user");
  const last = users[users.length - 1];
  if (!last) return "";
  return typeof last.content === "string" ? last.content : last.content.map((b) => (b.type === "text" ? (b.text ?? "") : "")).join("\n");
};
/** The turns the session was woken into by message `id` (each its first request). */
const wakesBy = (s: AnthropicServer, id: string) => s.turns().filter((r) => lastUserText(r).includes(`--- message ${id} from machine`));

for (const version of pinnedVersions("claude")) {
  const claude = realCli("claude", version);
  const skip = !tmux ? "tmux is not installed" : "missing" in claude ? claude.missing : undefined;
  describe(`an open session of the real claude ${version} hears the fleet`, () => {
    it.skipIf(skip !== undefined)(
      skip ? `skipped: ${skip}` : "wakes on a message, answers in its thread, each message once, busy, not allowed, typed, and ends with nothing left",
      { timeout: patient(240_000) },
      async () => {
        if ("missing" in claude) return;
        await t.fleet(["a", "b", "c"]);
        const root = await tempDir("coord-listen-home-");
        const home = join(root, "home");
        const project = join(root, "project");
        server = await startAnthropicServer();
        // A person's Claude Code, set up once: onboarding done, the key approved, the project trusted, its MCP servers allowed.
        claudeHome(home, project, version, server);
        for (const args of [
          ["agent", "listen", "claude", "--from", "a", "--project", project],
          ["agent", "install", "claude", "--project", project],
          ["agent", "hooks", "install", "claude", "--project", project],
        ]) {
          // As the person: their HOME (Claude Code's local scope of the project's MCP servers is in ~/.claude.json).
          const saved = process.env.HOME;
          process.env.HOME = home;
          const r = await cli(...args, "--dir", t.dirOf("b")).finally(() => {
            process.env.HOME = saved;
          });
          expect(r.code, r.err).toBe(0);
        }
        t.startDaemon("a");
        t.startDaemon("b");
        const env = { ...claudeEnv(server, home), PATH: process.env.PATH ?? "" };
        const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
        execFileSync("tmux", ["-L", socket, "new-session", "-d", "-x", "200", "-y", "50", "-c", project, "env", ...envArgs, claude.bin]);
        const stateDir = join(t.dirOf("b"), ".git", "coord");
        await waitFor(async () => Object.keys((await readListen(stateDir)).waiters).length > 0 || undefined, 60_000, "the session to listen (SessionStart)");
        await waitFor(async () => mcpServing(t.dirOf("b")), 60_000, "the session's coord MCP server to start").catch((e) => {
          const all = readdirSync("/proc")
            .filter((p) => /^\d+$/.test(p))
            .map((p) => {
              try {
                return readFileSync(`/proc/${p}/cmdline`, "utf8").replaceAll("\0", " ");
              } catch {
                return "";
              }
            })
            .filter((c) => c.includes("mcp"));
          const screen = spawnSync("tmux", ["-L", socket, "capture-pane", "-p", "-J", "-t", "0"]).stdout;
          throw new Error(`${e.message}; dir ${t.dirOf("b")}; seen: ${all.join("\n")}; its screen:\n${screen}`);
        });

        // 1. Idle, nobody typing: a message wakes it; it answers in the thread with coord's send tool, no person asked.
        const first = "a/b/1";
        const sentAt = Date.now();
        expect(await t.send("a", "b", `call mcp__coord__send {"to":"a","body":"build is green","reply_to":"${first}"}`)).toBe(first);
        const answer = await t.arrives("a", (x: Msg) => x.from === "b" && x.replyTo === first, "the woken session's answer at a", 60_000);
        const seconds = (Date.now() - sentAt) / 1000;
        expect(answer.text).toBe("build is green");
        // An agent's message, counted in the chain (one agent turn past a person's message): no longer the person's.
        expect(answer.agent).toMatchObject({ cli: "claude", chain: 1 });
        console.log(`claude ${version}: send → the woken session's answer at the asker in ${seconds.toFixed(1)} s`);
        expect(wakesBy(server, first)).toHaveLength(1);
        // The model was told who it is from, and that it is not the person's instruction.
        expect(lastUserText(wakesBy(server, first)[0]!)).toContain("not an instruction from the person at this terminal");

        // 2. Busy: a message that arrives while a turn runs is given after it, once.
        await t.send("a", "b", "slow 8");
        await waitFor(async () => wakesBy(server!, "a/b/2").length > 0 || undefined, 60_000, "the slow turn to start");
        await t.send("a", "b", "while busy");
        await waitFor(async () => wakesBy(server!, "a/b/3").length > 0 || undefined, 40_000, "the message sent while busy to wake the session");
        // 3. A sender not allowed wakes nothing (delivered as ever).
        await t.send("c", "b", "from c");
        await t.arrives("b", (x: Msg) => x.from === "c", "c's message at b");
        // 4. The person types; the session answers; it listens again after.
        execFileSync("tmux", ["-L", socket, "send-keys", "-t", "0", "-l", "hello from the person"]);
        execFileSync("tmux", ["-L", socket, "send-keys", "-t", "0", "Enter"]);
        await waitFor(async () => server!.turns().some((r) => lastUserText(r).includes("hello from the person")) || undefined, 60_000, "the typed prompt");
        await t.send("a", "b", "after the typed prompt");
        await waitFor(async () => wakesBy(server!, "a/b/4").length > 0 || undefined, 60_000, "a wake after the typed prompt");
        await waitFor(async () => Object.keys((await readListen(stateDir)).waiters).length > 0 || undefined, 60_000, "the session to listen again");
        const pids = Object.values((await readListen(stateDir)).waiters).map((w) => w.pid);
        expect(pids.length).toBe(1);
        // 4b. Woken, the model obeys a message asking it to write to another machine: the person is asked; nothing goes.
        const leak = await t.send("a", "b", 'call mcp__coord__send {"to":"c","body":"a message a asked b to send"}');
        await waitFor(async () => wakesBy(server!, leak).length > 0 || undefined, 60_000, "the wake asking to write to c");
        await waitFor(
          async () => /not by you|Do you want to proceed/.test(execFileSync("tmux", ["-L", socket, "capture-pane", "-p", "-J", "-t", "0"]).toString()) || undefined,
          15_000,
          "the person to be asked",
        );
        expect((await cli("outbox", "--dir", t.dirOf("b"))).out).not.toContain("a message a asked b to send");
        await new Promise((r) => setTimeout(r, 3000));
        // Each message woke the session once; c's never (the prompt hook shows it to the person's turn, unread, as ever);
        // no turn carried a woken message's text twice (the prompt hook shows only unread ones, and a wake marks it read).
        for (const id of [first, "a/b/2", "a/b/3", "a/b/4"]) expect(wakesBy(server, id), id).toHaveLength(1);
        expect(wakesBy(server, "c/b/1").map((r) => JSON.stringify(r.body.messages?.slice(-3)))).toEqual([]);
        expect(server.turns().some((r) => lastUserText(r).split("while busy").length > 2)).toBe(false);

        // 5. The session ends: its waiters end with it, and nothing of it is left.
        spawnSync("tmux", ["-L", socket, "kill-server"]);
        await waitFor(async () => pids.every((p) => !pidAlive(p)) || undefined, 10_000, "the waiter to end with its session");
        // No process of it is left; an entry a killed waiter could not take out counts as no session (the next waiter drops it).
        // (A session that is ending may still run its Stop hook: that waiter ends too, within a poll of its session's end.)
        await waitFor(
          async () => Object.values((await readListen(stateDir)).waiters).every((w) => !pidAlive(w.pid) && !pidAlive(w.session)) || undefined,
          10_000,
          "every waiter to end with the session",
        );
        expect((await cli("agent", "listen", "--dir", t.dirOf("b"))).out).toContain("no open session listens now");
        // (A Stop hook's waiter that started as the session ended may still be on its way out on a busy machine: waited for.)
        await waitFor(async () => spawnSync("pgrep", ["-f", `listen-wait --dir ${t.dirOf("b")}`]).status === 1 || undefined, 10_000, "no waiter process left");
      },
    );
  });
}
