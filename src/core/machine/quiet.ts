// A quiet machine: after a sync that found nothing to do, the next syncs have
// nothing to do either until the hub's tip moves, the machine's local state
// changes, or the clock reaches a time some rule looks at. Each such rule
// says itself, beside its predicate, when its answer next changes (presence,
// claims, plan, reservations, messages, publish, every); this file only asks
// each of them and takes the earliest, so that a sync can answer "nothing
// changed" from one look at the remote tip (src/sync/quiet.ts) instead of a
// full read. Waking early costs one ordinary sync; waking late would hold back
// a retry, a takeover or a heartbeat (test/deadlines.test.ts holds each
// deadline to its rule).
import { claimsLiveUntil, heartbeatDueAt } from "../work/claims.js";
import { upcomingSlot } from "../time/every.js";
import { liveMessagesUntil } from "../messages/messages.js";
import { notBeforeEndsAt, preferredHeardUntil, retryDueAt } from "./plan.js";
import { liveUntil, readReservations } from "../fleet/reservations.js";
import { reportKeptUntil } from "./publish.js";
import type { RepoModel } from "../repo/repo.js";
import { offlineChangesAt } from "../fleet/presence.js";
import type { Observation } from "../time/clock.js";
import type { Order } from "../orders/orders-schema.js";
import type { TaskReport } from "../fleet/computer.js";

export type { QuietStamp } from "./quiet-stamp.js";

/** The longest a quiet sync trusts its stamp, whatever the rules say: an hour. */
export const MAX_QUIET_MS = 3_600_000;

export interface QuietInput {
  now: Date;
  /**
   * When the sync decided it had nothing to do (its plan), if before `now` (the stamp is written after its publish):
   * the rules it decided by are asked from then, and one whose answer changed between then and `now` (a claim that
   * expired while the sync published) leaves no stamp. Default: `now`.
   */
  decided?: Date;
  me: string;
  /** The fleet at the tip the sync ended on (with this machine's file as published). */
  model: RepoModel;
  /** This machine's journal: its own task records. */
  journal: Record<string, TaskReport>;
  /** When this machine first saw each other machine's lastSeen (its own clock, ms). */
  observed: ReadonlyMap<string, Observation>;
  heartbeat: number;
  claimLease: number;
  retryBackoff: number;
  messageRetention: number;
  /** When this machine's detected capabilities are detected again (ms), if it knows. */
  capabilitiesUntil?: number;
  /** A publish waits for the fleet's push budget until then (ms). */
  deferredUntil?: number;
}

/**
 * Until when (ms since the epoch) a sync at the same tip, with the same local
 * state, does what a sync did at `now`; undefined when it is not quiet at all
 * (a task running or claimed, a heartbeat due).
 */
export function quietUntil(input: QuietInput): number | undefined {
  const now = input.now.getTime();
  const { model, me } = input;
  const times: number[] = [now + MAX_QUIET_MS];
  if (input.capabilitiesUntil !== undefined) times.push(input.capabilitiesUntil);
  if (input.deferredUntil !== undefined) times.push(input.deferredUntil);
  // Work under way, or a claim not yet run: every sync has something to do.
  if (Object.values(input.journal).some((t) => t.state === "in_progress" || t.state === "assigned")) return undefined;

  // Its own heartbeat (while holding no claims: none are, see above). A lastSeen that is no time, or ahead of
  // this clock, is not quiet; one due already (a publish the push budget defers) is, until the deferral ends.
  const mine = model.computers.get(me);
  const published = Date.parse(mine?.lastSeen ?? "");
  if (!mine || !Number.isFinite(published) || published > now) return undefined;
  times.push(heartbeatDueAt(mine.lastSeen, input.now, input.heartbeat) ?? Number.NaN);
  // Its own reservations leave its file when they expire.
  for (const r of readReservations(new Map([[me, mine]])).reservations) times.push(liveUntil(r, input.now) ?? Number.NaN);

  // What the sync decided by, asked from when it decided (`from`): a rule whose answer changed since leaves no stamp.
  const from = input.decided !== undefined && input.decided.getTime() <= now ? input.decided : input.now;
  const ruled: number[] = [];
  // Every other machine: each rule that reads its lastSeen says when its answer next changes (its deadline,
  // beside the rule): when it turns offline (and its alert goes out), when a claim of it expires at any
  // lease in play, when a machine an ANY order prefers counts as gone; by its word and by this machine's observation.
  const orders = model.orders?.orders ?? [];
  for (const [name, file] of model.computers) {
    if (name === me) continue;
    const observed = input.observed.get(name);
    ruled.push(offlineChangesAt(file, from) ?? Number.NaN);
    ruled.push(claimsLiveUntil(file, input.claimLease, from, observed) ?? Number.NaN);
    for (const order of orders) if (order.prefer?.includes(name)) ruled.push(preferredHeardUntil(order, file, from, observed) ?? Number.NaN);
  }

  // Orders: a notBefore reached, a slot of a recurring order, a retry due (its own, or another machine's failed try of an ANY order).
  const byId = new Map<string, Order>(orders.map((o) => [o.id, o]));
  for (const order of orders) ruled.push(notBeforeEndsAt(order, from) ?? Number.NaN);
  // A recurring order's next slot: a quiet machine must not sleep past it (the daemon wakes when the stamp ends).
  for (const order of orders) {
    const next = order.every && !order.cancelled ? upcomingSlot(order, from) : undefined;
    if (next) ruled.push(Date.parse(next));
  }
  const reports: [string, TaskReport][] = [...Object.entries(input.journal)];
  for (const file of model.computers.values()) reports.push(...Object.entries(file.tasks));
  for (const [id, report] of reports) {
    const order = byId.get(id);
    if (order && report.state === "failed") ruled.push(retryDueAt(order, report, input.retryBackoff, from) ?? Number.NaN);
  }
  // Its own reports of removed ANY orders are dropped some days after they ended.
  const known = model.orders ? new Set(orders.map((o) => o.id)) : undefined;
  for (const [id, report] of Object.entries(input.journal)) ruled.push(reportKeptUntil(id, report, known, from) ?? Number.NaN);
  // Its own messages are archived once acknowledged by every recipient and older than the retention.
  const receiptsOf = (name: string) => model.computers.get(name)?.messages;
  for (const file of model.messageFiles)
    if (file.from === me) ruled.push(liveMessagesUntil(file, receiptsOf, model.machineNames, from, input.messageRetention * 1000) ?? Number.NaN);

  if (ruled.some((t) => t > from.getTime() && t <= now)) return undefined;
  times.push(...ruled);

  const future = times.filter((t) => Number.isFinite(t) && t > now);
  return future.length ? Math.min(...future) : undefined;
}
