// Local state broken by disk corruption or a bad hand edit: the journal, the
// mailbox and the health file are kept aside (<file>.corrupt-<time>), said in
// one sentence, and rebuilt from what the machine published; the machine
// config, its identity, is never replaced: coord refuses with what to do.
import { spawn } from "node:child_process";
import { readdir, readFile, rename, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inbox, send } from "../src/actions/messages.js";
import { sync } from "../src/sync/sync.js";
import { timings } from "../src/timings.js";
import { cli, hubStatus, makeFleet, pushOrders, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const stateDir = (dir: string) => join(dir, ".git", "coord");
const setAsideFiles = async (dir: string, name: string) => (await readdir(stateDir(dir))).filter((f) => f.startsWith(`${name}.corrupt-`));

describe("broken local state on a machine", () => {
  it("the temp file of a write a killed process left is swept by a later sync once it is an hour old", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const left = join(stateDir(dir), "journal.json.99999.0123456789ab.tmp");
    await writeFile(left, '{ "version": 1, "tas');
    await sync({ dir });
    expect(await readdir(stateDir(dir))).toContain("journal.json.99999.0123456789ab.tmp"); // it may be a write in flight
    const old = new Date(Date.now() - 2 * 60 * 60_000);
    await utimes(left, old, old);
    await pushOrders(fleet, [{ id: "later", to: "izzit7", run: "true" }]); // a sync with work to do (a quiet one takes no lock)
    await sync({ dir });
    expect(await readdir(stateDir(dir))).not.toContain("journal.json.99999.0123456789ab.tmp");
  });

  it("a journal with tasks: null is kept aside and rebuilt from the published file: nothing runs twice, the sync says so", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const counter = join(fleet.root, "count");
    await pushOrders(fleet, [{ id: "count", to: "izzit7", run: `echo x >> ${counter}` }]);
    await sync({ dir });
    const broken = '{ "version": 1, "tasks": null }\n';
    await writeFile(join(stateDir(dir), "journal.json"), broken);

    const r = await cli("sync", "--dir", dir);
    expect(r.code).toBe(0);
    const [aside] = await setAsideFiles(dir, "journal.json");
    expect(await readFile(join(stateDir(dir), aside!), "utf8")).toBe(broken);
    expect(r.err).toContain(
      `warning: ${join(stateDir(dir), "journal.json")} could not be read (tasks is not an object); it was kept aside as ${join(stateDir(dir), aside!)} and a new journal starts from what this machine published, so nothing it ran runs again`,
    );
    expect(r.err).not.toMatch(/\n\s+at /);
    expect((await readFile(counter, "utf8")).trim().split("\n")).toHaveLength(1);
    expect((await hubStatus(fleet)).orders.count?.machines.izzit7).toMatchObject({ state: "completed", attempts: 1 });
    // The machine's own log says it too (coord logs).
    expect(await readFile(join(stateDir(dir), "coord.log"), "utf8")).toContain("kept aside as");
    // Once: the next sync has nothing to say about it.
    expect((await cli("sync", "--dir", dir)).err).not.toContain("kept aside");
  });

  it("a mailbox with outbox: null is kept aside; a send waits for the sync that takes the sent messages back from the hub, and no sequence number is used twice", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const a = fleet.machines.izzit7!;
    const b = fleet.machines["soda-yeti"]!;
    await send({ dir: a, to: "soda-yeti", text: "first" });
    await sync({ dir: a });
    await writeFile(join(stateDir(a), "mailbox.json"), '{"version":1,"outbox":null,"inbox":[],"receipts":{}}\n');

    await expect(send({ dir: a, to: "soda-yeti", text: "second" })).rejects.toThrow(
      /^this machine's mailbox was set aside, and .*: run coord sync \(it rebuilds the mailbox\), then send again; nothing was stored$/,
    );
    expect(await setAsideFiles(a, "mailbox.json")).toHaveLength(1);
    const r = await sync({ dir: a });
    expect(r.warnings.join("\n")).toMatch(/mailbox\.json could not be read \(field outbox: .*\); it was kept aside as .*mailbox\.json\.corrupt-.* and a new mailbox starts/);
    expect((await send({ dir: a, to: "soda-yeti", text: "second" })).id).toBe("izzit7/soda-yeti/2");
    await sync({ dir: a });
    await sync({ dir: b });
    expect((await inbox({ dir: b, all: true })).messages.map((m) => m.text)).toEqual(["first", "second"]);
  });

  it("the mailbox lock of a process killed -9 while holding it is waited out: a send goes through once the lock is stale", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const a = fleet.machines.izzit7!;
    // A process that takes the mailbox's lock as coord does, and is killed holding it (a daemon killed mid-write).
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `require("proper-lockfile").lock(process.argv[1], { realpath: false, lockfilePath: process.argv[1] + ".lock", stale: ${timings.fileLockStaleMs} }).then(() => { console.log("held"); setInterval(() => {}, 60_000); })`,
        join(stateDir(a), "mailbox"),
      ],
      { cwd: process.cwd(), stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on("data", (d) => String(d).includes("held") && resolve());
      holder.once("exit", () => reject(new Error("the lock holder exited before it held the lock")));
    });
    const lockedAt = Date.now();
    holder.kill("SIGKILL");
    await new Promise((resolve) => holder.once("close", resolve));
    expect(holder.signalCode).toBe("SIGKILL"); // it held the lock to its death: no exit handler released it
    const sent = await send({ dir: a, to: "soda-yeti", text: "after the kill" });
    expect(sent.id).toBe("izzit7/soda-yeti/1");
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(timings.fileLockStaleMs - 1_000); // it waited for the lock to be stale
  });

  it("a health file holding garbage only loses the count of failed syncs; a scheduled sync runs", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    await pushOrders(fleet, [{ id: "hello", to: "izzit7", run: "echo hello" }]);
    await writeFile(join(stateDir(dir), "health.json"), "null\n");
    const r = await sync({ dir, scheduled: true });
    expect(r.ran).toMatchObject([{ id: "hello", state: "completed" }]);
    expect(r.warnings.join("\n")).toContain("health.json could not be read (the file: ");
    expect(await setAsideFiles(dir, "health.json")).toHaveLength(1);
  });

  it("a machine config that is garbage is refused with one sentence and exit code 2, never replaced; the advice given works", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const config = join(stateDir(dir), "machine.yaml");
    const uuid = /uuid: (.+)/.exec(await readFile(config, "utf8"))![1];
    for (const garbage of ["\u0000\u0001\u00ff\u0007garbage", "null\n", "- a\n- b\n", "name: [\n", "a: &a [*a, *a]\n"]) {
      await writeFile(config, garbage);
      const r = await cli("sync", "--dir", dir);
      expect(r.code, garbage).toBe(2);
      expect(r.err.split("\n"), garbage).toHaveLength(1);
      expect(r.err, garbage).toMatch(
        new RegExp(
          `^coord: ${config.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.* (is not valid YAML|is not a machine config|field).*; fix it, or move it aside and run coord init <checkout> --name <this machine> --remote <hub> --reclaim`,
        ),
      );
      expect(await readFile(config, "utf8")).toBe(garbage);
    }
    // As the sentence says: moved aside, coord init --reclaim takes the identity back.
    await rename(config, `${config}.bad`);
    const init = await cli("init", dir, "--name", "izzit7", "--remote", fleet.remote, "--reclaim");
    expect(init.code, init.err).toBe(0);
    expect(await readFile(config, "utf8")).toContain(`uuid: ${uuid}`);
    expect((await cli("sync", "--dir", dir)).code).toBe(0);
  });
});
