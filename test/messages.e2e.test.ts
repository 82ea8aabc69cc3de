// Messages between machines, end to end on real git: nothing lost while a
// machine is off, nothing duplicated under concurrency, receipts back to the
// sender, small live files however many messages go through.
import { chmod, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ack, inbox, outbox, send } from "../src/actions/messages.js";
import { init } from "../src/actions/init.js";
import { readMailbox } from "../src/state/mailbox.js";
import { sync } from "../src/sync/sync.js";
import { cli, cliExec, hubFile, hubStatus, makeFleet, personCommit, type Fleet, sendNow } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;

describe("messages", () => {
  it("the whole path: send on A, sync A, sync B, inbox on B, ack on B, sync B, sync A: A sees it acknowledged", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const sent = await cli("send", "--dir", dirOf("izzit7"), "soda-yeti", "build", "is", "green", "--priority", "high");
    // Published at once, with no --now and no sync: the hub holds it.
    expect(sent).toMatchObject({ code: 0, out: expect.stringMatching(/^sent izzit7\/soda-yeti\/1; published [0-9a-f]{12}$/) });
    expect(await hubFile(fleet, "coordination/messages/izzit7_TO_soda-yeti.md")).toContain("build is green");
    await sync({ dir: dirOf("izzit7") });
    const b = await sync({ dir: dirOf("soda-yeti") });
    expect(b.delivered).toEqual(["izzit7/soda-yeti/1"]);

    const list = JSON.parse((await cli("inbox", "--dir", dirOf("soda-yeti"), "--json")).out);
    expect(list).toEqual([
      { id: "izzit7/soda-yeti/1", from: "izzit7", to: "soda-yeti", at: expect.any(String), priority: "high", text: "build is green", replyTo: null, acked: false },
    ]);
    expect((await hubStatus(fleet)).machines["soda-yeti"]?.messages).toEqual({ waiting: 0, unacked: 1 });

    expect((await cli("inbox", "--dir", dirOf("soda-yeti"), "ack", "izzit7/soda-yeti/1")).code).toBe(0);
    await sync({ dir: dirOf("soda-yeti") });
    await sync({ dir: dirOf("izzit7") });
    const out = await outbox(dirOf("izzit7"));
    expect(out.messages).toEqual([expect.objectContaining({ id: "izzit7/soda-yeti/1", recipients: { "soda-yeti": "acked" } })]);
    expect((await hubStatus(fleet)).machines["soda-yeti"]?.messages).toEqual({ waiting: 0, unacked: 0 });
    // A reply names what it answers.
    await cli("send", "--dir", dirOf("soda-yeti"), "izzit7", "tests", "pass", "--reply-to", "izzit7/soda-yeti/1", "--now");
    await sync({ dir: dirOf("izzit7") });
    expect((await inbox({ dir: dirOf("izzit7") })).messages[0]).toMatchObject({ id: "soda-yeti/izzit7/1", replyTo: "izzit7/soda-yeti/1", text: "tests pass" });
  });

  it("a plain send whose publish fails is still sent (exit 0, one line); --now fails loudly; --later only stores", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const dir = dirOf("izzit7");
    const later = await cli("send", "--dir", dir, "soda-yeti", "batched", "--later");
    expect(later).toMatchObject({ code: 0, out: "queued izzit7/soda-yeti/1; it goes out at the next sync" });
    await expect(hubFile(fleet, "coordination/messages/izzit7_TO_soda-yeti.md")).rejects.toThrow();
    expect((await cli("send", "--dir", dir, "soda-yeti", "a", "--now", "--later")).code).toBe(2);
    // The hub is gone: a plain send keeps the message and says when it goes out; --now fails.
    await rename(fleet.hubPath, `${fleet.hubPath}.away`);
    try {
      const plain = await cli("send", "--dir", dir, "soda-yeti", "while", "offline");
      expect(plain.code).toBe(0);
      expect(plain.out).toMatch(/^sent izzit7\/soda-yeti\/2; the hub cannot be reached \(.+\): it is kept here and goes out with the first sync that reaches the hub \(.+\)$/);
      expect(plain.out.split("\n")).toHaveLength(1);
      expect(plain.err).toBe("");
      const now = await cli("send", "--dir", dir, "soda-yeti", "urgent", "--now");
      expect(now.code).toBe(1);
      expect(now.err).toMatch(/sent izzit7\/soda-yeti\/3, but could not publish it now/);
    } finally {
      await rename(`${fleet.hubPath}.away`, fleet.hubPath);
    }
    expect((await outbox(dir)).messages.map((x) => x.text)).toEqual(["batched", "while offline", "urgent"]);
    // The next plain send publishes all of them at once.
    expect((await cli("send", "--dir", dir, "soda-yeti", "back")).out).toMatch(/; published [0-9a-f]{12}$/);
    const file = await hubFile(fleet, "coordination/messages/izzit7_TO_soda-yeti.md");
    for (const text of ["batched", "while offline", "urgent", "back"]) expect(file).toContain(text);
  });

  it("a machine that is off while 20 messages are sent receives all 20, in order, exactly once; its receipts reach the sender", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const count = 20;
    for (let i = 1; i <= count; i++) {
      await send({ dir: dirOf("izzit7"), to: "soda-yeti", text: `message ${i}` });
      if (i % 4 === 0) await sync({ dir: dirOf("izzit7") }); // published in five batches while soda-yeti is off
    }
    const first = await sync({ dir: dirOf("soda-yeti") });
    expect(first.delivered).toHaveLength(count);
    const again = await sync({ dir: dirOf("soda-yeti") });
    expect(again.delivered).toEqual([]);
    const got = (await inbox({ dir: dirOf("soda-yeti"), all: true })).messages;
    expect(got.map((m) => m.text)).toEqual(Array.from({ length: count }, (_, i) => `message ${i + 1}`));
    expect(new Set(got.map((m) => m.id)).size).toBe(count);

    await ack(dirOf("soda-yeti"), [], true);
    await sync({ dir: dirOf("soda-yeti") });
    await sync({ dir: dirOf("izzit7") });
    const states = (await outbox(dirOf("izzit7"))).messages.map((m) => m.recipients["soda-yeti"]);
    expect(states).toEqual(Array(count).fill("acked"));
  });

  it("broadcasts reach every machine, and a machine that registers later gets the last 10 past ones", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti", "machine-2"]);
    for (let i = 1; i <= 15; i++) await send({ dir: dirOf("izzit7"), to: "ALL", text: `news ${i}` });
    await sync({ dir: dirOf("izzit7") });
    for (const name of ["soda-yeti", "machine-2"]) {
      const r = await sync({ dir: dirOf(name) });
      expect(r.delivered).toHaveLength(15);
    }
    expect((await sync({ dir: dirOf("izzit7") })).delivered).toEqual([]); // not to itself

    const late = join(fleet.root, "late");
    await init({ dir: late, name: "late", remote: fleet.remote });
    const got = (await inbox({ dir: late, all: true })).messages.map((m) => m.text);
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => `news ${i + 6}`));
    // New broadcasts reach it in full.
    await sendNow({ dir: dirOf("izzit7"), to: "ALL", text: "news 16" });
    expect((await sync({ dir: late })).delivered).toEqual(["izzit7/ALL/16"]);
  });

  it("an unacknowledged message is never archived, however old", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    await send({ dir: dirOf("izzit7"), to: "soda-yeti", text: "do not lose me" });
    await sync({ dir: dirOf("izzit7") });
    await sync({ dir: dirOf("soda-yeti") }); // received, not acknowledged
    await sync({ dir: dirOf("izzit7"), now: () => new Date(Date.now() + 365 * 24 * 3600 * 1000) });
    expect(await hubFile(fleet, "coordination/messages/izzit7_TO_soda-yeti.md")).toContain("do not lose me");
  });

  it("the onMessage hook gets each new message as JSON on stdin and acknowledges it by exiting 0", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const seen = join(fleet.root, "seen.jsonl");
    const hook = join(fleet.root, "hook.sh");
    await writeFile(hook, `#!/bin/sh\ncat >> ${seen}\ngrep -q refuse ${seen} && exit 1\nexit 0\n`);
    await chmod(hook, 0o755);
    const config = join(dirOf("soda-yeti"), ".git", "coord", "machine.yaml");
    await writeFile(config, (await readFile(config, "utf8")) + `onMessage: ${hook}\n`);
    await sendNow({ dir: dirOf("izzit7"), to: "soda-yeti", text: "hello hook" });
    const r = await sync({ dir: dirOf("soda-yeti") });
    expect(r.hookAcked).toEqual(["izzit7/soda-yeti/1"]);
    // The hook's acknowledgements ride along as receipts: nobody waits for them as for a person's (ackWaits).
    expect((await readMailbox(join(dirOf("soda-yeti"), ".git", "coord"))).ackWaits).toBeUndefined();
    expect(JSON.parse((await readFile(seen, "utf8")).trim())).toMatchObject({ id: "izzit7/soda-yeti/1", from: "izzit7", text: "hello hook" });
    expect((await hubStatus(fleet)).machines["soda-yeti"]?.messages).toEqual({ waiting: 0, unacked: 0 });

    await sendNow({ dir: dirOf("izzit7"), to: "soda-yeti", text: "refuse this" });
    const r2 = await sync({ dir: dirOf("soda-yeti") });
    expect(r2.hookAcked).toEqual([]);
    expect((await inbox({ dir: dirOf("soda-yeti"), unread: true })).messages.map((m) => m.text)).toEqual(["refuse this"]);
  });

  it("status shows counts per machine and urgent messages not acknowledged as alerts", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    await sendNow({ dir: dirOf("izzit7"), to: "soda-yeti", text: "the disk is full", priority: "urgent", clock: () => new Date(Date.now() - 3600_000) });
    const status = await hubStatus(fleet);
    expect(status.machines["soda-yeti"]?.messages).toEqual({ waiting: 1, unacked: 0 });
    expect(status.alerts).toEqual([expect.objectContaining({ id: "izzit7/soda-yeti/1", kind: "urgent", to: "soda-yeti", recipients: ["soda-yeti"], text: "the disk is full" })]);
    expect(await hubFile(fleet, "STATUS.md")).toContain("## 🔔 Alerts\n\n- 📨 **urgent message** `izzit7/soda-yeti/1` from izzit7 to soda-yeti, sent ");
    const text = await cli("status", "--dir", dirOf("izzit7"));
    expect(text.out).toMatch(/ALERTS\n {2}urgent message izzit7\/soda-yeti\/1 to soda-yeti, sent 1 h ago: the disk is full/);
  });
});

describe("bad input in messages", () => {
  it("a hand-broken message file of another machine is reported and skipped; the rest of the inbox works", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti", "machine-2"]);
    // A reader that verifies machines (the default) refuses the unsigned edit before parsing it (test/safe-default.e2e):
    // one that does not must still read the rest of its inbox.
    expect((await cli("trust", "machines", "off", "--dir", dirOf("soda-yeti"))).code).toBe(0);
    await sendNow({ dir: dirOf("izzit7"), to: "soda-yeti", text: "from izzit7" });
    await sendNow({ dir: dirOf("machine-2"), to: "soda-yeti", text: "from machine-2" });
    const path = "coordination/messages/izzit7_TO_soda-yeti.md";
    const broken = (await hubFile(fleet, path)).replace("next: 2", "next: lots");
    await personCommit(fleet, path, broken, "break it");
    const r = await sync({ dir: dirOf("soda-yeti") });
    expect(r.delivered).toEqual(["machine-2/soda-yeti/1"]);
    expect(r.fileProblems).toEqual([expect.objectContaining({ file: path })]);
    expect(await hubFile(fleet, path)).toBe(broken); // not rewritten by others
    // Its owner rewrites it from its own state at its next sync; nothing was lost.
    await sync({ dir: dirOf("izzit7") });
    expect((await sync({ dir: dirOf("soda-yeti") })).delivered).toEqual(["izzit7/soda-yeti/1"]);
  });

  it("send refuses unknown and invalid recipients, bad priorities and reply ids, with one sentence each", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const dir = dirOf("izzit7");
    const cases: [string[], RegExp][] = [
      [["nobody", "hi"], /no machine "nobody" is registered \(known: soda-yeti\)/],
      [["Bad_Name", "hi"], /no machine "Bad_Name" is registered/],
      [["izzit7", "hi"], /is this machine/],
      [["soda-yeti", "hi", "--priority", "asap"], /--priority must be one of low, normal, high, urgent/],
      [["soda-yeti", "hi", "--reply-to", "42"], /is not a message id/],
      [["soda-yeti", "hi", "--reply-to", "nobody/izzit7/1"], /--reply-to nobody\/izzit7\/1: this machine neither received nor sent that message/],
      [["soda-yeti", "hi", "--reply-to", "izzit7/soda-yeti/1"], /neither received nor sent/], // not sent yet
      [["soda-yeti", "   "], /the message is empty/],
    ];
    for (const [args, message] of cases) {
      const r = await cli("send", "--dir", dir, ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toMatch(message);
    }
    // Nothing was stored by the refused sends; a reply to one's own sent message is fine.
    expect((await send({ dir, to: "soda-yeti", text: "first" })).id).toBe("izzit7/soda-yeti/1");
    expect((await cli("send", "--dir", dir, "soda-yeti", "more", "--reply-to", "izzit7/soda-yeti/1")).code).toBe(0);
    const ackUnknown = await cli("inbox", "--dir", dir, "ack", "soda-yeti/izzit7/9");
    expect(ackUnknown.code).toBe(2);
    expect(ackUnknown.err).toMatch(/not in this machine's inbox: soda-yeti\/izzit7\/9/);
  });

  it("text with control characters, invalid UTF-8, --- lines, HTML and 10 KB is stored safely and arrives intact", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const nasty = "---\n## heading\n<script>alert(1)</script>\n```\nbell\u0007 esc\u001b[31m\n" + "é".repeat(5000);
    await sendNow({ dir: dirOf("izzit7"), to: "soda-yeti", text: nasty });
    const invalidUtf8 = Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x21]);
    const child = cliExec(["send", "--dir", dirOf("izzit7"), "soda-yeti", "-", "--now"], invalidUtf8);
    expect((await child).code).toBe(0);
    await sync({ dir: dirOf("soda-yeti") });
    const got = (await inbox({ dir: dirOf("soda-yeti") })).messages.map((m) => m.text);
    expect(got[0]).toBe(nasty.replace("\u0007", "\\u0007").replace("\u001b", "\\u001b"));
    expect(got[1]).toBe("hi\uFFFD\uFFFD!");
    const file = await hubFile(fleet, "coordination/messages/izzit7_TO_soda-yeti.md");
    expect(Buffer.byteLength(file)).toBeGreaterThan(10_000);
  });
});
