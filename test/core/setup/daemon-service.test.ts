// The text of coord daemon install (core/setup/daemon-service.ts from templates/): the
// systemd unit, the launchd plist (parsed as a plist), and the crontab lines.
// What systemd-analyze and /bin/sh make of them: daemon-service.e2e.
import { join } from "node:path";
import { parse as parsePlist } from "plist";
import { describe, expect, it } from "vitest";
import {
  daemonCronLines,
  daemonMarker,
  daemonRunArgs,
  daemonTargetProblem,
  daemonUnitName,
  daemonUnitText,
  launchdLabel,
  launchdPlistText,
  parseLaunchctlPrint,
  serviceId,
} from "../../../src/core/setup/daemon-service.js";
import { fill, shQuote, templateLines, unitWord, xmlText } from "../../../src/core/setup/service-text.js";
import { odd, oddCron, plain, tpl } from "../../daemon-targets.js";

describe("service text: quoting", () => {
  it.each([
    ["/usr/bin/node", "/usr/bin/node", "/usr/bin/node", "/usr/bin/node"],
    ["a b", "'a b'", '"a b"', "a b"],
    ["it's", `'it'\\''s'`, `"it's"`, "it's"],
    ["100%", "'100%'", '"100%%"', "100%"],
    ["$HOME", "'$HOME'", '"$$HOME"', "$HOME"],
    ['say "hi" \\ <b> & c', `'say "hi" \\ <b> & c'`, '"say \\"hi\\" \\\\ <b> & c"', 'say "hi" \\ &lt;b&gt; &amp; c'],
  ])("%j: sh %s, unit %s, xml %s", (raw, sh, unit, xml) => {
    expect(shQuote(raw)).toBe(sh);
    expect(unitWord(raw)).toBe(unit);
    expect(xmlText(raw)).toBe(xml);
  });

  it("fills placeholders and refuses a missing one; keeps only the lines that are not comments", () => {
    expect(fill("{{a}}-{{b}}", { a: "1", b: "2" })).toBe("1-2");
    expect(() => fill("{{a}} {{c}}", { a: "1" })).toThrow(/\{\{c\}\} has no value/);
    expect(templateLines("# one\n\nx\n  \n# two\ny\n")).toEqual(["x", "y"]);
  });
});

describe("service names", () => {
  it("include the machine and the checkout, so two checkouts never share a unit", () => {
    expect(serviceId(plain)).toMatch(/^alpha-[0-9a-f]{8}$/);
    expect(serviceId({ ...plain, checkout: "/other" })).not.toBe(serviceId(plain));
    expect(serviceId({ ...plain })).toBe(serviceId(plain)); // the same checkout: the same name, every install
    expect(daemonUnitName(plain)).toBe(`coord-daemon-${serviceId(plain)}.service`);
    expect(launchdLabel(plain)).toBe(`dev.coord.daemon.${serviceId(plain)}`);
    expect(daemonMarker(plain)).toBe("coord-daemon:alpha:/home/pat/fleet");
    expect(daemonUnitName(odd)).toMatch(/^[A-Za-z0-9:_.-]+\.service$/); // what systemd accepts in a unit name
  });

  it.each([
    [plain, [process.execPath, plain.cli, "daemon", "run", "--dir", "/home/pat/fleet"]],
    [odd, [process.execPath, plain.cli, "daemon", "run", "--dir", odd.checkout, "--schedule", "*/2 * * * *", "--jitter", "10"]],
  ])("runs the daemon in the foreground (%#)", (t, args) => {
    expect(daemonRunArgs(t)).toEqual(args);
  });

  it.each([
    [plain, undefined],
    [{ ...plain, path: "/bin:/a%b" }, /PATH has a newline or a %/],
    [{ ...plain, schedule: "*/5 * * * *\n" }, /--schedule .* has a newline or a %/],
    [{ ...plain, env: { CODEX_HOME: "/x%y" } }, /CODEX_HOME has a newline or a %/],
  ])("refuses what a crontab line or a unit cannot hold (%#)", (t, problem) => {
    const got = daemonTargetProblem(t);
    if (problem) expect(got).toMatch(problem);
    else expect(got).toBeUndefined();
  });
});

describe("the systemd user unit", () => {
  it.each([plain, odd])("restarts on failure within a start limit, with PATH and the daemon in the foreground (%#)", async (t) => {
    const text = daemonUnitText(await tpl("systemd/coord-daemon.service"), t);
    expect(text).not.toMatch(/\{\{/);
    const lines = text.split("\n");
    expect(lines).toContain(`# ${daemonMarker(t)}`);
    for (const l of [
      "Restart=on-failure",
      "RestartSec=10",
      "StartLimitIntervalSec=600",
      "StartLimitBurst=5",
      "RestartPreventExitStatus=2",
      "KillMode=mixed",
      "WantedBy=default.target",
    ])
      expect(lines).toContain(l);
    expect(lines).toContain(`Environment=PATH=${t.path}`);
    for (const [k, v] of Object.entries(t.env ?? {})) expect(lines).toContain(`Environment=${unitWord(`${k}=${v}`)}`);
    expect(lines).toContain(`ExecStart=${daemonRunArgs(t).map(unitWord).join(" ")}`);
    // the start limit belongs to [Unit] (systemd ignores it in [Service])
    expect(text.indexOf("StartLimitBurst")).toBeLessThan(text.indexOf("[Service]"));
  });
});

describe("the launchd plist", () => {
  it.each([plain, odd])("is a plist that keeps the daemon alive after a failed exit and starts it at load (%#)", async (t) => {
    const log = join(t.stateDir, "daemon.out");
    const text = launchdPlistText(await tpl("launchd/coord-daemon.plist"), t, log);
    const p = parsePlist(text) as Record<string, unknown>;
    expect(p).toEqual({
      Label: launchdLabel(t),
      ProgramArguments: daemonRunArgs(t),
      EnvironmentVariables: { PATH: t.path, ...t.env },
      WorkingDirectory: t.checkout,
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ThrottleInterval: 30,
      ExitTimeOut: 90,
      StandardOutPath: log,
      StandardErrorPath: log,
    });
  });
});

describe("the crontab lines", () => {
  it.each([
    [plain, ""],
    [oddCron, " --schedule '*/2 * * * *' --jitter 10"],
  ])("start the daemon at reboot and every 5 minutes unless it runs (%#)", async (t, extra) => {
    const log = join(t.stateDir, "daemon.out");
    const lines = daemonCronLines(await tpl("cron/coord-daemon.crontab"), t, log);
    const vars = Object.entries(t.env ?? {})
      .map(([k, v]) => `${k}=${shQuote(v)} `)
      .join("");
    const start = `PATH=${shQuote(t.path)} ${vars}${shQuote(t.node)} ${shQuote(t.cli)} daemon start --if-not-running --dir ${shQuote(t.checkout)}${extra} >> ${shQuote(log)} 2>&1`;
    expect(lines).toEqual([`@reboot ${start}  # ${daemonMarker(t)}`, `*/5 * * * * ${start}  # ${daemonMarker(t)}`]);
    for (const l of lines) expect(l).not.toMatch(/%/); // cron turns % into a newline
  });
});

describe("launchctl print gui/<uid>/<label>", () => {
  // The shape macOS 13-15 print (recorded from public transcripts): "key = value" lines, blocks in braces.
  const job = (inner: string) => `gui/501/dev.coord.daemon.alpha-1234abcd = {
\tactive count = 1
\tpath = /Users/pat/Library/LaunchAgents/dev.coord.daemon.alpha-1234abcd.plist
\ttype = LaunchAgent
${inner}
\tprogram = /opt/homebrew/bin/node
\targuments = {
\t\t/opt/homebrew/bin/node
\t\tstate = not a field of the job
\t\tpid = 1
\t}

\tenvironment = {
\t\tPATH => /opt/homebrew/bin:/usr/bin:/bin
\t}

\tdomain = gui/501 [100006]
\truns = 3
\tlast terminating signal = Terminated: 15
}
`;
  it.each([
    { why: "running", inner: "\tstate = running\n\tpid = 4242\n\tlast exit code = (never exited)", want: { state: "running", pid: 4242, lastExit: "(never exited)" } },
    { why: "exited with an error", inner: "\tstate = not running\n\tlast exit code = 1", want: { state: "not running", lastExit: "1" } },
    { why: "spawn scheduled after a failure", inner: "\tstate = spawn scheduled\n\tlast exit code = 78: EX_CONFIG", want: { state: "spawn scheduled", lastExit: "78: EX_CONFIG" } },
  ])("$why", ({ inner, want }) => expect(parseLaunchctlPrint(job(inner))).toEqual(want));
  it("says nothing of what it does not hold", () => expect(parseLaunchctlPrint("")).toEqual({}));
});
