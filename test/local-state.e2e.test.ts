// Local state broken by disk corruption or a bad hand edit: the journal, the
// mailbox and the health file are kept aside (<file>.corrupt-<time>), said in
// one sentence, and rebuilt from what the machine published; the machine
// config, its identity, is never replaced: coord refuses with what to do.
import { readdir, readFile, rename, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inbox, send } from "../src/commands/messages.js";
import { parseJournal } from "../src/state/journal.js";
import { parseMailbox } from "../src/state/mailbox.js";
import { sync } from "../src/sync/sync.js";
import { cli, hubStatus, makeFleet, pushOrders, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const stateDir = (dir: string) => join(dir, ".git", "coord");
const setAsideFiles = async (dir: string, name: string) => (await readdir(stateDir(dir))).filter((f) => f.startsWith(`${name}.corrupt-`));
const entry = { rev: 1, state: "completed", attempts: 1, exitCode: 0 };

describe("reading local state", () => {
  it("a journal: what is wrong, or the data (an id like __proto__ is an entry like any other)", () => {
    const cases: [unknown, string][] = [
      ["{", "not JSON"],
      [null, "not a JSON object"],
      [{ version: 1, tasks: null }, "tasks is not an object"],
      [{ version: 1, tasks: [] }, "tasks is not an object"],
      [{ tasks: {} }, "no version 1"],
      [{ version: 2, tasks: {} }, "version 2"],
      [{ version: 1, tasks: { a: null } }, 'task "a"'],
      [{ version: 1, tasks: { a: { ...entry, state: "bogus" } } }, 'task "a" field state'],
      [{ version: 1, tasks: { a: { ...entry, attempts: "1" } } }, 'task "a" field attempts'],
      [{ version: 1, tasks: {}, lastRun: 5 }, "lastRun is not a text"],
    ];
    for (const [value, problem] of cases) {
      const r = parseJournal(typeof value === "string" ? value : JSON.stringify(value));
      expect(typeof r === "string" ? r : "parsed", JSON.stringify(value)).toContain(problem);
    }
    const ok = parseJournal(`{"version":1,"tasks":{"__proto__":${JSON.stringify(entry)},"build":${JSON.stringify({ ...entry, pid: 42, extra: "kept" })}}}`);
    if (typeof ok === "string") throw new Error(ok);
    expect(Object.keys(ok.tasks)).toEqual(["__proto__", "build"]);
    expect(Object.getPrototypeOf(ok.tasks)).toBeNull();
    expect(ok.tasks.build).toMatchObject({ pid: 42, extra: "kept" });
  });

  it("a mailbox: what is wrong, or the data", () => {
    const good = {
      version: 1,
      outbox: { "soda-yeti": { next: 2, messages: [{ seq: 1, at: "2026-01-01T00:00:00.000Z", priority: "normal", text: "hi" }] } },
      inbox: [],
      receipts: { "a/b": { received: 1, acked: 0 } },
    };
    const cases: [unknown, string][] = [
      [{ ...good, outbox: null }, "field outbox"],
      [{ ...good, inbox: {} }, "field inbox"],
      [{ ...good, receipts: { "a/b": { received: "x", acked: 0 } } }, "field receipts.a/b.received"],
      [{ ...good, outbox: { b: { next: 1, messages: [{ seq: 1 }] } } }, "field outbox.b.messages.0"],
      [{ ...good, version: 3 }, "version 3"],
      [7, "the file"],
    ];
    for (const [value, problem] of cases) {
      const r = parseMailbox(JSON.stringify(value));
      expect(typeof r === "string" ? r : "parsed", JSON.stringify(value)).toContain(problem);
    }
    expect(parseMailbox("{ broken")).toMatch(/^not JSON/);
    const ok = parseMailbox(JSON.stringify(good));
    expect(typeof ok === "string" ? ok : ok.outbox["soda-yeti"]?.next).toBe(2);
  });
});

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
    expect((await hubStatus(fleet)).orders.count.machines.izzit7).toMatchObject({ state: "completed", attempts: 1 });
    // The machine's own log says it too (coord logs).
    expect(await readFile(join(stateDir(dir), "coord.log"), "utf8")).toContain("kept aside as");
    // Once: the next sync has nothing to say about it.
    expect((await cli("sync", "--dir", dir)).err).not.toContain("kept aside");
  });

  it("a mailbox with outbox: null is kept aside; sent messages are taken back from the hub and no sequence number is used twice", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const a = fleet.machines.izzit7!;
    const b = fleet.machines["soda-yeti"]!;
    await send({ dir: a, to: "soda-yeti", text: "first" });
    await sync({ dir: a });
    await writeFile(join(stateDir(a), "mailbox.json"), '{"version":1,"outbox":null,"inbox":[],"receipts":{}}\n');

    const second = await send({ dir: a, to: "soda-yeti", text: "second" });
    expect(second.id).toBe("izzit7/soda-yeti/2");
    expect(await setAsideFiles(a, "mailbox.json")).toHaveLength(1);
    const r = await sync({ dir: a });
    expect(r.warnings.join("\n")).toMatch(/mailbox\.json could not be read \(field outbox: .*\); it was kept aside as .*mailbox\.json\.corrupt-.* and a new mailbox starts/);
    await sync({ dir: b });
    expect((await inbox({ dir: b, all: true })).messages.map((m) => m.text)).toEqual(["first", "second"]);
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
