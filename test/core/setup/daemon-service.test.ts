// The text of coord daemon install (core/setup/daemon-service.ts from templates/): the
// systemd unit, the launchd plist (parsed as a plist), the Task Scheduler's task (parsed
// as XML, its command line read back as Windows reads it), and the crontab lines.
// What systemd-analyze and /bin/sh make of them: daemon-service.e2e.
import { join } from "node:path";
import { DOMParser } from "@xmldom/xmldom";
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
  parseSchtasksQuery,
  scheduledTaskName,
  scheduledTaskXml,
  serviceId,
} from "../../../src/core/setup/daemon-service.js";
import { fill, shQuote, templateLines, unitWord, windowsArg, xmlText } from "../../../src/core/setup/service-text.js";
import { odd, oddCron, plain, tpl, windows } from "../../daemon-targets.js";

/**
 * A Windows command line split as programs read it (CommandLineToArgvW, the C runtime, Node's argv): spaces apart
 * words outside quotes; 2n backslashes before a quote are n and the quote opens or closes; 2n+1 are n and a quote;
 * other backslashes are themselves. The reference windowsArg is held to.
 */
function windowsArgv(line: string): string[] {
  const out: string[] = [];
  let word = "";
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "\\") {
      let n = 0;
      while (line[i] === "\\") {
        n++;
        i++;
      }
      if (line[i] === '"') {
        word += "\\".repeat(Math.floor(n / 2));
        if (n % 2) word += '"';
        else quoted = !quoted;
      } else {
        word += "\\".repeat(n);
        i--;
      }
      inWord = true;
    } else if (ch === '"') {
      quoted = !quoted;
      inWord = true;
    } else if ((ch === " " || ch === "\t") && !quoted) {
      if (inWord) out.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
}

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

describe("a Windows command line", () => {
  it.each([
    ["node.exe", "node.exe"],
    ["C:\\Program Files\\nodejs\\node.exe", '"C:\\Program Files\\nodejs\\node.exe"'],
    ["C:\\dir with space\\", '"C:\\dir with space\\\\"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['a\\"b', '"a\\\\\\"b"'],
    ["", '""'],
    ["C:\\plain\\path", "C:\\plain\\path"],
  ])("%j is %s, and reads back as itself", (raw, word) => {
    expect(windowsArg(raw)).toBe(word);
    expect(windowsArgv(`x ${windowsArg(raw)} y`)).toEqual(["x", raw, "y"]);
  });
});

describe("the Task Scheduler's task", () => {
  it.each([plain, odd, windows])("is a task of schema 1.2: at logon and every 5 minutes, the daemon started unless one runs (%#)", async (t) => {
    const text = scheduledTaskXml(await tpl("schtasks/coord-daemon.xml"), t, "PC-1\\pat");
    const errors: string[] = [];
    const doc = new DOMParser({ onError: (level, msg) => void errors.push(`${level}: ${msg}`) }).parseFromString(text, "text/xml");
    expect(errors).toEqual([]);
    const ns = "http://schemas.microsoft.com/windows/2004/02/mit/task";
    const one = (name: string) => {
      const found = doc.getElementsByTagNameNS(ns, name);
      expect(found.length, name).toBe(1);
      return found[0]!.textContent ?? "";
    };
    expect(doc.documentElement?.localName).toBe("Task");
    expect(doc.documentElement?.getAttribute("version")).toBe("1.2");
    expect(one("URI")).toBe(scheduledTaskName(t));
    expect(doc.getElementsByTagNameNS(ns, "LogonTrigger").length).toBe(1);
    expect(one("Interval")).toBe("PT5M");
    expect([...doc.getElementsByTagNameNS(ns, "UserId")].map((e) => e.textContent)).toEqual(["PC-1\\pat", "PC-1\\pat"]);
    expect(one("LogonType")).toBe("InteractiveToken");
    expect(one("MultipleInstancesPolicy")).toBe("IgnoreNew");
    expect(one("Command")).toBe(t.node);
    expect(one("WorkingDirectory")).toBe(t.checkout);
    const argv = windowsArgv(one("Arguments"));
    expect(argv).toEqual([
      t.cli,
      "daemon",
      "start",
      "--if-not-running",
      "--dir",
      t.checkout,
      ...(t.schedule ? ["--schedule", t.schedule] : []),
      ...(t.jitter !== undefined ? ["--jitter", String(t.jitter)] : []),
    ]);
  });

  it("its name is in coord's folder, one per checkout", () => {
    expect(scheduledTaskName(windows)).toBe(`\\coord\\daemon-${serviceId(windows)}`);
    expect(scheduledTaskName(windows)).not.toBe(scheduledTaskName({ ...windows, checkout: "D:\\fleet" }));
  });
});

describe("schtasks /Query /FO CSV /NH", () => {
  it.each([
    ['"\\coord\\daemon-pc-1-0a1b2c3d","N/A","Ready"\r\n', { status: "Ready" }],
    ['\r\n"\\coord\\daemon-pc-1-0a1b2c3d","11/29/2026 2:05:00 PM","Running"\r\n', { status: "Running", nextRun: "11/29/2026 2:05:00 PM" }],
    ['"\\coord\\daemon-x","N/A","Wird ausgeführt"', { status: "Wird ausgeführt" }],
    ['"\\coord\\say ""hi""","N/A","Disabled"', { status: "Disabled" }],
    ["", undefined],
    ["ERROR: The system cannot find the file specified.", undefined],
  ])("%j: %j", (text, want) => {
    expect(parseSchtasksQuery(text)).toEqual(want);
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
