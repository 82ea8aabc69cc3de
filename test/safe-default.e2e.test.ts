// Safe by default (issue 31): a fleet made with `coord init` and synced, with no other step, signs every
// machine's commits and verifies them. A person with push access who forges what a machine owns (its task
// marked completed, its receipts, a message "from" it) is not believed by the others, is shown in STATUS.md,
// and the owner's next sync undoes it. Keys are made by coord itself: ssh-keygen is not needed.
import { readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sync } from "../src/sync/sync.js";
import { cli, type Fleet, git, hubFile, makeFleet, personCommit, pushOrders } from "./helpers.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const KEY_LINE = /^ {2}"key": "ssh-ed25519 [A-Za-z0-9+/=]+",?$/m;

describe("a default fleet (coord init and sync, nothing else)", () => {
  it("publishes every machine's key, and a forged completion, receipt or message is ignored, alerted and undone", { timeout: patient(90_000) }, async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const f = fleet;
    const [a, b] = [f.machines.izzit7!, f.machines["soda-yeti"]!];
    const ran = join(f.root, "ran.log");
    // soda-yeti's build fails; izzit7's deploy waits for it to complete.
    await pushOrders(f, [
      { id: "build", to: "soda-yeti", run: "exit 3" },
      { id: "deploy", to: "izzit7", run: `echo deploy >> ${ran}`, after: ["build"] },
    ]);
    for (let i = 0; i < 2; i++) for (const dir of [b, a]) await sync({ dir });
    for (const name of ["izzit7", "soda-yeti"]) expect(await hubFile(f, `coordination/COMPUTER_${name}.md`)).toMatch(KEY_LINE);
    expect((await cli("trust", "status", "--dir", a)).out).toMatch(/^ {2}pinned soda-yeti {2}SHA256:/m);
    expect(await hubFile(f, "STATUS.md")).not.toMatch(/signs? nothing/);
    expect((await cli("send", "--dir", a, "soda-yeti", "deploy when ready")).code).toBe(0);
    await sync({ dir: a, run: false });

    // A person with push access forges soda-yeti's file: build completed, izzit7's message received and acknowledged.
    const real = await hubFile(f, "coordination/COMPUTER_soda-yeti.md");
    expect(real).toMatch(/"build": \{[^}]*"state":"failed"/);
    const forged = real
      .replace(/("build": \{[^}]*"state":)"failed"/, '$1"completed"')
      .replace(/("build": \{[^}]*"exitCode":)3/, "$10")
      .replace(/^ {2}"key": /m, '  "messages": {"izzit7/soda-yeti":{"received":1,"acked":1}},\n  "key": ');
    expect(forged).toMatch(/"build": \{[^}]*"state":"completed"/);
    expect(forged).toContain('"messages": {"izzit7/soda-yeti":{"received":1,"acked":1}}');
    await personCommit(f, "coordination/COMPUTER_soda-yeti.md", forged, "soda-yeti: build completed (forged)");
    // And a message "from" soda-yeti that soda-yeti never wrote.
    const fake =
      "---\ncoord: 1\nfrom: soda-yeti\nto: izzit7\nnext: 2\nmessages:\n  - seq: 1\n    at: 2026-11-25T10:00:00.000Z\n    priority: urgent\n    text: run the wipe\n---\n";
    await personCommit(f, "coordination/messages/soda-yeti_TO_izzit7.md", fake, "a message from soda-yeti (forged)");

    // izzit7 believes none of it: deploy does not run, no message arrives, its message is not acknowledged.
    const r = await sync({ dir: a });
    expect(r.ran).toEqual([]);
    expect(r.delivered).toEqual([]);
    expect(await readFile(ran, "utf8").catch(() => "")).toBe("");
    expect(JSON.parse((await cli("outbox", "--dir", a, "--json")).out)[0].recipients["soda-yeti"]).toBe("waiting");
    expect(JSON.parse((await cli("inbox", "--dir", a, "--json")).out)).toEqual([]);
    const status = await hubFile(f, "STATUS.md");
    expect(status).toMatch(/izzit7 refused coordination\/COMPUTER_soda-yeti\.md commit [0-9a-f]{12} by A Person \S+: not signed/);
    expect(status).toMatch(/izzit7 refused coordination\/messages\/soda-yeti_TO_izzit7\.md commit [0-9a-f]{12} by A Person \S+: not signed/);

    // soda-yeti's next sync undoes it: its file says failed again, the forged message file is gone, and the
    // message izzit7 sent is delivered (the forged receipt was not taken).
    const rb = await sync({ dir: b, run: false });
    expect(rb.delivered).toEqual(["izzit7/soda-yeti/1"]);
    expect(await hubFile(f, "coordination/COMPUTER_soda-yeti.md")).toMatch(/"build": \{[^}]*"state":"failed"/);
    expect(await git(f.hubPath, "ls-tree", "--name-only", "coord", "coordination/messages/")).not.toContain("soda-yeti_TO_izzit7.md");
    await sync({ dir: a });
    expect(await readFile(ran, "utf8").catch(() => "")).toBe("");
    expect(JSON.parse((await cli("outbox", "--dir", a, "--json")).out)[0].recipients["soda-yeti"]).toBe("received");
    const verify = JSON.parse((await cli("trust", "verify", "--dir", a, "--json")).out) as { commits: { path: string; good: boolean }[] };
    expect(verify.commits.find((c) => c.path === "coordination/COMPUTER_soda-yeti.md")?.good).toBe(true);
  });

  it("a machine's delegated orders run only as it signed them: a forged orders file of its runs nothing", async () => {
    fleet = await makeFleet(["izzit7", "soda-yeti"]);
    const f = fleet;
    const [a, b] = [f.machines.izzit7!, f.machines["soda-yeti"]!];
    const ran = join(f.root, "ran.log");
    for (let i = 0; i < 2; i++) for (const dir of [a, b]) await sync({ dir });
    // A pusher writes soda-yeti's delegated orders: an order for izzit7.
    const forged = `${JSON.stringify({ version: 1, orders: [{ id: "pwn", to: "izzit7", run: `echo pwn >> ${ran}` }] }, null, 2)}\n`;
    await personCommit(f, "coordination/orders/soda-yeti.json", forged, "soda-yeti delegates (forged)");
    expect((await sync({ dir: a })).ran).toEqual([]);
    expect(await hubFile(f, "STATUS.md")).toMatch(/izzit7 refused coordination\/orders\/soda-yeti\.json commit [0-9a-f]{12} by A Person \S+: not signed/);
    // soda-yeti's own delegated order, signed by its sync, runs.
    expect((await cli("order", "add", "--dir", b, "--to", "izzit7", "--run", `echo real >> ${ran}`, "--id", "real")).code).toBe(0);
    await sync({ dir: b });
    expect((await sync({ dir: a })).ran.map((t) => t.id)).toEqual(["real"]);
    expect(await readFile(ran, "utf8")).toBe("real\n");
  });

  it("found in review: a machine that signed and lost its key runs nothing, and says why", async () => {
    fleet = await makeFleet(["izzit7"]);
    const f = fleet;
    const dir = f.machines.izzit7!;
    const ran = join(f.root, "ran.log");
    await sync({ dir });
    await rename(join(dir, ".git", "coord", "machine_key"), join(f.root, "kept_key"));
    await pushOrders(f, [{ id: "job", to: "izzit7", run: `echo job >> ${ran}` }]);
    await expect(sync({ dir })).rejects.toThrow(/signs its commits \(its file on the hub shows its key\) but cannot now: its signing key \S+machine_key cannot be read \(ENOENT\)/);
    expect(await readFile(ran, "utf8").catch(() => "")).toBe("");
    // The key back: it works again.
    await rename(join(f.root, "kept_key"), join(dir, ".git", "coord", "machine_key"));
    expect((await sync({ dir })).ran.map((t) => t.id)).toEqual(["job"]);
  });

  it("a machine made with --no-key signs nothing, and its file, STATUS.md and coord doctor say so", async () => {
    fleet = await makeFleet(["izzit7"]);
    const f = fleet;
    const dir = join(f.root, "plain");
    expect((await cli("init", dir, "--name", "plain-1", "--remote", f.remote, "--no-key")).code).toBe(0);
    await sync({ dir });
    expect(await hubFile(f, "coordination/COMPUTER_plain-1.md")).toContain('"unsigned": "it has no signing key (coord trust key gives it one)"');
    expect(await hubFile(f, "STATUS.md")).toContain("- plain-1 signs nothing: it has no signing key (coord trust key gives it one)");
    const doctor = await cli("doctor", "--dir", dir);
    expect(doctor.out).toMatch(/^WARN\s+signing\s+signs nothing \(it has no signing key\)/m);
    // coord trust key turns it on: the next sync publishes the key, and the note is gone.
    expect((await cli("trust", "key", "--dir", dir)).code).toBe(0);
    await sync({ dir });
    expect(await hubFile(f, "coordination/COMPUTER_plain-1.md")).toMatch(KEY_LINE);
    expect(await hubFile(f, "STATUS.md")).not.toContain("plain-1 signs nothing");
    expect((await cli("doctor", "--dir", dir)).out).toMatch(/^OK\s+signing\s+signs its commits with \S+machine_key \(SHA256:/m);
  });
});
