// A daemon's look over the network brings what it saw (git/remote-tip.ts lookAndBring, issue 57 item 10): the sync of
// the move it saw, right after it, takes that tip from the look's refs (refs/coord-look/*) with a fetch by commit id,
// which makes no connection, instead of fetching the branches again: one read of the hub for a move, not two. Real git
// behind `git daemon` on loopback (a checkout cloned over a URL is shallow, as coord init makes it), and a `git` on the
// daemon's PATH that logs each command.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, cliProcess, type Fleet, gitDaemon, loggingGit, makeFleet, waitFor } from "./helpers.js";

const stops: (() => Promise<unknown>)[] = [];
let fleet: Fleet | undefined;
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await fleet?.cleanup();
  fleet = undefined;
});

describe("a daemon's look over the network", () => {
  it("brings the commits of a move, and the sync for it takes them without fetching the branches again", async () => {
    const base = await mkdtemp(join(tmpdir(), "coord-look-brings-"));
    stops.push(() => rm(base, { recursive: true, force: true }));
    const hub = await gitDaemon(base);
    stops.push(() => hub.stop());
    fleet = await makeFleet(["alpha", "beta"], { hubPath: join(base, "hub.git"), remote: hub.url("hub.git") });
    const [alpha, beta] = [fleet.machines.alpha!, fleet.machines.beta!];
    expect((await cli("sync", "--dir", alpha)).code).toBe(0);
    expect((await cli("sync", "--dir", beta)).code).toBe(0);

    const log = join(base, "beta-git.log");
    const bin = await loggingGit(base, log);
    const daemon = cliProcess(["daemon", "run", "--dir", beta], { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` } });
    let out = "";
    daemon.stdout!.on("data", (d) => (out += d));
    daemon.stderr!.on("data", (d) => (out += d));
    stops.push(async () => {
      daemon.kill("SIGTERM");
      await new Promise((r) => (daemon.exitCode !== null ? r(null) : daemon.once("close", r)));
    });
    await waitFor(async () => /\bsync: /.test(out), 30_000, "beta's daemon's first sync", 100);
    // Its looks from here on: a fetch of the branches and wake refs into refs/coord-look/*, never the tracking refs.
    await waitFor(async () => (await readFile(log, "utf8")).includes("refs/coord-look/"), 30_000, "a look", 100);
    const before = (await readFile(log, "utf8")).split("\n").length;

    expect((await cli("send", "beta", "hello over the wire", "--dir", alpha)).code).toBe(0);
    expect((await cli("sync", "--dir", alpha)).code).toBe(0);
    await waitFor(async () => /new message: alpha\/beta\/1/.test(out), 30_000, "beta's daemon to deliver the message", 100);

    const after = (await readFile(log, "utf8")).split("\n").slice(before - 1);
    const fetches = after.filter((l) => /(^| )fetch /.test(l));
    const looks = fetches.filter((l) => l.includes("refs/coord-look/"));
    expect(looks.length).toBeGreaterThan(0);
    expect(looks.some((l) => l.includes("refs/remotes/"))).toBe(false);
    // The sync took the tip the look brought, by its commits' ids; no fetch of the branches into the tracking refs.
    expect(fetches.some((l) => /\+[0-9a-f]{40}:refs\/remotes\/origin\/main\b/.test(l))).toBe(true);
    expect(fetches.filter((l) => l.includes("+refs/heads/main:refs/remotes/origin/main"))).toEqual([]);
    expect(out).toMatch(/fetching origin\/main and origin\/coord \(as the look brought them\)/);
    const inbox = await cli("inbox", "--json", "--dir", beta);
    expect(JSON.parse(inbox.out).map((m: { id: string }) => m.id)).toContain("alpha/beta/1");
  });
});
