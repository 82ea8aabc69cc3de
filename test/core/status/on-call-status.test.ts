// A machine on call, as people read it: its file (rendered, parsed back),
// STATUS.json, STATUS.md and coord status <machine> say whose messages its
// agent answers, the running turns with their latest steps, and the day's
// spend; a malformed report is dropped, never the file.
import { describe, expect, it } from "vitest";
import { parseComputer, renderComputer } from "../../../src/core/fleet/computer.js";
import { renderStatusMd } from "../../../src/core/status/status-md.js";
import { machineText, statusText } from "../../../src/core/status/terminal.js";
import { machineStateText, planNotify } from "../../../src/core/status/alerts.js";
import { uiSnapshot } from "../../../src/core/status/ui-view.js";
import { computerFile, repoFiles, statusOf, T0_ISO } from "../../fixtures.js";

const onCall = {
  agent: "claude",
  from: ["izzit7"],
  permissions: "read-only" as const,
  turns: [{ thread: "izzit7/machine-2/4", asker: "izzit7", since: T0_ISO, step: "Bash: forge build | tee *log*" }],
  spent: { day: "2025-06-01", usd: 0.221 },
};

describe("a machine on call, as people read it", () => {
  it("its file keeps the report through a render and a parse, and shows a section for people", () => {
    const text = renderComputer(computerFile("machine-2", { onCall }));
    expect(text).toContain("## On call");
    expect(text).toContain("claude answers messages from `izzit7` (permissions read-only); spent $0.2210 on 2025-06-01.");
    expect(parseComputer(text, "machine-2").onCall).toEqual(onCall);
  });

  it("a malformed report is dropped, the file read", () => {
    const text = renderComputer(computerFile("machine-2", { onCall })).replace('"agent":"claude"', '"agent":42');
    const back = parseComputer(text, "machine-2");
    expect(back.onCall).toBeUndefined();
    expect(back.name).toBe("machine-2");
  });

  it("STATUS.json carries it, STATUS.md and coord status <machine> say it", () => {
    const status = statusOf(repoFiles(undefined, [computerFile("machine-2", { onCall }), computerFile("izzit7")]));
    expect(status.machines["machine-2"]!.onCall).toEqual(onCall);
    expect(status.machines.izzit7!.onCall).toBeUndefined();
    const md = renderStatusMd(status);
    expect(md).toContain("- machine-2 is on call: claude answers izzit7; $0.22 spent on 2025-06-01");
    expect(md).toContain(`  - running for izzit7 since ${T0_ISO} (thread \`izzit7/machine-2/4\`): \`Bash: forge build | tee *log*\``);
    const view = machineText("machine-2", status, new Date(Date.parse(T0_ISO) + 90_000));
    expect(view).toMatch(
      /on call +claude answers izzit7 \(read-only\); \$0\.22 spent 2025-06-01; running: thread izzit7\/machine-2\/4 for izzit7 since 1 min ago \(2025-06-01 10:00 UTC\), at: Bash: forge build \| tee \*log\*/,
    );
  });
});

describe("what needs a person on call is shown (issue 58, finding 12)", () => {
  const request = "machine-2/izzit7/9";
  const waiting = { ...onCall, waiting: [{ request, tool: "Bash", asker: "izzit7", since: T0_ISO }] };
  const later = new Date(Date.parse(T0_ISO) + 180_000);

  it("a request waiting for a person is an alert: STATUS.json, STATUS.md, coord status, the page; with how long it has waited", () => {
    const text = renderComputer(computerFile("machine-2", { onCall: waiting }));
    expect(parseComputer(text, "machine-2").onCall).toEqual(waiting);
    const status = statusOf(
      repoFiles(undefined, [computerFile("machine-2", { onCall: waiting, lastSeen: later.toISOString() }), computerFile("izzit7", { lastSeen: later.toISOString() })]),
    );
    const alert = status.alerts.find((a) => a.kind === "approval");
    expect(alert).toEqual({
      id: `approval/${request}`,
      kind: "approval",
      machine: "machine-2",
      to: "izzit7",
      at: T0_ISO,
      text: `machine-2's claude waits for izzit7 to approve or deny Bash (request ${request}): coord approve ${request}, or coord deny ${request}`,
    });
    expect(renderStatusMd(status)).toContain(`- ✋ **approval waiting**: ${alert!.text} · waiting since 2025-06-01 10:00 UTC (3 min)`);
    // When it was asked comes first: the line ends with what to run, not "…coord deny <id>, for just now" (issue 65).
    expect(statusText(status, later)).toContain(`approval waiting, asked 3 min ago: ${alert!.text}\n`);
    expect(statusText(status, new Date(Date.parse(T0_ISO)))).toContain(`approval waiting, asked just now: ${alert!.text}\n`);
    expect(statusText(status, later)).not.toMatch(/coord deny \S+, for /);
    expect(machineText("machine-2", status, later)).toContain(`approval, asked 3 min ago: ${alert!.text}`);
    expect(machineText("izzit7", status, later)).toContain(`approval, asked 3 min ago: ${alert!.text}`);
    expect(uiSnapshot({ status, commit: "c0ffee", now: later }).alerts).toContainEqual({ kind: "approval", text: `asked 3 min ago: ${alert!.text}` });
    // Notify: a new alert, once.
    expect(planNotify(status.alerts, {}, later).send.map((a) => a.id)).toContain(`approval/${request}`);
  });

  it("the fleet table shows turns running, not idle", () => {
    const status = statusOf(repoFiles(undefined, [computerFile("machine-2", { onCall }), computerFile("izzit7")]));
    expect(machineStateText(status.machines["machine-2"]!)).toBe("answering (1 turn on call)");
    expect(machineStateText(status.machines.izzit7!)).toBe("idle");
    expect(renderStatusMd(status)).toContain("| [machine-2](coordination/COMPUTER_machine-2.md) | answering (1 turn on call) |");
    expect(statusText(status, new Date(Date.parse(T0_ISO) + 60_000))).toMatch(/machine-2 +\S+ +answering \(1 turn on call\)/);
  });

  it("coord status <machine> says in its header what its on-call line says: never idle above a running turn (issue 65, finding 9)", () => {
    const status = statusOf(repoFiles(undefined, [computerFile("machine-2", { onCall }), computerFile("izzit7")]));
    const [head, ...rest] = machineText("machine-2", status, new Date(Date.parse(T0_ISO) + 60_000)).split("\n");
    expect(rest.join("\n")).toMatch(/on call +.*; running: thread izzit7\/machine-2\/4/);
    expect(head).toMatch(/^machine-2: \S+ · answering \(1 turn on call\)$/);
    const none = statusOf(repoFiles(undefined, [computerFile("machine-2", { onCall: { ...onCall, turns: undefined } }), computerFile("izzit7")]));
    const text = machineText("machine-2", none, new Date(Date.parse(T0_ISO) + 60_000));
    expect(text.split("\n")[0]).toMatch(/ · idle$/);
    expect(text).toMatch(/no turn running/);
  });
});
