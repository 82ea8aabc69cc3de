// Benchmarks (npm run bench): timing targets live here, not in the tests.
// Prints one line per measurement: median and spread over repeated runs.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { hubCreate } from "../dist/commands/hub.js";
import { init } from "../dist/commands/init.js";
import { sync } from "../dist/sync/sync.js";
import { parseOrders } from "../dist/core/orders.js";
import { readModel } from "../dist/core/repo.js";
import { renderComputer } from "../dist/core/computer.js";
import { deriveStatus, renderStatusJson, renderStatusMd } from "../dist/core/status.js";

process.env.HOME = mkdtempSync(join(tmpdir(), "coord-bench-home-"));

async function measure(name, runs, fn) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(`${name.padEnd(58)} median ${median.toFixed(1).padStart(8)} ms   min ${times[0].toFixed(1)}   max ${times.at(-1).toFixed(1)}   (n=${runs})`);
}

// Pure core at fleet scale: 100 machines, 200 orders.
const machines = Array.from({ length: 100 }, (_, i) => `m${i}`);
const orders = Array.from({ length: 200 }, (_, i) => ({ id: `o${i}`, to: i % 2 ? "ALL" : machines[i % 100], run: "true" }));
const ordersText = JSON.stringify({ version: 1, orders }, null, 2);
const files = new Map([["ORDERS.json", ordersText]]);
for (const name of machines) {
  const tasks = Object.fromEntries(orders.filter((o, i) => i % 2 || o.to === name).map((o) => [o.id, { rev: 1, state: "completed", attempts: 1, exitCode: 0, output: "ok" }]));
  files.set(
    `coordination/COMPUTER_${name}.md`,
    renderComputer({
      coord: 1,
      name,
      uuid: name,
      state: "idle",
      lastSeen: "2026-01-01T00:00:00.000Z",
      heartbeat: 900,
      capabilities: { os: "linux" },
      orders: { seen: "x", valid: true },
      tasks,
    }),
  );
}
await measure("parseOrders: 200 orders, 100 machines", 20, () => parseOrders(ordersText, { machines }));
const deriveAll = () => {
  const s = deriveStatus(readModel(files));
  renderStatusJson(s);
  renderStatusMd(s);
};
await measure("readModel + deriveStatus + render: 100 x 200, first read", 1, deriveAll);
await measure("  the same files again (parsed machine files memoised)", 10, deriveAll);

// Real git: a hub with 3 machines, 20 orders done.
const root = mkdtempSync(join(tmpdir(), "coord-bench-"));
const hub = join(root, "hub.git");
await hubCreate(hub);
const dirs = {};
for (const name of ["izzit7", "soda-yeti", "machine-2", "m4", "m5"]) {
  dirs[name] = join(root, name);
  await init({ dir: dirs[name], name, remote: hub });
}
const person = join(root, "person");
execFileSync("git", ["clone", "--quiet", hub, person]);
writeFileSync(join(person, "ORDERS.json"), JSON.stringify({ version: 1, orders: Array.from({ length: 20 }, (_, i) => ({ id: `job${i}`, to: "ALL", run: "true" })) }));
execFileSync("git", ["-C", person, "add", "ORDERS.json"]);
execFileSync("git", ["-C", person, "-c", "user.name=p", "-c", "user.email=p@x", "commit", "-qm", "orders"]);
execFileSync("git", ["-C", person, "push", "-q", "origin", "main"]);
await measure("sync running 20 trivial tasks (first sync of a machine)", 1, () => sync({ dir: dirs.izzit7 }));
for (const name of Object.keys(dirs)) await sync({ dir: dirs[name] });
await measure("sync with nothing new (fetch, read, no commit)", 10, () => sync({ dir: dirs.izzit7 }));
let retries = 0;
await measure("5 machines publish at the same instant (heartbeat due)", 5, async (i) => {
  const at = new Date(Date.now() + (i + 1) * 3600_000);
  const results = await Promise.all(Object.values(dirs).map((dir) => sync({ dir, now: () => at })));
  retries += results.reduce((n, r) => n + Math.max(0, r.pushAttempts - 1), 0);
});
console.log(`  rejected pushes retried in those 5 rounds: ${retries} (of 25 publishes)`);
rmSync(root, { recursive: true, force: true });

// History size (issue 14): a hub with 100k commits (COORD_BENCH_COMMITS) against one with 100, both
// behind git daemon on loopback (a hub on a local path git clones whole by hard links, at any size).
// Targets: coord init ≤ 2 × git clone --depth 1 of the same hub (the clone itself is one); a sync with
// nothing new on the big history ≤ 1.2 × the same on the small one.
{
  const { spawn, spawnSync } = await import("node:child_process");
  const { createServer } = await import("node:net");
  const { renderComputer: render } = await import("../dist/core/computer.js");
  const root = mkdtempSync(join(tmpdir(), "coord-history-"));
  const bigCount = Number(process.env.COORD_BENCH_COMMITS ?? 100_000);
  /** A hub of `n` commits: 10 machines' heartbeats, and a person's ORDERS.json every 1000, made with git fast-import. */
  const historyHub = async (name, n) => {
    const dir = join(root, name);
    const { commit } = await hubCreate(dir);
    const base = Math.floor(Date.now() / 1000) - n * 60;
    const parts = [];
    for (let i = 0; i < n; i++) {
      const g = `ghost${i % 10}`;
      const person = i % 1000 === 500;
      const file = person ? "ORDERS.json" : `coordination/COMPUTER_${g}.md`;
      const content = person
        ? `${JSON.stringify({ version: 1, orders: [{ id: `o${i}`, to: "ghost1", run: "true" }] }, null, 2)}\n`
        : render({
            coord: 1,
            name: g,
            uuid: g,
            state: "idle",
            lastSeen: new Date((base + i * 60) * 1000).toISOString(),
            heartbeat: 900,
            capabilities: { os: "linux" },
            orders: { seen: "x", valid: true },
            tasks: {},
          });
      const who = person ? "person <p@example.invalid>" : `coord ${g} <${g}@coord.invalid>`;
      parts.push(
        `commit refs/heads/main\ncommitter ${who} ${base + i * 60} +0000\ndata 4\nbeat\n${i === 0 ? `from ${commit}\n` : ""}M 100644 inline ${file}\ndata ${Buffer.byteLength(content)}\n${content}\n`,
      );
    }
    const r = spawnSync("git", ["fast-import", "--quiet"], { cwd: dir, input: parts.join(""), maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(String(r.stderr));
    execFileSync("git", ["repack", "-adq"], { cwd: dir });
  };
  const t0 = performance.now();
  await historyHub("small.git", 100);
  await historyHub("big.git", bigCount);
  console.log(`${`hubs of 100 and ${bigCount} commits made (fast-import, repack)`.padEnd(58)} ${(performance.now() - t0).toFixed(0).padStart(8)} ms`);
  const port = await new Promise((res) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const p = srv.address().port;
      srv.close(() => res(p));
    });
  });
  const daemon = spawn("git", ["daemon", "--reuseaddr", "--export-all", "--enable=receive-pack", `--base-path=${root}`, "--listen=127.0.0.1", `--port=${port}`, root], {
    stdio: "ignore",
  });
  const url = (name) => `git://127.0.0.1:${port}/${name}`;
  for (let i = 0; i < 100 && spawnSync("git", ["ls-remote", url("small.git")]).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  try {
    const clones = [];
    const timed = async (label, runs, fn) => {
      const times = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await fn(i);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)];
      console.log(`${label.padEnd(58)} median ${median.toFixed(1).padStart(8)} ms   min ${times[0].toFixed(1)}   max ${times.at(-1).toFixed(1)}   (n=${runs})`);
      return median;
    };
    const cloneDir = () => {
      const d = join(root, `clone-${clones.length}`);
      clones.push(d);
      return d;
    };
    const shallow = await timed(`git clone --depth 1, ${bigCount} commits`, 3, () =>
      execFileSync("git", ["clone", "--quiet", "--depth", "1", "--no-tags", "--branch", "main", url("big.git"), cloneDir()]),
    );
    await timed(`git clone (full), ${bigCount} commits`, 1, () => execFileSync("git", ["clone", "--quiet", url("big.git"), cloneDir()]));
    const initBig = await timed(`coord init (in process), ${bigCount} commits`, 3, (i) => init({ dir: join(root, `big-${i}`), name: `big-${i}`, remote: url("big.git") }));
    const initSmall = await timed("coord init (in process), 100 commits", 3, (i) => init({ dir: join(root, `small-${i}`), name: `small-${i}`, remote: url("small.git") }));
    const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "coord.mjs");
    await timed(`coord init (the CLI), ${bigCount} commits`, 1, () =>
      execFileSync(process.execPath, [cli, "init", join(root, "big-cli"), "--name", "big-cli", "--remote", url("big.git")], { stdio: "ignore" }),
    );
    console.log(`  coord init / git clone --depth 1: ${(initBig / shallow).toFixed(2)} (target ≤ 2); init at ${bigCount} / at 100 commits: ${(initBig / initSmall).toFixed(2)}`);
    // A sync with nothing new, interleaved so that both see the same load.
    for (const dir of [join(root, "small-0"), join(root, "big-0")]) for (let i = 0; i < 2; i++) await sync({ dir });
    const small = [];
    const bigTimes = [];
    for (let i = 0; i < 10; i++) {
      for (const [dir, into] of [
        [join(root, "small-0"), small],
        [join(root, "big-0"), bigTimes],
      ]) {
        const t = performance.now();
        await sync({ dir });
        into.push(performance.now() - t);
      }
    }
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`${"sync with nothing new, 100 commits (git daemon)".padEnd(58)} median ${median(small).toFixed(1).padStart(8)} ms`);
    console.log(`${`sync with nothing new, ${bigCount} commits (git daemon)`.padEnd(58)} median ${median(bigTimes).toFixed(1).padStart(8)} ms`);
    console.log(`  big / small: ${(median(bigTimes) / median(small)).toFixed(2)} (target ≤ 1.2)`);
  } finally {
    daemon.kill("SIGTERM");
    await new Promise((res) => (daemon.exitCode !== null ? res() : daemon.once("close", res)));
    rmSync(root, { recursive: true, force: true });
  }
}

// Work distribution on real git: rounds for 5 machines syncing together to drain 20 ANY orders,
// and, after an outage of the hub, the time from the hub answering again to the first sync that
// gets through (scheduled syncs, one tick a second, as a daemon with "*/1 * * * * *" runs them).
{
  const { renameSync } = await import("node:fs");
  const root = mkdtempSync(join(tmpdir(), "coord-drain-"));
  const hub = join(root, "hub.git");
  await hubCreate(hub);
  const names = ["m1", "m2", "m3", "m4", "m5"];
  const dirs = names.map((n) => join(root, n));
  for (let i = 0; i < names.length; i++) await init({ dir: dirs[i], name: names[i], remote: hub });
  const person = join(root, "person");
  execFileSync("git", ["clone", "--quiet", hub, person]);
  writeFileSync(join(person, "ORDERS.json"), JSON.stringify({ version: 1, orders: Array.from({ length: 20 }, (_, i) => ({ id: `any${i}`, to: "ANY", run: "true" })) }));
  execFileSync("git", ["-C", person, "add", "ORDERS.json"]);
  execFileSync("git", ["-C", person, "-c", "user.name=p", "-c", "user.email=p@x", "commit", "-qm", "orders"]);
  execFileSync("git", ["-C", person, "push", "-q", "origin", "main"]);
  let rounds = 0;
  let ran = 0;
  const t = performance.now();
  while (ran < 20 && rounds < 20) {
    rounds++;
    const results = await Promise.all(dirs.map((dir) => sync({ dir })));
    ran += results.reduce((n, r) => n + r.ran.length, 0);
  }
  console.log(
    `${"20 ANY orders, 5 machines syncing together: rounds to drain".padEnd(58)} ${String(rounds).padStart(8)} rounds   (${ran} runs, ${(performance.now() - t).toFixed(0)} ms; ideal 4)`,
  );

  // The same queue drained by 5 daemons (ticks every 5 s; a daemon syncs again at once after work): 20 orders of 1 s.
  {
    const { spawn } = await import("node:child_process");
    const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "coord.mjs");
    execFileSync("git", ["-C", person, "-c", "user.name=p", "-c", "user.email=p@x", "pull", "-q", "--rebase", "origin", "main"]);
    writeFileSync(join(person, "ORDERS.json"), JSON.stringify({ version: 1, orders: Array.from({ length: 20 }, (_, i) => ({ id: `timed${i}`, to: "ANY", run: "sleep 1" })) }));
    execFileSync("git", ["-C", person, "add", "ORDERS.json"]);
    execFileSync("git", ["-C", person, "-c", "user.name=p", "-c", "user.email=p@x", "commit", "-qm", "timed orders"]);
    const daemons = dirs.map((dir) => spawn(process.execPath, [cli, "daemon", "run", "--dir", dir, "--schedule", "*/5 * * * * *", "--jitter", "0"], { stdio: "ignore" }));
    const started = performance.now();
    execFileSync("git", ["-C", person, "push", "-q", "origin", "HEAD:main"]);
    let done = 0;
    while (done < 20 && performance.now() - started < 180_000) {
      await new Promise((res) => setTimeout(res, 250));
      const status = JSON.parse(execFileSync("git", ["-C", hub, "show", "main:STATUS.json"], { encoding: "utf8" }));
      done = Object.entries(status.orders).filter(([id, o]) => id.startsWith("timed") && o.state === "completed").length;
    }
    const took = performance.now() - started;
    for (const d of daemons) d.kill("SIGTERM");
    await Promise.all(daemons.map((d) => new Promise((res) => (d.exitCode !== null ? res() : d.once("close", res)))));
    console.log(
      `${"20 ANY orders of 1 s, 5 daemons (every 5 s): all completed".padEnd(58)} ${took.toFixed(0).padStart(8)} ms   (${done}/20; ideal 4 s; target 2 × ideal + one interval = 13 s)`,
    );
  }

  const dir = dirs[0];
  renameSync(hub, `${hub}.away`);
  await sync({ dir, scheduled: true }).catch(() => {}); // fails: the hub is gone; backoff starts (60 s)
  renameSync(`${hub}.away`, hub);
  const back = performance.now();
  let through = false;
  for (let tick = 0; tick < 90 && !through; tick++) {
    const r = await sync({ dir, scheduled: true });
    through = !r.skipped;
    if (!through) await new Promise((res) => setTimeout(res, 1000));
  }
  console.log(
    `${"hub back after an outage → first scheduled sync through".padEnd(58)} ${(performance.now() - back).toFixed(0).padStart(8)} ms   (ticks every 1 s; failure backoff 60 s)`,
  );
  rmSync(root, { recursive: true, force: true });
}

// Latency: from a person's push of a new order to the task starting on the target machine,
// with `coord watch --every 5s` running there.
{
  const { spawn } = await import("node:child_process");
  const { readFileSync, existsSync } = await import("node:fs");
  const root = mkdtempSync(join(tmpdir(), "coord-latency-"));
  const hub = join(root, "hub.git");
  await hubCreate(hub);
  const dir = join(root, "izzit7");
  await init({ dir, name: "izzit7", remote: hub });
  const person = join(root, "person");
  execFileSync("git", ["clone", "--quiet", hub, person]);
  const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "coord.mjs");
  const watcher = spawn(process.execPath, [cli, "watch", "--dir", dir, "--every", "5s"], { stdio: "ignore", env: process.env });
  await new Promise((r) => setTimeout(r, 2000));
  const latencies = [];
  for (let i = 0; i < 5; i++) {
    const stamp = join(root, `started-${i}`);
    writeFileSync(
      join(person, "ORDERS.json"),
      JSON.stringify({ version: 1, orders: [{ id: `latency-${i}`, to: "izzit7", run: `node -e "require('fs').writeFileSync('${stamp}', String(Date.now()))"` }] }),
    );
    execFileSync("git", ["-C", person, "add", "ORDERS.json"]);
    execFileSync("git", ["-C", person, "-c", "user.name=p", "-c", "user.email=p@x", "commit", "-qm", `order ${i}`]);
    execFileSync("git", ["-C", person, "-c", "user.name=p", "-c", "user.email=p@x", "pull", "-q", "--rebase", "origin", "main"]);
    const pushed = Date.now();
    execFileSync("git", ["-C", person, "push", "-q", "origin", "HEAD:main"]);
    for (let t = 0; t < 200 && !existsSync(stamp); t++) await new Promise((r) => setTimeout(r, 50));
    if (existsSync(stamp)) latencies.push(Number(readFileSync(stamp, "utf8")) - pushed);
    await new Promise((r) => setTimeout(r, 1000 + Math.random() * 4000)); // push at a random point of the 5 s cycle
  }
  watcher.kill("SIGTERM");
  latencies.sort((a, b) => a - b);
  console.log(
    `${"push → task start, coord watch --every 5s".padEnd(58)} median ${String(latencies[Math.floor(latencies.length / 2)]).padStart(8)} ms   min ${latencies[0]}   max ${latencies.at(-1)}   (n=${latencies.length})`,
  );
  await new Promise((r) => setTimeout(r, 1000));
  rmSync(root, { recursive: true, force: true });
}

// 10,000 messages over time: 20 batches of 500 (queued straight into the sender's mailbox, as
// `coord send` does one by one), each delivered, acknowledged and archived a day later.
{
  const { updateMailbox } = await import("../dist/state/mailbox.js");
  const { ack } = await import("../dist/commands/messages.js");
  const { statSync } = await import("node:fs");
  const root = mkdtempSync(join(tmpdir(), "coord-mail-"));
  const hub = join(root, "hub.git");
  await hubCreate(hub);
  const a = join(root, "izzit7");
  const b = join(root, "soda-yeti");
  await init({ dir: a, name: "izzit7", remote: hub });
  await init({ dir: b, name: "soda-yeti", remote: hub });
  let clock = Date.now();
  const now = () => new Date(clock);
  const syncTimes = [];
  for (let batch = 0; batch < 20; batch++) {
    await updateMailbox(join(a, ".git", "coord"), (data) => {
      data.outbox["soda-yeti"] ??= { next: 1, messages: [] };
      const ch = data.outbox["soda-yeti"];
      for (let i = 0; i < 500; i++)
        ch.messages.push({ seq: ch.next++, at: now().toISOString(), priority: "normal", text: `batch ${batch} message ${i}: the build of commit ${i.toString(16)} is green` });
    });
    await sync({ dir: a, now });
    await sync({ dir: b, now });
    await ack(b, [], true);
    await sync({ dir: b, now });
    clock += 2 * 24 * 3600 * 1000;
    const t = performance.now();
    await sync({ dir: a, now });
    syncTimes.push(performance.now() - t);
  }
  const live = statSync(join(a, "coordination", "messages", "izzit7_TO_soda-yeti.md")).size;
  syncTimes.sort((x, y) => x - y);
  console.log(`${"10,000 messages sent, acked, archived: live file size".padEnd(58)} ${String(live).padStart(8)} bytes`);
  console.log(`${"  sender's sync after each batch (archives 500)".padEnd(58)} median ${syncTimes[10].toFixed(1).padStart(8)} ms   max ${syncTimes.at(-1).toFixed(1)}`);
  const t = performance.now();
  await sync({ dir: a, now });
  console.log(`${"  a sync with nothing new after all that".padEnd(58)} ${(performance.now() - t).toFixed(1).padStart(15)} ms`);
  rmSync(root, { recursive: true, force: true });
}

// An agent hook: what a session pays per prompt to see its machine's unread messages. The hook
// coord agent hooks install writes (a cat of the prompt file) against coord inbox --format prompt.
{
  const { readFileSync } = await import("node:fs");
  const { send } = await import("../dist/commands/messages.js");
  const { agentHooks } = await import("../dist/commands/agent.js");
  const root = mkdtempSync(join(tmpdir(), "coord-hook-"));
  const hub = join(root, "hub.git");
  await hubCreate(hub);
  const [a, b] = [join(root, "a"), join(root, "b")];
  await init({ dir: a, name: "izzit7", remote: hub });
  await init({ dir: b, name: "soda-yeti", remote: hub });
  await send({ dir: a, to: "soda-yeti", text: "please rebase onto main" });
  await sync({ dir: a });
  await sync({ dir: b });
  const project = join(root, "project");
  await agentHooks({ dir: b, agent: "claude", project });
  const command = JSON.parse(readFileSync(join(project, ".claude", "settings.json"), "utf8")).hooks.UserPromptSubmit[0].hooks[0].command;
  const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "coord.mjs");
  await measure("agent hook per prompt (installed: cat of inbox-prompt.txt)", 20, () => execFileSync("/bin/sh", ["-c", command], { cwd: project }));
  await measure("  coord inbox --format prompt (a coord process)", 5, () => execFileSync(process.execPath, [cli, "inbox", "--format", "prompt", "--dir", b]));
  rmSync(root, { recursive: true, force: true });
}
