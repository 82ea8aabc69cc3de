// What systemd-analyze and /bin/sh make of coord daemon install's text (core/setup/daemon-service.ts from templates/):
// the systemd unit verified where systemd-analyze exists, the crontab lines run by /bin/sh.
import { execFile } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { daemonCronLines, daemonUnitName, daemonUnitText } from "../src/core/setup/daemon-service.js";
import { odd, plain, tpl } from "./daemon-targets.js";
import { tempDir } from "./helpers.js";

const run = promisify(execFile);

describe("the systemd user unit", () => {
  it("passes systemd-analyze verify", async (ctx) => {
    const analyze = await run("sh", ["-c", "command -v systemd-analyze"]).then(
      (r) => r.stdout.trim(),
      () => "",
    );
    if (!analyze) {
      console.log("skipped: systemd-analyze is not installed here (apt install systemd), so the unit file is not verified by systemd");
      ctx.skip();
    }
    const dir = await tempDir("coord-unit-");
    try {
      for (const t of [plain, { ...odd, checkout: "/tmp/it's a fleet", stateDir: "/tmp/it's a fleet/.git/coord" }]) {
        // coord.mjs must exist for verify (it checks that ExecStart's program runs): node itself stands in.
        const target = { ...t, cli: process.execPath };
        const file = join(dir, daemonUnitName(target));
        await writeFile(file, daemonUnitText(await tpl("systemd/coord-daemon.service"), target));
        const r = await run(analyze, ["verify", file]).then(
          (x) => ({ code: 0, err: x.stderr }),
          (e: { code: number; stderr: string }) => ({ code: e.code, err: e.stderr }),
        );
        expect(r.err.split("\n").filter((l) => l.includes(daemonUnitName(target)) || /Unknown|ignoring|invalid/i.test(l))).toEqual([]);
        expect(r.code).toBe(0);
        await rm(file);
      }
      // and verify does fail on a broken unit: the check can fail
      const bad = join(dir, "coord-daemon-bad.service");
      await writeFile(bad, "[Service]\nExecStart=/no/such/program\n");
      await expect(run(analyze, ["verify", bad])).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the crontab lines", () => {
  it("hand /bin/sh the words as they were", async () => {
    const t = { ...odd, node: "/bin/echo", cli: "the cli" };
    const dir = await tempDir("coord-cronline-");
    try {
      const log = join(dir, "out's log");
      const line = daemonCronLines(await tpl("cron/coord-daemon.crontab"), { ...t, checkout: "/x/it's a <fleet> & $HOME" }, log)[1]!;
      const command = line.split(" ").slice(5).join(" ");
      await run("/bin/sh", ["-c", command], { env: { PATH: "/usr/bin:/bin" } });
      expect(await readFile(log, "utf8")).toBe("the cli daemon start --if-not-running --dir /x/it's a <fleet> & $HOME --schedule */2 * * * * --jitter 10\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
