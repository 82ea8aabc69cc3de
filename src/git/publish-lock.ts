// One publish at a time on a hub on this machine's disk. Machines that share a
// hub on a path (several checkouts, agents, on one computer) see each move at
// once and push together: every push is a compare-and-swap, one lands in each
// round and the others fetch and build again, each try a handful of git
// processes on the same cores. A round then takes as long as five tries at
// once, and a burst of work costs a round a push. An advisory lock in the hub's
// git directory (`coord-publish.lock`, proper-lockfile's: a directory, its time
// kept fresh while held) lets one machine at a time fetch, build and push: the
// others sleep meanwhile, and a try lands in the time of one.
//
// It is only a courtesy among machines: the push stays a compare-and-swap, so
// a machine that goes without it (a lock it cannot make, one held past
// PUBLISH_LOCK_WAIT_MS, an older coord) is still never wrong, at worst it races.
// A holder killed with -9 leaves a lock that is taken over once stale.
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import lockfile from "proper-lockfile";

/** How long a publish waits for another machine's try (ms) before it goes without the lock: a few tries' worth. */
export const PUBLISH_LOCK_WAIT_MS = 3_000;
/** A lock not kept fresh for this long (ms) is its dead holder's (proper-lockfile's stale; its holder touches it every third). */
const STALE_MS = 6_000;
/** Between two asks (ms, at random up to twice this): short against a try of a few hundred ms. */
const POLL_MS = 15;

/**
 * The git directory of the hub at `url` (a path or file://, relative to the checkout `dir`): a bare hub is its own,
 * a hub with a work tree keeps it in `.git`.
 */
async function hubGitDir(dir: string, url: string): Promise<string> {
  const path = resolve(dir, url.replace(/^file:\/\//i, ""));
  const dotGit = join(path, ".git");
  return (await stat(dotGit)
    .then((s) => s.isDirectory())
    .catch(() => false))
    ? dotGit
    : path;
}

/**
 * Takes the publish lock of the hub at `url` (a hub on a path: hostOfUrl's "local"), waiting for another machine's
 * try at most `waitMs`. Returns its release, or undefined: go without it (held all that time, or it cannot be made
 * here: a hub not writable, gone, odd). Never throws.
 */
export async function publishLock(dir: string, url: string, waitMs = PUBLISH_LOCK_WAIT_MS): Promise<(() => Promise<void>) | undefined> {
  const until = Date.now() + waitMs;
  let gitDir: string;
  try {
    gitDir = await hubGitDir(dir, url);
  } catch {
    return undefined;
  }
  for (;;) {
    try {
      const release = await lockfile.lock(join(gitDir, "coord-publish"), {
        realpath: false,
        stale: STALE_MS,
        update: STALE_MS / 3,
        retries: 0,
        // The default throws from a timer. A lock lost meanwhile (the process frozen past STALE_MS) is no harm:
        // another machine's try goes too, and the compare-and-swap decides.
        onCompromised: () => {},
      });
      return () => release().catch(() => {});
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ELOCKED" || Date.now() >= until) return undefined;
    }
    await new Promise((r) => setTimeout(r, POLL_MS * (0.5 + Math.random() * 1.5)));
  }
}
