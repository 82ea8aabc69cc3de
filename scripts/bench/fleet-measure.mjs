// Measures whole `coord sync` processes on a fleet made by fleet-fixture.mjs:
// a sync with nothing new and a sync that runs one new task, wall time and
// peak RSS (a preload of ours, max-rss.mjs).
//
//   node scripts/bench/fleet-measure.mjs <dir> [runs=3]   (makes the fleet in <dir> unless it is there)
//   COORD_BENCH_BEFORE=<other>/dist/coord.mjs node scripts/bench/fleet-measure.mjs <dir> 7   (before and after, in turns)
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

/** A copy of the fleet in `dir` at `to`, its clones pointed at its own hub (to measure another build on the same fleet). */
export function copyFleet(dir, to) {
  execFileSync("cp", ["-a", dir, to]);
  for (const clone of [MEASURED, "person"]) execFileSync("git", ["-C", join(to, clone), "remote", "set-url", "origin", join(to, "hub.git")]);
  rmSync(join(to, MEASURED, ".git", "coord", "parsed.json"), { force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = resolve(process.argv[2] ?? mkdtempSync(join(tmpdir(), "coord-fleet-")));
  const runs = Number(process.argv[3] ?? 3);
  if (!existsSync(join(dir, MEASURED))) await makeFleet({ dir, log: (l) => console.log(l) });
  // With COORD_BENCH_BEFORE=<another build's coord.mjs>: that build on a copy of the fleet, the two measured in turns.
  const sides = [{ name: "", dir, cli: COORD }];
  if (process.env.COORD_BENCH_BEFORE) {
    const copy = mkdtempSync(join(tmpdir(), "coord-fleet-before-"));
    rmSync(copy, { recursive: true });
    copyFleet(dir, copy);
    sides.unshift({ name: "before ", dir: copy, cli: resolve(process.env.COORD_BENCH_BEFORE) });
    sides[1].name = "after  ";
  }
  const inTurns = (i) => (i % 2 ? [...sides].reverse() : sides);
  for (const side of sides) timedSync(join(side.dir, MEASURED), side); // settles whatever the first sync left (a heartbeat, receipts)
  const noop = new Map(sides.map((side) => [side, []]));
  for (let i = 0; i < runs; i++) for (const side of inTurns(i)) noop.get(side).push(timedSync(join(side.dir, MEASURED), side));
  const one = new Map(sides.map((side) => [side, []]));
  for (let i = 0; i < runs; i++)
    for (const side of inTurns(i)) {
      addOrder(join(side.dir, "person"), `bench-${Date.now()}-${i}`);
      one.get(side).push(timedSync(join(side.dir, MEASURED), side));
    }
  const line = (what, rs) => console.log(`${what} wall ${fmt(rs.map((r) => r.ms))} ms   CPU ${fmt(rs.map((r) => r.cpu))} ms   peak RSS ${fmt(rs.map((r) => r.rss))} MiB`);
  for (const side of sides) {
    line(`${side.name}no-op sync:  `, noop.get(side));
    line(`${side.name}one new task:`, one.get(side));
  }
  console.log(`fleet: ${dir}${sides.length > 1 ? ` (before: ${sides[0].dir})` : ""}`);
}
