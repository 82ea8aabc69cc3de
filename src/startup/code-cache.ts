// The CLI as the bundle ships it (scripts/build.mjs): src/cli/main.ts and
// all it imports in one CommonJS file, dist/chunks/cli.cjs, which this module
// compiles with V8's code cache. Node 20 has no code cache for ES modules
// (module.enableCompileCache came in Node 22), and compiling the CLI's code
// was the largest cost of a `coord sync` after Node's own start: with the
// cache, V8 reads the functions it compiled in an earlier run instead of
// parsing 1.5 MB again (docs/performance.md).
//
// The cache is one file per command and build in the user's cache directory
// ($XDG_CACHE_HOME/coord, else ~/.cache/coord), written after a command that
// did its work, when there was none, or when the one there was refused. It is
// compiled code, and V8 checks little of it (a damaged one can crash the
// process), so (docs/security.md):
// - it is read only from a directory that this user owns and nobody else may
//   write to, inside a cache directory of this user's (none is made for
//   another user: root with a user's HOME keeps no cache);
// - it ends with a hash of its own bytes, checked before V8 sees it;
// - its name holds a hash of the code it was made from, of Node's and V8's
//   versions and of Node's path: V8 checks only a source's length, so a
//   cache is never offered to another build.
// Any doubt and the CLI compiles as without a cache. No cache on Windows.
// What it buys, and the bench row that shows it: src/startup/tricks.ts.
import { isAscii } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants as fs,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { userInfo } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { constants, Script } from "node:vm";
import { trickOff } from "./tricks.js";

/** The bundle, beside the chunk this module is built into (dist/chunks/). */
const BUNDLE = fileURLToPath(new URL("./cli.cjs", import.meta.url));

/** The CommonJS module wrapper, on the source's first line: line numbers in stack traces stay the bundle's. */
const WRAPPER = "(function (exports, require, module, __filename, __dirname) {";

/** What a cache file ends with: the sha256 of the bytes before it. */
const CHECK_BYTES = 32;

/** A cache's file name (cacheName), and a temp file of one being written. */
const CACHE_FILE = /^[a-z]{1,16}-v\d+\.\d+\.\d+-[a-z0-9]+-[0-9a-f]{16}\.v8$/;
const TEMP_FILE = /^[a-z]{1,16}-v\d+\.\d+\.\d+-[a-z0-9]+-[0-9a-f]{16}\.v8\.[0-9a-f]{16}\.tmp$/;

/** Another build's cache older than this is removed when a cache is written; a temp file left by a killed writer after an hour. */
const STALE_MS = 7 * 24 * 3600 * 1000;
const STALE_TEMP_MS = 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether `st` is this user's (or, for a directory above the cache's, root's) and nobody else may change it. */
function ownedSafely(st: { uid: number; mode: number }, uid: number, rootToo: boolean): boolean {
  if (st.uid !== uid && !(rootToo && st.uid === 0)) return false;
  // Group or others may write: only a sticky directory of root's (/tmp), where they cannot replace what is not theirs.
  return (st.mode & 0o022) === 0 || (rootToo && st.uid === 0 && (st.mode & 0o1000) !== 0);
}

/**
 * The user's directory for coord's code caches, when it is theirs alone
 * (made when missing); undefined on any doubt: no home, a relative path, a
 * cache directory of another user's, anyone else allowed to write there or
 * to the directory holding it (root with a user's HOME: the user could point
 * ~/.cache anywhere, so root keeps no cache there, and makes nothing).
 */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    const uid = process.getuid?.();
    if (uid === undefined) return undefined;
    const home = env.HOME || userInfo().homedir;
    const base = env.XDG_CACHE_HOME || join(home, ".cache");
    if (!isAbsolute(base)) return undefined;
    // What holds the cache base (the home, or XDG_CACHE_HOME's directory): this user's or root's, and nobody else's to change.
    if (!ownedSafely(statSync(dirname(base)), uid, true)) return undefined;
    if (!exists(base)) {
      if (env.XDG_CACHE_HOME) return undefined; // an XDG_CACHE_HOME of the user's choosing: not made here
      mkdirSync(base, { mode: 0o700 });
    }
    // ~/.cache may be a link (to another disk): one of this user's, to a directory of theirs.
    const link = lstatSync(base);
    if (link.isSymbolicLink() && link.uid !== uid) return undefined;
    const st = statSync(base);
    if (!st.isDirectory() || !ownedSafely(st, uid, false)) return undefined;
    const dir = join(base, "coord");
    if (!exists(dir)) mkdirSync(dir, { mode: 0o700 });
    const own = lstatSync(dir); // not followed: a link is refused
    return own.isDirectory() && ownedSafely(own, uid, false) ? dir : undefined;
  } catch {
    return undefined; // (a directory made by another process meanwhile: no cache this time)
  }
}

/** Whether `argv` runs a command that does its work: help and the version compile little worth keeping. */
export function worthCaching(argv: readonly string[]): boolean {
  const command = argv[0] ?? "";
  return /^[a-z]{1,16}$/.test(command) && command !== "help" && !argv.some((a) => a === "--help" || a === "-h");
}

/** The cache's file for `command` and the bundle's bytes under this Node. */
export function cacheName(bytes: Buffer | string, command: string | undefined): string {
  // Node's flags too: V8 refuses a cache made under other flags (NODE_OPTIONS in a shell, not in cron), and two
  // caches that each replaced the other would be rewritten at every run. The bundle's path: two installs never share one.
  const context = [WRAPPER, process.version, process.versions.v8, process.execPath, process.execArgv.join(" "), process.env.NODE_OPTIONS ?? "", BUNDLE];
  const hash = createHash("sha256")
    .update(`${context.join("\0")}\0`)
    .update(bytes)
    .digest("hex")
    .slice(0, 16);
  const name = command && /^[a-z]{1,16}$/.test(command) ? command : "cli";
  return `${name}-${process.version}-${process.arch}-${hash}.v8`;
}

/** The cached data in `file`, when it is a file of this user's that only they may write and its hash holds. */
export function readCache(file: string): Buffer | undefined {
  try {
    const st = lstatSync(file);
    const uid = process.getuid?.();
    if (uid === undefined || !st.isFile() || !ownedSafely(st, uid, false) || st.size <= CHECK_BYTES) return undefined;
    const bytes = readFileSync(file);
    const data = bytes.subarray(0, bytes.length - CHECK_BYTES);
    if (
      !createHash("sha256")
        .update(data)
        .digest()
        .equals(bytes.subarray(bytes.length - CHECK_BYTES))
    )
      return undefined;
    // In use: a day's touch keeps it from the sweep of another build's caches (cron's Node and a shell's differ).
    const now = Date.now();
    if (now - st.mtimeMs > DAY_MS) utimesSync(file, now / 1000, now / 1000);
    return data;
  } catch {
    return undefined;
  }
}

/** Writes `data` and its hash as `name` in `dir` (a new temp file of this process's, synced, renamed), and removes what older builds left. */
export function writeCache(dir: string, name: string, data: Buffer): void {
  try {
    const tmp = join(dir, `${name}.${randomBytes(8).toString("hex")}.tmp`);
    const fd = openSync(tmp, "wx", 0o600);
    try {
      try {
        writeFileSync(fd, Buffer.concat([data, createHash("sha256").update(data).digest()]));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, join(dir, name));
    } catch (e) {
      rmSync(tmp, { force: true }); // a disk full: what was written of it goes, not what is freed later
      throw e;
    }
    const hash = name.slice(name.lastIndexOf("-"));
    const now = Date.now();
    for (const other of readdirSync(dir)) {
      const stale = TEMP_FILE.test(other) ? STALE_TEMP_MS : CACHE_FILE.test(other) && !other.endsWith(hash) ? STALE_MS : undefined;
      if (stale !== undefined && now - lstatSync(join(dir, other)).mtimeMs > stale) rmSync(join(dir, other), { force: true });
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
  const dir = trickOff("codecache") ? undefined : cacheDirectory(); // the measuring aid (src/startup/tricks.ts): no cache read or written
  let name: string | undefined;
  let cached: Buffer | undefined;
  let script: Script;
  const module = { exports: {} as Cli };
  try {
    const bytes = readFileSync(BUNDLE);
    // esbuild writes ASCII (it escapes the rest): read as such, a one-byte string, without decoding UTF-8.
    const source = isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
    name = dir && cacheName(bytes, argv[0]);
    cached = dir && name ? readCache(join(dir, name)) : undefined;
    script = new Script(`${WRAPPER}${source}\n})`, {
      filename: BUNDLE,
      ...(cached ? { cachedData: cached } : {}),
      importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    });
    script.runInThisContext()(module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  } catch (e) {
    // A broken install (the file missing, cut short): one sentence, as every error of coord's.
    if (process.env.COORD_DEBUG === "1") console.error(e);
    console.error(`coord: could not load its CLI from ${BUNDLE} (${(e as Error).message.split("\n")[0]}); reinstall coord`);
    process.exitCode = 1;
    return;
  }
  await module.exports.run(argv);
  // After the command, so that the cache holds the functions it compiled on the way.
  if (!dir || !name || (cached && !script.cachedDataRejected) || process.exitCode !== 0 || !worthCaching(argv)) return;
  try {
    accessSync(dir, fs.W_OK); // a read-only one: not worth making the data
  } catch {
    return;
  }
  writeCache(dir, name, script.createCachedData());
}
