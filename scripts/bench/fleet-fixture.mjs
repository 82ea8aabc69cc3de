// A large fleet as a hub, for measuring a sync at scale (issue 14):
// `machines` machine files (each with the task reports of the orders it ran),
// ORDERS.json with `orders` orders, and message files holding `messages`
// messages in all, rendered with coord's own renderers (dist/) and committed
// with plain git where each side keeps them (docs/protocol.md, "Two
// branches"): ORDERS.json by a person on main, the machines' files and
// messages on coord, in one commit with the trailers every machine commit
// carries (commitMachinesFiles); then one more machine's checkout (coord
// init) to measure.
//
//   node scripts/bench/fleet-fixture.mjs <dir> [machines] [orders] [messages]
//
// The measured machine is m000; the other machines' files are m001… Half the
// messages are addressed to m000 (its first sync delivers them), half go
// between the other machines (with receipts in their files). Needs `npm run
// build` first.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { renderComputer } from "../../dist/core/fleet/computer.js";
import { messagePath, renderMessageFile } from "../../dist/core/messages/messages.js";
import { roleOf } from "../../dist/core/trust/ownership.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const COORD = join(root, "dist", "coord.mjs");

/** The measured machine. */
export const MEASURED = "m000";

const pad = (n, width) => String(n).padStart(width, "0");

function git(cwd, args, input) {
  return execFileSync("git", args, {
    cwd,
    input,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "person", GIT_AUTHOR_EMAIL: "p@x.invalid", GIT_COMMITTER_NAME: "person", GIT_COMMITTER_EMAIL: "p@x.invalid" },
  });
}

/**
 * `files` (path → text, a Map or an object; machines' paths only) as one commit on the hub's branch coord,
 * pushed from a clone of coord made in `scratch` (removed after), as the machines' publishes would have left
 * them: by `author`, with the trailers every machine commit carries (Coord-Orders: the people's commit read;
 * Coord-History: the depth of coord and its root's time, from the parent's trailer or counted). Returns the
 * commit. Synchronous (git processes one after another): a fixture, not a measurement.
 */
export function commitMachinesFiles({ remote, scratch, files, message, author = "bench-fixture", env = process.env }) {
  const entries = files instanceof Map ? [...files] : Object.entries(files);
  const people = entries.filter(([path]) => roleOf(path) !== "machines").map(([path]) => path);
  if (people.length) throw new Error(`not machines' files (they live on main): ${people.slice(0, 3).join(", ")}`);
  const run = (args, input) =>
    execFileSync("git", ["-C", scratch, ...args], {
      input,
      encoding: "utf8",
      maxBuffer: 64 << 20,
      env: {
        ...env,
        GIT_AUTHOR_NAME: `coord ${author}`,
        GIT_AUTHOR_EMAIL: `${author}@coord.invalid`,
        GIT_COMMITTER_NAME: `coord ${author}`,
        GIT_COMMITTER_EMAIL: `${author}@coord.invalid`,
      },
    });
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  try {
    execFileSync("git", ["clone", "--quiet", "--no-tags", "--branch", "coord", remote, scratch], { env, stdio: ["ignore", "ignore", "pipe"] });
    run(["fetch", "--quiet", "origin", "+refs/heads/main:refs/remotes/origin/main"]);
    const ordersCommit = run(["rev-parse", "origin/main"]).trim();
    const parentMessage = run(["log", "-1", "--format=%B", "HEAD"]);
    const marked = /^Coord-History: (\d+) (\S+)$/m.exec(parentMessage);
    const depth = marked ? Number(marked[1]) : Number(run(["rev-list", "--count", "HEAD"]).trim());
    const since = marked ? marked[2] : new Date(run(["log", "--max-parents=0", "--format=%cI", "HEAD"]).trim().split("\n").at(-1)).toISOString();
    for (const [path, text] of entries) {
      mkdirSync(dirname(join(scratch, path)), { recursive: true });
      writeFileSync(join(scratch, path), text);
    }
    run(["add", "-A"]);
    run(["commit", "--quiet", "-F", "-"], `${message}\n\nCoord-Orders: ${ordersCommit}\nCoord-History: ${depth + 1} ${since}\n`);
    run(["push", "--quiet", "origin", "HEAD:refs/heads/coord"]);
    return run(["rev-parse", "HEAD"]).trim();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A deterministic pseudo-random generator (the same fleet every run). */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const COMMANDS = ["npm test", "make -j4 build", "./scripts/deploy.sh staging", "cargo test --release", "pytest -q tests/", "git pull && npm ci"];
const OUTPUT = [
  "> coord-demo@1.0.0 test\n> vitest run\n\n Test Files  42 passed (42)\n      Tests  918 passed (918)\n   Duration  31.2s",
  "make[1]: Entering directory '/srv/build'\ncc -O2 -c src/main.c -o build/main.o\nld build/*.o -o build/app\nmake[1]: Leaving directory '/srv/build'",
  "deploying 3f2a9c1 to staging\nuploading artefacts (14.2 MB)\nhealth check passed\ndone in 48 s",
];
const WORDS = "build deploy staging tests failing flaky cache disk network restart queue worker report done please check the logs after merge".split(" ");

/**
 * Makes the fleet under `dir`: `dir`/hub.git (bare), `dir`/m000 (the
 * measured machine's checkout, after its first sync) and `dir`/person (a
 * clone to push orders from). Returns their paths and what was measured of
 * the first sync.
 */
export async function makeFleet({ dir, machines = 100, orders = 1000, messages = 10000, log = () => {} }) {
  const random = rng(14);
  const names = Array.from({ length: machines }, (_, i) => `m${pad(i, 3)}`);
  const others = names.filter((n) => n !== MEASURED);
  const hub = join(dir, "hub.git");
  const person = join(dir, "person");
  const checkout = join(dir, MEASURED);
  mkdirSync(dir, { recursive: true });
  execFileSync("node", [COORD, "hub", "create", hub], { stdio: "ignore" });
  git(dir, ["clone", "--quiet", hub, person]);

  const now = Date.now();
  const iso = (msAgo) => new Date(now - msAgo).toISOString();

  // Orders (main): every tenth for ANY (run by one of the others), ten for ALL (every machine), the rest named.
  const list = [];
  for (let k = 0; k < orders; k++) {
    const id = `job-${pad(k, 4)}`;
    const to = k % 100 === 1 ? "ALL" : k % 10 === 0 ? "ANY" : others[k % others.length];
    const order = { id, to, run: to === "ALL" ? "true" : COMMANDS[k % COMMANDS.length] };
    if (k % 7 === 0) order.timeout = "30m";
    if (k % 13 === 0 && k > 0) order.after = [`job-${pad(k - 1, 4)}`];
    list.push(order);
  }
  const ordersJson = `${JSON.stringify({ $schema: "coordination/orders.schema.json", version: 1, orders: list }, null, 2)}\n`;
  // What machines write (coord): their files and messages.
  const files = new Map();

  // Messages: two channels per other machine, one to m000 and one to a peer, `messages` in all.
  const channels = others.flatMap((from, i) => [
    { from, to: MEASURED },
    { from, to: others[(i + 1) % others.length] },
  ]);
  const perChannel = Math.floor(messages / channels.length);
  let extra = messages - perChannel * channels.length;
  const receipts = new Map(others.map((n) => [n, {}]));
  for (const { from, to } of channels) {
    const n = perChannel + (extra-- > 0 ? 1 : 0);
    const msgs = Array.from({ length: n }, (_, j) => ({
      seq: j + 1,
      at: iso((n - j) * 60_000),
      priority: j % 50 === 0 ? "high" : "normal",
      text: Array.from({ length: 8 + Math.floor(random() * 20) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" "),
    }));
    files.set(messagePath(from, to), renderMessageFile({ coord: 1, from, to, next: n + 1, messages: msgs }));
    if (to !== MEASURED) receipts.get(to)[`${from}/${to}`] = { received: n, acked: Math.max(0, n - 3) };
  }

  // Machine files: the reports of every order each ran.
  for (const name of others) {
    const tasks = {};
    list.forEach((o, k) => {
      const ran = o.to === name || o.to === "ALL" || (o.to === "ANY" && others[(k / 10) % others.length] === name);
      if (!ran) return;
      const failed = k % 17 === 0;
      tasks[o.id] = {
        rev: 1,
        state: failed ? "failed" : "completed",
        attempts: 1,
        exitCode: failed ? 1 : 0,
        startedAt: iso(3_600_000 + k * 1000),
        finishedAt: iso(3_540_000 + k * 1000),
        ...(failed ? { reason: "exited 1" } : {}),
        output: OUTPUT[k % OUTPUT.length],
        ...(o.to === "ANY" ? { lease: 1800 } : {}),
      };
    });
    files.set(
      `coordination/COMPUTER_${name}.md`,
      renderComputer({
        coord: 1,
        name,
        uuid: `00000000-0000-4000-8000-${pad(Number(name.slice(1)), 12)}`,
        state: "idle",
        lastSeen: iso(Math.floor(random() * 300_000)),
        heartbeat: 900,
        capabilities: { os: "linux", arch: "x64", node: "20.20.2", git: "2.39.5" },
        orders: { seen: "0".repeat(40), valid: true },
        tasks,
        lastRun: `${iso(3_540_000)}: ran ${Object.keys(tasks).length} tasks`,
        messages: receipts.get(name),
      }),
    );
  }
  // The person's orders on main, then the machines' state on coord (built on them: its Coord-Orders trailer).
  writeFileSync(join(person, "ORDERS.json"), ordersJson);
  git(person, ["add", "ORDERS.json"]);
  git(person, ["commit", "--quiet", "-m", `${orders} orders for a fleet of ${machines} machines`]);
  git(person, ["push", "--quiet", "origin", "HEAD:main"]);
  commitMachinesFiles({ remote: hub, scratch: join(dir, "machines-writer"), files, message: `coord: ${others.length} machines' files, ${messages} messages` });
  log(`hub ${hub}: ORDERS.json on main, ${files.size} files on coord`);

  const t = Date.now();
  const out = execFileSync("node", [COORD, "init", checkout, "--name", MEASURED, "--remote", hub], { encoding: "utf8", env: { ...process.env } });
  log(`coord init ${checkout}: ${Date.now() - t} ms`);
  return { hub, checkout, person, names, initOutput: out };
}

/** Pushes, as the person, one more order for the measured machine; returns its id. */
export function addOrder(person, id, run = "true") {
  git(person, ["pull", "--quiet", "--rebase", "origin", "main"]);
  const path = join(person, "ORDERS.json");
  const data = JSON.parse(execFileSync("cat", [path], { encoding: "utf8" }));
  data.orders.push({ id, to: MEASURED, run });
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  git(person, ["commit", "--quiet", "-am", `order ${id}`]);
  git(person, ["push", "--quiet", "origin", "HEAD:main"]);
  return id;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dir, machines, orders, messages] = process.argv.slice(2);
  if (!dir) {
    console.error("usage: node scripts/bench/fleet-fixture.mjs <dir> [machines=100] [orders=1000] [messages=10000]");
    process.exit(2);
  }
  const fleet = await makeFleet({
    dir: resolve(dir),
    machines: Number(machines ?? 100),
    orders: Number(orders ?? 1000),
    messages: Number(messages ?? 10000),
    log: (line) => console.log(line),
  });
  console.log(`measure: node ${COORD} sync --dir ${fleet.checkout}`);
}
