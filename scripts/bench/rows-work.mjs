// Issue 14, row 7 (a person's push → the task starts under `coord watch`), and
// issue 11's rows: draining ANY orders with syncs and with daemons, and the
// time from a hub outage's end to the first scheduled sync through.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { completedOnHub, hubActivity, hubSnapshot } from "./host.mjs";
import { CLI, dur, fixture, fleet, keepLogs, median, OWN_SERVER, ordersText, personCommit, personPush, run, say, size, sleep, spread, start, syncJson, syncOk } from "./lib.mjs";

/** Row 7: from a person's push of a new order to the task starting, with `coord watch --every 1s` on the machine. */
export async function watchLatency() {
  const f = fixture("watch");
  try {
    const { dirs, person } = await fleet(f, ["w1"]);
    const watcher = start(process.execPath, [CLI, "watch", "--dir", dirs.w1, "--every", "1s"], { env: f.env });
    f.onCleanup(() => watcher.stop());
    const orders = [];
    const latencies = [];
    let missed = 0;
    const reps = size(7, 3);
    for (let i = -1; i < reps; i++) {
      // The first order (i = -1) is not counted: it shows the watcher is up.
      if (i >= 0) say(`push → task start ${i + 1}/${reps}`);
      const stamp = join(f.root, `started-${i + 1}`);
      // The time first, then the file whole (a rename): the bench never reads it half written.
      orders.push({ id: `latency-${i + 1}`, to: "w1", run: `date +%s%3N > '${stamp}.part' && mv '${stamp}.part' '${stamp}'` });
      const pushedAt = await personCommit(f, person, { "ORDERS.json": ordersText(orders) }, `order latency-${i + 1}`);
      for (let t = 0; t < (i < 0 ? 600 : 300) && !existsSync(stamp); t++) await sleep(50);
      if (!watcher.running()) throw new Error(`coord watch exited: ${watcher.output().trim().slice(-300)}`);
      const started = existsSync(stamp) ? Number(readFileSync(stamp, "utf8")) : Number.NaN;
      if (i < 0) {
        if (!Number.isFinite(started)) throw new Error(`coord watch did not start the first order in 30 s: ${watcher.output().trim().slice(-300)}`);
        continue;
      }
      if (Number.isFinite(started)) latencies.push(started - pushedAt);
      else missed++;
      await sleep(500 + Math.random() * 1000); // the next push at another point of the 1 s cycle
    }
    const m = median(latencies);
    return {
      n: "7",
      what: "order push → task start, coord watch --every 1s",
      coord: dur(m),
      base: "",
      ratio: "",
      goal: "≤ interval + 2 s = 3 s",
      met: missed === 0 && m <= 3000,
      notes: `${spread(latencies)}${missed ? `; ${missed} orders did not start within 15 s` : ""}`,
    };
  } finally {
    await f.cleanup();
  }
}

/** Issue 11: rounds for `machines` machines, their syncs started together each round, to drain ANY orders of 1 s. */
export async function drainRounds() {
  const f = fixture("drain");
  try {
    const names = ["d1", "d2", "d3", "d4", "d5"];
    const count = size(20, 5);
    const { dirs, person, hub } = await fleet(f, names);
    const ids = Array.from({ length: count }, (_, i) => `any-${i}`);
    await personCommit(
      f,
      person,
      {
        "ORDERS.json": ordersText(
          ids.map((id) => ({ id, to: "ANY", run: "sleep 1" })),
          OWN_SERVER,
        ),
      },
      "ANY orders",
    );
    const runs = new Map();
    let rounds = 0;
    let failed = 0;
    const t = performance.now();
    while (runs.size < count && rounds < 4 * Math.ceil(count / names.length) + 4) {
      rounds++;
      say(`draining ${count} ANY orders on ${names.length} machines: round ${rounds}`);
      const results = await Promise.all(names.map((n) => run(process.execPath, [CLI, "sync", "--json", "--dir", dirs[n]], { env: f.env })));
      for (const r of results) {
        const json = syncJson(r);
        if (r.code !== 0 || !json) failed++;
        for (const task of json?.ran ?? []) if (task.state === "completed") runs.set(task.id, (runs.get(task.id) ?? 0) + 1);
      }
    }
    const took = performance.now() - t;
    const twice = [...runs.values()].filter((n) => n > 1).length;
    const onHub = await completedOnHub(f, hub, ids);
    const ideal = Math.ceil(count / names.length);
    return {
      n: "11a",
      what: `rounds to drain ${count} ANY orders of 1 s, ${names.length} machines syncing together (a server of one's own: no push budget to keep; 13d: under GitHub's)`,
      coord: `${rounds} round${rounds === 1 ? "" : "s"}`,
      base: `ideal ${ideal}`,
      ratio: "",
      goal: `≤ ${ideal + 1} rounds, each once`,
      met: runs.size === count && twice === 0 && rounds <= ideal + 1,
      notes: `${dur(took)} in all; ${runs.size}/${count} run, ${twice} more than once, ${onHub} completed in STATUS.json; failed syncs ${failed}`,
    };
  } finally {
    await f.cleanup();
  }
}

/** Issue 11: ANY orders of 1 s drained by 5 daemons syncing every 5 s (no jitter), from the push to the last completed on the hub. */
export async function drainDaemons() {
  const f = fixture("daemons");
  try {
    const names = ["e1", "e2", "e3", "e4", "e5"];
    const count = size(20, 5);
    const interval = 5;
    const { dirs, person, hub, daemon } = await fleet(f, names);
    const daemons = names.map((n) => start(process.execPath, [CLI, "daemon", "run", "--dir", dirs[n], "--schedule", `*/${interval} * * * * *`, "--jitter", "0"], { env: f.env }));
    for (const d of daemons) f.onCleanup(() => d.stop());
    // Started, their first sync (at once) done, and waiting for their tick: a loaded machine's first syncs must not run into the row.
    for (let waited = 0; waited < 60_000 && !daemons.every((d) => /\bsync: /.test(d.output())); waited += 100) await sleep(100);
    await sleep(500);
    // Rounds pushed at random points of the 5 s tick (where a push lands in it moves the time by up to a tick).
    const rounds = size(3, 1);
    const times = [];
    const tries = [];
    let done = 0;
    let ids = [];
    // What the host took meanwhile (scripts/bench/host.mjs): the rounds' commits and pushes.
    const before = await hubSnapshot(f, hub, daemon);
    for (let r = 0; r < rounds && done === ids.length; r++) {
      if (r > 0) await sleep(Math.random() * interval * 1000);
      ids = Array.from({ length: count }, (_, i) => `timed-${r}-${i}`);
      say(`${count} ANY orders of 1 s, ${names.length} daemons: round ${r + 1}/${rounds}`);
      const { pushedAt, attempts } = await personPush(
        f,
        person,
        {
          "ORDERS.json": ordersText(
            ids.map((id) => ({ id, to: "ANY", run: "sleep 1" })),
            OWN_SERVER,
          ),
        },
        `timed orders, round ${r + 1}`,
      );
      tries.push(attempts);
      done = 0;
      while (done < count && Date.now() - pushedAt < 180_000) {
        await sleep(250);
        done = await completedOnHub(f, hub, ids);
      }
      times.push(Date.now() - pushedAt);
    }
    const after = await hubSnapshot(f, hub, daemon);
    const personTries = tries.reduce((t, x) => t + x, 0);
    const act = await hubActivity(f, hub, before, after, { pushes: personTries, reads: personTries });
    const landed = [...act.pushes.values()].reduce((t, x) => t + x, 0);
    const commits = [...act.commits.values()].reduce((t, x) => t + x, 0);
    const took = median(times);
    const dead = daemons.filter((d) => !d.running()).length;
    await Promise.all(daemons.map((d) => d.stop()));
    // COORD_BENCH_LOGS=<dir>: each daemon's output and coord.log are kept there, to see where the time went.
    keepLogs(names, dirs, (n) => [daemons[names.indexOf(n)].output()], "11b");
    const ideal = (count * 1000) / names.length;
    const goal = 2 * ideal + interval * 1000;
    return {
      n: "11b",
      what: `${count} ANY orders of 1 s, ${names.length} daemons (every ${interval} s, no jitter; a server of one's own, as 11a): all completed`,
      coord: dur(took),
      base: `ideal ${dur(ideal)}`,
      ratio: "",
      goal: `≤ 2 × ideal + one interval = ${dur(goal)}`,
      met: done === count && took <= goal,
      notes:
        `${times.length} round${times.length === 1 ? "" : "s"}: ${times.map((t) => dur(t)).join(", ")}; ${done}/${count} of the last completed on the hub${dead ? `; ${dead} daemons exited early` : ""}; ` +
        `on the hub meanwhile (${dur(act.seconds * 1000)}): ${commits} commits on coord in ${landed} pushes landed, ${act.tried} reached it, ${act.reads} reads; commits to main by machines ${act.mainByMachines}; ` +
        `the person's pushes of ORDERS.json ${tries.filter((t) => t === 1).length} of ${tries.length} at the first try`,
    };
  } finally {
    await f.cleanup();
  }
}

/**
 * Issue 11: the hub (its git daemon) goes away while a machine's scheduled syncs tick every
 * second, and comes back at a random point of a tick: the time from its return to the end of the
 * first sync through, and whether that sync was the first tick after the return.
 */
export async function outageRecovery() {
  const f = fixture("outage");
  try {
    const { dirs, daemon } = await fleet(f, ["o1"], { person: false });
    const dir = dirs.o1;
    await syncOk(f, dir, ["--scheduled"]);
    await daemon.stop();
    let backAt;
    const outageTicks = size(3, 2);
    const ticks = [];
    const origin = performance.now();
    let back;
    for (let k = 0; k < 60; k++) {
      const due = origin + k * 1000;
      if (performance.now() < due) await sleep(due - performance.now());
      if (k === outageTicks) {
        back = sleep(Math.random() * 1000).then(() => {
          backAt = performance.now(); // the hub's git daemon starts: it answers within milliseconds
          return daemon.start();
        });
        back.catch(() => {}); // awaited below: a failed restart fails the row there, not the process now
      }
      const begun = performance.now();
      const r = await f.coord(["sync", "--scheduled", "--json", "--dir", dir]);
      const json = syncJson(r);
      const through = r.code === 0 && json && !json.skipped;
      ticks.push({ begun, ended: performance.now(), through });
      if (through && backAt !== undefined) break;
    }
    await back;
    const after = ticks.filter((t) => backAt !== undefined && t.begun >= backAt);
    const first = ticks.find((t) => t.through && backAt !== undefined);
    const firstTickAfter = after[0];
    const took = first ? first.ended - backAt : Number.NaN;
    return {
      n: "11c",
      what: "hub back after an outage → first scheduled sync through (ticks every 1 s)",
      coord: dur(took),
      base: "",
      ratio: "",
      goal: "the first tick after the hub is back syncs",
      met: first !== undefined && (first === firstTickAfter || first.begun < backAt),
      notes:
        `${ticks.length} ticks, ${ticks.length - after.length} begun before the hub was back` +
        (first
          ? `; the sync through began ${dur(Math.abs(first.begun - backAt))} ${first.begun < backAt ? "before" : "after"} it was back (its probe found it)`
          : "; none got through"),
    };
  } finally {
    await f.cleanup();
  }
}
