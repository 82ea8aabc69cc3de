// An agent CLI's login from the machine's secret store (issue 68 item 3): a daemon started by launchd or over SSH
// cannot read a login the macOS Keychain keeps, and finds `claude` "Not logged in" although the person is. A
// long-lived token (`claude setup-token`) kept as the coord secret CLAUDE_CODE_OAUTH_TOKEN is given to claude when
// coord starts it and its environment has none; never published. doctor says when the machine's syncs find a CLI
// logged out that this shell finds logged in, and how to give the daemon its login. A stand-in claude here counts as
// logged in with the token in its environment, or with FAKE_KEYCHAIN (the person's Keychain, seen from a terminal).
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { doctor } from "../src/commands/doctor.js";
import { cliExec, type Fleet, git, hubStatus, makeFleet, pushOrders, tempDir } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  delete process.env.FAKE_KEYCHAIN;
  await fleet?.cleanup();
  fleet = undefined;
});

const TOKEN = `sk-ant-oat01-${"Zq7".repeat(30)}`;

/** `claude` as coord asks and runs it: its version, `auth status` (logged in by the token or the "Keychain"), and `-p` answering with the token it was given. */
async function standIn(): Promise<{ bin: string; seen: string }> {
  const bin = await tempDir("coord-login-bin-");
  const seen = `${bin}.seen`;
  await mkdir(seen, { recursive: true });
  await writeFile(
    join(bin, "claude"),
    `#!/usr/bin/env node
const fs = require("fs");
const args = process.argv.slice(2);
const tok = process.env.CLAUDE_CODE_OAUTH_TOKEN;
if (args[0] === "--version") { console.log("2.1.0 (Claude Code)"); process.exit(0); }
if (args[0] === "auth" && args[1] === "status") { const ok = Boolean(tok || process.env.FAKE_KEYCHAIN); console.log(JSON.stringify({ loggedIn: ok })); process.exit(ok ? 0 : 1); }
fs.readFileSync(0, "utf8");
fs.writeFileSync(${JSON.stringify(seen)} + "/token", tok ?? "none");
if (!tok) { console.log(JSON.stringify({ type: "result", subtype: "success", is_error: true, result: "Not logged in · Please run /login" })); process.exit(1); }
console.log(JSON.stringify({ type: "system", subtype: "init", session_id: "s1" }));
console.log(JSON.stringify({ type: "result", subtype: "success", is_error: false, result: "my token is " + tok, session_id: "s1", num_turns: 1, total_cost_usd: 0.01 }));
`,
  );
  await chmod(join(bin, "claude"), 0o755);
  return { bin, seen };
}

describe("an agent CLI's login from the machine's secret store", () => {
  it("the daemon's syncs find claude logged out where the shell finds it in: doctor says so and how; the token stored, claude is logged in, runs with it, and it is never published", async () => {
    fleet = await makeFleet(["alpha"]);
    const dir = fleet.machines.alpha!;
    const { bin, seen } = await standIn();
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const savedPath = process.env.PATH;

    // The machine's syncs (as a daemon under launchd runs them: no Keychain) find claude not logged in.
    expect((await cliExec(["sync", "--dir", dir], undefined, env)).code).toBe(0);
    expect((await hubStatus(fleet)).machines.alpha?.capabilities.claude).toBe("2.1.0 (not logged in)");

    // The person's shell reads the Keychain: doctor finds claude logged in here, and says the syncs do not.
    process.env.FAKE_KEYCHAIN = "1";
    process.env.PATH = env.PATH;
    try {
      const warned = (await doctor({ dir, env })).find((c) => c.name === "agents");
      expect(warned).toMatchObject({ level: "WARN", detail: expect.stringContaining("this machine's syncs found claude not logged in") });
      expect(warned!.fix).toMatch(/^claude: claude setup-token .*coord secret set CLAUDE_CODE_OAUTH_TOKEN/);
    } finally {
      process.env.PATH = savedPath;
      delete process.env.FAKE_KEYCHAIN;
    }

    // The token from claude setup-token, kept as a coord secret.
    const set = await cliExec(["secret", "set", "CLAUDE_CODE_OAUTH_TOKEN", "-", "--dir", dir], Buffer.from(`${TOKEN}\n`), env);
    expect(set.code, set.err).toBe(0);
    expect(set.out).toContain("coord gives it to claude as CLAUDE_CODE_OAUTH_TOKEN when its environment has none");

    await pushOrders(fleet, [{ id: "review", to: "alpha", agent: "claude", prompt: "Review the open PRs" }]);
    const r = await cliExec(["sync", "--dir", dir], undefined, env);
    expect(r.code, r.err).toBe(0);
    const status = await hubStatus(fleet);
    expect(status.machines.alpha?.capabilities.claude).toBe("2.1.0"); // logged in: asked again once the secret was set
    expect(status.orders.review?.machines.alpha).toMatchObject({ state: "completed" });
    expect(await readFile(join(seen, "token"), "utf8")).toBe(TOKEN); // claude ran with it
    // Its answer repeats the token: it is not published, nor anywhere in the hub's history.
    const file = await git(fleet.hubPath, "show", "coord:coordination/COMPUTER_alpha.md");
    expect(file).toContain("my token is [REDACTED]");
    const history = await git(fleet.hubPath, "log", "-p", "--all");
    expect(history).not.toContain(TOKEN);
    expect(r.out + r.err).not.toContain(TOKEN);

    // coord's own commands that publish what they are given refuse it (attack finding): a reservation's reason, an order.
    const reserved = await cliExec(["reserve", "src/**", "--reason", `note ${TOKEN}`, "--dir", dir], undefined, env);
    expect(reserved.code).toBe(2);
    expect(reserved.err).toContain(
      "the reservation holds a secret of this machine (its key, or an agent's login from its secret store), which coord never publishes; nothing was stored",
    );
    const ordered = await cliExec(["order", "add", "--to", "alpha", "--dir", dir, "--", "echo", TOKEN], undefined, env);
    expect(ordered.code).toBe(2);
    expect(ordered.err).toMatch(/order \S+ holds a secret of this machine/);
    const paused = await cliExec(["pause", "--reason", `tok ${TOKEN}`, "--dir", dir], undefined, env);
    expect(paused.code).toBe(2);
    expect(paused.err).toContain("the reason holds a secret of this machine");
    const emailed = await cliExec(["trust", "github", "--email", `${TOKEN}@example.com`, "--dir", dir], undefined, env);
    expect(emailed.code).toBe(2);
    expect(reserved.err + ordered.err + paused.err).not.toContain(TOKEN);

    // The syncs now find it logged in, as the shell does: doctor has nothing to say.
    process.env.FAKE_KEYCHAIN = "1";
    process.env.PATH = env.PATH;
    try {
      const agents = (await doctor({ dir, env })).find((c) => c.name === "agents");
      expect(agents).toMatchObject({ level: "OK", detail: expect.stringContaining("claude 2.1.0, logged in (CLAUDE_CODE_OAUTH_TOKEN in coord's secret store)") });
    } finally {
      process.env.PATH = savedPath;
    }

    // Removed: the next sync asks again, and finds it logged out.
    const rm = await cliExec(["secret", "rm", "CLAUDE_CODE_OAUTH_TOKEN", "--dir", dir], undefined, env);
    expect(rm.out).toContain("coord no longer gives it to claude");
    expect((await cliExec(["sync", "--dir", dir], undefined, env)).code).toBe(0);
    expect((await hubStatus(fleet)).machines.alpha?.capabilities.claude).toBe("2.1.0 (not logged in)");
  });
});
