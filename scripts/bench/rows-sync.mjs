// Issue 14, rows 1–3: what one sync costs as a whole process, against the raw
// git a person would run for the same, in the same run on the same hub.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { plainClone, rawPublish } from "./fixtures.mjs";
import { CLI, dur, fixture, fleet, inTurns, median, OWN_SERVER, ordersText, personCommit, ratio, run, say, size, spread, syncJson, syncOk, times } from "./lib.mjs";

/** Row 1: a sync right after one, nothing changed: `coord sync` vs `git fetch origin`. */
export async function noopSync() {
  const f = fixture("noop");
  try {
    const { dirs } = await fleet(f, ["m1"], { person: false });
    const dir = dirs.m1;
    await syncOk(f, dir);
    await f.git(["-C", dir, "fetch", "--quiet", "origin"]);
    const coord = [];
    const fetch = [];
    let published = 0;
    const reps = size(9, 3);
    for (let i = 0; i < reps; i++) {
      say(`no-op sync ${i + 1}/${reps}`);
      const sync = async () => {
        const r = await syncOk(f, dir);
        coord.push(r.ms);
        if (r.json.pushed) published++;
      };
      const git = async () => fetch.push((await f.git(["-C", dir, "fetch", "--quiet", "origin"])).ms);
      for (const step of inTurns(i, [git, sync])) await step();
    }
    const c = median(coord);
    const g = median(fetch);
    return {
      n: "1",
      what: "no-op sync (a second sync right after one)",
      coord: dur(c),
      base: `git fetch ${dur(g)}`,
      ratio: `+${dur(c - g)} (${times(ratio(c, g))})`,
      goal: "≤ git fetch + 150 ms",
      met: c <= g + 150,
      notes: `coord ${spread(coord)}; git fetch ${spread(fetch)}${published ? `; ${published} of the syncs published something` : ""}`,
    };
  } finally {
    await f.cleanup();
  }
}

/**
 * Row 2: a person pushes a new order (`run: "true"`, to this machine), then one `coord sync`; the
 * baseline is the same by hand as processes: fetch, merge --ff-only, run `true`, write a status
 * file, add, commit, push.
 */
export async function oneTaskSync() {
  const f = fixture("onetask");
  try {
    const { dirs, person, remote } = await fleet(f, ["m1"]);
    const dir = dirs.m1;
    const raw = await plainClone(f, remote, join(f.root, "raw"));
    const orders = [];
    const coord = [];
    const base = [];
    let wrong = 0;
    const reps = size(7, 2);
    for (let i = 0; i < reps; i++) {
      say(`one-task sync ${i + 1}/${reps}`);
      orders.push({ id: `task-${i}`, to: "m1", run: "true" });
      await personCommit(f, person, { "ORDERS.json": ordersText(orders, OWN_SERVER) }, `order task-${i}`);
      const sync = async () => {
        const r = await syncOk(f, dir);
        coord.push(r.ms);
        if (!r.json.pushed || !r.json.ran.some((t) => t.id === `task-${i}` && t.state === "completed")) wrong++;
      };
      const git = async () => base.push(await rawPublish(f, raw, "baseline/status.md", `task-${i}: completed`, { task: "true" }));
      for (const step of inTurns(i, [git, sync])) await step();
    }
    const c = median(coord);
    const g = median(base);
    return {
      n: "2",
      what: "sync that runs one trivial task",
      coord: dur(c),
      base: `fetch+merge+run+commit+push ${dur(g)}`,
      ratio: times(ratio(c, g)),
      goal: "≤ 1.5×",
      met: wrong === 0 && ratio(c, g) <= 1.5,
      notes: `coord ${spread(coord)}; by hand ${spread(base)}${wrong ? `; ${wrong} syncs did not run and publish the task` : ""}`,
    };
  } finally {
    await f.cleanup();
  }
}

/**
 * Row 3: every machine of a fleet syncs at the same instant, each with a new named order to run
 * and publish, against the same number of raw-git publishes one after another.
 */
export async function concurrentSyncs() {
  const f = fixture("fleet");
  try {
    const count = size(20, 2);
    const names = Array.from({ length: count }, (_, i) => `c${String(i + 1).padStart(2, "0")}`);
    say(`a fleet of ${count} machines`);
    const { dirs, person, remote } = await fleet(f, names);
    const raws = [];
    for (let i = 0; i < count; i++) raws.push(await plainClone(f, remote, join(f.root, `raw${i + 1}`)));
    const rounds = size(5, 2);
    const orders = [];
    const ratios = [];
    const coordTimes = [];
    const baseTimes = [];
    const attempts = [];
    let giveUps = 0;
    let notRun = 0;
    for (let r = 0; r < rounds; r++) {
      say(`${count} machines syncing at once: round ${r + 1}/${rounds}`);
      for (const n of names) orders.push({ id: `r${r}-${n}`, to: n, run: "true" });
      await personCommit(f, person, { "ORDERS.json": ordersText(orders, OWN_SERVER) }, `round ${r}`);
      const t = performance.now();
      const results = await Promise.all(names.map((n) => run(process.execPath, [CLI, "sync", "--json", "--dir", dirs[n]], { env: f.env })));
      const took = performance.now() - t;
      let pushes = 0;
      results.forEach((res, k) => {
        const json = syncJson(res);
        if (res.code !== 0 || !json) giveUps++;
        pushes += json?.pushAttempts ?? 0;
        if (!json?.ran.some((x) => x.id === `r${r}-${names[k]}` && x.state === "completed")) notRun++;
      });
      const b = performance.now();
      for (let i = 0; i < count; i++) await rawPublish(f, raws[i], `baseline/raw-${i + 1}.md`, `round ${r}`);
      const serial = performance.now() - b;
      coordTimes.push(took);
      baseTimes.push(serial);
      ratios.push(took / serial);
      attempts.push(pushes);
    }
    const m = median(ratios);
    return {
      n: "3",
      what: `${count} machines syncing at once (each publishes a task result)`,
      coord: `${dur(median(coordTimes))}, ${median(attempts)} push attempts`,
      base: `${count} serial fetch+commit+push ${dur(median(baseTimes))}`,
      ratio: `${times(m)} (median of rounds)`,
      goal: "≤ 3×, no give-ups",
      met: m <= 3 && giveUps === 0 && notRun === 0,
      notes:
        `${rounds} rounds; ratios ${ratios.map((x) => x.toFixed(2)).join(", ")}; push attempts per round ${attempts.join(", ")} (${count} publishes each); ` +
        `give-ups (exit ≠ 0) ${giveUps}${notRun ? `; ${notRun} machines did not report their task` : ""}`,
    };
  } finally {
    await f.cleanup();
  }
}
