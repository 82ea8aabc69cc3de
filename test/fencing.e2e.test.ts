// Fencing on real git: a holder of an ANY claim that can no longer publish stops its task
// itself before any other machine may take the claim over (leases measured by the taker's
// own clock), so two live machines never run it at once. Its own file: it waits out a lease.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { killOrphan } from "../src/runner/run.js";
import { sync } from "../src/sync/sync.js";
import { taskMarker } from "../src/sync/tasks.js";
import { cliProcess, git, hubFile, journal, makeFleet, pushOrders, setConfig, waitFor, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

it("ANY: a holder that cannot publish stops its task before another machine may take its claim over", async () => {
  fleet = await makeFleet(["izzit7", "soda-yeti"]);
  const A = fleet.machines.izzit7!;
  const B = fleet.machines["soda-yeti"]!;
  await setConfig(A, { claimLease: "30s", checkEvery: "1s", heartbeat: "1h" });
  await setConfig(B, { claimLease: "30s", checkEvery: "1s", heartbeat: "1h" });
  const d = fleet.root;
  const run =
    `if [ "$COORD_MACHINE" = izzit7 ]; then touch ${d}/a-running; trap 'rm -f ${d}/a-running; exit 143' TERM; sleep 300 & wait; ` +
    `else if [ -e ${d}/a-running ]; then echo both >> ${d}/overlap; fi; fi`;
  await pushOrders(fleet, [{ id: "train", to: "ANY", run }]);
  await sync({ dir: B, run: false });
  const holder = cliProcess(["sync", "--dir", A]);
  try {
    const entry = await waitFor(
      async () => {
        const t = (await journal(A)).tasks.train;
        return t?.state === "in_progress" && t.pid ? t : undefined;
      },
      20_000,
      "izzit7 to run its claim",
    );
    // Cut izzit7 off right after a publish that kept an old lastSeen (it refreshes it only when 10 s old).
    await waitFor(
      async () => {
        const seen = /lastSeen: (\S+)/.exec(await hubFile(fleet!, "coordination/COMPUTER_izzit7.md"))![1]!;
        return Date.now() - Date.parse(seen) > 8_000;
      },
      30_000,
      "an old lastSeen",
      500,
    );
    await git(A, "remote", "set-url", "origin", join(d, "gone.git"));
    // soda-yeti syncs as it would from cron, until it runs the order.
    const taken = await waitFor(
      async () => {
        const r = await sync({ dir: B });
        return r.ran.length ? r : undefined;
      },
      90_000,
      "soda-yeti to take over",
      1000,
    );
    expect(taken.ran[0]).toMatchObject({ id: "train" });
    const overlap = await readFile(join(d, "overlap"), "utf8").catch(() => "");
    await killOrphan(entry.pid!, taskMarker("izzit7", "train", entry, entry.attempts)); // only while it is that task
    expect(overlap).toBe(""); // izzit7's task was still running when soda-yeti started it
  } finally {
    holder.kill("SIGKILL");
  }
}, 180_000);
