// How a sync says which of its orders did not start (coord sync, and the quiet sync in entry.ts).
import type { SyncResult } from "../sync/cycle.js";

/** One line per order that did not start; more than 3 with the same reason (a queue of ANY orders waiting for a slot) share one. */
export function waitingLines(waiting: SyncResult["waiting"]): string[] {
  const byReason = new Map<string, string[]>();
  for (const w of waiting) byReason.set(w.reason, [...(byReason.get(w.reason) ?? []), w.id]);
  return [...byReason].flatMap(([reason, ids]) =>
    ids.length <= 3 ? ids.map((id) => `${id}: not started: ${reason}`) : [`${ids.slice(0, 3).join(", ")} and ${ids.length - 3} more: not started: ${reason}`],
  );
}
