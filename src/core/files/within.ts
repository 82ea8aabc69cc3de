// Whether a path lies inside a directory, as the system's paths read: `/` on
// Linux and macOS; on Windows `\` or `/`, a drive letter, letters in any case
// (`C:\Dev\app` is inside `c:\dev`), and nothing inside another drive. Pure:
// both paths come absolute and resolved (no link, no "..") from the edge.
import { posix, win32 } from "node:path";

/** Whether `path` is `dir` or lies inside it, on `platform`. */
export function isWithin(path: string, dir: string, platform: NodeJS.Platform): boolean {
  const p = platform === "win32" ? win32 : posix;
  const rel = p.relative(dir, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${p.sep}`) && !p.isAbsolute(rel));
}
