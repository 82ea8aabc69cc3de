// coord secret set|list|rm: the machine's secret store (.git/coord/secrets.yaml,
// mode 0600), which orders name with {"secret": "<name>"}. Values are never
// printed, never committed.
import { loadConfig } from "../state/config.js";
import { stateDirOf } from "../state/paths.js";
import { listSecrets, removeSecret, setSecret, shownSecretsPath } from "../state/secrets.js";
import { CoordError, EXIT } from "../errors.js";
import { agentsLoggedInBy } from "../core/agents/agents.js";
import { forgetFoundAgents } from "../state/capabilities.js";

/**
 * A secret named as an agent CLI's login variable (CLAUDE_CODE_OAUTH_TOKEN) is given to that CLI when coord starts it
 * and its environment has none: what was found of the CLIs is forgotten, so that the next sync asks them again.
 */
async function loginChanged(stateDir: string, name: string, removed: boolean): Promise<string> {
  const agents = agentsLoggedInBy(name);
  if (!agents.length) return "";
  await forgetFoundAgents(stateDir);
  const gives = removed ? `coord no longer gives it to ${agents.join(", ")}` : `coord gives it to ${agents.join(", ")} as ${name} when its environment has none`;
  return `; ${gives} (the next sync asks them again; a running daemon within 10 minutes)`;
}

/** The state directory of a machine's checkout (refused where no coord init ran: a store there would serve no machine). */
async function machineState(dir: string): Promise<string> {
  const stateDir = await stateDirOf(dir);
  if (!(await loadConfig(stateDir))) throw new CoordError(`${dir} has no coord machine config; run coord init there first`, EXIT.USAGE);
  return stateDir;
}

/** Stores `value` as secret `name`; says where, never what. */
export async function secretSet(dir: string, name: string, value: string): Promise<string> {
  const stateDir = await machineState(dir);
  const replaced = await setSecret(stateDir, name, value);
  return `secret ${name} ${replaced ? "replaced" : "set"} in ${shownSecretsPath(dir, stateDir)}${await loginChanged(stateDir, name, false)}`;
}

export async function secretList(dir: string): Promise<{ store: string[]; variables: string[] }> {
  return listSecrets(await machineState(dir));
}

export async function secretRemove(dir: string, name: string): Promise<string> {
  const stateDir = await machineState(dir);
  const shown = shownSecretsPath(dir, stateDir);
  if (!(await removeSecret(stateDir, name))) throw new CoordError(`secret ${name} is not in ${shown}; coord secret list shows the names it holds`, EXIT.USAGE);
  return `secret ${name} removed from ${shown}${await loginChanged(stateDir, name, true)}`;
}
