// Repairing a checkout git left broken, with real git: stale locks, a merge
// left half done, a corrupt object store (re-cloned, keeping coord's state).
import { execFileSync, spawn } from "node:child_process";
import { access, chmod, mkdir, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { brokenCheckouts, repairCheckout } from "../src/git/repair.js";
import { sync } from "../src/sync/sync.js";
import { git, hubStatus, makeFleet, pushOrders, waitFor, type Fleet } from "./helpers.js";

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

const asPerson = ["-c", "user.name=A Person", "-c", "user.email=person@example.com"];

let fleet: Fleet | undefined;
afterEach(async () => {
  if (fleet) {
    // The re-clone keeps the old checkout next to the machine's: under fleet.root too.
    await fleet.cleanup();
    fleet = undefined;
  }
});

async function staleFile(path: string, ageSeconds: number): Promise<void> {
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, "");
  const t = new Date(Date.now() - ageSeconds * 1000);
  await utimes(path, t, t);
}

describe("repairCheckout", () => {
  it("does nothing to a healthy checkout", async () => {
    fleet = await makeFleet(["m1"]);
    const dir = fleet.machines.m1!;
    expect(await repairCheckout(dir, { remote: "origin", branch: "main" })).toEqual([]);
    expect(await brokenCheckouts(dir)).toEqual([]);
  });

  it("leaves an old index.lock alone while a git runs in the checkout (a commit whose message is being written)", async () => {
    fleet = await makeFleet(["m1"]);
    const dir = fleet.machines.m1!;
    const go = join(fleet.root, "go");
    const editing = join(fleet.root, "editing");
    const editor = join(fleet.root, "editor.sh");
    await writeFile(editor, `#!/bin/sh\ntouch ${editing}\ni=0; while [ ! -e ${go} ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\necho "my careful message" > "$1"\n`);
    await chmod(editor, 0o755);
    await writeFile(join(dir, "README.md"), "my own notes about this fleet\n");
    const child = spawn("git", ["-c", "user.name=P", "-c", "user.email=p@example.com", "-c", `core.editor=${editor}`, "commit", "--quiet", "-a"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on("close", r));
    const lock = join(dir, ".git", "index.lock");
    // (git takes index.lock for a moment before too: wait for the editor, while git holds it.)
    await waitFor(() => exists(editing), 10_000, "git commit to open the editor");
    expect(await exists(lock)).toBe(true);
    const old = new Date(Date.now() - 120_000); // as if the person had been writing the message for two minutes
    await utimes(lock, old, old);
    const repaired = await repairCheckout(dir, { remote: "origin", branch: "main" });
    expect(repaired).toEqual(["left the lock .git/index.lock alone: a git runs in this checkout"]);
    await writeFile(go, ""); // the person saves the message
    expect([await exited, err]).toEqual([0, ""]);
    expect((await git(dir, "log", "-1", "--format=%s")).trim()).toBe("my careful message");
  });

  it("removes stale lock files and leaves fresh ones alone", async () => {
    fleet = await makeFleet(["m1"]);
    const dir = fleet.machines.m1!;
    const gitDir = join(dir, ".git");
    await staleFile(join(gitDir, "index.lock"), 120);
    await staleFile(join(gitDir, "refs", "remotes", "origin", "main.lock"), 300);
    await staleFile(join(gitDir, "shallow.lock"), 5);
    await staleFile(join(gitDir, "refs", "heads", "main.lock"), 1);
    const lines: string[] = [];
    const repaired = await repairCheckout(dir, { remote: "origin", branch: "main", log: (s) => lines.push(s) });
    expect(repaired).toHaveLength(2);
    expect(repaired.join("\n")).toMatch(/stale lock \.git\/index\.lock/);
    expect(repaired.join("\n")).toMatch(/stale lock \.git\/refs\/remotes\/origin\/main\.lock/);
    expect(lines).toEqual(repaired);
    expect(await exists(join(gitDir, "index.lock"))).toBe(false);
    expect(await exists(join(gitDir, "refs", "remotes", "origin", "main.lock"))).toBe(false);
    expect(await exists(join(gitDir, "shallow.lock"))).toBe(true);
    expect(await exists(join(gitDir, "refs", "heads", "main.lock"))).toBe(true);
    // The age is a parameter.
    const again = await repairCheckout(dir, { remote: "origin", branch: "main", staleLockMs: 0 });
    expect(again).toHaveLength(2);
    expect(await exists(join(gitDir, "shallow.lock"))).toBe(false);
    expect(await exists(join(gitDir, "refs", "heads", "main.lock"))).toBe(false);
    // coord's own locks (directories in .git/coord) are not git's business.
    expect(await exists(join(gitDir, "coord"))).toBe(true);
    await git(dir, "status");
  });

  it("aborts a conflicted merge left in progress, keeping the user's uncommitted work", async () => {
    fleet = await makeFleet(["m1"]);
    const dir = fleet.machines.m1!;
    const readme = join(dir, "README.md");
    // Two local branches that change ORDERS.json differently; `work` merges `side` and stops on the conflict.
    await git(dir, "checkout", "--quiet", "-b", "work");
    await writeFile(join(dir, "ORDERS.json"), '{"version": 1, "orders": ["work"]}\n');
    await git(dir, ...asPerson, "commit", "--quiet", "-am", "work");
    await git(dir, "checkout", "--quiet", "-b", "side", "main");
    await writeFile(join(dir, "ORDERS.json"), '{"version": 1, "orders": ["side"]}\n');
    await git(dir, ...asPerson, "commit", "--quiet", "-am", "side");
    await git(dir, "checkout", "--quiet", "work");
    // The user's work, not touched by the merge.
    await writeFile(readme, (await readFile(readme, "utf8")) + "\nmy note\n");
    await writeFile(join(dir, "notes.txt"), "untracked\n");
    await expect(git(dir, ...asPerson, "merge", "side")).rejects.toThrow();
    expect(await exists(join(dir, ".git", "MERGE_HEAD"))).toBe(true);
    // Someone may be resolving it right now: a fresh one is left alone.
    expect(await repairCheckout(dir, { remote: "origin", branch: "main" })).toEqual([]);
    expect(await exists(join(dir, ".git", "MERGE_HEAD"))).toBe(true);

    const repaired = await repairCheckout(dir, { remote: "origin", branch: "main", staleOperationMs: 0 });
    expect(repaired).toHaveLength(1);
    expect(repaired[0]).toMatch(/aborted a merge left in progress \(git merge --abort\)/);
    expect(await exists(join(dir, ".git", "MERGE_HEAD"))).toBe(false);
    expect((await git(dir, "status", "--porcelain")).split("\n").filter(Boolean).sort()).toEqual([" M README.md", "?? notes.txt"]);
    expect(await readFile(join(dir, "ORDERS.json"), "utf8")).toBe('{"version": 1, "orders": ["work"]}\n');
    expect(await readFile(readme, "utf8")).toMatch(/my note/);
    // What the merge had in the work tree was copied aside first.
    const backup = /copied to (\S+) first/.exec(repaired[0]!)?.[1];
    expect(backup).toBeDefined();
    expect(await readFile(join(backup!, "ORDERS.json"), "utf8")).toMatch(/<<<<<<<|>>>>>>>/);

    // And the machine works again.
    await pushOrders(fleet, [{ id: "hello", to: "m1", run: "echo hi" }]);
    const r = await sync({ dir });
    expect(r.ran.map((t) => [t.id, t.state])).toEqual([["hello", "completed"]]);
    expect((await hubStatus(fleet)).orders.hello?.state).toBe("completed");
  });

  it("leaves an operation it cannot abort as it is, and says so", async () => {
    fleet = await makeFleet(["m1"]);
    const dir = fleet.machines.m1!;
    await git(dir, "checkout", "--quiet", "-b", "work");
    await writeFile(join(dir, "ORDERS.json"), "work\n");
    await git(dir, ...asPerson, "commit", "--quiet", "-am", "work");
    await git(dir, "checkout", "--quiet", "-b", "side", "main");
    await writeFile(join(dir, "ORDERS.json"), "side\n");
    await git(dir, ...asPerson, "commit", "--quiet", "-am", "side");
    await git(dir, "checkout", "--quiet", "work");
    await expect(git(dir, ...asPerson, "merge", "side")).rejects.toThrow();
    // A git still running (a fresh index.lock) makes the abort fail.
    await writeFile(join(dir, ".git", "index.lock"), "");
    const repaired = await repairCheckout(dir, { remote: "origin", branch: "main", staleOperationMs: 0 });
    expect(repaired).toHaveLength(1);
    expect(repaired[0]).toMatch(/^could not abort the merge in progress .*left as is/);
    expect(await exists(join(dir, ".git", "MERGE_HEAD"))).toBe(true);
    expect(await readFile(join(dir, "ORDERS.json"), "utf8")).toMatch(/<<<<<<</);
    await rm(join(dir, ".git", "index.lock"));
  });

  it("re-clones a corrupt checkout, keeping the machine's identity, journal and the old checkout", async () => {
    fleet = await makeFleet(["m1", "m2"]);
    const dir = fleet.machines.m1!;
    await pushOrders(fleet, [{ id: "build", to: "ALL", run: "echo built" }]);
    expect((await sync({ dir })).ran.map((t) => t.state)).toEqual(["completed"]);
    await writeFile(join(dir, "notes.txt"), "the user's file\n");
    const state = join(dir, ".git", "coord");
    const machineYaml = await readFile(join(state, "machine.yaml"), "utf8");
    const journal = await readFile(join(state, "journal.json"), "utf8");
    expect(JSON.parse(journal).tasks.build.state).toBe("completed");

    // Corrupt it: a blob the HEAD tree needs disappears (only this checkout's link to it).
    const blob = (await git(dir, "rev-parse", "HEAD:ORDERS.json")).trim();
    const loose = join(dir, ".git", "objects", blob.slice(0, 2), blob.slice(2));
    if (await exists(loose)) await rm(loose, { force: true });
    else {
      const packDir = join(dir, ".git", "objects", "pack");
      for (const f of await readdir(packDir)) await rm(join(packDir, f), { force: true });
    }
    await expect(git(dir, "fsck", "--connectivity-only")).rejects.toThrow();

    const lines: string[] = [];
    const repaired = await repairCheckout(dir, { remote: "origin", branch: "main", log: (s) => lines.push(s), now: () => new Date("2026-11-22T07:35:13.578Z") });
    expect(repaired).toHaveLength(1);
    expect(repaired[0]).toMatch(/corrupt .*re-cloned it, keeping coord's local state; the old checkout is kept at .*m1\.broken-20261122T073513Z/);
    expect(lines.some((l) => /^cloning /.test(l))).toBe(true);

    // The new checkout is sound, on the branch, with the same identity and journal.
    await git(dir, "fsck", "--connectivity-only");
    expect((await git(dir, "rev-parse", "--abbrev-ref", "HEAD")).trim()).toBe("main");
    expect((await git(dir, "remote", "get-url", "origin")).trim()).toBe(fleet.remote);
    expect(await readFile(join(state, "machine.yaml"), "utf8")).toBe(machineYaml);
    expect(await readFile(join(state, "journal.json"), "utf8")).toBe(journal);
    expect(await exists(join(dir, "notes.txt"))).toBe(false);

    // The old checkout is kept whole, the user's file with it.
    const kept = await brokenCheckouts(dir);
    expect(kept).toEqual([`${dir}.broken-20261122T073513Z`]);
    expect(await readFile(join(kept[0]!, "notes.txt"), "utf8")).toBe("the user's file\n");
    expect((await readdir(fleet.root)).filter((n) => n.includes(".reclone-"))).toEqual([]);

    // Sync works, as the same machine: build is not run again, a new rev runs.
    const again = await sync({ dir });
    expect(again.ran).toEqual([]);
    await pushOrders(fleet, [{ id: "build", to: "ALL", run: "echo built", rev: 2 }]);
    const r = await sync({ dir });
    expect(r.ran.map((t) => [t.id, t.rev, t.state])).toEqual([["build", 2, "completed"]]);
    const status = await hubStatus(fleet);
    expect(status.orders.build?.machines.m1?.state).toBe("completed");
    expect(status.errors).toEqual([]);
    // The hub lost nothing from the corruption of one checkout.
    await git(fleet.hubPath, "fsck", "--connectivity-only");
    // Healthy now: a second repair has nothing to do.
    expect(await repairCheckout(dir, { remote: "origin", branch: "main" })).toEqual([]);
  });

  it("a git fsck killed by a signal (Ctrl-C, the OOM killer) says nothing about the checkout: no re-clone", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    const bin = join(fleet.root, "bin");
    await mkdir(bin);
    await writeFile(join(bin, "git"), `#!/bin/sh\nfor a in "$@"; do [ "$a" = fsck ] && kill -INT $$; done\nexec '${real}' "$@"\n`);
    await chmod(join(bin, "git"), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    let repaired: string[];
    try {
      repaired = await repairCheckout(dir, { remote: "origin", branch: "main" });
    } finally {
      process.env.PATH = path;
    }
    expect(repaired).toEqual([expect.stringMatching(/^could not check the checkout for corruption \(git fsck was killed \(SIGINT\)\)/)]);
    expect(await brokenCheckouts(dir)).toEqual([]);
  });

  it("reports a corrupt checkout it cannot re-clone (remote unreachable) and changes nothing", async () => {
    fleet = await makeFleet(["m1"]);
    const dir = fleet.machines.m1!;
    const blob = (await git(dir, "rev-parse", "HEAD:ORDERS.json")).trim();
    const loose = join(dir, ".git", "objects", blob.slice(0, 2), blob.slice(2));
    if (await exists(loose)) await rm(loose, { force: true });
    else for (const f of await readdir(join(dir, ".git", "objects", "pack"))) await rm(join(dir, ".git", "objects", "pack", f), { force: true });
    const repaired = await repairCheckout(dir, { remote: join(fleet.root, "no-such-hub.git"), branch: "main" });
    expect(repaired).toHaveLength(1);
    expect(repaired[0]).toMatch(/^could not re-clone the corrupt checkout .*could not clone/);
    expect(await exists(join(dir, ".git", "coord", "machine.yaml"))).toBe(true);
    expect(await brokenCheckouts(dir)).toEqual([]);
    expect((await readdir(fleet.root)).filter((n) => n.includes(".reclone-"))).toEqual([]);
  });
});
