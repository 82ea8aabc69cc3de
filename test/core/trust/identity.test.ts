// Whether this copy is the machine its name says (core/trust/identity.ts): the rule a sync's view and coord doctor share.
import { describe, expect, it } from "vitest";
import { asksSignature, type Claim, claimOf, type IdentityFacts, identityVerdict } from "../../../src/core/trust/identity.js";

const me = { uuid: "u-1", epoch: 2 };
const another: Claim = { kind: "another", uuid: "u-9", lastSeen: "2026-11-30T10:00:00Z" };
const reclaimed: Claim = { kind: "reclaimed", epoch: 3, host: "laptop", at: "2026-11-30T11:00:00Z" };
const seenBefore: Claim = { ...reclaimed, seen: true };
const K = "ssh-ed25519 AAAAkeyofthismachine";
const OTHER = "ssh-ed25519 AAAAanotherkey";

describe("claimOf", () => {
  it.each<[string, Parameters<typeof claimOf>[0], Claim, Parameters<typeof claimOf>[2]?]>([
    ["no file yet (or one that does not parse)", undefined, { kind: "mine" }],
    ["its uuid, no generation", { uuid: "u-1", lastSeen: "x" }, { kind: "mine" }],
    ["its uuid, its own generation", { uuid: "u-1", lastSeen: "x", identity: { epoch: 2, host: "h", at: "t" } }, { kind: "mine" }],
    ["its uuid, an older generation (its file before its own reclaim was published)", { uuid: "u-1", lastSeen: "x", identity: { epoch: 1, host: "h", at: "t" } }, { kind: "mine" }],
    [
      "its uuid, a newer generation: reclaimed elsewhere",
      { uuid: "u-1", lastSeen: "x", identity: { epoch: 3, host: "laptop", at: "t3" } },
      { kind: "reclaimed", epoch: 3, host: "laptop", at: "t3" },
    ],
    ["another uuid, whatever its generation", { uuid: "u-9", lastSeen: "seen", identity: { epoch: 9, host: "h", at: "t" } }, { kind: "another", uuid: "u-9", lastSeen: "seen" }],
    // A reclaim this copy saw before holds, whatever the hub says now (found in attack: a push that took the newer
    // generation out of the file revived the stopped copy, and an order ran on both).
    ["a reclaim seen before, the file pushed back to its generation", { uuid: "u-1", lastSeen: "x" }, seenBefore, { epoch: 3, host: "laptop", at: "2026-11-30T11:00:00Z" }],
    ["a reclaim seen before, no file at all", undefined, seenBefore, { epoch: 3, host: "laptop", at: "2026-11-30T11:00:00Z" }],
    ["a reclaim seen before that it took back since (its generation newer)", { uuid: "u-1", lastSeen: "x" }, { kind: "mine" }, { epoch: 2, host: "h", at: "t" }],
  ])("%s", (_, theirs, want, seen) => {
    expect(claimOf(theirs, me, seen)).toEqual(want);
  });
});

describe("identityVerdict", () => {
  const mine: Claim = { kind: "mine" };
  const byMe = { byMe: true } as const;
  const notByMe = (lastSigned?: Claim) => ({ byMe: false as const, ...(lastSigned ? { lastSigned } : {}) });
  it.each<[string, IdentityFacts, boolean, ReturnType<typeof identityVerdict>]>([
    ["no keys, its own file", { claim: mine }, false, { kind: "itself" }],
    ["no keys, another uuid: a reinstall and a forgery look alike, the claim stops it", { claim: another }, false, { kind: "claimed", claim: another }],
    ["no keys, reclaimed elsewhere", { claim: reclaimed, own: K }, false, { kind: "claimed", claim: reclaimed }],
    ["keys name its key, its own file, its own last change", { claim: mine, vouched: K, own: K, signature: byMe }, true, { kind: "itself" }],
    ["keys name another key: runs nothing, whatever the file says", { claim: mine, vouched: OTHER, own: K }, false, { kind: "wrong-key", vouched: OTHER }],
    ["keys name a key, this copy has none", { claim: another, vouched: K }, false, { kind: "wrong-key", vouched: K }],
    ["keys vouch, another uuid not signed by it: forged, it goes on", { claim: another, vouched: K, own: K, signature: notByMe(mine) }, true, { kind: "forged", claim: another }],
    ["keys vouch, a reclaim not signed by it: forged", { claim: reclaimed, vouched: K, own: K, signature: notByMe(mine) }, true, { kind: "forged", claim: reclaimed }],
    [
      "keys vouch, a forged claim and no version signed by it found: forged",
      { claim: another, vouched: K, own: K, signature: notByMe() },
      true,
      { kind: "forged", claim: another },
    ],
    [
      "keys vouch, a reclaim signed with its key (reinstalled elsewhere): it stops",
      { claim: reclaimed, vouched: K, own: K, signature: byMe },
      true,
      { kind: "claimed", claim: reclaimed },
    ],
    // Found in attack: after a real reclaim with the same key, an unsigned touch of the file, or an old version put
    // back, made the old copy believe nothing (or its own file) and run on: the version last signed with its key decides.
    [
      "keys vouch, a reclaim signed with its key, then touched by someone else",
      { claim: reclaimed, vouched: K, own: K, signature: notByMe(reclaimed) },
      true,
      { kind: "claimed", claim: reclaimed },
    ],
    [
      "keys vouch, its old version put back after a reclaim signed with its key",
      { claim: mine, vouched: K, own: K, signature: notByMe(reclaimed) },
      true,
      { kind: "claimed", claim: reclaimed },
    ],
    ["keys vouch, its own file touched by someone else, its last signed version its own", { claim: mine, vouched: K, own: K, signature: notByMe(mine) }, true, { kind: "itself" }],
    ["keys vouch, who signed unknown (a hub without history): the claim holds", { claim: another, vouched: K, own: K }, true, { kind: "claimed", claim: another }],
    ["no keys, a reclaim seen before", { claim: seenBefore }, false, { kind: "claimed", claim: seenBefore }],
    [
      "keys vouch, a reclaim seen before: no history asked, it holds",
      { claim: seenBefore, vouched: K, own: K, signature: notByMe(mine) },
      false,
      { kind: "claimed", claim: seenBefore },
    ],
  ])("%s", (_, facts, asks, want) => {
    const { signature: _s, ...asked } = facts;
    expect(asksSignature(asked)).toBe(asks);
    expect(identityVerdict(facts)).toEqual(want);
  });
});
