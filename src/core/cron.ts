// Cron expressions, checked field by field, so that a mistake is named where it
// is ("the minute field: 61 is not within 0-59") instead of "not a cron
// expression" — or, worse, accepted and never run.

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

const ALIASES = /^@(hourly|daily|midnight|weekly|monthly|yearly|annually)$/;

/**
 * Why `expression` is not a cron expression coord can use, or undefined.
 * Five fields (minute hour day-of-month month day-of-week), or six with a
 * leading second when `seconds` is allowed; `@hourly`-style aliases when `aliases` is.
 */
export function cronProblem(expression: string, opts: { seconds?: boolean; aliases?: boolean } = {}): string | undefined {
  const s = expression.trim();
  if (opts.aliases && ALIASES.test(s)) return undefined;
  const parts = s.split(/\s+/).filter(Boolean);
  const fields = parts.length === 6 && opts.seconds ? [SECOND, ...FIELDS] : FIELDS;
  if (parts.length !== fields.length)
    return `it has ${parts.length} field${parts.length === 1 ? "" : "s"}; write five (minute hour day-of-month month day-of-week)${opts.seconds ? ", or six with a leading second" : ""}`;
  for (const [i, field] of fields.entries()) {
    const bad = fieldProblem(field, parts[i]!);
    if (bad) return `the ${field.name} field: ${bad}`;
  }
  return undefined;
}
