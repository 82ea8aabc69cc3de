// A checkout's own git directory, found without a git process: `<dir>/.git`
// when it is a directory (most checkouts, and every one coord init makes). A
// worktree or a submodule, whose .git is a file, is for git to answer
// (absoluteGitDir in local.ts). Light: the quiet sync uses it.
import { lstat } from "node:fs/promises";
import { join, resolve } from "node:path";

/** `<dir>/.git` (absolute) when it is a directory; undefined otherwise. */
export async function plainGitDir(dir: string): Promise<string | undefined> {
  const path = join(resolve(dir), ".git");
  const isDir = await lstat(path).then(
    (st) => st.isDirectory(),
    () => false,
  );
  return isDir ? path : undefined;
}
