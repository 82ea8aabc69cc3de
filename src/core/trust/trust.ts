// Signed orders: which version of each orders file (ORDERS.json, a machine's
// coordination/orders/<m>.json) a machine that requires signatures acts on.
// Pure: the signatures are checked by git (src/git/last-change.ts, against the
// machine's own allowed-signers file), the versions it accepted are kept in
// its local state (src/state/trust.ts).
//
// The rule, per file: the newest commit that changed it decides. Signed by an
// allowed signer (git's %G? "G"): its version is accepted. Anything else
// (unsigned, an unknown key, a revoked key, a bad signature): refused, and the
// machine keeps acting on the version it accepted last (none: the file is as
// if absent). A later good commit that changes the file again is accepted:
// one bad commit blocks nothing after a signer fixed the file.

import { createHash } from "node:crypto";
import { ORDERS_FILE } from "./ownership.js";
import { shownLine } from "../files/shown.js";

/** An SSH public key as signers, pins and machine files write it: its type, then its base64 data. */
export const SSH_KEY_TYPE = "(?:ssh|ecdsa|sk)-[a-z0-9@.-]+";
export const SSH_KEY_DATA = "[A-Za-z0-9+/=]{16,}";
/** "<type> <data>" exactly, as a machine file publishes it and pins hold it. */
export const SSH_PUBLIC_KEY = `${SSH_KEY_TYPE} ${SSH_KEY_DATA}`;

/** A public key as ssh-keygen -l shows it ("SHA256:…"): the part of an ed25519 key a person can compare (its text begins alike for all). */
export function keyFingerprint(key: string): string {
  const data = key.trim().split(/\s+/)[1] ?? "";
  return `SHA256:${createHash("sha256").update(Buffer.from(data, "base64")).digest("base64").replace(/=+$/, "")}`;
}

/** The namespace of a key-change notice's signature (ssh-keygen -Y -n): a commit's signature is never one. */
export const KEY_NOTICE_NAMESPACE = "coord-key-notice";

/** The text a machine signs with its old key `from` when it changes keys (coord trust rotate): its name, both keys. */
export function keyNoticeText(machine: string, from: string, key: string): string {
  return `coord: machine ${machine} signs with the key ${key} from now on, instead of ${from}\n`;
}

/** What a machine acts on before any version of ORDERS.json was verified. */
export const NO_ORDERS = '{ "version": 1, "orders": [] }\n';

/** git's verdict on a commit's signature (%G?): G good and allowed, U good but unknown signer, N none, B bad or revoked, X/Y expired, R revoked key, E cannot check. */
export type SignatureStatus = "G" | "U" | "N" | "B" | "X" | "Y" | "R" | "E";

/** The newest commit that changed one orders file, as git reports it. */
export interface Change {
  commit: string;
  status: SignatureStatus;
  /** The allowed signer's principal (for G), else "". */
  signer: string;
  /** "Name <email>" of the author. */
  author: string;
  /** Set when the version accepted before is not in this commit's history: a rollback, or a rewritten history. */
  notAfter?: string;
  /**
   * Set when a newest good change of the file on the lines git's simplified history left has it otherwise than the
   * tip: a merge kept an older or another signed version (that change's commit; "" when too many changes lie there
   * for the good ones to be found, git/last-change.ts).
   */
  supersededBy?: string;
}

/** Whether a good change is one no later good change replaced: not a rollback past the version accepted last, nor an older version merged back. */
export function current(change: Change): boolean {
  return change.notAfter === undefined && change.supersededBy === undefined;
}

/**
 * Whether a change stands as it is against the version accepted last (`accepted`: its commit), with no need to ask
 * whether that version is in the change's history: nothing was accepted, it is that very commit, or the change is not
 * good (refused anyway). Otherwise a rollback check asks (sync/trust.ts afterVerified, git/last-change.ts lastChanges).
 */
export function standsWithoutAncestry(change: Change, accepted: string | undefined): boolean {
  return accepted === undefined || accepted === change.commit || change.status !== "G";
}

/** What a machine accepted of one file: the commit and the text (undefined: the file was deleted by a good commit). */
export interface Accepted {
  commit: string;
  text?: string;
  /** ORDERS.json: main's tip when the version verified last was last moved up (sync/trust.ts advancedOrders). */
  at?: string;
}

/** A refused change, as published in the machine's file and STATUS. */
export interface Refusal {
  path: string;
  commit: string;
  author: string;
  reason: string;
  /** The commit whose version the machine acts on instead (none: the file counts as absent). */
  kept?: string;
}

const WHY: Record<SignatureStatus, string> = {
  G: "signed by an allowed signer",
  U: "signed by a key that is not an allowed signer",
  N: "not signed",
  B: "its signature is bad or its key is revoked",
  R: "signed by a revoked key",
  X: "its signature has expired",
  Y: "signed by an expired key",
  E: "its signature cannot be checked (is ssh-keygen installed?)",
};

export function refusalReason(status: SignatureStatus): string {
  return WHY[status] ?? "its signature cannot be checked";
}

/**
 * The files to act on (orders files; with machine keys, other machines' files), from the files at
 * the tip (`files`), the newest change of each checked path (`changes`; undefined: no commit ever changed it)
 * and what was accepted before. Returns the files with every checked path
 * replaced by its accepted version (or removed), what is accepted now, and the
 * refusals.
 */
export function trustedFiles(
  files: ReadonlyMap<string, string>,
  paths: string[],
  changes: ReadonlyMap<string, Change | undefined>,
  accepted: ReadonlyMap<string, Accepted>,
  /** The one principal that may sign a path (a machine's own files: that machine); undefined: any allowed signer. */
  signerOf: (path: string) => string | undefined = () => undefined,
): { files: Map<string, string>; accepted: Map<string, Accepted>; refusals: Refusal[] } {
  const out = new Map(files);
  const next = new Map(accepted);
  const refusals: Refusal[] = [];
  for (const path of paths) {
    const change = changes.get(path);
    const before = accepted.get(path);
    const required = signerOf(path);
    const wrongSigner = change?.status === "G" && required !== undefined && change.signer !== required;
    const rollback = change?.status === "G" && !current(change) && before?.commit !== change.commit;
    if (change && change.status === "G" && !wrongSigner && !rollback) {
      // A version signed by an allowed signer (the file's owner, for a machine's file): it is the one now.
      const text = files.get(path);
      next.set(path, text === undefined ? { commit: change.commit } : { commit: change.commit, text });
      continue;
    }
    if (change && before?.commit === change.commit) {
      // Accepted before (signed then by a signer since revoked, or accepted as is): it stays what was accepted.
    } else if (change) {
      const reason = wrongSigner ? `signed by ${change.signer}, not by ${required}, whose file it is` : rollback ? notCurrentReason(change) : refusalReason(change.status);
      refusals.push({ path, commit: change.commit, author: change.author, reason, ...(before ? { kept: before.commit } : {}) });
    }
    if (before?.text !== undefined) out.set(path, before.text);
    else if (path === ORDERS_FILE)
      out.set(path, NO_ORDERS); // nothing verified yet: no orders (not a missing file to repair)
    else out.delete(path);
  }
  return { files: out, accepted: next, refusals };
}

/** Why a good change that is not current (rollback in trustedFiles) is refused, and what settles it. */
function notCurrentReason(change: Change): string {
  if (change.notAfter !== undefined)
    return `signed, but the version verified last (commit ${change.notAfter.slice(0, 12)}) is not in its history: a rollback or a rewritten history (if it is meant, delete .git/coord/trust.json on this machine)`;
  const other = change.supersededBy
    ? `a signed change of it on a line a merge left (commit ${change.supersededBy.slice(0, 12)}) has it otherwise`
    : "too many changes of it lie on lines a merge left to find the signed ones";
  return `signed, but ${other}: a merge kept an older or another version (sign a new change of it to say which version stands)`;
}

/** One line for people: "ORDERS.json commit 1a2b3c4d5e6f by Mallory <m@x>: not signed; acting on commit 9f8e7d6c5b4a". */
export function describeRefusal(r: Refusal): string {
  // The author is whatever the commit says (another machine's, or anyone's with push access): shown, never obeyed by a terminal.
  return shownLine(
    `${r.path} commit ${r.commit.slice(0, 12)} by ${r.author}: ${r.reason}; ${r.kept ? `acting on the version of commit ${r.kept.slice(0, 12)}` : "no verified version: it counts as absent"}`,
  );
}
