// Machines racing to push to one branch (test/cas-race.ts simulates them, without git), to compare waits after a
// rejected push (contentionDelay) on a 2-core machine. A try is 300 ms alone
// (± 25 %), about what fetch, read, build and push took on the bench machine; tries share 2 cores.
// COORD_SIM_TABLE=1 npx vitest run test/cas-race.test.ts prints a table of rules.
import { describe, expect, it } from "vitest";
import { contentionDelay, PUSH_BACKOFF } from "../src/core/time/backoff.js";
import { type Race, race, races, type Wait } from "./cas-race.js";

const coord: Wait = (n, tryMs, random) => contentionDelay(n, tryMs, PUSH_BACKOFF, random);

/** The rule with other numbers: `immediate` retries at once (or within `spread` of the try just done), then full jitter up to `tries` tries. */
function rule(immediate: number, tries: number, spread = 0): Wait {
  return (n, tryMs, random) => {
    if (n <= immediate) return spread * tryMs * random();
    const base = Math.max(PUSH_BACKOFF.baseMs, tryMs);
    return Math.min(base * 2 ** (n - 1 - immediate), PUSH_BACKOFF.maxMs, base * tries) * random();
  };
}
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

if (process.env.COORD_SIM_TABLE) {
  it("prints the table", () => {
    const rules: [string, Wait][] = [
      ["coord: 2 at once, ≤ 4 tries", coord],
      ["3 at once, ≤ 2 tries", rule(3, 2)],
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
  }, 600_000);
}
