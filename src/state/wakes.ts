// This machine's wake refs on the hub (refs/coord-wake/<machine>,
// core/hub/wakes.ts): .git/coord/wakes.json says whether it has announced
// itself (created its own wake ref: from then on its daemon knows the fleet's
// publishes wake it, and leaves other machines' moves alone while quiet), and
// when the hub last refused wakes. A host whose rules allow no ref but the
// branches refuses every one; the machine then publishes without them (its
// messages arrive within the others' spread, as before wakes), and tries again
// a day later, not at every publish. A file coord cannot read says neither.
import { join } from "node:path";
import { readIfExists, writeDurably } from "./files.js";

const path = (stateDir: string) => join(stateDir, "wakes.json");

/** How long a refusal stands before wakes are pushed again. */
export const RETRY_WAKES_MS = 86_400_000;

export interface WakesState {
  /** When the hub last refused a wake (ms), if it did. */
  refusedAt?: number;
  /** Its own wake ref is on the hub (it pushed it, and the hub took it). */
  announced?: true;
}

export async function readWakes(stateDir: string): Promise<WakesState> {
  const text = await readIfExists(path(stateDir)).catch(() => undefined);
  if (text === undefined) return {};
  try {
    const data = JSON.parse(text) as { refusedAt?: unknown; announced?: unknown };
    const at = typeof data.refusedAt === "string" ? Date.parse(data.refusedAt) : Number.NaN;
    return { ...(Number.isNaN(at) ? {} : { refusedAt: at }), ...(data.announced === true ? { announced: true as const } : {}) };
  } catch {
    return {};
  }
}

export async function recordWakesRefused(stateDir: string, at: Date, why: string): Promise<void> {
  await writeDurably(path(stateDir), `${JSON.stringify({ refusedAt: at.toISOString(), why }, null, 2)}\n`);
}

export async function recordAnnounced(stateDir: string): Promise<void> {
  await writeDurably(path(stateDir), `${JSON.stringify({ announced: true }, null, 2)}\n`);
}
