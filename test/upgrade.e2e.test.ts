// Upgrading a hub of the old layout (every file on main, as coord kept it before the machines' branch) in
// place, on real git: by the first sync of this version, or by a person with coord hub upgrade. Nothing is
// lost or run twice, and an older coord reading main is stopped and told to upgrade.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inbox } from "../src/actions/messages.js";
import { parseComputer } from "../src/core/fleet/computer.js";
import { readModel } from "../src/core/repo/repo.js";
import { TOMBSTONE_HOST } from "../src/core/setup/upgrade.js";
import { claimOf, identityVerdict } from "../src/core/trust/identity.js";
import { openMachine } from "../src/sync/machine.js";
import { READ_PATHS, sync } from "../src/sync/sync.js";
import { Repo } from "../src/git/git.js";
import { cli, git, hubFile, hubStatus, makeFleet, personIdentity, pushOrders, readLines, tempDir, waitFor, type Fleet, sendNow } from "./helpers.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

/**
 * The hub as an older coord left it: one branch, main, holding the machines' files too (coord merged into
 * main), and no branch coord. The checkouts keep what they fetched.
 */
async function toOldLayout(f: Fleet): Promise<void> {
  const scratch = await tempDir("coord-old-");
  await git(scratch, "clone", "--quiet", f.hubPath, "old");
  const dir = join(scratch, "old");
  // Merged, not copied: on an old hub the machines committed their own (signed) files on main, so their history
  // carries on into the upgrade's coord, and a machine that verifies machines believes what it believed before.
  await git(
    dir,
    "-c",
    "user.name=coord old",
    "-c",
    "user.email=old@coord.invalid",
    "merge",
    "--quiet",
    "--no-ff",
    "--allow-unrelated-histories",
    "-m",
    "as an older coord kept it",
    "origin/coord",
  );
  await git(dir, "push", "--quiet", "origin", "HEAD:main", ":coord");
  expect(await git(f.hubPath, "branch", "--list", "coord")).toBe("");
}

/** The state the upgrade must carry: a completed task, a held ANY claim (its run waiting on `go`), a message in flight. */
async function busyOldHub(f: Fleet) {
  const log = join(f.root, "ran.log");
  const go = join(f.root, "go");
  const dir = (m: string) => f.machines[m]!;
  await pushOrders(f, [{ id: "done", to: "a", run: `echo "done $COORD_MACHINE" >> ${log}` }]);
  expect((await sync({ dir: dir("a") })).ran.map((t) => t.id)).toEqual(["done"]);
  await sendNow({ dir: dir("b"), to: "c", text: "sent before the upgrade" });
  await pushOrders(f, [
    { id: "done", to: "a", run: `echo "done $COORD_MACHINE" >> ${log}` },
    { id: "held", to: "ANY", run: `while [ ! -f ${go} ]; do sleep 0.1; done; echo "held $COORD_MACHINE" >> ${log}` },
  ]);
  // a claims held and runs it until `go` exists: the claim is on the hub meanwhile (a's sync runs in this process, beside the test's).
  const holding = sync({ dir: dir("a") });
  await waitFor(async () => (await hubStatus(f).catch(() => undefined))?.orders.held?.holder === "a", 20_000, "a's claim of held on the hub");
  await toOldLayout(f);
  return { log, go, holding };
}

describe("a hub of the old layout", () => {
  it("is upgraded by the first sync: a message in flight arrives once, a held claim stays its holder's, a completed task does not run again", {
    timeout: patient(180_000),
  }, async () => {
    fleet = await makeFleet(["a", "b", "c"]);
    const f = fleet;
    const { log, go, holding } = await busyOldHub(f);
    const before = (await git(f.hubPath, "rev-parse", "main")).trim();

    // b, on this version, finds the old layout and moves it, in one push of both branches.
    const b = await sync({ dir: f.machines.b! });
    expect(b.ran).toEqual([]); // held is a's
    const main = (await git(f.hubPath, "rev-parse", "main")).trim();
    const coord = (await git(f.hubPath, "rev-parse", "coord")).trim();
    expect((await git(f.hubPath, "rev-parse", "main^")).trim()).toBe(before);
    await git(f.hubPath, "merge-base", "--is-ancestor", before, coord); // the machines' history carries on
    // main: the people's files, tombstones in place of machines' files, and a pointer to STATUS.md on coord.
    const mainFiles = (await git(f.hubPath, "ls-tree", "-r", "--name-only", main)).trim().split("\n").sort();
    expect(mainFiles).toEqual(
      ["ORDERS.json", "README.md", "STATUS.md", "coordination/COMPUTER_a.md", "coordination/COMPUTER_b.md", "coordination/COMPUTER_c.md", "coordination/orders.schema.json"].sort(),
    );
    expect(await git(f.hubPath, "show", "main:STATUS.md")).toMatch(/blob\/coord\/STATUS\.md/);
    expect(await git(f.hubPath, "show", "coord:coordination/messages/b_TO_c.md")).toMatch(/sent before the upgrade/);

    // An older coord reading main stops: its identity reads as reclaimed, on a "host" that says what to do.
    const oldView = readModel(await new Repo(f.hubPath, join(f.root, "read")).readFiles(main, READ_PATHS));
    const config = (await openMachine(f.machines.c!)).config;
    expect(identityVerdict({ claim: claimOf(oldView.computers.get(config.name), config) })).toMatchObject({
      kind: "claimed",
      claim: { kind: "reclaimed", host: TOMBSTONE_HOST },
    });
    expect(TOMBSTONE_HOST).toMatch(/upgrade coord on this machine/);
    expect(parseComputer(await git(f.hubPath, "show", "main:coordination/COMPUTER_a.md"), "a").identity?.host).toBe(TOMBSTONE_HOST);

    // a finishes held: its push, built on the old tip, is refused; it publishes again on coord.
    await writeFile(go, "");
    const a = await holding;
    expect([a.ran.map((t) => `${t.id} ${t.state}`), a.ordersProblems]).toEqual([["held completed"], []]); // coord sync's exit 0
    expect((await hubStatus(f)).orders.held?.machines.a?.state).toBe("completed");
    // c receives the message once; nothing runs again anywhere.
    for (let round = 0; round < 2; round++) for (const m of ["a", "b", "c"]) expect((await sync({ dir: f.machines[m]! })).ran).toEqual([]);
    expect((await inbox({ dir: f.machines.c! })).messages.map((m) => m.text)).toEqual(["sent before the upgrade"]);
    expect((await readLines(log)).sort()).toEqual(["done a", "held a"]);
    const status = await hubStatus(f);
    expect(status.orders.done?.state).toBe("completed");
    expect(status.orders.held?.state).toBe("completed");
    // The machines never wrote main again.
    expect((await git(f.hubPath, "log", "--format=%ae", `${main}..main`)).trim()).toBe("");
  }); // three machines, an old hub and its upgrade: over a minute on a loaded machine (CI)

  it("is upgraded by a person with coord hub upgrade, as the clone's git user; a second run has nothing to do", async () => {
    fleet = await makeFleet(["a", "b", "c"]);
    const f = fleet;
    const { log, go, holding } = await busyOldHub(f);
    await personIdentity(f);
    await git(f.person, "pull", "--quiet", "--ff-only", "origin", "main");

    const r = await cli("hub", "upgrade", "--dir", f.person);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^upgraded: the machines publish on the branch coord/);
    expect((await git(f.hubPath, "log", "-1", "--format=%an <%ae>", "main")).trim()).toBe("Pat Person <pat@example.com>");
    expect((await git(f.hubPath, "log", "-1", "--format=%an", "coord")).trim()).toBe("Pat Person");
    // The person's clone is on the new main.
    expect((await git(f.person, "rev-parse", "HEAD")).trim()).toBe((await git(f.hubPath, "rev-parse", "main")).trim());
    expect(await readFile(join(f.person, "STATUS.md"), "utf8")).toMatch(/blob\/coord\/STATUS\.md/);
    expect((await cli("hub", "upgrade", "--dir", f.person)).out).toMatch(/^nothing to do/);

    await writeFile(go, "");
    const a = await holding;
    expect([a.ran.map((t) => `${t.id} ${t.state}`), a.ordersProblems]).toEqual([["held completed"], []]);
    for (let round = 0; round < 2; round++) for (const m of ["a", "b", "c"]) expect((await sync({ dir: f.machines[m]! })).ran).toEqual([]);
    expect((await inbox({ dir: f.machines.c! })).messages.map((m) => m.text)).toEqual(["sent before the upgrade"]);
    expect((await readLines(log)).sort()).toEqual(["done a", "held a"]);
    expect(await hubFile(f, "coordination/COMPUTER_a.md")).not.toContain(TOMBSTONE_HOST);
  });

  it("coord hub upgrade without a git identity says how to set one, and changes nothing", async () => {
    fleet = await makeFleet(["a"]);
    await toOldLayout(fleet);
    const r = await cli("hub", "upgrade", "--dir", fleet.person);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^coord: coord hub upgrade makes the upgrade commit as you, but .* has no git user\.(name|email); set it with git -C/);
    expect(r.err).not.toMatch(/--human/); // the command has no such option
    expect(await git(fleet.hubPath, "branch", "--list", "coord")).toBe("");
  });

  it("an old hub (its history older than the default limit) keeps its history through the upgrade; coord's count starts there", async () => {
    fleet = await makeFleet(["a"]);
    const f = fleet;
    await toOldLayout(f);
    const before = (await git(f.hubPath, "rev-parse", "main")).trim();
    const later = () => new Date(Date.now() + 8 * 86_400_000); // past 7 days, the default age limit
    expect((await sync({ dir: f.machines.a!, now: later })).warnings).toEqual([]);
    await git(f.hubPath, "merge-base", "--is-ancestor", before, "coord"); // not replaced by a new root
    expect((await git(f.hubPath, "log", "--format=%B", "-1", "coord^")).trim()).toMatch(/^Coord-History: 1 /m);
  });

  it("a hub whose coord is gone after the upgrade carries on: the tombstones on main are not read, coord starts again", async () => {
    fleet = await makeFleet(["a", "b"]);
    const f = fleet;
    await toOldLayout(f);
    expect((await sync({ dir: f.machines.a! })).warnings).toEqual([]); // upgrades
    await git(f.hubPath, "update-ref", "-d", "refs/heads/coord"); // mirrored with main only, or deleted by hand
    for (const m of ["a", "b"]) {
      const r = await cli("sync", "--dir", f.machines[m]!);
      expect(r.code, r.err).toBe(0);
    }
    expect(Object.keys((await hubStatus(f)).machines).sort()).toEqual(["a", "b"]);
    expect(await hubFile(f, "coordination/COMPUTER_a.md")).not.toContain(TOMBSTONE_HOST);
  });

  it("the machines' branch cannot be the people's: hub create and init refuse --branch coord", async () => {
    fleet = await makeFleet(["a"]);
    const create = await cli("hub", "create", join(fleet.root, "other.git"), "--branch", "coord");
    expect(create.code).toBe(2);
    expect(create.err).toMatch(/^coord: --branch coord is the machines' own branch/);
    const init = await cli("init", join(fleet.root, "x"), "--name", "x", "--remote", fleet.hubPath, "--branch", "coord");
    expect(init.code).toBe(2);
    expect(init.err).toMatch(/^coord: --branch coord is the machines' own branch/);
  });
});
