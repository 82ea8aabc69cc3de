// The on-call setting, once: machine.yaml's `onCall:` block as a zod schema
// whose fields each carry their flag of `coord agent on-call`, how a flag's
// value is read, their help, and how machine.yaml keeps them. The type of the
// setting, the command's flags, the setting it writes, the options it passes
// on and the flag a problem names are all derived from this one table (as
// order-fields.ts does for orders). Pure.
import * as z from "zod";
import { ON_CALL_AGENTS, PERMISSIONS } from "../agents/agents.js";
import { machineNameProblem } from "../files/names.js";
import { parseDuration } from "../time/duration.js";
import { DEFAULT_APPROVAL_TIMEOUT } from "./approvals.js";

/** The agent CLIs a machine can be on call with: those whose adapter says how (agents.ts AgentCli.onCall). */
export { ON_CALL_AGENTS };
/** A CLI of ON_CALL_AGENTS. */
export type OnCallAgent = string;

/** The longest turn (a day): anything longer is a service, not a turn. */
export const MAX_TURN_TIMEOUT = 86400;

/** How a flag's value is read: as text, a list (comma-separated or several), a whole number, a number, a duration ("90s", "15m"). */
export type OnCallFieldKind = "text" | "list" | "int" | "number" | "duration";

export interface OnCallField {
  /** As written in machine.yaml's onCall: block. */
  name: Exclude<keyof OnCallSettings, "agent">;
  /** Its flag of coord agent on-call. */
  flag: string;
  /** The value's name in --help. */
  value: string;
  kind: OnCallFieldKind;
  help: string;
  /** machine.yaml keeps it even at its default (the ones a person reads first); the others only when set. */
  always?: true;
}

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const s = parseDuration(v);
  if (s === undefined || s > MAX_TURN_TIMEOUT) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a duration up to 1d; write it like "90s", "15m" or "2h"` });
    return z.NEVER;
  }
  return s;
});

const machineName = z.string().refine((n) => !machineNameProblem(n), { message: "is not a machine name" });

/** A field of the table: its schema (the type and the checks) and how a person gives it. */
type FieldSpec = Omit<OnCallField, "name"> & { schema: z.ZodType };

/** Each field of the setting but `agent` (the command's argument), in the order machine.yaml keeps them and --help shows them. */
const FIELDS = {
  cwd: {
    schema: z.string().min(1, { message: "is empty; write the directory the agent works in" }),
    flag: "--cwd",
    value: "dir",
    kind: "text",
    always: true,
    help: "the directory the agent works in (required; a relative one is taken where you run the command and kept absolute; inside allowedRoots when the machine has them; never the coord checkout nor a directory holding it, its .git or the machine's key)",
  },
  from: {
    schema: z.union([z.literal("ALL"), z.array(machineName).min(1, { message: "is empty; name the machines whose messages start turns, or ALL" })], {
      message: "must be a list of machine names, or ALL",
    }),
    flag: "--from",
    value: "machines...",
    kind: "list",
    always: true,
    help: "the machines whose messages start turns (names, comma-separated or several), or ALL (required: on call for no one by default)",
  },
  permissions: {
    schema: z.enum(PERMISSIONS, { message: `must be one of ${PERMISSIONS.join(", ")}` }).default("read-only"),
    flag: "--permissions",
    value: "level",
    kind: "text",
    always: true,
    help: "read-only (default), edit or full: what the agent may do with nobody there to approve",
  },
  // The bounds before int(): a number past them is named by its bound, not by the largest safe integer.
  maxTurns: { schema: z.number().min(1).max(10_000).int().optional(), flag: "--max-turns", value: "n", kind: "int", help: "turns of the agent per message at most (claude)" },
  maxBudgetUsd: { schema: z.number().positive().max(1_000_000).optional(), flag: "--max-budget-usd", value: "x", kind: "number", help: "dollars per message at most (claude)" },
  timeout: { schema: duration.default(1800), flag: "--timeout", value: "duration", kind: "duration", always: true, help: "how long one turn may run (default 30m)" },
  maxParallel: {
    schema: z.number().min(1).max(16).int().default(2),
    flag: "--max-parallel",
    value: "n",
    kind: "int",
    always: true,
    help: "turns of different conversations at once, shared among the askers in turn (default 2)",
  },
  dailyBudgetUsd: {
    schema: z.number().positive().max(1_000_000).optional(),
    flag: "--daily-budget-usd",
    value: "x",
    kind: "number",
    help: "dollars of turns a day (UTC); then new turns wait for the next day, and each asker is told once",
  },
  model: { schema: z.string().min(1).max(200).optional(), flag: "--model", value: "model", kind: "text", help: "the model the CLI uses" },
  approvalTimeout: {
    schema: duration.default(DEFAULT_APPROVAL_TIMEOUT),
    flag: "--approval-timeout",
    value: "duration",
    kind: "duration",
    always: true,
    help: "claude: how long a request for a permission waits for /approve or /deny before it is denied (default 10m)",
  },
  allowTools: {
    schema: z.array(z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, { message: "is not a tool name (like Bash, Write or mcp__server__tool)" })).default([]),
    flag: "--allow-tool",
    value: "tools...",
    kind: "list",
    help: "claude: tools allowed without asking, in every conversation (like /approve always <tool>)",
  },
} as const satisfies Record<string, FieldSpec>;

type Fields = typeof FIELDS;

/** machine.yaml's `onCall:` block: the CLI, and the table's fields. */
export const onCallSchema = z.strictObject({
  agent: z.enum(ON_CALL_AGENTS as [string, ...string[]], { message: `is not an agent CLI coord can put on call; write one of ${ON_CALL_AGENTS.join(", ")}` }),
  ...(Object.fromEntries(Object.entries(FIELDS).map(([name, f]) => [name, f.schema])) as { [K in keyof Fields]: Fields[K]["schema"] }),
});

/** The on-call setting of a machine (machine.yaml `onCall:`), read: durations in seconds, defaults filled in. */
export type OnCallSettings = z.output<typeof onCallSchema>;

/** The table's fields, in order, without their schemas. */
export const ON_CALL_FIELDS: readonly OnCallField[] = Object.entries(FIELDS).map(([name, { schema: _schema, ...f }]) => ({
  name: name as OnCallField["name"],
  ...f,
}));

/** The flag of a field of the setting, for a problem said to a person at the command line (`--max-turns`); the field's own name when it has none. */
export function flagOfField(name: string): string {
  return ON_CALL_FIELDS.find((f) => f.name === name)?.flag ?? name;
}

/** The setting as machine.yaml keeps it: the CLI, then each field in the table's order; durations in seconds ("1800s"). */
export function writtenSettings(s: OnCallSettings): Record<string, unknown> {
  const out: Record<string, unknown> = { agent: s.agent };
  for (const f of ON_CALL_FIELDS) {
    const v = s[f.name];
    if (v === undefined || (Array.isArray(v) && v.length === 0 && !f.always)) continue;
    out[f.name] = f.kind === "duration" ? `${v}s` : v;
  }
  return out;
}

/** The fields given (by their names in the setting), in the table's order, as the schema reads them: what was not given is left out. */
export function givenSettings(given: Readonly<Partial<Record<OnCallField["name"], unknown>>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of ON_CALL_FIELDS) if (given[f.name] !== undefined) out[f.name] = given[f.name];
  return out;
}

/** The setting's fields as a markdown table for docs/agents.md (scripts/docs-fields.mjs writes it; a test holds it). */
export function onCallFieldsTable(): string {
  const rows = [
    "| Field | Flag | What it is |",
    "| --- | --- | --- |",
    `| \`agent\` | the command's argument | the CLI on call: ${ON_CALL_AGENTS.join(", ")} |`,
    ...ON_CALL_FIELDS.map((f) => `| \`${f.name}\` | \`${f.flag} <${f.value}>\` | ${f.help.replace(/\|/g, "\\|")} |`),
  ];
  return rows.join("\n");
}
