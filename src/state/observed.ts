// What this machine saw of the other machines' lastSeen, and when by its own
// clock (core/time/clock.ts observe), kept across syncs in .git/coord/observed.json:
// leases are then measured by this machine's clock only. Losing the file is
// safe: every machine is seen as just heard, and claims hold a lease longer.
import { join } from "node:path";
import * as z from "zod";
import type { Observation } from "../core/time/clock.js";
import { machineNameProblem } from "../core/files/names.js";
import { checkState, setAside } from "./corrupt.js";
import { readIfExists, writeWhole } from "./files.js";

const path = (stateDir: string) => join(stateDir, "observed.json");

const fileSchema = z.object({
  version: z.literal(1),
  machines: z.record(z.string(), z.object({ lastSeen: z.string(), at: z.number().finite() })),
});

export async function readObserved(stateDir: string): Promise<Map<string, Observation>> {
  const text = await readIfExists(path(stateDir));
  if (text === undefined) return new Map();
  const r = checkState(text, fileSchema);
  if (r.ok) return new Map(Object.entries(r.data.machines).filter(([name]) => !machineNameProblem(name)));
  const problem = r.problem;
  await setAside(path(stateDir), problem, "every machine is seen as just heard: claims of others hold a lease longer");
  return new Map();
}

const render = (observed: ReadonlyMap<string, Observation>) =>
  `${JSON.stringify({ version: 1, machines: Object.fromEntries([...observed].sort(([a], [b]) => (a < b ? -1 : 1))) })}\n`;

/** Saves the observations when they differ from those read at the start of the sync (`read`): most syncs write nothing. */
export async function saveObserved(stateDir: string, observed: ReadonlyMap<string, Observation>, read: ReadonlyMap<string, Observation>): Promise<void> {
  const text = render(observed);
  // Not fsynced: losing it after a power cut only makes others' claims hold a lease longer.
  if (text !== render(read)) await writeWhole(path(stateDir), text);
}
