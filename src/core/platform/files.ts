// What a rename meets on each system. On Windows a file that another process
// holds open (an antivirus scan, the search indexer, an editor) cannot be
// replaced for a moment: the rename fails with EPERM, EACCES or EBUSY, and
// the same rename a few milliseconds later succeeds. graceful-fs retries
// these for up to 60 s; coord's renames are of its own small state files,
// behind a lock, so it retries for up to 10 s, 10 ms more each time up to
// 100 ms, and then gives the error. Elsewhere a rename is answered at once.

/** The errors of a Windows rename that a moment cures. */
const PASSING = new Set(["EPERM", "EACCES", "EBUSY"]);
/** How long a rename is tried again, at most (ms). */
export const RENAME_RETRY_MS = 10_000;

/** After failing with `code` at try `attempt` (0: the first), `elapsedMs` after the first: wait this long and try again, or give up (undefined). */
export function renameRetryAfter(platform: NodeJS.Platform, code: string | undefined, attempt: number, elapsedMs: number): number | undefined {
  if (platform !== "win32" || code === undefined || !PASSING.has(code)) return undefined;
  if (elapsedMs >= RENAME_RETRY_MS) return undefined;
  return Math.min(100, 10 * (attempt + 1));
}

/**
 * What git is told of a repository coord makes (a machine's checkout, an order's scratch repository): on Windows,
 * `core.longpaths`, so that Git for Windows works with paths past the 260 characters of Windows' old limit (a
 * checkout in a deep folder, an agent's files in `.git/coord/agents/<id>/`); elsewhere nothing.
 */
export function repositorySettings(platform: NodeJS.Platform): string[] {
  return platform === "win32" ? ["core.longpaths=true"] : [];
}
