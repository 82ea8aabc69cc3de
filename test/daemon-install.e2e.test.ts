// coord daemon install / uninstall on real git and real processes: the crontab
// fallback on the real crontab binary (the crontab of user nobody, as root;
// restored after each test), the systemd user unit with a stand-in systemctl
// (no user manager runs in a test), the launchd plist in a temp HOME; and what
// coord doctor says of each.
import { execFile } from "node:child_process";
import { access, chmod, mkdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse as parsePlist } from "plist";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { daemonService, formatService, LINGER_DIR } from "../src/actions/daemon-service.js";
import { type Check, doctor, formatChecks } from "../src/commands/doctor.js";
import { daemonUnitName, launchdLabel, scheduledTaskName } from "../src/core/setup/daemon-service.js";
import { daemonRunning, readDaemonInfo, startDaemon, stopDaemon } from "../src/daemon/daemon.js";
import { cli, type Fleet, makeFleet, tempDir, waitFor } from "./helpers.js";

const run = promisify(execFile);
const saved = { PATH: process.env.PATH, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
const scratch: string[] = [];
async function scratchDir(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  scratch.push(dir);
  return dir;
}
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
const schedule = (checks: Check[]) => {
  const found = checks.filter((c) => c.name === "schedule");
  expect(found, formatChecks(checks)).toHaveLength(1);
  return found[0]!;
};
const stateDir = (dir: string) => join(dir, ".git", "coord");

async function restore(dirs: string[]): Promise<void> {
  for (const dir of dirs) await stopDaemon({ dir, timeout: 30 }).catch(() => undefined);
  for (const dir of scratch.splice(0)) await rm(dir, { recursive: true, force: true });
  process.env.PATH = saved.PATH;
  if (saved.XDG_CONFIG_HOME === undefined) delete process.env.XDG_CONFIG_HOME;
  else process.env.XDG_CONFIG_HOME = saved.XDG_CONFIG_HOME;
}

// ------------------------------------------------------------------ crontab

const REAL_CRONTAB = "/usr/bin/crontab";
const CRON_USER = "nobody";
const isRoot = process.getuid?.() === 0;
const hasCrontab = await exists(REAL_CRONTAB);
if (!isRoot || !hasCrontab)
  console.log(
    `skipped: the crontab fallback on a real crontab needs root and ${REAL_CRONTAB} (apt install cron): it edits the crontab of user ${CRON_USER} and restores it, never the user's own`,
  );

describe.skipIf(!isRoot || !hasCrontab)("coord daemon install: the crontab fallback on a real crontab", () => {
  let fleet: Fleet;
  let before: string | undefined;
  const crontabOf = async () => (await run(REAL_CRONTAB, ["-u", CRON_USER, "-l"]).catch(() => ({ stdout: "" }))).stdout;
  const ours = (table: string) => table.split("\n").filter((l) => l.includes("# coord-daemon:"));
  const writeTable = async (table: string) => {
    const child = execFile(REAL_CRONTAB, ["-u", CRON_USER, "-"]);
    child.stdin!.end(table);
    await new Promise((r) => child.on("close", r));
  };
  const UNRELATED = "17 4 * * * /bin/true  # someone else's";

  beforeAll(async () => {
    fleet = await makeFleet(["alpha"]);
  });
  afterAll(async () => fleet.cleanup());
  beforeEach(async () => {
    before = await run(REAL_CRONTAB, ["-u", CRON_USER, "-l"]).then(
      (r) => r.stdout,
      () => undefined,
    );
    // `crontab` on PATH is the real one, pointed at nobody's crontab.
    const bin = join(await scratchDir("coord-cronbin-"), "bin");
    await mkdir(bin);
    await writeFile(join(bin, "crontab"), `#!/bin/sh\nexec ${REAL_CRONTAB} -u ${CRON_USER} "$@"\n`);
    await chmod(join(bin, "crontab"), 0o755);
    process.env.PATH = `${bin}:${saved.PATH}`;
    process.env.XDG_CONFIG_HOME = await scratchDir("coord-xdg-");
  });
  afterEach(async () => {
    await restore([fleet.machines.alpha!]);
    if (before === undefined) await run(REAL_CRONTAB, ["-u", CRON_USER, "-r"]).catch(() => undefined);
    else await writeTable(before);
    expect(ours(await crontabOf())).toEqual(ours(before ?? ""));
  });

  it("writes two lines once, starts the daemon, restarts it after a kill -9, and uninstall removes the lines and stops it", async () => {
    const dir = fleet.machines.alpha!;
    const checkout = await realpath(dir);
    await writeTable(`${UNRELATED}\n`);
    const dry = await daemonService({ dir, action: "install", kind: "cron", dryRun: true });
    expect(dry.lines).toHaveLength(2);
    expect(await crontabOf()).toBe(`${UNRELATED}\n`);
    expect(await daemonRunning(stateDir(dir))).toBe(false);
    expect(formatService(dry)).toContain("would write these crontab lines:");

    const first = await daemonService({ dir, action: "install", kind: "cron" });
    expect(first.changed).toBe(true);
    const table = await crontabOf();
    expect(table.startsWith(`${UNRELATED}\n`)).toBe(true);
    expect(ours(table)).toEqual(first.lines);
    expect(first.lines[0]).toMatch(new RegExp(`^@reboot PATH=.* daemon start --if-not-running --dir ${checkout} >> .*daemon.out 2>&1  # coord-daemon:alpha:${checkout}$`));
    expect(first.lines[1]).toMatch(/^\*\/5 \* \* \* \* PATH=/);
    expect(await daemonRunning(stateDir(dir))).toBe(true);
    const pid = (await readDaemonInfo(stateDir(dir)))!.pid;
    expect(first.notes.join("\n")).toContain(`started the daemon (pid ${pid})`);

    const second = await daemonService({ dir, action: "install", kind: "cron" });
    expect(second.changed).toBe(false);
    expect(await crontabOf()).toBe(table);
    expect(second.notes.join("\n")).toContain(`the daemon already runs (pid ${pid})`);
    expect(schedule(await doctor({ dir }))).toMatchObject({ level: "OK" });
    expect(schedule(await doctor({ dir })).detail).toContain(`crontab lines start it at reboot and every 5 minutes if it died; running now (pid ${pid}`);

    // The line as cron runs it (a bare environment): with the daemon running, it exits 0 and says nothing.
    const command = first.lines[1]!.split(" ").slice(5).join(" ");
    const bare = { PATH: "/usr/bin:/bin", HOME: process.env.HOME!, GIT_CONFIG_NOSYSTEM: "1" };
    const again = await run("/bin/sh", ["-c", command.replace(/ >> \S+ 2>&1$/, "")], { env: bare });
    expect(again).toMatchObject({ stdout: "", stderr: "" }); // quiet: nothing for the log
    expect((await readDaemonInfo(stateDir(dir)))!.pid).toBe(pid);
    // and from the command line: --if-not-running exits 0 in silence, plain start refuses with exit 2
    expect(await cli("daemon", "start", "--if-not-running", "--dir", dir)).toMatchObject({ code: 0, out: "" });
    expect(await cli("daemon", "start", "--dir", dir)).toMatchObject({ code: 2 });

    // A crash: the next run of the line starts a new one.
    process.kill(pid, "SIGKILL");
    await waitFor(async () => !(await daemonRunning(stateDir(dir))), 10_000, "the killed daemon to be seen gone");
    const down = schedule(await doctor({ dir }));
    expect(down).toMatchObject({ level: "WARN" });
    expect(down.detail).toContain("but it is not running now");
    await run("/bin/sh", ["-c", command], { env: bare });
    expect(await daemonRunning(stateDir(dir))).toBe(true);
    expect((await readDaemonInfo(stateDir(dir)))!.pid).not.toBe(pid);

    const gone = await daemonService({ dir, action: "uninstall" });
    expect(gone.removed).toEqual(["cron"]);
    expect(gone.lines).toEqual(first.lines);
    expect(await crontabOf()).toBe(`${UNRELATED}\n`);
    expect(await daemonRunning(stateDir(dir))).toBe(false);
    expect(gone.notes.join("\n")).toMatch(/stopped the daemon \(pid \d+\) the crontab had started/);
    const after = schedule(await doctor({ dir }));
    expect(after).toMatchObject({ level: "WARN" });
    expect(after.fix).toContain("coord daemon install");
    const nothing = await daemonService({ dir, action: "uninstall" });
    expect(nothing.changed).toBe(false);
    expect(nothing.notes.join()).toContain("nothing to remove");
  });

  it("chooses the crontab where the user's systemd does not answer", async () => {
    const bin = process.env.PATH!.split(":")[0]!;
    await writeFile(join(bin, "systemctl"), `#!/bin/sh\necho "Failed to connect to bus: No medium found" >&2\nexit 1\n`);
    await chmod(join(bin, "systemctl"), 0o755);
    const r = await daemonService({ dir: fleet.machines.alpha!, action: "install", dryRun: true, platform: "linux" });
    expect(r.kind).toBe("cron");
    expect(r.notes.join("\n")).toContain("systemctl --user does not answer (Failed to connect to bus: No medium found): the crontab keeps the daemon running instead");
  });
});

// ------------------------------------------------------------------ systemd

describe("coord daemon install: the systemd user unit (a stand-in systemctl)", () => {
  let fleet: Fleet;
  let box: { bin: string; calls: string; active: string; enabled: string; xdg: string };
  beforeAll(async () => {
    fleet = await makeFleet(["alpha"]);
  });
  afterAll(async () => fleet.cleanup());
  beforeEach(async () => {
    const root = await scratchDir("coord-systemd-");
    box = { bin: join(root, "bin"), calls: join(root, "calls"), active: join(root, "active"), enabled: join(root, "enabled"), xdg: join(root, "xdg") };
    await mkdir(box.bin);
    // Answers like a user manager: is-active / is-enabled print what the files say.
    await writeFile(
      join(box.bin, "systemctl"),
      `#!/bin/sh
echo "$*" >> '${box.calls}'
case "$2" in
  is-active) s=$(cat '${box.active}' 2>/dev/null || echo inactive); echo "$s"; [ "$s" = active ] ;;
  is-enabled) s=$(cat '${box.enabled}' 2>/dev/null || echo disabled); echo "$s"; [ "$s" = enabled ] ;;
  *) exit 0 ;;
esac
`,
    );
    await chmod(join(box.bin, "systemctl"), 0o755);
    process.env.PATH = `${box.bin}:${saved.PATH}`;
    process.env.XDG_CONFIG_HOME = box.xdg;
  });
  afterEach(() => restore([fleet.machines.alpha!]));

  it("writes the unit, stops a daemon started by hand, enables it; twice is the same; uninstall disables and removes it", async () => {
    const dir = fleet.machines.alpha!;
    const checkout = await realpath(dir);
    const unit = daemonUnitName({ machine: "alpha", checkout });
    const path = join(box.xdg, "systemd", "user", unit);

    const dry = await daemonService({ dir, action: "install", dryRun: true, platform: "linux" });
    expect(dry.kind).toBe("systemd");
    expect(await exists(path)).toBe(false);
    expect(formatService(dry)).toContain(`would write ${path}:`);

    await writeFile(box.calls, "");
    const pid = await startDaemon({ dir });
    const r = await daemonService({ dir, action: "install", schedule: "*/10 * * * *", platform: "linux" });
    expect(r.kind).toBe("systemd");
    expect(r.changed).toBe(true);
    const text = await readFile(path, "utf8");
    expect(text).toContain(`ExecStart=${process.execPath} `);
    expect(text).toContain(` daemon run --dir ${checkout} --schedule "*/10 * * * *"\n`);
    expect(text).toContain("Restart=on-failure\n");
    expect(r.notes.join("\n")).toContain(`stopped the daemon running outside the service (pid ${pid})`);
    expect(await daemonRunning(stateDir(dir))).toBe(false);
    expect(r.commands).toEqual(["systemctl --user daemon-reload", `systemctl --user enable --now ${unit}`]);
    const calls = (await readFile(box.calls, "utf8")).split("\n").filter((l) => l && l !== "--user show-environment");
    expect(calls).toEqual([`--user is-active ${unit}`, "--user daemon-reload", `--user enable --now ${unit}`]);
    const linger = await exists(join(LINGER_DIR, process.env.USER || process.env.LOGNAME || "root"));
    if (!linger) expect(r.notes.join("\n")).toMatch(/lingering is off for .*: loginctl enable-linger /);

    // Installed again as it is: the same file, nothing restarted.
    await writeFile(box.active, "active");
    await writeFile(box.enabled, "enabled");
    const again = await daemonService({ dir, action: "install", schedule: "*/10 * * * *", platform: "linux" });
    expect(again.changed).toBe(false);
    expect(await readFile(path, "utf8")).toBe(text);
    expect(again.commands).not.toContain(`systemctl --user restart ${unit}`);
    // A new schedule restarts the running unit.
    const changed = await daemonService({ dir, action: "install", platform: "linux" });
    expect(changed.commands).toContain(`systemctl --user restart ${unit}`);

    const ok = schedule(await doctor({ dir }));
    if (linger) expect(ok).toMatchObject({ level: "OK", detail: `coord daemon: systemd user service ${unit}, enabled and active: started at boot, restarted on failure` });
    else expect(ok).toMatchObject({ level: "WARN", fix: expect.stringMatching(/^loginctl enable-linger /) });
    await writeFile(box.active, "failed");
    const failed = schedule(await doctor({ dir }));
    expect(failed.level).toBe("WARN");
    expect(failed.fix).toBe(`journalctl --user -u ${unit} says why; then systemctl --user reset-failed ${unit} && systemctl --user start ${unit}`);
    await writeFile(box.enabled, "disabled");
    expect(schedule(await doctor({ dir })).detail).toContain("is installed but disabled, so it does not start at boot");

    await writeFile(box.calls, "");
    const gone = await daemonService({ dir, action: "uninstall" });
    expect(gone.removed).toEqual(["systemd"]);
    expect(await exists(path)).toBe(false);
    expect(await readFile(box.calls, "utf8")).toContain(`--user disable --now ${unit}\n`);
    expect(formatService(gone)).toContain(`remove ${path}`);
    expect(schedule(await doctor({ dir })).fix).toContain("coord daemon install");
  });

  it("writes the unit with a note when the user's systemd does not answer, and doctor says so", async () => {
    const dir = fleet.machines.alpha!;
    await writeFile(join(box.bin, "systemctl"), `#!/bin/sh\necho "Failed to connect to bus" >&2\nexit 1\n`);
    const r = await daemonService({ dir, action: "install", kind: "systemd", platform: "linux" });
    expect(r.commands).toEqual([]);
    expect(r.notes.join("\n")).toContain(
      "systemctl --user does not answer (Failed to connect to bus): the unit is written; run systemctl --user daemon-reload && systemctl --user enable --now",
    );
    const check = schedule(await doctor({ dir }));
    expect(check).toMatchObject({ level: "WARN" });
    expect(check.detail).toMatch(/is installed, but systemctl --user does not answer/);
    await daemonService({ dir, action: "uninstall" });
    expect(r.files.map((f) => exists(f.path))).toHaveLength(1);
    expect(await exists(r.files[0]!.path)).toBe(false);
  });
});

// ------------------------------------------------------------------ launchd

describe("coord daemon install: the launchd plist (written here, loaded on a Mac)", () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await makeFleet(["alpha"]);
  });
  afterAll(async () => fleet.cleanup());
  afterEach(() => restore([fleet.machines.alpha!]));

  it("writes a plist that keeps the daemon alive, and uninstall removes it", async () => {
    const dir = fleet.machines.alpha!;
    const checkout = await realpath(dir);
    const home = await scratchDir("coord-home-");
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, ".config") };
    const r = await daemonService({ dir, action: "install", platform: "darwin", env });
    expect(r.kind).toBe("launchd");
    const path = join(home, "Library", "LaunchAgents", `${launchdLabel({ machine: "alpha", checkout })}.plist`);
    expect(r.files.map((f) => f.path)).toEqual([path]);
    const p = parsePlist(await readFile(path, "utf8")) as Record<string, unknown>;
    expect(p).toMatchObject({ RunAtLoad: true, KeepAlive: { SuccessfulExit: false }, Label: launchdLabel({ machine: "alpha", checkout }) });
    expect((p.ProgramArguments as string[]).slice(2)).toEqual(["daemon", "run", "--dir", checkout]);
    expect(r.notes.join("\n")).toContain("no launchctl here: the plist is written; on the Mac run launchctl bootstrap gui/");
    expect(schedule(await doctor({ dir, env }))).toMatchObject({ level: "OK", detail: expect.stringContaining(`launchd agent ${path}`) });
    expect((await daemonService({ dir, action: "install", platform: "darwin", env })).changed).toBe(false);

    const gone = await daemonService({ dir, action: "uninstall", platform: "darwin", env });
    expect(gone.removed).toEqual(["launchd"]);
    expect(await exists(path)).toBe(false);
  });

  it("loads it through launchctl (a stand-in on PATH that records its arguments), carries the CLIs' state variables, and doctor reads launchctl print", async () => {
    const dir = fleet.machines.alpha!;
    const checkout = await realpath(dir);
    const home = await scratchDir("coord-home-");
    const bin = await scratchDir("coord-launchctl-");
    const calls = join(bin, "calls");
    const loaded = join(bin, "loaded");
    // launchctl as macOS answers: print exits 113 for a job that is not loaded; bootstrap loads it, bootout unloads it.
    await writeFile(
      join(bin, "launchctl"),
      `#!/bin/sh\necho "$*" >> '${calls}'\ncase "$1" in\n  print) [ -f '${loaded}' ] || { echo "Could not find service" >&2; exit 113; }\n    printf 'gui/501/x = {\\n\\tstate = running\\n\\tpid = 4242\\n}\\n';;\n  bootstrap) touch '${loaded}';;\n  bootout) rm -f '${loaded}';;\nesac\n`,
      { mode: 0o755 },
    );
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), CODEX_HOME: join(home, "codex home"), PATH: `${bin}:${process.env.PATH}` };
    const label = launchdLabel({ machine: "alpha", checkout });
    const path = join(home, "Library", "LaunchAgents", `${label}.plist`);
    const domain = `gui/${process.getuid!()}`;

    const r = await daemonService({ dir, action: "install", platform: "darwin", env });
    expect(r.commands).toEqual([`launchctl bootstrap ${domain} ${path}`]);
    expect((await readFile(calls, "utf8")).trim().split("\n")).toEqual([`print ${domain}/${label}`, `bootstrap ${domain} ${path}`]);
    const p = parsePlist(await readFile(path, "utf8")) as { EnvironmentVariables: Record<string, string> };
    expect(p.EnvironmentVariables).toEqual({ PATH: env.PATH, CODEX_HOME: env.CODEX_HOME, XDG_CONFIG_HOME: env.XDG_CONFIG_HOME });
    expect(schedule(await doctor({ dir, env }))).toMatchObject({ level: "OK", detail: expect.stringContaining("running now (pid 4242)") });

    // A changed plist (another CLI home) is loaded again: out, then in.
    await writeFile(calls, "");
    const again = await daemonService({ dir, action: "install", platform: "darwin", env: { ...env, CODEX_HOME: join(home, "other") } });
    expect(again.commands).toEqual([`launchctl bootout ${domain}/${label}`, `launchctl bootstrap ${domain} ${path}`]);

    // Unloaded behind coord's back: doctor says so and how to load it.
    await rm(loaded);
    expect(schedule(await doctor({ dir, env }))).toMatchObject({ level: "WARN", detail: expect.stringContaining("written but not loaded") });

    await writeFile(calls, "");
    await writeFile(loaded, "");
    const gone = await daemonService({ dir, action: "uninstall", platform: "darwin", env });
    expect(gone.removed).toEqual(["launchd"]);
    expect((await readFile(calls, "utf8")).trim().split("\n")).toContain(`bootout ${domain}/${label}`);
    expect(await exists(path)).toBe(false);
  });
});

// ------------------------------------------------------------------ Task Scheduler

describe("coord daemon install: the Task Scheduler's task (registered through a stand-in schtasks)", () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await makeFleet(["alpha"]);
  });
  afterAll(async () => fleet.cleanup());
  afterEach(() => restore([fleet.machines.alpha!]));

  it("writes the task as UTF-16, registers and runs it, carries no shell's variable silently, and doctor reads schtasks /Query", async () => {
    const dir = fleet.machines.alpha!;
    const checkout = await realpath(dir);
    const bin = await scratchDir("coord-schtasks-");
    const calls = join(bin, "calls");
    const registered = join(bin, "registered");
    // schtasks as Windows answers: /Query of a task not registered exits 1; /Create registers it, /Delete removes it.
    await writeFile(
      join(bin, "schtasks"),
      `#!/bin/sh\nprintf '%s\\n' "$*" >> '${calls}'\ncase "$1" in\n  /Query) [ -f '${registered}' ] || { echo "ERROR: The system cannot find the file specified." >&2; exit 1; }\n    case "$*" in *CSV*) printf '"%s","N/A","Ready"\\r\\n' "$3";; esac;;\n  /Create) cp "$5" '${registered}';;\n  /Delete) rm -f '${registered}';;\nesac\n`,
      { mode: 0o755 },
    );
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, USERDOMAIN: "PC-1", USERNAME: "pat", CODEX_HOME: "C:\\Users\\pat\\codex home" };
    const name = scheduledTaskName({ machine: "alpha", checkout });
    const path = join(stateDir(dir), "daemon-task.xml");

    const r = await daemonService({ dir, action: "install", platform: "win32", env });
    expect(r.kind).toBe("schtasks");
    expect(r.commands).toEqual([`schtasks /Create /TN ${name} /XML ${path} /F`, `schtasks /Run /TN ${name}`]);
    expect((await readFile(calls, "utf8")).trim().split("\n")).toEqual([`/Query /TN ${name}`, `/Create /TN ${name} /XML ${path} /F`, `/Run /TN ${name}`]);
    const raw = await readFile(path);
    expect([raw[0], raw[1]]).toEqual([0xff, 0xfe]); // UTF-16 LE with its byte order mark, as its XML declaration says
    const text = raw.subarray(2).toString("utf16le");
    expect(text).toContain('<?xml version="1.0" encoding="UTF-16"?>');
    expect(text).toContain("<UserId>PC-1\\pat</UserId>");
    expect(text).toContain(`--if-not-running --dir ${checkout}`);
    // A task has no environment of its own: the shell's CODEX_HOME is named, with the command that sets it for the user.
    expect(r.notes.join("\n")).toContain('CODEX_HOME is set in this shell, but the task runs with your user\'s environment: setx CODEX_HOME "C:\\Users\\pat\\codex home"');

    // Registered, the daemon not running (the stand-in starts nothing): doctor says so, and how to start it.
    expect(schedule(await doctor({ dir, env }))).toMatchObject({
      level: "WARN",
      detail: expect.stringContaining(`Task Scheduler task ${name} (Windows says: Ready), but the daemon is not running now`),
    });
    await startDaemon({ dir, schedule: "*/30 * * * *" });
    expect(schedule(await doctor({ dir, env }))).toMatchObject({ level: "OK", detail: expect.stringContaining("running now (pid") });

    // Again, nothing changed: not registered again, only run (it starts the daemon unless one runs).
    await writeFile(calls, "");
    const again = await daemonService({ dir, action: "install", platform: "win32", env });
    expect(again.changed).toBe(false);
    expect(again.commands).toEqual([`schtasks /Run /TN ${name}`]);

    // Deleted behind coord's back: doctor says the task is written but not registered.
    await rm(registered);
    expect(schedule(await doctor({ dir, env }))).toMatchObject({ level: "WARN", detail: expect.stringContaining("but not registered") });

    await daemonService({ dir, action: "install", platform: "win32", env });
    await writeFile(calls, "");
    const gone = await daemonService({ dir, action: "uninstall", platform: "win32", env });
    expect(gone.removed).toEqual(["schtasks"]);
    expect((await readFile(calls, "utf8")).trim().split("\n")).toContain(`/Delete /TN ${name} /F`);
    expect(await exists(path)).toBe(false);
    expect(await exists(registered)).toBe(false);
    expect(await daemonRunning(stateDir(dir))).toBe(false); // the daemon the task started goes with it
  });

  it("with no schtasks here: the task is written, and the commands to register it on the PC are said", async () => {
    const dir = fleet.machines.alpha!;
    const r = await daemonService({ dir, action: "install", platform: "win32", env: { ...process.env, USERNAME: "pat" } });
    expect(r.commands).toEqual([]);
    expect(r.notes.join("\n")).toMatch(
      /no schtasks here: the task is written to .*daemon-task\.xml; on the PC run schtasks \/Create \/TN \\coord\\daemon-alpha-[0-9a-f]{8} \/XML .* \/F && schtasks \/Run/,
    );
    expect(formatService(r)).toContain("wrote: ");
    const gone = await daemonService({ dir, action: "uninstall", platform: "win32", env: process.env });
    expect(gone.removed).toEqual(["schtasks"]);
  });
});
