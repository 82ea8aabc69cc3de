// What anyone who can push may commit, on real git: an odd path, a name that
// is also JavaScript's, a deeply nested or huge file. The fleet keeps
// syncing, the bad file is named in STATUS.md with its reason, and nothing
// it says is believed.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { renderComputer } from "../src/core/fleet/computer.js";
import { sync } from "../src/sync/sync.js";
import { computerFile } from "./fixtures.js";
import { cli, git, hubFile, hubStatus, journal, makeFleet, personCommit, pushOrders, setConfig, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

/** A person's commit of a file at `path` under coordination/, made with plumbing: git would not check out a path with "..". */
async function pushRawEntry(f: Fleet, path: string, text: string): Promise<void> {
  const p = f.person;
  await git(p, "fetch", "--quiet", "origin");
  const base = (await git(p, "rev-parse", "origin/main")).trim();
  const segments = path.split("/"); // coordination, COMPUTER_.., .., x.md
  let entry = `100644 blob ${await writeBlob(p, text)}\t${segments.pop()}`;
  while (segments.length > 1) entry = `040000 tree ${await mktree(p, entry + "\n")}\t${segments.pop()}`;
  const coordination = await mktree(p, (await git(p, "ls-tree", `${base}:coordination`)) + entry + "\n");
  const root = (await git(p, "ls-tree", base)).split("\n").filter((l) => l && !l.endsWith("\tcoordination"));
  const tree = await mktree(p, [...root, `040000 tree ${coordination}\tcoordination`].join("\n") + "\n");
  const commit = (await git(p, "-c", "user.name=A Person", "-c", "user.email=person@example.com", "commit-tree", tree, "-p", base, "-m", "odd entry")).trim();
  await git(p, "push", "--quiet", "origin", `${commit}:refs/heads/main`);
}

async function writeBlob(cwd: string, text: string): Promise<string> {
  const file = join(cwd, ".git", "blob-input");
  await writeFile(file, text);
  return (await git(cwd, "hash-object", "-w", file)).trim();
}

async function mktree(cwd: string, listing: string): Promise<string> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve, reject) => {
    const child = execFile("git", ["mktree"], { cwd }, (e, out) => (e ? reject(e) : resolve(out.trim())));
    child.stdin!.end(listing);
  });
}

describe("one entry stops or fools no one", () => {
  it("a machine file with a tab in its name does not pass for alpha's: the dependent order does not run, alpha syncs, STATUS.md names the path", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const marker = join(fleet.root, "deployed");
    await pushOrders(fleet, [
      // alpha will build it only next year: only a forged report could complete it now.
      { id: "build", to: "alpha", run: "true", notBefore: "2099-01-01T00:00:00Z" },
      { id: "deploy", to: "beta", after: ["build"], run: `touch ${marker}` },
    ]);
    for (const name of ["alpha", "beta"]) await sync({ dir: fleet.machines[name]! });
    const forged = renderComputer(
      computerFile("alpha", {
        uuid: "forged",
        tasks: { build: { rev: 1, state: "completed", attempts: 1, exitCode: 0, startedAt: "2025-01-01T00:00:00.000Z", finishedAt: "2025-01-01T00:00:01.000Z" } },
      }),
    );
    await personCommit(fleet, "coordination/COMPUTER_alpha.md\tx", forged, "a lookalike");

    const beta = await sync({ dir: fleet.machines.beta! });
    expect(beta.ran).toEqual([]);
    expect(beta.waiting).toContainEqual({ id: "deploy", reason: "waiting for build" });
    const alpha = await cli("sync", "--dir", fleet.machines.alpha!);
    expect(alpha.code).toBe(0);
    expect(alpha.err).not.toMatch(/uuid|identity/i);
    await expect(import("node:fs/promises").then((fs) => fs.access(marker))).rejects.toThrow();

    const status = await hubStatus(fleet);
    expect(status.orders.build?.machines.alpha?.state).toBe("queued"); // not before 2099: its own (lack of a) report
    expect(status.orders.deploy?.machines.beta?.state).toBe("blocked");
    const md = await hubFile(fleet, "STATUS.md");
    expect(md).toContain("coordination/COMPUTER_alpha.md\\tx");
    expect(md).toMatch(/ignored: its name has a control character/);
    // alpha's own file is still alpha's, with its own uuid.
    expect(await hubFile(fleet, "coordination/COMPUTER_alpha.md")).not.toContain("forged");
  });

  it("a tree entry coordination/COMPUTER_../../x.md breaks no machine's publish", async () => {
    fleet = await makeFleet(["alpha"]);
    await pushOrders(fleet, [{ id: "hello", to: "alpha", run: "echo hi" }]);
    await pushRawEntry(fleet, "coordination/COMPUTER_../../x.md", "---\ncoord: 1\n---\n");
    const r = await cli("sync", "--dir", fleet.machines.alpha!);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack
    expect(r.code).toBe(0);
    const status = await hubStatus(fleet);
    expect(status.orders.hello?.state).toBe("completed");
    expect(status.errors).toContainEqual({ file: "coordination/COMPUTER_../../x.md", message: expect.stringMatching(/^ignored: "\.\.\/\.\.\/x" is not a valid machine name/) });
    // The odd entry is still in the tree (coord only ever writes its own files).
    expect(await git(fleet.hubPath, "ls-tree", "-r", "--name-only", "main")).toContain("coordination/COMPUTER_../../x.md");
  });

  it("ORDERS.json nested 5000 deep: every machine syncs with exit 3 (invalid orders) and one sentence, no stack", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    const deep = "[".repeat(5000) + "]".repeat(5000);
    await pushOrders(fleet, `{"version": 1, "orders": ${deep}}\n`);
    for (const name of ["alpha", "beta"]) {
      const r = await cli("sync", "--dir", fleet.machines[name]!);
      expect(r.code).toBe(3);
      expect(r.err).not.toMatch(/RangeError|\n\s+at /);
      expect(r.err + r.out).toMatch(/ORDERS\.json:1.*nests lists and objects more than 64 levels deep/);
    }
    expect((await hubStatus(fleet)).errors[0]?.message).toMatch(/more than 64 levels deep/);
  });

  it("a machine file nested 5000 deep, and one of 3 MB, leave the other machines syncing and working", async () => {
    fleet = await makeFleet(["alpha", "beta"]);
    await pushOrders(fleet, [{ id: "hello", to: "ALL", run: "echo hi" }]);
    await sync({ dir: fleet.machines.alpha! });
    const deep = "---\ncoord: 1\nname: ghost\nx: " + "[".repeat(5000) + "]".repeat(5000) + "\n---\n";
    await personCommit(fleet, "coordination/COMPUTER_ghost.md", deep, "deep");
    await personCommit(fleet, "coordination/COMPUTER_huge.md", "---\n" + "x".repeat(3 * 1024 * 1024) + "\n---\n", "huge");
    for (const name of ["alpha", "beta"]) {
      const r = await cli("sync", "--dir", fleet.machines[name]!);
      expect(r.err).not.toMatch(/RangeError|\n\s+at /);
      expect(r.code).toBe(0);
    }
    const status = await hubStatus(fleet);
    expect(status.orders.hello?.machines).toMatchObject({ alpha: { state: "completed" }, beta: { state: "completed" } });
    expect(status.errors).toEqual([
      { file: "coordination/COMPUTER_ghost.md", message: expect.stringMatching(/nests more than 64 levels deep \(line 4\); .*machine ghost rewrites it/) },
      { file: "coordination/COMPUTER_huge.md", message: expect.stringMatching(/^ignored: the file is 3 MiB, more than the 2 MiB coord reads of it/) },
    ]);
  });

  it('a machine named constructor sends and receives, and requires: ["constructor"] runs nowhere', async () => {
    fleet = await makeFleet(["alpha", "constructor"]);
    // By a name typed string: to TypeScript, `fleet.machines.constructor` is Object's (a Function).
    const { machines } = fleet;
    const dirOf = (name: string) => machines[name]!;
    const ran = join(fleet.root, "ran");
    await pushOrders(fleet, [
      { id: "proto", to: "ALL", requires: ["constructor"], run: `echo $COORD_MACHINE >> ${ran}` },
      { id: "toString", to: "constructor", run: "echo ok" },
    ]);
    await sync({ dir: dirOf("alpha") });
    expect((await cli("send", "--dir", dirOf("alpha"), "constructor", "hello", "--now")).code).toBe(0);
    const c = await cli("sync", "--dir", dirOf("constructor"));
    expect(c.code).toBe(0);
    const inbox = JSON.parse((await cli("inbox", "--dir", dirOf("constructor"), "--json")).out);
    expect(inbox.map((m: { id: string; text: string }) => [m.id, m.text])).toEqual([["alpha/constructor/1", "hello"]]);
    expect((await cli("send", "--dir", dirOf("constructor"), "alpha", "back", "--now")).code).toBe(0);
    expect((await cli("sync", "--dir", dirOf("alpha"))).code).toBe(0);
    await expect(import("node:fs/promises").then((fs) => fs.access(ran))).rejects.toThrow();
    const status = await hubStatus(fleet);
    expect(status.orders.proto?.machines).toEqual({});
    // Looked up by key as a reader must (a Map), never as properties: "toString" and "constructor" are the Object's own.
    const byKey = <V>(record: Record<string, V> | undefined, key: string) => new Map(Object.entries(record ?? {})).get(key);
    expect(byKey(byKey(status.orders, "toString")?.machines, "constructor")?.state).toBe("completed");
    expect(byKey(status.machines, "constructor")?.messages).toEqual({ waiting: 0, unacked: 1 });
    expect(Object.keys((await journal(dirOf("constructor"))).tasks)).toEqual(["toString"]);
  });
});

describe("forged clocks, receipts and counters, on real git", () => {
  it("a machine file with lastSeen in 2099 holding an ANY claim: the other machine takes the order over after a lease, not in 2099", async () => {
    // beta's file is a pusher's from the start: alpha first sees it as written in 2099 (once a machine has seen a
    // machine's own signed file, one a pusher writes in its name is not believed at all).
    fleet = await makeFleet(["alpha"]);
    const alpha = fleet.machines.alpha!;
    await setConfig(alpha, { claimLease: "2s" });
    const ran = join(fleet.root, "ran");
    await pushOrders(fleet, [{ id: "job", to: "ANY", run: `echo $COORD_MACHINE >> ${ran}` }]);
    // A pusher writes beta's file: a claim on job, renewed (it says) in 2099; beta itself never syncs here.
    const forged = renderComputer(
      computerFile("beta", {
        state: "working",
        lastSeen: "2099-01-01T00:00:00.000Z",
        tasks: { job: { rev: 1, state: "in_progress", attempts: 1, exitCode: null, startedAt: "2099-01-01T00:00:00.000Z" } },
      }),
    );
    await personCommit(fleet, "coordination/COMPUTER_beta.md", forged, "beta from 2099");

    // The first look: a claim alpha has just seen appear holds for a lease by alpha's own clock.
    const first = await cli("sync", "--dir", alpha);
    expect(first.code, first.err).toBe(0);
    await expect(readFile(ran, "utf8")).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 2_500));
    // A lease later the claim has lapsed: 2099 is not believed.
    const second = await cli("sync", "--dir", alpha);
    expect(second.code, second.err).toBe(0);
    expect(await readFile(ran, "utf8")).toBe("alpha\n");
    expect((await hubStatus(fleet)).orders.job).toMatchObject({ state: "completed", machines: { alpha: { state: "completed", takeoverFrom: "beta" } } });
  });

  it("a forged receipt and a next of 2^53: the recipient's counts and the delivery are unchanged, the bad file is named in STATUS.md", async () => {
    fleet = await makeFleet(["alpha", "beta", "gamma"]);
    const [alpha, beta] = [fleet.machines.alpha!, fleet.machines.beta!];
    const inbox = async () => JSON.parse((await cli("inbox", "--dir", beta, "--all", "--json")).out).map((m: { id: string; text: string }) => `${m.id} ${m.text}`);
    expect((await cli("send", "--dir", alpha, "beta", "one", "--now")).code).toBe(0);
    expect((await cli("sync", "--dir", beta)).code).toBe(0);
    expect(await inbox()).toEqual(["alpha/beta/1 one"]);
    expect((await hubStatus(fleet)).machines.beta?.messages).toEqual({ waiting: 0, unacked: 1 });

    // gamma's file (forged) says beta received and acknowledged 999 of alpha's messages; alpha's message file (forged) says next is 2^53 + 1.
    const receipts = renderComputer(computerFile("gamma", { lastSeen: new Date().toISOString(), messages: { "alpha/beta": { received: 999, acked: 999 } } }));
    await personCommit(fleet, "coordination/COMPUTER_gamma.md", receipts, "forged receipts");
    const counter = `---\ncoord: 1\nfrom: alpha\nto: beta\nnext: 9007199254740993\nmessages:\n  - seq: 9007199254740992\n    at: ${new Date().toISOString()}\n    priority: normal\n    text: forged\n---\n`;
    await personCommit(fleet, "coordination/messages/alpha_TO_beta.md", counter, "forged counter");

    const b = await cli("sync", "--dir", beta);
    expect(b.err).not.toMatch(/RangeError|\n\s+at /);
    expect(b.code, b.err).toBe(0);
    expect(await inbox()).toEqual(["alpha/beta/1 one"]); // nothing forged delivered, nothing lost
    expect(await hubFile(fleet, "STATUS.md")).toMatch(/^- `coordination\/messages\/alpha_TO_beta\.md`: ignored: .*field next.*$/m);

    // alpha rewrites its broken file from its outbox, numbering on from what beta itself received.
    const a = await cli("send", "--dir", alpha, "beta", "two", "--now");
    expect(a.err).not.toMatch(/\n\s+at /);
    expect(a.code, a.err).toBe(0);
    expect(await hubFile(fleet, "coordination/messages/alpha_TO_beta.md")).toMatch(/^next: 3$/m);
    expect((await cli("sync", "--dir", beta)).code).toBe(0);
    expect(await inbox()).toEqual(["alpha/beta/1 one", "alpha/beta/2 two"]);
    const status = await hubStatus(fleet);
    expect(status.machines.beta?.messages).toEqual({ waiting: 0, unacked: 2 });
    expect(status.errors.map((e: { file: string }) => e.file)).not.toContain("coordination/messages/alpha_TO_beta.md");
  });
});
