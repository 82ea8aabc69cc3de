// Asking the remote: a fetch of both branches (the machines' tip alone first
// in a shallow checkout), whether it answers at all, its tip and wake refs
// without fetching (remote-tip.ts, the quiet sync's light look), and when this
// checkout last heard from it. A failure to reach it is one sentence
// (failures.ts); a remote that fell silent a moment ago is not waited for twice.
import { backoffDelay, REF_LOCK_BACKOFF } from "../core/time/backoff.js";
import type { WakesSeen } from "../core/hub/wake-refs.js";
import type { Checkout } from "./checkout.js";
import { fetchBranch, fetchCommits } from "./client.js";
import { splitTip } from "../core/hub/branches.js";
import { isObjectId } from "./dotgit.js";
import { lookAndBring, remoteLook, remoteTip as lsRemoteTip, takeSilence } from "./remote-tip.js";

/** Seconds a probe of the remote (Hub.reachable) waits for an answer at most. */
const PROBE_TIMEOUT = 15;

/**
 * The machines' branch alone, when this checkout has not fetched it yet (a clone of the people's branch):
 * in a shallow checkout its tip alone, not its whole history.
 */
export async function fetchMachinesTip(c: Checkout): Promise<void> {
  if (await c.resolveRef(c.machinesTrackingRef)) return;
  await fetchBranch(c.git(), c.remote, c.branch, { machinesOnly: true, ...((await c.shallow()) ? { depth: 1 } : {}) });
}

/**
 * Hub.fetch: both branches; the remote tip (joinTip), or undefined when the remote has no people's branch yet. `seen`:
 * the tip a look saw a moment ago, fetched by its commits' ids (fetchCommits) when it can be, else as always.
 */
export async function fetch(c: Checkout, seen?: string): Promise<string | undefined> {
  // The quiet look at the remote's tip ran into its deadline a moment ago: the remote is not waited for a second time.
  const silent = takeSilence(c.dir, c.remote);
  if (silent) throw await c.remoteError(silent, "reach");
  const ids = seen === undefined ? undefined : await commitsToFetch(c, seen);
  if (ids) {
    try {
      await fetchCommits(c.git(), c.remote, c.branch, ids.people, ids.machines);
      return c.trackedNow();
    } catch (e) {
      // A hub that did not answer is not asked twice; one that refused the ids is asked for its branches.
      if ((e as { why?: unknown }).why === "timeout") throw await c.remoteError(e, "reach");
    }
  }
  for (let attempt = 1; ; attempt++) {
    try {
      if (await c.shallow()) await fetchMachinesTip(c);
      await fetchBranch(c.git(), c.remote, c.branch);
      return c.trackedNow();
    } catch (e) {
      const msg = String((e as Error).message);
      if (/couldn't find remote ref/i.test(msg)) return undefined;
      // Another coord command in this checkout (a status during a sync) updated the ref, or its shallow file, at the same moment.
      if (/cannot lock ref|unable to update local ref|shallow\.lock/i.test(msg) && attempt < 6) {
        await new Promise((r) => setTimeout(r, backoffDelay(attempt, REF_LOCK_BACKOFF)));
        continue;
      }
      throw await c.remoteError(e, "reach");
    }
  }
}

/**
 * The commits of a tip a look saw (joinTip), to fetch by their ids; undefined when it names none, or when this is a
 * shallow checkout that has not fetched the machines' branch yet (its tip alone comes first: fetchMachinesTip).
 */
async function commitsToFetch(c: Checkout, seen: string): Promise<{ people: string; machines?: string } | undefined> {
  const ids = splitTip(seen);
  if (!ids || !isObjectId(ids.people) || (ids.machines !== undefined && !isObjectId(ids.machines))) return undefined;
  if ((await c.shallow()) && !(await c.resolveRef(c.machinesTrackingRef))) return undefined;
  return ids;
}

/** Hub.reachable: whether the remote answers now; never throws. */
export async function reachable(c: Checkout): Promise<boolean> {
  try {
    // An answer, even "no such branch" (exit 2), is a remote that is there.
    await c.git({ timeout: Math.min(c.timeout, PROBE_TIMEOUT) }).raw(["ls-remote", "--quiet", c.remote, `refs/heads/${c.branch}`]);
    return true;
  } catch {
    return false; // any failure to answer: the outage goes on
  }
}

/** Hub.remoteTip: the remote's tip (joinTip) without fetching. */
export async function remoteTip(c: Checkout): Promise<string | undefined> {
  try {
    return await lsRemoteTip(c.dir, c.remote, c.branch, c.timeout, c.signal);
  } catch (e) {
    throw await c.remoteError(e, "reach");
  }
}

/**
 * Hub.look: the remote's tip and the wake refs of `machine` and of the fleet, in one read that brings the tip's commits;
 * in a shallow checkout that has not fetched the machines' branch yet, without them (its sync fetches that branch's
 * tip alone first: fetchMachinesTip; a look would bring its whole history).
 */
export async function look(c: Checkout, machine: string, known: WakesSeen = {}): Promise<{ tip?: string } & WakesSeen> {
  try {
    const tracked = await c.trackedNow();
    if ((tracked === undefined || splitTip(tracked)?.machines === undefined) && (await c.shallow()))
      return await remoteLook(c.dir, c.remote, c.branch, c.timeout, machine, c.signal);
    return await lookAndBring(c.dir, c.remote, c.branch, c.timeout, machine, known, c.signal);
  } catch (e) {
    throw await c.remoteError(e, "reach");
  }
}

/** When the tracking ref last moved (its reflog: the last fetch or push), or undefined when it has no reflog yet. */
export async function lastFetchedAt(c: Checkout): Promise<string | undefined> {
  const out = await c
    .git()
    .raw(["log", "-g", "-n", "1", "--format=%gd", "--date=unix", c.trackingRef])
    .catch(() => ""); // no reflog: never fetched, or reflogs are off
  const seconds = Number(/@\{(\d+)\}/.exec(out)?.[1]);
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000).toISOString() : undefined;
}
