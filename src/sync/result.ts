// A sync's result before it has done anything, and the result of a sync the
// quiet stamp answered: one shape for syncMachine, the daemon and the quiet
// `coord sync` of src/cli/entry.ts (which loads nothing else of a sync).
import { utcText } from "../core/fleet/presence.js";
import type { SyncResult } from "./cycle.js";

/** What a sync of machine `machine` reports before it has done anything. */
export function emptyResult(machine: string): SyncResult {
  return {
    machine,
    skipped: false,
    ran: [],
    wouldRun: [],
    waiting: [],
    interrupted: [],
    delivered: [],
    hookAcked: [],
    ordersProblems: [],
    fileProblems: [],
    pushAttempts: 0,
    warnings: [],
  };
}

/** What a sync answered from the quiet stamp reports: nothing done, the orders still waiting as the stamp says. */
export function quietResult(stamp: { machine: string; waiting: SyncResult["waiting"]; deferred?: string }): SyncResult {
  return { ...emptyResult(stamp.machine), waiting: stamp.waiting, quiet: true, ...(stamp.deferred ? { deferred: stamp.deferred } : {}) };
}

/** What a sync's publish did, in words: "published <commit>", "waits for the fleet's push budget until …", or "nothing to publish". */
export function publishedText(r: SyncResult): string {
  if (r.pushed) return `published ${r.pushed.slice(0, 12)}`;
  if (r.deferred) return `what changed waits for the fleet's push budget until ${utcText(r.deferred)} (it goes out then, with whatever comes meanwhile)`;
  return "nothing to publish";
}
