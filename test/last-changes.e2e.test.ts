// The signed files' last changes asked together (Repo.lastChanges: one walk of the history, one read of the
// commits) give exactly what each asked alone gives (lastChange, then afterVerified's rollback check: isAncestor,
// restartedAfter), or leave the path to be asked alone. On real git, with commits signed in process: a line of
// commits, a merge, a rollback, a new root, a shallow clone.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HISTORY_TRAILER } from "../src/core/hub/status-history.js";
import type { Change } from "../src/core/trust/trust.js";
import { newKeyPair, readSigningKey } from "../src/core/trust/sshsig.js";
import { LAST_CHANGES_WALK, Repo } from "../src/git/git.js";
import { COMMIT_READ_MAX, LATER_CHANGES_LOOKED_AT } from "../src/git/last-change.js";
import { sync } from "../src/sync/sync.js";
import { afterVerified } from "../src/sync/trust.js";
import { cli, type Fleet, git, hasSshKeygen, hubFile, loggingGit, makeFleet, pushOrders, readLines, tempDir } from "./helpers.js";
import { patient } from "./patience.js";

const haveSshKeygen = await hasSshKeygen();
let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

interface World {
  dir: string;
  repo: Repo;
  signers: { allowed: string };
  /** A commit on `parent` changing `changes` (null: deleted), by `by` (signed with its key; "nobody": unsigned). */
  commit(
    parent: string | undefined,
    changes: Record<string, string | null>,
    by: "m1" | "m2" | "stranger" | "nobody",
    opts?: { newRoot?: boolean; message?: string },
  ): Promise<string>;
}

async function world(): Promise<World> {
  const dir = await tempDir("coord-last-changes-");
  await git(dir, "init", "--quiet", "--initial-branch=main");
  const repo = new Repo(dir, join(dir, ".git"));
  const keys: Record<string, string> = {};
  const lines: string[] = [];
  for (const name of ["m1", "m2", "stranger"]) {
    const made = newKeyPair(`coord ${name}`);
    keys[name] = join(dir, ".git", `${name}_key`);
    await writeFile(keys[name], made.privateKey, { mode: 0o600 });
    if (name !== "stranger") lines.push(`${name} ${readSigningKey(made.privateKey)!.publicKey}`);
  }
  const allowed = join(dir, ".git", "signers");
  await writeFile(allowed, `${lines.join("\n")}\n`);
  let n = 0;
  return {
    dir,
    repo,
    signers: { allowed },
    async commit(parent, changes, by, opts = {}) {
      if (by === "nobody") delete repo.signingKey;
      else repo.signingKey = keys[by];
      const author = by === "nobody" ? { name: "A Person", email: "person@example.com" } : { name: `coord ${by}`, email: `${by}@coord.invalid` };
      return repo.commitFiles(parent, new Map(Object.entries(changes)), author, opts.message ?? `change ${++n}\n`, opts.newRoot ? { newRoot: true } : {});
    },
  };
}

/** A commit with `parents`, the tree of the first (git commit-tree: a merge), by no one in particular. */
async function merge(dir: string, parents: string[]): Promise<string> {
  const tree = (await git(dir, "rev-parse", `${parents[0]}^{tree}`)).trim();
  return (await git(dir, "-c", "user.name=A Person", "-c", "user.email=person@example.com", "commit-tree", tree, ...parents.flatMap((p) => ["-p", p]), "-m", "merge")).trim();
}

/**
 * Asks `paths` at `tip` together and each alone (accepted: path → the commit of the version accepted last); every
 * answer together must be the one alone. Returns the paths answered together, and each one's answer alone.
 */
async function compare(repo: Repo, tip: string, paths: string[], accepted: Record<string, string | undefined>, signers: { allowed: string }) {
  const together = await repo.lastChanges(
    tip,
    paths.map((path) => ({ path, accepted: accepted[path] })),
    signers,
  );
  const alone = new Map<string, Change | undefined>();
  for (const path of paths) {
    const before = accepted[path];
    alone.set(path, await afterVerified({ hub: repo }, await repo.lastChange(tip, path, signers), before === undefined ? undefined : { commit: before }));
  }
  for (const [path, change] of together) expect(change, path).toStrictEqual(alone.get(path));
  expect([...together.keys()].every((p) => paths.includes(p))).toBe(true);
  return { answered: [...together.keys()].sort(), alone };
}

const UNKNOWN = "0123456789abcdef0123456789abcdef01234567";

/** A git process that asks whether one commit is another's ancestor (git/history.ts ancestorHere). */
const ANCESTRY = /(^| )merge-base /;

describe("the signed files' last changes asked together", () => {
  it("on a line of commits: the same answers as asked alone, for every kind of accepted commit; a rollback check that fails is left alone", async () => {
    const w = await world();
    const c0 = await w.commit(undefined, { "a.txt": "a0\n", "b.txt": "b0\n", "dir/c.txt": "c0\n", "old.txt": "o\n", "x/y": "xy\n" }, "nobody");
    const c1 = await w.commit(c0, { "a.txt": "a1\n" }, "m1");
    const c2 = await w.commit(c1, { "b.txt": "b1\n", "dir/c.txt": "c1\n" }, "m2");
    const c3 = await w.commit(c2, { "a.txt": "a3\n" }, "stranger");
    const c4 = await w.commit(c3, { "dir/d.txt": "d\n" }, "m1");
    const c5 = await w.commit(c4, { "b.txt": "b5\n" }, "nobody");
    const c6 = await w.commit(c5, { "old.txt": null, "new.txt": "o\n" }, "m2"); // a rename, as git would see it
    const c7 = await w.commit(c6, { "e.txt": "e\n" }, "m1");
    const tip = await w.commit(c7, { "e.txt": "e2\n" }, "m1");
    const paths = ["a.txt", "b.txt", "dir/c.txt", "dir/d.txt", "dir", "old.txt", "new.txt", "e.txt", "x/y", "x", "never.txt"];
    // Each row: the commit each path's version was accepted at (a path not named: none).
    const rows: { name: string; accepted: Record<string, string>; answered: string[] }[] = [
      { name: "nothing accepted", accepted: {}, answered: ["a.txt", "b.txt", "dir", "dir/c.txt", "dir/d.txt", "e.txt", "new.txt", "old.txt"] },
      {
        name: "accepted below each change (an ancestor)",
        accepted: { "a.txt": c1, "dir/c.txt": c0, "dir/d.txt": c3, dir: c1, "new.txt": c5, "old.txt": c0, "e.txt": c7 },
        answered: ["a.txt", "b.txt", "dir", "dir/c.txt", "dir/d.txt", "e.txt", "new.txt", "old.txt"],
      },
      {
        name: "accepted at each change itself",
        accepted: { "a.txt": c3, "b.txt": c5, "dir/c.txt": c2, "dir/d.txt": c4, "new.txt": c6, "e.txt": tip },
        answered: ["a.txt", "b.txt", "dir", "dir/c.txt", "dir/d.txt", "e.txt", "new.txt", "old.txt"],
      },
      {
        // Newer than the change: not its ancestor (afterVerified asks restartedAfter too): asked alone.
        name: "accepted above the change",
        accepted: { "dir/c.txt": c5, "dir/d.txt": tip, "new.txt": c7 },
        answered: ["a.txt", "b.txt", "dir", "e.txt", "old.txt"],
      },
      {
        // Unknown here: asked alone. The root is the line's last parent: below every change on it.
        name: "accepted at a commit not on the line",
        accepted: { "dir/c.txt": UNKNOWN, "new.txt": UNKNOWN, "e.txt": c0 },
        answered: ["a.txt", "b.txt", "dir", "dir/d.txt", "e.txt", "old.txt"],
      },
    ];
    for (const row of rows) {
      const { answered, alone } = await compare(w.repo, tip, paths, row.accepted, w.signers);
      expect(answered, row.name).toEqual(row.answered);
      if (row.name === "accepted above the change") expect(alone.get("dir/c.txt")?.notAfter).toBe(c5); // what the batch must not have said
    }
    // The changes themselves, as lastChange names them (not only equal to it: what it is).
    const { alone } = await compare(w.repo, tip, paths, {}, w.signers);
    expect(Object.fromEntries(paths.map((p) => [p, alone.get(p) && `${alone.get(p)!.commit.slice(0, 7)} ${alone.get(p)!.status}`]))).toEqual({
      "a.txt": `${c3.slice(0, 7)} U`,
      "b.txt": `${c5.slice(0, 7)} N`,
      "dir/c.txt": `${c2.slice(0, 7)} G`,
      "dir/d.txt": `${c4.slice(0, 7)} G`,
      dir: `${c4.slice(0, 7)} G`,
      "old.txt": `${c6.slice(0, 7)} G`,
      "new.txt": `${c6.slice(0, 7)} G`,
      "e.txt": `${tip.slice(0, 7)} G`,
      "x/y": `${c0.slice(0, 7)} N`,
      x: `${c0.slice(0, 7)} N`,
      "never.txt": undefined,
    });
  });

  it("with a merge, a rollback and a new root: answers only above them, each the one asked alone", async () => {
    const w = await world();
    const c0 = await w.commit(undefined, { "a.txt": "a0\n", "b.txt": "b0\n", "c.txt": "c0\n" }, "nobody");
    const main1 = await w.commit(c0, { "a.txt": "a1\n" }, "m1");
    const side1 = await w.commit(c0, { "b.txt": "b1\n" }, "m2");
    const merged = await merge(w.dir, [main1, side1]);
    const m1 = await w.commit(merged, { "c.txt": "c1\n" }, "m1");
    const tip = await w.commit(m1, { "d.txt": "d\n" }, "m2");
    const paths = ["a.txt", "b.txt", "c.txt", "d.txt"];
    // Above the merge: answered; through it (its sides): asked alone.
    expect((await compare(w.repo, tip, paths, {}, w.signers)).answered).toEqual(["c.txt", "d.txt"]);
    expect((await compare(w.repo, tip, paths, { "c.txt": merged, "d.txt": main1 }, w.signers)).answered).toEqual(["c.txt"]); // main1 is below the merge
    // The merge as the tip: nothing is answered together.
    expect((await compare(w.repo, merged, paths, {}, w.signers)).answered).toEqual([]);

    // A rollback: the tip pushed back to an older signed commit, the newer one accepted. Alone, a rollback; together, not answered.
    const { answered, alone } = await compare(w.repo, m1, paths, { "c.txt": tip, "d.txt": tip }, w.signers);
    expect(alone.get("c.txt")?.notAfter).toBe(tip);
    expect(answered).toEqual([]);

    // A new root (the machines' branch replaced: its history bounded), and commits on it.
    const root = await w.commit(tip, { "e.txt": "e\n" }, "m1", { newRoot: true, message: `bounded\n\n${HISTORY_TRAILER}: 1 ${new Date().toISOString()}\n` });
    const r1 = await w.commit(root, { "a.txt": "a2\n" }, "m1");
    const r2 = await w.commit(r1, { "b.txt": "b2\n" }, "m2");
    const accepted = { "a.txt": main1, "b.txt": r1, "c.txt": m1, "e.txt": tip };
    const after = await compare(w.repo, r2, ["a.txt", "b.txt", "c.txt", "e.txt"], accepted, w.signers);
    // a.txt: accepted in the old history (restartedAfter decides alone); c.txt, e.txt: last changed by the root.
    expect(after.answered).toEqual(["b.txt"]);
    expect(after.alone.get("a.txt")?.notAfter).toBeUndefined(); // the old history was dropped, not rolled back to
  });

  it("an older good version merged back: marked superseded by a newest good change on the lines git's history left, unless it has the file as the tip", async () => {
    const w = await world();
    const base = await w.commit(undefined, { "o.txt": "o0\n", "x.txt": "x\n" }, "nobody");
    const v1 = await w.commit(base, { "o.txt": "o1\n" }, "m1");
    /** A merge of `parents` with `tree`'s tree (a person's: unsigned), as a pusher can make one. */
    const mergeWith = async (tree: string, parents: string[]) =>
      (
        await git(w.dir, "-c", "user.name=A Person", "-c", "user.email=person@example.com", "commit-tree", `${tree}^{tree}`, ...parents.flatMap((p) => ["-p", p]), "-m", "merge")
      ).trim();
    const v2 = await w.commit(v1, { "o.txt": "o2\n" }, "m2");
    const later = await w.commit(v2, { "x.txt": "x2\n" }, "m1");
    const reverted = await w.commit(v2, { "o.txt": "o1\n" }, "m2"); // a signer's own revert to v1's text, on a branch
    const byStranger = await w.commit(v1, { "o.txt": "o3\n" }, "stranger");
    const unsigned = await w.commit(v1, { "o.txt": "o4\n" }, "nobody");
    let flood = v1;
    for (let i = 0; i < LATER_CHANGES_LOOKED_AT; i++) flood = await w.commit(flood, { "o.txt": `f${i}\n` }, "nobody");
    const rows: { name: string; tip: string; supersededBy: string | undefined }[] = [
      { name: "merged back over a newer good change", tip: await mergeWith(v1, [later, v1]), supersededBy: v2 },
      { name: "the merge's sides the other way round", tip: await mergeWith(v1, [v1, later]), supersededBy: v2 },
      { name: "after a good revert to the same text", tip: await mergeWith(v1, [v1, reverted]), supersededBy: undefined },
      { name: "over a change by a stranger", tip: await mergeWith(v1, [byStranger, v1]), supersededBy: undefined },
      { name: "over an unsigned change", tip: await mergeWith(v1, [unsigned, v1]), supersededBy: undefined },
      { name: `over ${LATER_CHANGES_LOOKED_AT} unsigned changes: none can be said to stand`, tip: await mergeWith(v1, [flood, v1]), supersededBy: "" },
      { name: "on a line (git names the newest)", tip: later, supersededBy: undefined },
    ];
    // A signed branch that never came back, merged over the newer change made meanwhile; an octopus whose last line
    // (listed first) ends with a signed revert to v1's text: the newer change on the other line still decides.
    const branch = await w.commit(v1, { "o.txt": "ob\n" }, "m1");
    const addY = await w.commit(v1, { "o.txt": "oy\n" }, "m1");
    const revertY = await w.commit(addY, { "o.txt": "o1\n" }, "m1");
    rows.push(
      { name: "a signed branch merged over the newer change made meanwhile", tip: await mergeWith(branch, [later, branch]), supersededBy: v2 },
      { name: "an octopus with a signed revert on its last line", tip: await mergeWith(v1, [later, v1, revertY]), supersededBy: v2 },
      { name: "two lines, each ending with the tip's text", tip: await mergeWith(v1, [v1, revertY, reverted]), supersededBy: undefined },
    );
    // Found in attack: a line of unsigned changes ending with a signed one that has v1's text, listed before the rest:
    // with the list full, the newer change past it cannot be ruled out.
    let decoy = base;
    for (let i = 0; i < LATER_CHANGES_LOOKED_AT; i++) decoy = await w.commit(decoy, { "o.txt": `d${i}\n` }, "nobody");
    decoy = await w.commit(decoy, { "o.txt": "o1\n" }, "m1");
    rows.push({ name: "a full list, a decoy first", tip: await mergeWith(v1, [later, v1, decoy]), supersededBy: "" });
    for (const row of rows) {
      const change = await w.repo.lastChange(row.tip, "o.txt", w.signers);
      expect(change?.commit, row.name).toBe(row.name.startsWith("on a line") ? v2 : row.name.startsWith("a signed branch") ? branch : v1);
      expect(change?.status, row.name).toBe("G");
      expect(change?.supersededBy, row.name).toBe(row.supersededBy);
    }
    // A machine's own file: only its own good changes count (found in attack: another machine signed the merge itself).
    const a1 = await w.commit(base, { "a.txt": "a1\n" }, "m1");
    const a2 = await w.commit(a1, { "a.txt": "a2\n" }, "m1");
    const key = join(w.dir, ".git", "m2_key");
    const signedByM2 = (
      await git(
        w.dir,
        "-c",
        "user.name=coord m2",
        "-c",
        "user.email=m2@coord.invalid",
        "-c",
        "gpg.format=ssh",
        "-c",
        `user.signingkey=${key}`,
        "commit-tree",
        `${a1}^{tree}`,
        "-p",
        a2,
        "-p",
        a1,
        "-S",
        "-m",
        "merge",
      )
    ).trim();
    expect((await w.repo.lastChange(signedByM2, "a.txt", w.signers))?.supersededBy).toBeUndefined(); // any allowed signer: m2's merge decides
    const own = await w.repo.lastChange(signedByM2, "a.txt", { ...w.signers, owner: "m1" });
    expect([own?.commit, own?.supersededBy]).toEqual([a1, a2]);
  });

  it("the newest good change since a version, with its very bytes (a signed revert): on a line that descends from it, however many changes follow", async () => {
    const w = await world();
    const base = await w.commit(undefined, { "o.txt": "o0\n", "x.txt": "x\n" }, "nobody");
    const kept = await w.commit(base, { "x.txt": "x1\n" }, "m1"); // the version verified last (o0)
    const v1 = await w.commit(kept, { "o.txt": "o1\n" }, "m1");
    const revert = await w.commit(v1, { "o.txt": "o0\n" }, "m2");
    const noise = await w.commit(await w.commit(revert, { "o.txt": "junk\n" }, "nobody"), { "o.txt": "o0\n" }, "nobody");
    const who = ["-c", "user.name=A Person", "-c", "user.email=person@example.com"];
    const mergeWith = async (tree: string, parents: string[]) =>
      (await git(w.dir, ...who, "commit-tree", `${tree}^{tree}`, ...parents.flatMap((p) => ["-p", p]), "-m", "merge")).trim();
    // An old signed commit with the same bytes, on a side line from before the version verified last.
    const side = await w.commit(await w.commit(base, { "o.txt": "os\n" }, "nobody"), { "o.txt": "o0\n" }, "m1");
    const other = await w.commit(await w.commit(kept, { "o.txt": "o2\n" }, "m1"), { "o.txt": "o0\n" }, "m2");
    let flood = revert;
    for (let i = 0; i < LATER_CHANGES_LOOKED_AT; i++) flood = await w.commit(flood, { "o.txt": i % 2 ? "o0\n" : `f${i}\n` }, "nobody");
    const rows: { name: string; tip: string; found: string | undefined }[] = [
      { name: "unsigned changes after the revert", tip: noise, found: revert },
      { name: "a merge git follows back to the old version", tip: await mergeWith(kept, [kept, revert]), found: revert },
      { name: "an old same-bytes commit merged in from a side line", tip: await mergeWith(noise, [noise, side]), found: revert },
      { name: "only that side line", tip: await mergeWith(kept, [kept, side]), found: undefined },
      { name: "two lines, each ending with one (none is the newest)", tip: await mergeWith(noise, [noise, other]), found: "unsure" },
      { name: `${LATER_CHANGES_LOOKED_AT} unsigned changes on top, the last with the same bytes`, tip: flood, found: revert },
      { name: "the text changed for good", tip: v1, found: undefined },
    ];
    for (const row of rows) expect(await w.repo.sameTextSince(row.tip, "o.txt", w.signers, kept), row.name).toBe(row.found);
  });

  it("in a shallow clone, a merged pull request's change is judged without deepening; a newer good change below the boundary is fetched", async () => {
    const w = await world();
    let line = await w.commit(undefined, { "o.txt": "o0\n", "x.txt": "x0\n" }, "nobody");
    const v1 = await w.commit(line, { "o.txt": "o1\n" }, "m1");
    line = await w.commit(v1, { "o.txt": "o2\n" }, "m2"); // a newer good version, soon deep below the boundary
    const v2 = line;
    for (let i = 0; i < 40; i++) line = await w.commit(line, { "x.txt": `x${i}\n` }, "nobody");
    // A pull request forked near the tip: its signed change, merged with a merge commit (the tree as git merges it).
    const pr = await w.commit(line, { "o.txt": "o3\n" }, "m1");
    const main = await w.commit(line, { "x.txt": "main\n" }, "nobody");
    const who = ["-c", "user.name=A Person", "-c", "user.email=person@example.com"];
    const merged = (await git(w.dir, "merge-tree", "--write-tree", main, pr)).trim();
    const tip = (await git(w.dir, ...who, "commit-tree", merged, "-p", main, "-p", pr, "-m", "merge pull request")).trim();
    // Each case a clone of its own, 4 commits deep.
    const shallow = async (at: string, name: string) => {
      await git(w.dir, "update-ref", "refs/heads/main", at);
      const clone = join(w.dir, "..", `${w.dir.split("/").pop()}-${name}`);
      await git(w.dir, "clone", "--quiet", "--depth", "4", `file://${w.dir}`, clone);
      return { repo: new Repo(clone, join(clone, ".git")), count: async () => Number((await git(clone, "rev-list", "--count", "--all")).trim()) };
    };
    const pull = await shallow(tip, "pull");
    const before = await pull.count();
    const change = await pull.repo.lastChange(tip, "o.txt", w.signers);
    expect([change?.commit, change?.status, change?.supersededBy]).toEqual([pr, "G", undefined]);
    expect(await pull.count()).toBe(before); // no boundary lies between the change and the tip: nothing fetched
    // A pusher's merge that takes v1 back on the main line: v2 lies 40 commits below the boundary there, is fetched, and decides.
    const back = (await git(w.dir, ...who, "commit-tree", `${v1}^{tree}`, "-p", main, "-p", v1, "-m", "merge")).trim();
    const pushed = await shallow(back, "back");
    const shallowBefore = await pushed.count();
    expect((await pushed.repo.lastChange(back, "o.txt", w.signers))?.supersededBy).toBe(v2);
    expect(await pushed.count()).toBeGreaterThan(shallowBefore);
  });

  it.skipIf(!haveSshKeygen)("a commit larger than this process reads (a message of megabytes) is judged by git: the same verdicts", async () => {
    const w = await world();
    const c0 = await w.commit(undefined, { "a.txt": "a0\n", "b.txt": "b0\n" }, "nobody");
    const huge = `big\n\n${"x".repeat(COMMIT_READ_MAX)}\n`;
    const c1 = await w.commit(c0, { "a.txt": "a1\n" }, "m1", { message: huge });
    const c2 = await w.commit(c1, { "b.txt": "b1\n" }, "stranger", { message: huge });
    const tip = await w.commit(c2, { "c.txt": "c\n" }, "m2");
    const log = join(w.dir, "git.log");
    const bin = await loggingGit(await tempDir(), log);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    const { alone } = await compare(w.repo, tip, ["a.txt", "b.txt", "c.txt"], {}, w.signers).finally(() => {
      process.env.PATH = path;
    });
    // The large ones went to git's own check (its %G?, with the signers file), the small one was checked here.
    expect((await readLines(log)).filter((l) => l.includes("gpg.ssh.allowedSignersFile=")).length).toBeGreaterThan(0);
    expect([...alone].map(([p, c]) => `${p} ${c?.commit === { "a.txt": c1, "b.txt": c2, "c.txt": tip }[p]} ${c?.status}`)).toEqual([
      "a.txt true G",
      "b.txt true U",
      "c.txt true G",
    ]);
    expect(alone.get("a.txt")?.signer).toBe("m1");
    const verdicts = await w.repo.verdicts([c1, c2, tip], w.signers);
    expect([c1, c2, tip].map((c) => verdicts.get(c)?.status)).toEqual(["G", "U", "G"]);
  });

  it("in a shallow clone: answers above the boundary at once; a change at or below it is asked alone (which deepens)", async () => {
    const w = await world();
    let tip = await w.commit(undefined, { "a.txt": "a0\n", "b.txt": "b0\n" }, "nobody");
    const kept: string[] = [];
    for (let i = 1; i <= 6; i++) {
      tip = await w.commit(tip, i === 2 ? { "b.txt": "b2\n" } : { [`f${i}.txt`]: `${i}\n` }, i % 2 ? "m1" : "m2");
      kept.push(tip);
    }
    await git(w.dir, "update-ref", "refs/heads/main", tip);
    const clone = join(w.dir, "..", `${w.dir.split("/").pop()}-clone`);
    await git(w.dir, "clone", "--quiet", "--depth", "3", `file://${w.dir}`, clone);
    const repo = new Repo(clone, join(clone, ".git"));
    const paths = ["a.txt", "b.txt", "f4.txt", "f5.txt", "f6.txt"];
    // The boundary is kept[3] (f4.txt's change): it looks as if it added every file, so only f5 and f6 are answered.
    const { answered, alone } = await compare(repo, tip, paths, { "f6.txt": kept[4]!, "f5.txt": kept[3]! }, w.signers);
    expect(answered).toEqual(["f5.txt", "f6.txt"]);
    expect(alone.get("b.txt")?.commit).toBe(kept[1]); // alone, the clone was deepened to the real change
    expect(alone.get("f4.txt")?.commit).toBe(kept[3]);
  });

  it("a change older than the walk is asked alone", { timeout: patient(120_000) }, async () => {
    const w = await world();
    const first = await w.commit(undefined, { "a.txt": "a\n" }, "m1");
    let tip = await w.commit(first, { "b.txt": "b\n" }, "m1");
    const old = tip;
    for (let i = 0; i < LAST_CHANGES_WALK; i++) tip = await w.commit(tip, { "n.txt": `${i}\n` }, "m2");
    const { answered, alone } = await compare(w.repo, tip, ["b.txt", "n.txt"], { "n.txt": old }, w.signers);
    expect(answered).toEqual(["n.txt"]);
    expect(alone.get("b.txt")?.commit).toBe(old);
  });
});

describe("a change the tip itself made, its parent read in this process (a daemon's next tip)", () => {
  it("is answered with no git process, as git answers it; anything else is git's", async () => {
    const w = await world();
    const people = await w.commit(undefined, { "ORDERS.json": "{}\n" }, "nobody");
    const m = (name: string) => `coordination/COMPUTER_${name}.md`;
    const c0 = await w.commit(undefined, { [m("m1")]: "one\n", [m("m2")]: "two\n", [m("x")]: "x\n" }, "nobody");
    const c1 = await w.commit(c0, { [m("m1")]: "one 1\n" }, "m1");
    const c2 = await w.commit(c1, { [m("m2")]: "two 2\n", [m("x")]: null }, "m2");
    const c3 = await w.commit(c2, { [m("m1")]: "one 3\n" }, "stranger");
    const c4 = await w.commit(c3, { [m("m2")]: "two 4\n" }, "nobody");
    const at = (c: string) => `${people}+${c}`;
    // What git itself says (the per-path walk), asked before any commit is read here.
    const paths = [m("m1"), m("m2"), m("x"), m("none")];
    const gits = new Map<string, (Change & { root: boolean }) | undefined>();
    for (const c of [c1, c2, c3, c4])
      for (const p of paths) {
        const listed = (await w.repo.signedChanges(at(c), p, w.signers, 1))[0];
        // (The date is the listing's: lastChange names a change without it.)
        if (!listed) gits.set(`${c} ${p}`, undefined);
        else {
          const { committed: _, ...change } = listed;
          gits.set(`${c} ${p}`, change);
        }
      }
    const log = join(w.dir, "git.log");
    const bin = await loggingGit(await tempDir(), log);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      // A daemon read c0, then each tip in turn.
      const asked: string[][] = [];
      await w.repo.readFiles(at(c0), ["coordination"]);
      for (const c of [c1, c2, c3, c4]) {
        await w.repo.readFiles(at(c), ["coordination"]);
        await writeFile(log, "");
        for (const p of paths) expect(await w.repo.lastChange(at(c), p, w.signers), `${c} ${p}`).toStrictEqual(gits.get(`${c} ${p}`));
        // (The merge check's `rev-list --merges` aside: it lists no change.)
        asked.push((await readLines(log)).filter((l) => /(^| )(log|rev-list) /.test(l) && !l.includes(" --merges ")));
      }
      // Each tip's own change (G by m1 and m2, U by a stranger, N unsigned) took no git; the others took git's log.
      for (const a of asked) expect(a, a.join("\n")).toHaveLength(paths.length - 1);
      // Ancestry along the commits read here takes none either; a no is git's.
      await writeFile(log, "");
      expect(await w.repo.isAncestor(c0, c4)).toBe(true);
      expect(await w.repo.isAncestor(c2, c3)).toBe(true);
      expect((await readLines(log)).filter((l) => ANCESTRY.test(l))).toEqual([]);
      expect(await w.repo.isAncestor(c4, c1)).toBe(false);
      // A tip whose parent was never read here is git's to answer.
      const c5 = await w.commit(c4, { [m("m1")]: "one 5\n" }, "m1");
      const c6 = await w.commit(c5, { [m("m2")]: "two 6\n" }, "m2");
      await w.repo.readFiles(at(c6), ["coordination"]);
      await writeFile(log, "");
      expect((await w.repo.lastChange(at(c6), m("m2"), w.signers))?.commit).toBe(c6);
      expect((await readLines(log)).filter((l) => /(^| )rev-list /.test(l))).toHaveLength(1);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe.skipIf(!haveSshKeygen)(haveSshKeygen ? "a verifying sync's git processes" : "a verifying sync's git processes (skipped: ssh-keygen is not installed)", () => {
  it("4 machine files changed: one walk and no merge-base for all of them, where alone each cost a log and a cat-file", { timeout: patient(240_000) }, async () => {
    const others = ["a1", "a2", "a3", "a4"];
    fleet = await makeFleet(["izzit7", ...others]);
    const f = fleet;
    const me = f.machines.izzit7!;
    for (const o of others) {
      expect((await cli("trust", "key", "--dir", f.machines[o]!)).code).toBe(0);
      await sync({ dir: f.machines[o]!, run: false }); // signed, and its file publishes the key
    }
    expect((await cli("trust", "key", "--dir", me)).code).toBe(0);
    expect((await cli("trust", "machines", "on", "--dir", me)).code).toBe(0);
    await sync({ dir: me, run: false }); // pins the 4 keys on first use
    const bin = await loggingGit(f.root, join(f.root, "unused.log"));
    /** The git processes of izzit7's sync after each other machine ran an order (its file changed, signed), by kind. */
    const round = async (n: number) => {
      await pushOrders(
        f,
        others.map((o) => ({ id: `${o}-${n}`, to: o, run: "true" })),
      );
      for (const o of others) expect((await sync({ dir: f.machines[o]! })).ran.map((t) => t.id)).toEqual([`${o}-${n}`]);
      const log = join(f.root, `git-${n}.log`);
      await writeFile(join(bin, "git"), (await readFile(join(bin, "git"), "utf8")).replace(/>> '[^']*'/, `>> '${log}'`));
      const path = process.env.PATH;
      process.env.PATH = `${bin}:${path}`;
      try {
        await sync({ dir: me, run: false });
      } finally {
        process.env.PATH = path;
      }
      expect(await hubFile(f, "STATUS.md")).not.toMatch(/refused/);
      const lines = await readLines(log);
      const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
      return {
        alone: count(/ rev-list .*--max-count=1 .* -- :\(literal\)coordination\//),
        walks: count(/ log .*--name-only .*--max-count=/),
        log: count(/(^| )(log|rev-list) /),
        mergeBase: count(ANCESTRY),
        catFile: count(/(^| )cat-file /),
        all: lines.length,
      };
    };
    const together = await round(1);
    const lastChanges = Repo.prototype.lastChanges;
    // @ts-expect-error: asked alone, as before Hub.lastChanges (an optional method)
    Repo.prototype.lastChanges = undefined;
    let alone: Awaited<ReturnType<typeof round>>;
    try {
      alone = await round(2);
    } finally {
      Repo.prototype.lastChanges = lastChanges;
    }
    console.log(`a verifying sync of 4 changed machine files: together ${JSON.stringify(together)}, alone ${JSON.stringify(alone)}`);
    expect(together).toMatchObject({ alone: 0, walks: 1, mergeBase: 0 });
    expect(alone).toMatchObject({ alone: 4, walks: 0 });
    // Alone, a rev-list and a cat-file a file (the ancestry is found along the tips this sync read, with no merge-base);
    // together, a constant: the walk and one cat-file for all.
    expect(alone.log + alone.mergeBase + alone.catFile - (together.log + together.mergeBase + together.catFile)).toBeGreaterThanOrEqual(4 * 2 - 2);
  });
});
