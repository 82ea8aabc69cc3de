// One publish at a time on a hub on this machine's disk (src/git/publish-lock.ts): machines that share a hub on a
// path take turns for each try (fetch, build, push) instead of racing, and a lock that cannot be had, or is held
// too long, is gone without: the push stays a compare-and-swap.
import { mkdir, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { joinTip } from "../src/core/hub/branches.js";
import { publishLock } from "../src/git/publish-lock.js";
import { openMachine } from "../src/sync/machine.js";
import { sync } from "../src/sync/sync.js";
import { type Fleet, git, hubStatus, makeFleet, pushOrders, tempDir } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

/** Whether `p` settled within `ms`. */
async function settles(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
}

describe("the publish lock of a hub on a path", () => {
  it("one holder at a time: a second waits for the release; one held past its wait is gone without", async () => {
    const root = await tempDir();
    const hub = join(root, "hub.git");
    await git(root, "init", "--quiet", "--bare", hub);
    const first = await publishLock(root, "hub.git");
    expect(first).toBeTypeOf("function");
    expect((await stat(join(hub, "coord-publish.lock"))).isDirectory()).toBe(true);
    const second = publishLock(root, `file://${hub}`, 10_000);
    expect(await settles(second, 300)).toBe(false); // held: it waits
    await first!();
    const got = await second;
    expect(got).toBeTypeOf("function");
    // Held past the wait: undefined, and no throw (the caller races as before).
    const start = Date.now();
    expect(await publishLock(root, hub, 200)).toBeUndefined();
    expect(Date.now() - start).toBeGreaterThanOrEqual(200);
    await got!();
    expect(await stat(join(hub, "coord-publish.lock")).catch(() => undefined)).toBeUndefined();
  });

  it("a dead holder's lock (not kept fresh) is taken over; a hub with a work tree keeps it in .git; none to make is none", async () => {
    const root = await tempDir();
    const hub = join(root, "hub.git");
    await git(root, "init", "--quiet", "--bare", hub);
    await mkdir(join(hub, "coord-publish.lock"));
    const old = new Date(Date.now() - 60_000);
    await utimes(join(hub, "coord-publish.lock"), old, old);
    const taken = await publishLock(root, hub, 2_000);
    expect(taken).toBeTypeOf("function");
    await taken!();

    const worktree = join(root, "hub-with-tree");
    await git(root, "init", "--quiet", worktree);
    const inGit = await publishLock(root, worktree);
    expect((await stat(join(worktree, ".git", "coord-publish.lock"))).isDirectory()).toBe(true);
    await inGit!();

    await writeFile(join(root, "a-file"), "");
    expect(await publishLock(root, join(root, "a-file", "hub.git"), 200)).toBeUndefined(); // ENOTDIR: none, no throw
  });

  it("a machine's publish waits while another holds the hub's turn, and pushes once it is released; a hub over the network takes no turn", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const m = await openMachine(dir);
    expect(m.repo.hubOnDisk).toBeDefined();
    // The turn says the hub's tip as its ref files have it.
    const turn = await m.repo.exclusive();
    const [people, machines] = await Promise.all(["main", "coord"].map((b) => git(fleet!.hubPath!, "rev-parse", `refs/heads/${b}`).then((o) => o.trim())));
    expect(turn?.tip).toBe(joinTip(people!, machines!));
    await pushOrders(fleet, [{ id: "t1", to: "izzit7", run: "true" }]);
    const syncing = sync({ dir });
    // The task runs; its result waits for the turn the test holds (up to the lock's wait of 3 s).
    expect(await settles(syncing, 1_000)).toBe(false);
    expect((await hubStatus(fleet)).orders.t1?.state).not.toBe("completed");
    await turn!.release();
    await syncing;
    expect((await hubStatus(fleet)).orders.t1?.state).toBe("completed");

    await git(dir, "remote", "set-url", "origin", "ssh://git@example.invalid/hub.git");
    const remote = await openMachine(dir);
    expect(remote.repo.hubOnDisk).toBeUndefined();
    expect(await remote.repo.exclusive()).toBeUndefined();
  });
});
