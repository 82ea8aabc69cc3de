// When the hub last refused this machine's replacement of the machines'
// branch (a new root: a forced push, with a lease): .git/coord/history.json.
// A host that blocks force pushes on coord refuses every one; the machine then
// publishes on top as before, and tries a replacement again a day later, not
// at every publish. A file coord cannot read is no refusal.
import { join } from "node:path";
import { readIfExists, writeDurably } from "./files.js";

const path = (stateDir: string) => join(stateDir, "history.json");

/** How long a refusal stands before a replacement is tried again. */
export const RETRY_REPLACEMENT_MS = 86_400_000;

export async function replacementRefusedAt(stateDir: string): Promise<Date | undefined> {
  const text = await readIfExists(path(stateDir));
  if (text === undefined) return undefined;
  try {
    const at = new Date((JSON.parse(text) as { refusedAt?: unknown }).refusedAt as string);
    return Number.isNaN(at.getTime()) ? undefined : at;
  } catch {
    return undefined;
  }
}

export async function recordReplacementRefused(stateDir: string, at: Date): Promise<void> {
  await writeDurably(path(stateDir), `${JSON.stringify({ refusedAt: at.toISOString() }, null, 2)}\n`);
}
