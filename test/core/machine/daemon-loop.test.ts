// The daemon's loop (src/core/machine/daemon-loop.ts) on a fake clock: a driver plays what the daemon's edge does (one
// timer to dueAt, syncs that take a given time, asks, pokes and stops at given instants) and records when each sync
// started and why.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFERRED_SPREAD_MS,
  dueAt,
  endOf,
  type LoopEvent,
  type LoopSettings,
  type LoopState,
  nextSyncAt,
  POKE_MS,
  QUIET_OTHERS_MS,
  start,
  step,
  WAKE_FLOOR_MS,
  type Why,
} from "../../../src/core/machine/daemon-loop.js";
import { fuzzRuns } from "../../fixtures.js";

const S = 1000;
const MIN = 60 * S;

/** Every `ms` (a cron schedule of a fixed period): the next tick strictly after `after`. */
const every = (ms: number) => (after: number) => (Math.floor(after / ms) + 1) * ms;

const settings = (over: Partial<LoopSettings> = {}): LoopSettings => ({
  nextTick: every(5 * MIN),
  jitterMs: 0,
  heartbeatMs: 2 * MIN,
  graceMs: 10 * S,
  killGitMs: 5 * S,
  random: () => 0,
  ...over,
});

type MoveKind = { addressed?: true; othersOnly?: true };

interface Play {
  /** Events from outside at given instants. */
  events?: { at: number; event: "asked" | "poked" | "publish" | "stop" }[];
  /** How long each sync takes (the last repeats). */
  syncMs?: number[];
  /** Whether each sync ran work (the rest: no). */
  ranWork?: boolean[];
  /** Whether each sync's publish landed on a newer tip than it read (the rest: no). */
  newerTip?: boolean[];
  /** The quiet stamp's end a sync ending at `end` leaves (none: undefined). */
  quietUntil?: (end: number) => number | undefined;
  /** Whether that end is when a publish the push budget held may go. */
  deferred?: boolean;
  /** Whether each sync left a quiet stamp. */
  quiet?: boolean;
  /** When the hub moves (a person's push, another machine's): a look after it, before the next sync, sees it. */
  moves?: number[];
  /** How long a look takes. */
  lookMs?: number;
  /** What a look that sees a move says of it (its wake moved; only the machines' branch moved), or says at `now`. */
  moveKind?: MoveKind | ((now: number) => MoveKind);
  until: number;
}

interface Played {
  syncs: { at: number; why: Why }[];
  actions: { at: number; type: string }[];
  logs: string[];
  state: LoopState;
  /** Most syncs running at one instant. */
  mostAtOnce: number;
}

function play(p: Play, s: LoopSettings = settings()): Played {
  const out: Played = { syncs: [], actions: [], logs: [], state: { kind: "stopped" }, mostAtOnce: 0 };
  const events = [...(p.events ?? [])].sort((a, b) => a.at - b.at);
  let running: { endsAt: number; ranWork: boolean; newerTip: boolean } | undefined;
  let looking: { endsAt: number; moved: boolean } | undefined;
  let synced = Number.NEGATIVE_INFINITY; // the start of the last sync: it saw every move before
  let count = 0;
  let now = 0;
  const apply = (r: ReturnType<typeof start>) => {
    out.state = r.state;
    for (const a of r.actions) {
      if (a.type === "log") out.logs.push(a.line);
      else if (a.type === "sync") {
        if (running) out.mostAtOnce = 2;
        const ms = p.syncMs?.[Math.min(count, p.syncMs.length - 1)] ?? S;
        running = { endsAt: now + ms, ranWork: p.ranWork?.[count] ?? false, newerTip: p.newerTip?.[count] ?? false };
        count++;
        synced = now;
        out.syncs.push({ at: now, why: a.why });
        out.mostAtOnce = Math.max(out.mostAtOnce, 1);
      } else {
        if (a.type === "look") looking = { endsAt: now + (p.lookMs ?? 100), moved: (p.moves ?? []).some((m) => m > synced && m <= now) };
        out.actions.push({ at: now, type: a.type });
      }
    }
  };
  apply(start(now));
  for (let i = 0; i < 10_000 && out.state.kind !== "stopped"; i++) {
    const next = Math.min(events[0]?.at ?? Infinity, running?.endsAt ?? Infinity, looking?.endsAt ?? Infinity, dueAt(out.state) ?? Infinity);
    if (next > p.until) break;
    now = next;
    let event: LoopEvent;
    if (running && running.endsAt === now) {
      event = {
        type: "ended",
        ranWork: running.ranWork,
        ...(running.newerTip ? { newerTip: true } : {}),
        quietUntil: p.quietUntil?.(now),
        ...(p.deferred ? { deferred: true } : {}),
        ...(p.quiet ? { quiet: true as const } : {}),
      };
      running = undefined;
    } else if (looking && looking.endsAt === now) {
      const kind = typeof p.moveKind === "function" ? p.moveKind(now) : p.moveKind;
      event = { type: "looked", moved: looking.moved, ...(looking.moved ? kind : {}) };
      looking = undefined;
    } else if (events[0]?.at === now) event = { type: events.shift()!.event };
    else event = { type: "timer" };
    apply(step(out.state, event, now, s));
  }
  return out;
}

const at = (r: Played) => r.syncs.map((x) => x.at);
const whys = (r: Played) => r.syncs.map((x) => x.why);

describe("the daemon's loop, on a fake clock", () => {
  it("syncs at once, then at each tick of its schedule", () => {
    const r = play({ until: 11 * MIN });
    expect(at(r)).toEqual([0, 5 * MIN, 10 * MIN]);
    expect(whys(r)).toEqual(["start", "tick", "tick"]);
  });

  it("starts a scheduled sync up to its jitter after the tick, at random", () => {
    const r = play({ until: 11 * MIN }, settings({ jitterMs: 30 * S, random: () => 0.5 }));
    expect(at(r)).toEqual([0, 5 * MIN + 15 * S, 10 * MIN + 15 * S]);
  });

  it("drops the ticks that fall while a sync runs (never two at once); the next tick after it syncs", () => {
    const r = play({ syncMs: [12 * MIN, S], until: 16 * MIN });
    expect(at(r)).toEqual([0, 15 * MIN]);
    expect(r.mostAtOnce).toBe(1);
  });

  it("a sync that ran work is followed at once by another, until one runs none", () => {
    const r = play({ syncMs: [2 * S], ranWork: [true, true, false], until: 6 * MIN });
    expect(at(r)).toEqual([0, 2 * S, 4 * S, 5 * MIN]);
    expect(whys(r)).toEqual(["start", "ran work", "ran work", "tick"]);
    expect(r.logs).toEqual(["ran work: syncing again at once for more", "ran work: syncing again at once for more"]);
  });

  // Its publish was rebuilt on a tip another machine pushed meanwhile: that tip is where the daemon last saw the hub,
  // so no look would see the move, and a message on it would wait for the next tick.
  it("a sync whose publish landed on a newer tip is followed at once by another, even without looks", () => {
    const r = play({ syncMs: [2 * S], newerTip: [false, true, false], until: 11 * MIN });
    expect(at(r)).toEqual([0, 5 * MIN, 5 * MIN + 2 * S, 10 * MIN]);
    expect(whys(r)).toEqual(["start", "tick", "moved", "tick"]);
    expect(r.logs).toEqual(["the hub moved during the sync: syncing again for what it brought"]);
  });

  describe("wakes for its quiet stamp's end (a heartbeat on time whatever the schedule)", () => {
    const hourly = settings({ nextTick: every(60 * MIN) });
    const cases: { name: string; quietUntil: (end: number) => number | undefined; syncs: number[]; s?: LoopSettings; deferred?: boolean }[] = [
      { name: "a stamp ending before the tick: wakes at its end", quietUntil: (end) => end + 2 * MIN, syncs: [0, 2 * MIN + S, 4 * MIN + 2 * S] },
      { name: "no stamp: waits for the tick", quietUntil: () => undefined, syncs: [0, 60 * MIN] },
      { name: "a stamp ending at or after the tick: the tick", quietUntil: () => 60 * MIN, syncs: [0, 60 * MIN] },
      { name: "a stamp already over: no sooner than a second on", quietUntil: (end) => end - MIN, syncs: [0, S + WAKE_FLOOR_MS, 2 * S + 2 * WAKE_FLOOR_MS] },
      {
        name: "a little later at random: at most 5% of its heartbeat (a fleet's heartbeats that fall due together spread)",
        quietUntil: (end) => end + 2 * MIN,
        syncs: [0, 2 * MIN + S + 6 * S * 0.5],
        s: settings({ nextTick: every(60 * MIN), random: () => 0.5 }),
      },
      {
        name: "and at most 30 s later, however long the heartbeat",
        quietUntil: (end) => end + 2 * MIN,
        syncs: [0, 2 * MIN + S + 15 * S],
        s: settings({ nextTick: every(60 * MIN), heartbeatMs: 60 * MIN, random: () => 0.5 }),
      },
      {
        name: "a stamp that ends when a publish the push budget held may go (a message in it): within a second",
        quietUntil: (end) => end + 12 * S,
        deferred: true,
        syncs: [0, 13 * S + DEFERRED_SPREAD_MS * 0.5],
        s: settings({ nextTick: every(60 * MIN), random: () => 0.5 }),
      },
    ];
    it.each(cases)("$name", ({ quietUntil, syncs, s, deferred }) => {
      const r = play({ quietUntil, until: 61 * MIN, ...(deferred ? { deferred } : {}) }, s ?? hourly);
      expect(at(r).slice(0, syncs.length)).toEqual(syncs);
      // The wake for a publish that waited is its turn: that sync pushes at once (sync/sync.ts `turns`).
      if (syncs.length > 1 && syncs[1]! < 60 * MIN) expect(whys(r)[1]).toBe(deferred ? "turn" : "wake");
    });

    it("the wake for a publish that waited stays its turn across the looks before it", () => {
      const looking = settings({ nextTick: every(60 * MIN), nextLook: (now) => now + 2 * S });
      const r = play({ quietUntil: (end) => end + 12 * S, deferred: true, lookMs: 100, until: 20 * S }, looking);
      expect(r.actions.filter((a) => a.type === "look").length).toBeGreaterThan(3);
      expect(whys(r)).toEqual(["start", "turn"]);
      expect(at(r)[1]).toBeGreaterThanOrEqual(13 * S);
    });

    it.each<[string, { until: number; deferred?: number; calm?: boolean } | undefined, number | undefined, boolean, ReturnType<typeof endOf>]>([
      ["no stamp, nothing waits", undefined, undefined, false, {}],
      ["a calm stamp", { until: 5 * MIN, calm: true }, undefined, false, { quietUntil: 5 * MIN, quiet: true }],
      ["a stamp, not calm (an ANY order open)", { until: 5 * MIN }, undefined, false, { quietUntil: 5 * MIN }],
      ["a stamp ending for a publish that waits", { until: 30 * S, deferred: 30 * S, calm: true }, 30 * S, false, { quietUntil: 30 * S, deferred: true, quiet: true }],
      ["no stamp (a hook acknowledged messages), a publish waits for its turn", undefined, 20 * S, false, { quietUntil: 20 * S, deferred: true }],
      ["a stamp ending later than the publish that waits", { until: 5 * MIN, calm: true }, 20 * S, false, { quietUntil: 20 * S, deferred: true, quiet: true }],
      ["a stamp ending sooner (a heartbeat)", { until: 10 * S, calm: true }, 20 * S, false, { quietUntil: 10 * S, quiet: true }],
      ["a sync that ran work: the next one, at once, says", { until: 5 * MIN }, 20 * S, true, {}],
      ["a time that is none", undefined, Number.NaN, false, {}],
    ])("a sync's end: %s", (_what, stamp, deferredAt, ranWork, expected) => expect(endOf(stamp, deferredAt, ranWork)).toEqual(expected));
  });

  it("an ask while idle syncs now; asks during a sync make one sync right after it", () => {
    const r = play({
      syncMs: [10 * S],
      events: [
        { at: MIN, event: "asked" },
        { at: MIN + 2 * S, event: "asked" },
        { at: MIN + 3 * S, event: "asked" },
      ],
      until: 4 * MIN,
    });
    expect(at(r)).toEqual([0, MIN, MIN + 10 * S]);
    expect(whys(r)).toEqual(["start", "asked", "asked"]);
    expect(r.logs).toEqual([
      "a sync was asked for: syncing now",
      "a sync was asked for: syncing again when this one ends",
      "a sync was asked for: syncing again when this one ends",
      "a sync was asked for meanwhile: syncing again",
    ]);
  });

  it("a publish asked for during a sync (an answer stored): one sync right after it that builds on its tip, no second full sync", () => {
    const r = play({ syncMs: [10 * S], events: [{ at: 2 * S, event: "publish" }], until: 4 * MIN });
    expect(whys(r)).toEqual(["start", "publish"]);
    expect(at(r)).toEqual([0, 10 * S]);
    expect(r.logs).toEqual([
      "something to publish: publishing it when this sync ends, on the tip it ends on",
      "publishing what was stored meanwhile, on the tip the sync ended on",
    ]);
    // Several publishes meanwhile: one sync; an ask (or a service's change) meanwhile makes it a full sync, which publishes them too.
    const many = play({ syncMs: [10 * S, S], events: [2, 3, 4].map((x) => ({ at: x * S, event: "publish" as const })), until: 4 * MIN });
    expect(whys(many)).toEqual(["start", "publish"]);
    for (const first of ["asked", "publish"] as const) {
      const other = first === "asked" ? "publish" : "asked";
      const both = play({
        syncMs: [10 * S, S],
        events: [
          { at: 2 * S, event: first },
          { at: 3 * S, event: other },
        ],
        until: 4 * MIN,
      });
      expect(whys(both)).toEqual(["start", "asked"]);
    }
    const poked = play({
      syncMs: [10 * S, S],
      events: [
        { at: 2 * S, event: "poked" },
        { at: 3 * S, event: "publish" },
      ],
      until: 4 * MIN,
    });
    expect(whys(poked)).toEqual(["start", "poked"]);
    // A sync that ran work, or landed on a newer tip, is followed by one that fetches, and publishes it too.
    expect(whys(play({ syncMs: [10 * S, S], ranWork: [true], events: [{ at: 2 * S, event: "publish" }], until: 4 * MIN }))).toEqual(["start", "ran work"]);
    expect(whys(play({ syncMs: [10 * S, S], newerTip: [true], events: [{ at: 2 * S, event: "publish" }], until: 4 * MIN }))).toEqual(["start", "moved"]);
  });

  it("a publish asked for while idle syncs now on the tip last seen, unless a move seen is still to be synced: then that sync", () => {
    const r = play({ events: [{ at: MIN, event: "publish" }], until: 4 * MIN });
    expect(whys(r)).toEqual(["start", "publish"]);
    expect(at(r)).toEqual([0, MIN]);
    const idle: LoopState = { kind: "idle", tickAt: 5 * MIN, movedAt: MIN + 5 * S };
    expect(step(idle, { type: "publish" }, MIN, settings()).actions).toEqual([
      { type: "log", line: "something to publish, and the hub moved: syncing now" },
      { type: "sync", why: "moved" },
    ]);
    const poked: LoopState = { kind: "poked", tickAt: 5 * MIN, at: MIN + POKE_MS };
    expect(step(poked, { type: "publish" }, MIN, settings()).actions.at(-1)).toEqual({ type: "sync", why: "publish" });
  });

  it("a service that changes while idle is published by one sync, POKE_MS after its last change", () => {
    const r = play({
      events: [
        { at: MIN, event: "poked" },
        { at: MIN + 300, event: "poked" },
      ],
      until: 4 * MIN,
    });
    expect(at(r)).toEqual([0, MIN + 300 + POKE_MS]);
    expect(whys(r)[1]).toBe("poked");
  });

  it("a service that changes during a sync: one sync right after it; an ask too: the log says the ask", () => {
    const poked = play({ syncMs: [10 * S], events: [{ at: 2 * S, event: "poked" }], until: MIN });
    expect(whys(poked)).toEqual(["start", "poked"]);
    expect(at(poked)).toEqual([0, 10 * S]);
    expect(poked.logs).toEqual(["a service changed: syncing again to publish it"]);
    const both = play({
      syncMs: [10 * S],
      events: [
        { at: 2 * S, event: "asked" },
        { at: 3 * S, event: "poked" },
      ],
      until: MIN,
    });
    expect(whys(both)).toEqual(["start", "asked"]);
  });

  it("a stop while idle stops at once; asks and timers after it start nothing", () => {
    const r = play({
      events: [
        { at: MIN, event: "stop" },
        { at: 2 * MIN, event: "asked" },
      ],
      until: 20 * MIN,
    });
    expect(at(r)).toEqual([0]);
    expect(r.state.kind).toBe("stopped");
  });

  it("a stop during a sync waits for it: its tasks are interrupted after the grace, its git killed after that", () => {
    const s = settings({ graceMs: 10 * S, killGitMs: 5 * S });
    const hung = play(
      {
        syncMs: [60 * S],
        events: [
          { at: S, event: "stop" },
          { at: 2 * S, event: "asked" },
        ],
        until: 10 * MIN,
      },
      s,
    );
    expect(hung.actions).toEqual([
      { at: 11 * S, type: "interrupt" },
      { at: 16 * S, type: "killGit" },
    ]);
    expect(at(hung)).toEqual([0]);
    expect(hung.state.kind).toBe("stopped");
    expect(hung.logs).toEqual(["stopping: waiting up to 10s for the running sync"]);
    const quick = play({ syncMs: [5 * S], ranWork: [true], events: [{ at: S, event: "stop" }], until: 10 * MIN }, s);
    expect(quick.actions).toEqual([]);
    expect(at(quick)).toEqual([0]); // work ran, but a stopping daemon starts no second sync
    expect(quick.state.kind).toBe("stopped");
  });

  it("a timer that fires before anything is due (a long wait is cut in pieces) changes nothing", () => {
    const idle: LoopState = { kind: "idle", tickAt: 5 * MIN };
    expect(step(idle, { type: "timer" }, 4 * MIN, settings())).toEqual({ state: idle, actions: [] });
  });

  it("a schedule with no next tick and no stamp: no timer at all (nothing due)", () => {
    const r = play({ until: 10 * MIN }, settings({ nextTick: () => Number.POSITIVE_INFINITY }));
    expect(r.state).toEqual({ kind: "idle", tickAt: Number.POSITIVE_INFINITY });
    expect(dueAt(r.state)).toBeUndefined();
    expect(nextSyncAt(r.state)).toBe(Number.POSITIVE_INFINITY);
  });

  it("daemon.json's next sync is the one the loop starts by itself: the tick, or a sooner wake (a heartbeat, a publish that waits), poke or move seen", () => {
    // A test or a person reading nextSync between syncs must not be told a tick while a heartbeat's wake comes first.
    const LOOK_MS = 100;
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: -MIN, max: 20 * MIN }), { nil: undefined }),
        fc.boolean(),
        fc.array(fc.integer({ min: 0, max: 20 * MIN }), { maxLength: 4 }),
        fc.option(fc.array(fc.integer({ min: 0, max: 20 * MIN }), { maxLength: 4 }), { nil: undefined }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (stampIn, deferred, pokes, moves, r) => {
          // With `moves`, the daemon looks every 2 s and a look that sees one syncs it within moveSpreadMs (1 s), at random.
          const s = settings({ jitterMs: 30 * S, random: () => r, ...(moves ? { nextLook: (now: number) => now + 2 * S, moveSpreadMs: S } : {}) });
          const events = [...pokes].sort((a, b) => a - b).map((at) => ({ at, event: "poked" as const }));
          let state = start(0).state;
          let now = 0;
          let running: number | undefined = S;
          let looking: number | undefined;
          let synced = 0;
          let predicted: number | undefined;
          for (let i = 0; i < 2000 && now <= 30 * MIN; i++) {
            const next = Math.min(events[0]?.at ?? Infinity, running ?? Infinity, looking ?? Infinity, dueAt(state) ?? Infinity);
            if (!Number.isFinite(next)) break;
            now = next;
            let event: LoopEvent;
            if (running === now) {
              running = undefined;
              event = { type: "ended", ranWork: false, ...(stampIn !== undefined ? { quietUntil: now + stampIn } : {}), ...(deferred ? { deferred } : {}) };
            } else if (looking === now) {
              looking = undefined;
              event = { type: "looked", moved: (moves ?? []).some((m) => m > synced && m <= now) };
            } else if (events[0]?.at === now) event = { type: events.shift()!.event };
            else event = { type: "timer" };
            const stepped = step(state, event, now, s);
            for (const a of stepped.actions) if (a.type === "look") looking = now + LOOK_MS;
            if (stepped.actions.some((a) => a.type === "sync")) {
              // A sync its timer started is the one foretold: at that time, or when a look that held it ended.
              if (predicted !== undefined && event.type === "timer") {
                expect(now).toBeGreaterThanOrEqual(predicted);
                expect(now).toBeLessThanOrEqual(predicted + LOOK_MS);
              }
              running = now + S;
              synced = now;
            }
            state = stepped.state;
            predicted = nextSyncAt(state);
          }
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
  });

  it("for any asks, pokes and stops: never two syncs at once; each ask and poke is answered by one sync soon after; a stop ends it", () => {
    const event = fc.record({ at: fc.integer({ min: 0, max: 30 * MIN }), event: fc.constantFrom("asked" as const, "poked" as const, "publish" as const) });
    const longest = 8 * MIN;
    // No schedule: every sync after the first is one an ask, a poke or work made.
    const s = settings({ nextTick: () => Number.POSITIVE_INFINITY });
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: longest }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.boolean(), { maxLength: 10 }),
        fc.option(fc.integer({ min: 0, max: 40 * MIN }), { nil: undefined }),
        (events, syncMs, ranWork, stopAt) => {
          const all = [...events, ...(stopAt === undefined ? [] : [{ at: stopAt, event: "stop" as const }])];
          const r = play({ events: all, syncMs, ranWork, until: 6 * 60 * MIN }, s); // long enough for every sync to end
          expect(r.mostAtOnce).toBe(1);
          // An ask or a poke is answered by a sync that starts after it, at the latest when the running one ends.
          for (const e of events.filter((x) => x.at < (stopAt ?? Number.POSITIVE_INFINITY))) {
            const by = e.at + longest + (e.event === "poked" ? POKE_MS : 0);
            const answered = r.syncs.some((x) => x.at >= e.at && x.at <= by);
            // …unless a stop came before that sync could start.
            expect(answered || (stopAt !== undefined && stopAt <= by)).toBe(true);
          }
          if (stopAt !== undefined) expect(r.state.kind).toBe("stopped");
          else expect(r.state.kind).toBe("idle");
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
  });
});

describe("the daemon's looks at the hub (core/hub/reads.ts gives their pace)", () => {
  const looksEvery = (ms: number) => settings({ nextLook: (now) => now + ms });
  const looks = (r: Played) => r.actions.filter((a) => a.type === "look").map((a) => a.at);

  it("looks at its pace between ticks; a look that sees nothing new syncs nothing", () => {
    const r = play({ until: 20 * S }, looksEvery(2 * S));
    expect(whys(r)).toEqual(["start"]);
    // The first sync ends at 1 s; a look every 2 s after it, counted from each look's start (each 100 ms long): a look
    // that takes long (a far hub) does not stretch the pace.
    expect(looks(r)).toEqual([3000, 5000, 7000, 9000, 11000, 13000, 15000, 17000, 19000]);
    const slow = play({ until: 20 * S, lookMs: 700 }, looksEvery(2 * S));
    expect(looks(slow)).toEqual([3000, 5000, 7000, 9000, 11000, 13000, 15000, 17000, 19000]);
    // A look longer than the pace: the next starts when it ends, never two at once.
    expect(looks(play({ until: 10 * S, lookMs: 2500 }, looksEvery(2 * S)))).toEqual([3000, 5500, 8000]);
  });

  it("a move is synced at the next look, within the look's pace", () => {
    const r = play({ moves: [10_000], until: 20 * S }, looksEvery(2 * S));
    expect(r.syncs[1]).toEqual({ at: 11_100, why: "moved" }); // the look at 11 s, 100 ms long
    expect(r.logs).toContain("the hub moved: syncing now");
    // After that sync, looks go on from its end.
    expect(looks(r).filter((t) => t > 11_100)[0]).toBe(14_100);
  });

  it("a move seen is synced within moveSpreadMs at random (machines that all saw it do not push together); an ask meanwhile syncs at once", () => {
    const s = settings({ nextLook: (now) => now + 2 * S, moveSpreadMs: 1000, random: () => 0.5 });
    const r = play({ moves: [10_000], until: 20 * S }, s);
    // The look that sees it ends 100 ms after its start; the sync half the spread later. (random 0.5 also spreads the looks by 100 ms.)
    const moved = r.syncs.find((x) => x.why === "moved");
    const seenAt = r.actions.filter((a) => a.type === "look" && a.at < 12_000).at(-1)!.at + 100;
    expect(moved?.at).toBe(seenAt + 500);
    expect(r.logs).toContain("the hub moved: syncing now");
    const asked = play({ moves: [10_000], events: [{ at: seenAt + 110, event: "asked" }], until: 20 * S }, s);
    expect(asked.syncs.slice(1, 2).map((x) => x.why)).toEqual(["asked"]);
  });

  it("a move that wakes this machine is synced at once; one of the machines' branch that woke nobody here, while quiet, within QUIET_OTHERS_MS", () => {
    const s = settings({ nextLook: (now) => now + 2 * S, moveSpreadMs: 8000, random: () => 0.5 });
    const lookEnd = (r: Played) => r.actions.filter((a) => a.type === "look" && a.at < 12_000).at(-1)!.at + 100;
    const woken = play({ moves: [10_000], moveKind: { addressed: true }, until: 20 * S }, s);
    expect(woken.syncs.find((x) => x.why === "moved")?.at).toBe(lookEnd(woken));
    expect(woken.logs).toContain("the hub moved with a wake for this machine: syncing now");
    // Not quiet (or not calm), such a move is spread as any other.
    const others = play({ moves: [10_000], moveKind: { othersOnly: true }, until: 30 * S }, s);
    expect(others.syncs.find((x) => x.why === "moved")?.at).toBe(lookEnd(others) + 4000);
    // Looks go on while such a sync waits: one that sees this machine's wake then syncs at once.
    const later = play({ moves: [10_000], moveKind: (now) => (now < 13_000 ? { othersOnly: true } : { addressed: true }), until: 30 * S }, s);
    const wokenAt = later.syncs.find((x) => x.why === "moved")?.at ?? 0;
    expect(wokenAt).toBeGreaterThan(13_000);
    expect(wokenAt).toBeLessThan(lookEnd(later) + 4000);
    expect(later.logs).toContain("the hub moved with a wake for this machine: syncing now");
    // Quiet and calm (its last sync left a stamp, nothing waits, no ANY order open), it syncs such moves once, QUIET_OTHERS_MS later (here 0.75 of it, from the
    // first); a wake of its own meanwhile it syncs at once.
    const quiet = play({ moves: [10_000, 20_000, 30_000], moveKind: { othersOnly: true }, quiet: true, until: 90 * S }, s);
    expect(whys(quiet)).toEqual(["start", "moved"]);
    expect(quiet.syncs[1]!.at).toBe(lookEnd(quiet) + 0.75 * QUIET_OTHERS_MS);
    const quietWoken = play({ moves: [10_000], moveKind: (now) => (now < 20_000 ? { othersOnly: true } : { addressed: true }), quiet: true, until: 60 * S }, s);
    expect(whys(quietWoken)).toEqual(["start", "moved"]);
    expect(quietWoken.syncs[1]!.at).toBeGreaterThan(20_000);
    expect(quietWoken.syncs[1]!.at).toBeLessThan(25_000);
    // A person's push is synced, quiet or not.
    expect(whys(play({ moves: [10_000], quiet: true, until: 60 * S }, s))).toEqual(["start", "moved"]);
  });

  it("an ask or a service's change during a look is answered when the look ends; a tick that fell meanwhile too", () => {
    const asked = play({ events: [{ at: 3050, event: "asked" }], until: 4 * S }, looksEvery(2 * S));
    expect(asked.syncs[1]).toEqual({ at: 3100, why: "asked" });
    const poked = play({ events: [{ at: 3050, event: "poked" }], until: 5 * S }, looksEvery(2 * S));
    expect(poked.syncs[1]).toEqual({ at: 3100 + POKE_MS, why: "poked" });
    // A publish: when the look ends, on the tip last seen; a look that saw the hub move makes it a sync that fetches.
    const publish = play({ events: [{ at: 3050, event: "publish" }], until: 4 * S }, looksEvery(2 * S));
    expect(publish.syncs[1]).toEqual({ at: 3100, why: "publish" });
    const moved = play({ moves: [2500], events: [{ at: 3050, event: "publish" }], until: 4 * S }, looksEvery(2 * S));
    expect(moved.syncs[1]).toEqual({ at: 3100, why: "moved" });
    const tick = play({ until: 5 * MIN + 500 }, settings({ nextLook: (now) => now + 2 * S, nextTick: every(5 * MIN) }));
    expect(tick.syncs.map((x) => x.why)).toEqual(["start", "tick"]);
  });

  it("a stop during a look stops at once", () => {
    const r = play({ events: [{ at: 3050, event: "stop" }], until: 10 * S }, looksEvery(2 * S));
    expect(r.state.kind).toBe("stopped");
    expect(whys(r)).toEqual(["start"]);
  });

  it("without a pace (no nextLook, or none given) it never looks", () => {
    expect(looks(play({ until: 20 * MIN }))).toEqual([]);
    expect(looks(play({ until: 20 * MIN }, settings({ nextLook: () => undefined })))).toEqual([]);
  });

  it("for any moves, asks and sync lengths: never two syncs at once, and every move is synced within a look's pace after the running sync", () => {
    const pace = 3 * S;
    const lookMs = 200;
    const longest = 2 * MIN;
    const spread = 2 * S;
    const s = settings({ nextLook: (now) => now + pace, moveSpreadMs: spread, random: Math.random });
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 2 * S, max: 20 * MIN }), { maxLength: 12 }),
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 20 * MIN }), event: fc.constant("asked" as const) }), { maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: longest }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.boolean(), { maxLength: 10 }),
        (moves, events, syncMs, ranWork) => {
          const r = play({ moves, events, syncMs, ranWork, lookMs, until: 40 * MIN }, s);
          expect(r.mostAtOnce).toBe(1);
          for (const m of moves) {
            // A sync starts after the move within: the sync running then, a look's pace, and the look.
            const by = m + longest + pace * 1.1 + lookMs + spread + 1;
            expect(r.syncs.some((x) => x.at >= m && x.at <= by)).toBe(true);
          }
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
  });
});
