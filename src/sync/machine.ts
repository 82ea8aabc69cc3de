// A machine as a sync sees it: its config and local state, the hub it talks
// to through the transport seam (src/git/hub.ts), and the checkout a person
// reads, kept up to date when there is one. openMachine builds the real one
// (real git through the checkout in `dir`); tests build one on MemoryHub.
import { CoordError, EXIT } from "../errors.js";
import { Repo } from "../git/git.js";
import type { Hub } from "../git/hub.js";
import { repairCheckout } from "../git/repair.js";
import { remoteUrlOf } from "../git/local.js";
import { budgetsOf, type Budgets, type HostBudget, hostBudgetOf, GITHUB_PUSHES_PER_MINUTE, GITHUB_READS_PER_SECOND } from "../core/hub/reads.js";
import type { Controls } from "../core/hub/controls.js";
import { loadConfig, type MachineConfig } from "../state/config.js";
import { stateDirOf } from "../state/paths.js";
import { type Signing, signingOf } from "../state/trust.js";

/** The working tree beside the hub: what a sync keeps tidy and current, never what it reads the hub through. */
export interface Checkout {
  /** Moves the working tree to `commit` when it safely can; otherwise a warning saying why not. */
  fastForward(commit: string): Promise<string | undefined>;
  /** Clears what interrupted git commands left (stale locks, half-done merges; with fsck, a broken history); what it did. */
  repair(opts: { log: (line: string) => void; fsck: boolean }): Promise<string[]>;
}

/** Everything a cycle works with, loaded once. */
export interface Machine {
  /** Where tasks and hooks run by default, and whose capabilities are published. */
  dir: string;
  /** coord's local state: config, journal, mailbox, logs, locks. */
  stateDir: string;
  config: MachineConfig;
  hub: Hub;
  checkout?: Checkout;
  /** How it signs its commits (state/trust.ts signingOf); undefined: it has no key, and signs nothing. */
  signing?: Signing;
  /** The host of its hub and that host's budgets (core/hub/reads.ts); undefined: GitHub's figures (a hub in memory). */
  host?: HostBudget;
}

/** A machine on a real git checkout: the commands that read the checkout itself use `repo`. */
export interface GitMachine extends Machine {
  repo: Repo;
  checkout: Checkout;
}

/** The machine whose checkout is `dir`; with `signal`, aborting it kills the git command running then. */
export async function openMachine(dir: string, signal?: AbortSignal): Promise<GitMachine> {
  const stateDir = await stateDirOf(dir);
  const config = await loadConfig(stateDir);
  if (!config) throw new CoordError(`${dir} has no coord machine config; run coord init there first`, EXIT.USAGE);
  const repo = new Repo(dir, stateDir, config.remote, config.branch, config.gitTimeout, signal);
  const [signing, url] = await Promise.all([signingOf(config, stateDir, dir), remoteUrlOf(dir, config.remote)]);
  if (signing?.publicKey) repo.useSigningKey(signing.path, signing.key);
  const checkout: Checkout = {
    fastForward: (commit) => repo.fastForward(commit),
    repair: ({ log, fsck }) => repairCheckout(dir, { remote: config.remote, branch: config.branch, log, fsck, timeout: config.gitTimeout }),
  };
  // A remote with no URL (removed by hand): the fetch says so; meanwhile the budgets of a host coord does not know.
  const host = hostBudgetOf(url || "unknown-host:");
  if (host.kind === "local" && url) repo.hubOnDisk = url;
  return { dir, stateDir, config, hub: repo, repo, checkout, host, ...(signing ? { signing } : {}) };
}

/** The budgets `m` works under: what ORDERS.json sets, else its host's (a machine on a hub in memory: GitHub's). */
export function budgetsFor(m: Pick<Machine, "host">, controls: Pick<Controls, "budgets">): Budgets {
  const host = m.host ?? { kind: "github", host: "memory", pushesPerMinute: GITHUB_PUSHES_PER_MINUTE, readsPerSecond: GITHUB_READS_PER_SECOND, source: "GitHub's recommendation" };
  return budgetsOf(controls.budgets, host);
}
