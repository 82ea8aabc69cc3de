// The machine's seal key (core/trust/seal.ts): 32 random bytes in
// .git/coord/seal_key, made the first time coord needs it, always before an
// agent starts behind the shield (sync/sandbox.ts), which hides it. Made
// exclusively: a file, or a link, already at its place is never written
// through.
import { randomBytes } from "node:crypto";
import { link, lstat, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { CoordError, EXIT } from "../errors.js";

export const SEAL_KEY_FILE = "seal_key";

export const sealKeyPath = (stateDir: string) => join(stateDir, SEAL_KEY_FILE);

/** The key as read, or undefined when there is none yet (never made here: the delegated orders adopt at its making). */
export async function readSealKey(stateDir: string): Promise<Buffer | undefined> {
  return readKey(sealKeyPath(stateDir));
}

async function readKey(path: string): Promise<Buffer | undefined> {
  const st = await lstat(path).catch(() => undefined);
  if (st && !st.isFile()) throw new CoordError(`the machine's seal key ${path} is not a plain file (a link?); move it aside (coord makes a new one)`, EXIT.FAILURE);
  const key = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw new CoordError(`coord cannot read the machine's seal key ${path} (${e.code ?? e.message}); it must be a file this user can read`, EXIT.FAILURE);
  });
  if (key && key.length !== 32) throw new CoordError(`the machine's seal key ${path} is not 32 bytes; move it aside (coord makes a new one)`, EXIT.FAILURE);
  return key;
}

/**
 * The machine's seal key, made when there is none (`made` then says so: the caller seals what it adopts). The new key
 * is written to a temp file and linked into place: when anything is there already, the link fails and that key is
 * read instead.
 */
export async function sealKey(stateDir: string): Promise<{ key: Buffer; made: boolean }> {
  const path = sealKeyPath(stateDir);
  const found = await readKey(path);
  if (found) return { key: found, made: false };
  const key = randomBytes(32);
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  const file = await open(tmp, "wx", 0o600);
  try {
    await file.writeFile(key);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await link(tmp, path);
    return { key, made: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    const other = await readKey(path);
    if (!other) throw new CoordError(`the machine's seal key ${path} vanished as it was made; try again`, EXIT.FAILURE);
    return { key: other, made: false };
  } finally {
    await rm(tmp, { force: true });
  }
}
