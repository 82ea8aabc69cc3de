// What a machine can do (its agent CLIs, their versions and logins) is asked
// at most every 10 minutes (src/state/capabilities.ts). Once that is up, what
// was found before serves the sync while the CLIs are asked again beside it:
// a CLI that takes seconds to answer delays no task and no publish.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cliExec, type Fleet, hubStatus, makeFleet, pushOrders } from "./helpers.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

/** A stand-in for Claude Code whose `--version` answers `version` after `seconds`, noting when; logged in. */
async function slowClaude(root: string, version: string, seconds: number): Promise<{ path: string; probed: string }> {
  const bin = join(root, "bin");
  await mkdir(bin, { recursive: true });
  const probed = join(root, "probed");
  await writeFile(join(bin, "claude"), `#!/bin/sh\n[ "$1" = "--version" ] && { sleep ${seconds}; date +%s%3N > ${probed}; echo "${version} (Claude Code)"; exit 0; }\nexit 0\n`);
  await chmod(join(bin, "claude"), 0o755);
  return { path: `${bin}:${process.env.PATH}`, probed };
}

/** What the machine found `minutesAgo`, as its state keeps it. */
async function foundBefore(dir: string, path: string, version: string, minutesAgo: number): Promise<void> {
  const caps = { os: process.platform, arch: process.arch, node: process.versions.node, claude: version };
  const at = Date.now() - minutesAgo * 60_000;
  const agents = [{ name: "claude", executable: "claude", version, loggedIn: true, how: "claude auth status" }];
  await writeFile(join(dir, ".git", "coord", "agents.json"), JSON.stringify({ at, path, caps, agents }));
}

const readMs = async (file: string) => Number((await readFile(file, "utf8")).trim());

describe("a machine's capabilities", () => {
  it("older than 10 minutes, they serve the sync while the agent CLIs are asked again beside it; the next sync publishes the new answers", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const { path, probed } = await slowClaude(fleet.root, "9.9.9", 3);
    await foundBefore(dir, path, "1.0.0", 11);
    const started = join(fleet.root, "started");
    await pushOrders(fleet, [{ id: "t", to: "izzit7", run: `date +%s%3N > ${started}` }]);
    const env = { ...process.env, PATH: path };

    expect((await cliExec(["sync", "--dir", dir], undefined, env)).code).toBe(0);
    expect(await readMs(started)).toBeLessThan(await readMs(probed)); // the task did not wait for the CLI's answer
    expect((await hubStatus(fleet)).machines.izzit7.capabilities.claude).toBe("1.0.0"); // published with what was known
    const cache = JSON.parse(await readFile(join(dir, ".git", "coord", "agents.json"), "utf8"));
    expect(cache.caps.claude).toBe("9.9.9"); // asked again before the sync ended

    expect((await cliExec(["sync", "--dir", dir], undefined, env)).code).toBe(0);
    expect((await hubStatus(fleet)).machines.izzit7.capabilities.claude).toBe("9.9.9");
  });

  it("found more than a day ago, they are asked again before anything runs", async () => {
    fleet = await makeFleet(["izzit7"]);
    const dir = fleet.machines.izzit7!;
    const { path, probed } = await slowClaude(fleet.root, "9.9.9", 1);
    await foundBefore(dir, path, "1.0.0", 25 * 60);
    const started = join(fleet.root, "started");
    await pushOrders(fleet, [{ id: "t", to: "izzit7", run: `date +%s%3N > ${started}` }]);
    expect((await cliExec(["sync", "--dir", dir], undefined, { ...process.env, PATH: path })).code).toBe(0);
    expect(await readMs(started)).toBeGreaterThanOrEqual(await readMs(probed));
    expect((await hubStatus(fleet)).machines.izzit7.capabilities.claude).toBe("9.9.9");
  });
});
