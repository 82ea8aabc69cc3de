// coord inbox --wait, end to end on real git with no daemon: the waiting
// command looks at the hub itself and receives; a plain coord send (no --now)
// is on the hub at once, so the wait returns it without anyone syncing.
import { afterEach, describe, expect, it } from "vitest";
import { inbox } from "../src/actions/messages.js";
import { sync } from "../src/sync/sync.js";
import { cli, cliExec, type Fleet, git, makeFleet } from "./helpers.js";
import { connectMcp, ok } from "./mcp-client.js";

let fleet: Fleet | undefined;
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop().catch(() => {});
  await fleet?.cleanup();
  fleet = undefined;
});

const dirOf = (name: string) => fleet!.machines[name]!;
type Listed = { id: string; from: string; text: string; replyTo: string | null }[];

describe("coord inbox --wait (no daemon)", () => {
  it("B waits for a message from A; A's plain send is on the hub at once and B's wait returns it", async () => {
    fleet = await makeFleet(["a", "b"]);
    // A message already in B's inbox never ends a wait.
    const old = await cli("send", "--dir", dirOf("a"), "b", "old news");
    expect(old.code, old.err).toBe(0);
    expect(old.out).toMatch(/^sent a\/b\/1; published [0-9a-f]{12}$/);
    expect((await sync({ dir: dirOf("b") })).delivered).toEqual(["a/b/1"]); // in B's inbox before the wait begins
    const waiting = cliExec(["inbox", "--dir", dirOf("b"), "--wait", "20s", "--from", "a", "--json"]);
    const sent = await cli("send", "--dir", dirOf("a"), "b", "the build is green");
    expect(sent).toMatchObject({ code: 0, out: expect.stringMatching(/^sent a\/b\/2; published [0-9a-f]{12}$/) });
    // Published without a sync: the hub's machines' branch holds it.
    expect(await git(fleet.hubPath, "show", "coord:coordination/messages/a_TO_b.md")).toContain("the build is green");
    const r = await waiting;
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as Listed).map((x) => [x.id, x.from, x.text])).toEqual([["a/b/2", "a", "the build is green"]]);
  });

  it("a wait for a reply to one id ignores other messages, and returns the reply", async () => {
    fleet = await makeFleet(["a", "b"]);
    expect((await cli("send", "--dir", dirOf("a"), "b", "which port?")).out).toMatch(/^sent a\/b\/1; /);
    await sync({ dir: dirOf("b") }); // b has the question: it may answer it
    const waiting = cliExec(["inbox", "--dir", dirOf("a"), "--wait", "30s", "--reply-to", "a/b/1"]);
    expect((await cli("send", "--dir", dirOf("b"), "a", "unrelated: lunch?")).code).toBe(0);
    // Long enough for the waiter to look and receive the unrelated one first (if it does not, the test still holds).
    await new Promise((r) => setTimeout(r, 2500));
    expect((await cli("send", "--dir", dirOf("b"), "a", "port 8080", "--reply-to", "a/b/1")).code).toBe(0);
    const r = await waiting;
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\* b\/a\/2 {2}\S+ {2}normal {2}re a\/b\/1\n {4}port 8080\n$/);
    expect(r.out).not.toContain("lunch");
    await sync({ dir: dirOf("a") });
    expect((await inbox({ dir: dirOf("a") })).messages.map((x) => x.text)).toEqual(["unrelated: lunch?", "port 8080"]);
  });

  it("a wait for a reply returns at once a reply that arrived before it began and was not read (an agent on call answers in seconds); once read, it waits", async () => {
    fleet = await makeFleet(["a", "b"]);
    expect((await cli("send", "--dir", dirOf("a"), "b", "which port?")).out).toMatch(/^sent a\/b\/1; /);
    await sync({ dir: dirOf("b") });
    expect((await cli("send", "--dir", dirOf("b"), "a", "port 8080", "--reply-to", "a/b/1")).code).toBe(0);
    expect((await sync({ dir: dirOf("a") })).delivered).toEqual(["b/a/1"]); // the answer is in a's inbox before the wait
    const t = Date.now();
    const r = await cliExec(["inbox", "--dir", dirOf("a"), "--wait", "20s", "--reply-to", "a/b/1"]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^\* b\/a\/1 {2}\S+ {2}normal {2}re a\/b\/1\n {4}port 8080\n$/);
    expect(Date.now() - t).toBeLessThan(10_000); // at once, not at the end of the wait
    // Read (acknowledged): a new wait waits for a new reply.
    expect((await cli("inbox", "ack", "b/a/1", "--dir", dirOf("a"))).code).toBe(0);
    const again = await cliExec(["inbox", "--dir", dirOf("a"), "--wait", "1s", "--reply-to", "a/b/1"]);
    expect(again.code).toBe(5);
    // The MCP inbox tool with wait and reply_to: the same.
    expect((await cli("send", "--dir", dirOf("a"), "b", "and the host?")).out).toMatch(/^sent a\/b\/2; /);
    await sync({ dir: dirOf("b") });
    expect((await cli("send", "--dir", dirOf("b"), "a", "localhost", "--reply-to", "a/b/2")).code).toBe(0);
    await sync({ dir: dirOf("a") });
    const { client } = await connectMcp(dirOf("a"), (stop) => stops.push(stop));
    const t2 = Date.now();
    const w = await ok(client, "inbox", { wait: 20, reply_to: "a/b/2" });
    expect(w.data).toMatchObject({ arrived: true });
    expect(w.text).toContain("localhost");
    expect(Date.now() - t2).toBeLessThan(10_000);
  });

  it("at the deadline it says no new message arrived and exits 5", async () => {
    fleet = await makeFleet(["a", "b"]);
    const t = Date.now();
    const r = await cliExec(["inbox", "--dir", dirOf("b"), "--wait", "2s", "--from", "a"]);
    expect(r).toMatchObject({ code: 5, out: "", err: "no new message from a arrived within 2s\n" });
    expect(Date.now() - t).toBeGreaterThanOrEqual(2000);
    const json = await cliExec(["inbox", "--dir", dirOf("b"), "--wait", "1s", "--json"]);
    expect(json).toMatchObject({ code: 5, out: "[]\n" });
    for (const bad of [
      ["--wait", "soon"],
      ["--wait", "2d"],
      ["--reply-to", "a/b/1"],
      ["--wait", "1s", "--reply-to", "42"],
    ]) {
      const u = await cli("inbox", "--dir", dirOf("b"), ...bad);
      expect(u.code, bad.join(" ")).toBe(2);
      expect(u.err).not.toContain("    at ");
    }
  });
});
