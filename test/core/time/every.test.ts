// Recurring orders (src/core/time/every.ts), table by table: the slots of a cron
// expression in a time zone (daylight saving time both ways, month ends, leap
// days), which slot is due, and how runs are ordered and keyed. The time is
// passed in; nothing here waits.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareRuns, dueSlot, everyProblem, latestSlot, nextSlot, type Recurrence, runKey, slotsBetween, timezoneProblem, upcomingSlot } from "../../../src/core/time/every.js";
import { formatProblem, parseOrders } from "../../../src/core/orders/orders.js";
import { isRefusal, transition } from "../../../src/core/work/task-life.js";
import { fuzzRuns } from "../../fixtures.js";

const ms = (iso: string) => Date.parse(iso);
const isos = (ts: (number | undefined)[]) => ts.map((t) => (t === undefined ? undefined : new Date(t).toISOString()));

describe("latest and next slot", () => {
  const cases: { name: string; r: Recurrence; now: string; latest: string | undefined; next: string | undefined }[] = [
    { name: "daily at 03:00 UTC", r: { every: "0 3 * * *" }, now: "2025-01-10T10:00:00Z", latest: "2025-01-10T03:00:00.000Z", next: "2025-01-11T03:00:00.000Z" },
    { name: "a slot is due at its very instant", r: { every: "0 3 * * *" }, now: "2025-01-10T03:00:00Z", latest: "2025-01-10T03:00:00.000Z", next: "2025-01-11T03:00:00.000Z" },
    { name: "before today's slot: yesterday's", r: { every: "0 3 * * *" }, now: "2025-01-10T02:59:59Z", latest: "2025-01-09T03:00:00.000Z", next: "2025-01-10T03:00:00.000Z" },
    {
      name: "Paris in winter (+1)",
      r: { every: "0 3 * * *", timezone: "Europe/Paris" },
      now: "2025-01-10T10:00:00Z",
      latest: "2025-01-10T02:00:00.000Z",
      next: "2025-01-11T02:00:00.000Z",
    },
    {
      name: "Paris in summer (+2)",
      r: { every: "0 3 * * *", timezone: "Europe/Paris" },
      now: "2025-07-10T10:00:00Z",
      latest: "2025-07-10T01:00:00.000Z",
      next: "2025-07-11T01:00:00.000Z",
    },
    // 2025-03-30 02:00 CET → 03:00 CEST: 02:30 does not exist and runs an hour later, 03:30 CEST.
    {
      name: "Paris, clocks go forward: a skipped wall time runs as much later as the gap",
      r: { every: "30 2 * * *", timezone: "Europe/Paris" },
      now: "2025-03-30T12:00:00Z",
      latest: "2025-03-30T01:30:00.000Z",
      next: "2025-03-31T00:30:00.000Z",
    },
    {
      name: "Paris, the day before the change",
      r: { every: "30 2 * * *", timezone: "Europe/Paris" },
      now: "2025-03-29T12:00:00Z",
      latest: "2025-03-29T01:30:00.000Z",
      next: "2025-03-30T01:30:00.000Z",
    },
    // 2025-10-26 03:00 CEST → 02:00 CET: 02:30 happens twice; the first one runs.
    {
      name: "Paris, clocks go back: a repeated wall time runs once, the first time",
      r: { every: "30 2 * * *", timezone: "Europe/Paris" },
      now: "2025-10-26T12:00:00Z",
      latest: "2025-10-26T00:30:00.000Z",
      next: "2025-10-27T01:30:00.000Z",
    },
    {
      name: "New York, clocks go forward at 02:00",
      r: { every: "0 2 * * *", timezone: "America/New_York" },
      now: "2025-03-09T12:00:00Z",
      latest: "2025-03-09T07:00:00.000Z",
      next: "2025-03-10T06:00:00.000Z",
    },
    {
      name: "New York, clocks go back: 01:30 EDT, not 01:30 EST",
      r: { every: "30 1 * * *", timezone: "America/New_York" },
      now: "2025-11-02T12:00:00Z",
      latest: "2025-11-02T05:30:00.000Z",
      next: "2025-11-03T06:30:00.000Z",
    },
    // 2025-10-05 02:00 LHST (+10:30) → 02:30 LHDT (+11), a change of half an hour: 02:20 runs at 02:50, after 02:40.
    {
      name: "Lord Howe, clocks go forward half an hour: before the gap",
      r: { every: "20,40 2 * * *", timezone: "Australia/Lord_Howe" },
      now: "2025-10-04T15:00:00Z",
      latest: "2025-10-03T16:10:00.000Z",
      next: "2025-10-04T15:40:00.000Z",
    },
    {
      name: "Lord Howe: 02:40 has run, the skipped 02:20 runs next",
      r: { every: "20,40 2 * * *", timezone: "Australia/Lord_Howe" },
      now: "2025-10-04T15:45:00Z",
      latest: "2025-10-04T15:40:00.000Z",
      next: "2025-10-04T15:50:00.000Z",
    },
    {
      name: "Lord Howe: the skipped 02:20 is the latest, though an earlier wall time than 02:40",
      r: { every: "20,40 2 * * *", timezone: "Australia/Lord_Howe" },
      now: "2025-10-04T15:55:00Z",
      latest: "2025-10-04T15:50:00.000Z",
      next: "2025-10-05T15:20:00.000Z",
    },
    {
      name: "the 31st skips the months without one",
      r: { every: "0 0 31 * *" },
      now: "2025-03-15T00:00:00Z",
      latest: "2025-01-31T00:00:00.000Z",
      next: "2025-03-31T00:00:00.000Z",
    },
    { name: "the 31st after April: May", r: { every: "0 0 31 * *" }, now: "2025-04-01T00:00:00Z", latest: "2025-03-31T00:00:00.000Z", next: "2025-05-31T00:00:00.000Z" },
    {
      name: "29 February: the last leap year, the next one",
      r: { every: "0 0 29 2 *" },
      now: "2025-06-01T00:00:00Z",
      latest: "2024-02-29T00:00:00.000Z",
      next: "2028-02-29T00:00:00.000Z",
    },
    {
      name: "29 February across 2100, which is not a leap year",
      r: { every: "0 0 29 2 *" },
      now: "2100-06-01T00:00:00Z",
      latest: "2096-02-29T00:00:00.000Z",
      next: "2104-02-29T00:00:00.000Z",
    },
    { name: "the end of the year", r: { every: "59 23 31 12 *" }, now: "2025-01-01T00:00:00Z", latest: "2024-12-31T23:59:00.000Z", next: "2025-12-31T23:59:00.000Z" },
    {
      name: "new year in Auckland (+13) is still 31 December in UTC",
      r: { every: "@yearly", timezone: "Pacific/Auckland" },
      now: "2025-01-01T00:00:00Z",
      latest: "2024-12-31T11:00:00.000Z",
      next: "2025-12-31T11:00:00.000Z",
    },
    {
      name: "a month end in Paris is the day before in UTC",
      r: { every: "0 0 1 * *", timezone: "Europe/Paris" },
      now: "2025-03-15T00:00:00Z",
      latest: "2025-02-28T23:00:00.000Z",
      next: "2025-03-31T22:00:00.000Z",
    },
    {
      name: "day of month or day of week when both are set (13th or a Friday)",
      r: { every: "0 0 13 * 5" },
      now: "2025-06-01T00:00:00Z",
      latest: "2025-05-30T00:00:00.000Z",
      next: "2025-06-06T00:00:00.000Z",
    },
    {
      name: "*/2 in the day of month is not 'set': odd days and Mondays both",
      r: { every: "0 0 */2 * 1" },
      now: "2025-06-01T00:00:00Z",
      latest: "2025-05-19T00:00:00.000Z",
      next: "2025-06-09T00:00:00.000Z",
    },
    { name: "7 is Sunday", r: { every: "0 0 * * 7" }, now: "2025-06-02T00:00:00Z", latest: "2025-06-01T00:00:00.000Z", next: "2025-06-08T00:00:00.000Z" },
    {
      name: "names: weekdays of the first quarter at 09:00",
      r: { every: "0 9 * jan-mar mon-fri" },
      now: "2025-03-31T10:00:00Z",
      latest: "2025-03-31T09:00:00.000Z",
      next: "2026-01-01T09:00:00.000Z",
    },
    {
      name: "a step from a value: 5/20 is 5, 25, 45",
      r: { every: "5/20 * * * *" },
      now: "2025-01-01T00:30:00Z",
      latest: "2025-01-01T00:25:00.000Z",
      next: "2025-01-01T00:45:00.000Z",
    },
    { name: "every minute", r: { every: "* * * * *" }, now: "2025-01-01T00:30:30Z", latest: "2025-01-01T00:30:00.000Z", next: "2025-01-01T00:31:00.000Z" },
    // Where croner reads an expression differently, coord's reading holds (core/time/cron.ts gives croner numbers, and short steps).
    {
      name: "a step longer than its field: its first value",
      r: { every: "*/100 * * * *" },
      now: "2025-01-01T00:30:00Z",
      latest: "2025-01-01T00:00:00.000Z",
      next: "2025-01-01T01:00:00.000Z",
    },
    { name: "0-sun is Sunday only", r: { every: "0 0 * * 0-sun" }, now: "2025-06-04T00:00:00Z", latest: "2025-06-01T00:00:00.000Z", next: "2025-06-08T00:00:00.000Z" },
    { name: "7/7 is Sunday", r: { every: "0 0 * * 7/7" }, now: "2025-06-04T00:00:00Z", latest: "2025-06-01T00:00:00.000Z", next: "2025-06-08T00:00:00.000Z" },
    { name: "an alias in any case", r: { every: "@Daily" }, now: "2025-06-04T10:00:00Z", latest: "2025-06-04T00:00:00.000Z", next: "2025-06-05T00:00:00.000Z" },
    { name: "@weekly: Sundays at midnight", r: { every: "@weekly" }, now: "2025-06-04T00:00:00Z", latest: "2025-06-01T00:00:00.000Z", next: "2025-06-08T00:00:00.000Z" },
  ];
  it.each(cases)("$name", ({ r, now, latest, next }) => {
    expect(isos([latestSlot(r, ms(now)), nextSlot(r, ms(now))])).toEqual([latest, next]);
  });
});

describe("the due slot owns its deadline: upcomingSlot is when dueSlot next changes", () => {
  // Random expressions and zones (with changes of the clocks both ways, half-hour and 45-minute ones), at
  // random instants in 2024-2027 or within hours of a change: dueSlot does not change before upcomingSlot
  // (sampled, and 1 ms before it), and does at it, to it; no deadline only for no slot at all.
  const field = (values: string[]) => fc.constantFrom(...values);
  const every = fc
    .oneof(
      {
        weight: 9,
        arbitrary: fc
          .tuple(
            field(["*", "0", "30", "*/15", "*/30", "5/20", "0,30", "10-20", "20,40"]),
            field(["*", "0", "2", "3", "*/2", "1-3", "2,3"]),
            field(["*", "*", "1", "13", "29", "31", "*/2", "30,31"]),
            field(["*", "*", "2", "3,10", "jan-mar", "*/3"]),
            field(["*", "*", "0", "1", "mon-fri", "7", "*/2"]),
          )
          .map((f) => f.join(" ")),
      },
      { weight: 1, arbitrary: field(["@hourly", "@daily", "@weekly", "@monthly", "@yearly"]) },
    )
    .filter((e) => everyProblem(e) === undefined); // not 30 February
  const timezone = fc.constantFrom(
    undefined,
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Pacific/Auckland",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
    "Asia/Kolkata",
  );
  const CHANGES = [
    "2025-03-30T01:00:00Z",
    "2025-10-26T01:00:00Z",
    "2025-03-09T07:00:00Z",
    "2025-11-02T06:00:00Z",
    "2025-04-05T15:00:00Z",
    "2025-10-04T15:30:00Z",
    "2025-09-27T14:00:00Z",
  ].map(ms);
  const HOUR = 3_600_000;
  const now = fc.oneof(
    fc.integer({ min: ms("2024-01-01T00:00:00Z"), max: ms("2027-12-31T00:00:00Z") }),
    fc.tuple(fc.constantFrom(...CHANGES), fc.integer({ min: -6 * HOUR, max: 6 * HOUR })).map(([c, d]) => c + d),
  );
  const notBefore = fc.option(fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 }), { nil: undefined });
  it("not before the deadline, and at it", () => {
    fc.assert(
      fc.property(every, timezone, now, notBefore, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 8 }), (e, tz, t, nb, fs) => {
        const order = { every: e, ...(tz ? { timezone: tz } : {}), ...(nb !== undefined ? { notBefore: new Date(t + nb).toISOString() } : {}) };
        const due = (at: number) => dueSlot(order, new Date(at));
        const first = due(t);
        const deadline = upcomingSlot(order, new Date(t));
        // Checked plainly, and through expect (which says what failed) only when a check fails: ten expects a case
        // cost about as much as the slots they check.
        const end = deadline === undefined ? Number.NaN : ms(deadline);
        const inside = fs.map((f) => t + Math.floor((end - 1 - t) * f));
        if (deadline !== undefined && end > t && inside.every((x) => due(x) === first) && due(end - 1) === first && due(end) === deadline && deadline !== first) return;
        expect(deadline).toBeDefined(); // every expression drawn runs
        expect(end).toBeGreaterThan(t);
        for (const x of inside) expect(due(x)).toEqual(first);
        expect(due(end - 1)).toEqual(first);
        expect(due(end)).toBe(deadline);
        expect(due(end)).not.toEqual(first);
        expect.unreachable(`a check above fails for ${JSON.stringify(order)} at ${new Date(t).toISOString()}`);
      }),
      { numRuns: fuzzRuns(300) },
    );
  });
});

describe("slots between two times", () => {
  const cases: { name: string; r: Recurrence; from: string; to: string; slots: string[] }[] = [
    {
      name: "an outage of three days holds three daily slots",
      r: { every: "0 3 * * *" },
      from: "2025-01-10T04:00:00Z",
      to: "2025-01-13T04:00:00Z",
      slots: ["2025-01-11T03:00:00.000Z", "2025-01-12T03:00:00.000Z", "2025-01-13T03:00:00.000Z"],
    },
    {
      name: "every 30 minutes in Paris as clocks go forward: the skipped ones fall on existing instants, each once",
      r: { every: "*/30 * * * *", timezone: "Europe/Paris" },
      from: "2025-03-30T00:30:00Z",
      to: "2025-03-30T02:00:00Z",
      slots: ["2025-03-30T01:00:00.000Z", "2025-03-30T01:30:00.000Z", "2025-03-30T02:00:00.000Z"],
    },
    {
      name: "every 30 minutes in Paris as clocks go back: the repeated hour runs once",
      r: { every: "*/30 * * * *", timezone: "Europe/Paris" },
      from: "2025-10-26T00:00:00Z",
      to: "2025-10-26T02:00:00Z",
      slots: ["2025-10-26T00:30:00.000Z", "2025-10-26T02:00:00.000Z"],
    },
    {
      name: "Lord Howe as clocks go forward half an hour: in the order of the instants",
      r: { every: "20,40 2 * * *", timezone: "Australia/Lord_Howe" },
      from: "2025-10-04T15:00:00Z",
      to: "2025-10-05T16:00:00Z",
      slots: ["2025-10-04T15:40:00.000Z", "2025-10-04T15:50:00.000Z", "2025-10-05T15:20:00.000Z", "2025-10-05T15:40:00.000Z"],
    },
    {
      name: "every 30 minutes in UTC has no such gap",
      r: { every: "*/30 * * * *" },
      from: "2025-10-26T00:00:00Z",
      to: "2025-10-26T02:00:00Z",
      slots: ["2025-10-26T00:30:00.000Z", "2025-10-26T01:00:00.000Z", "2025-10-26T01:30:00.000Z", "2025-10-26T02:00:00.000Z"],
    },
    {
      name: "the end excluded at the start, included at the end",
      r: { every: "0 * * * *" },
      from: "2025-01-01T01:00:00Z",
      to: "2025-01-01T02:00:00Z",
      slots: ["2025-01-01T02:00:00.000Z"],
    },
    { name: "an empty span", r: { every: "0 * * * *" }, from: "2025-01-01T02:00:00Z", to: "2025-01-01T01:00:00Z", slots: [] },
  ];
  it.each(cases)("$name", ({ r, from, to, slots }) => {
    expect(isos(slotsBetween(r, ms(from), ms(to)))).toEqual(slots);
  });
  it("lists at most what it is asked for", () => {
    expect(slotsBetween({ every: "* * * * *" }, ms("2025-01-01T00:00:00Z"), ms("2025-02-01T00:00:00Z"), 5)).toHaveLength(5);
  });
  it("the first of them, where a later wall time falls earlier (Lord Howe's skipped 02:20)", () => {
    const r = { every: "20,40 2 * * *", timezone: "Australia/Lord_Howe" };
    expect(isos(slotsBetween(r, ms("2025-10-04T15:00:00Z"), ms("2025-10-05T16:00:00Z"), 1))).toEqual(["2025-10-04T15:40:00.000Z"]);
  });
});

describe("the slot due for an order", () => {
  const cases: { name: string; order: { every?: string; timezone?: string; notBefore?: string }; now: string; due: string | undefined; upcoming: string | undefined }[] = [
    { name: "no every: no slot", order: {}, now: "2025-01-10T10:00:00Z", due: undefined, upcoming: undefined },
    {
      name: "after an outage that missed three slots: only the last is due",
      order: { every: "0 3 * * *" },
      now: "2025-01-13T10:00:00Z",
      due: "2025-01-13T03:00:00.000Z",
      upcoming: "2025-01-14T03:00:00.000Z",
    },
    {
      name: "notBefore after the latest slot: none due yet",
      order: { every: "0 3 * * *", notBefore: "2025-01-10T04:00:00Z" },
      now: "2025-01-10T10:00:00Z",
      due: undefined,
      upcoming: "2025-01-11T03:00:00.000Z",
    },
    {
      name: "notBefore on a slot: that slot",
      order: { every: "0 3 * * *", notBefore: "2025-01-10T03:00:00Z" },
      now: "2025-01-10T10:00:00Z",
      due: "2025-01-10T03:00:00.000Z",
      upcoming: "2025-01-11T03:00:00.000Z",
    },
    {
      name: "notBefore far ahead: the first slot from it",
      order: { every: "0 3 * * *", notBefore: "2025-03-01T00:00:00+01:00" },
      now: "2025-01-10T10:00:00Z",
      due: undefined,
      upcoming: "2025-03-01T03:00:00.000Z",
    },
    {
      name: "a time zone",
      order: { every: "0 3 * * *", timezone: "Asia/Tokyo" },
      now: "2025-01-10T10:00:00Z",
      due: "2025-01-09T18:00:00.000Z",
      upcoming: "2025-01-10T18:00:00.000Z",
    },
    { name: "an unknown time zone: never due", order: { every: "0 3 * * *", timezone: "Mars/Olympus" }, now: "2025-01-10T10:00:00Z", due: undefined, upcoming: undefined },
  ];
  it.each(cases)("$name", ({ order, now, due, upcoming }) => {
    expect([dueSlot(order, new Date(now)), upcomingSlot(order, new Date(now))]).toEqual([due, upcoming]);
  });
});

describe("what is refused, by field", () => {
  const cases: { every: string; problem: RegExp | undefined }[] = [
    { every: "0 3 * * *", problem: undefined },
    { every: "@daily", problem: undefined },
    { every: "0 0 29 2 *", problem: undefined },
    { every: "0 0 31 4 1", problem: undefined }, // a Monday, or 31 April: Mondays
    { every: "61 * * * *", problem: /^the minute field: 61 is not within 0-59$/ },
    { every: "0 24 * * *", problem: /^the hour field: 24 is not within 0-23$/ },
    { every: "0 0 0 * *", problem: /^the day-of-month field/ },
    { every: "0 0 * 13 *", problem: /^the month field/ },
    { every: "0 0 * * 8", problem: /^the day-of-week field/ },
    { every: "0 0 * * mon-", problem: /^the day-of-week field/ },
    { every: "0 3 * *", problem: /it has 4 fields; write five/ },
    { every: "0 0 3 * * *", problem: /it has 6 fields/ },
    { every: "@sometimes", problem: /field/ },
    { every: "0 0 30 2 *", problem: /^the day-of-month field: no month it names has day 30, so it never runs$/ },
    { every: "0 0 31 4,6 *", problem: /never runs/ },
  ];
  it.each(cases)("$every", ({ every, problem }) => {
    const p = everyProblem(every);
    if (problem) expect(p).toMatch(problem);
    else expect(p).toBeUndefined();
  });
  it.each([
    ["UTC", undefined],
    ["Europe/Paris", undefined],
    ["America/Argentina/Buenos_Aires", undefined],
    ["Mars/Olympus", /is not a time zone known here/],
    ["", /is not a time zone/],
  ] as const)("time zone %j", (tz, problem) => {
    const p = timezoneProblem(tz);
    if (problem) expect(p).toMatch(problem);
    else expect(p).toBeUndefined();
  });
  it("a name and its number are the same slots, in any case", () => {
    const january = (every: string) => isos(slotsBetween({ every }, ms("2024-12-31T00:00:00Z"), ms("2025-12-31T00:00:00Z")));
    expect(january("0 0 * jan sun")).toEqual(["2025-01-05T00:00:00.000Z", "2025-01-12T00:00:00.000Z", "2025-01-19T00:00:00.000Z", "2025-01-26T00:00:00.000Z"]);
    expect(january("0 0 * 1 0")).toEqual(january("0 0 * jan sun"));
    expect(january("0 0 * JAN Sun")).toEqual(january("0 0 * jan sun"));
  });
});

describe("runs: ordered by rev, then slot; keyed", () => {
  const cases: { a: { rev: number; slot?: string }; b: { rev: number; slot?: string }; sign: -1 | 0 | 1 }[] = [
    { a: { rev: 1 }, b: { rev: 1 }, sign: 0 },
    { a: { rev: 1 }, b: { rev: 2 }, sign: -1 },
    { a: { rev: 1 }, b: { rev: 1, slot: "2025-01-01T03:00:00.000Z" }, sign: -1 },
    { a: { rev: 1, slot: "2025-01-02T03:00:00.000Z" }, b: { rev: 1, slot: "2025-01-01T03:00:00.000Z" }, sign: 1 },
    { a: { rev: 2, slot: "2025-01-01T03:00:00.000Z" }, b: { rev: 1, slot: "2025-01-09T03:00:00.000Z" }, sign: 1 },
    { a: { rev: 1, slot: "2025-01-01T03:00:00.000Z" }, b: { rev: 1, slot: "2025-01-01T03:00:00.000Z" }, sign: 0 },
  ];
  it.each(cases)("$a vs $b", ({ a, b, sign }) => {
    expect(Math.sign(compareRuns(a, b))).toBe(sign);
    expect(Math.sign(compareRuns(b, a))).toBe(-sign || 0);
  });
  it.each([
    [{ rev: 3 }, "r3"],
    [{ rev: 1, slot: "2025-03-30T01:30:00.000Z" }, "r1@20250330T0130Z"],
  ] as const)("key of %j", (run, key) => {
    expect(runKey(run)).toBe(key);
  });
});

describe("a task's life with slots (task-life.ts): a slot is a new run, an older one never comes back", () => {
  const S1 = "2025-01-01T03:00:00.000Z";
  const S2 = "2025-01-02T03:00:00.000Z";
  const done = (slot: string | undefined, state: "completed" | "failed" | "in_progress" = "completed", rev = 1) => ({ rev, ...(slot ? { slot } : {}), state, attempts: 1 });
  const cases: { name: string; entry: ReturnType<typeof done> | undefined; event: { rev: number; slot?: string; attempt: number }; refused?: RegExp; slot?: string }[] = [
    { name: "the first slot", entry: undefined, event: { rev: 1, slot: S1, attempt: 1 }, slot: S1 },
    { name: "the next slot after a completed one", entry: done(S1), event: { rev: 1, slot: S2, attempt: 1 }, slot: S2 },
    { name: "a slot after the order ran without one (every added later)", entry: done(undefined), event: { rev: 1, slot: S1, attempt: 1 }, slot: S1 },
    { name: "the same slot completed: never again", entry: done(S1), event: { rev: 1, slot: S1, attempt: 2 }, refused: /not allowed from completed/ },
    {
      name: "an older slot: never",
      entry: done(S2),
      event: { rev: 1, slot: S1, attempt: 1 },
      refused: /rev 1, slot 2025-01-02T03:00:00.000Z ran already; never go back to rev 1, slot 2025-01-01/,
    },
    { name: "without a slot after one ran (every removed): never", entry: done(S1), event: { rev: 1, attempt: 1 }, refused: /never go back to rev 1$/ },
    { name: "a new rev's slot after a later slot of the old rev", entry: done(S2), event: { rev: 2, slot: S1, attempt: 1 }, slot: S1 },
    { name: "the next slot while the previous one runs: refused", entry: done(S1, "in_progress"), event: { rev: 1, slot: S2, attempt: 1 }, refused: /it is running/ },
    { name: "a retry within its slot", entry: done(S1, "failed"), event: { rev: 1, slot: S1, attempt: 2 }, slot: S1 },
  ];
  it.each(cases)("$name", ({ entry, event, refused, slot }) => {
    const next = transition(entry, { kind: "start", at: "2025-01-02T04:00:00.000Z", ...event });
    if (refused) {
      expect(isRefusal(next)).toBe(true);
      expect((next as { refused: string }).refused).toMatch(refused);
    } else expect(next).toMatchObject({ state: "in_progress", slot, attempts: event.attempt });
  });
});

describe("ORDERS.json: every and timezone are validated field by field", () => {
  const file = (order: Record<string, unknown>) => JSON.stringify({ version: 1, orders: [{ id: "nightly", to: "ANY", run: "true", ...order }] }, null, 2);
  it.each([
    [{ every: "0 3 * * *" }, []],
    [{ every: "0 3 * * *", timezone: "Europe/Paris" }, []],
    [{ every: "0 3 * * * *" }, ['orders[0].every: order "nightly" field every: "0 3 * * * *" is not a schedule coord runs: it has 6 fields; write five']],
    [{ every: "0 3 32 * *" }, ['orders[0].every: order "nightly" field every: "0 3 32 * *" is not a schedule coord runs: the day-of-month field: 32 is not within 1-31']],
    [{ every: "@daily", timezone: "Paris" }, ['orders[0].timezone: order "nightly" field timezone: "Paris" is not a time zone known here']],
    [{ timezone: "Europe/Paris" }, ['orders[0].timezone: order "nightly" has timezone, which only applies with every']],
    [{ every: 3 }, ['orders[0].every: order "nightly" field every']],
  ] as const)("%j", (order, problems) => {
    const r = parseOrders(file(order));
    expect(r.problems.map(formatProblem).map((p) => p.replace(/^ORDERS\.json:\d+ /, ""))).toEqual(problems.map((p) => expect.stringContaining(p)));
    if (problems.length === 0) expect(r.orders?.orders[0]).toMatchObject(order);
  });
});
