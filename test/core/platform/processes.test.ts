// The process table as Linux and macOS show it, read from recorded output: /proc's stat and environ files, ps's table
// (macOS's, and procps' on Linux, which prints the same columns), ps -E's environment, lsof's working directory.
import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import {
  carries,
  commandName,
  linuxStart,
  linuxIdentity,
  linuxStartMs,
  isStartMark,
  parseLsofCwd,
  parseProcStat,
  parsePsTable,
  procBootTime,
  procEnviron,
  psEnviron,
} from "../../../src/core/platform/processes.js";
import { SRC, sources } from "../../sources.js";

describe("/proc/<pid>/stat (Linux)", () => {
  it.each([
    {
      why: "a running process (recorded: cat /proc/self/stat)",
      text: "15893 (cat) R 15869 15869 1354 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 6083428 3133440 394 18446744073709551615 94034828132352 0 0\n",
      want: { state: "R", ppid: 15869, startTicks: "6083428" },
    },
    {
      why: "a name with spaces and parentheses",
      text: "77 (my (odd) name) S 1 77 77 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 512 1000 10 1 1 1 1 1\n",
      want: { state: "S", ppid: 1, startTicks: "512" },
    },
    { why: "a zombie", text: "901 (codex) Z 900 900 900 0 -1 4227084 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0 0\n", want: { state: "Z", ppid: 900, startTicks: "99" } },
    { why: "cut short", text: "12 (x) S 1 12", want: undefined },
    { why: "not a stat line", text: "", want: undefined },
  ])("$why", ({ text, want }) => expect(parseProcStat(text)).toEqual(want));

  it("the boot time of /proc/stat, a start and an identity to compare", () => {
    const stat = "cpu  1 2 3\nintr 9\nctxt 12\nbtime 1795920268\nprocesses 16000\n";
    expect(procBootTime(stat)).toBe(1795920268);
    expect(procBootTime("cpu 1\n")).toBeUndefined();
    expect(linuxStart(1795920268, "6083428")).toBe("linux:1795920268:6083428");
    expect(linuxStart(undefined, "5")).toBe("linux:?:5");
    expect(linuxStartMs(1795920268, "6083428")).toBe(1795920268000 + 60834280);
    expect(linuxIdentity("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "6083428")).toBe("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/6083428");
    // A recorded mark of an older kind is a start, compared with a start now; an identity is compared with an identity.
    expect([linuxStart(1795920268, "5"), "ps:Sun Nov 29 08:01:12 2026", linuxIdentity("0f1e", "5")].map(isStartMark)).toEqual([true, true, false]);
  });

  it("an environment block", () => {
    const env = procEnviron("PATH=/usr/bin:/bin\0COORD_TASK=t-1\0EMPTY=\0");
    expect(env).toEqual(["PATH=/usr/bin:/bin", "COORD_TASK=t-1", "EMPTY="]);
    expect(carries(env, "COORD_TASK", "t-1")).toBe(true);
    expect(carries(env, "COORD_TASK", "t-12")).toBe(false);
    expect(carries(env, "COORD", "TASK=t-1")).toBe(false);
  });
});

describe("ps -axww -o pid=,ppid=,stat=,lstart=,command=", () => {
  it("macOS's (recorded shape: a day of one digit is padded, stat has flags)", () => {
    const text = [
      "    1     0 Ss   Sun Nov 29 08:01:12 2026     /sbin/launchd",
      "  412     1 S    Sun Nov 29 08:01:20 2026     /usr/libexec/logd",
      " 9012  8800 S+   Sun Nov  1 10:20:01 2026     /opt/homebrew/bin/node /Users/me/.npm/coord.mjs agent listen-wait --dir /Users/me/fleet",
      " 9100  9012 Z    Sun Nov  1 10:21:00 2026     (git)",
      "garbage",
      "",
    ].join("\n");
    expect(parsePsTable(text)).toEqual([
      { pid: 1, ppid: 0, state: "S", start: "ps:Sun Nov 29 08:01:12 2026", command: "    /sbin/launchd" },
      { pid: 412, ppid: 1, state: "S", start: "ps:Sun Nov 29 08:01:20 2026", command: "    /usr/libexec/logd" },
      {
        pid: 9012,
        ppid: 8800,
        state: "S",
        start: "ps:Sun Nov 1 10:20:01 2026",
        command: "    /opt/homebrew/bin/node /Users/me/.npm/coord.mjs agent listen-wait --dir /Users/me/fleet",
      },
      { pid: 9100, ppid: 9012, state: "Z", start: "ps:Sun Nov 1 10:21:00 2026", command: "    (git)" },
    ]);
  });

  it("procps' on Linux (recorded on this machine's kind: one space after the start)", () => {
    const text = ["    1     0 S<Ll Sat Nov 28 17:04:28 2026 /process_api --firecracker-init --addr 0.0.0.0:2024", "    2     0 S    Sat Nov 28 17:04:28 2026 [kthreadd]"].join(
      "\n",
    );
    const rows = parsePsTable(text);
    expect(rows.map((r) => [r.pid, r.ppid, r.state, r.start])).toEqual([
      [1, 0, "S", "ps:Sat Nov 28 17:04:28 2026"],
      [2, 0, "S", "ps:Sat Nov 28 17:04:28 2026"],
    ]);
    expect(commandName(rows[0]!.command)).toBe("process_api");
  });

  it("a command's name: its first word's last path part", () => {
    expect(commandName("/usr/bin/git commit -m x")).toBe("git");
    expect(commandName("git-remote-https origin")).toBe("git-remote-https");
    expect(commandName("")).toBe("");
  });
});

describe("ps -E -ww -o command= (macOS: the environment after the command line)", () => {
  it("reads NAME=value words, and a marker as a whole word", () => {
    const line = "node /x/coord.mjs agent acp-turn TERM=xterm-256color COORD_TASK=t-1 PATH=/usr/bin:/bin HOME=/Users/me";
    const env = psEnviron(line);
    expect(env).toEqual(["TERM=xterm-256color", "COORD_TASK=t-1", "PATH=/usr/bin:/bin", "HOME=/Users/me"]);
    expect(carries(env, "COORD_TASK", "t-1")).toBe(true);
    expect(carries(psEnviron("node x COORD_TASK=t-10"), "COORD_TASK", "t-1")).toBe(false);
  });
});

describe("lsof -a -d cwd -p <pid> -Fn", () => {
  it.each([
    { text: "p9012\nfcwd\nn/Users/me/dev/app\n", want: "/Users/me/dev/app" },
    { text: "p9012\nfcwd\nn/path with spaces\n", want: "/path with spaces" },
    { text: "", want: undefined },
  ])("$want", ({ text, want }) => expect(parseLsofCwd(text)).toBe(want));
});

describe("one module reads the process table", () => {
  it("no file of src/ but platform/processes.ts reads /proc (bubblewrap's arguments name it, and read nothing)", async () => {
    const found: string[] = [];
    for (const path of await sources(SRC)) {
      const rel = relative(SRC, path);
      if (rel === "platform/processes.ts" || rel === "core/agents/sandbox.ts") continue;
      const code = (await readFile(path, "utf8"))
        .split("\n")
        .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l))
        .join("\n");
      if (/["'`]\/proc\b/.test(code)) found.push(rel);
    }
    expect(found).toEqual([]);
  });
});
