// A ref read from its own file (src/git/dotgit.ts): the sync's head start asks
// whether the tracking refs (main's and coord's) still name the tip it fetched without a git process, and a
// fetch reads the tip it brought from them. A daemon opens its machine at every sync: the remote's URL is asked
// of git once until the checkout's config changes.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { headFromFiles, refFromFiles } from "../src/git/dotgit.js";
import { Repo } from "../src/git/git.js";
import { joinTip } from "../src/git/hub.js";
import { remoteUrlOf } from "../src/git/local.js";
import { git, hubHead, loggingGit, makeFleet, peopleHead, pushOrders, readLines, tempDir } from "./helpers.js";

describe("a ref read from its file", () => {
  it("is read loose or packed; odd or in a reftable it is git's to answer", async () => {
    const dir = await tempDir();
    await git(dir, "init", "--quiet", "--initial-branch=main");
    await git(dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "--allow-empty", "-m", "one");
    const head = (await git(dir, "rev-parse", "HEAD")).trim();
    await git(dir, "update-ref", "refs/remotes/origin/main", head);
    const gitDir = join(dir, ".git");
    expect(await refFromFiles(gitDir, "refs/remotes/origin/main")).toBe(head);
    expect(await refFromFiles(gitDir, "refs/heads/main")).toBe(head);
    for (const odd of ["HEAD", "refs/remotes/../../config", "refs/tags/v1", "refs/remotes/origin/missing"]) expect(await refFromFiles(gitDir, odd), odd).toBeUndefined();
    const repo = new Repo(dir, join(gitDir, "coord"));
    // No machines' branch fetched yet: the tip is main's commit and an empty machines' part.
    expect(await repo.trackingRefIs(joinTip(head, undefined))).toBe(true);
    await git(dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "--allow-empty", "-m", "two");
    const machines = (await git(dir, "rev-parse", "HEAD")).trim();
    await git(dir, "update-ref", "refs/remotes/origin/coord", machines);
    expect(await refFromFiles(gitDir, "refs/remotes/origin/coord")).toBe(machines);
    const tip = joinTip(head, machines);
    expect(await repo.trackingRefIs(tip)).toBe(true);
    expect(await repo.trackingRefIs(joinTip(head, undefined))).toBe(false);
    expect(await repo.trackingRefIs(joinTip(machines, head))).toBe(false);
    expect(await headFromFiles(gitDir)).toBe(machines);
    await git(dir, "pack-refs", "--all");
    expect(await refFromFiles(gitDir, "refs/remotes/origin/main")).toBe(head);
    expect(await refFromFiles(gitDir, "refs/remotes/origin/coord")).toBe(machines);
    expect(await headFromFiles(gitDir)).toBe(machines);
    expect(await repo.trackingRefIs(tip)).toBe(true);
    // A ref's own file wins over its packed line (git writes the file when the ref moves after packing).
    await git(dir, "update-ref", "refs/remotes/origin/coord", head);
    expect(await refFromFiles(gitDir, "refs/remotes/origin/coord")).toBe(head);
    expect(await repo.trackingRefIs(tip)).toBe(false);
    await git(dir, "update-ref", "refs/remotes/origin/coord", machines);
    await git(dir, "checkout", "--quiet", "--detach", head);
    expect(await headFromFiles(gitDir)).toBe(head);
    expect(await repo.trackingRefIs(joinTip("0".repeat(40), machines))).toBe(false);
    expect(await repo.trackingRefIs(joinTip(head, "0".repeat(40)))).toBe(false);
    await mkdir(join(gitDir, "refs", "remotes", "origin"), { recursive: true });
    await writeFile(join(gitDir, "refs", "remotes", "origin", "main"), `${head}\n`);
    await mkdir(join(gitDir, "reftable"));
    expect(await refFromFiles(gitDir, "refs/remotes/origin/main")).toBeUndefined();
  });

  it("a fetch reads the tip it brought from the tracking refs' files: the same tip git names, with no git process for it", async () => {
    const fleet = await makeFleet(["a"]);
    try {
      const dir = fleet.machines.a!;
      await pushOrders(fleet, [{ id: "x", to: "a", run: "true" }]);
      const expected = joinTip(await peopleHead(fleet), await hubHead(fleet));
      const log = join(fleet.root, "git.log");
      const bin = await loggingGit(fleet.root, log);
      const path = process.env.PATH;
      process.env.PATH = `${bin}:${path}`;
      try {
        const tip = await new Repo(dir, join(dir, ".git", "coord"), "origin", "main").fetch();
        expect(tip).toBe(expected);
        const asked = (await readLines(log)).map((l) => l.replace(/^.*?(fetch|for-each-ref|rev-parse) .*$/, "$1"));
        expect(asked).toContain("fetch");
        expect(asked).not.toContain("for-each-ref");
        expect(asked).not.toContain("rev-parse");
      } finally {
        process.env.PATH = path;
      }
    } finally {
      await fleet.cleanup();
    }
  });

  it("the remote's URL is asked of git once, and again once the checkout's config changed", async () => {
    const dir = await tempDir();
    await git(dir, "init", "--quiet", "--initial-branch=main");
    await git(dir, "remote", "add", "origin", "https://example.invalid/one.git");
    const log = join(dir, "..", `${dir.split("/").pop()}-git.log`);
    const bin = await loggingGit(await tempDir(), log);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      const asked = async () => (await readLines(log)).filter((l) => / remote get-url /.test(` ${l} `)).length;
      expect(await remoteUrlOf(dir, "origin")).toBe("https://example.invalid/one.git");
      expect(await remoteUrlOf(dir, "origin")).toBe("https://example.invalid/one.git");
      expect(await asked()).toBe(1);
      await git(dir, "remote", "set-url", "origin", "https://example.invalid/two.git");
      expect(await remoteUrlOf(dir, "origin")).toBe("https://example.invalid/two.git");
      expect(await asked()).toBe(2);
      expect(await remoteUrlOf(dir, "elsewhere")).toBe("");
    } finally {
      process.env.PATH = path;
    }
  });
});
