// The quiet sync (src/core/machine/quiet.ts, src/sync/quiet.ts) on the in-memory hub:
// after a sync that had nothing to do, a sync answers from the stamp until the
// tip moves, the local state changes, or the clock reaches a time some rule
// acts on. Each case has such a time: an ordinary sync (no stamp) at moments
// before the stamp's `until` must do nothing, and just after the event the
// machine must act, so a deadline that came too late (or never) fails here.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { quietUntil } from "../src/core/machine/quiet.js";
import { stampHolds } from "../src/core/machine/quiet-stamp.js";
import { readModel } from "../src/core/repo/repo.js";
import { readQuiet } from "../src/state/quiet.js";
import { type MemoryFleet, memoryFleet } from "./memory-fleet.js";

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const T0 = Date.parse("2026-06-01T12:00:00.000Z");
const at = (s: number) => () => new Date(T0 + s * 1000);

/** A's syncs at T0 until one has nothing to do; its stamp's `until`, in seconds from T0. */
async function settle(f: MemoryFleet, name = "a", t = 0): Promise<number> {
  for (let i = 0; i < 5; i++) {
    const r = await f.sync(name, { now: at(t) });
    if (!r.pushed && !r.ran.length && !r.quiet) break;
  }
  const stamp = await readQuiet(f.m(name).stateDir);
  expect(stamp, "a sync with nothing to do leaves a stamp").toBeDefined();
  return (stamp!.until - T0) / 1000;
}

/** An ordinary sync at `s` seconds (the stamp removed first, so that it cannot answer). */
async function ordinary(f: MemoryFleet, s: number, name = "a") {
  await rm(join(f.m(name).stateDir, "quiet.json"), { force: true });
  return f.sync(name, { now: at(s) });
}

describe("quiet syncs: the stamp holds exactly as long as nothing would happen", () => {
  it("answers a sync with nothing changed without reading the hub, and logs it", async () => {
    fleet = await memoryFleet(["a"]);
    const f = fleet;
    await settle(f);
    const r = await f.sync("a", { now: at(10) });
    expect(r.quiet).toBe(true);
    expect(r.pushed).toBeUndefined();
    const log = await readFile(join(f.m("a").stateDir, "coord.log"), "utf8");
    expect(log.trim().split("\n").at(-1)).toContain('"quiet":true');
  });

  it("a stamp without the fleet a send reads (a coord before it made the stamp) answers nothing: the sync writes it (found in attack)", async () => {
    fleet = await memoryFleet(["a"]);
    const f = fleet;
    await settle(f);
    await rm(join(f.m("a").stateDir, "known-fleet.json"));
    const r = await f.sync("a", { now: at(10) });
    expect(r.quiet).toBeUndefined();
    expect(await readFile(join(f.m("a").stateDir, "known-fleet.json"), "utf8")).toBe('{"version":1,"machines":["a"]}\n');
    // A directory in its place: no quiet sync either; the sync says what to move aside (found in attack).
    await settle(f);
    await rm(join(f.m("a").stateDir, "known-fleet.json"));
    await mkdir(join(f.m("a").stateDir, "known-fleet.json"));
    const blocked = await f.sync("a", { now: at(20) });
    expect(blocked.quiet).toBeUndefined();
    expect(blocked.warnings).toEqual([expect.stringMatching(/^the fleet a send checks names against could not be written .*: move aside what is at .*known-fleet\.json$/)]);
  });

  it("a new order (the tip moved) is run at once", async () => {
    fleet = await memoryFleet(["a"]);
    const f = fleet;
    await settle(f);
    await f.pushOrders([{ id: "new", to: "a", run: "true" }]);
    const r = await f.sync("a", { now: at(10) });
    expect(r.quiet).toBeUndefined();
    expect(r.ran.map((t) => t.id)).toEqual(["new"]);
  });

  // The lost wake-up: a heartbeat's push loses a race, is rebuilt on the new tip, and that tip holds a person's
  // new order this sync never planned on. A stamp left on it would answer every later sync "nothing changed".
  it("a publish rebuilt on a newer tip stamps only the tip it planned on: the order that came with the new one runs on the next sync", async () => {
    fleet = await memoryFleet(["a", "b"], { config: { heartbeat: 60 } });
    const f = fleet;
    await settle(f, "b");
    expect(await settle(f)).toBe(60);
    const due = 61; // the heartbeat is due: a's next sync publishes lastSeen (and b's too)
    const hub = f.m("a").hub;
    const push = hub.push.bind(hub);
    let raced = 0;
    hub.push = async (tip, roles) => {
      if (raced++ === 0) {
        // Between a's read and its push: b publishes (a's push is refused) and a person orders work for a.
        expect((await f.sync("b", { now: at(due) })).pushed).toBeDefined();
        await f.pushOrders([{ id: "new", to: "a", run: "true" }]);
      }
      return push(tip, roles);
    };
    const r = await f.sync("a", { now: at(due) });
    expect(r.ran).toEqual([]);
    expect(r.pushAttempts).toBe(2);
    // Its stamp names the tip it planned on, not the one it ended on: the next sync reads the hub again.
    const stamp = await readQuiet(f.m("a").stateDir);
    expect(stamp?.tip).toBeDefined();
    expect(stamp?.tip).not.toBe(await f.person.fetch());
    const next = await f.sync("a", { now: at(due + 1) });
    expect(next.quiet).toBeUndefined();
    expect(next.ran.map((t) => t.id)).toEqual(["new"]);
  });

  it("a message queued on this machine (its local state changed) is published at once", async () => {
    fleet = await memoryFleet(["a", "b"]);
    const f = fleet;
    await f.sync("b", { now: at(0) });
    await settle(f);
    // What coord send does: into the mailbox file of the local state.
    const { updateMailbox } = await import("../src/state/mailbox.js");
    await updateMailbox(f.m("a").stateDir, (data) => {
      data.outbox.b ??= { next: 1, messages: [] };
      data.outbox.b.messages.push({ seq: data.outbox.b.next++, at: new Date(T0).toISOString(), priority: "normal", text: "hello" });
    });
    const r = await f.sync("a", { now: at(10) });
    expect(r.quiet).toBeUndefined();
    expect(r.pushed).toBeDefined();
  });

  // Each case: a fleet, and the first instant (s) at which A must act although neither the tip nor its state changed.
  const cases: { name: string; setup: (f: MemoryFleet) => Promise<void>; event: (until: number) => number; acts: (r: Awaited<ReturnType<MemoryFleet["sync"]>>) => boolean }[] = [
    {
      name: "the heartbeat: lastSeen goes out again after `heartbeat` seconds",
      setup: async () => {},
      event: () => 900,
      acts: (r) => r.pushed !== undefined,
    },
    {
      name: "a retry: a failed task runs again after the retry backoff",
      setup: async (f) => {
        await f.pushOrders([{ id: "flaky", to: "a", run: "exit 1", retries: 2 }]);
        await f.sync("a", { now: at(0) }); // fails once; retry after retryBackoff (60 s)
      },
      event: () => 60,
      acts: (r) => r.ran.some((t) => t.id === "flaky"),
    },
    {
      name: "notBefore: an order starts when its time comes",
      setup: async (f) => {
        await f.pushOrders([{ id: "later", to: "a", run: "true", notBefore: new Date(T0 + 300_000).toISOString() }]);
      },
      event: () => 300,
      acts: (r) => r.ran.some((t) => t.id === "later"),
    },
    {
      name: "failover: an ANY order that prefers a silent machine is taken after failoverAfter",
      setup: async (f) => {
        await f.sync("b", { now: at(0) });
        await f.pushOrders([{ id: "pref", to: "ANY", prefer: ["b", "a"], failoverAfter: "2m", run: "true" }]);
      },
      // b counts as gone once silent for more than 2m (heardWithin: strictly more), at 120.001 s: the first instant.
      event: () => 120.001,
      acts: (r) => r.ran.some((t) => t.id === "pref"),
    },
  ];

  for (const c of cases)
    it(c.name, async () => {
      fleet = await memoryFleet(["a", "b"], { config: { heartbeat: 900, retryBackoff: 60 } });
      const f = fleet;
      await c.setup(f);
      const until = await settle(f);
      const event = c.event(until);
      expect(until, "the stamp ends no later than the event").toBeLessThanOrEqual(event);
      // Before `until`, an ordinary sync has nothing to do either: answering from the stamp loses nothing.
      for (const s of [1, until / 2, until - 1]) {
        const r = await ordinary(f, s);
        expect(r.ran, `nothing runs at ${s} s`).toEqual([]);
        expect(r.pushed, `nothing is published at ${s} s`).toBeUndefined();
      }
      // Just after the event the machine acts: a sync with the stamp in place is not answered by it.
      const r = await f.sync("a", { now: at(event + 1) });
      expect(r.quiet).toBeUndefined();
      expect(c.acts(r)).toBe(true);
    });
});

describe("a sync whose clock passes a deadline while it publishes", () => {
  it("leaves no stamp past the deadline: the next sync acts on it", async () => {
    fleet = await memoryFleet(["a", "b"], { config: { heartbeat: 900, retryBackoff: 60 } });
    const f = fleet;
    await f.sync("b", { now: at(0) });
    await f.pushOrders([{ id: "pref", to: "ANY", prefer: ["b", "a"], failoverAfter: "2m", run: "true" }]);
    await settle(f, "a", 0);
    // A slow sync (a loaded machine): its clock moves 100 ms at each reading, from before b counts as gone (120.001 s)
    // to after. It plans before then (nothing to do: b is preferred), and publishes after.
    await rm(join(f.m("a").stateDir, "quiet.json"), { force: true });
    let reading = 119.3;
    const tick = () => {
      reading += 0.1;
      return new Date(T0 + reading * 1000);
    };
    const slow = await f.sync("a", { now: tick });
    expect(slow.ran, "it planned before the failover").toEqual([]);
    expect(reading, "its clock passed the failover before it ended").toBeGreaterThan(120.001);
    // The next sync, a moment later, with nothing changed on the hub or here: it takes the order over.
    const next = await f.sync("a", { now: at(reading + 0.5) });
    expect(next.quiet).toBeUndefined();
    expect(next.ran.map((t) => t.id)).toEqual(["pref"]);
  });
});

describe("quietUntil (the rule)", () => {
  const model = (files: Map<string, string>) => readModel(files);
  it("is undefined while a task runs or a claim waits to run", () => {
    const m = model(new Map());
    const base = { now: new Date(T0), me: "a", model: m, observed: new Map(), heartbeat: 900, claimLease: 600, retryBackoff: 60, messageRetention: 86400 };
    expect(quietUntil({ ...base, journal: { x: { rev: 1, state: "in_progress", attempts: 1 } } })).toBeUndefined();
    expect(quietUntil({ ...base, journal: { x: { rev: 1, state: "assigned", attempts: 1 } } })).toBeUndefined();
  });

  it("asks the rules from when the sync decided: one that changed since leaves no stamp", async () => {
    fleet = await memoryFleet(["a", "b"], { config: { heartbeat: 900 } });
    const f = fleet;
    await f.sync("b", { now: at(0) });
    await f.pushOrders([{ id: "pref", to: "ANY", prefer: ["b", "a"], failoverAfter: "2m", run: "true" }]);
    await f.sync("a", { now: at(100) });
    const m = await f.model();
    const base = { me: "a", model: m, journal: {}, observed: new Map(), heartbeat: 900, claimLease: 600, retryBackoff: 60, messageRetention: 86400 };
    const gone = T0 + 120_001; // b counts as gone for the order's failover
    const rows: [string, number, number | undefined, number | undefined][] = [
      // [what, now (s), decided (s), until]
      ["decided and stamped before the failover: until it", 110, undefined, gone],
      ["decided before, stamped just before: until it", 119, 110, gone],
      ["decided before, stamped after: no stamp", 121, 110, undefined],
      ["a decision said to come after the stamp is not believed: from the stamp", 110, 115, gone],
    ];
    for (const [what, now, decided, until] of rows) expect(quietUntil({ ...base, now: at(now)(), ...(decided !== undefined ? { decided: at(decided)() } : {}) }), what).toBe(until);
  });

  it("a stamp holds for the same code, local state and tip, before its time only", () => {
    const stamp = { coord: 1 as const, version: "1", machine: "a", remote: "origin", branch: "main", tip: "abc", until: 100, fingerprint: "f", timeout: 30, waiting: [] };
    const now = { version: "1", fingerprint: "f", now: 99, tip: "abc" };
    expect(stampHolds(stamp, now)).toBe(true);
    expect(stampHolds(stamp, { ...now, now: 100 })).toBe(false);
    expect(stampHolds(stamp, { ...now, tip: "def" })).toBe(false);
    expect(stampHolds(stamp, { ...now, tip: undefined })).toBe(false);
    expect(stampHolds(stamp, { ...now, fingerprint: "g" })).toBe(false);
    expect(stampHolds(stamp, { ...now, version: "2" })).toBe(false);
  });

  it("a broken stamp file is no stamp", async () => {
    fleet = await memoryFleet(["a"]);
    const f = fleet;
    await settle(f);
    await writeFile(join(f.m("a").stateDir, "quiet.json"), "{not json");
    const r = await f.sync("a", { now: at(10) });
    expect(r.quiet).toBeUndefined();
    expect(await readQuiet(f.m("a").stateDir)).toBeDefined(); // the ordinary sync wrote a new one
  });
});
