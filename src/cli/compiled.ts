// The CLI as the bundle ships it (scripts/bundle.mjs): src/cli/main.ts and
// all it imports in one CommonJS file, dist/chunks/cli.cjs, which this module
// compiles with V8's code cache. Node 20 has no code cache for ES modules
// (module.enableCompileCache came in Node 22), and compiling the CLI's code
// was the largest cost of a `coord sync` after Node's own start: with the
// cache, V8 reads the functions it compiled in an earlier run instead of
// parsing 1.5 MB again (docs/performance.md).
//
// The cache is one file per command and build in the user's cache directory
// ($XDG_CACHE_HOME/coord, else ~/.cache/coord), written after a command that
// succeeded when there was none, or when V8 refused the one there (another
// Node). The file name holds a hash of the bundle's text: V8 checks only a
// cache's length against the source, so a cache is never offered to a bundle
// it was not made from. It is compiled code, so it is read only from a
// directory that this user owns and nobody else may write to (no cache on
// Windows). Any doubt and the CLI compiles as without a cache.
import { isAscii } from "node:buffer";
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { constants, Script } from "node:vm";

/** The bundle, beside the chunk this module is built into (dist/chunks/). */
const BUNDLE = fileURLToPath(new URL("./cli.cjs", import.meta.url));

/** A cache not of this bundle and older than this is removed when a new one is written (an older version's). */
const STALE_MS = 7 * 24 * 3600 * 1000;

/** The user's directory for coord's code caches, when it is theirs alone; made when missing. */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  const dir = join(base, "coord");
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** The cache's file for `command` and this bundle's text (`source`) under this Node. */
export function cacheName(source: Buffer | string, command: string | undefined): string {
  const hash = createHash("sha1").update(source).digest("hex").slice(0, 16);
  const name = command && /^[a-z]{1,16}$/.test(command) ? command : "cli";
  return `${name}-${process.version}-${process.arch}-${hash}.v8`;
}

function readCache(file: string): Buffer | undefined {
  try {
    const st = lstatSync(file);
    return st.isFile() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0 ? readFileSync(file) : undefined;
  } catch {
    return undefined;
  }
}

function writeCache(dir: string, name: string, data: Buffer): void {
  try {
    const tmp = join(dir, `${name}.${process.pid}.tmp`);
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, join(dir, name));
    const hash = name.slice(name.lastIndexOf("-") + 1);
    for (const other of readdirSync(dir)) {
      if (other.endsWith(hash) || !/\.(v8|tmp)$/.test(other)) continue;
      const path = join(dir, other);
      if (Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { force: true });
    }
  } catch {
    // No cache this time: the next run compiles as this one did.
  }
}

/** What the bundle exports: main.ts's run. */
interface Cli {
  run(argv: string[]): Promise<void>;
}

/** The `coord` executable after src/cli/entry.ts, as main.ts's run: the CLI, compiled from its code cache when there is one. */
export async function run(argv: string[]): Promise<void> {
  const bytes = readFileSync(BUNDLE);
  // esbuild writes ASCII (it escapes the rest): read as such, a one-byte string, without decoding UTF-8.
  const source = isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
  const dir = cacheDirectory();
  const name = dir && cacheName(bytes, argv[0]);
  const cached = dir && name ? readCache(join(dir, name)) : undefined;
  // The module wrapper on the source's first line: line numbers in stack traces stay the bundle's.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: BUNDLE,
    ...(cached ? { cachedData: cached } : {}),
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} as Cli };
  script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  await module.exports.run(argv);
  // After the command, so that the cache holds the functions it compiled on the way.
  if (dir && name && (!cached || script.cachedDataRejected) && process.exitCode === 0) writeCache(dir, name, script.createCachedData());
}
