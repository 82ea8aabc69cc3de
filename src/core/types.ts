// The domain of coord as plain data. Everything in core/ takes and returns
// these shapes; nothing here touches git, files, processes or the clock.
import type * as z from "zod";
import type { OrderSchema } from "./orders-schema.js";

export const PRIORITIES = ["low", "normal", "high", "urgent"] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * One order as a machine acts on it: OrderSchema's output (every field as the schema parses it, defaults applied),
 * but for `env`, which toOrder flattens: values written as {value, secret} become strings plus `secrets`, and
 * {secret: name} become `secretRefs`.
 */
export type Order = Omit<z.output<typeof OrderSchema>, "env"> & {
  env: Record<string, string>;
  /** Names of `env` entries written with a value marked secret: their values are redacted from what is published. */
  secrets?: string[];
  /** Env variable → the name of a secret in the store of the machine that runs the task (no prototype); the values never reach the repository. */
  secretRefs?: Record<string, string>;
  /** Set by the planner, never written in ORDERS.json: the slot (UTC ISO time) of `every` this run is for. */
  slot?: string;
};

// Not z.output of OrdersFileSchema: it holds Orders (see Order), without $schema.
export interface Orders {
  version: 1;
  orders: Order[];
}

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

// Derived from the zod schemas that validate them (core/computer.ts); here for every reader.
export type { AgentReport, ComputerFile, Identity, TaskReport } from "./computer.js";

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
