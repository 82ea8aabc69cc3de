// Cron expressions (src/core/time/cron.ts), coord's one door to croner: the field named in a problem, and the
// runs nextRun finds (the daemon's schedule: five fields, or six with a leading second, in a time zone).
// Recurring orders' slots, with coord's own rule at the changes of the clocks, are in every.test.ts.
import { describe, expect, it } from "vitest";
import { cronProblem, nextRun, previousRun } from "../../../src/core/time/cron.js";

describe("cronProblem names the field", () => {
  const cases: { expression: string; opts?: { seconds?: boolean; aliases?: boolean }; problem: string | undefined }[] = [
    { expression: "*/5 * * * *", problem: undefined },
    { expression: "0 9 * jan-mar MON-fri", problem: undefined },
    { expression: "*/100 * * * *", problem: undefined }, // a step longer than its field: its first value (croner refuses it)
    { expression: "*/10 * * * * *", opts: { seconds: true }, problem: undefined },
    { expression: "@daily", opts: { aliases: true }, problem: undefined },
    { expression: "61 * * * *", problem: "the minute field: 61 is not within 0-59" },
    { expression: "0 0 * * 5-1", problem: "the day-of-week field: the range 5-1 runs backwards" },
    { expression: "0 0 * foo *", problem: 'the month field: "foo" is not a number or a name like jan' },
    { expression: "0 0 L * *", problem: 'the day-of-month field: "L" is not a number' }, // croner's extensions are not coord's
    { expression: "0 0 0 1 * * 2026", opts: { seconds: true }, problem: "it has 7 fields; write five (minute hour day-of-month month day-of-week), or six with a leading second" },
    { expression: "0 0 30 2 *", problem: "the day-of-month field: no month it names has day 30, so it never runs" },
    { expression: "0 0 31 4,6 *", problem: "the day-of-month field: no month it names has day 31, so it never runs" },
    { expression: "0 0 31 4 1", problem: undefined }, // 31 April or a Monday: Mondays
  ];
  it.each(cases)("$expression", ({ expression, opts, problem }) => {
    expect(cronProblem(expression, opts)).toBe(problem);
  });
});

describe("nextRun and previousRun", () => {
  const after = "2025-01-10T10:00:05Z";
  const cases: { name: string; expression: string; timezone?: string; at?: string; next: string | undefined; previous: string | undefined }[] = [
    { name: "five fields, in UTC", expression: "0 3 * * *", next: "2025-01-11T03:00:00.000Z", previous: "2025-01-10T03:00:00.000Z" },
    { name: "six fields: a leading second", expression: "*/10 * * * * *", next: "2025-01-10T10:00:10.000Z", previous: "2025-01-10T10:00:00.000Z" },
    { name: "strictly after and before", expression: "0 3 * * *", at: "2025-01-10T03:00:00Z", next: "2025-01-11T03:00:00.000Z", previous: "2025-01-09T03:00:00.000Z" },
    { name: "a time zone", expression: "0 3 * * *", timezone: "Europe/Paris", next: "2025-01-11T02:00:00.000Z", previous: "2025-01-10T02:00:00.000Z" },
    { name: "an alias, in any case", expression: "@Daily", next: "2025-01-11T00:00:00.000Z", previous: "2025-01-10T00:00:00.000Z" },
    { name: "names", expression: "0 9 * jan fri", next: "2025-01-17T09:00:00.000Z", previous: "2025-01-10T09:00:00.000Z" },
    { name: "day of month or day of week (Vixie)", expression: "0 0 13 * 5", next: "2025-01-13T00:00:00.000Z", previous: "2025-01-10T00:00:00.000Z" },
    { name: "*/2 in the day of month is not 'set': odd days that are Mondays", expression: "0 0 */2 * 1", next: "2025-01-13T00:00:00.000Z", previous: "2024-12-23T00:00:00.000Z" },
    {
      name: "croner's rule at a change of the clocks: a skipped fixed time runs at the end of the gap",
      expression: "30 2 * * *",
      timezone: "Europe/Paris",
      at: "2025-03-29T12:00:00Z",
      next: "2025-03-30T01:00:00.000Z",
      previous: "2025-03-29T01:30:00.000Z",
    },
    { name: "a time zone not known here", expression: "0 3 * * *", timezone: "Mars/Olympus", next: undefined, previous: undefined },
    { name: "an expression coord refuses", expression: "61 * * * *", next: undefined, previous: undefined },
    { name: "one that never runs", expression: "0 0 30 2 *", next: undefined, previous: undefined },
  ];
  it.each(cases)("$name", ({ expression, timezone, at, next, previous }) => {
    const t = new Date(at ?? after);
    const opts = timezone ? { timezone } : {};
    expect([nextRun(expression, t, opts)?.toISOString(), previousRun(expression, t, opts)?.toISOString()]).toEqual([next, previous]);
  });
});
