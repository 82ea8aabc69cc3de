// A hub that accepts the connection and never answers costs one gitTimeout,
// not two: a sync that first asks the remote's tip quietly (the quiet stamp
// holds) and finds it silent fails at once as unreachable instead of fetching
// again. Real git against a TCP server on loopback that never says a word,
// which counts the connections: each is one wait for the deadline.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, cliExec, type Fleet, git, makeFleet, setConfig, silentServer } from "./helpers.js";
import { patient } from "./patience.js";

/**
 * The machine's own deadline, below the default gitTimeout (30 s). Which deadline a way waited on is in its sentence
 * ("did not answer in 7 s"), and waiting twice is in the connections the hub counts, not in the clock: the CLI's start
 * and git's setup take as long as a deadline on a loaded machine (12.96 s for one, once), so a time says nothing here.
 */
const GIT_TIMEOUT = 7;

let fleet: Fleet | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c().catch(() => {});
  await fleet?.cleanup();
  fleet = undefined;
});

/** The machine synced once more with nothing to do against the real hub: its quiet stamp holds; then its remote turns silent. */
async function quietThenSilent(dir: string, silent: string): Promise<void> {
  const r = await cli("sync", "--dir", dir);
  expect(r.code, r.err).toBe(0);
  expect(await stat(join(dir, ".git", "coord", "quiet.json")).catch(() => undefined), "the quiet stamp").toBeDefined();
  await git(dir, "remote", "set-url", "origin", silent);
}

async function health(dir: string): Promise<unknown> {
  return JSON.parse(await readFile(join(dir, ".git", "coord", "health.json"), "utf8"));
}

describe("a hub that accepts and never answers, after a quiet sync", () => {
  // Five ways to meet the silent hub, one machine each, at once: each waits on the hub, not on the others (two
  // gitTimeouts for them all, not five in a row). The two in-process syncs run one after the other (syncs in one
  // process take turns). Each machine syncs quietly first, one after another.
  it("fails the sync (scheduled or not, CLI or in-process) within one gitTimeout, as unreachable, saying the remote did not answer", { timeout: patient(120_000) }, async () => {
    const ways = ["cli-scheduled", "inproc-scheduled", "cli-plain", "inproc-plain", "status"] as const;
    fleet = await makeFleet([...ways]);
    const f = fleet;
    const said = new RegExp(`could not reach the remote git://127\\.0\\.0\\.1:\\d+/x: the remote did not answer in ${GIT_TIMEOUT} s`);
    // A silent hub of its own for each way: the connections it was asked on, each a wait for the deadline.
    const connections = Object.fromEntries(ways.map((w) => [w, 0])) as Record<(typeof ways)[number], number>;
    for (const way of ways) {
      const port = await silentServer(cleanups, () => connections[way]++);
      await setConfig(f.machines[way]!, { gitTimeout: GIT_TIMEOUT });
      await quietThenSilent(f.machines[way]!, `git://127.0.0.1:${port}/x`);
    }

    const meet = async (way: (typeof ways)[number]) => {
      const dir = f.machines[way]!;
      const args = way.endsWith("scheduled") ? ["sync", "--scheduled", "--dir", dir] : ["sync", "--dir", dir];
      // The executable: its quiet look before the CLI loads, then its head start. In-process (a daemon's tick): the
      // quiet look through the hub, then the cycle's fetch.
      const r = await (way.startsWith("cli") ? cliExec(args) : cli(...args));
      expect(r.code, `${way}: ${r.err}`).toBe(1);
      expect(r.err, way).toMatch(said);
      expect(connections[way], `${way}: the connections to the silent hub, each one wait`).toBe(1);
      // Counted as an outage: a scheduled machine backs off and probes.
      expect(await health(dir), way).toMatchObject({ failures: 1, unreachable: true });
    };
    // coord status waits once too, and shows the last fetched state.
    const status = cliExec(["status", "--dir", f.machines.status!]).then((r) => {
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(new RegExp(`did not answer in ${GIT_TIMEOUT} s.*showing the fleet as of the last fetch`));
      expect(connections.status, "status: the connections to the silent hub, each one wait").toBe(1);
    });
    // All ended before the first failure is told (the cleanup removes their checkouts).
    const ended = await Promise.allSettled([meet("cli-scheduled"), meet("cli-plain"), status, meet("inproc-scheduled").then(() => meet("inproc-plain"))]);
    for (const e of ended) if (e.status === "rejected") throw e.reason;
  });
});
