// Signed orders in the sync: the files a machine acts on, with each orders
// file replaced by the version it verified (core/trust.ts says which), and
// the changes it refused, to publish. A machine that does not require signed
// orders acts on the tip as it is.
import { access } from "node:fs/promises";
import { ORDERS_DIR, ORDERS_FILE } from "../core/repo.js";
import { type Change, type Refusal, trustedOrders } from "../core/trust.js";
import { CoordError, EXIT } from "../errors.js";
import { readAccepted, saveAccepted, signersFiles } from "../state/trust.js";
import { withOwnOrders } from "./cycle.js";
import type { Machine } from "./machine.js";

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false, // missing or unreadable: not there for git either
  );

/** The files to act on at `tip` (orders verified, this machine's own delegated orders as it has them), and what was refused. */
export async function trustedView(m: Machine, tip: string, files: Map<string, string>): Promise<{ files: Map<string, string>; refusals: Refusal[] }> {
  if (!m.config.trust.requireSignedOrders) return { files: await withOwnOrders(m, files), refusals: [] };
  const lastChange = m.hub.lastChange?.bind(m.hub);
  if (!lastChange) throw new CoordError("this machine requires signed orders (trust.requireSignedOrders), which only a git hub carries", EXIT.USAGE);
  const signers = signersFiles(m.stateDir, m.config);
  const haveSigners = await exists(signers.allowed);
  const accepted = await readAccepted(m.stateDir);
  const paths = [...new Set([ORDERS_FILE, ...[...files.keys()].filter((p) => p.startsWith(`${ORDERS_DIR}/`) && p.endsWith(".json")), ...accepted.keys()])].sort();
  const changes = new Map<string, Change | undefined>();
  for (const path of paths) {
    const change = await lastChange(tip, path, { allowed: signers.allowed, ...((await exists(signers.revoked)) ? { revoked: signers.revoked } : {}) });
    // Without an allowed-signers file nothing can be good: every change is refused, and says why.
    changes.set(path, change && !haveSigners ? { ...change, status: "E" } : change);
  }
  const r = trustedOrders(files, paths, changes, accepted);
  await saveAccepted(m.stateDir, r.accepted, accepted);
  const refusals = haveSigners
    ? r.refusals
    : r.refusals.map((x) => ({ ...x, reason: `no allowed signers file at ${signers.allowed} (coord trust allow <principal> <public key>)` }));
  return { files: await withOwnOrders(m, r.files), refusals };
}
