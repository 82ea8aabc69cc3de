// A command in the foreground stopped with SIGINT (Ctrl-C) or SIGTERM (kill,
// a timeout wrapper, systemd): the first signal asks it to stop cleanly — its
// tasks are stopped and reported, the result published, the lock released —
// and a second one exits at once.

import { stopRunningGit } from "../git/run.js";
import { ownSignals } from "../signal-owners.js";

const NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof NUMBERS;

export interface StopSignals {
  /** Aborted at the first SIGINT or SIGTERM. */
  signal: AbortSignal;
  /** The signal received, if any. */
  received(): StopSignal | undefined;
  /** The conventional exit code for the signal received: 128 + its number (130 for SIGINT, 143 for SIGTERM). */
  exitCode(): number | undefined;
  /** Stops listening (the default handling, ending the process, comes back). */
  dispose(): void;
}

/** Listens for SIGINT and SIGTERM until disposed; `onFirst` is told of the first one (to say what happens now). */
export function stopOnSignals(onFirst?: (signal: StopSignal) => void): StopSignals {
  const controller = new AbortController();
  let received: StopSignal | undefined;
  const handler = (signal: NodeJS.Signals) => {
    const s = signal as StopSignal;
    // The second signal: whoever sent it wants the process gone now (a task left running is stopped by the next sync).
    if (received) {
      stopRunningGit(); // each in a process group of its own, out of the signal's reach
      process.exit(128 + NUMBERS[s]);
    }
    received = s;
    onFirst?.(s);
    controller.abort();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  const release = ownSignals();
  return {
    signal: controller.signal,
    received: () => received,
    exitCode: () => (received ? 128 + NUMBERS[received] : undefined),
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
      release();
    },
  };
}
