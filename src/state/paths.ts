// Where a checkout keeps coord's local state: inside its git directory, so it
// is never committed and survives `git reset` and `git clean`.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
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
  await mkdir(join(stateDir, "logs"), { recursive: true });
  return stateDir;
}
