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

/** Whether `text` is a whole object id (SHA-1 or SHA-256, lower case) as git writes one. */
export function isObjectId(text: string): boolean {
  return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(text);
}

/** The object id a ref file holds (the id and a newline, as git writes a loose ref or a detached HEAD), or undefined. */
function idLine(text: string): string | undefined {
  const id = text.slice(0, -1);
  return text.endsWith("\n") && isObjectId(id) ? id : undefined;
}

/**
 * The object a branch or tracking ref names, read from git's files in
 * `gitDir` (`refs/remotes/origin/main`, else its line in `packed-refs`, as git
 * reads them: a ref's own file wins): no git process. Undefined when git must
 * answer: a repository that keeps its refs in a reftable, a ref in neither
 * file, anything but a plain object id. Not checked to be a commit (what a
 * hostile remote fetched there may be anything): a caller compares it with a
 * commit git named.
 */
export async function refFromFiles(gitDir: string, ref: string): Promise<string | undefined> {
  if (!/^refs\/(heads|remotes|coord-wake|coord-look)\/[A-Za-z0-9._/-]+$/.test(ref) || ref.includes("..")) return undefined;
  const reftable = await lstat(join(gitDir, "reftable")).then(
    () => true,
    () => false,
  );
  if (reftable) return undefined;
  const text = await readFile(join(gitDir, ref), "latin1").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? null : undefined));
  if (text !== null) return text === undefined ? undefined : idLine(text);
  // No file of its own: packed (`<id> <ref>` lines; `^<id>` lines peel the tag above them, never a branch).
  const packed = await readFile(join(gitDir, "packed-refs"), "latin1").catch(() => "");
  for (const line of packed.split("\n")) {
    const space = line.indexOf(" ");
    if (line.slice(space + 1) === ref && isObjectId(line.slice(0, space))) return line.slice(0, space);
  }
  return undefined;
}

/** The commit HEAD names, read from git's files (refFromFiles): undefined when git must answer. */
export async function headFromFiles(gitDir: string): Promise<string | undefined> {
  const text = await readFile(join(gitDir, "HEAD"), "latin1").catch(() => "");
  const branch = /^ref: (refs\/heads\/\S+)\n$/.exec(text)?.[1];
  if (branch) return refFromFiles(gitDir, branch);
  return idLine(text);
}
