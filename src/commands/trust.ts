// coord trust: the signers this machine accepts orders from, and what it
// verified. Everything here is the machine's own (its allowed and revoked
// signers files, machine.yaml); nothing is read from the repository as a
// source of trust.
import { readFile } from "node:fs/promises";
import { ORDERS_DIR, ORDERS_FILE } from "../core/repo.js";
import { refusalReason } from "../core/trust.js";
import { CoordError, EXIT } from "../errors.js";
import { saveConfig } from "../state/config.js";
import { readIfExists, writeDurably } from "../state/files.js";
import { readAccepted, signersFiles } from "../state/trust.js";
import { openMachine } from "../sync/machine.js";

/** One line of git's allowed_signers format: principal(s), optional options, key type, key. */
interface SignerLine {
  principal: string;
  key: string;
  line: string;
}

const KEY = /\b((?:ssh|ecdsa|sk)-[a-z0-9@.-]+)\s+([A-Za-z0-9+/=]{16,})/;

function parseSigners(text: string | undefined): SignerLine[] {
  return (text ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const m = KEY.exec(line);
      return { principal: line.split(/\s+/)[0] ?? "", key: m ? `${m[1]} ${m[2]}` : "", line };
    });
}

/** A public key given as text ("ssh-ed25519 AAAA… comment") or as the path of a .pub file. */
async function publicKey(given: string): Promise<string> {
  const text = KEY.test(given) ? given : await readFile(given, "utf8").catch(() => undefined);
  const m = text ? KEY.exec(text) : null;
  if (!m) throw new CoordError(`"${given}" is neither an SSH public key ("ssh-ed25519 AAAA…") nor a readable .pub file`, EXIT.USAGE);
  return `${m[1]} ${m[2]}`;
}

export interface TrustStatus {
  requireSignedOrders: boolean;
  allowedSigners: string;
  signers: { principal: string; key: string; revoked: boolean }[];
  revoked: number;
  accepted: { path: string; commit: string }[];
  signingKey?: string;
}

export async function trustStatus(dir: string): Promise<TrustStatus> {
  const m = await openMachine(dir);
  const files = signersFiles(m.stateDir, m.config);
  const accepted = await readAccepted(m.stateDir);
  const revokedKeys = new Set(parseSigners(await readIfExists(files.revoked)).map((s) => s.key));
  return {
    requireSignedOrders: m.config.trust.requireSignedOrders,
    allowedSigners: files.allowed,
    signers: parseSigners(await readIfExists(files.allowed)).map(({ principal, key }) => ({ principal, key, revoked: revokedKeys.has(key) })),
    revoked: revokedKeys.size,
    accepted: [...accepted].map(([path, a]) => ({ path, commit: a.commit })),
    ...(m.config.trust.signingKey ? { signingKey: m.config.trust.signingKey } : {}),
  };
}

/** Adds a signer (its principal, e.g. an email, and its SSH public key) to this machine's allowed signers. */
export async function trustAllow(dir: string, principal: string, key: string): Promise<string> {
  if (!/^[^\s,"#]+$/.test(principal)) throw new CoordError(`"${principal}" is not a principal: one word, e.g. an email address`, EXIT.USAGE);
  const m = await openMachine(dir);
  const { allowed } = signersFiles(m.stateDir, m.config);
  const pub = await publicKey(key);
  const text = (await readIfExists(allowed)) ?? "# coord: signers whose commits to ORDERS.json this machine acts on (git's allowed_signers format)\n";
  if (parseSigners(text).some((s) => s.principal === principal && s.key === pub)) return `${principal} is already an allowed signer with this key (${allowed})`;
  await writeDurably(allowed, `${text.endsWith("\n") ? text : `${text}\n`}${principal} ${pub}\n`);
  return `${principal} may now sign orders for this machine (${allowed})`;
}

/**
 * Lists a signer's keys as revoked (git's gpg.ssh.revocationFile): commits signed by them are refused from
 * now on, said as such ("its key is revoked"). The allowed-signers line stays, marked revoked by coord trust status.
 */
export async function trustRevoke(dir: string, principal: string): Promise<string> {
  const m = await openMachine(dir);
  const { allowed, revoked } = signersFiles(m.stateDir, m.config);
  const lines = parseSigners(await readIfExists(allowed));
  const gone = lines.filter((s) => s.principal === principal);
  if (!gone.length) throw new CoordError(`${principal} is not an allowed signer of this machine (${allowed}); coord trust status lists them`, EXIT.USAGE);
  const before = (await readIfExists(revoked)) ?? "";
  const already = new Set(parseSigners(before).map((s) => s.key));
  const fresh = gone.map((s) => s.key).filter((k) => !already.has(k));
  if (fresh.length) await writeDurably(revoked, `${before}${before && !before.endsWith("\n") ? "\n" : ""}${fresh.join("\n")}\n`);
  return `${principal} revoked: ${gone.length} key${gone.length === 1 ? "" : "s"} listed in ${revoked}`;
}

/** Turns signed orders on or off for this machine. */
export async function trustRequire(dir: string, on: boolean): Promise<string> {
  const m = await openMachine(dir);
  await saveConfig(m.stateDir, { ...m.config, trust: { ...m.config.trust, requireSignedOrders: on } });
  const { allowed } = signersFiles(m.stateDir, m.config);
  const signers = parseSigners(await readIfExists(allowed)).length;
  return on
    ? `this machine now acts only on orders signed by an allowed signer (${signers} in ${allowed})${signers ? "" : "; add one: coord trust allow <principal> <public key>"}`
    : "this machine acts on orders as the repository has them (signatures are not checked)";
}

/** Every commit that changed an orders file, newest first, with git's verdict on its signature as this machine would judge it. */
export async function trustVerify(dir: string, max = 200): Promise<{ path: string; commit: string; author: string; good: boolean; why: string }[]> {
  const m = await openMachine(dir);
  const tip = await m.repo.resolve(m.repo.trackingRef);
  if (!tip) throw new CoordError(`nothing fetched from ${m.config.remote}/${m.config.branch} yet; run coord sync first`, EXIT.FAILURE);
  const { allowed, revoked } = signersFiles(m.stateDir, m.config);
  const files = await m.repo.readFiles(tip, [ORDERS_FILE, ORDERS_DIR]);
  const out: { path: string; commit: string; author: string; good: boolean; why: string }[] = [];
  for (const path of [...new Set([ORDERS_FILE, ...files.keys()])].sort()) {
    for (const c of await m.repo.pathHistory(tip, path, max)) {
      const change = await m.repo.lastChange(c.commit, path, { allowed, ...((await readIfExists(revoked)) !== undefined ? { revoked } : {}) });
      if (!change) continue;
      out.push({
        path,
        commit: change.commit,
        author: change.author,
        good: change.status === "G",
        why: change.status === "G" ? `signed by ${change.signer}` : refusalReason(change.status),
      });
    }
  }
  return out;
}
