// git clone as coord runs it, light to load: coord init's clone may start
// before the CLI loads (src/startup/early-clone.ts).
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { gitClient } from "./client.js";
import { lookUpUserSettings } from "./env.js";
import { repositorySettings } from "../core/platform/files.js";
import { system } from "../platform/system.js";

export interface CloneOptions {
  /** Where git runs (relative paths are from there); default the process's. */
  cwd?: string;
  /**
   * The checkout whose git settings (ssh command, transport) the clone takes: a checkout being cloned again
   * (src/git/repair.ts). Default: the new checkout's own, as git itself takes them (below).
   */
  settingsOf?: string;
  /** Seconds the clone may take; default DEFAULT_GIT_TIMEOUT (client.ts). */
  timeout?: number;
  /** The remote's name in the clone; default origin. */
  origin?: string;
  /** Aborting kills the clone (git removes what it made). */
  signal?: AbortSignal;
}

/**
 * A machine's checkout of `remote` in `dir` (relative paths from `cwd`): its
 * `branch` alone, no tags, and over a URL only the newest commit
 * (`--depth 1`), so a clone costs the same whatever the history's length;
 * older commits are fetched when a question needs them (src/git/history.ts).
 * A hub on a local path git clones whole whatever is asked (it ignores
 * --depth and hard-links the objects: faster still, and complete). A remote
 * without `branch` yet (an empty hub) is cloned as it is.
 */
export async function cloneCheckout(remote: string, dir: string, branch: string, opts: CloneOptions = {}): Promise<void> {
  const cwd = opts.cwd ?? process.cwd();
  const settingsOf = opts.settingsOf ?? (await cloneSettings(remote, dir, cwd));
  const git = gitClient(cwd, { ...opts, settingsOf });
  const settings = repositorySettings(system()).flatMap((s) => ["--config", s]);
  const args = ["clone", "--quiet", "--depth", "1", "--no-tags", ...settings, ...(opts.origin ? ["--origin", opts.origin] : [])];
  try {
    await git.raw([...args, "--branch", branch, remote, dir]);
  } catch (e) {
    // No such branch yet: the remote as it is (git cleared what the failed clone left in `dir`).
    if (!/remote branch .* not found|could not find remote branch/i.test(String((e as Error).message))) throw e;
    await git.raw([...args, remote, dir]);
  }
}

/** Whether git reaches `remote` through ssh: an ssh:// URL, or scp's form ([user@]host:path, a colon before any slash, not a drive). */
export function overSsh(remote: string): boolean {
  if (/^(ssh|git\+ssh|ssh\+git):\/\//i.test(remote)) return true;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote)) return false;
  const colon = remote.indexOf(":");
  const slash = remote.search(/[\\/]/);
  return colon > 0 && (slash < 0 || colon < slash) && !/^[a-z]:$/i.test(remote.slice(0, colon + 1));
}

/**
 * Whose git settings a clone of `remote` into `dir` takes (cloneCheckout's
 * settingsOf): over ssh, the new checkout's own, looked up before git starts
 * (settingsOfNewCheckout); otherwise where git runs (`cwd`), for the
 * transport settings alone, which change only how fast it goes.
 */
export async function cloneSettings(remote: string, dir: string, cwd = process.cwd()): Promise<string> {
  const target = resolve(cwd, dir);
  return overSsh(remote) && (await settingsOfNewCheckout(target)) ? target : cwd;
}

/** What marks a stub of settingsOfNewCheckout, for a later init to remove when a killed process left one. */
export const SETTINGS_STUB = "coord-settings-stub";

/**
 * Looks up git's settings as the checkout about to be cloned into `dir` will
 * have them, for the clone to use: git applies the new repository's
 * `includeIf "gitdir:..."` to its own clone (a key for each account, by
 * directory), and a lookup where coord runs (in another repository, perhaps)
 * would take the wrong ssh command. A repository's stub (HEAD, objects, refs)
 * stands in `dir` for the lookup, and is removed, with the directories made
 * for it, before git clones there. False when it could not look (the clone
 * then takes the settings of where coord runs).
 */
async function settingsOfNewCheckout(dir: string): Promise<boolean> {
  const stub = join(dir, ".git");
  let made: string | undefined;
  let madeStub = false;
  try {
    made = await mkdir(dir, { recursive: true }); // the first directory it made; none when `dir` is there (empty, to clone into)
    await mkdir(stub); // fails where there is one already: not ours to touch
    madeStub = true;
    await Promise.all([mkdir(join(stub, "objects")), mkdir(join(stub, "refs")), writeFile(join(stub, "HEAD"), "ref: refs/heads/main\n"), writeFile(join(stub, SETTINGS_STUB), "")]);
    await lookUpUserSettings(dir);
    return true;
  } catch {
    return false;
  } finally {
    if (made) await rm(made, { recursive: true, force: true }).catch(() => {});
    else if (madeStub) await rm(stub, { recursive: true, force: true }).catch(() => {});
  }
}
