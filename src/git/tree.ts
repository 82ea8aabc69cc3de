// A tree with some files changed, built directory by directory with ls-tree
// and mktree instead of through an index. An index refuses a whole tree that
// holds one entry git would not check out (`..`, `.git`, `git~1`), which
// anyone can push with plumbing; then no machine could publish again. Here
// only the directories on the changed paths are rewritten, and every other
// entry passes through as it is, odd or not.

/** Runs git with args (and stdin), returning its stdout. */
export type RunGit = (args: string[], input?: string) => Promise<string>;

/**
 * The id of tree `base` (undefined: an empty one) with `changes` applied
 * (path → blob id of a regular file, or null to delete), or undefined when
 * nothing is left in it (git keeps no empty directories).
 */
export async function editTree(git: RunGit, base: string | undefined, changes: Map<string, string | null>): Promise<string | undefined> {
  const here = new Map<string, string | null>();
  const below = new Map<string, Map<string, string | null>>();
  for (const [path, blob] of changes) {
    const slash = path.indexOf("/");
    if (slash < 0) here.set(path, blob);
    else {
      const dir = path.slice(0, slash);
      if (!below.has(dir)) below.set(dir, new Map());
      below.get(dir)!.set(path.slice(slash + 1), blob);
    }
  }
  // name → "<mode> <type> <id>", exactly as the tree has it (-z: any byte in a name stays in it).
  const entries = new Map<string, string>();
  if (base)
    for (const line of (await git(["ls-tree", "-z", base])).split("\0")) {
      const tab = line.indexOf("\t");
      if (tab > 0) entries.set(line.slice(tab + 1), line.slice(0, tab));
    }
  for (const [name, blob] of here) {
    if (blob === null) entries.delete(name);
    else entries.set(name, `100644 blob ${blob}`);
  }
  for (const [dir, sub] of below) {
    const [, type, id] = entries.get(dir)?.split(" ") ?? [];
    const tree = await editTree(git, type === "tree" ? id : undefined, sub);
    if (tree === undefined) entries.delete(dir);
    else entries.set(dir, `040000 tree ${tree}`);
  }
  if (entries.size === 0) return undefined;
  return (await git(["mktree", "-z"], [...entries].map(([name, meta]) => `${meta}\t${name}\0`).join(""))).trim();
}
