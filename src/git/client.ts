// A git client for one directory, with coord's settings and a deadline on
// every command, and the fetch every sync makes. Light to load: coord sync's
// head start and coord init's early clone run it before the CLI loads.
import { joinTip, MACHINES_BRANCH } from "../core/hub/branches.js";
import { isObjectId } from "./dotgit.js";
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
  };
}

/** The ref `branch` of `remote` is fetched into. */
export function trackingRefOf(remote: string, branch: string): string {
  return `refs/remotes/${remote}/${branch}`;
}

/** Whether a failed fetch says that `branch` is not on the remote. */
export function missingBranch(e: unknown, branch: string): boolean {
  return new RegExp(`couldn't find remote ref refs/heads/${branch}\\b`, "i").test(String((e as Error)?.message ?? e));
}

/**
 * Fetches both branches of the hub, `branch` (the people's) and the
 * machines', into their tracking refs in one command, as every sync does. A
 * remote without the machines' branch (a new hub, or one not upgraded yet)
 * is fetched again for `branch` alone, and the machines' tracking ref
 * dropped. `machinesOnly`: the machines' branch alone (none there: nothing),
 * `depth` commits deep (a shallow checkout's first look at it, which must
 * not fetch its whole history).
 */
export async function fetchBranch(git: GitClient, remote: string, branch: string, opts: { machinesOnly?: boolean; depth?: number } = {}): Promise<void> {
  const spec = (b: string) => `+refs/heads/${b}:${trackingRefOf(remote, b)}`;
  if (opts.machinesOnly) {
    const depth = opts.depth === undefined ? [] : [`--depth=${opts.depth}`];
    await git.raw(["fetch", "--quiet", "--no-tags", ...depth, remote, spec(MACHINES_BRANCH)]).catch((e: unknown) => {
      if (!missingBranch(e, MACHINES_BRANCH)) throw e;
    });
    return;
  }
  try {
    await git.raw(["fetch", "--quiet", "--no-tags", remote, spec(branch), spec(MACHINES_BRANCH)]);
  } catch (e) {
    if (!missingBranch(e, MACHINES_BRANCH) || missingBranch(e, branch)) throw e;
    await git.raw(["fetch", "--quiet", "--no-tags", remote, spec(branch)]);
    await git.raw(["update-ref", "-d", trackingRefOf(remote, MACHINES_BRANCH)]).catch(() => {});
  }
}

/**
 * Fetches the commits a look saw a moment ago (`people`, and `machines` when the hub had that branch) by their ids into
 * the tracking refs of `branch` and the machines' branch. Commits this checkout has already (a look brought them) need
 * no connection at all; others are asked of the hub (under protocol version 0, coord's default, only a commit it still
 * advertises as a tip is served). A hub that does not serve a commit by its id fails; the caller then fetches the
 * branches.
 */
export async function fetchCommits(git: GitClient, remote: string, branch: string, people: string, machines: string | undefined): Promise<void> {
  const specs = [`+${people}:${trackingRefOf(remote, branch)}`, ...(machines ? [`+${machines}:${trackingRefOf(remote, MACHINES_BRANCH)}`] : [])];
  await git.raw(["fetch", "--quiet", "--no-tags", remote, ...specs]);
  if (!machines) await git.raw(["update-ref", "-d", trackingRefOf(remote, MACHINES_BRANCH)]).catch(() => {});
}

/** The tip (core/hub/branches.ts joinTip) that the tracking refs of `branch` and the machines' branch name, or undefined when `branch`'s is missing. */
export async function trackedTip(git: GitClient, remote: string, branch: string): Promise<string | undefined> {
  const people = trackingRefOf(remote, branch);
  const machines = trackingRefOf(remote, MACHINES_BRANCH);
  const out = await git.raw(["for-each-ref", "--format=%(refname)%09%(objectname)%09%(objecttype)", people, machines]);
  const tips = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [ref, sha, type] = line.split("\t");
    if (ref && sha && type === "commit" && isObjectId(sha)) tips.set(ref, sha);
  }
  const p = tips.get(people);
  return p === undefined ? undefined : joinTip(p, tips.get(machines));
}

/**
 * Fetches both branches of `remote` in the checkout `dir` (fetchBranch) and
 * returns the tip its tracking refs name now (core/hub/branches.ts joinTip); undefined
 * when there is none.
 */
export async function fetchTip(dir: string, remote: string, branch: string, opts: { timeout: number; signal: AbortSignal }): Promise<string | undefined> {
  const git = gitClient(dir, opts);
  await fetchBranch(git, remote, branch);
  return trackedTip(git, remote, branch);
}
