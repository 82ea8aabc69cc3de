// Issue 46 ("Seconds, not minutes"), rows 16: default daemons (`coord daemon run
// --dir X`, no schedule or jitter flags) look at the hub between their ticks as
// often as their share of the fleet's read budget allows (src/core/hub/reads.ts),
// and a move syncs at once. 16a: a plain `coord send` → the recipient's inbox,
// 3 machines on GitHub's figures, with the fleet's reads and pushes counted at
// the host; 16b: a person's order → its task start, the same fleet; 16c: a
// round trip through an onMessage hook and `coord inbox --wait`; 16d: 30 idle
// default daemons: reads in every 10 s window, pushes a minute, a message; 16e:
// a hub on a path (no budget): 5 daemons drain 20 ANY orders of 1 s.
//
// Each machine's daemon prints `<ISO time> <line>`; a message is in the
// recipient's inbox when its daemon logs "N new message(s): <ids>" (src/sync/mail.ts
// logs it after the mailbox's durable write), and the row takes that line's own time.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { completedOnHub, hubActivity, hubSnapshot } from "./host.mjs";
import { CLI, delayingProxy, dur, fixture, gitDaemon, keepLogs, median, ordersText, personPush, say, size, sleep, spread, start } from "./lib.mjs";

/** GitHub's published figures, written in ORDERS.json as a person would. */
export const GITHUB = { pushesPerMinute: 6, readsPerSecond: 15 };
/** The part of the reads the machines take (READ_PART in src/core/hub/reads.ts). */
const READ_PART = 0.8;

export const fmt = (x) => (!Number.isFinite(x) ? "—" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const sum = (m) => [...m.values()].reduce((s, x) => s + x, 0);

/**
 * A hub (`coord hub create`) with its reflogs kept (as lib.fleet sets them) and, before any machine registers, a
 * person's ORDERS.json with `hubSettings` (none: no "hub" at all). `served`: over a git daemon on loopback (its
 * reads and pushes counted); else on a path, as `--remote <path>`. `oneWayMs` (served only): everyone reaches the daemon
 * through lib.delayingProxy, a far host that far away each way (`proxy`). Then `names` registered, 4 at a time.
 */
export async function hubAndMachines(f, names, { hubSettings, served = true, together = 4, oneWayMs = 0 } = {}) {
  const hub = join(f.root, "hub.git");
  const daemon = served ? await gitDaemon(f) : undefined;
  const proxy = daemon && oneWayMs > 0 ? await delayingProxy(f, daemon.port, { oneWayMs }) : undefined;
  await f.mustCoord(["hub", "create", hub]);
  await f.git(["--git-dir", hub, "config", "core.logAllRefUpdates", "always"]);
  const remote = (proxy ?? daemon)?.url("hub.git") ?? hub;
  const person = join(f.root, "person");
  await f.git(["clone", "--quiet", remote, person]);
  if (hubSettings) await personPush(f, person, { "ORDERS.json": ordersText([], hubSettings) }, "the hub's settings");
  const dirs = Object.fromEntries(names.map((name) => [name, join(f.root, name)]));
  for (let i = 0; i < names.length; i += together) {
    await Promise.all(names.slice(i, i + together).map((name) => f.mustCoord(["init", dirs[name], "--name", name, "--remote", remote])));
  }
  return { daemon, proxy, hub, remote, person, dirs };
}

/**
 * `coord daemon run --dir X` with no other flag for each of `names`, `staggerMs` apart; each one's lines kept with
 * their time (the ISO time the daemon printed first, else when the bench read it). `waitFor(name, re, since,
 * ms)`: the time of the first line of `name` matching `re` logged at or after `since`, or NaN after `ms`.
 */
export async function defaultDaemons(f, names, dirs, { staggerMs = 0 } = {}) {
  const lines = new Map(names.map((name) => [name, []]));
  const daemons = new Map();
  for (const [i, name] of names.entries()) {
    if (i > 0 && staggerMs) await sleep(staggerMs);
    const d = start(process.execPath, [CLI, "daemon", "run", "--dir", dirs[name]], {
      env: f.env,
      onLine: (line) => {
        const kept = lines.get(name);
        const at = Date.parse(line.slice(0, 24));
        if (kept.length < 50_000) kept.push({ at: Number.isFinite(at) ? at : Date.now(), line });
      },
    });
    daemons.set(name, d);
    f.onCleanup(() => d.stop());
  }
  const waitFor = async (name, re, since, ms) => {
    const bound = Date.now() + ms;
    for (;;) {
      const hit = lines.get(name).find((l) => l.at >= since && re.test(l.line));
      if (hit) return hit.at;
      if (Date.now() >= bound || !daemons.get(name).running()) return Number.NaN;
      await sleep(50);
    }
  };
  const dead = () => [...daemons.values()].filter((d) => !d.running()).length;
  /** Every daemon's first sync done (bounded), or a throw saying which did not. */
  const settled = async (ms) => {
    const bound = Date.now() + ms;
    const synced = (name) => lines.get(name).some((l) => /\bsync: /.test(l.line));
    while (Date.now() < bound && !names.every(synced) && dead() === 0) await sleep(200);
    if (dead())
      throw new Error(
        `a daemon exited: ${[...daemons.values()]
          .find((d) => !d.running())
          .output()
          .trim()
          .slice(-300)}`,
      );
    const not = names.filter((n) => !synced(n));
    if (not.length) throw new Error(`${not.length} daemons had not synced ${dur(ms)} after their start (${not.slice(0, 3).join(", ")})`);
  };
  const stopAll = () => Promise.all([...daemons.values()].map((d) => d.stop()));
  return { daemons, lines, waitFor, dead, settled, stopAll };
}

/** The id `coord send` printed ("sent a/b/3; …", "queued a/b/3 …"), or undefined. */
export const sentId = (out) => /\b(?:sent|queued) ([a-z0-9-]+\/[A-Za-z0-9-]+\/\d+)/.exec(out)?.[1];

/** A regular expression for a line of the recipient's daemon saying message `id` is in its inbox. */
export const deliveredLine = (id) => new RegExp(`\\bnew messages?: (?:.*[\\s,])?${id.replace(/[/]/g, "\\/")}(?:$|[\\s,;])`);

/**
 * `coord send from → to` (plain: no --now, no --later), then the time until `to`'s daemon logs it delivered, at most
 * `boundMs`: { ms (NaN: not within the bound), id, sendMs, out }.
 */
async function timedMessage(f, fl, dirs, from, to, text, boundMs) {
  const t0 = Date.now();
  const r = await f.coord(["send", to, text, "--dir", dirs[from]], { timeoutMs: 60_000 });
  const sendMs = Date.now() - t0;
  const id = sentId(r.out);
  if (r.code !== 0 || !id) throw new Error(`coord send ${to} from ${from} failed (exit ${r.code}): ${(r.err || r.out).trim().slice(0, 200)}`);
  const at = await fl.waitFor(to, deliveredLine(id), t0, boundMs);
  return { ms: at - t0, id, sendMs, out: r.out.trim() };
}

/** The host's reads and pushes between two counts (lib.gitDaemon's requests()), over `ms`. */
export const hostRates = (a, b, ms) => ({
  reads: b.reads - a.reads,
  pushes: b.pushes - a.pushes,
  readsPerSecond: (b.reads - a.reads) / (ms / 1000),
  pushesPerMinute: (b.pushes - a.pushes) / (ms / 60_000),
});

/**
 * The host's counts every second from now (lib.gitDaemon's requests()) until `stop()`, which says the most reads in
 * any 10 s (a sliding window of the samples).
 */
export function sampleHost(daemon) {
  const samples = [{ at: performance.now(), ...daemon.requests() }];
  const timer = setInterval(() => samples.push({ at: performance.now(), ...daemon.requests() }), 1000);
  timer.unref(); // a row that throws before stop() does not keep the bench alive
  return {
    stop() {
      clearInterval(timer);
      samples.push({ at: performance.now(), ...daemon.requests() });
      let most = 0;
      for (let i = 0, j = 0; i < samples.length; i++) {
        while (samples[i].at - samples[j].at > 10_050) j++;
        most = Math.max(most, samples[i].reads - samples[j].reads);
      }
      return { most };
    },
  };
}

/** 16a: 3 default daemons on GitHub's figures: a plain `coord send` → the recipient's inbox, 8 messages. */
export async function secondsMessage() {
  const f = fixture("seconds-message");
  const names = ["a", "b", "c"];
  try {
    const { dirs, daemon, hub } = await hubAndMachines(f, names, { hubSettings: GITHUB });
    const fl = await defaultDaemons(f, names, dirs);
    try {
      await fl.settled(120_000);
      await sleep(2000); // their share counted from the first sync's fleet, and the first look due
      const pairs = [
        ["a", "b"],
        ["b", "c"],
        ["c", "a"],
        ["a", "c"],
        ["b", "a"],
        ["c", "b"],
      ];
      const count = size(8, 2);
      const BOUND = 30_000;
      const results = [];
      const c0 = daemon.requests();
      const sampler = sampleHost(daemon);
      const s0 = await hubSnapshot(f, hub, daemon);
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        const [from, to] = pairs[i % pairs.length];
        say(`plain coord send ${from} → ${to}, ${i + 1}/${count}`);
        results.push(await timedMessage(f, fl, dirs, from, to, `message ${i + 1} from ${from}`, BOUND));
        await sleep(1000 + Math.random() * 2000);
      }
      const ms = performance.now() - t0;
      const c1 = daemon.requests();
      const busiest = sampler.stop();
      const s1 = await hubSnapshot(f, hub, daemon);
      const act = await hubActivity(f, hub, s0, s1);
      const host = hostRates(c0, c1, ms);
      const inbox = await f.coord(["inbox", "--json", "--all", "--dir", dirs.a]);
      const looks = JSON.parse(readFileSync(join(dirs.a, ".git", "coord", "daemon.json"), "utf8")).looks;
      const dead = fl.dead();
      await fl.stopAll();
      keepLogs(names, dirs, (name) => fl.lines.get(name).map((l) => l.line), "16a");
      const lat = results.map((r) => r.ms);
      const missed = lat.filter((x) => !Number.isFinite(x)).length;
      const m = median(lat.map((x) => (Number.isFinite(x) ? x : BOUND)));
      const worst = Math.max(...lat.map((x) => (Number.isFinite(x) ? x : Number.POSITIVE_INFINITY)));
      return {
        n: "16a",
        what: `plain coord send → in the recipient's inbox, 3 default daemons (no flags), GitHub's figures in ORDERS.json (${GITHUB.readsPerSecond} reads a second, ${GITHUB.pushesPerMinute} pushes a minute)`,
        coord: `${dur(m)} median, ${dur(worst)} worst`,
        base: "before: 32.2 s (a 5 min schedule)",
        ratio: "",
        goal: "≤ 5 s median, ≤ 15 s worst",
        met: dead === 0 && missed === 0 && m <= 5000 && worst <= 15_000,
        notes:
          `${count} messages, pairs rotated, 1–3 s apart; from the send's start to the recipient daemon's "new message" line (its own time stamp): ${spread(lat)}` +
          `${missed ? `, ${missed} not within ${dur(BOUND)}` : ""}; the send itself took ${spread(results.map((r) => r.sendMs))} ("${results[0]?.out.slice(0, 100) ?? ""}"); ` +
          `at the host during the ${dur(ms)}: ${host.reads} reads (${fmt(host.readsPerSecond)} a second, at most ${busiest.most} in any 10 s; the machines' share ${fmt(GITHUB.readsPerSecond * READ_PART)} a second), ` +
          `${host.pushes} pushes reached it (${fmt(host.pushesPerMinute)} a minute), ${sum(act.pushes)} landed on coord; ` +
          `a's looks as its daemon.json last said (written at each sync's end): ${looks ? `${looks.looks} looks, ${looks.moved} saw a move, ${looks.reads} reads, ${looks.every}` : "none"}; ` +
          `a's inbox holds ${(() => {
            try {
              return JSON.parse(inbox.out).length;
            } catch {
              return "?";
            }
          })()} messages${dead ? `; ${dead} daemons exited early` : ""}`,
      };
    } finally {
      await fl.stopAll();
    }
  } finally {
    await f.cleanup();
  }
}

/** 16b: the fleet of 16a: a person's order to one machine → its task start, 5 orders. */
export async function secondsOrder() {
  const f = fixture("seconds-order");
  const names = ["a", "b", "c"];
  try {
    const { dirs, person } = await hubAndMachines(f, names, { hubSettings: GITHUB });
    const fl = await defaultDaemons(f, names, dirs);
    try {
      await fl.settled(120_000);
      await sleep(2000);
      const count = size(5, 2);
      const BOUND = 30_000;
      const orders = [];
      const lat = [];
      let missed = 0;
      for (let i = 0; i < count; i++) {
        const to = names[i % names.length];
        const stamp = join(f.root, `started-${i}`);
        orders.push({ id: `seconds-${i}`, to, run: `date +%s%3N > '${stamp}.part' && mv '${stamp}.part' '${stamp}'` });
        say(`a person's order to ${to} → task start, ${i + 1}/${count}`);
        const { pushedAt } = await personPush(f, person, { "ORDERS.json": ordersText(orders, GITHUB) }, `order seconds-${i}`);
        for (let t = 0; t < BOUND / 50 && !existsSync(stamp); t++) await sleep(50);
        const started = existsSync(stamp) ? Number(readFileSync(stamp, "utf8")) : Number.NaN;
        if (Number.isFinite(started)) lat.push(started - pushedAt);
        else missed++;
        await sleep(1000 + Math.random() * 2000);
      }
      const dead = fl.dead();
      await fl.stopAll();
      keepLogs(names, dirs, (name) => fl.lines.get(name).map((l) => l.line), "16b");
      const m = median([...lat, ...Array(missed).fill(BOUND)]);
      return {
        n: "16b",
        what: "a person's order (to one machine) → its task starts, the fleet of 16a (3 default daemons, GitHub's figures)",
        coord: dur(m),
        base: "before: 37 s (2 of 3 not within 60 s)",
        ratio: "",
        goal: "≤ 5 s median",
        met: dead === 0 && missed === 0 && m <= 5000,
        notes: `${count} orders, machines rotated, 1–3 s apart; from the person's push to the task's own time stamp: ${spread(lat)}${missed ? `; ${missed} not started within ${dur(BOUND)}` : ""}${dead ? `; ${dead} daemons exited early` : ""}`,
      };
    } finally {
      await fl.stopAll();
    }
  } finally {
    await f.cleanup();
  }
}

/**
 * 16c: a round trip. b's onMessage hook answers each message with `coord send <from> --reply-to <id>` (its own
 * start and end stamped); a sends a question and waits with `coord inbox --wait 30s --reply-to <id> --json`.
 */
export async function secondsReply() {
  const f = fixture("seconds-reply");
  const names = ["a", "b", "c"];
  try {
    const help = await f.coord(["inbox", "--help"]);
    if (!/--wait\b/.test(help.out)) {
      return {
        n: "16c",
        what: "a round trip: a asks b, b's onMessage hook answers (send --reply-to), a's inbox --wait returns the answer",
        coord: "—",
        base: "",
        ratio: "",
        goal: "≤ 15 s, less the hook's own time",
        met: undefined,
        notes: "skipped: coord inbox has no --wait yet",
      };
    }
    const { dirs } = await hubAndMachines(f, names, { hubSettings: GITHUB });
    const stamps = join(f.root, "hook");
    mkdirSync(stamps);
    const hook = join(f.root, "answer.sh");
    writeFileSync(
      hook,
      [
        "#!/bin/sh",
        'k=$(printf %s "$COORD_MESSAGE_ID" | tr / _)',
        `date +%s%3N > '${stamps}'/"$k.start"`,
        `'${process.execPath}' '${CLI}' send "$COORD_MESSAGE_FROM" --reply-to "$COORD_MESSAGE_ID" "answer to $COORD_MESSAGE_ID" >/dev/null || exit 1`,
        `date +%s%3N > '${stamps}'/"$k.end"`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const yaml = join(dirs.b, ".git", "coord", "machine.yaml");
    const text = readFileSync(yaml, "utf8");
    const line = `onMessage: ${JSON.stringify(`sh '${hook}'`)}`;
    writeFileSync(yaml, /^onMessage: .*$/m.test(text) ? text.replace(/^onMessage: .*$/m, line) : `${text.trimEnd()}\n${line}\n`);
    const fl = await defaultDaemons(f, names, dirs);
    try {
      await fl.settled(120_000);
      await sleep(2000);
      const count = size(3, 1);
      const trips = [];
      let missed = 0;
      for (let i = 0; i < count; i++) {
        say(`round trip a → b → a, ${i + 1}/${count}`);
        const t0 = Date.now();
        const s = await f.coord(["send", "b", `question ${i + 1}`, "--dir", dirs.a], { timeoutMs: 60_000 });
        const id = sentId(s.out);
        if (s.code !== 0 || !id) throw new Error(`coord send b failed (exit ${s.code}): ${(s.err || s.out).trim().slice(0, 200)}`);
        const w = await f.coord(["inbox", "--wait", "30s", "--reply-to", id, "--json", "--dir", dirs.a], { timeoutMs: 60_000 });
        const total = Date.now() - t0;
        let answered = false;
        try {
          answered = JSON.parse(w.out).some((m) => m.replyTo === id);
        } catch {
          /* not JSON: not answered */
        }
        const k = id.replace(/\//g, "_");
        const read = (ext) => (existsSync(join(stamps, `${k}.${ext}`)) ? Number(readFileSync(join(stamps, `${k}.${ext}`), "utf8")) : Number.NaN);
        const hookMs = read("end") - read("start");
        if (answered) trips.push({ total, hookMs, net: total - (Number.isFinite(hookMs) ? hookMs : 0), asked: read("start") - t0 });
        else missed++;
        await sleep(1000 + Math.random() * 2000);
      }
      const dead = fl.dead();
      await fl.stopAll();
      keepLogs(names, dirs, (name) => fl.lines.get(name).map((l) => l.line), "16c");
      const m = median([...trips.map((t) => t.net), ...Array(missed).fill(Number.POSITIVE_INFINITY)]);
      const worst = Math.max(...trips.map((t) => t.net), missed ? Number.POSITIVE_INFINITY : 0);
      return {
        n: "16c",
        what: "a round trip: a asks b (plain send), b's onMessage hook answers (send --reply-to), a's coord inbox --wait 30s --reply-to returns the answer; 3 default daemons, GitHub's figures",
        coord: `${dur(m)} median, ${dur(worst)} worst`,
        base: "before: not back after 45 s",
        ratio: "",
        goal: "≤ 15 s, less the hook's own time",
        met: dead === 0 && missed === 0 && worst <= 15_000,
        notes:
          `${count} round trips, from a's send to its wait's return, less the hook's own time: ${spread(trips.map((t) => t.net))}; ` +
          `whole ${spread(trips.map((t) => t.total))}; the hook (its send included) ${spread(trips.map((t) => t.hookMs))}; the question reached b's hook after ${spread(trips.map((t) => t.asked))}` +
          `${missed ? `; ${missed} waits returned without the answer` : ""}${dead ? `; ${dead} daemons exited early` : ""}`,
      };
    } finally {
      await fl.stopAll();
    }
  } finally {
    await f.cleanup();
  }
}

/**
 * 16d: 30 idle default daemons (smoke: 5) on GitHub's figures: the host's reads in each 10 s window of a minute
 * (smoke: 15 s), its pushes a minute, and then messages to one of them.
 */
export async function secondsIdle() {
  const n = size(30, 5);
  const f = fixture("seconds-idle");
  const names = Array.from({ length: n }, (_, i) => `i${i + 1}`);
  try {
    say(`${n} machines register`);
    const { dirs, daemon, hub } = await hubAndMachines(f, names, { hubSettings: GITHUB });
    say(`${n} default daemons start, 500 ms apart`);
    const fl = await defaultDaemons(f, names, dirs, { staggerMs: 500 });
    try {
      await fl.settled(300_000);
      await sleep(10_000); // every share counted from a fleet of n, and the first syncs' pushes under way
      const windowS = size(60, 15);
      say(`${n} idle daemons: the host's reads for ${windowS} s`);
      const s0 = await hubSnapshot(f, hub, daemon);
      const c0 = daemon.requests();
      const t0 = performance.now();
      const windows = [];
      let last = c0;
      for (let w = 0; w * 10 < windowS; w++) {
        const len = Math.min(10, windowS - w * 10);
        const due = t0 + (w * 10 + len) * 1000;
        await sleep(Math.max(0, due - performance.now()));
        const now = daemon.requests();
        windows.push({ seconds: len, reads: now.reads - last.reads, pushes: now.pushes - last.pushes });
        last = now;
      }
      const ms = performance.now() - t0;
      const s1 = await hubSnapshot(f, hub, daemon);
      const act = await hubActivity(f, hub, s0, s1);
      const host = hostRates(c0, last, ms);
      const looks = (() => {
        try {
          return JSON.parse(readFileSync(join(dirs[names[0]], ".git", "coord", "daemon.json"), "utf8")).looks;
        } catch {
          return undefined;
        }
      })();
      // Then messages to one of them.
      const count = size(3, 1);
      const msgs = [];
      const m0 = daemon.requests();
      const mt0 = performance.now();
      const sampler = sampleHost(daemon);
      for (let i = 0; i < count; i++) {
        const from = names[(i + 1) % n];
        say(`a message ${from} → ${names[0]} in a fleet of ${n}, ${i + 1}/${count}`);
        msgs.push(await timedMessage(f, fl, dirs, from, names[0], `idle message ${i + 1}`, 30_000));
        await sleep(1000 + Math.random() * 2000);
      }
      const busiest = sampler.stop();
      const during = hostRates(m0, daemon.requests(), performance.now() - mt0);
      const s2 = await hubSnapshot(f, hub, daemon);
      const whole = await hubActivity(f, hub, s0, s2);
      const dead = fl.dead();
      await fl.stopAll();
      keepLogs(names, dirs, (name) => fl.lines.get(name).map((l) => l.line), "16d");
      const within = windows.every((w) => w.reads <= GITHUB.readsPerSecond * w.seconds);
      const perMinute = sum(act.pushes) / (ms / 60_000);
      const lat = msgs.map((x) => x.ms);
      const m = median(lat.map((x) => (Number.isFinite(x) ? x : 30_000)));
      const missed = lat.filter((x) => !Number.isFinite(x)).length;
      const share = (GITHUB.readsPerSecond * READ_PART) / n;
      return {
        n: "16d",
        what: `${n} idle default daemons, GitHub's figures: the host's reads in each 10 s of ${windowS} s; pushes a minute; a message to one of them`,
        coord: `reads ${windows.map((w) => w.reads).join(", ")} a window; ${fmt(perMinute)} pushes a minute landed; message ${dur(m)}`,
        base: `each machine's share: a look every ${fmt(Math.max(1, 1 / share))} s`,
        ratio: `${fmt(Math.max(...windows.map((w) => w.reads / w.seconds)) / GITHUB.readsPerSecond)} of the budget at most`,
        goal: `every 10 s ≤ ${GITHUB.readsPerSecond * 10} reads (the machines' 80 %: ${GITHUB.readsPerSecond * READ_PART * 10}); ≤ ${GITHUB.pushesPerMinute} pushes a minute; a message ≤ 5 s`,
        met: dead === 0 && within && perMinute <= GITHUB.pushesPerMinute && missed === 0 && m <= 5000,
        notes:
          `${windows.length} windows: ${windows.map((w) => `${w.reads} reads/${w.pushes} pushes in ${w.seconds} s`).join(", ")}; in all ${fmt(host.readsPerSecond)} reads a second, ` +
          `${sum(act.pushes)} pushes landed on coord (${fmt(perMinute)} a minute; row 13a's steady idle rate 2.85 a minute for 20 machines) and ${host.pushes} reached the host (${fmt(host.pushesPerMinute)} a minute); ` +
          `${names[0]}'s share as its daemon.json last said: ${looks?.every ?? "none"}; ` +
          `messages to ${names[0]}: ${spread(lat)}${missed ? `, ${missed} not within 30 s` : ""}; while they went: ${during.reads} reads (at most ${busiest.most} in any 10 s), ${during.pushes} pushes reached the host; ` +
          `from the idle window's start to the end ${fmt(whole.seconds)} s: ${sum(whole.pushes)} pushes landed (${fmt(sum(whole.pushes) / (whole.seconds / 60))} a minute)${dead ? `; ${dead} daemons exited early` : ""}`,
      };
    } finally {
      await fl.stopAll();
    }
  } finally {
    await f.cleanup();
  }
}

/**
 * 16e: a hub on a path (`--remote <path>`: no host, so no budget; none set in ORDERS.json), 5 default daemons:
 * 20 ANY orders of 1 s pushed by a person, until all are completed in the hub's STATUS.json, each run once.
 */
export async function secondsPath() {
  const f = fixture("seconds-path");
  const names = ["p1", "p2", "p3", "p4", "p5"];
  try {
    const { dirs, hub, person } = await hubAndMachines(f, names, { served: false });
    const fl = await defaultDaemons(f, names, dirs);
    try {
      await fl.settled(120_000);
      await sleep(2000);
      const count = size(20, 5);
      const ids = Array.from({ length: count }, (_, i) => `path-${i}`);
      const runs = join(f.root, "runs");
      writeFileSync(runs, "");
      say(`${count} ANY orders of 1 s, ${names.length} default daemons, a hub on a path`);
      const { pushedAt } = await personPush(
        f,
        person,
        { "ORDERS.json": ordersText(ids.map((id) => ({ id, to: "ANY", run: `echo ${id} >> '${runs}' && sleep 1` }))) },
        "ANY orders",
      );
      let done = 0;
      const BOUND = size(120_000, 60_000);
      while (done < count && Date.now() - pushedAt < BOUND) {
        await sleep(250);
        done = await completedOnHub(f, hub, ids);
      }
      const took = Date.now() - pushedAt;
      const ran = readFileSync(runs, "utf8").split("\n").filter(Boolean);
      const times = new Map();
      for (const id of ran) times.set(id, (times.get(id) ?? 0) + 1);
      const twice = [...times.values()].filter((x) => x > 1).length;
      const dead = fl.dead();
      await fl.stopAll();
      keepLogs(names, dirs, (name) => fl.lines.get(name).map((l) => l.line), "16e");
      const ideal = (count * 1000) / names.length;
      return {
        n: "16e",
        what: `${count} ANY orders of 1 s, ${names.length} default daemons, a hub on a path (no budget): from the person's push to all completed in the hub's STATUS.json`,
        coord: done === count ? dur(took) : `${done}/${count} in ${dur(took)}`,
        base: `ideal ${dur(ideal)}; before: 26–30 s`,
        ratio: "",
        goal: "≤ 15 s, each once",
        met: dead === 0 && done === count && twice === 0 && times.size === count && took <= 15_000,
        notes: `${times.size}/${count} run, ${twice} more than once, ${done} completed on the hub${dead ? `; ${dead} daemons exited early` : ""}`,
      };
    } finally {
      await fl.stopAll();
    }
  } finally {
    await f.cleanup();
  }
}
