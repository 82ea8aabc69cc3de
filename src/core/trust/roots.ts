// Where a machine lets tasks run: `allowedRoots` in its machine.yaml. A
// task's directory (resolved: no symbolic link, no "..") must be one of the
// roots (resolved the same way) or inside one. Pure: the resolving is done by
// the caller.
import { posix } from "node:path";

/** A root as the machine's config writes it (`~/dev`) and as resolved on this machine (`/home/me/dev`). */
export interface Root {
  written: string;
  real: string;
}

/** Whether the absolute, resolved `path` is `root` or lies inside it. */
export function isWithin(path: string, root: string): boolean {
  const rel = posix.relative(root, path);
  return rel === "" || (rel !== ".." && !rel.startsWith("../") && !posix.isAbsolute(rel));
}

/**
 * Why a task may not run in `cwd` (resolved), or undefined when it may: no
 * roots configured (undefined) means no restriction; an empty list allows no
 * directory at all.
 */
export function outsideRoots(cwd: string, roots: Root[] | undefined): string | undefined {
  if (roots === undefined) return undefined;
  if (roots.some((r) => isWithin(cwd, r.real))) return undefined;
  const allowed = roots.length ? roots.map((r) => r.written).join(", ") : "none (an empty list)";
  return `cwd ${cwd} is outside this machine's allowedRoots: ${allowed}`;
}
