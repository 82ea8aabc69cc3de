// Soak (npm run soak): a small fleet of real daemons under a stream of faults —
// hostile files pushed to the hub, tasks that cannot start, broken local state,
// hub outages, a remote URL carrying a token — for SOAK_MINUTES (default 3; a
// day is SOAK_MINUTES=1440). At the end it checks what a user relies on:
// every daemon still runs, the fleet still completes work, the odd files are
// named in STATUS.md, no stack trace was logged, and no secret is anywhere in
// the hub's history. Exit 0 when all hold.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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
const orders = (extra = []) =>
  JSON.stringify(
    {
      version: 1,
      orders: [
        { id: `canary-${round}`, to: "ALL", run: `echo canary ${round}` },
        { id: "secret-echo", to: "ALL", run: "echo the value is $API_KEY", env: { API_KEY: { value: SECRET, secret: true } } },
        ...extra,
      ],
    },
    null,
    2,
  );

const deep = (n) => "[".repeat(n) + "]".repeat(n);
/** Each fault: what it does; it returns an undo, or nothing. */
const faults = [
  ["a task whose cwd does not exist", () => personPush({ "ORDERS.json": orders([{ id: `nocwd-${round}`, to: "ALL", run: "true", cwd: "/nonexistent/soak" }]) }, "nocwd")],
  ["an agent CLI that is not on PATH", () => personPush({ "ORDERS.json": orders([{ id: `noagent-${round}`, to: "ANY", agent: "soak-no-such-agent", prompt: "hi" }]) }, "noagent")],
  ["a NUL byte in an env value", () => personPush({ "ORDERS.json": orders([{ id: `nul-${round}`, to: "ALL", run: "true", env: { X: "a\u0000b" } }]) }, "nul")],
  ["a huge argument list (E2BIG)", () => personPush({ "ORDERS.json": orders([{ id: `e2big-${round}`, to: "ALL", run: "true", env: { BIG: "x".repeat(3_000_000) } }]) }, "e2big")],
  ["ORDERS.json nested 5000 deep", () => personPush({ "ORDERS.json": `{"version":1,"orders":[],"x":${deep(5000)}}` }, "deep orders")],
  ["a tab in a machine file's path", () => personPush({ [`coordination/COMPUTER_${names[0]}.md\tx`]: "---\ncoord: 1\n---\n" }, "tab path")],
  [
    "machine and message files named constructor / __proto__",
    () =>
      personPush(
        {
          "coordination/COMPUTER_constructor.md": "---\ncoord: 1\nname: constructor\n---\n",
          [`coordination/messages/${names[0]}_TO___proto__.md`]: "---\nnext: 9007199254740993\n---\n",
        },
        "proto names",
      ),
  ],
  ["a machine file nested 5000 deep", () => personPush({ "coordination/COMPUTER_zeta.md": `---\nx: ${deep(5000)}\n---\n` }, "deep machine file")],
  ["a 6 MB machine file", () => personPush({ "coordination/COMPUTER_huge.md": `---\nx: "${"y".repeat(6_000_000)}"\n---\n` }, "huge")],
  [
    "odd names under coordination/",
    () => personPush({ "coordination/COMPUTER_..%2F..%2Fx.md": "x", "coordination/COMPUTER_Alpha.md": "x", "coordination/orders/__proto__.json": "{}" }, "odd names"),
  ],
  ["a symlink as ORDERS.json", () => personPush({ "ORDERS.json": { symlink: "/etc/passwd" } }, "symlink")],
  [
    "a corrupt journal and mailbox on one machine",
    () => {
      const state = join(dirs[names[round % names.length]], ".git", "coord");
      writeFileSync(join(state, "journal.json"), '{"tasks": null}');
      writeFileSync(join(state, "mailbox.json"), '{"outbox": null');
    },
  ],
  [
    "a hub outage of 8 s",
    async () => {
      renameSync(hub, `${hub}.away`);
      await sleep(8000);
      renameSync(`${hub}.away`, hub);
    },
  ],
  [
    "a remote URL with a token in it, for 8 s",
    async () => {
      const dir = dirs[names[round % names.length]];
      git(dir, "remote", "set-url", "origin", `https://soak:${TOKEN}@127.0.0.1:9/fleet.git`);
      await sleep(8000);
      git(dir, "remote", "set-url", "origin", hub);
    },
  ],
  [
    "messages between machines",
    () => {
      coord("send", names[1 % names.length], `round ${round}: hello`, "--dir", dirs[names[0]]);
    },
  ],
];

coord("hub", "create", hub);
for (const n of names) {
  const r = coord("init", dirs[n], "--name", n, "--remote", hub);
  if (r.code !== 0) throw new Error(`init ${n}: ${r.err}`);
}
git(root, "clone", "--quiet", hub, person);
personPush({ "ORDERS.json": orders() }, "first orders");
for (const n of names) {
  const r = coord("daemon", "start", "--dir", dirs[n], "--schedule", "*/3 * * * * *", "--jitter", "0");
  if (r.code !== 0) throw new Error(`daemon start ${n}: ${r.err}`);
}
say(`soak: ${names.length} daemons, ${minutes} min of faults, in ${root}`);

const end = Date.now() + minutes * 60_000;
const injected = new Map();
while (Date.now() < end) {
  round++;
  const [name, fault] = faults[(round - 1) % faults.length];
  say(`fault ${round}: ${name}`);
  injected.set(name, (injected.get(name) ?? 0) + 1);
  try {
    await fault();
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
  if (done.length === names.length) break;
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
const statusMd = git(person, "show", "origin/main:STATUS.md");
if (!/COMPUTER_alpha\.md.x|constructor|ignored/i.test(statusMd)) failures.push("STATUS.md names none of the odd files");
// What the machines wrote (ORDERS.json holds the secret value by design: the person wrote it there).
const history = git(hub, "log", "-p", "--all", "--format=%H %an %s%n%b", "--", "STATUS.md", "STATUS.json", "coordination");
for (const secret of [TOKEN, SECRET, "soak:ghp_"]) if (history.includes(secret)) failures.push(`the hub's history holds the secret ${secret.slice(0, 8)}…`);
if (/root:x:0:0/.test(history)) failures.push("the target of the ORDERS.json symlink (/etc/passwd) reached the hub");

say(`faults injected: ${[...injected].map(([k, v]) => `${k} ×${v}`).join("; ")}`);
if (failures.length) {
  for (const f of failures) say(`FAIL: ${f}`);
  say(`kept for a look: ${root}`);
  process.exit(1);
}
say("soak: every daemon still runs, the fleet completed its last canary, nothing secret reached the hub, no stack trace was logged");
if (!process.env.SOAK_KEEP) rmSync(root, { recursive: true, force: true });
