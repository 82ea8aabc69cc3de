// What coord ui's page shows (core/status/ui-view.ts), from the files of one commit:
// presence marks at the reader's time, failures first, an order's output, the
// conversation between two machines with its receipts, and when a new
// snapshot is worth pushing.
import { describe, expect, it } from "vitest";
import { type ComputerFile, renderComputer } from "../../../src/core/fleet/computer.js";
import { renderMessageFile } from "../../../src/core/messages/messages.js";
import { computerPath } from "../../../src/core/files/names.js";
import { ORDERS_FILE, readModel } from "../../../src/core/repo/repo.js";
import { deriveStatus } from "../../../src/core/status/status.js";
import { conversation, orderDetail, seenText, snapshotKey, uiSnapshot } from "../../../src/core/status/ui-view.js";
import { computerFile, T0_ISO } from "../../fixtures.js";

const at = (seconds: number) => new Date(Date.parse(T0_ISO) + seconds * 1000);

function model(computers: ComputerFile[], orders: object[] = [], extra: [string, string][] = []) {
  const files = new Map<string, string>([[ORDERS_FILE, JSON.stringify({ version: 1, orders })], ...extra]);
  for (const c of computers) files.set(computerPath(c.name), renderComputer(c));
  return readModel(files);
}

const report = (state: "completed" | "failed", over: object = {}) => ({
  rev: 1,
  state,
  attempts: 1,
  exitCode: state === "failed" ? 2 : 0,
  startedAt: T0_ISO,
  finishedAt: T0_ISO,
  ...over,
});

describe("the snapshot", () => {
  const fleet = () =>
    model(
      [
        computerFile("izzit7", { heartbeat: 60, tasks: { build: report("completed"), test: report("completed") } }),
        computerFile("soda-yeti", {
          heartbeat: 60,
          lastSeen: at(-100).toISOString(),
          tasks: { build: report("completed"), test: report("failed", { output: "FAIL api\n", reason: "exit code 2" }) },
        }),
        computerFile("mule-3", { heartbeat: 60, lastSeen: at(-1000).toISOString(), tasks: { build: report("completed") } }),
      ],
      [
        { id: "build", to: "ALL", run: "make" },
        { id: "test", to: ["izzit7", "soda-yeti"], run: "npm test" },
        { id: "deploy", to: "izzit7", run: "./deploy", after: ["test"] },
        { id: "a-queued", to: "izzit7", run: "true" },
      ],
    );

  it("marks each machine online, stale or offline at the reader's time (presenceOf), with last seen for people", () => {
    const s = uiSnapshot({ status: deriveStatus(fleet()), commit: "c1", local: "izzit7", now: at(10) });
    expect(s.machines.map((m) => [m.name, m.presence, m.local])).toEqual([
      ["izzit7", "online", true],
      ["mule-3", "offline", false],
      ["soda-yeti", "stale", false],
    ]);
    expect(s.machines.find((m) => m.name === "mule-3")!.seen).toBe("16 min ago (2025-06-01 09:43 UTC)");
    expect(s.stats.machines).toEqual({ online: 1, stale: 1, offline: 1 });
    expect(s.machines[0]!.heartbeat).toBe("1m");
    // Alerts: offline at the reader's time (as the marks), failed for good as derived.
    expect(s.alerts).toEqual([
      { kind: "offline", text: "mule-3 is offline: last seen 16 min ago (2025-06-01 09:43 UTC)" },
      { kind: "failed", text: "test failed on soda-yeti: exit code 2" },
    ]);
    expect(s.stats.alerts).toBe(2);
    // soda-yeti, stale now, is offline 3 heartbeats after it was last seen: then it has an alert too.
    const later = uiSnapshot({ status: deriveStatus(fleet()), commit: "c1", now: at(100) });
    expect(later.alerts.map((a) => a.text.split(":")[0])).toEqual(["mule-3 is offline", "soda-yeti is offline", "test failed on soda-yeti"]);
  });

  it("lists failed orders first, then what waits, then the rest; counts them by state", () => {
    const s = uiSnapshot({ status: deriveStatus(fleet()), commit: "c1", now: at(10) });
    expect(s.orders.map((o) => [o.id, o.state])).toEqual([
      ["test", "failed"],
      ["deploy", "blocked"],
      ["a-queued", "queued"],
      ["build", "completed"],
    ]);
    expect(s.stats.orders).toEqual({ failed: 1, blocked: 1, queued: 1, completed: 1 });
    const test = s.orders[0]!;
    expect(test.machines).toEqual({ izzit7: { state: "completed" }, "soda-yeti": { state: "failed", note: "exit code 2" } });
    expect(test.why).toBe("soda-yeti: exit code 2");
    expect(s.orders[1]!.why).toMatch(/dependency test failed/);
    expect(s.orders[3]!.why).toBeUndefined();
    expect(s.local).toBeUndefined();
  });

  it("lists the reservations live at the reader's time and every machine's services, with why one is not running", () => {
    const status = deriveStatus(fleet());
    const withMore = {
      ...status,
      reservations: [
        { machine: "izzit7", id: 1, paths: ["src/**", "docs/a.md"], reason: "auth rewrite", at: T0_ISO, until: at(7200).toISOString() },
        { machine: "soda-yeti", id: 1, paths: ["lib/**"], shared: true as const, at: T0_ISO, until: at(5).toISOString() },
      ],
      services: {
        db: {
          rev: 1,
          machines: { izzit7: { rev: 1, state: "running" as const, restarts: 0 }, "soda-yeti": { rev: 1, state: "failed" as const, restarts: 3, reason: "exited 1 three times" } },
        },
      },
    };
    const s = uiSnapshot({ status: withMore, commit: "c1", now: at(10) });
    expect(s.reservations).toEqual([
      {
        machine: "izzit7",
        paths: "src/** docs/a.md",
        shared: false,
        until: at(7200).toISOString(),
        untilText: expect.stringMatching(/UTC \(in 1 h 59 min\)$|UTC \(in 2 h\)$/),
        reason: "auth rewrite",
      },
    ]);
    expect(s.services).toEqual([
      { id: "db", machine: "izzit7", state: "running", restarts: 0 },
      { id: "db", machine: "soda-yeti", state: "failed", restarts: 3, reason: "exited 1 three times" },
    ]);
    expect(uiSnapshot({ status, commit: "c1", now: at(10) })).toMatchObject({ reservations: [], services: [] });
  });

  it("an order's detail has its definition and every report with its output, failed first", () => {
    const d = orderDetail(fleet(), "test");
    expect(d.definition).toEqual({ file: ORDERS_FILE, to: "izzit7, soda-yeti", rev: 1, what: "run: npm test", priority: "normal" });
    expect(d.reports.map((r) => [r.machine, r.state, r.output])).toEqual([
      ["soda-yeti", "failed", "FAIL api\n"],
      ["izzit7", "completed", undefined],
    ]);
    expect(orderDetail(fleet(), "nothing")).toEqual({ id: "nothing", reports: [] });
  });

  it("a recurring order's detail has its schedule, its next slot after the fleet's time, and each report's slot", () => {
    const slot = "2025-06-01T09:00:00.000Z";
    const m = model(
      [computerFile("izzit7", { tasks: { nightly: report("completed", { slot }) } })],
      [{ id: "nightly", to: "izzit7", run: "true", every: "0 9 * * *", timezone: "UTC" }],
    );
    const d = orderDetail(m, "nightly");
    expect(d.definition).toMatchObject({ every: "0 9 * * * (UTC)", next: "2025-06-02T09:00:00.000Z" });
    expect(d.reports).toEqual([expect.objectContaining({ machine: "izzit7", slot })]);
  });

  it("a new snapshot is pushed when the commit, the minute, the stale note or a mark changes, not within the minute", () => {
    const status = deriveStatus(fleet());
    const key = (commit: string, seconds: number, stale?: string) => snapshotKey(uiSnapshot({ status, commit, now: at(seconds), ...(stale ? { stale } : {}) }));
    expect(key("c1", 1)).toBe(key("c1", 40));
    expect(key("c1", 1)).not.toBe(key("c2", 1));
    expect(key("c1", 1)).not.toBe(key("c1", 61));
    expect(key("c1", 1)).not.toBe(key("c1", 1, "the remote did not answer"));
    // izzit7 (heartbeat 60 s) goes stale after 90 s: the mark changes within the minute of 10:01:30.
    expect(key("c1", 91)).not.toBe(key("c1", 89));
  });

  it("an emergency stop in ORDERS.json is on the page, and a new snapshot goes out for it", () => {
    const files = new Map<string, string>([
      [ORDERS_FILE, JSON.stringify({ version: 1, emergency: { stop: true, reason: "bad deploy" }, orders: [] })],
      [computerPath("izzit7"), renderComputer(computerFile("izzit7", { state: "emergency", stateReason: "emergency stop: bad deploy" }))],
    ]);
    const stopped = uiSnapshot({ status: deriveStatus(readModel(files)), commit: "c1", now: at(1) });
    expect(stopped.emergency).toBe("bad deploy");
    expect(stopped.machines[0]).toMatchObject({ state: "emergency", stateReason: "emergency stop: bad deploy" });
    const calm = uiSnapshot({ status: deriveStatus(fleet()), commit: "c1", now: at(1) });
    expect(calm.emergency).toBeUndefined();
    expect(snapshotKey({ ...calm, emergency: "x" })).not.toBe(snapshotKey(calm));
  });

  it("says when a lastSeen is ahead of the reader's clock", () => {
    expect(seenText({ lastSeen: at(7200).toISOString(), heartbeat: 60 }, at(0))).toMatch(/not believed/);
    expect(seenText({ lastSeen: T0_ISO, heartbeat: 60 }, at(2))).toBe("just now (2025-06-01 10:00 UTC)");
  });
});

describe("the conversation between two machines", () => {
  const file = (from: string, to: string, messages: { seq: number; text: string; at: string; priority?: "normal" | "urgent" }[]) =>
    [
      `coordination/messages/${from}_TO_${to}.md`,
      renderMessageFile({ coord: 1, from, to, next: messages.length + 1, messages: messages.map((m) => ({ priority: "normal", ...m })) }),
    ] as [string, string];

  const m = model(
    [
      computerFile("izzit7", { messages: { "soda-yeti/izzit7": { received: 1, acked: 0 } } }),
      computerFile("soda-yeti", { messages: { "izzit7/soda-yeti": { received: 2, acked: 1 } } }),
      computerFile("mule-3"),
    ],
    [],
    [
      file("izzit7", "soda-yeti", [
        { seq: 1, text: "first", at: at(1).toISOString() },
        { seq: 2, text: "<b>not html</b>", at: at(3).toISOString() },
        { seq: 3, text: "third", at: at(5).toISOString(), priority: "urgent" },
      ]),
      file("soda-yeti", "izzit7", [{ seq: 1, text: "reply", at: at(2).toISOString() }]),
      file("izzit7", "mule-3", [{ seq: 1, text: "elsewhere", at: at(4).toISOString() }]),
      file("izzit7", "ALL", [{ seq: 1, text: "to everyone", at: at(4).toISOString() }]),
    ],
  );

  it("an urgent message not read yet is one alert naming its sender and recipient", () => {
    const s = uiSnapshot({ status: deriveStatus(m), commit: "c1", now: at(10) });
    expect(s.alerts).toEqual([{ kind: "urgent", text: "izzit7 to soda-yeti (izzit7/soda-yeti/3): third" }]);
  });

  it("has both directions in time order, the text as written, and the recipient's receipt", () => {
    const chat = conversation(m, "izzit7", "soda-yeti");
    expect(chat.map((x) => [x.id, x.text, x.receipt])).toEqual([
      ["izzit7/soda-yeti/1", "first", "acked"],
      ["soda-yeti/izzit7/1", "reply", "received"],
      ["izzit7/soda-yeti/2", "<b>not html</b>", "received"],
      ["izzit7/soda-yeti/3", "third", "waiting"],
    ]);
    expect(chat[3]).toMatchObject({ priority: "urgent", when: "2025-06-01 10:00 UTC", from: "izzit7", to: "soda-yeti" });
    expect(conversation(m, "soda-yeti", "izzit7")).toEqual(chat);
  });

  it("is empty for a machine with itself or with ALL", () => {
    expect(conversation(m, "izzit7", "izzit7")).toEqual([]);
    expect(conversation(m, "izzit7", "ALL")).toEqual([]);
    expect(conversation(m, "mule-3", "soda-yeti")).toEqual([]);
  });
});
