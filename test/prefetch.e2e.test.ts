// `coord sync` from the command line starts its fetch while the CLI loads
// (src/startup/prefetch.ts): the sync then runs on that tip and fetches no
// second time; on any doubt it fetches itself, as ever.
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { joinTip } from "../src/git/hub.js";
import { headStartFor } from "../src/startup/head-start.js";
import { startPrefetch, takePrefetch } from "../src/startup/prefetch.js";
import { sync } from "../src/sync/sync.js";
import { cliExec, git, hubHead, hubStatus, peopleHead, loggingGit, makeFleet, pushOrders, readLines, setConfig, type Fleet, waitFor } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

describe("coord sync's head start", () => {
  it("a sync that runs a task fetches once: on the tip fetched while the CLI loaded", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    await pushOrders(fleet, [{ id: "hello", to: "izzit7", run: "echo hi" }]);
    const log = join(fleet.root, "git.log");
    const bin = await loggingGit(fleet.root, log);
    const r = await cliExec(["sync", "--dir", dir], undefined, { ...process.env, PATH: `${bin}:${process.env.PATH}` });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/hello: completed/);
    const fetches = (await readLines(log)).filter((l) => / fetch /.test(` ${l} `));
    expect(fetches).toHaveLength(1);
    // The cycle did not fetch: it says "fetching" when it does (progress lines on stderr).
    expect(r.err).not.toMatch(/fetching origin\/main/);
    expect((await hubStatus(fleet)).orders.hello).toMatchObject({ state: "completed" });
  });

  it("after a quiet sync, a sync that finds new work asks the quiet stamp's question once (one ls-remote), then fetches once; a quiet one asks only that", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const log = join(fleet.root, "git.log");
    const bin = await loggingGit(fleet.root, log);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` }; // the same PATH throughout: it is part of what a quiet stamp holds for
    expect((await cliExec(["sync", "--dir", dir], undefined, env)).code).toBe(0);
    expect((await cliExec(["sync", "--dir", dir], undefined, env)).code).toBe(0); // nothing to do: it leaves the quiet stamp
    await rm(log);
    const remoteCalls = async () => (await readLines(log)).filter((l) => /(^| )(fetch|ls-remote|push) /.test(l));
    const quiet = await cliExec(["sync", "--dir", dir], undefined, env);
    expect(quiet.out).toMatch(/up to date, nothing to publish/);
    expect(await remoteCalls()).toEqual([expect.stringMatching(/ ls-remote /)]);
    await rm(log);
    await pushOrders(fleet, [{ id: "new-work", to: "izzit7", run: "true" }]);
    const r = await cliExec(["sync", "--dir", dir], undefined, env);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/new-work: completed/);
    expect((await remoteCalls()).map((l) => l.match(/(fetch|ls-remote|push) /)![1])).toEqual(["ls-remote", "fetch", "push"]);
  });

  it("the head start answers the sync of its own checkout, remote and branch, once", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    await pushOrders(fleet, [{ id: "x", to: "izzit7", run: "true" }]);
    startPrefetch(dir);
    expect(await takePrefetch(join(fleet.root, "elsewhere"), "origin", "main")).toBeUndefined();
    expect(await takePrefetch(dir, "origin", "main")).toMatchObject({ tip: joinTip(await peopleHead(fleet), await hubHead(fleet)) });
    expect(await takePrefetch(dir, "origin", "main")).toBeUndefined(); // taken
    startPrefetch(dir);
    expect(await takePrefetch(dir, "origin", "other")).toBeUndefined();
  });

  it("a head start older than the checkout's tracking ref (its daemon fetched since) is not taken: the sync fetches and sees the newer order", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const before = joinTip(await peopleHead(fleet), await hubHead(fleet));
    startPrefetch(dir);
    const tracked = async () => joinTip((await git(dir, "rev-parse", "refs/remotes/origin/main")).trim(), (await git(dir, "rev-parse", "refs/remotes/origin/coord")).trim());
    await waitFor(async () => (await tracked()) === before, 10_000, "the head start's fetch");
    await pushOrders(fleet, [{ id: "late", to: "izzit7", run: "true" }]);
    await git(dir, "fetch", "--quiet", "origin"); // as the machine's daemon would, between the head start and this sync's lock
    const lines: string[] = [];
    const r = await sync({ dir, ...headStartFor(dir), log: (l) => lines.push(l) });
    expect(lines).toContain("fetching origin/main and origin/coord");
    expect(r.ran.map((t) => t.id)).toEqual(["late"]);
  });

  it("a hub that does not answer is waited for once, not by the head start and again by the sync; a machine whose last sync failed gets no head start", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    await setConfig(dir, { gitTimeout: 2 });
    // The remote over ssh, whose ssh never answers: each start of it is counted.
    const starts = join(fleet.root, "ssh-starts");
    const ssh = join(fleet.root, "silent-ssh");
    await writeFile(ssh, `#!/bin/sh\necho start >> '${starts}'\nexec sleep 30\n`);
    await chmod(ssh, 0o755);
    await git(dir, "remote", "set-url", "origin", "ssh://hub.invalid/fleet.git");
    const env = { ...process.env, GIT_SSH_COMMAND: ssh };
    const first = await cliExec(["sync", "--dir", dir], undefined, env);
    expect(first.code).toBe(1);
    expect(first.err).toMatch(/did not answer in 2 s/);
    expect(await readLines(starts)).toHaveLength(1);
    // Now its last sync failed: the ordinary way (one fetch, by the cycle).
    const second = await cliExec(["sync", "--dir", dir], undefined, env);
    expect(second.code).toBe(1);
    expect(second.err).toMatch(/fetching origin\/main/);
    expect(await readLines(starts)).toHaveLength(2);
  });

  it("a machine.yaml it does not follow gives no head start, and the sync fetches itself", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const config = join(dir, ".git", "coord", "machine.yaml");
    await writeFile(config, (await readFile(config, "utf8")).replace(/^remote: origin$/m, 'remote: "origin"'));
    startPrefetch(dir);
    expect(await takePrefetch(dir, "origin", "main")).toBeUndefined();
    await pushOrders(fleet, [{ id: "quoted", to: "izzit7", run: "true" }]);
    const r = await cliExec(["sync", "--dir", dir]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/quoted: completed/);
    expect(r.err).toMatch(/fetching origin\/main/);
  });
});
