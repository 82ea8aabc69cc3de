// The bench's tools: whole processes timed from spawn to exit, each with a
// deadline; fixtures in their own temp dirs with a fresh HOME, removed at the
// end; a `git daemon` on loopback; a person who uses plain git.
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI = join(REPO, "dist", "coord.mjs");
const RSS_PRELOAD = pathToFileURL(join(REPO, "scripts", "bench", "rss.mjs")).href;

/** `--smoke` or BENCH_SMOKE=1: sizes ÷ 10, fewer repetitions; nothing written. */
export const SMOKE = process.argv.includes("--smoke") || process.env.BENCH_SMOKE === "1";

/** `full` in a full run, `smoke` (default: a tenth, at least 1) in a smoke run. */
export function size(full, smoke = Math.max(1, Math.round(full / 10))) {
  return SMOKE ? smoke : full;
}

/** A person's and the raw-git baselines' identity: CI has none configured. */
export const PERSON = ["-c", "user.name=A Person", "-c", "user.email=person@bench.invalid"];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Everything that must not outlive the bench: children (killed by process group) and fixtures.
const children = new Set();
const cleanups = new Set();

/** Kills every child still running and removes every fixture: at the end, and on SIGINT/SIGTERM. */
export function cleanupAll() {
  for (const child of children) killGroup(child, "SIGKILL");
  for (const fn of [...cleanups].reverse()) {
    try {
      fn();
    } catch {
      /* best effort */
    }
  }
  cleanups.clear();
}
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    cleanupAll();
    process.exit(130);
  });
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* gone */
  }
}

/**
 * Runs `cmd args` to its end (killed with its process group after `timeoutMs`): exit code, output
 * and wall time in ms, from spawn to exit.
 */
export function run(cmd, args, { cwd, env, timeoutMs = 180_000, input } = {}) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd, env, detached: true, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    children.add(child);
    let out = "";
    let err = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, "SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => (err += String(e)));
    child.on("close", (code, signal) => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      children.delete(child);
      resolve({ code: code ?? (signal ? 128 : -1), out, err: timedOut ? `${err}\n(killed after ${timeoutMs} ms)` : err, ms, timedOut });
    });
  });
}

/**
 * A process left running (watch, daemon run): `stop()` sends SIGTERM, waits (bounded), then SIGKILLs its group.
 * `onLine`: called with each whole line it prints (stdout and stderr).
 */
export function start(cmd, args, { cwd, env, onLine } = {}) {
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let output = "";
  const partial = { out: "", err: "" };
  const take = (stream) => (d) => {
    output = (output + d).slice(-20_000);
    if (!onLine) return;
    const lines = (partial[stream] + d).split("\n");
    partial[stream] = lines.pop();
    for (const line of lines) onLine(line);
  };
  child.stdout.on("data", take("out"));
  child.stderr.on("data", take("err"));
  const closed = new Promise((r) => child.once("close", r));
  return {
    output: () => output,
    running: () => child.exitCode === null && child.signalCode === null,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const done = await Promise.race([closed.then(() => true), sleep(graceMs).then(() => false)]);
        if (!done) killGroup(child, "SIGKILL");
      }
      killGroup(child, "SIGKILL"); // what it left behind in its group (a task's process)
      await Promise.race([closed, sleep(5_000)]);
      children.delete(child);
    },
  };
}

/** The first line of a failed command's stderr (or stdout), for an error message. */
function why(r) {
  return ((r.err || r.out).trim().split("\n").find(Boolean) ?? `exit code ${r.code}`).slice(0, 300);
}

/** Runs and throws, saying what failed, unless it exits 0. */
export async function must(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${[cmd, ...args].join(" ").slice(0, 200)} failed: ${why(r)}`);
  return r;
}

/**
 * A fixture: its own temp dir with a fresh HOME, an environment for every process it starts
 * (no GIT_* or COORD_* of the caller, the user's git config out of reach), and `cleanup()`, which
 * removes it (also run on a signal).
 */
export function fixture(label) {
  const root = mkdtempSync(join(tmpdir(), `coord-bench-${label}-`));
  const home = join(root, "home");
  mkdirSync(home);
  // COORD_BENCH_GIT_TRACE=<dir>: every git process of the fixture writes git's trace2 perf lines (its command, its time)
  // to a file of its own in <dir> (named by its start time): where a row's seconds go, command by command.
  const trace = process.env.COORD_BENCH_GIT_TRACE;
  if (trace) writeFileSync(join(home, ".gitconfig"), `[trace2]\n\tperfTarget = ${trace}\n\tperfBrief = true\n`);
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(GIT_|COORD_)/.test(k)) env[k] = v;
  Object.assign(env, { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" });
  const stops = [];
  const f = {
    root,
    home,
    env,
    /** Something to stop before the dir is removed (a daemon, a watcher). */
    onCleanup: (fn) => stops.push(fn),
    coord: (args, opts = {}) => run(process.execPath, [CLI, ...args], { env, ...opts }),
    mustCoord: (args, opts = {}) => must(process.execPath, [CLI, ...args], { env, ...opts }),
    git: (args, opts = {}) => must("git", args, { env, ...opts }),
    cleanup: async () => {
      for (const fn of stops.reverse()) await Promise.resolve(fn()).catch(() => {});
      stops.length = 0;
      remove();
    },
  };
  const remove = () => {
    rmSync(root, { recursive: true, force: true });
    cleanups.delete(remove);
  };
  cleanups.add(remove);
  return f;
}

/**
 * A coord process with a preload of the bench's own (scripts/bench/rss.mjs) that writes its peak
 * resident set size at exit: `{ ...run result, rssMiB }`. Product code has no hook for it.
 */
export async function coordWithRss(f, args, opts = {}) {
  const file = join(f.root, `rss-${Math.random().toString(36).slice(2)}`);
  const r = await run(process.execPath, [`--import=${RSS_PRELOAD}`, CLI, ...args], { env: { ...f.env, BENCH_RSS_FILE: file }, ...opts });
  let rssMiB;
  try {
    rssMiB = Number(readFileSync(file, "utf8")) / 1024; // kilobytes
    rmSync(file, { force: true });
  } catch {
    rssMiB = undefined;
  }
  return { ...r, rssMiB };
}

/** The JSON that `coord sync --json` printed, or undefined. */
export function syncJson(r) {
  try {
    return JSON.parse(r.out);
  } catch {
    return undefined;
  }
}

/** A `coord sync --json` that must succeed: its parsed result and wall time. */
export async function syncOk(f, dir, extra = []) {
  const r = await f.coord(["sync", "--json", "--dir", dir, ...extra]);
  const json = syncJson(r);
  if (r.code !== 0 || !json) throw new Error(`coord sync --dir ${dir} failed (exit ${r.code}): ${why(r)}`);
  return { ...r, json };
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function listening(port) {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => {
      s.end();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

/**
 * `git daemon` serving the fixture's root on 127.0.0.1 (a free port), push enabled. `url(name)`;
 * `stop()` and `start()` again on the same port (an outage); stopped by the fixture's cleanup.
 * `requests()`: what the host was asked so far, from its own log (`--verbose`: one line per
 * connection): `reads` (upload-pack: a fetch, an ls-remote, a clone) and `pushes` (receive-pack: a
 * push that reached the host, landed or not).
 */
export async function gitDaemon(f) {
  const port = await freePort();
  let daemon;
  const counts = { reads: 0, pushes: 0 };
  const count = (line) => {
    const m = /\] Request (upload-pack|receive-pack) for /.exec(line);
    if (m) counts[m[1] === "upload-pack" ? "reads" : "pushes"]++;
  };
  const api = {
    port,
    url: (name) => `git://127.0.0.1:${port}/${name}`,
    requests: () => ({ ...counts }),
    start: async () => {
      daemon = start(
        "git",
        ["daemon", "--verbose", "--reuseaddr", "--export-all", "--enable=receive-pack", `--base-path=${f.root}`, "--listen=127.0.0.1", `--port=${port}`, f.root],
        { env: f.env, onLine: count },
      );
      for (let i = 0; i < 200; i++) {
        if (await listening(port)) return;
        if (!daemon.running()) break;
        await sleep(50);
      }
      throw new Error(`git daemon did not listen on 127.0.0.1:${port}: ${daemon.output().trim().slice(0, 300)}`);
    },
    stop: async () => {
      await daemon?.stop(5_000);
      daemon = undefined;
    },
  };
  await api.start();
  f.onCleanup(() => api.stop());
  return api;
}

/**
 * A far host in front of a port on loopback (a `git daemon`'s): a TCP proxy on 127.0.0.1 (a free port) that holds
 * every chunk `oneWayMs` before passing it on, in each direction and in order, and the first bytes of a connection
 * `2 × oneWayMs` more (the TCP handshake's round trip a far client pays before it may send). So each round trip of
 * git's protocol costs 2 × `oneWayMs`, as it does to a host across an ocean. `url(name)`; `connections()`: how many
 * were opened; stopped (every connection cut) by the fixture's cleanup.
 */
export async function delayingProxy(f, port, { oneWayMs }) {
  const sockets = new Set();
  let opened = 0;
  /** Passes `src`'s bytes (and its end) to `dst`, each at least `oneWayMs` after it came and none before `notBefore`. */
  const relay = (src, dst, notBefore) => {
    const queue = [];
    let timer;
    const flush = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length && queue[0].due <= now) {
        const { chunk } = queue.shift();
        if (dst.destroyed) return;
        if (chunk === null) dst.end();
        else dst.write(chunk);
      }
      if (queue.length) timer = setTimeout(flush, queue[0].due - now);
    };
    const push = (chunk) => {
      queue.push({ chunk, due: Math.max(Date.now(), notBefore) + oneWayMs });
      if (timer === undefined) timer = setTimeout(flush, queue[0].due - Date.now());
    };
    src.on("data", push);
    src.on("end", () => push(null));
  };
  const server = createServer({ allowHalfOpen: true }, (client) => {
    opened++;
    const upstream = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    }
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", cut);
    upstream.on("error", cut);
    client.on("close", (hadError) => hadError && cut());
    upstream.on("close", (hadError) => hadError && cut());
    relay(client, upstream, Date.now() + 2 * oneWayMs);
    relay(upstream, client, 0);
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const proxyPort = server.address().port;
  const api = {
    port: proxyPort,
    oneWayMs,
    url: (name) => `git://127.0.0.1:${proxyPort}/${name}`,
    connections: () => opened,
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  f.onCleanup(() => api.stop());
  return api;
}

/**
 * A person's commit of `files` (path → text) to the hub's main, pushed (again on the fresh tip
 * when refused: only another person's push to main can come first). Returns when the push that
 * landed started (Date.now()).
 */
export async function personCommit(f, person, files, message) {
  return (await personPush(f, person, files, message)).pushedAt;
}

/**
 * personCommit, saying also how many pushes it took (1: the first landed). People write main only:
 * a machines' path (roleOf in src/core/trust/ownership.ts) is refused here, as a mistake of the bench.
 */
export async function personPush(f, person, files, message) {
  const { roleOf } = await import("../../dist/core/trust/ownership.js");
  const theirs = Object.keys(files).filter((path) => roleOf(path) !== "people");
  if (theirs.length) throw new Error(`the bench's person was asked to commit machines' files to main: ${theirs.slice(0, 3).join(", ")}`);
  for (let attempt = 1; ; attempt++) {
    await f.git(["-C", person, "fetch", "--quiet", "origin"]);
    await f.git(["-C", person, "reset", "--quiet", "--hard", "origin/main"]);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(person, path)), { recursive: true });
      writeFileSync(join(person, path), text);
    }
    await f.git(["-C", person, "add", "--", ...Object.keys(files)]);
    await f.git(["-C", person, ...PERSON, "commit", "--quiet", "-m", message]);
    const pushedAt = Date.now();
    const r = await run("git", ["-C", person, "push", "--quiet", "origin", "HEAD:main"], { env: f.env });
    if (r.code === 0) return { pushedAt, attempts: attempt };
    if (attempt >= 30) throw new Error(`the person's push was rejected ${attempt} times: ${why(r)}`);
    await sleep(50 + Math.random() * 100 * attempt);
  }
}

/** An ORDERS.json text; `hub`: its hub settings (none: the default push budget, GitHub's 6 a minute). */
export function ordersText(orders, hub) {
  return `${JSON.stringify({ $schema: "coordination/orders.schema.json", version: 1, ...(hub ? { hub } : {}), orders }, null, 2)}\n`;
}

/**
 * The hub settings of a git server of one's own, with no push limit to keep (the budget at its most): the rows that
 * measure how fast coord syncs and drains work against git use it (rows 2, 3, 4b, 11a, 11b); rows 13 measure
 * coord under GitHub's budget.
 */
export const OWN_SERVER = { pushesPerMinute: 100_000 };

/**
 * A hub (`coord hub create`: main with the people's files, coord with the machines') served by a git
 * daemon, and `n` machines initialised against it as `names`; `person`: a plain clone (on main).
 */
export async function fleet(f, names, { person = true, init = [] } = {}) {
  const daemon = await gitDaemon(f);
  await f.mustCoord(["hub", "create", join(f.root, "hub.git")]);
  // Every update of a branch in the hub's reflog, as a host logs its pushes (scripts/bench/host.mjs counts them).
  await f.git(["--git-dir", join(f.root, "hub.git"), "config", "core.logAllRefUpdates", "always"]);
  const remote = daemon.url("hub.git");
  const dirs = Object.fromEntries(names.map((name) => [name, join(f.root, name)]));
  // Four at a time: their registrations race to the hub as machines joining together do.
  for (let i = 0; i < names.length; i += 4) {
    await Promise.all(names.slice(i, i + 4).map((name) => f.mustCoord(["init", dirs[name], "--name", name, "--remote", remote, ...init])));
  }
  const personDir = join(f.root, "person");
  if (person) await f.git(["clone", "--quiet", remote, personDir]);
  return { daemon, remote, hub: join(f.root, "hub.git"), dirs, person: personDir };
}

// Statistics and formatting.

/** `list` in turn `i`'s order: as given on even turns, reversed on odd ones, so that neither side of a comparison always goes first. */
export function inTurns(i, list) {
  return i % 2 ? [...list].reverse() : list;
}

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A duration for the table: "54 ms", "0.64 s", "12.3 s". */
export function dur(ms) {
  if (!Number.isFinite(ms)) return "—";
  if (ms < 100) return `${ms.toFixed(0)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** min–max of a list of ms, for a note. */
export function spread(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? `${dur(s[0])}–${dur(s.at(-1))}, n = ${s.length}` : "n = 0";
}

export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN);
export const times = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : "—");

/** Progress on stderr, so the table on stdout stays clean. */
export function say(line) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/**
 * COORD_BENCH_LOGS=<dir>: each daemon's coord.log and output kept there as `<prefix>-<name>.log` and `.out`
 * (`outputOf(name)`: its output lines), to see which pushes went out and why.
 */
export function keepLogs(names, dirs, outputOf, prefix) {
  const keep = process.env.COORD_BENCH_LOGS;
  if (!keep) return;
  mkdirSync(keep, { recursive: true });
  for (const name of names) {
    try {
      copyFileSync(join(dirs[name], ".git", "coord", "coord.log"), join(keep, `${prefix}-${name}.log`));
    } catch {
      /* none written */
    }
    writeFileSync(join(keep, `${prefix}-${name}.out`), `${outputOf(name).join("\n")}\n`);
  }
}
