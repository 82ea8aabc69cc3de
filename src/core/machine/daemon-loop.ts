// The daemon's loop as states: when it syncs, and what an ask, a poke or a stop does meanwhile. Pure: the time and
// the random numbers come in. runDaemon (src/daemon/daemon.ts) keeps one timer, to `dueAt`, does the actions, and
// feeds back what happened.
//
//   idle     waits for the schedule's next tick, or the quiet stamp's end when that is sooner (its heartbeat),
//            and looks at the hub meanwhile as often as its share of the reads allows (core/hub/reads.ts)
//   looking  one look at the hub (is either branch where this machine last saw it?): a move syncs at once, or
//            within moveSpreadMs at random (idle's movedAt: the fleet's machines do not all push together, and
//            the daemon looks on meanwhile); a move that wakes this machine at once; one of the machines' branch
//            that woke nobody here, while quiet (calm: core/hub/wakes.ts), within QUIET_OTHERS_MS
//   poked    a service changed while idle: a sync in POKE_MS (more changes meanwhile make one sync)
//   syncing  a sync runs; ticks that fall meanwhile are dropped (never two at once)
//   asked    a sync runs and another follows it at once (asked for, or a service changed, meanwhile); when only
//            something stored here waits to be pushed (an agent's answer, a message sent: a "publish"), the one
//            after it builds on the tip this sync ended on, without fetching again (its push's compare-and-swap
//            says whether the hub moved meanwhile)
//   stopping a stop came while a sync runs: its tasks are interrupted after the grace, its git killed later
//   stopped  nothing runs; the daemon ends
//
// A sync that ran work is followed by another at once (the queue drains without waiting for a tick), and so is one
// whose publish landed on a newer tip than it read (what that tip brought is where no look sees a move). The
// daemon never sleeps past a look it owes: the next look is one of the deadlines of `dueAt`.

/** How long after a service changes the sync that publishes it starts (later changes join it). */
export const POKE_MS = 500;
/** A wake for the quiet stamp's end is never sooner than this (a stamp that ended already). */
export const WAKE_FLOOR_MS = 1000;
/** The part of its heartbeat a daemon waking for its quiet stamp's end may wake later, at random (at most 30 s). */
export const WAKE_SPREAD = 0.05;
const MAX_SPREAD_MS = 30_000;
/**
 * How much later at most a daemon wakes, at random, when its quiet stamp ends because a publish that waits for the
 * push budget may go then (a message someone waits for may be in it): each machine's bucket refills on its own
 * clock, so these ends seldom fall together, and a second spreads those that do.
 */
export const DEFERRED_SPREAD_MS = 1000;
/**
 * A quiet daemon (its last sync left a quiet stamp) syncs a move of the machines' branch that woke nobody here between
 * half of this and this much later, at random, and once for all such moves meanwhile: what is for it wakes it at once
 * (core/hub/wakes.ts), and a message whose sender could not wake it still arrives within a minute.
 */
export const QUIET_OTHERS_MS = 60_000;

export interface LoopSettings {
  /** The schedule's next tick strictly after `after` (ms), or Infinity when it has none. */
  nextTick(after: number): number;
  /** At most this much later than its tick a scheduled sync starts, at random (a fleet does not push at one second). */
  jitterMs: number;
  /** The machine's heartbeat (ms): what the spread of a wake is a part of. */
  heartbeatMs: number;
  /** How long a running sync may take after a stop before its tasks are interrupted. */
  graceMs: number;
  /** How long after that the git command it hangs in is killed. */
  killGitMs: number;
  /** A number in [0, 1). */
  random(): number;
  /**
   * When the next look at the hub may be (ms), the last one having been at `now` (its share of the fleet's reads,
   * core/hub/reads.ts nextLookAt), or undefined: the daemon does not look (it syncs on its schedule only).
   */
  nextLook?(now: number): number | undefined;
  /**
   * At most how long (ms) after a look saw the hub move its sync starts, at random: every machine of a fleet sees a
   * move within a look of each other, and machines that all sync at once lose their pushes' races to each other.
   */
  moveSpreadMs?: number;
}

/**
 * Why a sync starts. "turn": the wake for a publish that waited (its turn to push, or the push budget): the sync
 * pushes what waited at once (sync/sync.ts `turns`). "publish": only something stored here waits to be pushed (the
 * `publish` event), and no move of the hub was seen since the last sync: the sync builds on the tip this machine
 * last saw (fetched or pushed) instead of fetching; a push the hub refuses (it moved) fetches and builds again at once.
 */
export type Why = "start" | "tick" | "wake" | "turn" | "asked" | "poked" | "ran work" | "moved" | "publish";

/**
 * `movedAt`: a move a look saw is synced then (its spread, at random); the daemon looks on meanwhile, and a move that
 * wakes it is synced at once. `quiet`: the last sync left a quiet stamp and is calm (core/hub/wakes.ts: nothing
 * waits, no ANY order open): a move of the machines' branch that woke nobody here waits QUIET_OTHERS_MS.
 */
export type LoopState =
  | { kind: "idle"; tickAt: number; wakeAt?: number; lookAt?: number; forTurn?: true; movedAt?: number; quiet?: true }
  | { kind: "looking"; tickAt: number; wakeAt?: number; since: number; afterLook?: "asked" | "poked" | "publish"; forTurn?: true; movedAt?: number; quiet?: true }
  | { kind: "poked"; tickAt: number; at: number }
  | { kind: "syncing"; since: number }
  | { kind: "asked"; since: number; by: "asked" | "poked" | "publish" }
  | { kind: "stopping"; interruptAt: number; killGitAt: number; interrupted: boolean; gitKilled: boolean }
  | { kind: "stopped" };

export type LoopEvent =
  /** The timer to dueAt fired (or any time: nothing happens before it is due). */
  | { type: "timer" }
  /** A sync was asked for (coord mcp's sync tool, daemon/request.ts). */
  | { type: "asked" }
  /** A service changed: a sync publishes it. */
  | { type: "poked" }
  /**
   * Something stored here waits to be pushed and nothing else (an agent's answer or step, sync/on-call.ts; a message
   * sent, daemon/request.ts): a sync "publish" (no fetch) unless a move seen since the last sync is still to be synced.
   */
  | { type: "publish" }
  | { type: "stop" }
  /**
   * The running sync ended; `quietUntil`: until when its quiet stamp says nothing happens (src/core/machine/quiet.ts);
   * `newerTip`: its publish landed on a tip newer than the one it read (sync/cycle.ts SyncResult), which may hold
   * something for this machine that no look will see move; `deferred`: the stamp ends when a publish that waits for
   * the push budget may go; `quiet`: it left a quiet stamp, and is calm (core/hub/wakes.ts).
   */
  | { type: "ended"; ranWork: boolean; quietUntil?: number; newerTip?: boolean; deferred?: boolean; quiet?: true }
  /**
   * The look ended: `moved`, either branch is not where this machine last saw it (or pushed it); `addressed`, its wake
   * moved too (a message or an order for it); `othersOnly`, only the machines' branch moved and woke nobody here.
   */
  | { type: "looked"; moved: boolean; addressed?: true; othersOnly?: true };

export type LoopAction = { type: "sync"; why: Why } | { type: "look" } | { type: "interrupt" } | { type: "killGit" } | { type: "log"; line: string };

export interface Step {
  state: LoopState;
  actions: LoopAction[];
}

const log = (line: string): LoopAction => ({ type: "log", line });
const syncNow = (now: number, why: Why, ...lines: string[]): Step => ({ state: { kind: "syncing", since: now }, actions: [...lines.map(log), { type: "sync", why }] });

/**
 * Something stored here to publish: built on the tip this machine last saw, unless the hub moved since (a move seen
 * and not synced yet): then a sync that fetches, and publishes it with what the move brought (a publish on the old
 * tip would lose the race).
 */
const publishNow = (now: number, moved: boolean): Step =>
  moved
    ? syncNow(now, "moved", "something to publish, and the hub moved: syncing now")
    : syncNow(now, "publish", "something to publish: publishing it on the tip this machine last saw");

/** The first state: a sync at once. */
export function start(now: number): Step {
  return syncNow(now, "start");
}

/**
 * Idle after a sync: the next tick, and a wake for the quiet stamp's end when that comes before the tick (so a
 * heartbeat is on time whatever the schedule), a little later at random: daemons whose heartbeats fall due
 * together would otherwise push at the same instant every time, and all but one lose the race. A stamp that ends
 * for a publish waiting for the push budget (`deferred`) is woken for within DEFERRED_SPREAD_MS.
 */
function idleAfter(now: number, quietUntil: number | undefined, s: LoopSettings, deferred = false, quiet = false): LoopState {
  const tick = s.nextTick(now);
  const tickAt = tick + s.random() * s.jitterMs;
  const look = { ...lookAfter(now, s), ...(quiet ? { quiet: true as const } : {}) };
  if (quietUntil === undefined || quietUntil >= tick) return { kind: "idle", tickAt, ...look };
  const spread = s.random() * Math.min(deferred ? DEFERRED_SPREAD_MS : MAX_SPREAD_MS, s.heartbeatMs * WAKE_SPREAD);
  return { kind: "idle", tickAt, wakeAt: Math.max(quietUntil, now + WAKE_FLOOR_MS) + spread, ...look, ...(deferred ? { forTurn: true as const } : {}) };
}

/**
 * The next look, when the daemon looks: its pace counted from `from`, the start of the last look (its read was spent
 * then), or now. A look that takes long (a far hub: a round trip of the look's fetch, 0.4–0.6 s across an ocean) does not
 * stretch the pace: at most one look a pace still, and never two at once.
 */
function lookAfter(now: number, s: LoopSettings, from = now): { lookAt?: number } {
  const at = s.nextLook?.(from);
  return at !== undefined && Number.isFinite(at) ? { lookAt: Math.max(at, now) } : {};
}

/** Back to idle after a look, keeping the tick, the wake and the move's sync it had (or the one it saw: `movedAt`). */
function idleAfterLook(state: Extract<LoopState, { kind: "looking" }>, now: number, s: LoopSettings, movedAt = state.movedAt): LoopState {
  return {
    kind: "idle",
    tickAt: state.tickAt,
    ...wakeOf(state),
    ...lookAfter(now, s, state.since),
    ...(movedAt !== undefined ? { movedAt } : {}),
    ...(state.quiet ? { quiet: true as const } : {}),
  };
}

/** The wake a state keeps across a look: when, and whether it is a publish's turn. */
function wakeOf(state: { wakeAt?: number; forTurn?: true }): { wakeAt?: number; forTurn?: true } {
  return state.wakeAt === undefined ? {} : { wakeAt: state.wakeAt, ...(state.forTurn ? { forTurn: true as const } : {}) };
}

/** The sync a due wake starts: a publish's turn, or the quiet stamp's end. */
const wakeWhy = (state: { forTurn?: true }): Why => (state.forTurn ? "turn" : "wake");

/**
 * What a sync's end tells the loop of its quiet stamp (`quiet`: its end, and whether it ends for a publish that
 * waits) and of the publish its result says waits until `deferredAt` (ms): a sync that left no stamp (it did
 * something: a hook acknowledged messages, a warning) still wakes for what waits. A sync that ran work is followed
 * by another at once, which says.
 */
export function endOf(
  quiet: { until: number; deferred?: number; calm?: boolean } | undefined,
  deferredAt: number | undefined,
  ranWork: boolean,
): { quietUntil?: number; deferred?: true; quiet?: true } {
  if (ranWork) return {};
  const stamped = quiet?.calm ? { quiet: true as const } : {};
  const waits = deferredAt !== undefined && Number.isFinite(deferredAt) && (quiet === undefined || deferredAt < quiet.until);
  if (waits) return { quietUntil: deferredAt, deferred: true, ...stamped };
  if (!quiet) return {};
  return { quietUntil: quiet.until, ...(quiet.deferred !== undefined && quiet.deferred <= quiet.until ? { deferred: true as const } : {}), ...stamped };
}

/** When the loop next has something to do without being told (its one timer), or undefined: never. */
export function dueAt(state: LoopState): number | undefined {
  const at = timerOf(state);
  return at !== undefined && Number.isFinite(at) ? at : undefined;
}

function timerOf(state: LoopState): number | undefined {
  switch (state.kind) {
    case "idle":
      return Math.min(state.tickAt, state.wakeAt ?? Number.POSITIVE_INFINITY, state.lookAt ?? Number.POSITIVE_INFINITY, state.movedAt ?? Number.POSITIVE_INFINITY);
    case "poked":
      return Math.min(state.at, state.tickAt);
    case "stopping":
      if (!state.interrupted) return state.interruptAt;
      return state.gitKilled ? undefined : state.killGitAt;
    default:
      return undefined;
  }
}

/**
 * When the next sync starts by itself (daemon.json's nextSync), while none runs: the schedule's tick, or sooner the
 * wake for the quiet stamp's end (a heartbeat, a publish that waits), a poke's sync or a move's. Not what a look may
 * yet see: a look that sees a move syncs sooner.
 */
export function nextSyncAt(state: LoopState): number | undefined {
  switch (state.kind) {
    case "idle":
    case "looking":
      return Math.min(state.tickAt, state.wakeAt ?? Number.POSITIVE_INFINITY, state.movedAt ?? Number.POSITIVE_INFINITY);
    case "poked":
      return Math.min(state.tickAt, state.at);
    default:
      return undefined;
  }
}

export function step(state: LoopState, event: LoopEvent, now: number, s: LoopSettings): Step {
  const stay: Step = { state, actions: [] };
  switch (state.kind) {
    case "idle":
    case "poked":
      switch (event.type) {
        case "timer": {
          if (state.kind === "poked" && state.at <= now) return syncNow(now, "poked");
          if (state.kind === "idle" && state.wakeAt !== undefined && state.wakeAt <= now) return syncNow(now, wakeWhy(state));
          if (state.kind === "idle" && state.movedAt !== undefined && state.movedAt <= now) return syncNow(now, "moved", "the hub moved: syncing now");
          // A tick whose time has come; a timer that fired early (a long wait is cut in pieces) changes nothing.
          if (state.tickAt <= now) return syncNow(now, "tick");
          if (state.kind === "idle" && state.lookAt !== undefined && state.lookAt <= now)
            return {
              state: {
                kind: "looking",
                tickAt: state.tickAt,
                ...wakeOf(state),
                since: now,
                ...(state.movedAt !== undefined ? { movedAt: state.movedAt } : {}),
                ...(state.quiet ? { quiet: true as const } : {}),
              },
              actions: [{ type: "look" }],
            };
          return stay;
        }
        case "asked":
          return syncNow(now, "asked", "a sync was asked for: syncing now");
        case "publish":
          return publishNow(now, state.kind === "idle" && state.movedAt !== undefined);
        case "poked":
          // A move's sync, due sooner, publishes the service's change too; a later one is this sync (it fetches).
          if (state.kind === "idle" && state.movedAt !== undefined && state.movedAt <= now + POKE_MS) return stay;
          return { state: { kind: "poked", tickAt: state.tickAt, at: now + POKE_MS }, actions: [] };
        case "stop":
          return { state: { kind: "stopped" }, actions: [] };
        case "ended":
        case "looked":
          return stay; // no sync or look runs
      }
      break;
    case "looking":
      switch (event.type) {
        case "timer":
        case "ended":
          return stay; // the look ends first: it is short (one fetch of refs), and bounded by the git timeout
        case "asked":
          return { state: { ...state, afterLook: "asked" }, actions: [] };
        case "poked":
          // A publish after the look publishes the service's change too (every sync refreshes the services first).
          return state.afterLook ? stay : { state: { ...state, afterLook: "poked" }, actions: [] };
        case "publish":
          return state.afterLook ? stay : { state: { ...state, afterLook: "publish" }, actions: [] };
        case "stop":
          return { state: { kind: "stopped" }, actions: [] }; // a look changes nothing: it is left behind
        case "looked":
          if (event.moved) {
            if (event.addressed) return syncNow(now, "moved", "the hub moved with a wake for this machine: syncing now");
            if (state.afterLook === "asked") return syncNow(now, "asked", "a sync was asked for: syncing now");
            if (state.afterLook === "publish") return publishNow(now, true);
            // Quiet, another machine's claim, result or heartbeat changes nothing here (what is for it wakes it, or the
            // fleet): synced only within QUIET_OTHERS_MS, for a sender that could not wake it (a host that refused its
            // wake, an older coord), however many such moves come meanwhile.
            const quietOthers = event.othersOnly && state.quiet;
            // A service's change is published by the move's sync if that comes soon, else by its own in POKE_MS.
            const spread = quietOthers ? QUIET_OTHERS_MS * (0.5 + 0.5 * s.random()) : s.random() * (s.moveSpreadMs ?? 0);
            const movedAt = Math.min(state.movedAt ?? Number.POSITIVE_INFINITY, now + spread);
            if (movedAt - now < 1) return syncNow(now, "moved", "the hub moved: syncing now");
            if (state.afterLook === "poked" && movedAt > now + POKE_MS) return { state: { kind: "poked", tickAt: state.tickAt, at: now + POKE_MS }, actions: [] };
            if (state.wakeAt !== undefined && state.wakeAt <= now) return syncNow(now, wakeWhy(state));
            return { state: idleAfterLook(state, now, s, movedAt), actions: [] };
          }
          if (state.afterLook === "asked") return syncNow(now, "asked", "a sync was asked for: syncing now");
          if (state.afterLook === "publish") return publishNow(now, state.movedAt !== undefined);
          if (state.afterLook === "poked") return { state: { kind: "poked", tickAt: state.tickAt, at: now + POKE_MS }, actions: [] };
          if (state.wakeAt !== undefined && state.wakeAt <= now) return syncNow(now, wakeWhy(state));
          if (state.movedAt !== undefined && state.movedAt <= now) return syncNow(now, "moved", "the hub moved: syncing now");
          if (state.tickAt <= now) return syncNow(now, "tick");
          return { state: idleAfterLook(state, now, s), actions: [] };
      }
      break;
    case "syncing":
    case "asked":
      switch (event.type) {
        case "timer":
        case "looked":
          return stay;
        case "asked":
          return { state: { kind: "asked", since: state.since, by: "asked" }, actions: [log("a sync was asked for: syncing again when this one ends")] };
        case "poked":
          return state.kind === "asked" ? stay : { state: { kind: "asked", since: state.since, by: "poked" }, actions: [] };
        case "publish":
          // A sync asked for (or a service's change) after this one fetches, and publishes it too.
          return state.kind === "asked"
            ? stay
            : { state: { kind: "asked", since: state.since, by: "publish" }, actions: [log("something to publish: publishing it when this sync ends, on the tip it ends on")] };
        case "stop":
          return {
            state: { kind: "stopping", interruptAt: now + s.graceMs, killGitAt: now + s.graceMs + s.killGitMs, interrupted: false, gitKilled: false },
            actions: [log(`stopping: waiting up to ${Math.round(s.graceMs / 1000)}s for the running sync`)],
          };
        case "ended":
          if (event.ranWork) return syncNow(now, "ran work", "ran work: syncing again at once for more");
          if (event.newerTip) return syncNow(now, "moved", "the hub moved during the sync: syncing again for what it brought");
          if (state.kind === "asked") {
            if (state.by === "asked") return syncNow(now, "asked", "a sync was asked for meanwhile: syncing again");
            if (state.by === "publish") return syncNow(now, "publish", "publishing what was stored meanwhile, on the tip the sync ended on");
            return syncNow(now, "poked", "a service changed: syncing again to publish it");
          }
          return { state: idleAfter(now, event.quietUntil, s, event.deferred === true, event.quiet === true), actions: [] };
      }
      break;
    case "stopping":
      switch (event.type) {
        case "timer": {
          const actions: LoopAction[] = [];
          const next = { ...state };
          if (!next.interrupted && next.interruptAt <= now) {
            next.interrupted = true;
            actions.push({ type: "interrupt" });
          }
          if (next.interrupted && !next.gitKilled && next.killGitAt <= now) {
            next.gitKilled = true;
            actions.push({ type: "killGit" });
          }
          return { state: next, actions };
        }
        case "ended":
          return { state: { kind: "stopped" }, actions: [] };
        default:
          return stay; // asks and pokes while stopping start nothing
      }
    case "stopped":
      return stay;
  }
  return stay;
}
