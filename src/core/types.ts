// The domain of coord as plain data. Everything in core/ takes and returns
// these shapes; nothing here touches git, files, processes or the clock.
// A leaf: it imports nothing. The shapes derived from a zod schema live beside
// it: Order and Orders in orders-schema.ts, a machine's file in computer.ts.

export const PRIORITIES = ["low", "normal", "high", "urgent"] as const;
export type Priority = (typeof PRIORITIES)[number];

/** A problem found in a file, with where it is and what to do. */
export interface Problem {
  /** Repository path of the file, e.g. "ORDERS.json". */
  file: string;
  /** 1-based line, when known. */
  line?: number;
  /** JSON path, e.g. "orders[2].timeout". */
  path?: string;
  message: string;
}

export const TASK_STATES = ["queued", "assigned", "in_progress", "completed", "failed", "blocked", "cancelled", "rejected"] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const MACHINE_STATES = ["idle", "working", "emergency", "stalled", "suspended"] as const;
export type MachineState = (typeof MACHINE_STATES)[number];

/** Everything read from one commit of the coordination repository. */
export interface RepoSnapshot {
  /** Repository path → file content (UTF-8). */
  files: Map<string, string>;
}

/** A plain object (not null, not an array): a JSON object as parsed. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A record's own entry for `key` — never an inherited one like "constructor" or "toString". */
export function own<T>(record: Record<string, T> | undefined, key: string): T | undefined {
  return record && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A copy of `record` without a prototype: a lookup finds nothing in it that was not put there. */
export function ownTable<T>(record: Record<string, T> = {}): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, record);
}
