// Which system this is, and the /proc file system, are read in src/platform/ only (issue 68 item 11): every other
// file takes the system as an argument, so that each rule that differs between systems is a function tested for
// linux, darwin and win32 on any machine. A scan of the sources keeps it so.
import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { SRC, sources } from "./sources.js";

/** The code of a source without its comments (line and block), strings kept. */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");

/**
 * Files that name /proc without reading it: the sandbox's mount table (core/agents/sandbox.ts gives bubblewrap
 * `--proc /proc` and keeps /proc/sys read-only in the sandbox; nothing of /proc is read there).
 */
const NAMES_PROC = new Set(["core/agents/sandbox.ts"]);

/** Where `file` reads the system or /proc outside src/platform/. */
function platformReads(file: string, text: string): string[] {
  if (file.startsWith("platform/")) return [];
  const found: string[] = [];
  const body = code(text);
  if (/\bprocess\.platform\b|\bos\.platform\(|\bplatform\(\)/.test(body)) found.push(`${file} reads the system`);
  if (!NAMES_PROC.has(file) && /["'`]\/proc\b/.test(body)) found.push(`${file} reads /proc`);
  return found;
}

describe("the system, read in one place", () => {
  it("no file outside src/platform/ reads process.platform or /proc", async () => {
    const found: string[] = [];
    for (const path of await sources(SRC)) found.push(...platformReads(relative(SRC, path), await readFile(path, "utf8")));
    expect(found).toEqual([]);
  });

  it("the scan finds a read of the system and of /proc, and passes comments and src/platform/", () => {
    expect(platformReads("runner/sandbox.ts", 'if (process.platform === "linux") {}')).toEqual(["runner/sandbox.ts reads the system"]);
    expect(platformReads("state/x.ts", "const p = platform();")).toEqual(["state/x.ts reads the system"]);
    expect(platformReads("runner/run.ts", "await readFile(`/proc/` + pid + `/environ`)")).toEqual(["runner/run.ts reads /proc"]);
    expect(platformReads("runner/run.ts", "// reads /proc/<pid>/stat through platform/processes.ts")).toEqual([]);
    expect(platformReads("platform/processes.ts", 'readFileSync("/proc/self/stat")')).toEqual([]);
  });
});
