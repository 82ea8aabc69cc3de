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
/** The CLI measured: this tree's bundle, or another build's ($COORD_BENCH_CLI, e.g. an older commit's, for a before/after). */
const COORD = process.env.COORD_BENCH_CLI ? resolve(process.env.COORD_BENCH_CLI) : resolve(here, "../../dist/coord.mjs");
const PRELOAD = join(here, "max-rss.mjs");

/** One `coord sync` process (of `cli`, default: the one measured): wall ms, coord's own CPU ms and peak RSS (MiB). */
export function timedSync(checkout, { cli = COORD, nodeArgs = [] } = {}) {
  const scratch = mkdtempSync(join(tmpdir(), "coord-rss-"));
  const rssFile = join(scratch, "rss");
  const t = performance.now();
  execFileSync("node", ["--import", PRELOAD, ...nodeArgs, cli, "sync", "--dir", checkout], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, COORD_BENCH_RSS_FILE: rssFile },
  });
  const ms = performance.now() - t;
  const [rss, cpu] = readFileSync(rssFile, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
  rmSync(scratch, { recursive: true, force: true });
  return { ms, cpu: cpu / 1000, rss: rss / 1024 };
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
  const line = (what, rs) => console.log(`${what} wall ${fmt(rs.map((r) => r.ms))} ms   CPU ${fmt(rs.map((r) => r.cpu))} ms   peak RSS ${fmt(rs.map((r) => r.rss))} MiB`);
  line("no-op sync:  ", noop);
  const one = [];
  for (let i = 0; i < runs; i++) {
    addOrder(join(dir, "person"), `bench-${Date.now()}-${i}`);
    one.push(timedSync(checkout));
  }
  line("one new task:", one);
  console.log(`fleet: ${dir}`);
}
