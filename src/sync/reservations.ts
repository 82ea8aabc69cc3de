// A publish and this machine's reservations: judged on the tip the publish
// builds on (a pending one that conflicts with a live reservation there has
// lost: the hub saw that one first), what holds goes into the machine's file,
// and once the push lands the pending ones published are held. A lost one is
// told once: in the sync's result (its output) and in coord.log.
import { isLive, lostSentence, type Reservation, readReservations, type Settled, settle } from "../core/fleet/reservations.js";
import { utcText } from "../core/fleet/presence.js";
import type { RepoModel } from "../core/repo/repo.js";
import { appendLog } from "../state/logs.js";
import { exists } from "../state/files.js";
import { reservationsPath, takeBack, updateReservations } from "../state/reservations.js";
import type { Cycle } from "./cycle.js";

/** What a publish carries of the reservations, and what it does once its push landed. */
export interface PublishedReservations {
  publish: Reservation[];
  landed: () => Promise<void>;
}

/** Judges this machine's reservations on `model` (the tip a publish builds on); records and tells what lost. */
export async function reservationsOnTip(c: Pick<Cycle, "m" | "now" | "result">, model: RepoModel): Promise<PublishedReservations> {
  const me = c.m.config.name;
  const now = c.now();
  const fleet = readReservations(model.computers).reservations;
  const mine = fleet.filter((r) => r.machine === me);
  // Most machines reserve nothing: no state file, nothing published, no lock to take.
  if (mine.length === 0 && !(await exists(reservationsPath(c.m.stateDir)))) return { publish: [], landed: async () => {} };
  let settled: Settled;
  try {
    settled = await updateReservations(c.m.stateDir, (data) => {
      takeBack(data, me, fleet);
      const s = settle(data.reservations, me, fleet, now);
      data.reservations = s.local;
      return s;
    });
  } catch (e) {
    // The reservations are this machine's problem, never its sync's: what its file publishes stands until the next publish.
    c.result.warnings.push(`reservations: ${(e as Error).message}; this publish keeps the ones already published`);
    return { publish: mine.filter((r) => isLive(r, now)).map(({ machine: _m, ...r }) => r), landed: async () => {} };
  }
  if (settled.lost.length) c.result.reservationsLost ??= [];
  for (const r of settled.lost) {
    const sentence = lostSentence(me, r, utcText);
    c.result.reservationsLost?.push({ id: r.id, paths: r.paths, holder: r.lost!, text: sentence });
    await appendLog(c.m.stateDir, { kind: "reservation", machine: me, lost: r.id, paths: r.paths, holder: `${r.lost!.machine}/${r.lost!.id}`, text: sentence }).catch(() => {});
  }
  const at = now.toISOString();
  return {
    publish: settled.publish,
    landed: async () => {
      if (settled.publishing.length === 0) return;
      // Not recorded (a lock lost)? The next look takes `at` from the tip: they are there.
      await updateReservations(c.m.stateDir, (data) => {
        for (const r of data.reservations) if (settled.publishing.includes(r.id) && !r.at && !r.lost) r.at = at;
      }).catch(() => {});
    },
  };
}
