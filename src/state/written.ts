// The mark a process leaves when it changed what a sync publishes (its mailbox,
// delegated orders, reservations, secrets) without holding the sync lock: a
// sync running meanwhile in another process leaves no quiet stamp then
// (src/sync/stamp.ts). Apart from state/quiet.ts: files.ts writes it, and the
// stamp's module loads files.ts.
import { randomBytes } from "node:crypto";
import { rm, stat, writeFile } from "node:fs/promises";
import { rename } from "../platform/files.js";
import { join, resolve } from "node:path";
import { processSlot } from "../process-slot.js";

/**
 * Written by a process that changed what a sync publishes (its mailbox, delegated orders, reservations, secrets)
 * without holding the sync lock: `coord send --later`, or a plain send while another process's sync runs. A sync
 * removes it before it reads anything, and leaves no quiet stamp when it is there again at the end: the change may
 * have come after the sync read that state, and a stamp whose fingerprint took it in would answer "nothing
 * changed" until it ends (up to the heartbeat). It counts in the fingerprint, as every file not ignored does.
 */
const WRITTEN_FILE = "written";

/** The state directories whose sync lock this process holds (whichever copy of this module took it). */
const holding = processSlot<{ dirs: Set<string> }>("syncLockHeld");
holding.dirs ??= new Set();
const held = holding.dirs;

/** This process holds (`on`) or let go of the sync lock of `stateDir`: its own writes meanwhile are the sync's. */
export function holdingSyncLock(stateDir: string, on: boolean): void {
  if (on) held.add(resolve(stateDir));
  else held.delete(resolve(stateDir));
}

/** After a change of published local state: said for a sync that may be running in another process (WRITTEN_FILE). */
export async function noteWritten(stateDir: string): Promise<void> {
  if (held.has(resolve(stateDir))) return;
  // A new file renamed into place: a link there (an agent's, to a file of the user's) is replaced, never written through.
  const path = join(stateDir, WRITTEN_FILE);
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(tmp, `${process.pid} ${new Date().toISOString()}\n`, { mode: 0o600, flag: "wx" });
  await rename(tmp, path).catch(async (e: unknown) => {
    await rm(tmp, { force: true });
    throw e;
  });
}

/** A sync's start, before it reads local state: what was written before is what it reads. */
export async function takeWritten(stateDir: string): Promise<void> {
  await rm(join(stateDir, WRITTEN_FILE), { force: true });
}

/** Whether another process changed published local state since the sync took the mark (takeWritten). */
export async function writtenMeanwhile(stateDir: string): Promise<boolean> {
  return stat(join(stateDir, WRITTEN_FILE)).then(
    () => true,
    () => false,
  );
}
