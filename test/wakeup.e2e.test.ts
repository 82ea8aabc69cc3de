// No lost wake-up, end to end: coord watch --every 1s, started while a person pushes an order for its machine,
// starts that order within seconds, every time. (It once left its quiet stamp on a tip its first publish
// was rebuilt on, and the order waited for the next heartbeat: minutes.) The rule itself is tested
// deterministically in test/quiet.test.ts; this shows it with the real watch, git and a person's push.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeFleet, pushOrders, runningCli, waitFor, type Fleet } from "./helpers.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await fleet?.cleanup();
  fleet = undefined;
});

describe("coord watch --every 1s", () => {
  // A lost wake-up waits for the next heartbeat, minutes; a loaded machine (CI) takes a few seconds where an idle one
  // takes one. The bound tells them apart; how soon it is, is measured in npm run bench (rows 16).
  it("started while a person pushes an order for its machine, starts that order within 15 s, every time", { timeout: patient(120_000) }, async () => {
    fleet = await makeFleet(["izzit7"]);
    const f = fleet;
    const dir = f.machines.izzit7!;
    const lags: number[] = [];
    const orders: object[] = [];
    for (let run = 1; run <= 3; run++) {
      const started = join(f.root, `started-${run}`);
      orders.push({ id: `job-${run}`, to: "izzit7", run: `date +%s%3N > ${started}` });
      const output = runningCli(["watch", "--dir", dir, "--every", "1s"], stops);
      // The person's push lands while the watch's first sync fetches and publishes (a moment after it starts).
      await new Promise((r) => setTimeout(r, 150 * run));
      await pushOrders(f, [...orders], `order ${run}`);
      const pushed = Date.now();
      const at = await waitFor(async () => Number((await readFile(started, "utf8").catch(() => "")).trim()) || undefined, 30_000, `job-${run} to start`).catch((e: Error) => {
        throw new Error(`${e.message}; watch said:\n${output()}`);
      });
      lags.push(at - pushed);
      await stops.pop()!(); // stop this watch: the next run starts a new one, with its first publish
    }
    for (const lag of lags) expect(lag, `lags ${lags.join(", ")} ms`).toBeLessThan(15_000);
  });
});
