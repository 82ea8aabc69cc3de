// An agent coord starts (a turn on call, an agent order) runs behind the
// machine's shield (core/agents/sandbox.ts): its private keys and secret store
// hidden, the files that say whom it trusts read-only. This is where the
// shield's paths are found on disk and the agent's command line is wrapped.
import { onPath } from "../platform/executables.js";
import { access, constants, lstat, mkdir, readdir, readFile, realpath, stat, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import {
  agentConfigs,
  agentHomes,
  agentLogins,
  APART_AGENTS,
  apartState,
  keptInHoles,
  seenAgain,
  pinnedParents,
  privateKeyNames,
  cwdGitPaths,
  projectConfigs,
  SANDBOXED_ENV,
  type ConfigEntry,
  type Shield,
  sandboxSetting,
  SANDBOX_SETTING_ENV,
  sandboxVerdict,
  shieldedArgv,
  type SandboxVerdict,
} from "../core/agents/sandbox.js";
import { filterBytes, unixSocketFilter } from "../core/agents/seccomp.js";
import { runTask } from "../runner/run.js";
import { sandboxTool } from "../runner/sandbox.js";
import { configPath } from "../state/config.js";
import { PACKAGE_ROOT } from "../package.js";
import { secretsPath } from "../state/secrets.js";
import { readySeal } from "../state/delegated.js";
import { sealKeyPath } from "../state/seal.js";
import { SHIELDED_DIR, whileShielded } from "../state/shielded.js";
import { describeFailure } from "../failure.js";
import { machineNameProblem } from "../core/files/names.js";
import { parseMessageId } from "../core/messages/messages.js";
import { ON_CALL_AGENT_ENV, ON_CALL_ASKER_ENV, ON_CALL_THREAD_ENV } from "../core/oncall/on-call.js";
import { writeDurably } from "../state/files.js";
import { pinsPath, savePins, signersFiles } from "../state/trust.js";
import { signingKeyPath } from "../state/paths.js";
import type { Machine } from "./machine.js";
import { readListen } from "../state/listen.js";
import { system } from "../platform/system.js";

/** `path` resolved (symbolic links followed), when it exists (a file, or a directory when `dirs`). */
async function existing(path: string, dirs = false): Promise<string | undefined> {
  try {
    const real = await realpath(path);
    const st = await stat(real);
    return st.isFile() || (dirs && st.isDirectory()) ? real : undefined;
  } catch {
    return undefined;
  }
}

const present = async (paths: string[], dirs = false) => [...new Set((await Promise.all(paths.map((p) => existing(p, dirs)))).filter((p): p is string => p !== undefined))];

/** In the state directory: each CLI's state as its agents see it, apart from the person's (core apartState). */
export const AGENT_STATE_DIR = "agent-state";

/** The state directory's directories only the daemon writes in. */
const DAEMON_DIRS = ["logs", "tmp", "on-call", "agents", "services", "listen", AGENT_STATE_DIR, SHIELDED_DIR];

/** Sockets of the system an agent could have run something outside its sandbox through (as root: a system bus, docker). */
const SYSTEM_SOCKETS = ["/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket", "/run/docker.sock", "/var/run/docker.sock", "/run/containerd/containerd.sock"];

/** Where the agent runs and which CLI it is: its cwd and the CLI's own state are the holes it writes beside coord's. */
export interface ShieldFor {
  cwd?: string;
  /** The agent's executable, resolved on PATH: kept read-only when it lies in a hole (its CLI's state). */
  executable?: string;
  /** Files it must see in coord's veiled directories (its turn's own MCP config). */
  sees?: readonly string[];
  /**
   * Whose turn it runs (the thread's asker, a machine's name): its CLI's state is that asker's own copy, so that what
   * one asker's turn leaves there (a memory, a session) never reaches another's. None: an agent order's.
   */
  owner?: string;
  agent?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The files of machine `m` an agent must not read, the places it may write (`o.cwd`, the temp directories, the state
 * directory for coord's own tools, the CLI's own state) and what stays read-only in them, as they are on disk now.
 */
export async function machineShield(m: Pick<Machine, "stateDir" | "config"> & { dir?: string }, o: ShieldFor = {}): Promise<Shield> {
  // What it accepted and whom it pinned are made (empty, as good as none) before, so that they can be kept read-only:
  // an agent must not write the first version of either.
  if (!(await existing(pinsPath(m.stateDir)))) await savePins(m.stateDir, new Map()).catch(() => {});
  const accepted = join(m.stateDir, "trust.json");
  if (!(await existing(accepted))) await writeDurably(accepted, `${JSON.stringify({ version: 1, accepted: {} })}\n`).catch(() => {});
  // So are the signers files where coord keeps them (empty: nobody allowed, nothing revoked, as with none): an agent's
  // first allowed_signers would make its own key sign orders this machine runs. One named elsewhere is the person's.
  const signers = signersFiles(m.stateDir, m.config);
  for (const file of [signers.allowed, signers.revoked])
    if (dirname(file) === m.stateDir && !(await lstat(file).catch(() => undefined))) await writeFile(file, "", { flag: "wx", mode: 0o600 }).catch(() => {});
  // The seal key is made before any agent runs, and hidden from it: an agent can write no file that coord takes for its own.
  await readySeal(m.stateDir);
  // The directories the daemon writes in are there before, so that they are kept read-only (an agent's link in one
  // would be written through, or pruned through).
  for (const d of DAEMON_DIRS) await mkdir(join(m.stateDir, d), { recursive: true, mode: 0o700 }).catch(() => {});
  const names = await readdir(m.stateDir).catch(() => [] as string[]);
  const key = m.config.trust.signingKey ? [signingKeyPath(m.stateDir, m.config.trust.signingKey)] : [];
  const hide = await present([...privateKeyNames(names).map((n) => join(m.stateDir, n)), ...key, secretsPath(m.stateDir), sealKeyPath(m.stateDir)]);
  const env = o.env ?? process.env;
  const home = env.HOME ?? homedir();
  const homes = o.agent ? agentHomes(o.agent, home, env) : [];
  // A CLI's own directory is made if it is not there yet: the CLI could not make it in a read-only home.
  for (const h of homes) if (!h.endsWith(".json")) await mkdir(h, { recursive: true }).catch(() => {});
  // What its later sessions read as the person's word (settings, hooks, MCP servers, instructions): made empty when
  // missing (never replacing what is there), then kept read-only in its state.
  const configs = o.agent ? agentConfigs(o.agent, home, env) : [];
  for (const c of configs)
    if (c.empty !== undefined && !(await lstat(c.path).catch(() => undefined)))
      await (c.dir ? mkdir(c.path, { recursive: true, mode: 0o700 }) : writeFile(c.path, c.empty, { flag: "wx", mode: 0o600 })).catch(() => {});
  // What a session of any CLI started in the cwd later runs as the project's configuration (MCP servers, hooks,
  // plugins: the person's own session there, outside any sandbox): read-only, its directories made (empty) when missing.
  // So is what the person's git runs there, when the cwd is a repository's top: its git directory, whole.
  const cwdGit: ConfigEntry[] = o.cwd ? cwdGitPaths(o.cwd, await pointedGitDirs(o.cwd)).map((path) => ({ path })) : [];
  // The files coord agent listen armed (a plugin, hooks in a project's settings): read-only wherever they are, a project
  // nested below the cwd too, whose open session would load what an agent wrote there (found attacking it).
  const armed: ConfigEntry[] = (await present((await readListen(m.stateDir)).armed)).map((path) => ({ path }));
  const project = [...(o.cwd ? projectConfigs(o.cwd) : []), ...cwdGit, ...armed];
  for (const c of project) if (c.dir && c.empty !== undefined && !(await lstat(c.path).catch(() => undefined))) await mkdir(c.path).catch(() => {});
  // Its CLI's state apart from the person's (bubblewrap only), the person's login shared into it.
  const tool = await sandboxTool();
  const whose = o.owner !== undefined && machineNameProblem(o.owner) === undefined ? join("askers", o.owner) : "orders";
  const apartDirs = o.agent && tool.kind === "bwrap" ? apartState(o.agent, home, env, join(m.stateDir, AGENT_STATE_DIR, whose)) : [];
  for (const a of apartDirs) await mkdir(a.store, { recursive: true, mode: 0o700 });
  const apart = (await Promise.all(apartDirs.map(async (a) => ({ store: await existing(a.store, true), path: await existing(a.path, true) })))).filter(
    (a): a is { store: string; path: string } => !!a.store && !!a.path,
  );
  const login = apart.length && o.agent ? await present(agentLogins(o.agent, home, env)) : [];
  const uid = process.getuid?.();
  const fresh = await present(["/tmp", "/var/tmp", "/dev/shm", "/run/screen", ...(uid !== undefined ? [`/run/user/${uid}`] : [])], true);
  // The daemon's own temp directory stays as it is when it is one of its own below those (a test run's), not /tmp.
  const temp = await present([tmpdir()], true);
  const ownTemp = temp.filter((t) => !fresh.includes(t));
  const shared = (await present([...(o.cwd ? [o.cwd] : []), ...homes], true)).filter((p) => !apart.some((a) => a.path === p));
  const write = [...shared, ...ownTemp];
  // The checkout (its .git: config, hooks, which the daemon's git runs) stays read-only, even in the cwd or a temp directory.
  // What the daemon or the person runs from a hole later (a PATH directory there, the CLI's own install in its state).
  const pathDirs = await present([...new Set([...(env.PATH ?? "").split(":"), ...(process.env.PATH ?? "").split(":")].filter((d) => d.startsWith("/")))], true);
  // As found and as resolved: a link in a hole to a program elsewhere keeps the link; a program in one, its directory.
  const programs = o.executable ? [...new Set([resolve(o.executable), ...(await present([o.executable]))])] : [];
  const run = keptInHoles([...write, ...apart.map((a) => a.path)], pathDirs, programs);
  const keep = [...(await present([...(m.dir ? [m.dir] : []), dirname(m.stateDir), m.stateDir], true)), ...run];
  // coord's state is read-only whole with the checkout's git directory (kept above): a file the daemon replaces during the turn
  // stays so, and none can be made there. Whom it trusts wherever else that is kept, and its CLI's configuration.
  const guard = (
    await present([configPath(m.stateDir), signers.allowed, signers.revoked, pinsPath(m.stateDir), ...configs.map((c) => c.path), ...project.map((c) => c.path)], true)
  ).filter((p) => !hide.includes(p));
  const sockets = [
    ...new Set(
      (await Promise.all(SYSTEM_SOCKETS.map(async (p) => ((await lstat(p).catch(() => undefined))?.isSocket() ? realpath(p).catch(() => p) : undefined)))).filter(
        (p): p is string => !!p,
      ),
    ),
  ];
  // What it must still run from below those (coord's own install and node in /tmp, a PATH directory there: a CI's).
  // The user's home too when it lies there (a CI's HOME=$(mktemp -d)): read-only, as it is for an agent anywhere else.
  const installs = await present([PACKAGE_ROOT, dirname(dirname(process.execPath)), home, homedir()], true);
  const seen = seenAgain(fresh, [...pathDirs, ...installs], programs);
  // Other turns' MCP configs (each names its turn's tools and their token) are out of its sight; its own is seen.
  const veil = await present([join(m.stateDir, "on-call")], true);
  const reveal = await present([...(o.sees ?? [])]);
  // What is kept in the cwd cannot be undone by renaming a directory above it away (.opencode/ above its plugins/).
  const pin = pinnedParents(guard, await present(o.cwd ? [o.cwd] : [], true));
  return { hide, guard, write, keep, fresh, sockets, seen, apart, login, veil, reveal, pin };
}

/** Whether agents start here, and how: the machine's setting against the sandbox this machine has. */
export async function agentSandbox(m: Pick<Machine, "config">): Promise<SandboxVerdict> {
  return sandboxVerdict(sandboxSetting(m.config.agentSandbox, process.env[SANDBOX_SETTING_ENV]), await sandboxTool(), system());
}

/** Whether `agent`'s CLI state is given to it apart from the person's on this machine (behind bubblewrap, a CLI of APART_AGENTS). */
export async function keptApart(m: Pick<Machine, "config">, agent: string): Promise<boolean> {
  const v = await agentSandbox(m);
  return v.run === "shielded" && v.tool.kind === "bwrap" && APART_AGENTS.has(agent);
}

/**
 * An agent's command line behind the shield (and the variable that says so), as the setting says, or why it may not
 * start. The program is found on `path` first: one that is not there is refused as a process that cannot start is
 * (runner/run.ts), not left to the sandbox to fail inside.
 */
export async function shieldAgent(
  m: Pick<Machine, "stateDir" | "config"> & { dir?: string },
  argv: string[],
  o: ShieldFor & { program: string; path?: string },
): Promise<{ argv: string[]; env: Record<string, string>; fdInputs?: Uint8Array[]; warning?: string } | { refused: string }> {
  const verdict = await agentSandbox(m);
  if (verdict.run === "refused") return { refused: verdict.refused };
  if (verdict.run === "bare") return { argv, env: {}, warning: verdict.warning };
  const file = argv[0]!;
  const found = file.includes("/")
    ? (await access(file, constants.X_OK).then(
        () => true,
        () => false,
      ))
      ? file
      : undefined
    : await onPath(file, o.path);
  if (!found) return { refused: file.includes("/") ? `${o.program} does not exist (or cannot be run)` : `${o.program} is not on PATH` };
  const shield = await machineShield(m, { ...o, executable: found }).catch((e: unknown) => describeFailure(e).message);
  if (typeof shield === "string") return { refused: `the shield could not be made (${shield})` };
  // No unix socket for it (a tmux, an ssh-agent, X11's abstract one would run or sign for it outside), where the filter knows the machine.
  const filter = verdict.tool.kind === "bwrap" ? unixSocketFilter(process.arch) : undefined;
  return {
    argv: shieldedArgv(verdict.tool, shield, [found, ...argv.slice(1)], process.getuid?.() === 0, filter !== undefined),
    env: { [SANDBOXED_ENV]: verdict.tool.kind },
    ...(filter ? { fdInputs: [filterBytes(filter)] } : {}),
  };
}

/**
 * runTask behind the shield: the agent's command line wrapped (a warning said when the shield is off), or not started,
 * the refusal its error, which a turn answers as "The turn could not start: …".
 */
export function shieldedRun(m: Pick<Machine, "stateDir" | "config"> & { dir?: string }, warn?: (line: string) => void): typeof runTask {
  return async (spec) => {
    const argv = spec.argv ?? ["/bin/sh", "-c", spec.command ?? "true"];
    // A turn's thread is its asker's conversation (core/oncall/on-call.ts threadAsker): the asker owns its CLI state.
    const owner = spec.env[ON_CALL_ASKER_ENV] ?? parseMessageId(spec.env[ON_CALL_THREAD_ENV] ?? "")?.from;
    const s = await shieldAgent(m, argv, {
      program: spec.program ?? argv[0]!,
      path: spec.env.PATH,
      cwd: spec.cwd,
      // A turn names its CLI (its command line may be coord's driver of it: OpenCode's); an order's is its program.
      agent: spec.env[ON_CALL_AGENT_ENV] ?? agentOf(argv[0]!),
      env: spec.env,
      ...(spec.sees ? { sees: spec.sees } : {}),
      ...(owner ? { owner } : {}),
    });
    if ("refused" in s) return { exitCode: null, signal: null, timedOut: false, aborted: false, tail: "", error: s.refused };
    if (s.warning) warn?.(s.warning);
    const { command: _shell, sees: _sees, ...rest } = spec;
    const run = () => runTask({ ...rest, argv: s.argv, env: { ...spec.env, ...s.env }, ...(s.fdInputs ? { fdInputs: s.fdInputs } : {}) });
    return s.warning ? run() : whileShielded(m.stateDir, run);
  };
}

/** The CLI a command line starts, by its program's name (claude, codex…), as agentHomes knows them. */
const agentOf = (file: string) => basename(file).replace(/(\.cmd|\.exe|\.js)$/, "");

/**
 * Where `<cwd>/.git` points when it is a file (a linked worktree, a submodule: "gitdir: <path>"), and that git
 * directory's common one (its `commondir`), resolved; none when it is a directory or not there.
 */
async function pointedGitDirs(cwd: string): Promise<string[]> {
  const text = await readFile(join(cwd, ".git"), "utf8").catch(() => undefined);
  const to = text === undefined ? undefined : /^gitdir: (.+)$/m.exec(text)?.[1]?.trim();
  if (!to) return [];
  const gitdir = resolve(cwd, to);
  const common = (await readFile(join(gitdir, "commondir"), "utf8").catch(() => ""))?.trim();
  return [gitdir, ...(common ? [resolve(gitdir, common)] : [])];
}
