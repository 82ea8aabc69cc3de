// Issue 14, rows 4–6: a sync on a hub at scale (machines, orders, messages),
// and on a hub with a long history (joining it, and syncing on it).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fleetState, longHistory, plainClone, rawPublish } from "./fixtures.mjs";
import {
  coordWithRss,
  dur,
  fixture,
  fleet,
  inTurns,
  median,
  must,
  ordersText,
  OWN_SERVER,
  PERSON,
  personCommit,
  ratio,
  say,
  size,
  spread,
  syncJson,
  syncOk,
  times,
} from "./lib.mjs";

/** A `coord sync --json` with its peak RSS; throws when it fails. */
async function syncRss(f, dir) {
  const r = await coordWithRss(f, ["sync", "--json", "--dir", dir]);
  const json = syncJson(r);
  if (r.code !== 0 || !json) throw new Error(`coord sync --dir ${dir} failed (exit ${r.code}): ${(r.err || r.out).trim().split("\n")[0]}`);
  return { ...r, json };
}

/**
 * Row 4: one machine of a fleet of 100, with 1,000 orders and 10,000 messages on the hub: a no-op
 * sync, and a sync that runs one new order; wall time and peak RSS of the coord process.
 */
export async function atScale() {
  const f = fixture("scale");
  try {
    const machines = size(100);
    const orderCount = size(1000);
    const messages = size(10_000);
    const me = "m0";
    say(`a hub with ${machines} machines, ${orderCount} orders, ${messages} messages`);
    const { person, remote } = await fleet(f, []);
    const { orders } = await fleetState(f, person, { machines, orders: orderCount, messages, me });
    const dir = join(f.root, me);
    say("the machine joins (coord init) and settles");
    await f.mustCoord(["init", dir, "--name", me, "--remote", remote]);
    await syncOk(f, dir);
    const raw = await plainClone(f, remote, join(f.root, "raw"));

    const noop = [];
    const fetch = [];
    const rss = [];
    let published = 0;
    const reps = size(7, 2);
    for (let i = 0; i < reps; i++) {
      say(`no-op sync at scale ${i + 1}/${reps}`);
      const r = await syncRss(f, dir);
      noop.push(r.ms);
      rss.push(r.rssMiB);
      if (r.json.pushed) published++;
      fetch.push((await f.git(["-C", dir, "fetch", "--quiet", "origin"])).ms);
    }
    const task = [];
    const taskRss = [];
    const base = [];
    let wrong = 0;
    const taskReps = size(5, 2);
    for (let i = 0; i < taskReps; i++) {
      say(`one-task sync at scale ${i + 1}/${taskReps}`);
      orders.push({ id: `mine-${i}`, to: me, run: "true" });
      await personCommit(f, person, { "ORDERS.json": ordersText(orders, OWN_SERVER) }, `order mine-${i}`);
      const r = await syncRss(f, dir);
      task.push(r.ms);
      taskRss.push(r.rssMiB);
      if (!r.json.pushed || !r.json.ran.some((t) => t.id === `mine-${i}` && t.state === "completed")) wrong++;
      base.push(await rawPublish(f, raw, "baseline/status.md", `mine-${i}: completed`, { task: "true" }));
    }
    const mib = (xs) => Math.max(...xs.map((x) => x ?? Number.NaN));
    const [n, t, rn, rt] = [median(noop), median(task), mib(rss), mib(taskRss)];
    const label = `${machines} machines, ${orderCount.toLocaleString("en")} orders, ${messages.toLocaleString("en")} messages`;
    return [
      {
        n: "4a",
        what: `${label}: no-op sync`,
        coord: `${dur(n)}, ${rn.toFixed(0)} MiB`,
        base: `git fetch ${dur(median(fetch))}`,
        ratio: times(ratio(n, median(fetch))),
        goal: "< 1 s, < 150 MiB",
        met: n < 1000 && rn < 150,
        notes: `coord ${spread(noop)}; peak RSS ${rss.map((x) => x?.toFixed(0)).join(", ")} MiB${published ? `; ${published} of the syncs published something` : ""}`,
      },
      {
        n: "4b",
        what: `${label}: sync that runs one task`,
        coord: `${dur(t)}, ${rt.toFixed(0)} MiB`,
        base: `fetch+merge+run+commit+push ${dur(median(base))}`,
        ratio: times(ratio(t, median(base))),
        goal: "< 2 s, < 150 MiB",
        met: wrong === 0 && t < 2000 && rt < 150,
        notes: `coord ${spread(task)}; peak RSS ${taskRss.map((x) => x?.toFixed(0)).join(", ")} MiB${wrong ? `; ${wrong} syncs did not run and publish the task` : ""}`,
      },
    ];
  } finally {
    await f.cleanup();
  }
}

/**
 * Row 5: `coord init` against a hub with 100k commits (91,000 on main, 9,000 on coord: longHistory) vs
 * `git clone --depth 1` of it.
 */
export async function initLongHistory() {
  const f = fixture("init");
  try {
    const commits = size(100_000);
    const { hub, remote } = await fleet(f, [], { person: false });
    say(`a hub with ${commits} commits (git fast-import)`);
    await longHistory(f, hub, commits);
    const init = [];
    const clone = [];
    const floor = [];
    const reps = size(5, 2);
    for (let i = 0; i < reps; i++) {
      say(`coord init vs git clone --depth 1: ${i + 1}/${reps}`);
      const a = join(f.root, `joiner-${i}`);
      const b = join(f.root, `shallow-${i}`);
      const c = join(f.root, `floor-${i}`);
      init.push((await f.mustCoord(["init", a, "--name", `joiner-${i}`, "--remote", remote], { timeoutMs: 600_000 })).ms);
      clone.push((await must("git", ["clone", "--quiet", "--depth", "1", remote, b], { env: f.env })).ms);
      // The floor of an init that registers, none of coord's own work in it: Node's start, the clone of main as
      // coord makes it (src/git/clone.ts, src/git/env.ts), the fetch of coord's tip its registering sync makes
      // (Repo.fetchMachinesTip), a commit on coord (an empty one, by git) and its push to coord.
      const v0 = ["-c", "protocol.version=0", "-c", "fetch.negotiationAlgorithm=skipping"];
      const parts = [
        await must(process.execPath, ["-e", "0"], { env: f.env }),
        await f.git([...v0, "clone", "--quiet", "--depth", "1", "--no-tags", "--branch", "main", remote, c]),
        await f.git(["-C", c, ...v0, "fetch", "--quiet", "--no-tags", "--depth=1", "origin", "+refs/heads/coord:refs/remotes/origin/coord"]),
      ];
      const commit = await f.git(["-C", c, ...PERSON, "commit-tree", "-p", "origin/coord", "-m", "floor", "origin/coord^{tree}"]);
      parts.push(commit, await f.git(["-C", c, ...v0, "push", "--quiet", "origin", `${commit.out.trim()}:refs/heads/coord`]));
      floor.push(parts.reduce((sum, p) => sum + p.ms, 0));
      for (const dir of [a, b, c]) rmSync(dir, { recursive: true, force: true });
    }
    const r = ratio(median(init), median(clone));
    return {
      n: "5",
      what: `coord init against a hub with ${commits.toLocaleString("en")} commits`,
      coord: dur(median(init)),
      base: `git clone --depth 1 ${dur(median(clone))}`,
      ratio: times(r),
      goal: "≤ 2×",
      met: r <= 2,
      notes: `coord init ${spread(init)}; shallow clone ${spread(clone)}; the floor of an init that registers (Node's start, coord's clone of main, its fetch of coord's tip, a commit by git, its push to coord: no coord code) ${spread(floor)}, ${times(ratio(median(floor), median(clone)))} the clone`,
    };
  } finally {
    await f.cleanup();
  }
}

/** Row 6: a no-op sync on a hub with 100 commits vs one with 100k (each split between main and coord as in longHistory). */
export async function historyGrowth() {
  const f = fixture("history");
  try {
    const [few, many] = [size(100), size(100_000)];
    const daemon = (await fleet(f, [], { person: false })).daemon;
    await f.mustCoord(["hub", "create", join(f.root, "short.git")]);
    say(`hubs with ${few} and ${many} commits (git fast-import)`);
    await longHistory(f, join(f.root, "short.git"), few);
    await longHistory(f, join(f.root, "hub.git"), many);
    const short = join(f.root, "on-short");
    const long = join(f.root, "on-long");
    await f.mustCoord(["init", short, "--name", "g1", "--remote", daemon.url("short.git")]);
    await f.mustCoord(["init", long, "--name", "g1", "--remote", daemon.url("hub.git")], { timeoutMs: 600_000 });
    await syncOk(f, short);
    await syncOk(f, long);
    const a = [];
    const b = [];
    // 15 pairs: a no-op sync varies by ±20 % on a busy machine, and the goal is a ratio of two medians within 20 %.
    const reps = size(15, 2);
    for (let i = 0; i < reps; i++) {
      say(`no-op sync, ${few} vs ${many.toLocaleString("en")} commits: ${i + 1}/${reps}`);
      for (const [dir, into] of inTurns(i, [
        [long, b],
        [short, a],
      ]))
        into.push((await syncOk(f, dir)).ms);
    }
    const r = ratio(median(b), median(a));
    return {
      n: "6",
      what: `history growth: no-op sync, ${few} → ${many.toLocaleString("en")} commits`,
      coord: `${dur(median(a))} → ${dur(median(b))}`,
      base: "",
      ratio: times(r),
      goal: "≤ 1.2×",
      met: r <= 1.2,
      notes: `${few} commits ${spread(a)}; ${many} commits ${spread(b)}`,
    };
  } finally {
    await f.cleanup();
  }
}
