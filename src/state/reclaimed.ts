// A reclaim this copy saw: .git/coord/reclaimed.json. Once a sync has seen its identity reclaimed elsewhere (a newer
// generation of it on the hub, believed), the copy stays stopped whatever the hub says later: a push that takes the
// newer generation out of its file again (or a hub put back) revives no copy, so nothing runs twice. coord init
// --reclaim here takes the identity back and removes the record, as does a coord init that makes the checkout a machine
// of another name (its config lost). A record coord cannot read counts as a reclaim seen: stopping is the safe side.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Generation } from "../core/trust/identity.js";
import { readIfExists, writeDurably } from "./files.js";

const path = (stateDir: string) => join(stateDir, "reclaimed.json");

/** A reclaim seen: the generation that took the identity, and the identity's name (none in a record of before it was written). */
export type ReclaimSeen = Generation & { name?: string };

/** The reclaim this copy saw, if any; one it cannot read is a reclaim of an unknown generation (above `epoch`). */
export async function readReclaimSeen(stateDir: string, epoch: number): Promise<ReclaimSeen | undefined> {
  const text = await readIfExists(path(stateDir));
  if (text === undefined) return undefined;
  const unknown = { epoch: epoch + 1, host: `an unknown host (${path(stateDir)} cannot be read)`, at: "an unknown time" };
  try {
    const data = JSON.parse(text) as Partial<Record<keyof ReclaimSeen, unknown>>;
    const { epoch: e, host, at, name } = data;
    if (!Number.isSafeInteger(e) || typeof host !== "string" || typeof at !== "string") return unknown;
    return { epoch: e as number, host: host.slice(0, 256), at: at.slice(0, 64), ...(typeof name === "string" ? { name: name.slice(0, 64) } : {}) };
  } catch {
    return unknown;
  }
}

export async function saveReclaimSeen(stateDir: string, seen: ReclaimSeen): Promise<void> {
  await writeDurably(path(stateDir), `${JSON.stringify(seen, null, 2)}\n`);
}

export async function clearReclaimSeen(stateDir: string): Promise<void> {
  await rm(path(stateDir), { force: true });
}
