// Failures across runs: consecutive failed syncs are counted, scheduled runs
// back off exponentially, and a machine that failed 3 times in a row reports
// itself `stalled` (with the last error) as soon as it can publish again.
import { join } from "node:path";
import { readIfExists, writeDurably } from "./files.js";

export interface Health {
  /** Consecutive failed syncs. */
  failures: number;
  lastError?: string;
  lastFailureAt?: string;
  /** When the current run of failures began. */
  since?: string;
}

/** Failed syncs in a row after which the machine reports itself stalled. */
export const STALL_AFTER = 3;

const path = (stateDir: string) => join(stateDir, "health.json");

export async function readHealth(stateDir: string): Promise<Health> {
  const text = await readIfExists(path(stateDir));
  if (!text) return { failures: 0 };
  try {
    return JSON.parse(text) as Health;
  } catch {
    return { failures: 0 }; // a broken health file only loses the count
  }
}

export async function recordFailure(stateDir: string, error: string, now: Date): Promise<Health> {
  const h = await readHealth(stateDir);
  const next: Health = { failures: h.failures + 1, lastError: error, lastFailureAt: now.toISOString(), since: h.since ?? now.toISOString() };
  await writeDurably(path(stateDir), JSON.stringify(next) + "\n");
  return next;
}

export async function recordSuccess(stateDir: string): Promise<void> {
  const h = await readHealth(stateDir);
  if (h.failures === 0) return;
  await writeDurably(path(stateDir), JSON.stringify({ failures: 0 }) + "\n");
}

/**
 * Until when a scheduled run should skip: `base` seconds after the last
 * failure, doubling, at most an hour — from `now` at the latest, so a failure
 * stamped by a clock that was ahead never stops syncs for longer.
 */
export function backoffUntil(h: Health, base = 60, now = new Date()): Date | undefined {
  if (h.failures === 0 || !h.lastFailureAt) return undefined;
  const seconds = Math.min(3600, base * 2 ** (h.failures - 1));
  const failed = Math.min(Date.parse(h.lastFailureAt) || 0, now.getTime());
  return new Date(failed + seconds * 1000);
}
