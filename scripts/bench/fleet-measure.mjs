// Measures whole `coord sync` processes on a fleet made by fleet-fixture.mjs:
// a sync with nothing new and a sync that runs one new task, wall time and
// peak RSS (a preload of ours, max-rss.mjs).
//
//   node scripts/bench/fleet-measure.mjs <dir> [runs=3]   (makes the fleet in <dir> unless it is there)
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { addOrder, makeFleet, MEASURED } from "./fleet-fixture.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const COORD = resolve(here, "../../dist/coord.mjs");
const PRELOAD = join(here, "max-rss.mjs");

/** One `coord sync` process: wall ms and peak RSS (MiB). */
export function timedSync(checkout, extraNodeArgs = []) {
  const scratch = mkdtempSync(join(tmpdir(), "coord-rss-"));
  const rssFile = join(scratch, "rss");
  const t = performance.now();
  execFileSync("node", ["--import", PRELOAD, ...extraNodeArgs, COORD, "sync", "--dir", checkout], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, COORD_BENCH_RSS_FILE: rssFile },
  });
  const ms = performance.now() - t;
  const rss = Number(readFileSync(rssFile, "utf8").trim().split("\n").at(-1)) / 1024;
  rmSync(scratch, { recursive: true, force: true });
  return { ms, rss };
}

const fmt = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)].toFixed(0)} (min ${s[0].toFixed(0)}, max ${s.at(-1).toFixed(0)})`;
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = resolve(process.argv[2] ?? mkdtempSync(join(tmpdir(), "coord-fleet-")));
  const runs = Number(process.argv[3] ?? 3);
  const checkout = join(dir, MEASURED);
  if (!existsSync(checkout)) await makeFleet({ dir, log: (l) => console.log(l) });
  timedSync(checkout); // settles whatever the first sync left (a heartbeat, receipts)
  const noop = Array.from({ length: runs }, () => timedSync(checkout));
  console.log(`no-op sync:    ${fmt(noop.map((r) => r.ms))} ms   peak RSS ${fmt(noop.map((r) => r.rss))} MiB`);
  const one = [];
  for (let i = 0; i < runs; i++) {
    addOrder(join(dir, "person"), `bench-${Date.now()}-${i}`);
    one.push(timedSync(checkout));
  }
  console.log(`one new task:  ${fmt(one.map((r) => r.ms))} ms   peak RSS ${fmt(one.map((r) => r.rss))} MiB`);
  console.log(`fleet: ${dir}`);
}
