// Cron expressions: coord's one door to croner (https://croner.56k.guru), which
// finds the runs of an expression. Before croner sees an expression it is
// checked here field by field, so that a mistake is named where it is ("the
// minute field: 61 is not within 0-59") instead of croner's "Invalid value for
// minute: 61" — or, worse, accepted and never run.
//
// What coord runs is Vixie cron's five fields (or six with a leading second),
// with names (jan, mon), 7 for Sunday and @hourly-style aliases; croner's
// extensions (L, W, #, ?, a year field) are refused. Day of month and day of
// week: when both are restricted (neither starts with "*"), a day matches
// either; otherwise both (Vixie's rule, so "*/2" counts as "*": croner counts
// it as restricted, so coord tells croner which rule to use).
import { Cron } from "croner";

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const SECOND: Field = { name: "second", min: 0, max: 59 };
const FIELDS: readonly Field[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
  { name: "day-of-week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

/** The aliases coord accepts, as the five fields they stand for. */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ["@hourly", "0 * * * *"],
  ["@daily", "0 0 * * *"],
  ["@midnight", "0 0 * * *"],
  ["@weekly", "0 0 * * 0"],
  ["@monthly", "0 0 1 * *"],
  ["@yearly", "0 0 1 1 *"],
  ["@annually", "0 0 1 1 *"],
]);

/** The number a value of `field` stands for, or a reason it stands for none. */
function value(field: Field, text: string): number | string {
  const named = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + (field.name === "month" ? 1 : 0);
  if (!/^\d{1,4}$/.test(text)) return `"${text}" is not a number${field.names ? ` or a name like ${field.names[0]}` : ""}`;
  const n = Number(text);
  if (n < field.min || n > field.max) return `${text} is not within ${field.min}-${field.max}`;
  return n;
}

/** Why one field is wrong, or undefined. */
function fieldProblem(field: Field, text: string): string | undefined {
  for (const item of text.split(",")) {
    const [range, step, extra] = item.split("/");
    if (extra !== undefined || range === undefined || range === "") return `"${item}" is not a value, a range or a step`;
    if (step !== undefined && (!/^\d{1,4}$/.test(step) || Number(step) < 1)) return `the step "${step}" must be a whole number of 1 or more`;
    if (range === "*") continue;
    const ends = range.split("-");
    if (ends.length > 2 || ends.some((e) => e === "")) return `"${range}" is not a value or a range like 1-5`;
    const values = ends.map((e) => value(field, e));
    const bad = values.find((v): v is string => typeof v === "string");
    if (bad) return bad;
    if (values.length === 2 && (values[0] as number) > (values[1] as number)) return `the range ${range} runs backwards`;
  }
  return undefined;
}

/** Why the fields are wrong, naming the field, or undefined. */
function fieldsProblem(parts: string[], seconds: boolean): string | undefined {
  const fields = parts.length === 6 && seconds ? [SECOND, ...FIELDS] : FIELDS;
  if (parts.length !== fields.length)
    return `it has ${parts.length} field${parts.length === 1 ? "" : "s"}; write five (minute hour day-of-month month day-of-week)${seconds ? ", or six with a leading second" : ""}`;
  for (const [i, field] of fields.entries()) {
    const bad = fieldProblem(field, parts[i]!);
    if (bad) return `the ${field.name} field: ${bad}`;
  }
  return undefined;
}

/**
 * The fields as croner is given them. Names become their numbers here, so that they mean what coord says (croner
 * reads "0-sun" as 0-7, every day). A step longer than its field ("*\/100" minutes) means its first value only,
 * as in Vixie cron; croner refuses it, so it is given the field's length instead, which means the same.
 */
function forCroner(parts: string[]): string {
  const fields = parts.length === 6 ? [SECOND, ...FIELDS] : FIELDS;
  return parts
    .map((part, i) => {
      const f = fields[i]!;
      const most = f.max - f.min + (f.name === "day-of-week" ? 0 : 1); // 0-7: 7 is Sunday again
      return part
        .replace(/[a-z]+/gi, (name) => String(value(f, name)))
        .replace(/(^|,)(\d+)\/(\d+)(?=,|$)/g, (all, before: string, from: string, step: string) => (Number(from) + Number(step) > f.max ? `${before}${from}` : all)) // "7/7": 7 only (croner: none)
        .replace(/\/(\d+)/g, (all, step: string) => (Number(step) > most ? `/${most}` : all));
    })
    .join(" ");
}

/** croner's job for fields coord accepts (never started: only asked for runs), or croner's reason to refuse them. */
function build(parts: string[], timezone: string | undefined): Cron | string {
  const dom = parts[parts.length - 3] ?? "";
  const dow = parts[parts.length - 1] ?? "";
  try {
    return new Cron(forCroner(parts), {
      // In UTC a fixed offset of 0, which croner computes without Intl (about ten times faster).
      ...(timezone === undefined || timezone === "UTC" ? { utcOffset: 0 } : { timezone }),
      mode: "5-or-6-parts",
      sloppyRanges: true, // "5/20": from 5, every 20, as Vixie cron reads it
      domAndDow: dom.startsWith("*") || dow.startsWith("*"),
      paused: true,
    });
  } catch (e) {
    return (e instanceof Error ? e.message : String(e)).replace(/^CronPattern: /, "");
  }
}

/**
 * Why `expression` is not a cron expression coord can use, or undefined.
 * Five fields (minute hour day-of-month month day-of-week), or six with a
 * leading second when `seconds` is allowed; `@hourly`-style aliases when `aliases` is.
 * An expression that never runs (30 February) is refused too.
 */
export function cronProblem(expression: string, opts: { seconds?: boolean; aliases?: boolean } = {}): string | undefined {
  const s = expression.trim();
  if (opts.aliases && ALIASES.has(s)) return undefined;
  const parts = s.split(/\s+/).filter(Boolean);
  const bad = fieldsProblem(parts, opts.seconds ?? false);
  if (bad) return bad;
  const job = build(parts, undefined);
  if (typeof job === "string") return `croner cannot run it: ${job}`;
  if (!job.nextRun(new Date(0))) {
    const day = Math.min(...(parts[parts.length - 3] ?? "").split(",").map((item) => Number.parseInt(item, 10)));
    return `the day-of-month field: no month it names has day ${day}, so it never runs`;
  }
  return undefined;
}

const jobs = new Map<string, Cron | undefined>();

/** The job of an expression coord accepts (5 or 6 fields, or an alias in any case) in a time zone, or undefined. */
function jobOf(expression: string, timezone: string | undefined): Cron | undefined {
  const key = `${timezone ?? "UTC"}\n${expression}`;
  if (jobs.has(key)) return jobs.get(key);
  const s = expression.trim();
  const parts = (ALIASES.get(s.toLowerCase()) ?? s).split(/\s+/).filter(Boolean);
  const built = fieldsProblem(parts, true) ? undefined : build(parts, timezone);
  const job = typeof built === "string" ? undefined : built;
  if (jobs.size >= 1000) jobs.clear();
  jobs.set(key, job);
  return job;
}

/** A run croner finds, or undefined when it finds none or does not know the time zone. */
function ask(expression: string, timezone: string | undefined, question: (job: Cron) => Date | null | undefined): Date | undefined {
  const job = jobOf(expression, timezone);
  try {
    return (job && question(job)) ?? undefined;
  } catch {
    return undefined; // croner throws for a time zone this machine does not know
  }
}

/**
 * The first run of `expression` after `after` (strictly), in `opts.timezone` (an IANA name; UTC when not
 * given). Undefined when it has none, or when the expression or the time zone is not one coord accepts
 * (check them first: cronProblem). Five fields, six with a leading second, or an alias. Daylight saving time
 * as croner has it: a fixed time ("30 2 * * *") that the clocks skip runs at the first time after the gap,
 * and once when the clocks repeat it; "*" and steps run at each time that exists.
 */
export function nextRun(expression: string, after: Date, opts: { timezone?: string } = {}): Date | undefined {
  return ask(expression, opts.timezone, (job) => job.nextRun(after));
}

/** The last run of `expression` before `before` (strictly), as nextRun has it. */
export function previousRun(expression: string, before: Date, opts: { timezone?: string } = {}): Date | undefined {
  return ask(expression, opts.timezone, (job) => job.previousRuns(1, before)[0]);
}
