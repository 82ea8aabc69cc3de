// The wire, as the user set it up: their ssh command (with only BatchMode
// added), why an ssh connection failed (a changed host key as an ALERT), a
// remote that accepts and never answers (bounded by gitTimeout; status shows
// the last fetched state), and a 401 that must not erase a stored credential.
// Real git; fake ssh programs that run git's pack commands locally.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { doctor, formatChecks } from "../src/commands/doctor.js";
import { cli, git, hubStatus, makeFleet, pushOrders, setConfig, silentServer, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => {});
  await fleet?.cleanup();
  fleet = undefined;
});

/**
 * An executable named `ssh` in its own directory that logs its arguments (one
 * per line, then a line "--") and either runs the remote command locally (as
 * sshd would) or prints `stderr` and exits 255.
 */
async function fakeSsh(root: string, opts: { stderr?: string } = {}): Promise<{ path: string; argv: () => Promise<string[][]> }> {
  const bin = join(root, `fake-ssh-${Math.random().toString(36).slice(2)}`);
  await mkdir(bin);
  const path = join(bin, "ssh");
  const log = join(bin, "argv.log");
  const body = opts.stderr
    ? `cat >&2 <<'EOF'\n${opts.stderr}\nEOF\nexit 255`
    : // the last argument is the remote command: git-upload-pack '/path/hub.git'
      'for last; do :; done\nexec sh -c "$last"';
  await writeFile(path, `#!/bin/sh\nfor a; do printf '%s\\n' "$a"; done >> '${log}'\necho -- >> '${log}'\n${body}\n`);
  await chmod(path, 0o755);
  const argv = async () =>
    (await readFile(log, "utf8").catch(() => ""))
      .split("--\n")
      .filter(Boolean)
      .map((call) => call.split("\n").filter(Boolean));
  return { path, argv };
}

/** A machine whose remote is the hub reached over ssh://fakehost, through `sshCommand` set in its checkout. */
async function overSsh(sshCommand: string): Promise<string> {
  const dir = fleet!.machines.izzit7!;
  await git(dir, "remote", "set-url", "origin", `ssh://fakehost${fleet!.hubPath}`);
  await git(dir, "config", "core.sshCommand", sshCommand);
  return dir;
}

describe("ssh: the user's setup", () => {
  it("uses the checkout's core.sshCommand (a deploy key, a port) with BatchMode added, for sync and doctor", async () => {
    fleet = await makeFleet(["izzit7"]);
    const ssh = await fakeSsh(fleet.root);
    const dir = await overSsh(`${ssh.path} -i /keys/deploy_key -p 2222`);
    await pushOrders(fleet, [{ id: "hello", to: "izzit7", run: "echo hi" }]);
    const r = await cli("sync", "--dir", dir);
    expect(r.code, r.err).toBe(0);
    expect((await hubStatus(fleet)).orders.hello?.state).toBe("completed");
    const checks = await doctor({ dir });
    expect(checks.find((c) => c.name === "remote")?.level, formatChecks(checks)).toBe("OK");
    expect(checks.find((c) => c.name === "push")?.level, formatChecks(checks)).toBe("OK");
    const calls = await ssh.argv();
    expect(calls.length).toBeGreaterThanOrEqual(3); // fetch, push, doctor's fetch and push
    for (const call of calls) {
      // The user's options first, ours added, then what git passes: the host and the command.
      expect(call.slice(0, 6)).toEqual(["-i", "/keys/deploy_key", "-p", "2222", "-o", "BatchMode=yes"]);
      expect(call).toContain("fakehost");
      expect(call.at(-1)).toMatch(/^git-(upload|receive)-pack '.*hub\.git'$/);
    }
  });

  it("uses GIT_SSH_COMMAND from the environment before core.sshCommand, as git does", async () => {
    fleet = await makeFleet(["izzit7"]);
    const configured = await fakeSsh(fleet.root);
    const fromEnv = await fakeSsh(fleet.root);
    const dir = await overSsh(configured.path);
    const before = process.env.GIT_SSH_COMMAND;
    process.env.GIT_SSH_COMMAND = `${fromEnv.path} -o User=deploy`;
    cleanups.push(async () => {
      if (before === undefined) delete process.env.GIT_SSH_COMMAND;
      else process.env.GIT_SSH_COMMAND = before;
    });
    const r = await cli("sync", "--dir", dir);
    expect(r.code, r.err).toBe(0);
    expect(await configured.argv()).toEqual([]);
    const calls = await fromEnv.argv();
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expect(call.slice(0, 4)).toEqual(["-o", "User=deploy", "-o", "BatchMode=yes"]);
  });
  it("uses GIT_SSH (a program, no arguments) when neither GIT_SSH_COMMAND nor core.sshCommand is set, with BatchMode added", async () => {
    fleet = await makeFleet(["izzit7"]);
    const ssh = await fakeSsh(fleet.root);
    const dir = fleet.machines.izzit7!;
    await git(dir, "remote", "set-url", "origin", `ssh://fakehost${fleet.hubPath}`);
    const before = { GIT_SSH: process.env.GIT_SSH, GIT_SSH_COMMAND: process.env.GIT_SSH_COMMAND };
    delete process.env.GIT_SSH_COMMAND;
    process.env.GIT_SSH = ssh.path;
    cleanups.push(async () => {
      for (const [k, v] of Object.entries(before))
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    });
    await pushOrders(fleet, [{ id: "hello", to: "izzit7", run: "echo hi" }]);
    const r = await cli("sync", "--dir", dir);
    expect(r.code, r.err).toBe(0);
    expect((await hubStatus(fleet)).orders.hello?.state).toBe("completed");
    const calls = await ssh.argv();
    expect(calls.length).toBeGreaterThanOrEqual(2); // fetch and push
    for (const call of calls) {
      expect(call.slice(0, 2)).toEqual(["-o", "BatchMode=yes"]);
      expect(call).toContain("fakehost");
      expect(call.at(-1)).toMatch(/^git-(upload|receive)-pack '.*hub\.git'$/);
    }
  });
});

describe("ssh: why it failed", () => {
  const GIT_TAIL = "fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.";
  const cases: [what: string, stderr: string, expected: RegExp][] = [
    [
      "connection refused",
      "ssh: connect to host fakehost port 22: Connection refused",
      /could not reach the remote ssh:\/\/fakehost\/.*: connect to host fakehost port 22: Connection refused$/,
    ],
    [
      "no key accepted: the server refused, and the fix",
      "git@fakehost: Permission denied (publickey).",
      /the remote ssh:\/\/fakehost\/.* refused to let this machine read it: git@fakehost: Permission denied \(publickey\); the server does not know this machine's key: add its public key to the hub as a deploy key with write access$/,
    ],
    [
      "unknown host key",
      "No ED25519 host key is known for fakehost and you have requested strict checking.\nHost key verification failed.",
      /: No ED25519 host key is known for fakehost .*; Host key verification failed\.$/,
    ],
  ];
  it.each(cases)("%s: the cause is kept", async (_what, stderr, expected) => {
    fleet = await makeFleet(["izzit7"]);
    const dir = await overSsh((await fakeSsh(fleet.root, { stderr: `${stderr}\n${GIT_TAIL}` })).path);
    const r = await cli("sync", "--dir", dir);
    expect(r.code).toBe(1);
    expect(r.err.split("\n").at(-1)).toMatch(expected);
  });

  it("a changed host key is an ALERT, in the sync's error and as doctor's FAIL", async () => {
    fleet = await makeFleet(["izzit7"]);
    const banner = [
      "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
      "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
      "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
      "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!",
      "Someone could be eavesdropping on you right now (man-in-the-middle attack)!",
      "The fingerprint for the ED25519 key sent by the remote host is",
      "SHA256:q3h1mJ8S2w3TtmU5b8cVZkPNgRxC1fWy0d7QeHn7t2M.",
      "Please contact your system administrator.",
      "Offending ED25519 key in /home/u/.ssh/known_hosts:3",
      "Host key for fakehost has changed and you have requested strict checking.",
      "Host key verification failed.",
    ].join("\n");
    const dir = await overSsh((await fakeSsh(fleet.root, { stderr: `${banner}\n${GIT_TAIL}` })).path);
    const r = await cli("sync", "--dir", dir);
    expect(r.code).toBe(1);
    expect(r.err.split("\n").at(-1)).toMatch(/^coord: ALERT: the remote's host key changed \(possible attack.*ssh-keygen -R fakehost \(remote ssh:\/\/fakehost\/.*\)$/);
    const remote = (await doctor({ dir })).find((c) => c.name === "remote")!;
    expect(remote.level).toBe("FAIL");
    expect(remote.detail).toMatch(/^ALERT: the remote's host key changed/);
  });
});

describe("a remote that accepts and never answers", () => {
  it("costs gitTimeout per git call, says so in a sentence, and status shows the last fetched state at once", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    await pushOrders(fleet, [{ id: "hello", to: "izzit7", run: "echo hi" }]);
    expect((await cli("sync", "--dir", dir)).code).toBe(0);
    await git(dir, "remote", "set-url", "origin", `git://127.0.0.1:${await silentServer(cleanups)}/hub.git`);
    await setConfig(dir, { gitTimeout: 2 });

    let started = Date.now();
    const r = await cli("sync", "--dir", dir);
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.err).toMatch(/could not reach the remote git:\/\/127\.0\.0\.1:\d+\/hub\.git: the remote did not answer in 2 s/);
    expect(r.err).not.toMatch(/block timeout/);

    started = Date.now();
    const s = await cli("status", "--dir", dir);
    expect(s.code, s.err).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(s.err).toMatch(/^warning: could not reach the remote .*did not answer in 2 s.*; showing the fleet as of the last fetch \(\d{4}-\d\d-\d\dT/);
    expect(s.out).toContain("hello");
  });
});

describe("https credentials", () => {
  it("a 401 does not erase the user's stored credential; coord still uses it", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const seen: string[] = [];
    const server = createHttpServer((req: IncomingMessage, res) => {
      seen.push(req.headers.authorization ?? "");
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="fleet"', "Content-Type": "text/plain" });
      res.end("no\n");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as { port: number }).port;
    const stored = `http://coord-bot:s3cret-pass@127.0.0.1:${port}\n`;
    const general = join(fleet.root, "git-credentials");
    const forHost = join(fleet.root, "git-credentials-host");
    await writeFile(general, stored, { mode: 0o600 });
    await writeFile(forHost, stored, { mode: 0o600 });
    await git(dir, "remote", "set-url", "origin", `http://127.0.0.1:${port}/hub.git`);
    // The user's helpers: one for every host, one for this one.
    await git(dir, "config", "credential.helper", `store --file ${general}`);
    await git(dir, "config", `credential.http://127.0.0.1:${port}.helper`, `store --file ${forHost}`);

    const r = await cli("sync", "--dir", dir);
    expect(r.code).toBe(1);
    // The server answered: a refusal to read, with the fix, and no outage (no probe, no "unreachable").
    expect(r.err).toMatch(
      /the remote http:\/\/127\.0\.0\.1:\d+\/hub\.git refused to let this machine read it: .*Authentication failed.*; git has no valid credentials for this host: store them with a credential helper/,
    );
    expect(r.err).not.toMatch(/could not reach/);
    expect(JSON.parse(await readFile(join(dir, ".git", "coord", "health.json"), "utf8"))).not.toHaveProperty("unreachable");
    expect(r.err).not.toContain("s3cret-pass");
    // The stored credential was offered to the server, and is still stored.
    expect(seen).toContain(`Basic ${Buffer.from("coord-bot:s3cret-pass").toString("base64")}`);
    expect(await readFile(general, "utf8")).toBe(stored);
    expect(await readFile(forHost, "utf8")).toBe(stored);
  });
});
