// When the hub last refused this machine's wake refs (refs/coord-wake/<machine>,
// core/hub/wakes.ts): .git/coord/wakes.json. A host whose rules allow no ref
// but the branches refuses every one; the machine then publishes without them
// (its recipients see its messages at their next sync of a move, within
// seconds still), and tries a wake again a day later, not at every publish. A
// file coord cannot read is no refusal.
import { join } from "node:path";
import { readIfExists, writeDurably } from "./files.js";

const path = (stateDir: string) => join(stateDir, "wakes.json");

/** How long a refusal stands before wakes are pushed again. */
export const RETRY_WAKES_MS = 86_400_000;

/** When the hub last refused a wake, or undefined: never (or a file that does not say). */
export async function wakesRefusedAt(stateDir: string): Promise<number | undefined> {
  const text = await readIfExists(path(stateDir)).catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const at = Date.parse((JSON.parse(text) as { refusedAt?: unknown }).refusedAt as string);
    return Number.isNaN(at) ? undefined : at;
  } catch {
    return undefined;
  }
}

export async function recordWakesRefused(stateDir: string, at: Date, why: string): Promise<void> {
  await writeDurably(path(stateDir), `${JSON.stringify({ refusedAt: at.toISOString(), why }, null, 2)}\n`);
}
