// The parse cache across processes, on real git: each `coord sync` is its own
// process (the built CLI), as cron runs it. A sync with nothing new parses
// nothing; one after another machine published parses only that machine's
// files; a broken cache file is ignored and rebuilt. And a sync that
// delivers many messages says so in one short line.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isSyncRecord, readLogs, type SyncLogRecord } from "../src/state/logs.js";
import { parseParsedFile, PARSED_FILE } from "../src/state/parsed.js";
import { cli, cliExec, type Fleet, makeFleet, pushOrders } from "./helpers.js";

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
    for (let i = 1; i <= 12; i++) expect((await cli("send", "--dir", fleet.machines["soda-yeti"]!, "izzit7", `note ${i}`)).code).toBe(0);
    expect((await cli("send", "--dir", fleet.machines["machine-2"]!, "ALL", "hi all")).code).toBe(0);
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
    const kept = parseParsedFile(await readFile(join(stateDir(me), PARSED_FILE), "utf8"));
    // The three machine files, two message files, the orders.
    expect(kept?.map(([key]) => key.slice(41)).sort()).toEqual([
      "(orders)",
      "coordination/COMPUTER_izzit7.md",
      "coordination/COMPUTER_machine-2.md",
      "coordination/COMPUTER_soda-yeti.md",
      "coordination/messages/machine-2_TO_ALL.md",
      "coordination/messages/soda-yeti_TO_izzit7.md",
    ]);

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

    // A broken cache file: ignored, everything parsed again, the file rebuilt.
    await writeFile(join(stateDir(me), PARSED_FILE), "{ torn");
    const rebuilt = await syncProcess(me);
    expect(rebuilt.record.parsed).toBe(6);
    expect(parseParsedFile(await readFile(join(stateDir(me), PARSED_FILE), "utf8"))).toHaveLength(6);
    expect((await syncProcess(me)).record.parsed).toBe(0);
  });
});
