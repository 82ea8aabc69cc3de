// Messages when things go wrong: a lost mailbox (before a send, or before a
// delivery), a hand-broken message file, a sender's clock stepping back,
// concurrent sends, and a sync killed while the onMessage hook runs.
// Nothing is lost, nothing delivered twice, each channel in sequence order.
import { readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inbox, send } from "../src/actions/messages.js";
import { sync } from "../src/sync/sync.js";
import { cli, cliExec, hubFile, makeFleet, personCommit, setConfig, syncAfterCrash, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});
const dirOf = (name: string) => fleet!.machines[name]!;
const mailbox = (name: string) => join(dirOf(name), ".git", "coord", "mailbox.json");
const texts = async (name: string) => (await inbox({ dir: dirOf(name), all: true })).messages.map((m) => m.text);
const hooked = async (path: string) =>
  (await readFile(path, "utf8").catch(() => ""))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id: string; text: string });

describe("messages: recovery", () => {
  it("a sender that lost its mailbox is told to sync before it sends; that sync keeps its live messages, and the send numbers above them", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    await send({ dir: dirOf("izzit7"), to: "soda-yeti", text: "first" });
    await sync({ dir: dirOf("izzit7") }); // published; soda-yeti has not synced yet
    await rm(mailbox("izzit7"));
    const refused = await cli("send", "--dir", dirOf("izzit7"), "soda-yeti", "second");
    expect(refused).toMatchObject({ code: 1, out: "" });
    expect(refused.err).toMatch(/mailbox is new or was lost, .*: run coord sync \(it rebuilds the mailbox\), then send again; nothing was stored/);
    expect(refused.err.split("\n")).toHaveLength(1);
    await sync({ dir: dirOf("izzit7") });
    const second = await send({ dir: dirOf("izzit7"), to: "soda-yeti", text: "second" });
    expect(second.id).toBe("izzit7/soda-yeti/2");
    await sync({ dir: dirOf("izzit7") });
    await sync({ dir: dirOf("soda-yeti") });
    expect(await texts("soda-yeti")).toEqual(["first", "second"]);
  });

  it.each([
    ["left as it was", undefined],
    ["deleted", null],
    ["lowered to next: 1", (t: string) => t.replace(/^next: 2$/m, "next: 1")],
    ["deleted, and the key its machine file shows swapped for another (no keys in ORDERS.json: read by that one)", "swap"],
  ] as const)(
    "found in attack: a reclaim without the key numbers a broadcast above its file, which a recipient took without vouching for it yet; its file %s by a pusher before the first sync",
    async (_, forge) => {
      fleet = await makeFleet(["izzit7", "soda-yeti", "machine-2"]);
      await send({ dir: dirOf("izzit7"), to: "ALL", text: "before" });
      await sync({ dir: dirOf("izzit7") });
      await sync({ dir: dirOf("soda-yeti") }); // took izzit7/ALL/1; machine-2 has not synced: only one recipient vouches for it
      await rm(dirOf("izzit7"), { recursive: true, force: true });
      const path = "coordination/messages/izzit7_TO_ALL.md";
      const text = await hubFile(fleet, path);
      expect(text).toMatch(/^next: 2$/m);
      if (forge !== undefined) await personCommit(fleet, path, typeof forge === "function" ? forge(text) : null, "a pusher takes the floor away");
      if (forge === "swap") {
        const file = "coordination/COMPUTER_izzit7.md";
        const other = (await readFile(join(dirOf("soda-yeti"), ".git", "coord", "machine_key.pub"), "utf8")).trim();
        const swapped = (await hubFile(fleet, file)).replace(/"key": "[^"]+"/, `"key": ${JSON.stringify(other)}`);
        expect(swapped).toContain(other);
        await personCommit(fleet, file, swapped, "a pusher's key for the machine");
      }
      const again = join(fleet.root, "izzit7-again");
      expect((await cli("init", again, "--name", "izzit7", "--remote", fleet.remote, "--reclaim")).code).toBe(0);
      expect((await send({ dir: again, to: "ALL", text: "after" })).id).toBe("izzit7/ALL/2");
      await sync({ dir: again });
      for (const name of ["soda-yeti", "machine-2"]) {
        expect((await cli("trust", "pin", "--dir", dirOf(name), "izzit7", join(again, ".git", "coord", "machine_key.pub"))).code).toBe(0);
        await sync({ dir: dirOf(name) });
      }
      // Under number 1 soda-yeti would have dropped it. "before" never reaches machine-2: without the key, nothing tells
      // the file's messages from a pusher's (coord init --reclaim --key keeps them).
      expect(await texts("soda-yeti")).toEqual(["before", "after"]);
      expect(await texts("machine-2")).toEqual(["after"]);
    },
  );

  it("a registered recipient that lost its mailbox is not cut to the last few broadcasts again, and acknowledges none it never saw", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    await sync({ dir: dirOf("soda-yeti") });
    for (let i = 1; i <= 15; i++) await send({ dir: dirOf("izzit7"), to: "ALL", text: `news ${i}` });
    await sync({ dir: dirOf("izzit7") });
    await rm(mailbox("soda-yeti"));
    await sync({ dir: dirOf("soda-yeti") });
    expect(await texts("soda-yeti")).toEqual(Array.from({ length: 15 }, (_, i) => `news ${i + 1}`));
    // Two days later the sender archives only what was acknowledged: nothing.
    await sync({ dir: dirOf("izzit7"), now: () => new Date(Date.now() + 2 * 86_400_000) });
    expect(await hubFile(fleet, "coordination/messages/izzit7_TO_ALL.md")).toContain("seq: 1\n");
  });

  it("a sender whose own file was hand-broken and whose mailbox was lost rewrites it and reuses no sequence number", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    for (const t of ["one", "two", "three"]) await send({ dir: dirOf("izzit7"), to: "soda-yeti", text: t });
    await sync({ dir: dirOf("izzit7") });
    await sync({ dir: dirOf("soda-yeti") }); // received 1..3
    const path = "coordination/messages/izzit7_TO_soda-yeti.md";
    await personCommit(fleet, path, (await hubFile(fleet, path)).replace("next: 4", "next: four"), "oops");
    await rm(mailbox("izzit7"));
    await sync({ dir: dirOf("izzit7") });
    expect(await hubFile(fleet, path)).toContain("next: 4");
    const sent = await send({ dir: dirOf("izzit7"), to: "soda-yeti", text: "four" });
    expect(sent.id).toBe("izzit7/soda-yeti/4");
    await sync({ dir: dirOf("izzit7") });
    await sync({ dir: dirOf("soda-yeti") });
    expect(await texts("soda-yeti")).toEqual(["one", "two", "three", "four"]);
  });
});

describe("messages: offline", () => {
  it("send --now without the remote says the message is stored and goes out with the next sync, and it does", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    await sync({ dir: dirOf("izzit7") }); // it knows soda-yeti
    await rename(fleet.hubPath, fleet.hubPath + ".away");
    const r = await cli("send", "--dir", dirOf("izzit7"), "soda-yeti", "hello", "--now");
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/^coord: sent izzit7\/soda-yeti\/1, but could not publish it now \(could not reach the remote .*\); it goes out with the next sync$/);
    await rename(fleet.hubPath + ".away", fleet.hubPath);
    await sync({ dir: dirOf("izzit7") });
    await sync({ dir: dirOf("soda-yeti") });
    expect(await texts("soda-yeti")).toEqual(["hello"]);
  });
});

describe("messages: order", () => {
  it("a channel is delivered, and hooked, in sequence order even when the sender's clock stepped back", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const hookLog = join(fleet.root, "hook.log");
    await setConfig(dirOf("soda-yeti"), { onMessage: `cat >> ${hookLog}; echo >> ${hookLog}` });
    const t = Date.now();
    await send({ dir: dirOf("izzit7"), to: "soda-yeti", text: "deploy v2", clock: () => new Date(t) });
    await send({ dir: dirOf("izzit7"), to: "soda-yeti", text: "cancel the deploy", clock: () => new Date(t - 1000) });
    await sync({ dir: dirOf("izzit7") });
    const r = await sync({ dir: dirOf("soda-yeti") });
    const ids = ["izzit7/soda-yeti/1", "izzit7/soda-yeti/2"];
    expect(r.delivered).toEqual(ids);
    expect((await inbox({ dir: dirOf("soda-yeti"), all: true })).messages.map((m) => m.id)).toEqual(ids);
    expect((await hooked(hookLog)).map((m) => m.id)).toEqual(ids);
  });

  it("concurrent sends in one checkout get sequence numbers in the order of their times", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    // It knows soda-yeti: no send looks at the remote for it (12 fetches at once), all go straight for the mailbox.
    await sync({ dir: dirOf("izzit7") });
    const sent = await Promise.all(Array.from({ length: 12 }, (_, i) => send({ dir: dirOf("izzit7"), to: "soda-yeti", text: `m${i}` })));
    expect(new Set(sent.map((s) => s.id)).size).toBe(12);
    await sync({ dir: dirOf("izzit7") });
    const r = await sync({ dir: dirOf("soda-yeti") });
    const seqs = r.delivered.map((id) => Number(id.split("/")[2]));
    expect(seqs).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const times = (await inbox({ dir: dirOf("soda-yeti"), all: true })).messages.map((m) => m.at);
    expect(times).toEqual([...times].sort());
  });
});

describe("messages: the onMessage hook", () => {
  it("a sync killed while the hook runs for the first of 3 messages: the next sync runs it for all that are owed", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const hookLog = join(fleet.root, "hook.log");
    const flag = join(fleet.root, "killed-once");
    // The first hook run kills the sync (a crash, an OOM kill, a reboot), once.
    await setConfig(dirOf("soda-yeti"), { onMessage: `if [ ! -e ${flag} ]; then touch ${flag}; kill -9 $PPID; exit 1; fi; cat >> ${hookLog}; echo >> ${hookLog}` });
    for (const t of ["one", "two", "three"]) await send({ dir: dirOf("izzit7"), to: "soda-yeti", text: t });
    await sync({ dir: dirOf("izzit7") });
    expect((await cliExec(["sync", "--dir", dirOf("soda-yeti")])).code).not.toBe(0);
    // The hook ran and killed that sync: it never kills again (a sync in this process must not kill the test).
    expect(await readFile(flag, "utf8")).toBe("");
    // Until the killed sync's lock is seen as stale, a sync says it skipped. The next sync runs in this process: the
    // hook kills its parent only the first time.
    const again = await syncAfterCrash(dirOf("soda-yeti"), 30_000);
    expect(again.code, again.err).toBe(0);
    expect((await hooked(hookLog)).map((m) => m.text)).toEqual(["one", "two", "three"]);
    expect((await inbox({ dir: dirOf("soda-yeti"), unread: true })).messages).toEqual([]);
  });
});
