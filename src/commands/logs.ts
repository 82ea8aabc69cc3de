// coord logs [-f] [--json] [-n N]: this machine's own log (syncs and tasks),
// from <checkout>/.git/coord/coord.log and its rotated files.
import { followLogs } from "../state/log-follow.js";
import { formatLogRecord, type LogRecord, logPath, readLogsWithPosition } from "../state/logs.js";
import { stateDirOf } from "../state/paths.js";

export interface LogsOptions {
  /** Keep printing new records until `signal` aborts. */
  follow?: boolean;
  /** Raw JSON lines instead of human lines. */
  json?: boolean;
  /** Only the last N records (before following); all when absent. */
  limit?: number;
  out: (line: string) => void;
  /** Ends a follow; without one, a follow runs until the process ends. */
  signal?: AbortSignal;
  /** Poll interval of a follow, in ms (200). */
  intervalMs?: number;
  /** Told once a follow is live (the records before it printed, every later one to come): "following <log> — Ctrl-C to stop". */
  ready?: (line: string) => void;
}

export async function logs(dir: string, opts: LogsOptions): Promise<void> {
  const stateDir = await stateDirOf(dir);
  const show = (r: LogRecord) => opts.out(opts.json ? JSON.stringify(r) : formatLogRecord(r));
  const { records, position } = await readLogsWithPosition(stateDir, opts.limit !== undefined ? { limit: opts.limit } : {});
  for (const r of records) show(r);
  if (!opts.follow) return;
  const signal = opts.signal ?? new AbortController().signal;
  // From `position` on: a record appended since the read above is printed too.
  opts.ready?.(`following ${logPath(stateDir)} — Ctrl-C to stop`);
  await followLogs(stateDir, show, signal, { since: position, ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}) });
}
