// Issue 30 (a fleet within the host's push budget), row 13: what a fleet pushes
// under ORDERS.json's `"hub": {"pushesPerMinute": …}` (src/core/budget/budget.ts),
// counted on the hub as row 12 counts (scripts/bench/host.mjs): pushes landed
// are the hub's reflog entries on coord, pushes tried what its git daemon was
// asked. 13a–b: idle fleets of 20 and 40 daemons, at time ÷ 10; 13c: the
// machine commits one order for one machine causes in a fleet of 20; 13d: 40
// ANY orders of 1 s drained by 10 daemons under the default budget, real time.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { hubActivity, hubSnapshot } from "./host.mjs";
import { CLI, dur, fixture, gitDaemon, keepLogs, ordersText, personPush, run, say, SMOKE, size, sleep, start, syncJson } from "./lib.mjs";

/** GitHub's recommendation, the default budget (DEFAULT_PUSHES_PER_MINUTE in src/core/budget/budget.ts). */
const BUDGET = 6;

const sum = (m) => [...m.values()].reduce((s, x) => s + x, 0);
const fmt = (x) => (!Number.isFinite(x) ? "—" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const range = (m, names) => {
  const xs = names.map((n) => m.get(n) ?? 0);
  return Math.min(...xs) === Math.max(...xs) ? `${xs[0]}` : `${Math.min(...xs)}–${Math.max(...xs)}`;
};

/** `coord daemon run` for each of `names` with `args`, each one's output kept whole (`lines`: name → its lines) and stopped at the fixture's cleanup. */
function startDaemons(f, names, dirs, args, env = f.env) {
  const lines = new Map(names.map((name) => [name, []]));
  const daemons = names.map((name) =>
    start(process.execPath, [CLI, "daemon", "run", "--dir", dirs[name], ...args], {
      env,
      onLine: (line) => {
        const kept = lines.get(name);
        if (kept.length < 100_000) kept.push(line);
      },
    }),
  );
  for (const d of daemons) f.onCleanup(() => d.stop());
  return { daemons, lines };
}

/** The orders among `ids` completed in the hub's STATUS.json (on coord). */
async function completedIds(f, hub, ids) {
  const r = await run("git", ["--git-dir", hub, "show", "coord:STATUS.json"], { env: f.env });
  if (r.code !== 0) return [];
  try {
    const status = JSON.parse(r.out);
    return ids.filter((id) => status.orders?.[id]?.state === "completed");
  } catch {
    return [];
  }
}

/**
 * A hub (`coord hub create`) served by a git daemon, its reflogs kept (as lib.fleet sets them), with the hub's
 * settings `hubSettings` in ORDERS.json when given (pushed by a person, before any machine registers); `dirs`: where each
 * of `names` is to be.
 */
async function hubFor(f, names, hubSettings) {
  const daemon = await gitDaemon(f);
  const hub = join(f.root, "hub.git");
  await f.mustCoord(["hub", "create", hub]);
  await f.git(["--git-dir", hub, "config", "core.logAllRefUpdates", "always"]);
  const remote = daemon.url("hub.git");
  const person = join(f.root, "person");
  await f.git(["clone", "--quiet", remote, person]);
  if (hubSettings) await personPush(f, person, { "ORDERS.json": ordersWithHub([], hubSettings) }, "the hub's settings");
  return { daemon, hub, remote, person, dirs: Object.fromEntries(names.map((name) => [name, join(f.root, name)])) };
}

/** `coord init` of each of `names`, `together` at a time: 4 race to the hub as machines joining together do (lib.fleet), 1 registers them one by one. */
async function register(f, names, dirs, remote, together, args = []) {
  for (let i = 0; i < names.length; i += together) {
    await Promise.all(names.slice(i, i + together).map((name) => f.mustCoord(["init", dirs[name], "--name", name, "--remote", remote, ...args])));
  }
}

/** An ORDERS.json text with the hub's settings. */
function ordersWithHub(orders, hub) {
  return `${JSON.stringify({ $schema: "coordination/orders.schema.json", version: 1, ...(hub ? { hub } : {}), orders }, null, 2)}\n`;
}

/** Each machine's lastSeen and heartbeat as the hub's coord branch has them now (their files' front matter): name → { lastSeen, heartbeat }. */
async function hubPresence(f, hub) {
  const r = await run("git", ["--git-dir", hub, "grep", "--no-color", "-e", "^lastSeen: ", "-e", "^heartbeat: ", "refs/heads/coord", "--", "coordination/COMPUTER_*.md"], {
    env: f.env,
  });
  const machines = new Map();
  for (const line of r.out.split("\n")) {
    const m = /coordination\/COMPUTER_([a-z0-9-]+)\.md:(lastSeen|heartbeat): (.*)$/.exec(line);
    if (!m) continue;
    const file = machines.get(m[1]) ?? {};
    file[m[2]] = m[2] === "heartbeat" ? Number(m[3]) : m[3].trim();
    machines.set(m[1], file);
  }
  return machines;
}

/**
 * What each landed commit on coord between `from` and `to` was for: `registration` (its machine file added),
 * `heartbeat` (its lastSeen changed), else `other` (counted by the paths it changed).
 */
async function pushReasons(f, hub, from, to) {
  const r = await run("git", ["--git-dir", hub, "log", "--reverse", "--format=%x01%ae", "-p", "--unified=0", to, `^${from}`], { env: f.env });
  const reasons = { registration: 0, heartbeat: 0, other: 0 };
  const others = new Map();
  for (const commit of r.out.split("\x01").slice(1)) {
    const email = commit.slice(0, commit.indexOf("\n"));
    const name = /^([a-z0-9-]+)@coord\.invalid$/.exec(email)?.[1];
    if (!name || name === "hub") continue;
    const own = `coordination/COMPUTER_${name}.md`;
    if (commit.includes(`diff --git a/${own} b/${own}\nnew file mode`)) reasons.registration++;
    else if (/^\+lastSeen: /m.test(commit)) reasons.heartbeat++;
    else {
      reasons.other++;
      const paths = [...commit.matchAll(/^diff --git a\/(\S+) b\//gm)].map((m) => m[1].replace(/COMPUTER_[a-z0-9-]+/, "COMPUTER_*")).join(" + ");
      others.set(paths, (others.get(paths) ?? 0) + 1);
    }
  }
  return { ...reasons, others };
}

/**
 * Rows 13a–b: an idle fleet of `n` daemons with default settings on a hub whose budget is the default, run at
 * time ÷ 10 as row 12a is (ORDERS.json's budget 60 a minute for the default 6, daemonHeartbeat 12 s for 2 min,
 * heartbeat 90 s for 15 min, a tick every 30 s with up to 3 s of jitter for 5 min and 30 s, turns to push of 200 ms
 * for 2 s). From before the
 * first registration: the machines register (4 at a time, as lib.fleet does), their daemons start, each
 * publishes a first heartbeat of the stretched length; from when every machine has, a steady window of
 * `beats` published heartbeats. Presence is sampled on the hub every 2 s throughout (src/core/fleet/presence.ts).
 * Pushes tried over the whole run count the registrations' races (4 at once, each lost race a retry), which
 * the budget does not gate: said, not judged.
 */
async function idleFleet(n, label, beats) {
  const { presenceOf } = await import("../../dist/core/fleet/presence.js");
  const SPEED = 10;
  const budget = BUDGET * SPEED;
  const f = fixture(`budget-idle-${n}`);
  try {
    const names = Array.from({ length: n }, (_, i) => `b${i + 1}`);
    const { daemon, hub, remote, dirs } = await hubFor(f, names, { pushesPerMinute: budget });
    const begun = await hubSnapshot(f, hub, daemon);
    say(`${n} machines register (budget ${budget} a minute: ${BUDGET} at time ÷ ${SPEED})`);
    await register(f, names, dirs, remote, 4, ["--heartbeat", `${900 / SPEED}s`]);
    const registered = await hubSnapshot(f, hub, daemon);
    for (const name of names) {
      const file = join(dirs[name], ".git", "coord", "machine.yaml");
      const text = readFileSync(file, "utf8");
      if (!/^daemonHeartbeat: .*$/m.test(text)) throw new Error(`${file} has no daemonHeartbeat line to set`);
      writeFileSync(file, text.replace(/^daemonHeartbeat: .*$/m, `daemonHeartbeat: ${120 / SPEED}`));
    }
    // Their turns to push at the same speed (src/timings.ts COORD_BENCH_TIME_SCALE): a 30 s round of turns against a
    // heartbeat of 40 s is not what a fleet at full time sees (the same round against a heartbeat of 400 s).
    const { daemons, lines } = startDaemons(f, names, dirs, ["--schedule", `*/${300 / SPEED} * * * * *`, "--jitter", String(30 / SPEED)], {
      ...f.env,
      COORD_BENCH_TIME_SCALE: String(SPEED),
    });
    const started = Date.now();
    const startedAt = performance.now();

    // Presence on the hub every 2 s; the steady window from when every machine has published a heartbeat since its daemon started.
    const worst = new Map(names.map((name) => [name, "online"]));
    const rank = { online: 0, stale: 1, offline: 2 };
    let notOnline = 0;
    let samples = 0;
    const sample = async () => {
      const now = new Date();
      const fleetNow = await hubPresence(f, hub);
      samples++;
      let all = true;
      for (const name of names) {
        const m = fleetNow.get(name);
        const p = m?.lastSeen && Number.isFinite(m.heartbeat) ? presenceOf(m, now) : "offline";
        if (rank[p] > rank[worst.get(name)]) worst.set(name, p);
        if (p !== "online") all = false;
      }
      if (!all) notOnline++;
      return fleetNow;
    };
    let steadyFrom;
    let heartbeats = [];
    // Bounded: the registrations' heartbeat (90 s) three times over, and a minute.
    const firstBound = Date.now() + ((3 * 900) / SPEED) * 1000 + 60_000;
    while (Date.now() < firstBound) {
      const fleetNow = await sample();
      if (!daemons.every((d) => d.running())) break;
      if (names.every((name) => Date.parse(fleetNow.get(name)?.lastSeen ?? "") >= started)) {
        steadyFrom = await hubSnapshot(f, hub, daemon);
        heartbeats = names.map((name) => fleetNow.get(name).heartbeat);
        break;
      }
      await sleep(2000);
    }
    const dead = () => daemons.filter((d) => !d.running()).length;
    if (!steadyFrom) throw new Error(`not every machine published a heartbeat within ${dur(firstBound - started)} of its daemon's start (${dead()} daemons exited)`);
    const longest = Math.max(...heartbeats);
    const windowS = beats * longest;
    say(`${n} daemons: every machine published a heartbeat (${Math.min(...heartbeats)}–${longest} s) after ${dur(Date.now() - started)}; steady window ${windowS} s`);
    const end = performance.now() + windowS * 1000;
    while (performance.now() < end && dead() === 0) {
      await sleep(Math.min(2000, Math.max(0, end - performance.now())));
      await sample();
    }
    const ended = await hubSnapshot(f, hub, daemon);
    const exited = dead();
    await Promise.all(daemons.map((d) => d.stop()));
    keepLogs(names, dirs, (name) => lines.get(name), `idle-${n}`);
    const waits = [...lines.values()].flat().filter((l) => /(this publish waits|claims wait) for the fleet's push budget/.test(l));

    const minutes = (act) => (act.seconds * SPEED) / 60;
    const steady = await hubActivity(f, hub, steadyFrom, ended);
    const whole = await hubActivity(f, hub, begun, ended);
    const regs = await hubActivity(f, hub, begun, registered);
    const steadyRate = sum(steady.pushes) / minutes(steady);
    const wholeRate = sum(whole.pushes) / minutes(whole);
    const steadyWhy = await pushReasons(f, hub, steadyFrom.tips.coord, ended.tips.coord);
    const wholeWhy = await pushReasons(f, hub, begun.tips.coord, ended.tips.coord);
    const whyText = (w) =>
      `${w.registration ? `${w.registration} registrations, ` : ""}${w.heartbeat} heartbeats, ${w.other} other${w.other ? ` (${[...w.others].map(([p, k]) => `${k}× ${p}`).join("; ")})` : ""}`;
    const worstOf = [...worst.values()].some((p) => p === "offline") ? "offline" : [...worst.values()].some((p) => p === "stale") ? "stale" : "online";
    const allOnline = worstOf === "online";
    const heartbeatsDue = (steady.seconds / longest) * n;
    return {
      n: label,
      what: `idle fleet, ${n} daemons, default settings and budget (${BUDGET} pushes a minute), run at time ÷ ${SPEED} (budget ${budget}, daemonHeartbeat ${120 / SPEED} s, a tick every ${300 / SPEED} s): pushes a minute of the defaults, steady · whole run`,
      coord: `${fmt(steadyRate)} · ${fmt(wholeRate)} landed (${fmt(steady.tried / minutes(steady))} · ${fmt(whole.tried / minutes(whole))} tried); ${allOnline ? "all online throughout" : `not all online (worst: ${worstOf})`}`,
      base: `the budget ${BUDGET}; before issue 30 ${n / 2}`,
      ratio: `${fmt(steadyRate / BUDGET)} of the budget`,
      goal: `≤ ${BUDGET} a minute landed (steady and whole run) and tried (steady); every machine online throughout; 0 commits to main by machines`,
      met: exited === 0 && allOnline && Math.max(steadyRate, wholeRate, steady.tried / minutes(steady)) <= BUDGET && whole.mainByMachines === 0,
      notes:
        `heartbeats published ${Math.min(...heartbeats)}–${longest} s (${fmt((longest * SPEED) / 60)} min of the defaults; the fleet's ${Math.ceil((n * 60) / (budget / 2))} s), every machine's first within ${dur(steadyFrom.at - startedAt)} of the daemons' start; ` +
        `steady ${fmt(steady.seconds)} s (${fmt(minutes(steady))} min of the defaults, ${fmt(heartbeatsDue)} heartbeats due): ${sum(steady.pushes)} pushes landed (per machine ${range(steady.pushes, names)}; ${whyText(steadyWhy)}), ${steady.tried} reached the host, ${steady.reads} reads; ` +
        `whole run ${fmt(whole.seconds)} s (${fmt(minutes(whole))} min): ${sum(whole.pushes)} landed (${whyText(wholeWhy)}), ${whole.tried} reached the host, of them the registrations ${sum(regs.pushes)} landed and ${regs.tried} tried in ${fmt(regs.seconds)} s; ` +
        `a machine's longest silence between two of its commits ${whole.longestGap} s (${fmt(whole.longestGap / longest)} heartbeats; stale after 1.5); presence sampled on the hub ${samples} times every 2 s, not all online in ${notOnline} (worst per machine: ${
          names
            .filter((x) => worst.get(x) !== "online")
            .map((x) => `${x} ${worst.get(x)}`)
            .join(", ") || "all online"
        }); ` +
        `budget waits logged ${waits.length}; commits on main by machines ${whole.mainByMachines}${exited ? `; ${exited} daemons exited early` : ""}`,
    };
  } finally {
    await f.cleanup();
  }
}

/** Rows 13a–b: idle fleets of 20 and 40 daemons (smoke: one of 8, its heartbeat stretched all the same). */
export async function budgetIdle() {
  if (SMOKE) return [await idleFleet(8, "13a", 1)];
  return [await idleFleet(20, "13a", 2), await idleFleet(40, "13b", 2)];
}

/**
 * Row 13c: the machine commits one order for one machine causes in a fleet of 20 (default settings and budget):
 * all synced (rounds of one sync each, in turn, until a round lands nothing), then a person pushes one order for
 * the machine in the middle, then each machine syncs once, in turn (the ones before it see the new order first).
 */
export async function budgetOrder() {
  const f = fixture("budget-order");
  try {
    const n = size(20, 5);
    const names = Array.from({ length: n }, (_, i) => `c${i + 1}`);
    const target = names[Math.floor(n / 2)];
    // One by one: no registration races, so every machine's bucket has the same tokens left (a race's retries spend some).
    const { dirs, person, hub, daemon, remote } = await hubFor(f, names);
    await register(f, names, dirs, remote, 1);
    const syncAll = async () => {
      const out = new Map();
      for (const name of names) {
        const r = await f.coord(["sync", "--json", "--dir", dirs[name]]);
        const json = syncJson(r);
        if (r.code !== 0 || !json) throw new Error(`coord sync --dir ${name} failed (exit ${r.code}): ${(r.err || r.out).trim().split("\n")[0]}`);
        out.set(name, json);
      }
      return out;
    };
    const settling = [];
    for (let round = 0; round < 4; round++) {
      const a = await hubSnapshot(f, hub, daemon);
      await syncAll();
      const b = await hubSnapshot(f, hub, daemon);
      const act = await hubActivity(f, hub, a, b);
      settling.push(sum(act.commits));
      if (sum(act.commits) === 0) break;
    }
    say(`${n} machines synced (${settling.join(", ")} commits a round); one order for ${target}`);
    const before = await hubSnapshot(f, hub, daemon);
    const { attempts } = await personPush(f, person, { "ORDERS.json": ordersText([{ id: "one", to: target, run: "true" }]) }, "one order for one machine");
    const results = await syncAll();
    const after = await hubSnapshot(f, hub, daemon);
    const act = await hubActivity(f, hub, before, after, { pushes: attempts, reads: attempts });
    const ran = results.get(target)?.ran?.some((t) => t.id === "one" && t.state === "completed");
    const done = (await completedIds(f, hub, ["one"])).length;
    const commits = sum(act.commits);
    const reasons = await pushReasons(f, hub, before.tips.coord, after.tips.coord);
    const log = await run("git", ["--git-dir", hub, "log", "--reverse", "--format=%ae %s", after.tips.coord, `^${before.tips.coord}`], { env: f.env });
    const deferred = [...results].filter(([, r]) => r.deferred).map(([name]) => name);
    return {
      n: "13c",
      what: `machine commits caused by one order for one machine, fleet of ${n} (all synced, a person pushes the order, each machine syncs once in turn)`,
      coord: `${commits} commit${commits === 1 ? "" : "s"} (${sum(act.pushes)} pushes landed, ${act.tried} tried)`,
      base: `before issue 30 ${n}`,
      ratio: "",
      goal: "≤ 2 commits; the order completed on the hub",
      met: commits <= 2 && ran === true && done === 1 && act.mainByMachines === 0,
      notes:
        `the order for ${target} (${names.indexOf(target) + 1} of ${n} to sync): ${ran ? "ran" : "did not run"}, ${done ? "completed" : "not completed"} on the hub; ` +
        `the commits: ${log.out.trim().split("\n").filter(Boolean).join("; ") || "none"} (${reasons.heartbeat} heartbeats${reasons.other ? `, ${[...reasons.others].map(([p, k]) => `${k}× ${p}`).join("; ")}` : ""}); ` +
        `${act.reads} reads; syncs whose publish waited for the budget: ${deferred.length ? deferred.join(", ") : "none"}; settling after the registrations: ${settling.join(", ")} commits a round`,
    };
  } finally {
    await f.cleanup();
  }
}

/**
 * Row 13d: ANY orders of 1 s drained by 10 daemons under the default budget (6 a minute), real time; the daemons
 * of row 11b (a tick every 5 s, no jitter: they see the orders at the same second and race for them). From the
 * person's push to every order completed on the hub's STATUS.json (polled every second, at most 20 minutes): the
 * time, the pushes landed and tried, how often each order started (each writes a line as it starts), how long a
 * completed result waited on its machine before the hub had it, and how deep each machine's bucket went
 * (.git/coord/budget.json, polled).
 */
export async function budgetDrain() {
  const f = fixture("budget-drain");
  try {
    const machines = size(10, 2);
    const count = size(40, 2);
    const interval = 5;
    const names = Array.from({ length: machines }, (_, i) => `d${i + 1}`);
    // One by one: no registration races, so no bucket starts the drain in debt.
    const { dirs, person, hub, daemon, remote } = await hubFor(f, names);
    await register(f, names, dirs, remote, 1);
    const runs = join(f.root, "runs");
    mkdirSync(runs);
    const { daemons, lines } = startDaemons(f, names, dirs, ["--schedule", `*/${interval} * * * * *`, "--jitter", "0"]);
    for (let waited = 0; waited < 60_000 && !daemons.every((d) => /\bsync: /.test(d.output())); waited += 100) await sleep(100);
    await sleep(500);
    const ids = Array.from({ length: count }, (_, i) => `drain-${i}`);
    const before = await hubSnapshot(f, hub, daemon);
    say(`${count} ANY orders of 1 s, ${machines} daemons, budget ${BUDGET} a minute`);
    const { pushedAt, attempts } = await personPush(
      f,
      person,
      { "ORDERS.json": ordersText(ids.map((id) => ({ id, to: "ANY", run: `printf '%s\\n' "$COORD_MACHINE" >> '${join(runs, id)}' && sleep 1` }))) },
      `${count} ANY orders`,
    );
    const limit = (SMOKE ? 2 : 20) * 60_000;
    const onHubAt = new Map(); // id → when the hub first said completed (ms)
    const deepest = new Map(names.map((name) => [name, Number.POSITIVE_INFINITY]));
    let lastSaid = Date.now();
    while (onHubAt.size < count && Date.now() - pushedAt < limit && daemons.every((d) => d.running())) {
      await sleep(1000);
      const now = Date.now();
      for (const id of await completedIds(f, hub, ids)) if (!onHubAt.has(id)) onHubAt.set(id, now);
      for (const name of names) {
        try {
          const tokens = JSON.parse(readFileSync(join(dirs[name], ".git", "coord", "budget.json"), "utf8")).tokens;
          if (Number.isFinite(tokens)) deepest.set(name, Math.min(deepest.get(name), tokens));
        } catch {
          /* none yet */
        }
      }
      if (now - lastSaid > 60_000) {
        say(`${onHubAt.size}/${count} completed after ${dur(now - pushedAt)}`);
        lastSaid = now;
      }
    }
    const done = onHubAt.size;
    const took = done === count ? Math.max(...onHubAt.values()) - pushedAt : Date.now() - pushedAt;
    const after = await hubSnapshot(f, hub, daemon);
    const exited = daemons.filter((d) => !d.running()).length;
    await Promise.all(daemons.map((d) => d.stop()));
    keepLogs(names, dirs, (name) => lines.get(name), "drain");
    const act = await hubActivity(f, hub, before, after, { pushes: attempts, reads: attempts });
    const landed = sum(act.pushes);
    // Who started each order, and when each machine's run of it ended (its coord.log).
    const startedBy = new Map(ids.map((id) => [id, []]));
    for (const file of readdirSync(runs)) if (startedBy.has(file)) startedBy.set(file, readFileSync(join(runs, file), "utf8").split("\n").filter(Boolean));
    const once = [...startedBy.values()].filter((m) => m.length === 1).length;
    const again = [...startedBy].filter(([, m]) => m.length > 1);
    const endedAt = new Map();
    for (const name of names) {
      let log = "";
      try {
        log = readFileSync(join(dirs[name], ".git", "coord", "coord.log"), "utf8");
      } catch {
        /* none */
      }
      for (const line of log.split("\n")) {
        if (!line.includes('"kind":"task"')) continue;
        try {
          const e = JSON.parse(line);
          if (e.state === "completed" && startedBy.has(e.id)) endedAt.set(e.id, Math.min(endedAt.get(e.id) ?? Number.POSITIVE_INFINITY, Date.parse(e.at)));
        } catch {
          /* not a record */
        }
      }
    }
    const held = [...onHubAt].filter(([id]) => endedAt.has(id)).map(([id, at]) => Math.max(0, at - endedAt.get(id)));
    const sorted = [...held].sort((a, b) => a - b);
    const medianHeld = sorted.length ? sorted[Math.floor(sorted.length / 2)] : Number.NaN;
    const claimWaits = [...lines.values()].flat().filter((l) => /claims wait for the fleet's push budget/.test(l)).length;
    const publishWaits = [...lines.values()].flat().filter((l) => /this publish waits for the fleet's push budget/.test(l)).length;
    const rejected = [...lines.values()].flat().filter((l) => /push rejected/.test(l)).length;
    const minutes = took / 60_000;
    // What the buckets allow in a window: the budget's rate, and each machine's full bucket and, for urgent pushes, its debt.
    const allowed = BUDGET * minutes + 2 * 3 * machines;
    // The least time the budget allows: each machine claims its share in one push and publishes its results in one
    // (both from its full bucket), each push in its turn (a round of 2 s turns, one a machine: core/budget/budget.ts turnWait).
    const per = Math.ceil(count / machines);
    const ideal = per * 1000 + 2 * Math.min(machines, 15) * 2000;
    const goal = Math.min(4 * 60_000, 2 * ideal + interval * 1000);
    const notDone = ids.filter((id) => !onHubAt.has(id));
    const debts = names.map((name) => deepest.get(name)).filter(Number.isFinite);
    return {
      n: "13d",
      what: `${count} ANY orders of 1 s, ${machines} daemons (every ${interval} s, no jitter), default budget (${BUDGET} a minute), real time: all completed on the hub`,
      coord: `${done === count ? dur(took) : `${done}/${count} in ${dur(took)}`}; ${landed} pushes landed, ${act.tried} tried (${fmt(landed / minutes)} and ${fmt(act.tried / minutes)} a minute)`,
      base: `ideal under the budget ${dur(ideal)}`,
      ratio: "",
      goal: `≤ 2 × ideal + one interval, at most 4 min = ${dur(goal)}; each started once; pushes tried ≤ budget × time + 6 a machine (bucket 3, debt 3)`,
      met: exited === 0 && done === count && took <= goal && once === count && act.tried <= allowed && act.mainByMachines === 0,
      notes:
        `${done}/${count} completed on the hub${notDone.length ? ` (not: ${notDone.join(", ")})` : ""}; started once ${once}, more than once ${again.length}${again.length ? ` (${again.map(([id, m]) => `${id} by ${m.join(" then ")}`).join(", ")})` : ""}, never ${count - once - again.length}; ` +
        `${sum(act.commits)} commits on coord (per machine ${range(act.commits, names)}) in ${landed} pushes landed (per machine ${range(act.pushes, names)}), ${act.tried} reached the host (allowed ${fmt(allowed)}; ${rejected} rejected as another machine pushed first), ${act.reads} reads; ` +
        `a completed result waited on its machine ${held.length ? `${dur(medianHeld)} (median) to ${dur(sorted.at(-1))} before the hub had it` : "—"}; ` +
        `buckets down to ${debts.length ? `${fmt(Math.min(...debts))} tokens (per machine ${fmt(Math.min(...debts))} to ${fmt(Math.max(...debts))})` : "—"}; logged: claims waiting ${claimWaits}, publishes waiting ${publishWaits}; ` +
        `commits to main by machines ${act.mainByMachines}; the person's push ${attempts === 1 ? "landed at the first try" : `took ${attempts} tries`}${exited ? `; ${exited} daemons exited early` : ""}`,
    };
  } finally {
    await f.cleanup();
  }
}
