// Row 13e (budget-day): a fleet of 1,000 machines for a simulated day under the
// default push budget (issue 30: 6 pushes a minute, src/core/budget/budget.ts), on the
// in-memory hub (src/git/memory-hub.ts) with a simulated clock, in one process
// of its own: the built sync (dist/sync/sync.js syncMachine) of every machine,
// each with its own state dir and its own client of one MemoryRemote, as
// test/memory-fleet.ts builds them.
//
// The fleet: default settings (a 15-minute heartbeat, stretched by the budget
// to 5 h 33 min at 1,000 machines), each machine syncing like cron every 15
// minutes at an offset of its own (a seeded random second; cron, not daemons),
// after joining one a second before the day (coord init's first sync: its file
// goes out and it runs nothing; not counted). A person pushes ORDERS.json three
// times in the day (orders for one machine, for three, and ANY orders, one
// waiting on another), and early in the day the machine that pushed last stops:
// the row says when the others' STATUS.json shows it offline.
//
// What is simulated, and how. Syncs take no simulated time (each runs to its
// end at the instant of its tick, one after another: no two race), and the
// tasks are `true` and `echo`. A real sync costs ~60 ms here at 1,000 machines
// (each reads the whole fleet and derives STATUS: the hub's tip moves every
// ~20 s, so the quiet stamp never answers), and a cron day is 96,000 ticks:
// far too long for a bench. So a tick runs the real sync when the product's
// own pure rules say it may do something: its heartbeat is due (core/budget/budget.js
// shareOf, heartbeatOf, heartbeatDueAfter and core/work/claims.js heartbeatDue, on
// its file as the hub has it), ORDERS.json changed since its last sync and an
// order not yet done is for it or for ANY (or STATUS has not said the change
// yet), or its last sync ran tasks, warned or was held back by the budget. The
// other ticks are skipped: every CHECK_EVERY-th runs for real anyway, and a
// tick called idle that pushes counts as a miss. The smoke variant checks the
// reduction itself: 100 machines for 4 simulated hours, once with every tick
// real (the prediction made at each and compared with what the sync did) and
// once with the skips: the two hubs must end on the same commits.
//
// Measured on the hub: every push that landed and its commit's time; the bytes
// of the objects the day added as git would store them (blobs, trees and
// commits with their git ids computed here, each counted once, content sizes as
// `git cat-file -s` gives them; the loose, zlib'd size estimated by compressing
// every ZLIB_SAMPLE-th commit's new objects at git's level 1); the stopped
// machine's presence in STATUS.json at each tip.
import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { deflateSync } from "node:zlib";
import { dur, fixture, median, REPO, run, SMOKE } from "./lib.mjs";

const DAY_MS = 86_400_000;
/** Cron every 15 minutes, as asked of this row (coord cron install's default is every 5, at the same minutes on every machine). */
const CRON_MS = 15 * 60_000;
/** Every this many skipped ticks, one runs for real as a check of the prediction. */
const CHECK_EVERY = 1000;
/** Every this many commits, their new objects are compressed to estimate the loose size. */
const ZLIB_SAMPLE = 20;
/** Coord commits kept in the memory hub behind its tip (older ones are dropped once measured: nothing a sync reads reaches them). */
const KEEP_COMMITS = 100;

// ---------------------------------------------------------------- the row (parent)

const fmt = (x) => (!Number.isFinite(x) ? "—" : x >= 100 ? Math.round(x).toLocaleString("en") : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const mib = (b) => (b >= 1024 ** 3 ? `${(b / 1024 ** 3).toFixed(2)} GiB` : b >= 1024 ** 2 ? `${(b / 1024 ** 2).toFixed(1)} MiB` : `${Math.round(b / 1024)} KiB`);
const span = (s) => {
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return h ? `${h} h ${m} min` : `${m} min`;
};

/** One simulation, in a process of its own (its memory and the product's process-wide caches its own). */
async function simulate(f, opts) {
  const args = ["--max-old-space-size=4096", "--max-semi-space-size=32", fileURLToPath(import.meta.url), "--child", JSON.stringify({ ...opts, root: join(f.root, opts.mode) })];
  const r = await run(process.execPath, args, { env: f.env, timeoutMs: SMOKE ? 120_000 : 1_800_000 });
  const last = r.out.trim().split("\n").at(-1) ?? "";
  let out;
  try {
    out = JSON.parse(last);
  } catch {
    throw new Error(`the simulation (${opts.mode}) failed: ${(r.err || r.out).trim().split("\n").slice(-3).join(" / ").slice(0, 300)}`);
  }
  if (out.error) throw new Error(`the simulation (${opts.mode}) failed: ${out.error}`);
  return { ...out, wallMs: r.ms };
}

/** Row 13e. */
export async function budgetDay() {
  const f = fixture("budget-day");
  try {
    const machines = SMOKE ? 100 : 1000;
    const hours = SMOKE ? 4 : 24;
    const base = { machines, hours, seed: 30 };
    let s;
    let check = "";
    let misses;
    if (SMOKE) {
      // The reduction checked: every tick real, then with the skips; the same pushes must land.
      const full = await simulate(f, { ...base, mode: "full" });
      s = await simulate(f, { ...base, mode: "skip" });
      const same = full.tips.main === s.tips.main && full.tips.coord === s.tips.coord && full.pushes.total === s.pushes.total;
      misses = full.prediction.misses + s.prediction.misses + (same ? 0 : 1);
      check =
        ` The reduction checked: the same fleet with every tick real (${full.syncs.real.toLocaleString("en")} syncs, ${dur(full.wallMs)}) ` +
        `pushed ${full.pushes.total} times, ${full.prediction.misses} of them on a tick the prediction called idle; ` +
        `with the skips the hub ends ${same ? "on the same commits, on both branches" : `**elsewhere** (${s.pushes.total} pushes)`}.`;
    } else {
      s = await simulate(f, { ...base, mode: "skip", checkEvery: CHECK_EVERY });
      misses = s.prediction.misses;
    }
    const p = s.pushes;
    const budget = s.budget;
    const avg = p.total / (hours * 60);
    const pushesMet = avg <= budget && p.max10 <= budget;
    const off = s.offline;
    const offGoal = 3 * off.heartbeat + CRON_MS / 1000;
    const offMet = off.seenAfter !== undefined && off.seenAfter <= offGoal && s.wrongOffline === 0;
    const ms = s.syncMs;
    const g = s.growth;
    const notes = [
      `${machines.toLocaleString("en")} machines on the in-memory hub (dist/git/memory-hub.js) for ${hours} simulated hours, the built syncMachine with a simulated clock; ` +
        `default settings and budget (${s.share}); each syncs like cron every 15 min at an offset of its own (a seeded random second), ` +
        `having joined one a second before the day (coord init's first sync, not counted); syncs take no simulated time, one after another (no races).`,
      `Pushes landed: ${p.total.toLocaleString("en")} (${p.person} the person's ORDERS.json), ${fmt(avg)} a minute on average, at most ${fmt(p.max10)} a minute over any 10 minutes; the most in one clock minute ${p.maxMinute}, ` +
        `in any 60 s ${p.maxWindow}; minutes over ${budget}: ${p.minutesOver}, over ${budget}+${s.capacity}: ${p.minutesOverBurst}; the busiest: ${p.busiest.slice(0, 3).join("; ")}. ` +
        `A heartbeat goes at the first cron tick after it is due, so every ${Math.ceil((off.heartbeat * 1000) / CRON_MS)} ticks: machines that once pushed in the same round stay together, ` +
        `and the busiest minutes come back every ${span((Math.ceil((off.heartbeat * 1000) / CRON_MS) * CRON_MS) / 1000)}. Refused ${p.refused}. Per machine: ${p.perMachine.min}–${p.perMachine.max} pushes (median ${p.perMachine.median}), ` +
        `at most ${p.perMachine.maxIn10} in any 10 min; its bucket after a push never below ${fmt(p.lowestTokens)} tokens (${p.borrowed} pushes in debt).`,
      `Commits: ${s.commits.toLocaleString("en")} (${s.commitsByKind}). Hub growth: ${mib(g.bytes)} of git objects (blobs ${mib(g.blob)}, trees ${mib(g.tree)}, commits ${mib(g.commit)}; ` +
        `${g.objects.toLocaleString("en")} objects, sizes as git cat-file -s gives them), about ${mib(g.loose)} as loose objects (zlib level 1, estimated from ${g.sampled} commits), ` +
        `before the host's repack; every push rewrites STATUS.json (${mib(s.statusBytes.json)}) and STATUS.md (${mib(s.statusBytes.md)}).`,
      `Offline: ${off.name} stopped at ${off.stoppedAt}, its last push at ${off.lastPush} (heartbeat ${span(off.heartbeat)}); ` +
        (off.seenAfter !== undefined
          ? `the others' STATUS.json said stale from ${off.staleAt}, offline from ${off.seenAt}: ${span(off.seenAfter)} after its last push (goal ${span(offGoal)}).`
          : `the others' STATUS.json never said offline within the day (goal ${span(offGoal)} after its last push).`) +
        ` Another machine shown offline: at ${s.wrongOffline} tips; one shown stale: at ${s.staleTips} tips${s.lastStale ? `, the last at ${s.lastStale} (a heartbeat set while the fleet was small, 15 min, late by up to one tick)` : ""}.`,
      `Orders: ${s.orders}.`,
      `What ran: ${s.syncs.real.toLocaleString("en")} real syncs of ${s.syncs.ticks.toLocaleString("en")} cron ticks (${s.syncs.byReason}); the other ticks skipped, as the product's rules say they do nothing; ` +
        `checks (skipped ticks run anyway): ${s.syncs.checks}; ticks called idle that pushed: ${misses}. One real sync at ${machines.toLocaleString("en")} machines: median ${dur(ms.median)}, ` +
        `90th percentile ${dur(ms.p90)}, max ${dur(ms.max)} (in process, no git; the quiet stamp answered ${s.syncs.quiet}: the tip moves every ~${Math.round(60 / avg)} s). ` +
        `Simulation ${dur(s.wallMs)} (before the day ${dur(s.beforeDayMs)}), peak RSS ${fmt(s.rssMiB)} MiB.${check}`,
    ].join(" ");
    return {
      n: "13e",
      what: `a simulated day of ${machines.toLocaleString("en")} machines (cron every 15 min, memory hub): pushes a minute, commits, growth, offline seen`,
      coord: `avg ${fmt(avg)}/min, at most ${fmt(p.max10)}/min over 10 min, ${p.maxMinute} in the busiest minute; ${s.commits.toLocaleString("en")} commits; +${mib(g.bytes)}; offline seen after ${off.seenAfter !== undefined ? span(off.seenAfter) : "—"}`,
      base: "",
      ratio: "",
      goal: `≤ ${budget}/min sustained (the day, and any 10 minutes); offline seen ≤ 3 heartbeats + 15 min`,
      met: pushesMet && offMet && misses === 0,
      notes,
    };
  } finally {
    await f.cleanup();
  }
}

// ---------------------------------------------------------------- the simulation (child)

/** A seeded PRNG (mulberry32): the same offsets every run. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const gitHash = (type, content) => createHash("sha1").update(`${type} ${content.length}\0`).update(content).digest();
const dirOf = (path) => {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
};
const baseOf = (path) => path.slice(path.lastIndexOf("/") + 1);

/**
 * The git objects the memory hub's commits stand for: each commit's blobs, trees and the commit itself,
 * with their git ids (so that each is counted once, as a hub stores it once), and what `count`ed commits added.
 */
class GitObjects {
  constructor(remote) {
    this.remote = remote;
    this.known = new Set();
    /** Commit → its tree's paths, blob ids and directory ids (the last few, for the next commit's diff). */
    this.cache = new Map();
    this.ids = new Map();
    this.added = { blob: 0, tree: 0, commit: 0, objects: 0, commits: 0 };
    this.sample = { raw: 0, zipped: 0, commits: 0 };
  }

  index(id, count) {
    if (this.ids.has(id)) return;
    const c = this.remote.commit(id);
    const prev = c.parent === undefined ? undefined : this.cache.get(c.parent);
    const fresh = [];
    const dirty = new Set();
    const touch = (path) => {
      for (let d = dirOf(path); ; d = dirOf(d)) {
        dirty.add(d);
        if (d === "") break;
      }
    };
    const blobIds = new Map();
    for (const [path, text] of c.tree) {
      let oid = prev && prev.tree.get(path) === text ? prev.blobIds.get(path) : undefined;
      if (oid === undefined) {
        const buf = Buffer.from(text);
        oid = gitHash("blob", buf);
        const hex = oid.toString("hex");
        if (!this.known.has(hex)) {
          this.known.add(hex);
          fresh.push(["blob", buf]);
        }
        touch(path);
      }
      blobIds.set(path, oid);
    }
    if (prev) for (const path of prev.tree.keys()) if (!c.tree.has(path)) touch(path);
    // Each directory's entries: files and subdirectories (the previous commit's, when no path came or went).
    let dirs = prev && prev.tree.size === c.tree.size && [...c.tree.keys()].every((p) => prev.tree.has(p)) ? prev.dirs : undefined;
    if (!dirs) {
      dirs = new Map([["", new Map()]]);
      for (const path of c.tree.keys()) {
        let child = path;
        let isDir = false;
        for (;;) {
          const d = dirOf(child);
          if (!dirs.has(d)) dirs.set(d, new Map());
          const entries = dirs.get(d);
          const name = baseOf(child);
          if (entries.has(name)) break; // a directory listed already, and its parents
          entries.set(name, isDir ? { dir: child } : { path: child });
          if (d === "") break;
          child = d;
          isDir = true;
        }
      }
      for (const [d, entries] of dirs) {
        const sorted = [...entries].map(([name, e]) => ({ ...e, key: e.dir ? `${name}/` : name, head: Buffer.from(`${e.dir ? "40000" : "100644"} ${name}\0`) }));
        sorted.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        dirs.set(d, sorted);
      }
    }
    const dirIds = new Map();
    const order = [...dirs.keys()].filter((d) => d !== "").sort((a, b) => b.split("/").length - a.split("/").length);
    order.push("");
    for (const d of order) {
      const kept = prev && !dirty.has(d) ? prev.dirIds.get(d) : undefined;
      if (kept) {
        dirIds.set(d, kept);
        continue;
      }
      const parts = [];
      for (const e of dirs.get(d)) parts.push(e.head, e.dir ? dirIds.get(e.dir) : blobIds.get(e.path));
      const buf = Buffer.concat(parts);
      const oid = gitHash("tree", buf);
      const hex = oid.toString("hex");
      if (!this.known.has(hex)) {
        this.known.add(hex);
        fresh.push(["tree", buf]);
      }
      dirIds.set(d, oid);
    }
    const who = `${c.author.name} <${c.author.email}> ${Math.floor(c.at.getTime() / 1000)} +0000`;
    const parent = c.parent === undefined ? "" : `parent ${this.ids.get(c.parent) ?? "0".repeat(40)}\n`;
    const text = `tree ${dirIds.get("").toString("hex")}\n${parent}author ${who}\ncommitter ${who}\n\n${c.message.endsWith("\n") ? c.message : `${c.message}\n`}`;
    const buf = Buffer.from(text);
    const oid = gitHash("commit", buf).toString("hex");
    this.known.add(oid);
    fresh.push(["commit", buf]);
    this.ids.set(id, oid);
    this.cache.set(id, { tree: c.tree, blobIds, dirIds, dirs });
    if (this.cache.size > 16) this.cache.delete(this.cache.keys().next().value);
    if (!count) return;
    this.added.commits++;
    for (const [type, b] of fresh) {
      this.added[type] += b.length;
      this.added.objects++;
    }
    if (this.added.commits % ZLIB_SAMPLE === 1) {
      this.sample.commits++;
      for (const [type, b] of fresh) {
        const whole = Buffer.concat([Buffer.from(`${type} ${b.length}\0`), b]);
        this.sample.raw += b.length;
        this.sample.zipped += deflateSync(whole, { level: 1 }).length;
      }
    }
  }
}

async function child(opts) {
  const D = join(REPO, "dist");
  const load = (p) => import(pathToFileURL(join(D, p)).href);
  const { MemoryRemote } = await load("git/memory-hub.js");
  const { scaffoldFiles } = await load("core/setup/scaffold.js");
  const { roleOf } = await load("core/trust/ownership.js");
  const { newConfig, saveConfig } = await load("state/config.js");
  const { syncMachine } = await load("sync/sync.js");
  const { shareOf, heartbeatOf, heartbeatDueAfter, BUCKET_CAPACITY, describeShare } = await load("core/budget/budget.js");
  const { pushesPerMinuteOf } = await load("core/hub/reads.js");
  const { heartbeatDue } = await load("core/work/claims.js");
  const { isOffline } = await load("core/fleet/presence.js");

  const began = performance.now();
  const N = opts.machines;
  const skip = opts.mode === "skip";
  const checkEvery = opts.checkEvery ?? CHECK_EVERY;
  const rand = prng(opts.seed);
  const D0 = Date.UTC(2025, 0, 6); // a Monday, 00:00 UTC
  const END = D0 + opts.hours * 3_600_000;
  const at = (frac) => D0 + Math.round((END - D0) * frac);
  let simMs = D0 - DAY_MS;
  const now = () => new Date(simMs);
  const iso = (ms) => new Date(ms).toISOString().slice(11, 16);

  // The hub, as coord hub create makes it (test/memory-fleet.ts), with the default budget (no "hub" in ORDERS.json).
  const remote = new MemoryRemote(now);
  const person = remote.client();
  const PERSON = { name: "A Person", email: "person@example.com" };
  const scaffold = scaffoldFiles("# hub\n");
  const ordersText = (orders) => `${JSON.stringify({ $schema: "coordination/orders.schema.json", version: 1, orders }, null, 2)}\n`;
  scaffold.set("ORDERS.json", ordersText([]));
  const of = (role) => new Map([...scaffold].filter(([path]) => roleOf(path) === role));
  await person.push(await person.commitFiles(undefined, of("people"), PERSON, "coord: create the coordination hub"), ["people"]);
  await person.push(await person.commitFiles(undefined, of("machines"), PERSON, "coord: the machines' branch"), ["machines"]);
  const budget = pushesPerMinuteOf(JSON.parse(scaffold.get("ORDERS.json")));

  const names = Array.from({ length: N }, (_, i) => `m${String(i).padStart(4, "0")}`);
  const machines = [];
  for (const name of names) {
    const dir = join(opts.root, name);
    const stateDir = join(dir, ".coord");
    await mkdir(stateDir, { recursive: true });
    const config = newConfig({ name, uuid: `00000000-0000-4000-8000-${String(names.indexOf(name)).padStart(12, "0")}` });
    await saveConfig(stateDir, config);
    machines.push({ dir, stateDir, config, hub: remote.client() });
  }

  // Orders: for one machine, for three, and ANY orders (one waits on another), added at three times of day.
  const A = names[Math.floor(N * 0.042)];
  const trio = [names[Math.floor(N * 0.1)], names[Math.floor(N * 0.2)], names[Math.floor(N * 0.3)]];
  const named = new Set([A, ...trio]);
  const orderSteps = [
    {
      t: at(0.375),
      add: [
        { id: `report-${A}`, to: A, run: "echo report" },
        { id: "build", to: "ANY", run: "true" },
        { id: "package", to: "ANY", after: ["build"], run: "true" },
      ],
    },
    {
      t: at(0.55),
      add: [
        { id: "lint-1", to: "ANY", run: "true" },
        { id: "lint-2", to: "ANY", run: "true" },
        { id: "lint-3", to: "ANY", run: "true" },
        { id: "deploy", to: trio, run: "true" },
      ],
    },
    {
      t: at(0.73),
      add: [
        { id: `cleanup-${A}`, to: A, run: "true" },
        { id: "nightly", to: "ANY", run: "true" },
      ],
    },
  ];
  let orders = [];

  // Events: each machine joins in the N seconds before the day, one a second (coord init's first sync: its file
  // goes out, urgent, and it runs nothing; not counted), then its cron ticks; the person; the stop.
  const joinMs = 1000;
  const events = [];
  const offsets = names.map(() => Math.floor(rand() * CRON_MS));
  for (let i = 0; i < N; i++) {
    const joined = D0 - (N - i) * joinMs;
    events.push({ t: joined, kind: "join", i });
    for (let t = Math.ceil((joined + 1 - offsets[i]) / CRON_MS) * CRON_MS + offsets[i]; t < END; t += CRON_MS) events.push({ t, kind: "tick", i });
  }
  for (const step of orderSteps) events.push({ t: step.t, kind: "orders", step });
  const stopAt = at(0.08);
  events.push({ t: stopAt, kind: "stop" });
  const rank = { join: 0, orders: 1, stop: 2, tick: 3 };
  events.sort((a, b) => a.t - b.t || rank[a.kind] - rank[b.kind] || (a.i ?? 0) - (b.i ?? 0));

  // What the hub says, followed push by push.
  const objects = new GitObjects(remote);
  const published = new Map(); // name → { lastSeen (ISO), heartbeat } as its file on the hub says
  const pushTimes = []; // the time of each push landed in the day
  const pushLog = []; // [ms, who, what] of each
  const pushesBy = new Map();
  const tips = { main: remote.tip("main"), coord: remote.tip("coord") };
  objects.index(tips.main, false);
  objects.index(tips.coord, false);
  const kept = [];
  let lastPersonAt = Number.NEGATIVE_INFINITY;
  let lastMachinesAt = Number.NEGATIVE_INFINITY;
  const commitsByKind = new Map();
  let stopped;
  const offline = { lastPush: undefined, heartbeat: undefined, staleAt: undefined, seenAt: undefined };
  let wrongOffline = 0;
  let staleTips = 0;
  let lastStale;
  const lastPushOf = new Map();

  const inDay = (t) => t >= D0 && t < END;
  const presenceIn = (status, name) => {
    const i = status.indexOf(`\n    "${name}": {`);
    if (i < 0) return undefined;
    return /"presence": "(\w+)"/.exec(status.slice(i, i + 400))?.[1];
  };
  const countOf = (text, needle) => {
    let n = 0;
    for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) n++;
    return n;
  };

  /** The commits that landed since the last look, in order: measured, and the hub's view updated. */
  const followHub = () => {
    const t = simMs;
    for (const branch of ["main", "coord"]) {
      const tip = remote.tip(branch);
      if (tip === tips[branch]) continue;
      const fresh = [];
      for (const [id] of remote.lineage(tip)) {
        if (id === tips[branch]) break;
        fresh.push(id);
      }
      tips[branch] = tip;
      for (const id of fresh.reverse()) {
        const c = remote.commit(id);
        objects.index(id, inDay(t));
        const who = /^([a-z0-9-]+)@coord\.invalid$/.exec(c.author.email)?.[1] ?? "person";
        if (inDay(t)) {
          // What the push was: the person's orders, a claim, results, or the machine's file (a heartbeat) or STATUS alone.
          const subject = c.message.split("\n")[0].replace(/^coord: [a-z0-9-]+ /, "");
          const own = `coordination/COMPUTER_${who}.md`;
          const kind =
            who === "person"
              ? "orders"
              : subject.startsWith("ran ")
                ? "results"
                : subject.startsWith("claims ")
                  ? "claims"
                  : c.tree.get(own) !== remote.commit(c.parent)?.tree.get(own)
                    ? "heartbeat"
                    : "STATUS only";
          pushTimes.push(t);
          pushLog.push([t, who, kind]);
          const list = pushesBy.get(who) ?? [];
          list.push(t);
          pushesBy.set(who, list);
          commitsByKind.set(kind, (commitsByKind.get(kind) ?? 0) + 1);
        }
        if (branch === "main") {
          lastPersonAt = t;
          continue;
        }
        lastMachinesAt = t;
        lastPushOf.set(who, t);
        const file = c.tree.get(`coordination/COMPUTER_${who}.md`);
        if (file) {
          const lastSeen = /^lastSeen: (.+)$/m.exec(file)?.[1];
          const heartbeat = Number(/^heartbeat: (\d+)$/m.exec(file)?.[1]);
          if (lastSeen) published.set(who, { lastSeen, heartbeat });
        }
        if (inDay(t)) {
          const status = c.tree.get("STATUS.json") ?? "";
          const off = countOf(status, '"presence": "offline"');
          const stoppedShown = stopped ? presenceIn(status, stopped) : undefined;
          if (countOf(status, '"presence": "stale"') - (stoppedShown === "stale" ? 1 : 0) > 0) {
            staleTips++;
            lastStale = t;
          }
          wrongOffline += off - (stoppedShown === "offline" ? 1 : 0) > 0 ? 1 : 0;
          if (stoppedShown === "stale" && offline.staleAt === undefined) offline.staleAt = t;
          if (stoppedShown === "offline" && offline.seenAt === undefined) offline.seenAt = t;
        }
        kept.push(id);
        // Measured: the commits far behind the tip leave the memory hub (a day of 1,000 machines would not fit).
        while (kept.length > KEEP_COMMITS) {
          const old = kept.shift();
          if (old !== remote.tip("coord")) remote.commits.delete(old);
        }
      }
    }
  };

  // The prediction: whether a tick may do anything, by the product's own rules (the real sync decides what it does).
  const states = names.map(() => ({ main: undefined, followUp: false, deferredUntil: undefined }));
  let counted = { minute: -1, n: N };
  const machinesCountedAt = (t) => {
    const minute = Math.floor(t / 60_000);
    if (counted.minute !== minute) {
      let n = 0;
      for (const name of names) {
        const p = published.get(name);
        if (p && !isOffline(p, new Date(t))) n++;
      }
      counted = { minute, n };
    }
    return counted.n;
  };
  let settled; // the people's tip whose orders are all done and said in STATUS: nothing in ORDERS.json is for anyone
  let openMemo = { key: "", any: false, named: new Set() };
  const openOrders = () => {
    const key = `${tips.main} ${tips.coord}`;
    if (openMemo.key === key) return openMemo;
    const said = lastMachinesAt > lastPersonAt;
    const status = said ? JSON.parse(remote.commit(tips.coord).tree.get("STATUS.json")) : undefined;
    const open = orders.filter((o) => !status?.orders?.[o.id]?.done);
    openMemo = { key, said, any: !said || open.some((o) => o.to === "ANY"), named: new Set(open.flatMap((o) => (o.to === "ANY" ? [] : [o.to].flat()))) };
    if (said && open.length === 0) settled = tips.main;
    return openMemo;
  };
  const reason = (i, t) => {
    const st = states[i];
    const name = names[i];
    const m = machines[i];
    if (st.followUp) return "after work";
    if (st.deferredUntil !== undefined && t >= st.deferredUntil) return "deferred";
    const p = published.get(name);
    if (!p) return "no file";
    const share = shareOf(budget, machinesCountedAt(t) + (isOffline(p, new Date(t)) ? 1 : 0), m.config.heartbeat);
    if (heartbeatDue(p.lastSeen, new Date(t), heartbeatDueAfter(p.heartbeat, heartbeatOf(p.heartbeat, share.heartbeat)))) return "heartbeat";
    if (st.main !== tips.main && settled !== tips.main) {
      const open = openOrders();
      if (open.any || open.named.has(name)) return "orders";
    }
    return undefined;
  };

  const syncMs = [];
  const syncs = { ticks: 0, real: 0, skipped: 0, checks: 0, quiet: 0, byReason: new Map() };
  const prediction = { misses: 0, examples: [] };
  let lowestTokens = Number.POSITIVE_INFINITY;
  let borrowed = 0;
  let share = "";
  const runSync = async (i, opts) => {
    const before = remote.pushes.landed;
    const started = performance.now();
    // Syncs take no simulated time, one after another (no races): a turn to push is waited for on that clock, so not at all.
    const r = await syncMachine(machines[i], { now, waitTurn: async () => {}, ...opts });
    const ms = performance.now() - started;
    if (inDay(simMs)) syncMs.push(ms);
    states[i] = {
      main: tips.main,
      followUp: r.ran.length > 0 || r.warnings.length > 0 || r.interrupted.length > 0,
      deferredUntil: r.deferred ? Date.parse(r.deferred) : undefined,
    };
    if (r.quiet) syncs.quiet++;
    if (r.budget && inDay(simMs)) {
      lowestTokens = Math.min(lowestTokens, r.budget.tokens);
      if (r.budget.tokens < 0) borrowed++;
      share = r.budget.share;
    }
    const landed = remote.pushes.landed - before;
    if (landed) followHub();
    return { r, landed };
  };

  let dayBegan;
  for (const ev of events) {
    simMs = ev.t;
    if (dayBegan === undefined && ev.t >= D0) dayBegan = performance.now();
    if (ev.kind === "join") {
      await runSync(ev.i, { run: false });
      continue;
    }
    if (ev.kind === "orders") {
      orders = [...orders, ...ev.step.add];
      for (let attempt = 1; ; attempt++) {
        const tip = await person.fetch();
        if (await person.push(await person.commitFiles(tip, new Map([["ORDERS.json", ordersText(orders)]]), PERSON, "orders"), ["people"])) break;
        if (attempt >= 50) throw new Error("the person's push lost 50 races");
      }
      followHub();
      continue;
    }
    if (ev.kind === "stop") {
      // The machine that pushed last (its heartbeat just went): its silence is the longest a stopped machine's can be.
      const candidates = names.filter((n) => !named.has(n) && lastPushOf.has(n));
      stopped = candidates.reduce((a, b) => (lastPushOf.get(b) > lastPushOf.get(a) ? b : a));
      offline.lastPush = lastPushOf.get(stopped);
      offline.heartbeat = published.get(stopped).heartbeat;
      continue;
    }
    const name = names[ev.i];
    if (name === stopped) continue;
    if (inDay(ev.t)) syncs.ticks++;
    const why = reason(ev.i, ev.t);
    let check = false;
    if (skip && why === undefined) {
      if (++syncs.skipped % checkEvery !== 0) continue;
      check = true;
    }
    const { landed } = await runSync(ev.i, { scheduled: true });
    if (inDay(ev.t)) {
      syncs.real++;
      if (check) syncs.checks++;
      const k = why ?? (check ? "check" : "idle");
      syncs.byReason.set(k, (syncs.byReason.get(k) ?? 0) + 1);
    }
    if (why === undefined && landed) {
      prediction.misses++;
      if (prediction.examples.length < 5) prediction.examples.push(`${name} at ${new Date(ev.t).toISOString()}`);
    }
    if (syncs.real % 500 === 0 && syncs.real) process.stderr.write(`${new Date(simMs).toISOString()} ${syncs.real} real syncs, ${pushTimes.length} pushes\n`);
  }

  // Pushes a minute, a 60 s window, per machine.
  const minutes = new Array(opts.hours * 60).fill(0);
  for (const t of pushTimes) minutes[Math.floor((t - D0) / 60_000)]++;
  const busiest = minutes
    .map((n, i) => [n, i])
    .filter(([n]) => n > budget)
    .sort((a, b) => b[0] - a[0])
    .slice(0, 8)
    .map(([n, i]) => {
      const from = D0 + i * 60_000;
      const what = new Map();
      for (const [t, , w] of pushLog) if (t >= from && t < from + 60_000) what.set(w, (what.get(w) ?? 0) + 1);
      return `${iso(from)} ${n} (${[...what].map(([w, k]) => `${w} ×${k}`).join(", ")})`;
    });
  // The sustained rate: the most pushes in any 10 minutes, a minute (the budget is a rate a bucket averages, not a cap on each minute).
  let max10 = 0;
  for (let i = 0; i + 10 <= minutes.length; i++) max10 = Math.max(max10, minutes.slice(i, i + 10).reduce((a, b) => a + b, 0) / 10);
  let maxWindow = 0;
  for (let a = 0, b = 0; b < pushTimes.length; b++) {
    while (pushTimes[b] - pushTimes[a] >= 60_000) a++;
    maxWindow = Math.max(maxWindow, b - a + 1);
  }
  const perMachine = names.filter((n) => n !== stopped).map((n) => pushesBy.get(n)?.length ?? 0);
  let maxIn10 = 0;
  for (const [who, times] of pushesBy) {
    if (who === "person") continue;
    for (let a = 0, b = 0; b < times.length; b++) {
      while (times[b] - times[a] >= 600_000) a++;
      maxIn10 = Math.max(maxIn10, b - a + 1);
    }
  }
  const status = remote.commit(remote.tip("coord")).tree;
  const statusBytes = { json: Buffer.byteLength(status.get("STATUS.json")), md: Buffer.byteLength(status.get("STATUS.md")) };
  const finalStatus = JSON.parse(status.get("STATUS.json"));
  const orderStates = orders.map((o) => `${o.id} ${finalStatus.orders?.[o.id]?.state ?? "?"}`).join(", ");
  const added = objects.added;
  const ratio = objects.sample.raw ? objects.sample.zipped / objects.sample.raw : Number.NaN;
  return {
    mode: opts.mode,
    budget,
    capacity: BUCKET_CAPACITY,
    share: share || describeShare(shareOf(budget, N, 900)),
    tips: { main: remote.tip("main"), coord: remote.tip("coord") },
    pushes: {
      total: pushTimes.length,
      person: pushesBy.get("person")?.length ?? 0,
      maxMinute: Math.max(...minutes),
      max10,
      maxWindow,
      minutesOver: minutes.filter((x) => x > budget).length,
      minutesOverBurst: minutes.filter((x) => x > budget + BUCKET_CAPACITY).length,
      busiest,
      refused: remote.pushes.refused,
      perMachine: { min: Math.min(...perMachine), max: Math.max(...perMachine), median: median(perMachine), maxIn10 },
      lowestTokens,
      borrowed,
    },
    commits: added.commits,
    commitsByKind: [...commitsByKind]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${n.toLocaleString("en")} ${k}`)
      .join(", "),
    growth: {
      bytes: added.blob + added.tree + added.commit,
      blob: added.blob,
      tree: added.tree,
      commit: added.commit,
      objects: added.objects,
      loose: (added.blob + added.tree + added.commit) * ratio,
      sampled: objects.sample.commits,
    },
    statusBytes,
    offline: {
      name: stopped,
      stoppedAt: iso(stopAt),
      lastPush: iso(offline.lastPush),
      heartbeat: offline.heartbeat,
      staleAt: offline.staleAt === undefined ? "never" : iso(offline.staleAt),
      seenAt: offline.seenAt === undefined ? undefined : iso(offline.seenAt),
      seenAfter: offline.seenAt === undefined ? undefined : (offline.seenAt - offline.lastPush) / 1000,
    },
    wrongOffline,
    staleTips,
    lastStale: lastStale === undefined ? undefined : iso(lastStale),
    orders: orderStates,
    syncs: {
      ticks: syncs.ticks,
      real: syncs.real,
      checks: syncs.checks,
      quiet: syncs.quiet,
      byReason: [...syncs.byReason].map(([k, v]) => `${k} ${v.toLocaleString("en")}`).join(", "),
    },
    prediction,
    syncMs: { median: median(syncMs), p90: [...syncMs].sort((a, b) => a - b)[Math.floor(syncMs.length * 0.9)], max: Math.max(...syncMs) },
    rssMiB: process.resourceUsage().maxRSS / 1024,
    beforeDayMs: dayBegan - began,
    dayMs: performance.now() - dayBegan,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === "--child") {
  const opts = JSON.parse(process.argv[3]);
  try {
    const out = await child(opts);
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exit(0);
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ error: String(e?.stack ?? e).slice(0, 2000) })}\n`);
    process.exit(1);
  }
}
