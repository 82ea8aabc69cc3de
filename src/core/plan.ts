// What a machine should do now: a pure function of the orders, who it is, and
// what its journal says it has already done.
import { ordersTargets } from "./orders.js";
import { PRIORITIES, type Order, type TaskReport } from "./types.js";

/** Order features that this version of coord validates but does not run yet. */
export function unsupportedFeatures(order: Order): string[] {
  const found: string[] = [];
  if (order.to === "ANY") found.push('to "ANY"');
  if (order.after.length) found.push("after");
  if (order.requires.length) found.push("requires");
  if (order.agent !== undefined) found.push("agent");
  return found;
}

export function unsupportedReason(order: Order): string | undefined {
  const found = unsupportedFeatures(order);
  return found.length ? `uses ${found.join(", ")}, which this version of coord does not run yet` : undefined;
}

export interface PlanInput {
  orders: Order[];
  machine: string;
  /** Every registered machine name (for ALL). */
  machines: string[];
  /** The journal: order id → what this machine last did for it. */
  journal: Record<string, TaskReport>;
  now: Date;
}

export interface Plan {
  /** Tasks to start now, in order. */
  run: Order[];
  /** Orders addressed to this machine that will not start now, with why. */
  waiting: { order: Order; reason: string }[];
}

const rank = (o: Order) => PRIORITIES.indexOf(o.priority);

export function plan(input: PlanInput): Plan {
  const run: Order[] = [];
  const waiting: Plan["waiting"] = [];
  for (const order of input.orders) {
    if (order.to === "ANY" || !ordersTargets(order, input.machines).includes(input.machine)) continue;
    const done = input.journal[order.id];
    if (done && done.rev > order.rev) continue; // a newer rev ran already; never go back
    if (done && done.rev === order.rev) {
      const retry = done.state === "failed" && done.attempts < order.retries + 1;
      if (!retry) continue;
    }
    if (order.cancelled) continue;
    const unsupported = unsupportedReason(order);
    if (unsupported) waiting.push({ order, reason: unsupported });
    else if (order.notBefore && Date.parse(order.notBefore) > input.now.getTime())
      waiting.push({ order, reason: `not before ${order.notBefore}` });
    else run.push(order);
  }
  // Highest priority first; the file's order among equals (sort is stable).
  run.sort((a, b) => rank(b) - rank(a));
  return { run, waiting };
}

/** The attempt number the next run of `order` will be. */
export function nextAttempt(order: Order, done: TaskReport | undefined): number {
  return done && done.rev === order.rev ? done.attempts + 1 : 1;
}
