// git on a directory, where no Repo is needed yet (or at all): which checkout
// a path is in, its git directory and config, cloning, a new bare hub, and the
// plain commits a person makes. Every call goes through gitClient, so it has
// coord's environment rules (the user's ssh command with BatchMode added, the
// credential proxy, nothing prompts) and a deadline.
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { plainGitDir } from "./dotgit.js";
import { gitClient } from "./client.js";
import type { Author } from "./hub.js";
import { repositorySettings } from "../core/platform/files.js";
import { system } from "../platform/system.js";

/** Seconds a local question to git may take (nothing goes over the network). */
const LOCAL_TIMEOUT = 20;

/** What `git --version` prints ("git version 2.39.5"); throws when git does not run. */
export async function gitVersion(dir: string): Promise<string> {
  return gitClient(dir, { timeout: LOCAL_TIMEOUT }).raw(["--version"]);
}

/** The top directory of the checkout around `dir`; throws when `dir` is in none. */
export async function checkoutRoot(dir: string): Promise<string> {
  return (await gitClient(dir, { timeout: LOCAL_TIMEOUT }).raw(["rev-parse", "--show-toplevel"])).trim();
}

/** The absolute git directory of the checkout at `dir`; throws when `dir` is not in one. */
export async function absoluteGitDir(dir: string): Promise<string> {
  // A checkout's own .git directory needs no git process to find (most machines; every coord init).
  const plain = await plainGitDir(dir);
  if (plain) return plain;
  return (await gitClient(dir, { timeout: LOCAL_TIMEOUT }).raw(["rev-parse", "--absolute-git-dir"])).trim();
}

/**
 * A config value as git reads it in `dir` (every scope), or "" when it has
 * none: `git config --get` exits 1 for a key that is not set, and a config it
 * cannot read gives no value either; the caller says what is missing.
 */
export async function configGet(dir: string, key: string, opts: { timeout?: number } = {}): Promise<string> {
  return (
    await gitClient(dir, opts)
      .raw(["config", "--get", key])
      .catch(() => "")
  ).trim();
}

/**
 * URLs asked of git, by checkout and remote, with the checkout's config file as it was then (its inode, size and
 * time): a daemon opens its machine at every sync, and asks again only when that file changed (`git remote
 * set-url`, an edit). A URL rewritten by the user's global config (`url.<base>.insteadOf`) changes with that file
 * only: seen at the next change of the checkout's config, or the next start of the process.
 */
const remoteUrls = new Map<string, { file: string; url: string }>();

/** The URL of `remote` in the checkout at `dir`, or "" when there is no such remote. */
export async function remoteUrlOf(dir: string, remote: string): Promise<string> {
  const key = `${resolve(dir)}\0${remote}`;
  const file = await configStamp(dir);
  const known = remoteUrls.get(key);
  if (file !== undefined && known?.file === file) return known.url;
  const url = (
    await gitClient(dir)
      .raw(["remote", "get-url", remote])
      .catch(() => "")
  ) // exit 2: no such remote
    .trim();
  if (file !== undefined) {
    if (remoteUrls.size > 100) remoteUrls.clear();
    remoteUrls.set(key, { file, url });
  }
  return url;
}

/** The checkout's config file as it is now (inode, size, time), or undefined when it is not a plain `.git` directory's. */
async function configStamp(dir: string): Promise<string | undefined> {
  const gitDir = await plainGitDir(dir);
  if (!gitDir) return undefined;
  const s = await stat(join(gitDir, "config")).catch(() => undefined);
  return s && `${s.ino}:${s.size}:${s.mtimeMs}`;
}

export async function addRemote(dir: string, name: string, url: string): Promise<void> {
  await gitClient(dir).raw(["remote", "add", name, url]);
}

/** Clones `remote` into `dir` (relative paths from `cwd`), all of it: a person's clone. */
export async function cloneInto(remote: string, dir: string, cwd: string = process.cwd()): Promise<void> {
  await gitClient(cwd).raw(["clone", "--quiet", remote, dir]);
}

export { cloneCheckout } from "./clone.js";

/** A new bare repository at `dir` (an existing empty directory) whose HEAD names `branch`. */
export async function initBare(dir: string, branch: string): Promise<void> {
  await gitClient(dir).raw(["init", "--quiet", "--bare", `--initial-branch=${branch}`]);
}

/** Points `refs/heads/<branch>` of the repository at `dir` at `commit`. */
export async function setBranch(dir: string, branch: string, commit: string): Promise<void> {
  await gitClient(dir).raw(["update-ref", `refs/heads/${branch}`, commit]);
}

/** What a person does with plain git in their clone: add `paths`, commit them as `author`. */
export async function commitAsPerson(dir: string, paths: string[], author: Author, message: string): Promise<void> {
  const git = gitClient(dir);
  await git.raw(["add", "--", ...paths]);
  await git.raw(["-c", `user.name=${author.name}`, "-c", `user.email=${author.email}`, "commit", "--quiet", "-m", message]);
}

/** `git push <remote> <branch>` from the clone at `dir`. */
export async function pushBranch(dir: string, remote: string, branch: string): Promise<void> {
  await gitClient(dir).raw(["push", "--quiet", remote, branch]);
}

/** A scratch repository at `dir` (made if missing; an existing one is left as it is): an agent's working directory when its order names none. */
export async function initScratch(dir: string): Promise<void> {
  const git = gitClient(dir, { timeout: LOCAL_TIMEOUT });
  await git.raw(["init", "--quiet"]);
  for (const setting of repositorySettings(system())) {
    const [key, value] = setting.split("=") as [string, string];
    await git.raw(["config", key, value]);
  }
}

/** Where git looks for `name` in the git directory of the repository at `repo` (`hooks/pre-commit`: core.hooksPath and worktrees included), absolute. */
export async function gitPath(repo: string, name: string): Promise<string> {
  return resolve(repo, (await gitClient(repo, { timeout: LOCAL_TIMEOUT }).raw(["rev-parse", "--git-path", name])).trim());
}

/** The variables git gives a hook that say which repository and index it works on; a pre-commit hook's check must read the commit's own index. */
const HOOK_ENV = ["GIT_INDEX_FILE", "GIT_DIR", "GIT_WORK_TREE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES"];

/**
 * The paths a commit in the repository at `cwd` would change (staged against
 * HEAD, or against the empty tree for a first commit; renames as a deletion
 * and an addition). In a git hook, the index git names (`git commit <path>`
 * commits from an index of its own) is the one read.
 */
export async function stagedPaths(cwd: string): Promise<string[]> {
  const env: Record<string, string> = {};
  for (const k of HOOK_ENV) if (process.env[k]) env[k] = process.env[k]!;
  const git = gitClient(cwd, { timeout: LOCAL_TIMEOUT, env });
  const head = (await git.raw(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])).trim();
  const base = head || (await git.raw(["hash-object", "-t", "tree", "/dev/null"])).trim();
  return (await git.raw(["diff-index", "--cached", "--name-only", "--no-renames", "-z", base])).split("\0").filter(Boolean);
}

/**
 * The names in the folder `dir` of `branch` as last fetched (`refs/remotes/<remote>/<branch>`, the first
 * remote that has it) in the checkout at `cwd`; undefined when none was fetched. Throws when `cwd` is in no
 * checkout or the folder is not there.
 */
export async function fetchedNames(cwd: string, branch: string, dir: string): Promise<string[] | undefined> {
  const git = gitClient(cwd, { timeout: LOCAL_TIMEOUT });
  const ref = (await git.raw(["for-each-ref", "--count=1", "--format=%(refname)", `refs/remotes/*/${branch}`])).trim();
  if (!ref) return undefined;
  return (await git.raw(["ls-tree", "-z", "--name-only", `${ref}:${dir}`])).split("\0").filter(Boolean);
}
