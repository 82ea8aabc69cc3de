// An agent coord starts (a turn on call, an agent order) runs behind the
// machine's shield (core/agents/sandbox.ts): its private keys and secret store
// hidden, the files that say whom it trusts read-only. This is where the
// shield's paths are found on disk and the agent's command line is wrapped.
import { access, constants, readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { privateKeyNames, SANDBOXED_ENV, type Shield, sandboxSetting, SANDBOX_SETTING_ENV, sandboxVerdict, shieldedArgv, type SandboxVerdict } from "../core/agents/sandbox.js";
import { runTask } from "../runner/run.js";
import { onPath, sandboxTool } from "../runner/sandbox.js";
import { configPath } from "../state/config.js";
import { secretsPath } from "../state/secrets.js";
import { pinsPath, signersFiles, signingKeyPath } from "../state/trust.js";
import type { Machine } from "./machine.js";

/** `path` resolved (symbolic links followed), when it is a file that exists. */
async function existing(path: string): Promise<string | undefined> {
  try {
    const real = await realpath(path);
    return (await stat(real)).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

const present = async (paths: string[]) => [...new Set((await Promise.all(paths.map(existing))).filter((p): p is string => p !== undefined))];

/** The files of machine `m` an agent must not read, and those it must not change, as they are on disk now. */
export async function machineShield(m: Pick<Machine, "stateDir" | "config">): Promise<Shield> {
  const names = await readdir(m.stateDir).catch(() => [] as string[]);
  const key = m.config.trust.signingKey ? [signingKeyPath(m.stateDir, m.config.trust.signingKey)] : [];
  const hide = await present([...privateKeyNames(names).map((n) => join(m.stateDir, n)), ...key, secretsPath(m.stateDir)]);
  const signers = signersFiles(m.stateDir, m.config);
  const guard = (await present([configPath(m.stateDir), signers.allowed, signers.revoked, pinsPath(m.stateDir)])).filter((p) => !hide.includes(p));
  return { hide, guard };
}

/** Whether agents start here, and how: the machine's setting against the sandbox this machine has. */
export async function agentSandbox(m: Pick<Machine, "config">): Promise<SandboxVerdict> {
  return sandboxVerdict(sandboxSetting(m.config.agentSandbox, process.env[SANDBOX_SETTING_ENV]), await sandboxTool(), process.platform);
}

/**
 * An agent's command line behind the shield (and the variable that says so), as the setting says, or why it may not
 * start. The program is found on `path` first: one that is not there is refused as a process that cannot start is
 * (runner/run.ts), not left to the sandbox to fail inside.
 */
export async function shieldAgent(
  m: Pick<Machine, "stateDir" | "config">,
  argv: string[],
  o: { program: string; path?: string },
): Promise<{ argv: string[]; env: Record<string, string>; warning?: string } | { refused: string }> {
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
  const shield = await machineShield(m);
  return { argv: shieldedArgv(verdict.tool, shield, [found, ...argv.slice(1)], process.getuid?.() === 0), env: { [SANDBOXED_ENV]: verdict.tool.kind } };
}

/**
 * runTask behind the shield: the agent's command line wrapped (a warning said when the shield is off), or not started,
 * the refusal its error, which a turn answers as "The turn could not start: …".
 */
export function shieldedRun(m: Pick<Machine, "stateDir" | "config">, warn?: (line: string) => void): typeof runTask {
  return async (spec) => {
    const argv = spec.argv ?? ["/bin/sh", "-c", spec.command ?? "true"];
    const s = await shieldAgent(m, argv, { program: spec.program ?? argv[0]!, path: spec.env.PATH });
    if ("refused" in s) return { exitCode: null, signal: null, timedOut: false, aborted: false, tail: "", error: s.refused };
    if (s.warning) warn?.(s.warning);
    const { command: _shell, ...rest } = spec;
    return runTask({ ...rest, argv: s.argv, env: { ...spec.env, ...s.env } });
  };
}
