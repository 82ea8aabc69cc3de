// Whether a machine believes one change in the history (coord log's walk), as its sync would have: a machine's
// own file only as that machine signed it, once its key is known here; an orders file only as an allowed signer
// signed it, when signed orders are required. A new root of the machines' branch (its history bounded) holds the
// others' files as they were: not theirs to vouch for, and no forgery either, so it is neither believed nor said.
import { refusalReason, type SignatureStatus } from "./trust.js";

export interface ChangeToJudge {
  /** "orders": ORDERS.json, or a delegated orders file the allowed signers decide; "machine": a file its owner's key decides. */
  kind: "orders" | "machine";
  /** The machine whose file it is (kind "machine"). */
  owner?: string;
  /** Whether anything is checked: the owner's key is known here (machine), or signed orders are required (orders). */
  checked: boolean;
  /** git's verdict on the commit's signature, against the pinned keys (machine) or the allowed signers (orders). */
  verdict?: { status: SignatureStatus; signer: string };
  /** The commit has no parent. */
  root: boolean;
  /** The file is a machine's (by its path) that ORDERS.json's keys do not name: nothing of it is believed. */
  unnamed?: boolean;
}

export type Belief = { believed: true } | { believed: false; said: false } | { believed: false; said: true; why: string };

export function judgeChange(c: ChangeToJudge): Belief {
  if (!c.checked) return { believed: true };
  if (c.unnamed) return { believed: false, said: true, why: `${c.owner} is not among ORDERS.json's keys` };
  const status = c.verdict?.status ?? "E";
  const good = status === "G" && (c.kind === "orders" || c.verdict?.signer === c.owner);
  if (good) return { believed: true };
  if (c.root) return { believed: false, said: false };
  if (c.kind === "orders") return { believed: false, said: true, why: refusalReason(status) };
  const by = status === "G" ? `signed by ${c.verdict?.signer}` : refusalReason(status);
  return { believed: false, said: true, why: `${by}: not by ${c.owner}, whose file it is` };
}
