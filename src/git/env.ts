// The environment and settings of every git command coord runs (git.ts builds
// its clients on these; remote-tip.ts runs git directly for the quiet sync,
// which must stay light to load).
import { execFile, execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { nonInteractiveSsh, shellWord } from "../core/ssh.js";

/** Inherited GIT_* variables worth keeping (TLS trust for https remotes). */
const PASSTHROUGH_ENV = ["GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_CONFIG_NOSYSTEM"];

/**
 * The variables git sees besides coord's own: an inherited GIT_* (GIT_DIR of a
 * hook that runs coord), editor, pager or askpass variable would change what
 * git does or make it prompt, so those are dropped, except the passthrough list.
 */
export function inheritedEnv(): Record<string, string> {
  const guarded = /^(git_.*|editor|visual|pager|prefix|ssh_askpass)$/i;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && (!guarded.test(k) || PASSTHROUGH_ENV.includes(k))) env[k] = v;
  return env;
}

/** The config files a change of core.sshCommand most likely lands in, by their change times. */
function configStamp(dir: string): string {
  const home = homedir();
  const files = [join(dir, ".git", "config"), join(home, ".gitconfig"), join(process.env.XDG_CONFIG_HOME || join(home, ".config"), "git", "config")];
  return files.map(changedAt).join(":");
}

/** When `file` last changed, or "-" when there is none: ENOENT, or ENOTDIR where .git is a file (a worktree, a submodule). */
function changedAt(file: string): number | "-" {
  try {
    return statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? "-";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOTDIR") return "-";
    throw e;
  }
}

/** core.sshCommand as git reads it in `dir` (every config scope), looked up again when a config file changed. */
const sshConfigs = new Map<string, { stamp: string; value: string }>();
const SSH_CONFIG_ARGS = ["config", "--get", "core.sshCommand"];
const sshConfigOptions = (dir: string) => ({ cwd: dir, env: inheritedEnv(), encoding: "utf8" as const, timeout: 10_000 });

function remember(dir: string, stamp: string, value: string): string {
  if (sshConfigs.size > 100) sshConfigs.clear();
  sshConfigs.set(dir, { stamp, value });
  return value;
}

function configuredSshCommand(dir: string): string {
  const stamp = configStamp(dir);
  const hit = sshConfigs.get(dir);
  if (hit && hit.stamp === stamp) return hit.value;
  let value = "";
  try {
    value = execFileSync("git", SSH_CONFIG_ARGS, { ...sshConfigOptions(dir), stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    // Exit 1: not set. ENOENT: a directory that does not exist yet (a clone's target). A timeout: as good as
    // not set. Each time git then uses its default ssh, and the sync's own git calls say what is wrong.
  }
  return remember(dir, stamp, value);
}

/**
 * Looks core.sshCommand up for `dir` without blocking, for the next
 * gitCommandEnv(dir) to find (the sync's head start asks it while it reads
 * its files). Never rejects.
 */
export async function lookUpSshCommand(dir: string): Promise<void> {
  const stamp = configStamp(dir);
  if (sshConfigs.get(dir)?.stamp === stamp) return;
  const value = await new Promise<string>((resolve) => execFile("git", SSH_CONFIG_ARGS, sshConfigOptions(dir), (error, stdout) => resolve(error ? "" : stdout.trim())));
  remember(dir, stamp, value);
}

/**
 * The ssh command git would use in `dir`, as git chooses it (GIT_SSH_COMMAND,
 * then core.sshCommand, then GIT_SSH, then ssh), with only BatchMode added:
 * the user's keys, ports and options keep working, and nothing ever prompts.
 */
export function sshCommandFor(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  return nonInteractiveSsh(env.GIT_SSH_COMMAND || configuredSshCommand(dir) || (env.GIT_SSH ? shellWord(env.GIT_SSH) : "ssh"));
}

/**
 * The credential helper coord's git commands use instead of the user's chain:
 * `get` and `store` go to the user's helpers unchanged (`git credential fill`
 * / `approve` without coord's settings, never prompting), and `erase` is
 * ignored. git erases a credential after one failed authentication (a 401 of
 * a server having a bad minute); coord never deletes what the user stored.
 */
export const CREDENTIAL_PROXY =
  '!f() { unset GIT_CONFIG_PARAMETERS GIT_CONFIG_COUNT; case "$1" in get) GIT_TERMINAL_PROMPT=0 git credential fill 2>/dev/null;; store) git credential approve 2>/dev/null;; *) cat >/dev/null;; esac; }; f';

/** The variables and `-c` settings of a git command coord runs in `dir`: never a prompt, the user's ssh with BatchMode, the credential proxy. */
export function gitCommandEnv(dir: string): { env: Record<string, string>; config: string[] } {
  return {
    env: { ...inheritedEnv(), GIT_TERMINAL_PROMPT: "0", GIT_SSH_COMMAND: sshCommandFor(dir), LC_ALL: "C" },
    config: ["-c", "credential.helper=", "-c", `credential.helper=${CREDENTIAL_PROXY}`],
  };
}
