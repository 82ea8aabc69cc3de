// One view of a tip: what a tip of the hub means for this machine, made in
// one place for the cycle's first read and for every try of a publish. The
// tip's files verified (trust.ts), read, checked to be this machine's
// identity, the other machines' lastSeen observed by its own clock, and its
// local pause as it is now.
import type { Observation } from "../core/time/clock.js";
import { observe } from "../core/time/clock.js";
import type { Pause } from "../core/hub/controls.js";
import { readModel, type RepoModel } from "../core/repo/repo.js";
import type { Refusal } from "../core/trust/trust.js";
import { CoordError, EXIT, IdentityReclaimed } from "../errors.js";
import { readPause } from "../state/pause.js";
import { budgetsFor, type Machine } from "./machine.js";
import { claimLeaseOf, countedMachines, type Share, shareOf } from "../core/budget/budget.js";
import { pushBudgetOf, type ReadShare, readShareOf } from "../core/hub/reads.js";
import { identityAt, trustedView } from "./trust.js";
import { computerPath } from "../core/files/names.js";
import { shownLine } from "../core/files/shown.js";
import { keyFingerprint } from "../core/trust/trust.js";
import { saveReclaimSeen } from "../state/reclaimed.js";
import type { Claim } from "../core/trust/identity.js";

/** What one tip means for this machine: a value, made by `viewTip` (or by a publish for the commit it landed). */
export interface TipView {
  /**
   * Who looked: the cycle's first read, or a publish (a try's tip, or the commit it landed). The drain plans
   * only on a tip a publish saw.
   */
  readonly by: "read" | "publish";
  readonly tip: string;
  /** The tip's files as the hub has them. */
  readonly files: Map<string, string>;
  /** The files acted on: the orders as verified (signed orders), with this machine's own delegated ones. */
  readonly local: Map<string, string>;
  /** Whether anything was verified (then STATUS is derived from the tip as it is, not from `local`). */
  readonly checked: boolean;
  /** The fleet as `local` says. */
  readonly model: RepoModel;
  /** Changes of orders files refused at this tip (signed orders), published in its file. */
  readonly refusals: Refusal[];
  /** What its checks had to say (keys pinned, machines not believed, a forged claim on its name), logged once a cycle. */
  readonly notes: readonly string[];
  /** When this machine saw each other machine's lastSeen change, by its own clock (leases are measured by it). */
  readonly observed: Map<string, Observation>;
  /** coord pause on this machine (.git/coord/pause.json), as it was when the tip was seen. */
  readonly localPause?: Pause;
  /** Its share of the fleet's push budget as this tip shows the fleet, its turn and its claims' lease (shareAt). */
  readonly share: FleetShare;
}

/** A machine's share of the push budget at one tip (core/budget/budget.ts), with its place among the machines counted and its claims' lease. */
export interface FleetShare {
  readonly share: Share;
  /** Its place among the machines counted for the share, by name: its turn to push (turnWait). */
  readonly rank: number;
  /** The lease its claims hold for under that share (claimLeaseOf). */
  readonly lease: number;
}

/** `m`'s share of the fleet's push budget as `model` shows the fleet at `now`: ORDERS.json's budget, else its host's (core/hub/reads.ts). */
export function shareAt(m: Machine, model: RepoModel, now: Date): FleetShare {
  const { config } = m;
  const counted = countedMachines(config.name, model.computers, now);
  const share = shareOf(pushBudgetOf(budgetsFor(m, model.controls)), counted.length, config.heartbeat);
  return { share, rank: counted.indexOf(config.name), lease: claimLeaseOf(share, config.claimLease) };
}

/** How a view is made: who looks, on which clock, after which observations. */
export interface Looking {
  by: TipView["by"];
  now: () => Date;
  log: (line: string) => void;
  /** What the cycle's view before this one noted (TipView.notes): not said again. */
  saidBefore?: readonly string[];
  /** The observations the new ones follow, asked once the checks passed. */
  observedBefore: () => Promise<ReadonlyMap<string, Observation>>;
  /** A check of the fleet read, after its identity's (the first read: that it can sign, checkSigning). */
  check?: (model: RepoModel) => void;
}

/**
 * The view step: the tip verified and read, this machine checked to be itself, the others' lastSeen observed by
 * its own clock, and its local pause. Changes nothing but what trust verification accepts (trust.ts):
 * what a new tip triggers is reactToTip's (cycle.ts).
 */
export async function viewTip(m: Machine, at: { tip: string; files: Map<string, string> }, look: Looking): Promise<TipView> {
  const { config } = m;
  const { tip, files } = at;
  const { by, now } = look;
  // What the checks have to say, said once a cycle: a publish's view says only what the view before it did not.
  const notes: string[] = [];
  const note = (line: string) => {
    notes.push(line);
    if (!look.saidBefore?.includes(line)) look.log(line);
  };
  const trusted = await trustedView(m, tip, files, note);
  const model = readModel(trusted.files);
  await checkVouchedIdentity(m, trusted.roster?.get(config.name), model, tip, note);
  look.check?.(model);
  const observed = observe(await look.observedBefore(), lastSeenOf(model, config.name), now());
  const localPause = await readPause(m.stateDir);
  return {
    by,
    tip,
    files,
    local: trusted.files,
    checked: trusted.checked,
    model,
    refusals: trusted.refusals,
    notes,
    observed,
    ...(localPause ? { localPause } : {}),
    share: shareAt(m, model, now()),
  };
}

/**
 * This copy checked to be the machine its name says (core/trust/identity.ts): where ORDERS.json's keys vouch for
 * it, it is the copy that signs with the key they name (another key, or none: it runs nothing, and says so), and its
 * own file on the hub counts as its identity only as it signed it: a change someone else pushed that gives its name
 * another uuid, or says it was reclaimed, is not believed (a reclaim elsewhere with a new key is a change of the
 * keys, by the people) and its next publish writes the file again. Without keys, the file's claim decides: a
 * reinstall elsewhere and a forgery look alike.
 */
async function checkVouchedIdentity(m: Machine, vouched: string | undefined, model: RepoModel, tip: string, note: (line: string) => void): Promise<void> {
  const { config } = m;
  const path = computerPath(config.name);
  const { verdict, change } = await identityAt(m.hub, tip, m, model.computers.get(config.name), vouched);
  if (verdict.kind === "itself") return;
  if (verdict.kind === "wrong-key")
    throw new CoordError(
      `ORDERS.json's keys name ${keyFingerprint(verdict.vouched)} for ${config.name}, and this copy signs with ${m.signing?.publicKey ? keyFingerprint(m.signing.publicKey) : "no key"}: ` +
        `the fleet believes the machine with that key, not this copy, so it runs nothing; if this machine was reinstalled elsewhere, remove this copy's schedule ` +
        `(coord cron uninstall, coord daemon stop); else put its key in ORDERS.json's keys (coord trust status shows it)`,
      EXIT.USAGE,
    );
  if (verdict.kind === "forged" && change)
    return note(
      shownLine(
        `${path} on the hub says ${verdict.claim.kind === "reclaimed" ? "this identity was reclaimed" : "the name is another machine's"} in commit ${change.commit.slice(0, 12)} by ${change.author}, ` +
          `not signed with the key ORDERS.json's keys name for ${config.name}: not believed; this machine goes on, and its next publish writes the file again`,
      ),
    );
  // A reclaim believed is remembered: the copy stays stopped whatever the hub says later (state/reclaimed.ts).
  if (verdict.claim.kind === "reclaimed" && !verdict.claim.seen) {
    const { epoch, host, at } = verdict.claim;
    await saveReclaimSeen(m.stateDir, { epoch, host, at, name: config.name });
  }
  throw claimError(config.name, verdict.claim);
}

/** Why a copy whose name is claimed runs nothing, and what to do. */
function claimError(name: string, claim: Exclude<Claim, { kind: "mine" }>): CoordError {
  if (claim.kind === "reclaimed")
    return new IdentityReclaimed(
      `this identity (${name}) was reclaimed on ${claim.host} at ${claim.at} (coord init --reclaim there); this copy no longer claims or runs anything: ` +
        `remove its schedule (coord cron uninstall, coord daemon stop), or take the identity back with coord init --reclaim here`,
    );
  return new CoordError(
    `the machine name "${name}" is already owned by another machine (uuid ${claim.uuid}, last seen ${claim.lastSeen}); ` +
      `choose another name with coord init --name, or, if that machine is this one reinstalled, run coord init --reclaim`,
    EXIT.USAGE,
  );
}

/**
 * It signed before (its file shows its key) and cannot now: the others would refuse everything it publishes, its
 * claims too, and could run its work again. It stops at the first read, before running anything, and says why.
 */
export function checkSigning(m: Machine, model: RepoModel): void {
  const { config } = m;
  if (m.signing?.problem && model.computers.get(config.name)?.key)
    throw new CoordError(
      `this machine signs its commits (its file on the hub shows its key) but cannot now: ${m.signing.problem}; the others would refuse what it publishes, so it runs nothing until the key is back, or coord trust key gives it a new one (then pin it on the others: coord trust pin ${config.name} <key>)`,
      EXIT.FAILURE,
    );
}

/** Every other machine's lastSeen as the files say. */
export function lastSeenOf(model: RepoModel, me: string): Map<string, string> {
  return new Map([...model.computers].filter(([name]) => name !== me).map(([name, file]) => [name, file.lastSeen]));
}

/** Machine `me`'s share of the fleet's reads as `model` shows the fleet at `now` (core/hub/reads.ts): how often it looks. */
export function readShareAt(m: Pick<Machine, "host">, me: string, model: RepoModel, now: Date): ReadShare {
  return readShareOf(budgetsFor(m, model.controls).readsPerSecond, countedMachines(me, model.computers, now).length);
}
