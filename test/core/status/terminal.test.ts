// The terminal views (core/status/terminal.ts, core/status/colour.ts): plain and coloured,
// relative times at a fixed now, failures first, presence at the reader's clock.
import { describe, expect, it } from "vitest";
import { clipVisible, coloured, colourWanted, plain, stripColour, visibleLength } from "../../../src/core/status/colour.js";
import { ago, lengthText, machineText, orderText, statusText, textTable, unknownName, until, watchFrame, wrap } from "../../../src/core/status/terminal.js";
import { renderStatusMd } from "../../../src/core/status/status-md.js";
import type { Order } from "../../../src/core/orders/orders-schema.js";
import type { TaskReport } from "../../../src/core/fleet/computer.js";
import type { MachineStatus, OrderMachineStatus, StatusJson } from "../../../src/core/fleet/status-types.js";

const NOW = new Date("2026-11-23T14:00:00Z");
const secondsAgo = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const secondsAhead = (s: number) => new Date(NOW.getTime() + s * 1000).toISOString();
const ESC = "\x1b";

const machine = (lastSeenAgo: number, extra: Partial<MachineStatus> = {}): MachineStatus => ({
  state: "idle",
  presence: "online",
  lastSeen: secondsAgo(lastSeenAgo),
  heartbeat: 60,
  capabilities: { node: "20.20.2", os: "linux" },
  ordersValid: true,
  messages: { waiting: 0, unacked: 0 },
  ...extra,
});

const task = (state: OrderMachineStatus["state"], extra: Partial<OrderMachineStatus> = {}): OrderMachineStatus => ({
  state,
  exitCode: null,
  startedAt: null,
  finishedAt: null,
  attempts: 0,
  ...extra,
});

/** A fleet with one of everything: online, stale, offline; failed (exhausted, retrying, timed out), blocked, rejected, running, done. */
const fleet: StatusJson = {
  coord: 1,
  asOf: secondsAgo(10),
  machines: {
    // The derived presence says online for all: the views recompute it at NOW.
    box: machine(10, { state: "working", messages: { waiting: 2, unacked: 1 } }),
    late: machine(100),
    gone: machine(3600),
  },
  orders: {
    done: {
      rev: 1,
      state: "completed",
      done: true,
      to: ["box"],
      machines: { box: task("completed", { exitCode: 0, attempts: 1, startedAt: secondsAgo(300), finishedAt: secondsAgo(288), durationMs: 12_000 }) },
    },
    running: { rev: 1, state: "in_progress", done: false, to: ["box"], machines: { box: task("in_progress", { attempts: 1, startedAt: secondsAgo(40) }) } },
    gpu: { rev: 1, state: "rejected", done: true, to: ["late"], machines: { late: task("rejected", { reason: "late lacks gpu" }) } },
    deploy: {
      rev: 1,
      state: "blocked",
      done: false,
      to: ["box", "late"],
      reason: "waiting for build",
      machines: { box: task("blocked", { reason: "waiting for build" }), late: task("blocked", { reason: "waiting for build" }) },
    },
    build: {
      rev: 2,
      state: "failed",
      done: false,
      to: ["box", "late"],
      machines: {
        box: task("failed", {
          exitCode: 2,
          attempts: 1,
          reason: "exit code 2",
          retryAt: secondsAhead(240),
          startedAt: secondsAgo(70),
          finishedAt: secondsAgo(60),
          durationMs: 10_000,
          output: "compiling\nerror: no space",
        }),
        late: task("failed", {
          exitCode: 124,
          attempts: 3,
          reason: "timed out after 10 min",
          retriesExhausted: true,
          startedAt: secondsAgo(700),
          finishedAt: secondsAgo(100),
          durationMs: 600_000,
        }),
      },
    },
  },
  alerts: [{ id: "box/late/1", kind: "urgent", from: "box", to: "late", recipients: ["late"], at: secondsAgo(20 * 60), text: "disk full on late" }],
  errors: [{ file: "ORDERS.json", line: 4, path: "orders[0].timeout", message: "bad duration" }],
};

describe("colour", () => {
  it.each([
    [true, {}, true],
    [false, {}, false],
    [true, { NO_COLOR: "1" }, false],
    [true, { NO_COLOR: "" }, true], // NO_COLOR counts when non-empty
    [true, { TERM: "dumb" }, false],
    [false, { FORCE_COLOR: "1" }, true],
    [true, { FORCE_COLOR: "0" }, false],
    [true, { FORCE_COLOR: "false" }, false],
    [false, { FORCE_COLOR: "1", NO_COLOR: "1" }, true], // FORCE_COLOR wins, as in Node
    [false, { FORCE_COLOR: "" }, false],
  ] as const)("a terminal %s with %j: colour %s", (tty, env, want) => {
    expect(colourWanted(tty, env)).toBe(want);
  });

  it("colours take no width, and a cut keeps them and resets after", () => {
    const text = `${coloured("red", "failed")} on ${coloured("bold", "box")}`;
    expect(visibleLength(text)).toBe("failed on box".length);
    expect(stripColour(text)).toBe("failed on box");
    expect(clipVisible(text, 100)).toBe(text);
    const cut = clipVisible(text, 8);
    expect(stripColour(cut)).toBe("failed …");
    expect(cut.endsWith(`${ESC}[0m`)).toBe(true);
    expect(clipVisible("abcdef", 4)).toBe("abc…");
    expect(plain("red", "x")).toBe("x");
    expect(coloured(undefined, "x")).toBe("x");
  });

  it("textTable pads by what is on screen", () => {
    const t = textTable(
      ["A", "B"],
      [
        [coloured("green", "ok"), "1"],
        ["long", "2"],
      ],
    );
    expect(stripColour(t)).toBe("A     B\n----  -\nok    1\nlong  2");
  });
});

describe("times for people", () => {
  it.each([
    [ago(secondsAgo(0), NOW), "just now"],
    [ago(secondsAgo(47 * 60), NOW), "47 min ago"],
    [ago(secondsAhead(30), NOW), "just now"], // a clock a little behind the writer's
    [ago(undefined, NOW), "never"],
    [until(secondsAhead(240), NOW), "in 4 min"],
    [until(secondsAgo(10), NOW), "now"],
    [lengthText(0.85), "850 ms"],
    [lengthText(2.5), "2.5 s"],
    [lengthText(600), "10 min"],
    [lengthText(90), "1 min"],
  ])("%s is %s", (got, want) => {
    expect(got).toBe(want);
  });
});

describe("coord status: the fleet", () => {
  const text = statusText(fleet, NOW);
  const lines = text.split("\n");
  const at = (s: string) => lines.findIndex((l) => l.startsWith(s));

  it("plain text has no escape code; the coloured one is the same text once its colours are taken out", () => {
    expect(text).not.toContain(ESC);
    const colour = statusText(fleet, NOW, { paint: coloured });
    expect(colour).toContain(`${ESC}[31m`); // failed, offline: red
    expect(colour).toContain(`${ESC}[33m`); // stale: yellow
    expect(colour).toContain(`${ESC}[32m`); // completed, online: green
    expect(colour).toContain(`${ESC}[36m`); // in progress: cyan
    expect(stripColour(colour)).toBe(text);
  });

  it("says first what needs a person: failed (why, attempt, retries), then blocked (on what), then rejected (for want of what)", () => {
    expect(lines[0]).toBe("3 machines: 1 online, 1 stale, 1 offline · 5 orders: 1 failed, 1 blocked, 1 rejected, 1 in progress, 1 completed");
    expect(lines.slice(at("FAILED"), at("FAILED") + 3)).toEqual([
      "FAILED",
      "  build on box: exit code 2 · attempt 1, retry in 4 min (2026-11-23 14:04 UTC)",
      "  build on late: timed out after 10 min · attempt 3, retries exhausted",
    ]);
    expect(lines[at("BLOCKED") + 1]).toBe("  deploy on box, late: waiting for build");
    expect(lines[at("REJECTED") + 1]).toBe("  gpu on late: late lacks gpu");
    expect(at("FAILED")).toBeLessThan(at("BLOCKED"));
    expect(at("BLOCKED")).toBeLessThan(at("REJECTED"));
    expect(at("REJECTED")).toBeLessThan(at("MACHINE "));
    // The orders table too: failed, blocked, rejected, running, done.
    const rows = lines.slice(at("ORDER ") + 2, at("ORDER ") + 7).map((l) => l.split(/\s+/)[0]);
    expect(rows).toEqual(["build", "deploy", "gpu", "running", "done"]);
    expect(lines[at("build ")]).toMatch(/^build\s+2\s+failed\s+box=failed\(2\) late=failed\(124\)$/);
  });

  it("marks machines online, stale and offline at the reader's clock, with relative last seen times", () => {
    expect(lines[at("box ")]).toMatch(/^box\s+online\s+working\s+10 s ago\s+2\/1\s+node,os$/);
    expect(lines[at("late ")]).toMatch(/^late\s+stale\s+idle\s+1 min ago/);
    expect(lines[at("gone ")]).toMatch(/^gone\s+offline\s+idle\s+1 h ago/);
    // The alerts: offline at this clock (not in the files), the urgent message once unacknowledged for 15 min; failures are above.
    expect(lines.slice(at("ALERTS") + 1, at("ALERTS") + 3)).toEqual([
      "  offline: gone is offline: last seen 1 h ago (2026-11-23 13:00 UTC)",
      "  urgent message box/late/1 to late, sent 20 min ago: disk full on late",
    ]);
    expect(statusText(fleet, NOW, { alertAfterMs: 30 * 60_000 })).not.toContain("urgent message");
    expect(text).toContain("ERRORS\n  ORDERS.json:4 orders[0].timeout: bad duration");
  });

  it("a machine seen just now is online even with the reader's clock a little behind; a lastSeen far ahead is not believed", () => {
    const ahead: StatusJson = { ...fleet, machines: { soon: machine(-30), far: machine(-86_400) } };
    const t = statusText(ahead, NOW).split("\n");
    expect(t.find((l) => l.startsWith("soon"))).toMatch(/^soon\s+online\s+idle\s+just now/);
    expect(t.find((l) => l.startsWith("far"))).toMatch(/^far\s+offline\s+idle\s+not believable/);
  });

  it("a stalled machine is said with its last error", () => {
    const stalled: StatusJson = {
      ...fleet,
      machines: { box: machine(10, { state: "stalled", health: { failures: 4, lastError: "could not reach the remote", since: secondsAgo(600) } }) },
    };
    expect(statusText(stalled, NOW)).toContain("box is stalled: 4 failed syncs in a row since 10 min ago; last error: could not reach the remote");
  });

  it("an empty fleet", () => {
    expect(statusText({ coord: 1, machines: {}, orders: {}, alerts: [], errors: [] }, NOW)).toBe("No machines yet: run coord init on one.\n\nNo orders.");
  });
});

const reports = new Map<string, { tasks: Record<string, TaskReport> }>([
  [
    "box",
    {
      tasks: {
        build: {
          rev: 2,
          state: "failed",
          attempts: 1,
          exitCode: 2,
          reason: "exit code 2",
          output: Array.from({ length: 14 }, (_, i) => `line ${i + 1}`).join("\n"),
        },
        done: { rev: 1, state: "completed", attempts: 1, exitCode: 0, output: "all good" },
      },
    },
  ],
]);

describe("coord status <machine>", () => {
  it("shows presence, last seen relative and UTC, heartbeat, capabilities, messages, health, and its tasks failures first with their last lines", () => {
    const text = machineText("box", fleet, NOW, { reports });
    expect(text).not.toContain(ESC);
    const lines = text.split("\n");
    expect(lines.slice(0, 7)).toEqual([
      "box: online · working",
      "  last seen     10 s ago (2026-11-23 13:59 UTC)",
      "  heartbeat     every 1 min: stale after 1 min without news, offline after 3 min",
      "  capabilities  node 20.20.2, os linux",
      "  messages      2 waiting (not received yet), 1 received but not acknowledged",
      "  orders        ORDERS.json valid as it last read it",
      "  health        syncing",
    ]);
    const table = lines.slice(lines.findIndex((l) => l.startsWith("ORDER ")) + 2);
    expect(table.slice(0, 4).map((l) => l.split(/\s+/)[0])).toEqual(["build", "deploy", "running", "done"]);
    expect(table[0]).toMatch(/^build\s+2\s+failed\s+1\s+2\s+finished 1 min ago, took 10 s\s+exit code 2 · retry in 4 min/);
    expect(table[1]).toMatch(/^deploy\s+1\s+blocked\s+0\s+-\s+waiting for build$/);
    expect(table[2]).toMatch(/^running\s+1\s+in progress\s+1\s+-\s+started 40 s ago$/);
    // The last 10 lines of the failed task, from the machine's own file (STATUS keeps fewer).
    const out = lines.indexOf("build: last lines of output");
    expect(lines.slice(out + 1, out + 3)).toEqual(["    | … (4 more lines above)", "    | line 5"]);
    expect(lines.at(-1)).toBe("    | line 14");
    expect(stripColour(machineText("box", fleet, NOW, { reports, paint: coloured }))).toBe(text);
  });

  it("without the machines' files: the output STATUS keeps", () => {
    expect(machineText("box", fleet, NOW)).toContain("build: last lines of output\n    | compiling\n    | error: no space");
  });

  it("an offline machine, its exhausted retries, its alerts", () => {
    const text = machineText("gone", fleet, NOW);
    expect(text.split("\n")[0]).toBe("gone: offline · idle");
    expect(text).toContain("last seen     1 h ago (2026-11-23 13:00 UTC)");
    expect(text).toContain("No order addresses gone.");
    expect(text).toContain("ALERTS\n  offline: gone is offline");
    expect(machineText("late", fleet, NOW)).toMatch(/build\s+2\s+failed\s+3\s+124\s+finished 1 min ago, took 10 min\s+timed out after 10 min · retries exhausted/);
  });

  it("the paths it holds, live at the reader's clock; not the other machines' ones", () => {
    const reservations = [
      { machine: "box", id: 1, paths: ["src/**"], reason: "auth rewrite", at: "2026-11-23T13:00:00Z", until: "2026-11-23T16:00:00Z" },
      { machine: "box", id: 2, paths: ["docs/a.md"], at: "2026-11-23T12:00:00Z", until: "2026-11-23T13:30:00Z" },
      { machine: "gone", id: 1, paths: ["lib/**"], at: "2026-11-23T13:00:00Z", until: "2026-11-23T16:00:00Z" },
    ];
    const text = machineText("box", { ...fleet, reservations }, NOW);
    expect(text).toMatch(/RESERVED BY +PATHS +UNTIL +REASON\n[- ]+\nbox +src\/\*\* +2026-11-23 16:00 UTC \(in 2 h\) +auth rewrite/);
    expect(text).not.toContain("docs/a.md"); // expired
    expect(text).not.toContain("lib/**");
    expect(machineText("late", { ...fleet, reservations }, NOW)).not.toContain("RESERVED BY");
  });
});

describe("coord status --order <id>", () => {
  const def: Order = {
    id: "build",
    to: ["box", "late"],
    run: "make",
    rev: 2,
    after: ["lint"],
    requires: [],
    env: {},
    retries: 2,
    priority: "normal",
    cancelled: false,
    timeout: 600,
  };

  it("shows to, rev, state, what it runs, and each machine: state, attempts, exit, times, why, output", () => {
    const text = orderText("build", fleet, NOW, { reports, order: def });
    expect(text).not.toContain(ESC);
    const lines = text.split("\n");
    expect(lines.slice(0, 6)).toEqual(["build (rev 2): failed · not done yet", "  to       box, late", "  runs     make", "  after    lint", "  retries  2", "  timeout  10 min"]);
    expect(lines.find((l) => l.startsWith("box "))).toMatch(/^box\s+failed\s+1\s+2\s+1 min ago\s+1 min ago\s+10 s\s+exit code 2 · retry in 4 min \(2026-11-23 14:04 UTC\)$/);
    expect(lines.find((l) => l.startsWith("late "))).toMatch(/^late\s+failed\s+3\s+124\s+11 min ago\s+1 min ago\s+10 min\s+timed out after 10 min · retries exhausted$/);
    expect(text).toContain("box: last lines of output\n    | … (4 more lines above)");
  });

  it("a blocked order says on what; an ANY order nobody claimed says so; a completed one shows its output", () => {
    expect(orderText("deploy", fleet, NOW)).toContain("  why  waiting for build");
    const any: StatusJson = { ...fleet, orders: { review: { rev: 1, state: "queued", done: false, to: "ANY", reason: "no registered machine has gpu", machines: {} } } };
    expect(orderText("review", any, NOW)).toBe("review (rev 1): queued · not done yet\n  to   ANY\n  why  no registered machine has gpu\n\nNo machine has claimed it yet.");
    expect(orderText("done", fleet, NOW, { reports })).toContain("box: output\n    | all good");
  });
});

describe("unknown names", () => {
  it.each([
    ["machine", "bx", ["box", "late", "gone"], 'there is no machine "bx" in the fleet (did you mean box?); the machines are box, late, gone'],
    ["machine", "zzz", ["box"], 'there is no machine "zzz" in the fleet; the machines are box'],
    ["machine", "box", [], 'there is no machine "box" in the fleet, and none yet: run coord init on one'],
    ["order", "BUILD", ["build", "deploy"], 'there is no order "BUILD" in ORDERS.json (did you mean build?); the orders are build, deploy'],
    [
      "order",
      "nothing",
      Array.from({ length: 12 }, (_, i) => `o${i}`),
      'there is no order "nothing" in ORDERS.json; the orders are o0, o1, o2, o3, o4, o5, o6, o7, o8, o9 and 2 more',
    ],
  ] as const)("%s %s", (kind, name, known, want) => {
    expect(unknownName(kind, name, [...known])).toBe(want);
  });
});

describe("--watch frames", () => {
  const at = new Date("2026-11-23T14:00:07.250Z");

  it("without a terminal: a separator line with the time, then the view, no escape code", () => {
    expect(watchFrame({ text: "view", at, every: 10 })).toBe("--- 2026-11-23 14:00:07 UTC ---\nview");
    expect(watchFrame({ text: "view", at, every: 10, note: "stale: the remote did not answer" })).toBe("--- 2026-11-23 14:00:07 UTC ---\nstale: the remote did not answer\nview");
  });

  it("on a terminal: home, each line over the old one, the rest cleared; cut to the window", () => {
    const frame = watchFrame({ text: "a\nb", at, every: 10 }, {});
    expect(frame).toBe(`${ESC}[Hcoord status · every 10 s · refreshed 2026-11-23 14:00:07 UTC · Ctrl-C to stop${ESC}[K\n${ESC}[K\na${ESC}[K\nb${ESC}[K${ESC}[J`);
    const text = Array.from({ length: 30 }, (_, i) => `line ${i} ${"x".repeat(50)}`).join("\n");
    const small = watchFrame({ text, at, every: 10 }, { rows: 10, columns: 20 });
    const lines = small.replace(`${ESC}[H`, "").replace(`${ESC}[J`, "").split(`${ESC}[K\n`);
    expect(lines).toHaveLength(9); // the last row stays free: printing never scrolls the frame
    for (const l of lines) expect(visibleLength(l.replace(`${ESC}[K`, ""))).toBeLessThanOrEqual(20);
    expect(lines.at(-1)).toMatch(/^… 24 more lines/);
  });

  it("on a terminal, a note (why the view is old) is wrapped, not cut", () => {
    const note = "stale: could not reach the remote /srv/hub.git; showing the fleet as of the last fetch (3 min ago)";
    const frame = watchFrame({ text: "view", at, every: 10, note }, { rows: 20, columns: 40 });
    const lines = frame.replace(`${ESC}[H`, "").replace(`${ESC}[J`, "").split(`${ESC}[K\n`);
    expect(lines.slice(1, 4)).toEqual(["stale: could not reach the remote", "/srv/hub.git; showing the fleet as of", "the last fetch (3 min ago)"]);
    expect(wrap("abcdefghij", 4)).toEqual(["abcd", "efgh", "ij"]);
  });
});

const T0 = "2025-06-01T10:00:00.000Z";

describe("terminal", () => {
  it("textTable pads columns and trims line ends", () => {
    expect(
      textTable(
        ["A", "BB"],
        [
          ["xyz", "1"],
          ["q", ""],
        ],
      ),
    ).toBe("A    BB\n---  --\nxyz  1\nq");
  });

  const status: StatusJson = {
    coord: 1,
    machines: {
      fresh: {
        state: "working",
        presence: "online",
        lastSeen: "2025-06-01T09:59:00Z",
        heartbeat: 60,
        capabilities: { node: "20", os: "linux" },
        ordersValid: true,
        messages: { waiting: 0, unacked: 0 },
      },
      stale: { state: "idle", presence: "offline", lastSeen: "2025-06-01T09:00:00Z", heartbeat: 60, capabilities: {}, ordersValid: true, messages: { waiting: 2, unacked: 1 } },
    },
    orders: {
      build: {
        rev: 2,
        state: "failed",
        done: false,
        to: ["fresh", "stale"],
        machines: {
          fresh: { state: "failed", exitCode: 124, startedAt: null, finishedAt: null, attempts: 1, reason: "timed out after 2s" },
          stale: { state: "rejected", exitCode: null, startedAt: null, finishedAt: null, attempts: 0, reason: "stale lacks gpu" },
        },
      },
      review: { rev: 1, state: "queued", done: false, to: "ANY", reason: "no registered machine has gpu", machines: {} },
    },
    alerts: [],
    errors: [
      { file: "ORDERS.json", line: 4, path: "orders[0].timeout", message: "bad" },
      { file: "coordination/COMPUTER_x.md", message: "ignored" },
    ],
  };

  it("statusText shows offline for a stale machine given now, and how long ago", () => {
    const text = statusText(status, new Date(T0));
    const lines = text.split("\n");
    expect(lines.find((l) => l.startsWith("stale"))).toMatch(/^stale\s+offline\s+idle\s+1 h ago\s+2\/1/);
    expect(lines.find((l) => l.startsWith("fresh"))).toMatch(/^fresh\s+online\s+working\s+1 min ago\s+0\/0\s+node,os$/);
    expect(lines.find((l) => l.startsWith("build"))).toMatch(/^build\s+2\s+failed\s+fresh=failed\(124\) stale=rejected$/);
    expect(text).toContain("FAILED\n  build on fresh: timed out after 2s · attempt 1, a retry waits");
    expect(text).toContain("REJECTED\n  build on stale: stale lacks gpu");
    // STATUS.md says why too.
    const md = renderStatusMd({ ...status, asOf: T0 });
    expect(md).toContain("**build** on [fresh](coordination/COMPUTER_fresh.md#task-build): timed out after 2s");
    expect(md).toContain("- `build` on stale, rejected: stale lacks gpu");
    expect(md).toContain("| [stale](coordination/COMPUTER_stale.md) | 🔴 offline · idle | 1 h ago (2025-06-01 09:00 UTC) |");
    expect(text).toContain("review queued: no registered machine has gpu");
    expect(text).toContain("ERRORS");
    expect(text).toContain("  ORDERS.json:4 orders[0].timeout: bad");
    expect(text).toContain("  coordination/COMPUTER_x.md: ignored");
  });

  it("a machine seen just now is not offline even if the clock is slightly behind", () => {
    const text = statusText(status, new Date("2025-06-01T09:58:30Z"));
    expect(text.split("\n").find((l) => l.startsWith("fresh"))).toMatch(/^fresh\s+online\s+working\s+just now/);
  });

  it("empty status", () => {
    expect(statusText({ coord: 1, machines: {}, orders: {}, alerts: [], errors: [] }, new Date(T0))).toBe("No machines yet: run coord init on one.\n\nNo orders.");
  });
});
