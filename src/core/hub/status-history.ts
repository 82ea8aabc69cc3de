// The bounded history of the machines' branch: how deep it is and since when
// (a trailer every machine commit carries, so that no one has to walk the
// history, a shallow checkout neither), what ORDERS.json's "hub" section
// allows, and when the next publish replaces the branch with a new root
// commit holding the same tree. Pure: the commit message and the clock come in.
import { formatDuration, parseDuration } from "../time/duration.js";
import { isRecord } from "../types.js";

/** The trailer: `Coord-History: <depth> <since>`, the commits from the branch's root to this one, and the root's time (ISO). */
export const HISTORY_TRAILER = "Coord-History";

/** How deep the machines' branch is at a commit, and since when. */
export interface HistoryMark {
  /** Commits from the root to this one, both counted. */
  depth: number;
  /** When its root was made. */
  since: Date;
}

/** What the branch may hold before it is replaced: at most `commits`, none older than `seconds`; `keep`: the old history stays under a ref. */
export interface HistoryLimit {
  commits?: number;
  seconds?: number;
  keep: boolean;
}

/** The default: 10,000 commits or 7 days, whichever comes first; the old history dropped. */
export const DEFAULT_HISTORY: HistoryLimit = { commits: 10_000, seconds: 7 * 86_400, keep: false };

/** The fewest commits a limit may say: fewer would replace the branch at nearly every publish. */
export const MIN_HISTORY_COMMITS = 10;
/** The shortest age a limit may say: an hour. */
export const MIN_HISTORY_SECONDS = 3600;

/** The trailer line of `mark`. */
export function historyTrailer(mark: HistoryMark): string {
  return `${HISTORY_TRAILER}: ${mark.depth} ${mark.since.toISOString()}`;
}

/** The mark a commit message's trailer says, or undefined (none, or not one coord wrote). */
export function parseHistoryTrailer(message: string): HistoryMark | undefined {
  const m = new RegExp(`^${HISTORY_TRAILER}: (\\d{1,9}) (\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d{1,3})?Z)$`, "m").exec(message);
  if (!m) return undefined;
  const since = new Date(m[2]!);
  const depth = Number(m[1]);
  return depth >= 1 && !Number.isNaN(since.getTime()) ? { depth, since } : undefined;
}

/**
 * The limit ORDERS.json's `"hub": {"statusHistory": …, "keepStatusHistory": …}` says: a number is a count of
 * commits, a duration ("7d") an age; unset, the default. Read leniently, as the fleet controls are: a value
 * that is not one is the default (the schema reports it).
 */
export function historyLimitOf(data: unknown): HistoryLimit {
  const hub = isRecord(data) ? data.hub : undefined;
  if (!isRecord(hub)) return DEFAULT_HISTORY;
  const keep = hub.keepStatusHistory === true;
  const v = hub.statusHistory;
  if (typeof v === "number" && Number.isInteger(v) && v >= MIN_HISTORY_COMMITS) return { commits: v, keep };
  if (typeof v === "string") {
    const seconds = parseDuration(v);
    if (seconds !== undefined && seconds >= MIN_HISTORY_SECONDS) return { seconds, keep };
  }
  return { ...DEFAULT_HISTORY, keep };
}

/**
 * The mark of a commit on top of one marked `parent` (undefined: the branch starts here), and whether it must
 * be a new root instead: when the branch would pass the limit. A new root has depth 1, since now.
 */
export function nextHistory(parent: HistoryMark | undefined, limit: HistoryLimit, now: Date): { mark: HistoryMark; newRoot: boolean } {
  if (!parent) return { mark: { depth: 1, since: now }, newRoot: false };
  const tooDeep = limit.commits !== undefined && parent.depth + 1 > limit.commits;
  const tooOld = limit.seconds !== undefined && now.getTime() - parent.since.getTime() > limit.seconds * 1000;
  if (tooDeep || tooOld) return { mark: { depth: 1, since: now }, newRoot: true };
  return { mark: { depth: parent.depth + 1, since: parent.since }, newRoot: false };
}

/** The ref the history before a new root is kept under (keepStatusHistory): refs/coord-history/<time of the replacement>. */
export function keptHistoryRef(now: Date): string {
  return `refs/coord-history/${now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}`;
}

/** The limit in words: "50 commits", "7d", "10000 commits or 7d". */
export function describeHistoryLimit(limit: HistoryLimit): string {
  const parts = [...(limit.commits !== undefined ? [`${limit.commits} commits`] : []), ...(limit.seconds !== undefined ? [formatDuration(limit.seconds)] : [])];
  return parts.join(" or ");
}
