// A sync now, for a command that has just journaled something (coord mcp):
// the daemon of the checkout is asked for one when it runs (it syncs at once,
// or right after the sync it is in); otherwise this process runs one that
// publishes and receives but starts no task (as `coord send --now` does),
// waiting a bounded time for a sync another process holds the checkout with.
import { readDaemonInfo, daemonRunning } from "./daemon.js";
import { requestSync } from "./request.js";
import { plural } from "../core/limits.js";
import { CoordError, EXIT, RemoteUnreachable } from "../errors.js";
import { readHealth } from "../state/health.js";
import { describeFailure } from "../failure.js";
import { type Machine, type SyncResult, syncMachine } from "../sync/sync.js";
import { publishedText } from "../sync/result.js";

export interface SyncNowResult {
  /** Who synced: the checkout's daemon, or this process. */
  by: "daemon" | "here";
  /** False when the daemon had not finished the sync asked for within the wait (it still will). */
  done: boolean;
  /** The commit pushed (none when there was nothing to publish). */
  pushed?: string;
  /** Messages delivered to this machine by that sync (ids). */
  delivered: string[];
  /** Tasks it ran (a daemon's sync runs work; this process's starts none). */
  ran: { id: string; state: string }[];
  /** One sentence: what happened. */
  summary: string;
}

export interface SyncNowOptions {
  /** How long to wait for the daemon's answer, or for another process's sync to end (ms). */
  waitMs?: number;
  log?: (line: string) => void;
  /** How often to look again (ms). */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function syncNow(m: Machine, opts: SyncNowOptions = {}): Promise<SyncNowResult> {
  const waitMs = opts.waitMs ?? 30_000;
  const pollMs = opts.pollMs ?? 100;
  const deadline = Date.now() + waitMs;
  if (await daemonRunning(m.stateDir)) {
    const asked = await requestSync(m.stateDir);
    for (;;) {
      const info = await readDaemonInfo(m.stateDir);
      const last = info?.lastSync;
      if (last?.startedAt && Date.parse(last.startedAt) >= asked.getTime()) {
        if (!last.ok) throw new CoordError(`the daemon's sync failed: ${last.error ?? "no reason given"}; what was journaled goes out with its next sync`, EXIT.FAILURE);
        return {
          by: "daemon",
          done: true,
          ...(last.pushed ? { pushed: last.pushed } : {}),
          delivered: last.delivered ?? [],
          ran: last.ran ?? [],
          summary: `the daemon synced: ${last.summary}`,
        };
      }
      if (Date.now() >= deadline) {
        const since = info?.syncingSince;
        return {
          by: "daemon",
          done: false,
          delivered: [],
          ran: [],
          summary: since
            ? `asked the daemon for a sync; it is in one since ${since} (it runs work) and syncs again right after it; what was journaled goes out then`
            : `asked the daemon for a sync; it has not answered within ${Math.round(waitMs / 1000)} s (see coord daemon status); what was journaled goes out with its next sync`,
        };
      }
      await sleep(pollMs);
    }
  }
  for (;;) {
    const r = await syncMachine(m, { run: false, ...(opts.log ? { log: opts.log } : {}) });
    if (!r.skipped) {
      const parts = [publishedText(r), plural(r.delivered.length, "new message")];
      return { by: "here", done: true, ...(r.pushed ? { pushed: r.pushed } : {}), delivered: r.delivered, ran: [], summary: `synced (no task started): ${parts.join(", ")}` };
    }
    if (Date.now() >= deadline)
      throw new CoordError(
        `another coord process has been syncing this checkout for over ${Math.round(waitMs / 1000)} s; what was journaled is kept and goes out with that sync or the next one, so try again later`,
        EXIT.FAILURE,
      );
    await sleep(Math.max(pollMs, 250));
  }
}

/**
 * What a default publish did (`publishSoon`): asked the daemon (it syncs at once, or once right after the sync it
 * is in, so what is written meanwhile goes in one push); synced here; left it to a sync that holds the checkout
 * (the one this process runs in, or another's beyond the wait); or failed (the hub did not answer): whatever it
 * did, what was stored stands and a later sync publishes it.
 */
export type Soon = { by: "daemon"; down?: HubDown } | { by: "here"; result: SyncResult } | { by: "running" } | { by: "failed"; why: string; unreachable?: true };

/**
 * The hub could not be reached at the daemon's last sync or look (health.json, daemon.json): as of when, why, and the
 * daemon's schedule and next sync (when what is stored goes out, once the hub answers).
 */
export interface HubDown {
  at: string;
  error: string;
  schedule?: string;
  nextSync?: string;
}

/** Whether the daemon's last sync or look found the hub unreachable (and no sync reached it since). */
export async function hubDownAsDaemonSaw(stateDir: string): Promise<HubDown | undefined> {
  const info = await readDaemonInfo(stateDir).catch(() => undefined);
  const health = await readHealth(stateDir).catch(() => undefined);
  const pace = { ...(info?.schedule ? { schedule: info.schedule } : {}), ...(info?.nextSync ? { nextSync: info.nextSync } : {}) };
  if (health && health.failures > 0 && health.unreachable && health.lastFailureAt) return { at: health.lastFailureAt, error: health.lastError ?? "no reason given", ...pace };
  if (info?.lookFailed) return { ...info.lookFailed, ...pace };
  return undefined;
}

/** This process runs inside a sync of machine `name` (its onMessage hook, or a task it started): that sync holds the lock, and publishes after it. */
function insideSyncOf(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return env.COORD_MACHINE === name && (env.COORD_MESSAGE_ID !== undefined || env.COORD_TASK !== undefined);
}

/**
 * How long a default publish waits for another process's sync of the checkout: a sync that only publishes (another
 * send) ends within it; a longer one runs work, and its own publish, at its end, takes what was stored meanwhile.
 */
export const SOON_WAIT_MS = 5_000;

/**
 * Publishes soon what was just stored, without failing: the checkout's daemon is asked for a publish when one runs
 * (daemon/request.ts; this returns at once); otherwise a sync here that starts no task, retried while another process holds the checkout, up
 * to `waitMs` (SOON_WAIT_MS). Within the push budget as ever: the sync's judge step decides.
 */
export async function publishSoon(m: Machine, opts: Omit<SyncNowOptions, "log"> = {}): Promise<Soon> {
  const waitMs = opts.waitMs ?? SOON_WAIT_MS;
  const pollMs = Math.max(opts.pollMs ?? 250, 50);
  const deadline = Date.now() + waitMs;
  try {
    if (await daemonRunning(m.stateDir)) {
      // Only something stored to push: the daemon builds it on the tip it last saw, without fetching first.
      const down = await hubDownAsDaemonSaw(m.stateDir);
      await requestSync(m.stateDir, new Date(), "publish");
      return { by: "daemon", ...(down ? { down } : {}) };
    }
    for (let tries = 0; ; tries++) {
      const r = await syncMachine(m, { run: false });
      if (!r.skipped) return { by: "here", result: r };
      // The sync holding the checkout is the one this process runs in (it waits for this one): it publishes after.
      if (insideSyncOf(m.config.name) || Date.now() >= deadline || tries > waitMs / 50) return { by: "running" };
      await sleep(pollMs);
    }
  } catch (e) {
    return { by: "failed", why: describeFailure(e).message.replace(/[.;]?\s*$/, ""), ...(e instanceof RemoteUnreachable ? { unreachable: true as const } : {}) };
  }
}

/** A default publish in words, after "sent …; ". */
export function soonText(s: Soon): string {
  if (s.by === "daemon" && s.down) {
    const { at, error, schedule, nextSync } = s.down;
    const pace = schedule ? ` (it tries again at each tick of its schedule "${schedule}"${nextSync ? `, next at ${nextSync}` : ""}, and with each message sent meanwhile)` : "";
    return `the hub cannot be reached (as of the daemon's last try, at ${at}: ${error.replace(/[.;]?\s*$/, "")}): it is kept here and goes out with the daemon's first sync that reaches the hub${pace}; coord daemon status shows it`;
  }
  if (s.by === "daemon") return "the daemon publishes it now";
  if (s.by === "here") return s.result.pushed || s.result.deferred ? publishedText(s.result) : "already published (by another sync)";
  if (s.by === "running") return "a sync of this checkout is running; it goes out with that one or the next";
  if (s.unreachable)
    return `the hub cannot be reached (${s.why}): it is kept here and goes out with the first sync that reaches the hub (no daemon runs here: coord sync, or coord daemon start to retry on a schedule)`;
  return `could not publish it now (${s.why}); it goes out with the next sync`;
}
