// The process table read for real, both ways on this machine: Linux's /proc, and ps as macOS is read (procps prints
// the same columns for `ps -o pid=,ppid=,stat=,lstart=,command=`; its environment flag differs, so that part stays
// with the recorded output of test/core/platform/processes.test.ts).
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { argvOf, cwdOf, isSameProcess, parentOf, processesNamed, processIdentity, processMark, processStart, useWay, type Way } from "../src/platform/processes.js";

afterEach(() => useWay(undefined));

describe.each(["proc", "ps"] as Way[])("the process table read by %s", (way) => {
  it("this process: its parent, its command line, its start; a child's start changes with the child", async () => {
    useWay(way);
    expect(await parentOf(process.pid)).toBe(process.ppid);
    expect((await argvOf(process.pid)).join(" ")).toContain("node");
    const start = await processStart(process.pid);
    expect(start).toMatch(way === "proc" ? /^linux:\d+:\d+$/ : /^ps:\w{3} \w{3} \d{1,2} \d{2}:\d{2}:\d{2} \d{4}$/);
    expect(await processStart(process.pid)).toBe(start);
    const child = spawn("sleep", ["30"], { cwd: "/tmp" });
    try {
      const pid = child.pid!;
      expect(await parentOf(pid)).toBe(process.pid);
      expect(await processStart(pid)).toBeDefined();
      expect(await processesNamed((n) => n === "sleep")).toContain(pid);
      if (way === "proc") expect(await cwdOf(pid)).toBe("/tmp");
    } finally {
      child.kill("SIGKILL");
    }
    await new Promise((r) => child.once("exit", r));
    expect(await processStart(child.pid!)).toBeUndefined();
    expect(await parentOf(999_999_999)).toBeUndefined();
  });

  it("a mark to know a process again: Linux its boot's id and start in ticks, which no clock step moves; macOS its start", async () => {
    useWay(way);
    const mark = await processMark(process.pid);
    expect(mark).toMatch(way === "proc" ? /^[0-9a-f-]{36}\/\d+$/ : /^ps:/);
    expect(await isSameProcess(process.pid, mark!)).toBe(true);
    expect(await processIdentity(process.pid)).toBe(way === "proc" ? mark : undefined);
    expect(await isSameProcess(process.pid, way === "proc" ? mark!.replace(/\/\d+$/, "/1") : "ps:Sun Nov 29 08:01:12 2026")).toBe(false);
    expect(await isSameProcess(999_999_999, mark!)).toBe(false);
  });
});
