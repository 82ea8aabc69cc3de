// A turn's life on call (core/oncall/turn-life.ts): each event from each
// phase, what it leaves, and what is refused, as tables; the retention rules.
import { describe, expect, it } from "vitest";
import { DECIDED_BY_TURN_END } from "../../../src/core/oncall/on-call.js";
import {
  ALLOWED_KEPT,
  emptyOnCallState,
  isRefusal,
  phaseOf,
  requestPhase,
  retain,
  TAKEN_KEPT,
  THREAD_IDS_KEPT,
  THREADS_KEPT,
  TRANSITIONS,
  type TurnEvent,
  type TurnPhase,
  transition,
} from "../../../src/core/oncall/turn-life.js";
import type { OnCallState, ThreadState } from "../../../src/core/oncall/turn-state.js";

const T = "asker/oncall/1";
const AT = "2026-11-28T10:00:00.000Z";
const TURN = "2026-11-28T10:00:05.000Z";
const setting = { agent: "claude" as const, cwd: "/work", permissions: "read-only" as const };
const ask = (n: number, from = "asker") => ({ id: `${from}/oncall/${n}`, from, text: `question ${n}`, at: AT, chain: 0 });

/** A state whose thread T is in `phase`. */
function inPhase(phase: TurnPhase): OnCallState {
  const s = emptyOnCallState();
  if (phase === "none") return s;
  const t: ThreadState = { ...setting, queue: [], lastAt: AT, ids: [T], askers: ["asker"] };
  if (phase === "queued") t.queue = [ask(1)];
  if (phase === "running" || phase === "stopping" || phase === "ended") t.running = { runner: 1, engine: "e", startedAt: TURN, asks: [ask(1)] };
  if (phase === "stopping") t.running!.stop = "/stop from asker";
  if (phase === "ended") t.running!.answers = [{ to: "asker", replyTo: ask(1).id, text: "done", mark: { answer: true } }];
  s.threads[T] = t;
  return s;
}

const apply = (state: OnCallState, ...events: TurnEvent[]) =>
  events.reduce((s, e) => {
    const next = transition(s, e);
    if (isRefusal(next)) throw new Error(next.refused);
    return next;
  }, state);

const REQUEST: TurnEvent = {
  kind: "request",
  id: "oncall/asker/9",
  request: { thread: T, turn: TURN, tool: "Bash", what: "Bash: ls", asker: "asker", at: AT, until: AT },
};
const EVENTS: Readonly<Record<Exclude<TurnEvent["kind"], "take" | "decide" | "request" | "spend-set">, TurnEvent>> = {
  join: { kind: "join", thread: T, id: "asker/oncall/2", from: "asker", at: AT, setting },
  queue: { kind: "queue", thread: T, ask: ask(2) },
  stop: { kind: "stop", thread: T, by: "/stop from asker", drop: true },
  start: { kind: "start", thread: T, turn: TURN, runner: 1, engine: "e", setting, maxParallel: 2 },
  pid: { kind: "pid", thread: T, turn: TURN, pid: 42 },
  session: { kind: "session", thread: T, turn: TURN, session: "s-1" },
  step: { kind: "step", thread: T, turn: TURN, step: "Bash: ls" },
  end: { kind: "end", thread: T, turn: TURN, answers: [{ to: "asker", replyTo: ask(1).id, text: "done", mark: { answer: true } }], at: AT },
  delivered: { kind: "delivered", thread: T, turn: TURN, ids: ["oncall/asker/1"], at: AT },
  "budget-said": { kind: "budget-said", thread: T, day: "2026-11-28", to: ["asker"] },
};
const PHASES: readonly TurnPhase[] = ["none", "idle", "queued", "running", "stopping", "ended"];

describe("the table: every event from every phase", () => {
  for (const [kind, event] of Object.entries(EVENTS))
    for (const phase of PHASES) {
      const allowed = TRANSITIONS[kind as keyof typeof TRANSITIONS].includes(phase);
      it(`${kind} from ${phase}: ${allowed ? "happens" : "refused"}`, () => {
        const next = transition(inPhase(phase), event);
        expect(isRefusal(next)).toBe(!allowed);
        if (isRefusal(next)) expect(next.refused).toMatch(new RegExp(`^${kind} in thread ${T} \\(${phase}\\): allowed only when`));
      });
    }
});

describe("what each event leaves", () => {
  it.each<[string, TurnPhase, TurnEvent[], TurnPhase, (s: OnCallState) => void]>([
    [
      "a first message begins its thread with the setting",
      "none",
      [EVENTS.join],
      "idle",
      (s) => expect(s.threads[T]).toMatchObject({ agent: "claude", cwd: "/work", permissions: "read-only", ids: ["asker/oncall/2"], askers: ["asker"] }),
    ],
    ["a message waits for the next turn", "idle", [EVENTS.queue], "queued", (s) => expect(s.threads[T]!.queue.map((a) => a.id)).toEqual(["asker/oncall/2"])],
    ["a message that comes while a turn runs waits", "running", [EVENTS.queue], "running", (s) => expect(s.threads[T]!.queue).toHaveLength(1)],
    [
      "start: the queue becomes the running turn",
      "queued",
      [EVENTS.start],
      "running",
      (s) => expect(s.threads[T]).toMatchObject({ queue: [], running: { startedAt: TURN, runner: 1, engine: "e", asks: [ask(1)] } }),
    ],
    [
      "pid, session and step are the running turn's",
      "running",
      [EVENTS.pid, EVENTS.session, EVENTS.step],
      "running",
      (s) => expect(s.threads[T]!.running).toMatchObject({ pid: 42, session: "s-1", step: "Bash: ls" }),
    ],
    ["/stop asks the running turn to stop and drops the queue", "running", [EVENTS.queue, EVENTS.stop], "stopping", (s) => expect(s.threads[T]!.queue).toEqual([])],
    [
      "the first stop's words stay",
      "stopping",
      [{ kind: "stop", thread: T, by: "coord agent stop", drop: false }],
      "stopping",
      (s) => expect(s.threads[T]!.running!.stop).toBe("/stop from asker"),
    ],
    ["/stop with nothing running drops the queue", "queued", [EVENTS.stop], "idle", (s) => expect(s.threads[T]!.running).toBeUndefined()],
    [
      "end records the answers, the session and the day's spend",
      "running",
      [{ ...EVENTS.end, session: "s-2", costUsd: 0.25 } as TurnEvent],
      "ended",
      (s) => {
        expect(s.threads[T]!.session).toBe("s-2");
        expect(s.spent).toEqual({ day: "2026-11-28", usd: 0.25 });
      },
    ],
    ["delivered: the turn is over, its answers' ids in the thread", "ended", [EVENTS.delivered], "idle", (s) => expect(s.threads[T]!.ids).toEqual([T, "oncall/asker/1"])],
    ["a message queued while the answers were stored starts the next turn", "ended", [EVENTS.queue, EVENTS.delivered], "queued", () => {}],
    ["the budget said once a day", "queued", [EVENTS["budget-said"]], "queued", (s) => expect(s.threads[T]!.budgetSaid).toBe("2026-11-28")],
  ])("%s", (_, from, events, to, check) => {
    const s = apply(inPhase(from), ...events);
    expect(phaseOf(s.threads[T])).toBe(to);
    check(s);
  });

  it("never changes the state it is given", () => {
    const before = inPhase("running");
    const copy = structuredClone(before);
    apply(before, EVENTS.pid, EVENTS.end);
    expect(before).toEqual(copy);
  });

  it("an event of an older turn is refused", () => {
    for (const kind of ["pid", "session", "step", "end"] as const) {
      const r = transition(inPhase("running"), { ...EVENTS[kind], turn: "2026-11-28T09:00:00.000Z" } as TurnEvent);
      expect(isRefusal(r) && r.refused).toMatch(/turn 2026-11-28T09:00:00.000Z is over/);
    }
    const r = transition(inPhase("ended"), { ...EVENTS.delivered, turn: "2026-11-28T09:00:00.000Z" } as TurnEvent);
    expect(isRefusal(r)).toBe(true);
  });

  it("start is refused when maxParallel turns run on the machine", () => {
    const s = inPhase("queued");
    s.threads["b/oncall/1"] = { ...setting, queue: [], lastAt: AT, running: { runner: 1, startedAt: TURN, asks: [] } };
    const r = transition(s, { ...EVENTS.start, maxParallel: 1 } as TurnEvent);
    expect(isRefusal(r) && r.refused).toMatch(/1 turns run already \(maxParallel 1\)/);
    expect(isRefusal(transition(s, EVENTS.start))).toBe(false);
  });

  it("start under another CLI or other permissions starts a new session, without what was allowed", () => {
    const s = inPhase("queued");
    s.threads[T] = { ...s.threads[T]!, session: "old", allowed: ["Bash"] };
    const next = apply(s, { ...EVENTS.start, setting: { ...setting, permissions: "edit" } } as TurnEvent);
    expect(next.threads[T]).toMatchObject({ permissions: "edit" });
    expect(next.threads[T]!.session).toBeUndefined();
    expect(next.threads[T]!.allowed).toBeUndefined();
    const same = apply(s, EVENTS.start);
    expect(same.threads[T]).toMatchObject({ session: "old", allowed: ["Bash"] });
  });

  it.each<[string, Partial<ThreadState>, Partial<Extract<TurnEvent, { kind: "end" }>>, number | undefined]>([
    ["the session's cost a turn says is kept for the next turn", { session: "s-1" }, { session: "s-1", sessionUsd: 0.5 }, 0.5],
    ["a turn that says none keeps the last one said of the same session", { session: "s-1", sessionUsd: 0.5 }, { session: "s-1" }, 0.5],
    ["a turn that returns no session keeps it too", { session: "s-1", sessionUsd: 0.5 }, {}, 0.5],
    ["another session: the old session's cost goes", { session: "s-1", sessionUsd: 0.5 }, { session: "s-2" }, undefined],
  ])("end: %s", (_what, thread, end, kept) => {
    const s = inPhase("running");
    s.threads[T] = { ...s.threads[T]!, ...thread };
    const next = apply(s, { ...EVENTS.end, ...end } as TurnEvent);
    expect(next.threads[T]!.sessionUsd).toBe(kept);
  });

  it("start under another CLI or other permissions forgets the session's cost with the session", () => {
    const s = inPhase("queued");
    s.threads[T] = { ...s.threads[T]!, session: "old", sessionUsd: 0.5 };
    expect(apply(s, { ...EVENTS.start, setting: { ...setting, permissions: "edit" } } as TurnEvent).threads[T]!.sessionUsd).toBeUndefined();
    expect(apply(s, EVENTS.start).threads[T]!.sessionUsd).toBe(0.5);
  });

  it("start where the CLI's state is kept apart records it; a session kept in the person's is not resumed there", () => {
    const s = inPhase("queued");
    s.threads[T] = { ...s.threads[T]!, session: "old" };
    const apart = apply(s, { ...EVENTS.start, setting: { ...setting, apart: true } } as TurnEvent);
    expect(apart.threads[T]!.apart).toBe(true);
    expect(apart.threads[T]!.session).toBeUndefined();
    // Still apart: its session goes on; in the person's again (the shield off): a new one, the mark gone.
    const kept = { ...apart, threads: { ...apart.threads, [T]: { ...apart.threads[T]!, session: "new", running: undefined, queue: s.threads[T]!.queue } } };
    expect(apply(kept, { ...EVENTS.start, setting: { ...setting, apart: true } } as TurnEvent).threads[T]).toMatchObject({ session: "new", apart: true });
    const back = apply(kept, { ...EVENTS.start, setting: { ...setting, apart: false } } as TurnEvent).threads[T]!;
    expect(back.session).toBeUndefined();
    expect(back.apart).toBeUndefined();
  });

  it("a thread keeps its newest ids", () => {
    let s = inPhase("idle");
    for (let i = 0; i < THREAD_IDS_KEPT + 5; i++) s = apply(s, { ...EVENTS.join, id: `asker/oncall/${i + 10}` } as TurnEvent);
    expect(s.threads[T]!.ids).toHaveLength(THREAD_IDS_KEPT);
    expect(s.threads[T]!.ids!.at(-1)).toBe(`asker/oncall/${THREAD_IDS_KEPT + 14}`);
  });
});

describe("take: a message once", () => {
  it("is taken once; a second take is refused", () => {
    const s = apply(emptyOnCallState(), { kind: "take", id: "a/b/1" });
    expect(s.taken).toEqual(["a/b/1"]);
    expect(isRefusal(transition(s, { kind: "take", id: "a/b/1" }))).toBe(true);
  });
});

describe("a request for a permission", () => {
  const R = "oncall/asker/9";
  const waiting = () => apply(inPhase("running"), REQUEST);
  const allow = { behavior: "allow" as const, by: "asker", at: AT };

  it.each<[string, () => OnCallState, TurnEvent, "waiting" | "decided" | RegExp]>([
    ["is recorded while its turn runs", () => inPhase("running"), REQUEST, "waiting"],
    ["once its turn is over, is recorded decided (the turn ended first)", () => inPhase("idle"), REQUEST, "decided"],
    ["once its turn ended but is not cleared, is recorded decided", () => inPhase("ended"), REQUEST, "decided"],
    ["of another turn is recorded decided", () => inPhase("running"), { ...REQUEST, request: { ...(REQUEST as { request: object }).request, turn: "x" } } as TurnEvent, "decided"],
    ["of no thread is refused", () => inPhase("none"), REQUEST, /no thread/],
    ["twice is refused", () => apply(inPhase("running"), REQUEST), REQUEST, /exists already/],
    ["is decided once", waiting, { kind: "decide", id: R, decision: allow }, "decided"],
    [
      "a second decision is refused",
      () => apply(waiting(), { kind: "decide", id: R, decision: allow }),
      { kind: "decide", id: R, decision: { ...allow, behavior: "deny" } },
      /decided already \(allow by asker\)/,
    ],
    ["an unknown one cannot be decided", waiting, { kind: "decide", id: "x/y/1", decision: allow }, /no such request/],
    ["one whose turn ended cannot be decided", () => apply(waiting(), EVENTS.end), { kind: "decide", id: R, decision: allow }, /decided already \(deny by the turn ended\)/],
  ])("%s", (_, state, event, want) => {
    const next = transition(state(), event);
    if (want instanceof RegExp) expect(isRefusal(next) && next.refused).toMatch(want);
    else expect(isRefusal(next) ? next.refused : requestPhase(next.requests?.[R])).toBe(want);
  });

  it("the turn's end denies what still waits", () => {
    const s = apply(waiting(), EVENTS.end);
    expect(s.requests![R]!.decision).toEqual({ behavior: "deny", by: DECIDED_BY_TURN_END, at: AT });
  });

  it("/approve always allows the tool for the rest of the thread's session, at most ALLOWED_KEPT tools", () => {
    let s = apply(waiting(), { kind: "decide", id: R, decision: { ...allow, always: "Bash" } });
    expect(s.threads[T]!.allowed).toEqual(["Bash"]);
    for (let i = 0; i < ALLOWED_KEPT + 3; i++) {
      const id = `oncall/asker/${100 + i}`;
      s = apply(s, { ...REQUEST, id } as TurnEvent, { kind: "decide", id, decision: { ...allow, always: `Tool${i}` } });
    }
    expect(s.threads[T]!.allowed).toHaveLength(ALLOWED_KEPT);
  });
});

describe("retain: what the state keeps", () => {
  const now = new Date("2026-11-28T12:00:00.000Z");

  it("the newest taken ids", () => {
    const s = { ...emptyOnCallState(), taken: Array.from({ length: TAKEN_KEPT + 10 }, (_, i) => `a/b/${i}`) };
    const kept = retain(s, now).taken;
    expect(kept).toHaveLength(TAKEN_KEPT);
    expect(kept[0]).toBe("a/b/10");
  });

  it("decided requests for a day, waiting ones always", () => {
    const r = { thread: T, turn: TURN, tool: "Bash", what: "", asker: "asker", at: AT, until: AT };
    const s: OnCallState = {
      ...emptyOnCallState(),
      requests: {
        old: { ...r, decision: { behavior: "deny", by: "timeout", at: "2026-11-27T11:59:00.000Z" } },
        recent: { ...r, decision: { behavior: "deny", by: "timeout", at: "2026-11-27T12:01:00.000Z" } },
        waiting: r,
      },
    };
    expect(Object.keys(retain(s, now).requests!)).toEqual(["recent", "waiting"]);
  });

  it("at most THREADS_KEPT threads: the idle ones unchanged longest go first, never a busy one", () => {
    const s = emptyOnCallState();
    const day = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
    for (let i = 0; i < THREADS_KEPT + 2; i++) s.threads[`a/b/${i}`] = { ...setting, queue: [], lastAt: day(i) };
    // The oldest is busy: it stays.
    s.threads["a/b/0"]!.queue = [ask(1)];
    const kept = Object.keys(retain(s, now).threads);
    expect(kept).toHaveLength(THREADS_KEPT);
    expect(kept).toContain("a/b/0");
    expect(kept).not.toContain("a/b/1");
    expect(kept).not.toContain("a/b/2");
  });

  it("leaves a state within its bounds as it is", () => {
    const s = inPhase("running");
    expect(retain(s, now)).toBe(s);
  });
});

describe("a request recorded after its turn ended", () => {
  it("is denied by the turn's end, so a late /approve is told so", () => {
    const s = apply(inPhase("idle"), REQUEST);
    expect(s.requests!["oncall/asker/9"]!.decision).toEqual({ behavior: "deny", by: DECIDED_BY_TURN_END, at: AT });
  });
});
