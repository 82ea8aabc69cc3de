// `--now` of a command that stores something local first (send, reserve,
// release): a sync that publishes it (no task started). A failure says what
// was stored, so that nobody does it twice, and that a later sync publishes it.
import { CoordError, EXIT } from "../errors.js";
import { type Machine, type SyncResult, syncMachine } from "../sync/sync.js";

/** Publishes now what was just stored (`stored`: "sent m1/m2/3"); failing, says so and when it goes out instead (`later`). */
export async function publishNow(m: Machine, stored: string, later: string): Promise<SyncResult> {
  try {
    return await syncMachine(m, { run: false });
  } catch (e) {
    const why = (e as Error).message.replace(/[.;]?\s*$/, "");
    throw new CoordError(`${stored}, but could not publish it now (${why}); ${later}`, e instanceof CoordError ? e.exitCode : EXIT.FAILURE);
  }
}
