// The fetch of a `coord sync` started at once, while the CLI loads.
//
// Loading the CLI (one large module) takes about as long as the fetch a sync
// starts with, and one waits on the CPU while the other waits on the network:
// src/cli/entry.ts starts the fetch first, then loads the CLI, and the sync
// takes the fetched tip instead of fetching again. It is only a head start:
// any doubt (a machine.yaml this reader does not follow, a fetch that fails, a
// remote or branch the sync's config does not name) and the sync fetches as
// ever, and says what is wrong. A tip fetched before the sync's lock was taken
// may be old by then; the compare-and-swap of every push makes that safe.
// Light to load: only git's client (src/git/client.ts). What it buys, and the
// bench row that shows it: src/startup/tricks.ts.
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { plainGitDir } from "../git/dotgit.js";
import { fetchTip } from "../git/client.js";
import { lookUpUserSettings } from "../git/env.js";
import { takeSilence } from "../git/remote-tip.js";
import { processSlot } from "../process-slot.js";

export interface Prefetched {
  dir: string;
  remote: string;
  branch: string;
  /** The remote's tip, fetched into the tracking ref. */
  tip: string;
}

/** A plain YAML scalar of machine.yaml that is a safe git name (what coord writes); anything else: no head start. */
function field(yaml: string, key: string): string | undefined {
  const m = new RegExp(`^${key}:[ \\t]*([A-Za-z0-9][A-Za-z0-9._/-]*)[ \\t]*$`, "m").exec(yaml);
  return m && !m[1]!.includes("..") ? m[1] : undefined;
}

/** A head start that did not get the tip: why (a fetch that timed out is not tried a second time). */
export interface PrefetchFailed {
  error: unknown;
}

/** Whether the machine's last sync failed (health.json counts failures): then no head start, the sync goes the ordinary way (its backoff, its probe). */
async function lastSyncFailed(gitDir: string): Promise<boolean> {
  const text = await readFile(join(gitDir, "coord", "health.json"), "utf8").catch(() => undefined);
  if (text === undefined) return false;
  try {
    return (JSON.parse(text) as { failures?: unknown }).failures !== 0;
  } catch {
    return true; // a broken file: the sync says what it makes of it
  }
}

/** Fetches the branch of the machine in `dir` as its sync would; undefined on any doubt. `spawned`: called once git runs. */
async function fetchNow(dir: string, signal: AbortSignal, spawned: () => void): Promise<Prefetched | undefined> {
  // The user's ssh command and protocol version are looked up (a git process) while the files are read.
  const ssh = lookUpUserSettings(dir);
  const gitDir = await plainGitDir(dir);
  if (!gitDir) return undefined;
  const [failed, yaml] = await Promise.all([lastSyncFailed(gitDir), readFile(join(gitDir, "coord", "machine.yaml"), "utf8")]);
  if (failed) return undefined;
  const remote = field(yaml, "remote");
  const branch = field(yaml, "branch");
  const seconds = Number(field(yaml, "gitTimeout") ?? 30);
  if (!remote || !branch || !(seconds > 0)) return undefined;
  await ssh;
  // The quiet look (src/cli/entry.ts) found the remote silent until its deadline: the sync fails with that, at once.
  const silent = takeSilence(dir, remote);
  if (silent) throw silent;
  const fetching = fetchTip(dir, remote, branch, { timeout: seconds, signal }); // git starts here, before the first await
  spawned();
  const tip = await fetching;
  return tip ? { dir: resolve(dir), remote, branch, tip } : undefined;
}

/** The head start of this process: one, whichever copy of this module started it (src/process-slot.ts). */
const slot = processSlot<{ started: { dir: string; fetched: Promise<Prefetched | PrefetchFailed | undefined>; stop: AbortController } | undefined }>("prefetch");

/**
 * Starts the fetch of the machine in `dir` (entry.ts, for a `coord sync`).
 * Resolves once git runs, or once the head start gave up: the CLI is loaded
 * then, and compiling it (synchronous) does not hold the fetch back.
 */
export function startPrefetch(dir: string): Promise<void> {
  const stop = new AbortController();
  let spawned = () => {};
  const running = new Promise<void>((r) => {
    spawned = r;
  });
  const fetched = fetchNow(dir, stop.signal, spawned).catch((error: unknown) => ({ error }));
  slot.started = { dir: resolve(dir), stop, fetched };
  return Promise.race([running, fetched.then(() => {})]);
}

/** Whether `coord sync` started a head start for `dir` (after its quiet check said no). */
export function startedFor(dir: string): boolean {
  return slot.started?.dir === resolve(dir);
}

/**
 * The head start for the sync of `dir` with `remote`/`branch`, once: its
 * fetched tip, why its fetch failed, or undefined (no head start: the sync
 * fetches).
 */
export async function takePrefetch(dir: string, remote: string, branch: string): Promise<Prefetched | PrefetchFailed | undefined> {
  const mine = slot.started;
  if (!mine || mine.dir !== resolve(dir)) return undefined;
  slot.started = undefined;
  const got = await mine.fetched;
  if (!got || "error" in got) return got;
  return got.remote === remote && got.branch === branch ? got : undefined;
}

/** A head start nobody took (a sync skipped in its backoff, a usage error) is stopped: it must not keep the process waiting on the remote. */
export function dropPrefetch(): void {
  slot.started?.stop.abort();
  slot.started = undefined;
}
