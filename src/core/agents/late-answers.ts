// coord asks each agent CLI on the machine for its version and its login (state/capabilities.ts), each question cut
// off after a few seconds. A question cut off was not answered: on a loaded machine a CLI that takes 11 s to print
// its version is still the same CLI. What was known before stands for it, so that a busy moment does not change what
// the machine publishes of itself (a push), nor the next quiet moment change it back (another).

/** What coord learnt of one agent CLI, and which of its questions were cut off before an answer. */
export interface Answers {
  version?: string;
  loggedIn?: boolean;
  late?: { version?: boolean; login?: boolean };
}

/**
 * `now` with each answer that came late taken from `before` (what was known of the same CLI), when there is one; an
 * answer that came stays as it came, a "no" included. Without `late` in the result.
 */
export function keptAnswers<T extends Answers>(now: T, before: Answers | undefined): Omit<T, "late"> {
  const { late, ...answered } = now;
  const out: Omit<T, "late"> & Answers = { ...answered };
  if (late?.version && before?.version !== undefined) out.version = before.version;
  if (late?.login && before?.loggedIn !== undefined) out.loggedIn = before.loggedIn;
  return out;
}
