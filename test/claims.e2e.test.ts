// Review: a claim journaled before a crash (COORD_TEST_CRASH=claimed) is claimed again at the
// next sync even though another machine ran that attempt meanwhile.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { sync } from "../src/sync/sync.js";
import { CLI, git, hubHead, hubStatus, journal, makeFleet, pushOrders, waitFor, type Fleet, readLines as lines } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

function crashSync(dir: string, point: string): Promise<string | null> {
  const child = spawn(process.execPath, [CLI, "sync", "--dir", dir], { env: { ...process.env, COORD_TEST_CRASH: point }, stdio: "ignore" });
  return new Promise((resolve) => child.on("close", (_code, signal) => resolve(signal)));
}

it("an ANY order that failed for good on another machine is not run again by a machine that crashed after journaling its claim", async () => {
  fleet = await makeFleet(["izzit7", "soda-yeti"]);
  const log = join(fleet.root, "ran.log");
  await pushOrders(fleet, [{ id: "job", to: "ANY", retries: 0, run: `echo "$COORD_MACHINE $COORD_ATTEMPT" >> ${log}; exit 1` }]);
  // izzit7 journals its claim and dies before pushing it.
  expect(await crashSync(fleet.machines.izzit7!, "claimed")).toBe("SIGKILL");
  expect((await journal(fleet.machines.izzit7!)).tasks.job).toMatchObject({ state: "assigned", attempts: 1 });
  // Meanwhile soda-yeti (which saw no claim) runs attempt 1: it fails, no retries left.
  await sync({ dir: fleet.machines["soda-yeti"]! });
  expect((await hubStatus(fleet)).orders.job).toMatchObject({ state: "failed", done: true });
  // izzit7 comes back (bounded wait for its stale lock).
  await waitFor(
    async () => {
      const r = await sync({ dir: fleet!.machines.izzit7! });
      return r.skipped ? undefined : r;
    },
    20_000,
    "izzit7's next sync",
  );
  expect(await lines(log)).toEqual(["soda-yeti 1"]); // failed for good: attempt 1 ran once, nothing more
  expect((await hubStatus(fleet)).orders.job).toMatchObject({ state: "failed", done: true });
}, 60_000);

it("a retry after another machine ran the same attempt waits for the backoff (not run at once with the same attempt number)", async () => {
  fleet = await makeFleet(["izzit7", "soda-yeti"]);
  const log = join(fleet.root, "ran.log");
  // retryBackoff is the default 30 s: nothing may retry within this test.
  await pushOrders(fleet, [{ id: "job", to: "ANY", retries: 1, run: `echo "$COORD_MACHINE $COORD_ATTEMPT" >> ${log}; exit 1` }]);
  expect(await crashSync(fleet.machines.izzit7!, "claimed")).toBe("SIGKILL");
  await sync({ dir: fleet.machines["soda-yeti"]! });
  await waitFor(
    async () => {
      const r = await sync({ dir: fleet!.machines.izzit7! });
      return r.skipped ? undefined : r;
    },
    20_000,
    "izzit7's next sync",
  );
  expect(await lines(log)).toEqual(["soda-yeti 1"]);
}, 60_000);

it("a hub force-pushed back to before an ANY order ran: the machine that completed it republishes the result and does not run it again; nor does any other", async () => {
  fleet = await makeFleet(["izzit7", "soda-yeti"]);
  const log = join(fleet.root, "ran.log");
  await pushOrders(fleet, [{ id: "job", to: "ANY", run: `echo "$COORD_MACHINE" >> ${log}` }]);
  const before = await hubHead(fleet);
  expect((await sync({ dir: fleet.machines.izzit7! })).ran.map((t) => t.id)).toEqual(["job"]);
  expect((await hubStatus(fleet)).orders.job).toMatchObject({ state: "completed", done: true });
  // Someone force-pushes the hub back: the completion is gone from it.
  await git(fleet.hubPath, "update-ref", "refs/heads/coord", before);
  expect((await hubStatus(fleet)).orders.job?.state).not.toBe("completed");
  const again = await sync({ dir: fleet.machines.izzit7! });
  expect(again.ran).toEqual([]);
  expect((await hubStatus(fleet)).orders.job).toMatchObject({ state: "completed", done: true });
  expect((await sync({ dir: fleet.machines["soda-yeti"]! })).ran).toEqual([]);
  expect(await lines(log)).toEqual(["izzit7"]);
}, 60_000);
