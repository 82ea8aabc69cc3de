// When the server says no (a hook, a protected branch), coord says the server's own words, and never calls
// the refusal a lost race (issue: "On real git servers"). A pre-receive hook stands in for GitHub's rule.
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli, makeFleet, personIdentity, pushOrders, type Fleet } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

/** A hook that refuses every update of `branch` as GitHub refuses a protected branch. */
async function protect(f: Fleet, branch: string): Promise<void> {
  const hook = join(f.hubPath, "hooks", "pre-receive");
  await writeFile(
    hook,
    `#!/bin/sh
while read old new ref; do
  if [ "$ref" = refs/heads/${branch} ]; then
    echo "error: GH006: Protected branch update failed for refs/heads/${branch}." >&2
    echo "error: Changes must be made through a pull request." >&2
    exit 1
  fi
done
`,
  );
  await chmod(hook, 0o755);
}

const GH006 = (branch: string) => new RegExp(`GH006: Protected branch update failed for refs/heads/${branch}`);

describe("a push the server refuses", () => {
  it("coord sync, coord init and coord order add --human print the server's reason, and none calls it a race", async () => {
    fleet = await makeFleet(["a"]);
    const f = fleet;
    await pushOrders(f, [{ id: "x", to: "a", run: "true" }]);
    await protect(f, "coord");

    const sync = await cli("sync", "--dir", f.machines.a!);
    expect(sync.code).toBe(1);
    expect(sync.err).toMatch(GH006("coord"));
    expect(sync.err).toMatch(/refs\/heads\/coord refused by the remote \(pre-receive hook declined\)/);
    const said = `${sync.out}${sync.err}${await cli("logs", "--dir", f.machines.a!, "-n", "50").then((r) => r.out)}`;
    expect(said).not.toMatch(/someone pushed first/);

    const init = await cli("init", join(f.root, "b"), "--name", "b", "--remote", f.hubPath);
    expect(init.code).toBe(1);
    expect(init.err).toMatch(GH006("coord"));

    await protect(f, "main");
    await personIdentity(f);
    const human = await cli("order", "add", "--human", "--dir", f.person, "--to", "a", "--id", "y", "--run", "true");
    expect(human.code).toBe(1);
    expect(human.err).toMatch(GH006("main"));
    expect(human.err).not.toMatch(/someone pushed first|others pushed first/);
  }, 60_000);
});
