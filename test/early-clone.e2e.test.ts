// `coord init` starts its clone while the CLI loads (src/startup/early-clone.ts):
// init takes it where it would clone; a clone it does not take is removed, so
// a refused init leaves nothing behind, as before.
import { chmod, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { initCandidate } from "../src/cli/quiet-args.js";
import { dropEarlyClone, startEarlyClone, takeEarlyClone } from "../src/startup/early-clone.js";
import { SETTINGS_STUB } from "../src/git/clone.js";
import { cliExec, cliProcess, git, hubHead, hubStatus, loggingGit, makeFleet, peopleHead, processGone, readLines, silentSsh, tempDir, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await dropEarlyClone();
  await fleet?.cleanup();
  fleet = undefined;
});

describe("coord init's early clone", () => {
  it("is taken by init: one clone, and the machine is registered", async () => {
    fleet = await makeFleet([]);
    const log = join(fleet.root, "git.log");
    const bin = await loggingGit(fleet.root, log);
    const dir = join(fleet.root, "joiner");
    const r = await cliExec(["init", dir, "--name", "joiner", "--remote", fleet.remote], undefined, { ...process.env, PATH: `${bin}:${process.env.PATH}` });
    expect(r.code, r.err).toBe(0);
    expect((await readLines(log)).filter((l) => / clone /.test(` ${l} `))).toHaveLength(1);
    expect(Object.keys((await hubStatus(fleet)).machines)).toEqual(["joiner"]);
  });

  it("that init refuses (a bad name, a bad option) is removed: nothing is left where it cloned", async () => {
    fleet = await makeFleet([]);
    for (const args of [
      ["--name", "Not A Name"],
      ["--name", "fine", "--heartbeat", "often"],
    ]) {
      const dir = join(fleet.root, "refused");
      const r = await cliExec(["init", dir, "--remote", fleet.remote, ...args]);
      expect(r.code, r.err).toBe(2);
      expect(existsSync(dir), `${args.join(" ")}: ${dir} is left`).toBe(false);
    }
    // Into directories that do not exist yet: none is made (git would make them, and nobody would remove them).
    const deep = join(fleet.root, "new", "parent", "m5");
    expect((await cliExec(["init", deep, "--remote", fleet.remote, "--name", "Not A Name"])).code).toBe(2);
    expect(existsSync(join(fleet.root, "new")), "the parents of a refused init's directory are left").toBe(false);
  });

  it("answers init of its own directory, remote and branch, once; a directory that exists gets none", async () => {
    fleet = await makeFleet([]);
    const dir = join(fleet.root, "early");
    await startEarlyClone({ dir, remote: fleet.remote, branch: "main" });
    expect(takeEarlyClone(join(fleet.root, "elsewhere"), fleet.remote, "main")).toBeUndefined();
    expect(takeEarlyClone(dir, `${fleet.remote}/`, "main")).toBeUndefined();
    expect(takeEarlyClone(dir, fleet.remote, "other")).toBeUndefined();
    expect(await takeEarlyClone(dir, fleet.remote, "main")).toBeUndefined(); // cloned, no error
    expect((await git(dir, "rev-parse", "HEAD")).trim()).toBe(await peopleHead(fleet)); // the checkout is on main
    expect(takeEarlyClone(dir, fleet.remote, "main")).toBeUndefined(); // taken
    await dropEarlyClone();
    expect(existsSync(join(dir, ".git"))).toBe(true); // taken: init's now

    const there = join(fleet.root, "there");
    await mkdir(there);
    await startEarlyClone({ dir: there, remote: fleet.remote, branch: "main" });
    expect(takeEarlyClone(there, fleet.remote, "main")).toBeUndefined();
    expect(await readdir(there)).toEqual([]);
  });

  it("says why a clone failed to init, and leaves nothing to remove", async () => {
    fleet = await makeFleet([]);
    const dir = join(fleet.root, "nowhere");
    const remote = join(fleet.root, "no-such-hub.git");
    await startEarlyClone({ dir, remote, branch: "main" });
    const failed = await takeEarlyClone(dir, remote, "main");
    expect(String((failed?.error as Error | undefined)?.message)).toMatch(/does not exist|not a git repository/i);
    const r = await cliExec(["init", dir, "--name", "nowhere", "--remote", remote]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/could not clone/);
    expect(existsSync(dir)).toBe(false);
  });

  it("starts only for a plain `coord init <dir> --name N --remote R` command line", () => {
    const dir = join(process.cwd(), "d");
    expect(initCandidate(["init", "d", "--name", "n", "--remote", "r"])).toEqual({ dir, remote: "r", branch: "main" });
    expect(initCandidate(["init", "--remote=r", "d", "--name=n", "--branch", "b", "--cron", "--heartbeat", "5m"])).toEqual({ dir, remote: "r", branch: "b" });
    expect(initCandidate(["init", "d", "--name", "n", "--remote", "r", "--reclaim", "--systemd"])).toEqual({ dir, remote: "r", branch: "main" });
    for (const other of [
      ["sync", "--dir", "d"],
      ["init", "d", "--name", "n"], // no remote
      ["init", "d", "--remote", "r"], // no name: init refuses it
      ["init", "--name", "n", "--remote", "r"], // no directory
      ["init", "d", "e", "--name", "n", "--remote", "r"],
      ["init", "d", "--name", "n", "--remote", "r", "--help"],
      ["init", "d", "--name", "n", "--remote", "r", "--remote", "s"],
      ["init", "d", "--name", "n", "--remote"],
      ["init", "d", "--name", "n", "--remote", "--branch"],
      ["init", "d", "--name", "n", "--remote=", "r"],
      ["init", "d", "--name", "n", "--remote", "r", "-x"],
    ])
      expect(initCandidate(other), other.join(" ")).toBeUndefined();
  });
  it("clones with git's settings as the new checkout has them (an includeIf gitdir: ssh key), not those of where coord runs (another repository's key)", async () => {
    const root = await tempDir("coord-clone-settings-");
    const home = join(root, "home");
    await mkdir(home);
    /** An ssh command that notes that it ran, and fails (the host does not exist either). */
    const ssh = async (name: string) => {
      const file = join(root, name);
      await writeFile(file, `#!/bin/sh\necho "$@" >> ${file}.used\nexit 1\n`);
      await chmod(file, 0o755);
      return { command: file, used: () => existsSync(`${file}.used`) };
    };
    const included = await ssh("work-ssh");
    const other = await ssh("other-ssh");
    await writeFile(join(root, "work.inc"), `[core]\n\tsshCommand = ${included.command}\n`);
    await writeFile(join(home, ".gitconfig"), `[includeIf "gitdir:${root}/work/"]\n\tpath = ${root}/work.inc\n`);
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), GIT_CONFIG_NOSYSTEM: "1" };
    const init = (dir: string, cwd = root) =>
      new Promise<number | null>((resolve) => cliProcess(["init", dir, "--name", "m1", "--remote", "ssh://nohost.invalid/fleet.git"], { cwd, env }).on("close", resolve));

    // The early clone (a new directory), then init's own (an empty one): both with the key the checkout will have.
    await mkdir(join(root, "work"));
    expect(await init(join(root, "work", "fleet"))).toBe(1);
    expect(included.used()).toBe(true);
    expect(existsSync(join(root, "work", "fleet"))).toBe(false);
    await rm(`${included.command}.used`);
    await mkdir(join(root, "work", "empty"));
    expect(await init(join(root, "work", "empty"))).toBe(1);
    expect(included.used()).toBe(true);
    expect(await readdir(join(root, "work", "empty"))).toEqual([]); // the stub of the lookup is gone

    // Run from inside another repository with a key of its own: that key is not the new checkout's.
    const project = join(root, "project");
    await mkdir(project);
    await git(project, "init", "-q");
    await git(project, "config", "core.sshCommand", other.command);
    await mkdir(join(root, "elsewhere"));
    expect(await init(join(root, "elsewhere", "fleet"), project)).toBe(1);
    expect(other.used()).toBe(false);
  });

  it("a stub a killed clone left where it looked git's settings up is removed by the next init, which clones there", async () => {
    fleet = await makeFleet([]);
    const dir = join(fleet.root, "m1");
    await mkdir(join(dir, ".git", "objects"), { recursive: true });
    await mkdir(join(dir, ".git", "refs"));
    await writeFile(join(dir, ".git", "HEAD"), "ref: refs/heads/main\n");
    await writeFile(join(dir, ".git", SETTINGS_STUB), "");
    const r = await cliExec(["init", dir, "--name", "m1", "--remote", fleet.remote]);
    expect(r.code, r.err).toBe(0);
    expect((await git(dir, "rev-parse", "HEAD")).trim()).toBe(await peopleHead(fleet)); // the checkout is on main
    expect((await git(dir, "rev-parse", "refs/remotes/origin/coord")).trim()).toBe(await hubHead(fleet)); // and has coord's tip, its registration on it
    expect(existsSync(join(dir, ".git", SETTINGS_STUB))).toBe(false);
  });
  it("stopped by a signal during its clone, init takes the clone and what it started along (each git runs in a group of its own)", async () => {
    const root = await tempDir("coord-clone-signal-");
    const { command: ssh, pid: sshPid } = await silentSsh(root);
    const dir = join(root, "fleet");
    const child = cliProcess(["init", dir, "--name", "m1", "--remote", "ssh://nohost.invalid/fleet.git"], { env: { ...process.env, GIT_SSH_COMMAND: ssh } });
    const pid = await sshPid();
    child.kill("SIGINT");
    const signal = await new Promise((resolve) => child.on("close", (_code, sig) => resolve(sig)));
    expect(signal).toBe("SIGINT"); // it died of it, as before
    expect(await processGone(pid), "the clone's ssh outlived coord").toBe(true);
    for (let i = 0; i < 40 && existsSync(dir); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(dir), "the clone's directory is left").toBe(false);
  });
});
