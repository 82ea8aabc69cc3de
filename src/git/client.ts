// A git client for one directory, with coord's settings and a deadline on
// every command, and the fetch every sync makes. Light to load: coord sync's
// head start and coord init's early clone run it before the CLI loads.
import { gitCommandEnv } from "./env.js";
import { runGit } from "./run.js";

/** Seconds one git command may take when the machine config says nothing (gitTimeout). */
export const DEFAULT_GIT_TIMEOUT = 30;

export interface GitOptions {
  /** Seconds one git command may take in all (not an inactivity timeout). */
  timeout?: number;
  env?: Record<string, string>;
  input?: string | Buffer;
  /** Aborting kills the running git command (a daemon that stops does not wait for a hung fetch). */
  signal?: AbortSignal;
  /** The checkout whose git settings (ssh command, transport) apply, when not the directory git runs in (a clone's). */
  settingsOf?: string;
}

/** Runs git commands in one directory. */
export interface GitClient {
  /** `git <args>`: its stdout as text. */
  raw(args: string[]): Promise<string>;
  /** `git <args>`: its stdout as bytes (cat-file --batch: blobs are not text until decoded). */
  binaryCatFile(args: string[]): Promise<Buffer>;
}

/**
 * A client for `dir` with coord's safety settings: the environment and `-c`
 * settings of env.ts (the user's ssh with BatchMode, the credential proxy, no
 * prompt) and a deadline on every command.
 */
export function gitClient(dir: string, opts: GitOptions = {}): GitClient {
  const { env, config } = gitCommandEnv(opts.settingsOf ?? dir);
  const run = (args: string[]) =>
    runGit([...config, ...args], {
      cwd: dir,
      env: { ...env, ...opts.env },
      timeoutMs: (opts.timeout ?? DEFAULT_GIT_TIMEOUT) * 1000,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  return {
    raw: async (args) => (await run(args)).toString("utf8"),
    binaryCatFile: (args) => run(["cat-file", ...args]),
  };
}

/** The ref `branch` of `remote` is fetched into. */
export function trackingRefOf(remote: string, branch: string): string {
  return `refs/remotes/${remote}/${branch}`;
}

/** Fetches `branch` of `remote` into its tracking ref, as every sync does. */
export async function fetchBranch(git: GitClient, remote: string, branch: string): Promise<void> {
  await git.raw(["fetch", "--quiet", "--no-tags", remote, `+refs/heads/${branch}:${trackingRefOf(remote, branch)}`]);
}

/**
 * Fetches `branch` of `remote` in the checkout `dir` (fetchBranch) and returns
 * the commit its tracking ref names now, as git verifies it; undefined when
 * there is none.
 */
export async function fetchTip(dir: string, remote: string, branch: string, opts: { timeout: number; signal: AbortSignal }): Promise<string | undefined> {
  const git = gitClient(dir, opts);
  await fetchBranch(git, remote, branch);
  const tip = (await git.raw(["rev-parse", "--verify", "--quiet", `${trackingRefOf(remote, branch)}^{commit}`])).trim();
  return /^[0-9a-f]{40,64}$/.test(tip) ? tip : undefined;
}
