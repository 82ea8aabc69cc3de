// Nothing coord runs, or prints for a person to paste, needs GNU-only flags: a Mac's userland is BSD's (issue 68).
// A scan of the sources and the templates for the flags GNU tools have and macOS's lack.
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { SRC, sources } from "./sources.js";

/** GNU-only command lines: each with why the BSD one fails. */
const GNU_ONLY: [RegExp, string][] = [
  [/\bsed -i(?! '')\b/, "BSD sed -i takes a suffix argument"],
  [/\breadlink -f\b/, "BSD readlink has no -f before macOS 12.3"],
  [/\bdate -d\b/, "BSD date has no -d"],
  [/\bstat -c\b/, "BSD stat has no -c"],
  [/\bxargs -r\b|--no-run-if-empty/, "BSD xargs has no -r"],
  [/\bgrep -P\b/, "BSD grep has no -P"],
  [/\bbase64 -w\b/, "BSD base64 has no -w"],
  [/\bsha256sum\b/, "macOS has shasum -a 256"],
  [/\bnproc\b/, "macOS has sysctl -n hw.ncpu"],
  [/\bflock\b/, "macOS has no flock"],
  [/(^|[\s"'`;|&(])timeout \d/, "macOS has no timeout(1)"],
  [/\bfind [^"'`]*-printf\b/, "BSD find has no -printf"],
  [/\bps [^"'`]*--(sort|forest|ppid)\b/, "BSD ps has no long options"],
];

/** The quoted strings of a source (what it runs or prints), comments left out. */
const quoted = (text: string): string[] =>
  text
    .split("\n")
    .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l))
    .flatMap((l) => [...l.matchAll(/"([^"\\]|\\.)*"|'([^'\\]|\\.)*'|`([^`\\]|\\.)*`/g)].map((m) => m[0]));

async function templateFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await templateFiles(p)));
    else out.push(p);
  }
  return out;
}

describe("BSD userland", () => {
  it("no GNU-only command line in what coord runs or prints (src/, templates/)", async () => {
    const found: string[] = [];
    for (const path of await sources(SRC))
      for (const s of quoted(await readFile(path, "utf8"))) for (const [re, why] of GNU_ONLY) if (re.test(s)) found.push(`${relative(SRC, path)}: ${s.slice(0, 80)} (${why})`);
    const templates = join(SRC, "..", "templates");
    for (const path of await templateFiles(templates))
      for (const line of (await readFile(path, "utf8")).split("\n"))
        for (const [re, why] of GNU_ONLY) if (re.test(line)) found.push(`templates/${relative(templates, path)}: ${line} (${why})`);
    expect(found).toEqual([]);
  });
  it("the scan finds one", () => {
    expect(quoted('run("sed -i s/a/b/ f") // sed -i in a comment').some((s) => GNU_ONLY.some(([re]) => re.test(s)))).toBe(true);
    expect(quoted("// sed -i only in a comment").length).toBe(0);
  });
});
