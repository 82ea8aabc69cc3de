// Found in review: each test shows a guarantee that once broke (concurrent commits in one process,
// owed onMessage hooks, queued tasks cancelled, busy machines claiming (self-fencing of ANY holders: any.e2e),
// lost mailbox or journal recovered as their errors say).
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Repo, machineAuthor } from "../src/git/git.js";
import { commitOf } from "../src/git/hub.js";
import { roleOf } from "../src/core/trust/ownership.js";
import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import type { StatusJson } from "../src/core/fleet/status-types.js";
import { cli, git, pushOrders, hubCommits, hubFile, hubStatus, journal, makeFleet, setConfig, waitFor, type Fleet, sendNow } from "./helpers.js";
import { openMachine, sync } from "../src/sync/sync.js";
import { publishOrdersEdit } from "../src/daemon/watch.js";
import { inbox, send } from "../src/actions/messages.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

describe("review", () => {
  // Each commitFiles call has a scratch directory of its own: coord watch builds two commits at once in one process.
  it("two commitFiles at once in one process each commit only their own change", async () => {
    fleet = await makeFleet(["m1"]);
    const dir = fleet.machines.m1!;
    const repo = new Repo(dir, join(dir, ".git", "coord"));
    const tip = (await repo.fetch())!;
    const problems: string[] = [];
    for (let i = 0; i < 5; i++) {
      const [a, b] = await Promise.all([
        repo.commitFiles(tip, new Map([["ORDERS.json", `person edit ${i}\n`]]), { name: "Pat", email: "p@x" }, "person").catch((e) => `error: ${e.message}`),
        repo.commitFiles(tip, new Map([["coordination/COMPUTER_m1.md", `machine file ${i}\n`]]), machineAuthor("m1"), "machine").catch((e) => `error: ${e.message}`),
      ]);
      for (const [c, path, want, other] of [
        [a, "ORDERS.json", `person edit ${i}\n`, "coordination/COMPUTER_m1.md"],
        [b, "coordination/COMPUTER_m1.md", `machine file ${i}\n`, "ORDERS.json"],
      ] as const) {
        if (c.startsWith("error:")) {
          problems.push(c);
          continue;
        }
        // Each on its role's branch: the person's on main, the machine's on coord.
        const role = roleOf(path);
        const got = await git(dir, "show", `${commitOf(c, role)}:${path}`);
        if (got !== want) problems.push(`${path} in its commit holds ${JSON.stringify(got)}`);
        const changed = (await git(dir, "diff", "--name-only", commitOf(tip, role), commitOf(c, role))).trim().split("\n");
        if (changed.includes(other)) problems.push(`commit for ${path} also changed ${other}`);
      }
    }
    expect(problems).toEqual([]);
  });

  // The same, as coord watch does it: the daemon's sync and a saved ORDERS.json publish at once in one process.
  it("coord watch: a sync and a saved ORDERS.json published at the same time keep their own files", async () => {
    fleet = await makeFleet(["m1"]);
    const dir = fleet.machines.m1!;
    const m = await openMachine(dir);
    await sync({ dir });
    const problems: string[] = [];
    for (let i = 0; i < 8 && problems.length === 0; i++) {
      const text = JSON.stringify({ $schema: "coordination/orders.schema.json", version: 1, orders: [{ id: `o${i}`, to: "m1", run: "true", cancelled: true }] }, null, 2) + "\n";
      await writeFile(join(dir, "ORDERS.json"), text);
      await send({ dir, to: "ALL", text: `news ${i}` }); // gives the sync something to publish
      const [, edit] = await Promise.all([sync({ dir, run: false }).catch((e) => e), publishOrdersEdit(m).catch((e) => e)]);
      if (edit instanceof Error) problems.push(`edit: ${edit.message}`);
      for (const c of (await hubCommits(fleet)).slice(0, 3)) {
        if (c.author === "coord m1" && c.paths.includes("ORDERS.json")) problems.push(`machine commit ${c.sha.slice(0, 8)} changed ORDERS.json`);
        if (c.author !== "coord m1" && c.author !== "coord hub" && c.paths.some((p) => p !== "ORDERS.json"))
          problems.push(`person commit ${c.sha.slice(0, 8)} changed ${c.paths.join(", ")}`);
      }
      const orders = await hubFile(fleet, "ORDERS.json");
      if (!orders.startsWith("{")) problems.push(`ORDERS.json on the hub is ${JSON.stringify(orders.slice(0, 40))}`);
      await git(dir, "checkout", "--quiet", "--", "ORDERS.json").catch(() => {});
    }
    expect(problems).toEqual([]);
  });

  // The holder fences itself on the lastSeen others see (not on its last successful publish), before the lease ends.
  // Messages delivered by a sync that runs no hooks (--no-run, send --now) are owed a hook run at the next full sync.
  it("onMessage runs for a message that a `coord send --now` on the recipient happened to deliver", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const seen = join(fleet.root, "seen.jsonl");
    const hook = join(fleet.root, "hook.sh");
    await writeFile(hook, `#!/bin/sh\ncat >> ${seen}\nexit 0\n`);
    await chmod(hook, 0o755);
    await setConfig(fleet.machines["soda-yeti"]!, { onMessage: hook });
    await sendNow({ dir: fleet.machines.izzit7!, to: "soda-yeti", text: "please rebuild" });
    // soda-yeti replies to something else, publishing at once: this sync delivers izzit7's message.
    const r = await sendNow({ dir: fleet.machines["soda-yeti"]!, to: "izzit7", text: "unrelated" });
    expect(r.published?.delivered).toEqual(["izzit7/soda-yeti/1"]);
    await sync({ dir: fleet.machines["soda-yeti"]! });
    expect(await readFile(seen, "utf8").catch(() => "")).toContain("please rebuild");
  });

  // A task still waiting for a slot is checked against the latest orders before it starts.
  it("a task waiting for a free slot is not started once its order is cancelled", async () => {
    fleet = await makeFleet(["m1"]);
    const dir = fleet.machines.m1!;
    await setConfig(dir, { checkEvery: "1s" });
    const ran = join(fleet.root, "later.ran");
    const release = join(fleet.root, "release");
    const orders = (cancelled: boolean) => [
      { id: "long", to: "m1", run: untilExists(release), priority: "high" },
      { id: "later", to: "m1", run: `echo ran >> ${ran}`, ...(cancelled ? { cancelled: true } : {}) },
    ];
    await pushOrders(fleet, orders(false));
    const running = sync({ dir });
    await waitFor(async () => (await journal(dir)).tasks.long?.state === "in_progress", 20_000, "long to start");
    await pushOrders(fleet, orders(true));
    await seenBy(fleet, (s) => s.orders.later?.state === "cancelled"); // it looked at the orders that cancel "later" while "long" still runs
    await writeFile(release, "");
    const r = await running;
    expect(r.ran.map((t) => `${t.id} ${t.state}`)).toEqual(["long completed"]);
    expect(await readFile(ran, "utf8").catch(() => "")).toBe("");
  });

  // While tasks run, new claims count the busy slots: a busy machine leaves ANY orders to idle ones.
  it("a machine whose slots are all busy does not claim an ANY order an idle machine could run", async () => {
    fleet = await makeFleet(["m1", "m2"]);
    const [d1, d2] = [fleet.machines.m1!, fleet.machines.m2!];
    await setConfig(d1, { checkEvery: "1s" }); // maxParallel 1 (default)
    const release = join(fleet.root, "release");
    const long = { id: "long", to: "m1", run: untilExists(release) };
    await pushOrders(fleet, [long]);
    const running = sync({ dir: d1 });
    await waitFor(async () => (await journal(d1)).tasks.long?.state === "in_progress", 20_000, "long to start");
    await pushOrders(fleet, [long, { id: "any", to: "ANY", run: "true" }]);
    // m1, busy with "long", looks at the new orders (and would claim "any" then) while "long" runs.
    await seenBy(fleet, (s) => s.orders.any !== undefined);
    const r2 = await sync({ dir: d2 });
    await writeFile(release, "");
    await running;
    expect(r2.waiting).toEqual([]); // today: [{ id: "any", reason: "claimed by m1" }]
    expect(r2.ran.map((t) => t.id)).toEqual(["any"]);
  });

  // A rebuilt mailbox takes the published receipts with received = acknowledged: what was received but not
  // acknowledged is delivered again, not lost.
  it("a broken mailbox, kept aside and rebuilt, still has the unacknowledged messages", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const B = fleet.machines["soda-yeti"]!;
    await sendNow({ dir: fleet.machines.izzit7!, to: "soda-yeti", text: "do not lose me" });
    expect((await sync({ dir: B })).delivered).toEqual(["izzit7/soda-yeti/1"]);
    const box = join(B, ".git", "coord", "mailbox.json");
    await writeFile(box, "{ broken");
    // The broken file is kept aside (mailbox.json.corrupt-<time>), and coord inbox says so, exit 1, until a sync rebuilds it.
    const listed = await cli("inbox", "--dir", B);
    expect(listed.code).toBe(1);
    expect(listed.err).toMatch(/mailbox\.json\.corrupt-/);
    const sync2 = await cli("sync", "--dir", B);
    expect(sync2.code).toBe(0);
    expect((await inbox({ dir: B, unread: true })).messages.map((m) => m.id)).toEqual(["izzit7/soda-yeti/1"]);
  });

  // A lost journal is rebuilt from the machine's published file: nothing it ran runs again.
  it("a broken journal, kept aside and rebuilt, does not run a completed task a second time", async () => {
    fleet = await makeFleet(["m1"]);
    const dir = fleet.machines.m1!;
    const counter = join(fleet.root, "count");
    await pushOrders(fleet, [{ id: "count", to: "m1", run: `echo x >> ${counter}` }]);
    await sync({ dir });
    const path = join(dir, ".git", "coord", "journal.json");
    await writeFile(path, "{ torn");
    const r = await cli("sync", "--dir", dir);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(
      /journal\.json could not be read \(not JSON: .*\); it was kept aside as .*journal\.json\.corrupt-.* and a new journal starts from what this machine published, so nothing it ran runs again/,
    );
    expect((await readFile(counter, "utf8")).trim().split("\n")).toHaveLength(1);
  });
  // A claim is checked again on the tip that rejected its push: what was claimable on the old tip may be done now.
  it("a claim whose push lost to a machine that meanwhile ran the order and failed it for good does not run", async () => {
    fleet = await makeFleet(["a", "b"]);
    const [A, B] = [fleet.machines.a!, fleet.machines.b!];
    const log = join(fleet.root, "log");
    const waiting = join(fleet.root, "b-push-waiting");
    const release = join(fleet.root, "release");
    // b's network is slow: its first push waits until the test releases it (at most 30 s).
    const hook = join(B, ".git", "hooks", "pre-push");
    await writeFile(hook, `#!/bin/sh\n[ -e ${release} ] && exit 0\ntouch ${waiting}\ni=0; while [ ! -e ${release} ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\nexit 0\n`);
    await chmod(hook, 0o755);
    await pushOrders(fleet, [{ id: "job", to: "ANY", retries: 0, run: `echo "$COORD_MACHINE a$COORD_ATTEMPT" >> ${log}; exit 1` }]);
    const bSync = cli("sync", "--dir", B); // b claims, and pushes the claim slowly (its git push waits; this process goes on)
    await waitFor(async () => (await stat(waiting).catch(() => undefined)) !== undefined, 20_000, "b to push its claim");
    await sync({ dir: A }); // meanwhile a claims, runs attempt 1, fails: retries 0, failed for good
    expect((await hubStatus(fleet)).orders.job).toMatchObject({ state: "failed", done: true });
    await writeFile(release, "");
    const r = await bSync; // rejected; on the new tip the order is done
    expect(r.code, r.err).toBe(0);
    expect((await readFile(log, "utf8")).trim().split("\n")).toEqual(["a a1"]);
    expect((await hubStatus(fleet)).orders.job!.machines.b).toBeUndefined();
  });
  // The fleet remembers an ANY order by the published reports only: they outlive the order for a while, and never go back.
  it("an ANY order removed by mistake and restored, or reverted to an older rev, does not run again elsewhere", async () => {
    fleet = await makeFleet(["a", "b"]);
    const [A, B] = [fleet.machines.a!, fleet.machines.b!];
    const log = join(fleet.root, "log");
    const order = (id: string, rev = 1) => ({ id, to: "ANY", rev, run: `echo "$COORD_MACHINE $COORD_ORDER r$COORD_REV" >> ${log}` });
    await setConfig(A, { maxParallel: 2 }); // both in one sync
    await pushOrders(fleet, [order("once"), order("bumped")]);
    await sync({ dir: A });
    await pushOrders(fleet, [order("bumped", 2)]); // "once" removed by mistake
    await sync({ dir: A });
    await pushOrders(fleet, [order("once"), order("bumped", 1)], "restore it; revert the bump");
    await sync({ dir: B });
    expect((await readFile(log, "utf8")).trim().split("\n").sort()).toEqual(["a bumped r1", "a bumped r2", "a once r1"]);
    expect((await hubStatus(fleet)).orders.once).toMatchObject({ state: "completed", done: true });
    expect((await hubStatus(fleet)).orders.bumped!.reason).toBe("a ran rev 2 already; ORDERS.json says rev 1: set rev above 2 to run it again");
  });
  // coord watch cannot fast-forward a checkout whose ORDERS.json is edited; an edit that already holds the
  // remote's change (merged by hand) is pushed, one that misses it is kept and not pushed.
  it("coord watch pushes an edit merged by hand with a remote change, and refuses one that would undo it", async () => {
    fleet = await makeFleet(["m1"]);
    const dir = fleet.machines.m1!;
    const order = (id: string, extra: object = {}) => ({ id, to: "m1", run: `echo ${id}`, ...extra });
    const text = (orders: object[]) => JSON.stringify({ $schema: "coordination/orders.schema.json", version: 1, orders }, null, 2) + "\n";
    await pushOrders(fleet, [order("a")]);
    await sync({ dir, run: false });
    const m = await openMachine(dir);
    await pushOrders(fleet, [order("a", { rev: 2 }), order("p")]); // a person, elsewhere
    await writeFile(join(dir, "ORDERS.json"), text([order("a"), order("mine")])); // saved in the checkout meanwhile
    const refused = await publishOrdersEdit(m);
    expect(refused).toMatchObject({ kind: "conflict" });
    expect(refused.kind === "conflict" && refused.message).toContain("git diff HEAD origin/main -- ORDERS.json");
    await writeFile(join(dir, "ORDERS.json"), text([order("a", { rev: 2 }), order("p"), order("mine")])); // merged by hand
    expect(await publishOrdersEdit(m)).toMatchObject({ kind: "pushed" });
    expect(JSON.parse(await hubFile(fleet, "ORDERS.json")).orders.map((o: { id: string }) => o.id)).toEqual(["a", "p", "mine"]);
    expect((await git(dir, "status", "--porcelain")).trim()).toBe(""); // and the checkout is at the tip again
  });
});

/** A task command that runs until `path` exists (at most a minute). */
function untilExists(path: string): string {
  return `i=0; while [ ! -e ${path} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done`;
}

/**
 * Waits until the machine (the only one syncing meanwhile: it looks every second, checkEvery 1s) has published a
 * STATUS.json derived from the hub's new ORDERS.json, as `saw` tells: it viewed those orders while its task runs.
 * Not its file's `orders.seen`: what a machine merely read goes out with its next push of work, and its one push
 * may have been made just before the person's (it then stays as it was until its heartbeat).
 */
async function seenBy(fleet: Fleet, saw: (status: StatusJson) => boolean, machine = "m1"): Promise<void> {
  await waitFor(async () => saw(await hubStatus(fleet)), 30_000, `${machine} to publish a STATUS.json that has seen the new orders`, 250);
}
