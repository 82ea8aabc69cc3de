// The built CLI loads through V8's code cache (src/cli/compiled.ts): one file
// per command and build in the user's cache directory, trusted only there.
import { chmod, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cacheName } from "../src/cli/compiled.js";
import { cliExec, tempDir } from "./helpers.js";

/** The built CLI with HOME in a new directory of its own, and no XDG_CACHE_HOME. */
async function freshHome(): Promise<{ env: NodeJS.ProcessEnv; cache: string }> {
  const home = await tempDir("coord-cache-home-");
  const env = { ...process.env, HOME: home };
  delete env.XDG_CACHE_HOME;
  return { env, cache: join(home, ".cache", "coord") };
}

const caches = async (dir: string) => (await readdir(dir).catch(() => [])).filter((f) => f.endsWith(".v8"));

describe("the CLI's code cache", () => {
  it("is written once by a command that succeeds, only its user may read or write it, and the next run takes it as it is", async () => {
    const { env, cache } = await freshHome();
    const first = await cliExec(["--version"], undefined, env);
    expect(first.code).toBe(0);
    const files = await caches(cache);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^cli-${process.version}-${process.arch}-[0-9a-f]{16}\\.v8$`));
    expect((await stat(cache)).mode & 0o777).toBe(0o700);
    const made = await stat(join(cache, files[0]!));
    expect(made.mode & 0o777).toBe(0o600);
    expect(made.size).toBeGreaterThan(1000);

    const second = await cliExec(["--version"], undefined, env);
    expect(second).toEqual(first);
    // V8 took it: a cache it refuses is written again.
    expect((await stat(join(cache, files[0]!))).mtimeMs).toBe(made.mtimeMs);
    // Another command has its own (the functions it compiled).
    expect((await cliExec(["sync", "--help"], undefined, env)).code).toBe(0);
    expect((await caches(cache)).sort()).toEqual([expect.stringMatching(/^cli-/), expect.stringMatching(/^sync-/)]);
  });

  it("a cache V8 refuses (not one of its own) is replaced, and the command runs as without one", async () => {
    const { env, cache } = await freshHome();
    await cliExec(["--version"], undefined, env);
    const [file] = await caches(cache);
    await writeFile(join(cache, file!), Buffer.alloc(4096, 7));
    const r = await cliExec(["--version"], undefined, env);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect((await stat(join(cache, file!))).size).not.toBe(4096);
  });

  it("is neither read nor written where others may write, nor by a command that failed", async () => {
    const { env, cache } = await freshHome();
    expect((await cliExec(["no-such-command"], undefined, env)).code).toBe(2);
    expect(await caches(cache)).toEqual([]);
    await chmod(cache, 0o777);
    expect((await cliExec(["--version"], undefined, env)).code).toBe(0);
    expect(await caches(cache)).toEqual([]);
  });

  it("names a cache by command, Node and the bundle's text: another build never gets it", () => {
    expect(cacheName("a", "sync")).toMatch(new RegExp(`^sync-${process.version}-${process.arch}-[0-9a-f]{16}\\.v8$`));
    expect(cacheName("a", "sync")).not.toBe(cacheName("b", "sync"));
    expect(cacheName("a", "sync")).not.toBe(cacheName("a", "status"));
    for (const odd of [undefined, "--version", "../x", "Sync", "a".repeat(17)]) expect(cacheName("a", odd)).toMatch(/^cli-/);
  });
});
