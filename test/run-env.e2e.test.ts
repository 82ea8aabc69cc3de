// Where a process runs and what its environment says agree: a program coord starts directly (an agent CLI, without a
// shell) takes PWD from coord, and OpenCode works in $PWD, not in its working directory (issue 66: it wrote into the
// machine's checkout, the daemon's PWD, instead of the order's --cwd).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runTask } from "../src/runner/run.js";
import { tempDir } from "./helpers.js";

describe("a process coord starts is told where it runs", () => {
  it("PWD is the cwd it runs in, whatever PWD coord itself had", async () => {
    const root = await tempDir("coord-run-env-");
    const r = await runTask({
      argv: [process.execPath, "-e", "process.stdout.write(process.env.PWD + '|' + process.cwd())"],
      cwd: root,
      env: { PATH: process.env.PATH ?? "", PWD: "/the/daemon/checkout" },
      timeout: 30,
      logFile: join(root, "out.log"),
    });
    expect(r.exitCode, r.error).toBe(0);
    expect(r.tail).toBe(`${root}|${root}`);
  });
});
