// Where a checkout keeps coord's local state: inside its git directory, so it
// is never committed and survives `git reset` and `git clean`.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { gitClient } from "../git/git.js";
import { CoordError, EXIT } from "../errors.js";

export async function gitDirOf(dir: string): Promise<string> {
  try {
    return (await gitClient(dir, { timeout: 20 }).raw(["rev-parse", "--absolute-git-dir"])).trim();
  } catch {
    throw new CoordError(`${dir} is not a git checkout; run coord init there first or pass --dir`, EXIT.USAGE);
  }
}

export async function stateDirOf(dir: string): Promise<string> {
  const stateDir = join(await gitDirOf(dir), "coord");
  await mkdir(join(stateDir, "logs"), { recursive: true });
  return stateDir;
}
