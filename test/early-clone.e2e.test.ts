// `coord init` starts its clone while the CLI loads (src/commands/early-clone.ts):
// init takes it where it would clone; a clone it does not take is removed, so
// a refused init leaves nothing behind, as before.
import { mkdir, readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { initCandidate } from "../src/cli/quiet-args.js";
import { dropEarlyClone, startEarlyClone, takeEarlyClone } from "../src/commands/early-clone.js";
import { cliExec, git, hubHead, hubStatus, loggingGit, makeFleet, readLines, type Fleet } from "./helpers.js";

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
  }, 60_000);

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
  }, 60_000);

  it("answers init of its own directory, remote and branch, once; a directory that exists gets none", async () => {
    fleet = await makeFleet([]);
    const dir = join(fleet.root, "early");
    await startEarlyClone({ dir, remote: fleet.remote, branch: "main" });
    expect(takeEarlyClone(join(fleet.root, "elsewhere"), fleet.remote, "main")).toBeUndefined();
    expect(takeEarlyClone(dir, `${fleet.remote}/`, "main")).toBeUndefined();
    expect(takeEarlyClone(dir, fleet.remote, "other")).toBeUndefined();
    expect(await takeEarlyClone(dir, fleet.remote, "main")).toBeUndefined(); // cloned, no error
    expect((await git(dir, "rev-parse", "HEAD")).trim()).toBe(await hubHead(fleet));
    expect(takeEarlyClone(dir, fleet.remote, "main")).toBeUndefined(); // taken
    await dropEarlyClone();
    expect(existsSync(join(dir, ".git"))).toBe(true); // taken: init's now

    const there = join(fleet.root, "there");
    await mkdir(there);
    await startEarlyClone({ dir: there, remote: fleet.remote, branch: "main" });
    expect(takeEarlyClone(there, fleet.remote, "main")).toBeUndefined();
    expect(await readdir(there)).toEqual([]);
  }, 60_000);

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
  }, 60_000);

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
});
