// Publishing as compare-and-swap: a commit built on the tip that was read is
// pushed without force; a rejected push (someone pushed first) is redone on
// the new tip after a backoff. The one loop every writer of the hub uses: a
// sync's publish, `coord order --human`, `coord watch`.
import { type Backoff, contentionDelay, PUSH_BACKOFF } from "../core/time/backoff.js";
import { notOwned } from "../core/trust/ownership.js";
import { type HistoryMark, historyTrailer } from "../core/hub/status-history.js";
import { printablePath } from "../core/repo/repo.js";
import { CoordError, EXIT } from "../errors.js";
import { machineAuthor } from "../git/git.js";
import { type Hub, ORDERS_TRAILER, type PublishTurn, splitTip } from "../git/hub.js";

/**
 * One try: a commit to push, built on what `read` found, or an outcome that needs no push (nothing changed,
 * refused). `meanwhile`: work for after a landed push that is done while git pushes (undone by a rejection).
 */
export type Built<T> = { commit: string; landed: () => Promise<T>; meanwhile?: () => void } | { done: T };

export interface CasSteps<T> {
  /**
   * Reads the tip (fetching from the second try on, or when the caller has nothing read yet, or when `turn` says
   * the hub moved) and builds what to push on it.
   */
  attempt(n: number, turn?: PublishTurn): Promise<Built<T>>;
  /** Pushes without force; false: the remote moved (someone pushed first). */
  push(commit: string): Promise<boolean>;
  /** Said after a rejected push, before waiting; `failed`: the push failed (a stale try's), it did not lose a race. */
  rejected?(n: number, failed?: unknown): void;
  /**
   * Whether try `n` was built on a tip known to be old (no fetch before it): its rejection is no contention,
   * and the next try comes at once; a push of it that fails (the hub gone meanwhile) counts as rejected too,
   * so the next try, which fetches, says what is wrong.
   */
  stale?(n: number): boolean;
  /** The failure after the last rejected push: `attempts` pushes rejected in `elapsedMs`. */
  gaveUp(attempts: number, elapsedMs: number): Error;
  /**
   * Waits for this writer's turn among those of the same hub (Hub.exclusive: a hub on this machine's disk) and
   * returns its release; held for one try, its build and its push. Undefined: no turn to wait for.
   */
  exclusive?(): Promise<PublishTurn | undefined>;
}

export interface CasOptions {
  /**
   * How long to keep trying (ms, from the first build): after a rejected
   * push the loop waits and tries again unless that wait would end past the
   * budget. Pushes that keep losing to others' progress are retried for this
   * long; a machine does not give up after a count of them.
   */
  budgetMs: number;
  /** A bound on pushes whatever the budget (every loop has one). */
  maxAttempts?: number;
  backoff?: Backoff;
  sleep?: (ms: number) => Promise<unknown>;
  random?: () => number;
  /** Milliseconds, for the budget. */
  now?: () => number;
}

/** The push budget of a sync, `coord order` and `coord watch` (ms): a minute of lost races. */
export const PUSH_BUDGET_MS = 60_000;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds on the tip and pushes until a push lands or nothing needs one, for at most `budgetMs`. */
export async function publishWithRetry<T>(
  steps: CasSteps<T>,
  { budgetMs, maxAttempts = 10_000, backoff = PUSH_BACKOFF, sleep = pause, random = Math.random, now = () => performance.now() }: CasOptions,
): Promise<T> {
  const start = now();
  for (let n = 1; ; n++) {
    const turn = await steps.exclusive?.();
    const tried = now();
    let built: Built<T>;
    let stale: boolean;
    let failed: unknown;
    let landed: boolean;
    try {
      built = await steps.attempt(n, turn);
      if ("done" in built) return built.done;
      stale = steps.stale?.(n) === true;
      const pushing = stale
        ? steps.push(built.commit).catch((e: unknown) => {
            failed = e ?? "failed";
            return false;
          })
        : steps.push(built.commit);
      try {
        built.meanwhile?.();
      } catch {
        // only a head start: landed() does it again, and says what is wrong
      }
      landed = await pushing;
    } finally {
      await turn?.release();
    }
    if (landed) return built.landed();
    steps.rejected?.(n, failed);
    const took = now() - tried;
    const wait = stale ? 0 : contentionDelay(n, took, backoff, random);
    if (n >= maxAttempts || now() - start + wait > budgetMs) throw steps.gaveUp(n, now() - start);
    await sleep(wait);
  }
}

/**
 * Commits `changes` on `parent` as machine `machine`, refusing any path the
 * machine does not own (ownership.ts): a bug, or a forged change set, never
 * reaches the hub.
 */
export async function commitOwned(
  hub: Pick<Hub, "commitFiles">,
  machine: string,
  parent: string | undefined,
  changes: Map<string, string | null>,
  message: string,
  history?: { mark: HistoryMark; newRoot: boolean },
  email?: string,
): Promise<string> {
  const refused = notOwned(machine, changes.keys());
  if (refused.length)
    throw new CoordError(
      `coord refused to publish ${refused.map(printablePath).join(", ")}: machine ${machine} does not own ${refused.length === 1 ? "it" : "them"} ` +
        `(a machine writes only its own files and STATUS.*); nothing was pushed; this is a bug in coord, please report it`,
      EXIT.FAILURE,
    );
  // Trailers: the people's commit it was built on (coord log's order), and the depth of the machines' branch.
  const people = parent === undefined ? undefined : splitTip(parent)?.people;
  const trailers = [...(people ? [`${ORDERS_TRAILER}: ${people}`] : []), ...(history ? [historyTrailer(history.mark)] : [])];
  const text = trailers.length ? `${message}\n\n${trailers.join("\n")}` : message;
  return hub.commitFiles(parent, changes, machineAuthor(machine, email), text, history?.newRoot ? { newRoot: true } : {});
}
