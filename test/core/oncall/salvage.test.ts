// What is kept of a damaged on-call.json (core/oncall/salvage.ts): each part that passes its schema, named; a spend
// that cannot be read holds the budget, never zero.
import { describe, expect, it } from "vitest";
import { withinDailyBudget } from "../../../src/core/oncall/on-call.js";
import { salvageOnCallState, setAsideNotice } from "../../../src/core/oncall/salvage.js";

const NOW = new Date("2026-11-28T10:00:00Z");
const TODAY = "2026-11-28";
const thread = (session?: string) => ({ agent: "claude", cwd: "/w", queue: [], lastAt: "2026-11-28T09:00:00Z", ...(session ? { session } : {}) });
const request = { thread: "a/b/1", turn: "t", tool: "Bash", what: "ls", asker: "a", at: "x", until: "y" };

describe("salvageOnCallState", () => {
  it.each<[string, unknown, { threads: string[]; spent?: unknown; taken?: number; requests?: string[]; kept: string; lost: string | RegExp }]>([
    [
      "not JSON: nothing kept, the spend held",
      undefined,
      { threads: [], spent: { day: TODAY, usd: 0, held: true }, taken: 0, kept: "nothing", lost: /^today's spend: .*; every thread: .*; the list of messages already taken/ },
    ],
    [
      "one broken thread among two: the other and the spend kept",
      { version: 1, threads: { "a/b/1": thread("s1"), "a/b/2": { agent: 5 } }, taken: ["a/b/1"], spent: { day: TODAY, usd: 0.25 } },
      { threads: ["a/b/1"], spent: { day: TODAY, usd: 0.25 }, taken: 1, kept: "today's spend ($0.2500), 1 of 2 threads (1 session)", lost: /^1 thread \(a\/b\/2\): / },
    ],
    [
      "a broken spend: held, the threads kept",
      { version: 1, threads: { "a/b/1": thread("s1"), "a/b/3": thread() }, taken: [], spent: { day: TODAY, usd: -1 } },
      { threads: ["a/b/1", "a/b/3"], spent: { day: TODAY, usd: 0, held: true }, taken: 0, kept: "2 threads (1 session)", lost: /^today's spend: / },
    ],
    [
      "no spend written: none spent, nothing lost of it",
      { version: 1, threads: { "a/b/1": thread() }, taken: "x" },
      { threads: ["a/b/1"], taken: 0, kept: "1 thread (0 sessions)", lost: "the list of messages already taken (one taken just before may be taken again)" },
    ],
    [
      "an older day's spend is kept, not said; a broken request lost",
      { version: 1, threads: {}, taken: [], spent: { day: "2026-11-27", usd: 3 }, requests: { "a/b/9": request, "a/b/10": { tool: 1 } } },
      { threads: [], spent: { day: "2026-11-27", usd: 3 }, taken: 0, requests: ["a/b/9"], kept: "1 permission request", lost: "1 permission request" },
    ],
    [
      "a thread named __proto__ is a thread like any other",
      JSON.parse('{"version":1,"threads":{"__proto__":{"agent":"claude","cwd":"/w","queue":[],"lastAt":"x"}},"taken":[],"spent":null}'),
      { threads: ["__proto__"], spent: { day: TODAY, usd: 0, held: true }, taken: 0, kept: "1 thread (0 sessions)", lost: /^today's spend: / },
    ],
  ])("%s", (_, raw, want) => {
    const r = salvageOnCallState(raw, NOW);
    expect(Object.keys(r.state.threads)).toEqual(want.threads);
    expect(r.state.spent).toEqual(want.spent);
    expect(r.state.taken).toHaveLength(want.taken ?? 0);
    expect(Object.keys(r.state.requests ?? {})).toEqual(want.requests ?? []);
    expect(r.kept).toBe(want.kept);
    if (typeof want.lost === "string") expect(r.lost).toBe(want.lost);
    else expect(r.lost).toMatch(want.lost);
  });

  it("a held spend: no turn today with a budget, a turn without one, and a turn tomorrow", () => {
    const held = { day: TODAY, usd: 0, held: true as const };
    expect(withinDailyBudget({ dailyBudgetUsd: 5 }, held, NOW)).toBe(false);
    expect(withinDailyBudget({}, held, NOW)).toBe(true);
    expect(withinDailyBudget({ dailyBudgetUsd: 5 }, held, new Date("2026-11-29T00:00:01Z"))).toBe(true);
  });

  it("the notice: said for a day, and as long as the spend is held", () => {
    const setAside = { at: "2026-11-27T09:00:00Z", aside: "/s/on-call.json.corrupt-x", problem: "not JSON", kept: "nothing", lost: "every thread" };
    const state = { version: 1 as const, threads: {}, taken: [], setAside };
    expect(setAsideNotice(state, "/s/on-call.json", new Date("2026-11-27T20:00:00Z"))).toBe(
      "/s/on-call.json could not be read (not JSON) and was set aside as /s/on-call.json.corrupt-x at 2026-11-27T09:00:00Z; kept: nothing; lost: every thread",
    );
    expect(setAsideNotice(state, "/s/on-call.json", NOW)).toBeUndefined();
    expect(setAsideNotice({ ...state, spent: { day: TODAY, usd: 0, held: true } }, "/s/on-call.json", NOW)).toContain("could not be read");
  });
});
