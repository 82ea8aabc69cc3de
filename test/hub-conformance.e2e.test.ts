// One contract, two hubs: every clause of Hub (src/git/hub.ts) checked on real
// git (a bare repository in a temp dir, a clone per machine, driven through
// Repo) and on the in-memory hub (src/git/memory-hub.ts); the history
// questions also on shallow clones (`--depth 1` over a file:// URL, as coord
// init clones a hub over a URL). What passes here on all is what a test on
// the fake may rely on. A hub has two branches: the people's (main) and the
// machines' (coord); a tip names both (joinTip).
import { chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { notReadReason, tooBigBlob } from "../src/core/limits.js";
import { machineAuthor, Repo } from "../src/git/git.js";
import { RemoteUnreachable } from "../src/errors.js";
import { commitOf, type Hub, joinTip, splitTip } from "../src/git/hub.js";
import { historyTrailer } from "../src/core/hub/status-history.js";
import { roleOf } from "../src/core/trust/ownership.js";
import { MemoryRemote } from "../src/git/memory-hub.js";
import { newKeyPair, readSigningKey, type SigningKey } from "../src/core/trust/sshsig.js";
import { git, tempDir } from "./helpers.js";

/** A hub with no branch yet, and a way to add machines to it. */
interface World {
  client(): Promise<Hub>;
  /** The remote goes away (true) or comes back (false). */
  outage(down: boolean): Promise<void>;
  /** From now on the remote refuses wake refs (refs/coord-wake/*), as a host's rule or hook would. */
  refuseWakes(): Promise<void>;
  /** Whether clients are cloned shallow (git only). */
  shallowClones?: boolean;
  /** Whether the client's checkout is a shallow clone (git only). */
  shallow?(hub: Hub): Promise<boolean>;
  cleanup(): Promise<void>;
}

async function realGit(opts: { shallow?: boolean } = {}): Promise<World> {
  const root = await tempDir("coord-hub-");
  const hub = join(root, "hub.git");
  await git(root, "init", "--quiet", "--bare", "--initial-branch=main", hub);
  let n = 0;
  return {
    shallowClones: opts.shallow === true,
    async client() {
      const dir = join(root, `m${++n}`);
      // Shallow: the newest commit only (an empty hub has none yet, and is cloned as it is).
      await git(root, "clone", "--quiet", ...(opts.shallow ? ["--depth", "1", `file://${hub}`] : [hub]), dir);
      const stateDir = join(dir, ".git", "coord");
      await mkdir(stateDir);
      return new Repo(dir, stateDir);
    },
    outage: (down) => (down ? rename(hub, `${hub}.away`) : rename(`${hub}.away`, hub)),
    refuseWakes: async () => {
      const hook = join(hub, "hooks", "pre-receive");
      await writeFile(hook, '#!/bin/sh\nwhile read old new ref; do case "$ref" in refs/coord-wake/*) echo "wakes are not allowed here" >&2; exit 1;; esac; done\n');
      await chmod(hook, 0o755);
    },
    shallow: async (h) => (await git((h as Repo).dir, "rev-parse", "--is-shallow-repository")).trim() === "true",
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

async function inMemory(): Promise<World> {
  const remote = new MemoryRemote();
  return {
    client: async () => remote.client(),
    outage: async (down) => {
      remote.down = down;
    },
    refuseWakes: async () => {
      remote.refusesWakes = true;
    },
    cleanup: async () => {},
  };
}

const ann = machineAuthor("ann");
const bob = machineAuthor("bob");
const files = (entries: Record<string, string | null>) => new Map(Object.entries(entries));

/** Root commits with `entries`, each on its role's branch (the machines' only when it has any), pushed together; the tip. */
async function seed(hub: Hub, entries: Record<string, string>): Promise<string> {
  const of = (role: string) => files(Object.fromEntries(Object.entries(entries).filter(([path]) => roleOf(path) === role)));
  const people = await hub.commitFiles(undefined, of("people"), ann, "seed");
  const machines = of("machines").size ? await hub.commitFiles(undefined, of("machines"), ann, "seed machines") : undefined;
  const tip = joinTip(people, machines);
  expect(await hub.push(tip, ["people", "machines"])).toBe(true);
  return tip;
}

describe.each([
  ["real git", () => realGit()],
  ["memory", inMemory],
])("Hub on %s", (_, makeWorld) => {
  let world: World;
  afterEach(() => world?.cleanup());
  const start = async () => {
    world = await makeWorld();
    return world;
  };

  it("an empty remote: fetch finds no tip, the tracking ref resolves to nothing", async () => {
    const hub = await (await start()).client();
    expect(await hub.fetch()).toBeUndefined();
    expect(await hub.resolve(hub.trackingRef)).toBeUndefined();
  });

  it("an outage: reachable() says false and fetch and push throw RemoteUnreachable; back, it says true, an empty remote too", async () => {
    const w = await start();
    const hub = await w.client();
    expect(await hub.reachable()).toBe(true); // empty, but it answers
    const commit = await hub.commitFiles(undefined, files({ "ORDERS.json": "{}\n" }), ann, "first");
    await w.outage(true);
    expect(await hub.reachable()).toBe(false);
    await expect(hub.fetch()).rejects.toBeInstanceOf(RemoteUnreachable);
    await expect(hub.push(commit, ["people"])).rejects.toThrow(/could not (reach|push to) the remote/);
    await w.outage(false);
    expect(await hub.reachable()).toBe(true);
    expect(await hub.push(commit, ["people"])).toBe(true);
    expect(await hub.fetch()).toBe(joinTip(commit, undefined));
  });

  it("a root commit pushed on the empty people's branch is the tip every machine fetches, with no machines' branch yet", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    const commit = await a.commitFiles(undefined, files({ "ORDERS.json": "{}\n" }), ann, "first");
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(await a.resolve(commit)).toBe(commit);
    expect(await b.resolve(commit)).toBeUndefined(); // not pushed, not fetched: b does not have it
    expect(await a.push(commit, ["people"])).toBe(true);
    expect(await a.resolve(a.trackingRef)).toBe(joinTip(commit, undefined));
    expect(await b.fetch()).toBe(joinTip(commit, undefined));
    expect(await b.resolve(b.trackingRef)).toBe(joinTip(commit, undefined));
    expect(await b.remoteTip()).toBe(joinTip(commit, undefined));
    // A look at a hub with no machines' branch yet, and no wake refs: the tip, and no wake.
    expect(await b.look("bob")).toEqual({ tip: joinTip(commit, undefined) });
    expect(await b.look("bob", {})).toEqual({ tip: joinTip(commit, undefined) });
    expect(await b.readFiles(commit, [])).toEqual(files({ "ORDERS.json": "{}\n" }));
    expect(await b.readFiles(joinTip(commit, undefined), [])).toEqual(files({ "ORDERS.json": "{}\n" }));
  });

  it("the first machine's commit on a tip with no machines' branch is a root commit there; the people's branch does not move", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    const people = await a.commitFiles(undefined, files({ "ORDERS.json": "o" }), ann, "first");
    expect(await a.push(people, ["people"])).toBe(true);
    const tip = (await a.fetch())!;
    const next = await a.commitFiles(tip, files({ "coordination/COMPUTER_ann.md": "ann" }), ann, "ann");
    expect(commitOf(next, "people")).toBe(people);
    expect(await a.push(next)).toBe(true);
    expect(await b.fetch()).toBe(next);
    expect(await b.remoteTip()).toBe(next);
    expect(await b.readFiles(commitOf(next, "machines"), [])).toEqual(files({ "coordination/COMPUTER_ann.md": "ann" }));
    expect(await b.readFiles(next, [])).toEqual(files({ "ORDERS.json": "o", "coordination/COMPUTER_ann.md": "ann" }));
  });

  it("a person's push to the people's branch and a machine's to the machines' never refuse each other", async () => {
    const w = await start();
    const [person, machine] = [await w.client(), await w.client()];
    await seed(person, { "ORDERS.json": "o", "coordination/COMPUTER_ann.md": "a0" });
    const [pTip, mTip] = [(await person.fetch())!, (await machine.fetch())!];
    const order = await person.commitFiles(pTip, files({ "ORDERS.json": "o2" }), bob, "an order");
    const status = await machine.commitFiles(mTip, files({ "coordination/COMPUTER_ann.md": "a1" }), ann, "status");
    expect(await person.push(order, ["people"])).toBe(true);
    expect(await machine.push(status)).toBe(true); // built before the person's push, and still a fast-forward of its own branch
    const both = joinTip(commitOf(order, "people"), commitOf(status, "machines"));
    expect(await person.fetch()).toBe(both);
    expect(await person.readFiles(both, [])).toEqual(files({ "ORDERS.json": "o2", "coordination/COMPUTER_ann.md": "a1" }));
  });

  it("each file is read from its role's branch only: a machine's file on main, or ORDERS.json on coord, is not read", async () => {
    const w = await start();
    const a = await w.client();
    const people = await a.commitFiles(undefined, files({ "ORDERS.json": "o", "coordination/COMPUTER_ann.md": "forged on main" }), ann, "p");
    const machines = await a.commitFiles(undefined, files({ "ORDERS.json": "stale copy", "coordination/COMPUTER_ann.md": "ann", "STATUS.md": "s" }), ann, "m");
    expect(await a.push(joinTip(people, machines), ["people", "machines"])).toBe(true);
    const tip = (await a.fetch())!;
    expect(await a.readFiles(tip, [])).toEqual(files({ "ORDERS.json": "o", "coordination/COMPUTER_ann.md": "ann", "STATUS.md": "s" }));
    // No machines' branch (a hub of an older coord): the machines' files are read where it kept them.
    expect(await a.readFiles(joinTip(people, undefined), [])).toEqual(files({ "ORDERS.json": "o", "coordination/COMPUTER_ann.md": "forged on main" }));
    // Listed, the same paths, each from its role's branch, and under the prefixes asked only.
    expect((await a.listFiles(tip, [])).sort()).toEqual(["ORDERS.json", "STATUS.md", "coordination/COMPUTER_ann.md"]);
    expect(await a.listFiles(tip, ["coordination"])).toEqual(["coordination/COMPUTER_ann.md"]);
    expect((await a.listFiles(joinTip(people, undefined), [])).sort()).toEqual(["ORDERS.json", "coordination/COMPUTER_ann.md"]);
  });

  it("a push of both branches lands whole or not at all", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    const first = await seed(a, { "ORDERS.json": "o", "coordination/COMPUTER_ann.md": "a" });
    await b.fetch();
    const moved = await a.commitFiles(first, files({ "coordination/COMPUTER_ann.md": "a2" }), ann, "a2");
    expect(await a.push(moved)).toBe(true);
    // b's people's commit is a fast-forward, its machines' commit is not (a pushed first): neither lands.
    const p = await b.commitFiles(first, files({ "ORDERS.json": "o2" }), bob, "p");
    const both = await b.commitFiles(p, files({ "coordination/COMPUTER_bob.md": "b" }), bob, "m");
    expect(await b.push(both, ["people", "machines"])).toBe(false);
    expect(await b.fetch()).toBe(moved);
  });

  it("reads back exact paths and contents: a tab, a newline, unicode, an empty file", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    const entries = {
      "ORDERS.json": '{"orders": []}',
      "coordination/tab\there.md": "a\tb\n",
      "coordination/new\nline.md": "x",
      "coordination/ünï cödé 名前 😀.md": "héllo wörld ✓ 😀\r\n",
      "coordination/deep/er/empty.md": "",
    };
    const written = files(entries);
    await seed(a, entries);
    const tip = (await b.fetch())!;
    expect(await b.readFiles(tip, ["ORDERS.json", "coordination"])).toEqual(written);
    expect((await b.listFiles(tip, ["ORDERS.json", "coordination"])).sort()).toEqual([...written.keys()].sort());
  });

  it("a change set edits only its paths: null deletes a file (a missing one is no error), the rest stays", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    const [A, B, C, GONE] = ["ann", "bob", "cat", "gone"].map((m) => `coordination/COMPUTER_${m}.md`) as [string, string, string, string];
    const root = await seed(a, { "ORDERS.json": "o", [A]: "a", [B]: "b" });
    const next = await a.commitFiles(root, files({ [A]: null, [GONE]: null, [C]: "c" }), ann, "edit");
    expect(await a.push(next)).toBe(true);
    const tip = (await b.fetch())!;
    expect(tip).toBe(next);
    expect(await b.readFiles(tip, [])).toEqual(files({ "ORDERS.json": "o", [B]: "b", [C]: "c" }));
    expect(await b.readFiles(root, [])).toEqual(files({ "ORDERS.json": "o", [A]: "a", [B]: "b" })); // the old commit is as it was
  });

  it("two machines build on the same tip: one push lands, the other gets false and lands after fetch and rebuild", async () => {
    const w = await start();
    const [a, b, c] = [await w.client(), await w.client(), await w.client()];
    await seed(a, { "ORDERS.json": "o" });
    const tipA = (await a.fetch())!;
    const tipB = (await b.fetch())!;
    expect(tipB).toBe(tipA);
    const fromA = await a.commitFiles(tipA, files({ "coordination/COMPUTER_ann.md": "ann" }), ann, "ann");
    const fromB = await b.commitFiles(tipB, files({ "coordination/COMPUTER_bob.md": "bob" }), bob, "bob");
    expect(await a.push(fromA)).toBe(true);
    expect(await b.push(fromB)).toBe(false);
    expect(await c.fetch()).toBe(fromA); // the refused push changed nothing
    const tip = (await b.fetch())!;
    expect(tip).toBe(fromA);
    const again = await b.commitFiles(tip, files({ "coordination/COMPUTER_bob.md": "bob" }), bob, "bob");
    expect(await b.push(again)).toBe(true);
    expect(await b.resolve(b.trackingRef)).toBe(again);
    const final = (await c.fetch())!;
    expect(final).toBe(again);
    expect(await c.readFiles(final, [])).toEqual(files({ "ORDERS.json": "o", "coordination/COMPUTER_ann.md": "ann", "coordination/COMPUTER_bob.md": "bob" }));
  });

  it("fetch(seen) takes the tip a look saw and brought, even when the remote moved on since; one it does not hold is fetched as without it", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    await seed(a, { "ORDERS.json": "o" });
    const first = (await a.fetch())!;
    const mine = await a.commitFiles(first, files({ "coordination/COMPUTER_ann.md": "1" }), ann, "ann 1");
    expect(await a.push(mine)).toBe(true);
    const before = await b.resolve(b.trackingRef);
    const seen = (await b.look("bob")).tip!;
    expect(seen).toBe(mine);
    expect(await b.resolve(b.trackingRef)).toBe(before); // a look leaves the tracking tip as it was
    const later = await a.commitFiles(seen, files({ "coordination/COMPUTER_ann.md": "2" }), ann, "ann 2");
    expect(await a.push(later)).toBe(true); // the remote moves on after the look
    // The look brought its commits: taking its tip reads nothing of the remote (it answers even while it is away).
    await w.outage(true);
    expect(await b.fetch(seen)).toBe(seen);
    await w.outage(false);
    expect(await b.resolve(b.trackingRef)).toBe(seen);
    expect(await b.readFiles(seen, [])).toEqual(files({ "ORDERS.json": "o", "coordination/COMPUTER_ann.md": "1" }));
    // A push built on it loses its race, as on any old tip; the next fetch brings the newest.
    const fromB = await b.commitFiles(seen, files({ "coordination/COMPUTER_bob.md": "bob" }), bob, "bob");
    expect(await b.push(fromB)).toBe(false);
    expect(await b.fetch()).toBe(later);
    // A commit the remote never had (built here, never pushed): the branches are fetched instead.
    const unpushed = await a.commitFiles(later, files({ "coordination/COMPUTER_ann.md": "3" }), ann, "ann 3");
    const people = splitTip(later)!.people;
    expect(await b.fetch(joinTip(people, commitOf(unpushed, "machines")))).toBe(later);
  });

  it("a push with wakes moves each named machine's wake ref, which its look reports; a lost race moves none", async () => {
    const w = await start();
    const [a, b, c] = [await w.client(), await w.client(), await w.client()];
    await seed(a, { "ORDERS.json": "o" });
    const tip = (await a.fetch())!;
    await b.fetch();
    expect(await c.look("cy")).toEqual({ tip }); // never woken: no wake ref
    const fromA = await a.commitFiles(tip, files({ "coordination/COMPUTER_ann.md": "ann" }), ann, "ann");
    const fromB = await b.commitFiles(tip, files({ "coordination/COMPUTER_bob.md": "bob" }), bob, "bob");
    const refused: string[] = [];
    const wakes = (...machines: string[]) => ({ wakes: { machines, by: "ann" }, wakesRefused: (why: string) => refused.push(why) });
    expect(await a.push(fromA, ["machines"], wakes("bx", "cy"))).toBe(true);
    const first = await c.look("cy");
    expect(first.tip).toBe(fromA);
    expect(first.wake).toEqual(expect.any(String));
    expect((await c.look("bx")).wake).toBe(first.wake); // one push, one wake for all it names
    expect(await b.push(fromB, ["machines"], wakes("cy"))).toBe(false); // lost: nothing moved
    expect(await c.look("cy")).toEqual(first);
    const again = await b.commitFiles((await b.fetch())!, files({ "coordination/COMPUTER_bob.md": "bob" }), bob, "bob");
    expect(await b.push(again, ["machines"], wakes("cy"))).toBe(true);
    const second = await c.look("cy", first); // the wake the last look saw, asked for by name
    expect(second.tip).toBe(again);
    expect(second.wake).not.toBe(first.wake); // each wake moves the ref, whoever sent it
    expect((await c.look("bx")).wake).toBe(first.wake);
    expect(await c.look("bx", { wake: first.wake! })).toEqual({ tip: again, wake: first.wake });
    expect(refused).toEqual([]);
    expect(await c.fetch()).toBe(again); // a wake is no branch: the tip is the branches'
  });

  it("a remote that refuses wake refs takes the push without them, and says why", async () => {
    const w = await start();
    const [a, c] = [await w.client(), await w.client()];
    await seed(a, { "ORDERS.json": "o" });
    const tip = (await a.fetch())!;
    await w.refuseWakes();
    const refused: string[] = [];
    const fromA = await a.commitFiles(tip, files({ "coordination/COMPUTER_ann.md": "ann" }), ann, "ann");
    expect(await a.push(fromA, ["machines"], { wakes: { machines: ["cy"], by: "ann" }, wakesRefused: (why) => refused.push(why) })).toBe(true);
    expect(refused).toHaveLength(1);
    expect(await c.look("cy")).toEqual({ tip: fromA });
    expect(await c.fetch()).toBe(fromA);
  });

  it("a push of an unrelated history (a root commit on an existing branch) is refused, never forced", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    const first = await seed(a, { "ORDERS.json": "o", "coordination/COMPUTER_ann.md": "a" });
    await b.fetch();
    const stranger = await b.commitFiles(undefined, files({ "ORDERS.json": "mine" }), bob, "rewrite");
    expect(await b.push(stranger, ["people"])).toBe(false);
    const machines = await b.commitFiles(undefined, files({ "coordination/COMPUTER_bob.md": "mine" }), bob, "rewrite");
    expect(await b.push(machines, ["machines"])).toBe(false);
    expect(await b.fetch()).toBe(first);
  });

  it("a new root replaces the machines' branch only where it was read: of two at once one lands; the files and the people's branch stay", async () => {
    const w = await start();
    const [a, b, c] = [await w.client(), await w.client(), await w.client()];
    const first = await seed(a, { "ORDERS.json": "o", "coordination/COMPUTER_ann.md": "a1" });
    // The hub's first machines' commit carries no mark: counted.
    expect((await a.historyOf(first))?.depth).toBe(1);
    expect(await a.historyOf(joinTip(splitTip(first)!.people, undefined))).toBeUndefined();
    const since = new Date("2026-11-25T00:00:00.000Z");
    const second = await a.commitFiles(first, files({ "coordination/COMPUTER_ann.md": "a2" }), ann, `ann\n\n${historyTrailer({ depth: 2, since })}`);
    expect(await a.push(second)).toBe(true);
    expect(await a.historyOf(second)).toEqual({ depth: 2, since });
    const [tipA, tipB, tipC] = [(await a.fetch())!, (await b.fetch())!, (await c.fetch())!];
    expect(new Set([tipA, tipB, tipC]).size).toBe(1);
    const old = splitTip(tipA)!.machines!;
    const mark = (by: string) => `${by}: new root\n\n${historyTrailer({ depth: 1, since: new Date("2026-11-26T00:00:00.000Z") })}`;
    const rootA = await a.commitFiles(tipA, files({ "coordination/COMPUTER_ann.md": "a3" }), ann, mark("ann"), { newRoot: true });
    const rootB = await b.commitFiles(tipB, files({ "coordination/COMPUTER_bob.md": "b1" }), bob, mark("bob"), { newRoot: true });
    const onTop = await c.commitFiles(tipC, files({ "coordination/COMPUTER_bob.md": "b0" }), bob, "bob");
    expect(await a.push(rootA, ["machines"], { replacing: old, keepAs: "refs/coord-history/20261126T000000Z" })).toBe(true);
    expect(await b.push(rootB, ["machines"], { replacing: old })).toBe(false); // the branch moved: the swap lost
    expect(await c.push(onTop)).toBe(false); // a fast-forward of the old history: refused, never merged in
    const now = (await b.fetch())!;
    expect(now).toBe(rootA);
    expect(splitTip(now)!.people).toBe(splitTip(first)!.people);
    expect(await b.readFiles(now, [])).toEqual(files({ "ORDERS.json": "o", "coordination/COMPUTER_ann.md": "a3" }));
    expect(await b.historyOf(now)).toEqual({ depth: 1, since: new Date("2026-11-26T00:00:00.000Z") });
    // Built again on the new root, b's push lands as an ordinary fast-forward.
    const again = await b.commitFiles(now, files({ "coordination/COMPUTER_bob.md": "b1" }), bob, "bob");
    expect(await b.push(again)).toBe(true);
    expect((await b.pathHistory(again, "coordination/COMPUTER_ann.md", 10)).map((h) => h.commit)).toEqual([splitTip(rootA)!.machines]);
  });

  it("reads only the files at or under the prefixes asked for, whole path components, no globbing", async () => {
    const w = await start();
    const a = await w.client();
    const tip = await seed(a, {
      "ORDERS.json": "o",
      "STATUS.md": "s",
      "coordination/a.md": "a",
      "coordination/sub/b.md": "b",
      coordinationX: "x",
      "notes/n.md": "n",
      "a*b": "star",
    });
    expect(await a.readFiles(tip, ["coordination", "STATUS.md"])).toEqual(files({ "STATUS.md": "s", "coordination/a.md": "a", "coordination/sub/b.md": "b" }));
    expect([...(await a.readFiles(tip, ["coordination/"])).keys()].sort()).toEqual(["coordination/a.md", "coordination/sub/b.md"]);
    expect(await a.readFiles(tip, ["a*"])).toEqual(new Map());
    expect(await a.readFiles(tip, ["missing"])).toEqual(new Map());
    expect((await a.readFiles(tip, [])).size).toBe(7);
  });

  it("madeSince counts the commits of both branches of a tip made since a time, none made before it", async () => {
    const hub = await (await start()).client();
    const seeded = await seed(hub, { "ORDERS.json": "{}\n", "STATUS.md": "s\n" });
    const tip = await hub.commitFiles(seeded, files({ "STATUS.md": "t\n" }), bob, "status");
    expect(await hub.push(tip)).toBe(true);
    expect(await hub.madeSince(tip, 0)).toBe(3); // 2 of the machines', 1 of the people's
    expect(await hub.madeSince(joinTip(commitOf(tip, "people"), undefined), 0)).toBe(1); // a tip with no machines' branch yet
    expect(await hub.madeSince(tip, Date.now() + 3_600_000)).toBe(0);
  });

  it("a path's history: the commits that added, changed or deleted it, newest first, at most max", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    const path = "coordination/we*rd\tname.md";
    const c1 = await seed(a, { [path]: "1", "ORDERS.json": "o" });
    const c2 = await a.commitFiles(c1, files({ "ORDERS.json": "o2" }), ann, "orders only");
    const c3 = await a.commitFiles(c2, files({ [path]: "3" }), bob, "change");
    const c4 = await a.commitFiles(c3, files({ [path]: null }), ann, "delete");
    expect(await a.push(c4, ["people"])).toBe(true);
    await b.fetch();
    const history = await b.pathHistory(c4, path, 10);
    const people = (tip: string) => commitOf(tip, "people");
    expect(history.map((h) => h.commit)).toEqual([c4, c3, c1].map(people));
    expect(history.map((h) => h.author)).toEqual([ann.name, bob.name, ann.name]);
    for (let i = 1; i < history.length; i++) expect(history[i - 1]!.at.getTime()).toBeGreaterThanOrEqual(history[i]!.at.getTime());
    expect((await b.pathHistory(c4, path, 2)).map((h) => h.commit)).toEqual([c4, c3].map(people));
    expect((await b.pathHistory(c2, path, 10)).map((h) => h.commit)).toEqual([c1].map(people));
    expect(await b.pathHistory(c4, "coordination/never.md", 10)).toEqual([]);
  });

  it("lastChange: the newest commit that changed a path, its author, and git's verdict on its signature against a signers file", async () => {
    const w = await start();
    const [a, u, b] = [await w.client(), await w.client(), await w.client()];
    const keys = await tempDir("coord-signers-");
    const keyOf = async (name: string) => {
      const pair = newKeyPair(`coord ${name}`);
      await writeFile(join(keys, name), pair.privateKey, { mode: 0o600 });
      return { path: join(keys, name), ...readSigningKey(pair.privateKey)! };
    };
    const signs = (hub: Hub, key: SigningKey & { path: string }) => (hub as Hub & { useSigningKey(path: string, key?: SigningKey): void }).useSigningKey(key.path, key);
    const [annKey, bobKey] = [await keyOf("ann"), await keyOf("bob")];
    const signers = join(keys, "allowed");
    await writeFile(signers, `# pins\nann ${annKey.publicKey}\n`);
    const path = "coordination/COMPUTER_ann.md";
    const c1 = await seed(u, { [path]: "1", "ORDERS.json": "o" }); // u signs nothing
    await a.fetch();
    signs(a, annKey);
    const c2 = await a.commitFiles(c1, files({ [path]: "2" }), ann, "signed by ann");
    const c3 = await a.commitFiles(c2, files({ "coordination/COMPUTER_bob.md": "b" }), bob, "another path");
    signs(a, bobKey);
    const c4 = await a.commitFiles(c3, files({ "coordination/COMPUTER_bob.md": "b2" }), bob, "signed by a key not listed");
    expect(await a.push(c4, ["people", "machines"])).toBe(true);
    await u.fetch();
    const c5 = await u.commitFiles(c4, files({ "coordination/messages/ann_TO_bob.md": "m" }), ann, "unsigned");
    const c6 = await u.commitFiles(c5, files({ "coordination/messages/ann_TO_bob.md": null }), ann, "deleted, unsigned");
    expect(await u.push(c6, ["people", "machines"])).toBe(true);
    await b.fetch();
    const ask = (at: string, p: string) => b.lastChange!(at, p, { allowed: signers });
    const machines = (tip: string) => commitOf(tip, "machines");
    const annAuthor = `${ann.name} <${ann.email}>`;
    expect(await ask(c6, path)).toMatchObject({ commit: machines(c2), status: "G", signer: "ann", author: annAuthor });
    expect(await ask(c1, path)).toMatchObject({ commit: machines(c1), status: "N", signer: "" });
    expect(await ask(c6, "coordination/COMPUTER_bob.md")).toMatchObject({ commit: machines(c4), status: "U", signer: "", author: `${bob.name} <${bob.email}>` });
    expect(await ask(c6, "coordination/messages/ann_TO_bob.md")).toMatchObject({ commit: machines(c6), status: "N" }); // a deletion is a change
    expect(await ask(c6, "coordination/never.md")).toBeUndefined();
    // Whether one commit is in another's history; a restart (a new root) is not a rollback.
    expect(await b.isAncestor!(machines(c2), machines(c6))).toBe(true);
    expect(await b.isAncestor!(machines(c6), machines(c2))).toBe(false);
    expect(await b.restartedAfter!(machines(c6), machines(c2))).toBe(false);
  });

  it("a machine's file's history is its branch's: the people's commits are not in it", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    const path = "coordination/COMPUTER_ann.md";
    const c1 = await seed(a, { [path]: "1", "ORDERS.json": "o" });
    const c2 = await a.commitFiles(c1, files({ "ORDERS.json": "o2" }), bob, "orders only");
    const c3 = await a.commitFiles(c2, files({ [path]: "3" }), ann, "change");
    expect(await a.push(c3, ["people", "machines"])).toBe(true);
    await b.fetch();
    const machines = (tip: string) => commitOf(tip, "machines");
    expect((await b.pathHistory(c3, path, 10)).map((h) => h.commit)).toEqual([c3, c1].map(machines));
    expect((await b.pathHistory(c3, "ORDERS.json", 10)).map((h) => h.commit)).toEqual([c2, c1].map((t) => commitOf(t, "people")));
  });

  it("a file over its path's size limit comes back as the limit marker, not its content", async () => {
    const w = await start();
    const a = await w.client();
    const big = "x".repeat(1024 * 1024 + 1); // a file outside coordination/ may be 1 MiB
    const tip = await seed(a, { "notes/big.txt": big, "notes/fits.txt": "x".repeat(1024 * 1024) });
    const read = await a.readFiles(tip, ["notes"]);
    expect(read.get("notes/big.txt")).toBe(tooBigBlob("notes/big.txt", big.length));
    expect(notReadReason(read.get("notes/big.txt")!)).toMatch(/more than the 1 MiB/);
    expect(read.get("notes/fits.txt")!.length).toBe(1024 * 1024);
  });

  it("reading a commit this machine does not have fails; resolving it finds nothing", async () => {
    const w = await start();
    const a = await w.client();
    await seed(a, { "ORDERS.json": "o" });
    const unknown = "0123456789abcdef0123456789abcdef01234567";
    await expect(a.readFiles(unknown, [])).rejects.toThrow();
    expect(await a.resolve(unknown)).toBeUndefined();
  });
});

// History questions again on shallow clones (`--depth 1`, as coord init clones a hub over a URL): a clone of an empty
// hub is complete, so only a machine that joins a hub with history is shallow, and that is what this asks.
describe.each([
  ["real git", () => realGit()],
  ["real git, shallow clones", () => realGit({ shallow: true })],
  ["memory", inMemory],
])("Hub history on %s", (_, makeWorld) => {
  let world: World;
  afterEach(() => world?.cleanup());
  const start = async () => {
    world = await makeWorld();
    return world;
  };

  it("a machine that joins after the history was made (a shallow clone on git) answers for the whole history", async () => {
    const w = await start();
    const a = await w.client();
    const path = "ORDERS.json";
    let tip = await seed(a, { [path]: "v1", "coordination/x.md": "0" });
    const v1 = tip;
    const changes = [commitOf(v1, "people")];
    for (let i = 1; i <= 12; i++) {
      // Mostly other files: the path's changes lie deeper than the newest commit.
      tip = await a.commitFiles(tip, files(i % 5 === 0 ? { [path]: `v${i}` } : { "coordination/x.md": String(i) }), i % 2 ? bob : ann, `c${i}`);
      if (i % 5 === 0) changes.unshift(commitOf(tip, "people"));
    }
    tip = await a.commitFiles(tip, files({ "coordination/x.md": "last" }), ann, "last");
    expect(await a.push(tip, ["people"])).toBe(true);
    const late = await w.client();
    if (w.shallow) expect(await w.shallow(late)).toBe(w.shallowClones);
    expect(await late.fetch()).toBe(tip);
    // Not the newest commit (which a shallow clone's boundary would seem to add every file in), but the real changes.
    expect((await late.pathHistory(tip, path, 10)).map((h) => h.commit)).toEqual(changes);
    expect((await late.pathHistory(tip, path, 1)).map((h) => h.commit)).toEqual([changes[0]]);
    expect((await late.pathHistory(tip, "coordination/never.md", 10)).map((h) => h.commit)).toEqual([]);
    expect(await late.readFiles(v1, [path])).toEqual(files({ [path]: "v1" })); // a commit it lists is one the client has
    if (late.isAncestor) {
      const [old, tipCommit] = [commitOf(v1, "people"), commitOf(tip, "people")];
      expect(await late.isAncestor(old, tipCommit)).toBe(true);
      expect(await late.isAncestor(tipCommit, old)).toBe(false);
    }
  });
});
