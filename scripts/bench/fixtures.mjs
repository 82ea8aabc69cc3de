// Generated hubs: a fleet's state at scale (machine files, orders, messages,
// rendered by coord's own renderers from dist/), and a long history (git
// fast-import). Committed with plain git, as if a fleet had written them, each
// file on its role's branch (docs/protocol.md, "Two branches"): ORDERS.json
// by a person on main, the machines' files and messages on coord.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { renderComputer } from "../../dist/core/fleet/computer.js";
import { renderMessageFile } from "../../dist/core/messages/messages.js";
import { commitMachinesFiles } from "./fleet-fixture.mjs";
import { must, ordersText, PERSON, personCommit } from "./lib.mjs";

const CAPS = { arch: "x64", git: "2.39.5", node: "20.20.2", os: "linux" };

/** git's id of a blob with this text (what a machine publishes as orders.seen). */
function blobId(text) {
  const body = Buffer.from(text, "utf8");
  return createHash("sha1").update(`blob ${body.length}\0`).update(body).digest("hex");
}

/** A machine file as coord writes it. */
function computer(name, { lastSeen, seen, tasks = {}, messages } = {}) {
  return renderComputer({
    coord: 1,
    name,
    uuid: createHash("sha1").update(name).digest("hex").slice(0, 32),
    state: "idle",
    lastSeen,
    heartbeat: 900,
    capabilities: CAPS,
    orders: { seen, valid: true },
    tasks,
    ...(messages ? { messages } : {}),
  });
}

/**
 * The state of a fleet at scale: `orders` orders (to named machines, every tenth to ANY) in ORDERS.json,
 * pushed by `person` to main, then on coord in one commit `machines` - 1 machine files (m1 …; the machine
 * under test joins as the last one), each reporting the orders it ran completed, and `messages` messages in
 * `machines` channels (m<i> to m<i+1>, the last to the machine under test, and one broadcast), received
 * and mostly acknowledged by their recipients.
 */
export async function fleetState(f, person, { machines, orders, messages, me }) {
  const others = Array.from({ length: machines - 1 }, (_, i) => `m${i + 1}`);
  const now = new Date();
  const iso = (msAgo) => new Date(now.getTime() - msAgo).toISOString();
  const list = Array.from({ length: orders }, (_, i) => {
    const id = `job-${String(i).padStart(5, "0")}`;
    return i % 10 === 9 ? { id, to: "ANY", run: "true" } : { id, to: others[i % others.length], run: "true" };
  });
  const orderText = ordersText(list);
  const seen = blobId(orderText);
  const tasks = Object.fromEntries(others.map((n) => [n, {}]));
  list.forEach((o, i) => {
    const who = o.to === "ANY" ? others[(i * 7) % others.length] : o.to;
    tasks[who][o.id] = {
      rev: 1,
      state: "completed",
      attempts: 1,
      exitCode: 0,
      startedAt: iso(3_600_000 + i * 1000),
      finishedAt: iso(3_600_000 + i * 1000 - 200),
      output: `ok: ${o.id} done`,
      ...(o.to === "ANY" ? { lease: 3600 } : {}),
    };
  });
  // Channels: m1→m2 … m<n-1>→me, and m1→ALL; the messages spread evenly over them.
  const channels = [...others.map((from, i) => [from, others[i + 1] ?? me]), [others[0], "ALL"]];
  const perChannel = Math.floor(messages / channels.length);
  const extra = messages - perChannel * channels.length;
  const files = {};
  const receipts = Object.fromEntries(others.map((n) => [n, {}]));
  channels.forEach(([from, to], c) => {
    const count = perChannel + (c < extra ? 1 : 0);
    const msgs = Array.from({ length: count }, (_, k) => ({
      seq: k + 1,
      at: iso((count - k) * 60_000),
      priority: k % 50 === 0 ? "high" : "normal",
      text: `build ${c}.${k}: the tests of commit ${((c * 1000 + k) * 2654435761).toString(16).slice(0, 8)} passed on ${from}; artifacts are in the usual place`,
    }));
    files[`coordination/messages/${from}_TO_${to}.md`] = renderMessageFile({ coord: 1, from, to, next: count + 1, messages: msgs });
    const recipients = to === "ALL" ? others.filter((n) => n !== from) : to === me ? [] : [to];
    for (const r of recipients) receipts[r][`${from}/${to}`] = { received: count, acked: Math.floor(count * 0.9) };
  });
  for (const n of others) {
    files[`coordination/COMPUTER_${n}.md`] = computer(n, { lastSeen: iso(60_000), seen, tasks: tasks[n], messages: receipts[n] });
  }
  await personCommit(f, person, { "ORDERS.json": orderText }, `${orders} orders for a fleet of ${machines} machines`);
  const remote = (await must("git", ["-C", person, "remote", "get-url", "origin"], { env: f.env })).out.trim();
  commitMachinesFiles({ remote, scratch: join(f.root, "machines-writer"), files, message: `coord: ${others.length} machines' files, ${messages} messages`, env: f.env });
  return { orders: list };
}

/** Runs `git fast-import` in `hub` on what `produce(write)` writes (write: append text, awaited now and then). */
async function fastImport(f, hub, args, produce) {
  const child = spawn("git", ["-C", hub, "fast-import", "--quiet", "--done", ...args], { env: f.env, stdio: ["pipe", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise((resolve) => child.on("close", resolve));
  let chunk = "";
  const write = async (text) => {
    chunk += text;
    if (chunk.length < 1 << 20) return;
    if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once("drain", r));
    chunk = "";
  };
  await produce(write);
  child.stdin.end(`${chunk}done\n`);
  const code = await exited;
  if (code !== 0) throw new Error(`git fast-import failed: ${err.trim().slice(0, 300)}`);
}

const data = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;

/** The share of a long history's commits that are the machines' (coord): 9,000 of 100,000, under coord's default bound. */
export const COORD_SHARE = 0.09;

/**
 * A long history of `commits` commits in all, written with git fast-import on the two branches as a
 * fleet leaves them (docs/performance.md, "History size"):
 *
 * - main, which keeps its whole history: the rest of the commits (91,000 of 100,000), a person's, a
 *   minute apart and ending now, on top of `coord hub create`'s; every hundredth changes ORDERS.json
 *   (its last ten orders, each for ALL machines with a capability none has: nothing runs), the others
 *   files of a project kept beside it.
 * - coord, bounded (10,000 commits or 7 days by default): COORD_SHARE of them (9,000, six days and a
 *   quarter of ten machines' heartbeats, a minute apart and ending now), as a new root (as coord's
 *   bound leaves it) holding `coord hub create`'s STATUS files, each commit with the trailers a
 *   machine's commit carries (Coord-Orders: main's commit of that minute; Coord-History: its depth
 *   and the root's time), so that the next publish carries on without replacing it.
 *
 * Then repacked, as a hub that git gc has seen.
 */
export async function longHistory(f, hub, commits) {
  const onCoord = Math.max(1, Math.round(commits * COORD_SHARE));
  const onMain = commits - onCoord;
  const end = Math.floor(Date.now() / 1000);
  const git = async (...args) => (await must("git", ["-C", hub, ...args], { env: f.env })).out.trim();
  const scratch = mkdtempSync(join(f.root, "import-"));
  const marks = join(scratch, "marks");
  try {
    // main: the people's history. Mark j + 1 is its commit j, for coord's Coord-Orders trailers.
    const base = await git("rev-parse", "main");
    const person = "A Person <person@bench.invalid>";
    await fastImport(f, hub, [`--export-marks=${marks}`], async (write) => {
      for (let j = 0; j < onMain; j++) {
        const when = end - (onMain - j) * 60;
        let text = `commit refs/heads/main\nmark :${j + 1}\ncommitter ${person} ${when} +0000\n`;
        if (j % 100 === 99) {
          const k = Math.floor(j / 100);
          const orders = Array.from({ length: Math.min(10, k + 1) }, (_, i) => ({ id: `standing-${k - i}`, to: "ALL", requires: ["bench-none"], run: "true" })).reverse();
          text += `${data(`orders: standing-${k}`)}M 100644 inline ORDERS.json\n${data(ordersText(orders))}`;
        } else {
          text += `${data(`notes ${j}`)}${j === 0 ? `from ${base}\n` : ""}M 100644 inline project/notes-${j % 10}.md\n${data(`change ${j} of the project's notes\n`)}`;
        }
        await write(text);
      }
    });
    const mainAt = new Map(
      readFileSync(marks, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split(" "))
        .map(([mark, sha]) => [Number(mark.slice(1)) - 1, sha]),
    );
    // coord: the machines' history, a new root; ten machines' heartbeats, a minute apart.
    const names = Array.from({ length: 10 }, (_, i) => `h${i + 1}`);
    const seen = "0".repeat(40);
    const stamp = "2000-01-01T00:00:00.000Z";
    const templates = Object.fromEntries(names.map((n) => [n, computer(n, { lastSeen: stamp, seen })]));
    const status = (await git("ls-tree", "refs/heads/coord"))
      .split("\n")
      .filter(Boolean)
      .map((line) => line.split(/\s+/))
      .map(([mode, , sha, path]) => `M ${mode} ${sha} ${path}\n`)
      .join("");
    const rootTime = end - onCoord * 60;
    const since = new Date(rootTime * 1000).toISOString();
    await fastImport(f, hub, ["--force"], async (write) => {
      await write("reset refs/heads/coord\n");
      for (let i = 0; i < onCoord; i++) {
        const when = rootTime + i * 60;
        const name = names[i % names.length];
        // main's commit of that minute (the people's history ends now too): the ORDERS.json this machine had read.
        const orders = mainAt.get(Math.max(0, onMain - onCoord + i)) ?? base;
        const message = `coord: ${name} status\n\nCoord-Orders: ${orders}\nCoord-History: ${i + 1} ${since}\n`;
        let text = `commit refs/heads/coord\ncommitter coord ${name} <${name}@coord.invalid> ${when} +0000\n${data(message)}`;
        if (i === 0) text += status;
        for (const n of i === 0 ? names : [name]) {
          text += `M 100644 inline coordination/COMPUTER_${n}.md\n${data(templates[n].split(stamp).join(new Date(when * 1000).toISOString()))}`;
        }
        await write(text);
      }
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  // As a hub that git gc has seen: one pack, deltas kept.
  await must("git", ["-C", hub, "repack", "-a", "-d", "-q"], { env: f.env, timeoutMs: 600_000 });
}

/**
 * A plain clone of the hub for the raw-git baselines, on the branch machines publish to (coord), as a
 * machine that published by hand would keep it.
 */
export async function plainClone(f, remote, dir) {
  await must("git", ["clone", "--quiet", "--branch", "coord", remote, dir], { env: f.env });
  return dir;
}

/**
 * One raw-git publish to coord, where coord's machines publish: fetch (both branches, as a sync does),
 * fast-forward, write a file, add, commit, push (processes, timed whole). Its message carries a
 * Coord-History trailer, as every machine commit does (text in the message: no work for git), so that
 * the next coord sync reads its parent as in a fleet of coord machines, not counting an unmarked
 * one's history. The file (baseline/…) is no machine's: coord leaves it unread.
 */
export async function rawPublish(f, dir, path, text, { task } = {}) {
  const git = (...args) => must("git", ["-C", dir, ...args], { env: f.env });
  const mark = `Coord-History: 1 ${new Date().toISOString().replace(/\.\d+Z$/, ".000Z")}`;
  const t = performance.now();
  await git("fetch", "--quiet", "origin");
  await git("merge", "--quiet", "--ff-only", "origin/coord");
  if (task) await must("/bin/sh", ["-c", task], { env: f.env, cwd: dir });
  await must("/bin/sh", ["-c", `mkdir -p "$(dirname "$1")" && printf '%s\\n' "$2" > "$1"`, "sh", join(dir, path), text], { env: f.env });
  await git("add", "--", path);
  await git(...PERSON, "commit", "--quiet", "-m", `baseline: ${path}`, "-m", mark);
  await git("push", "--quiet", "origin", "HEAD:coord");
  return performance.now() - t;
}
