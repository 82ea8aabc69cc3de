// The environment and settings of every git command coord runs (client.ts
// builds its clients on these, remote-tip.ts the quiet sync's ls-remote).
import { execFile, execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { nonInteractiveSsh, shellWord } from "../core/hub/ssh.js";
import { processSlot } from "../process-slot.js";

/** Inherited GIT_* variables worth keeping: TLS trust for https remotes, and which config files git reads (the user's setup). */
const PASSTHROUGH_ENV = ["GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM"];

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

/** The config files a change of the user's settings (below) most likely lands in, by their change times. */
function configStamp(dir: string): string {
  let home = "";
  try {
    home = homedir();
  } catch {
    // No HOME and no passwd entry for this uid (a container's --user): no global config to watch.
  }
  // GIT_CONFIG_GLOBAL names the one global file git reads then; GIT_CONFIG_SYSTEM the system one.
  const global = process.env.GIT_CONFIG_GLOBAL
    ? [process.env.GIT_CONFIG_GLOBAL]
    : home
      ? [join(home, ".gitconfig"), join(process.env.XDG_CONFIG_HOME || join(home, ".config"), "git", "config")]
      : [];
  const files = [join(dir, ".git", "config"), ...global, ...(process.env.GIT_CONFIG_SYSTEM ? [process.env.GIT_CONFIG_SYSTEM] : [])];
  return files.map(changedAt).join(":");
}

/** When `file` last changed, "-" when there is none, or why it cannot be looked at (ENOTDIR where .git is a file, EACCES in another user's home). */
function changedAt(file: string): number | string {
  try {
    return statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? "-";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? "?";
  }
}

/** The user's settings coord's git commands follow: core.sshCommand ("" when unset), protocol.version and fetch.negotiationAlgorithm (undefined when unset). */
interface UserSettings {
  sshCommand: string;
  protocol: string | undefined;
  negotiation: string | undefined;
}

/** All three in one git process: `git config --get-regexp` prints `<key> <value>` per line, keys in lower case, the last one wins. */
const SETTINGS_ARGS = ["config", "--get-regexp", "^(core\\.sshcommand|protocol\\.version|fetch\\.negotiationalgorithm)$"];
const settingsOptions = (dir: string) => ({ cwd: dir, env: inheritedEnv(), encoding: "utf8" as const, timeout: 10_000 });

/** The settings in `git config --get-regexp`'s output. */
export function parseUserSettings(out: string): UserSettings {
  const found: UserSettings = { sshCommand: "", protocol: undefined, negotiation: undefined };
  for (const line of out.split("\n")) {
    const space = line.indexOf(" ");
    const key = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? "" : line.slice(space + 1).trim();
    if (key === "core.sshcommand") found.sshCommand = value;
    if (key === "protocol.version") found.protocol = value;
    if (key === "fetch.negotiationalgorithm") found.negotiation = value;
  }
  return found;
}

/**
 * The settings as git reads them in `dir` (every config scope), looked up again when a config file changed;
 * one lookup per process, whichever copy of this module made it (src/process-slot.ts).
 */
const slot = processSlot<{ settings: Map<string, { stamp: string; value: UserSettings }> }>("gitSettings");
slot.settings ??= new Map();
const userSettings = slot.settings;

function remember(dir: string, stamp: string, value: UserSettings): UserSettings {
  if (userSettings.size > 100) userSettings.clear();
  userSettings.set(dir, { stamp, value });
  return value;
}

function settingsIn(dir: string): UserSettings {
  const stamp = configStamp(dir);
  const hit = userSettings.get(dir);
  if (hit && hit.stamp === stamp) return hit.value;
  let out = "";
  try {
    out = execFileSync("git", SETTINGS_ARGS, { ...settingsOptions(dir), stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    // Exit 1: neither is set. ENOENT: a directory that does not exist yet (a clone's target). A timeout: as good as
    // not set. Each time git then uses its defaults, and the sync's own git calls say what is wrong.
  }
  return remember(dir, stamp, parseUserSettings(out));
}

/**
 * Looks the user's settings up for `dir` without blocking, for the next
 * gitCommandEnv(dir) to find (the sync's head start asks them while it reads
 * its files). Never rejects.
 */
export async function lookUpUserSettings(dir: string): Promise<void> {
  const stamp = configStamp(dir);
  if (userSettings.get(dir)?.stamp === stamp) return;
  const out = await new Promise<string>((resolve) => {
    try {
      execFile("git", SETTINGS_ARGS, settingsOptions(dir), (error, stdout) => resolve(error ? "" : stdout));
    } catch {
      resolve(""); // spawn refused at once (a bad cwd, EAGAIN): as if nothing were set
    }
  });
  remember(dir, stamp, parseUserSettings(out));
}

/**
 * The ssh command git would use in `dir`, as git chooses it (GIT_SSH_COMMAND,
 * then core.sshCommand, then GIT_SSH, then ssh), with only BatchMode added:
 * the user's keys, ports and options keep working, and nothing ever prompts.
 */
export function sshCommandFor(dir: string, env: NodeJS.ProcessEnv = process.env): string {
  return sshCommandOf(settingsIn(dir), env);
}

function sshCommandOf(settings: UserSettings, env: NodeJS.ProcessEnv): string {
  return nonInteractiveSsh(env.GIT_SSH_COMMAND || settings.sshCommand || (env.GIT_SSH ? shellWord(env.GIT_SSH) : "ssh"));
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

/**
 * How coord's git commands talk to the hub, where the user's git config says
 * nothing else: one round trip fewer per fetch, ls-remote and clone than git's
 * defaults (CHANGELOG.md, v1 "Start-up": 100 → 60 ms for a fetch over loopback).
 * - protocol version 0: the server speaks first with all its refs, where
 *   version 2 (git's default) first lists its capabilities and then the refs
 *   asked for. A hub has a few refs, so the round trip is worth more than the
 *   filtering. A hub that is a branch of a repository with thousands of refs:
 *   `git config protocol.version 2`.
 * - the "skipping" negotiation: a fetch offers the commits it has at growing
 *   distances instead of one by one, so that a shallow checkout runs out of
 *   them (and says "done") in the first exchange rather than the second.
 */
function transportConfig(settings: UserSettings): string[] {
  return [...(settings.protocol === undefined ? ["-c", "protocol.version=0"] : []), ...(settings.negotiation === undefined ? ["-c", "fetch.negotiationAlgorithm=skipping"] : [])];
}

/** The variables and `-c` settings of a git command coord runs in `dir`: never a prompt, the user's ssh with BatchMode, the credential proxy, the transport. */
export function gitCommandEnv(dir: string): { env: Record<string, string>; config: string[] } {
  const settings = settingsIn(dir); // once: its config files are looked at each time
  return {
    env: { ...inheritedEnv(), GIT_TERMINAL_PROMPT: "0", GIT_SSH_COMMAND: sshCommandOf(settings, process.env), LC_ALL: "C" },
    config: ["-c", "credential.helper=", "-c", `credential.helper=${CREDENTIAL_PROXY}`, ...transportConfig(settings)],
  };
}
