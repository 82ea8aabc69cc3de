// Reading a tip through one `git cat-file --batch` kept open (src/git/batch.ts,
// src/git/read.ts), held against git's own answers: the same files in the same
// order as `git ls-tree -r` and `git cat-file` give them, odd names and all; a
// file over its size limit not read, and the files after it read; one git
// process for a whole tip, none for a tip read again; a process that is gone
// started again; nothing that keeps coord running between reads.
import { execFileSync } from "node:child_process";
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ObjectBatch } from "../src/git/batch.js";
import { Repo } from "../src/git/git.js";
import { joinTip } from "../src/git/hub.js";
import { ObjectWriter, treeBody } from "../src/git/objects.js";
import { GitStopped } from "../src/git/run.js";
import { processGone, tempDir } from "./helpers.js";

let dir: string | undefined;
const savedPath = process.env.PATH;
afterEach(async () => {
  process.env.PATH = savedPath;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const ENV = { ...process.env, GIT_AUTHOR_NAME: "p", GIT_AUTHOR_EMAIL: "p@example.com", GIT_COMMITTER_NAME: "p", GIT_COMMITTER_EMAIL: "p@example.com" };
const git = (cwd: string, args: string[], input?: string | Buffer) =>
  execFileSync("git", args, { cwd, input, env: ENV, maxBuffer: 64 * 1024 * 1024 })
    .toString("utf8")
    .trim();

/** A commit of `files` (path → content; a link's content is its target) as the only commit of `branch`. */
function commitOf(repo: string, branch: string, files: Record<string, string | Buffer | { link: string } | { gitlink: string }>): string {
  const index = join(repo, ".git", `index-${branch}`);
  const env = { ...ENV, GIT_INDEX_FILE: index };
  execFileSync("git", ["read-tree", "--empty"], { cwd: repo, env });
  for (const [path, content] of Object.entries(files)) {
    let entry: string;
    if (typeof content === "object" && "gitlink" in content) entry = `160000 ${content.gitlink}`;
    else {
      const link = typeof content === "object" && "link" in content;
      const input = typeof content === "object" && "link" in content ? content.link : content;
      entry = `${link ? "120000" : "100644"} ${execFileSync("git", ["hash-object", "-w", "--stdin"], { cwd: repo, env, input }).toString().trim()}`;
    }
    // -z: a newline in a path stays in it.
    execFileSync("git", ["update-index", "--add", "-z", "--index-info"], { cwd: repo, env, input: `${entry}\t${path}\0` });
  }
  const tree = execFileSync("git", ["write-tree"], { cwd: repo, env }).toString().trim();
  const commit = execFileSync("git", ["commit-tree", tree, "-m", branch], { cwd: repo, env }).toString().trim();
  git(repo, ["update-ref", `refs/heads/${branch}`, commit]);
  return commit;
}

async function newRepo(): Promise<string> {
  dir = await tempDir("coord-batch-");
  git(dir, ["init", "-q", "-b", "main", "."]);
  return dir;
}

/** git's own answer: the blobs `ls-tree -r` lists under `prefixes`, each with `cat-file`'s content. */
function gitsFiles(repo: string, commit: string, prefixes: string[]): [string, string][] {
  const listing = execFileSync("git", ["ls-tree", "-r", "-z", "--full-tree", commit, "--", ...prefixes.map((p) => `:(literal)${p}`)], { cwd: repo }).toString("utf8");
  return listing
    .split("\0")
    .filter(Boolean)
    .flatMap((entry) => {
      const tab = entry.indexOf("\t");
      const [, type, id] = entry.slice(0, tab).split(" ") as [string, string, string];
      return type === "blob"
        ? [[entry.slice(tab + 1), execFileSync("git", ["cat-file", "blob", id], { cwd: repo, maxBuffer: 64 * 1024 * 1024 }).toString("utf8")] as [string, string]]
        : [];
    });
}

/**
 * Puts a `git` on PATH that notes each start in a log and runs the real one; returns the commands started, each
 * without its `-c` settings (the checkout's settings, read once a process, aside).
 */
async function countGitStarts(root: string): Promise<() => Promise<string[]>> {
  const real = execFileSync("sh", ["-c", "command -v git"]).toString().trim();
  const bin = join(root, "bin");
  const log = join(root, "starts.log");
  execFileSync("mkdir", ["-p", bin]);
  // Each argument ended by a unit separator, each command by a newline.
  await writeFile(join(bin, "git"), `#!/bin/sh\nprintf '%s\\037' "$@" >> '${log}'\necho >> '${log}'\nexec '${real}' "$@"\n`);
  await chmod(join(bin, "git"), 0o755);
  await writeFile(log, "");
  process.env.PATH = `${bin}:${savedPath}`;
  return async () =>
    (await readFile(log, "utf8"))
      .split("\n")
      .map((line) => {
        const args = line.split("\x1f").slice(0, -1);
        while (args[0] === "-c") args.splice(0, 2);
        return args.join(" ");
      })
      .filter((line) => line && !line.startsWith("config --get-regexp"));
}

describe("reading a tip through one cat-file --batch", () => {
  it("gives git's files in git's order: nested trees, odd names, prefixes of files and of directories; links and gitlinks as git lists them", async () => {
    const repo = await newRepo();
    const files = {
      "ORDERS.json": '{"orders":[]}\n',
      "STATUS.md": "# status\n",
      "coordination/COMPUTER_a.md": "a\n",
      "coordination/messages/a_TO_b.md": "hello ✓\n",
      "coordination/messages/b_TO_a.md": "",
      "coordination/orders/a.json": "[]\n",
      "coordination/odd/with\ttab": "tab\n",
      "coordination/odd/with\nnewline": "newline\n",
      "coordination/odd/é.md": "unicode\n",
      "coordination.md": "a file named like the directory, sorted before it by git\n",
      "coordination-x/y": "not under coordination\n",
      "elsewhere/z": "not asked\n",
    };
    const sub = commitOf(repo, "other", { "x.md": "x\n" });
    const people = commitOf(repo, "main", { ...files, "coordination/link": { link: "../ORDERS.json" }, "coordination/sub": { gitlink: sub } });
    const r = new Repo(repo, join(repo, ".git"));
    for (const prefixes of [["ORDERS.json", "STATUS.json", "STATUS.md", "coordination"], ["coordination/messages"], ["coordination/orders/a.json", "coordination/odd"], []]) {
      const ours = await r.readFiles(people, prefixes);
      const theirs = gitsFiles(repo, people, prefixes);
      // The link stands as a marker (coord never follows one); every other file is git's, in git's order.
      expect([...ours.keys()], prefixes.join(",")).toEqual(theirs.map(([p]) => p));
      for (const [path, text] of theirs) expect(ours.get(path), path).toEqual(path === "coordination/link" ? expect.stringMatching(/symbolic link/) : text);
      expect(await r.listFiles(people, prefixes)).toEqual(theirs.map(([p]) => p));
    }
    // A prefix ending in "/" names a directory only (as the memory hub takes it).
    expect([...(await r.readFiles(people, ["coordination/"])).keys()].every((p) => p.startsWith("coordination/"))).toBe(true);
    // A name that is not an id (a branch) is read as git resolves it; one that names nothing fails as ls-tree did.
    expect([...(await r.readFiles("main", ["coordination/orders"])).entries()]).toEqual([["coordination/orders/a.json", "[]\n"]]);
    await expect(r.readFiles("0".repeat(40), [])).rejects.toThrow(/Not a valid object name/);
  });

  it("a file over its path's size limit is not read, git stopping at its header; the files after it are read", async () => {
    const repo = await newRepo();
    // Over 1 MiB, the limit of a file that is neither orders, messages nor status.
    const big = Buffer.alloc(1024 * 1024 + 1, "y");
    const status = Buffer.alloc(1024 * 1024 + 1, "x");
    const machines = commitOf(repo, "coord", {
      "coordination/a-before.md": "before\n",
      "coordination/b-big.bin": big,
      "coordination/c-after.md": "after\n",
      "coordination/d-same.bin": status, // the same blob as STATUS.json, which may be 32 MiB: read once, held to each path's limit
      "STATUS.json": status,
    });
    const r = new Repo(repo, join(repo, ".git"));
    const files = await r.readFiles(machines, ["STATUS.json", "coordination"]);
    expect(files.get("coordination/a-before.md")).toBe("before\n");
    expect(files.get("coordination/b-big.bin")).toMatch(/not read: the file is 1 MiB, more than the 1 MiB/);
    expect(files.get("coordination/c-after.md")).toBe("after\n");
    expect(files.get("coordination/d-same.bin")).toMatch(/not read: the file is 1 MiB/);
    expect(files.get("STATUS.json")).toBe(status.toString("utf8"));
    // Read again in another checkout's memo slot: the same answer, the limit held on the blob remembered too.
    const again = await new Repo(repo, join(repo, ".git")).readFiles(machines, ["coordination"]);
    expect(again.get("coordination/b-big.bin")).toMatch(/not read/);
    expect(again.get("coordination/d-same.bin")).toMatch(/not read/);
    expect(again.get("coordination/c-after.md")).toBe("after\n");
  });

  it("a tip of both branches is one git process; the same tip again, none; a publish's tree edit on it, none", async () => {
    const repo = await newRepo();
    const people = commitOf(repo, "main", { "ORDERS.json": "{}\n" });
    const machines = commitOf(repo, "coord", { "STATUS.md": "s\n", "coordination/COMPUTER_a.md": "a\n", "coordination/messages/a_TO_b.md": "m\n" });
    const starts = await countGitStarts(repo);
    const r = new Repo(repo, join(repo, ".git"));
    const tip = joinTip(people, machines);
    const first = await r.readFiles(tip, ["ORDERS.json", "STATUS.md", "coordination"]);
    expect([...first.keys()].sort()).toEqual(["ORDERS.json", "STATUS.md", "coordination/COMPUTER_a.md", "coordination/messages/a_TO_b.md"]);
    expect(await starts()).toEqual(["cat-file --batch"]);
    expect(await r.readFiles(tip, ["ORDERS.json", "STATUS.md", "coordination"])).toEqual(first);
    const after = await r.commitFiles(tip, new Map([["coordination/COMPUTER_a.md", "a2\n"]]), { name: "a", email: "a@coord.invalid" }, "coord: a");
    expect(await starts()).toEqual(["cat-file --batch"]);
    // What the publish built is git's: the changed file, the rest as it was.
    const built = after.split("+")[1]!;
    expect(git(repo, ["cat-file", "-p", `${built}:coordination/COMPUTER_a.md`])).toBe("a2");
    expect(git(repo, ["cat-file", "-p", `${built}:coordination/messages/a_TO_b.md`])).toBe("m");
    r.objects().close();
  });
});

describe("what a pusher can put in a tree (found in attack)", () => {
  it("7,000 nested directories are read, without a stack for each", async () => {
    const repo = await newRepo();
    const w = new ObjectWriter(join(repo, ".git", "objects"));
    const blob = await w.write("blob", "deep\n");
    let tree = await w.write("tree", treeBody([`100644 blob ${blob}\tleaf.md`]));
    for (let depth = 0; depth < 7000; depth++) tree = await w.write("tree", treeBody([`040000 tree ${tree}\td`]));
    const root = await w.write("tree", treeBody([`040000 tree ${tree}\tcoordination`]));
    const commit = git(repo, ["commit-tree", root, "-m", "deep"]);
    const files = await new Repo(repo, join(repo, ".git")).readFiles(commit, ["coordination"]);
    expect([...files.entries()]).toEqual([[`coordination/${"d/".repeat(7000)}leaf.md`, "deep\n"]]);
  });

  it("files over their limit by the hundred: their sizes asked once, git not started again for each", async () => {
    const repo = await newRepo();
    const w = new ObjectWriter(join(repo, ".git", "objects"));
    const over = 1024 * 1024 + 1;
    const entries: string[] = [];
    for (let i = 0; i < 120; i++) {
      const body = Buffer.alloc(over);
      body.write(`file ${i}\n`);
      entries.push(`100644 blob ${await w.write("blob", body)}\tbig-${i}`);
    }
    entries.push(`100644 blob ${await w.write("blob", "small\n")}\tsmall.md`);
    const dir = await w.write("tree", treeBody(entries));
    const commit = git(repo, ["commit-tree", await w.write("tree", treeBody([`040000 tree ${dir}\tcoordination`])), "-m", "big"]);
    const starts = await countGitStarts(repo);
    const r = new Repo(repo, join(repo, ".git"));
    const files = await r.readFiles(commit, ["coordination"]);
    expect(files.get("coordination/small.md")).toBe("small\n");
    expect([...files.values()].filter((t) => /not read: the file is 1 MiB/.test(t))).toHaveLength(120);
    // One cat-file stopped at the first, one --batch-check for the rest, one cat-file for what is left.
    expect(await starts()).toEqual(["cat-file --batch", "cat-file --batch-check", "cat-file --batch"]);
    r.objects().close();
  });

  it("a commit too large to read here (a message of a megabyte): its tree asked of git, its files read", async () => {
    const repo = await newRepo();
    const w = new ObjectWriter(join(repo, ".git", "objects"));
    const tree = await w.write("tree", treeBody([`100644 blob ${await w.write("blob", "{}\n")}\tORDERS.json`]));
    const commit = git(repo, ["commit-tree", tree, "-F", "-"], `huge\n\n${"x".repeat(1024 * 1024)}\n`);
    const files = await new Repo(repo, join(repo, ".git")).readFiles(commit, ["ORDERS.json"]);
    expect([...files.entries()]).toEqual([["ORDERS.json", "{}\n"]]);
  });
});

describe("ObjectBatch", () => {
  it("answers in the order asked, a missing object as missing; a name that would break the stream is refused", async () => {
    const repo = await newRepo();
    const commit = commitOf(repo, "main", { "a.md": "A\n" });
    const b = new ObjectBatch(repo, 10_000);
    const [c, missing, blob] = await b.read([commit, "f".repeat(40), `${commit}:a.md`]);
    expect([c?.type, c?.id]).toEqual(["commit", commit]);
    expect(missing).toEqual({ id: "f".repeat(40), type: "missing", size: 0 });
    expect(blob?.body?.toString()).toBe("A\n");
    await expect(b.read(["HEAD\nHEAD"])).rejects.toThrow(/not an object name/);
    // Reads asked side by side take turns, each answered whole.
    const both = await Promise.all([b.read([commit]), b.read([`${commit}:a.md`, commit])]);
    expect(both.map((rs) => rs.map((x) => x.type))).toEqual([["commit"], ["blob", "commit"]]);
    b.close();
  });

  it("between reads it keeps nothing of this process running; idle, it ends; killed, the next read starts another", async () => {
    const repo = await newRepo();
    const commit = commitOf(repo, "main", { "a.md": "A\n" });
    const b = new ObjectBatch(repo, 10_000);
    const before = process.getActiveResourcesInfo().filter((r) => r === "ProcessWrap" || r === "PipeWrap").length;
    await b.read([commit]);
    // Nothing of git's keeps the event loop alive: a coord command that read ends when its work does.
    expect(process.getActiveResourcesInfo().filter((r) => r === "ProcessWrap" || r === "PipeWrap").length).toBe(before);
    const pid = b.pid!;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, "SIGKILL");
    expect(await processGone(pid, 10_000)).toBe(true);
    expect((await b.read([commit]))[0]?.type).toBe("commit");
    const second = b.pid!;
    expect(second).not.toBe(pid);
    // Left alone, it ends by itself.
    expect(await processGone(second, 10_000)).toBe(true);
  });

  it("an aborted checkout's read fails as stopped, and its process goes", async () => {
    const repo = await newRepo();
    const commit = commitOf(repo, "main", { "a.md": "A\n" });
    const abort = new AbortController();
    const b = new ObjectBatch(repo, 10_000, abort.signal);
    await b.read([commit]);
    abort.abort();
    const failed = await b.read([commit]).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(GitStopped);
  });
});
