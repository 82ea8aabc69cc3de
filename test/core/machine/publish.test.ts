// Publishing (src/core/machine/publish.ts): a machine's own file and the changes it
// commits.
import { describe, it, expect } from "vitest";
import { gitBlobId } from "../../../src/core/repo/blob.js";
import { renderComputer, type TaskReport } from "../../../src/core/fleet/computer.js";
import { computerPath } from "../../../src/core/files/names.js";
import { ownComputer, publishedAgentReport, renderChanges } from "../../../src/core/machine/publish.js";
import { redact } from "../../../src/core/trust/redact.js";
import { readModel, STATUS_JSON, STATUS_MD } from "../../../src/core/repo/repo.js";
import { renderStatusMd } from "../../../src/core/status/status-md.js";
import { computerFile, taskReport as report, ordersJson, repoFiles, statusOf } from "../../fixtures.js";
import type { StatusJson } from "../../../src/core/fleet/status-types.js";

const T0 = "2025-06-01T10:00:00.000Z";

const computer = computerFile;

// ------------------------------------------------------------ COMPUTER files

describe("ownComputer / renderChanges", () => {
  const self = (tasks: Record<string, TaskReport & { log?: string; pid?: number }>) => ({
    name: "izzit7",
    uuid: "uuid-of-izzit7",
    heartbeat: 300,
    retryBackoff: 60,
    capabilities: { os: "linux" },
    tasks,
    lastRun: "ran build",
  });
  const orders = ordersJson([
    { id: "build", to: "izzit7", run: "make" },
    { id: "test", to: "izzit7", run: "make test" },
  ]);

  it("reports the orders still in ORDERS.json, working while one runs, without local-only fields", () => {
    const model = readModel(repoFiles(orders, [computer("izzit7")]));
    const mine = ownComputer(
      self({
        build: { ...report(), log: "/home/x/.git/coord/logs/build.log" },
        test: { ...report({ state: "in_progress", exitCode: undefined, finishedAt: undefined }), pid: 4242 },
        gone: report(),
      }),
      model,
      orders,
      new Date(T0),
    );
    expect(Object.keys(mine.tasks)).toEqual(["build", "test"]);
    expect(mine.state).toBe("working");
    expect(mine.lastSeen).toBe(T0);
    expect(mine.orders).toEqual({ seen: gitBlobId(orders), valid: true });
    expect(renderComputer(mine)).not.toMatch(/4242|logs\/build\.log/);
    expect(mine.lastRun).toBe("ran build");
  });

  it("keeps the report of a removed ANY order (it has a lease) for 7 days after it ended, so a restored order does not run again", () => {
    const files = repoFiles(orders, [computer("izzit7")]);
    const any = report({ lease: 600, finishedAt: T0 });
    const named = report({ finishedAt: T0 });
    const day = 86_400_000;
    const at = (days: number) => new Date(Date.parse(T0) + days * day);
    expect(Object.keys(ownComputer(self({ any, named }), readModel(files), orders, at(6.9)).tasks)).toEqual(["any"]);
    expect(ownComputer(self({ any, named }), readModel(files), orders, at(7)).tasks).toEqual({});
  });

  it("says when a failed task with retries left runs again, and shows it in STATUS", () => {
    const withRetries = ordersJson([{ id: "build", to: "izzit7", run: "make", retries: 2 }]);
    const model = readModel(repoFiles(withRetries, [computer("izzit7")]));
    const failedOnce = report({ state: "failed", exitCode: 4, reason: "exit code 4", finishedAt: T0 });
    const mine = ownComputer(self({ build: failedOnce }), model, withRetries, new Date(T0));
    expect(mine.tasks.build!.retryAt).toBe("2025-06-01T10:01:00.000Z"); // 60 s after the end
    expect(renderComputer(mine)).toContain("exit code 4; retry at 2025-06-01T10:01:00.000Z");
    const files = new Map([...repoFiles(withRetries, []), [computerPath("izzit7"), renderComputer(mine)]]);
    const md = renderStatusMd(statusOf(files));
    expect(md).toContain("**build** on [izzit7](coordination/COMPUTER_izzit7.md#task-build): exit code 4 · attempt 1, retry at 2025-06-01T10:01:00.000Z");
    expect(md).not.toContain("- `build` on izzit7, failed"); // failures are in their own section, not again under the orders
    // The last attempt failed: no retry to announce.
    const last = ownComputer(self({ build: { ...failedOnce, attempts: 3 } }), model, withRetries, new Date(T0));
    expect(last.tasks.build!.retryAt).toBeUndefined();
  });

  it("keeps every task and names the first problem while ORDERS.json is invalid", () => {
    const broken = '{ "version": 1, "orders": [ { "id": "build" ';
    const mine = ownComputer(self({ gone: report() }), readModel(repoFiles(broken, [])), broken, new Date(T0));
    expect(Object.keys(mine.tasks)).toEqual(["gone"]);
    expect(mine.state).toBe("idle");
    expect(mine.orders.valid).toBe(false);
    expect(mine.orders.error).toMatch(/ORDERS\.json/);
  });

  it("changes only what differs: nothing when the tree already says it", () => {
    const files = repoFiles(orders, [computer("izzit7"), computer("soda-yeti")]);
    const mine = ownComputer(self({ build: report() }), readModel(files), orders, new Date(T0));
    const first = renderChanges(files, readModel(files), mine);
    expect([...first.keys()].sort()).toEqual([computerPath("izzit7"), STATUS_JSON, STATUS_MD].sort());
    const status = JSON.parse(first.get(STATUS_JSON)!) as StatusJson;
    expect(Object.keys(status.machines)).toEqual(["izzit7", "soda-yeti"]);
    expect(status.orders.build!.machines.izzit7!.state).toBe("completed");
    const after = new Map([...files, ...first]);
    expect(renderChanges(after, readModel(after), mine).size).toBe(0);
  });
});

describe("an agent's own account of a task, as published", () => {
  const token = "Qv9LoginValue7Hd2Xk4Mw8Pn3Rt6Yb1Jc5";
  const scrub = (t: string) => redact(t, [token]);
  it.each([
    {
      said: { ok: true, session: "7f9c2b1e-4d3a-4b8e-9c1f-2a3b4c5d6e7f", turns: 3, costUsd: 0.02 },
      want: { session: "7f9c2b1e-4d3a-4b8e-9c1f-2a3b4c5d6e7f", turns: 3, costUsd: 0.02 },
      why: "a session, its turns and cost",
    },
    { said: { ok: true, session: token, turns: 1 }, want: { turns: 1 }, why: "a session that is a secret is left out (attack finding)" },
    { said: { ok: true, session: "--dangerously-skip-permissions" }, want: undefined, why: "a session that is no session id is left out" },
    {
      said: { ok: false, denied: ["Bash", token, "mcp__coord__send", "a b"] },
      want: { denied: ["Bash", "mcp__coord__send"] },
      why: "denied tools: a secret or no tool name left out",
    },
    { said: { ok: true, reason: "x", message: "y", lastError: token, sessionCostUsd: 3 }, want: undefined, why: "what is not the report is never in it" },
  ] as const)("$why", ({ said, want }) => {
    expect(publishedAgentReport(said as never, scrub)).toEqual(want);
  });
});
