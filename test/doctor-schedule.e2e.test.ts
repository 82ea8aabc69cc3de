// coord doctor and coord cron on real git: fleets from makeFleet, and
// stand-ins for crontab (a table in a temp file) and systemctl (logs its
// arguments) put first on PATH, so nothing of this machine's is touched.
import { execFile } from "node:child_process";
import { chmod, mkdir, readFile, realpath, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { doctor, doctorExitCode, formatChecks, type Check } from "../src/commands/doctor.js";
import { schedule, scheduleStatus, formatSchedule } from "../src/actions/schedule.js";
import { init } from "../src/actions/init.js";
import { tryLock } from "../src/state/lock.js";
import { CLI, cli, git, makeFleet, setConfig, tempDir, type Fleet } from "./helpers.js";

const run = promisify(execFile);

/** Stand-ins on PATH and a private XDG_CONFIG_HOME, restored after each test. */
interface Box {
  bin: string;
  table: string;
  crontabCalls: string;
  systemctlCalls: string;
  xdg: string;
}

const saved = { PATH: process.env.PATH, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
/** Temp dirs of one test, removed after it. */
const scratch: string[] = [];
async function scratchDir(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  scratch.push(dir);
  return dir;
}

async function makeBox(): Promise<Box> {
  const root = await scratchDir("coord-box-");
  const bin = join(root, "bin");
  await mkdir(bin);
  const box: Box = { bin, table: join(root, "crontab.txt"), crontabCalls: join(root, "crontab.calls"), systemctlCalls: join(root, "systemctl.calls"), xdg: join(root, "xdg") };
  await writeFile(
    join(bin, "crontab"),
    `#!/bin/sh
T='${box.table}'
echo "$*" >> '${box.crontabCalls}'
case "$1" in
  -l) [ -f "$T" ] || { echo "no crontab for $(id -un)" >&2; exit 1; }; cat "$T" ;;
  -) cat > "$T.new" && mv "$T.new" "$T" ;;
  *) echo "crontab stand-in: unsupported $*" >&2; exit 2 ;;
esac
`,
  );
  await writeFile(join(bin, "systemctl"), `#!/bin/sh\necho "$*" >> '${box.systemctlCalls}'\n`);
  await chmod(join(bin, "crontab"), 0o755);
  await chmod(join(bin, "systemctl"), 0o755);
  process.env.PATH = `${bin}:${saved.PATH}`;
  process.env.XDG_CONFIG_HOME = box.xdg;
  return box;
}

async function restoreEnv(): Promise<void> {
  for (const dir of scratch.splice(0)) await rm(dir, { recursive: true, force: true });
  process.env.PATH = saved.PATH;
  if (saved.XDG_CONFIG_HOME === undefined) delete process.env.XDG_CONFIG_HOME;
  else process.env.XDG_CONFIG_HOME = saved.XDG_CONFIG_HOME;
}

/** A PATH with git and nothing else: no crontab, no systemctl. */
async function gitOnlyPath(): Promise<string> {
  const dir = await scratchDir("coord-gitonly-");
  const gitPath = (await run("sh", ["-c", "command -v git"])).stdout.trim();
  await symlink(gitPath, join(dir, "git"));
  return dir;
}

const readOr = (p: string, d = "") => readFile(p, "utf8").catch(() => d);
const byName = (checks: Check[], name: string) => checks.filter((c) => c.name === name);
const one = (checks: Check[], name: string) => {
  const found = byName(checks, name);
  expect(found, `one ${name} check in\n${formatChecks(checks)}`).toHaveLength(1);
  return found[0]!;
};
const coordLines = (table: string) => table.split("\n").filter((l) => /# coord:/.test(l));

const UNRELATED = "0 3 * * * /usr/local/bin/backup --all  # someone else's";

describe("coord doctor", () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await makeFleet(["alpha", "beta"]);
  });
  afterAll(async () => fleet.cleanup());
  // A stand-in crontab and systemctl on PATH for each test (makeBox sets the environment).
  beforeEach(async () => {
    await makeBox();
  });
  afterEach(restoreEnv);

  it("is all OK on a healthy fleet but for the schedule, which is OK once installed", async () => {
    const checks = await doctor({ dir: fleet.machines.alpha! });
    const text = formatChecks(checks);
    expect(checks.map((c) => c.name)).toEqual([
      "git",
      "config",
      "remote",
      "branch",
      "push",
      "budget",
      "clock",
      "identity",
      "signing",
      "github",
      "sandbox",
      "lock",
      "schedule",
      "agents",
      "checkout",
    ]);
    for (const c of checks) if (c.name !== "schedule") expect(c.level, text).toBe("OK");
    // A hub on a path: no host to spare, so no read budget (the test fleet sets its pushes); a daemon looks once a second (core/hub/reads.ts).
    expect(one(checks, "budget").detail).toMatch(
      /hub\.git: 100000 pushes a minute \(ORDERS\.json\) and no read budget \(a hub on this machine's disk: no host to spare\); a daemon here takes a look every 1 s/,
    );
    const sched = one(checks, "schedule");
    expect(sched.level).toBe("WARN");
    expect(sched.fix).toContain("coord cron install");
    expect(doctorExitCode(checks)).toBe(0);
    expect(text).toMatch(/^OK {3}git {7}\d+\.\d+/m);
    expect(text).toMatch(/^ +fix: coord daemon install \(or coord cron install\)$/m);
    expect(one(checks, "clock").detail).toMatch(/agrees with beta/);
    expect(one(checks, "github").detail).toMatch(/^not Verified on GitHub: its commits are signed, but by alpha@coord\.invalid/);
    expect(one(checks, "agents").detail).toMatch(/supported: claude, codex, opencode, cursor, gemini/);

    await schedule({ dir: fleet.machines.alpha!, action: "install" });
    const after = await doctor({ dir: fleet.machines.alpha! });
    expect(one(after, "schedule")).toMatchObject({ level: "OK", detail: "crontab: */5 * * * *" });
    await schedule({ dir: fleet.machines.alpha!, action: "uninstall" });
  });

  it("tests the push with a real push of a ref of its own that leaves no ref on the hub", async () => {
    const refs = () => git(fleet.hubPath, "for-each-ref", "--format=%(refname) %(objectname)");
    const before = await refs();
    const checks = await doctor({ dir: fleet.machines.alpha! });
    expect(one(checks, "push")).toMatchObject({ level: "OK" });
    expect(one(checks, "push").detail).toContain("refs/coord-doctor/alpha");
    expect(await refs()).toBe(before);
    expect(before).not.toContain("coord-doctor");
    // nor in the checkout
    expect(await git(fleet.machines.alpha!, "for-each-ref")).not.toContain("coord-doctor");
  });

  it("warns about a clock behind another machine, and says when skew cannot be measured", async () => {
    // As of 10 minutes before beta's newest commit (made when the fleet was, minutes ago on a loaded machine).
    const betaAt = Number((await git(fleet.hubPath, "log", "-1", "--format=%ct", "--committer=coord beta", "coord")).trim()) * 1000;
    expect(betaAt).toBeGreaterThan(0);
    const behind = await doctor({ dir: fleet.machines.alpha!, now: new Date(betaAt - 10 * 60_000) });
    expect(one(behind, "clock")).toMatchObject({ level: "WARN" });
    expect(one(behind, "clock").detail).toMatch(/beta is dated \d+ min in the future/);
    expect(one(behind, "clock").fix).toContain("timedatectl set-ntp true");
    expect(doctorExitCode(behind)).toBe(0);
    const later = await doctor({ dir: fleet.machines.alpha!, now: new Date(betaAt + 2 * 3600_000) });
    expect(one(later, "clock")).toMatchObject({ level: "OK", detail: "cannot be measured: no other machine committed in the last hour" });
  });

  it("says when a sync is running", async () => {
    const lock = await tryLock(join(fleet.machines.alpha!, ".git", "coord"));
    expect(lock).toBeDefined();
    try {
      const checks = await doctor({ dir: fleet.machines.alpha! });
      expect(one(checks, "lock")).toMatchObject({ level: "OK", detail: "a sync is running in this checkout now" });
    } finally {
      await lock!.release();
    }
  });

  it("warns about a leftover index.lock and a merge in progress", async () => {
    const dir = fleet.machines.beta!;
    await writeFile(join(dir, ".git", "index.lock"), "");
    const head = (await git(dir, "rev-parse", "HEAD")).trim();
    await writeFile(join(dir, ".git", "MERGE_HEAD"), head + "\n");
    try {
      const checks = await doctor({ dir });
      const found = byName(checks, "checkout");
      expect(found.map((c) => c.level)).toEqual(["WARN", "WARN"]);
      expect(found[0]!.detail).toContain("index.lock is left over");
      expect(found[0]!.fix).toContain(`coord sync removes it once it is a minute old; or, if no git command is running in ${dir}: rm ${join(dir, ".git", "index.lock")}`);
      expect(found[1]!.fix).toMatch(new RegExp(`^coord sync aborts it .*; or: git -C ${dir} merge --abort$`));
      expect(doctorExitCode(checks)).toBe(0);
    } finally {
      await git(dir, "update-ref", "-d", "MERGE_HEAD").catch(() => {});
      await run("rm", ["-f", join(dir, ".git", "index.lock"), join(dir, ".git", "MERGE_HEAD")]);
    }
  });

  it("fails when the name is owned by another uuid", async () => {
    const dir = fleet.machines.beta!;
    const yaml = await readFile(join(dir, ".git", "coord", "machine.yaml"), "utf8");
    await setConfig(dir, { uuid: "00000000-0000-4000-8000-000000000000" });
    try {
      const checks = await doctor({ dir });
      const id = one(checks, "identity");
      expect(id.level).toBe("FAIL");
      expect(id.detail).toMatch(/the name beta is owned by another machine \(uuid [0-9a-f-]{36}/);
      expect(id.fix).toContain("--reclaim");
      expect(doctorExitCode(checks)).toBe(1);
    } finally {
      await writeFile(join(dir, ".git", "coord", "machine.yaml"), yaml);
    }
  });

  it("quotes another machine's file at the tip (not yet verified by a sync) with its escapes and bidi controls written as \\u", async () => {
    const dir = fleet.machines.beta!;
    const yaml = await readFile(join(dir, ".git", "coord", "machine.yaml"), "utf8");
    await setConfig(dir, { uuid: "00000000-0000-4000-8000-000000000000" });
    // Someone with push access rewrites beta's file on the hub, with a terminal escape and an override in its uuid.
    const clone = await tempDir("forger-");
    await git(clone, "clone", "--quiet", "--branch", "coord", fleet.hubPath, ".");
    const path = join(clone, "coordination", "COMPUTER_beta.md");
    const text = await readFile(path, "utf8");
    const forged = text.replace(/"uuid": "[^"]*"/, String.raw`"uuid": "x\u001b]0;pwned\u0007\u202eevil"`);
    expect(forged).not.toBe(text);
    await writeFile(path, forged);
    await git(clone, "-c", "user.name=x", "-c", "user.email=x@example.com", "commit", "--quiet", "-am", "forged");
    await git(clone, "push", "--quiet", "origin", "coord");
    await git(dir, "fetch", "--quiet", "origin");
    try {
      const id = one(await doctor({ dir }), "identity");
      expect(id.detail).toContain("x\\u001b]0;pwned\\u0007\\u202eevil");
      expect(formatChecks([id])).not.toMatch(/[\u001b\u0007\u202e]/);
    } finally {
      await writeFile(join(dir, ".git", "coord", "machine.yaml"), yaml);
    }
  });

  it("fails on a directory that is not a checkout, with the coord init fix", async () => {
    const empty = await scratchDir("coord-empty-");
    const checks = await doctor({ dir: empty });
    expect(one(checks, "config")).toMatchObject({ level: "FAIL" });
    expect(one(checks, "config").fix).toMatch(/^coord init /);
    expect(checks.map((c) => c.name)).toEqual(["git", "config", "agents"]);
    expect(doctorExitCode(checks)).toBe(1);
  });

  // last: it moves the hub away
  it("fails when the remote is gone", async () => {
    await rename(fleet.hubPath, fleet.hubPath + ".gone");
    try {
      const checks = await doctor({ dir: fleet.machines.alpha! });
      const remote = one(checks, "remote");
      expect(remote.level).toBe("FAIL");
      expect(remote.detail).toContain("could not reach the remote");
      expect(remote.fix).toContain("fetch origin");
      expect(byName(checks, "branch")).toHaveLength(0);
      expect(byName(checks, "push")).toHaveLength(0);
      expect(doctorExitCode(checks)).toBe(1);
      expect(formatChecks(checks)).toMatch(/^FAIL remote {4}could not reach/m);
    } finally {
      await rename(fleet.hubPath + ".gone", fleet.hubPath);
    }
  });
});

describe("coord cron", () => {
  let fleet: Fleet;
  let box: Box;
  beforeAll(async () => {
    fleet = await makeFleet(["alpha", "beta"]);
  });
  afterAll(async () => fleet.cleanup());
  beforeEach(async () => {
    box = await makeBox();
  });
  afterEach(restoreEnv);

  it("prints the crontab line with absolute node and coord paths", async () => {
    const dir = fleet.machines.alpha!;
    const r = await schedule({ dir, action: "print" });
    const checkout = await realpath(dir);
    expect(r.line).toBe(
      `*/5 * * * * PATH=${process.env.PATH} ${process.execPath} ${await realpath(CLI)} sync --scheduled --dir ${checkout} >> ${join(checkout, ".git", "coord", "cron.log")} 2>&1  # coord:alpha:${checkout}`,
    );
    expect(formatSchedule(r)).toBe(r.line);
    expect(await readOr(box.crontabCalls)).toBe(""); // print does not even read the crontab
  });

  it("installs once (twice leaves one line), keeps other lines, replaces on a new schedule, uninstalls only its own line", async () => {
    const dir = fleet.machines.alpha!;
    await writeFile(box.table, `MAILTO=""\n${UNRELATED}\n`);

    const first = await schedule({ dir, action: "install" });
    expect(first.changed).toBe(true);
    const second = await schedule({ dir, action: "install" });
    expect(second.changed).toBe(false);
    let table = await readFile(box.table, "utf8");
    expect(table.split("\n").slice(0, 2)).toEqual(['MAILTO=""', UNRELATED]);
    expect(coordLines(table)).toEqual([first.line]);
    expect((await scheduleStatus(dir)).cron).toBe(first.line);

    // another machine's checkout on the same box has its own line
    await schedule({ dir: fleet.machines.beta!, action: "install" });
    const changed = await schedule({ dir, action: "install", schedule: "*/2  * * * *" });
    table = await readFile(box.table, "utf8");
    expect(coordLines(table)).toHaveLength(2);
    expect(coordLines(table)[0]).toBe(changed.line);
    expect(changed.line).toMatch(/^\*\/2 \* \* \* \* /);

    const gone = await schedule({ dir, action: "uninstall" });
    expect(gone.changed).toBe(true);
    table = await readFile(box.table, "utf8");
    expect(table).toContain(UNRELATED);
    expect(table).toContain('MAILTO=""');
    expect(coordLines(table)).toHaveLength(1);
    expect(coordLines(table)[0]).toContain("# coord:beta:");
    expect((await scheduleStatus(dir)).cron).toBeUndefined();
    const again = await schedule({ dir, action: "uninstall" });
    expect(again.changed).toBe(false);
    expect(again.notes.join()).toContain("nothing to remove");
    await schedule({ dir: fleet.machines.beta!, action: "uninstall" });
    expect(await readFile(box.table, "utf8")).toBe(`MAILTO=""\n${UNRELATED}\n`);
  });

  it("starts from no crontab at all", async () => {
    const r = await schedule({ dir: fleet.machines.alpha!, action: "install" });
    expect(await readFile(box.table, "utf8")).toBe(r.line + "\n");
    await schedule({ dir: fleet.machines.alpha!, action: "uninstall" });
    expect(await readFile(box.table, "utf8")).toBe("");
  });

  it("--dry-run changes nothing", async () => {
    const dir = fleet.machines.alpha!;
    await writeFile(box.table, `${UNRELATED}\n`);
    const r = await schedule({ dir, action: "install", dryRun: true });
    expect(r.changed).toBe(true);
    expect(r.crontab).toBe(`${UNRELATED}\n${r.line}\n`);
    expect(await readFile(box.table, "utf8")).toBe(`${UNRELATED}\n`);
    expect(await readOr(box.crontabCalls)).toBe("-l\n");
    expect(formatSchedule(r)).toContain("would write this crontab");

    await schedule({ dir, action: "install" });
    const installed = await readFile(box.table, "utf8");
    const u = await schedule({ dir, action: "uninstall", dryRun: true });
    expect(u.crontab).toBe(`${UNRELATED}\n`);
    expect(await readFile(box.table, "utf8")).toBe(installed);
    await schedule({ dir, action: "uninstall" });
  });

  it("without crontab on PATH says so and suggests --systemd", async () => {
    process.env.PATH = await gitOnlyPath();
    await expect(schedule({ dir: fleet.machines.alpha!, action: "install" })).rejects.toThrow(/no crontab command on PATH.*--systemd/);
    expect((await scheduleStatus(fleet.machines.alpha!)).notes).toEqual(["no crontab command on PATH"]);
    // A dry run still shows the line it would write.
    const dry = await schedule({ dir: fleet.machines.alpha!, action: "install", dryRun: true });
    expect(dry.crontab).toBe(dry.line + "\n");
    expect(dry.notes.join(" ")).toMatch(/no crontab command on PATH/);
    // init --cron registers the machine either way, and says so.
    const dir = join(fleet.root, "delta");
    const r = await cli("init", dir, "--name", "delta", "--remote", fleet.remote, "--cron");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^coord: registered machine delta in ${dir}, but the schedule was not installed: no crontab command on PATH`));
    expect(await git(fleet.remote, "cat-file", "-e", "coord:coordination/COMPUTER_delta.md").then(() => true)).toBe(true);
  });

  it("refuses a checkout whose path ends in a space (its line could not be found again), with one sentence", async () => {
    const dir = join(fleet.root, "fleet ");
    await init({ dir, name: "spacey", remote: fleet.remote });
    await expect(schedule({ dir, action: "install", dryRun: true })).rejects.toThrow(
      /the path of the checkout \(".*fleet "\) has a newline, a % or a space at an end, which a schedule cannot hold; move it/,
    );
  });

  it("refuses a schedule that is not five cron fields", async () => {
    await expect(schedule({ dir: fleet.machines.alpha!, action: "print", schedule: "every 5 minutes" })).rejects.toThrow(/not a cron schedule/);
  });

  it("the line works from cron's bare environment, even with a space and a quote in the checkout's path", async () => {
    const dir = join(fleet.root, "it's a checkout");
    await init({ dir, name: "gamma", remote: fleet.remote });
    const r = await schedule({ dir, action: "print" });
    const command = r.line!.split(" ").slice(5).join(" ");
    const shell = await run("/bin/sh", ["-c", command], { env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME!, GIT_CONFIG_NOSYSTEM: "1" } });
    expect(shell.stderr).toBe("");
    const cronLog = join(dir, ".git", "coord", "cron.log");
    const log = await readFile(cronLog, "utf8");
    expect(log).toMatch(/gamma: (published|up to date)/);
    // cron.log stays bounded: past 1 MiB the next run moves it to cron.log.1 (writing its own output there).
    await writeFile(cronLog, "old line\n".repeat(120_000), { flag: "a" });
    await run("/bin/sh", ["-c", command], { env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME!, GIT_CONFIG_NOSYSTEM: "1" } });
    await run("/bin/sh", ["-c", command], { env: { PATH: "/usr/bin:/bin", HOME: process.env.HOME!, GIT_CONFIG_NOSYSTEM: "1" } });
    const old = await readFile(cronLog + ".1", "utf8");
    expect(old.startsWith(log)).toBe(true);
    expect(old).toMatch(/old line\n[\s\S]*gamma: up to date/);
    const fresh = await readFile(cronLog, "utf8");
    expect(fresh).toMatch(/gamma: up to date, nothing to publish\n$/);
    expect(fresh.length).toBeLessThan(1000);
  });
});

describe("coord cron --systemd", () => {
  let fleet: Fleet;
  let box: Box;
  beforeAll(async () => {
    fleet = await makeFleet(["alpha"]);
  });
  afterAll(async () => fleet.cleanup());
  beforeEach(async () => {
    box = await makeBox();
  });
  afterEach(restoreEnv);

  const unitDir = () => join(box.xdg, "systemd", "user");

  it("installs a service and a timer, enables it, and uninstalls it", async () => {
    const dir = fleet.machines.alpha!;
    const checkout = await realpath(dir);
    const dry = await schedule({ dir, action: "install", systemd: true, dryRun: true });
    expect(dry.files.map((f) => f.path)).toEqual([join(unitDir(), "coord-alpha.service"), join(unitDir(), "coord-alpha.timer")]);
    expect(await readOr(join(unitDir(), "coord-alpha.timer"), "none")).toBe("none");
    expect(await readOr(box.systemctlCalls)).toBe("");

    const r = await schedule({ dir, action: "install", systemd: true, schedule: "*/10 * * * *" });
    const service = await readFile(join(unitDir(), "coord-alpha.service"), "utf8");
    const timer = await readFile(join(unitDir(), "coord-alpha.timer"), "utf8");
    expect(service).toContain(`ExecStart=${process.execPath} ${await realpath(CLI)} sync --scheduled --dir ${checkout}\n`);
    expect(service).toContain(`Environment=PATH=${process.env.PATH}\n`); // git and agent CLIs found as from the installing shell
    expect(service).toContain("Type=oneshot");
    expect(timer).toContain("OnBootSec=1min\nOnUnitActiveSec=10min\n");
    expect(timer).toContain("Unit=coord-alpha.service");
    expect(timer).toContain("WantedBy=timers.target");
    expect(service + timer).not.toMatch(/\{\{/);
    expect(await readFile(box.systemctlCalls, "utf8")).toBe("--user daemon-reload\n--user enable --now coord-alpha.timer\n");
    expect(r.commands).toEqual(["systemctl --user daemon-reload", "systemctl --user enable --now coord-alpha.timer"]);
    expect((await scheduleStatus(dir)).systemd).toBe(join(unitDir(), "coord-alpha.timer"));
    const checks = await doctor({ dir });
    expect(one(checks, "schedule")).toMatchObject({ level: "OK" });

    await writeFile(box.systemctlCalls, "");
    const u = await schedule({ dir, action: "uninstall", systemd: true });
    expect(u.changed).toBe(true);
    expect(await readOr(join(unitDir(), "coord-alpha.timer"), "none")).toBe("none");
    expect(await readOr(join(unitDir(), "coord-alpha.service"), "none")).toBe("none");
    expect(await readFile(box.systemctlCalls, "utf8")).toBe("--user disable --now coord-alpha.timer\n--user daemon-reload\n");
    expect((await scheduleStatus(dir)).systemd).toBeUndefined();
    expect((await schedule({ dir, action: "uninstall", systemd: true })).changed).toBe(false);
  });

  it("says which schedules a timer can be made from", async () => {
    await expect(schedule({ dir: fleet.machines.alpha!, action: "print", systemd: true, schedule: "30 3 * * *" })).rejects.toThrow(/\*\/N \* \* \* \*.*use cron/);
    const hourly = await schedule({ dir: fleet.machines.alpha!, action: "print", systemd: true, schedule: "0 */2 * * *" });
    expect(hourly.files[1]!.content).toContain("OnUnitActiveSec=2h");
  });

  it("writes the units with a note when systemctl is missing", async () => {
    process.env.PATH = await gitOnlyPath();
    const dir = fleet.machines.alpha!;
    const r = await schedule({ dir, action: "install", systemd: true });
    expect(r.commands).toEqual([]);
    expect(r.notes.join("\n")).toContain("systemctl is not on PATH: run systemctl --user daemon-reload && systemctl --user enable --now coord-alpha.timer");
    expect(await readFile(join(unitDir(), "coord-alpha.timer"), "utf8")).toContain("OnUnitActiveSec=5min");
    const u = await schedule({ dir, action: "uninstall", systemd: true });
    expect(u.notes.join("\n")).toContain("systemctl is not on PATH");
    expect(await readOr(join(unitDir(), "coord-alpha.timer"), "none")).toBe("none");
  });

  it("refuses to overwrite the units of another checkout of the same machine name", async () => {
    const other = await makeFleet(["alpha"]);
    try {
      await schedule({ dir: other.machines.alpha!, action: "install", systemd: true });
      await expect(schedule({ dir: fleet.machines.alpha!, action: "install", systemd: true })).rejects.toThrow(/schedules another checkout of machine alpha/);
      await schedule({ dir: other.machines.alpha!, action: "uninstall", systemd: true });
    } finally {
      await other.cleanup();
    }
  });
});
