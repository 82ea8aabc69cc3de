// The parse cache across processes, on real git: each `coord sync` is its own
// process (the built CLI), as cron runs it. A sync with nothing new parses
// nothing; one after another machine published parses only that machine's
// files; a broken cache file is ignored and rebuilt. And a sync that
// delivers many messages says so in one short line.
import { sealKey } from "../src/state/seal.js";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { blobsRead, Repo } from "../src/git/git.js";
import { isSyncRecord, readLogs, type SyncLogRecord } from "../src/state/logs.js";
import { sync } from "../src/sync/sync.js";
import { parseParsedFile, PARSED_FILE } from "../src/state/parsed.js";
import { cli, cliExec, type Fleet, git, makeFleet, personCommit, pushOrders } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const stateDir = (dir: string) => join(dir, ".git", "coord");

/** One `coord sync` process; its coord.log record. */
async function syncProcess(dir: string): Promise<{ out: string; record: SyncLogRecord }> {
  const r = await cliExec(["sync", "--dir", dir]);
  expect(r.code, r.err).toBe(0);
  const records = (await readLogs(stateDir(dir))).filter(isSyncRecord);
  return { out: r.out, record: records.at(-1)! };
}

describe("the parse cache, one process per sync", () => {
  it("a sync with nothing new parses nothing; another machine's publish is the only thing parsed again; a broken cache is rebuilt", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti", "machine-2"]);
    const me = fleet.machines.izzit7!;
    await pushOrders(fleet, [{ id: "hello", to: "ALL", run: "true" }]);
    // --later: stored only (each plain send would publish at once); the two syncs below publish them.
    for (let i = 1; i <= 12; i++) expect((await cli("send", "--later", "--dir", fleet.machines["soda-yeti"]!, "izzit7", `note ${i}`)).code).toBe(0);
    expect((await cli("send", "--later", "--dir", fleet.machines["machine-2"]!, "ALL", "hi all")).code).toBe(0);
    await cli("sync", "--dir", fleet.machines["soda-yeti"]!);
    await cli("sync", "--dir", fleet.machines["machine-2"]!);

    // The first sync here reads everything new to it; the summary names a few of the 13 messages (12 and a broadcast).
    const first = await syncProcess(me);
    expect(first.record.parsed).toBeGreaterThan(0);
    expect(first.out).toContain("13 new messages (coord inbox): soda-yeti/izzit7/1, soda-yeti/izzit7/2, soda-yeti/izzit7/3, soda-yeti/izzit7/4, soda-yeti/izzit7/5 and 8 more");
    expect(first.out).not.toContain("soda-yeti/izzit7/12");

    // A new process, nothing new at the hub: every file's parse comes from the state dir.
    const idle = await syncProcess(me);
    expect(idle.record.pushed).toBeUndefined();
    expect(idle.record.parsed).toBe(0);
    const kept = parseParsedFile(await readFile(join(stateDir(me), PARSED_FILE), "utf8"), (await sealKey(stateDir(me))).key);
    // The three machine files, two message files, the orders.
    expect(kept?.map(([key]) => key.slice(41)).sort()).toEqual([
      "(orders)",
      "coordination/COMPUTER_izzit7.md",
      "coordination/COMPUTER_machine-2.md",
      "coordination/COMPUTER_soda-yeti.md",
      "coordination/messages/machine-2_TO_ALL.md",
      "coordination/messages/soda-yeti_TO_izzit7.md",
    ]);

    // Syncs in one process (as a daemon runs them) that read the same tip each time (no quiet stamp to answer them):
    // the cache still holds every file.
    const reading = async () => rm(join(stateDir(me), "quiet.json"), { force: true });
    const ownFile = async () => (await git(fleet!.hubPath, "rev-parse", "coord:coordination/COMPUTER_izzit7.md")).trim();
    const ownBefore = await ownFile();
    await reading();
    await sync({ dir: me });
    await reading();
    await sync({ dir: me });
    await reading();
    // Nothing parsed again but this machine's own file, when one of those syncs published it (on a slow machine a
    // sync may: its file's health or capabilities moved).
    const republished = (await ownFile()) !== ownBefore;
    expect((await syncProcess(me)).record.parsed).toBe(republished ? 1 : 0);

    // machine-2 publishes (its receipt of nothing new, a new lastSeen... or at least its file): only what changed is parsed.
    await pushOrders(fleet, [
      { id: "hello", to: "ALL", run: "true" },
      { id: "two", to: "machine-2", run: "true" },
    ]);
    await cli("sync", "--dir", fleet.machines["machine-2"]!);
    const after = await syncProcess(me);
    // The orders (a new ORDERS.json) and machine-2's file; then this machine's own new file, read back after its push.
    expect(after.record.parsed).toBeGreaterThanOrEqual(2);
    expect(after.record.parsed).toBeLessThanOrEqual(3);

    // Nothing new since a sync that had nothing to do: the quiet sync reads no file at all (src/sync/quiet.ts).
    await writeFile(join(stateDir(me), PARSED_FILE), "{ torn");
    const quiet = await syncProcess(me);
    expect(quiet.record).toMatchObject({ quiet: true });
    expect(quiet.record.parsed).toBeUndefined();
    // A broken cache file, in a sync that reads (the quiet stamp removed): ignored, everything parsed again, the file rebuilt.
    await rm(join(stateDir(me), "quiet.json"));
    const rebuilt = await syncProcess(me);
    // The six files, and this machine's own new file read back if the sync published (its heartbeat may fall due on a
    // slow machine: the test has then run for minutes).
    expect(rebuilt.record.parsed).toBe(rebuilt.record.pushed ? 7 : 6);
    expect(parseParsedFile(await readFile(join(stateDir(me), PARSED_FILE), "utf8"), (await sealKey(stateDir(me))).key)).toHaveLength(6);
    await rm(join(stateDir(me), "quiet.json"), { force: true });
    // Nothing parsed again, but this machine's own file read back if this sync published it (a CI run's loaded
    // machine once saw its capabilities move here).
    const last = (await syncProcess(me)).record;
    expect(last.parsed).toBe(last.pushed ? 1 : 0);
  });
});

describe("reading a tree again", () => {
  it("takes from git only the blobs the last read of the checkout did not have, and gives the same files as a fresh read", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const dir = fleet.machines.izzit7!;
    const repo = new Repo(dir, stateDir(dir));
    const tip = (await repo.fetch())!;
    const first = await repo.readFiles(tip, []);
    const before = blobsRead(dir);
    const again = await new Repo(dir, stateDir(dir)).readFiles(tip, []); // another Repo of the same checkout: a sync opens one each time
    expect(again).toEqual(first);
    expect(blobsRead(dir)).toBe(before);

    await personCommit(fleet, "coordination/notes.md", "one\n", "a note");
    await personCommit(fleet, "ORDERS.json", `${JSON.stringify({ version: 1, orders: [] })}\n`, "no orders");
    const next = (await repo.fetch())!;
    const changed = await repo.readFiles(next, []);
    expect(blobsRead(dir)).toBe(before + 2); // the note and the orders: nothing else changed
    expect(changed.get("coordination/notes.md")).toBe("one\n");
    const other = new Repo(fleet.machines["soda-yeti"]!, stateDir(fleet.machines["soda-yeti"]!));
    expect(await other.fetch()).toBe(next);
    expect(changed).toEqual(await other.readFiles(next, []));
  });
});
