// Objects coord writes itself (src/git/objects.ts) must be exactly the ones git
// makes: the same ids for the same trees and commits, and a repository git
// checks (fsck) without a word.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Repo } from "../src/git/git.js";
import { commitBody, commitTimeAndMessage, ObjectWriter, objectId, treeBody, treeListing } from "../src/git/objects.js";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const git = (cwd: string, args: string[], input?: string, env: NodeJS.ProcessEnv = {}) =>
  execFileSync("git", args, { cwd, input, encoding: "utf8", env: { ...process.env, ...env } }).trim();

describe("objects written by coord are git's own", () => {
  it("blobs, trees (any order of entries, odd names, links, subtrees) and commits get git's ids; fsck finds nothing wrong", async () => {
    dir = await mkdtemp(join(tmpdir(), "coord-objects-"));
    git(dir, ["init", "-q"]);
    const w = new ObjectWriter(join(dir, ".git", "objects"));
    const a = await w.write("blob", "hello\n");
    expect(a).toBe(git(dir, ["hash-object", "--stdin"], "hello\n"));
    const unicode = await w.write("blob", "é ✓ \u0000 binary-ish\n");
    expect(git(dir, ["cat-file", "-p", unicode])).toBe("é ✓ \u0000 binary-ish");
    const sub = await w.write("tree", treeBody([`100644 blob ${a}\tz.md`, `100755 blob ${a}\trun.sh`]));
    // Entries in no particular order; a tree named like a file prefix ("a" vs "a.b" vs "a/"), a link, a name with a tab.
    const entries = [`100644 blob ${a}\ta.b`, `040000 tree ${sub}\ta`, `120000 blob ${a}\tlink`, `100644 blob ${unicode}\twith\ttab`, `100644 blob ${a}\tA`];
    const ours = await w.write("tree", treeBody(entries));
    const theirs = git(dir, ["mktree", "-z"], entries.map((e) => `${e}\0`).join(""));
    expect(ours).toBe(theirs);
    expect(objectId("tree", treeBody(entries))).toBe(theirs);
    const when = new Date("2026-06-01T12:00:00Z");
    const author = { name: "coord m1", email: "m1@coord.invalid" };
    const commit = await w.write("commit", commitBody(ours, undefined, author, "coord: m1 status", when));
    const env = {
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
      GIT_AUTHOR_DATE: "1780315200 +0000",
      GIT_COMMITTER_DATE: "1780315200 +0000",
    };
    expect(commit).toBe(git(dir, ["commit-tree", ours, "-m", "coord: m1 status"], undefined, env));
    const child = await w.write("commit", commitBody(sub, commit, author, "second\n", when));
    expect(child).toBe(git(dir, ["commit-tree", sub, "-p", commit, "-m", "second"], undefined, env));
    // Read back, a tree lists as `git ls-tree -z` lists it (a publish edits the listing).
    const raw = execFileSync("git", ["cat-file", "tree", ours], { cwd: dir });
    expect(treeListing(raw)).toBe(execFileSync("git", ["ls-tree", "-z", ours], { cwd: dir, encoding: "utf8" }));
    expect(() => treeListing(raw.subarray(0, raw.length - 3))).toThrow(/cut short/);
    // Written again: the same id, nothing rewritten.
    expect(await w.write("tree", treeBody(entries))).toBe(ours);
    git(dir, ["update-ref", "refs/heads/main", child]);
    expect(git(dir, ["fsck", "--strict", "--no-dangling"])).toBe("");
  });

  it("a commit's time and message read from its object are what `git log --format=%ct%n%B` says, a signature's header lines and trailers included", async () => {
    dir = await mkdtemp(join(tmpdir(), "coord-objects-"));
    git(dir, ["init", "-q"]);
    const tree = git(dir, ["mktree"], "");
    const env = {
      GIT_AUTHOR_NAME: "a",
      GIT_AUTHOR_EMAIL: "a@x",
      GIT_COMMITTER_NAME: "c",
      GIT_COMMITTER_EMAIL: "c@x",
      GIT_AUTHOR_DATE: "1700000000 +0200",
      GIT_COMMITTER_DATE: "1780315200 -0130",
    };
    const plain = git(dir, ["commit-tree", tree, "-m", "coord: m1 status", "-m", "Coord-History: 7 2026-06-01T12:00:00.000Z"], undefined, env);
    const body = execFileSync("git", ["cat-file", "commit", plain], { cwd: dir });
    // The same commit with a signature header of several lines, as signed commits carry.
    const text = body.toString("utf8");
    const cut = text.indexOf("\n\n");
    const signed = git(
      dir,
      ["hash-object", "-t", "commit", "-w", "--stdin"],
      `${text.slice(0, cut)}\ngpgsig -----BEGIN SSH SIGNATURE-----\n U1NIU0lH\n \n -----END SSH SIGNATURE-----${text.slice(cut)}`,
    );
    for (const commit of [plain, signed]) {
      const [at, ...message] = execFileSync("git", ["log", "-1", "--format=%ct%n%B", commit], { cwd: dir, encoding: "utf8" }).split("\n");
      const read = commitTimeAndMessage(execFileSync("git", ["cat-file", "commit", commit], { cwd: dir }));
      expect(read?.at).toBe(Number(at));
      expect(read?.message.trimEnd()).toBe(message.join("\n").trimEnd());
    }
    expect(commitTimeAndMessage(Buffer.from("not a commit"))).toBeUndefined();
  });

  it("madeSince counts the commits of both branches of a tip made at a time or later, and none of the older ones", async () => {
    dir = await mkdtemp(join(tmpdir(), "coord-objects-"));
    git(dir, ["init", "-q"]);
    const tree = git(dir, ["mktree"], "");
    const T = 1_780_000_000; // seconds
    const chain = (times: number[]) => {
      let parent: string | undefined;
      for (const [i, t] of times.entries()) {
        const date = `${t} +0000`;
        const env = { GIT_AUTHOR_NAME: "a", GIT_AUTHOR_EMAIL: "a@x", GIT_COMMITTER_NAME: "c", GIT_COMMITTER_EMAIL: "c@x", GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
        parent = git(dir!, ["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", `c${i}`], undefined, env);
      }
      return parent!;
    };
    const machines = chain([T - 600, T - 120, T - 59, T - 30, T - 1]);
    const people = chain([T - 3600, T - 61, T - 10]);
    const repo = new Repo(dir, join(dir, ".git", "coord"));
    const ms = (s: number) => s * 1000;
    expect(await repo.madeSince(`${people}+${machines}`, ms(T - 60))).toBe(4); // 3 of the machines', 1 of the people's
    expect(await repo.madeSince(`${people}+${machines}`, ms(T - 59))).toBe(4); // at the time itself counts
    expect(await repo.madeSince(`${people}+${machines}`, ms(T))).toBe(0);
    expect(await repo.madeSince(`${people}+`, ms(T - 3600))).toBe(3); // a tip with no machines' branch yet
    expect(await repo.madeSince(machines, ms(T - 10_000))).toBe(5); // a plain commit
  });

  it("an object there already is freshened, not rewritten (git's prune keeps what a new commit uses); a temp file a killed writer left is git's to prune", async () => {
    dir = await mkdtemp(join(tmpdir(), "coord-objects-"));
    git(dir, ["init", "-q"]);
    const w = new ObjectWriter(join(dir, ".git", "objects"));
    const id = await w.write("blob", "old\n");
    const file = join(dir, ".git", "objects", id.slice(0, 2), id.slice(2));
    const monthAgo = Date.now() / 1000 - 30 * 24 * 3600;
    await utimes(file, monthAgo, monthAgo);
    expect(await w.write("blob", "old\n")).toBe(id);
    expect((await stat(file)).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    // What a writer killed between its write and its rename leaves, as coord names it: `git prune` removes it.
    const left = join(dir, ".git", "objects", id.slice(0, 2), "tmp_obj_coord_1234_deadbeef");
    await writeFile(left, "half");
    await utimes(left, monthAgo, monthAgo);
    git(dir, ["prune", "--expire=now"]);
    expect(existsSync(left)).toBe(false);
  });

  it.skipIf(process.getuid?.() === 0)("a read-only object directory is reported as such (EACCES), not as a missing path", async () => {
    dir = await mkdtemp(join(tmpdir(), "coord-objects-"));
    git(dir, ["init", "-q"]);
    await chmod(join(dir, ".git", "objects"), 0o555);
    try {
      await expect(new ObjectWriter(join(dir, ".git", "objects")).write("blob", "new\n")).rejects.toMatchObject({ code: "EACCES" });
    } finally {
      await chmod(join(dir, ".git", "objects"), 0o755);
    }
  });

  it("lists a tree with odd modes as git does (a directory 40755 is a directory, a file 100664 is 100644)", async () => {
    dir = await mkdtemp(join(tmpdir(), "coord-objects-"));
    git(dir, ["init", "-q"]);
    const blob = git(dir, ["hash-object", "-w", "--stdin"], "x\n");
    const sub = git(dir, ["mktree"], `100644 blob ${blob}\tfile\n`);
    const raw = (mode: string, name: string, id: string) => Buffer.concat([Buffer.from(`${mode} ${name}\0`), Buffer.from(id, "hex")]);
    const body = Buffer.concat([raw("100664", "a", blob), raw("40755", "coordination", sub), raw("120000", "link", blob), raw("100700", "run", blob)]);
    const odd = execFileSync("git", ["hash-object", "-t", "tree", "--literally", "-w", "--stdin"], { cwd: dir, input: body, encoding: "utf8" }).trim();
    expect(treeListing(body)).toBe(execFileSync("git", ["ls-tree", "-z", odd], { cwd: dir, encoding: "utf8" }));
  });

  it("a file entry that names a directory is read as before, and a publish on its commit keeps every other entry", async () => {
    dir = await mkdtemp(join(tmpdir(), "coord-objects-"));
    git(dir, ["init", "-q"]);
    const blob = git(dir, ["hash-object", "-w", "--stdin"], "{}\n");
    const sub = git(dir, ["mktree"], `100644 blob ${blob}\tCOMPUTER_a.md\n`);
    // STATUS.md as a file entry that names a tree (a hub without receive.fsckObjects takes it).
    const entry = (mode: string, name: string, id: string) => Buffer.concat([Buffer.from(`${mode} ${name}\0`), Buffer.from(id, "hex")]);
    const body = Buffer.concat([entry("100644", "ORDERS.json", blob), entry("100644", "README.md", blob), entry("100644", "STATUS.md", sub), entry("40000", "coordination", sub)]);
    const root = execFileSync("git", ["hash-object", "-t", "tree", "--literally", "-w", "--stdin"], { cwd: dir, input: body, encoding: "utf8" }).trim();
    const env = { GIT_AUTHOR_NAME: "p", GIT_AUTHOR_EMAIL: "p@p", GIT_COMMITTER_NAME: "p", GIT_COMMITTER_EMAIL: "p@p" };
    const commit = git(dir, ["commit-tree", root, "-m", "odd"], undefined, env);
    const repo = new Repo(dir, join(dir, ".git", "coord"));
    const files = await repo.readFiles(commit, ["ORDERS.json", "STATUS.md", "coordination"]);
    expect([...files.keys()].sort()).toEqual(["ORDERS.json", "STATUS.md", "coordination/COMPUTER_a.md"]);
    const next = await repo.commitFiles(commit, new Map([["coordination/COMPUTER_b.md", "b\n"]]), { name: "coord b", email: "b@coord.invalid" }, "coord: b status");
    expect(git(dir, ["ls-tree", "-r", "--name-only", next]).split("\n").sort()).toEqual([
      "ORDERS.json",
      "README.md",
      "STATUS.md",
      "coordination/COMPUTER_a.md",
      "coordination/COMPUTER_b.md",
    ]);
  });
});
