// Generated hubs: a fleet's state at scale (machine files, orders, messages,
// rendered by coord's own renderers from dist/), and a long history (git
// fast-import). Committed with plain git, as if a fleet had written them.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { renderComputer } from "../../dist/core/computer.js";
import { renderMessageFile } from "../../dist/core/messages.js";
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
 * The state of a fleet at scale, pushed by `person` to the hub in one commit: `machines` - 1 machine
 * files (m1 …; the machine under test joins as the last one), `orders` orders (to named machines,
 * every tenth to ANY), each reported completed by its machine, and `messages` messages in
 * `machines` channels (m<i> to m<i+1>, the last to the machine under test, and one broadcast),
 * received and mostly acknowledged by their recipients.
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
  const files = { "ORDERS.json": orderText };
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
  await personCommit(f, person, files, `a fleet of ${machines} machines, ${orders} orders, ${messages} messages`);
  return { orders: list };
}

/**
 * `commits` commits on top of the hub's main, written with git fast-import: ten machines' files,
 * each commit one machine's heartbeat (its lastSeen), a minute apart and ending now.
 */
export async function longHistory(f, hub, commits) {
  const names = Array.from({ length: 10 }, (_, i) => `h${i + 1}`);
  const seen = "0".repeat(40);
  const stamp = "2000-01-01T00:00:00.000Z";
  const templates = Object.fromEntries(names.map((n) => [n, computer(n, { lastSeen: stamp, seen })]));
  const base = (await must("git", ["-C", hub, "rev-parse", "main"], { env: f.env })).out.trim();
  const end = Math.floor(Date.now() / 1000);
  const child = spawn("git", ["-C", hub, "fast-import", "--quiet", "--done"], { env: f.env, stdio: ["pipe", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise((resolve) => child.on("close", resolve));
  const data = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  let chunk = "";
  const flush = async () => {
    if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once("drain", r));
    chunk = "";
  };
  for (let i = 0; i < commits; i++) {
    const when = end - (commits - i) * 60;
    const name = names[i % names.length];
    chunk += `commit refs/heads/main\ncommitter coord ${name} <${name}@coord.invalid> ${when} +0000\n${data(`coord: ${name} heartbeat`)}`;
    if (i === 0) chunk += `from ${base}\n`;
    const files = i === 0 ? names : [name];
    for (const n of files) {
      const text = templates[n].split(stamp).join(new Date(when * 1000).toISOString());
      chunk += `M 100644 inline coordination/COMPUTER_${n}.md\n${data(text)}`;
    }
    if (chunk.length > 1 << 20) await flush();
  }
  chunk += "done\n";
  await flush();
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`git fast-import of ${commits} commits failed: ${err.trim().slice(0, 300)}`);
  // As a hub that git gc has seen: one pack, deltas kept.
  await must("git", ["-C", hub, "repack", "-a", "-d", "-q"], { env: f.env, timeoutMs: 600_000 });
}

/** A plain clone of the hub for the raw-git baselines. */
export async function plainClone(f, remote, dir) {
  await must("git", ["clone", "--quiet", remote, dir], { env: f.env });
  return dir;
}

/** One raw-git publish: fetch, fast-forward, write a file, add, commit, push (processes, timed whole). */
export async function rawPublish(f, dir, path, text, { task } = {}) {
  const git = (...args) => must("git", ["-C", dir, ...args], { env: f.env });
  const t = performance.now();
  await git("fetch", "--quiet", "origin");
  await git("merge", "--quiet", "--ff-only", "origin/main");
  if (task) await must("/bin/sh", ["-c", task], { env: f.env, cwd: dir });
  await must("/bin/sh", ["-c", `mkdir -p "$(dirname "$1")" && printf '%s\\n' "$2" > "$1"`, "sh", join(dir, path), text], { env: f.env });
  await git("add", "--", path);
  await git(...PERSON, "commit", "--quiet", "-m", `baseline: ${path}`);
  await git("push", "--quiet", "origin", "HEAD:main");
  return performance.now() - t;
}
