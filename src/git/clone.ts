// git clone as coord runs it, light to load: coord init's clone may start
// before the CLI loads (src/commands/early-clone.ts).
import { gitClient } from "./client.js";

export interface CloneOptions {
  /** Where git runs (its config and ssh command are this directory's); default the process's. */
  cwd?: string;
  /** Seconds the clone may take; default DEFAULT_GIT_TIMEOUT (client.ts). */
  timeout?: number;
  /** The remote's name in the clone; default origin. */
  origin?: string;
  /** Aborting kills the clone (git removes what it made). */
  signal?: AbortSignal;
}

/**
 * A machine's checkout of `remote` in `dir` (relative paths from `cwd`): its
 * `branch` alone, no tags, and over a URL only the newest commit
 * (`--depth 1`), so a clone costs the same whatever the history's length;
 * older commits are fetched when a question needs them (src/git/history.ts).
 * A hub on a local path git clones whole whatever is asked (it ignores
 * --depth and hard-links the objects: faster still, and complete). A remote
 * without `branch` yet (an empty hub) is cloned as it is.
 */
export async function cloneCheckout(remote: string, dir: string, branch: string, opts: CloneOptions = {}): Promise<void> {
  const git = gitClient(opts.cwd ?? process.cwd(), opts);
  const args = ["clone", "--quiet", "--depth", "1", "--no-tags", ...(opts.origin ? ["--origin", opts.origin] : [])];
  try {
    await git.raw([...args, "--branch", branch, remote, dir]);
  } catch (e) {
    // No such branch yet: the remote as it is (git cleared what the failed clone left in `dir`).
    if (!/remote branch .* not found|could not find remote branch/i.test(String((e as Error).message))) throw e;
    await git.raw([...args, remote, dir]);
  }
}
