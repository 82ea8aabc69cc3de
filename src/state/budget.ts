// This machine's token bucket for the fleet's push budget (core/budget/budget.ts):
// .git/coord/budget.json, counted at every push and every retry. A file coord
// cannot read is a full bucket: at worst one burst more (so it is written
// whole but not fsynced: a push does not wait for the disk).
import { join } from "node:path";
import type { Bucket } from "../core/budget/budget.js";
import { readIfExists, writeWhole } from "./files.js";

const path = (stateDir: string) => join(stateDir, "budget.json");

export async function readBucket(stateDir: string): Promise<Bucket | undefined> {
  const text = await readIfExists(path(stateDir)).catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const b = JSON.parse(text) as { tokens?: unknown; at?: unknown };
    return typeof b.tokens === "number" && typeof b.at === "number" && Number.isFinite(b.tokens) && Number.isFinite(b.at) ? { tokens: b.tokens, at: b.at } : undefined;
  } catch {
    return undefined;
  }
}

export async function saveBucket(stateDir: string, b: Bucket): Promise<void> {
  await writeWhole(path(stateDir), `${JSON.stringify({ tokens: Math.round(b.tokens * 1000) / 1000, at: b.at })}\n`);
}
