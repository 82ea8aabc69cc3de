// What a machine on call publishes of itself (sync/on-call.ts publishedOnCall): the turns that run, never one whose
// coord process is gone; the requests waiting for a person; nothing when it does not verify signatures (issue 58,
// findings 10 and 12).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { publishedOnCall } from "../src/sync/on-call.js";
import type { Machine } from "../src/sync/machine.js";
import { tempDir } from "./helpers.js";

/** Above Linux's largest pid_max: no process has it. */
const GONE_PID = 4_194_305;
const NOW = new Date("2026-11-27T18:31:00.000Z");

async function machine(verify = true): Promise<Machine> {
  const stateDir = await tempDir();
  await mkdir(stateDir, { recursive: true });
  await writeFile(join(stateDir, "machine.yaml"), "name: oncall\nuuid: u-1\nonCall:\n  agent: claude\n  cwd: /tmp\n  from: [asker]\n");
  const turn = (runner: number, startedAt: string) => ({ runner, startedAt, asks: [{ id: "asker/oncall/1", from: "asker", text: "x", at: startedAt, chain: 0 }] });
  const state = {
    version: 1,
    taken: [],
    threads: {
      "asker/oncall/1": { agent: "claude", cwd: "/tmp", queue: [], lastAt: "2026-11-27T18:30:00.000Z", running: turn(process.pid, "2026-11-27T18:30:00.000Z") },
      "asker/oncall/2": { agent: "claude", cwd: "/tmp", queue: [], lastAt: "2026-11-27T18:29:00.000Z", running: turn(GONE_PID, "2026-11-27T18:29:00.000Z") },
    },
    requests: {
      "oncall/asker/3": {
        thread: "asker/oncall/1",
        turn: "2026-11-27T18:30:00.000Z",
        tool: "Bash",
        what: "rm -rf build",
        asker: "asker",
        at: "2026-11-27T18:30:02.000Z",
        until: "2026-11-27T18:40:02.000Z",
      },
      "oncall/asker/4": {
        thread: "asker/oncall/2",
        turn: "2026-11-27T18:29:00.000Z",
        tool: "Write",
        what: "a.ts",
        asker: "asker",
        at: "2026-11-27T18:29:05.000Z",
        until: "2026-11-27T18:39:05.000Z",
      },
      "oncall/asker/5": {
        thread: "asker/oncall/1",
        turn: "2026-11-27T18:30:00.000Z",
        tool: "Edit",
        what: "b.ts",
        asker: "asker",
        at: "2026-11-27T18:30:01.000Z",
        until: "2026-11-27T18:40:01.000Z",
        decision: { behavior: "allow", by: "asker", at: "2026-11-27T18:30:03.000Z" },
      },
    },
  };
  await writeFile(join(stateDir, "on-call.json"), JSON.stringify(state));
  return { stateDir, config: { name: "oncall", onCall: {}, trust: { verifyMachines: verify } } } as unknown as Machine;
}

describe("publishedOnCall", () => {
  it("publishes the turns whose coord process runs, and the requests of those turns waiting for a person", async () => {
    expect(await publishedOnCall(await machine(), NOW)).toEqual({
      agent: "claude",
      from: ["asker"],
      permissions: "read-only",
      turns: [{ thread: "asker/oncall/1", asker: "asker", since: "2026-11-27T18:30:00.000Z" }],
      waiting: [{ request: "oncall/asker/3", tool: "Bash", asker: "asker", since: "2026-11-27T18:30:02.000Z" }],
    });
  });
  it("publishes nothing when the machine does not verify signatures: no message would start a turn", async () => {
    expect(await publishedOnCall(await machine(false), NOW)).toBeUndefined();
  });
});
