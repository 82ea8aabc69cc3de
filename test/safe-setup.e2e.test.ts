// docs/security.md, "The threat model, and signed orders", walked through literally, as a new user on
// fresh machines would: a hub made with `coord hub create`, a person's clone made with `git clone`,
// machines made with `coord init`, and from then on only the commands the doc names, run as a user runs
// them (the CLI, git, ssh-keygen). Each step asserts what the doc promises of it:
//   1. a person's clone signs its commits with an SSH key (git config, as the doc says);
//   2. every machine allows that key and requires signed orders: an unsigned change of ORDERS.json is
//      refused, runs nothing and is shown in STATUS.md; a signed one runs;
//   3. a machine that delegates orders signs them with the key coord init made: they run where its
//      machine_key.pub is allowed, and are refused where it is not;
//   4. coord trust verify lists the unsigned commit and exits 1; coord trust status says what it acts on;
//   5. a secret set on the machine (value on stdin) reaches the task and never the repository;
//   6. allowedRoots in machine.yaml: a task whose cwd is outside fails without running;
//   7. the hub's credentials (a machine may push coord but not main): not covered here, since it is the
//      host's rules, not coord's; test/main-refused.e2e.test.ts holds a hub to that.
// Then "Machine keys (on by default)" (a plain coord init and a sync publish and pin every machine's key)
// and "Reinstalling a machine" (with a copy of its key nothing changes for the others; without it, they
// refuse its commits until a person pins the new key).
// A fleet that several tests start from (the safe setup of steps 1-2, a plain one, one that loses a machine) is walked
// through once per file and copied for each of them (cp -a, the clones' paths rewritten): the same files as the
// walk makes, without walking it again for every test.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { FleetTemplates } from "./fleet-copy.js";
import { cli, cliExec, type Fleet, git, hasSshKeygen, hubFile, hubStatus, ordersText, readLines, sshKey, tempDir } from "./helpers.js";
import { patient } from "./patience.js";

const haveSshKeygen = await hasSshKeygen();

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.cleanup();
  fleet = undefined;
});

const ALICE = "alice@example.com";
const MALLORY = "mallory@example.com";
const KEY_LINE = /^ {2}"key": "ssh-ed25519 [A-Za-z0-9+/=]+",?$/m;

/** A fleet as a new user makes one: the hub, a person's clone of it, and one `coord init` per machine. */
interface NewFleet extends Fleet {
  /** The private key of the person (alice) who gives orders, when her clone signs (step 1). */
  alice?: string;
  /** A clone of someone who can push but signs nothing. */
  mallory: string;
  /** Where the tasks of these tests write what ran. */
  ran: string;
}

/** Runs a coord command in-process and expects it to succeed; its output. */
async function coord(...argv: string[]): Promise<string> {
  const r = await cli(...argv);
  expect(r.code, `coord ${argv.join(" ")}: ${r.err}`).toBe(0);
  return r.out;
}

/**
 * `coord hub create`, `git clone -b main` for the person, `coord init` for each machine. With `signing`, step 1
 * first: the person makes an SSH key and configures her clone to sign every commit. The person's first commit
 * gives the fleet a push budget of a server with no limit (a test syncs in bursts far above a real fleet's).
 */
async function newFleet(names: string[], opts: { signing: boolean }): Promise<NewFleet> {
  const root = await tempDir("coord-safe-setup-");
  const f: NewFleet = {
    root,
    remote: join(root, "hub.git"),
    hubPath: join(root, "hub.git"),
    machines: {},
    person: join(root, "alice"),
    mallory: join(root, "mallory"),
    ran: join(root, "ran.log"),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
  fleet = f;
  await coord("hub", "create", f.hubPath);
  await git(root, "clone", "--quiet", "-b", "main", f.hubPath, f.person);
  await git(root, "clone", "--quiet", "-b", "main", f.hubPath, f.mallory);
  await git(f.person, "config", "user.name", "Alice");
  await git(f.person, "config", "user.email", ALICE);
  if (opts.signing) {
    // Step 1: her key (as ssh-keygen makes ~/.ssh/id_ed25519), and her clone signs every commit with it.
    await mkdir(join(root, "alice-ssh"));
    f.alice = await sshKey(join(root, "alice-ssh"), "id_ed25519");
    await git(f.person, "config", "gpg.format", "ssh");
    await git(f.person, "config", "user.signingkey", `${f.alice}.pub`);
    await git(f.person, "config", "commit.gpgsign", "true");
  }
  await aliceOrders(f, [], "a push budget for a test fleet");
  for (const name of names) {
    f.machines[name] = join(root, name);
    await coord("init", f.machines[name], "--name", name, "--remote", f.remote);
  }
  return f;
}

/** The person edits ORDERS.json in her clone with plain git: commit (signed when her clone signs), push; the commit. */
async function aliceOrders(f: NewFleet, orders: object[], message = "orders"): Promise<string> {
  await git(f.person, "pull", "--quiet", "--ff-only", "origin", "main");
  await writeFile(join(f.person, "ORDERS.json"), ordersText(orders));
  await git(f.person, "add", "ORDERS.json");
  await git(f.person, "commit", "--quiet", "-m", message);
  await git(f.person, "push", "--quiet", "origin", "HEAD:main");
  return (await git(f.person, "rev-parse", "HEAD")).trim();
}

/** Someone who can push, but has no allowed key, changes ORDERS.json: unsigned; the commit. */
async function malloryOrders(f: NewFleet, orders: object[]): Promise<string> {
  await git(f.mallory, "pull", "--quiet", "--ff-only", "origin", "main");
  await writeFile(join(f.mallory, "ORDERS.json"), ordersText(orders));
  await git(f.mallory, "add", "ORDERS.json");
  await git(f.mallory, "-c", "user.name=Mallory", "-c", `user.email=${MALLORY}`, "commit", "--quiet", "-m", "orders");
  await git(f.mallory, "push", "--quiet", "origin", "HEAD:main");
  return (await git(f.mallory, "rev-parse", "HEAD")).trim();
}

/** `coord sync` on a machine, as its cron or daemon would. */
async function sync(f: NewFleet, name: string): Promise<void> {
  await coord("sync", "--dir", f.machines[name]!);
}

/** An order whose task appends its id to the fleet's ran.log. */
const order = (f: NewFleet, id: string, to: string, more: Record<string, unknown> = {}) => ({ id, to, run: `echo ${id} >> ${f.ran}`, ...more });

/** The fleets several tests start from: each walked through once per file (by the steps, as a new user makes one), copied for each test. */
const templates = new FleetTemplates();
afterAll(() => templates.cleanup());
async function copyOf<T extends NewFleet>(kind: string, walk: () => Promise<T>): Promise<T> {
  const build = async () => {
    const t = await walk(); // a failed walk is removed as the test's fleet (newFleet set it)
    fleet = undefined; // the file's, removed after its last test
    return t;
  };
  fleet = await templates.copy(kind, build, "coord-safe-setup-");
  return fleet as T;
}

/** Steps 1 and 2 on a new fleet (a copy of the one the file made): the person signs, and every machine allows her key and requires signed orders. */
async function safeFleet(names: string[]): Promise<NewFleet & { alice: string }> {
  return copyOf(`safe ${names.join(" ")}`, () => walkSafeFleet(names));
}
async function walkSafeFleet(names: string[]): Promise<NewFleet & { alice: string }> {
  const f = await newFleet(names, { signing: true });
  for (const name of names) {
    const dir = f.machines[name]!;
    expect(await coord("trust", "allow", ALICE, `${f.alice}.pub`, "--dir", dir)).toMatch(/alice@example\.com/);
    expect(await coord("trust", "require", "on", "--dir", dir)).toMatch(/acts only on orders signed by an allowed signer \(1 in /);
  }
  for (const name of names) await sync(f, name);
  return f as NewFleet & { alice: string };
}

describe.skipIf(!haveSshKeygen)(haveSshKeygen ? "the safe setup, step by step" : "the safe setup, step by step (skipped: ssh-keygen is not installed)", () => {
  it("steps 1-2: the person's clone signs with her SSH key; every machine that allows it and requires signing runs her orders and refuses an unsigned change, shown in STATUS.md", {
    timeout: patient(90_000),
  }, async () => {
    const f = await safeFleet(["izzit7", "soda-yeti"]);
    // Step 1: her clone signs every commit, with git config alone: the budget commit is signed by her key.
    const first = await git(f.person, "cat-file", "commit", "HEAD");
    expect(first).toMatch(/^gpgsig -----BEGIN SSH SIGNATURE-----$/m);
    const signers = join(f.root, "allowed_signers");
    await writeFile(signers, `${ALICE} ${(await readFile(`${f.alice}.pub`, "utf8")).trim()}\n`);
    expect(await git(f.person, "-c", `gpg.ssh.allowedSignersFile=${signers}`, "log", "-1", "--format=%G? %GS")).toBe(`G ${ALICE}\n`);

    // Step 2: the allowed signers live in each machine's own .git/coord/allowed_signers, not in the repository.
    for (const dir of Object.values(f.machines)) {
      expect(await readFile(join(dir, ".git", "coord", "allowed_signers"), "utf8")).toContain((await readFile(`${f.alice}.pub`, "utf8")).split(" ")[1]);
      expect(await coord("trust", "status", "--dir", dir)).toMatch(/^signed orders: required$/m);
    }
    expect(await git(f.hubPath, "ls-tree", "-r", "--name-only", "main")).not.toMatch(/allowed_signers/);
    expect(await git(f.hubPath, "ls-tree", "-r", "--name-only", "coord")).not.toMatch(/allowed_signers/);

    const budget = (await git(f.person, "rev-parse", "HEAD")).trim(); // her signed commit, which the machines verified
    // An unsigned change of ORDERS.json: refused by both, nothing runs, both refusals in STATUS.md.
    const unsigned = await malloryOrders(f, [order(f, "unsigned-a", "izzit7"), order(f, "unsigned-b", "soda-yeti")]);
    for (const name of ["izzit7", "soda-yeti"]) await sync(f, name);
    expect(await readLines(f.ran)).toEqual([]);
    const status = await hubFile(f, "STATUS.md");
    for (const name of ["izzit7", "soda-yeti"])
      expect(status).toContain(
        `${name} refused ORDERS.json commit ${unsigned.slice(0, 12)} by Mallory &lt;${MALLORY.replace("@", "\\@")}&gt;: not signed; acting on the version of commit ${budget.slice(0, 12)}`,
      );

    // Her signed change runs on each machine.
    await aliceOrders(f, [order(f, "signed-a", "izzit7"), order(f, "signed-b", "soda-yeti")]);
    for (const name of ["izzit7", "soda-yeti"]) await sync(f, name);
    expect((await readLines(f.ran)).sort()).toEqual(["signed-a", "signed-b"]);
    expect(await hubFile(f, "STATUS.md")).not.toMatch(/refused ORDERS\.json/);
    expect((await hubStatus(f)).errors).toEqual([]);
  });

  it("step 3: a delegated order, signed with the key coord init made, is refused where its machine_key.pub is not allowed and runs once it is", {
    timeout: patient(90_000),
  }, async () => {
    const f = await safeFleet(["izzit7", "soda-yeti"]);
    const [me, delegating] = [f.machines.izzit7!, f.machines["soda-yeti"]!];
    // The key coord init made: private in .git/coord/machine_key, public beside it and in its machine file.
    const pub = (await readFile(join(delegating, ".git", "coord", "machine_key.pub"), "utf8")).trim();
    expect(pub).toMatch(/^ssh-ed25519 /);
    expect(await hubFile(f, "coordination/COMPUTER_soda-yeti.md")).toContain(`"key": "${pub.split(" ").slice(0, 2).join(" ")}"`);

    await coord("order", "add", "--dir", delegating, "--to", "izzit7", "--id", "delegated", "--run", `echo delegated >> ${f.ran}`);
    await sync(f, "soda-yeti");
    // Its commit of its orders file is signed with that key.
    expect(await git(f.hubPath, "log", "-1", "--format=%an", "coord", "--", "coordination/orders/soda-yeti.json")).toBe("coord soda-yeti\n");
    expect(await git(f.hubPath, "cat-file", "commit", "coord")).toMatch(/^gpgsig -----BEGIN SSH SIGNATURE-----$/m);

    // Without its key among izzit7's allowed signers: refused, nothing runs, shown in STATUS.md.
    await sync(f, "izzit7");
    expect(await readLines(f.ran)).toEqual([]);
    expect(await hubFile(f, "STATUS.md")).toMatch(
      /izzit7 refused coordination\/orders\/soda-yeti\.json commit [0-9a-f]{12} by coord soda-yeti \S+: signed by a key that is not an allowed signer/,
    );

    // Allowed on izzit7 (coord trust allow <machine> <its machine_key.pub>): it runs there.
    await coord("trust", "allow", "soda-yeti", join(delegating, ".git", "coord", "machine_key.pub"), "--dir", me);
    await sync(f, "izzit7");
    expect(await readLines(f.ran)).toEqual(["delegated"]);
    await sync(f, "soda-yeti");
    expect((await hubStatus(f)).orders.delegated?.machines.izzit7?.state).toBe("completed");
    expect(await hubFile(f, "STATUS.md")).not.toMatch(/izzit7 refused coordination\/orders\/soda-yeti\.json/);
    // soda-yeti, which requires signed orders too, acts on its own delegated orders as its local state has them: it
    // never refuses its own file (its key need not be allowed on itself).
    expect(await hubFile(f, "STATUS.md")).not.toMatch(/refused coordination\/orders\/soda-yeti\.json/);
  });

  it("step 4: coord trust verify lists the unsigned commit with FAIL and exits 1; coord trust status says what the machine acts on", { timeout: patient(90_000) }, async () => {
    const f = await safeFleet(["izzit7", "soda-yeti"]);
    const dir = f.machines.izzit7!;
    const unsigned = await malloryOrders(f, [order(f, "unsigned", "izzit7")]);
    await sync(f, "izzit7");
    const signed = await aliceOrders(f, [order(f, "signed", "izzit7")]);
    await sync(f, "izzit7");
    expect(await readLines(f.ran)).toEqual(["signed"]);

    const verify = await cli("trust", "verify", "--dir", dir);
    expect(verify.code).toBe(1);
    const lines = verify.out.split("\n");
    const orders = lines.filter((l) => / ORDERS\.json /.test(l));
    // Newest first: her fix, mallory's change, her budget commit, the hub's scaffold (made by coord hub create, unsigned:
    // every unsigned commit of ORDERS.json is named, so trust verify exits 1 on any hub coord created; docs/security.md).
    expect(orders).toEqual([
      `OK    ${signed.slice(0, 12)}  ORDERS.json  Alice <${ALICE}>: signed by ${ALICE}`,
      `FAIL  ${unsigned.slice(0, 12)}  ORDERS.json  Mallory <${MALLORY}>: not signed`,
      expect.stringMatching(new RegExp(`^OK {4}[0-9a-f]{12} {2}ORDERS\\.json {2}Alice <${ALICE}>: signed by ${ALICE}$`)),
      expect.stringMatching(/^FAIL {2}[0-9a-f]{12} {2}ORDERS\.json {2}coord hub <hub@coord\.invalid>: not signed$/),
    ]);
    // The machines' own files: signed by the keys coord init made, checked against the key pinned here.
    const machineFiles = lines.filter((l) => /coordination\/COMPUTER_soda-yeti\.md/.test(l));
    expect(machineFiles.length).toBeGreaterThan(0);
    expect(machineFiles.filter((l) => l.startsWith("FAIL"))).toEqual([]);
    expect(machineFiles.some((l) => l.startsWith("OK"))).toBe(true);

    const status = await coord("trust", "status", "--dir", dir);
    expect(status).toMatch(/^signed orders: required$/m);
    expect(status).toMatch(/^ {2}alice@example\.com {2}SHA256:[A-Za-z0-9+/]{43}$/m);
    expect(status).toContain(`acting on ORDERS.json of commit ${signed.slice(0, 12)}`);
    expect(status).toMatch(/^this machine signs its commits with \S*machine_key \(SHA256:\S+\)$/m);
    expect(status).toMatch(/^ {2}pinned soda-yeti {2}SHA256:/m);
  });

  it("step 5: a secret set on the machine from stdin reaches the task that names it; the repository never holds it", { timeout: patient(90_000) }, async () => {
    const f = await safeFleet(["izzit7", "soda-yeti"]); // the safe fleet of steps 1-2; soda-yeti has no part here
    const dir = f.machines.izzit7!;
    const VALUE = `dpl-${"Qw7".repeat(8)}`; // no known token shape: only the store makes it secret
    const set = await cliExec(["secret", "set", "deploy-token", "-", "--dir", dir], Buffer.from(`${VALUE}\n`));
    expect(set).toMatchObject({ code: 0, out: "secret deploy-token set in .git/coord/secrets.yaml\n" });
    expect((await stat(join(dir, ".git", "coord", "secrets.yaml"))).mode & 0o777).toBe(0o600);

    const seen = join(f.root, "seen.txt");
    const orders = [{ id: "deploy", to: "izzit7", env: { TOKEN: { secret: "deploy-token" } }, run: `printf %s "$TOKEN" > ${seen}; echo "deploying with $TOKEN"` }];
    // coord validate has nothing to warn of: the orders name the secret, they do not hold it.
    await writeFile(join(f.root, "check.json"), ordersText(orders));
    expect(await cli("validate", join(f.root, "check.json"))).toMatchObject({ code: 0, err: "" });
    await aliceOrders(f, orders);
    await sync(f, "izzit7");
    expect(await readFile(seen, "utf8")).toBe(VALUE);
    expect((await hubStatus(f)).orders.deploy?.machines.izzit7?.state).toBe("completed");
    expect(await hubFile(f, "coordination/COMPUTER_izzit7.md")).toContain("deploying with [REDACTED]");

    // Not in any commit of the hub (both branches, every file, every version), nor in the checkout's files.
    const history = await git(f.hubPath, "log", "-p", "--all", "--format=%H %an %s%n%b");
    expect(history).toContain("deploying with [REDACTED]");
    expect(history).not.toContain(VALUE);
    expect(await git(dir, "grep", "-I", "-c", VALUE, "HEAD").catch(() => "")).toBe("");
    expect(await git(dir, "status", "--porcelain", "--ignored")).not.toContain("secrets");

    // A value still written in ORDERS.json is what coord validate warns of.
    await writeFile(join(f.root, "check.json"), ordersText([{ ...orders[0], env: { TOKEN: { value: VALUE, secret: true } } }]));
    const warned = await cli("validate", join(f.root, "check.json"));
    expect(warned.code).toBe(0);
    expect(warned.err).toMatch(/^warning: .*orders\[0\]\.env\.TOKEN: .*sits in plain text in the repository.*coord secret set/);
  });

  it("step 6: with allowedRoots in machine.yaml, a task whose cwd is outside fails without running; inside, it runs", { timeout: patient(90_000) }, async () => {
    const f = await safeFleet(["izzit7", "soda-yeti"]); // the safe fleet of steps 1-2; soda-yeti has no part here
    const dir = f.machines.izzit7!;
    const [work, elsewhere] = [join(f.root, "work"), join(f.root, "elsewhere")];
    await mkdir(work);
    await mkdir(elsewhere);
    // By hand, as the machine's user edits .git/coord/machine.yaml.
    const yaml = join(dir, ".git", "coord", "machine.yaml");
    await writeFile(yaml, `${await readFile(yaml, "utf8")}allowedRoots:\n  - ${work}\n`);
    await aliceOrders(f, [order(f, "inside", "izzit7", { cwd: work }), order(f, "outside", "izzit7", { cwd: elsewhere })]);
    await sync(f, "izzit7");
    expect(await readLines(f.ran)).toEqual(["inside"]);
    const orders = (await hubStatus(f)).orders;
    expect(orders.inside?.machines.izzit7?.state).toBe("completed");
    expect(orders.outside?.machines.izzit7).toMatchObject({ state: "failed", exitCode: null, reason: `cwd ${elsewhere} is outside this machine's allowedRoots: ${work}` });
  });
});

/** The SHA256 fingerprint ssh-keygen gives a public key file (the doc: coord trust status shows the same). */
async function fingerprint(pubFile: string): Promise<string> {
  const { stdout } = await promisify(execFile)("ssh-keygen", ["-lf", pubFile]);
  return /(SHA256:\S+)/.exec(stdout)![1]!;
}

/** An SSH public key's SHA256 fingerprint, computed as ssh-keygen -lf does (no ssh-keygen needed). */
function sha256Fingerprint(publicKey: string): string {
  return `SHA256:${createHash("sha256")
    .update(Buffer.from(publicKey.split(" ")[1]!, "base64"))
    .digest("base64")
    .replace(/=+$/, "")}`;
}

/** The machine `of`'s key as `reader` has it pinned (its fingerprint, from coord trust status). */
async function pinned(reader: string, of: string): Promise<string | undefined> {
  return new RegExp(`^ {2}pinned ${of} {2}(SHA256:\\S+)$`, "m").exec(await coord("trust", "status", "--dir", reader))?.[1];
}

/** A fleet of plain `coord init`s (no signed orders) where izzit7, then soda-yeti, synced once (a copy of the one the file made). */
const defaultFleet = () =>
  copyOf("default", async () => {
    const f = await newFleet(["izzit7", "soda-yeti"], { signing: false });
    for (const name of ["izzit7", "soda-yeti"]) await sync(f, name);
    return f;
  });

describe("machine keys, on by default", () => {
  it("after a plain coord init and a sync, every machine file shows its key and each machine pins the other's", { timeout: patient(90_000) }, async () => {
    const f = await defaultFleet();
    for (const name of ["izzit7", "soda-yeti"]) {
      const pub = (await readFile(join(f.machines[name]!, ".git", "coord", "machine_key.pub"), "utf8")).trim().split(" ").slice(0, 2).join(" ");
      const file = await hubFile(f, `coordination/COMPUTER_${name}.md`);
      expect(file).toMatch(KEY_LINE);
      expect(file).toContain(`"key": "${pub}"`);
    }
    // soda-yeti synced after izzit7 published its key: it pinned it (and izzit7 pins soda-yeti at its next sync).
    expect(await pinned(f.machines["soda-yeti"]!, "izzit7")).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    await sync(f, "izzit7");
    expect(await pinned(f.machines.izzit7!, "soda-yeti")).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    // coord trust status shows the key as its SHA256 fingerprint, the one ssh-keygen -lf gives.
    const izzit7Pub = join(f.machines.izzit7!, ".git", "coord", "machine_key.pub");
    expect(await pinned(f.machines["soda-yeti"]!, "izzit7")).toBe(sha256Fingerprint(await readFile(izzit7Pub, "utf8")));
    if (haveSshKeygen) expect(await pinned(f.machines["soda-yeti"]!, "izzit7")).toBe(await fingerprint(izzit7Pub));
    const status = await hubFile(f, "STATUS.md");
    expect(status).not.toMatch(/signs? nothing/);
    expect(status).not.toMatch(/refused/);
  });
});

describe("reinstalling a machine", () => {
  /** A default fleet whose machines have synced and pinned each other's keys; then izzit7's checkout is lost (a copy of the one the file made). */
  const fleetThatLosesIzzit7 = () => copyOf("loses izzit7", walkFleetThatLosesIzzit7);
  async function walkFleetThatLosesIzzit7(): Promise<NewFleet & { backup: string }> {
    const f = await defaultFleet();
    await sync(f, "izzit7");
    expect(await pinned(f.machines["soda-yeti"]!, "izzit7")).toBeDefined();
    // The copy kept of its key, stored as SSH keys are (used by the test that reinstalls with it).
    const backup = join(f.root, "backup", "izzit7_key");
    await mkdir(join(f.root, "backup"));
    await copyFile(join(f.machines.izzit7!, ".git", "coord", "machine_key"), backup);
    await chmod(backup, 0o600);
    await rm(f.machines.izzit7!, { recursive: true, force: true });
    return { ...f, backup };
  }

  it("with a copy of its key (--reclaim --key): the other machine goes on reading its files, nothing to do there", { timeout: patient(90_000) }, async () => {
    const f = await fleetThatLosesIzzit7();
    const other = f.machines["soda-yeti"]!;
    const before = await pinned(other, "izzit7");
    const fresh = join(f.root, "izzit7-reinstalled");
    await coord("init", fresh, "--name", "izzit7", "--remote", f.remote, "--reclaim", "--key", f.backup);
    f.machines.izzit7 = fresh;
    // a runs on the reinstalled izzit7; b, on soda-yeti, waits for a: it runs only if soda-yeti believes izzit7's file.
    await aliceOrders(f, [order(f, "a", "izzit7"), order(f, "b", "soda-yeti", { after: ["a"] })]);
    for (const name of ["izzit7", "soda-yeti"]) await sync(f, name);
    expect(await readLines(f.ran)).toEqual(["a", "b"]);
    expect(await pinned(other, "izzit7")).toBe(before);
    expect(await hubFile(f, "STATUS.md")).not.toMatch(/refused/);
    expect((await hubStatus(f)).orders.b?.machines["soda-yeti"]?.state).toBe("completed");
  });

  it("without the copy (plain --reclaim): the other machine refuses its commits, says so in STATUS.md, until a person pins the new key there", {
    timeout: patient(90_000),
  }, async () => {
    const f = await fleetThatLosesIzzit7();
    const other = f.machines["soda-yeti"]!;
    const before = await pinned(other, "izzit7");
    const fresh = join(f.root, "izzit7-reinstalled");
    await coord("init", fresh, "--name", "izzit7", "--remote", f.remote, "--reclaim");
    f.machines.izzit7 = fresh;
    await aliceOrders(f, [order(f, "a", "izzit7"), order(f, "b", "soda-yeti", { after: ["a"] })]);
    for (const name of ["izzit7", "soda-yeti"]) await sync(f, name);
    expect(await readLines(f.ran)).toEqual(["a"]); // b waits: soda-yeti does not believe izzit7's completion of a
    expect(await hubFile(f, "STATUS.md")).toMatch(
      /soda-yeti refused coordination\/COMPUTER_izzit7\.md commit [0-9a-f]{12} by coord izzit7 \S+: signed by a key that is not an allowed signer/,
    );
    expect(await pinned(other, "izzit7")).toBe(before); // never pinned by itself

    // The new key: in its file, and (as its fingerprint, to compare) in coord trust status there.
    const file = await hubFile(f, "coordination/COMPUTER_izzit7.md");
    const key = /^ {2}"key": "(ssh-ed25519 [A-Za-z0-9+/=]+)"/m.exec(file)?.[1];
    expect(key).toBeDefined();
    expect(await coord("trust", "status", "--dir", fresh)).toMatch(/^this machine signs its commits with \S*machine_key \(SHA256:\S+\)$/m);
    expect(await coord("trust", "pin", "izzit7", key!, "--dir", other)).toMatch(/izzit7's key re-pinned/);
    expect(await pinned(other, "izzit7")).not.toBe(before);
    for (const name of ["soda-yeti", "izzit7"]) await sync(f, name);
    expect(await readLines(f.ran)).toEqual(["a", "b"]);
    expect(await hubFile(f, "STATUS.md")).not.toMatch(/refused/);
  });

  // docs/security.md: the new key is in its file and, as its fingerprint, in coord trust status there.
  it("without the copy: coord trust status on the reinstalled machine shows its new key (as its SHA256 fingerprint), as the doc says", { timeout: patient(90_000) }, async () => {
    const f = await fleetThatLosesIzzit7();
    const fresh = join(f.root, "izzit7-reinstalled");
    await coord("init", fresh, "--name", "izzit7", "--remote", f.remote, "--reclaim");
    f.machines.izzit7 = fresh;
    await sync(f, "izzit7");
    const key = /^ {2}"key": "(ssh-ed25519 [A-Za-z0-9+/=]+)"/m.exec(await hubFile(f, "coordination/COMPUTER_izzit7.md"))![1]!;
    const status = await coord("trust", "status", "--dir", fresh);
    expect(status.includes(key) || status.includes(sha256Fingerprint(key))).toBe(true);
  });
});
