// Fleets of daemons for the tests of the push budget on real git (budget.e2e): daemons run in this process
// (runDaemon, stopped by their signal), pushes are counted at the hub as they reach it (every receive-pack a
// machine starts: a lost compare-and-swap retried counts).
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runDaemon } from "../src/daemon/daemon.js";
import { type Fleet, git, readLines, waitFor } from "./helpers.js";

const stops: (() => Promise<unknown>)[] = [];
const maxListeners = process.getMaxListeners();

/** Stops the daemons started so far (for afterEach). */
export async function stopDaemons(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  process.setMaxListeners(maxListeners);
}

export const MINUTE = 60_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const secondsSince = (t: number) => Math.round((Date.now() - t) / 1000);

/**
 * Every push a machine starts to the hub, counted where it reaches it: each machine's checkout runs receive-pack
 * through a script that appends a line to a log first (rejected pushes, lost races, count as well as landed ones).
 * Returns the count so far.
 */
export async function countPushes(f: Fleet): Promise<() => Promise<number>> {
  const log = join(f.root, "receive-pack.log");
  const wrapper = join(f.root, "counted-receive-pack");
  await writeFile(wrapper, `#!/bin/sh\necho "$(date +%s) $PWD" >> '${log}'\nexec git receive-pack "$@"\n`);
  await chmod(wrapper, 0o755);
  for (const dir of Object.values(f.machines)) await git(dir, "config", "remote.origin.receivepack", wrapper);
  return async () => (await readLines(log)).length;
}

/** Pushes that landed on the machines' branch (the hub logs every ref update: core.logAllRefUpdates). */
export async function landedPushes(f: Fleet): Promise<number> {
  return (await git(f.hubPath, "reflog", "show", "--format=%H", "refs/heads/coord")).split("\n").filter(Boolean).length;
}

/** Commits by machines (…@coord.invalid) on the hub's machines' branch. */
export async function machineCommits(f: Fleet): Promise<number> {
  return (await git(f.hubPath, "log", "--format=%ae", "coord")).split("\n").filter((e) => e.endsWith("@coord.invalid") && e !== "hub@coord.invalid").length;
}

export interface Daemon {
  name: string;
  lines: string[];
}

export interface Daemons {
  daemons: Daemon[];
  /** When they started (ms): their log lines say seconds since. */
  started: number;
  /** Stops them all (their signal), and waits for them to end (at most a minute). */
  stop(): Promise<void>;
}

/**
 * A daemon per machine, in this process (runDaemon), each logging to its own lines; stopped (their signal, then
 * awaited, at most a minute) by afterEach.
 */
export function startDaemons(f: Fleet, names: string[], opts: { schedule?: string; jitter?: number } = {}): Daemons {
  process.setMaxListeners(Math.max(maxListeners, 4 * names.length + 20)); // each listens for SIGTERM, SIGINT and stray errors
  const started = Date.now();
  const daemons = names.map((name) => {
    const lines: string[] = [];
    const stop = new AbortController();
    const done = runDaemon({
      dir: f.machines[name]!,
      ...opts,
      signal: stop.signal,
      log: (line) => lines.push(`+${((Date.now() - started) / 1000).toFixed(1)}s ${name}: ${line}`),
    }).catch((e: unknown) => lines.push(`+${secondsSince(started)}s ${name}: the daemon ended: ${(e as Error).message}`));
    return { name, lines, stop, done };
  });
  const stopAll = async () => {
    for (const d of daemons) d.stop.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(daemons.map((d) => d.done)), new Promise((r) => (timer = setTimeout(r, MINUTE)))]);
    clearTimeout(timer);
  };
  stops.push(stopAll);
  return { daemons, started, stop: stopAll };
}

/** Waits (at most `ms`) until every daemon has ended its first sync. */
export async function firstSyncs(daemons: Daemon[], ms: number): Promise<void> {
  const synced = async () => daemons.every((d) => d.lines.some((l) => /: sync(: | failed)/.test(l)));
  await waitFor(synced, ms, () => `the daemons' first syncs; their last lines:\n${daemons.flatMap((d) => d.lines.slice(-3)).join("\n")}`, 200);
}

/** The lines of the daemons' logs where a sync failed or a publish gave up. */
export const failedSyncs = (daemons: Daemon[]) => daemons.flatMap((d) => d.lines.filter((l) => /sync failed|gave up|the daemon ended/.test(l)));
