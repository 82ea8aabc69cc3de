// A ref read from its own file (src/git/dotgit.ts): the sync's head start asks
// whether the tracking refs (main's and coord's) still name the tip it fetched without a git process.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { headFromFiles, refFromFiles } from "../src/git/dotgit.js";
import { Repo } from "../src/git/git.js";
import { joinTip } from "../src/git/hub.js";
import { git, tempDir } from "./helpers.js";

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
});
