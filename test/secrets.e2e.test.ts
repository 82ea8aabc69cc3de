// Nothing secret leaves the machine: a remote URL with a token in it, token
// shapes in a task's output and reason, a task's short or multi-line secret
// values, secrets an order names and the machine holds. Real git; the whole
// history of the hub is searched.
import { lstat, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, cliExec, runningCli, git, hubFile, hubStatus, makeFleet, pushOrders, waitFor, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop().catch(() => {});
  await fleet?.cleanup();
  fleet = undefined;
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const TOKEN = "ghp_" + "Zx9".repeat(12);

/** Everything the hub ever held: every commit of every ref, with its diff. */
const hubHistory = (f: Fleet) => git(f.hubPath, "log", "-p", "--all", "--format=%H %an %s%n%b");

describe("secrets", () => {
  it("a remote URL with a token is never printed nor published, not even as the stalled machine's last error", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const url = `https://coord-bot:${TOKEN}@127.0.0.1:${await closedPort()}/fleet.git`;
    await git(dir, "remote", "set-url", "origin", url);
    const printed: string[] = [];
    // Three failed syncs in a row: the next publish says "stalled" with the last error.
    for (let i = 0; i < 3; i++) {
      const r = await cli("sync", "--dir", dir);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/could not reach the remote https:\/\/\[REDACTED\]@127\.0\.0\.1:\d+\/fleet\.git/);
      printed.push(r.out, r.err);
    }
    printed.push(JSON.stringify(await cli("doctor", "--dir", dir)));
    await git(dir, "remote", "set-url", "origin", fleet.hubPath);
    const back = await cli("sync", "--dir", dir);
    expect(back.code).toBe(0);
    printed.push(back.out, back.err, (await cli("status", "--dir", dir)).out, (await cli("logs", "--dir", dir)).out);

    const machine = (await hubStatus(fleet)).machines.izzit7;
    expect(machine?.state).toBe("stalled");
    expect(machine?.health?.lastError).toContain("https://[REDACTED]@127.0.0.1");
    const history = await hubHistory(fleet);
    expect(history).toContain("[REDACTED]@127.0.0.1");
    for (const text of [history, ...printed]) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain("coord-bot");
    }
  });

  it("coord init with a token in the remote URL does not print it", async () => {
    fleet = await makeFleet([]);
    const url = `https://coord-bot:${TOKEN}@127.0.0.1:${await closedPort()}/fleet.git`;
    const r = await cli("init", join(fleet.root, "m"), "--name", "izzit7", "--remote", url);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/could not clone https:\/\/\[REDACTED\]@127\.0\.0\.1:\d+\/fleet\.git: /);
    expect(r.out + r.err).not.toContain(TOKEN);
  });

  it("token shapes and the task's secret values, short, multi-line or CRLF, are redacted from everything published", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const script = [
      'echo "pin is $PIN."',
      'printf "%s\\n" "$CERT"',
      `echo "db postgres://app:pg-pass-123@db:5432/prod token=${TOKEN.slice(0, 10)}tail"`,
      'echo "npm_abcdefghijklmnopqrstuvwxyz0123456789 glpat-abcdefghij0123456789"',
      "exit 3",
    ].join("; ");
    await pushOrders(fleet, [
      {
        id: "leaky",
        to: "izzit7",
        env: { PIN: { value: "42", secret: true }, CERT: { value: "first-line-abc\r\nsecond-line-def", secret: true } },
        run: script,
      },
    ]);
    const r = await cli("sync", "--dir", dir);
    expect(r.code).toBe(0);
    const report = (await git(fleet.hubPath, "show", "coord:coordination/COMPUTER_izzit7.md")).toString();
    expect(report).toContain("pin is [REDACTED].");
    expect(report).toContain("db postgres://[REDACTED]@db:5432/prod token=[REDACTED]");
    // The person's ORDERS.json holds the values themselves: what the machines committed must not.
    const history = await git(fleet.hubPath, "log", "-p", "--all", "--author=^coord ");
    expect(history).toContain("pin is [REDACTED].");
    for (const secret of ["pin is 42", "first-line-abc", "second-line-def", "pg-pass-123", TOKEN.slice(0, 10), "npm_abcdefghij", "glpat-abcdef"])
      expect(history).not.toContain(secret);
  });
});

describe("secrets named by orders, held by the machines", () => {
  const VALUE = "dpl-" + "Qw7".repeat(8); // no known token shape: only the store's value makes it secret
  const FROM_ENV = "env-" + "Rt5".repeat(8);

  it("a secret named by an order reaches the task from the store or a COORD_SECRET_ variable, is redacted, and is in no commit of the hub", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const set = await cli("secret", "set", "deploy-token", VALUE, "--dir", dir);
    expect(set).toMatchObject({ code: 0, out: "secret deploy-token set in .git/coord/secrets.yaml" });
    expect((await stat(join(dir, ".git", "coord", "secrets.yaml"))).mode & 0o777).toBe(0o600);
    const list = await cli("secret", "list", "--dir", dir);
    expect(list.out).toBe("deploy-token");
    const seen = join(fleet.root, "seen.txt");
    await pushOrders(fleet, [
      {
        id: "deploy",
        to: "izzit7",
        env: { TOKEN: { secret: "deploy-token" }, OTHER: { secret: "other.key" } },
        // What the task sees: the two values, and no COORD_SECRET_ variable of coord's own.
        run: `printf '%s|%s|%s' "$TOKEN" "$OTHER" "$(env | grep -c '^COORD_SECRET_')" > ${seen}; echo "deploying with $TOKEN and $OTHER"; exit 4`,
      },
    ]);
    process.env.COORD_SECRET_OTHER_KEY = FROM_ENV;
    let r: Awaited<ReturnType<typeof cli>>;
    try {
      r = await cli("sync", "--dir", dir);
    } finally {
      delete process.env.COORD_SECRET_OTHER_KEY;
    }
    expect(r.code).toBe(0);
    expect(await readFile(seen, "utf8")).toBe(`${VALUE}|${FROM_ENV}|0`);
    const task = (await hubStatus(fleet)).orders.deploy?.machines.izzit7;
    expect(task).toMatchObject({ state: "failed", reason: "exit code 4" });
    const report = await hubFile(fleet, "coordination/COMPUTER_izzit7.md");
    expect(report).toContain("deploying with [REDACTED] and [REDACTED]");
    const history = await hubHistory(fleet);
    for (const text of [history, r.out, r.err, (await cli("logs", "--dir", dir)).out]) {
      expect(text).not.toContain(VALUE);
      expect(text).not.toContain(FROM_ENV);
    }
    expect(await git(dir, "status", "--porcelain", "--ignored")).not.toContain("secrets");
  });

  it("a secret missing on the machine fails the task with the reason, and nothing runs", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const ran = join(fleet.root, "ran");
    await pushOrders(fleet, [{ id: "deploy", to: "izzit7", env: { TOKEN: { secret: "deploy-token" } }, run: `touch ${ran}` }]);
    const r = await cli("sync", "--dir", dir);
    expect(r.code).toBe(0);
    const task = (await hubStatus(fleet)).orders.deploy?.machines.izzit7;
    expect(task).toMatchObject({
      state: "failed",
      exitCode: null,
      reason: "secret deploy-token is not in this machine's store (.git/coord/secrets.yaml or COORD_SECRET_DEPLOY_TOKEN)",
    });
    expect(await stat(ran).catch(() => undefined)).toBeUndefined();
  });

  it("coord validate warns of secrets written in ORDERS.json and says how to move them; the file stays valid", async () => {
    fleet = await makeFleet(["izzit7"]);
    const file = join(fleet.root, "ORDERS.json");
    await writeFile(
      file,
      JSON.stringify({ version: 1, orders: [{ id: "a", to: "izzit7", run: "x", env: { PIN: { value: "4242", secret: true }, GH: TOKEN, REF: { secret: "gh" } } }] }),
    );
    const r = await cli("validate", file);
    expect(r.code).toBe(0);
    expect(r.out).toContain("valid, 1 order");
    expect(r.err.split("\n")).toEqual([
      expect.stringMatching(/^warning: .*orders\[0\]\.env\.PIN: .*sits in plain text in the repository.*coord secret set pin.*\{"secret": "pin"\}/),
      expect.stringMatching(/^warning: .*orders\[0\]\.env\.GH: .*the value looks like a secret \(GitHub token\).*coord secret set gh/),
    ]);
    expect(r.err).not.toContain(TOKEN);
    expect(JSON.parse((await cli("validate", file, "--json")).out).warnings).toHaveLength(2);
  });

  it("coord validate warns of a credential in a command or an agent's argument, naming the order and the field; the file stays valid", async () => {
    fleet = await makeFleet(["izzit7"]);
    const file = join(fleet.root, "ORDERS.json");
    const orders = [
      { id: "fetch", to: "izzit7", run: "curl https://alpha:PW@host/x" },
      { id: "review", to: "izzit7", agent: "claude", prompt: "review", args: [`--api-key=sk-${"q".repeat(24)}`] },
      { id: "clean", to: "izzit7", run: "curl https://alpha:$PW@host/x", env: { PW: { secret: "pw" } } },
    ];
    await writeFile(file, JSON.stringify({ version: 1, orders }, null, 2));
    const r = await cliExec(["validate", file]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain("valid, 3 orders");
    expect(r.err.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^warning: .*ORDERS\.json:\d+ orders\[0\]\.run: order "fetch" field run: the command holds what looks like a credential \(URL userinfo\).*coord secret set <name>.*"TOKEN": \{"secret": "<name>"\}, and write "\$TOKEN" in the command/,
      ),
      expect.stringMatching(
        /^warning: .*orders\[1\]\.args\[0\]: order "review" field args\[0\]: the argument holds what looks like a credential \(sk- API key\).*coord secret set/,
      ),
    ]);
    expect(r.err).not.toMatch(/PW@|qqqq/);
  });
});

describe("symbolic links in the checkout", () => {
  it("coord watch never pushes the file a committed ORDERS.json link points at", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    // A file of this machine that happens to be a valid ORDERS.json, holding a secret.
    const SECRET = "s3cr3t-of-this-machine";
    const target = join(fleet.root, "private-orders.json");
    await writeFile(target, JSON.stringify({ version: 1, orders: [{ id: "x", to: "izzit7", run: `echo ${SECRET}` }] }, null, 2) + "\n");
    // Someone commits ORDERS.json as a link to it.
    const p = fleet.person;
    await rm(join(p, "ORDERS.json"));
    await symlink(target, join(p, "ORDERS.json"));
    await git(p, "add", "ORDERS.json");
    await git(p, "-c", "user.name=Mallory", "-c", "user.email=m@example.com", "commit", "--quiet", "-m", "orders as a link");
    await git(p, "push", "--quiet", "origin", "HEAD:main");

    const output = runningCli(["watch", "--dir", dir, "--every", "1s", "--debounce", "200"], stops);
    // Its own sync brings the link into the checkout; the watch hears it and refuses to read through it.
    await waitFor(async () => (await lstat(join(dir, "ORDERS.json"))).isSymbolicLink(), 20_000, "the link in the checkout");
    const refused = /ORDERS\.json is a symbolic link; coord reads no file of the checkout through a link/;
    const history = () => git(fleet!.hubPath, "log", "-p", "--all");
    await waitFor(async () => refused.test(output()) || (await history()).includes(SECRET), 20_000, "the watch to refuse the link (or push what it points at)");
    await new Promise((r) => setTimeout(r, 1500)); // another sync or two
    expect(await history()).not.toContain(SECRET);
    expect(output()).toMatch(refused);
    expect(output()).not.toContain(SECRET);
  });
});
