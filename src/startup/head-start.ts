// The head start handed to a `coord sync` of the command line: the fetch that
// src/cli/entry.ts started before the CLI loaded (prefetch.ts), taken where
// the cycle would fetch. Loaded with the CLI, not before it (prefetch.ts
// stays light); the sync knows only that its caller fetched something.
import { isTimeout } from "../git/git.js";
import { startedFor, takePrefetch } from "./prefetch.js";

/** What a head start needs of the machine the sync opened (sync/machine.ts GitMachine). */
export interface Taker {
  config: { remote: string; branch: string };
  repo: { trackingRefIs(tip: string): Promise<boolean>; fetchFailure(e: unknown): Promise<Error> };
}

/** What the sync of `dir` is handed: nothing when no head start was started for it. */
export interface HeadStart {
  /** The quiet stamp was asked a moment ago, before the CLI loaded, and it said no: not a second time. */
  full?: true;
  /** The head start's tip, asked under the sync's lock; undefined: the cycle fetches itself. */
  headStart?: (m: Taker) => Promise<string | undefined>;
}

/** The head start of a `coord sync` of `dir`, if src/cli/entry.ts started one. */
export function headStartFor(dir: string): HeadStart {
  if (!startedFor(dir)) return {};
  return {
    full: true,
    headStart: async (m) => {
      const pre = await takePrefetch(dir, m.config.remote, m.config.branch);
      if (!pre) return undefined;
      // A remote that did not answer in time is not waited for a second time; any other failure: the cycle fetches and says why.
      if ("error" in pre) {
        if (isTimeout(pre.error)) throw await m.repo.fetchFailure(pre.error);
        return undefined;
      }
      // Another sync of this checkout (its daemon) fetched or pushed since: the head start is old, the cycle fetches.
      return (await m.repo.trackingRefIs(pre.tip)) ? pre.tip : undefined;
    },
  };
}
