// "Sync now", asked of a running daemon: a command (coord mcp's sync tool)
// writes a small file into the checkout's local state; the daemon watches
// the state directory and syncs at once (or right after the sync it is in).
// The asker knows its answer by daemon.json: a sync that started after the
// request has everything the asker had journaled before it.
import { type FSWatcher, watch } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { writeDurably } from "../state/files.js";

/** The request file in the local state: when and by which process the last sync was asked for. */
export const SYNC_REQUEST = "sync-request";

/** Asks the daemon of this checkout for a sync now; the moment asked (a sync that started at or after it answers). */
export async function requestSync(stateDir: string, now = new Date()): Promise<Date> {
  await writeDurably(join(stateDir, SYNC_REQUEST), `${now.toISOString()} ${process.pid}\n`);
  return now;
}

/** How often the request file is looked at when the directory cannot be watched (no inotify watch left). */
const POLL_MS = 2_000;

/**
 * Calls `onRequest` whenever a sync is asked for, until closed. The state directory is watched (the file is
 * written by a rename, which a watch of the file itself would miss); when it cannot be (or with `poll`), the
 * file's time is looked at every 2 s instead.
 */
export function watchSyncRequests(stateDir: string, onRequest: () => void, log: (line: string) => void, opts: { poll?: boolean; pollMs?: number } = {}): { close(): void } {
  const every = opts.pollMs ?? POLL_MS;
  const path = join(stateDir, SYNC_REQUEST);
  let watcher: FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  let seen: number | undefined;
  let closed = false;
  const changed = async () => {
    const mtime = (await stat(path).catch(() => undefined))?.mtimeMs;
    if (mtime === undefined || mtime === seen) return false;
    seen = mtime;
    return true;
  };
  // What is there at the start was answered by the daemon before (or is older than this one): not a request.
  const ready = changed().catch(() => false);
  const fire = () =>
    void ready.then(async () => {
      if (!closed && (await changed())) onRequest();
    });
  const startPolling = () => {
    if (poll || closed) return;
    poll = setInterval(fire, every);
    poll.unref();
  };
  if (opts.poll) startPolling();
  else
    try {
      watcher = watch(stateDir, { persistent: false }, (_event, name) => {
        if (name === SYNC_REQUEST) fire();
      });
      watcher.on("error", (e) => {
        log(`cannot watch ${stateDir} for sync requests (${(e as Error).message}); looking every ${every / 1000} s instead`);
        watcher?.close();
        watcher = undefined;
        startPolling();
      });
    } catch (e) {
      log(`cannot watch ${stateDir} for sync requests (${(e as Error).message}); looking every ${every / 1000} s instead`);
      startPolling();
    }
  return {
    close: () => {
      closed = true;
      watcher?.close();
      clearInterval(poll);
    },
  };
}
