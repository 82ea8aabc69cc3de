// The shapes of STATUS.json (core/status/status.ts derives it): each machine, order and
// service across the fleet, the fleet's budget and its alerts. Types only (and
// the alert kinds), so that what reads a status (claims, alerts, STATUS.md, the
// terminal, the page) imports none of the code that derives it.
import type { ReportedHealth } from "./failures.js";
import type { Presence } from "./presence.js";
import type { FleetReservation } from "./reservations.js";
import type { ServiceReport } from "../services/services.js";
import type { AgentReport, OnCallReport } from "./computer.js";
import type { MachineState, Problem, TaskState } from "../types.js";

export const ALERT_KINDS = ["offline", "stalled", "failed", "service", "refused", "approval", "urgent"] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface Alert {
  /** Stable while the cause lasts: "offline/<machine>/<lastSeen>", "stalled/<machine>/<since>", "failed/<order>/<rev>/<machine>/<attempts>", "refused/<machine>/<commit>", "approval/<request id>", or an urgent message's id. */
  id: string;
  kind: AlertKind;
  /** One line for people. */
  text: string;
  /** When it began, when known (ISO). */
  at?: string;
  /** The machine it is about (offline, failed, refused). */
  machine?: string;
  /** The order it is about (failed). */
  order?: string;
  /** The service it is about (service). */
  service?: string;
  /** Urgent messages: the sender, the file's recipient (a name or ALL), and who has not acknowledged it yet. */
  from?: string;
  to?: string;
  recipients?: string[];
}

/**
 * The fleet's budget as STATUS says it: the pushes a minute, the machines that share them (not offline), and the
 * shortest heartbeat it allows (seconds); `byHost` when ORDERS.json sets no push budget (each machine then takes
 * its host's: core/hub/reads.ts; the figures are GitHub's); the read budget when ORDERS.json sets one.
 */
export interface FleetBudget {
  pushesPerMinute: number;
  machines: number;
  heartbeat: number;
  byHost?: true;
  readsPerSecond?: number;
}

export interface MachineStatus {
  state: MachineState;
  /** Online, stale or offline at the fleet's time (asOf); a reader with a clock asks presenceOf(m, now). */
  presence: Presence;
  lastSeen: string;
  heartbeat: number;
  capabilities: Record<string, string>;
  ordersValid: boolean;
  /** Live messages to this machine: not yet received (waiting in git), and received but not acknowledged. */
  messages: { waiting: number; unacked: number };
  /** Its failed syncs, as it reports them (core/fleet/failures.ts): stalled, or refused by the hub; `cleared` once over. */
  health?: ReportedHealth;
  /** Why its state is emergency or suspended. */
  stateReason?: string;
  /** Why its commits are not signed (its file says so): readers cannot tell its changes from anyone's. */
  unsigned?: string;
  /** On call: its agent answers messages (whose, the turns running). */
  onCall?: OnCallReport;
}

export interface OrderMachineStatus {
  state: TaskState;
  /** A recurring order: the slot of the run this reports (its last). */
  slot?: string;
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  attempts: number;
  durationMs?: number;
  reason?: string;
  /** "to: ANY": seconds the claim holds without a heartbeat from its holder. */
  lease?: number;
  /** "to: ANY": the machine whose expired claim this one took over. */
  takeoverFrom?: string;
  /** Failed with retries left: when its machine runs it again. */
  retryAt?: string;
  /** An agent task: its session (to resume it), turns, cost, tokens, denied tools. */
  agent?: AgentReport;
  /** Failed with no retry left for this rev. */
  retriesExhausted?: true;
  /** Failed: the last lines of its output (as its machine published them, redacted). */
  output?: string;
}

export interface OrderStatus {
  rev: number;
  state: TaskState;
  /** A recurring order: its schedule (every, in its time zone). */
  every?: string;
  /** A recurring order: the latest slot a machine reported a run of (its `machines` are of this slot for ANY, each machine's last for the others). */
  slot?: string;
  /** A recurring order: the first slot after the fleet's time (asOf). */
  next?: string;
  /** Nothing more will happen for this rev: completed, or failed / cancelled / rejected / blocked for good. */
  done: boolean;
  to: string | string[];
  reason?: string;
  /** "to: ANY": the machine holding the claim. */
  holder?: string;
  machines: Record<string, OrderMachineStatus>;
}

/** A service across the fleet: what each machine that runs it (or should) reports. */
export interface ServiceStatus {
  /** The rev ORDERS.json says now (or the highest reported, when it is gone from ORDERS.json). */
  rev: number;
  to?: string | string[];
  machines: Record<string, Omit<ServiceReport, "output">>;
}

export interface StatusJson {
  coord: 1;
  /** The fleet's time: the newest lastSeen of its machines (absent with none). Presence and offline alerts are as of it. */
  asOf?: string;
  /** ORDERS.json stops the fleet: why (every machine stops its tasks and starts nothing until it is removed). */
  emergency?: { reason: string };
  machines: Record<string, MachineStatus>;
  orders: Record<string, OrderStatus>;
  /** Services (ORDERS.json `services`), by id: absent when there are none. */
  services?: Record<string, ServiceStatus>;
  /** Path reservations that hold at the fleet's time (asOf), in the hub's order: absent when there are none. */
  reservations?: FleetReservation[];
  /** The fleet's push budget (ORDERS.json `"hub": {"pushesPerMinute": …}`, core/budget/budget.ts): shared by the machines not offline, and the heartbeat it stretches to (always derived; absent in a STATUS.json of an older coord). */
  budget?: FleetBudget;
  alerts: Alert[];
  errors: Problem[];
}
