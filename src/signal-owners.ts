// Who answers SIGINT, SIGTERM and SIGHUP in this process. coord's executable
// (src/cli/entry.ts) listens from its first line, for the commands that do
// not: it stops the git commands they started (each runs in a process group
// of its own, out of a terminal's Ctrl-C), then lets the signal end the
// process as it would have. A command with a handling of its own (a sync stops
// its tasks and publishes, the daemon stops its services) says so here while
// it listens, and the executable then leaves the signal to it. A count, not
// the number of listeners: a library's (signal-exit's, which proper-lockfile
// loads) defers to any other listener, and would wait on the executable's.
import { processSlot } from "./process-slot.js";

const slot = processSlot<{ owners: number }>("signalOwners");

/** Marks the signals as this command's to answer, until the returned release is called (once is enough). */
export function ownSignals(): () => void {
  slot.owners = (slot.owners ?? 0) + 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    slot.owners = (slot.owners ?? 1) - 1;
  };
}

/** Whether a command answers the signals itself now. */
export function signalsOwned(): boolean {
  return (slot.owners ?? 0) > 0;
}
