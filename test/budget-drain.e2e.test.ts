// The fleet's push budget on real git (issue 30, "What must hold": 10 daemons drain 40 ANY orders within 4
// minutes under GitHub's 6 pushes a minute), at half size: 5 daemons, each with the same share (a hub of 3 pushes a
// minute), drain 20 ANY orders (4 each, as there) within 2 minutes, each run once, no sync giving up, their tries
// within what the buckets allow. Half the machines halve the round of turns each push waits for (core/budget.ts
// turnWait: 2 s a machine), which took most of the time. The full size stays bench row 13d. In a file of its own:
// it runs beside the budget's other must-holds (budget.e2e), not after them.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BUCKET_CAPACITY } from "../src/core/budget.js";
import { daemonStatus } from "../src/daemon/daemon.js";
import { sync } from "../src/sync/sync.js";
import { type Fleet, hubStatus, makeFleet, ordersText, pushOrders, readLines } from "./helpers.js";
import { countPushes, failedSyncs, firstSyncs, landedPushes, MINUTE, machineCommits, sleep, startDaemons, stopDaemons } from "./budget-fleet.js";

const FIVE = ["five1", "five2", "five3", "five4", "five5"];
/** Each machine's share of GitHub's 6 pushes a minute for 10: 0.6 a minute (a token every 100 s), a fleet of 5. */
const BUDGET = 3;
const budget = (orders: unknown[]) => ordersText(orders, { pushesPerMinute: BUDGET });

let fleet: Fleet | undefined;
afterEach(async () => {
  await stopDaemons();
  await fleet?.cleanup();
  fleet = undefined;
});

describe("the fleet's push budget, on real git: a burst of work", () => {
  // The machines claim their shares in few pushes (claimsAhead) and push in turns (turnWait): without turns, 10
  // machines pushing in step on one branch lost about half their tries, each paid from the bucket, and the drain
  // took 3-7 minutes; with retries unbounded it took 12-16 s but left buckets 7-8 tokens in debt (10 daemons, 40 orders).
  it(
    "5 daemons with a share of GitHub's 6 for 10 drain 20 ANY orders of 1 s within 2 minutes: each runs once, no sync gives up",
    async () => {
      fleet = await makeFleet(FIVE);
      const f = fleet;
      await pushOrders(f, budget([]), "the hub's budget: 3 pushes a minute");
      // STATUS says the budget; one sync alone: its turn to push is no one else's (no wait).
      await sync({ dir: f.machines[FIVE[0]!]!, waitTurn: async () => {} });
      const pushes = await countPushes(f);
      // As bench row 11b runs them: a look at the hub every 5 s, no jitter.
      const { daemons, started, stop } = startDaemons(f, FIVE, { schedule: "*/5 * * * * *", jitter: 0 });
      await firstSyncs(daemons, MINUTE);
      const landedBefore = await landedPushes(f);
      const commitsBefore = await machineCommits(f);
      const triedBefore = await pushes();

      const log = join(f.root, "ran.log");
      const ids = Array.from({ length: 4 * FIVE.length }, (_, i) => `drain-${String(i + 1).padStart(2, "0")}`);
      await pushOrders(f, budget(ids.map((id) => ({ id, to: "ANY", run: `sleep 1; echo "$COORD_ORDER $COORD_MACHINE" >> ${log}` }))), "20 ANY orders");
      const pushed = Date.now();
      let completed = 0;
      while (Date.now() - pushed < 2 * MINUTE) {
        const orders = (await hubStatus(f)).orders;
        completed = ids.filter((id) => orders[id]?.state === "completed").length;
        if (completed === ids.length) break;
        await sleep(1_000);
      }
      const took = Date.now() - pushed;
      const tried = (await pushes()) - triedBefore;
      const landed = (await landedPushes(f)) - landedBefore;
      const commits = (await machineCommits(f)) - commitsBefore;
      await stop();
      const runs = (await readLines(log)).map((line) => line.split(" ") as [string, string]);
      const byMachine = FIVE.map((name) => runs.filter(([, m]) => m === name).length);
      const linesOf = (re: RegExp) => daemons.flatMap((d) => d.lines.filter((l) => re.test(l)));
      const rejected = linesOf(/push rejected/);
      const deferred = linesOf(/sync: what changed waits for the fleet's push budget/);
      console.log(
        `budget: 5 daemons (${BUDGET} pushes a minute), 20 ANY orders of 1 s: ${completed}/20 completed on the hub in ${(took / 1000).toFixed(1)} s; ${tried} pushes reached the hub (${landed} landed, ${rejected.length} rejected), ` +
          `${commits} machine commits; runs per machine ${byMachine.join(" ")}; ${deferred.length} syncs left their results to wait for the budget`,
      );
      expect(failedSyncs(daemons)).toEqual([]);
      for (const name of FIVE) expect((await daemonStatus(f.machines[name]!)).failing).toBeUndefined();
      expect(new Set(runs.map(([id]) => id)).size, "an order ran twice").toBe(runs.length);
      // Why, when they did not: each machine's lost races and the first wait for the budget that followed.
      const why = daemons.map((d) => {
        const lost = d.lines.filter((l) => /push rejected/.test(l)).length;
        const wait = d.lines.find((l) => /this publish waits for the fleet's push budget/.test(l));
        const [, at, until] = /^\+([\d.]+)s .* until (\S+)$/.exec(wait ?? "") ?? [];
        const seconds = at && until ? Math.round((Date.parse(until) - started) / 1000 - Number(at)) : undefined;
        return `${d.name}: ${lost} pushes rejected; ${wait ? `${wait} (${seconds} s)` : "its results never waited"}`;
      });
      expect(completed, `completed on the hub within 2 minutes\n${why.join("\n")}`).toBe(ids.length);
      expect(took).toBeLessThanOrEqual(2 * MINUTE);
      // Within what the buckets allow: the budget's rate, and each machine's full bucket and its debt for urgent pushes.
      expect(tried).toBeLessThanOrEqual(BUDGET * (took / MINUTE) + FIVE.length * 2 * BUCKET_CAPACITY);
      expect(runs.map(([id]) => id).sort()).toEqual(ids);
    },
    4 * MINUTE,
  );
});
