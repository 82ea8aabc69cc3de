// Whether this copy is the machine its name says: decided at every view of a sync (sync/view.ts) and by
// coord doctor, by one rule. The machine's file on the hub claims the name (its uuid) and the identity's
// generation (its epoch, newer after a reclaim). Where ORDERS.json's keys vouch for the name, the key decides:
// a copy that signs with another key runs nothing, and a claim someone else pushed (not signed by this
// machine) is not believed. Without keys a reinstall elsewhere and a forged claim look alike: the claim stops it.

/** What the machine's file on the hub says of this copy. */
export type Claim =
  /** Its own uuid and no newer generation, or no file yet. */
  | { kind: "mine" }
  /** Another machine's uuid on its name. */
  | { kind: "another"; uuid: string; lastSeen: string }
  /**
   * Its uuid with a newer generation: the identity was reclaimed elsewhere. `seen`: a reclaim this copy saw before
   * (its own record, state/reclaimed.ts), which holds whatever the hub says now.
   */
  | { kind: "reclaimed"; epoch: number; host: string; at: string; seen?: true };

/** A generation of the identity, as a machine's file publishes it. */
export interface Generation {
  epoch: number;
  host: string;
  at: string;
}

/**
 * The claim of `theirs` (the file on the hub, parsed; undefined: none or unreadable) on this copy's identity, after
 * the reclaim this copy saw before (`seen`), if any: a push that takes a newer generation out of the file again
 * revives no copy that saw it.
 */
export function claimOf(theirs: { uuid: string; lastSeen: string; identity?: Generation } | undefined, me: { uuid: string; epoch: number }, seen?: Generation): Claim {
  if (seen && seen.epoch > me.epoch) return { kind: "reclaimed", ...seen, seen: true };
  if (!theirs) return { kind: "mine" };
  if (theirs.uuid !== me.uuid) return { kind: "another", uuid: theirs.uuid, lastSeen: theirs.lastSeen };
  if (theirs.identity && theirs.identity.epoch > me.epoch) return { kind: "reclaimed", ...theirs.identity };
  return { kind: "mine" };
}

/** What the history says of the machine's own file, where the keys vouch for it and this copy signs with that key. */
export type Signature =
  /** Its newest change is signed with the machine's key: the tip's text is as the machine wrote it. */
  | { byMe: true }
  /**
   * Its newest change is someone else's; `lastSigned`: the claim of the newest version signed with the machine's key
   * (by this copy, or another copy of the identity reclaimed with the same key), none found among its last changes.
   */
  | { byMe: false; lastSigned?: Claim };

export interface IdentityFacts {
  /** The claim of the file at the tip, after a reclaim this copy saw (claimOf). */
  claim: Claim;
  /** The key ORDERS.json's keys name for this machine (undefined: they do not vouch for it). */
  vouched?: string;
  /** The key this copy signs with. */
  own?: string;
  /** Asked when `asksSignature`; undefined when unknown (a hub without history): the tip's claim is believed. */
  signature?: Signature;
}

export type IdentityVerdict =
  /** It is the machine its name says. */
  | { kind: "itself" }
  /** ORDERS.json's keys name another key for the name: the fleet believes that machine, and this copy runs nothing. */
  | { kind: "wrong-key"; vouched: string }
  /** The tip's claim was pushed by someone else where the keys vouch for it: not believed; it goes on and writes its file again. */
  | { kind: "forged"; claim: Exclude<Claim, { kind: "mine" }> }
  /** The claim holds: this copy runs nothing. */
  | { kind: "claimed"; claim: Exclude<Claim, { kind: "mine" }> };

/** Whether the verdict needs the file's history (`signature`): where the keys vouch for this copy's key, always. */
export function asksSignature(f: Omit<IdentityFacts, "signature">): boolean {
  return !(f.claim.kind === "reclaimed" && f.claim.seen) && f.vouched !== undefined && f.vouched === f.own;
}

export function identityVerdict(f: IdentityFacts): IdentityVerdict {
  if (f.vouched !== undefined && f.vouched !== f.own) return { kind: "wrong-key", vouched: f.vouched };
  if (f.claim.kind === "reclaimed" && f.claim.seen) return { kind: "claimed", claim: f.claim };
  // Where the keys vouch for it, the file counts as last signed with its key: a claim signed so holds (found in attack:
  // an unsigned touch after a real reclaim, or an old version put back, kept the old copy running), one that is not
  // is not believed.
  if (f.vouched !== undefined && f.signature && !f.signature.byMe) {
    const signed = f.signature.lastSigned;
    if (signed && signed.kind !== "mine") return { kind: "claimed", claim: signed };
    return f.claim.kind === "mine" ? { kind: "itself" } : { kind: "forged", claim: f.claim };
  }
  return f.claim.kind === "mine" ? { kind: "itself" } : { kind: "claimed", claim: f.claim };
}
