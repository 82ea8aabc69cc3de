// Shallow checkouts on real git. Over a URL (here file://), coord init clones
// only the newest commit; everything that reads history (coord log, coord
// trust verify, the signed-orders check and its rollback rule) fetches older
// commits when its answer reaches the boundary, and so answers as a machine
// with a full clone (a hub on a local path: git's local clone, complete)
// does. A shallow clone's boundary commit, which git shows as adding every
// file, is never taken for a change.
import { spawn } from "node:child_process";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { hubCreate } from "../src/actions/hub.js";
import { init } from "../src/actions/init.js";
import { orderLog } from "../src/actions/log.js";
import { trustVerify } from "../src/actions/trust.js";
import { sync } from "../src/sync/sync.js";
import { cli, commitOrdersAs, git, sshKey, tempDir, hasSshKeygen, refusedReasons, readLines } from "./helpers.js";
import { patient } from "./patience.js";

const haveSshKeygen = await hasSshKeygen();

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

interface World {
  root: string;
  hub: string;
  /** The hub as a URL: a clone of it is shallow. */
  url: string;
  person: string;
}

async function world(): Promise<World> {
  root = await tempDir("coord-shallow-");
  const hub = join(root, "hub.git");
  await hubCreate(hub);
  const person = join(root, "person");
  await git(root, "clone", "--quiet", hub, person);
  return { root, hub, url: `file://${hub}`, person };
}

/** `n` commits of a file no reader of coord looks at (notes/tick.txt), on top of the hub's main, made at once with git fast-import. */
async function noise(w: World, n: number): Promise<void> {
  const parts: string[] = [];
  const at = Math.floor(Date.now() / 1000);
  for (let i = 0; i < n; i++) {
    const text = `tick ${i}\n`;
    parts.push(
      `commit refs/heads/main\ncommitter Noise <noise@example.com> ${at} +0000\ndata 4\ntick\n${i === 0 ? "from refs/heads/main^0\n" : ""}M 100644 inline notes/tick.txt\ndata ${text.length}\n${text}\n`,
    );
  }
  await new Promise<void>((resolve, reject) => {
    const p = spawn("git", ["fast-import", "--quiet"], { cwd: w.hub, stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import: ${err}`))));
    p.stdin.end(parts.join(""));
  });
}

const key = (w: World, name: string) => sshKey(w.root, name);
const commitOrders = (w: World, orders: object[], signingKey?: string, as?: string) => commitOrdersAs(w.person, orders, signingKey, as);

const isShallow = async (dir: string) => (await git(dir, "rev-parse", "--is-shallow-repository")).trim() === "true";
const has = (dir: string, commit: string) =>
  git(dir, "cat-file", "-e", `${commit}^{commit}`).then(
    () => true,
    () => false,
  );
/** Brings the checkout's tracking ref to the hub's tip, as a sync's fetch does. */
const fetchTip = (dir: string) => git(dir, "fetch", "--quiet", "origin", "+refs/heads/main:refs/remotes/origin/main");

/** What repair's re-clone does: a fresh shallow clone of the hub in place of `dir`, coord's local state carried over. */
async function recloneShallow(w: World, dir: string): Promise<void> {
  const fresh = `${dir}.fresh`;
  await git(w.root, "clone", "--quiet", "--depth", "1", "--no-tags", "--branch", "main", w.url, fresh);
  await rename(join(dir, ".git", "coord"), join(fresh, ".git", "coord"));
  await rm(dir, { recursive: true, force: true });
  await rename(fresh, dir);
}

describe("a checkout cloned shallow over a URL", () => {
  it("coord init of a hub with hundreds of commits clones only the newest; sync and coord log answer as a full clone does", { timeout: patient(120_000) }, async () => {
    const w = await world();
    await noise(w, 300);
    const added = await commitOrders(w, [{ id: "job", to: "ALL", run: "true" }], undefined, "pat@example.com");
    await noise(w, 100);

    const shallow = join(w.root, "shallow");
    const full = join(w.root, "full");
    const s = await init({ dir: shallow, name: "shallow", remote: w.url });
    const f = await init({ dir: full, name: "full", remote: w.hub });
    expect([s.cloned, f.cloned]).toEqual([true, true]);
    expect(await isShallow(shallow)).toBe(true);
    expect(Number((await git(shallow, "rev-list", "--count", "HEAD")).trim())).toBeLessThan(5); // the tip and the two registrations on it
    expect(await isShallow(full)).toBe(false); // a local path: git clones it whole (hard links)
    expect(await has(shallow, added)).toBe(false);

    // Syncs on both run the order once each, and publish as usual (a push from a shallow checkout).
    expect((await sync({ dir: shallow })).ran.map((t) => t.id)).toEqual(["job"]);
    expect((await sync({ dir: full })).ran.map((t) => t.id)).toEqual(["job"]);
    expect((await sync({ dir: shallow })).ran).toEqual([]);
    expect(await isShallow(shallow)).toBe(true); // nothing on the sync's path needed history

    // coord log: the order was added 100 commits below the boundary, by the person; not at the boundary commit.
    await Promise.all([fetchTip(shallow), fetchTip(full)]);
    const [logS, logF] = [await orderLog({ dir: shallow, id: "job" }), await orderLog({ dir: full, id: "job" })];
    expect(logS).toEqual(logF);
    expect(logF[0]).toMatchObject({ commit: added, who: "pat@example.com", what: expect.stringMatching(/^added in ORDERS\.json/) });
    expect(new Set(logF.map((e) => e.who))).toEqual(new Set(["full", "pat@example.com", "shallow"]));
    expect((await cli("log", "job", "--dir", shallow)).out).toBe((await cli("log", "job", "--dir", full)).out);
  });

  it("older history out of reach (the hub gone): a question that needs it fails with one sentence, never answers from the cut history", async () => {
    const w = await world();
    await commitOrders(w, [{ id: "job", to: "ALL", run: "true" }], undefined, "pat@example.com");
    await noise(w, 50);
    const dir = join(w.root, "m");
    await init({ dir, name: "m", remote: w.url });
    await rename(w.hub, `${w.hub}.away`);
    await expect(orderLog({ dir, id: "job" })).rejects.toThrow(/^could not fetch the older history needed for the history of ORDERS\.json.*: .+/);
    const r = await cli("log", "job", "--dir", dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^coord: could not fetch the older history needed for .*coord init cloned only the newest commit/);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack
    await rename(`${w.hub}.away`, w.hub);
    expect((await orderLog({ dir, id: "job" }))[0]).toMatchObject({ who: "pat@example.com", what: expect.stringMatching(/^added in/) });
  });

  it("coord init over a URL of an empty hub scaffolds it; a hub whose branch is not the configured one is cloned as it is", async () => {
    root = await tempDir("coord-shallow-");
    const empty = join(root, "empty.git");
    await git(root, "init", "--quiet", "--bare", "--initial-branch=main", empty);
    const r = await init({ dir: join(root, "a"), name: "a", remote: `file://${empty}` });
    expect(r.scaffolded).toBe(true);
    expect((await sync({ dir: join(root, "a") })).ran).toEqual([]);

    // A hub on "trunk" only, for a machine on "main": cloned as it is, then main is scaffolded beside it.
    const other = join(root, "other.git");
    await git(root, "init", "--quiet", "--bare", "--initial-branch=trunk", other);
    await git(empty, "push", "--quiet", other, "main:trunk");
    const o = await init({ dir: join(root, "b"), name: "b", remote: `file://${other}` });
    expect(o.scaffolded).toBe(true);
    expect((await git(other, "branch", "--format=%(refname:short)")).split("\n").filter(Boolean).sort()).toEqual(["coord", "main", "trunk"]);
  });
});

describe.skipIf(!haveSshKeygen)(haveSshKeygen ? "signed orders on a shallow checkout" : "signed orders on a shallow checkout (skipped: ssh-keygen is not installed)", () => {
  it("the newest signed change lies below the boundary: found, run, and coord trust verify lists what a full clone lists", { timeout: patient(120_000) }, async () => {
    const w = await world();
    const alice = await key(w, "alice");
    const mallory = await key(w, "mallory");
    const ran = join(w.root, "ran.log");
    await noise(w, 300);
    const v1 = await commitOrders(w, [{ id: "v1", to: "ALL", run: `echo "$COORD_MACHINE v1" >> ${ran}` }], alice);
    await noise(w, 100);

    const dirs = { shallow: join(w.root, "shallow"), full: join(w.root, "full"), audit: join(w.root, "audit") };
    await init({ dir: dirs.shallow, name: "shallow", remote: w.url });
    await init({ dir: dirs.full, name: "full", remote: w.hub });
    await init({ dir: dirs.audit, name: "audit", remote: w.url });
    for (const dir of Object.values(dirs)) {
      expect((await cli("trust", "allow", "alice@example.com", `${alice}.pub`, "--dir", dir)).code).toBe(0);
      expect((await cli("trust", "require", "on", "--dir", dir)).code).toBe(0);
    }
    expect(await isShallow(dirs.shallow)).toBe(true);
    // The boundary (the tip) seems to add ORDERS.json, unsigned: taken for the change, v1 would be refused.
    expect((await sync({ dir: dirs.shallow })).ran.map((t) => t.id)).toEqual(["v1"]);
    expect((await sync({ dir: dirs.full })).ran.map((t) => t.id)).toEqual(["v1"]);
    expect((await cli("trust", "status", "--dir", dirs.shallow)).out).toContain(`acting on ORDERS.json of commit ${v1.slice(0, 12)}`);
    expect(await isShallow(dirs.shallow)).toBe(true); // deepened by a step, not the whole history

    // An unsigned change: refused alike.
    await commitOrders(w, [{ id: "evil", to: "ALL", run: `echo "$COORD_MACHINE evil" >> ${ran}` }], undefined, "mallory@example.com");
    await noise(w, 5);
    expect((await sync({ dir: dirs.shallow })).ran).toEqual([]);
    expect((await sync({ dir: dirs.full })).ran).toEqual([]);
    // Signed by a key that is not allowed: refused alike.
    await commitOrders(w, [{ id: "evil2", to: "ALL", run: `echo "$COORD_MACHINE evil2" >> ${ran}` }], mallory, "mallory@example.com");
    expect((await sync({ dir: dirs.shallow })).ran).toEqual([]);
    expect((await sync({ dir: dirs.full })).ran).toEqual([]);
    for (const name of ["shallow", "full"])
      expect(refusedReasons(await git(w.hub, "show", `coord:coordination/COMPUTER_${name}.md`), name)).toContainEqual(
        expect.stringMatching(/^signed by a key that is not an allowed signer/),
      );
    expect((await readLines(ran)).sort()).toEqual(["full v1", "shallow v1"]);

    // coord trust verify on a fresh shallow checkout (never deepened): every change of ORDERS.json, as on the full clone.
    await Promise.all(Object.values(dirs).map(fetchTip));
    expect(await isShallow(dirs.audit)).toBe(true);
    // (The machines' own files are checked too, each by its key, as far as each checkout fetched the machines' branch.)
    const orders = <C extends { path: string }>(commits: C[]) => commits.filter((c) => c.path === "ORDERS.json");
    const [audit, fullAudit] = [orders((await trustVerify(dirs.audit)).commits), orders((await trustVerify(dirs.full)).commits)];
    expect(audit).toEqual(fullAudit);
    expect(audit.map((c) => [c.commit === v1, c.good])).toEqual([
      [false, false],
      [false, false],
      [true, true],
      [false, false], // the hub's scaffold, unsigned
    ]);
  });

  it("the version verified last lies below the boundary (a shallow re-clone): a newer signed change is accepted, a rollback refused, as on a full clone", {
    timeout: patient(120_000),
  }, async () => {
    const w = await world();
    const alice = await key(w, "alice");
    const ran = join(w.root, "ran.log");
    const order = (id: string) => ({ id, to: "ALL", run: `echo "$COORD_MACHINE ${id}" >> ${ran}` });
    const dirs = { shallow: join(w.root, "shallow"), full: join(w.root, "full") };
    await init({ dir: dirs.shallow, name: "shallow", remote: w.url });
    await init({ dir: dirs.full, name: "full", remote: w.hub });
    for (const dir of Object.values(dirs)) {
      await cli("trust", "allow", "alice@example.com", `${alice}.pub`, "--dir", dir);
      await cli("trust", "require", "on", "--dir", dir);
    }
    const syncBoth = async () => [(await sync({ dir: dirs.shallow })).ran.map((t) => t.id), (await sync({ dir: dirs.full })).ran.map((t) => t.id)];

    // v1, then v2 on top of it (v1 is what the hub is forced back to at the end), both signed: each machine verifies v2.
    const v1 = await commitOrders(w, [order("o1")], alice);
    const v2 = await commitOrders(w, [order("o1"), order("o2")], alice);
    expect(await syncBoth()).toEqual([
      ["o1", "o2"],
      ["o1", "o2"],
    ]);
    await noise(w, 300);

    // The shallow machine's checkout is cloned again (as repair re-clones a corrupt one): v2, its verified version, is below the boundary.
    await recloneShallow(w, dirs.shallow);
    expect(await isShallow(dirs.shallow)).toBe(true);
    expect(await has(dirs.shallow, v2)).toBe(false);

    // A newer signed version: v2 is in its history (found by deepening), so it is accepted, not taken for a rollback.
    const v3 = await commitOrders(w, [order("o1"), order("o2"), order("o3")], alice);
    expect(await syncBoth()).toEqual([["o3"], ["o3"]]);
    expect((await cli("trust", "status", "--dir", dirs.shallow)).out).toContain(`acting on ORDERS.json of commit ${v3.slice(0, 12)}`);

    // Cloned again below v3; then the hub is forced back to v1 (signed, but older than the version verified last).
    await noise(w, 300);
    await recloneShallow(w, dirs.shallow);
    expect(await has(dirs.shallow, v3)).toBe(false);
    await git(w.person, "push", "--quiet", "--force", "origin", `${v1}:main`);
    expect(await syncBoth()).toEqual([[], []]);
    for (const name of ["shallow", "full"])
      expect(refusedReasons(await git(w.hub, "show", `coord:coordination/COMPUTER_${name}.md`), name)).toContainEqual(
        expect.stringMatching(/^signed, but the version verified last \(commit [0-9a-f]{12}\) is not in its history: a rollback/),
      );
    for (const dir of Object.values(dirs)) expect((await cli("trust", "status", "--dir", dir)).out).toContain(`acting on ORDERS.json of commit ${v3.slice(0, 12)}`);
    expect((await readLines(ran)).sort()).toEqual(["full o1", "full o2", "full o3", "shallow o1", "shallow o2", "shallow o3"]);
  });
});
