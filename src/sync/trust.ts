// Trust in the sync: the files a machine acts on. With signed orders, each
// orders file is replaced by the version it verified (core/trust/trust.ts says
// which); with verifyMachines (the default), each other machine's own files
// (its COMPUTER file, its message files, its delegated orders) count only as
// that machine's signed commits wrote them, its key pinned on first sight. What was refused is published. A
// machine that requires neither acts on the tip as it is.
import { ownerOf } from "../core/trust/ownership.js";
import { classifyPath, delegatedOrdersPath, ORDERS_DIR, ORDERS_FILE, type MachineFiles, readComputer, readMachineFiles, readModel, type RepoModel } from "../core/repo/repo.js";
import { type Accepted, type Change, current, keyFingerprint, NO_ORDERS, type Refusal, standsWithoutAncestry, trustedFiles } from "../core/trust/trust.js";
import { asksSignature, claimOf, identityVerdict, type IdentityVerdict, type Signature } from "../core/trust/identity.js";
import { commitOf } from "../git/hub.js";
import { CoordError, EXIT } from "../errors.js";
import { readIfExists, writeDurably } from "../state/files.js";
import { keyNoticeHolds } from "../state/key-notice.js";
import { readReclaimSeen } from "../state/reclaimed.js";
import { pinsPath, readAccepted, readPins, readRoster, saveAccepted, savePins, saveRoster, selfSignerPath, signersFiles, withSignersFile } from "../state/trust.js";
import { rosterAdmits, rosterOf } from "../core/trust/roster.js";
import { ownOrdersFile } from "../state/delegated.js";
import { loadParsed } from "../state/parsed.js";
import type { Machine } from "./machine.js";
import { computerPath } from "../core/files/names.js";
import type { ComputerFile } from "../core/fleet/computer.js";

/** The machine whose own file `path` is (its COMPUTER file or one of its message files), if any. */
function machineFileOwner(path: string): string | undefined {
  const o = ownerOf(path);
  return o.kind === "computer" || o.kind === "messages" ? o.machine : undefined;
}

/** The machine a file is of, by its path: its COMPUTER file, its message files, its delegated orders (whoever decides those). */
export function machineOfFile(path: string): string | undefined {
  const o = ownerOf(path);
  return machineFileOwner(path) ?? (o.kind === "delegated" ? o.machine : undefined);
}

/**
 * The files of `me` it reads only as it signed them, when it signs: its message files and its delegated orders (a
 * version someone else wrote is never adopted into its mailbox, nor acted on or published again as its orders).
 */
function signedOwnFile(path: string, me: string): boolean {
  const o = ownerOf(path);
  return (o.kind === "messages" || o.kind === "delegated") && o.machine === me;
}

/** Whether a signers file names anyone: a line that is neither empty nor a comment (a file that cannot be read: git says). */
async function hasEntries(path: string): Promise<boolean> {
  const text = await readIfExists(path).catch(() => "#unreadable\nx");
  return (text ?? "").split("\n").some((l) => l.trim() !== "" && !l.trim().startsWith("#"));
}

/**
 * The machine whose key alone decides what `path` says: its COMPUTER file and message files, and its delegated
 * orders unless signed orders are on (the allowed signers decide those then). One rule for the sync and trust verify.
 */
export function verifiedByOwner(path: string, requireSignedOrders: boolean): string | undefined {
  const o = ownerOf(path);
  return machineFileOwner(path) ?? (!requireSignedOrders && o.kind === "delegated" ? o.machine : undefined);
}

/** The files at the tip, with this machine's own delegated orders as it has them now (coord order add). */
export async function withOwnOrders(m: Machine, files: Map<string, string>): Promise<Map<string, string>> {
  const own = await ownOrdersFile(m.stateDir, m.config.name);
  if (!own || "problem" in own || files.get(own.path) === own.content) return files;
  return new Map(files).set(own.path, own.content);
}

/** The files to act on at `tip` (verified as this machine requires, its own delegated orders as it has them), and what was refused. */
export async function trustedView(
  m: Machine,
  tip: string,
  files: Map<string, string>,
  log: (line: string) => void = () => {},
): Promise<{ files: Map<string, string>; refusals: Refusal[]; checked: boolean; roster?: ReadonlyMap<string, string> }> {
  const { requireSignedOrders, verifyMachines } = m.config.trust;
  const signingKey = m.signing?.publicKey;
  if (!requireSignedOrders && !verifyMachines && !signingKey) return { files: await withOwnOrders(m, files), refusals: [], checked: false };
  // Asked only when there is a signature to check: a hub without history (tests' MemoryHub) serves a fleet with no keys.
  const lastChange: NonNullable<Machine["hub"]["lastChange"]> = (...args) => {
    if (!m.hub.lastChange) throw new CoordError("this machine checks signatures (trust in machine.yaml), which only a git hub carries", EXIT.USAGE);
    return m.hub.lastChange(...args);
  };
  const accepted = await readAccepted(m.stateDir);
  let view = files;
  let next = new Map(accepted);
  const refusals: Refusal[] = [];

  if (requireSignedOrders) {
    const signers = signersFiles(m.stateDir, m.config);
    // An empty file is as good as none (the shield makes both empty before an agent runs, so that it cannot write them).
    const haveSigners = await hasEntries(signers.allowed);
    const revoked = (await hasEntries(signers.revoked)) ? { revoked: signers.revoked } : {};
    // Its own delegated orders are acted on as its local state has them (withOwnOrders), and as it signed them when it
    // signs (withoutForgedOwnFiles): not asked here. One that does not sign and keeps none asks the allowed signers of
    // the hub's, as of any other (found in attack: it ran an unsigned order "of its own").
    const own = delegatedOrdersPath(m.config.name);
    const local = signingKey ? undefined : await ownOrdersFile(m.stateDir, m.config.name);
    const ownAsked = !signingKey && (local === undefined || "problem" in local);
    const paths = [...new Set([ORDERS_FILE, ...[...files.keys()].filter(isOrdersFile), ...[...accepted.keys()].filter((p) => !machineFileOwner(p))])]
      .filter((p) => p !== own || ownAsked)
      .sort();
    // Only a file whose text differs from the version verified last is asked of git (the same text is safe to act on).
    const asked = paths.filter((p) => next.get(p) === undefined || files.get(p) !== next.get(p)!.text);
    const verified = await verifiedChanges(m, tip, asked, { allowed: signers.allowed, ...revoked }, next, lastChange);
    // Without an allowed-signers file nothing can be good: every change is refused, and says why.
    const changes = new Map([...verified].map(([path, change]) => [path, change && !haveSigners ? { ...change, status: "E" as const } : change]));
    const r = trustedFiles(view, asked, changes, next);
    view = r.files;
    next = r.accepted;
    if (haveSigners) next = await advancedOrders(m, tip, { allowed: signers.allowed, ...revoked }, next);
    refusals.push(
      ...(haveSigners ? r.refusals : r.refusals.map((x) => ({ ...x, reason: `no allowed signers in ${signers.allowed} (coord trust allow <principal> <public key>)` }))),
    );
  }

  let roster: Map<string, string> | undefined;
  if (verifyMachines) {
    // A machine's delegated orders count only as it signed them too (with signed orders, the allowed signers decide instead:
    // one accepted version per file, and an allowed signer may write ORDERS.json anyway).
    const ownedBy = (path: string) => verifiedByOwner(path, requireSignedOrders);
    const me = m.config.name;
    let pins = await readPins(m.stateDir);
    let pinned = false;
    // ORDERS.json's keys (as verified above, with signed orders): the pins, and no one else is believed. A text that
    // cannot be read leaves the roster last read standing, as does one refused with no version verified before it
    // (found in attack: turning signed orders on turned the keys off until someone signed ORDERS.json, and trust on
    // first use pinned a forged file meanwhile); one without keys, or none on the hub, turns it off (trust on first use).
    const saved = await readRoster(m.stateDir);
    const refusedWhole = refusals.some((r) => r.path === ORDERS_FILE && r.kept === undefined);
    const written = refusedWhole ? undefined : rosterOf(view.get(ORDERS_FILE));
    roster = written === undefined ? saved : (written ?? undefined);
    await saveRoster(m.stateDir, roster, saved);
    if (roster) {
      // The names it holds are pinned as it says. A pin of a name it drops is kept (not believed while the list is
      // there): without the list again, that machine is read by its old key, not by whatever its file shows by then.
      for (const [name, key] of roster) {
        if (name === me || pins.get(name) === key) continue;
        log(`${name}'s key is pinned from ORDERS.json's keys (${keyFingerprint(key)})${pins.has(name) ? `, replacing ${keyFingerprint(pins.get(name)!)}` : ""}`);
        pins = new Map(pins).set(name, key);
        pinned = true;
      }
    }
    for (const [path, text] of roster ? [] : files) {
      const owner = ownerOf(path);
      if (owner.kind !== "computer" || owner.machine === m.config.name) continue;
      // Read as every reader reads machine files (the same memo): a file readers ignore pins nothing.
      const parsed = readComputer(path, owner.machine, text);
      const key = parsed instanceof Error ? undefined : parsed.key;
      const was = pins.get(owner.machine);
      if (!key || key === was) continue;
      if (was === undefined) {
        // Trust on first use: a machine whose file shows a key, not pinned yet, is pinned now, and its files as they are become the baseline.
        pins.set(owner.machine, key);
        pinned = true;
        for (const [p, t] of files) if (ownedBy(p) === owner.machine) next.set(p, { commit: commitOf(tip, "machines"), text: t } satisfies Accepted);
      } else if (!(parsed instanceof Error) && parsed.keyNotice?.from === was && (await keyNoticeHolds(owner.machine, was, key, parsed.keyNotice.signature))) {
        // A planned key change (coord trust rotate): the key pinned signed the notice naming the new one. Without
        // such a notice the new key's commits are refused like any other signer's, and said (an unplanned change).
        pins.set(owner.machine, key);
        pinned = true;
        log(`${owner.machine} changed its key, by a notice signed with the key pinned here: the new one is pinned (${keyFingerprint(key)})`);
      }
    }
    if (pinned) await savePins(m.stateDir, pins);
    // Only what changed since it was accepted is asked of git: a quiet fleet costs nothing here.
    const paths = [...new Set([...files.keys(), ...next.keys()])]
      .filter((p) => {
        const owner = ownedBy(p);
        return owner !== undefined && owner !== m.config.name && pins.has(owner) && files.get(p) !== next.get(p)?.text;
      })
      .sort();
    const changes = await verifiedChanges(m, tip, paths, { allowed: pinsPath(m.stateDir) }, next, lastChange, ownedBy);
    const r = trustedFiles(view, paths, changes, next, ownedBy);
    view = r.files;
    next = r.accepted;
    refusals.push(...r.refusals);
    if (roster) {
      // Machines ORDERS.json's keys do not name: none of their files is believed (STATUS.md names them, from the tip).
      const left = new Set<string>();
      view = new Map(
        [...view].filter(([path]) => {
          const owner = machineOfFile(path);
          if (owner === undefined || rosterAdmits(roster, owner, me)) return true;
          left.add(owner);
          return false;
        }),
      );
      if (left.size) log(`not believed: ${[...left].sort().join(", ")}, not among ORDERS.json's keys (add a machine's key there to believe it)`);
      const mine = roster.get(me);
      if (mine === undefined) log(`ORDERS.json's keys do not name ${me}: the machines that verify do not believe what it publishes`);
      else if (m.signing?.publicKey && mine !== m.signing.publicKey)
        log(
          `ORDERS.json's keys name another key for ${me} than the one it signs with (${keyFingerprint(m.signing.publicKey)}): the machines that verify do not believe what it publishes`,
        );
    }
  }
  if (signingKey) view = await withoutForgedOwnFiles(m, tip, view, lastChange, next);
  await saveAccepted(m.stateDir, next, accepted);
  return { files: await withOwnOrders(m, view), refusals, checked: true, ...(roster ? { roster } : {}) };
}

/**
 * `accepted` with ORDERS.json's version verified last moved up, when main moved since it was last asked (Accepted.at),
 * to the newest good change that descends from it with the very same bytes (sameTextSince; found in attack, moving it
 * to main's tip where that could not be told let a pusher's flood, then a force-push back, jam the fleet). Found in attack: a signed change back to the bytes verified
 * before (a signed git revert of an order) was never asked of git (only a changed text is), so the version verified
 * last stayed the older commit, and a force-push of main back to the reverted version passed the rollback check and
 * ran the order again; a single "tip seen" instead was made to forget it (a force-push elsewhere, a stray push taken
 * off main). The text acted on never changes here.
 */
async function advancedOrders(m: Machine, tip: string, signers: { allowed: string; revoked?: string }, accepted: Map<string, Accepted>): Promise<Map<string, Accepted>> {
  const kept = accepted.get(ORDERS_FILE);
  const main = commitOf(tip, "people");
  if (kept?.text === undefined || kept.at === main || !m.hub.sameTextSince) return accepted;
  // Found in attack: keeping the older version where the answer is unsure (two such lines) or git fails (a flood of
  // signatures only ssh-keygen checks, past git's timeout) is the very state a rollback needs: main's tip itself then
  // becomes the version verified last (a signed change on a branch forked before it waits for one on top of main).
  const found = await m.hub.sameTextSince(tip, ORDERS_FILE, signers, kept.commit).catch(() => "unsure" as const);
  return new Map(accepted).set(ORDERS_FILE, { commit: found === "unsure" ? main : (found ?? kept.commit), text: kept.text, at: main });
}

/**
 * The files a reader between syncs acts on (coord outbox, send, reservations, coord mcp's tools), with no git call:
 * when this machine verifies machines, each pinned machine's own file (its delegated orders too, without signed
 * orders) that differs from the version it verified last counts as that version (none: left out), and a machine
 * ORDERS.json's keys do not name counts not at all; when it signs, its own message files and delegated orders as it
 * signed them last (a message "from" it that someone else wrote is never adopted into its outbox, as in a sync); with
 * signed orders, ORDERS.json and the other machines' delegated orders likewise (none verified: ORDERS.json is no
 * orders, as in a sync). A forged receipt, message, report or order is never believed there either; a good change
 * since counts once the next sync has verified it.
 */
export async function lastVerified(m: Pick<Machine, "stateDir" | "config" | "signing">, files: Map<string, string>): Promise<Map<string, string>> {
  const { verifyMachines, requireSignedOrders } = m.config.trust;
  const signingKey = m.signing?.publicKey;
  if (!verifyMachines && !signingKey && !requireSignedOrders) return files;
  const [accepted, pins, roster] = await Promise.all([
    readAccepted(m.stateDir),
    verifyMachines ? readPins(m.stateDir) : new Map<string, string>(),
    verifyMachines ? readRoster(m.stateDir) : undefined,
  ]);
  const me = m.config.name;
  // Which files count only as verified (as trustedView verifies them).
  const checked = (path: string): boolean => {
    if (signedOwnFile(path, me) && signingKey) return true;
    // (With signed orders, the own delegated orders of a machine that does not sign too, as its sync checks them when
    // it keeps none: found in attack, an order add took in an unsigned one.)
    if (requireSignedOrders && isOrdersFile(path)) return true;
    const owner = verifiedByOwner(path, requireSignedOrders);
    return owner !== undefined && owner !== me && pins.has(owner);
  };
  const out = new Map(files);
  for (const path of new Set([...files.keys(), ...accepted.keys()])) {
    // A machine ORDERS.json's keys do not name: none of its files is believed (as in the sync).
    const owner = machineOfFile(path);
    if (owner !== undefined && !rosterAdmits(roster, owner, me)) {
      out.delete(path);
      continue;
    }
    if (!checked(path)) continue;
    const kept = accepted.get(path)?.text;
    if (files.get(path) === kept) continue;
    if (kept !== undefined) out.set(path, kept);
    else if (path === ORDERS_FILE) out.set(path, NO_ORDERS);
    else out.delete(path);
  }
  return out;
}

/** Whether `path` holds orders: ORDERS.json, or a machine's delegated orders file (as signed orders verify them). */
const isOrdersFile = (path: string) => path === ORDERS_FILE || (path.startsWith(`${ORDERS_DIR}/`) && path.endsWith(".json"));

/**
 * The files of `files` (read at the tracking ref) as an agent reads the fleet between syncs (coord mcp's tools): as
 * this checkout last verified them (lastVerified), with the paths whose file there is not the one shown (sorted):
 * changed since its last sync verified it, refused by it, or of a machine ORDERS.json's keys leave out. (coord status
 * shows a person the hub as it is, beside the refusals the machines publish.)
 */
export async function shownFleet(m: Pick<Machine, "stateDir" | "config" | "signing">, files: Map<string, string>): Promise<{ files: Map<string, string>; unverified: string[] }> {
  const shown = await lastVerified(m, files);
  const unverified = [...new Set([...files.keys(), ...shown.keys()])].filter((path) => shown.get(path) !== files.get(path));
  return { files: shown, unverified: unverified.sort() };
}

/** A file's text that no file has: the paths of a listing read as files by lastVerified, which compares texts. */
const LISTED = "\0listed, not read\0";

/**
 * The machines of the fleet as this checkout last fetched and verified them (works offline), from a listing of the
 * tracking ref alone: no file is read. The same names as lastFetchedModel's `machineNames`: a machine whose file
 * changed unverified counts by the version verified last. Undefined when the checkout never fetched. What
 * `coord agent on-call --from` looks at for a name not in the fleet of the last sync (actions/messages.ts machinesOnHub).
 */
export async function lastKnownMachines(m: Machine): Promise<string[] | undefined> {
  const commit = await m.hub.resolve(m.hub.trackingRef);
  if (!commit) return undefined;
  const listed = new Map((await m.hub.listFiles(commit, ["coordination"])).map((p) => [p, LISTED]));
  const names: string[] = [];
  for (const path of (await lastVerified(m, listed)).keys()) {
    const what = classifyPath(path);
    if (what.kind === "computer") names.push(what.name);
  }
  return names.sort();
}

/**
 * The files under `paths` at the tracking ref as this checkout last fetched and verified them (works offline: other
 * machines' files as lastVerified has them), with that commit; undefined when the checkout never fetched. What the
 * syncs parsed is loaded first, so a large fleet's files are not parsed again by the reader that follows.
 */
async function lastVerifiedFiles(m: Machine, paths: string[]): Promise<{ commit: string; files: Map<string, string> } | undefined> {
  const commit = await m.hub.resolve(m.hub.trackingRef);
  if (!commit) return undefined;
  await loadParsed(m.stateDir);
  return { commit, files: await lastVerified(m, await m.hub.readFiles(commit, paths)) };
}

/**
 * The machines' files and channels as this checkout last fetched and verified them (works offline), with that
 * commit: lastFetchedModel's, without reading or parsing the orders. Undefined when the checkout never fetched.
 */
export async function lastPublished(m: Machine): Promise<{ commit: string; files: MachineFiles } | undefined> {
  const known = await lastVerifiedFiles(m, ["coordination"]);
  return known && { commit: known.commit, files: readMachineFiles(known.files) };
}

/** The repository as this checkout last fetched and verified it (works offline): the files under `paths`, read as a model. */
export async function lastFetchedModel(m: Machine, paths: string[]): Promise<{ commit: string; model: RepoModel } | undefined> {
  const known = await lastVerifiedFiles(m, paths);
  return known && { commit: known.commit, model: readModel(known.files) };
}

/**
 * The newest change of each of `paths` at `tip`, signed as `signers` say, as afterVerified judges it against the
 * version accepted last: those the hub answers together (Hub.lastChanges: a constant number of git processes for
 * all of them), the rest one by one (a few git processes each), with the same answers.
 */
async function verifiedChanges(
  m: Pick<Machine, "hub">,
  tip: string,
  paths: string[],
  signers: { allowed: string; revoked?: string },
  accepted: ReadonlyMap<string, Accepted>,
  lastChange: NonNullable<Machine["hub"]["lastChange"]>,
  /** The one signer of each path's good changes (a machine's own file: that machine), as trustedFiles' signerOf. */
  ownerOf: (path: string) => string | undefined = () => undefined,
): Promise<Map<string, Change | undefined>> {
  const together =
    paths.length && m.hub.lastChanges
      ? await m.hub.lastChanges(
          tip,
          paths.map((path) => ({ path, accepted: accepted.get(path)?.commit })),
          signers,
        )
      : new Map<string, Change>();
  const alone = await eachPath(
    paths.filter((p) => !together.has(p)),
    async (path) => {
      const owner = ownerOf(path);
      return afterVerified(m, await lastChange(tip, path, owner === undefined ? signers : { ...signers, owner }), accepted.get(path));
    },
  );
  return new Map(paths.map((p) => [p, together.has(p) ? together.get(p) : alone.get(p)]));
}

/** How many paths are asked of git at once: side by side pays on a few, and a fleet's first verifying sync starts no storm. */
const ASK_AT_ONCE = 4;

/** `ask` of every path, a few side by side (each is a few git processes: one after another they were most of a verifying sync). */
async function eachPath(paths: string[], ask: (path: string) => Promise<Change | undefined>): Promise<Map<string, Change | undefined>> {
  const answers = new Map<string, Change | undefined>();
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++]!;
      answers.set(path, await ask(path));
    }
  };
  await Promise.all(Array.from({ length: Math.min(ASK_AT_ONCE, paths.length) }, worker));
  return answers;
}

/**
 * A change must come after the version verified last: an older signed version brought back (pushed
 * back, or merged in so that git log follows the old side) is marked as not after it, and refused. A
 * change on the machines' branch after it was replaced by a new root (its history bounded), made no
 * earlier than the version verified last, comes after it too: that history was dropped, not rolled back to.
 */
export async function afterVerified(m: Pick<Machine, "hub">, change: Change | undefined, before: Accepted | undefined): Promise<Change | undefined> {
  if (!change || !before || standsWithoutAncestry(change, before.commit)) return change;
  if (await m.hub.isAncestor?.(before.commit, change.commit)) return change;
  if (await m.hub.restartedAfter?.(change.commit, before.commit)) return change;
  return { ...change, notAfter: before.commit };
}

/**
 * What a machine that signs just pushed of its own message files and delegated orders (`commit` on the machines'
 * branch) counts as verified: it signed it. Without this, its message files would count only from the next sync that reads them, and
 * a reader before it (coord send after a lost mailbox) would take its sent messages for gone and number anew.
 */
export async function acceptOwnWrites(m: Pick<Machine, "stateDir" | "config" | "signing">, commit: string, changes: ReadonlyMap<string, string | null>): Promise<void> {
  if (!m.signing?.publicKey) return;
  const own = [...changes].filter(([path]) => signedOwnFile(path, m.config.name));
  if (!own.length) return;
  const accepted = await readAccepted(m.stateDir);
  const next = new Map(accepted);
  for (const [path, text] of own) next.set(path, text === null ? { commit } : { commit, text });
  await saveAccepted(m.stateDir, next, accepted);
}

/**
 * A machine that signs its commits reads its own message files and delegated orders only as it signed them: a
 * version someone else wrote (a message "from" it, an order "delegated" by it: found in attack, it ran one addressed
 * to itself) counts as the version it signed last (none: left out), so it is never adopted into its mailbox, acted
 * on, or re-signed; the machine writes its message files again from its local state. (Its COMPUTER file stays in view: the identity check
 * reads it, and what is adopted from it is only taken after local state was lost, as before.)
 */
async function withoutForgedOwnFiles(
  m: Machine,
  tip: string,
  files: Map<string, string>,
  lastChange: NonNullable<Machine["hub"]["lastChange"]>,
  accepted: Map<string, Accepted>,
): Promise<Map<string, string>> {
  const key = m.signing?.publicKey;
  if (!key) return files;
  const me = m.config.name;
  const self = selfSignerPath(m.stateDir);
  const line = `${me} ${key}\n`;
  if ((await readIfExists(self)) !== line) await writeDurably(self, line);
  const out = new Map(files);
  // Its files on the hub, and those it signed that are gone from there (someone else deleted them, or put a tree or a
  // link in their place): each counts as it last signed it, so no number it used is used again and no message is lost.
  const signed = [...accepted].filter(([, a]) => a.text !== undefined).map(([p]) => p);
  // Verified before and unchanged: no git call.
  const paths = [...new Set([...files.keys(), ...signed])].filter((p) => signedOwnFile(p, me) && accepted.get(p)?.text !== files.get(p));
  const changes = await verifiedChanges(m, tip, paths, { allowed: self }, accepted, lastChange);
  for (const path of paths) {
    const change = changes.get(path);
    const kept = accepted.get(path)?.text;
    const text = files.get(path);
    // Its own change (a deletion too: then it holds no text, and nothing is kept in view).
    if (change && change.status === "G" && change.signer === me && current(change))
      accepted.set(path, text === undefined ? { commit: change.commit } : { commit: change.commit, text });
    else if (kept !== undefined)
      out.set(path, kept); // as it last signed it: its numbers and receipts are never lost
    else out.delete(path);
  }
  return out;
}

/**
 * Whether this copy is the machine its name says, as a sync and coord doctor decide it (core/trust/identity.ts), from
 * what is known at `tip`: the machine's file there (`theirs`, parsed; undefined: none or unreadable), a reclaim this
 * copy saw (state/reclaimed.ts), the key ORDERS.json's keys name for it (`vouched`) and the one it signs with. Where
 * the keys vouch for that key, the file's history is asked too (ownFileSignature), and `change` is its newest change.
 */
export async function identityAt(
  hub: Pick<Machine["hub"], "lastChange" | "signedChanges" | "readFiles">,
  tip: string,
  m: Pick<Machine, "stateDir" | "config" | "signing">,
  theirs: ComputerFile | undefined,
  vouched: string | undefined,
): Promise<{ verdict: IdentityVerdict; change?: Change }> {
  const { config } = m;
  const own = m.signing?.publicKey;
  const facts = {
    claim: claimOf(theirs, config, await readReclaimSeen(m.stateDir, config.epoch)),
    ...(vouched !== undefined ? { vouched } : {}),
    ...(own ? { own } : {}),
  };
  const history = own && asksSignature(facts) ? await ownFileSignature(hub, tip, config, own, selfSignerPath(m.stateDir)) : undefined;
  const verdict = identityVerdict({ ...facts, ...(history ? { signature: history.signature } : {}) });
  return { verdict, ...(history ? { change: history.change } : {}) };
}

/**
 * What the history says of machine `name`'s own file at `tip` (core/trust/identity.ts Signature), against its key
 * `key` (`self`: an allowed-signers file naming it with that key), with the file's newest change: one git call when
 * that change is the machine's own, else also the newest version it signed (lastSignedComputer), read as a claim on
 * the identity `me` holds. Undefined when the hub carries no signatures.
 */
async function ownFileSignature(
  hub: Pick<Machine["hub"], "lastChange" | "signedChanges" | "readFiles">,
  tip: string,
  me: { name: string; uuid: string; epoch: number },
  key: string,
  self: string,
): Promise<{ signature: Signature; change: Change } | undefined> {
  const change = await hub.lastChange?.(tip, computerPath(me.name), { allowed: self });
  if (!change) return undefined;
  if (change.status === "G" && change.signer === me.name) return { signature: { byMe: true }, change };
  const signed = await lastSignedComputer(hub, tip, me.name, key);
  return { signature: { byMe: false, ...(signed ? { lastSigned: claimOf(signed.file, me) } : {}) }, change };
}

/** How many changes a rebuild looks through on every line of the history (every one, in practice). */
const DESCENDANTS_LOOKED_AT = 1_000_000;

/**
 * The text of machine `name`'s file `path` at `tip` as it last signed it with `key`: of its changes signed so on every
 * line of the history, the one with the latest date, with whether it is the file's newest change (else someone else
 * changed it since).
 * What a rebuild of its local state takes in (coord init --reclaim, a sync whose journal was lost): never a version
 * someone else pushed. Undefined when none is found (or it was deleted so), or the hub carries no signatures.
 */
export async function lastSignedText(
  hub: Pick<Machine["hub"], "signedChanges" | "readFiles">,
  tip: string,
  name: string,
  path: string,
  key: string,
): Promise<{ commit: string; text: string; newest: boolean } | undefined> {
  if (!hub.signedChanges) return undefined;
  const mine = (c: Change) => c.status === "G" && c.signer === name;
  const { newest, signed } = await withSignersFile([[name, key]], async (allowed) => {
    // The file's newest change, as history names it: whether the version taken is it (else someone changed it since).
    const [newest] = await hub.signedChanges!(tip, path, { allowed }, 1);
    // Every version it signed, on every line of the history: found in attack, git's simplified history names an older
    // one where a merge brings it back (or a merge over a new root hides the rest), and force-pushes that drop its
    // commits, each followed by a publish on the rewound branch, split its versions onto lines none of which holds
    // the newest. The one it made last stands: only it signs them, so their dates are its own. Of those made in one
    // second, the first listed: children come before their parents (on two lines, git's order decides).
    const mineEverywhere = (await hub.signedChanges!(tip, path, { allowed }, DESCENDANTS_LOOKED_AT, { everyLine: true })).filter(mine);
    const last = Math.max(...mineEverywhere.map((c) => c.committed));
    return { newest, signed: mineEverywhere.find((c) => c.committed === last) };
  });
  const text = signed && (await hub.readFiles(signed.commit, [path])).get(path);
  return text === undefined ? undefined : { commit: signed!.commit, text, newest: newest?.commit === signed!.commit };
}

/** Machine `name`'s COMPUTER file at `tip` as it last signed it with `key` (lastSignedText), parsed. */
export async function lastSignedComputer(
  hub: Pick<Machine["hub"], "signedChanges" | "readFiles">,
  tip: string,
  name: string,
  key: string,
): Promise<{ commit: string; file: ComputerFile; newest: boolean } | undefined> {
  const path = computerPath(name);
  const signed = await lastSignedText(hub, tip, name, path, key);
  const file = signed && readComputer(path, name, signed.text);
  return file && !(file instanceof Error) ? { commit: signed!.commit, file, newest: signed!.newest } : undefined;
}
