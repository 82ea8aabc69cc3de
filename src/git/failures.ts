// What a failed git command means, and how coord says it: a deadline, a lost
// compare-and-swap (a rejected push), the one line fit to print and publish,
// and a failed fetch or push as one sentence naming the remote.
import { fixFor, gitFailureText, isLostRace, isPushRefusal, isReadRefusal } from "../core/hub/ssh.js";
import { redact } from "../core/trust/redact.js";
import { CoordError, EXIT, PushRefused, RemoteUnreachable } from "../errors.js";
import type { GitStopped } from "./run.js";

/** Whether a push failed because the remote moved first (a lost compare-and-swap, not a failure). */
export function isRejectedPush(e: unknown): boolean {
  return isLostRace(String((e as Error)?.message ?? e));
}

/** Whether a git command was stopped by coord's deadline (gitTimeout). */
export function isTimeout(e: unknown): boolean {
  // By its field, not its class: a head start's failure comes from the executable's copy of git/run.ts (src/process-slot.ts).
  return (e instanceof Error && (e as Partial<GitStopped>).why === "timeout") || /block timeout reached/.test(String((e as Error)?.message ?? e));
}

/**
 * What a failed git command says, in one line fit to print and publish: git's
 * fatal line with the lines of ssh that say why (a changed host key as an
 * ALERT), credentials redacted.
 */
export function firstLine(s: string): string {
  if (/block timeout reached/.test(s)) return "git did not finish in time (gitTimeout in .git/coord/machine.yaml sets how long coord waits)";
  return redact(gitFailureText(s));
}

/**
 * A failed fetch or push (`e`) in one sentence: the remote (`url`, without credentials), and why. `timeout`: the
 * seconds git was given (gitTimeout).
 */
export function remoteFailure(e: unknown, doing: "reach" | "push to", url: string, timeout: number): CoordError {
  const Failure = doing === "reach" ? RemoteUnreachable : CoordError;
  if (isTimeout(e))
    return new Failure(`could not ${doing} the remote ${url}: the remote did not answer in ${timeout} s (gitTimeout in .git/coord/machine.yaml sets how long coord waits)`);
  const text = String((e as Error)?.message ?? e);
  const said = firstLine(text);
  // A hook's refusal (ALERT:) is the remote answering: no outage.
  if (said.startsWith("ALERT:")) return new CoordError(`${said} (remote ${url})`, EXIT.FAILURE);
  // What to do about it, where coord knows (a protected branch, a key or credentials the server does not take).
  const fix = fixFor(text);
  const why = fix ? `${said.replace(/[.:]$/, "")}; ${fix}` : said;
  // The server answered no to a fetch (401, 403, an unknown key, a repository it will not show): no outage.
  if (doing === "reach" && isReadRefusal(text)) return new CoordError(`the remote ${url} refused to let this machine read it: ${why}`, EXIT.FAILURE);
  // The server answered no to a push: a refusal, which the machine reports as its state (never an outage, never a race).
  if (doing === "push to" && isPushRefusal(text)) return new PushRefused(`the remote ${url} refused the push: ${why}`);
  return new Failure(`could not ${doing} the remote ${url}: ${why}`);
}
