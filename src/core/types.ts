// The domain of coord as plain data. Everything in core/ takes and returns
// these shapes; nothing here touches git, files, processes or the clock.
import type { Permission } from "./agents.js";

export const PRIORITIES = ["low", "normal", "high", "urgent"] as const;
export type Priority = (typeof PRIORITIES)[number];

/** One entry of ORDERS.json, after validation (defaults applied). */
export interface Order {
  id: string;
  /** A machine name, a list of names, "ALL" or "ANY". */
  to: string | string[];
  run?: string;
  agent?: string;
  prompt?: string;
  model?: string;
  args?: string[];
  /** What an agent may do unattended; undefined: the CLI's own default. */
  permissions?: Permission;
  rev: number;
  after: string[];
  requires: string[];
  cwd?: string;
  env: Record<string, string>;
  /** Names of `env` entries marked secret: their values never reach the repository. */
  secrets?: string[];
  /** Seconds; undefined means the machine's default. */
  timeout?: number;
  /** Seconds without output before the task is stopped as stuck; undefined: the machine's default for agents, none for commands. */
  idleTimeout?: number;
  retries: number;
  priority: Priority;
  cancelled: boolean;
  notBefore?: string;
  /** With to: "ANY": the machines that take it first, in order (failover). */
  prefer?: string[];
  /** Seconds a machine may go unheard before it counts as gone (prefer's failover; a named target's warning). */
  failoverAfter?: number;
}

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

/** What one machine reports about one order (its latest rev). */
export interface TaskReport {
  rev: number;
  state: TaskState;
  attempts: number;
  exitCode?: number | null;
  startedAt?: string;
  finishedAt?: string;
  reason?: string;
  /** The last lines of output, redacted. */
  output?: string;
  /** For a "to: ANY" order: seconds the claim holds without a heartbeat. */
  lease?: number;
  /** For a "to: ANY" order taken over: the machine whose claim expired. */
  takeoverFrom?: string;
  /** A failed task with retries left: when its machine runs it again (after its retryBackoff). */
  retryAt?: string;
  /** An agent task: what the agent said of its run (its final message is the output). */
  agent?: AgentReport;
}

/** What is published of an agent's own account of its run. */
export interface AgentReport {
  /** Session or thread id: resume it with the agent's CLI. */
  session?: string;
  turns?: number;
  costUsd?: number;
  tokens?: { input: number; output: number };
  /** Tools it was denied. */
  denied?: string[];
}

export const MACHINE_STATES = ["idle", "working", "emergency", "stalled", "suspended"] as const;
export type MachineState = (typeof MACHINE_STATES)[number];

/** Front matter of coordination/COMPUTER_<name>.md: the machine's own data. */
export interface ComputerFile {
  coord: 1;
  name: string;
  uuid: string;
  state: MachineState;
  lastSeen: string;
  /** Seconds between heartbeats; readers call the machine offline after 3 missed. */
  heartbeat: number;
  /** name → version or value, e.g. { os: "linux", node: "20.20.2", claude: "1.0" }. */
  capabilities: Record<string, string>;
  /** What this machine last read of ORDERS.json (git blob id) and whether it was valid. */
  orders: { seen: string; valid: boolean; error?: string };
  tasks: Record<string, TaskReport>;
  /** A one-line summary of the last sync that did something (ran tasks, received messages). */
  lastRun?: string;
  /** Set while the machine reports itself stalled: its consecutive failed syncs and the last error. */
  health?: { failures: number; lastError: string; since: string };
  /** Receipts, as recipient: channel "<from>/<to>" → received through / acknowledged through (+ also). */
  messages?: Record<string, { received: number; acked: number; also?: number[] }>;
  /** After `coord init --reclaim`: the identity's generation (the highest wins), and where and when it was taken. */
  identity?: Identity;
}

/** A machine identity's generation: each reclaim makes a newer one; a copy holding an older one stops. */
export interface Identity {
  epoch: number;
  host: string;
  at: string;
}

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
