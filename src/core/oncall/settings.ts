// The on-call setting's fields, once: each field's name in machine.yaml's
// `onCall:` block, its flag of `coord agent on-call`, how a flag's value is
// read, its help, and how machine.yaml keeps it. The command's flags, the
// setting it writes, the options it passes on and the flag a problem names are
// all derived from this table (as order-fields.ts does for orders); the types
// and the checks are the zod schema's (state/on-call.ts), which a test holds to
// this table field by field. Pure.
import type { OnCallSettings } from "./on-call.js";

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

export const ON_CALL_FIELDS: readonly OnCallField[] = [
  {
    name: "cwd",
    flag: "--cwd",
    value: "dir",
    kind: "text",
    always: true,
    help: "the directory the agent works in (required; a relative one is taken where you run the command and kept absolute; inside allowedRoots when the machine has them; never the coord checkout nor a directory holding it, its .git or the machine's key)",
  },
  {
    name: "from",
    flag: "--from",
    value: "machines...",
    kind: "list",
    always: true,
    help: "the machines whose messages start turns (names, comma-separated or several), or ALL (required: on call for no one by default)",
  },
  {
    name: "permissions",
    flag: "--permissions",
    value: "level",
    kind: "text",
    always: true,
    help: "read-only (default), edit or full: what the agent may do with nobody there to approve",
  },
  { name: "maxTurns", flag: "--max-turns", value: "n", kind: "int", help: "turns of the agent per message at most (claude)" },
  { name: "maxBudgetUsd", flag: "--max-budget-usd", value: "x", kind: "number", help: "dollars per message at most (claude)" },
  { name: "timeout", flag: "--timeout", value: "duration", kind: "duration", always: true, help: "how long one turn may run (default 30m)" },
  { name: "maxParallel", flag: "--max-parallel", value: "n", kind: "int", always: true, help: "turns of different conversations at once (default 2)" },
  { name: "dailyBudgetUsd", flag: "--daily-budget-usd", value: "x", kind: "number", help: "dollars of turns a day (UTC); then new turns wait for the next day" },
  { name: "model", flag: "--model", value: "model", kind: "text", help: "the model the CLI uses" },
  {
    name: "approvalTimeout",
    flag: "--approval-timeout",
    value: "duration",
    kind: "duration",
    always: true,
    help: "claude: how long a request for a permission waits for /approve or /deny before it is denied (default 10m)",
  },
  { name: "allowTools", flag: "--allow-tool", value: "tools...", kind: "list", help: "claude: tools allowed without asking, in every conversation (like /approve always <tool>)" },
];

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
