// Publishing: a push of what commit.ts built, never by force. It lands only
// as a fast-forward of each branch (or, replacing the machines' branch with a
// new root, only while it is where it was read: a lease), every branch or
// none (atomic): a rejected push is a lost compare-and-swap, and the caller
// fetches and builds again (src/sync/cas.ts). The wake refs of the machines a
// publish wakes ride in the same push. On a hub on this machine's disk, one
// publish at a time (publish-lock.ts).
import { gitFailureText, isPushRefusal } from "../core/hub/ssh.js";
import { wakeRefOf } from "../core/hub/wake-refs.js";
import { redact } from "../core/trust/redact.js";
import type { Checkout } from "./checkout.js";
import { trackingRefOf } from "./client.js";
import { wakeCommit } from "./commit.js";
import { refFromFiles } from "./dotgit.js";
import { firstLine, isRejectedPush, isTimeout } from "./failures.js";
import { MACHINES_BRANCH, type PublishTurn, type PushOptions, type Role, splitTip } from "./hub.js";
import { publishLock } from "./publish-lock.js";
import { localTip } from "./remote-tip.js";

/**
 * Hub.exclusive: on a hub on this machine's disk (`hubOnDisk`, its URL), waits for the other publishes there and
 * returns this one's turn, with the hub's tip as its ref files say; undefined: none to take.
 */
export async function exclusive(c: Checkout, hubOnDisk: string | undefined): Promise<PublishTurn | undefined> {
  if (hubOnDisk === undefined) return undefined;
  const release = await publishLock(c.dir, hubOnDisk);
  if (!release) return undefined;
  const tip = await localTip(c.dir, hubOnDisk, c.branch).catch(() => undefined);
  return { release, ...(tip !== undefined ? { tip } : {}) };
}

/** Pushes one refspec as it is (coord doctor's throw-away ref: `+<commit>:<ref>`, then `:<ref>`); throws git's failure when the hub refuses it. */
export async function pushRefspec(c: Checkout, refspec: string): Promise<void> {
  await c.git().raw(["push", "--porcelain", "--no-verify", c.remote, refspec]);
}

/** Hub.push: the parts of `tip` of `roles` to their branches without force, atomically. false: someone pushed first. */
export async function push(c: Checkout, tip: string, roles: Role[] = ["machines"], opts: PushOptions = {}): Promise<boolean> {
  const updates: { ref: string; tracking?: string; commit: string }[] = [];
  const lease: string[] = [];
  for (const role of roles) {
    const t = splitTip(tip);
    const commit = t ? (role === "machines" ? t.machines : t.people) : tip;
    if (commit === undefined) continue;
    const branch = role === "machines" ? MACHINES_BRANCH : c.branch;
    updates.push({ ref: `refs/heads/${branch}`, tracking: trackingRefOf(c.remote, branch), commit });
    // A new root replaces the branch only if it is still where it was read: compare-and-swap by lease.
    if (role === "machines" && opts.replacing) lease.push(`--force-with-lease=refs/heads/${branch}:${opts.replacing}`);
  }
  if (lease.length && opts.keepAs) updates.push({ ref: opts.keepAs, commit: opts.replacing! });
  if (!updates.length) return true;
  // The machines it wakes (core/hub/wakes.ts): each one's ref moved to one empty commit, forced, in the same atomic push.
  const machines = updates.find((u) => u.ref === `refs/heads/${MACHINES_BRANCH}`)?.commit;
  const wake = machines && opts.wakes?.machines.length ? await wakeCommit(c, machines, opts.wakes.machines, opts.wakes.by) : undefined;
  const wakeUpdates = wake ? opts.wakes!.machines.map((m) => `+${wake}:${wakeRefOf(m)}`) : [];
  const pushing = async (extra: string[]) => {
    const refspecs = [...updates.map((u) => `${u.commit}:${u.ref}`), ...extra];
    const atomic = refspecs.length > 1 ? ["--atomic"] : [];
    await c.git().raw(["push", "--quiet", "--porcelain", ...atomic, ...lease, c.remote, ...refspecs]);
  };
  try {
    await pushing(wakeUpdates).catch(async (e: unknown) => {
      // A host that refuses the wake refs (a rule, a hook) refuses the whole atomic push: it goes again without them,
      // and the caller is told (it stops waking for a while). A lost race or an outage is what it was.
      const said = gitFailureText(String((e as Error)?.message ?? e));
      if (!wakeUpdates.length || isTimeout(e) || isRejectedPush(e) || !isPushRefusal(said)) throw e;
      // Refused again without them, the wakes were not why: that refusal is the push's. Landed, or lost a race: they were.
      const refused = () => opts.wakesRefused?.(firstLine(redact(said)));
      await pushing([]).catch((again: unknown) => {
        if (isRejectedPush(again)) refused();
        throw again;
      });
      refused();
    });
  } catch (e) {
    if (isRejectedPush(e)) return false;
    throw await c.remoteError(e, "push to");
  }
  // Only a cache of the remote tip, which git's push sets itself when the remote's fetch refspec maps
  // the branch (a clone coord made): else set here. A concurrent fetch (coord status) holding the
  // ref's lock must not turn a push that landed into a failed sync; the next fetch sets it anyway.
  const gitDir = await c.plainGitDir();
  for (const u of updates) {
    if (!u.tracking || (gitDir && (await refFromFiles(gitDir, u.tracking)) === u.commit)) continue;
    await c
      .git()
      .raw(["update-ref", u.tracking, u.commit])
      .catch(() => {});
  }
  return true;
}
