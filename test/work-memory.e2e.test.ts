// Work distribution on the in-memory hub while a task's process runs: the
// scenarios whose point is a task still running (seconds of it) while other
// syncs go on: a draining slot claims ahead, a machine helps a busy one, a
// holder whose clock is behind keeps its claim, a copy whose identity was
// reclaimed stops its task. (The rest, with tasks that end at once:
// work-memory.test.ts.)
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readLines as lines, waitFor } from "./helpers.js";
import { preferredMachine } from "../src/core/work/rank.js";
import { saveConfig } from "../src/state/config.js";
import { syncMachine } from "../src/sync/sync.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

describe("to: ANY on the in-memory hub", () => {
  it("a draining machine with one slot claims its next order while a short task runs: the claim is on the hub before that task ends", async () => {
    fleet = await memoryFleet(["solo"]);
    const f = fleet;
    const log = join(f.root, "ran.log");
    // A drain claims ahead once a task of the sync has ended (by how long it took): the first task to run ends at once;
    // each after it waits for the test to have looked (a gate file), not for a time: on a loaded machine a claim's push
    // can take longer than any short task, and a task that ended first would show nothing about claiming ahead.
    const gate = join(f.root, "gate");
    const first = join(f.root, "first");
    const run = (id: string) => `mkdir ${first} 2>/dev/null || while [ ! -e ${gate} ]; do sleep 0.05; done; echo ${id} >> ${log}`;
    const orders = ["a", "b", "c"].map((id) => ({ id, to: "ANY", run: run(id) }));
    await f.pushOrders(orders);
    const syncing = f.sync("solo");
    // Without claiming ahead, a claim goes out with the result of the task before it (completed); with it, while that
    // task runs: the hub shows one order running and the next already claimed. (The rank decides which comes first.)
    // Looked for, then the gate opens and the sync ends either way (a failure leaves no task behind the cleanup).
    const seen = await waitFor(
      async () => {
        const st = await f.status();
        const states = ["a", "b", "c"].map((id) => st.orders[id]?.machines?.solo?.state);
        return states.includes("in_progress") && states.includes("assigned");
      },
      20_000,
      "one order running and the next claimed on the hub",
      20,
    ).then(
      () => true,
      (e: Error) => e.message,
    );
    await writeFile(gate, "");
    const r = await syncing;
    expect(seen).toBe(true);
    expect(r.ran.map((t) => t.id).sort()).toEqual(["a", "b", "c"]);
    expect((await lines(log)).sort()).toEqual(["a", "b", "c"]); // each once
  });

  it("a machine whose own share is done helps a busy machine with its share in the same sync, and leaves an idle machine's share to it", async () => {
    fleet = await memoryFleet(["a", "b"]);
    const f = fleet;
    const log = join(f.root, "ran.log");
    // Every order here is b's share (b is online).
    const ids = Array.from({ length: 60 }, (_, i) => `job-${i}`)
      .filter((id) => preferredMachine(id, ["a", "b"]) === "b")
      .slice(0, 7);
    expect(ids).toHaveLength(7);
    const order = (id: string, run = "true") => ({ id, to: "ANY", run: `echo "$COORD_ORDER $COORD_MACHINE" >> ${log}; ${run}` });
    const [long, ...rest] = ids as [string, ...string[]];
    const busyShare = rest.slice(0, 3);
    const idleShare = rest.slice(3);
    // b at work: its claim of a long order of its share is on the hub; then three more of its share come.
    await f.pushOrders([order(long, "sleep 3")]);
    const bSync = f.sync("b");
    for (let i = 0; i < 200 && !["assigned", "in_progress"].includes((await f.status()).orders[long]?.machines?.b?.state ?? ""); i++) await new Promise((r) => setTimeout(r, 20));
    await f.pushOrders([order(long, "sleep 3"), ...busyShare.map((id) => order(id))]);
    expect((await f.sync("a")).ran.map((t) => t.id).sort()).toEqual([...busyShare].sort()); // all three, in one sync
    expect((await bSync).ran.map((t) => t.id)).toEqual([long]);
    // b idle (between its ticks): a's sync takes one, as any sync does, then in its drain its part of the two left
    // as the fleet's shares are dealt (bounded loads, core/work/rank.ts dealShares: one each), and leaves b's to b.
    await f.pushOrders([order(long, "sleep 3"), ...busyShare.map((id) => order(id)), ...idleShare.map((id) => order(id))]);
    expect(idleShare).toHaveLength(3);
    expect((await f.sync("a")).ran).toHaveLength(2);
    expect((await f.sync("b")).ran).toHaveLength(1);
    const ran = (await lines(log)).map((l) => l.split(" ")[0]);
    expect([...ran].sort()).toEqual([...ids].sort()); // each once
  });
});

describe("clock skew, on the in-memory hub", () => {
  const minutes = (n: number) => () => new Date(Date.now() + n * 60_000);

  it("a holder whose clock is 6 minutes behind keeps its claim (lease 5 minutes): the reader measures the lease by its own clock", async () => {
    fleet = await memoryFleet(["a", "b"], { config: { claimLease: 300, checkEvery: 1 } });
    const f = fleet;
    const log = join(f.root, "ran.log");
    const marker = join(f.root, "a-started");
    await f.pushOrders([{ id: "job", to: "ANY", run: `echo $COORD_MACHINE >> ${log}; [ "$COORD_MACHINE" = b ] || { touch ${marker}; sleep 3; }` }]);
    const holder = f.sync("a", { now: minutes(-6) });
    for (let i = 0; i < 200 && !(await lines(log)).length; i++) await new Promise((r) => setTimeout(r, 25));
    expect((await f.status()).orders.job?.machines.a?.state).toMatch(/assigned|in_progress/);
    // By a's word its lastSeen is 6 minutes old, past the lease; b saw it appear just now.
    const b = await f.sync("b");
    expect(b.ran).toEqual([]);
    expect(b.waiting).toEqual([{ id: "job", reason: "claimed by a" }]);
    expect((await holder).ran.map((t) => [t.id, t.state])).toEqual([["job", "completed"]]);
    expect(await lines(log)).toEqual(["a"]);
  });
});

describe("a reclaimed identity, on the in-memory hub", () => {
  it("a copy running a task when another copy reclaims the identity stops it at its next look, publishes nothing, and neither claims nor runs after", async () => {
    fleet = await memoryFleet(["a"], { config: { checkEvery: 1 } });
    const f = fleet;
    const log = join(f.root, "ran.log");
    await f.pushOrders([{ id: "long", to: "ANY", run: `echo started >> ${log}; sleep 30` }]);
    const old = f.m("a");
    const running = f.sync("a");
    for (let i = 0; i < 200 && !(await lines(log)).length; i++) await new Promise((r) => setTimeout(r, 25));
    // The reinstalled copy: the same identity, one generation newer, its own state.
    const dir = join(f.root, "a-reinstalled");
    await mkdir(join(dir, ".coord"), { recursive: true });
    const copy = {
      dir,
      stateDir: join(dir, ".coord"),
      hub: f.remote.client(),
      config: { ...old.config, epoch: 1, reclaimedOn: "new-host", reclaimedAt: "2026-11-23T08:00:00.000Z" },
    };
    await saveConfig(copy.stateDir, copy.config);
    await syncMachine(copy, { run: false });
    // The old copy's task is stopped at its next look, and its sync ends without publishing over the new copy's file.
    await expect(running).rejects.toThrow(/^this identity \(a\) was reclaimed on new-host at 2026-11-23T08:00:00.000Z/);
    const journal = JSON.parse(await readFile(join(old.stateDir, "journal.json"), "utf8"));
    expect(journal.tasks.long).toMatchObject({ state: "failed", reason: expect.stringMatching(/^this identity \(a\) was reclaimed/) });
    await expect(f.sync("a")).rejects.toThrow(/this identity \(a\) was reclaimed on new-host/);
    expect(await lines(log)).toEqual(["started"]);
  });
});
