// This machine's path reservations: `.git/coord/reservations.json`. `coord
// reserve` and `coord release` change it in a short read-modify-write under its
// own lock (durable at once, even while a long sync runs); each publish of a
// sync judges it on the tip it builds on (core/fleet/reservations.ts settle) and
// writes back what it learned. Lost or broken: the next sync takes back the
// reservations this machine's file publishes.
import { join } from "node:path";
import * as z from "zod";
import type { FleetReservation, LocalReservation } from "../core/fleet/reservations.js";
import { CoordError, EXIT } from "../errors.js";
import { checkState, setAside } from "./corrupt.js";
import { readIfExists, updateLocked } from "./files.js";

export interface ReservationsData {
  version: 1;
  /** The id the next reservation gets. */
  next: number;
  reservations: LocalReservation[];
  /** Not written: set when there was no file (a new machine, or one lost): the published ones are taken back. */
  fresh?: boolean;
}

const iso = z.string().refine((s) => Number.isFinite(Date.parse(s)));
const id = z.number().int().min(1);
/** The fields coord relies on; others are kept as they are. */
const schema = z.looseObject({
  version: z.literal(1),
  next: id,
  reservations: z.array(
    z.looseObject({
      id,
      paths: z.array(z.string()),
      reason: z.string().optional(),
      shared: z.literal(true).optional(),
      made: iso,
      until: iso,
      at: iso.optional(),
      lost: z.looseObject({ machine: z.string(), id, paths: z.array(z.string()), reason: z.string().optional(), until: iso, learned: iso }).optional(),
    }),
  ),
});

export function reservationsPath(stateDir: string): string {
  return join(stateDir, "reservations.json");
}

const empty = (): ReservationsData => ({ version: 1, next: 1, reservations: [], fresh: true });

export async function readReservationsState(stateDir: string): Promise<ReservationsData> {
  const path = reservationsPath(stateDir);
  const text = await readIfExists(path);
  if (text === undefined) return empty();
  const r = checkState(text, schema, { versioned: true });
  if (r.ok) return r.raw as ReservationsData; // the JSON itself: the schema's records would treat "__proto__" as the prototype
  if (r.newer) throw new CoordError(`the reservations ${path} are of version ${r.newer}, written by a newer coord; update coord on this machine`, EXIT.USAGE);
  const problem = r.problem;
  await setAside(path, problem, "a new one starts: the next sync takes back the reservations this machine's file publishes");
  return empty();
}

/** Runs `change` on the reservations under their lock and saves the result durably (only when it changed). */
export async function updateReservations<T>(stateDir: string, change: (data: ReservationsData) => T | Promise<T>): Promise<T> {
  return updateLocked(
    stateDir,
    "reservations",
    {
      read: () => readReservationsState(stateDir),
      path: reservationsPath(stateDir),
      render: ({ fresh: _fresh, ...data }: ReservationsData) => `${JSON.stringify(data, null, 1)}\n`,
      what: "reservations",
    },
    change,
  );
}

/**
 * What the machine's own file publishes (`fleet`, as last read) is its own
 * still: a new or lost state file takes those reservations back, and an id
 * published is never given again.
 */
export function takeBack(data: ReservationsData, me: string, fleet: FleetReservation[]): void {
  const mine = fleet.filter((r) => r.machine === me);
  if (data.fresh)
    for (const r of mine)
      if (!data.reservations.some((x) => x.id === r.id)) {
        const { machine: _m, ...rest } = r;
        data.reservations.push({ ...rest, made: r.at });
      }
  data.next = Math.max(data.next, ...mine.map((r) => r.id + 1), ...data.reservations.map((r) => r.id + 1));
}
