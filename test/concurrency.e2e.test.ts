// Several coord processes against one hub at the same time, over a local path
// and over git:// (git daemon on loopback); crashes and overlapping syncs.
import { readFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { timings } from "../src/timings.js";
import {
  cli,
  cliExec,
  cliProcess,
  git,
  gitDaemon,
  hubCommits,
  hubStatus,
  journal,
  makeFleet,
  pushOrders,
  runningTask,
  syncAfterCrash,
  tempDir,
  waitFor,
  type Fleet,
} from "./helpers.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

let daemon: Awaited<ReturnType<typeof gitDaemon>> | undefined;
let daemonBase = "";
beforeAll(async () => {
  daemonBase = await tempDir("coord-daemon-");
});
afterAll(async () => {
  await daemon?.stop();
  await rm(daemonBase, { recursive: true, force: true });
});

const NAMES = ["izzit7", "soda-yeti", "machine-2"];

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, "utf8").catch(() => "")).split("\n").filter(Boolean);
}

/** No commit of the hub, ever, holds a conflict marker. */
async function expectNoConflictMarkers(f: Fleet) {
  const shas = (await git(f.hubPath, "rev-list", "main", "coord")).split("\n").filter(Boolean);
  const hits = await git(f.hubPath, "grep", "-l", "-E", "^(<<<<<<<|>>>>>>>) ", ...shas).catch(() => "");
  expect(hits).toBe("");
}

/** Every update of the hub's branches (the person's main, the machines' coord) was a fast-forward: nothing was ever forced. */
async function expectNoForcedPush(f: Fleet) {
  for (const [branch, least] of [
    ["main", 2],
    ["coord", 4],
  ] as const) {
    const updates = (await git(f.hubPath, "reflog", "show", "--format=%H", `refs/heads/${branch}`)).split("\n").filter(Boolean).reverse();
    expect(updates.length, branch).toBeGreaterThanOrEqual(least);
    for (let i = 1; i < updates.length; i++) await git(f.hubPath, "merge-base", "--is-ancestor", updates[i - 1]!, updates[i]!);
  }
}

/** Machines changed only their own file and the derived ones; the person only ORDERS.json. */
async function expectOwnershipRespected(f: Fleet) {
  for (const c of await hubCommits(f)) {
    if (c.author === "coord hub") continue;
    const allowed = c.author === "A Person" ? ["ORDERS.json"] : ["STATUS.json", "STATUS.md", `coordination/COMPUTER_${c.author.replace(/^coord /, "")}.md`];
    for (const path of c.paths) expect(allowed, `${c.author} changed ${path} in ${c.sha}`).toContain(path);
  }
}

describe.each([
  ["a local path remote", false],
  ["a git:// network remote", true],
])("three machines syncing at the same time over %s", (_name, network) => {
  it("publish every result with no conflict, no forced push, and no machine touching another's file", { timeout: patient(120_000) }, async () => {
    if (network) daemon ??= await gitDaemon(daemonBase);
    // Over the network, the hub lives behind git daemon and every machine (and the person) uses git://.
    const name = `hub-${Date.now()}.git`;
    fleet = await makeFleet(NAMES, network ? { hubPath: join(daemonBase, name), remote: daemon!.url(name) } : {});
    const ranLog = join(fleet.root, "ran.log");
    const orders: object[] = [];
    // Two rounds, over either transport: in each, three syncs and the person's push race for the hub, and the second
    // rebases onto the first's results (each round is a race; more rounds add time, not a new path).
    const rounds = 2;
    for (let round = 1; round <= rounds; round++) {
      orders.push({ id: `job-${round}`, to: "ALL", run: `echo "$COORD_MACHINE $COORD_ORDER" >> ${ranLog}` });
      orders.push({ id: `solo-${round}`, to: NAMES[round % 3], run: `echo "$COORD_MACHINE $COORD_ORDER" >> ${ranLog}` });
      const syncs = Object.values(fleet.machines).map((dir) => cliExec(["sync", "--dir", dir]));
      const person = pushOrders(fleet, [...orders], `round ${round}`);
      const results = await Promise.all([...syncs, person]);
      for (const r of results.slice(0, 3) as { code: number; err: string }[]) expect(r.code, r.err).toBe(0);
    }
    // Let every machine catch up with the last edit, one after another in this process (the race is over), up to a
    // round that starts with every order completed: that last round shows nothing runs twice (bounded: 3 rounds).
    const completed = (s: Awaited<ReturnType<typeof hubStatus>>) => (orders as { id: string }[]).every((o) => s.orders[o.id]?.state === "completed");
    let status = await hubStatus(fleet);
    for (let i = 0; i < 3; i++) {
      const done = completed(status);
      for (const dir of Object.values(fleet.machines)) expect((await cli("sync", "--dir", dir)).code).toBe(0);
      status = await hubStatus(fleet);
      if (done) break;
    }
    for (const o of orders as { id: string }[]) expect(status.orders[o.id]?.state, o.id).toBe("completed");
    const ran = await lines(ranLog);
    expect(ran).toHaveLength(rounds * 3 + rounds); // each (machine, order) exactly once
    expect(new Set(ran).size).toBe(ran.length);
    await expectNoConflictMarkers(fleet);
    await expectNoForcedPush(fleet);
    await expectOwnershipRespected(fleet);
  });
});

describe("crashes and overlapping syncs", () => {
  async function startLongTask(retries: number) {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const ranLog = join(fleet.root, "ran.log");
    await pushOrders(fleet, [{ id: "long", to: "izzit7", retries, run: `echo "attempt $COORD_ATTEMPT" >> ${ranLog}; test "$COORD_ATTEMPT" -ge 2 || sleep 300` }]);
    const child = cliProcess(["sync", "--dir", dir]);
    const entry = await runningTask(dir, "long", 15_000, "the task to start");
    await waitFor(async () => (await readFile(ranLog, "utf8")).includes("attempt 1"), 15_000, "the task to say it runs");
    return { dir, ranLog, child, pid: entry.pid as number };
  }

  // After a kill -9 the lock of the dead holder is broken at once (helpers.ts syncAfterCrash: a sync that says it
  // skipped is tried again). The next sync runs in this process: the crash is of the process started by startLongTask.

  /** Running (a zombie is not: this sandbox's init may not reap orphans). */
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  };

  it("kill -9 of coord mid-task: the next sync reports it failed (interrupted), stops the orphan, never re-runs it", async () => {
    const { dir, ranLog, child, pid } = await startLongTask(0);
    child.kill("SIGKILL");
    const r = await syncAfterCrash(dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain("long: interrupted");
    expect(alive(pid)).toBe(false);
    expect((await hubStatus(fleet!)).orders.long?.machines.izzit7).toMatchObject({ state: "failed", reason: "interrupted", attempts: 1 });
    expect((await cli("sync", "--dir", dir)).code).toBe(0);
    expect(await lines(ranLog)).toEqual(["attempt 1"]);
  });

  it("kill -9 mid-task with retries left: the next sync runs attempt 2, once", async () => {
    const { dir, ranLog, child } = await startLongTask(1);
    child.kill("SIGKILL");
    await syncAfterCrash(dir);
    expect((await cli("sync", "--dir", dir)).code).toBe(0);
    expect(await lines(ranLog)).toEqual(["attempt 1", "attempt 2"]);
    expect((await hubStatus(fleet!)).orders.long?.machines.izzit7).toMatchObject({ state: "completed", attempts: 2 });
  });

  it("a second sync while one runs exits 0 at once and says it skipped; the task runs once", async () => {
    const { dir, ranLog, child, pid } = await startLongTask(0);
    const second = await cliExec(["sync", "--dir", dir]);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/another coord sync is running .*skipped/);
    process.kill(-pid, "SIGKILL"); // end the long task; the first sync records and publishes it
    const code = await new Promise((res) => child.on("close", res));
    expect(code).toBe(0);
    expect(await lines(ranLog)).toEqual(["attempt 1"]);
    expect((await hubStatus(fleet!)).orders.long?.machines.izzit7).toMatchObject({ state: "failed", reason: "killed by SIGKILL" });
  });
  it("a sync paused past the lock's stale time (SIGSTOP) is still its holder: the next sync skips, nothing runs twice", async () => {
    const { dir, ranLog, child, pid } = await startLongTask(0);
    const closed = new Promise((res) => child.on("close", res));
    process.kill(child.pid!, "SIGSTOP"); // a debugger, a frozen terminal: alive, not refreshing its lock
    try {
      await new Promise((r) => setTimeout(r, timings.syncLockStaleMs + 1_000)); // past the stale time
      const second = await cliExec(["sync", "--dir", dir]);
      expect(second.code).toBe(0);
      expect(second.out).toMatch(/another coord sync is running .*skipped/);
    } finally {
      process.kill(child.pid!, "SIGCONT");
    }
    expect(await lines(ranLog)).toEqual(["attempt 1"]);
    expect((await journal(dir)).tasks.long).toMatchObject({ state: "in_progress", attempts: 1 });
    // End the long task; the first sync records and publishes it. (Its group gone already is no failure: a loaded CI
    // run saw ESRCH here once, after every assertion above had held.)
    try {
      process.kill(-pid, "SIGKILL");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
    }
    expect(await closed).toBe(0);
  });
});
