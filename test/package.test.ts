// `npm pack` gives a tarball that installs and runs `coord --help` on a fresh machine.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { tempDir } from "./helpers.js";

const run = promisify(execFile);

it("packs, installs from the tarball, and runs coord --help", async () => {
  const repo = join(import.meta.dirname, "..");
  const dest = await tempDir("coord-pack-");
  const { stdout } = await run("npm", ["pack", "--ignore-scripts", "--pack-destination", dest, "--json"], { cwd: repo });
  const tarball = join(dest, JSON.parse(stdout)[0].filename);
  const prefix = join(dest, "install");
  await run("npm", ["install", "--prefix", prefix, "--no-audit", "--no-fund", "--prefer-offline", "--omit=dev", tarball], { cwd: dest });
  const help = await run(join(prefix, "node_modules", ".bin", "coord"), ["--help"]);
  expect(help.stdout).toMatch(/Usage: coord/);
  expect(help.stdout).toMatch(/hub\s+create a coordination hub/);
  const hub = await run(join(prefix, "node_modules", ".bin", "coord"), ["hub", "create", join(dest, "hub.git")]);
  expect(hub.stdout).toMatch(/created hub/); // templates/ ships in the package
}, 180_000);
