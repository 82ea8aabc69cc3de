// The quiet `coord sync` as cron runs it: a process (dist/coord.mjs) that
// answers from the stamp with one look at the remote's tip, on real git.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quietCandidate } from "../src/cli/quiet-args.js";
import { cliExec, type Fleet, git, makeFleet, pushOrders } from "./helpers.js";

let fleet: Fleet;
beforeAll(async () => {
  fleet = await makeFleet(["alpha"]);
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
