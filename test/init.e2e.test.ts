// coord init and the checkout around it: empty remotes, leftovers in the
// checkout, how a command finds its checkout.
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveDir } from "../src/cli/dir.js";
import { sync } from "../src/sync/sync.js";
import { cli, git, hubStatus, makeFleet, pushOrders, tempDir } from "./helpers.js";

/**
 * An executable named `ssh` that logs its arguments (one line per call) and runs the remote command on this
 * machine from `home`, as sshd runs it from the account's home: `host:hub.git` is `<home>/hub.git`.
 */
async function localSsh(root: string, home: string): Promise<{ command: string; calls: () => Promise<string[]> }> {
  const bin = join(root, "fake-ssh");
  await mkdir(bin);
  const log = join(bin, "calls.log");
  await writeFile(join(bin, "ssh"), `#!/bin/sh\necho "$*" >> '${log}'\nfor last; do :; done\ncd '${home}' && exec sh -c "$last"\n`);
  await chmod(join(bin, "ssh"), 0o755);
  return { command: join(bin, "ssh"), calls: async () => (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean) };
}

/** `f` run with `vars` in this process's environment (as a CLI run with them would see them), then the environment as it was. */
async function withEnv<T>(vars: Record<string, string>, f: () => Promise<T>): Promise<T> {
  const before = new Map(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await f();
  } finally {
    for (const [k, v] of before) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe("coord init", () => {
  it("takes the remotes its --help shows: scp-like (user@host:path, an ssh alias), ssh:// with a port; then syncs over them", async () => {
    const fleet = await makeFleet(["izzit7"]);
    const ssh = await localSsh(fleet.root, fleet.root);
    // In this process, with the ssh of the test in its environment, as a CLI started with it would have.
    const env = { GIT_SSH_COMMAND: ssh.command };
    const help = await cli("init", "--help");
    for (const shown of ["git@github.com:org/fleet.git", "fleet-hub:fleet.git", "ssh://git@host:2222/fleet.git", "https://github.com/org/fleet.git"])
      expect(help.out).toContain(`--remote ${shown}`);
    const remotes: [name: string, remote: string, host: RegExp][] = [
      ["alias-m", "fleet-hub:hub.git", /(^| )fleet-hub git-upload-pack 'hub\.git'$/],
      ["scp-m", "git@fakehost:hub.git", /(^| )git@fakehost git-upload-pack 'hub\.git'$/],
      ["port-m", `ssh://git@fakehost:2222${fleet.hubPath}`, /-p 2222 git@fakehost git-upload-pack '.*hub\.git'$/],
    ];
    for (const [name, remote, host] of remotes) {
      const dir = join(fleet.root, name);
      const r = await withEnv(env, () => cli("init", dir, "--name", name, "--remote", remote));
      expect(r.code, `${remote}: ${r.err}`).toBe(0);
      expect(r.out).toContain(`registered machine ${name}`);
      expect((await git(dir, "remote", "get-url", "origin")).trim()).toBe(remote);
      expect(await stat(join(dir, ".git", "shallow")).catch(() => undefined), `${remote}: cloned as a URL (newest commit only)`).toBeDefined();
      expect(await git(fleet.hubPath, "ls-tree", "--name-only", "coord", `coordination/COMPUTER_${name}.md`)).not.toBe("");
      expect(await ssh.calls()).toContainEqual(expect.stringMatching(host));
    }
    await pushOrders(fleet, [{ id: "hello", to: "alias-m", run: "echo hi" }]);
    const synced = await withEnv(env, () => cli("sync", "--dir", join(fleet.root, "alias-m")));
    expect(synced.code, synced.err).toBe(0);
    expect((await hubStatus(fleet)).orders.hello?.state).toBe("completed");
    expect(await ssh.calls()).toContainEqual(expect.stringMatching(/(^| )fleet-hub git-receive-pack 'hub\.git'$/));
    await fleet.cleanup();
  });

  it("scaffolds an empty remote (as a new GitHub repo is) and registers the machine", async () => {
    const root = await tempDir();
    const hub = join(root, "empty.git");
    await git(root, "init", "--quiet", "--bare", "--initial-branch=main", hub);
    const r = await cli("init", join(root, "izzit7"), "--name", "izzit7", "--remote", hub, "--heartbeat", "5m");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/scaffolded/);
    // The people's files on main, the machines' on coord.
    const tree = async (branch: string) => (await git(hub, "ls-tree", "-r", "--name-only", branch)).split("\n").filter(Boolean).sort();
    expect(await tree("main")).toEqual(["ORDERS.json", "README.md", "coordination/orders.schema.json"]);
    expect(await tree("coord")).toEqual(["STATUS.json", "STATUS.md", "coordination/COMPUTER_izzit7.md"]);
    const status = JSON.parse(await git(hub, "show", "coord:STATUS.json"));
    expect(status.machines.izzit7).toMatchObject({ state: "idle", heartbeat: 300 });
    expect(status.machines.izzit7.capabilities).toMatchObject({ os: process.platform, node: process.versions.node });
    expect(JSON.parse(await git(hub, "show", "main:ORDERS.json"))).toEqual({ $schema: "coordination/orders.schema.json", version: 1, orders: [] });
    // A second machine joins the now-scaffolded hub; the scaffold is not made twice.
    const second = await cli("init", join(root, "soda-yeti"), "--name", "soda-yeti", "--remote", hub);
    expect(second.out).not.toMatch(/scaffolded/);
    expect((await git(hub, "log", "--format=%s", "main", "coord")).match(/create the coordination hub/g)).toHaveLength(1);
    // main holds only the scaffold: no machine committed there.
    expect((await git(hub, "log", "--format=%an", "main")).split("\n").filter(Boolean)).toHaveLength(1);
  });

  it("on an empty remote whose default branch is another (master), leaves the checkout on the hub's branch, tracking it", async () => {
    const root = await tempDir();
    // The machine's git names a new branch master (a global config, which coord's git reads).
    const globalConfig = join(root, "gitconfig");
    await writeFile(globalConfig, "[init]\n\tdefaultBranch = master\n");
    // The clone of an empty hub is on the branch the hub's HEAD names when the hub says so, else on the machine's
    // default: a hub whose HEAD is master, and one that keeps its unborn HEAD to itself (as servers before git 2.31).
    for (const advertised of [true, false]) {
      const hub = join(root, `empty-${advertised}.git`);
      await git(root, "-c", "init.defaultBranch=master", "init", "--quiet", "--bare", hub);
      if (!advertised) await git(hub, "config", "lsrefs.unborn", "ignore");
      await withEnv({ GIT_CONFIG_GLOBAL: globalConfig }, async () => {
        // The case happens: a plain clone of this hub on this machine is on master.
        const plain = join(root, `plain-${advertised}`);
        await git(root, "clone", "--quiet", hub, plain);
        expect((await git(plain, "symbolic-ref", "--short", "HEAD")).trim()).toBe("master");
        const dir = join(root, `m-${advertised}`);
        const r = await cli("init", dir, "--name", "m", "--remote", hub);
        expect(r.code, r.err).toBe(0);
        expect((await git(dir, "symbolic-ref", "--short", "HEAD")).trim()).toBe("main");
        expect((await git(dir, "rev-parse", "--abbrev-ref", "@{upstream}")).trim()).toBe("origin/main");
        expect((await git(dir, "status", "-sb")).split("\n")[0]).toBe("## main...origin/main");
        expect(await git(hub, "branch", "--list", "master")).toBe("");
        await git(dir, "pull", "--quiet", "--ff-only"); // works: it tracks a branch that exists
      });
    }
  });

  it("refuses a bad --heartbeat with one sentence", async () => {
    const fleet = await makeFleet([]);
    const r = await cli("init", join(fleet.root, "m"), "--name", "m", "--remote", fleet.remote, "--heartbeat", "often");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--heartbeat: "often" is not a duration/);
    await fleet.cleanup();
  });

  it("adopts an existing clone of the hub", async () => {
    const fleet = await makeFleet([]);
    const dir = join(fleet.root, "existing");
    await git(fleet.root, "clone", "--quiet", fleet.remote, dir);
    const r = await cli("init", dir, "--name", "adopted", "--remote", fleet.remote);
    expect(r.code, r.err).toBe(0);
    expect(Object.keys((await hubStatus(fleet)).machines)).toEqual(["adopted"]);
    await fleet.cleanup();
  });
});

describe("the checkout", () => {
  it("a leftover index.lock or a local edit in the checkout does not stop syncs, and nothing local is overwritten", async () => {
    const fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    await writeFile(join(dir, ".git", "index.lock"), "");
    const localEdit = '{ "version": 1, "orders": [] , "note": "my unsaved idea" }\n';
    await writeFile(join(dir, "ORDERS.json"), localEdit);
    await pushOrders(fleet, [{ id: "a", to: "izzit7", run: "echo a" }]);
    const r = await sync({ dir });
    expect(r.ran.map((t) => t.id)).toEqual(["a"]);
    expect(r.pushed).toBeDefined();
    expect(r.warnings.join()).toMatch(/checkout was not updated .* local changes are kept/);
    expect(await readFile(join(dir, "ORDERS.json"), "utf8")).toBe(localEdit);
    expect((await hubStatus(fleet)).orders.a?.state).toBe("completed");
    await fleet.cleanup();
  });

  it("--no-run publishes status but starts nothing", async () => {
    const fleet = await makeFleet(["izzit7"]);
    await pushOrders(fleet, [{ id: "a", to: "izzit7", run: "echo a" }]);
    const r = await cli("sync", "--dir", fleet.machines.izzit7!, "--no-run");
    expect(r.code).toBe(0);
    expect((await hubStatus(fleet)).orders.a?.machines.izzit7?.state).toBe("queued");
    await fleet.cleanup();
  });

  it("commands find their checkout from --dir, then COORD_DIR, then the enclosing checkout", async () => {
    const fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const sub = join(dir, "coordination");
    await mkdir(sub, { recursive: true });
    expect(await resolveDir(undefined, {}, sub)).toBe(dir);
    expect(await resolveDir(undefined, { COORD_DIR: dir }, "/")).toBe(dir);
    expect(await resolveDir("/somewhere", { COORD_DIR: dir }, sub)).toBe("/somewhere");
    await expect(resolveDir(undefined, {}, await tempDir())).rejects.toThrow(/pass --dir <checkout> or set COORD_DIR/);
    await fleet.cleanup();
  });
});
