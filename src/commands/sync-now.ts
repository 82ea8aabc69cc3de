// A sync now, for a command that has just journaled something (coord mcp):
// the daemon of the checkout is asked for one when it runs (it syncs at once,
// or right after the sync it is in); otherwise this process runs one that
// publishes and receives but starts no task (as `coord send --now` does),
// waiting a bounded time for a sync another process holds the checkout with.
import { readDaemonInfo, daemonRunning } from "../daemon/daemon.js";
import { requestSync } from "../daemon/request.js";
import { plural } from "../core/limits.js";
import { CoordError, EXIT } from "../errors.js";
import { type Machine, syncMachine } from "../sync/sync.js";
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
