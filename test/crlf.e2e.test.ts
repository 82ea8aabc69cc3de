// Line endings (issue 68, item 8): Git for Windows often checks out with core.autocrlf=true, and a person's editor
// may save ORDERS.json with CRLF. A machine whose git converts line endings runs the same orders, writes the same
// files, and its signatures verify at the other machines as anywhere.
import { readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, type Fleet, git, hubStatus, makeFleet, ordersText, pushOrders } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

describe("line endings", () => {
  it("a machine with core.autocrlf=true and ORDERS.json saved with CRLF: the orders run, its files verify at the others", async () => {
    fleet = await makeFleet(["win", "linux"]);
    const ran = join(fleet.root, "ran");
    // Every git this HOME runs converts line endings, as Git for Windows' installer sets it.
    await writeFile(join(homedir(), ".gitconfig"), "[core]\n\tautocrlf = true\n");
    expect((await git(fleet.machines.win!, "config", "core.autocrlf")).trim()).toBe("true");
    const text = ordersText([
      { id: "a", to: "win", run: `echo win >> ${ran}` },
      { id: "b", to: "linux", run: `echo linux >> ${ran}` },
    ]).replace(/\n/g, "\r\n");
    await pushOrders(fleet, text);
    for (const m of ["win", "linux", "win", "linux"]) {
      const r = await cli("sync", "--dir", fleet.machines[m]!);
      expect(r.code, `${m}: ${r.err}`).toBe(0);
    }
    expect((await readFile(ran, "utf8")).split("\n").filter(Boolean).sort()).toEqual(["linux", "win"]);
    const status = await hubStatus(fleet);
    expect(status.orders.a).toMatchObject({ state: "completed" });
    expect(status.orders.b).toMatchObject({ state: "completed" });
    // Nothing is said of a file that did not verify, and the hub's blobs are LF, whatever the checkouts show.
    const md = (await cli("status", "--dir", fleet.machines.linux!)).out;
    expect(md).not.toMatch(/not verified|unsigned|refused/i);
    const blob = await git(fleet.hubPath, "show", "coord:coordination/COMPUTER_win.md");
    expect(blob).not.toContain("\r");
  });
});
