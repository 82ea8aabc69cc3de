// What the host pays: pushes, commits, reads and bytes, per machine and per
// fleet, counted on the hub itself as milliseconds are counted elsewhere
// (GitHub recommends at most 6 pushes a minute per repository and 15 reads a
// second). Landed pushes are the entries of the hub's reflogs (the bench's hubs
// log every update: `core.logAllRefUpdates always`, set by lib.fleet); pushes
// tried and reads are what the hub's git daemon was asked (its --verbose log,
// lib.gitDaemon); commits are counted on the branches; bytes with
// `git count-objects -v`, before the host's gc (loose, as the pushes wrote
// them) and after (one pack). Row 12: an idle fleet of daemons (its pushes are
// heartbeats) and a busy one, with a person pushing ORDERS.json meanwhile.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { CLI, fixture, fleet, ordersText, personPush, run, say, size, sleep, start } from "./lib.mjs";

/** A machine's commits are by `<name>@coord.invalid` (machineAuthor in src/git/commit.ts); `coord hub create`'s by hub@coord.invalid. */
const machineOf = (email) => {
  const name = /^([a-z0-9][a-z0-9-]*)@coord\.invalid$/.exec(email)?.[1];
  return name === "hub" ? undefined : name;
};

/**
 * The hub as it stands: each branch's tip and reflog (newest first: the commit each update set, and its
 * author's email), and what its git daemon was asked so far.
 */
export async function hubSnapshot(f, hub, daemon) {
  const git = (...args) => run("git", ["--git-dir", hub, ...args], { env: f.env });
  const tips = {};
  const reflog = {};
  for (const branch of ["main", "coord"]) {
    tips[branch] = (await git("rev-parse", "--verify", "--quiet", `refs/heads/${branch}`)).out.trim();
    const r = await git("reflog", "show", "--format=%H%x09%ae", `refs/heads/${branch}`);
    reflog[branch] = r.code === 0 ? r.out.split("\n").filter(Boolean) : [];
  }
  return { at: performance.now(), tips, reflog, requests: daemon?.requests() };
}

/**
 * The bytes the hub holds for the objects `to` brought that `from` did not have (commits, trees, blobs),
 * as they are stored now: zlib-compressed loose objects as the pushes left them, or their share of a pack
 * (deltas) after a repack. And how many commits.
 */
export async function objectBytes(f, hub, from, to) {
  const list = await run("git", ["--git-dir", hub, "rev-list", "--objects", to, ...(from ? [`^${from}`] : [])], { env: f.env });
  const ids = list.out
    .split("\n")
    .filter(Boolean)
    .map((line) => line.slice(0, line.indexOf(" ") < 0 ? undefined : line.indexOf(" ")));
  if (ids.length === 0) return { bytes: 0, commits: 0 };
  const sizes = await run("git", ["--git-dir", hub, "cat-file", "--batch-check=%(objecttype) %(objectsize:disk)"], { env: f.env, input: `${ids.join("\n")}\n` });
  let bytes = 0;
  let commits = 0;
  for (const line of sizes.out.split("\n").filter(Boolean)) {
    const [type, size] = line.split(" ");
    bytes += Number(size) || 0;
    if (type === "commit") commits++;
  }
  return { bytes, commits };
}

/** Repacks the hub as the host's gc would: one pack, deltas between the versions of each file. */
export async function repack(f, hub) {
  await run("git", ["--git-dir", hub, "repack", "-a", "-d", "-q"], { env: f.env, timeoutMs: 600_000 });
}

/**
 * What happened on the hub between snapshots `a` and `b`: commits on coord (by machine), pushes landed on
 * coord (reflog entries, by machine), commits on main by machines (must be 0), pushes that reached the
 * host and reads (from its daemon's log, less `person`'s own: { pushes, reads }), and the bytes coord's
 * new objects take, loose.
 */
export async function hubActivity(f, hub, a, b, person = { pushes: 0, reads: 0 }) {
  const log = async (...args) => (await run("git", ["--git-dir", hub, "log", "--format=%ae", ...args], { env: f.env })).out.split("\n").filter(Boolean);
  const byMachine = (emails) => {
    const m = new Map();
    for (const e of emails) {
      const name = machineOf(e);
      if (name) m.set(name, (m.get(name) ?? 0) + 1);
    }
    return m;
  };
  const coordLog = b.tips.coord ? await log(b.tips.coord, ...(a.tips.coord ? [`^${a.tips.coord}`] : []), "--format=%ae %ct") : [];
  const coordCommits = coordLog.map((line) => line.split(" ")[0]);
  // The longest silence of a machine: seconds between two of its commits in the window.
  const times = new Map();
  for (const line of coordLog) {
    const [email, at] = line.split(" ");
    const name = machineOf(email);
    if (name) times.set(name, [...(times.get(name) ?? []), Number(at)]);
  }
  const longestGap = Math.max(0, ...[...times.values()].flatMap((ts) => ts.slice(1).map((t, i) => ts[i] - t)));
  const mainCommits = await log(b.tips.main, `^${a.tips.main}`);
  const landed = b.reflog.coord.slice(0, Math.max(0, b.reflog.coord.length - a.reflog.coord.length)).map((line) => line.split("\t")[1]);
  return {
    seconds: (b.at - a.at) / 1000,
    commits: byMachine(coordCommits),
    longestGap,
    pushes: byMachine(landed),
    mainByMachines: mainCommits.filter((e) => machineOf(e)).length,
    mainCommits: mainCommits.length,
    tried: b.requests && a.requests ? b.requests.pushes - a.requests.pushes - person.pushes : Number.NaN,
    reads: b.requests && a.requests ? b.requests.reads - a.requests.reads - person.reads : Number.NaN,
    loose: (await objectBytes(f, hub, a.tips.coord, b.tips.coord)).bytes,
  };
}

const sum = (m) => [...m.values()].reduce((s, x) => s + x, 0);
const range = (m, names) => {
  const xs = names.map((n) => m.get(n) ?? 0);
  return Math.min(...xs) === Math.max(...xs) ? `${xs[0]}` : `${Math.min(...xs)}–${Math.max(...xs)}`;
};
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** The figures of one window, per machine per hour (`scale`: real seconds per second of the window, for a window of compressed time). */
function rates(act, machines, scale = 1) {
  const perHour = (x) => (x * 3600) / (act.seconds * scale) / machines;
  return {
    commits: perHour(sum(act.commits)),
    pushes: perHour(sum(act.pushes)),
    tried: perHour(act.tried),
    reads: perHour(act.reads),
    kib: perHour(act.loose / 1024),
  };
}

/** Waits until every daemon has logged a sync (their first, at once), at most a minute. */
async function firstSyncs(daemons) {
  for (let waited = 0; waited < 60_000 && !daemons.every((d) => /\bsync: /.test(d.output())); waited += 100) await sleep(100);
  if (!daemons.every((d) => d.running()))
    throw new Error(
      `a daemon exited: ${daemons
        .find((d) => !d.running())
        .output()
        .trim()
        .slice(-300)}`,
    );
}

/** The orders among `ids` completed in the hub's STATUS.json (on coord, the machines' branch). */
export async function completedOnHub(f, hub, ids) {
  const r = await run("git", ["--git-dir", hub, "show", "coord:STATUS.json"], { env: f.env });
  if (r.code !== 0) return 0;
  const status = JSON.parse(r.out);
  return ids.filter((id) => status.orders?.[id]?.state === "completed").length;
}

/**
 * Row 12: what the host pays for a fleet of 5 daemons. Idle: nothing to do, so each machine publishes
 * its heartbeat (daemonHeartbeat) and looks at the hub at each tick; measured in time ÷ 10 (a heartbeat
 * of 12 s for the default 2 min, a tick every 30 s for the default 5 min, jitter up to 3 s for 30 s) and
 * given per hour of the defaults. Busy: the daemons of row 11b (every 5 s, no jitter, default heartbeat)
 * while a person pushes a new ANY order of 1 s to ORDERS.json every 1–3 s, counting the person's pushes
 * that land at the first try. Both: commits to main by machines (must be 0), commits and pushes to coord,
 * pushes tried and reads at the host, and the bytes the hub grows by.
 */
export async function hostLoad() {
  const f = fixture("host");
  try {
    const names = ["h1", "h2", "h3", "h4", "h5"];
    const n = names.length;
    const { dirs, person, hub, daemon } = await fleet(f, names);
    const daemonsWith = (args) => {
      const ds = names.map((name) => start(process.execPath, [CLI, "daemon", "run", "--dir", dirs[name], ...args], { env: f.env }));
      for (const d of ds) f.onCleanup(() => d.stop());
      return ds;
    };
    const setHeartbeat = (seconds) => {
      for (const name of names) {
        const file = join(dirs[name], ".git", "coord", "machine.yaml");
        const text = readFileSync(file, "utf8");
        if (!/^daemonHeartbeat: .*$/m.test(text)) throw new Error(`${file} has no daemonHeartbeat line to set`);
        writeFileSync(file, text.replace(/^daemonHeartbeat: .*$/m, `daemonHeartbeat: ${seconds}`));
      }
    };

    /** Bytes a commit on coord between two snapshots: loose (as pushed), then after the host's gc (repacked now). */
    const bytesPerCommit = async (act, from, to) => {
      await repack(f, hub);
      const packed = await objectBytes(f, hub, from.tips.coord, to.tips.coord);
      const commits = Math.max(1, packed.commits);
      return { loose: act.loose / commits, packed: packed.bytes / commits };
    };
    const perMachine = (r) => `${fmt(r.commits)} commits, ${fmt(r.pushes)} pushes (${fmt(r.tried)} tried), ${fmt(r.reads)} reads, ${fmt(r.kib)} KiB`;
    const fleetLine = (act, scale) => {
      const minutes = (act.seconds * scale) / 60;
      return `the fleet: ${fmt(sum(act.pushes) / minutes)} pushes landed and ${fmt(act.tried / minutes)} tried a minute, ${fmt(act.reads / (act.seconds * scale))} reads a second`;
    };
    const bytesLine = (b) => `${fmt(b.loose)} bytes a commit loose, ${fmt(b.packed)} once repacked`;

    // Idle, in time ÷ 10: heartbeats and ticks only.
    const SPEED = 10;
    const heartbeat = 120 / SPEED;
    const idleSeconds = size(120, 36);
    setHeartbeat(heartbeat);
    let daemons = daemonsWith(["--schedule", `*/${300 / SPEED} * * * * *`, "--jitter", String(30 / SPEED)]);
    await firstSyncs(daemons);
    await sleep(1000);
    say(`an idle fleet of ${n} daemons (heartbeat ${heartbeat} s): ${idleSeconds} s`);
    const a = await hubSnapshot(f, hub, daemon);
    await sleep(idleSeconds * 1000);
    const b = await hubSnapshot(f, hub, daemon);
    const deadIdle = daemons.filter((d) => !d.running()).length;
    await Promise.all(daemons.map((d) => d.stop()));
    const idle = await hubActivity(f, hub, a, b);
    const idleBytes = await bytesPerCommit(idle, a, b);
    const idleRate = rates(idle, n, SPEED);
    const heartbeats = (idleSeconds / heartbeat) * n; // one commit a heartbeat per machine

    // Busy: the daemons of row 11b, and a person pushing orders meanwhile.
    setHeartbeat(120);
    const busySeconds = size(60, 20);
    daemons = daemonsWith(["--schedule", "*/5 * * * * *", "--jitter", "0"]);
    await firstSyncs(daemons);
    await sleep(1000);
    say(`a busy fleet of ${n} daemons, a person pushing an order every 1–3 s: ${busySeconds} s`);
    const c = await hubSnapshot(f, hub, daemon);
    const orders = [];
    const tries = [];
    const end = performance.now() + busySeconds * 1000;
    while (performance.now() < end) {
      orders.push({ id: `busy-${orders.length}`, to: "ANY", run: "sleep 1" });
      tries.push((await personPush(f, person, { "ORDERS.json": ordersText(orders) }, `order busy-${orders.length - 1}`)).attempts);
      await sleep(Math.min(1000 + Math.random() * 2000, Math.max(0, end - performance.now())));
    }
    const d = await hubSnapshot(f, hub, daemon);
    const done = await completedOnHub(
      f,
      hub,
      orders.map((o) => o.id),
    );
    const deadBusy = daemons.filter((x) => !x.running()).length;
    await Promise.all(daemons.map((x) => x.stop()));
    // The person fetched and pushed once a try: the host's, not the machines'.
    const personTries = tries.reduce((t, x) => t + x, 0);
    const busy = await hubActivity(f, hub, c, d, { pushes: personTries, reads: personTries });
    const busyBytes = await bytesPerCommit(busy, c, d);
    const busyRate = rates(busy, n);
    const firstTry = tries.filter((t) => t === 1).length;
    const sizeOf = async (path) => (await run("git", ["--git-dir", hub, "cat-file", "-s", `coord:${path}`], { env: f.env })).out.trim();
    const statusSizes = `STATUS.json ${await sizeOf("STATUS.json")} bytes, STATUS.md ${await sizeOf("STATUS.md")}, a machine's file ${await sizeOf("coordination/COMPUTER_h1.md")}`;

    return [
      {
        n: "12a",
        what: `idle fleet, ${n} daemons (heartbeat-driven; run at time ÷ ${SPEED}: daemonHeartbeat ${heartbeat} s, a tick every ${300 / SPEED} s): per machine per hour of the defaults`,
        coord: perMachine(idleRate),
        base: `a heartbeat every 2 min: ${fmt(3600 / 120)} pushes`,
        ratio: `${fmt(sum(idle.pushes) / heartbeats)} pushes a heartbeat`,
        goal: "≤ 1 push a heartbeat; 0 commits to main by machines",
        met: deadIdle === 0 && idle.mainByMachines === 0 && sum(idle.pushes) <= heartbeats + n,
        notes:
          `${idleSeconds} s (${fmt((idleSeconds * SPEED) / 60)} min of the defaults), ${fmt(heartbeats)} heartbeats due: ${sum(idle.commits)} commits on coord (per machine ${range(idle.commits, names)}), ` +
          `${sum(idle.pushes)} pushes landed (per machine ${range(idle.pushes, names)}), ${idle.tried} reached the host, ${idle.reads} reads; ` +
          `a machine's longest silence ${idle.longestGap} s (${fmt(idle.longestGap / heartbeat)} heartbeats; stale after 1.5); ` +
          `${idle.mainCommits} commits on main, by machines ${idle.mainByMachines}; ${bytesLine(idleBytes)}; ${fleetLine(idle, SPEED)}${deadIdle ? `; ${deadIdle} daemons exited early` : ""}`,
      },
      {
        n: "12b",
        what: `busy fleet, ${n} daemons (every 5 s, no jitter), a person pushing an ANY order of 1 s every 1–3 s: per machine per hour`,
        coord: perMachine(busyRate),
        base: `the person's pushes of ORDERS.json: ${firstTry} of ${tries.length} at the first try`,
        ratio: "",
        goal: "0 commits to main by machines; every push of ORDERS.json lands at the first try",
        met: deadBusy === 0 && busy.mainByMachines === 0 && tries.length > 0 && firstTry === tries.length,
        notes:
          `${busySeconds} s: ${orders.length} orders pushed, ${done} completed on the hub by its end; ${sum(busy.commits)} commits on coord (per machine ${range(busy.commits, names)}), ` +
          `${sum(busy.pushes)} pushes landed (per machine ${range(busy.pushes, names)}), ${busy.tried} reached the host, ${busy.reads} reads (the person's ${personTries} fetches and pushes left out); ` +
          `${busy.mainCommits} commits on main, by machines ${busy.mainByMachines}; ${bytesLine(busyBytes)} (${statusSizes}); ${fleetLine(busy, 1)}` +
          `${deadBusy ? `; ${deadBusy} daemons exited early` : ""}`,
      },
    ];
  } finally {
    await f.cleanup();
  }
}
