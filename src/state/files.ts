// Durable local files: written to a temp file, fsynced, renamed into place.
import { readFile } from "node:fs/promises";
import writeFileAtomic from "write-file-atomic";

export async function writeDurably(path: string, content: string): Promise<void> {
  await writeFileAtomic(path, content, { fsync: true, mode: 0o600 });
}

/** The file's text, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}
