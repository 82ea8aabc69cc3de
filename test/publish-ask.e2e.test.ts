// A publish asked of a running daemon (core/machine/daemon-loop.ts "publish", issue 57 item 10): what was only stored
// here (an agent's answer, a message coord send stored) goes out on the tip the daemon last saw, without a second
// full sync: no fetch between the answer stored and its push. The daemons' own lines say what each sync did
// ("fetching …" is a sync's fetch; "published … (…)" names the files its push carried).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inbox } from "../src/actions/messages.js";
import { waitFor } from "./helpers.js";
import { type Msg, onCallTests } from "./on-call-fleet.js";
import { patient } from "./patience.js";

const t = onCallTests("coord-publish-ask-");

/** The daemon's lines from the first one `from` matches after `after` lines, to the first after it that `to` matches. */
function stretch(out: string, from: RegExp, to: RegExp): string[] {
  const lines = out.split("\n");
  const start = lines.findIndex((l) => from.test(l));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && to.test(l));
  return end < 0 ? [] : lines.slice(start, end + 1);
}

/** Whether the daemon of checkout `dir` is between syncs, as its daemon.json says. */
async function idle(dir: string): Promise<boolean> {
  const text = await readFile(join(dir, ".git", "coord", "daemon.json"), "utf8").catch(() => "{}");
  const info = JSON.parse(text) as { lastSync?: unknown; syncingSince?: unknown };
  return info.lastSync !== undefined && info.syncingSince === undefined;
}

describe("a publish asked of the daemon", () => {
  it("an agent's answer goes out on the tip the daemon last saw, with no fetch after it was stored; so does a message coord send stored", {
    timeout: patient(120_000),
  }, async () => {
    const oncall = await t.claudeOnCall(["asker", "oncall"]);
    const asker = t.startDaemon("asker");
    const synced = (d: { output(): string }) => /\bsync: /.test(d.output());
    await waitFor(async () => synced(oncall) && synced(asker), 30_000, "both daemons' first syncs", 100);
    // And the asker's daemon between syncs (a first publish that landed on a newer tip syncs again): the send below
    // then asks an idle daemon for a publish, not one whose running sync would carry the message itself.
    await waitFor(async () => idle(t.dirOf("asker")), 30_000, "the asker's daemon idle", 100);
    // The stand-in works 2 s (a step, then a sleep): the delivering sync has ended when the answer is stored.
    const q = await t.send("asker", "oncall", "sleep 2");
    const answer = await waitFor(
      async () => ((await inbox({ dir: t.dirOf("asker"), all: true })).messages as Msg[]).find((x) => x.replyTo === q && x.agent?.answer === true),
      45_000,
      `the answer to ${q} at the asker`,
      200,
    );
    expect(answer.text).toBe("heard: sleep 2");
    // From the turn's end (its answer stored) to the push that carried it: no fetch (no second full sync), and one push.
    const answered = stretch(oncall.output(), new RegExp(`on call: turn of thread ${q} ended\\b`), /\bpublished \S+ on coord \(.*messages\/oncall_TO_asker\.md/);
    expect(answered.length, oncall.output()).toBeGreaterThan(0);
    expect(
      answered.filter((l) => /\bfetching\b/.test(l)),
      answered.join("\n"),
    ).toEqual([]);
    expect(answered.join("\n"), oncall.output()).toMatch(/something to publish: publishing it (on the tip this machine last saw|when this sync ends)/);
    // The asker's coord send asked its daemon for a publish, not a sync: on the tip it last saw (no fetch before its
    // push), unless a move its looks saw was still to be synced (then that sync, which fetches it), or a sync its looks
    // started (the on-call machine's publish woke it) was running: then on the tip that sync ends on (CI saw it).
    // (A busy machine saw the last: its look saw the on-call machine's first publish before the send was asked.)
    // (A busier one saw its look start that sync before the daemon took the ask: the sync carried the message, and
    // the ask found nothing left to publish, said nothing: CI saw it. One fetch, that sync's.)
    const asked = /something to publish(: publishing it (on the tip this machine last saw|when this sync ends)|, and the hub moved: syncing now)/;
    const carried = /\bpublished \S+ on coord \(.*messages\/asker_TO_oncall\.md/;
    const lines = asker.output().split("\n");
    const pushed = lines.findIndex((l) => carried.test(l));
    expect(pushed, asker.output()).toBeGreaterThan(0);
    let woke = pushed;
    while (woke >= 0 && !/the hub moved with a wake for this machine: syncing now/.test(lines[woke]!)) woke--;
    const sent = asked.test(asker.output()) ? stretch(asker.output(), asked, carried) : lines.slice(woke, pushed + 1);
    expect(asked.test(asker.output()) || woke >= 0, asker.output()).toBe(true);
    expect(sent.length, asker.output()).toBeGreaterThan(0);
    // On the tip it last saw: no fetch before the push. When a sync was running, that sync (begun before the send, at
    // a look's word) carries it, and it fetches as every sync does (CI saw its fetch come after the send); so does the
    // sync a moved hub starts.
    if (/on the tip this machine last saw/.test(sent[0]!))
      expect(
        sent.filter((l) => /\bfetching\b/.test(l)),
        sent.join("\n"),
      ).toEqual([]);
    else expect(sent.filter((l) => /\bfetching\b/.test(l)).length, sent.join("\n")).toBeLessThanOrEqual(1);
  });

  it("a machine with an agent on call looks twice a second; one that sent a message looks so too, for a minute", async () => {
    const oncall = await t.claudeOnCall(["asker", "oncall"]);
    const asker = t.startDaemon("asker");
    const synced = (d: { output(): string }) => /\bsync: /.test(d.output());
    await waitFor(async () => synced(oncall) && synced(asker), 30_000, "both daemons' first syncs", 100);
    await waitFor(async () => idle(t.dirOf("asker")), 30_000, "the asker's daemon idle", 100);
    // A hub on a path: no read budget, a look a second at most (core/hub/reads.ts), twice for an eager machine.
    await waitFor(async () => (await lookEvery("oncall")) === 500, 10_000, "the on-call machine's looks eager", 100);
    expect(await lookEvery("asker")).toBe(1000);
    await t.send("asker", "oncall", "are you there?");
    await waitFor(async () => (await lookEvery("asker")) === 500, 30_000, "the asker's looks eager after its send", 100);
  });
});

/** How often the daemon of machine `name` looks now (ms), as its daemon.json last said. */
async function lookEvery(name: string): Promise<number | undefined> {
  const text = await readFile(join(t.dirOf(name), ".git", "coord", "daemon.json"), "utf8").catch(() => "{}");
  return (JSON.parse(text) as { looks?: { everyMs?: number } }).looks?.everyMs;
}
