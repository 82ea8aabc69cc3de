// Where a checkout keeps coord's local state: inside its git directory, so it
// is never committed and survives `git reset` and `git clean`.
import { chmod, mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { absoluteGitDir } from "../git/local.js";
import { CoordError, EXIT } from "../errors.js";

export async function gitDirOf(dir: string): Promise<string> {
  try {
    return await absoluteGitDir(dir);
  } catch {
    // Not a checkout (or not one git can read): one sentence instead of git's.
    throw new CoordError(`${dir} is not a git checkout; run coord init there first or pass --dir`, EXIT.USAGE);
  }
}

export async function stateDirOf(dir: string): Promise<string> {
  const stateDir = join(await gitDirOf(dir), "coord");
  // The logs hold whole outputs (an agent's on call too): only their owner reads them, as the state files.
  const logs = join(stateDir, "logs");
  await mkdir(logs, { recursive: true, mode: 0o700 });
  await chmod(logs, 0o700).catch(() => {});
  return stateDir;
}

/** A path as orders and machine.yaml write it: "~" and "~/x" are the user's home, a relative path is relative to it. */
export function expandHome(path: string | undefined): string {
  const home = homedir();
  if (!path || path === "~") return home;
  if (path.startsWith("~/")) return join(home, path.slice(2));
  return resolve(home, path);
}

/** trust.signingKey as a path: `~` is home, and a relative one is in the state directory (the key coord made there moves with the checkout). */
export function signingKeyPath(stateDir: string, key: string): string {
  return key === "~" || key.startsWith("~/") || isAbsolute(key) ? expandHome(key) : join(stateDir, key);
}
