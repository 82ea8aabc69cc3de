// The shield every agent coord starts runs behind: the machine's private keys
// and its secret store cannot be read by the agent's process tree, whatever
// path it builds (a glob, `$(…)`, a symbolic link, a copy of .git, another
// process's /proc/<pid>/root), and the files that say whom this machine trusts
// cannot be changed by it. Redacting output cannot win against a model that
// prints a secret in endless shapes (hex, base32, reversed, split across
// answers); a file the process cannot open can. Pure: the paths, the platform
// and the tool found come from the edge (runner/sandbox.ts).
//
//   Linux   bubblewrap: the whole file system read-only but the holes it
//           may write (its cwd, /tmp, its own copy of its CLI's state;
//           never coord's state: coord's tools for a turn are served from
//           outside), each hidden file covered by /dev/null
//           mounted nodev (opening it is EACCES), each guarded file bound
//           read-only, a user namespace of its own with no capability: no
//           umount of a mask, no way into another process's
//           /proc/<pid>/root, environ or memory. A mask is locked in any
//           namespace the agent makes below it.
//   macOS   sandbox-exec with a profile that denies reading and writing the
//           hidden files and writing the guarded ones (built, not run here:
//           no macOS machine in the tests).
//   others  nothing holds: see `sandboxVerdict`.
import { join } from "node:path";
import { AGENTS, APART_AGENTS, PROJECT_CONFIGS } from "./agents.js";
import { type ConfigEntry, type Env, statePaths } from "./cli/common.js";

/**
 * What an agent must not read (`hide`), the only places it may write (`write`: its cwd, the temp directories, its
 * CLI's own state), and what it must not change inside those (`guard`). Everything else is read-only, coord's state
 * directory whole (its tools for a turn run outside the sandbox: commands/turn-tools.ts). Absolute, resolved paths that
 * exist.
 */
export interface Shield {
  hide: readonly string[];
  guard: readonly string[];
  /** The holes: the agent's cwd, the daemon's own temp directory, the CLI's own state. */
  write: readonly string[];
  /**
   * Read-only again though in a hole: the coord checkout and its git directory (config, hooks, coord's state), wherever it lies,
   * the cwd too. A hole below one (an agent order's scratch directory in coord's state) is bound again after it.
   */
  keep?: readonly string[];
  /**
   * Given to the agent empty, its own (a tmpfs), what it writes there gone with it: /tmp, /var/tmp, /dev/shm, the
   * user's runtime directory. What other processes keep there (a tmux or ssh-agent socket, which would run or sign
   * anything outside the sandbox) is out of its sight, and nothing it leaves there reaches a later turn.
   */
  fresh?: readonly string[];
  /** Sockets it must not reach by their path (the system's D-Bus, docker's): covered as the hidden files are. */
  sockets?: readonly string[];
  /** What it runs that lies below a fresh directory (coord's install, its CLI, a PATH directory in /tmp): seen again, read-only. */
  seen?: readonly string[];
  /** Directories in the cwd bound again where they are, writable, so that they cannot be renamed: the parents of what is kept there (pinnedParents). */
  pin?: readonly string[];
  /**
   * Its CLI's own state, seen at its place (`path`) but kept apart, in coord's state (`store`): what the agent writes
   * there (a session, a memory, a file the CLI reads as its settings) never reaches the person's own sessions of that
   * CLI. bubblewrap only: sandbox-exec cannot show one directory in another's place, so on macOS the agent writes the
   * person's (`path`), as a hole, with its configuration kept read-only (`guard`).
   */
  apart?: readonly Apart[];
  /** The person's login files, seen writable in the agent's apart state (the CLI refreshes its login there). */
  login?: readonly string[];
  /** Directories shown empty (what other turns keep there: their MCP configs, with their tools' tokens), and… */
  veil?: readonly string[];
  /** …the files in them it must see, read-only (its own turn's MCP config). */
  reveal?: readonly string[];
}

/** One directory of a CLI's state given to the agent apart: its `path` as the CLI knows it, its `store` in coord's state. */
export interface Apart {
  path: string;
  store: string;
}

/** The sandbox found on this machine, or why there is none. */
export type SandboxTool = { kind: "bwrap"; path: string } | { kind: "seatbelt"; path: string } | { kind: "none"; why: string };

/** machine.yaml's `agentSandbox`: "on" (the default) runs agents only behind the shield; "off" runs them without it. */
export type SandboxSetting = "on" | "off";

/** How agents start on this machine: behind the shield (`wrap`), without it as the person chose (`bare`), or not at all. */
export type SandboxVerdict = { run: "shielded"; tool: Exclude<SandboxTool, { kind: "none" }> } | { run: "bare"; warning: string } | { run: "refused"; refused: string };

/** The words for the fix, by platform. */
function installHint(platform: string): string {
  if (platform === "linux") return "install bubblewrap (Debian and Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)";
  if (platform === "darwin") return "sandbox-exec (/usr/bin/sandbox-exec, part of macOS) must be there";
  return `coord has no sandbox for ${platform}`;
}

/**
 * Whether and how an agent may start: with a tool, behind it; without one, refused unless the person set
 * `agentSandbox: off`, in which case it runs with a warning that names what it can read.
 */
export function sandboxVerdict(setting: SandboxSetting, tool: SandboxTool, platform: string): SandboxVerdict {
  const exposed = "an agent coord starts could read this machine's private key and secret store and publish them in an answer";
  if (setting === "off") return { run: "bare", warning: `agentSandbox is off (machine.yaml, or COORD_AGENT_SANDBOX=off in coord's environment): ${exposed}` };
  if (tool.kind !== "none") return { run: "shielded", tool };
  return {
    run: "refused",
    refused: `this machine cannot hide its key from an agent (${tool.why}), and ${exposed}: ${installHint(platform)}, or set agentSandbox: off in machine.yaml to run agents without the shield`,
  };
}

/** The holes that lie below a kept directory (an agent order's scratch directory in coord's state): bound again after it. */
const keptHoles = (shield: Shield) => shield.write.filter((path) => (shield.keep ?? []).some((k) => path.startsWith(`${k}/`)));

/**
 * bubblewrap's options for `shield` (before `--` and the command). The agent gets a user namespace of its own and
 * no capability in it: no umount of a mask, and no way into another process's `/proc/<pid>/root`, `environ` or
 * memory, bubblewrap's own outside process included (without the namespace, a root agent with no capabilities could
 * read the key through that one's root, as the test found). As root it is uid 65534 inside, still root on disk: a
 * uid 0 with no capabilities cannot make the sandbox of its own a CLI makes (codex runs its commands in bubblewrap,
 * which then fails "setting up uid map"). It has a PID namespace and a /proc of its own: it sees no process outside,
 * and when the agent's CLI exits (or the turn is stopped) every process it left, one that changed its session and
 * environment included, ends with the namespace. Coord inside it (its MCP server) therefore takes every process it
 * cannot see for alive (state/lock.ts pidAlive): it never judges the daemon or a lock's owner gone.
 *
 * Every path after the root is bound with `-try`: a file listed a moment ago (a lock being released) may be gone
 * when bubblewrap binds it, and a gone file needs no cover.
 */
export function bwrapArgs(shield: Shield, root: boolean): string[] {
  const namespaces = ["--unshare-user", ...(root ? ["--uid", "65534", "--gid", "65534"] : []), "--unshare-pid", "--die-with-parent"];
  // A /dev of its own (null, zero, random, tty…: no disk, no tun, no fuse) and a /proc whose kernel settings stay
  // read-only (as root on disk, /proc/sys/kernel/core_pattern would name a program the kernel runs outside).
  const proc = ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"].flatMap((p) => ["--ro-bind-try", p, p]);
  const args = [...namespaces, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", ...proc];
  // Later mounts cover earlier ones: its own empty temp directories, the holes it may write, then what stays
  // read-only in them (the checkout, even when the cwd holds it), coord's state for its tools, then the masks.
  for (const path of shield.fresh ?? []) args.push("--tmpfs", path);
  for (const path of shield.seen ?? []) args.push("--ro-bind-try", path, path);
  for (const path of shield.write) args.push("--bind-try", path, path);
  for (const path of shield.pin ?? []) args.push("--bind-try", path, path);
  // Its CLI's state in coord's place, the person's login in it (a source is always the machine's own path).
  for (const a of shield.apart ?? []) args.push("--bind-try", a.store, a.path);
  for (const path of shield.login ?? []) args.push("--bind-try", path, path);
  for (const path of shield.keep ?? []) args.push("--ro-bind-try", path, path);
  for (const path of shield.guard) args.push("--ro-bind-try", path, path);
  for (const path of shield.veil ?? []) args.push("--tmpfs", path);
  for (const path of shield.reveal ?? []) args.push("--ro-bind-try", path, path);
  // A hole inside what is kept (an agent order's scratch directory in coord's state) is bound again.
  for (const path of keptHoles(shield)) args.push("--bind-try", path, path);
  for (const path of [...shield.hide, ...(shield.sockets ?? [])]) args.push("--ro-bind-try", "/dev/null", path);
  args.push("--cap-drop", "ALL");
  return args;
}

/**
 * Where an agent CLI keeps its own state (sessions, login, settings), which it must write to work: under `home`, or
 * where its variable in `env` says (its adapter's `state.homes`). An unknown CLI keeps none coord knows of.
 */
export function agentHomes(agent: string, home: string, env: Env): string[] {
  return AGENTS.get(agent)?.state?.homes(statePaths(home, env)) ?? [];
}

export type { ConfigEntry };

/**
 * Of a CLI's own state, what its later sessions read as the person's own word: its settings (hooks, a status line, an
 * API key helper, allow rules), its MCP servers, its instructions and commands, its agents, skills and plugins. A
 * hook an agent wrote there would run in the person's next session, outside any sandbox, with the machine's key in
 * reach. Kept read-only in the CLI's writable state; claude and codex (run for real in the tests: both work with these
 * read-only) have theirs made empty first when missing, so that an agent cannot write the first version. The other
 * CLIs' are kept only where they exist (each adapter's `state.configs`).
 */
export function agentConfigs(agent: string, home: string, env: Env): ConfigEntry[] {
  return AGENTS.get(agent)?.state?.configs(statePaths(home, env)) ?? [];
}

export { APART_AGENTS };

/**
 * What a session of any CLI started in `cwd` reads there as the project's configuration (each adapter's
 * `state.project`): MCP servers it starts, hooks it runs, plugins it loads, with nothing asked. An agent that wrote
 * there would have them run in the person's own session in that directory, outside any sandbox, and in later turns.
 * Kept read-only for every agent coord starts in `cwd`, whichever its CLI; a directory with `empty` is made when missing.
 */
export function projectConfigs(cwd: string): ConfigEntry[] {
  return PROJECT_CONFIGS.map((c) => ({ ...c, path: join(cwd, c.path) }));
}

/**
 * Of a cwd that is a repository's top, what the person's git runs from when they next run git there, outside any
 * sandbox: its git directory, whole (config with core.fsmonitor, core.hooksPath, aliases and filters; hooks; a
 * `commondir` that names another; the index's gitlinks to a nested repository of the agent's), and where a `.git`
 * file points (a linked worktree's, a submodule's git directory, and its common directory: `pointed`). Read-only, as
 * Codex's own sandbox keeps `.git`: the agent changes files, a person commits them. Single files inside a writable
 * `.git` could not hold: the directory itself was renamed away (found attacking it).
 */
export function cwdGitPaths(cwd: string, pointed: readonly string[] = []): string[] {
  return [join(cwd, ".git"), ...pointed];
}

/**
 * The directories between a hole and a path kept read-only inside it (`.opencode/` above `.opencode/plugins/`),
 * bound again where they are, writable, so that they are mount points: renamed away, with a new one made in their
 * place holding what was kept, they would undo the keeping (found attacking it). Ancestors below each hole only.
 */
export function pinnedParents(kept: readonly string[], holes: readonly string[]): string[] {
  const pins = new Set<string>();
  for (const path of kept)
    for (const hole of holes) {
      if (!path.startsWith(`${hole}/`)) continue;
      const parts = path.slice(hole.length + 1).split("/");
      for (let n = 1; n < parts.length; n++) pins.add(`${hole}/${parts.slice(0, n).join("/")}`);
    }
  return [...pins].sort((a, b) => a.length - b.length);
}

/**
 * The directories of `agent`'s state given to it apart, each with its store under `root` (coord's `agent-state/`):
 * `<root>/<agent>/home/<path below home>`, or `<root>/<agent>/root/<path>` for one outside the home. Its directories
 * only (claude's `~/.claude.json` is a file of its configuration: read-only, the person's).
 */
export function apartState(agent: string, home: string, env: Env, root: string): Apart[] {
  if (!APART_AGENTS.has(agent)) return [];
  const base = home.replace(/\/+$/, "");
  return agentHomes(agent, base, env)
    .filter((h) => !h.endsWith(".json"))
    .map((h) => {
      const path = h.replace(/\/+$/, "");
      const below = path.startsWith(`${base}/`) ? `home/${path.slice(base.length + 1)}` : `root/${path.replace(/^\/+/, "")}`;
      return { path, store: `${root}/${agent}/${below}` };
    });
}

/**
 * The person's login files of `agent` (where the CLI keeps one in a file), shared with its apart state: the agent's
 * CLI must read its login and write it back when it refreshes it (each adapter's `state.logins`).
 */
export function agentLogins(agent: string, home: string, env: Env): string[] {
  return AGENTS.get(agent)?.state?.logins?.(statePaths(home, env)) ?? [];
}

/**
 * What stays read-only in the holes because coord or the person runs it later, outside the sandbox: each directory on
 * `path` (PATH's entries, resolved) that lies in a hole (a `git` or `claude` planted there would be run by the
 * daemon), and the directory of each of the `programs` (the CLI as found and as resolved) that lies in one (a CLI
 * installed in its own state, `~/.claude/local`, whose `--version` the daemon asks); the program alone when its
 * directory is the hole itself. Absolute paths only; a relative entry is left.
 */
export function keptInHoles(holes: readonly string[], path: readonly string[], programs: readonly string[]): string[] {
  const inside = (p: string) => holes.find((h) => p === h || p.startsWith(`${h}/`));
  const kept = new Set<string>();
  for (const dir of path) if (dir.startsWith("/") && inside(dir)) kept.add(dir);
  for (const program of programs) {
    if (!program.startsWith("/") || !inside(program)) continue;
    const dir = program.slice(0, program.lastIndexOf("/")) || "/";
    kept.add(holes.includes(dir) ? program : dir);
  }
  return [...kept];
}

/**
 * Of what the agent must run (coord's own install, node, its CLI, the PATH directories), what lies below one of the
 * `fresh` directories (given to it empty) and so must be bound back, read-only: a PATH directory as it is, an
 * installed package by its node_modules directory (a CLI's native part is a package beside it), anything else by
 * its directory.
 */
export function seenAgain(fresh: readonly string[], dirs: readonly string[], programs: readonly string[]): string[] {
  const below = (p: string) => p.startsWith("/") && fresh.some((f) => p.startsWith(`${f}/`));
  const seen = new Set<string>();
  // An installed package by its outermost node_modules (its .bin links point into it, its native part lies beside it).
  const packages = (p: string) => {
    const at = p.indexOf("/node_modules/");
    return at >= 0 ? p.slice(0, at + "/node_modules".length) : undefined;
  };
  for (const dir of dirs) if (below(dir)) seen.add(packages(`${dir}/`) ?? dir);
  for (const program of programs) if (below(program)) seen.add(packages(program) ?? program.slice(0, program.lastIndexOf("/")));
  return [...seen];
}

/**
 * Where coord takes bubblewrap from: the system's directories only, never PATH, which may name a directory an agent
 * can write (a bwrap of its making there would be the next turn's "sandbox").
 */
export const BWRAP_PLACES: readonly string[] = ["/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap"];

/** Whether a program file (as `stat` sees it) can be trusted as the sandbox: root's, and nobody else may change it. */
export function trustedProgram(st: { uid: number; mode: number; isFile: boolean }): boolean {
  return st.isFile && st.uid === 0 && (st.mode & 0o022) === 0 && (st.mode & 0o111) !== 0;
}

/** A string as SBPL (the sandbox profile language) reads it. */
const sbplString = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/**
 * sandbox-exec's profile for `shield`: writes only in the holes (and /dev, for its terminals and null), never to a
 * guarded file; reading and writing the hidden files denied. Later rules win in SBPL.
 */
export function seatbeltProfile(shield: Shield): string {
  const lines = ["(version 1)", "(allow default)", '(deny file-write* (subpath "/"))', '(allow file-write* (subpath "/dev"))'];
  const rule = (verb: string, paths: readonly string[] | undefined) => {
    if (paths?.length) lines.push(`(${verb} file-write* ${paths.map((p) => `(subpath ${sbplString(p)})`).join(" ")})`);
  };
  // No directory in another's place here: its CLI's state is the person's, a hole, its configuration guarded.
  rule("allow", [...shield.write, ...(shield.apart ?? []).map((a) => a.path)]);
  rule("deny", shield.keep);
  rule("allow", keptHoles(shield));
  if (shield.guard.length) lines.push(`(deny file-write* ${shield.guard.map((p) => `(subpath ${sbplString(p)})`).join(" ")})`);
  if (shield.hide.length) lines.push(`(deny file-read* file-write* ${shield.hide.map((p) => `(literal ${sbplString(p)})`).join(" ")})`);
  if (shield.veil?.length) lines.push(`(deny file-read* ${shield.veil.map((p) => `(subpath ${sbplString(p)})`).join(" ")})`);
  if (shield.reveal?.length) lines.push(`(allow file-read* ${shield.reveal.map((p) => `(literal ${sbplString(p)})`).join(" ")})`);
  return `${lines.join("\n")}\n`;
}

/**
 * The command line that runs `argv` behind `shield` with `tool`; with `seccomp`, bubblewrap reads its filter
 * (core/agents/seccomp.ts) from fd 3.
 */
export function shieldedArgv(tool: Exclude<SandboxTool, { kind: "none" }>, shield: Shield, argv: readonly string[], root: boolean, seccomp = false): string[] {
  if (tool.kind === "bwrap") return [tool.path, ...bwrapArgs(shield, root), ...(seccomp ? ["--seccomp", "3"] : []), "--", ...argv];
  return [tool.path, "-p", seatbeltProfile(shield), "--", ...argv];
}

/** Set in a shielded agent's environment: the tool it runs behind (a coord command the agent starts reads it). */
export const SANDBOXED_ENV = "COORD_SANDBOXED";

/** In coord's own environment, "off" is `agentSandbox: off` for every machine of that process (a test run without bubblewrap). */
export const SANDBOX_SETTING_ENV = "COORD_AGENT_SANDBOX";

/** The setting in force: machine.yaml's, unless coord's environment turns the shield off. */
export const sandboxSetting = (config: SandboxSetting, env: string | undefined): SandboxSetting => (env === "off" ? "off" : config);

/**
 * The names in a state directory's listing that may hold a private key: `machine_key`, the rotated ones
 * (`machine_key.<time>`) and a half-written one's temp file; never a `.pub`.
 */
export function privateKeyNames(names: readonly string[]): string[] {
  return names.filter((n) => n === "machine_key" || (n.startsWith("machine_key.") && !n.endsWith(".pub")));
}
