// coord init: clone (or adopt) a checkout, give it a machine identity, and
// register the machine by publishing its file (its agent CLIs are asked by its
// first sync, not here: that takes seconds). Running it again is harmless.
// The clone is shallow over a URL (the configured branch's newest commit:
// cloneCheckout in src/git/clone.ts); history is fetched when asked for. A
// clone `coord init` started before the CLI loaded is taken (early-clone.ts).
import { MACHINES_BRANCH } from "../core/trust/ownership.js";
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { readdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { computerPath, machineNameProblem } from "../core/files/names.js";
import { MAX_COUNT } from "../core/limits.js";
import { keyFingerprint } from "../core/trust/trust.js";
import { redact } from "../core/trust/redact.js";
import { delegatedOrdersPath, readModel } from "../core/repo/repo.js";
import { updateDelegated } from "../state/delegated.js";
import { updateMailbox } from "../state/mailbox.js";
import { BROADCAST, channelOfPath, MESSAGES_DIR, messagePath, parseMessageFile, type ShownChannel } from "../core/messages/messages.js";
import { ownTable } from "../core/types.js";
import { CoordError, EXIT } from "../errors.js";
import { firstLine, Repo } from "../git/git.js";
import { commitOf } from "../git/hub.js";
import { SETTINGS_STUB } from "../git/clone.js";
import { addRemote, cloneCheckout, remoteUrlOf } from "../git/local.js";
import { loadConfig, type MachineConfig, newConfig, saveConfig } from "../state/config.js";
import { exists } from "../state/files.js";
import { Journal } from "../state/journal.js";
import { clearReclaimSeen, readReclaimSeen } from "../state/reclaimed.js";
import { stateDirOf } from "../state/paths.js";
import { READ_PATHS, sync, type SyncResult } from "../sync/sync.js";
import { lastSignedComputer, lastSignedText } from "../sync/trust.js";
import { takeEarlyClone } from "../startup/early-clone.js";
import { withSigningKey } from "./trust.js";
import { signingOf } from "../state/trust.js";
import { signingKeyPath } from "../state/paths.js";
import { scaffoldCommits } from "./hub.js";
import type { ComputerFile } from "../core/fleet/computer.js";

export interface InitOptions {
  dir: string;
  name: string;
  remote: string;
  branch?: string;
  /** Seconds or a duration ("15m") between heartbeat commits. */
  heartbeat?: string;
  /** Take over the identity of an existing machine file of this name (a reinstalled machine). */
  reclaim?: boolean;
  /** The private SSH key this machine signs its commits with; false: none. Default: an ed25519 key made in .git/coord. */
  key?: string | false;
  log?: (line: string) => void;
}

export interface InitResult {
  dir: string;
  name: string;
  uuid: string;
  cloned: boolean;
  scaffolded: boolean;
  reclaimed: boolean;
  sync: SyncResult;
  /** What a person should know of it (a reclaim's task reports taken as of an older commit, or not at all). */
  notes: string[];
}

function cloneFailed(remote: string, e: unknown): CoordError {
  return new CoordError(`could not clone ${redact(remote)}: ${firstLine(String((e as Error).message))}`, EXIT.FAILURE);
}

async function isCheckout(dir: string): Promise<boolean> {
  return exists(resolve(dir, ".git"));
}

/**
 * The key a reclaim reads the machine's files on the hub by: the one its person gave (`coord init --reclaim --key`),
 * else the one ORDERS.json's keys name for it, else the one its file publishes, else (its file gone from the hub) the
 * one this copy signs with; none: it never had a key. Found in attack: the keys and the file at the tip are anyone's
 * to push, and a file a pusher rewrote with a key of her own and signed with it said that an order had run.
 */
function keyOfOld(name: string, theirs: ComputerFile | undefined, keys: ReadonlyMap<string, string> | undefined, ownKey?: string, given?: string): string | undefined {
  return given ?? keys?.get(name) ?? theirs?.key ?? ownKey;
}

/**
 * The task reports a reclaim takes in from the machine's file on the hub: as the machine itself last signed them
 * (lastSignedComputer) with `key` (keyOfOld). A report someone else pushed since, unsigned or signed by another key,
 * is not taken: an order it marked done would never run. A machine that never had a key: its file as it is (nothing
 * to check).
 */
async function signedTasks(
  repo: Repo,
  tip: string,
  name: string,
  theirs: ComputerFile | undefined,
  key: string | undefined,
  note: (line: string) => void,
): Promise<ComputerFile["tasks"]> {
  if (!key) return theirs?.tasks ?? {};
  const path = computerPath(name);
  const signed = await lastSignedComputer(repo, tip, name, key);
  if (!signed) {
    note(`no version of ${path} on the hub is signed with ${name}'s key (${keyFingerprint(key)}) among its last changes: no task report is taken in, so what it ran may run again`);
    return {};
  }
  if (!signed.newest) note(`${path} on the hub was changed since ${name} last signed it (commit ${signed.commit.slice(0, 12)}): its task reports are taken as of that commit`);
  return signed.file.tasks;
}

/**
 * The orders the machine delegated, as it last signed them with the key this copy signs with (a reinstall with the
 * same key), taken in when this checkout keeps none: what it gave goes on (its next coord order add publishes them with
 * the new one). By no other key (found in attack: ORDERS.json's keys at the tip and a rotation notice are both what
 * anyone who can push may write, and orders run): a version signed otherwise is not taken in, and said, since the
 * next order add publishes only what is given here.
 */
async function signedDelegated(repo: Repo, tip: string, stateDir: string, name: string, key: string | undefined, note: (line: string) => void): Promise<void> {
  const path = delegatedOrdersPath(name);
  const signed = key ? await lastSignedText(repo, tip, name, path, key) : undefined;
  if (!signed) {
    if ((await repo.readFiles(tip, [path])).has(path))
      note(
        `${path} on the hub is not signed with the key this copy signs with: its orders are not taken in, ` +
          `so ${name}'s next coord order add publishes only what is given here; give the earlier ones again (coord order list shows them)`,
      );
    return;
  }
  let orders: unknown;
  try {
    orders = (JSON.parse(signed.text) as { orders?: unknown }).orders;
  } catch {
    return; // not orders: nothing to take in
  }
  if (!Array.isArray(orders) || orders.length === 0) return;
  await updateDelegated(stateDir, (data) => {
    if (data.orders.length === 0) data.orders.push(...(orders as Record<string, unknown>[]));
  });
}

/** The most channels whose history a reclaim without its key reads (signedChannels): about 0.1 s each. */
const SIGNED_CHANNELS_READ = 64;
/** The latest commits of its channel files a reclaim without its key looks through for the channels it had. */
const CHANNEL_COMMITS_LOOKED_AT = 20_000;

/**
 * What the machine's message channels showed of their numbers as it last signed them with `key` (lastSignedText), for
 * a reclaim without its own key (keyOfOld): the first sync's delivery numbers new messages above them, as far as each
 * can show (MailboxData.signedFloors). Found in attack: a pusher who lowered or deleted such a file before that sync
 * took the floor away, and a new message reused a number a recipient had taken without vouching for it yet, which it
 * dropped. Only numbers are taken, never messages: the key is the hub's word. The channels are those its files'
 * history names (deleted ones too), oldest first after the broadcast, SIGNED_CHANNELS_READ at most, one walk of the
 * history each: found in attack, a pusher's thousand machine files made a reclaim that read a channel per machine
 * name take minutes, and a pusher's newer names listed first kept a real channel from being read. The recipients'
 * receipts bound the rest (core/messages lostChannelFloor).
 */
async function signedChannels(repo: Repo, tip: string, name: string, key: string): Promise<Record<string, ShownChannel>> {
  const floors = ownTable<ShownChannel>();
  const had = new Set<string>([BROADCAST]);
  const changes = await repo.pathLog(commitOf(tip, "machines"), [`${MESSAGES_DIR}/${name}_TO_*`], CHANNEL_COMMITS_LOOKED_AT).catch(() => []);
  for (const change of changes)
    for (const path of change.paths) {
      const channel = channelOfPath(path);
      if (channel?.from === name) had.add(channel.to);
    }
  for (const to of [...had].slice(0, SIGNED_CHANNELS_READ)) {
    const path = messagePath(name, to);
    const signed = await lastSignedText(repo, tip, name, path, key);
    if (!signed) continue;
    try {
      const file = parseMessageFile(signed.text, path);
      floors[to] = { next: file.next, listed: file.messages.length };
    } catch {
      // Broken as signed: it shows nothing to number above.
    }
  }
  return floors;
}

/**
 * Takes the identity `config` names here and now, as a newer generation than the newest known: the hub's file
 * (`theirs`, when it is this identity's) or a reclaim this copy saw before (`seen`, state/reclaimed.ts; 0: none),
 * should the hub say less now; with the task reports the machine last signed (signedTasks), so nothing it ran runs
 * again; with the orders it delegated, as signed with `signsWith` (signedDelegated). `had`: this checkout was the
 * machine before (its key then reads its reports, should the file be gone from the hub; its journal's records give
 * way to reports further along). The config is saved, the record of a reclaim seen removed.
 */
async function takeIdentity(
  repo: Repo,
  tip: string,
  stateDir: string,
  config: MachineConfig,
  theirs: ComputerFile | undefined,
  seen: number,
  keys: ReadonlyMap<string, string> | undefined,
  note: (line: string) => void,
  signsWith: string | undefined,
  had: boolean,
  /** The key the person gave (--key): the machine's own, which its files on the hub are read by. */
  given?: string,
): Promise<MachineConfig> {
  // (A record of a generation a file cannot carry, as a forged one may say, counts as the highest one it can.)
  const newest = Math.max(theirs?.identity?.epoch ?? 0, Math.min(seen, MAX_COUNT - 1));
  // Found in attack: a generation past what a machine's file may carry made the file unreadable to every machine, and
  // the old copy, reading no file, ran on beside the new one.
  if (newest >= MAX_COUNT)
    throw new CoordError(
      `${computerPath(config.name)} on the hub says generation ${newest} of the identity, the highest a file may carry, so no newer one can be taken; ` +
        `someone pushed it (a reclaim counts up by one): put back the last version ${config.name} wrote (git revert on the machines' branch), then run coord init --reclaim again`,
      EXIT.USAGE,
    );
  const key = keyOfOld(config.name, theirs, keys, had ? signsWith : undefined, given);
  // Found in attack: without the machine's own key, the key its reports are read by is the hub's word.
  if (key && !given && !had)
    note(
      `no --key given: ${config.name}'s task reports on the hub were read by the key ${keys?.has(config.name) ? "ORDERS.json's keys name" : "its file names"} (${keyFingerprint(key)}), which anyone who can push may have changed; a reclaim given its key (--key) reads them by that key`,
    );
  await (await Journal.open(stateDir)).adopt(await signedTasks(repo, tip, config.name, theirs, key, note), { newer: had });
  await signedDelegated(repo, tip, stateDir, config.name, signsWith, note);
  if (key && !given && !had) {
    const floors = await signedChannels(repo, tip, config.name, key);
    if (Object.keys(floors).length)
      await updateMailbox(stateDir, (data) => {
        if (!data.joined) data.signedFloors = floors;
      });
  }
  const taken = { ...config, epoch: newest + 1, reclaimedOn: hostname(), reclaimedAt: new Date().toISOString() };
  await saveConfig(stateDir, taken);
  await clearReclaimSeen(stateDir);
  return taken;
}

export async function init(opts: InitOptions): Promise<InitResult> {
  const log = opts.log ?? (() => {});
  const notes: string[] = [];
  const note = (line: string) => {
    notes.push(line);
    log(line);
  };
  const dir = resolve(opts.dir);
  const branch = opts.branch ?? "main";
  if (branch === MACHINES_BRANCH) throw new CoordError(`--branch ${branch} is the machines' own branch; give the branch people push ORDERS.json to (main)`, EXIT.USAGE);
  const bad = machineNameProblem(opts.name);
  if (bad) throw new CoordError(`--name ${bad}`, EXIT.USAGE);
  newConfig({ name: opts.name, uuid: "-", heartbeat: opts.heartbeat }); // every option checked before anything is cloned

  // The stub a clone killed -9 left in the directory while it looked up git's settings (src/git/clone.ts): ours.
  if (await exists(join(dir, ".git", SETTINGS_STUB))) await rm(join(dir, ".git"), { recursive: true, force: true });
  let cloned = false;
  // Started before the CLI loaded (src/cli/entry.ts), into a directory that did not exist.
  const early = takeEarlyClone(dir, opts.remote, branch);
  if (early) {
    log(`cloning ${redact(opts.remote)} into ${dir}`);
    const failed = await early;
    if (failed) throw cloneFailed(opts.remote, failed.error);
    cloned = true;
  } else if (await isCheckout(dir)) {
    const url = await remoteUrlOf(dir, "origin");
    if (url && url !== opts.remote && resolve(url) !== resolve(opts.remote))
      throw new CoordError(`${dir} is a checkout of ${redact(url)}, not of ${redact(opts.remote)}; pass that remote or choose another directory`, EXIT.USAGE);
    if (!url) await addRemote(dir, "origin", opts.remote);
  } else {
    const entries = await readdir(dir).catch(() => []);
    if (entries.length > 0) throw new CoordError(`${dir} exists, is not empty and is not a git checkout; choose an empty directory`, EXIT.USAGE);
    log(`cloning ${redact(opts.remote)} into ${dir}`);
    await cloneCheckout(opts.remote, dir, branch).catch((e: unknown) => {
      throw cloneFailed(opts.remote, e);
    });
    cloned = true;
  }

  const stateDir = await stateDirOf(dir);
  const existing = await loadConfig(stateDir);
  if (existing && existing.name !== opts.name) throw new CoordError(`${dir} is already machine "${existing.name}"; use another directory for "${opts.name}"`, EXIT.USAGE);

  const repo = new Repo(dir, stateDir, "origin", branch);
  // A clone made just now fetched the branch already (none there: an empty hub, or no such branch yet: ask).
  // A clone made just now fetched the people's branch: the machines' is fetched beside it (its tip alone).
  if (cloned) await repo.fetchMachinesTip();
  let tip = (cloned ? await repo.resolve(repo.trackingRef) : undefined) ?? (await repo.fetch());
  let scaffolded = false;
  if (!tip) {
    log("the remote is empty: scaffolding the coordination repository");
    const { people } = await scaffoldCommits(repo);
    scaffolded = await repo.push(people, ["people"]);
    tip = await repo.fetch(); // ours, or the scaffold of a machine that was first
    if (!tip) throw new CoordError(`could not create branch ${branch} on ${redact(opts.remote)}`, EXIT.FAILURE);
    // The clone of the empty remote is on git's default branch name, tracking nothing: the hub's branch now.
    if (cloned) await repo.trackHubBranch();
  }

  let reclaimed = false;
  let config = existing;
  if (config && opts.reclaim) {
    // Taking back an identity another copy reclaimed: a newer generation here, with what that copy did.
    const model = readModel(await repo.readFiles(tip, READ_PATHS));
    const theirs = model.computers.get(config.name);
    const ours = theirs?.uuid === config.uuid ? theirs : undefined;
    const seen = (await readReclaimSeen(stateDir, config.epoch))?.epoch ?? 0;
    if ((ours && Math.max(ours.identity?.epoch ?? 0, seen) >= config.epoch) || seen > config.epoch) {
      // Its file gone from the hub (someone deleted it): what it last signed there still says what ran (found in attack).
      const ownKey = (await signingOf(config, stateDir, dir))?.publicKey;
      config = await takeIdentity(repo, tip, stateDir, config, ours, seen, model.keys, note, ownKey, true);
      reclaimed = true;
    }
  }
  if (config && typeof opts.key === "string") {
    // Given again to a machine that has a config: the key it has (nothing to do), or its first one; another key
    // unannounced would make its readers refuse everything it publishes: that is coord trust rotate's to do.
    const given = await withSigningKey(stateDir, config, opts.key);
    if (config.trust.signingKey && signingKeyPath(stateDir, config.trust.signingKey) !== given.path)
      throw new CoordError(
        `${dir} is machine ${config.name}, which signs with ${config.trust.signingKey} already; to change its key so that other machines follow, run coord trust rotate ${opts.key} --dir ${dir}`,
        EXIT.USAGE,
      );
    if (!config.trust.signingKey) {
      config = given.config;
      await saveConfig(stateDir, config);
    }
  }
  if (config && opts.heartbeat !== undefined) {
    config = { ...config, heartbeat: newConfig({ name: config.name, uuid: config.uuid, heartbeat: opts.heartbeat }).heartbeat };
    await saveConfig(stateDir, config);
  }
  let files: Map<string, string> | undefined;
  if (!config) {
    files = await repo.readFiles(tip, READ_PATHS);
    const model = readModel(files);
    const theirs = model.computers.get(opts.name);
    if (theirs && !opts.reclaim)
      throw new CoordError(
        `the machine name "${opts.name}" is already taken (uuid ${theirs.uuid}, last seen ${theirs.lastSeen}); choose another --name, or pass --reclaim if that machine is this one reinstalled`,
        EXIT.USAGE,
      );
    config = newConfig({ name: opts.name, uuid: theirs?.uuid ?? randomUUID(), branch, ...(opts.heartbeat !== undefined ? { heartbeat: opts.heartbeat } : {}) });
    // Safe by default: the machine signs every commit (a key made here unless one is given), readers verify it.
    if (opts.key !== false) config = (await withSigningKey(stateDir, config, opts.key)).config;
    if (theirs) {
      // A newer generation of the identity, the journal rebuilt from what the machine had published: a copy still
      // running the older one sees it and stops, and nothing it ran runs again.
      const seen = (await readReclaimSeen(stateDir, config.epoch))?.epoch ?? 0;
      const signsWith = (await signingOf(config, stateDir, dir))?.publicKey;
      const given = typeof opts.key === "string" ? signsWith : undefined;
      config = await takeIdentity(repo, tip, stateDir, config, theirs, seen, model.keys, note, signsWith, false, given);
      reclaimed = true;
    } else {
      // A new identity of another name: a reclaim the identity before it saw here (its config lost since) does not stop
      // it. Of the same name (or a record that does not say) the record stays: found in attack, the machine's file gone
      // from the hub, a new uuid ran again what the other copy had run. coord init --reclaim here takes it back.
      const seen = await readReclaimSeen(stateDir, config.epoch);
      if (seen?.name !== undefined && seen.name !== config.name) await clearReclaimSeen(stateDir);
      await saveConfig(stateDir, config);
    }
  }
  log(`registering machine ${config.name}`);
  // The tip it cloned or fetched a moment ago (and its files, when read): the sync does not fetch and read them again.
  // The agent CLIs are not asked (seconds): the machine's first sync asks them and publishes what they say.
  const result = await sync({ dir, run: false, log, fetched: { tip, ...(files ? { files } : {}) }, askAgents: false });
  return { dir, name: config.name, uuid: config.uuid, cloned, scaffolded, reclaimed, sync: result, notes };
}
