// allowedRoots: a machine that restricts where tasks run refuses an order
// whose cwd (resolved: symbolic links, "..") lies outside, with the reason,
// and runs nothing; without the setting every cwd works as before. Real git.
import { mkdir, stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, hubStatus, makeFleet, pushOrders, setConfig, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

describe("allowedRoots", () => {
  it("an order whose cwd is outside every root fails with the reason and runs nothing; inside, it runs; unset, anything runs", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const root = fleet.root;
    const [dev, other] = [join(root, "dev"), join(root, "other")];
    await mkdir(join(dev, "app"), { recursive: true });
    await mkdir(other);
    await symlink(other, join(dev, "escape")); // inside by its name, outside by where it leads
    const marker = (id: string) => join(root, `ran-${id}`);
    const orders = (rev: number) =>
      [
        ["inside", join(dev, "app")],
        ["outside", other],
        ["dotdot", join(dev, "app", "..", "..", "other")],
        ["link", join(dev, "escape")],
      ].map(([id, cwd]) => ({ id, to: "izzit7", rev, cwd, run: `touch ${marker(`${id}-${rev}`)}` }));

    // Nothing configured: every cwd works as it always did.
    await pushOrders(fleet, orders(1));
    expect((await cli("sync", "--dir", dir)).code).toBe(0);
    const before = (await hubStatus(fleet)).orders;
    for (const id of ["inside", "outside", "dotdot", "link"]) expect(before[id]?.machines.izzit7?.state).toBe("completed");

    await setConfig(dir, { allowedRoots: [dev, join(root, "nowhere")] });
    await pushOrders(fleet, orders(2));
    expect((await cli("sync", "--dir", dir)).code).toBe(0);
    const after = (await hubStatus(fleet)).orders;
    expect(after.inside?.machines.izzit7).toMatchObject({ state: "completed" });
    const reason = `cwd ${other} is outside this machine's allowedRoots: ${dev}, ${join(root, "nowhere")}`;
    for (const id of ["outside", "dotdot", "link"]) {
      expect(after[id]?.machines.izzit7).toMatchObject({ state: "failed", exitCode: null, reason });
      expect(await stat(marker(`${id}-2`)).catch(() => undefined)).toBeUndefined();
    }
    expect(await stat(marker("inside-2"))).toBeTruthy();
  });
});
