// Fleet controls: an emergency stop for the whole fleet, and pausing one
// machine. ORDERS.json may say `"emergency": {"stop": true, "reason": "…"}`
// (every machine stops its tasks and starts nothing) and `"pause": {"<machine>":
// {"reason": "…", "stop": false}}` (that machine claims and starts nothing new;
// with stop, it stops what runs too); `coord pause` pauses this machine from
// its own local state; and `"hub": {"statusHistory": …}`, how much history the
// machines' branch keeps (core/hub/status-history.ts), `"pushesPerMinute"`,
// the fleet's push budget (core/budget/budget.ts), and `"readsPerSecond"`, its read
// budget (core/hub/reads.ts). Read leniently: an emergency stop counts even when the
// rest of ORDERS.json is invalid (a person in a hurry may break a comma).
import { clip, ordersObject } from "../limits.js";
import { machineNameProblem } from "../files/names.js";
import { DEFAULT_HISTORY, type HistoryLimit, historyLimitOf } from "./status-history.js";
import { isRecord } from "../types.js";
import { DEFAULT_PUSHES_PER_MINUTE, hubBudgetOf, pushesPerMinuteOf } from "./reads.js";

export interface Pause {
  reason?: string;
  /** Stop what runs now too (else it finishes). */
  stop: boolean;
}

export interface Controls {
  /** The fleet is stopped: why. */
  emergency?: { reason: string };
  /** Machines ORDERS.json pauses, by name. */
  paused: Map<string, Pause>;
  /** How much history the machines' branch keeps (`"hub": {"statusHistory": …}`; core/hub/status-history.ts). */
  history: HistoryLimit;
  /** The fleet's push budget (`"hub": {"pushesPerMinute": …}`; core/budget/budget.ts), GitHub's when unset (what STATUS says). */
  pushesPerMinute: number;
  /** The budgets ORDERS.json sets itself, each only when written: else each machine takes its host's (core/hub/reads.ts). */
  budgets: { pushesPerMinute?: number; readsPerSecond?: number };
}

/** What stops this machine now, if anything: the state it publishes, why, and whether running tasks stop. */
export interface Halt {
  state: "emergency" | "suspended";
  reason: string;
  stopRunning: boolean;
}

const NO_CONTROLS: Controls = { paused: new Map(), history: DEFAULT_HISTORY, pushesPerMinute: DEFAULT_PUSHES_PER_MINUTE, budgets: {} };

const reasonOf = (v: unknown) => (typeof v === "string" && v.trim() ? clip(v.trim().replace(/\s+/g, " "), 300) : undefined);

/** The controls ORDERS.json's text says, whatever else is wrong with it (never throws). */
export function readControls(text: string | undefined): Controls {
  const data = text === undefined ? undefined : ordersObject(text);
  if (!data) return NO_CONTROLS;
  const controls: Controls = { paused: new Map(), history: historyLimitOf(data), pushesPerMinute: pushesPerMinuteOf(data), budgets: hubBudgetOf(data) };
  const e = data.emergency;
  if (isRecord(e) && e.stop === true) controls.emergency = { reason: reasonOf(e.reason) ?? "no reason given" };
  const p = data.pause;
  if (isRecord(p))
    for (const [name, v] of Object.entries(p)) {
      if (machineNameProblem(name) || !isRecord(v)) continue;
      const reason = reasonOf(v.reason);
      controls.paused.set(name, { ...(reason ? { reason } : {}), stop: v.stop === true });
    }
  return controls;
}

/** What halts machine `me`: the fleet's emergency stop first, then a pause (ORDERS.json's, else its own local one). */
export function haltOf(me: string, controls: Controls, local?: Pause): Halt | undefined {
  if (controls.emergency) return { state: "emergency", reason: `emergency stop: ${controls.emergency.reason}`, stopRunning: true };
  const pause = controls.paused.get(me) ?? local;
  if (!pause) return undefined;
  const by = controls.paused.has(me) ? "ORDERS.json" : "coord pause";
  return { state: "suspended", reason: `paused (${by})${pause.reason ? `: ${pause.reason}` : ""}`, stopRunning: pause.stop };
}
