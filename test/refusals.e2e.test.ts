// When the server says no (a hook, a protected branch), coord says the server's own words, and never calls
// the refusal a lost race (issue: "On real git servers"). A pre-receive hook stands in for GitHub's rule.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, hubFile, hubStatus, makeFleet, personIdentity, protectBranches, pushOrders, setConfig, tempDir, type Fleet } from "./helpers.js";
import { patient } from "./patience.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const GH006 = (branch: string) => new RegExp(`GH006: Protected branch update failed for refs/heads/${branch}`);

describe("a push the server refuses", () => {
  it("coord sync, coord init and coord order add --human print the server's reason, and none calls it a race", async () => {
    fleet = await makeFleet(["a"]);
    const f = fleet;
    await pushOrders(f, [{ id: "x", to: "a", run: "true" }]);
    await protectBranches(f.hubPath, "coord");

    const sync = await cli("sync", "--dir", f.machines.a!);
    expect(sync.code).toBe(1);
    expect(sync.err).toMatch(GH006("coord"));
    expect(sync.err).toMatch(/refs\/heads\/coord refused by the remote \(pre-receive hook declined\)/);
    const said = `${sync.out}${sync.err}${await cli("logs", "--dir", f.machines.a!, "-n", "50").then((r) => r.out)}`;
    expect(said).not.toMatch(/someone pushed first/);

    const init = await cli("init", join(f.root, "b"), "--name", "b", "--remote", f.hubPath);
    expect(init.code).toBe(1);
    expect(init.err).toMatch(GH006("coord"));

    await protectBranches(f.hubPath, "main");
    await personIdentity(f);
    const human = await cli("order", "add", "--human", "--dir", f.person, "--to", "a", "--id", "y", "--run", "true");
    expect(human.code).toBe(1);
    expect(human.err).toMatch(GH006("main"));
    expect(human.err).not.toMatch(/someone pushed first|others pushed first/);
  });

  it("a machine whose pushes are refused says so where it can at once, and the hub shows why for a heartbeat once it is back", { timeout: patient(90_000) }, async () => {
    fleet = await makeFleet(["a", "b"]);
    const f = fleet;
    const a = f.machines.a!;
    await setConfig(a, { heartbeat: 600 });
    await protectBranches(f.hubPath, "coord");
    await pushOrders(f, [{ id: "x", to: "a", run: "true" }]);
    for (let i = 0; i < 3; i++) {
      const sync = await cli("sync", "--dir", a);
      expect(sync.code).toBe(1);
      expect(sync.err).toMatch(GH006("coord"));
    }
    // The machine's own views say it is refused, with the server's words, though the hub cannot hear it yet.
    const status = await cli("status", "--dir", a);
    expect(status.code).toBe(0);
    expect(status.err).toMatch(/a \(this machine\) is refused by the hub since .* \(3 syncs\): .*GH006: Protected branch update failed for refs\/heads\/coord/);
    const json = JSON.parse((await cli("status", "--dir", a, "--json")).out);
    expect(json.local.health).toMatchObject({ failures: 3, refused: true });
    expect(json.local.health.lastError).toMatch(GH006("coord"));
    const daemon = await cli("daemon", "status", "--dir", a);
    expect(daemon.out).toMatch(/this machine is refused by the hub since .*GH006/);
    const logs = await cli("logs", "--dir", a, "-n", "10");
    expect(logs.out).toMatch(GH006("coord"));
    // Another machine's view has no word of it yet: a cannot publish.
    expect((await cli("status", "--dir", f.machines.b!)).err).not.toMatch(/refused/);

    // The server allows pushes again: a's next sync lands, and says why it was gone, for a heartbeat.
    await rm(join(f.hubPath, "hooks", "pre-receive"));
    expect((await cli("sync", "--dir", a)).code).toBe(0);
    const md = await hubFile(f, "STATUS.md");
    expect(md).toMatch(
      /stalled.*\[a\]\(coordination\/COMPUTER_a\.md\) was refused by the hub from .* until .* \(3 syncs\): .*GH006: Protected branch update failed for refs\/heads\/coord/,
    );
    const published = (await hubStatus(f)).machines.a;
    expect(published?.state).toBe("idle");
    expect(published?.health).toMatchObject({ failures: 3, refused: true });
    expect(await hubFile(f, "coordination/COMPUTER_a.md")).toMatch(/\*\*a\*\* was refused by the hub from/);
    // The local view is clear again; the next syncs (within the heartbeat) keep the reason on the hub, and push nothing for it.
    expect((await cli("status", "--dir", a)).err).not.toMatch(/this machine/);
    const before = await hubFile(f, "coordination/COMPUTER_a.md");
    expect((await cli("sync", "--dir", a)).code).toBe(0);
    expect((await cli("sync", "--dir", f.machines.b!)).code).toBe(0);
    expect(await hubFile(f, "coordination/COMPUTER_a.md")).toBe(before);
    expect(await hubFile(f, "STATUS.md")).toMatch(/was refused by the hub from .* \(3 syncs\)/);
  });

  it("notify tells a person at the first refusal, once for the whole run of refusals, and not again when the hub shows it", async () => {
    fleet = await makeFleet(["a"]);
    const f = fleet;
    const a = f.machines.a!;
    const out = await tempDir("coord-notify-");
    await setConfig(a, { notify: { command: `cat >> '${out}/stdin.jsonl'` } });
    await protectBranches(f.hubPath, "coord");
    await pushOrders(f, [{ id: "x", to: "a", run: "true" }]);
    const calls = async () =>
      (await readFile(join(out, "stdin.jsonl"), "utf8").catch(() => ""))
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    expect((await cli("sync", "--dir", a)).code).toBe(1);
    const first = await calls();
    expect(first).toHaveLength(1);
    expect(first[0].alert).toMatchObject({ kind: "stalled", machine: "a", id: expect.stringMatching(/^stalled\/a\//) });
    expect(first[0].text).toMatch(/coord \(a\): a is refused by the hub since .*GH006: Protected branch update failed/);
    expect((await cli("sync", "--dir", a)).code).toBe(1);
    await rm(join(f.hubPath, "hooks", "pre-receive"));
    expect((await cli("sync", "--dir", a)).code).toBe(0);
    expect((await hubStatus(f)).alerts.map((x: { id: string }) => x.id)).toContain(first[0].alert.id);
    expect(await calls()).toHaveLength(1);
  });
});
