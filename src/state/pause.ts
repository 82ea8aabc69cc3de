// coord pause / resume on this machine: .git/coord/pause.json. While it is
// there, the machine claims and starts nothing new and publishes itself
// `suspended` (with --stop it also stops what runs). A file coord cannot read
// counts as a pause without a reason: stopping work is the safe side.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Pause } from "../core/hub/controls.js";
import { readIfExists, writeDurably } from "./files.js";

const path = (stateDir: string) => join(stateDir, "pause.json");

export async function readPause(stateDir: string): Promise<Pause | undefined> {
  const text = await readIfExists(path(stateDir));
  if (text === undefined) return undefined;
  try {
    const data = JSON.parse(text) as { reason?: unknown; stop?: unknown };
    return { ...(typeof data.reason === "string" && data.reason ? { reason: data.reason.slice(0, 300) } : {}), stop: data.stop === true };
  } catch {
    return { stop: false };
  }
}

export async function writePause(stateDir: string, pause: Pause & { since: string }): Promise<void> {
  await writeDurably(path(stateDir), `${JSON.stringify(pause, null, 2)}\n`);
}

/** Whether there was a pause to lift. */
export async function clearPause(stateDir: string): Promise<boolean> {
  const was = (await readIfExists(path(stateDir))) !== undefined;
  await rm(path(stateDir), { force: true });
  return was;
}
