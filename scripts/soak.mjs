// Soak (npm run soak): a small fleet of real daemons under a stream of faults —
// hostile files pushed to the hub, tasks that cannot start, broken local state,
// hub outages, a remote URL carrying a token, a forged clock in 2099, forged
// receipts and counters — for SOAK_MINUTES (default 3; a day is
// SOAK_MINUTES=1440), and at least until every fault was injected once. At the
// end it checks what a user relies on: every fault was injected, and what each
// should produce is there (the sentence in the machines' logs, the exact odd
// path in STATUS.md, the order taken over, the messages delivered); every
// daemon still runs, the fleet still completes work, no stack trace was
// logged, and no secret is in the hub's history nor in the logs. Exit 0 when
// all hold.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "coord.mjs");
const minutes = Number(process.env.SOAK_MINUTES ?? 3);
const names = ["alpha", "beta", "gamma"].slice(0, Number(process.env.SOAK_MACHINES ?? 3));
const TOKEN = "ghp_SoakSecretToken0123456789abcdefABCDEF";
const SECRET = "soak-env-secret-value-42";

process.env.HOME = mkdtempSync(join(tmpdir(), "coord-soak-home-"));
process.env.GIT_CONFIG_NOSYSTEM = "1";
const root = mkdtempSync(join(tmpdir(), "coord-soak-"));
const hub = join(root, "hub.git");
const person = join(root, "person");
const dirs = Object.fromEntries(names.map((n) => [n, join(root, n)]));
const say = (line) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function coord(...args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout ?? "", err: r.stderr ?? "" };
}
function git(cwd, ...args) {
  return execFileSync("git", ["-c", "user.name=Soak Person", "-c", "user.email=person@soak.invalid", ...args], {
    cwd,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
}
/** A person's commit of `files` (path → text, or null to delete), pushed after rebasing onto the machines' pushes. */
function personPush(files, message) {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      git(person, "fetch", "--quiet", "origin");
      git(person, "reset", "--quiet", "--hard", "origin/main");
      for (const [path, text] of Object.entries(files)) {
        const file = join(person, path);
        if (text === null) git(person, "rm", "--quiet", "--ignore-unmatch", "--", path);
        else {
          mkdirSync(dirname(file), { recursive: true });
          rmSync(file, { force: true }); // a symlink itself, never its target
          if (typeof text === "object" && text.symlink) symlinkSync(text.symlink, file);
          else writeFileSync(file, text);
          git(person, "add", "--", path);
        }
      }
      git(person, "commit", "--quiet", "--allow-empty", "-m", message);
      git(person, "push", "--quiet", "origin", "HEAD:main");
      return;
    } catch {
      // A machine pushed first: again on the new tip.
    }
  }
  throw new Error(`the person could not push "${message}"`);
}

let round = 0;
/** Orders a fault added that must stay until the end (an ANY order claimed by a forged machine file). */
const lasting = [];
const orders = (extra = []) =>
  JSON.stringify(
    {
      version: 1,
      orders: [
        { id: `canary-${round}`, to: "ALL", run: `echo canary ${round}` },
        { id: "secret-echo", to: "ALL", run: "echo the value is $API_KEY", env: { API_KEY: { value: SECRET, secret: true } } },
        ...lasting,
        ...extra,
      ],
    },
    null,
    2,
  );

const deep = (n) => "[".repeat(n) + "]".repeat(n);
const stateOf = (n) => join(dirs[n], ".git", "coord");
/** Everything a machine logged: the daemon's output and coord.log with its rotated files. */
function machineLog(n) {
  const files = readdirSync(stateOf(n)).filter((f) => f === "daemon.out" || /^coord\.log(\.\d+)?$/.test(f));
  return files.map((f) => readFileSync(join(stateOf(n), f), "utf8")).join("\n");
}
const daemonArgs = (n) => ["daemon", "start", "--dir", dirs[n], "--schedule", "*/3 * * * * *", "--jitter", "0"];
/** A machine file as a hostile pusher would write it (valid, so that it is read). */
const forgedMachine = (name, fields) =>
  `---\ncoord: 1\nname: ${name}\nuuid: 00000000-0000-4000-8000-00000000000${name.length % 10}\nstate: working\nlastSeen: ${fields.lastSeen}\nheartbeat: 900\n` +
  `capabilities:\n  os: linux\norders:\n  seen: "0123456789abcdef0123456789abcdef01234567"\n  valid: true\n${fields.rest}---\n\n# ${name}\n`;

/** Messages alpha sent beta (their texts, in order): beta must receive every one. */
const sent = [];
function send(text) {
  const r = coord("send", names[1 % names.length], text, "--dir", dirs[names[0]]);
  if (r.code !== 0) throw new Error(`coord send: ${r.err}`);
  sent.push(text);
}

// What a check finds wrong (an empty list when all is well); run after the run, on what the fleet logged and published.
const inLogs =
  (pattern, machines = names) =>
  () =>
    machines.some((n) => pattern.test(machineLog(n))) ? [] : [`no log of ${machines.join(", ")} says ${pattern}`];
/** STATUS.md at the end names `path` exactly (control characters as \t), with its reason. */
const inStatusMd = (path, reason) => (end) =>
  end.statusMd.split("\n").some((l) => l.startsWith(`- \`${path}\`: `) && reason.test(l)) ? [] : [`STATUS.md has no line for \`${path}\` matching ${reason}`];
const all =
  (...checks) =>
  (end) =>
    checks.flatMap((c) => c(end));

/** Each fault: its name, what it does (awaited), and what it must have produced. */
const faults = [
  {
    name: "a task whose cwd does not exist",
    inject: () => personPush({ "ORDERS.json": orders([{ id: `nocwd-${round}`, to: "ALL", run: "true", cwd: "/nonexistent/soak" }]) }, "nocwd"),
    check: inLogs(/nocwd-\d+: failed \(cwd \/nonexistent\/soak does not exist\)/),
  },
  {
    // Every machine says it has this agent (a label in machine.yaml), but its CLI is on no PATH.
    name: "an agent CLI that is not on PATH",
    inject: () => personPush({ "ORDERS.json": orders([{ id: `noagent-${round}`, to: "ANY", agent: "soak-no-such-agent", prompt: "hi" }]) }, "noagent"),
    check: inLogs(/noagent-\d+: failed \(the agent CLI soak-no-such-agent is not on PATH\)/),
  },
  {
    name: "a NUL byte in an env value",
    inject: () => personPush({ "ORDERS.json": orders([{ id: `nul-${round}`, to: "ALL", run: "true", env: { X: "a\u0000b" } }]) }, "nul"),
    check: inLogs(/nul-\d+: failed \(env "X" contains a NUL byte/),
  },
  {
    name: "a huge argument list (E2BIG)",
    inject: () => personPush({ "ORDERS.json": orders([{ id: `e2big-${round}`, to: "ALL", run: "true", env: { BIG: "x".repeat(3_000_000) } }]) }, "e2big"),
    check: inLogs(/e2big-\d+: failed \(its command line and environment are too large .*E2BIG/),
  },
  {
    name: "ORDERS.json nested 5000 deep",
    inject: () => personPush({ "ORDERS.json": `{"version":1,"orders":[],"x":${deep(5000)}}` }, "deep orders"),
    check: inLogs(/ORDERS\.json:1: ORDERS\.json nests lists and objects more than 64 levels deep/),
  },
  {
    name: "a tab in a machine file's path",
    inject: () => personPush({ [`coordination/COMPUTER_${names[0]}.md\tx`]: "---\ncoord: 1\n---\n" }, "tab path"),
    check: inStatusMd(`coordination/COMPUTER_${names[0]}.md\\tx`, /ignored: its name has a control character/),
  },
  {
    name: "machine and message files named constructor / __proto__",
    inject: () =>
      personPush(
        {
          "coordination/COMPUTER_constructor.md": "---\ncoord: 1\nname: constructor\n---\n",
          [`coordination/messages/${names[0]}_TO___proto__.md`]: "---\nnext: 9007199254740993\n---\n",
        },
        "proto names",
      ),
    check: all(
      inStatusMd("coordination/COMPUTER_constructor.md", /ignored: field uuid is missing/),
      inStatusMd(`coordination/messages/${names[0]}_TO___proto__.md`, /ignored: not a message file/),
    ),
  },
  {
    name: "a machine file nested 5000 deep",
    inject: () => personPush({ "coordination/COMPUTER_zeta.md": `---\nx: ${deep(5000)}\n---\n` }, "deep machine file"),
    check: inStatusMd("coordination/COMPUTER_zeta.md", /ignored: the front matter nests more than 64 levels deep/),
  },
  {
    name: "a 6 MB machine file",
    inject: () => personPush({ "coordination/COMPUTER_huge.md": `---\nx: "${"y".repeat(6_000_000)}"\n---\n` }, "huge"),
    check: inStatusMd("coordination/COMPUTER_huge.md", /ignored: the file is 5\.7 MiB, more than the 2 MiB coord reads of it/),
  },
  {
    name: "odd names under coordination/",
    inject: () => personPush({ "coordination/COMPUTER_..%2F..%2Fx.md": "x", "coordination/COMPUTER_Alpha.md": "x", "coordination/orders/__proto__.json": "{}" }, "odd names"),
    check: all(
      inStatusMd("coordination/COMPUTER_..%2F..%2Fx.md", /ignored: "\.\.%2F\.\.%2Fx" is not a valid machine name/),
      inStatusMd("coordination/COMPUTER_Alpha.md", /ignored: "Alpha" is not a valid machine name/),
      inStatusMd("coordination/orders/__proto__.json", /ignored: "__proto__" is not a valid machine name/),
    ),
  },
  {
    name: "a symlink as ORDERS.json",
    inject: () => personPush({ "ORDERS.json": { symlink: "/etc/passwd" } }, "symlink"),
    check: inLogs(/ORDERS\.json is not read: it is a symbolic link, which coord never follows/),
  },
  {
    // Between two syncs: the machine's daemon is stopped (it finishes its sync), the files broken, the daemon started again.
    name: "a corrupt journal and mailbox on one machine",
    inject: () => {
      const n = names[round % names.length];
      corrupted.add(n);
      const stop = coord("daemon", "stop", "--dir", dirs[n]);
      if (stop.code !== 0) throw new Error(`daemon stop ${n}: ${stop.err}`);
      writeFileSync(join(stateOf(n), "journal.json"), '{"tasks": null}');
      writeFileSync(join(stateOf(n), "mailbox.json"), '{"outbox": null');
      const start = coord(...daemonArgs(n));
      if (start.code !== 0) throw new Error(`daemon start ${n}: ${start.err}`);
    },
    check: () =>
      [...corrupted].flatMap((n) => [
        ...inLogs(/journal\.json could not be read \(.*\); it was kept aside as \S*journal\.json\.corrupt-/, [n])(),
        ...inLogs(/mailbox\.json could not be read \(.*\); it was kept aside as \S*mailbox\.json\.corrupt-/, [n])(),
        ...(readdirSync(stateOf(n)).some((f) => f.startsWith("journal.json.corrupt-")) ? [] : [`${n} kept no journal.json.corrupt-* aside`]),
      ]),
  },
  {
    name: "a hub outage of 8 s",
    inject: async () => {
      renameSync(hub, `${hub}.away`);
      await sleep(8000);
      renameSync(`${hub}.away`, hub);
    },
    check: all(inLogs(/sync failed: could not reach the remote \S*hub\.git/), inLogs(/the hub answers again/)),
  },
  {
    name: "a remote URL with a token in it, for 8 s",
    inject: async () => {
      const n = names[round % names.length];
      tokened.add(n);
      git(dirs[n], "remote", "set-url", "origin", `https://soak:${TOKEN}@127.0.0.1:9/fleet.git`);
      await sleep(8000);
      git(dirs[n], "remote", "set-url", "origin", hub);
    },
    check: () => [...tokened].flatMap((n) => inLogs(/sync failed: could not reach the remote https:\/\/\S*127\.0\.0\.1:9\/fleet\.git/, [n])()),
  },
  {
    // A person commits a file for a machine "omega" that says it was last seen in 2099 and holds a claim on an
    // ANY order: a date nobody believes. Its claim lapses a lease (its own: 5 s) after a machine first saw it,
    // and a machine of the fleet takes the order over — not in 2099.
    name: "a clock in the future holding an ANY claim (lastSeen 2099)",
    inject: () => {
      const id = `future-${round}`;
      lasting.push({ id, to: "ANY", run: `echo ${id}` });
      futures.push(id);
      const claim = `tasks:\n  ${id}:\n    rev: 1\n    state: in_progress\n    attempts: 1\n    exitCode: null\n    startedAt: 2099-01-01T00:00:00.000Z\n    lease: 5\n`;
      personPush({ "ORDERS.json": orders(), "coordination/COMPUTER_omega.md": forgedMachine("omega", { lastSeen: "2099-01-01T00:00:00.000Z", rest: claim }) }, "omega from 2099");
    },
    check: (end) =>
      futures.flatMap((id) => {
        const o = end.status.orders?.[id];
        const by = Object.entries(o?.machines ?? {}).find(([n, m]) => names.includes(n) && m.state === "completed");
        if (!by) return [`${id}, claimed by omega from 2099, was not completed by the fleet: ${JSON.stringify(o)}`];
        if (by[1].takeoverFrom !== "omega") return [`${id} was completed by ${by[0]} without taking it over from omega (was the forged claim read?)`];
        return inLogs(new RegExp(`${id}: completed`), [by[0]])();
      }),
  },
  {
    // A machine file claiming receipts for alpha's messages to beta (not its channel) and a message file whose
    // next is 2^53 + 1; then alpha sends beta a message: it must still be delivered.
    name: "forged receipts and counters",
    inject: () => {
      const [a, b] = [names[0], names[1 % names.length]];
      personPush(
        {
          "coordination/COMPUTER_mallory.md": forgedMachine("mallory", {
            lastSeen: new Date().toISOString(),
            rest: `tasks: {}\nmessages:\n  ${a}/${b}:\n    received: 999\n    acked: 999\n`,
          }),
          [`coordination/messages/mallory_TO_${b}.md`]: `---\ncoord: 1\nfrom: mallory\nto: ${b}\nnext: 9007199254740993\nmessages: []\n---\n`,
        },
        "forged receipts",
      );
      send(`round ${round}: after forged receipts`);
    },
    check: inStatusMd(`coordination/messages/mallory_TO_${names[1 % names.length]}.md`, /ignored: .*next/),
  },
  {
    name: "messages between machines",
    inject: () => send(`round ${round}: hello`),
    check: (end) => {
      const got = end.inbox.filter((m) => m.from === names[0]);
      const texts = got.map((m) => m.text);
      const ids = got.map((m) => m.id);
      const want = sent.map((_, i) => `${names[0]}/${names[1 % names.length]}/${i + 1}`);
      if (JSON.stringify(texts) !== JSON.stringify(sent)) return [`${names[1 % names.length]} received ${JSON.stringify(texts)}, not the ${sent.length} messages sent`];
      if (JSON.stringify(ids) !== JSON.stringify(want)) return [`the messages were numbered ${ids.join(", ")}, not 1 to ${sent.length} (were forged receipts believed?)`];
      return [];
    },
  },
];
const corrupted = new Set();
const tokened = new Set();
const futures = [];

coord("hub", "create", hub);
for (const n of names) {
  const r = coord("init", dirs[n], "--name", n, "--remote", hub);
  if (r.code !== 0) throw new Error(`init ${n}: ${r.err}`);
  // The machine says it has an agent CLI that is on no PATH (as after an uninstall): its tasks fail with the reason.
  const config = join(stateOf(n), "machine.yaml");
  writeFileSync(config, readFileSync(config, "utf8").replace(/^labels: \[\]$/m, "labels: [soak-no-such-agent]"));
}
git(root, "clone", "--quiet", hub, person);
personPush({ "ORDERS.json": orders() }, "first orders");
for (const n of names) {
  const r = coord(...daemonArgs(n));
  if (r.code !== 0) throw new Error(`daemon start ${n}: ${r.err}`);
}
say(`soak: ${names.length} daemons, ${minutes} min of faults, in ${root}`);

const end = Date.now() + minutes * 60_000;
const injected = new Map(faults.map((f) => [f.name, 0]));
// For SOAK_MINUTES, and on until every fault was injected at least once (at most two more rounds).
const missing = () => faults.some((f) => injected.get(f.name) === 0);
while (Date.now() < end || (missing() && round < 3 * faults.length)) {
  round++;
  const fault = faults[(round - 1) % faults.length];
  say(`fault ${round}: ${fault.name}`);
  try {
    await fault.inject();
    injected.set(fault.name, injected.get(fault.name) + 1);
  } catch (e) {
    say(`  (the fault itself failed: ${e.message.split("\n")[0]})`);
  }
  await sleep(4000);
  // Back to a sane fleet every few rounds, as a person fixing things would.
  if (round % 3 === 0) personPush({ "ORDERS.json": orders() }, `orders, round ${round}`);
}

// The fleet must still work: a last canary runs on every machine.
round++;
personPush({ "ORDERS.json": orders() }, "final canary");
const failures = [];
const deadline = Date.now() + 120_000;
let done = [];
while (Date.now() < deadline) {
  git(person, "fetch", "--quiet", "origin");
  const status = JSON.parse(git(person, "show", "origin/main:STATUS.json"));
  done = names.filter((n) => status.orders?.[`canary-${round}`]?.machines?.[n]?.state === "completed");
  // Also settled: the orders claimed from 2099 taken over, every message received (else the checks below say what is missing).
  const inbox = JSON.parse(coord("inbox", "--all", "--json", "--dir", dirs[names[1 % names.length]]).out || "[]");
  const settled = futures.every((id) => status.orders?.[id]?.state === "completed") && inbox.length >= sent.length;
  if (done.length === names.length && settled) break;
  await sleep(2000);
}
if (done.length !== names.length) failures.push(`the final canary completed on ${done.join(", ") || "no machine"} of ${names.join(", ")} within 120 s`);

for (const n of names) {
  const s = coord("daemon", "status", "--dir", dirs[n], "--json");
  const st = JSON.parse(s.out || "{}");
  if (!st.running) failures.push(`the daemon of ${n} is not running: ${s.out}${s.err}`);
  const out = readFileSync(join(dirs[n], ".git", "coord", "daemon.out"), "utf8");
  const logs = coord("logs", "--dir", dirs[n], "--json");
  const stacks = (out + logs.out).split("\n").filter((l) => /^\s+at .+:\d+:\d+\)?$/.test(l));
  if (stacks.length) failures.push(`${n} logged a stack trace: ${stacks[0].trim()}`);
  const syncs = logs.out.split("\n").filter((l) => l.includes('"kind":"sync"'));
  const ok = syncs.filter((l) => l.includes('"ok":true')).length;
  say(`${n}: ${syncs.length} syncs logged, ${ok} ok, ${syncs.length - ok} failed (outages and the token remote fail on purpose)`);
  coord("daemon", "stop", "--dir", dirs[n]);
}
git(person, "fetch", "--quiet", "origin");
const endState = {
  statusMd: git(person, "show", "origin/main:STATUS.md"),
  status: JSON.parse(git(person, "show", "origin/main:STATUS.json")),
  inbox: JSON.parse(coord("inbox", "--all", "--json", "--dir", dirs[names[1 % names.length]]).out || "[]"),
};
for (const f of faults) {
  if (injected.get(f.name) === 0) failures.push(`the fault "${f.name}" was never injected`);
  else for (const problem of f.check(endState)) failures.push(`${f.name}: ${problem}`);
}
// What the machines wrote (ORDERS.json holds the secret value by design: the person wrote it there).
const history = git(hub, "log", "-p", "--all", "--format=%H %an %s%n%b", "--", "STATUS.md", "STATUS.json", "coordination");
for (const secret of [TOKEN, SECRET, "soak:ghp_"]) if (history.includes(secret)) failures.push(`the hub's history holds the secret ${secret.slice(0, 8)}…`);
if (/root:x:0:0/.test(history)) failures.push("the target of the ORDERS.json symlink (/etc/passwd) reached the hub");
for (const n of names) if (machineLog(n).includes(TOKEN)) failures.push(`${n}'s log holds the token of the remote URL`);

say(`faults injected: ${[...injected].map(([k, v]) => `${k} ×${v}`).join("; ")}`);
if (failures.length) {
  for (const f of failures) say(`FAIL: ${f}`);
  say(`kept for a look: ${root}`);
  process.exit(1);
}
say("soak: every daemon still runs, the fleet completed its last canary, nothing secret reached the hub, no stack trace was logged");
if (!process.env.SOAK_KEEP) for (const dir of [root, process.env.HOME]) rmSync(dir, { recursive: true, force: true });
