// One contract, two hubs: every clause of Hub (src/git/hub.ts) checked on real
// git (a bare repository in a temp dir, a clone per machine, driven through
// Repo) and on the in-memory hub (src/git/memory-hub.ts); the history
// questions also on shallow clones (`--depth 1` over a file:// URL, as coord
// init clones a hub over a URL). What passes here on all is what a test on
// the fake may rely on.
import { mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { notReadReason, tooBigBlob } from "../src/core/limits.js";
import { machineAuthor, Repo } from "../src/git/git.js";
import { RemoteUnreachable } from "../src/errors.js";
import type { Hub } from "../src/git/hub.js";
import { MemoryRemote } from "../src/git/memory-hub.js";
import { git, tempDir } from "./helpers.js";

/** A hub with no branch yet, and a way to add machines to it. */
interface World {
  client(): Promise<Hub>;
  /** The remote goes away (true) or comes back (false). */
  outage(down: boolean): Promise<void>;
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
    cleanup: async () => {},
  };
}

const ann = machineAuthor("ann");
const bob = machineAuthor("bob");
const files = (entries: Record<string, string | null>) => new Map(Object.entries(entries));

/** A root commit with `entries`, pushed; its id. */
async function seed(hub: Hub, entries: Record<string, string>): Promise<string> {
  const commit = await hub.commitFiles(undefined, files(entries), ann, "seed");
  expect(await hub.push(commit)).toBe(true);
  return commit;
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
    await expect(hub.push(commit)).rejects.toThrow(/could not (reach|push to) the remote/);
    await w.outage(false);
    expect(await hub.reachable()).toBe(true);
    expect(await hub.push(commit)).toBe(true);
    expect(await hub.fetch()).toBe(commit);
  });

  it("a root commit pushed on the empty branch is the tip every machine fetches", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    const commit = await a.commitFiles(undefined, files({ "ORDERS.json": "{}\n" }), ann, "first");
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
    expect(await a.resolve(commit)).toBe(commit);
    expect(await b.resolve(commit)).toBeUndefined(); // not pushed, not fetched: b does not have it
    expect(await a.push(commit)).toBe(true);
    expect(await a.resolve(a.trackingRef)).toBe(commit);
    expect(await b.fetch()).toBe(commit);
    expect(await b.resolve(b.trackingRef)).toBe(commit);
    expect(await b.readFiles(commit, [])).toEqual(files({ "ORDERS.json": "{}\n" }));
  });

  it("reads back exact paths and contents: a tab, a newline, unicode, an empty file", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    const written = files({
      "ORDERS.json": '{"orders": []}',
      "coordination/tab\there.md": "a\tb\n",
      "coordination/new\nline.md": "x",
      "coordination/ünï cödé 名前 😀.md": "héllo wörld ✓ 😀\r\n",
      "coordination/deep/er/empty.md": "",
    });
    await seed(a, Object.fromEntries(written));
    const tip = (await b.fetch())!;
    expect(await b.readFiles(tip, ["ORDERS.json", "coordination"])).toEqual(written);
  });

  it("a change set edits only its paths: null deletes a file (a missing one is no error), the rest stays", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    const root = await seed(a, { "ORDERS.json": "o", "coordination/a.md": "a", "coordination/b.md": "b" });
    const next = await a.commitFiles(root, files({ "coordination/a.md": null, "coordination/gone.md": null, "coordination/c.md": "c" }), ann, "edit");
    expect(await a.push(next)).toBe(true);
    const tip = (await b.fetch())!;
    expect(tip).toBe(next);
    expect(await b.readFiles(tip, [])).toEqual(files({ "ORDERS.json": "o", "coordination/b.md": "b", "coordination/c.md": "c" }));
    expect(await b.readFiles(root, [])).toEqual(files({ "ORDERS.json": "o", "coordination/a.md": "a", "coordination/b.md": "b" })); // the old commit is as it was
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

  it("a push of an unrelated history (a root commit on an existing branch) is refused, never forced", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    const first = await seed(a, { "ORDERS.json": "o" });
    await b.fetch();
    const stranger = await b.commitFiles(undefined, files({ "ORDERS.json": "mine" }), bob, "rewrite");
    expect(await b.push(stranger)).toBe(false);
    expect(await b.fetch()).toBe(first);
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

  it("a path's history: the commits that added, changed or deleted it, newest first, at most max", async () => {
    const w = await start();
    const [a, b] = [await w.client(), await w.client()];
    const path = "coordination/we*rd\tname.md";
    const c1 = await seed(a, { [path]: "1", "ORDERS.json": "o" });
    const c2 = await a.commitFiles(c1, files({ "ORDERS.json": "o2" }), ann, "orders only");
    const c3 = await a.commitFiles(c2, files({ [path]: "3" }), bob, "change");
    const c4 = await a.commitFiles(c3, files({ [path]: null }), ann, "delete");
    expect(await a.push(c4)).toBe(true);
    await b.fetch();
    const history = await b.pathHistory(c4, path, 10);
    expect(history.map((h) => h.commit)).toEqual([c4, c3, c1]);
    expect(history.map((h) => h.author)).toEqual([ann.name, bob.name, ann.name]);
    for (let i = 1; i < history.length; i++) expect(history[i - 1]!.at.getTime()).toBeGreaterThanOrEqual(history[i]!.at.getTime());
    expect((await b.pathHistory(c4, path, 2)).map((h) => h.commit)).toEqual([c4, c3]);
    expect((await b.pathHistory(c2, path, 10)).map((h) => h.commit)).toEqual([c1]);
    expect(await b.pathHistory(c4, "coordination/never.md", 10)).toEqual([]);
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
    const changes = [v1];
    for (let i = 1; i <= 12; i++) {
      // Mostly other files: the path's changes lie deeper than the newest commit.
      tip = await a.commitFiles(tip, files(i % 5 === 0 ? { [path]: `v${i}` } : { "coordination/x.md": String(i) }), i % 2 ? bob : ann, `c${i}`);
      if (i % 5 === 0) changes.unshift(tip);
    }
    tip = await a.commitFiles(tip, files({ "coordination/x.md": "last" }), ann, "last");
    expect(await a.push(tip)).toBe(true);
    const late = await w.client();
    if (w.shallow) expect(await w.shallow(late)).toBe(w.shallowClones);
    expect(await late.fetch()).toBe(tip);
    // Not the newest commit (which a shallow clone's boundary would seem to add every file in), but the real changes.
    expect((await late.pathHistory(tip, path, 10)).map((h) => h.commit)).toEqual(changes);
    expect((await late.pathHistory(tip, path, 1)).map((h) => h.commit)).toEqual([changes[0]]);
    expect((await late.pathHistory(tip, "coordination/never.md", 10)).map((h) => h.commit)).toEqual([]);
    expect(await late.readFiles(v1, [path])).toEqual(files({ [path]: "v1" })); // a commit it lists is one the client has
    if (late.isAncestor) {
      expect(await late.isAncestor(v1, tip)).toBe(true);
      expect(await late.isAncestor(tip, v1)).toBe(false);
    }
  });
});
