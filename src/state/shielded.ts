// Which agents run behind the shield on this machine now: one entry each in
// .git/coord/shielded/ (made before its sandbox starts, removed when it ends;
// read-only to the agents). A file the shield hides (the secret store, a new
// key) is written only while none runs: written then, it would replace the
// file the mask covers, and the running agent would read the new one.
import { randomBytes } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { CoordError, EXIT } from "../errors.js";
import { writeWhole } from "./files.js";
import { pidAlive } from "./lock.js";

export const SHIELDED_DIR = "shielded";

/** Runs `fn` (an agent behind the shield) with its entry in place; the entry goes when it ends, however it ends. */
export async function whileShielded<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  const entry = join(stateDir, SHIELDED_DIR, `${process.pid}.${randomBytes(6).toString("hex")}`);
  await writeWhole(entry, `${process.pid} ${new Date().toISOString()}\n`);
  try {
    return await fn();
  } finally {
    await rm(entry, { force: true }).catch(() => {});
  }
}

/** How many agents run behind the shield now (an entry whose process is gone is removed, not counted). */
export async function shieldedRunning(stateDir: string): Promise<number> {
  const dir = join(stateDir, SHIELDED_DIR);
  let n = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number((await readFile(join(dir, name), "utf8").catch(() => "")).split(" ")[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && pidAlive(pid)) n++;
    else await rm(join(dir, name), { force: true }).catch(() => {});
  }
  return n;
}

/** Refuses (exit 1) writing `what`, a file the shield hides, while an agent runs behind it here. */
export async function refuseWhileShielded(stateDir: string, what: string): Promise<void> {
  const n = await shieldedRunning(stateDir);
  if (!n) return;
  throw new CoordError(
    `${n === 1 ? "an agent runs" : `${n} agents run`} behind the shield on this machine now, and ${what} written now would be a file its sandbox can read; nothing was changed: try again when it ends (coord agent on-call shows the turns on call, coord status the orders running)`,
    EXIT.FAILURE,
  );
}
