// The built CLI loads through V8's code cache (src/startup/code-cache.ts): one file
// per command and build in the user's cache directory, trusted only there,
// checked by its own hash before V8 sees it.
import { spawn } from "node:child_process";
import { chmod, chown, cp, lchown, mkdir, readdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cacheName, worthCaching } from "../src/startup/code-cache.js";
import { CLI, cliExec, tempDir } from "./helpers.js";

/** The built CLI with HOME in a new directory of its own, and no XDG_CACHE_HOME. */
async function freshHome(): Promise<{ env: NodeJS.ProcessEnv; home: string; cache: string }> {
  const home = await tempDir("coord-cache-home-");
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.XDG_CACHE_HOME;
  return { env, home, cache: join(home, ".cache", "coord") };
}

const caches = async (dir: string) => (await readdir(dir).catch(() => [])).filter((f) => f.endsWith(".v8"));

/** A command that does its work without a checkout: a new hub. */
const hubCreate = (home: string, name: string, env: NodeJS.ProcessEnv) => cliExec(["hub", "create", join(home, `${name}.git`)], undefined, env);

describe("the CLI's code cache", () => {
  it("is written once by a command that did its work, only its user may read or write it, and the next run takes it as it is", async () => {
    const { env, home, cache } = await freshHome();
    expect((await hubCreate(home, "a", env)).code).toBe(0);
    const files = await caches(cache);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^hub-${process.version}-${process.arch}-[0-9a-f]{16}\\.v8$`));
    expect((await stat(cache)).mode & 0o777).toBe(0o700);
    const made = await stat(join(cache, files[0]!));
    expect(made.mode & 0o777).toBe(0o600);
    expect(made.size).toBeGreaterThan(1000);

    expect((await hubCreate(home, "b", env)).code).toBe(0);
    // Taken: a cache that is refused is written again.
    expect((await stat(join(cache, files[0]!))).mtimeMs).toBe(made.mtimeMs);
    // Help and the version compile little worth keeping: nothing written for them.
    expect((await cliExec(["--version"], undefined, env)).code).toBe(0);
    expect((await cliExec(["sync", "--help"], undefined, env)).code).toBe(0);
    expect(await caches(cache)).toEqual(files);

    // Taken a week after it was written: touched, so that another build's sweep (of caches unused for 7 days) leaves it.
    const weekAgo = Date.now() / 1000 - 8 * 24 * 3600;
    await utimes(join(cache, files[0]!), weekAgo, weekAgo);
    expect((await hubCreate(home, "c", env)).code).toBe(0);
    expect((await stat(join(cache, files[0]!))).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
  });

  it("a damaged cache never reaches V8: the command runs as without one, and the file is replaced", async () => {
    const { env, home, cache } = await freshHome();
    await hubCreate(home, "a", env);
    const [file] = await caches(cache);
    const path = join(cache, file!);
    const good = await readFile(path);
    // Bytes flipped in the middle (V8 would crash on them), then a file of garbage.
    for (const [i, bad] of [Buffer.from(good).fill(0xff, good.length >> 2, good.length >> 1), Buffer.alloc(4096, 7)].entries()) {
      await writeFile(path, bad);
      const r = await hubCreate(home, `damaged${i}`, env);
      expect(r).toMatchObject({ code: 0, err: "" });
      const now = await readFile(path);
      expect(now.equals(bad)).toBe(false);
      expect(now.length).toBeGreaterThan(1000);
    }
  });

  it("is neither read nor written where others may write, nor by a command that failed", async () => {
    const { env, home, cache } = await freshHome();
    expect((await cliExec(["no-such-command"], undefined, env)).code).toBe(2);
    expect(await caches(cache)).toEqual([]);
    await chmod(cache, 0o777);
    expect((await hubCreate(home, "a", env)).code).toBe(0);
    expect(await caches(cache)).toEqual([]);
  });

  it("is neither read nor written with the bench's switch off (COORD_STARTUP_OFF=codecache, src/startup/tricks.ts)", async () => {
    const { env, home, cache } = await freshHome();
    const off = { ...env, COORD_STARTUP_OFF: "codecache" };
    expect((await hubCreate(home, "a", off)).code).toBe(0);
    expect(await caches(cache)).toEqual([]);
    expect((await hubCreate(home, "b", env)).code).toBe(0);
    const [file] = await caches(cache);
    const path = join(cache, file!);
    await writeFile(path, Buffer.alloc(4096, 7)); // damaged: a run that read it would write it anew
    const damaged = await stat(path);
    expect((await hubCreate(home, "c", off)).code).toBe(0);
    expect((await stat(path)).mtimeMs).toBe(damaged.mtimeMs);
  });

  it("has no place without a home of the user's own: a relative HOME or XDG_CACHE_HOME is not used, and nothing lands in the working directory", async () => {
    const cwd = await tempDir("coord-cache-cwd-");
    for (const env of [
      { ...process.env, HOME: "relative-home", XDG_CACHE_HOME: "" },
      { ...process.env, XDG_CACHE_HOME: "relative-cache" },
    ]) {
      const code = await new Promise<number | null>((resolve) =>
        spawn(process.execPath, [CLI, "hub", "create", join(cwd, "h.git")], { cwd, env, stdio: "ignore" }).on("close", resolve),
      );
      expect(code).toBe(0);
      expect(await readdir(cwd)).toEqual(["h.git"]);
      await rm(join(cwd, "h.git"), { recursive: true });
    }
  });

  it.skipIf(process.getuid?.() !== 0)("root with another user's HOME keeps no cache there and makes nothing in it", async () => {
    const { env, home } = await freshHome();
    await chown(home, 4242, 4242);
    expect((await hubCreate(home, "a", env)).code).toBe(0);
    expect(await readdir(home)).toEqual(["a.git"]); // no .cache of root's in the user's home
    await mkdir(join(home, ".cache"));
    await chown(join(home, ".cache"), 4242, 4242);
    expect((await hubCreate(home, "b", env)).code).toBe(0);
    expect(await readdir(join(home, ".cache"))).toEqual([]);
    // The user points ~/.cache at a directory of root's (a checkout root synced, holding what the user pushed): root
    // neither reads nor writes a cache there.
    const roots = await tempDir("coord-cache-roots-");
    await mkdir(join(roots, "coord"), { mode: 0o700 });
    await rm(join(home, ".cache"), { recursive: true });
    await symlink(roots, join(home, ".cache"));
    await lchown(join(home, ".cache"), 4242, 4242);
    expect((await hubCreate(home, "c", env)).code).toBe(0);
    expect(await readdir(join(roots, "coord"))).toEqual([]);
  });

  it("a broken install (the CLI's file cut short or missing) says so in one sentence, exit 1", async () => {
    const copy = await tempDir("coord-broken-install-");
    await cp(join(import.meta.dirname, "..", "dist"), join(copy, "dist"), { recursive: true });
    await cp(join(import.meta.dirname, "..", "package.json"), join(copy, "package.json"));
    await symlink(join(import.meta.dirname, "..", "node_modules"), join(copy, "node_modules"));
    const bundle = join(copy, "dist", "chunks", "cli.cjs");
    await writeFile(bundle, (await readFile(bundle)).subarray(0, 100_000));
    const run = () =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn(process.execPath, [join(copy, "dist", "coord.mjs"), "status"], { stdio: ["ignore", "ignore", "pipe"] });
        let err = "";
        child.stderr.on("data", (d) => (err += d));
        child.on("close", (code) => resolve({ code, err }));
      });
    for (const _ of ["cut short", "missing"]) {
      const r = await run();
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^coord: could not load its CLI from .*cli\.cjs \([^\n]+\); reinstall coord\n$/);
      await rm(bundle, { force: true });
    }
  });

  it("names a cache by command, Node and the bundle's text: another build never gets it", () => {
    expect(cacheName("a", "sync")).toMatch(new RegExp(`^sync-${process.version}-${process.arch}-[0-9a-f]{16}\\.v8$`));
    expect(cacheName("a", "sync")).not.toBe(cacheName("b", "sync"));
    expect(cacheName("a", "sync")).not.toBe(cacheName("a", "status"));
    for (const odd of [undefined, "--version", "../x", "Sync", "a".repeat(17)]) expect(cacheName("a", odd)).toMatch(/^cli-/);
    // Node's flags: V8 refuses a cache made under others, so a shell's NODE_OPTIONS and cron's keep one each.
    const before = process.env.NODE_OPTIONS;
    const plain = cacheName("a", "sync");
    try {
      process.env.NODE_OPTIONS = "--max-old-space-size=200";
      expect(cacheName("a", "sync")).not.toBe(plain);
    } finally {
      if (before === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = before;
    }
  });

  it.each([
    [["sync", "--dir", "x"], true],
    [["send", "m2", "hi"], true],
    [["sync", "--help"], false],
    [["help", "sync"], false],
    [["--version"], false],
    [[], false],
  ] as [string[], boolean][])("worthCaching(%j) is %s", (argv, worth) => expect(worthCaching(argv)).toBe(worth));
});
