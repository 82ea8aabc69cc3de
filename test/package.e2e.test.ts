// `npm pack` gives a tarball that installs and runs `coord --help` on a fresh machine.
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { tempDir } from "./helpers.js";
import { patient } from "./patience.js";

const run = promisify(execFile);

it("packs, installs from the tarball, and runs coord --help, hub create and ui (its page from templates/ui/)", { timeout: patient(180_000) }, async () => {
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

  // coord ui finds its page (templates/ui/) in the installed package.
  await run(join(prefix, "node_modules", ".bin", "coord"), ["init", join(dest, "m"), "--name", "m", "--remote", join(dest, "hub.git")]);
  const ui = spawn(join(prefix, "node_modules", ".bin", "coord"), ["ui", "--dir", join(dest, "m"), "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`coord ui printed no URL in 30 s: ${out}`)), 30_000);
      const read = (d: Buffer) => {
        out += d;
        const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      };
      ui.stdout.on("data", read);
      ui.stderr.on("data", read);
    });
    const page = await fetch(url, { signal: AbortSignal.timeout(20_000) });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<nav role="tablist">');
  } finally {
    ui.kill("SIGTERM");
  }
});
