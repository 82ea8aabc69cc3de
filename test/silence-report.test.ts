import { describe, expect, it } from "vitest";
import { descendants } from "./silence-report.js";

// What `ps -eo pid=,ppid=,etimes=,args=` prints: the run (100), its worker (200) and what the worker started.
const ps = [
  "    1     0 9000 /sbin/init",
  "  100     1  600 node vitest run",
  "  200   100  590 node worker.js",
  "  300   200   30 git fetch origin",
  "  301   200  400 node dist/coord.mjs daemon",
  "  302   301  390 claude -p hello",
  "  400     1  999 sshd: unrelated",
  "not a row",
].join("\n");

describe("the silence report's processes", () => {
  it.each([
    { root: 100, max: 15, want: ["9:50 200 node worker.js", "6:40 301 node dist/coord.mjs daemon", "6:30 302 claude -p hello", "0:30 300 git fetch origin"] },
    { root: 301, max: 15, want: ["6:30 302 claude -p hello"] },
    { root: 100, max: 2, want: ["9:50 200 node worker.js", "6:40 301 node dist/coord.mjs daemon"] },
    { root: 999, max: 15, want: [] },
  ])("below $root, at most $max: the longest-lived first", ({ root, max, want }) => {
    expect(descendants(ps, root, max)).toEqual(want);
  });
});
