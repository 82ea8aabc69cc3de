// Real git for end-to-end tests: bare hubs in temp dirs, several checkouts as
// several machines, a person who uses plain git, and `git daemon` on loopback.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { inject } from "vitest";
import { hubCreate } from "../src/actions/hub.js";
import { init } from "../src/actions/init.js";
import { publishSent, type SendOptions, sendFrom } from "../src/actions/messages.js";
import { openMachine, sync } from "../src/sync/sync.js";
import { main } from "../src/cli/main.js";
import { parseComputer } from "../src/core/fleet/computer.js";
import { roleOf } from "../src/core/trust/ownership.js";
import type { TaskEntry } from "../src/core/work/task-life.js";
import type { StatusJson } from "../src/core/fleet/status-types.js";
import { patient } from "./patience.js";
import { procStatFields } from "./proc-stat.js";

const run = promisify(execFile);
export const CLI = join(import.meta.dirname, "..", "dist", "coord.mjs");

/** git as a person runs it; identity only through -c, since the machine has none. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("git", args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export async function tempDir(prefix = "coord-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface Fleet {
  root: string;
  /** The URL machines use: a path, or git://127.0.0.1:port/hub.git. */
  remote: string;
  hubPath: string;
  machines: Record<string, string>;
  person: string;
  cleanup(): Promise<void>;
}

/** How long a template fleet is copied (makeFleet) before the next copy builds a new one. */
const TEMPLATE_MS = 5 * 60_000;

/**
 * A hub and one checkout per machine; `hubPath`/`remote` put the hub elsewhere (e.g. behind git daemon).
 * A fleet of the same names on a local hub is a copy of a template built once per test run and 5 minutes
 * (test/global-setup.ts): the same files as a fresh one, made in a fraction of the time.
 */
export async function makeFleet(names: string[], opts: { hubPath?: string; remote?: string } = {}): Promise<Fleet> {
  const templates = opts.hubPath || opts.remote ? undefined : fleetTemplates();
  if (!templates) return buildFleet(await tempDir(), names, opts);
  // One template per list of names and 5 minutes: a fleet is at most that old when copied, so that its clocks (the
  // machines' heartbeats, due 15 minutes after the template's syncs) do not run out in the middle of a test.
  const slot = Math.floor(Date.now() / TEMPLATE_MS);
  const key = `${createHash("sha256").update(JSON.stringify(names)).digest("hex").slice(0, 16)}-${slot}`;
  const template = join(templates, key);
  if (!(await stat(join(template, "ready")).catch(() => undefined))) {
    // Built aside and renamed into place: a test file in another worker may build the same one.
    const building = await mkdtemp(join(templates, `${key}.building-`));
    await buildFleet(building, names, {});
    await writeFile(join(building, "ready"), `${building}\n`);
    await rename(building, template).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;
      await rm(building, { recursive: true, force: true }); // the other one won
    });
  }
  const root = await tempDir();
  // The folder the template was built in, which its clones' files name.
  const built = (await readFile(join(template, "ready"), "utf8")).trim();
  await copyFleetFolder(template, built, root);
  await rm(join(root, "ready"));
  const machines: Record<string, string> = {};
  for (const name of names) machines[name] = join(root, name);
  const hubPath = join(root, "hub.git");
  return { root, remote: hubPath, hubPath, machines, person: join(root, "person"), cleanup: () => rm(root, { recursive: true, force: true }) };
}

/**
 * A copy of the fleet folder `from` in `root` (cp -a), with the folder's path that git keeps, `was` (each clone's
 * remote and FETCH_HEAD, a signing key's path in its config), moved to `root`. Each machine's capabilities are as
 * detected now: the template's are as old as the run, and a sync asks again 10 minutes after they were found (its
 * quiet stamp ends then), which would fall in the middle of a later test that counts on a quiet sync.
 */
export async function copyFleetFolder(from: string, was: string, root: string): Promise<void> {
  await run("cp", ["-a", `${from}/.`, root]);
  for (const dir of await readdir(root)) {
    for (const file of ["config", "FETCH_HEAD"]) {
      const path = join(root, dir, ".git", file);
      const text = await readFile(path, "utf8").catch(() => undefined);
      if (text !== undefined) await writeFile(path, text.split(was).join(root));
    }
    const agents = join(root, dir, ".git", "coord", "agents.json");
    const cached = await readFile(agents, "utf8").catch(() => undefined);
    if (cached) await writeFile(agents, JSON.stringify({ ...JSON.parse(cached), at: Date.now() }));
  }
}

/** The run's template directory (undefined when run without test/global-setup.ts). */
function fleetTemplates(): string | undefined {
  return inject("fleetTemplates") || undefined;
}

async function buildFleet(root: string, names: string[], opts: { hubPath?: string; remote?: string }): Promise<Fleet> {
  const hubPath = opts.hubPath ?? join(root, "hub.git");
  await hubCreate(hubPath);
  // Record every ref update, to prove no push was ever forced.
  await git(hubPath, "config", "core.logAllRefUpdates", "always");
  const remote = opts.remote ?? hubPath;
  const machines: Record<string, string> = {};
  const person = join(root, "person");
  await git(root, "clone", "--quiet", remote, person);
  const fleet = { root, remote, hubPath, machines, person, cleanup: () => rm(root, { recursive: true, force: true }) };
  // A test fleet's bursts are far above a real fleet's push budget: its ORDERS.json allows them (ordersText).
  await personCommit(fleet, "ORDERS.json", ordersText([]), "a test fleet's push budget");
  for (const name of names) {
    machines[name] = join(root, name);
    await init({ dir: machines[name], name, remote });
  }
  // A fleet as it runs: each machine synced since the last one registered, so it knows them all (a send checks its
  // recipient against the machines its last sync verified: known-fleet.json).
  for (const name of names.slice(0, -1)) await sync({ dir: machines[name]!, run: false });
  return fleet;
}

/** ORDERS.json's hub settings of a server with no push limit to speak of (core/budget/budget.ts MAX_PUSHES_PER_MINUTE). */
export const UNLIMITED = { pushesPerMinute: 100_000 };

/**
 * ORDERS.json with `orders`: a test fleet works in bursts far above a real fleet's push budget (core/budget/budget.ts), so it
 * gets a budget of 100,000 pushes a minute (a server with no limit); the tests of the budget set their own.
 */
export function ordersText(orders: unknown[], hub: Record<string, unknown> = UNLIMITED): string {
  return `${JSON.stringify({ $schema: "coordination/orders.schema.json", version: 1, hub, orders }, null, 2)}\n`;
}

/** A person's edit of ORDERS.json, committed and pushed with plain git (rebasing onto the machines' pushes). */
export async function pushOrders(fleet: Fleet, orders: unknown[] | string, message = "orders"): Promise<void> {
  const text = typeof orders === "string" ? orders : ordersText(orders);
  await personCommit(fleet, "ORDERS.json", text, message);
}

/**
 * A person's commit of `path`, pushed with plain git on the branch that holds it: ORDERS.json (and any
 * people's file) on main; a machine's file, message file or STATUS.* on the machines' branch, coord (a
 * forgery, as anyone with push access could make). The person's clone is left on main.
 */
export async function personCommit(fleet: Fleet, path: string, text: string | null, message: string): Promise<void> {
  const p = fleet.person;
  const branch = roleOf(path) === "machines" ? "coord" : "main";
  try {
    for (let attempt = 1; ; attempt++) {
      await git(p, "fetch", "--quiet", "origin");
      await git(p, "checkout", "--quiet", "-B", branch, `origin/${branch}`);
      await git(p, "reset", "--quiet", "--hard", `origin/${branch}`);
      if (text === null)
        await git(p, "rm", "--quiet", path); // null: the file deleted
      else {
        await mkdir(dirname(join(p, path)), { recursive: true });
        await writeFile(join(p, path), text);
        await git(p, "add", path);
      }
      await git(p, "-c", "user.name=A Person", "-c", "user.email=person@example.com", "commit", "--quiet", "-m", message);
      try {
        await git(p, "push", "--quiet", "origin", `HEAD:${branch}`);
        return;
      } catch (e) {
        if (attempt >= 20) throw e;
        await new Promise((r) => setTimeout(r, 50 * attempt)); // a machine is pushing right now
      }
    }
  } finally {
    if (branch !== "main") await git(p, "checkout", "--quiet", "-B", "main", "origin/main");
  }
}

/** The non-empty lines of a file, or none when it is not there (a log tasks append to). */
export async function readLines(path: string): Promise<string[]> {
  return (await readFile(path, "utf8").catch(() => "")).split("\n").filter(Boolean);
}

/** The reasons of the refusals a machine file publishes (trust.refused), read as coord reads the file. */
export function refusedReasons(computerText: string, name: string): string[] {
  return (parseComputer(computerText, name).trust?.refused ?? []).map((r) => r.reason);
}

/** A file at the hub's tip: a machine's file (and STATUS.*) from the machines' branch, any other from main. */
export async function hubFile(fleet: Fleet, path: string): Promise<string> {
  return git(fleet.hubPath, "show", `${roleOf(path) === "machines" ? "coord" : "main"}:${path}`);
}

/** STATUS.json at the hub's tip, as coord writes it (core/status/status.ts StatusJson). */
export async function hubStatus(fleet: Fleet): Promise<StatusJson> {
  return JSON.parse(await hubFile(fleet, "STATUS.json"));
}

/** The machines' branch's tip: what moves when any machine publishes. */
export async function hubHead(fleet: Fleet): Promise<string> {
  return (await git(fleet.hubPath, "rev-parse", "coord")).trim();
}

/** The people's branch's tip: what moves when a person pushes (never when a machine publishes). */
export async function peopleHead(fleet: Fleet): Promise<string> {
  return (await git(fleet.hubPath, "rev-parse", "main")).trim();
}

// biome-ignore lint/suspicious/noExplicitAny: tests read the journal file as written
export async function journal(dir: string): Promise<any> {
  return JSON.parse(await readFile(join(dir, ".git", "coord", "journal.json"), "utf8"));
}

/** The journal's entry of the task `id` once it runs with a pid (polled, at most `ms`). */
export async function runningTask(dir: string, id: string, ms: number, what: string): Promise<TaskEntry & { pid: number }> {
  return waitFor(
    async () => {
      const t = (await journal(dir)).tasks[id];
      return t?.state === "in_progress" && t.pid ? t : undefined;
    },
    ms,
    what,
  );
}

/** Runs the CLI in-process, capturing output. */
export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  process.exitCode = 0;
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** Runs the built CLI as a separate process. */
export function cliProcess(args: string[], opts: { cwd?: string; stdin?: boolean; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"] });
}

/** The built CLI as a long-running process (watch, daemon run): its output collected, stopped (SIGTERM, then awaited) by `stops`. */
export function runningCli(args: string[], stops: (() => Promise<unknown>)[]): () => string {
  const child = cliProcess(args);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  stops.push(async () => {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("close", r)));
  });
  return () => out;
}

/** Runs the built CLI to its end; `env` replaces the environment it inherits. */
export async function cliExec(args: string[], input?: Buffer, env?: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  const child = cliProcess(args, { stdin: input !== undefined, ...(env ? { env } : {}) });
  if (input !== undefined) child.stdin!.end(input);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? -1)));
  return { code, out, err };
}

/**
 * Polls `check` every `every` ms (50 by default) until it returns a value, at most `ms` (a ceiling, multiplied by the
 * run's patience: test/patience.ts). A check that runs a whole sync
 * while a lease runs out polls as cron would, about once a second: each sync is a dozen git processes.
 */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, ms: number, what: string | (() => string), every = 50): Promise<T> {
  const ceiling = patient(ms);
  const deadline = Date.now() + ceiling;
  let last: unknown;
  for (;;) {
    const v = await check().catch((e: unknown) => {
      last = e;
      return undefined;
    });
    if (v) return v;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${ceiling} ms waiting for ${typeof what === "string" ? what : what()}${last ? ` (the last check threw: ${(last as Error).message ?? String(last)})` : ""}`,
      );
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * The machine's next `coord sync` (in this process) after a sync of its was killed: until the dead holder's lock is
 * seen stale, a sync says it skipped and is tried again (every 250 ms, at most `ms`). Its result.
 */
export function syncAfterCrash(dir: string, ms = 20_000): Promise<{ code: number; out: string; err: string }> {
  return waitFor(
    async () => {
      const r = await cli("sync", "--dir", dir);
      return r.out.includes("skipped") ? undefined : r;
    },
    ms,
    `a sync of ${dir} that is not skipped (the killed sync's lock seen stale)`,
    250,
  );
}

/** A free TCP port on loopback (a server listens, and closes at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** `git daemon` serving `base` on loopback, with push enabled. */
export async function gitDaemon(base: string): Promise<{ url: (name: string) => string; stop(): Promise<void> }> {
  const port = await freePort();
  const daemon = spawn("git", ["daemon", "--reuseaddr", "--export-all", "--enable=receive-pack", `--base-path=${base}`, "--listen=127.0.0.1", `--port=${port}`, base], {
    stdio: "ignore",
    detached: true,
  });
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = connect(port, "127.0.0.1", () => {
          s.end();
          resolve(true);
        });
        s.on("error", () => resolve(false));
      }),
    10_000,
    "git daemon to listen",
  );
  return {
    url: (name) => `git://127.0.0.1:${port}/${name}`,
    stop: async () => {
      try {
        process.kill(-daemon.pid!, "SIGTERM");
      } catch {
        /* gone */
      }
      await new Promise((r) => (daemon.exitCode !== null ? r(null) : daemon.once("exit", r)));
    },
  };
}

/** Every commit of the hub: sha, author name, changed paths. */
export async function hubCommits(fleet: Fleet): Promise<{ sha: string; author: string; paths: string[] }[]> {
  const log = await git(fleet.hubPath, "log", "--format=@%H %an", "--name-only", "main", "coord");
  return log
    .split("@")
    .filter(Boolean)
    .map((block) => {
      const [head, ...rest] = block.trim().split("\n");
      const [sha, ...author] = head!.split(" ");
      return { sha: sha!, author: author.join(" "), paths: rest.filter(Boolean) };
    });
}

/** Changes a machine's settings in .git/coord/machine.yaml, as its owner would by hand. */
export async function setConfig(dir: string, patch: Record<string, unknown>): Promise<void> {
  const { loadConfig, saveConfig } = await import("../src/state/config.js");
  const stateDir = join(dir, ".git", "coord");
  await saveConfig(stateDir, { ...(await loadConfig(stateDir))!, ...patch } as never);
}

/** Gives the person's clone a git identity, in that clone only (never globally). */
export async function personIdentity(fleet: Fleet, name = "Pat Person", email = "pat@example.com"): Promise<void> {
  await git(fleet.person, "config", "user.name", name);
  await git(fleet.person, "config", "user.email", email);
}

/** Whether ssh-keygen is installed: git checks SSH signatures with it, so without it signed orders have nothing to check (those tests say they are skipped). */
export async function hasSshKeygen(): Promise<boolean> {
  return run("ssh-keygen", ["-?"]).then(
    () => true,
    (e: NodeJS.ErrnoException) => e.code !== "ENOENT",
  );
}

/** An SSH key pair made with ssh-keygen in `dir` (no passphrase); the private key's path. */
export async function sshKey(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]);
  return path;
}

/** A person's clone at `person` commits ORDERS.json (signed with `signingKey`, a private key path, or not at all) on the hub's tip and pushes; the new commit. */
export async function commitOrdersAs(person: string, orders: object[] | string, signingKey?: string, as = "alice@example.com"): Promise<string> {
  await git(person, "fetch", "--quiet", "origin");
  await git(person, "reset", "--quiet", "--hard", "origin/main");
  await writeFile(join(person, "ORDERS.json"), typeof orders === "string" ? orders : ordersText(orders));
  await git(person, "add", "ORDERS.json");
  const sign = signingKey ? ["-c", "gpg.format=ssh", "-c", `user.signingkey=${signingKey}`, "commit", "-S"] : ["commit"];
  await git(person, "-c", `user.name=${as}`, "-c", `user.email=${as}`, ...sign, "--quiet", "-m", "orders");
  await git(person, "push", "--quiet", "origin", "HEAD:main");
  return (await git(person, "rev-parse", "HEAD")).trim();
}

/** A `git` first on PATH (the returned folder) that logs each command's arguments to `log`, then runs the real one. */
export async function loggingGit(root: string, log: string): Promise<string> {
  const bin = join(root, "bin");
  await mkdir(bin, { recursive: true });
  const real = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
  await writeFile(join(bin, "git"), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  await chmod(join(bin, "git"), 0o755);
  return bin;
}

/** Whether the process `pid` is there, as signal 0 says (a zombie is there). */
function processThere(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the process `pid` is still there after `ms`, as `processGone` looks: a check that something does not happen,
 * so `ms` is not multiplied.
 */
export async function stays(pid: number, ms: number): Promise<boolean> {
  await new Promise((r) => setTimeout(r, ms));
  return processThere(pid);
}

/** Whether the process `pid` is gone within `ms` (polled every 50 ms; `ms` is a ceiling: test/patience.ts). */
export function processGone(pid: number, ms = 5000): Promise<boolean> {
  return processGoneSince(pid, Date.now(), ms);
}

/** Whether the process `pid` is gone within `ms` of the time `since` (a ceiling, as processGone's). */
export async function processGoneSince(pid: number, since: number, ms: number): Promise<boolean> {
  // Asked at least once, however little time is left (a bound already spent still sees a process that is gone).
  for (const end = since + patient(ms); ; await new Promise((r) => setTimeout(r, 50))) {
    if (!processThere(pid)) return true;
    if (Date.now() >= end) return false;
  }
}

/** The CPU clock ticks (1/100 s) process `pid` has used, from /proc (Linux). */
export async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  return stat
    .split(") ")[1]!
    .split(" ")
    .slice(11, 13)
    .reduce((n, v) => n + Number(v), 0);
}

/** An ssh command in `dir` that never answers (sleeps 30 s), and the pid it ran as, once it ran. */
export async function silentSsh(dir: string): Promise<{ command: string; pid: () => Promise<number> }> {
  const pidFile = join(dir, "silent-ssh.pid");
  const command = join(dir, "silent-ssh");
  await writeFile(command, `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 30\n`);
  await chmod(command, 0o755);
  const pid = async () => {
    for (let i = 0; i < 200; i++) {
      const text = await readFile(pidFile, "utf8").catch(() => "");
      if (text.trim()) return Number(text.trim());
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${command} never ran`);
  };
  return { command, pid };
}

/**
 * A pre-receive hook in the bare hub that keeps `main` for people, as a host's branch rule would: an update of
 * refs/heads/main that brings any commit authored by `…@coord.invalid` (a machine's, or any coord's) is refused,
 * except `hub@coord.invalid` (what `coord hub create` authors); deleting main is refused too. Other branches pass.
 */
export async function refuseMachineCommitsOnMain(hubPath: string): Promise<void> {
  const hook = join(hubPath, "hooks", "pre-receive");
  await mkdir(dirname(hook), { recursive: true });
  await writeFile(
    hook,
    `#!/usr/bin/env bash
# main is written by people only: refuse any commit authored by a machine (…@coord.invalid) there.
zero=0000000000000000000000000000000000000000
status=0
while read -r old new ref; do
  [ "$ref" = refs/heads/main ] || continue
  if [ "$new" = "$zero" ]; then echo "main is for people: it cannot be deleted" >&2; status=1; continue; fi
  if [ "$old" = "$zero" ]; then range="$new"; else range="$old..$new"; fi
  while read -r sha email; do
    case "$email" in
      hub@coord.invalid) ;;
      *@coord.invalid) echo "main is for people: commit $sha is authored by $email" >&2; status=1 ;;
    esac
  done < <(git log --format='%H %ae' "$range")
done
exit $status
`,
  );
  await chmod(hook, 0o755);
}

/** git as `git` runs it, without throwing: whether it exited 0, and its output (a push that may be refused). */
export async function gitTry(cwd: string, ...args: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  return run("git", args, { cwd, maxBuffer: 64 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ ok: true, out: stdout, err: stderr }),
    (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: e.stdout ?? "", err: e.stderr ?? "" }),
  );
}

/** The author emails of the hub's `branch` (default main), newest first; since `from` (exclusive) when given. */
export async function branchAuthors(fleet: Fleet, branch = "main", from?: string): Promise<string[]> {
  return (await git(fleet.hubPath, "log", "--format=%ae", from ? `${from}..${branch}` : branch)).split("\n").filter(Boolean);
}

/** The pids of the processes whose environment holds TOKEN=<token> (Linux /proc): a service's copies and what they started. */
export async function withToken(token: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const env = await readFile(`/proc/${name}/environ`, "utf8").catch(() => "");
    if (env.split("\0").includes(`TOKEN=${token}`)) out.push(Number(name));
  }
  return out;
}

/**
 * A TCP server on loopback that accepts every connection and never says a word (a hub that hangs); its port.
 * `cleanups` gets what closes it and its connections; `accepted`, when given, is called at each connection.
 */
export async function silentServer(cleanups: (() => Promise<unknown>)[], accepted?: () => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    accepted?.();
    sockets.add(s);
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return (server.address() as { port: number }).port;
}

/** The hub's pre-receive hook refusing every update of `branches` as GitHub refuses a protected branch (GH006). */
export async function protectBranches(hubPath: string, ...branches: string[]): Promise<void> {
  const hook = join(hubPath, "hooks", "pre-receive");
  const cases = branches.map((b) => `refs/heads/${b}`).join("|");
  await writeFile(
    hook,
    `#!/bin/sh
while read old new ref; do
  case "$ref" in ${cases})
    echo "error: GH006: Protected branch update failed for $ref." >&2
    echo "error: Changes must be made through a pull request." >&2
    exit 1 ;;
  esac
done
`,
  );
  await chmod(hook, 0o755);
}

/** The files below `root` whose name holds `part` (a CLI's session transcripts), none when `root` is not there. */
export async function filesNamed(root: string, part: string): Promise<string[]> {
  const all = (await readdir(root, { recursive: true }).catch(() => [])) as string[];
  return all.filter((f) => basename(f).includes(part));
}

/** A process as it is now: its pid and its start time (/proc, Linux), so that a later kill never hits a reused pid. */
export interface Recorded {
  pid: number;
  start: string | undefined;
}

const startOf = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return procStatFields(stat)[19];
  } catch {
    return undefined;
  }
};

export const recorded = (pid: number): Recorded => ({ pid, start: startOf(pid) });

/**
 * Kills a process a test recorded (its group with `group`), only while the pid is still that process: on a busy run
 * pids come round again (32768 of them), and a stale kill ended another test's process (2026-11-28).
 */
export function killRecorded(r: Recorded, group = false): void {
  if (r.start === undefined || startOf(r.pid) !== r.start) return;
  try {
    process.kill(group ? -r.pid : r.pid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
}

/** Variables of process.env a test sets (`set`, as often as it likes), each put back as it was by `restore`. */
export function envScope(): { set(vars: Record<string, string>): void; restore(): void } {
  const saved = new Map<string, string | undefined>();
  return {
    set(vars) {
      for (const [k, v] of Object.entries(vars)) {
        if (!saved.has(k)) saved.set(k, process.env[k]);
        process.env[k] = v;
      }
    },
    restore() {
      for (const [k, v] of saved)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      saved.clear();
    },
  };
}

/** coord send --now in process: the message stored at `opts.dir` and published at once (a sync that starts no task). */
export async function sendNow(opts: SendOptions) {
  const m = await openMachine(opts.dir);
  const sent = await sendFrom(m, opts);
  return { ...sent, ...(await publishSent(m, "now", sent.id)) };
}
