// The alerts this machine already sent through its notify hook
// (.git/coord/notified.json): each id with when it went out, and since when
// its alert is gone (core/status/alerts.ts planNotify and pruneNotified decide).
// Written durably before any call, so that a crash never sends one twice.
// Nothing a sync acts on: the quiet stamp's fingerprint ignores it
// (state/quiet.ts). A broken file is kept aside and the alerts present then
// count as new (at most NOTIFY_CAP calls, as on a first run).
import { join } from "node:path";
import * as z from "zod";
import type { Notified } from "../core/status/alerts.js";
import { checkState, setAside } from "./corrupt.js";
import { readIfExists, writeDurably } from "./files.js";

export const NOTIFIED_FILE = "notified.json";

const path = (stateDir: string) => join(stateDir, NOTIFIED_FILE);

const fileSchema = z.object({
  coord: z.literal(1),
  alerts: z.record(z.string(), z.object({ at: z.string(), gone: z.string().optional() })),
});

/** The record, or undefined when there is none yet (the first sync with notify configured). */
export async function readNotified(stateDir: string): Promise<Notified | undefined> {
  const text = await readIfExists(path(stateDir));
  if (text === undefined) return undefined;
  const r = checkState(text, fileSchema);
  if (r.ok) return Object.assign(Object.create(null) as Notified, r.data.alerts);
  const problem = r.problem;
  await setAside(path(stateDir), problem, "the alerts present now count as new (at most a few calls, then a summary)");
  return undefined;
}

export function renderNotified(notified: Notified): string {
  const alerts = Object.fromEntries(Object.entries(notified).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ coord: 1, alerts }, null, 1)}\n`;
}

/** Writes the record durably (temp file, fsync, rename). */
export async function saveNotified(stateDir: string, notified: Notified): Promise<void> {
  await writeDurably(path(stateDir), renderNotified(notified));
}
