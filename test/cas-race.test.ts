// Machines racing to push to one branch (test/cas-race.ts simulates them, without git): what the wait after a
// rejected push (contentionDelay) gives a fleet on a 2-core machine, and why its numbers. A try is 300 ms alone
// (± 25 %), about what fetch, read, build and push took on the bench machine; tries share 2 cores.
// COORD_SIM_TABLE=1 npx vitest run test/cas-race.test.ts prints the table the numbers were chosen on.
import { describe, expect, it } from "vitest";
import { contentionDelay, PUSH_BACKOFF } from "../src/core/time/backoff.js";
import { type Race, race, races, type Wait } from "./cas-race.js";
import { patient } from "./patience.js";

const coord: Wait = (n, tryMs, random) => contentionDelay(n, tryMs, PUSH_BACKOFF, random);

/** The rule with other numbers: `immediate` retries at once (or within `spread` of the try just done), then full jitter up to `tries` tries. */
function rule(immediate: number, tries: number, spread = 0): Wait {
  return (n, tryMs, random) => {
    if (n <= immediate) return spread * tryMs * random();
    const base = Math.max(PUSH_BACKOFF.baseMs, tryMs);
    return Math.min(base * 2 ** (n - 1 - immediate), PUSH_BACKOFF.maxMs, base * tries) * random();
  };
}
const before = rule(2, 4); // until 2026-11-26: twice at once, then up to 4 tries' worth
const never: Wait = () => 0;

const TRY = 300;
const onTwoCores = { tryMs: TRY, cores: 2 } as const;
/** A burst: every machine publishes once, all at once (a person's push seen by every daemon). */
const burst = (machines: number): Omit<Race, "seed" | "wait"> => ({ ...onTwoCores, machines });
/**
 * Row 16e's shape: each machine claims, runs a task of 1 s, publishes its result with its next claims, runs 3 s of
 * tasks, publishes; every publish's first try is built on the tip it read last, without a fetch (push.ts lastRead).
 */
const drain = (machines: number): Omit<Race, "seed" | "wait"> => ({ ...onTwoCores, machines, plan: [0, 1000, 3000], stale: 0.6 });
const RUNS = 300;

describe("the simulation", () => {
  it("without contention for the cores, a burst of N lands one push a try: N tries' time, the last machine's Nth try", () => {
    for (const machines of [2, 5, 8]) {
      const r = race({ machines, tryMs: TRY, trySpread: 0, startSpreadMs: 0, wait: never, seed: 1 });
      expect(r.totalMs).toBeCloseTo(machines * TRY, 6);
      expect(r.worstTries).toBe(machines);
      expect(r.tries).toBe((machines * (machines + 1)) / 2);
    }
  });

  it("tries beside each other share 2 cores: 5 at once take 2.5 times as long", () => {
    // Rounds of 5, 4, 3, 2, 1 tries: 2.5 + 2 + 1.5 + 1 + 1 tries' time.
    const r = race({ machines: 5, tryMs: TRY, trySpread: 0, startSpreadMs: 0, cores: 2, wait: never, seed: 1 });
    expect(r.totalMs).toBeCloseTo(8 * TRY, 6);
  });

  it("is the same for the same seed", () => {
    const run = () => race({ ...drain(5), wait: coord, seed: 7 });
    expect(run()).toEqual(run());
  });
});

describe("contentionDelay in a race (2 cores, tries of 300 ms)", () => {
  it.each([
    // machines, the median time for all to land (tries' durations), the worst of 300 runs
    [2, 2.5, 3],
    [3, 4, 5],
    [5, 9, 11],
    [8, 20, 27],
  ])("a burst of %i: each lands once, within N tries each, in %f tries' time (median), %f at worst", (machines, median, worst) => {
    const r = races({ ...burst(machines), wait: coord }, RUNS);
    expect(r.worstTries).toBeLessThanOrEqual(machines); // no machine starves: each round lands one
    expect(r.p50).toBeLessThanOrEqual(median * TRY);
    expect(r.worst).toBeLessThanOrEqual(worst * TRY);
  });

  it("5 daemons draining (row 16e's shape): done in 9 s (median), no publish takes longer than 6 s", () => {
    const r = races({ ...drain(5), wait: coord }, RUNS);
    expect(r.p50).toBeLessThanOrEqual(9_000); // 4 s of tasks, 15 publishes
    expect(r.worstPublishMs).toBeLessThanOrEqual(6_000);
  });

  it("waits only after 3 losses: a burst of 5 lands sooner than when it waited after 2, and a burst of 2 as soon", () => {
    const median = (wait: Wait, machines: number) => races({ ...burst(machines), wait }, RUNS).p50;
    expect(median(coord, 5)).toBeLessThan(0.93 * median(before, 5));
    expect(median(coord, 2)).toBeLessThanOrEqual(median(before, 2));
    const drained = (wait: Wait) => races({ ...drain(5), wait }, RUNS);
    expect(drained(coord).p95).toBeLessThan(drained(before).p95);
    expect(drained(coord).worstPublishMs).toBeLessThan(drained(before).worstPublishMs); // a loser that waits falls behind
  });

  it("a spread of a fraction of a try on the first retries, instead of none, only adds the wait", () => {
    const median = (wait: Wait, machines: number) => races({ ...burst(machines), wait }, RUNS).p50;
    for (const spread of [0.25, 0.5]) {
      expect(median(rule(3, 2, spread), 2)).toBeGreaterThan(median(coord, 2));
      expect(median(rule(3, 2, spread), 5)).toBeGreaterThan(median(coord, 5));
    }
  });

  it("but it does wait: 20 machines at once never waiting take 1.3 times as long", () => {
    const median = (wait: Wait) => races({ ...burst(20), wait }, 60).p50;
    expect(median(never)).toBeGreaterThan(1.3 * median(coord));
  });
});

if (process.env.COORD_SIM_TABLE) {
  it("prints the table", { timeout: patient(600_000) }, () => {
    const rules: [string, Wait][] = [
      ["3 at once, ≤ 2 tries (coord)", coord],
      ["2 at once, ≤ 4 tries (before)", before],
      ["1 at once, ≤ 4 tries", rule(1, 4)],
      ["none at once, ≤ 4 tries", rule(0, 4)],
      ["2 within ¼ try, ≤ 4 tries", rule(2, 4, 0.25)],
      ["2 within ½ try, ≤ 4 tries", rule(2, 4, 0.5)],
      ["2 at once, ≤ 2 tries", rule(2, 2)],
      ["3 at once, ≤ 4 tries", rule(3, 4)],
      ["never wait", never],
    ];
    const s = (ms: number) => (ms / 1000).toFixed(2);
    const lines = [
      "| rule | N | burst: median s | p95 | worst | most tries | tries a run | drain: median s | p95 | longest publish s |",
      "|---|---|---|---|---|---|---|---|---|---|",
    ];
    for (const machines of [2, 3, 4, 5, 6, 8, 20])
      for (const [name, wait] of rules) {
        const runs = machines > 8 ? 100 : 1000;
        const b = races({ ...burst(machines), wait }, runs);
        const d = races({ ...drain(machines), wait }, runs);
        lines.push(
          `| ${name} | ${machines} | ${s(b.p50)} | ${s(b.p95)} | ${s(b.worst)} | ${b.worstTries} | ${b.tries.toFixed(1)} | ${s(d.p50)} | ${s(d.p95)} | ${s(d.worstPublishMs)} |`,
        );
      }
    console.log(lines.join("\n"));
  });
}
