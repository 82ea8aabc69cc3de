// Row 15: what each start-up trick buys (src/startup/tricks.ts lists them), each
// switched off through COORD_STARTUP_OFF (a measuring aid read in
// src/startup/tricks.ts only) against the build as it ships, in turns, in one run, on
// the same hub, beside the raw git of rows 1, 2 and 5. Not a goal to meet: the
// figures say whether a trick still pays for itself (a trick that no longer
// does is removed, issue 32).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fleetState, plainClone, rawPublish } from "./fixtures.mjs";
import { dur, fixture, fleet, inTurns, median, must, ordersText, OWN_SERVER, personCommit, say, size, spread, syncJson } from "./lib.mjs";

/** A `coord sync --json` of `dir` with the tricks named in `off` switched off; throws when it fails. */
async function syncWith(f, dir, off) {
  const r = await f.coord(["sync", "--json", "--dir", dir], { env: { ...f.env, ...(off ? { COORD_STARTUP_OFF: off } : {}) } });
  const json = syncJson(r);
  if (r.code !== 0 || !json) throw new Error(`coord sync --dir ${dir} (off: ${off || "none"}) failed (exit ${r.code}): ${(r.err || r.out).trim().split("\n")[0]}`);
  return { ...r, json };
}

/**
 * What a trick buys: the median of the paired differences (each turn runs both, side by side, so that a busy
 * moment of the machine weighs on both), beside the two medians.
 */
function buys(on, off) {
  const diffs = on.map((a, i) => off[i] - a);
  const d = median(diffs);
  return { buys: d, text: `${d >= 0 ? "" : "−"}${dur(Math.abs(d))} ${d >= 0 ? "less" : "more"} with it (${dur(median(on))} with, ${dur(median(off))} without)` };
}

const row = (n, what, m, base, notes) => ({ n, what, coord: m.text, base, ratio: "", goal: "measured (src/startup/tricks.ts)", met: true, notes });

export async function startupTricks() {
  const f = fixture("startup");
  try {
    const { dirs, person, remote } = await fleet(f, ["m1"]);
    const dir = dirs.m1;
    const raw = await plainClone(f, remote, join(f.root, "raw"));
    const reps = size(9, 2);
    const out = [];

    // 15a, the quiet stamp: a sync right after one (row 1), answered from the stamp, or the CLI's full sync.
    await syncWith(f, dir);
    await syncWith(f, dir);
    const quiet = { on: [], off: [], fetch: [], answered: 0, full: 0 };
    for (let i = 0; i < reps; i++) {
      say(`quiet stamp on/off ${i + 1}/${reps}`);
      for (const step of inTurns(i, [
        async () => {
          const r = await syncWith(f, dir);
          quiet.on.push(r.ms);
          if (r.json.quiet) quiet.answered++;
        },
        async () => {
          const r = await syncWith(f, dir, "quiet");
          quiet.off.push(r.ms);
          if (!r.json.quiet) quiet.full++;
        },
        async () => quiet.fetch.push((await f.git(["-C", dir, "fetch", "--quiet", "origin"])).ms),
      ]))
        await step();
    }
    out.push(
      row(
        "15a",
        "quiet stamp: a no-op sync (row 1)",
        buys(quiet.on, quiet.off),
        `git fetch ${dur(median(quiet.fetch))}`,
        `with ${spread(quiet.on)} (${quiet.answered} answered from the stamp); without ${spread(quiet.off)} (${quiet.full} full syncs)`,
      ),
    );

    // 15b, the two bundles: the quiet sync loads ~25 KB of ES chunks; what it would add is loading the CLI
    // (dist/chunks/cli.cjs): `coord --version` (the CLI, no code cache kept for it) less Node's own start.
    const load = { node: [], cli: [] };
    for (let i = 0; i < reps; i++) {
      say(`loading the CLI ${i + 1}/${reps}`);
      for (const step of inTurns(i, [
        async () => load.node.push((await must(process.execPath, ["-e", "0"], { env: f.env })).ms),
        async () => load.cli.push((await f.mustCoord(["--version"])).ms),
      ]))
        await step();
    }
    out.push(
      row(
        "15b",
        "two bundles: what the quiet path leaves unloaded (the CLI: coord --version less node -e 0)",
        { ...buys(load.node, load.cli), text: `${dur(median(load.cli.map((c, i) => c - load.node[i])))} of loading the CLI the quiet path does without` },
        `node -e 0 ${dur(median(load.node))}`,
        `coord --version ${spread(load.cli)}; node -e 0 ${spread(load.node)}`,
      ),
    );

    // 15c–d, the code cache and the head start: a sync that runs one new order (row 2), each trick off in turn.
    const variants = [
      ["all", ""],
      ["codecache", "codecache"],
      ["prefetch", "prefetch"],
    ];
    const task = { all: [], codecache: [], prefetch: [], raw: [] };
    const orders = [];
    let wrong = 0;
    for (let i = 0; i < reps; i++) {
      say(`one-task sync, code cache and head start on/off ${i + 1}/${reps}`);
      const steps = variants.map(([name, off]) => async () => {
        const id = `${name}-${i}`;
        orders.push({ id, to: "m1", run: "true" });
        await personCommit(f, person, { "ORDERS.json": ordersText(orders, OWN_SERVER) }, `order ${id}`);
        const r = await syncWith(f, dir, off);
        task[name].push(r.ms);
        if (!r.json.ran.some((t) => t.id === id && t.state === "completed")) wrong++;
      });
      steps.push(async () => task.raw.push(await rawPublish(f, raw, "baseline/status.md", `task-${i}: completed`, { task: "true" })));
      for (const step of inTurns(i, steps)) await step();
    }
    const base = `fetch+merge+run+commit+push ${dur(median(task.raw))}`;
    const bad = wrong ? `; ${wrong} syncs did not run their task` : "";
    out.push(
      row("15c", "code cache: a sync that runs one task (row 2)", buys(task.all, task.codecache), base, `with ${spread(task.all)}; without ${spread(task.codecache)}${bad}`),
    );
    out.push(
      row(
        "15d",
        "head start (prefetch): a sync that runs one task (row 2)",
        buys(task.all, task.prefetch),
        base,
        `with ${spread(task.all)}; without ${spread(task.prefetch)}${bad}`,
      ),
    );

    // 15e, the early clone: coord init (row 5, on this small hub).
    const init = { on: [], off: [], clone: [] };
    for (let i = 0; i < reps; i++) {
      say(`init, early clone on/off ${i + 1}/${reps}`);
      const made = [];
      const initWith = (into, off) => async () => {
        const d = join(f.root, `j-${off ? "off" : "on"}-${i}`);
        made.push(d);
        into.push((await f.mustCoord(["init", d, "--name", `j${off ? "off" : "on"}${i}`, "--remote", remote], off ? { env: { ...f.env, COORD_STARTUP_OFF: off } } : {})).ms);
      };
      const shallow = join(f.root, `shallow-${i}`);
      made.push(shallow);
      for (const step of inTurns(i, [
        initWith(init.on, ""),
        initWith(init.off, "earlyclone"),
        async () => init.clone.push((await f.git(["clone", "--quiet", "--depth", "1", remote, shallow])).ms),
      ]))
        await step();
      for (const d of made) rmSync(d, { recursive: true, force: true });
    }
    out.push(
      row(
        "15e",
        "early clone: coord init (row 5's command, a small hub)",
        buys(init.on, init.off),
        `git clone --depth 1 ${dur(median(init.clone))}`,
        `with ${spread(init.on)}; without ${spread(init.off)}`,
      ),
    );
    return out;
  } finally {
    await f.cleanup();
  }
}

/**
 * Row 15f, the parse memo (parsed.json) at row 4's scale: a sync with nothing new that the quiet stamp does not
 * answer (what a `coord status` or a daemon's tick after a change of its own pays) and a sync that runs one task.
 */
export async function parseMemo() {
  const f = fixture("parsememo");
  try {
    const [machines, orderCount, messages] = [size(100), size(1000), size(10_000)];
    const me = "m0";
    say(`parse memo: a hub with ${machines} machines, ${orderCount} orders, ${messages} messages`);
    const { person, remote } = await fleet(f, []);
    const { orders } = await fleetState(f, person, { machines, orders: orderCount, messages, me });
    const dir = join(f.root, me);
    await f.mustCoord(["init", dir, "--name", me, "--remote", remote]);
    await syncWith(f, dir);
    const reps = size(3, 1);
    const full = { on: [], off: [] };
    const task = { on: [], off: [] };
    for (let i = 0; i < reps; i++) {
      say(`parse memo on/off ${i + 1}/${reps}`);
      for (const [name, off] of inTurns(i, [
        ["on", "quiet"],
        ["off", "quiet,parsememo"],
      ]))
        full[name].push((await syncWith(f, dir, off)).ms);
      for (const [name, off] of inTurns(i, [
        ["on", ""],
        ["off", "parsememo"],
      ])) {
        orders.push({ id: `mine-${name}-${i}`, to: me, run: "true" });
        await personCommit(f, person, { "ORDERS.json": ordersText(orders, OWN_SERVER) }, `order mine-${name}-${i}`);
        task[name].push((await syncWith(f, dir, off)).ms);
      }
    }
    const label = `${machines} machines, ${orderCount.toLocaleString("en")} orders, ${messages.toLocaleString("en")} messages`;
    return [
      row(
        "15f",
        `parse memo: ${label}, a full sync with nothing new (row 4a without the quiet stamp)`,
        buys(full.on, full.off),
        "",
        `with ${spread(full.on)}; without ${spread(full.off)}`,
      ),
      row("15g", `parse memo: ${label}, a sync that runs one task (row 4b)`, buys(task.on, task.off), "", `with ${spread(task.on)}; without ${spread(task.off)}`),
    ];
  } finally {
    await f.cleanup();
  }
}
