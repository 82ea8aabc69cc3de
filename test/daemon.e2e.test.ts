// A real daemon process on a real bare repo: it syncs on a short schedule,
// survives the remote going away and coming back, picks up orders pushed
// meanwhile, stops cleanly, and a kill -9 leaves nothing that blocks a start.
// And coord watch: a save of ORDERS.json in the checkout is pushed once.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, cli, cliProcess, cpuTicks, git, hubCommits, hubFile, hubStatus, makeFleet, pushOrders, setConfig, waitFor, type Fleet } from "./helpers.js";
import { daemonStatus, readDaemonInfo } from "../src/daemon/daemon.js";
import { processIdentity } from "../src/platform/processes.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop().catch(() => {});
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;
const stateDir = (dir: string) => join(dir, ".git", "coord");
const EVERY_SECOND = "*/1 * * * * *";

describe("coord daemon", () => {
  it("syncs on its schedule, survives the remote going away and coming back, picks up new orders, stops cleanly", { timeout: patient(120_000) }, async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = dirOf("izzit7");
    await setConfig(dir, { failureBackoff: "1s" });
    const start = await cli("daemon", "start", "--dir", dir, "--schedule", EVERY_SECOND, "--jitter", "0");
    expect(start.code, start.err).toBe(0);
    stops.push(() => cli("daemon", "stop", "--dir", dir));
    expect((await cli("daemon", "start", "--dir", dir)).err).toMatch(/already running .*pid \d+/);

    const log = join(fleet.root, "ran.log");
    await pushOrders(fleet, [{ id: "first", to: "izzit7", run: `echo first >> ${log}` }]);
    await waitFor(async () => (await hubStatus(fleet!)).orders.first?.state === "completed", 20_000, "the daemon to run the first order");

    // The remote goes away: syncs fail (and back off), the daemon lives on. (The
    // machine's remote is pointed elsewhere rather than the hub renamed: a rename
    // under a push the daemon has under way leaves the hub's HEAD.lock behind.)
    await git(dir, "remote", "set-url", "origin", fleet.hubPath + ".away");
    // (A failed sync is followed by ticks that back off: poll the status until it shows the failure.)
    const failing = await waitFor(
      async () => {
        const s = await cli("daemon", "status", "--dir", dir);
        return /last sync: .*FAILED: could not reach the remote/.test(s.out) && s;
      },
      30_000,
      "daemon status to show a failed sync",
    );
    expect(failing.out).toMatch(/running: pid \d+/);
    await git(dir, "remote", "set-url", "origin", fleet.hubPath);

    await pushOrders(fleet, [
      { id: "first", to: "izzit7", run: `echo first >> ${log}` },
      { id: "second", to: "izzit7", run: `echo second >> ${log}` },
    ]);
    await waitFor(async () => (await hubStatus(fleet!)).orders.second?.state === "completed", 30_000, "the daemon to run the order pushed while the remote was away");
    expect((await readFile(log, "utf8")).split("\n").filter(Boolean)).toEqual(["first", "second"]);

    const stop = await cli("daemon", "stop", "--dir", dir);
    expect(stop.out).toMatch(/coord daemon \d+ stopped/);
    const after = await daemonStatus(dir);
    expect(after.running).toBe(false);
    expect(after.info?.stoppedAt).toBeDefined();
    expect((await cli("daemon", "status", "--dir", dir)).out).toMatch(/^not running/);
  });

  it("drains the queue: after a sync that ran work it syncs again at once, without waiting for the next tick", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = dirOf("izzit7");
    await setConfig(dir, { checkEvery: "10m" }); // no look at the remote while a task runs: only the drain can claim the next one
    const log = join(fleet.root, "ran.log");
    const orders = ["q1", "q2", "q3"].map((id) => ({ id, to: "ANY", run: `echo ${id} >> ${log}` }));
    await pushOrders(fleet, orders);
    // Hourly: after the first sync (at start) no tick comes during this test.
    const start = await cli("daemon", "start", "--dir", dir, "--schedule", "0 0 * * * *", "--jitter", "0");
    expect(start.code, start.err).toBe(0);
    stops.push(() => cli("daemon", "stop", "--dir", dir));
    await waitFor(
      async () => {
        const s = await hubStatus(fleet!);
        return orders.every((o) => s.orders[o.id]?.state === "completed");
      },
      30_000,
      "the daemon to drain the three ANY orders",
    );
    expect((await readFile(log, "utf8")).split("\n").filter(Boolean).sort()).toEqual(["q1", "q2", "q3"]);
  });

  it("a daemon whose output nobody reads any more (coord daemon run | head -1) keeps syncing, does not spin, and stops on SIGTERM", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = dirOf("izzit7");
    const child = cliProcess(["daemon", "run", "--dir", dir, "--schedule", EVERY_SECOND, "--jitter", "0"]);
    stops.push(async () => {
      child.kill("SIGKILL");
    });
    await new Promise((r) => child.stdout!.once("data", r));
    child.stdout!.destroy(); // the reader is gone: every later write fails with EPIPE
    child.stderr!.destroy();
    const syncs = async () => (await readFile(join(stateDir(dir), "coord.log"), "utf8")).split("\n").filter((l) => l.includes('"kind":"sync"')).length;
    const before = await syncs();
    await waitFor(async () => (await syncs()) >= before + 3, 20_000, "three more syncs after the reader went away");
    // Before, each failed write was logged as an error, which failed again: a loop that spun a core and stopped the syncs.
    const cpu = () => cpuTicks(child.pid!);
    const [ticks0, t0] = [await cpu(), Date.now()];
    await new Promise((r) => setTimeout(r, 2000));
    const used = (await cpu()) - ticks0; // clock ticks: 1/100 s
    expect(used).toBeLessThan(0.5 * ((Date.now() - t0) / 10)); // less than half a core (a sync a second takes a few %)
    child.kill("SIGTERM");
    const { code } = await waitFor(async () => (child.exitCode === null ? undefined : { code: child.exitCode }), 15_000, "the daemon to stop on SIGTERM");
    expect([0, 143]).toContain(code);
  });

  it.skipIf(!existsSync("/dev/full"))(
    "a daemon whose output fails with ENOSPC (its log on a full disk) keeps syncing, does not spin, and stops on SIGTERM; a command that lost its output exits 1",
    async () => {
      fleet = await makeFleet(["izzit7"]);
      const dir = dirOf("izzit7");
      const full = openSync("/dev/full", "w");
      const child = spawn(process.execPath, [CLI, "daemon", "run", "--dir", dir, "--schedule", EVERY_SECOND, "--jitter", "0"], { stdio: ["ignore", full, full] });
      closeSync(full);
      stops.push(async () => {
        child.kill("SIGKILL");
      });
      const syncs = async () => (await readFile(join(stateDir(dir), "coord.log"), "utf8").catch(() => "")).split("\n").filter((l) => l.includes('"kind":"sync"')).length;
      await waitFor(async () => (await syncs()) >= 3, 20_000, "three syncs while every write of the daemon's output fails");
      const cpu = () => cpuTicks(child.pid!);
      const [ticks0, t0] = [await cpu(), Date.now()];
      await new Promise((r) => setTimeout(r, 2000));
      expect((await cpu()) - ticks0).toBeLessThan(0.5 * ((Date.now() - t0) / 10)); // less than half a core
      child.kill("SIGTERM");
      await waitFor(async () => (child.exitCode === null && child.signalCode === null ? undefined : true), 15_000, "the daemon to stop on SIGTERM");

      const out = openSync("/dev/full", "w");
      const status = spawnSync(process.execPath, [CLI, "status", "--dir", dir], { stdio: ["ignore", out, "pipe"] });
      closeSync(out);
      expect(status.status).toBe(1);
      expect(status.stderr.toString()).not.toMatch(/\n\s+at /); // no stack trace
    },
  );

  it("heartbeats on time (its daemonHeartbeat) between ticks of a rare schedule: the quiet stamp says when, and the daemon wakes for it", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = dirOf("izzit7");
    await setConfig(dir, { daemonHeartbeat: "2s" });
    const YEARLY = "0 0 1 1 *"; // no tick during the test: only the first sync and the wake-ups
    const start = await cli("daemon", "start", "--dir", dir, "--schedule", YEARLY, "--jitter", "0");
    expect(start.code, start.err).toBe(0);
    stops.push(() => cli("daemon", "stop", "--dir", dir));
    const seen = new Set<string>();
    await waitFor(
      async () => {
        const lastSeen = (await hubStatus(fleet!)).machines.izzit7?.lastSeen;
        if (lastSeen !== undefined) seen.add(lastSeen);
        return seen.size >= 3;
      },
      40_000,
      "two heartbeats after the first sync",
    );
    const status = await hubStatus(fleet);
    expect(status.machines.izzit7?.heartbeat).toBe(2); // what it declares, so readers count offline after 6 s
    const syncs = (await readFile(join(stateDir(dir), "coord.log"), "utf8")).split("\n").filter((l) => l.includes('"kind":"sync"'));
    expect(syncs.length).toBeLessThan(20); // woken for the heartbeats, not spinning
  });

  it("looks at the hub between ticks of a rare schedule: a person's new order runs within seconds; with --no-look it waits for the tick", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const YEARLY = "0 0 1 1 *"; // no tick during the test: only the first sync, the wakes, and what the looks see
    const looking = dirOf("izzit7");
    const blind = dirOf("soda-yeti");
    for (const [dir, extra] of [
      [looking, []],
      [blind, ["--no-look"]],
    ] as const) {
      await setConfig(dir, { daemonHeartbeat: "1h" }); // no heartbeat due (the fleet's template may be 2 min old): its sync would fetch the orders
      const start = await cli("daemon", "start", "--dir", dir, "--schedule", YEARLY, "--jitter", "0", ...extra);
      expect(start.code, start.err).toBe(0);
      stops.push(() => cli("daemon", "stop", "--dir", dir));
    }
    // Settled: its first sync done, none running, and none due within a minute (a sync that lost a race to the other
    // machine's first publish, or came back with a newer tip, syncs again at once: that one would fetch the orders).
    const settled = async (dir: string) => {
      const info = await readDaemonInfo(stateDir(dir));
      return info?.lastSync !== undefined && info.syncingSince === undefined && (info.nextSync === undefined || Date.parse(info.nextSync) > Date.now() + 60_000);
    };
    await waitFor(async () => (await settled(looking)) && (await settled(blind)), 30_000, "both daemons' first syncs, and nothing due");
    const log = join(fleet.root, "ran.log");
    await pushOrders(fleet, [
      { id: "seen", to: "izzit7", run: `echo seen >> ${log}` },
      { id: "unseen", to: "soda-yeti", run: `echo unseen >> ${log}` },
    ]);
    await waitFor(async () => (await hubStatus(fleet!)).orders.seen?.state === "completed", 30_000, "the looking daemon to run the order");
    const out = await readFile(join(stateDir(looking), "daemon.out"), "utf8");
    // A look after the daemon's first sync also counts the machine's own wake as moved (unknown before): either line.
    expect(out).toMatch(/the hub moved(: | with a wake for this machine: )syncing now/);
    // The other one was told nothing and looked at nothing: its order waits for a tick (a year away) or a wake.
    expect(await readFile(log, "utf8")).toBe("seen\n");
    expect(await readFile(join(stateDir(blind), "daemon.out"), "utf8")).not.toMatch(/the hub moved/);
    const status = await cli("daemon", "status", "--dir", blind);
    expect(status.out).toMatch(/looks: none \(--no-look\)/);
  });

  /**
   * A fleet of izzit7 and soda-yeti, and the daemon of `name` with no tick and no heartbeat due during the test (the
   * fleet's template may be 2 min old): only its first sync and what its looks see sync it. Its checkout.
   */
  async function lookingDaemon(name: string): Promise<string> {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const dir = dirOf(name);
    await setConfig(dir, { daemonHeartbeat: "1h" });
    const start = await cli("daemon", "start", "--dir", dir, "--schedule", "0 0 1 1 *", "--jitter", "0");
    expect(start.code, start.err).toBe(0);
    stops.push(() => cli("daemon", "stop", "--dir", dir));
    await waitFor(async () => (await readDaemonInfo(stateDir(dir)))?.lastSync !== undefined, 30_000, "the daemon's first sync");
    return dir;
  }

  it("a machine that registers wakes the fleet: its first publish moves refs/coord-wake/ALL, and a daemon's look then syncs, so a send to it goes", {
    timeout: patient(120_000),
  }, async () => {
    const dir = await lookingDaemon("izzit7");
    const everyone = () => git(fleet!.hubPath!, "for-each-ref", "--format=%(objectname)", "refs/coord-wake/ALL").then((o) => o.trim());
    const before = await everyone();
    const refused = await cli("send", "--dir", dir, "machine-2", "welcome");
    expect(refused).toMatchObject({ code: 2, err: expect.stringMatching(/^coord: no machine "machine-2" is registered \(known: soda-yeti\)/) });
    expect((await cli("init", join(fleet!.root, "machine-2"), "--name", "machine-2", "--remote", fleet!.remote)).code).toBe(0);
    // Its registration is news to every machine (their sends check names against their last sync): the fleet's wake.
    const after = await everyone();
    expect(after).toMatch(/^[0-9a-f]{40}$/);
    expect(after).not.toBe(before);
    await waitFor(async () => (await readFile(join(stateDir(dir), "known-fleet.json"), "utf8")).includes('"machine-2"'), 60_000, "machine-2 among izzit7's known machines");
    expect(await readFile(join(stateDir(dir), "daemon.out"), "utf8")).toMatch(/the hub moved[^\n]*: syncing now/);
    const sent = await cli("send", "--dir", dir, "machine-2", "welcome");
    expect(sent.code, sent.err).toBe(0);
  });

  it("a send without the list of the fleet's machines (removed) asks the daemon for a sync, which writes it: a send seconds later goes", async () => {
    const dir = await lookingDaemon("izzit7");
    await rm(join(stateDir(dir), "known-fleet.json"));
    const refused = await cli("send", "--dir", dir, "soda-yeti", "hello");
    expect(refused).toMatchObject({ code: 1, err: expect.stringMatching(/known-fleet\.json.*its daemon was asked to sync now, which writes it: send again in a few seconds$/) });
    await waitFor(
      async () => (await readFile(join(stateDir(dir), "known-fleet.json"), "utf8").catch(() => "")).includes('"soda-yeti"'),
      30_000,
      "the daemon's sync to write the list",
    );
    const sent = await cli("send", "--dir", dir, "soda-yeti", "hello");
    expect(sent.code, sent.err).toBe(0);
  });

  it("a message wakes its recipient: the send moves refs/coord-wake/<recipient>, whose daemon syncs at once; a hub that refuses wakes gets the message without", {
    timeout: patient(90_000),
  }, async () => {
    const dir = await lookingDaemon("soda-yeti");
    const wakeOnHub = () => git(fleet!.hubPath!, "for-each-ref", "--format=%(objectname)", "refs/coord-wake/soda-yeti").then((o) => o.trim());
    // Each machine announced itself with its first publish: its own wake ref is there.
    const announced = await wakeOnHub();
    expect(announced).toMatch(/^[0-9a-f]{40}$/);
    expect(JSON.parse(await readFile(join(stateDir(dir), "wakes.json"), "utf8"))).toEqual({ announced: true });
    const sent = await cli("send", "--dir", dirOf("izzit7"), "soda-yeti", "wake up");
    expect(sent.code, sent.err).toBe(0);
    const inbox = async () => (await cli("inbox", "--dir", dir, "--json")).out;
    await waitFor(async () => (await inbox()).includes("wake up"), 30_000, "the message in soda-yeti's inbox");
    const first = await wakeOnHub();
    expect(first).toMatch(/^[0-9a-f]{40}$/);
    expect(first).not.toBe(announced);
    // The wake is an empty root commit: it carries nothing, and no file of the fleet's.
    expect((await git(fleet!.hubPath!, "ls-tree", "-r", first)).trim()).toBe("");
    expect(await readFile(join(stateDir(dir), "daemon.out"), "utf8")).toMatch(/the hub moved with a wake for this machine: syncing now/);
    // A hub whose rules refuse the wake refs: the message goes without its wake, the sender says so once, and sends no wake for a day.
    const hook = join(fleet!.hubPath!, "hooks", "pre-receive");
    await writeFile(hook, '#!/bin/sh\nwhile read old new ref; do case "$ref" in refs/coord-wake/*) echo "no wakes here" >&2; exit 1;; esac; done\n', { mode: 0o755 });
    const refused = await cli("send", "--dir", dirOf("izzit7"), "soda-yeti", "still there");
    expect(refused.code, refused.err).toBe(0);
    // Quiet, soda-yeti's daemon syncs a move that did not wake it within a minute (QUIET_OTHERS_MS); a sync here takes it now.
    await waitFor(async () => (await cli("sync", "--dir", dir)).code === 0 && (await inbox()).includes("still there"), 30_000, "the second message, without its wake");
    expect(await wakeOnHub()).toBe(first);
    expect(JSON.parse(await readFile(join(stateDir(dirOf("izzit7")), "wakes.json"), "utf8"))).toMatchObject({
      refusedAt: expect.any(String),
      why: expect.stringMatching(/no wakes here|declined/),
    });
    expect(`${refused.out}${refused.err}`).toMatch(/refused the wake refs/);
  });

  it("a kill -9 of the daemon leaves nothing that blocks the next start", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = dirOf("izzit7");
    // Options it could not use are refused at once, on the terminal, not in daemon.out.
    const badSchedule = await cli("daemon", "start", "--dir", dir, "--schedule", "bad");
    expect([badSchedule.code, badSchedule.err]).toEqual([2, expect.stringMatching(/--schedule "bad" is not a cron expression/)]);
    const badJitter = await cli("daemon", "start", "--dir", dir, "--jitter", "abc");
    expect([badJitter.code, badJitter.err]).toEqual([2, expect.stringMatching(/--jitter must be a number of seconds/)]);
    expect((await daemonStatus(dir)).running).toBe(false);
    expect((await cli("daemon", "start", "--dir", dir, "--schedule", EVERY_SECOND, "--jitter", "0")).code).toBe(0);
    const info = (await readDaemonInfo(stateDir(dir)))!;
    process.kill(info.pid, "SIGKILL");
    await waitFor(async () => !(await daemonStatus(dir)).running, 5_000, "the killed daemon to be seen as gone");
    const again = await cli("daemon", "start", "--dir", dir, "--schedule", EVERY_SECOND, "--jitter", "0");
    expect(again.code, again.err).toBe(0);
    stops.push(() => cli("daemon", "stop", "--dir", dir));
    expect((await readDaemonInfo(stateDir(dir)))!.pid).not.toBe(info.pid);
    // With no crontab line, timer or service, doctor counts the running daemon, and warns that a reboot ends it.
    const doctorOut = (await cli("doctor", "--dir", dir)).out;
    expect(doctorOut).toMatch(/WARN\s+schedule\s+coord daemon, pid \d+, .*started by hand: it does not start again after a reboot or a crash/);
    expect(doctorOut).toMatch(/fix: coord daemon install --dir /);
  });

  it("a daemon.json whose pid another process has taken since (a kill -9, then a reboot) blocks no start, and that process is never signalled", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = dirOf("izzit7");
    const other = spawn("sleep", ["120"], { stdio: "ignore" });
    stops.push(async () => {
      other.kill("SIGKILL");
    });
    const gone = { pid: other.pid!, dir, startedAt: new Date(Date.now() - 3_600_000).toISOString(), schedule: EVERY_SECOND };
    // As a daemon left them before a power cut: its lock, and its file naming a process of an earlier boot.
    await mkdir(join(stateDir(dir), "daemon.lock"), { recursive: true });
    const same = await processIdentity(process.pid);
    await writeFile(join(stateDir(dir), "daemon.json"), JSON.stringify({ ...gone, process: "an-earlier-boot/4242" }));
    if (same !== undefined) {
      // Where the system says which process a pid is (Linux): not the daemon that wrote the file, so none runs.
      expect((await daemonStatus(dir)).running).toBe(false);
      // (A look that finds none removes the lock: each command below meets the lock as the power cut left it.)
      await mkdir(join(stateDir(dir), "daemon.lock"), { recursive: true });
      const stop = await cli("daemon", "stop", "--dir", dir);
      expect(stop.code, stop.err).toBe(0);
      expect(other.exitCode === null && other.signalCode === null).toBe(true);
      await mkdir(join(stateDir(dir), "daemon.lock"), { recursive: true });
      const start = await cli("daemon", "start", "--dir", dir, "--schedule", EVERY_SECOND, "--jitter", "0");
      expect(start.code, start.err).toBe(0);
      stops.push(() => cli("daemon", "stop", "--dir", dir));
      const info = (await readDaemonInfo(stateDir(dir)))!;
      expect(info.pid).not.toBe(other.pid);
      expect(info.process).toMatch(/^[0-9a-f-]+\/\d+$/);
      expect((await daemonStatus(dir)).running).toBe(true);
      await cli("daemon", "stop", "--dir", dir);
    }
    // A file of an older coord, which named no process: the pid alone says, as before (a live one is a running daemon).
    await mkdir(join(stateDir(dir), "daemon.lock"), { recursive: true });
    await writeFile(join(stateDir(dir), "daemon.json"), JSON.stringify(gone));
    expect((await daemonStatus(dir)).running).toBe(true);
    await rm(join(stateDir(dir), "daemon.lock"), { recursive: true, force: true });
  });

  it("keeps syncing while a long task runs: messages are delivered and heartbeats go out meanwhile", { timeout: patient(90_000) }, async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const dir = dirOf("soda-yeti");
    await setConfig(dir, { checkEvery: "1s" });
    const marker = join(fleet.root, "long-started");
    await pushOrders(fleet, [{ id: "long", to: "soda-yeti", run: `touch ${marker}; sleep 300` }]);
    const run = cliProcess(["daemon", "run", "--dir", dir, "--schedule", EVERY_SECOND, "--jitter", "0"]);
    let output = "";
    run.stdout!.on("data", (d) => (output += d));
    run.stderr!.on("data", (d) => (output += d));
    stops.push(async () => {
      run.kill("SIGTERM");
      await new Promise((r) => (run.exitCode !== null ? r(null) : run.once("close", r)));
    });
    await waitFor(async () => (await hubStatus(fleet!)).orders.long?.state === "in_progress", 20_000, "the long task to show in_progress");
    await cli("send", "--dir", dirOf("izzit7"), "soda-yeti", "are you there?", "--now");
    await waitFor(async () => (await hubStatus(fleet!)).machines["soda-yeti"]?.messages.unacked === 1, 20_000, "the message to be received during the long task");
    // Its status says a sync is running (not a next sync in the past), and the skipped ticks make no noise.
    expect((await cli("daemon", "status", "--dir", dir)).out).toMatch(/syncing now: since \S+ \(\d+s;/);
    expect(output).not.toMatch(/NODE-CRON|overlap/);
    // A clean stop interrupts the task and publishes that.
    run.kill("SIGTERM");
    await new Promise((r) => run.once("close", r));
    expect((await hubStatus(fleet)).orders.long?.machines["soda-yeti"]).toMatchObject({ state: "failed", reason: "interrupted: coord was stopped" });
  });
});

describe("coord watch", () => {
  it("a burst of saves of ORDERS.json in the checkout is pushed once, as the person's change; an invalid file is left alone", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = dirOf("izzit7");
    await git(dir, "config", "user.name", "Dana Person");
    await git(dir, "config", "user.email", "dana@example.com");
    const w = cliProcess(["watch", "--dir", dir, "--every", "5s", "--debounce", "3000"]);
    let out = "";
    w.stdout!.on("data", (d) => (out += d));
    stops.push(async () => {
      w.kill("SIGTERM");
      await new Promise((r) => (w.exitCode !== null ? r(null) : w.once("close", r)));
    });
    await waitFor(async () => out.includes("watching"), 15_000, "watch to start");
    const file = join(dir, "ORDERS.json");
    const orders = (n: number) =>
      JSON.stringify(
        { $schema: "coordination/orders.schema.json", version: 1, orders: Array.from({ length: n }, (_, i) => ({ id: `o${i}`, to: "izzit7", run: "true" })) },
        null,
        2,
      ) + "\n";
    const burst = Date.now();
    for (let n = 1; n <= 3; n++) {
      await writeFile(file, orders(n));
      if (n < 3) await new Promise((r) => setTimeout(r, 100));
    }
    const burstMs = Date.now() - burst;
    await waitFor(async () => (await hubFile(fleet!, "ORDERS.json")) === orders(3), 20_000, "the saved ORDERS.json to reach the hub");
    await waitFor(async () => out.includes("ORDERS.json: pushed"), 10_000, "watch to say it pushed");
    const byPerson = (await hubCommits(fleet)).filter((c) => c.author === "Dana Person");
    // One commit when the saves came within the debounce (this process may have stalled between them).
    if (burstMs < 2500) expect(byPerson).toHaveLength(1);
    expect(byPerson[0]!.paths).toEqual(["ORDERS.json"]);

    const broken = '{ "version": 1, "orders": [ { "id": "x", "to": "izzit7", "run": "true", "timeout": "ten minutes" } ] }\n';
    await writeFile(file, broken);
    await waitFor(async () => out.includes("ORDERS.json is invalid, not committed"), 10_000, "the invalid file to be reported").catch((e: Error) => {
      throw new Error(`${e.message}; watch said:\n${out}`);
    });
    expect(await readFile(file, "utf8")).toBe(broken); // never discarded
    expect(await hubFile(fleet, "ORDERS.json")).toBe(orders(3)); // never committed
  });
});
