// A channel never jams, end to end on real git: a message too big for its channel is refused at send; an outbox
// holding one (as an older coord let in) sends a notice in its place and every message behind it; a channel full of
// messages its recipient has not received yet holds the newest back, and they go as the recipient receives. doctor
// names each case and the way out.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inbox } from "../src/actions/messages.js";
import { cli, cliExec, type Fleet, git, makeFleet, personCommit } from "./helpers.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;
const KiB = 1024;
const outboxOf = async (name: string) => JSON.parse((await cli("outbox", "--dir", dirOf(name), "--json")).out) as { id: string; text: string }[];
const texts = async (name: string) => (await inbox({ dir: dirOf(name), all: true })).messages.map((x) => x.text);
/** The size of a's channel file to b on the hub (bytes). */
const onHub = async () => Number(await git(fleet!.hubPath, "cat-file", "-s", "coord:coordination/messages/a_TO_b.md"));

describe("channels that never jam", () => {
  it("a message too big for its channel is refused at send, with the limit named; nothing is stored", async () => {
    fleet = await makeFleet(["a", "b"]);
    const r = await cliExec(["send", "--dir", dirOf("a"), "b", "-"], Buffer.from("x".repeat(1_100_000)));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/the message is 1 MiB, more than the 512 KiB one message may be \(a recipient reads at most 2 MiB of a channel/);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack
    expect(await outboxOf("a")).toEqual([]);
    // At the limit it goes.
    const ok = await cliExec(["send", "--dir", dirOf("a"), "b", "-"], Buffer.from("y".repeat(512 * KiB)));
    expect(ok.code, ok.err).toBe(0);
    expect((await cli("sync", "--dir", dirOf("b"))).code).toBe(0);
    expect((await texts("b"))[0]).toHaveLength(512 * KiB);
  });

  it("an outbox holding a message too big (as an older coord let in): doctor names it; the sync sends a notice in its place and the messages behind it", {
    timeout: patient(90_000),
  }, async () => {
    fleet = await makeFleet(["a", "b"]);
    expect((await cli("send", "--dir", dirOf("a"), "b", "before")).code).toBe(0);
    // As an older coord stored it: a 1.1 MB message, and one after it.
    const path = join(dirOf("a"), ".git", "coord", "mailbox.json");
    const data = JSON.parse(await readFile(path, "utf8"));
    const ch = data.outbox.b;
    for (const text of ["z".repeat(1_100_000), "after"]) ch.messages.push({ seq: ch.next++, at: new Date().toISOString(), priority: "normal", text });
    await writeFile(path, JSON.stringify(data));
    const doc = await cli("doctor", "--dir", dirOf("a"));
    expect(doc.out).toMatch(/message a\/b\/2 is 1 MiB, more than the 512 KiB one message may be: as it is, its channel's file would be over the 2 MiB b reads/);
    expect(doc.out).toContain("the next sync (coord sync, or the daemon's) sends a notice in its place and the messages behind it");
    const s = await cli("sync", "--dir", dirOf("a"));
    expect(s.code).toBe(0);
    expect(s.err).toContain("warning: message a/b/2 was 1 MiB, more than the 512 KiB one message may be: a notice went in its place");
    expect(await onHub()).toBeLessThan(2 * 1024 * KiB);
    expect((await cli("sync", "--dir", dirOf("b"))).code).toBe(0);
    expect(await texts("b")).toEqual([
      "before",
      "[coord: this message was 1 MiB, more than the 512 KiB one message may be: its text was not sent. Ask its sender for it another way.]",
      "after",
    ]);
    // Healed: doctor says nothing of it any more.
    expect((await cli("doctor", "--dir", dirOf("a"))).out).not.toContain("messages");
  });

  it("a channel file on the hub too big to read (as an older coord wrote it): the recipient's doctor names it; the sender's next sync rewrites it", {
    timeout: patient(90_000),
  }, async () => {
    fleet = await makeFleet(["a", "b"]);
    // b reads the files as they are on the hub (a verifying machine takes only what a's signed commits wrote).
    expect((await cli("trust", "machines", "off", "--dir", dirOf("b"))).code).toBe(0);
    await personCommit(fleet, "coordination/messages/a_TO_b.md", "x".repeat(2_500_000), "a 2.4 MB channel file, as an older coord on a wrote it");
    expect((await cli("sync", "--dir", dirOf("b"))).code).toBe(0);
    const doc = await cli("doctor", "--dir", dirOf("b"));
    expect(doc.out).toContain("no message from a arrives: its channel file coordination/messages/a_TO_b.md is too big to read (ignored: the file is 2.4 MiB");
    expect(doc.out).toContain("a's coord rewrites it under the limit at its next sync");
    expect((await cli("send", "--dir", dirOf("a"), "b", "later")).code).toBe(0);
    expect(await onHub()).toBeLessThan(2 * 1024 * KiB);
    expect((await cli("sync", "--dir", dirOf("b"))).code).toBe(0);
    expect(await texts("b")).toEqual(["later"]);
    expect((await cli("doctor", "--dir", dirOf("b"))).out).not.toContain("no message from a arrives");
  });

  it("a channel full of messages its recipient has not received: the newest wait (doctor says why), and go as it receives", { timeout: patient(120_000) }, async () => {
    fleet = await makeFleet(["a", "b"]);
    for (const c of "pqrs") {
      const r = await cliExec(["send", "--dir", dirOf("a"), "b", "-"], Buffer.from(c.repeat(400 * KiB)));
      expect(r.code, r.err).toBe(0);
    }
    // Each 400 KiB message takes 800 KiB of the file: two fit under the 2 MiB b reads, two wait.
    expect(await onHub()).toBeLessThan(2 * 1024 * KiB);
    const doc = await cli("doctor", "--dir", dirOf("a"));
    expect(doc.out).toMatch(/the channel to b is full: its live messages fill the 2 MiB b reads, and 2 newer messages wait behind them \(a\/b\/3, a\/b\/4\)/);
    expect(doc.out).toContain("they go as b receives the ones before them");
    expect((await cli("sync", "--dir", dirOf("b"))).code).toBe(0);
    expect((await texts("b")).map((t) => t[0])).toEqual(["p", "q"]);
    // b received them: a archives them early to make room, and the two that waited go.
    const s = await cli("sync", "--dir", dirOf("a"));
    expect(s.err).toMatch(/the channel to b was over the 2 MiB its recipients read: 2 delivered messages were archived early \(a\/b\/1, a\/b\/2\)/);
    expect((await cli("sync", "--dir", dirOf("b"))).code).toBe(0);
    expect((await texts("b")).map((t) => `${t[0]}${t.length}`)).toEqual(["p", "q", "r", "s"].map((c) => `${c}${400 * KiB}`));
    expect((await cli("doctor", "--dir", dirOf("a"))).out).not.toContain("the channel to b is full");
  });
});
