// "Sync now", asked of a running daemon: a command (coord mcp's sync tool)
// writes a small file into the checkout's local state; the daemon watches
// the state directory and syncs at once (or right after the sync it is in).
// The asker knows its answer by daemon.json: a sync that started after the
// request has everything the asker had journaled before it. A command that
// only stored something to push (coord send's message) asks for a publish
// instead, in a file of its own: the daemon builds it on the tip it last saw,
// without fetching first (core/machine/daemon-loop.ts "publish").
import { type FSWatcher, watch } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { writeDurably } from "../state/files.js";

/** The request file in the local state: when and by which process the last sync was asked for. */
export const SYNC_REQUEST = "sync-request";
/** The file of a request for a publish (something stored to push, nothing to fetch): when and by which process. */
export const PUBLISH_REQUEST = "publish-request";

/** What was asked: a sync, or a publish only (a sync that builds on the tip last seen instead of fetching). */
export type RequestKind = "sync" | "publish";

/**
 * Asks the daemon of this checkout for a sync now (or, `kind` "publish", for a publish of what was stored); the
 * moment asked (a sync that started at or after it answers).
 */
export async function requestSync(stateDir: string, now = new Date(), kind: RequestKind = "sync"): Promise<Date> {
  await writeDurably(join(stateDir, kind === "publish" ? PUBLISH_REQUEST : SYNC_REQUEST), `${now.toISOString()} ${process.pid}\n`);
  return now;
}

/** How often the request file is looked at when the directory cannot be watched (no inotify watch left). */
const POLL_MS = 2_000;

/**
 * Calls `onRequest` whenever a sync (or a publish) is asked for, until closed. The state directory is watched (the
 * files are written by a rename, which a watch of the file itself would miss); when it cannot be (or with `poll`),
 * the files' times are looked at every 2 s instead.
 */
export function watchSyncRequests(
  stateDir: string,
  onRequest: (kind: RequestKind) => void,
  log: (line: string) => void,
  opts: { poll?: boolean; pollMs?: number } = {},
): { close(): void } {
  const every = opts.pollMs ?? POLL_MS;
  const files: [RequestKind, string][] = [
    ["sync", SYNC_REQUEST],
    ["publish", PUBLISH_REQUEST],
  ];
  let watcher: FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  const seen = new Map<RequestKind, number>();
  let closed = false;
  const changed = async (kind: RequestKind, name: string) => {
    const mtime = (await stat(join(stateDir, name)).catch(() => undefined))?.mtimeMs;
    if (mtime === undefined || mtime === seen.get(kind)) return false;
    seen.set(kind, mtime);
    return true;
  };
  // What is there at the start was answered by the daemon before (or is older than this one): not a request.
  const ready = Promise.all(files.map(([kind, name]) => changed(kind, name).catch(() => false)));
  const fire = (which: [RequestKind, string][]) =>
    void ready.then(async () => {
      for (const [kind, name] of which) if (!closed && (await changed(kind, name))) onRequest(kind);
    });
  const startPolling = () => {
    if (poll || closed) return;
    poll = setInterval(() => fire(files), every);
    poll.unref();
  };
  if (opts.poll) startPolling();
  else
    try {
      watcher = watch(stateDir, { persistent: false }, (_event, name) => {
        const file = files.filter(([, n]) => n === name);
        if (file.length) fire(file);
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
