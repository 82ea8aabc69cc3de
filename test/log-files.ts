// What the tests of coord.log read back: every line of the log and its rotated files.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";

/** Every JSON line of coord.log and its rotated files, and the files' sizes; each file ends with a whole line. */
export async function allLines(stateDir: string): Promise<{ lines: string[]; sizes: Record<string, number> }> {
  const names = (await readdir(stateDir)).filter((n) => /^coord\.log(\.\d+)?$/.test(n));
  const lines: string[] = [];
  const sizes: Record<string, number> = {};
  for (const n of names) {
    const text = await readFile(join(stateDir, n), "utf8");
    sizes[n] = Buffer.byteLength(text);
    expect(text === "" || text.endsWith("\n")).toBe(true);
    lines.push(...text.split("\n").filter(Boolean));
  }
  return { lines, sizes };
}
