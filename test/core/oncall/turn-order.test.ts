// Which queued thread's turn starts next, and who is told the daily budget
// holds their messages (core/oncall/turn-order.ts), as tables; and the turn's
// life recording who was served and who was told (issue 65, findings 6, 14).
import { describe, expect, it } from "vitest";
import { emptyOnCallState, isRefusal, transition } from "../../../src/core/oncall/turn-life.js";
import { budgetNotes, SERVED_KEPT, TOLD_KEPT, turnOrder, withServed } from "../../../src/core/oncall/turn-order.js";
import { type Ask, type OnCallState, onCallStateSchema, type ThreadState } from "../../../src/core/oncall/turn-state.js";

const setting = { agent: "claude", cwd: "/work", permissions: "read-only" as const };
const at = (s: number) => new Date(Date.UTC(2026, 10, 28, 10, 0, s)).toISOString();
const ask = (from: string, n: number, s = n): Ask => ({ id: `${from}/oncall/${n}`, from, text: `q ${n}`, at: at(s), chain: 0 });

/** A state with a thread per spec: [root's sender, its number, queued messages' senders (the first's time is n), running]. */
function stateOf(threads: [string, number, string[]?, boolean?][], extra: Partial<OnCallState> = {}): OnCallState {
  const s = { ...emptyOnCallState(), ...extra };
  for (const [from, n, senders = [from], running] of threads) {
    const root = `${from}/oncall/${n}`;
    const queue = senders.map((x, i) => ask(x, n * 100 + i, n));
    const t: ThreadState = { ...setting, queue: running ? [] : queue, lastAt: at(n), ids: [root] };
    if (running) t.running = { runner: 1, engine: "e", startedAt: at(n), asks: queue };
    s.threads[root] = t;
  }
  return s;
}

describe("turnOrder: round robin over askers", () => {
  const flood: [string, number][] = Array.from({ length: 6 }, (_, i) => ["a", i + 1]);
  const cases: [string, OnCallState, number, string[]][] = [
    [
      "one asker: its threads, the oldest first",
      stateOf([
        ["a", 2],
        ["a", 1],
        ["a", 3],
      ]),
      3,
      ["a/oncall/1", "a/oncall/2", "a/oncall/3"],
    ],
    ["a flood and one other: the other second, not seventh", stateOf([...flood, ["b", 7]]), 3, ["a/oncall/1", "b/oncall/7", "a/oncall/2"]],
    ["never served goes before served, however old", stateOf([...flood, ["b", 7]], { served: { a: at(0) } }), 2, ["b/oncall/7", "a/oncall/1"]],
    [
      "served least recently goes first",
      stateOf(
        [
          ["a", 1],
          ["b", 2],
        ],
        { served: { a: at(50), b: at(40) } },
      ),
      1,
      ["b/oncall/2"],
    ],
    [
      "three askers alternate",
      stateOf([
        ["a", 1],
        ["a", 2],
        ["b", 3],
        ["b", 4],
        ["c", 5],
      ]),
      5,
      ["a/oncall/1", "b/oncall/3", "c/oncall/5", "a/oncall/2", "b/oncall/4"],
    ],
    ["no free slot: none", stateOf([["a", 1]]), 0, []],
    [
      "running and empty threads are not queued",
      stateOf([
        ["a", 1, ["a"], true],
        ["b", 2, []],
        ["c", 3],
      ]),
      3,
      ["c/oncall/3"],
    ],
    [
      "a thread's asker is the sender of its oldest waiting message",
      stateOf(
        [
          ["a", 1, ["b", "a"]],
          ["b", 2],
        ],
        { served: { a: at(1) } },
      ),
      1,
      ["a/oncall/1"],
    ],
    [
      "a name like a prototype's is an asker like any",
      stateOf(
        [
          ["__proto__", 1],
          ["a", 2],
        ],
        { served: { a: at(0) } },
      ),
      2,
      ["__proto__/oncall/1", "a/oncall/2"],
    ],
  ];
  for (const [name, state, n, want] of cases) it(name, () => expect(turnOrder(state, n)).toEqual(want));

  it("threads this engine runs already (busy) are skipped", () => {
    expect(
      turnOrder(
        stateOf([
          ["a", 1],
          ["b", 2],
        ]),
        2,
        new Set(["a/oncall/1"]),
      ),
    ).toEqual(["b/oncall/2"]);
  });
});

describe("the turn's life records who was served and who was told", () => {
  const apply = (s: OnCallState, e: Parameters<typeof transition>[1]) => {
    const next = transition(s, e);
    if (isRefusal(next)) throw new Error(next.refused);
    return next;
  };

  it("a start serves each asker of its queue at the turn's start; the next order goes to the others", () => {
    const s = stateOf([
      ["a", 1, ["a", "c"]],
      ["a", 2],
      ["b", 3],
    ]);
    const next = apply(s, { kind: "start", thread: "a/oncall/1", turn: at(59), runner: 1, engine: "e", setting: { ...setting, agent: "claude" }, maxParallel: 2 });
    expect({ ...next.served }).toEqual({ a: at(59), c: at(59) });
    expect(turnOrder(next, 2)).toEqual(["b/oncall/3", "a/oncall/2"]);
  });

  it("served keeps the askers served most recently, SERVED_KEPT at most", () => {
    let served = withServed(undefined, ["first"], at(0));
    for (let i = 0; i < SERVED_KEPT; i++) served = withServed(served, [`m${i}`], at(1 + (i % 50)));
    expect(Object.keys(served)).toHaveLength(SERVED_KEPT);
    expect(Object.hasOwn(served, "first")).toBe(false);
  });

  it("budget-said adds the askers told today; a new day starts over", () => {
    const s = stateOf([
      ["a", 1],
      ["b", 2],
    ]);
    const one = apply(s, { kind: "budget-said", thread: "a/oncall/1", day: "2026-11-28", to: ["a"] });
    const two = apply(one, { kind: "budget-said", thread: "b/oncall/2", day: "2026-11-28", to: ["b", "a"] });
    expect(two.budgetTold).toEqual({ day: "2026-11-28", askers: ["a", "b"] });
    const next = apply(two, { kind: "budget-said", thread: "b/oncall/2", day: "2026-11-29", to: ["b"] });
    expect(next.budgetTold).toEqual({ day: "2026-11-29", askers: ["b"] });
  });
});

describe("budgetNotes: one note an asker a day, not one a message", () => {
  const day = "2026-11-28";
  const cases: [string, OnCallState, [string, string, string][]][] = [
    [
      "many threads of one asker: one note, in its oldest thread, to its last message there",
      stateOf([
        ["a", 3],
        ["a", 1, ["a", "a"]],
        ["a", 2],
      ]),
      [["a/oncall/1", "a", "a/oncall/101"]],
    ],
    [
      "two askers: one each; a thread of both tells both",
      stateOf([
        ["a", 1, ["a", "b"]],
        ["b", 2],
        ["c", 3],
      ]),
      [
        ["a/oncall/1", "a", "a/oncall/100"],
        ["a/oncall/1", "b", "b/oncall/101"],
        ["c/oncall/3", "c", "c/oncall/300"],
      ],
    ],
    [
      "told today already: nothing",
      stateOf(
        [
          ["a", 1],
          ["b", 2],
        ],
        { budgetTold: { day, askers: ["a", "b"] } },
      ),
      [],
    ],
    ["told yesterday: told again", stateOf([["a", 1]], { budgetTold: { day: "2026-11-27", askers: ["a"] } }), [["a/oncall/1", "a", "a/oncall/100"]]],
    ["running threads wait for nothing", stateOf([["a", 1, ["a"], true]]), []],
    ["TOLD_KEPT askers told today: nobody more", stateOf([["z", 1]], { budgetTold: { day, askers: Array.from({ length: TOLD_KEPT }, (_, i) => `m${i}`) } }), []],
  ];
  for (const [name, state, want] of cases) it(name, () => expect(budgetNotes(state, day).map((n) => [n.thread, n.to, n.replyTo])).toEqual(want));

  it("a thread an older coord told today (its budgetSaid) tells its askers nothing more", () => {
    const s = stateOf([
      ["a", 1],
      ["a", 2],
    ]);
    s.threads["a/oncall/1"]!.budgetSaid = day;
    expect(budgetNotes(s, day)).toEqual([]);
  });
});

describe("on-call.json's served and budgetTold", () => {
  it("a malformed one is dropped, the file kept", () => {
    const r = onCallStateSchema.safeParse({ version: 1, threads: {}, taken: ["a/oncall/1"], served: { a: 5 }, budgetTold: "today" });
    expect(r.success).toBe(true);
    expect(r.data).toEqual({ version: 1, threads: {}, taken: ["a/oncall/1"] });
  });
});
