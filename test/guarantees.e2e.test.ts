// Guarantees a user relies on that nothing else checks, on real git: a name
// owned by another machine is refused with nothing published; a sync with
// nothing new makes one fetch and no commit; coord.log has one sync record
// per sync, whether it worked or failed.
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sync } from "../src/sync/sync.js";
import { cli, git, hubCommits, hubFile, hubHead, makeFleet, peopleHead, pushOrders, setConfig, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

describe("identity", () => {
  it("a checkout whose config takes the name of another machine (another uuid) is refused: exit 2, nothing run, nothing published", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const ran = join(fleet.root, "ran.log");
    // soda-yeti's owner copies izzit7's name into its config by hand; its uuid stays its own.
    const impostor = fleet.machines["soda-yeti"]!;
    await setConfig(impostor, { name: "izzit7" });
    await pushOrders(fleet, [{ id: "hello", to: "izzit7", run: `echo ran >> ${ran}` }]);
    const head = await hubHead(fleet);
    const izzitFile = await hubFile(fleet, "coordination/COMPUTER_izzit7.md");

    const r = await cli("sync", "--dir", impostor);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/the machine name "izzit7" is already owned by another machine \(uuid [0-9a-f-]+, last seen .*\); .*coord init --reclaim/);
    expect(await hubHead(fleet)).toBe(head);
    expect(await hubFile(fleet, "coordination/COMPUTER_izzit7.md")).toBe(izzitFile);
    expect(await readFile(ran, "utf8").catch(() => "")).toBe("");

    // The real izzit7 still works.
    expect((await cli("sync", "--dir", fleet.machines.izzit7!)).code).toBe(0);
    expect(await readFile(ran, "utf8")).toBe("ran\n");
  });
});

/** Makes every fetch and push of `dir` go through wrappers that count them, one line per connection. */
async function countTransfers(dir: string, root: string): Promise<{ fetches: () => Promise<number>; pushes: () => Promise<number> }> {
  const counter = async (name: string, program: string) => {
    const script = join(root, `${name}.sh`);
    const log = join(root, `${name}.log`);
    await writeFile(script, `#!/bin/sh\necho x >> '${log}'\nexec ${program} "$@"\n`);
    await chmod(script, 0o755);
    return async () => (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean).length;
  };
  const fetches = await counter("upload-pack", "git-upload-pack");
  const pushes = await counter("receive-pack", "git-receive-pack");
  await git(dir, "config", "remote.origin.uploadpack", join(root, "upload-pack.sh"));
  await git(dir, "config", "remote.origin.receivepack", join(root, "receive-pack.sh"));
  return { fetches, pushes };
}

describe("a quiet sync", () => {
  it("with nothing new makes exactly one fetch, no push and no commit, until its heartbeat is due", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    await pushOrders(fleet, [{ id: "hello", to: "izzit7", run: "echo hi" }]);
    expect((await sync({ dir })).ran.map((t) => t.id)).toEqual(["hello"]);
    await sync({ dir }); // whatever the last one left to say
    const { fetches, pushes } = await countTransfers(dir, fleet.root);
    const head = await hubHead(fleet);
    const commits = (await hubCommits(fleet)).length;

    for (let i = 1; i <= 3; i++) {
      const r = await sync({ dir });
      expect(r.pushed).toBeUndefined();
      expect(await fetches()).toBe(i);
    }
    expect(await pushes()).toBe(0);
    expect(await hubHead(fleet)).toBe(head);
    expect((await hubCommits(fleet)).length).toBe(commits);
    expect((await git(dir, "rev-parse", "HEAD")).trim()).toBe(await peopleHead(fleet)); // the checkout is the people's branch
    expect((await git(dir, "rev-parse", "refs/remotes/origin/coord")).trim()).toBe(head); // nor a machine commit left unpushed

    // Once the heartbeat is due, lastSeen goes out: one commit, one push.
    await setConfig(dir, { heartbeat: 1 });
    await new Promise((r) => setTimeout(r, 1_100));
    const beat = await sync({ dir });
    expect(beat.pushed).toBeDefined();
    expect(await pushes()).toBe(1);
    expect((await hubCommits(fleet)).length).toBe(commits + 1);
  });
});

describe("coord.log", () => {
  it("has exactly one sync record per sync, ok or failed, in order", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const records = async () =>
      (await cli("logs", "--dir", dir, "--json")).out
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((r) => r.kind === "sync");
    const before = (await records()).length; // init's registering sync
    await pushOrders(fleet, [{ id: "hello", to: "izzit7", run: "echo hi" }]);
    expect((await cli("sync", "--dir", dir)).code).toBe(0);
    expect((await cli("sync", "--dir", dir)).code).toBe(0);
    await git(dir, "remote", "set-url", "origin", join(fleet.root, "nowhere.git"));
    expect((await cli("sync", "--dir", dir)).code).toBe(1);
    await git(dir, "remote", "set-url", "origin", fleet.hubPath);
    expect((await cli("sync", "--dir", dir)).code).toBe(0);

    const all = (await records()).slice(before);
    expect(all.map((r) => r.ok)).toEqual([true, true, false, true]);
    expect(all.map((r) => r.machine)).toEqual(["izzit7", "izzit7", "izzit7", "izzit7"]);
    expect(all[0].ran).toEqual([{ id: "hello", state: "completed" }]);
    expect(all[2].error).toMatch(/could not reach the remote/);
  });
});
