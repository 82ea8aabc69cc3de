// The sync loop end to end, on real git: a bare hub, several checkouts as
// several machines, a person pushing ORDERS.json with plain git.
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Repo } from "../src/git/git.js";
import { sync } from "../src/sync/sync.js";
import { readModel } from "../src/core/repo/repo.js";
import { deriveStatus, renderStatusJson } from "../src/core/status/status.js";
import { renderStatusMd } from "../src/core/status/status-md.js";
import { roleOf } from "../src/core/trust/ownership.js";
import { cli, git, setConfig, hubCommits, hubFile, hubHead, hubStatus, journal, makeFleet, peopleHead, pushOrders, personCommit, waitFor, type Fleet } from "./helpers.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const order = (id: string, to: unknown, run: string, extra: object = {}) => ({ id, to, run, ...extra });

/**
 * A person's successive saves of ORDERS.json, one commit each on main, pushed at once with plain git and fetched by
 * every machine's checkout (not merged); their commits, oldest first.
 */
async function ordersCommits(fleet: Fleet, texts: string[]): Promise<string[]> {
  const p = fleet.person;
  await git(p, "fetch", "--quiet", "origin");
  await git(p, "reset", "--quiet", "--hard", "origin/main");
  for (const [k, text] of texts.entries()) {
    await writeFile(join(p, "ORDERS.json"), text);
    await git(p, "-c", "user.name=A Person", "-c", "user.email=person@example.com", "commit", "--quiet", "-am", `save ${k}`);
  }
  await git(p, "push", "--quiet", "origin", "HEAD:main");
  const commits = (await git(p, "rev-list", "--first-parent", `-${texts.length}`, "HEAD")).trim().split("\n").reverse();
  for (const dir of Object.values(fleet.machines)) await git(dir, "fetch", "--quiet", "origin");
  return commits;
}

describe("a fleet on a local hub", () => {
  it("runs each machine's tasks and publishes results, authored by coord <machine>, with no git identity", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti", "machine-2"]);
    await pushOrders(fleet, [
      order("hello", "ALL", 'echo "hi from $COORD_MACHINE"'),
      order("two", ["izzit7", "soda-yeti"], "echo two"),
      order("fails", "machine-2", "echo broken >&2; exit 7"),
    ]);
    for (const name of Object.keys(fleet.machines)) await sync({ dir: fleet.machines[name]! });

    const status = await hubStatus(fleet);
    expect(Object.keys(status.machines)).toEqual(["izzit7", "machine-2", "soda-yeti"]);
    expect(status.orders.hello?.state).toBe("completed");
    expect(Object.keys(status.orders.hello!.machines)).toEqual(["izzit7", "machine-2", "soda-yeti"]);
    expect(status.orders.two?.machines).toHaveProperty("soda-yeti.exitCode", 0);
    expect(status.orders.fails).toMatchObject({ state: "failed", machines: { "machine-2": { state: "failed", exitCode: 7, attempts: 1, reason: "exit code 7" } } });
    expect(await hubFile(fleet, "coordination/COMPUTER_soda-yeti.md")).toContain("hi from soda-yeti");
    expect(await hubFile(fleet, "coordination/COMPUTER_machine-2.md")).toContain("broken");

    const authors = new Set((await hubCommits(fleet)).map((c) => c.author));
    expect(authors).toEqual(new Set(["coord hub", "coord izzit7", "coord soda-yeti", "coord machine-2", "A Person"]));
    // The checkout a person looks at follows the hub at each sync of its machine: its work tree main
    // (people's files), its origin/coord the machines' files (STATUS.md is not in the work tree).
    // Nothing runs twice: each task once per (order, rev, machine) (the rule's variants: test/sync-memory.test.ts).
    expect((await sync({ dir: fleet.machines.izzit7! })).ran).toEqual([]);
    expect((await git(fleet.machines.izzit7!, "rev-parse", "HEAD")).trim()).toBe(await peopleHead(fleet));
    expect(await readFile(join(fleet.machines.izzit7!, "ORDERS.json"), "utf8")).toBe(await hubFile(fleet, "ORDERS.json"));
    expect(await git(fleet.machines.izzit7!, "show", "refs/remotes/origin/coord:STATUS.md")).toBe(await hubFile(fleet, "STATUS.md"));
    // Machines commit on coord only: every commit on main is the hub's or the person's.
    const onMain = (await git(fleet.hubPath, "log", "--format=%an", "main")).split("\n").filter(Boolean);
    expect(new Set(onMain)).toEqual(new Set(["coord hub", "A Person"]));
    // STATUS.json and STATUS.md are exactly what any machine derives from the tip's files: the people's from main,
    // the machines' from coord (on the in-memory hub too: test/sync-memory.test.ts).
    const files = new Map<string, string>();
    for (const [branch, role] of [
      ["main", "people"],
      ["coord", "machines"],
    ] as const) {
      for (const path of (await git(fleet.hubPath, "ls-tree", "-r", "--name-only", branch)).split("\n").filter(Boolean)) {
        if (roleOf(path) === role) files.set(path, await hubFile(fleet, path));
      }
    }
    expect(files.has("STATUS.json") && files.has("coordination/COMPUTER_izzit7.md") && files.has("ORDERS.json")).toBe(true);
    const derived = deriveStatus(readModel(files));
    expect(files.get("STATUS.json")).toBe(renderStatusJson(derived));
    expect(files.get("STATUS.md")).toBe(renderStatusMd(derived));
  });

  it("kills a task's whole process group on timeout and runs it in its cwd with its env", async () => {
    fleet = await makeFleet(["izzit7"]);
    const marker = join(fleet.root, "grandchild-survived");
    await pushOrders(fleet, [
      order("slow", "izzit7", `(sleep 3; touch ${marker}) & sleep 30`, { timeout: "1s" }),
      order("where", "izzit7", 'pwd; echo "$GREETING"', { cwd: fleet.root, env: { GREETING: "hello env" } }),
    ]);
    const r = await sync({ dir: fleet.machines.izzit7! });
    expect(r.ran.find((t) => t.id === "slow")).toMatchObject({ state: "failed", reason: expect.stringContaining("timed out after 1s") });
    const computer = await hubFile(fleet, "coordination/COMPUTER_izzit7.md");
    expect(computer).toContain(fleet.root);
    expect(computer).toContain("hello env");
    await new Promise((res) => setTimeout(res, 3500));
    await expect(readFile(marker)).rejects.toThrow(); // the background grandchild died with the group
  });

  it("a task that starts a service in its own session ends when its command exits; the service does not hold the sync", { timeout: patient(120_000) }, async () => {
    fleet = await makeFleet(["izzit7"]);
    const pidFile = join(fleet.root, "svc.pid");
    await pushOrders(fleet, [order("svc", "izzit7", `setsid sh -c 'echo $$ > ${pidFile}; exec sleep 120' & echo started`, { timeout: "60s" })]);
    const t0 = Date.now();
    const r = await sync({ dir: fleet.machines.izzit7! });
    expect(r.ran[0]).toMatchObject({ id: "svc", state: "completed", exitCode: 0 });
    expect(Date.now() - t0).toBeLessThan(50_000); // not the service's 120 s, not the 60 s timeout
    const pid = await waitFor(
      async () => {
        const n = Number((await readFile(pidFile, "utf8")).trim());
        return n > 1 && n;
      },
      10_000,
      "the service's pid",
    );
    try {
      expect(() => process.kill(pid, 0)).not.toThrow(); // the service runs on
    } finally {
      process.kill(pid, "SIGKILL");
    }
  });

  it("after a force-push of the hub the checkout follows it again; commits of its own would be kept", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    await pushOrders(fleet, [order("a", "izzit7", "echo a")]);
    await sync({ dir });
    // A person rewrites the last commit and force-pushes it.
    const p = fleet.person;
    await git(p, "fetch", "--quiet", "origin");
    await git(p, "reset", "--quiet", "--hard", "origin/main");
    await git(p, "-c", "user.name=P", "-c", "user.email=p@example.com", "commit", "--quiet", "--amend", "-m", "rewritten");
    await git(p, "push", "--quiet", "--force", "origin", "HEAD:main");
    await pushOrders(fleet, [order("a", "izzit7", "echo a"), order("b", "izzit7", "echo b")]);
    const first = await sync({ dir });
    expect(first.warnings.join()).toMatch(/history was rewritten \(a force-push\); the checkout follows it/);
    expect((await sync({ dir })).warnings).toEqual([]);
    expect((await git(dir, "rev-parse", "HEAD")).trim()).toBe(await peopleHead(fleet));
    expect(await readFile(join(dir, "ORDERS.json"), "utf8")).toBe(await hubFile(fleet, "ORDERS.json"));
    // A commit made only in this checkout is never thrown away.
    await writeFile(join(dir, "notes.txt"), "mine\n");
    await git(dir, "add", "notes.txt");
    await git(dir, "-c", "user.name=P", "-c", "user.email=p@example.com", "commit", "--quiet", "-m", "local notes");
    await pushOrders(fleet, [order("a", "izzit7", "echo a")]);
    expect((await sync({ dir })).warnings.join()).toMatch(/its branch has commits origin\/main does not \(git log origin\/main\.\.HEAD shows them\); they are kept/);
    expect((await git(dir, "log", "-1", "--format=%s")).trim()).toBe("local notes");
  });

  it("a save made while the checkout fast-forwards over the same edit (pushed by coord watch) is kept", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const repo = new Repo(dir, join(fleet.root, "scratch"));
    const file = join(dir, "ORDERS.json");
    const saves = Array.from({ length: 20 }, (_, k) => JSON.stringify({ version: 1, orders: [order(`a${k}`, "izzit7", "echo a")] }, null, 2) + "\n");
    const commits = await ordersCommits(fleet, saves);
    // Rounds at varied timings: the save lands before, during or after the fast-forward looks at the file. Each starts
    // where the last ended: at its commit, with a local edit that the save below overwrites.
    for (let k = 0; k < saves.length; k++) {
      const pushed = saves[k]!;
      await writeFile(file, pushed); // the person's save that was pushed
      const later = pushed.replace(`a${k}`, `b${k}`); // and the next save
      await Promise.all([repo.fastForward(commits[k]!), new Promise((r) => setTimeout(r, k * 2)).then(() => writeFile(file, later))]);
      expect(await readFile(file, "utf8"), `round ${k}`).toBe(later);
    }
  });

  it("two fast-forwards of one checkout at once (coord watch and its daemon's sync) both succeed", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const [a, b] = [new Repo(dir, join(fleet.root, "scratch")), new Repo(dir, join(fleet.root, "scratch"))];
    const commits = await ordersCommits(
      fleet,
      Array.from({ length: 2 }, (_, k) => JSON.stringify({ version: 1, orders: [order(`o${k}`, "izzit7", "true")] }, null, 2) + "\n"),
    );
    // The two gits overlap every round: git holds the branch's ref lock while the reference-transaction hook runs
    // "prepared", and a hook that waits there half a second (longer than git's own 100 ms wait for a ref lock and
    // the other fast-forward's retries) keeps one fast-forward half done while the other runs into it. Unserialized,
    // the second sees a work tree ahead of HEAD and reports local changes (fails on every run without the lock).
    const hook = join(dir, (await git(dir, "rev-parse", "--git-path", "hooks")).trim(), "reference-transaction");
    await writeFile(hook, '#!/bin/sh\ncat >/dev/null\n[ "$1" = prepared ] && sleep 0.5\nexit 0\n', { mode: 0o755 });
    for (const [k, commit] of commits.entries()) {
      expect(await Promise.all([a.fastForward(commit), b.fastForward(commit)]), `round ${k}`).toEqual([undefined, undefined]);
      expect((await git(dir, "rev-parse", "HEAD")).trim()).toBe(commit);
    }
  });

  it("makes one fetch and no commit when there is nothing new; heartbeats at most every interval", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const head = await hubHead(fleet);
    const people = await peopleHead(fleet);
    const r = await sync({ dir: fleet.machines.izzit7! });
    expect(r.pushed).toBeUndefined();
    expect(await hubHead(fleet)).toBe(head);
    // Another machine with nothing new computes the very same STATUS bytes: no commit either.
    await sync({ dir: fleet.machines["soda-yeti"]! });
    expect(await hubHead(fleet)).toBe(head);
    expect(await peopleHead(fleet)).toBe(people);

    const later = new Date(Date.now() + 16 * 60 * 1000); // default heartbeat: 15 minutes
    const beat = await sync({ dir: fleet.machines.izzit7!, now: () => later });
    expect(beat.pushed).toBeDefined();
    // The heartbeat is coord's new tip (hubHead); main is unchanged. (Found by sha: git log orders commits of one second either way.)
    const tip = await hubHead(fleet);
    expect(tip).not.toBe(head);
    const last = (await hubCommits(fleet)).find((c) => c.sha === tip);
    expect(await peopleHead(fleet)).toBe(people);
    expect(last!.paths.sort()).toEqual(["STATUS.json", "STATUS.md", "coordination/COMPUTER_izzit7.md"]);
    expect((await hubStatus(fleet)).machines.izzit7?.lastSeen).toBe(later.toISOString());
    const again = await sync({ dir: fleet.machines.izzit7!, now: () => new Date(later.getTime() + 60_000) });
    expect(again.pushed).toBeUndefined();
  });

  it("keeps results when the remote is unreachable, exits 1, and publishes them all at the next sync", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const away = fleet.hubPath + ".away";
    // The task itself takes the remote away, so the publish after it fails.
    await pushOrders(fleet, [order("a", "izzit7", "echo first"), order("b", "izzit7", `mv ${fleet.hubPath} ${away}; echo second`)]);
    const failed = await cli("sync", "--dir", dir);
    expect(failed.code).toBe(1);
    expect(failed.err).toMatch(/could not reach the remote .*hub\.git/);
    expect((await journal(dir)).tasks).toMatchObject({ a: { state: "completed" }, b: { state: "completed" } });

    const stillAway = await cli("sync", "--dir", dir);
    expect(stillAway.code).toBe(1);
    await rename(away, fleet.hubPath);
    const ok = await cli("sync", "--dir", dir);
    expect(ok.code).toBe(0);
    const status = await hubStatus(fleet);
    expect(status.orders.a?.machines.izzit7?.state).toBe("completed");
    expect(status.orders.b?.machines.izzit7?.state).toBe("completed");
    expect((await journal(dir)).tasks.b.attempts).toBe(1); // nothing ran twice
  });

  it("--dry-run prints what would run and changes nothing", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    await pushOrders(fleet, [order("a", "izzit7", "echo a"), order("later", "izzit7", "echo b", { after: ["a"] })]);
    const head = await hubHead(fleet);
    const people = await peopleHead(fleet);
    const r = await cli("sync", "--dir", dir, "--dry-run");
    expect(r.code).toBe(0);
    expect(r.out).toContain("would run a (rev 1, attempt 1): echo a");
    expect(r.out).toContain("later: not started: waiting for a");
    expect(await hubHead(fleet)).toBe(head);
    expect(await peopleHead(fleet)).toBe(people);
    expect((await journal(dir).catch(() => ({ tasks: {} }))).tasks).toEqual({});
    const real = await sync({ dir });
    expect(real.ran.map((t) => t.id)).toEqual(["a"]);
  });
});

describe("bad input gets a clear error and loses nothing", () => {
  it("an invalid ORDERS.json starts no task, exits 3, and shows the error with its line in STATUS.json", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const counter = join(fleet.root, "ran");
    await pushOrders(fleet, [order("ok", "izzit7", `echo x >> ${counter}`)]);
    await sync({ dir });
    const broken = `{\n  "version": 1,\n  "orders": [\n    { "id": "ok", "to": "izzit7", "run": "echo x >> ${counter}", "rev": 2 },\n    { "id": "new", "to": "izzit7", "run": "echo x >> ${counter}", "timeout": "ten minutes" }\n  ]\n}\n`;
    await pushOrders(fleet, broken);
    const r = await cli("sync", "--dir", dir);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/ORDERS\.json:5 orders\[1\]\.timeout: .*ten minutes/);
    expect((await readFile(counter, "utf8")).split("\n").filter(Boolean)).toHaveLength(1);
    const status = await hubStatus(fleet);
    expect(status.errors[0]).toMatchObject({ file: "ORDERS.json", line: 5, path: "orders[1].timeout" });
    expect(status.orders.ok?.machines.izzit7?.state).toBe("completed"); // still visible from the machine's report
    expect(await hubFile(fleet, "ORDERS.json")).toBe(broken); // never rewritten
  });

  it("a hand-edited COMPUTER file of another machine is reported and never rewritten by others", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const path = "coordination/COMPUTER_soda-yeti.md";
    const vandalised = "---\nname: [unclosed\n---\nI edited this by hand\n";
    await personCommit(fleet, path, vandalised, "hand edit");
    const r = await sync({ dir: fleet.machines.izzit7!, now: () => new Date(Date.now() + 3600_000) });
    // izzit7 has seen soda-yeti's own signed file: it reads that one, and the hub's STATUS names the edited file.
    expect(r.fileProblems).toEqual([]);
    expect(await hubFile(fleet, path)).toBe(vandalised);
    expect((await hubStatus(fleet)).errors).toEqual([expect.objectContaining({ file: path, message: expect.stringContaining("ignored") })]);
    // Its owner rewrites its own file at its next sync.
    await sync({ dir: fleet.machines["soda-yeti"]! });
    expect(await hubFile(fleet, path)).toContain('"uuid": ');
    expect((await hubStatus(fleet)).errors).toEqual([]);
  });

  it("refuses an invalid machine name and a name owned by another uuid (exit 2), changing nothing", async () => {
    fleet = await makeFleet(["izzit7"]);
    const bad = await cli("init", join(fleet.root, "x"), "--name", "Bad_Name", "--remote", fleet.remote);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/not a valid machine name/);
    const before = [await hubHead(fleet), await peopleHead(fleet)];
    const taken = await cli("init", join(fleet.root, "impostor"), "--name", "izzit7", "--remote", fleet.remote);
    expect(taken.code).toBe(2);
    expect(taken.err).toMatch(/already taken .*--reclaim/);
    expect([await hubHead(fleet), await peopleHead(fleet)]).toEqual(before);
  });

  it("init again is harmless; --reclaim takes over a lost identity without re-running its tasks", async () => {
    fleet = await makeFleet(["izzit7"]);
    const counter = join(fleet.root, "ran");
    await pushOrders(fleet, [order("once", "izzit7", `echo x >> ${counter}`)]);
    await sync({ dir: fleet.machines.izzit7! });
    const again = await cli("init", fleet.machines.izzit7!, "--name", "izzit7", "--remote", fleet.remote);
    expect(again.code).toBe(0);

    const reinstalled = join(fleet.root, "reinstalled");
    const r = await cli("init", reinstalled, "--name", "izzit7", "--remote", fleet.remote, "--reclaim");
    expect(r.code).toBe(0);
    await sync({ dir: reinstalled });
    expect((await readFile(counter, "utf8")).split("\n").filter(Boolean)).toHaveLength(1);
  });

  it("after --reclaim the old copy, still running, sees the newer generation, stops claiming and running, and says where and when", async () => {
    fleet = await makeFleet(["izzit7"]);
    const old = fleet.machines.izzit7!;
    const log = join(fleet.root, "ran.log");
    await sync({ dir: old });
    const copy = join(fleet.root, "reinstalled");
    expect((await cli("init", copy, "--name", "izzit7", "--remote", fleet.remote, "--reclaim")).code).toBe(0);
    await pushOrders(fleet, [order("work", "ANY", `echo ran >> ${log}`)]);
    const stale = await cli("sync", "--dir", old);
    expect(stale.code).toBe(2);
    expect(stale.err).toMatch(
      /^coord: this identity \(izzit7\) was reclaimed on .+ at \d{4}-\d\d-\d\dT[\d:.]+Z \(coord init --reclaim there\); this copy no longer claims or runs anything/m,
    );
    expect(await readFile(log, "utf8").catch(() => "")).toBe("");
    // coord doctor on the old copy says the same (it once read only the uuid, and called the copy fine).
    expect((await cli("doctor", "--dir", old)).out).toMatch(/FAIL\s+identity\s+this identity \(izzit7\) was reclaimed on .+; this copy runs nothing/);
    // Found in attack: a push that takes the newer generation out of the file again revived the old copy, and an order
    // ran on both. The copy remembers the reclaim it saw: it stays stopped whatever the hub says now.
    const reclaimedFile = await hubFile(fleet, "coordination/COMPUTER_izzit7.md");
    const generationless = reclaimedFile.replace(/^ {2}"identity": \{[^}]*\},?\n/m, "");
    expect(generationless).not.toBe(reclaimedFile);
    await personCommit(fleet, "coordination/COMPUTER_izzit7.md", generationless, "izzit7 as it was");
    const revived = await cli("sync", "--dir", old);
    expect(revived.code).toBe(2);
    expect(revived.err).toMatch(/this identity \(izzit7\) was reclaimed on .+; this copy no longer claims or runs anything/);
    expect((await cli("doctor", "--dir", old)).out).toMatch(/FAIL\s+identity\s+this identity \(izzit7\) was reclaimed on/);
    expect((await sync({ dir: copy })).ran.map((t) => t.id)).toEqual(["work"]);
    expect((await hubStatus(fleet)).machines.izzit7).toBeDefined();
    // Taken back: the old one is the newer generation now (with what the other did), and the other stops.
    expect((await cli("init", old, "--name", "izzit7", "--remote", fleet.remote, "--reclaim")).code).toBe(0);
    expect((await cli("sync", "--dir", copy)).err).toMatch(/this identity \(izzit7\) was reclaimed on/);
    expect((await sync({ dir: old })).ran).toEqual([]); // "work" ran on the other copy: not again
    expect((await readFile(log, "utf8")).split("\n").filter(Boolean)).toEqual(["ran"]); // once, by the copy
  });
  it("a checkout made a new machine after its config was lost is not stopped by a reclaim its old identity saw there", async () => {
    fleet = await makeFleet(["izzit7"]);
    const old = fleet.machines.izzit7!;
    await sync({ dir: old });
    expect((await cli("init", join(fleet.root, "reinstalled"), "--name", "izzit7", "--remote", fleet.remote, "--reclaim")).code).toBe(0);
    expect((await cli("sync", "--dir", old)).code).toBe(2); // it saw the reclaim, and recorded it
    await rm(join(old, ".git", "coord", "machine.yaml"));
    expect((await cli("init", old, "--name", "fresh7", "--remote", fleet.remote)).code).toBe(0);
    const log = join(fleet.root, "ran.log");
    await pushOrders(fleet, [order("work", "fresh7", `echo ran >> ${log}`)]);
    expect((await sync({ dir: old })).ran.map((t) => t.id)).toEqual(["work"]);
  });

  it("found in attack: a checkout made a machine of the same name after its config was lost stays stopped, though the file is gone", async () => {
    fleet = await makeFleet(["izzit7"]);
    const old = fleet.machines.izzit7!;
    await sync({ dir: old });
    const copy = join(fleet.root, "reinstalled");
    expect((await cli("init", copy, "--name", "izzit7", "--remote", fleet.remote, "--reclaim")).code).toBe(0);
    expect((await cli("sync", "--dir", old)).code).toBe(2); // it saw the reclaim, and recorded it
    const log = join(fleet.root, "ran.log");
    await pushOrders(fleet, [order("once", "izzit7", `echo ran >> ${log}`)]);
    expect((await sync({ dir: copy })).ran.map((t) => t.id)).toEqual(["once"]);
    // A pusher deletes the machine's file; the old copy, its config lost, is made izzit7 again without --reclaim.
    await personCommit(fleet, "coordination/COMPUTER_izzit7.md", null, "izzit7 gone");
    await rm(join(old, ".git", "coord", "machine.yaml"));
    const again = await cli("init", old, "--name", "izzit7", "--remote", fleet.remote);
    expect(again.err).toMatch(/this identity \(izzit7\) was reclaimed on .+; this copy no longer claims or runs anything/);
    expect((await cli("sync", "--dir", old)).code).toBe(2);
    expect((await readFile(log, "utf8")).split("\n").filter(Boolean)).toEqual(["ran"]); // once, by the copy
  });
  it("found in attack: a reclaim record that is no file stops the sync with a sentence; doctor says FAIL for it and goes on", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    await sync({ dir });
    await mkdir(join(dir, ".git", "coord", "reclaimed.json"));
    const log = join(fleet.root, "ran.log");
    await pushOrders(fleet, [order("work", "izzit7", `echo ran >> ${log}`)]);
    const r = await cli("sync", "--dir", dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/reclaimed\.json/);
    expect(await readFile(log, "utf8").catch(() => "")).toBe("");
    const doctor = await cli("doctor", "--dir", dir);
    expect(doctor.out).toMatch(/FAIL\s+identity\s+cannot be decided: .*reclaimed\.json.*; coord sync runs nothing until then/);
    expect(doctor.out).toMatch(/OK\s+lock\s/); // the checks after it ran too
  });
  it("found in attack: a generation at the highest a file may carry is taken no further, and the reclaim says what to do", async () => {
    fleet = await makeFleet(["izzit7"]);
    const old = fleet.machines.izzit7!;
    await sync({ dir: old });
    const path = "coordination/COMPUTER_izzit7.md";
    const file = await hubFile(fleet, path);
    const forged = file.replace(/^ {2}"uuid": "[^"]+",\n/m, (uuid) => `${uuid}  "identity": { "epoch": 2147483647, "host": "pusher", "at": "2026-11-30T00:00:00Z" },\n`);
    expect(forged).not.toBe(file);
    await personCommit(fleet, path, forged, "the highest generation");
    // Taking it one further would write a file no machine reads (and the old copy, reading none, would run on).
    const r = await cli("init", join(fleet.root, "reinstalled"), "--name", "izzit7", "--remote", fleet.remote, "--reclaim");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/says generation 2147483647 of the identity, the highest a file may carry.*git revert/);
    expect(await hubFile(fleet, path)).toBe(forged);
  });
});

describe("status and derived files", () => {
  it("coord status shows machines, orders and offline machines; --json for scripts", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    await pushOrders(fleet, [order("x", "izzit7", "exit 4")]);
    await sync({ dir: fleet.machines.izzit7! });
    const text = await cli("status", "--dir", fleet.machines["soda-yeti"]!);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/izzit7\s+online\s+idle/);
    expect(text.out).toMatch(/x\s+1\s+failed\s+izzit7=failed\(4\)/);
    const json = JSON.parse((await cli("status", "--dir", fleet.machines.izzit7!, "--json", "--no-fetch")).out);
    expect(json.orders.x.machines.izzit7.exitCode).toBe(4);
    expect(json.offline).toEqual([]);
  });

  it("validate checks a file with line numbers and knows the registered machines", async () => {
    fleet = await makeFleet(["izzit7"]);
    const file = join(fleet.machines.izzit7!, "ORDERS.json");
    await writeFile(file, JSON.stringify({ version: 1, orders: [order("a", "izzit7", "true"), order("a", "ghost", "true")] }, null, 2));
    const r = await cli("validate", file);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/ORDERS\.json:\d+ orders\[1\]\.id: .*duplicate|ORDERS\.json:\d+ orders\[1\]\.id/);
    expect(r.err).toMatch(/ghost/);
    await writeFile(file, JSON.stringify({ version: 1, orders: [order("a", "izzit7", "true")] }));
    expect((await cli("validate", file)).out).toMatch(/valid, 1 order/);
  });
});

describe("failures across runs", () => {
  it("scheduled syncs back off after a failure; after 3 failures in a row the machine says stalled, with why, once it can publish", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const dir = fleet.machines.izzit7!;
    await setConfig(dir, { failureBackoff: "1h" });
    const away = fleet.hubPath + ".away";
    await rename(fleet.hubPath, away);
    expect((await cli("sync", "--dir", dir, "--scheduled")).code).toBe(1);
    const backing = await cli("sync", "--dir", dir, "--scheduled");
    expect(backing.code).toBe(0);
    expect(backing.out).toMatch(/izzit7: backing off after 1 failed sync until .* \(last error: could not reach the remote/);
    // A person's manual sync always tries.
    expect((await cli("sync", "--dir", dir)).code).toBe(1);
    expect((await cli("sync", "--dir", dir)).code).toBe(1);
    await rename(away, fleet.hubPath);
    expect((await cli("sync", "--dir", dir)).code).toBe(0);
    const status = await hubStatus(fleet);
    expect(status.machines.izzit7).toMatchObject({ state: "stalled", health: { failures: 3, lastError: expect.stringMatching(/could not reach the remote/) } });
    expect((await cli("status", "--dir", fleet.machines["soda-yeti"]!)).out).toMatch(/izzit7 is stalled: 3 failed syncs in a row since .*; last error: could not reach the remote/);
    // Healthy again: the next sync says idle.
    await sync({ dir, now: () => new Date(Date.now() + 16 * 60 * 1000) });
    expect((await hubStatus(fleet)).machines.izzit7?.state).toBe("idle");
    expect((await hubStatus(fleet)).machines.izzit7?.health).toBeUndefined();
    expect((await cli("sync", "--dir", dir, "--scheduled")).out).not.toMatch(/backing off/);
  });
});
