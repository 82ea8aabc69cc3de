// The quiet `coord sync` as cron runs it: a process (dist/coord.mjs) that
// answers from the stamp with one look at the remote's tip, on real git.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quietCandidate } from "../src/cli/quiet-args.js";
import { CLI, cliExec, type Fleet, git, hubFile, makeFleet, pushOrders } from "./helpers.js";

let fleet: Fleet;
beforeAll(async () => {
  fleet = await makeFleet(["alpha", "beta"]);
});
afterAll(async () => fleet.cleanup());

const lastLog = async (dir: string) => JSON.parse((await readFile(join(dir, ".git", "coord", "coord.log"), "utf8")).trim().split("\n").at(-1)!);
const fetches = async (dir: string) => (await git(dir, "reflog", "show", "refs/remotes/origin/main")).split("\n").filter(Boolean).length;

describe("coord sync, quiet", () => {
  it("answers a sync with nothing new without fetching; a new order, then an unreachable hub, go the ordinary way", async () => {
    const dir = fleet.machines.alpha!;
    expect((await cliExec(["sync", "--dir", dir])).code).toBe(0);
    const before = await fetches(dir);
    const quiet = await cliExec(["sync", "--scheduled", "--dir", dir]);
    expect(quiet).toMatchObject({ code: 0, out: "alpha: up to date, nothing to publish\n", err: "" });
    expect(await lastLog(dir)).toMatchObject({ kind: "sync", ok: true, quiet: true });
    expect(await fetches(dir)).toBe(before); // it did not fetch: it asked for the tip only
    // --json: the same result the CLI prints for a quiet sync (the in-process one, as a daemon has it).
    const quick = JSON.parse((await cliExec(["sync", "--json", "--dir", dir])).out);
    const { syncMachine } = await import("../src/sync/sync.js");
    const { openMachine } = await import("../src/sync/machine.js");
    const inProcess = await syncMachine(await openMachine(dir));
    expect(quick).toEqual({ ...inProcess });
    expect(quick).toMatchObject({ quiet: true, ran: [], machine: "alpha" });

    await pushOrders(fleet, [{ id: "hello", to: "alpha", run: "true" }]);
    const ran = await cliExec(["sync", "--dir", dir]);
    expect(ran.code).toBe(0);
    expect(ran.out).toContain("hello: completed");

    // The hub gone: no quiet answer, the ordinary sync says why and exits 1.
    await cliExec(["sync", "--dir", dir]);
    await git(dir, "remote", "set-url", "origin", join(fleet.root, "nowhere.git"));
    const down = await cliExec(["sync", "--dir", dir]);
    await git(dir, "remote", "set-url", "origin", fleet.remote);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/could not reach the remote/);
    expect(down.err).not.toMatch(/\n\s+at /); // a sentence, no stack
  });

  // A send in another process while a sync runs, after that sync read the mailbox (its publish found nothing to
  // change): the stamp the sync leaves last must not take the send's write in, or every cron sync after it says "up
  // to date" and the message waits for the stamp's end (the heartbeat, up to an hour). The sync's middle is played
  // here (what it holds and leaves); the send is the real CLI in a process of its own, the cron sync the real one.
  it("a message stored by another process while a sync runs leaves that sync no quiet stamp: the next cron sync sends it", async () => {
    const dir = fleet.machines.alpha!;
    const stateDir = join(dir, ".git", "coord");
    const stamp = join(stateDir, "quiet.json");
    expect((await cliExec(["sync", "--dir", dir])).code).toBe(0);
    const { openMachine } = await import("../src/sync/machine.js");
    const { lastFetchedModel } = await import("../src/sync/trust.js");
    const { READ_PATHS } = await import("../src/sync/cycle.js");
    const { leaveStamp } = await import("../src/sync/stamp.js");
    const { holdingSyncLock, takeWritten } = await import("../src/state/written.js");
    const m = await openMachine(dir);
    const read = (await lastFetchedModel(m, READ_PATHS))!;
    const end = { tip: read.commit, model: read.model, journal: {}, observed: new Map(), waiting: [] };
    // A sync holds the checkout (its start took the mark); nothing written meanwhile: it leaves a stamp.
    holdingSyncLock(stateDir, true);
    try {
      await takeWritten(stateDir);
      await leaveStamp(stateDir, m.config, new Date(), end);
      expect(existsSync(stamp)).toBe(true);
      // Another process stores a message after the sync read the mailbox: no stamp.
      execFileSync(process.execPath, [CLI, "send", "beta", "sent meanwhile", "--later", "--dir", dir], { stdio: "ignore" });
      await leaveStamp(stateDir, m.config, new Date(), end);
      expect(existsSync(stamp)).toBe(false);
    } finally {
      holdingSyncLock(stateDir, false);
    }
    const cron = await cliExec(["sync", "--scheduled", "--dir", dir]);
    expect(cron.code).toBe(0);
    expect(await lastLog(dir)).not.toMatchObject({ quiet: true });
    expect(await hubFile(fleet, "coordination/messages/alpha_TO_beta.md")).toContain("sent meanwhile");
  });

  it("only a plain sync (--dir, $COORD_DIR, --scheduled, --json) is answered before the CLI loads", () => {
    expect(quietCandidate(["sync", "--dir", "/x"], {})).toEqual({ dir: "/x", scheduled: false, json: false });
    expect(quietCandidate(["sync", "--dir=/x", "--scheduled", "--json"], {})).toEqual({ dir: "/x", scheduled: true, json: true });
    expect(quietCandidate(["sync"], { COORD_DIR: "/y" })).toEqual({ dir: "/y", scheduled: false, json: false });
    expect(quietCandidate(["sync"], {})).toBeUndefined(); // the checkout around the current directory: the CLI finds it
    for (const other of [
      ["sync", "--dry-run", "--dir", "/x"],
      ["sync", "--no-run", "--dir", "/x"],
      ["sync", "--help"],
      ["status", "--dir", "/x"],
      ["sync", "--dir"],
    ])
      expect(quietCandidate(other, {})).toBeUndefined();
  });
});
