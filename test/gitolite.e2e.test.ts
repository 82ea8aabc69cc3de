// The gitolite recipe of docs/security.md, end to end (issue 29, "On real git servers"): a real gitolite behind
// a real sshd on loopback, set up in a temporary directory as the current user, with no change to the system
// and none to the user's ~/.ssh (every ssh is given its key, known_hosts and config; the tests' HOME is a
// temporary one anyway). gitolite.conf is the block docs/security.md shows, as it is written there.
//
// A person creates the hub with coord hub create and pushes both branches; machines izzit7 and soda-yeti
// join with coord init, each with its own key; an order for izzit7 completes; izzit7's message reaches
// soda-yeti; izzit7 may not write soda-yeti's file (gitolite's DENIED line) nor main (coord order add --human
// says so, and the person's clone adds the order); coord's bounded history is replaced through the path rules.
//
// Skipped, saying why, where gitolite3 or openssh-server is not installed (apt-get install gitolite3
// openssh-server). sshd run as root needs /run/sshd: where there is none, it runs in a mount namespace of its
// own with a private /run (unshare), and the test is skipped where that is not allowed either.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, freePort, processGone, tempDir } from "./helpers.js";
import { patient } from "./patience.js";

const run = promisify(execFile);

/** The first of `names` found on PATH or in the sbin directories (sshd is not on a user's PATH), or undefined. */
function found(...names: string[]): string | undefined {
  for (const name of names) {
    try {
      const path = execFileSync("sh", ["-c", `PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin" command -v ${name}`], { encoding: "utf8" }).trim();
      if (path) return path;
    } catch {
      // not there
    }
  }
  return undefined;
}

const SSHD = found("sshd");
/** A /run of its own, with the /run/sshd that sshd run as root needs (in a mount namespace: the system's is untouched). */
const PRIVATE_RUN = "mount -t tmpfs -o mode=755 coord-test /run && mkdir -m 755 /run/sshd";
const ROOT_NEEDS_NAMESPACE = process.getuid?.() === 0 && !existsSync("/run/sshd");

/** Why this machine cannot run the recipe, or undefined when it can. */
function whyNot(): string | undefined {
  const missing = [
    ["gitolite", found("gitolite")],
    ["sshd", SSHD],
    ["ssh", found("ssh")],
    ["ssh-keygen", found("ssh-keygen")],
  ]
    .filter(([, path]) => !path)
    .map(([name]) => name);
  if (missing.length) return `${missing.join(", ")} not installed (apt-get install gitolite3 openssh-server)`;
  if (ROOT_NEEDS_NAMESPACE) {
    try {
      execFileSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", PRIVATE_RUN], { stdio: "ignore", timeout: 10_000 });
    } catch {
      return "sshd as root needs /run/sshd, which this machine has not, and a mount namespace to make one in is not allowed here";
    }
  }
  return undefined;
}

const skip = whyNot();
if (skip) console.warn(`test/gitolite.e2e.test.ts is skipped: ${skip}`);

/** The gitolite.conf block of docs/security.md (the one that holds `repo fleet`), as written there. */
async function documentedConf(): Promise<string> {
  const doc = await readFile(join(import.meta.dirname, "..", "docs", "security.md"), "utf8");
  const block = [...doc.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)].map((m) => m[1]!).find((b) => /^repo fleet$/m.test(b));
  if (!block) throw new Error("docs/security.md has no gitolite.conf block with `repo fleet`");
  return block;
}

/** sshd in the foreground (-D, logging to stderr): started, and ready once it says it listens (at most 15 s). */
async function startSshd(config: string): Promise<{ child: ChildProcess; log: () => string }> {
  const child = ROOT_NEEDS_NAMESPACE
    ? spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", `${PRIVATE_RUN} && exec "$0" -D -e -f "$1"`, SSHD!, config], {
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      })
    : spawn(SSHD!, ["-D", "-e", "-f", config], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const keep = (d: Buffer) => {
    log = (log + d.toString()).slice(-20_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not listen in 15 s:\n${log}`)), 15_000);
    const check = () => {
      if (/Server listening on 127\.0\.0\.1/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited (${code}):\n${log}`));
    });
  });
  return { child, log: () => log };
}

/** Stops sshd (its process group): SIGTERM, then SIGKILL after 5 s. */
async function stopSshd(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // gone already
    }
  };
  kill("SIGTERM");
  const timer = setTimeout(() => kill("SIGKILL"), 5000);
  await gone;
  clearTimeout(timer);
}

/** git with `env` added to the test's own, bounded at 30 s; throws with git's stderr. */
async function gitWith(env: Record<string, string>, cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("git", args, { cwd, env: { ...process.env, ...env }, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** The same, never throwing: whether it exited 0, and its stderr. */
async function gitTry(env: Record<string, string>, cwd: string, ...args: string[]): Promise<{ ok: boolean; err: string }> {
  return run("git", args, { cwd, env: { ...process.env, ...env }, timeout: 30_000 }).then(
    ({ stderr }) => ({ ok: true, err: stderr }),
    (e: { stderr?: string }) => ({ ok: false, err: e.stderr ?? "" }),
  );
}

/**
 * Runs `act` until `check` holds, for at most 30 s. A machine may hold a publish back for a while (the fleet's
 * push budget, a lost race): what the recipe decides is whether the hub takes it, not when it is sent.
 */
async function until(what: string, check: () => Promise<boolean>, act: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + patient(30_000);
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not done in ${patient(30_000) / 1000} s: ${what}`);
    await act();
  }
}

const PERSON = "alice";
const MACHINES = ["izzit7", "soda-yeti"] as const;
const AS_PERSON = ["-c", "user.name=Alice", "-c", "user.email=alice@example.com"];

describe.skipIf(skip !== undefined)(`the gitolite recipe of docs/security.md, over sshd on loopback${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let root = "";
  let sshd: { child: ChildProcess; log: () => string } | undefined;
  /** The hub's URL, as the person and the machines use it. */
  let url = "";
  /** The ssh command that authenticates with `name`'s key (and nothing of the user's). */
  let sshAs: (name: string) => string = () => "";
  let connect: (name: string) => Promise<void> = async () => {};
  /** The bare repository gitolite serves, on the server's side. */
  let served = "";
  const closeMasters: (() => Promise<unknown>)[] = [];
  const dirOf = (name: string) => join(root, name);

  /** Runs coord in this process as machine `name` would: its key through GIT_SSH_COMMAND (its checkout names it too, after init). */
  async function coordAs(name: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const before = process.env.GIT_SSH_COMMAND;
    process.env.GIT_SSH_COMMAND = sshAs(name);
    try {
      return await cli(...argv);
    } finally {
      if (before === undefined) delete process.env.GIT_SSH_COMMAND;
      else process.env.GIT_SSH_COMMAND = before;
    }
  }

  beforeAll(async () => {
    const started = Date.now();
    root = await tempDir("coord-gitolite-");
    const keys = join(root, "keys");
    const home = join(root, "gitolite-home"); // the gitolite user's HOME: .gitolite.rc, .gitolite/, repositories/, .ssh/authorized_keys
    await mkdir(keys);
    await mkdir(home);
    await Promise.all(
      ["admin", PERSON, ...MACHINES, "host"].map((name) => run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", join(keys, name)], { timeout: 30_000 })),
    );

    const user = userInfo().username;
    await run("gitolite", ["setup", "-pk", join(keys, "admin.pub")], { env: { ...process.env, HOME: home, USER: user }, timeout: 30_000 });

    const port = await freePort();
    const config = join(root, "sshd_config");
    await writeFile(
      config,
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${join(keys, "host")}`,
        `PidFile ${join(root, "sshd.pid")}`,
        // gitolite's keys, each forced to run gitolite-shell <name>; its HOME for the sessions, not the user's.
        `AuthorizedKeysFile ${join(home, ".ssh", "authorized_keys")}`,
        `SetEnv HOME=${home}`,
        "AuthenticationMethods publickey",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "PermitRootLogin prohibit-password",
        `AllowUsers ${user}`,
        "UseDNS no",
        "PrintMotd no",
        "LogLevel INFO",
        "",
      ].join("\n"),
    );
    sshd = await startSshd(config);

    const knownHosts = join(root, "known_hosts");
    const [type, key] = (await readFile(join(keys, "host.pub"), "utf8")).split(" ");
    await writeFile(knownHosts, `[127.0.0.1]:${port} ${type} ${key}\n`);
    const ssh = (name: string) =>
      `ssh -F /dev/null -i ${join(keys, name)} -o IdentitiesOnly=yes -o IdentityAgent=none -o UserKnownHostsFile=${knownHosts} ` +
      "-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR";
    // One connection per key, made once and shared by that key's every git command (ssh's multiplexing): a
    // session costs gitolite's start, not a handshake as well. A command finds no master: it connects itself.
    const control = (name: string) => join(root, `cm-${name}`);
    sshAs = (name) => `${ssh(name)} -o ControlMaster=no -o ControlPath=${control(name)}`;
    connect = async (name: string) => {
      // -f: in the background once authenticated; its output goes to a file, so that nothing waits for it.
      const out = join(root, `cm-${name}.log`);
      const master = `${ssh(name)} -o ControlMaster=yes -o ControlPath=${control(name)} -o ControlPersist=yes -f -N -p ${port} ${user}@127.0.0.1 </dev/null >'${out}' 2>&1`;
      await run("sh", ["-c", master], { timeout: 15_000 }).catch(async (e: Error) => {
        throw new Error(`the ssh master for ${name} failed: ${e.message}\n${await readFile(out, "utf8").catch(() => "")}\n${sshd!.log()}`);
      });
      const ask = (what: string) => run("ssh", ["-O", what, "-o", `ControlPath=${control(name)}`, "fleet-hub"], { timeout: 10_000 });
      const pid = Number(/pid=(\d+)/.exec((await ask("check")).stderr)?.[1]);
      closeMasters.push(async () => {
        await ask("exit").catch(() => {});
        // It exits at once; should it not have, it goes now (it is this test's own process), unless it went meanwhile.
        if (pid > 0 && !(await processGone(pid, 2000)))
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone between the last look and the kill
          }
      });
    };
    await connect("admin");
    url = `ssh://${user}@127.0.0.1:${port}/fleet`;
    served = join(home, "repositories", "fleet.git");

    // The admin adds the people's and the machines' keys and the documented rules, through gitolite-admin.
    const admin = { GIT_SSH_COMMAND: sshAs("admin") };
    const adminClone = join(root, "gitolite-admin");
    await gitWith(admin, root, "clone", "--quiet", `ssh://${user}@127.0.0.1:${port}/gitolite-admin`, adminClone);
    for (const name of [PERSON, ...MACHINES]) await writeFile(join(adminClone, "keydir", `${name}.pub`), await readFile(join(keys, `${name}.pub`)));
    await writeFile(join(adminClone, "conf", "gitolite.conf"), `repo gitolite-admin\n    RW+     =   admin\n\n${await documentedConf()}`);
    await gitWith(admin, adminClone, "add", "-A");
    await gitWith(admin, adminClone, "-c", "user.name=Admin", "-c", "user.email=admin@example.com", "commit", "--quiet", "-m", "the fleet");
    await gitWith(admin, adminClone, "push", "--quiet", "origin", "HEAD");
    expect(existsSync(served)).toBe(true);
    for (const name of [PERSON, ...MACHINES]) await connect(name);
    console.log(`gitolite.e2e: gitolite and sshd ready in ${Date.now() - started} ms`);
  }, patient(60_000));

  afterAll(async () => {
    await Promise.all(closeMasters.map((close) => close()));
    if (sshd) await stopSshd(sshd.child);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("a person creates the hub and pushes both branches; izzit7 and soda-yeti join with their own keys; an order for izzit7 completes", async () => {
    const seed = join(root, "seed", "fleet.git");
    expect((await cli("hub", "create", seed)).code).toBe(0);
    await gitWith({ GIT_SSH_COMMAND: sshAs(PERSON) }, root, "-C", seed, "push", "--quiet", url, "main", "coord");

    for (const name of MACHINES) {
      const init = await coordAs(name, "init", dirOf(name), "--name", name, "--remote", url);
      expect(init, init.err).toMatchObject({ code: 0 });
      // From now on the checkout names its key itself, as a deploy key's machine would (docs/security.md).
      await gitWith({}, dirOf(name), "config", "core.sshCommand", sshAs(name));
    }

    const person = dirOf("person");
    await gitWith({}, root, "clone", "--quiet", "-b", "main", "-c", `core.sshCommand=${sshAs(PERSON)}`, url, person);
    await gitWith({}, person, "config", "user.name", "Alice");
    await gitWith({}, person, "config", "user.email", "alice@example.com");
    const orders = { $schema: "coordination/orders.schema.json", version: 1, orders: [{ id: "hello", to: "izzit7", run: "echo hello from izzit7" }] };
    await writeFile(join(person, "ORDERS.json"), `${JSON.stringify(orders, null, 2)}\n`);
    await gitWith({}, person, ...AS_PERSON, "commit", "--quiet", "-am", "orders: hello");
    await gitWith({}, person, "push", "--quiet", "origin", "main");

    const status = async () => JSON.parse(await gitWith({}, served, "show", "coord:STATUS.json"));
    await until(
      "hello completed on the hub",
      async () => (await status()).orders.hello?.state === "completed",
      async () => {
        for (const name of MACHINES) {
          const sync = await cli("sync", "--dir", dirOf(name));
          expect(sync, sync.err).toMatchObject({ code: 0 });
        }
      },
    );
    const done = await status();
    expect(done.orders.hello.machines.izzit7.state).toBe("completed");
    expect(Object.keys(done.machines).sort()).toEqual([...MACHINES].sort());
  });

  it("izzit7's message reaches soda-yeti; izzit7 may not write soda-yeti's file: gitolite says DENIED", async () => {
    const sent = await cli("send", "soda-yeti", "hello over gitolite", "--priority", "urgent", "--now", "--dir", dirOf("izzit7"));
    expect(sent, sent.err).toMatchObject({ code: 0 });
    const channel = "coord:coordination/messages/izzit7_TO_soda-yeti.md";
    await until(
      "izzit7's message on the hub",
      async () => (await gitTry({}, served, "show", channel)).ok && (await gitWith({}, served, "show", channel)).includes("hello over gitolite"),
      () => cli("sync", "--no-run", "--dir", dirOf("izzit7")),
    );
    expect((await cli("sync", "--dir", dirOf("soda-yeti"))).code).toBe(0);
    expect((await cli("inbox", "--dir", dirOf("soda-yeti"))).out).toContain("hello over gitolite");
    // Its wake went with it (the documented rules allow refs/coord-wake/), and no warning said otherwise.
    expect(await gitWith({}, served, "for-each-ref", "--format=%(refname)", "refs/coord-wake")).toContain("refs/coord-wake/soda-yeti\n");
    expect(sent.err).not.toMatch(/refused the wake refs/);

    // A raw push, from izzit7's checkout with izzit7's key, of coord's tip with soda-yeti's file changed.
    const a = dirOf("izzit7");
    await gitWith({}, a, "fetch", "--quiet", "origin", "coord");
    const index = { GIT_INDEX_FILE: join(root, "forged.index") };
    const blob = (await run("sh", ["-c", "printf 'forged by izzit7\\n' | git hash-object -w --stdin"], { cwd: a, timeout: 30_000 })).stdout.trim();
    await gitWith(index, a, "read-tree", "FETCH_HEAD");
    await gitWith(index, a, "update-index", "--cacheinfo", `100644,${blob},coordination/COMPUTER_soda-yeti.md`);
    const tree = (await gitWith(index, a, "write-tree")).trim();
    const forged = (await gitWith({}, a, ...AS_PERSON, "commit-tree", tree, "-p", "FETCH_HEAD", "-m", "forged")).trim();
    const push = await gitTry({}, a, "push", "origin", `${forged}:refs/heads/coord`);
    expect(push.ok).toBe(false);
    expect(push.err).toMatch(/FATAL: W VREF\/NAME\/coordination\/COMPUTER_soda-yeti\.md fleet izzit7 DENIED by VREF\/NAME\//);
    expect(await gitWith({}, served, "rev-parse", "coord")).not.toContain(forged);
    // coord doctor's real push (an empty commit on a ref of izzit7's own) passes the same path rules, and is gone after.
    const doctor = await cli("doctor", "--json", "--dir", a);
    const line = (JSON.parse(doctor.out) as { name: string; level: string; detail: string }[]).find((c) => c.name === "push");
    expect(line?.level, line?.detail).toBe("OK");
    expect(await gitWith({}, served, "for-each-ref", "refs/coord-doctor")).toBe("");
  });

  it("izzit7 may not write main: coord order add --human says so and how; from the person's clone it lands, and runs", async () => {
    const a = dirOf("izzit7");
    await gitWith({}, a, "config", "user.name", "Alice");
    await gitWith({}, a, "config", "user.email", "alice@example.com");
    const main = (await gitWith({}, served, "rev-parse", "main")).trim();
    const refused = await cli("order", "add", "--human", "--dir", a, "--to", "soda-yeti", "--id", "from-alice", "--", "echo from alice");
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("the hub refused this push of main (W refs/heads/main fleet izzit7 DENIED by fallthru");
    expect(refused.err).toContain("may not write ORDERS.json, which is how it should be on a machine");
    expect(refused.err).toContain(`add the order from a person's clone: git clone -b main ${url} fleet`);
    expect((await gitWith({}, served, "rev-parse", "main")).trim()).toBe(main);

    const person = dirOf("person");
    const added = await cli("order", "add", "--human", "--dir", person, "--to", "soda-yeti", "--id", "from-alice", "--", "echo from alice");
    expect(added, added.err).toMatchObject({ code: 0 });
    await until(
      "from-alice completed on the hub",
      async () => JSON.parse(await gitWith({}, served, "show", "coord:STATUS.json")).orders["from-alice"]?.state === "completed",
      () => cli("sync", "--dir", dirOf("soda-yeti")),
    );
  });

  it("coord's bounded history is replaced through the path rules: a forced push with a lease, of the machine's own paths", async () => {
    const person = dirOf("person");
    await gitWith({}, person, "pull", "--quiet", "--ff-only", "origin", "main");
    const orders = JSON.parse(await readFile(join(person, "ORDERS.json"), "utf8"));
    await writeFile(join(person, "ORDERS.json"), `${JSON.stringify({ ...orders, hub: { statusHistory: 10 } }, null, 2)}\n`);
    await gitWith({}, person, ...AS_PERSON, "commit", "--quiet", "-am", "hub: statusHistory 10");
    await gitWith({}, person, "push", "--quiet", "origin", "main");
    // (Urgent messages: a publish of one goes at once, whatever the fleet's push budget holds back.)
    // Ten publishes' worth of history at once: a person's commit on coord (people may push it) whose mark says
    // coord is 10 deep, so that the next publish passes the limit (the mark is what machines count by).
    await gitWith({}, person, "fetch", "--quiet", "origin", "coord");
    const deep = `a person's commit\n\nCoord-History: 10 ${new Date().toISOString()}`;
    const marked = (await gitWith({}, person, ...AS_PERSON, "commit-tree", "FETCH_HEAD^{tree}", "-p", "FETCH_HEAD", "-m", deep)).trim();
    await gitWith({}, person, "push", "--quiet", "origin", `${marked}:refs/heads/coord`);
    const rootBefore = (await gitWith({}, served, "rev-list", "--max-parents=0", "coord")).trim();

    const said: string[] = [];
    let n = 0;
    await until(
      "coord replaced by a new root",
      async () => (await gitWith({}, served, "rev-list", "--max-parents=0", "coord")).trim() !== rootBefore,
      async () => {
        const sent = await cli("send", "soda-yeti", `message ${++n}`, "--priority", "urgent", "--now", "--dir", dirOf("izzit7"));
        expect(sent, sent.err).toMatchObject({ code: 0 });
        said.push(sent.out, sent.err);
      },
    );
    const root = (await gitWith({}, served, "rev-list", "--max-parents=0", "coord")).trim();
    expect(await gitWith({}, served, "log", "-1", "--format=%an%n%B", root)).toMatch(/^coord izzit7\n[\s\S]*^Coord-History: 1 /m);
    expect(said.join("\n")).not.toMatch(/refused|DENIED/);
    // The new root holds every file: soda-yeti's among them, untouched, and every message arrives.
    expect(await gitWith({}, served, "show", `${root}:coordination/COMPUTER_soda-yeti.md`)).toContain("soda-yeti");
    await until(
      "every message at soda-yeti",
      async () => {
        const inbox = (await cli("inbox", "--all", "--dir", dirOf("soda-yeti"))).out;
        return Array.from({ length: n }, (_, i) => `message ${i + 1}`).every((m) => inbox.includes(m));
      },
      async () => {
        await cli("sync", "--no-run", "--dir", dirOf("izzit7"));
        await cli("sync", "--dir", dirOf("soda-yeti"));
      },
    );
  });
});
