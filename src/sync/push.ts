// Publishing in a sync: this machine's files built on the tip and pushed as a
// compare-and-swap (built again on the new tip after a rejected push), one
// publish at a time; the checkout follows what landed.
import { turnsAt } from "../core/budget/turns.js";
import { DEFERRED_SPREAD_MS, WAKE_FLOOR_MS } from "../core/machine/daemon-loop.js";
import { timings } from "../timings.js";
import { setTimeout as delay } from "node:timers/promises";
import { commitOf, MACHINES_BRANCH, type PushOptions } from "../git/hub.js";
import { describeHistoryLimit, type HistoryLimit, type HistoryMark, keptHistoryRef, nextHistory } from "../core/hub/status-history.js";
import { ackedIn, messagePath, renderMessageFile } from "../core/messages/messages.js";
import { delegatedOrdersPath, ownerOf } from "../core/trust/ownership.js";
import { plural } from "../core/limits.js";
import { ownOrdersFile } from "../state/delegated.js";
import { acceptOwnWrites, withOwnOrders } from "./trust.js";
import { type FleetShare, shareAt, type TipView, viewTip } from "./view.js";
import { canonicalComputer, type ComputerFile } from "../core/fleet/computer.js";
import { saveBucket } from "../state/budget.js";
import {
  admits,
  admitsAt,
  describeShare,
  fleetSpares,
  heartbeatDueAfter,
  heartbeatOf,
  mostPressing,
  pushClassOf,
  refill,
  ridingAlong,
  type Share,
  SPARE_WINDOW_MS,
  spend,
  spendSpare,
  turnWait,
  turnsOf,
} from "../core/budget/budget.js";
import { heartbeatDue, heldLease } from "../core/work/claims.js";
import { owns } from "../core/trust/ownership.js";
import { ORDERS_FILE, readModel, type RepoModel } from "../core/repo/repo.js";
import { ownComputer, renderChanges, type Self } from "../core/machine/publish.js";
import type { KeyNotice } from "../state/key-notice.js";
import type { Signing } from "../state/trust.js";
import type { ServiceReport } from "../core/services/services.js";
import type { Reservation } from "../core/fleet/reservations.js";
import { reservationsOnTip } from "./reservations.js";
import { publishedOnCall } from "./on-call.js";
import type { OnCallReport } from "../core/fleet/computer.js";
import { publishedServices } from "./services.js";
import { CoordError, EXIT, HubBusy, RemoteUnreachable } from "../errors.js";
import { type Built, commitOwned, publishWithRetry } from "./cas.js";
import type { MessageFile, Receipts } from "../core/messages/messages.js";
import { ownMessageFiles } from "./mail.js";
import { reportedHealth } from "../core/fleet/failures.js";
import { recordReplacementRefused, replacementRefusedAt, RETRY_REPLACEMENT_MS } from "../state/history.js";
import { readWakes, recordAnnounced, recordWakesRefused, RETRY_WAKES_MS } from "../state/wakes.js";
import { fileWakes, wakesOf } from "../core/hub/wakes.js";
import { type Cycle, fastForward, haltNow, READ_PATHS, reactToTip, type SyncResult } from "./cycle.js";

/**
 * What a publish builds its first try on instead of fetching: the tip just
 * read, or (`stale`) the one last read, which is pushed at once on the chance
 * that nobody pushed since; the compare-and-swap refuses it otherwise, and the
 * next try fetches without waiting.
 */
export interface First {
  tip?: string;
  files?: Map<string, string>;
  stale?: boolean;
}

/** The tip this cycle read last (its own publish, or the first read), to build on without a fetch. */
export function lastRead(c: Pick<Cycle, "view">): First {
  return { tip: c.view.tip, files: c.view.files, stale: true };
}

/** Publishes after the publish still under way, if any (the checks while tasks run and a claim may meet). */
export function publishSerial(c: Cycle, first: First, message: string): Promise<Published> {
  return c.inTurn(() => publish(c, first, message));
}

/** What its file says of its signing: the key readers pin (and a rotation's notice naming it), or why it signs nothing. */
function signingReport(signing: Signing | undefined, notice: KeyNotice | undefined): Pick<Self, "key" | "keyNotice" | "unsigned"> {
  if (signing?.publicKey) return { key: signing.publicKey, ...(notice?.key === signing.publicKey ? { keyNotice: notice } : {}) };
  return { unsigned: signing?.problem ?? "it has no signing key (coord trust key gives it one)" };
}

/** The machine's own file as its journal says, on top of what the remote has. */
export function buildComputer(
  c: Cycle,
  model: RepoModel,
  ordersText: string | undefined,
  receipts: Receipts = {},
  services?: Record<string, ServiceReport>,
  reservations?: Reservation[],
  heartbeat = c.m.config.heartbeat,
  onCall?: OnCallReport,
): ComputerFile {
  const { config } = c.m;
  const halt = haltNow(c, model);
  const self = {
    name: config.name,
    uuid: config.uuid,
    heartbeat,
    retryBackoff: config.retryBackoff,
    capabilities: c.work.caps,
    tasks: c.work.journal.tasks,
    lastRun: c.work.journal.data.lastRun,
    refused: c.view.refusals,
    ...signingReport(c.m.signing, c.keyNotice),
    ...(c.m.config.trust.commitEmail ? { email: c.m.config.trust.commitEmail } : {}),
    ...(halt ? { halt: { state: halt.state, reason: halt.reason } } : {}),
    ...(services ? { services } : {}),
    ...(reservations ? { reservations } : {}),
    ...(onCall ? { onCall } : {}),
    ...(config.epoch > 0 ? { identity: { epoch: config.epoch, host: config.reclaimedOn ?? "", at: config.reclaimedAt ?? "" } } : {}),
  };
  return ownComputer(self, model, ordersText, c.now(), receipts);
}

export function commitMessage(name: string, result: SyncResult): string {
  if (result.ran.length) return `coord: ${name} ran ${result.ran.map((r) => `${r.id} (${r.state})`).join(", ")}`;
  if (result.interrupted.length) return `coord: ${name} reports ${result.interrupted.join(", ")} interrupted`;
  return `coord: ${name} status`;
}

/**
 * How long at most a publish may have waited for its turn (ms) to be built again, when something someone waits for cut
 * that wait short, on the tip it saw before waiting instead of a fetched one.
 */
const URGED_ON_SEEN_MS = 2000;

/** What a publish did: the view of the tip it ended on, and the tip its last try was built on. */
export interface Published {
  /**
   * The tip it ended on, viewed: its own commit (the tip it was built on, with what it wrote), or the tip it
   * found nothing to change on (or waited on for the push budget). The cycle's latest view from then on.
   */
  view: TipView;
  /** The tip the last try was built on: the cycle's own when the first try landed (or had nothing to change); it pushed when `view.tip` is another. */
  builtOn: string;
}

/** Publishes this machine's files on the latest tip: compare-and-swap, redone on the new tip after a rejected push. */
export async function publish(c: Cycle, first: First, message: string, { last = false }: { last?: boolean } = {}): Promise<Published> {
  const { hub } = c.m;
  const tries: Tries = { message, replacing: new Map(), turnsMs: 0, spare: new Set(), last, wakes: new Map() };
  const { replacing } = tries;
  let refused: string | undefined; // the machines' tip a refused replacement was to replace
  let why = "refused"; // what git said of it
  let fetchedFirst = false; // the first try fetched (its turn said the hub moved): not built on an old tip
  const published = await publishWithRetry<Published>(
    {
      // A try: the tip (the cycle's own first, then fetched), what it means for this machine, and what it writes on it.
      attempt: async (n, turn) => {
        let seen: Seen;
        // The cycle's own tip, unless the hub's files say it moved since (a try on it would lose): then a fetch.
        if (n === 1 && first.tip && first.files && (turn?.tip === undefined || turn.tip === first.tip)) seen = await see(c, first.tip, first.files);
        else {
          if (n === 1) fetchedFirst = true;
          const tip = await fetchTip(c);
          if (refused !== undefined && commitOf(tip, "machines") === refused) await replacementRefused(c, why);
          refused = undefined;
          seen = await see(c, tip, await hub.readFiles(tip, READ_PATHS));
        }
        const built = await build(c, seen, n, tries);
        if (built !== TURN) return built;
        // Its wait cut short by what someone waits for (urged) within URGED_ON_SEEN_MS: built again at once on the tip it
        // saw, with what was stored; the push's compare-and-swap says whether the hub moved (a fetch first would cost a
        // round trip). After a longer wait the hub has likely moved (turns are for a scarce budget): a fetch first.
        if (c.urged?.aborted && !c.stopping?.aborted && tries.turnsMs < URGED_ON_SEEN_MS) {
          tries.urgedOnSeen = n;
          return build(c, await see(c, seen.tip, seen.files), n, tries, true);
        }
        // It waited for its turn: it builds again, on the tip as it is at its turn.
        const fresh = await fetchTip(c);
        return build(c, await see(c, fresh, await hub.readFiles(fresh, READ_PATHS)), n, tries, true);
      },
      push: async (commit) => {
        const opts = replacing.get(commit);
        // The token is spent before git starts; its file is written while git pushes, and while `meanwhile` runs.
        const saved = spendToken(c, tries.spare.has(commit));
        try {
          const wakes = await wakesFor(c, tries.wakes.get(commit));
          // A replacement the host declines (a hook, a protected branch) is a refusal, not a failed sync.
          const landed = await hub.push(commit, ["machines"], { ...opts, ...wakes.opts }).catch((e: unknown) => {
            if (!opts || e instanceof RemoteUnreachable) throw e;
            why = String((e as Error)?.message ?? e).split("\n")[0]!;
            return false;
          });
          if (!landed && opts) refused = opts.replacing;
          if (landed) await wakes.landed();
          return landed;
        } finally {
          await saved;
        }
      },
      rejected: (_n, failed) =>
        c.log(
          failed === undefined
            ? "push rejected (someone pushed first); retrying on the new tip"
            : `push failed (${String((failed as Error)?.message ?? failed).split("\n")[0]}); trying again after a fetch`,
        ),
      // A try on a tip known to be old: its rejection is no lost race, and the next try (it fetches) comes at once. The
      // first on the tip last seen, unless it waited for its turn (built again on a fetched tip: a rejection is a lost
      // race then), and one built again unfetched when what someone waits for cut its turn's wait short.
      stale: (n) => (n === 1 && first.stale === true && tries.turnsMs === 0 && !fetchedFirst) || tries.urgedOnSeen === n,
      // A hub on this machine's disk: one try at a time among its machines, unless pushes wait for turns (a budget).
      exclusive: async () => (takesTurns(c) ? undefined : hub.exclusive?.()),
      gaveUp: (n, ms) =>
        new HubBusy(`gave up publishing after ${n} rejected pushes in ${Math.round(ms / 1000)} s (the remote is very busy); results are kept and the next sync publishes them`),
    },
    // The push budget counts lost races, not the waits for its turn.
    { budgetMs: c.pushBudgetMs, now: () => performance.now() - tries.turnsMs },
  );
  c.view = published.view;
  return published;
}

/** What the tries of one publish share. */
interface Tries {
  message: string;
  /** A commit that replaces the machines' branch (a new root, its history bounded), pushed as a compare-and-swap of the tip it replaces. */
  replacing: Map<string, PushOptions>;
  /** How long its tries waited for their turn (ms): at most the push budget in all, then it pushes at once. */
  turnsMs: number;
  /** Commits that go on the fleet's spare pushes (onSpare): their machine pays back what it can (spendSpare). */
  spare: Set<string>;
  /** The sync's last publish (its results and status, no claim): in a daemon it may end the sync until its turn (turnDeferred). */
  last: boolean;
  /** The machines a commit wakes (core/hub/wakes.ts): a new message to them, a delegated order for them. */
  wakes: Map<string, string[]>;
  /** The try whose turn's wait was cut short (urged) and that was built again on the tip it had seen, not fetched. */
  urgedOnSeen?: number;
}

/**
 * The wakes a push of this machine's carries (Hub.push): `machines`, and its own wake until the hub has it (its
 * announcement: from then on its daemon knows that the fleet's publishes wake it, state/wakes.ts), unless the hub
 * refused wakes in the last day. A refusal now is recorded and said once; the push goes without them. `landed`: to
 * call when the push landed.
 */
async function wakesFor(c: Cycle, machines: string[] | undefined): Promise<{ opts: Pick<PushOptions, "wakes" | "wakesRefused">; landed(): Promise<void> }> {
  const none = { opts: {}, landed: async () => {} };
  const state = await readWakes(c.m.stateDir);
  if (state.refusedAt !== undefined && c.now().getTime() - state.refusedAt < RETRY_WAKES_MS) return none;
  const me = c.m.config.name;
  const all = [...(machines ?? []), ...(state.announced ? [] : [me])];
  if (!all.length) return none;
  let refused = false;
  return {
    opts: {
      wakes: { machines: all, by: me },
      wakesRefused: (why) => {
        refused = true;
        void recordWakesRefused(c.m.stateDir, c.now(), why).catch(() => {});
        c.result.warnings.push(
          `the hub refused the wake refs (refs/coord-wake/*) this publish moved, so it went without them: ${why}. ` +
            `Messages and delegated orders still arrive, a few seconds later in a large fleet; to let them wake their machine at once, ` +
            `give the machines write access to refs/coord-wake/* (docs/security.md); tried again in a day`,
        );
      },
    },
    landed: async () => {
      if (!refused && !state.announced) await recordAnnounced(c.m.stateDir).catch(() => {});
    },
  };
}

/** The machines' branch as the remote has it now. */
async function fetchTip(c: Pick<Cycle, "m">): Promise<string> {
  const tip = await c.m.hub.fetch();
  if (!tip) throw new CoordError(`the remote branch ${c.m.config.branch} disappeared`, EXIT.FAILURE);
  return tip;
}

/**
 * The turn step: under a budget that makes each try count, a push waits for this machine's turn (core/budget/budget.ts
 * turnWait), so that machines in step do not all push at once and lose the race; not once it is told to stop, nor
 * once its turns took a push budget's time (a publish that keeps losing in its turns then goes at once): `wait`,
 * turnWaitNow's, as build read it. True: it waited.
 */
async function turnComes(c: Cycle, tries: Tries, wait: number): Promise<boolean> {
  if (wait <= 0) return false;
  const since = performance.now();
  // A machine told to stop pushes what it has at once (its interrupted tasks): its last word waits for no turn. Nor
  // does what someone waits for, stored meanwhile (urged): the try builds again at once, with it.
  const signals = [c.stopping, c.urged].filter((s) => s !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  await (c.waitTurn ? c.waitTurn(wait) : delay(wait, undefined, signal ? { signal } : {}).catch(() => {}));
  tries.turnsMs += performance.now() - since;
  return true;
}

/** Whether this publish's pushes may wait for turns (turnWaitNow): a budget that makes each try count. */
function takesTurns(c: Cycle): boolean {
  return c.budget.share !== undefined && turnsOf(c.budget.share, turnsAt(timings.timeScale)) >= 2;
}

/** How long this try would wait for its turn (ms; turnComes), 0: none (a stopping sync, turns spent, the daemon's turn). */
function turnWaitNow(c: Cycle, tries: Tries): number {
  if (c.stopping?.aborted || c.urged?.aborted || tries.turnsMs >= c.pushBudgetMs) return 0;
  const wait = turnWait(c.budget.share!, c.budget.rank ?? 0, c.now().getTime(), turnsAt(timings.timeScale));
  // The daemon woke for this turn, a little before it (TURN_LEAD_MS): the rest is waited for; later, it pushes at once.
  if (c.turns === "now") return wait <= TURN_LEAD_MS ? wait : 0;
  return wait;
}

/**
 * The turn step's other way, for a daemon's last publish (SyncOptions.turns "defer"): a far turn ends the sync until
 * then instead of holding it (the daemon wakes for it, and looks and delivers meanwhile); a near one is waited for:
 * one turn away at most, and at most as far as the daemon's wake may come late (core/machine/daemon-loop.ts: its
 * floor and its spread), which would miss it. Turns shorter than that spread (a bench's fleet at time ÷ 10) are
 * always waited for: a wake would land in another machine's. `wait`: turnWaitNow's. Returns when the publish waits
 * until, or undefined.
 */
function turnDeferred(c: Cycle, tries: Tries, wait: number): number | undefined {
  const { turnMs } = turnsAt(timings.timeScale);
  if (c.turns !== "defer" || !tries.last || turnMs < DEFERRED_SPREAD_MS) return undefined;
  return wait > Math.max(turnMs, WAKE_FLOOR_MS + DEFERRED_SPREAD_MS) ? c.now().getTime() + wait : undefined;
}

/**
 * How long before a far turn (turnDeferred) the daemon's sync for it is woken (ms): its wake comes up to
 * DEFERRED_SPREAD_MS later, and the sync then waits the rest of a near turn (less than WAKE_FLOOR_MS +
 * DEFERRED_SPREAD_MS). A push begins only in the first half of its turn (turnWait).
 */
const TURN_LEAD_MS = 1_500;

/** What build says when the push waited for its turn: the try builds again on the tip as it is then. */
const TURN = Symbol("turn");

/**
 * What one try writes on the tip it saw, in four steps: what this machine would write (`compose`), whether that is
 * worth a push now (`judge`: the fleet's push budget), its turn to push (`turnComes`: then it says TURN, and the try
 * builds again on the tip as it is), and the commit.
 */
async function build(c: Cycle, seen: Seen, attempt: number, tries: Tries, inTurn: true): Promise<Built<Published>>;
async function build(c: Cycle, seen: Seen, attempt: number, tries: Tries): Promise<Built<Published> | typeof TURN>;
async function build(c: Cycle, seen: Seen, attempt: number, tries: Tries, inTurn = false): Promise<Built<Published> | typeof TURN> {
  const { config, hub } = c.m;
  const { result, log } = c;
  const { journal } = c.work;
  const { tip, files } = seen;
  const composed = await compose(c, seen);
  const { model, local, reserved, previous } = seen;
  let verdict = await onSpare(c, tip, judge(c, seen, composed));
  // Its wait for its turn, once: none for a machine's registration (no file of its own on the hub yet: once in its
  // life, and coord init waits on it), for what someone waits for (a lost race costs a retry, a turn would cost
  // seconds), nor for a try built again at its turn. A daemon's last publish whose turn is far ends the sync until then.
  const turnMs = !inTurn && previous && !verdict.awaited && verdict.changes.size ? turnWaitNow(c, tries) : 0;
  const turn = verdict.deferUntil === undefined ? turnDeferred(c, tries, turnMs) : undefined;
  if (turn !== undefined) verdict = { ...verdict, deferUntil: turn };
  const { mine } = composed;
  const { changes } = verdict;
  if (verdict.deferUntil !== undefined) {
    // Over its share (or its turn far): it waits (what it has rides along with the next push), and says until when.
    // A far turn: the daemon wakes a little before it (TURN_LEAD_MS), so that its fetch and build are done when the
    // turn begins and it waits the rest; woken at the turn, they ran past its first half, and it waited a round.
    c.budget.publishWaits = turn !== undefined ? turn - TURN_LEAD_MS : verdict.deferUntil;
    const what = turn !== undefined ? "its turn to push" : "the fleet's push budget";
    log(`this publish waits for ${what} (${describeShare(c.budget.share!)}) until ${new Date(verdict.deferUntil).toISOString()}`);
  } else if (changes.size === 0) await reserved.landed(); // the tip says what this machine would: its reservations are there
  if (changes.size === 0 || verdict.deferUntil !== undefined) {
    c.said.lastSeen = previous?.lastSeen ?? c.said.lastSeen;
    await fastForward(c.m, tip, result);
    return { done: { view: tipViewOf(seen), builtOn: tip } };
  }
  delete c.budget.publishWaits;
  if (await turnComes(c, tries, turnMs)) return TURN;
  result.pushAttempts = Math.max(result.pushAttempts, attempt);
  const history = await boundedHistory(c, tip, model.controls.history);
  const { message } = tries;
  const commit = await commitOwned(hub, config.name, tip, changes, message.startsWith("coord:") ? message : `coord: ${config.name} ${message}`, history, config.trust.commitEmail);
  if (history.newRoot) tries.replacing.set(commit, { replacing: commitOf(tip, "machines"), ...(history.keepAs ? { keepAs: history.keepAs } : {}) });
  if (verdict.spare) tries.spare.add(commit);
  // Whom it wakes (core/hub/wakes.ts): a new message's recipient, a delegated order's machines, the machines of the
  // orders that wait on a result it publishes; the fleet for a broadcast, an ANY order, a claim given up, reservations.
  const me = { name: config.name, delegated: delegatedOrdersPath(config.name) };
  const wakes = wakesOf(me, { own: seen.own.files, hub: model.messageFiles }, changes, files, fileWakes(previous, mine, model.orders?.orders ?? []));
  if (wakes.length) tries.wakes.set(commit, wakes);
  // The tip this commit makes, read as the cycle will need it once the push lands: prepared while git pushes.
  // The view of that tip: the one it was built on, with what it wrote.
  let landedOn: TipView | undefined;
  const prepare = (): TipView => {
    const after = new Map(files);
    const actedOn = new Map(local);
    for (const [path, content] of changes) {
      for (const view of [after, actedOn]) {
        if (content === null) view.delete(path);
        else view.set(path, content);
      }
    }
    return { ...tipViewOf(seen), tip: commit, files: after, local: actedOn, model: readModel(actedOn) };
  };
  return {
    commit,
    meanwhile: () => {
      landedOn ??= prepare();
    },
    landed: async () => {
      result.pushed = commitOf(commit, "machines");
      c.said.lastSeen = mine.lastSeen;
      journal.data.lastPublished = mine.lastSeen;
      // Side by side: none needs another, and all are done before the cycle goes on (its lock is held until then).
      const done = await Promise.allSettled([journal.save(), reserved.landed(), fastForward(c.m, commit, result), acceptOwnWrites(c.m, result.pushed, changes)]);
      for (const d of done) if (d.status === "rejected") throw d.reason;
      log(`published ${result.pushed.slice(0, 12)} on ${MACHINES_BRANCH} (${[...changes.keys()].join(", ")})`);
      landedOn ??= prepare();
      return { view: landedOn, builtOn: tip };
    },
  };
}

/** What a tip means for this machine and for this publish, read once per try. */
interface Seen extends TipView {
  /** The tip as it is (with this machine's own orders): STATUS is derived from it. */
  tipModel: RepoModel;
  /** Its file as the hub has it. */
  previous?: ComputerFile;
  own: Awaited<ReturnType<typeof ownMessageFiles>>;
  services: Awaited<ReturnType<typeof publishedServices>>;
  reserved: Awaited<ReturnType<typeof reservationsOnTip>>;
  /** Agents on call: what this publish says of them. */
  onCall?: OnCallReport;
}

/** The view in what a try saw, without what only its publish writes with. */
function tipViewOf(seen: Seen): TipView {
  const { own: _o, services: _s, reserved: _r, tipModel: _t, previous: _p, onCall: _c, ...view } = seen;
  return view;
}

/** The see step of a try: the tip viewed (view.ts) and reacted to (reactToTip), its share of the budget; what this publish writes with. */
async function see(c: Cycle, tip: string, files: Map<string, string>): Promise<Seen> {
  const { config } = c.m;
  const { result, now } = c;
  const view = await viewTip(c.m, { tip, files }, { by: "publish", now, log: c.log, saidBefore: c.view.notes, observedBefore: async () => c.view.observed });
  c.view = view;
  const { model } = view;
  keepShare(c, view.share);
  // Lost claims, unwanted tasks (a coord pause with --stop since the last view too), the daemon's services.
  await reactToTip(c, view);
  // Then this publish says how the services are.
  const services = await publishedServices(c.m, model, haltNow(c, model), !c.onModel);
  result.ordersProblems = model.ordersProblems;
  const own = await ownMessageFiles(c.m, model, now(), tip);
  // A message too big for its channel (cut) or delivered ones archived early to make room: said once (the outbox keeps it).
  for (const note of own.notes) if (!result.warnings.includes(note)) result.warnings.push(note);
  // The problems of its own files go away: it rewrites them now.
  result.fileProblems = model.fileProblems.filter((p) => !owns(config.name, p.file));
  const reserved = await reservationsOnTip(c, model);
  // STATUS is derived from the tip as it is (with this machine's own files), never from what this machine verified:
  // machines that trust differently still write the same STATUS, instead of rewriting each other's at every sync.
  const tipModel = view.checked ? readModel(await withOwnOrders(c.m, files)) : model;
  const previous = model.computers.get(config.name);
  const onCall = await publishedOnCall(c.m, now());
  return { ...view, tipModel, own, services, reserved, ...(previous ? { previous } : {}), ...(onCall ? { onCall } : {}) };
}

/** What this machine would write on the tip: its file, and its other files' changes. */
interface Composed {
  mine: ComputerFile;
  /** Its files other than its machine file, messages and STATUS that change (its delegated orders, a forged message file removed). */
  others: Map<string, string | null>;
  /** Its heartbeat is due (sooner while it holds claims: it renews them). */
  due: boolean;
  renews: boolean;
}

/** The compose step: its machine file (with the heartbeat its share stretches to), its message files, its delegated orders. */
async function compose(c: Cycle, seen: Seen): Promise<Composed> {
  const { config } = c.m;
  const { now } = c;
  const { model, previous, own, files } = seen;
  const share = c.budget.share!;
  const heartbeat = heartbeatOf(previous?.heartbeat, share.heartbeat);
  c.budget.heartbeatDue = heartbeatDueAfter(previous?.heartbeat, heartbeat);
  const mine = buildComputer(c, model, seen.local.get(ORDERS_FILE), own.receipts, seen.services, seen.reserved.publish, heartbeat, seen.onCall);
  // Its failed syncs, as people should read them (core/fleet/failures.ts): a refusal ends with the push that carries it.
  c.said.clearedAt ??= now();
  const health = reportedHealth(c.health, c.said.clearedAt, heartbeat);
  if (health) {
    mine.health = health;
    if (!health.cleared) mine.state = "stalled";
  }
  // lastSeen goes out only when a heartbeat is due (sooner while holding claims: it renews them).
  const held = heldLease(c.work.journal.tasks);
  const due = !previous || heartbeatDue(previous.lastSeen, now(), c.budget.heartbeatDue, held);
  if (previous && !due) mine.lastSeen = previous.lastSeen;
  const others = new Map<string, string | null>();
  const delegated = await ownOrdersFile(c.m.stateDir, config.name);
  if (delegated && "problem" in delegated) {
    if (!c.result.warnings.includes(delegated.problem)) c.result.warnings.push(delegated.problem);
  } else if (delegated && delegated.content !== files.get(delegated.path)) others.set(delegated.path, delegated.content);
  if (c.m.signing?.publicKey) {
    // A message file of its own that it has no channel for was written by someone else (it signs its own): it removes it.
    const channels = new Set(own.files.map((f) => messagePath(f.from, f.to)));
    for (const path of files.keys()) {
      const o = ownerOf(path);
      if (o.kind === "messages" && o.machine === config.name && !channels.has(path)) others.set(path, null);
    }
  }
  return { mine, others, due, renews: held !== undefined };
}

/**
 * The judge step (core/budget/budget.ts): whether what changed is worth a push, what goes out, and whether the budget
 * admits it now. What it merely read (a new ORDERS.json) is left out; STATUS alone is said by whoever syncs first;
 * a publish over its share waits (`deferUntil`), a retry after a lost race too, urgent ones included: a bucket never
 * goes below its floor by more than one push. Claims are gated before they are made (claimsWait); a claim whose
 * retry waits is withdrawn (work.ts claim). An urgent publish waits at most one token's refill, a sixth of a
 * claim's lease at most (core/budget/budget.ts claimLeaseOf), so a renewal or a claim's end is never late for its lease.
 */
function judge(c: Cycle, seen: Seen, composed: Composed): Verdict {
  const { model, previous, files, tipModel, own } = seen;
  const { mine, others } = composed;
  const { fresh, ...messages } = messagesChanged(model, own.files, files);
  const cls = mostPressing(
    pushClassOf(previous && canonicalComputer(previous), canonicalComputer(mine), {
      waitedOn: waitedOn(model),
      ...messages,
      heartbeatDue: composed.due,
      renewsClaims: composed.renews,
    }),
    others.size ? "work" : undefined,
  );
  // Nothing worth a push: its file stays as the hub has it (what it read of ORDERS.json rides along with the next push).
  // STATUS.* alone (a person's change) may remain: the same on every machine, so the first to sync says it.
  const publishing = cls || !previous ? mine : ridingAlong(mine, previous);
  const changes: Map<string, string | null> = renderChanges(files, tipModel, publishing, own.files);
  for (const [path, content] of others) changes.set(path, content);
  if (!changes.size) return { changes };
  // What someone waits for (issue 46): a new message, its delegated orders, an acknowledgement a person or an agent
  // made (not the onMessage hook's). It goes within the budget as urgent work does (it may borrow: the debt holds back
  // the rest), and waits for no turn; held back by its bucket even so, it may go on the fleet's spare pushes (onSpare).
  const acks = ackedIn(own.ackWaits, publishing.messages).length > 0;
  const awaited = fresh || acks || [...others.keys()].some((p) => ownerOf(p).kind === "delegated") ? { awaited: true as const } : {};
  const why = awaited.awaited ? "urgent" : (cls ?? "status");
  const bucket = refill(c.budget.bucket, c.now().getTime(), c.budget.share!);
  if (!admits(bucket, why)) return { changes, deferUntil: admitsAt(bucket, why, c.budget.share!), ...awaited };
  return { changes, ...awaited };
}

/** What the judge says of a try: what goes out, and whether it waits (until when), goes at once, or on the fleet's spare pushes. */
interface Verdict {
  changes: Map<string, string | null>;
  deferUntil?: number;
  awaited?: true;
  spare?: true;
}

/**
 * The spare step (core/budget/budget.ts fleetSpares): what someone waits for, which its machine's bucket holds back,
 * goes when the hub's branches took few enough commits in the last minute: the pushes the fleet left unused. One
 * git call, only when the bucket says wait. Counted on the tip this try builds on, so a lost race counts again.
 */
async function onSpare(c: Cycle, tip: string, verdict: Verdict): Promise<Verdict> {
  if (verdict.deferUntil === undefined || !verdict.awaited) return verdict;
  const share = c.budget.share!;
  const recent = await c.m.hub.madeSince(tip, c.now().getTime() - SPARE_WINDOW_MS).catch(() => undefined);
  if (recent === undefined || !fleetSpares(share, recent)) return verdict;
  c.log(`what someone waits for goes on the fleet's spare pushes: the hub took ${plural(recent, "commit")} in the last minute, of ${share.budget} pushes a minute`);
  return { changes: verdict.changes, awaited: true, spare: true };
}

/**
 * The history step: where the commit about to be made stands in the machines' branch's bounded history
 * (core/hub/status-history.ts). Past the limit, it is a new root holding the same files, and the history before
 * it is dropped (or kept under a ref, as ORDERS.json says).
 */
async function boundedHistory(c: Pick<Cycle, "m" | "now" | "log">, tip: string, limit: HistoryLimit): Promise<{ mark: HistoryMark; newRoot: boolean; keepAs?: string }> {
  const now = c.now();
  const parent = await c.m.hub.historyOf(tip);
  const next = nextHistory(parent, limit, now);
  if (!next.newRoot) return next;
  const refusedAt = await replacementRefusedAt(c.m.stateDir);
  if (refusedAt && now.getTime() - refusedAt.getTime() < RETRY_REPLACEMENT_MS && now >= refusedAt) {
    // The hub refused a replacement lately: on top, as before, until a day has passed.
    return { mark: { depth: parent!.depth + 1, since: parent!.since }, newRoot: false };
  }
  c.log(
    `the machines' branch holds ${parent!.depth} commits since ${parent!.since.toISOString()}, past its limit (${describeHistoryLimit(limit)}): ` +
      `this publish replaces it with one commit holding the same files${limit.keep ? `; the history before is kept as ${keptHistoryRef(now)}` : ""}`,
  );
  return { ...next, ...(limit.keep ? { keepAs: keptHistoryRef(now) } : {}) };
}

/**
 * A replacement refused while the branch had not moved: the hub refuses it (a protected branch that blocks
 * force pushes), not another machine. Said once, remembered for a day; meanwhile the history grows.
 */
async function replacementRefused(c: Pick<Cycle, "m" | "now" | "result">, why: string): Promise<void> {
  await recordReplacementRefused(c.m.stateDir, c.now()).catch(() => {});
  c.result.warnings.push(
    `the hub refused to replace the branch ${MACHINES_BRANCH} with a new root (a forced push, with a lease: ${why}): is it protected against force pushes? ` +
      `Its history grows past the limit until it allows the machines' force pushes there (docs/security.md), or ORDERS.json's "hub": {"statusHistory": …} is raised; tried again in a day`,
  );
}

/** Order ids another order waits on (`after`): a result of one is urgent. */
function waitedOn(model: RepoModel): Set<string> {
  return new Set((model.orders?.orders ?? []).flatMap((o) => o.after ?? []));
}

/**
 * Whether its own message files differ from the tip's `files`: urgent when one holds an urgent message the hub does
 * not have yet; `fresh` when one holds any message the hub does not have yet (not only an archived one gone).
 */
function messagesChanged(model: RepoModel, own: MessageFile[], files: Map<string, string>): { messages?: "urgent" | "work"; fresh?: true } {
  let cls: "urgent" | "work" | undefined;
  let fresh = false;
  for (const f of own) {
    if (files.get(messagePath(f.from, f.to)) === renderMessageFile(f)) continue;
    const before = model.messageFiles.find((m) => m.from === f.from && m.to === f.to);
    const known = Math.max(0, ...(before?.messages ?? []).map((m) => m.seq));
    const unknown = f.messages.filter((m) => m.seq > known);
    if (unknown.length) fresh = true;
    cls = unknown.some((m) => m.priority === "urgent") ? "urgent" : (cls ?? "work");
    if (cls === "urgent") break;
  }
  return { ...(cls ? { messages: cls } : {}), ...(fresh ? { fresh: true as const } : {}) };
}

/**
 * One push (or retry) spent from its bucket (core/budget/budget.ts), at once; returns the write of .git/coord/budget.json,
 * which never fails (a file that cannot be written costs nothing else). Not awaited before the push: git starts
 * first, and the build's `meanwhile` overlaps the push as it did before the budget (a few ms of a one-task sync).
 */
function spendToken(c: Cycle, spare = false): Promise<void> {
  if (!c.budget.share) return Promise.resolve();
  const bucket = refill(c.budget.bucket, c.now().getTime(), c.budget.share);
  c.budget.bucket = spare ? spendSpare(bucket) : spend(bucket);
  c.result.budget = { tokens: Math.round(c.budget.bucket.tokens * 100) / 100, share: describeShare(c.budget.share) };
  return saveBucket(c.m.stateDir, c.budget.bucket).catch(() => {});
}

/**
 * Its share of the fleet's push budget as `model` shows the fleet (core/budget/budget.ts), and the lease its claims hold
 * for under it: kept in the cycle for the publish, the claims and the quiet stamp.
 */
export function fleetShare(c: Cycle, model: RepoModel): Share {
  return keepShare(c, shareAt(c.m, model, c.now()));
}

/** A share (view.ts shareAt) kept in the cycle's standing with the budget. */
function keepShare(c: Cycle, at: FleetShare): Share {
  c.budget.share = at.share;
  c.budget.rank = at.rank;
  c.budget.lease = at.lease;
  return at.share;
}

/**
 * Whether claims wait for the fleet's push budget (core/budget/budget.ts): a claim is urgent and may borrow, but a
 * machine deep in debt claims nothing until its bucket refills (and says until when); others may take them.
 */
export function claimsWait(c: Cycle, model: RepoModel): boolean {
  const share = fleetShare(c, model);
  const bucket = refill(c.budget.bucket, c.now().getTime(), share);
  if (admits(bucket, "urgent")) {
    delete c.budget.claimsWait;
    return false;
  }
  c.budget.claimsWait = admitsAt(bucket, "urgent", share);
  c.log(`claims wait for the fleet's push budget (${describeShare(share)}) until ${new Date(c.budget.claimsWait).toISOString()}`);
  return true;
}
