// A checkout's own git directory, found without a git process: `<dir>/.git`
// when it is a directory (most checkouts, and every one coord init makes). A
// worktree or a submodule, whose .git is a file, is for git to answer
// (absoluteGitDir in local.ts). Light: the quiet sync uses it.
import { lstat, readFile } from "node:fs/promises";
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

/**
 * The object a branch or tracking ref names, read from its file in `gitDir`
 * (`refs/remotes/origin/main`): no git process. Undefined when git must
 * answer: a packed ref, a repository that keeps its refs in a reftable,
 * anything but a plain object id. Not checked to be a commit (what a
 * hostile remote fetched there may be anything): a caller compares it with
 * a commit git named.
 */
export async function looseRef(gitDir: string, ref: string): Promise<string | undefined> {
  if (!/^refs\/(heads|remotes)\/[A-Za-z0-9._/-]+$/.test(ref) || ref.includes("..")) return undefined;
  const reftable = await lstat(join(gitDir, "reftable")).then(
    () => true,
    () => false,
  );
  if (reftable) return undefined;
  const text = await readFile(join(gitDir, ref), "latin1").catch(() => undefined);
  return text && /^(?:[0-9a-f]{40}|[0-9a-f]{64})\n$/.test(text) ? text.trim() : undefined;
}
