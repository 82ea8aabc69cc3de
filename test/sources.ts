// The TypeScript sources under a directory, for tests that scan them.
import { readdir } from "node:fs/promises";
import { join } from "node:path";

export const SRC = join(import.meta.dirname, "..", "src");

export async function sources(dir: string = SRC): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(path)));
    else if (e.name.endsWith(".ts")) out.push(path);
  }
  return out;
}
