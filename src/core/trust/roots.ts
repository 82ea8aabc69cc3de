// Where a machine lets tasks run: `allowedRoots` in its machine.yaml. A
// task's directory (resolved: no symbolic link, no "..") must be one of the
// roots (resolved the same way) or inside one. Pure: the resolving is done by
// the caller.
import { isWithin } from "../files/within.js";

/** A root as the machine's config writes it (`~/dev`) and as resolved on this machine (`/home/me/dev`). */
export interface Root {
  written: string;
  real: string;
}

/**
 * Why a task may not run in `cwd` (resolved), or undefined when it may: no
 * roots configured (undefined) means no restriction; an empty list allows no
 * directory at all.
 */
export function outsideRoots(cwd: string, roots: Root[] | undefined, platform: NodeJS.Platform): string | undefined {
  if (roots === undefined) return undefined;
  if (roots.some((r) => isWithin(cwd, r.real, platform))) return undefined;
  const allowed = roots.length ? roots.map((r) => r.written).join(", ") : "none (an empty list)";
  return `cwd ${cwd} is outside this machine's allowedRoots: ${allowed}`;
}
