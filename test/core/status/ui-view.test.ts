// What coord ui's page shows (core/status/ui-view.ts), from the files of one commit:
// presence marks at the reader's time, failures first, an order's output, the
// conversation between two machines with its receipts, agents on call in it
// (answers marked, the running turns, the thread a reply goes in), and when a
// new snapshot is worth pushing.
import { describe, expect, it } from "vitest";
import { type ComputerFile, renderComputer } from "../../../src/core/fleet/computer.js";
import { renderMessageFile } from "../../../src/core/messages/messages.js";
import { computerPath } from "../../../src/core/files/names.js";
import { ORDERS_FILE, readModel } from "../../../src/core/repo/repo.js";
import { deriveStatus } from "../../../src/core/status/status.js";
import { chatView, conversation, orderDetail, seenText, snapshotKey, uiSnapshot } from "../../../src/core/status/ui-view.js";
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

describe("a conversation with an agent on call", () => {
  type Msg = { seq: number; text: string; at: string; replyTo?: string; agent?: object };
  const file = (from: string, to: string, messages: Msg[]) =>
    [
      `coordination/messages/${from}_TO_${to}.md`,
      renderMessageFile({ coord: 1, from, to, next: messages.length + 1, messages: messages.map((m) => ({ priority: "normal" as const, ...m })) }),
    ] as [string, string];
  const iso = (seconds: number) => at(seconds).toISOString();
  const onCall = (over: object = {}) => ({
    agent: "claude",
    from: ["izzit7"],
    turns: [
      { thread: "izzit7/soda-yeti/2", asker: "izzit7", since: iso(30), step: "Bash: sleep 30" },
      { thread: "mule-3/soda-yeti/1", asker: "mule-3", since: iso(40) },
    ],
    ...over,
  });
  const fleetWith = (oncall: object | undefined, messages: [string, string][], lastSeen = T0_ISO) =>
    model(
      [
        computerFile("izzit7", { heartbeat: 60 }),
        computerFile("soda-yeti", { heartbeat: 60, lastSeen, ...(oncall ? { onCall: oncall as never } : {}) }),
        computerFile("mule-3", { heartbeat: 60 }),
      ],
      [],
      messages,
    );
  // izzit7 asks, soda-yeti's claude answers (a1), izzit7 goes on in the thread (q2), is answered (stopped), starts another (q3).
  const talk: [string, string][] = [
    file("izzit7", "soda-yeti", [
      { seq: 1, text: "clone the repo", at: iso(1) },
      { seq: 2, text: "sleep 30 then build", at: iso(3), replyTo: "soda-yeti/izzit7/1" },
      { seq: 3, text: "/stop", at: iso(5), replyTo: "izzit7/soda-yeti/1" },
    ]),
    file("soda-yeti", "izzit7", [
      {
        seq: 1,
        text: "heard: clone the repo",
        at: iso(2),
        replyTo: "izzit7/soda-yeti/1",
        agent: { answer: true, cli: "claude", chain: 1, durationMs: 12_000, turns: 3, costUsd: 0.021 },
      },
      { seq: 2, text: "Stopped (/stop from izzit7).", at: iso(6), replyTo: "izzit7/soda-yeti/2", agent: { answer: true, cli: "claude", chain: 1, outcome: "stopped" } },
    ]),
  ];
  const view = (m: ReturnType<typeof fleetWith>, a: string, b: string, local: string | undefined, seconds = 90) =>
    chatView({ model: m, status: deriveStatus(m), a, b, ...(local ? { local } : {}), now: at(seconds) });

  it("marks each agent's answer with agentLine's text and its outcome, and puts every message in its thread", () => {
    const chat = view(fleetWith(onCall(), talk), "izzit7", "soda-yeti", "izzit7");
    expect(chat.messages.map((x) => [x.id, x.thread, x.agent])).toEqual([
      ["izzit7/soda-yeti/1", "izzit7/soda-yeti/1", undefined],
      ["soda-yeti/izzit7/1", "izzit7/soda-yeti/1", { answer: true, line: "answer by claude, 12 s, 3 turns, $0.0210" }],
      ["izzit7/soda-yeti/2", "izzit7/soda-yeti/1", undefined],
      ["izzit7/soda-yeti/3", "izzit7/soda-yeti/1", undefined],
      ["soda-yeti/izzit7/2", "izzit7/soda-yeti/1", { answer: true, line: "answer by claude, stopped", outcome: "stopped" }],
    ]);
    expect(chat.stopText).toBe("/stop");
  });

  it("a message whose first message is archived is in the thread of the oldest id it reaches", () => {
    const m = fleetWith(undefined, [file("soda-yeti", "izzit7", [{ seq: 1, text: "more", at: iso(2), replyTo: "izzit7/soda-yeti/9", agent: { answer: true, cli: "claude" } }])]);
    expect(conversation(m, "izzit7", "soda-yeti").map((x) => x.thread)).toEqual(["izzit7/soda-yeti/9"]);
  });

  const cases: { name: string; oncall?: object; a: string; b: string; local?: string; lastSeen?: string; want: object[] }[] = [
    {
      name: "the other side answers this machine: its turns for it, with their steps, stoppable",
      oncall: onCall(),
      a: "izzit7",
      b: "soda-yeti",
      local: "izzit7",
      want: [
        {
          machine: "soda-yeti",
          agent: "claude",
          asker: "izzit7",
          answers: true,
          text: "soda-yeti's claude answers you",
          turns: [
            {
              thread: "izzit7/soda-yeti/2",
              asker: "izzit7",
              since: "2025-06-01T10:00:30.000Z",
              sinceText: "2025-06-01 10:00 UTC (1 min)",
              step: "Bash: sleep 30",
              about: "sleep 30 then build",
              stoppable: true,
            },
          ],
        },
      ],
    },
    {
      name: "the same seen from a page that is not a machine's: named, not stoppable",
      oncall: onCall(),
      a: "soda-yeti",
      b: "izzit7",
      want: [{ machine: "soda-yeti", asker: "izzit7", text: "soda-yeti's claude answers izzit7", turns: [expect.objectContaining({ stoppable: false })] }],
    },
    {
      name: "on call for others only: it says so, and whom it answers",
      oncall: onCall({ from: ["mule-3"], turns: undefined }),
      a: "izzit7",
      b: "soda-yeti",
      local: "izzit7",
      want: [{ machine: "soda-yeti", answers: false, text: "soda-yeti's claude is on call but does not answer you: it answers mule-3", turns: [] }],
    },
    {
      name: "on call for ALL, offline: it says since when it is silent",
      oncall: onCall({ from: "ALL", turns: undefined }),
      a: "izzit7",
      b: "soda-yeti",
      local: "izzit7",
      lastSeen: at(-1000).toISOString(),
      want: [{ answers: true, text: "soda-yeti's claude answers you; soda-yeti is offline, last seen 18 min ago (2025-06-01 09:43 UTC)" }],
    },
    {
      name: "the turns of another asker are its own conversation's",
      oncall: onCall(),
      a: "mule-3",
      b: "soda-yeti",
      local: "izzit7",
      want: [{ asker: "mule-3", answers: false, turns: [expect.objectContaining({ thread: "mule-3/soda-yeti/1", stoppable: false })] }],
    },
    { name: "no side on call: nothing", a: "izzit7", b: "soda-yeti", local: "izzit7", want: [] },
  ];
  for (const c of cases)
    it(`on call: ${c.name}`, () => {
      const chat = view(fleetWith(c.oncall, talk, c.lastSeen), c.a, c.b, c.local);
      expect(chat.onCall).toEqual(c.want.map((w) => expect.objectContaining(w)));
    });

  it("the send box replies in the thread of the latest message once the other side's agent answers, when this machine began it", () => {
    const reply = (oncall: object | undefined, messages: [string, string][], local = "izzit7", a = "izzit7", b = "soda-yeti") =>
      view(fleetWith(oncall, messages), a, b, local).reply;
    expect(reply(onCall(), talk)).toEqual({ thread: "izzit7/soda-yeti/1", latest: "soda-yeti/izzit7/2" });
    expect(reply(undefined, talk)).toEqual({ thread: "izzit7/soda-yeti/1", latest: "soda-yeti/izzit7/2" }); // answers there, on call no more
    // On call, before any answer: the next message goes on in the latest thread.
    const asked = [file("izzit7", "soda-yeti", [{ seq: 1, text: "hello", at: iso(1) }])];
    expect(reply(onCall(), asked)).toEqual({ thread: "izzit7/soda-yeti/1", latest: "izzit7/soda-yeti/1" });
    // A plain chat, an agent that does not answer this machine, a thread the other side began, a page of no machine, or
    // a pair without it: a new message is a new conversation.
    expect(reply(undefined, asked)).toBeUndefined();
    expect(reply(onCall({ from: ["mule-3"] }), asked)).toBeUndefined();
    expect(reply(onCall(), [file("soda-yeti", "izzit7", [{ seq: 1, text: "hi from a person", at: iso(1) }])])).toBeUndefined();
    expect(view(fleetWith(onCall(), talk), "izzit7", "soda-yeti", undefined).reply).toBeUndefined();
    expect(reply(onCall(), talk, "mule-3")).toBeUndefined();
  });

  describe("a request for a permission (approvals from afar)", () => {
    // izzit7 asks (q), soda-yeti's claude asks to use Bash (req, a reply to q): then what each case adds.
    const q = "izzit7/soda-yeti/1";
    const req = "soda-yeti/izzit7/1";
    const asks: Msg = { seq: 1, text: "please run: make deploy", at: iso(1) };
    const request: Msg = {
      seq: 1,
      text: "Permission asked: Bash: make deploy\n\nReply /approve or /deny (with a reason if you like), or /approve always Bash for the rest of this conversation. No answer within 10 min: denied.",
      at: iso(2),
      replyTo: q,
      agent: { request: "Bash", cli: "claude", chain: 1 },
    };
    const answer = (seq: number, text: string, seconds: number, over: object = {}): Msg => ({
      seq,
      text,
      at: iso(seconds),
      replyTo: q,
      agent: { answer: true, cli: "claude", chain: 1, ...over },
    });
    const fromIzzit7 = (seq: number, text: string, seconds: number, replyTo = req): Msg => ({ seq, text, at: iso(seconds), replyTo });
    const refused = (seq: number, text: string, seconds: number, replyTo: string): Msg => ({
      seq,
      text,
      at: iso(seconds),
      replyTo,
      agent: { answer: true, cli: "claude", outcome: "refused" },
    });
    /** The asking machine's word that the request is over, marked with what became of it (issue 59: fields, not words). */
    const told = (seq: number, text: string, seconds: number, replyTo: string, decided: object, over: object = { outcome: "refused" }): Msg => ({
      seq,
      text,
      at: iso(seconds),
      replyTo,
      agent: { answer: true, cli: "claude", ...over, decided: { request: req, ...decided } },
    });
    const waitingHere = { approve: "/approve", deny: "/deny", always: "/approve always Bash" };
    const cases: { name: string; izzit7?: Msg[]; soda?: Msg[]; tool?: string; local?: string; want: object }[] = [
      {
        name: "waiting for this machine: it may answer, with the three replies",
        want: { tool: "Bash", state: "waiting", text: "waiting for your answer", canAnswer: true, replies: waitingHere },
      },
      { name: "waiting, seen from another machine's page: not its to answer", local: "mule-3", want: { state: "waiting", text: "waiting for izzit7's answer", canAnswer: false } },
      { name: "waiting, seen from a page of no machine", local: "", want: { state: "waiting", text: "waiting for izzit7's answer", canAnswer: false } },
      { name: "waiting, seen from the asking machine's own page", local: "soda-yeti", want: { state: "waiting", canAnswer: false } },
      {
        name: "a tool name /approve always cannot take: no Approve always",
        tool: "odd tool",
        want: { tool: "odd tool", state: "waiting", canAnswer: true, replies: { approve: "/approve", deny: "/deny" } },
      },
      {
        name: "a reply that decides nothing (a question) leaves it waiting",
        izzit7: [fromIzzit7(2, "what does make deploy do?", 3)],
        want: { state: "waiting", canAnswer: true },
      },
      {
        name: "a decision in reply to another message does not count",
        izzit7: [fromIzzit7(2, "/approve", 3, "soda-yeti/izzit7/9")],
        want: { state: "waiting", canAnswer: true },
      },
      {
        name: "approved by this machine, then the turn's answer: approved by you",
        izzit7: [fromIzzit7(2, "/approve", 3)],
        soda: [answer(2, "ran: make deploy", 4)],
        want: { state: "approved", by: "you", decidedIn: "izzit7/soda-yeti/2", text: "approved by you", canAnswer: false },
      },
      {
        name: "approved, seen from the asking machine's page: by whom",
        izzit7: [fromIzzit7(2, "/approve", 3)],
        local: "soda-yeti",
        want: { state: "approved", by: "izzit7", text: "approved by izzit7", canAnswer: false },
      },
      {
        name: "denied with a reason",
        izzit7: [fromIzzit7(2, "/deny  not on\nmain", 3)],
        soda: [answer(2, "not allowed: denied by izzit7: not on main", 4)],
        want: { state: "denied", by: "you", reason: "not on main", text: "denied by you: not on main", canAnswer: false },
      },
      { name: "denied without a reason", izzit7: [fromIzzit7(2, "/deny", 3)], want: { state: "denied", by: "you", text: "denied by you", canAnswer: false } },
      {
        name: "approved always for the conversation",
        izzit7: [fromIzzit7(2, "/approve always Bash", 3)],
        want: { state: "approved", always: "Bash", text: "approved by you, and Bash without asking for the rest of this conversation" },
      },
      {
        name: "the first decision is the one that counts",
        izzit7: [fromIzzit7(2, "/deny no", 3), fromIzzit7(3, "/approve", 4)],
        want: { state: "denied", reason: "no", decidedIn: "izzit7/soda-yeti/2" },
      },
      // Marked (issue 59): the mark says what became of the request; its words are never read (any wording reads the same).
      {
        name: "marked: the timeout note, in any words",
        soda: [told(2, "Zeit abgelaufen.", 9, req, { behavior: "deny", cause: "timeout" }, { note: "approval-timeout" })],
        want: { state: "over", by: "timeout", text: "timed out", decidedIn: "soda-yeti/izzit7/2", canAnswer: false },
      },
      {
        name: "marked: a late /approve after the turn ended",
        izzit7: [fromIzzit7(2, "/stop", 3, q), fromIzzit7(3, "/approve", 5)],
        soda: [
          answer(2, "Stopped (/stop from izzit7).", 4, { outcome: "stopped", cause: "stop" }),
          told(3, "Zu spät.", 6, "izzit7/soda-yeti/3", { behavior: "deny", cause: "turn-end" }),
        ],
        want: { state: "over", text: "over: the turn has ended", why: "the turn has ended", decidedIn: "soda-yeti/izzit7/3", canAnswer: false },
      },
      {
        name: "marked: a late /approve after a timeout",
        izzit7: [fromIzzit7(2, "/approve", 5)],
        soda: [told(2, "Zu spät.", 6, "izzit7/soda-yeti/2", { behavior: "deny", cause: "timeout" })],
        want: { state: "over", by: "timeout", text: "timed out" },
      },
      {
        name: "marked: decided on the asking machine (coord approve there), seen from there",
        izzit7: [fromIzzit7(2, "/approve", 5)],
        soda: [told(2, "Zu spät.", 6, "izzit7/soda-yeti/2", { behavior: "allow", by: "soda-yeti" })],
        local: "soda-yeti",
        want: { state: "over", by: "you", text: "over: approved by you", why: "approved by you" },
      },
      {
        name: "marked: decided by another machine on call for, seen from this one",
        izzit7: [fromIzzit7(2, "/deny", 5)],
        soda: [told(2, "Zu spät.", 6, "izzit7/soda-yeti/2", { behavior: "deny", by: "mule-3" })],
        want: { state: "over", by: "mule-3", text: "over: denied by mule-3" },
      },
      {
        name: "marked: the mark wins over words that say otherwise",
        izzit7: [fromIzzit7(2, "/approve", 5)],
        soda: [told(2, `Request ${req} is over (denied: nobody answered in time): this answer changes nothing.`, 6, "izzit7/soda-yeti/2", { behavior: "allow", by: "izzit7" })],
        want: { state: "over", by: "you", text: "over: approved by you" },
      },
      {
        name: "marked: a mark about another request is not this one's",
        izzit7: [fromIzzit7(2, "/approve", 5)],
        soda: [
          told(2, `Request ${req} is over (denied: the turn ended first): this answer changes nothing.`, 6, "izzit7/soda-yeti/2", {
            request: "soda-yeti/izzit7/7",
            behavior: "deny",
            cause: "turn-end",
          }),
        ],
        want: { state: "approved", by: "you", text: "approved by you" },
      },
      {
        name: "marked: a cause this coord does not know (a newer one's) reads over, its words unread",
        soda: [told(2, "Request timed out, in words.", 9, req, { behavior: "deny", cause: "meteor" }, { note: "approval-timeout" })],
        want: { state: "over", text: "over", decidedIn: "soda-yeti/izzit7/2" },
      },
      // LEGACY: messages of a coord before issue 59 carry no `decided` mark; their words are read (ui-view.ts `legacy`).
      {
        name: "timed out: the note in reply to the request",
        soda: [refused(2, `Request ${req} timed out after 10 min with no answer: Bash was denied.`, 9, req), answer(3, "not allowed: nobody answered within 10 min", 9)],
        want: { state: "over", by: "timeout", text: "timed out", decidedIn: "soda-yeti/izzit7/2", canAnswer: false },
      },
      {
        name: "timed out, and a late /approve: still timed out",
        izzit7: [fromIzzit7(2, "/approve", 12)],
        soda: [refused(2, `Request ${req} timed out after 10 min with no answer: Bash was denied.`, 9, req)],
        want: { state: "over", by: "timeout", text: "timed out" },
      },
      {
        name: "a late /approve the asking machine says is over (the turn ended)",
        izzit7: [fromIzzit7(2, "/stop", 3, q), fromIzzit7(3, "/approve", 5)],
        soda: [
          answer(2, "Stopped (/stop from izzit7).", 4, { outcome: "stopped" }),
          refused(3, `Request ${req} is over (denied by the turn ended): this answer changes nothing.`, 6, "izzit7/soda-yeti/3"),
        ],
        want: { state: "over", text: "over: the turn has ended", decidedIn: "soda-yeti/izzit7/3", canAnswer: false },
      },
      {
        name: "a late /approve the asking machine says is over, in today's words (the turn ended first)",
        izzit7: [fromIzzit7(2, "/stop", 3, q), fromIzzit7(3, "/approve", 5)],
        soda: [
          answer(2, "Stopped (/stop from izzit7).", 4, { outcome: "stopped" }),
          refused(3, `Request ${req} is over (denied: the turn ended first): this answer changes nothing.`, 6, "izzit7/soda-yeti/3"),
        ],
        want: { state: "over", text: "over: the turn has ended", decidedIn: "soda-yeti/izzit7/3", canAnswer: false },
      },
      {
        name: "a late /approve after a timeout, in today's words",
        izzit7: [fromIzzit7(2, "/approve", 5)],
        soda: [refused(2, `Request ${req} is over (denied: nobody answered in time): this answer changes nothing.`, 6, "izzit7/soda-yeti/2")],
        want: { state: "over", by: "timeout", text: "timed out" },
      },
      {
        name: "a late /approve after a decision made elsewhere: who made it",
        izzit7: [fromIzzit7(2, "/approve", 5)],
        soda: [refused(2, `Request ${req} is over (approved by soda-yeti (coord approve)): this answer changes nothing.`, 6, "izzit7/soda-yeti/2")],
        want: { state: "over", by: "soda-yeti (coord approve)", text: "over: approved by soda-yeti (coord approve)" },
      },
      {
        name: "a late /approve after a timeout: timed out",
        izzit7: [fromIzzit7(2, "/approve", 5)],
        soda: [refused(2, `Request ${req} is over (denied by timeout): this answer changes nothing.`, 6, "izzit7/soda-yeti/2")],
        want: { state: "over", by: "timeout", text: "timed out" },
      },
      {
        name: "the turn answered with no decision here (stopped, or decided on the asking machine): over",
        izzit7: [fromIzzit7(2, "/stop", 3, q)],
        soda: [answer(2, "Stopped (/stop from izzit7).", 4, { outcome: "stopped" })],
        want: { state: "over", text: "over: the turn has ended", decidedIn: "soda-yeti/izzit7/2", canAnswer: false },
      },
      {
        name: "an answer to another message of the thread does not end it",
        soda: [{ ...answer(2, "heard: earlier", 3), replyTo: "izzit7/soda-yeti/9" }],
        want: { state: "waiting", canAnswer: true },
      },
    ];
    for (const c of cases)
      it(c.name, () => {
        const tool = c.tool ?? "Bash";
        const m = fleetWith(onCall({ turns: undefined }), [
          file("izzit7", "soda-yeti", [asks, ...(c.izzit7 ?? [])]),
          file("soda-yeti", "izzit7", [{ ...request, agent: { request: tool, cli: "claude", chain: 1 } }, ...(c.soda ?? [])]),
        ]);
        const chat = view(m, "izzit7", "soda-yeti", c.local ?? "izzit7");
        const r = chat.messages.find((x) => x.id === req)!;
        expect(r.agent).toEqual({ answer: false, line: `claude asks to use ${tool}` });
        expect(r.request).toEqual(expect.objectContaining(c.want));
        // Buttons only while it waits for this machine.
        if (!r.request!.canAnswer) expect(r.request!.replies).toBeUndefined();
        // Only the request carries one.
        expect(chat.messages.filter((x) => x.request).map((x) => x.id)).toEqual([req]);
      });
  });

  it("the machine's card says it is on call, for whom, whether for this machine, its turns and today's spend", () => {
    const m = fleetWith(onCall({ spent: { day: "2025-06-01", usd: 0.0315 } }), []);
    const s = uiSnapshot({ status: deriveStatus(m), commit: "c1", local: "mule-3", now: at(10) });
    expect(s.machines.find((x) => x.name === "soda-yeti")!.onCall).toEqual({ agent: "claude", from: "izzit7", answersLocal: false, turns: 2, spent: "$0.0315 today" });
    expect(s.machines.find((x) => x.name === "izzit7")!.onCall).toBeUndefined();
    const anyone = uiSnapshot({ status: deriveStatus(fleetWith(onCall({ from: "ALL", turns: undefined }), [])), commit: "c1", now: at(10) });
    expect(anyone.machines.find((x) => x.name === "soda-yeti")!.onCall).toEqual({ agent: "claude", from: "ALL", turns: 0 });
  });
});
