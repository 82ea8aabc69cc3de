// The agent CLIs coord runs, one adapter each (cli/<name>.ts), behind one
// interface (AgentCli): how it runs headless and on call and resumes, what a
// permission level means for it, how to read what it says happened, how it is
// logged in, where it keeps its state, its MCP and hook files, and whether an
// open session of it can be woken. Adding a CLI is one file in cli/ and its
// line in AGENTS below; nothing outside cli/ branches on a CLI's name. Pure.
import type { AgentCli, AgentInvocation, AgentOrder, AgentReader, AgentResult, LoginAnswer, Refusal } from "./adapter.js";
import type { ConfigEntry } from "./cli/common.js";
import { claude } from "./cli/claude.js";
import { codex } from "./cli/codex.js";
import { cursor } from "./cli/cursor.js";
import { gemini } from "./cli/gemini.js";
import { opencode } from "./cli/opencode.js";

export * from "./adapter.js";
export { statePaths, type ConfigEntry, type Env } from "./cli/common.js";

/**
 * What can be told of a CLI's login without asking it (pure: its parsed config file and the environment): what its
 * config names first (a provider whose key variable is set, or not), then an API key in the environment. Undefined:
 * ask its status command.
 */
export function loginWithoutAsking(cli: AgentCli, env: Readonly<Record<string, string | undefined>>, config?: unknown): LoginAnswer | undefined {
  const login = cli.login;
  if (!login) return undefined;
  const fromConfig = config === undefined ? undefined : login.config?.loggedIn(config, env);
  if (fromConfig) return fromConfig;
  const key = login.keys?.find((k) => Boolean(env[k]));
  return key ? { loggedIn: true, via: key } : undefined;
}

/**
 * What coord adds to the environment of `cli` when it starts it (a login or version probe, an order, a turn on call):
 * each of its login variables (`login.keys`) that `env` lacks and the machine's secret store (`store`, a table
 * without prototype) holds under that very name. How a daemon that cannot read the person's login is logged in: a
 * `CLAUDE_CODE_OAUTH_TOKEN` from `claude setup-token`, kept as a coord secret, never in a file the agent reads.
 */
export function loginsFromStore(cli: AgentCli | undefined, env: Readonly<Record<string, string | undefined>>, store: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of cli?.login?.keys ?? []) if (!env[key] && Object.hasOwn(store, key) && store[key]) out[key] = store[key]!;
  return out;
}

/** The agent CLIs a secret named `name` logs in when coord starts them (those whose `login.keys` hold it). */
export const agentsLoggedInBy = (name: string): string[] => [...AGENTS.values()].filter((a) => a.login?.keys?.includes(name)).map((a) => a.name);

/** How `cli` is logged in for a daemon that cannot read the person's login: its own way, else one of its keys as a coord secret. */
export function unattendedLogin(cli: AgentCli): string | undefined {
  const login = cli.login;
  if (login?.unattended) return login.unattended;
  const key = login?.keys?.[0];
  return key ? `coord secret set ${key} with its value on stdin` : undefined;
}

/** The agent CLIs coord knows, by the name an order gives in `agent`. */
export const AGENTS: ReadonlyMap<string, AgentCli> = new Map([claude, codex, opencode, cursor, gemini].map((a) => [a.name, a]));

const having = (part: keyof AgentCli): readonly string[] => [...AGENTS.values()].filter((a) => a[part] !== undefined).map((a) => a.name);

/** The CLIs a machine can be on call with. */
export const ON_CALL_AGENTS = having("onCall");
/** The CLIs `coord agent install` gives coord's MCP server. */
export const MCP_AGENTS = having("mcp");
/** The CLIs `coord agent hooks install` shows the unread messages to. */
export const HOOK_AGENTS = having("hooks");
/** The CLIs whose open session `coord agent listen` wakes. */
export const WAKE_AGENTS = having("wake");

/** Those of them whose session hears the fleet only when coord starts it (`coord agent open`). */
export const OPEN_AGENTS = [...AGENTS.values()].filter((a) => a.wake?.opened !== undefined).map((a) => a.name);
/** The variables that say where any CLI keeps its state (each adapter's `state.variables`), once each. */
export const STATE_VARIABLES: readonly string[] = [...new Set([...AGENTS.values()].flatMap((a) => a.state?.variables ?? []))];
/** The CLIs whose state an agent gets apart from the person's (bubblewrap): those run for real in the tests with it so. */
export const APART_AGENTS: ReadonlySet<string> = new Set([...AGENTS.values()].filter((a) => a.state?.apart).map((a) => a.name));

/** What any CLI reads from a project's directory as its configuration (each adapter's `state.project`), relative to it, once each. */
export const PROJECT_CONFIGS: readonly ConfigEntry[] = [...new Map([...AGENTS.values()].flatMap((a) => a.state?.project ?? []).map((e) => [e.path, e] as const)).values()];

/** The adapter of a CLI coord knows, or undefined. */
export const agentCli = (name: string): AgentCli | undefined => AGENTS.get(name);

/**
 * The argv, stdin and environment of one agent run, or why it cannot be run.
 * An agent coord does not know (a label the machine adds) runs as `<name> <args…> -- <prompt>`
 * and is judged by its exit code; a permission level cannot be given to it.
 */
export function agentInvocation(order: AgentOrder, ctx: { root: boolean; executable?: string; policyFile?: string }): AgentInvocation | Refusal {
  const cli = AGENTS.get(order.agent);
  if (!cli) {
    if (order.permissions)
      return { field: "permissions", refused: `coord does not know how to give ${order.agent} permissions "${order.permissions}"; remove permissions or use a known agent` };
    return { argv: [ctx.executable ?? order.agent, ...(order.args ?? []), "--", order.prompt], env: {} };
  }
  const how = cli.invocation(order, ctx);
  if ("refused" in how) return how;
  return { argv: [ctx.executable ?? cli.executables[0]!, ...how.args], env: how.env, ...(how.input !== undefined ? { input: how.input } : {}) };
}

/** A reader for the agent's output, or undefined when coord cannot read it (judged by exit code). */
export function agentReader(agent: string): AgentReader | undefined {
  return AGENTS.get(agent)?.reader?.();
}

/**
 * The task's outcome from the process's and the agent's word: an agent that
 * says it failed fails with its reason whatever its exit code (exit 0 with
 * every write denied is no success); one that says it succeeded but exited
 * non-zero fails without a reason of its own (its exit code says it).
 */
export function agentVerdict(exitCode: number | null, said: AgentResult): { ok: boolean; reason?: string } {
  if (!said.ok) return { ok: false, reason: said.reason ?? "the agent said it failed" };
  return exitCode === 0 ? { ok: true } : { ok: false };
}

/** What in an agent order its CLI cannot do as written (a permission level, a model id), as the field and a sentence; checked when ORDERS.json is read. */
export function agentOrderProblem(order: AgentOrder): Refusal | undefined {
  // The policy file is written where the order runs: its place does not change what the order may do.
  const how = agentInvocation(order, { root: false, policyFile: "/coord/agent-policy" });
  return "refused" in how ? how : undefined;
}

/** What an agent said of its run, in one line for people: "session 8e6f…, 4 turns, $0.0731, 12020 in / 800 out tokens, denied Write". */
export function describeAgentRun(a: { session?: string; turns?: number; costUsd?: number; tokens?: { input: number; output: number }; denied?: string[] }): string {
  const parts: string[] = [];
  if (a.session) parts.push(`session ${a.session}`);
  if (a.turns !== undefined) parts.push(`${a.turns} turn${a.turns === 1 ? "" : "s"}`);
  if (a.costUsd !== undefined) parts.push(`$${a.costUsd.toFixed(4)}`);
  if (a.tokens) parts.push(`${a.tokens.input} in / ${a.tokens.output} out tokens`);
  if (a.denied?.length) parts.push(`denied ${a.denied.join(", ")}`);
  return parts.join(", ");
}
