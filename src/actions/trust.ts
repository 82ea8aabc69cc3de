// coord trust: the signers this machine accepts orders from, and what it
// verified. Everything here is the machine's own (its allowed and revoked
// signers files, machine.yaml); nothing is read from the repository as a
// source of trust.
import { signingKeyPath } from "../state/paths.js";
import { refuseWhileShielded } from "../state/shielded.js";
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { machineNameProblem } from "../core/files/names.js";
import { ORDERS_DIR, ORDERS_FILE } from "../core/repo/repo.js";
import { type Change, keyFingerprint, refusalReason, SSH_KEY_DATA, SSH_KEY_TYPE } from "../core/trust/trust.js";
import { computerPath } from "../core/files/names.js";
import { CoordError, EXIT } from "../errors.js";
import { type MachineConfig, saveConfig } from "../state/config.js";
import { readIfExists, writeDurably } from "../state/files.js";
import { makeMachineKey, ordersSigners, pinsPath, readAccepted, readPins, readRoster, savePins, signersFiles, withSignersFile } from "../state/trust.js";
import { openMachine } from "../sync/machine.js";
import { lastPublished, verifiedByOwner } from "../sync/trust.js";
import { saveKeyNotice, signKeyNotice } from "../state/key-notice.js";
import { expandHome } from "../state/paths.js";
import { readSigningKey } from "../core/trust/sshsig.js";
import { commitEmailProblem, type FleetSigner, fleetSignersText, registerCommand, verifiedVerdict } from "../core/trust/github.js";
import { refuseUnpublishable } from "../state/secrets.js";

/** One line of git's allowed_signers format: principal(s), optional options, key type, key. */
interface SignerLine {
  principal: string;
  key: string;
  line: string;
}

/** A public key in text someone gives (a .pub file, a pasted line): its type and data, any blank between. */
const KEY = new RegExp(`\\b(${SSH_KEY_TYPE})\\s+(${SSH_KEY_DATA})`);

/** What coord was doing when a signers file cannot be read (state/files.ts readIfExists). */
const SIGNERS = "reading this machine's signers file";

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
  /** Why this machine signs nothing though it has a key (state/trust.ts signingOf). */
  cannotSign?: string;
  /** The public key its commits are signed with (its file publishes it; readers pin it). */
  publicKey?: string;
  verifyMachines: boolean;
  pinned: { machine: string; key: string }[];
  /** The pins are ORDERS.json's "keys" (only the machines named there are believed), not first sight's. */
  fleetKeys: boolean;
}

export async function trustStatus(dir: string): Promise<TrustStatus> {
  const m = await openMachine(dir);
  const files = signersFiles(m.stateDir, m.config);
  const accepted = await readAccepted(m.stateDir);
  const revokedKeys = new Set(parseSigners(await readIfExists(files.revoked, SIGNERS)).map((s) => s.key));
  return {
    requireSignedOrders: m.config.trust.requireSignedOrders,
    allowedSigners: files.allowed,
    signers: parseSigners(await readIfExists(files.allowed, SIGNERS)).map(({ principal, key }) => ({ principal, key, revoked: revokedKeys.has(key) })),
    revoked: revokedKeys.size,
    accepted: [...accepted].filter(([path]) => path === ORDERS_FILE || path.startsWith(`${ORDERS_DIR}/`)).map(([path, a]) => ({ path, commit: a.commit })),
    ...(m.config.trust.signingKey ? { signingKey: m.config.trust.signingKey } : {}),
    ...(m.signing?.problem ? { cannotSign: m.signing.problem } : {}),
    ...(m.signing?.publicKey ? { publicKey: m.signing.publicKey } : {}),
    verifyMachines: m.config.trust.verifyMachines,
    pinned: [...(await readPins(m.stateDir))].map(([machine, key]) => ({ machine, key })),
    fleetKeys: (await readRoster(m.stateDir)) !== undefined,
  };
}

/** Adds a signer (its principal, e.g. an email, and its SSH public key) to this machine's allowed signers. */
export async function trustAllow(dir: string, principal: string, key: string): Promise<string> {
  if (!/^[^\s,"#]+$/.test(principal)) throw new CoordError(`"${principal}" is not a principal: one word, e.g. an email address`, EXIT.USAGE);
  const m = await openMachine(dir);
  const { allowed } = signersFiles(m.stateDir, m.config);
  const pub = await publicKey(key);
  const text = (await readIfExists(allowed, SIGNERS)) ?? "# coord: signers whose commits to ORDERS.json this machine acts on (git's allowed_signers format)\n";
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
  const lines = parseSigners(await readIfExists(allowed, SIGNERS));
  const gone = lines.filter((s) => s.principal === principal);
  if (!gone.length) throw new CoordError(`${principal} is not an allowed signer of this machine (${allowed}); coord trust status lists them`, EXIT.USAGE);
  const before = (await readIfExists(revoked, SIGNERS)) ?? "";
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
  const signers = parseSigners(await readIfExists(allowed, SIGNERS)).length;
  return on
    ? `this machine now acts only on orders signed by an allowed signer (${signers} in ${allowed})${signers ? "" : "; add one: coord trust allow <principal> <public key>"}`
    : "this machine acts on orders as the repository has them (signatures are not checked)";
}

/** A commit trust verify lists: the file it changed, and whether this machine accepts it as signed by whom it must be. */
export interface VerifiedCommit {
  path: string;
  commit: string;
  author: string;
  good: boolean;
  why: string;
  /**
   * Not verified, and no failure: made before its owner signed with the key known here (an ancestor of the oldest
   * commit of its COMPUTER file so signed), or a new root of the machines' branch (what it replaced is gone).
   */
  uncheckable?: true;
}

/**
 * Every commit that changed an orders file, and every commit that changed a machine's own file (its COMPUTER file,
 * its message files; its delegated orders, without signed orders) of a machine whose key this machine knows (pinned, or its own), newest first per file, with
 * git's verdict on its signature as this machine would judge it: an orders file by its allowed signers, a machine's
 * file by that machine's key only. `unchecked`: the machines with files but no key known here.
 */
export async function trustVerify(dir: string, max = 200): Promise<{ commits: VerifiedCommit[]; unchecked: string[] }> {
  const m = await openMachine(dir);
  const tip = await m.repo.resolve(m.repo.trackingRef);
  if (!tip) throw new CoordError(`nothing fetched from ${m.config.remote}/${m.config.branch} yet; run coord sync first`, EXIT.FAILURE);
  const me = m.config.name;
  const files = await m.repo.readFiles(tip, [ORDERS_FILE, "coordination"]);
  const commits: VerifiedCommit[] = [];
  const signers = await ordersSigners(m.stateDir, m.config);
  // A delegated orders file as a sync judges it: by the allowed signers with signed orders, else by its machine's key.
  const { requireSignedOrders } = m.config.trust;
  const byAllowed = (p: string) => p === ORDERS_FILE || (requireSignedOrders && p.startsWith(`${ORDERS_DIR}/`));
  for (const path of [...new Set([ORDERS_FILE, ...[...files.keys()].filter(byAllowed)])].sort()) {
    for (const change of await m.repo.signedChanges(tip, path, signers, max)) {
      const good = change.status === "G";
      commits.push({ path, commit: change.commit, author: change.author, good, why: good ? `signed by ${change.signer}` : refusalReason(change.status) });
    }
  }
  // A machine's files, by its key alone: the pinned ones, and this machine's own.
  const keyed = new Map(await readPins(m.stateDir));
  const ownKey = m.signing?.publicKey;
  if (ownKey) keyed.set(me, ownKey);
  const byMachine = new Map<string, string[]>();
  for (const path of [...files.keys()].sort()) {
    const owner = verifiedByOwner(path, requireSignedOrders);
    if (owner !== undefined) byMachine.set(owner, [...(byMachine.get(owner) ?? []), path]);
  }
  const unchecked = [...byMachine.keys()].filter((name) => !keyed.has(name)).sort();
  await withSignersFile(keyed, async (machineSigners) => {
    for (const [machine, paths] of byMachine) {
      if (!keyed.has(machine)) continue;
      // Its COMPUTER file first: its oldest commit signed with the key known here is where checking begins. What is
      // older in that history was written before (with no key, or another): said, but not checkable, so no failure.
      const computer = computerPath(machine);
      let firstSigned: string | undefined;
      for (const path of [computer, ...paths.filter((p) => p !== computer)]) {
        if (!files.has(path)) continue;
        const changes = await m.repo.signedChanges(tip, path, { allowed: machineSigners }, max);
        if (path === computer) firstSigned = [...changes].reverse().find((c) => c.status === "G" && c.signer === machine)?.commit;
        for (const change of changes) commits.push(await machineCommit(m, path, machine, change, keyed, firstSigned));
      }
    }
  });
  return { commits, unchecked };
}

/** One commit of `machine`'s own file `path`, judged by its key alone (trustVerify). */
async function machineCommit(
  m: Awaited<ReturnType<typeof openMachine>>,
  path: string,
  machine: string,
  change: Change & { root: boolean },
  keyed: ReadonlyMap<string, string>,
  firstSigned: string | undefined,
): Promise<VerifiedCommit> {
  const base = { path, commit: change.commit, author: change.author };
  if (change.status === "G" && change.signer === machine) return { ...base, good: true, why: `signed by ${machine}` };
  // A new root of the machines' branch (its history bounded) holds the files as they were: what it replaced is gone.
  if (change.root && change.status === "G" && keyed.has(change.signer))
    return { ...base, good: false, uncheckable: true, why: `a new root of the history, signed by ${change.signer}: what it replaced is not in this history` };
  if (firstSigned !== undefined && change.commit !== firstSigned && (await m.repo.isAncestor(change.commit, firstSigned)))
    return { ...base, good: false, uncheckable: true, why: `${refusalReason(change.status)}: made before ${machine} signed with the key known here` };
  const by = change.status === "G" ? `signed by ${change.signer}` : refusalReason(change.status);
  return { ...base, good: false, why: `${by}: not by ${machine}, whose file it is` };
}

/**
 * The public key of private key `path`, as "<type> <data>": read from the key itself when coord signs with it (as
 * state/trust.ts signingOf does: the key its commits carry), else from the .pub beside it.
 */
async function publicKeyBeside(path: string): Promise<string> {
  const own = readSigningKey((await readIfExists(path).catch(() => undefined)) ?? "");
  if (own) return own.publicKey;
  const m = KEY.exec((await readIfExists(`${path}.pub`).catch(() => undefined)) ?? "");
  if (m) return `${m[1]} ${m[2]}`;
  throw new CoordError(`${path}.pub is not an SSH public key; give the private key's path (its .pub beside it)`, EXIT.USAGE);
}

/**
 * `config` with a signing key: the private key at `key` (its public half beside it, or read from it), or one made
 * in `stateDir` (kept if it is there). Checked before it is used: a key with no public half is a usage error.
 */
export async function withSigningKey(stateDir: string, config: MachineConfig, key?: string): Promise<{ config: MachineConfig; publicKey: string; path: string }> {
  // One it makes is named relative to the state directory (signingKeyPath): it moves with the checkout.
  const setting = key === undefined ? "machine_key" : resolve(expandHome(key));
  const path = signingKeyPath(stateDir, setting);
  if (key === undefined) await makeMachineKey(path, config.name);
  const publicKey = await publicKeyBeside(path);
  return { config: { ...config, trust: { ...config.trust, signingKey: setting } }, publicKey, path };
}

/** Gives this machine a signing key (made in its state, unless `key` names one): its commits are signed and its file publishes the public key. */
export async function trustKey(dir: string, key?: string): Promise<string> {
  const m = await openMachine(dir);
  const { config, publicKey: pub, path } = await withSigningKey(m.stateDir, m.config, key);
  await saveConfig(m.stateDir, config);
  return `this machine signs its commits with ${path}; its next sync publishes the public key (${keyFingerprint(pub)})`;
}

/**
 * A planned key change: a new key (made in its state, unless `key` names one), and a notice naming it signed with the
 * key it has now, which its file publishes beside the new key; machines that pinned the old key pin the new one when
 * they read the notice (sync/trust.ts). Its commits are signed with the new key from now on.
 */
export async function trustRotate(dir: string, key?: string): Promise<string> {
  const m = await openMachine(dir);
  const old = m.config.trust.signingKey;
  if (!old) throw new CoordError("this machine has no key to change; coord trust key gives it one", EXIT.USAGE);
  const oldPath = signingKeyPath(m.stateDir, old);
  await refuseWhileShielded(m.stateDir, "a new key");
  const setting = key === undefined ? `machine_key.${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}` : resolve(expandHome(key));
  const path = signingKeyPath(m.stateDir, setting);
  // A key coord makes is new: one already at that path (planted there by someone, to be adopted) is refused.
  if (!key) {
    if (
      await stat(path).then(
        () => true,
        () => false,
      )
    )
      throw new CoordError(`${path} is there already, and coord makes a new key, never takes one it finds; move that file away and run coord trust rotate again`, EXIT.USAGE);
    await makeMachineKey(path, m.config.name);
  }
  const [from, pub] = [await publicKeyBeside(oldPath), await publicKeyBeside(path)];
  if (from === pub) throw new CoordError(`${path} is the key this machine has now; give another, or none to make one`, EXIT.USAGE);
  const signature = await signKeyNotice(oldPath, m.config.name, from, pub).catch((e: Error) => {
    throw new CoordError(`${e.message}; the key was not changed`, EXIT.FAILURE);
  });
  await saveKeyNotice(m.stateDir, { from, key: pub, signature });
  await saveConfig(m.stateDir, { ...m.config, trust: { ...m.config.trust, signingKey: setting } });
  return `this machine signs its commits with ${path} from now on; its next sync publishes the new key with a notice signed by the old one, and machines that pinned the old key pin the new one when they read it`;
}

/** Reads other machines' files only as their own signed commits wrote them (on), or as they are (off). */
export async function trustMachines(dir: string, on: boolean): Promise<string> {
  const m = await openMachine(dir);
  await saveConfig(m.stateDir, { ...m.config, trust: { ...m.config.trust, verifyMachines: on } });
  return on
    ? "this machine now reads other machines' files only as their signed commits wrote them; each machine's key is pinned when its file first shows one (coord trust pin replaces a pin)"
    : "this machine reads other machines' files as they are";
}

/** Pins (or re-pins, after a planned key change) a machine's key. */
export async function trustPin(dir: string, machine: string, key: string): Promise<string> {
  const bad = machineNameProblem(machine);
  if (bad) throw new CoordError(`"${machine}": ${bad}`, EXIT.USAGE);
  const m = await openMachine(dir);
  const pub = await publicKey(key);
  if (m.config.trust.verifyMachines && (await readRoster(m.stateDir)))
    throw new CoordError(
      `ORDERS.json's "keys" decide the machines' keys here (each sync pins exactly those): change ${machine}'s key there, in a commit of a person's (signed, with signed orders), not with coord trust pin`,
      EXIT.USAGE,
    );
  const pins = await readPins(m.stateDir);
  const was = pins.get(machine);
  pins.set(machine, pub);
  await savePins(m.stateDir, pins);
  return was === pub ? `${machine}'s key was already pinned as this one` : `${machine}'s key ${was ? "re-pinned" : "pinned"} (${pinsPath(m.stateDir)})`;
}

export interface GithubSetup {
  machine: string;
  /** The email its commits are by (absent: <machine>@coord.invalid). */
  commitEmail?: string;
  /** Its signing key's public half, when it has one. */
  publicKey?: string;
  /** The command that registers the key as a signing key of the GitHub account gh is logged in to. */
  register?: string;
  verified: ReturnType<typeof verifiedVerdict>;
}

/**
 * What makes this machine's commits show Verified on GitHub (docs/security.md): `email`, when given, becomes the email
 * its commits are by from its next commit on; then its key, the command that registers it as a signing key of the
 * account, and whether they can show Verified.
 */
export async function trustGithub(dir: string, email?: string): Promise<GithubSetup> {
  const m = await openMachine(dir);
  let config = m.config;
  if (email !== undefined) {
    const bad = commitEmailProblem(email);
    if (bad) throw new CoordError(`"${email}" ${bad}; nothing was changed`, EXIT.USAGE);
    // Published in its file and on every commit: what coord never publishes is refused.
    await refuseUnpublishable(m.stateDir, config, "the email", [email]);
    config = { ...config, trust: { ...config.trust, commitEmail: email } };
    await saveConfig(m.stateDir, config);
  }
  const key = config.trust.signingKey;
  const publicKey = key ? await publicKeyBeside(signingKeyPath(m.stateDir, key)).catch(() => undefined) : undefined;
  const { commitEmail } = config.trust;
  return {
    machine: config.name,
    ...(commitEmail ? { commitEmail } : {}),
    ...(publicKey ? { publicKey, register: registerCommand(config.name, publicKey) } : {}),
    verified: verifiedVerdict({ machine: config.name, publicKey, commitEmail }),
  };
}

/**
 * The fleet's allowed signers file (core/trust/github.ts fleetSignersText), from the machines' files as this checkout
 * last fetched and verified them: each machine's key as this machine pinned it (else as its file says), by the email
 * its file says its commits are by; this machine's own key and email as it signs. With it, git says Good for each
 * machine's commit: `git -c gpg.ssh.allowedSignersFile=<file> log --show-signature`.
 */
export async function trustSigners(dir: string): Promise<{ text: string; signers: FleetSigner[] }> {
  const m = await openMachine(dir);
  const known = await lastPublished(m);
  if (!known) throw new CoordError("this checkout has never synced; run coord sync first", EXIT.FAILURE);
  const pins = await readPins(m.stateDir);
  const me = m.config.name;
  const signers: FleetSigner[] = [];
  for (const [name, c] of known.files.computers) {
    if (name === me) continue;
    signers.push({ machine: name, key: pins.get(name) ?? c.key, ...(c.email ? { email: c.email } : {}) });
  }
  signers.push({ machine: me, key: m.signing?.publicKey, ...(m.config.trust.commitEmail ? { email: m.config.trust.commitEmail } : {}) });
  return { text: fleetSignersText(signers), signers };
}
