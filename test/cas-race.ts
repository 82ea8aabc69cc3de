// A simulation of machines publishing to one branch as compare-and-swap (src/sync/cas.ts publishWithRetry), to
// compare waits after a rejected push (src/core/time/backoff.ts contentionDelay) without git. Deterministic: the
// random source is seeded. Used by test/cas-race.test.ts.
//
// Each machine runs a plan: publishes, with work between them (a task that runs, no CPU). A publish is tries; a try
// reads the tip (`readAt` into it: the fetch's ref advertisement), then builds and pushes, `tryMs` in all on a
// machine of its own (± `trySpread`). Its push lands when no push landed since its read, else it is rejected and
// the machine waits `wait(attempt, how long that try took)` before the next. The tries share `cores` (processor
// sharing, with `load` other runnable processes): the tries of a 2-core machine running 5 daemons slow each other,
// as git's processes do. Not modelled: the daemons' ticks, the push budget's turns, the orders a claim loses.

import { seeded } from "./fixtures.js";

/** The wait after rejected push number `attempt`, when that try took `tryMs` (contentionDelay's shape). */
export type Wait = (attempt: number, tryMs: number, random: () => number) => number;

export interface Race {
  machines: number;
  /** One try's duration alone (ms). */
  tryMs: number;
  /** 0 to 1: a try takes tryMs · (1 − spread … 1 + spread), drawn for each try. */
  trySpread?: number;
  /** Where in a try its tip is read (0: at its start, 1: at its push). */
  readAt?: number;
  /** Cores the tries share; Infinity: each runs at full speed whatever the others do. */
  cores?: number;
  /** Other runnable processes on those cores. */
  load?: number;
  /** The machines begin their plans within this (ms), at random. */
  startSpreadMs?: number;
  /** Each machine's plan: the work (ms) before each publish; [0]: one publish at once. */
  plan?: number[];
  /**
   * Each publish's first try is built on the tip the machine read last (its own last landing: a claim on
   * lastRead, src/sync/push.ts), without a fetch: this fraction of a try. Its rejection is redone at once
   * (cas.ts `stale`); `staleCounts`: the next rejection is attempt 2, as cas.ts counts today, else attempt 1.
   */
  stale?: number;
  staleCounts?: boolean;
  wait: Wait;
  seed: number;
  /** The simulation stops here (ms); a publish not landed by then counts as never. */
  horizonMs?: number;
}

export interface RaceResult {
  /** When the last publish landed (ms from the start), Infinity if one never did. */
  totalMs: number;
  /** The most tries one publish took. */
  worstTries: number;
  /** The longest one publish took, from its first try to its landing (ms). */
  worstPublishMs: number;
  /** Tries in all (each ~10 git processes). */
  tries: number;
}

interface Machine {
  step: number;
  /** Waiting (a start, work, a wait after a rejection) until this time; undefined while trying or done. */
  wakeAt?: number;
  trying?: { left: number; readLeft: number; read?: number; began: number; stale: boolean };
  attempt: number;
  /** Rejections of a stale first try in this publish (not counted as contention when !staleCounts). */
  staleLost: number;
  lastRead?: number;
  publishBegan: number;
  done: boolean;
}

export function race(r: Race): RaceResult {
  const {
    machines: n,
    tryMs,
    trySpread = 0.25,
    readAt = 0.1,
    cores = Infinity,
    load = 0,
    startSpreadMs = 50,
    plan = [0],
    stale = 0,
    staleCounts = true,
    wait,
    horizonMs = 120_000,
  } = r;
  const random = seeded(r.seed);
  let version = 0;
  let now = 0;
  const out: RaceResult = { totalMs: 0, worstTries: 0, worstPublishMs: 0, tries: 0 };
  const ms: Machine[] = Array.from({ length: n }, () => ({ step: 0, wakeAt: random() * startSpreadMs + plan[0]!, attempt: 0, staleLost: 0, publishBegan: 0, done: false }));
  const begin = (m: Machine) => {
    if (m.attempt === 0) m.publishBegan = now;
    m.attempt++;
    out.tries++;
    const isStale = stale > 0 && m.attempt === 1;
    const left = tryMs * (isStale ? stale : 1) * (1 - trySpread + 2 * trySpread * random());
    m.wakeAt = undefined;
    m.trying = { left, readLeft: left * (1 - readAt), began: now, stale: isStale };
    if (isStale) m.trying.read = m.lastRead ?? version;
    else if (readAt <= 0) m.trying.read = version;
  };
  const EPS = 1e-9;
  while (ms.some((m) => !m.done)) {
    const active = ms.filter((m) => m.trying).length;
    const rate = Number.isFinite(cores) ? Math.min(1, cores / Math.max(1, active + load)) : 1;
    // The next event: a try reading the tip or pushing, or a machine waking.
    let next = Infinity;
    for (const m of ms) {
      if (m.trying) next = Math.min(next, now + (m.trying.read === undefined ? m.trying.left - m.trying.readLeft : m.trying.left) / rate);
      else if (m.wakeAt !== undefined) next = Math.min(next, m.wakeAt);
    }
    if (next > horizonMs) {
      out.totalMs = Infinity;
      break;
    }
    for (const m of ms) if (m.trying) m.trying.left -= (next - now) * rate;
    now = next;
    // Events at this instant, in a random order (two pushes at once: git's lock lets one through).
    const order = ms.map((_, i) => [random(), i] as const).sort((a, b) => a[0] - b[0]);
    for (const [, i] of order) {
      const m = ms[i]!;
      const t = m.trying;
      if (t && t.read === undefined && t.left - t.readLeft <= EPS) t.read = version;
      if (t && t.read !== undefined && t.left <= EPS) {
        m.trying = undefined;
        if (t.read === version) {
          version++;
          out.worstTries = Math.max(out.worstTries, m.attempt);
          out.worstPublishMs = Math.max(out.worstPublishMs, now - m.publishBegan);
          out.totalMs = now;
          m.attempt = 0;
          m.staleLost = 0;
          m.lastRead = version;
          m.step++;
          if (m.step >= plan.length) m.done = true;
          else m.wakeAt = now + plan[m.step]!;
        } else if (t.stale) {
          m.staleLost++;
          m.wakeAt = now;
        } else {
          m.wakeAt = now + Math.max(0, wait(staleCounts ? m.attempt : m.attempt - m.staleLost, now - t.began, random));
        }
      }
      if (m.wakeAt !== undefined && m.wakeAt <= now + EPS) begin(m);
    }
  }
  return out;
}

/** Quantile q (0 to 1) of `xs`, nearest rank. */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** Races `runs` times (seeds 1 … runs): the median and worst time for every publish to land, the most tries one took. */
export function races(r: Omit<Race, "seed">, runs: number): { p50: number; p95: number; worst: number; worstTries: number; worstPublishMs: number; tries: number } {
  const all = Array.from({ length: runs }, (_, i) => race({ ...r, seed: i + 1 }));
  const total = all.map((x) => x.totalMs);
  return {
    p50: quantile(total, 0.5),
    p95: quantile(total, 0.95),
    worst: Math.max(...total),
    worstTries: Math.max(...all.map((x) => x.worstTries)),
    worstPublishMs: Math.max(...all.map((x) => x.worstPublishMs)),
    tries: all.reduce((a, x) => a + x.tries, 0) / runs,
  };
}
