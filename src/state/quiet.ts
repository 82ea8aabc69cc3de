// The quiet stamp (.git/coord/quiet.json): what the last sync that had
// nothing to do ended on, so the next one can tell from one look at the
// remote tip that nothing changed (src/sync/quiet.ts; the rule is
// src/core/machine/quiet.ts). Light on purpose: the quiet `coord sync` loads this and
// little else. Losing the file costs one ordinary sync.
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { QuietStamp } from "../core/machine/quiet-stamp.js";

export const QUIET_FILE = "quiet.json";

/** The fleet a send checks names against (state/mailbox.ts): a quiet answer needs it there, as a sync writes it. */
export const KNOWN_FLEET_FILE = "known-fleet.json";

/**
 * Files of the state directory that say nothing a sync acts on: logs, the
 * stamp itself, caches (parsed.json), what a sync derives again (the agent CLIs found, re-detected
 * on their own clock; the hooks' prompt file; the fleet a send checks names against), the alerts already notified (written after the sync's
 * work; the alerts themselves come from the tip and the clock, which the stamp watches), and the lock's own files.
 * Everything else (config, journal, mailbox, delegated orders, health,
 * secrets, trust, observations, and any file a later version adds) counts.
 */
const IGNORED =
  /^(coord\.log(\.\d+)?|cron\.log(\.\d+)?|quiet\.json(\..*)?|parsed\.json(\..*)?|agents\.json|inbox-prompt\.txt|known-fleet\.json|notified\.json|sync\.owner|daemon\.json|.*\.lock|.*\.tmp)$/;

/** The local state as the quiet rule compares it: each file's name, size and change time, and the PATH tasks and agents are found on. */
export async function localFingerprint(stateDir: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const entries = await readdir(stateDir, { withFileTypes: true });
  const parts: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!e.isFile() || IGNORED.test(e.name)) continue;
    const st = await stat(join(stateDir, e.name)).catch(() => undefined); // gone meanwhile: not part of it
    if (st) parts.push(`${e.name}:${st.size}:${st.mtimeMs}:${st.ino}`);
  }
  parts.push(`PATH=${env.PATH ?? ""}`);
  return parts.join("\n");
}

/** The stamp, or undefined when there is none or it is not one (a broken file is as good as none). */
export async function readQuiet(stateDir: string): Promise<QuietStamp | undefined> {
  const text = await readFile(join(stateDir, QUIET_FILE), "utf8").catch(() => undefined);
  if (!text) return undefined;
  try {
    const s = JSON.parse(text) as Partial<QuietStamp>;
    const strings = [s.version, s.machine, s.remote, s.branch, s.tip, s.fingerprint];
    const waiting = Array.isArray(s.waiting) && s.waiting.every((w) => typeof w?.id === "string" && typeof w.reason === "string");
    if (s.coord !== 1 || strings.some((v) => typeof v !== "string") || typeof s.until !== "number" || typeof s.timeout !== "number" || !waiting) return undefined;
    if (s.deferred !== undefined && (typeof s.deferred !== "string" || !Number.isFinite(Date.parse(s.deferred)))) delete s.deferred;
    return s as QuietStamp;
  } catch {
    return undefined; // not JSON: an ordinary sync writes a new one
  }
}

/** Writes the stamp whole (writeWhole: temp file, rename); no fsync: a lost stamp costs one ordinary sync. */
export async function writeQuiet(stateDir: string, stamp: QuietStamp): Promise<void> {
  // Loaded here only: the quiet sync reads the stamp and never writes it, and files.ts brings its write and lock libraries.
  const { writeWhole } = await import("./files.js");
  await writeWhole(join(stateDir, QUIET_FILE), `${JSON.stringify(stamp)}\n`);
}

/** Removes the stamp: the next sync is an ordinary one. */
export async function clearQuiet(stateDir: string): Promise<void> {
  await rm(join(stateDir, QUIET_FILE), { force: true });
}
