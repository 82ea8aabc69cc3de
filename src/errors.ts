// One typed error carries the exit code to the top, where the CLI turns it
// into process.exitCode. Nothing deeper calls process.exit.

export const EXIT = {
  OK: 0,
  /** Could not reach the remote, or another failure. */
  FAILURE: 1,
  /** Bad usage or configuration. */
  USAGE: 2,
  /** Synced, but ORDERS.json is invalid: no new task started. */
  INVALID_ORDERS: 3,
  /** coord reservations check: a path is reserved by another machine (the pre-commit hook refuses the commit with --enforce). */
  RESERVED: 4,
  /** coord inbox --wait: no new message (matching the filters) arrived before the deadline. */
  NO_MESSAGE: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CoordError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.FAILURE,
  ) {
    super(message);
    this.name = "CoordError";
  }
}

/** Another copy took this machine's identity with a newer generation (coord init --reclaim): this one must neither claim nor run. */
export class IdentityReclaimed extends CoordError {
  constructor(message: string) {
    super(message, EXIT.USAGE);
    this.name = "IdentityReclaimed";
  }
}

/** The hub did not answer (network, DNS, a server down, a timeout): an outage, which a scheduled machine watches for the end of. */
export class RemoteUnreachable extends CoordError {
  constructor(message: string) {
    super(message, EXIT.FAILURE);
    this.name = "RemoteUnreachable";
  }
}

/**
 * The hub answered and took others' pushes for a whole push budget (every push of this sync lost its race): no
 * outage and no refusal. The machine's results are kept; a scheduled sync after it does not wait out a backoff, since
 * the hub answers: it tries again at once (a daemon at the next move it sees).
 */
export class HubBusy extends CoordError {
  constructor(message: string) {
    super(message, EXIT.FAILURE);
    this.name = "HubBusy";
  }
}

/**
 * The hub answered and refused the push (a hook, a protected branch, a path the machine may not write, a
 * key or account without write access): no outage and no lost race. A machine whose pushes are refused
 * reports itself `refused`, with the server's reason, as soon as it can publish again.
 */
export class PushRefused extends CoordError {
  constructor(message: string) {
    super(message, EXIT.FAILURE);
    this.name = "PushRefused";
  }
}
