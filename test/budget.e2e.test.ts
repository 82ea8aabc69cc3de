// The fleet's push budget on real git (issue 30, "What must hold"): idle
// daemons of a large fleet stay within the hub's 6 pushes a minute and online
// the whole time; a person's order costs the hub at most 2 machine commits.
// (The drain of 40 ANY orders: budget-drain.e2e.) Pushes are counted at the
// hub as they reach it (budget-fleet.ts).
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { hubCreate } from "../src/commands/hub.js";
import { init } from "../src/commands/init.js";
import { presenceOf } from "../src/core/presence.js";
import { newConfig } from "../src/state/config.js";
import { countPushes, defaultBudget, failedSyncs, landedPushes, MINUTE, machineCommits, sleep, secondsSince, startDaemons, stopDaemons, TEN } from "./budget-fleet.js";
import { cli, type Fleet, git, hubStatus, makeFleet, ordersText, pushOrders, readLines, setConfig, tempDir } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await stopDaemons();
  await fleet?.cleanup();
  fleet = undefined;
});

/**
 * A fleet that ran before it had a budget: its machines published the daemon's default heartbeat (2 minutes), one
 * every `staggerMs` (the phases of a fleet's heartbeats), so each one's heartbeat falls due 2 minutes after its
 * registration. A hub, a person's clone, one checkout per machine, default settings.
 */
async function fleetOfTwoMinuteHeartbeats(names: string[], staggerMs: number): Promise<Fleet> {
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
    await init({ dir, name, remote: hubPath, heartbeat: "2m" });
    await setConfig(dir, { heartbeat }); // back to the default: the daemon publishes its daemonHeartbeat anyway
  }
  return f;
}

/** How far apart the idle fleet's machines registered (their heartbeats' phases): 24 of them over the first minute. */
const STAGGER_MS = 2_500;

describe("the fleet's push budget, on real git", () => {
  it(
    "24 idle daemons on a hub of 6 pushes a minute: at most 24 pushes reach the hub in 4 minutes, and every machine stays online",
    async () => {
      const names = Array.from({ length: 24 }, (_, i) => `idle${String(i + 1).padStart(2, "0")}`);
      const f = await fleetOfTwoMinuteHeartbeats(names, STAGGER_MS);
      await pushOrders(f, defaultBudget([]), "the hub's budget: GitHub's 6 pushes a minute");
      // STATUS says the budget (a person's change): the first machine to sync says it, before the daemons start (they are idle).
      expect((await cli("sync", "--dir", f.machines[names[0]!]!)).code).toBe(0);
      const published = await hubStatus(f);
      expect(Object.keys(published.machines).sort()).toEqual(names);
      expect(Object.values(published.machines).map((m) => (m as { heartbeat: number }).heartbeat)).toEqual(names.map(() => 120));
      const pushes = await countPushes(f);
      const landedBefore = await landedPushes(f);

      // Default machine settings; a daemon looks at the hub every 30 s (its default is every 5 minutes): looking is no reason to push.
      const started = Date.now();
      const { daemons } = startDaemons(f, names, { schedule: "*/30 * * * * *", jitter: 5 });
      const offline: string[] = [];
      let samples = 0;
      while (Date.now() - started < 4 * MINUTE) {
        const status = await hubStatus(f);
        const now = new Date();
        for (const name of names) {
          const m = status.machines[name];
          // As STATUS.json says it (at the fleet's time), and as a reader's clock says it (coord status).
          const seen = m ? presenceOf({ lastSeen: m.lastSeen, heartbeat: m.heartbeat }, now) : "missing";
          if (m?.presence !== "online" || seen !== "online")
            offline.push(
              `+${secondsSince(started)}s ${name}: ${m?.presence ?? "missing"} in STATUS.json, ${seen} by the clock (lastSeen ${m?.lastSeen}, heartbeat ${m?.heartbeat} s)`,
            );
        }
        samples++;
        await sleep(Math.min(5_000, 4 * MINUTE - (Date.now() - started)));
      }
      const tried = await pushes();
      const landed = (await landedPushes(f)) - landedBefore;
      const heartbeats = [...new Set(Object.values((await hubStatus(f)).machines).map((m) => (m as { heartbeat: number }).heartbeat))];
      const rejected = daemons.flatMap((d) => d.lines.filter((l) => /push rejected|waits for the fleet's push budget/.test(l)));
      console.log(
        `budget: 24 idle daemons (registered ${STAGGER_MS / 1000} s apart), 6 pushes a minute, ${secondsSince(started)} s: ${tried} pushes reached the hub (${landed} landed, ${rejected.length} rejected or deferred), ` +
          `every machine online in ${samples} samples of STATUS.json: ${offline.length === 0}; heartbeats published now: ${heartbeats.join(", ")} s; failed syncs: ${failedSyncs(daemons).length}`,
      );
      expect(offline).toEqual([]);
      expect(landed).toBeGreaterThan(0); // the heartbeats went out…
      expect(tried).toBeGreaterThanOrEqual(landed); // …and the count at the hub saw each
      // One heartbeat each, the stretched one published with it (before the budget: two each, at 120 and 240 s).
      expect(landed).toBeLessThanOrEqual(24);
      // What reached the hub: each machine's first push since its daemon started (this heartbeat), and at most 24 more
      // (the bound); a lost race between two heartbeats that fell due together is one of those.
      expect(tried, `pushes rejected or deferred:\n${rejected.join("\n")}`).toBeLessThanOrEqual(24 + 24);
    },
    8 * MINUTE,
  );

  it(
    "a fleet of 10 that synced: a person's order for one machine, then one sync of each machine, adds at most 2 machine commits",
    async () => {
      fleet = await makeFleet(TEN);
      const f = fleet;
      await pushOrders(f, defaultBudget([]), "the hub's budget: GitHub's 6 pushes a minute");
      for (const name of TEN) expect((await cli("sync", "--dir", f.machines[name]!)).code).toBe(0);
      const pushes = await countPushes(f);
      const before = await machineCommits(f);
      const target = TEN[4]!; // neither the first nor the last to sync
      const log = join(f.root, "ran.log");
      await pushOrders(f, defaultBudget([{ id: "one", to: target, run: `echo "$COORD_ORDER $COORD_MACHINE" >> ${log}` }]), "an order for one machine");
      for (const name of TEN) {
        const r = await cli("sync", "--dir", f.machines[name]!);
        expect(r.code, r.err).toBe(0);
      }
      const added = (await machineCommits(f)) - before;
      const tried = await pushes();
      const authors = (await git(f.hubPath, "log", "--format=%an: %s", `-${Math.max(added, 1)}`, "coord")).trim().split("\n");
      console.log(`budget: an order for one of 10 machines, then one sync of each: ${added} machine commits on coord (${authors.join("; ")}), ${tried} pushes reached the hub`);
      expect((await hubStatus(f)).orders.one?.state).toBe("completed");
      expect(await readLines(log)).toEqual([`one ${target}`]);
      expect(added).toBeLessThanOrEqual(2);
    },
    3 * MINUTE,
  );
});
