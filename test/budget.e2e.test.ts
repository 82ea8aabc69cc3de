// The fleet's push budget on real git (issue 30, "What must hold"): idle
// daemons stay within the hub's budget and online the whole time, their
// heartbeats stretched to the fleet's share (at time ÷ 4 and with 4 machines;
// the full-size fleets of 20 and 40 are bench rows 13a-b). (A person's order
// costs the hub at most 2 machine commits: budget-publish.e2e; the drain of 40
// ANY orders: budget-drain.e2e.) Pushes are counted at the hub as they reach
// it (budget-fleet.ts).
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { hubCreate } from "../src/commands/hub.js";
import { init } from "../src/commands/init.js";
import { presenceOf } from "../src/core/presence.js";
import { newConfig } from "../src/state/config.js";
import { sync } from "../src/sync/sync.js";
import { countPushes, failedSyncs, landedPushes, MINUTE, sleep, secondsSince, startDaemons, stopDaemons } from "./budget-fleet.js";
import { type Fleet, git, hubStatus, ordersText, pushOrders, setConfig, tempDir } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await stopDaemons();
  await fleet?.cleanup();
  fleet = undefined;
});

/**
 * The idle fleet at time ÷ 4 (a proportionally larger budget, shorter heartbeats, schedule and window: the budget's
 * rules scale with it): 4 machines on a hub of 4 pushes a minute, as 24 on GitHub's 6 (each one's share, and a
 * fleet's heartbeat 4 times the one the machines published before the budget: 2 min → 8 min there, 30 s → 2 min
 * here). Fewer machines than bench rows 13a-b (20 and 40 at time ÷ 10, every heartbeat published long): a push waits
 * for its machine's turn, in turns of 2 s whatever the budget (core/budget.ts turnWait), and each turn must fit in
 * the half heartbeat before a machine shows stale.
 */
const SPEED = 4;
/** The daemons' heartbeat, published before the budget: the default 2 minutes (src/state/config.ts daemonHeartbeat), at time ÷ 4. */
const HEARTBEAT_S = 120 / SPEED;
/** The hub's budget: the default share of 24 machines on 6 pushes a minute (a push every 4 minutes each), at time ÷ 4. */
const IDLE_BUDGET = { pushesPerMinute: 4 };

/**
 * A fleet that ran before it had a budget: its machines published their daemons' heartbeat (HEARTBEAT_S), one every
 * `staggerMs` (the phases of a fleet's heartbeats), so each one's heartbeat falls due HEARTBEAT_S after its
 * registration. A hub, a person's clone, one checkout per machine, default settings but the daemons' heartbeat.
 */
async function fleetOfHeartbeats(names: string[], staggerMs: number): Promise<Fleet> {
  const root = await tempDir();
  const hubPath = join(root, "hub.git");
  await hubCreate(hubPath);
  await git(hubPath, "config", "core.logAllRefUpdates", "always");
  const person = join(root, "person");
  await git(root, "clone", "--quiet", hubPath, person);
  const f: Fleet = { root, remote: hubPath, hubPath, machines: {}, person, cleanup: () => rm(root, { recursive: true, force: true }) };
  fleet = f;
  await pushOrders(f, ordersText([])); // no budget to speak of, as before
  const { heartbeat } = newConfig({ name: "x", uuid: "-" }); // the default setting (cron's coord sync)
  const start = Date.now();
  for (const [i, name] of names.entries()) {
    await sleep(start + i * staggerMs - Date.now());
    const dir = join(root, name);
    f.machines[name] = dir;
    await init({ dir, name, remote: hubPath, heartbeat: `${HEARTBEAT_S}s` });
    await setConfig(dir, { heartbeat, daemonHeartbeat: HEARTBEAT_S }); // the daemon publishes its daemonHeartbeat
  }
  return f;
}

/** How far apart the idle fleet's machines registered (their heartbeats' phases), as the 24 of GitHub's budget were. */
const STAGGER_MS = 2_500;

describe("the fleet's push budget, on real git", () => {
  it(
    "idle daemons on a hub of 4 pushes a minute for 4 (24 on 6, at time ÷ 4): one push each in 2 heartbeats, and every machine stays online",
    async () => {
      const names = ["idle1", "idle2", "idle3", "idle4"];
      const n = names.length;
      const f = await fleetOfHeartbeats(names, STAGGER_MS);
      await pushOrders(f, ordersText([], IDLE_BUDGET), "the hub's budget: 4 pushes a minute");
      // STATUS says the budget (a person's change): the first machine to sync says it, before the daemons start (they
      // are idle). One sync alone: its turn to push is no one else's (no wait).
      await sync({ dir: f.machines[names[0]!]!, waitTurn: async () => {} });
      const published = await hubStatus(f);
      expect(published.budget).toEqual({ pushesPerMinute: 4, machines: n, heartbeat: 4 * HEARTBEAT_S });
      expect(Object.keys(published.machines).sort()).toEqual(names);
      expect(Object.values(published.machines).map((m) => (m as { heartbeat: number }).heartbeat)).toEqual(names.map(() => HEARTBEAT_S));
      const pushes = await countPushes(f);
      const landedBefore = await landedPushes(f);

      // A daemon looks at the hub every 5 s (its default is every 5 minutes, at time ÷ 4 every 75 s): looking is no reason to push.
      const windowMs = 2 * HEARTBEAT_S * 1000;
      const started = Date.now();
      const { daemons } = startDaemons(f, names, { schedule: "*/5 * * * * *", jitter: 1 });
      const offline: string[] = [];
      let samples = 0;
      let longestSilence = 0;
      while (Date.now() - started < windowMs) {
        const status = await hubStatus(f);
        const now = new Date();
        for (const name of names) {
          const m = status.machines[name];
          // As STATUS.json says it (at the fleet's time), and as a reader's clock says it (coord status).
          const seen = m ? presenceOf({ lastSeen: m.lastSeen, heartbeat: m.heartbeat }, now) : "missing";
          if (m) longestSilence = Math.max(longestSilence, (now.getTime() - Date.parse(m.lastSeen)) / 1000 / m.heartbeat);
          if (m?.presence !== "online" || seen !== "online")
            offline.push(
              `+${secondsSince(started)}s ${name}: ${m?.presence ?? "missing"} in STATUS.json, ${seen} by the clock (lastSeen ${m?.lastSeen}, heartbeat ${m?.heartbeat} s)`,
            );
        }
        samples++;
        await sleep(Math.min(1_000, windowMs - (Date.now() - started)));
      }
      const tried = await pushes();
      const landed = (await landedPushes(f)) - landedBefore;
      const heartbeats = [...new Set(Object.values((await hubStatus(f)).machines).map((m) => (m as { heartbeat: number }).heartbeat))];
      const rejected = daemons.flatMap((d) => d.lines.filter((l) => /push rejected|waits for the fleet's push budget/.test(l)));
      console.log(
        `budget: ${n} idle daemons (registered ${STAGGER_MS / 1000} s apart), 4 pushes a minute, ${secondsSince(started)} s: ${tried} pushes reached the hub (${landed} landed, ${rejected.length} rejected or deferred), ` +
          `every machine online in ${samples} samples of STATUS.json: ${offline.length === 0} (the longest silence seen ${longestSilence.toFixed(2)} heartbeats, stale after 1.5); ` +
          `heartbeats published now: ${heartbeats.join(", ")} s; failed syncs: ${failedSyncs(daemons).length}`,
      );
      expect(offline).toEqual([]);
      expect(landed).toBeGreaterThan(0); // the heartbeats went out…
      expect(tried).toBeGreaterThanOrEqual(landed); // …and the count at the hub saw each
      // One heartbeat each, the stretched one published with it (before the budget: two each, at 1 and 2 heartbeats).
      expect(landed).toBeLessThanOrEqual(n);
      expect(heartbeats).toEqual([4 * HEARTBEAT_S]);
      // What reached the hub: each machine's first push since its daemon started (this heartbeat), and at most one more
      // each; a lost race between two heartbeats that fell due together is one of those.
      expect(tried, `pushes rejected or deferred:\n${rejected.join("\n")}`).toBeLessThanOrEqual(2 * n);
    },
    3 * MINUTE,
  );
});
