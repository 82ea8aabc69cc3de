// The one interface every agent CLI's adapter (cli/<name>.ts) fills: how it
// runs headless and on call and resumes, what a permission level means for
// it, how to read what it says happened, how it is logged in, where it keeps
// its state, its MCP and hook files, and whether an open session of it can be
// woken. Types and the permission levels; agents.ts lists the adapters.
import type { ConfigEntry, Json, StatePaths } from "./cli/common.js";
import type { HookPlan } from "./hooks.js";
import type { McpPlan, ServerCommand } from "./mcp-config.js";

export const PERMISSIONS = ["read-only", "edit", "full"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** What an agent said about its run, from its own output. */
export interface AgentResult {
  /** The agent's verdict: false when it says it failed (an error result, max turns, an API error…). */
  ok: boolean;
  /** Why it failed, in the agent's words where it gave them. */
  reason?: string;
  /** Its final message. */
  message?: string;
  /** The session (thread) id, to resume it by hand. */
  session?: string;
  turns?: number;
  costUsd?: number;
  /** The session's whole cost so far, where the CLI says it (OpenCode over ACP): set, the CLI says session totals, and the engine keeps its own count of the session's. */
  sessionCostUsd?: number;
  tokens?: { input: number; output: number };
  /** Tools it was not allowed to use, by name (Claude Code's permission denials). */
  denied?: string[];
  /** The last error it reported, in its words, when it did not succeed (a turn that timed out says it: codex's "Reconnecting..."). */
  lastError?: string;
}

/** How to start one agent run: argv, the prompt on stdin or not, extra environment. */
export interface AgentInvocation {
  argv: string[];
  /** The prompt, when it goes on stdin. */
  input?: string;
  env: Record<string, string>;
}

/** The fields of an agent order an adapter reads. */
export interface AgentOrder {
  agent: string;
  prompt: string;
  model?: string;
  args?: string[];
  permissions?: Permission;
}

/** Why an order cannot be run by its CLI, and the field that says what it cannot do. */
export interface Refusal {
  refused: string;
  field: "permissions" | "model";
}

/** Reads an agent's output line by line and gives its verdict at the end. */
export interface AgentReader {
  line(text: string): void;
  /** The verdict once the process exited; undefined when the output said nothing readable. */
  result(): AgentResult | undefined;
}

export interface AgentCli {
  name: string;
  /** The executables that run it, first found wins. */
  executables: string[];
  /**
   * argv after the executable; or why this order cannot be run by it (a permission level it cannot honour). `policyFile`:
   * where coord wrote the text of `policy` for the order's level (absent: none was written).
   */
  invocation(order: AgentOrder, ctx: { root: boolean; policyFile?: string }): (Omit<AgentInvocation, "argv"> & { args: string[] }) | Refusal;
  /**
   * The text of a policy file coord writes, out of the agent's reach, and names on each command line of a level (Gemini
   * CLI's --admin-policy): what the level denies whatever the project's, an extension's or the agent's own settings say.
   * Undefined: the level needs none.
   */
  policy?(permissions: Permission): string | undefined;
  /** A reader of its machine-readable output; none for an agent coord knows nothing about. */
  reader?: () => AgentReader;
  /** Arguments that print the version. */
  versionArgs: string[];
  /** Arguments that say whether it is logged in, and how to read the answer (undefined: cannot tell). */
  login?: {
    /** Its status command's arguments, and how to read its answer; none: it has no such command (only `keys` tell). */
    status?: { args: string[]; loggedIn(exitCode: number | null, output: string): boolean | undefined };
    how: string;
    /**
     * Variables that log it in without its status command knowing (an API key): when one is set, it counts as usable.
     * A secret of the same name in the machine's store gives it to the CLI when coord's environment lacks it.
     */
    keys?: string[];
    /**
     * How it is logged in for a daemon that cannot read the person's login (started by launchd or over SSH, where the
     * macOS Keychain is out of reach): a command to run once and the secret to store its answer in.
     */
    unattended?: string;
    /**
     * Its config file, when what the config names can log it in without its status command knowing (codex's
     * `model_providers` with an `env_key`): where the file is (from the environment and the home directory), and
     * what the parsed file says (undefined: nothing; ask the status command).
     */
    config?: {
      file(env: Readonly<Record<string, string | undefined>>, home: string): string;
      loggedIn(config: unknown, env: Readonly<Record<string, string | undefined>>): LoginAnswer | undefined;
    };
  };
  /** On call: how a turn of a conversation runs and resumes its session, and how its output is followed. None: it cannot be put on call. */
  onCall?: OnCallCli;
  /** Where it keeps its own state, which it must write to work (sessions, login, settings). */
  state?: {
    /** Its state directories and files. */
    homes(p: StatePaths): string[];
    /** Of its state, what its later sessions read as the person's own word: kept read-only for its agents (sandbox.ts agentConfigs). */
    configs(p: StatePaths): ConfigEntry[];
    /** Its login files, shared with the state an agent gets apart (it reads its login and writes it back when it refreshes it). */
    logins?(p: StatePaths): string[];
    /** Its agents get their state apart from the person's (behind bubblewrap): set only for a CLI run for real so in the tests. */
    apart?: true;
    /**
     * The variables that say where its state is (its home, its config file): what `homes` reads of the environment.
     * The daemon's service (systemd, launchd, cron) carries those set where it was installed, so that its agents find
     * the state the person's own CLI uses.
     */
    variables?: readonly string[];
    /**
     * What it reads from a project's directory as that project's configuration when a session starts there (MCP
     * servers it starts, hooks it runs, plugins), relative to the directory: kept read-only for every agent coord
     * starts there, of any CLI (sandbox.ts projectConfigs). A directory with `empty` is made when missing.
     */
    project?: ConfigEntry[];
  };
  /** Where `coord agent install` puts coord's MCP server. */
  mcp?: McpPlan & {
    /** What a person does next, for a project's file and for the home's. */
    notes: { project: string; global: string };
    /** One project's server goes in this file of the home (Claude Code's local scope), never in the project's file. */
    local?: string;
    /** The variable naming its config directory for every project, and the file there (CODEX_HOME, config.toml). */
    homeVariable?: string;
    homeFile?: string;
    /** Other names of the project's file it reads: the one the project has is changed. */
    alternatives?: string[];
  };
  /** Where `coord agent hooks install` puts the hook that shows the unread messages. */
  hooks?: {
    plan: HookPlan;
    /** The file for every project, below the home. */
    global: string;
    /** A project's file where an older coord wrote its hook (a file teams commit): taken out. */
    former?: string;
    /** What a person does next. */
    notes: string[];
  };
  /**
   * Its open session can be woken by a message (commands/listen.ts): the program its session runs as, how it names
   * the tools a woken turn may call, what becomes of the others, and how `coord agent listen` arms it in a project:
   * hooks in a settings file of the project (Claude Code's asyncRewake hooks; `former`: where an older coord wrote
   * them, taken out), or a plugin file coord writes there (OpenCode's).
   */
  wake?: WakeCli;
}

/** How an open session of a CLI hears the fleet (AgentCli.wake). */
export interface WakeCli {
  program: RegExp;
  /** Its name of coord's MCP tool `t`, as its tool calls name it. */
  tool(t: string): string;
  /** Tools of its own a woken turn runs (they change nothing). */
  free?: readonly string[];
  /**
   * Any other tool call of a woken turn: the person is asked (Claude Code's hook answers "ask"), or it is refused
   * (OpenCode's plugins cannot ask), or coord refuses its own tools and the CLI asks about the rest (Codex opened).
   */
  others: "ask" | "refuse" | "coord-refuses";
  /** The project's settings file the hooks go in, and where an older coord wrote them. */
  settings?: string;
  former?: string;
  /** The plugin coord writes in the project: where, and its text for this machine's paths. */
  plugin?: { file: string; text(p: WakePaths): string };
  /**
   * Its session hears the fleet only when coord starts it (`coord agent open`, actions/codex-open.ts): coord runs
   * the CLI's own server and its TUI on it, and arms nothing in the project. It asks the person about none of coord's
   * tools in a woken turn, so coord's MCP server gates them itself (core/oncall/listen.ts serverGate).
   */
  opened?: {
    /** The arguments of its app-server on unix socket `socket`, serving coord's MCP server as `mcp` runs it. */
    server(socket: string, mcp: ServerCommand): string[];
    /** The arguments of its TUI on the relay's socket, working in `project`, with the person's `more`. */
    tui(socket: string, project: string, more: readonly string[]): string[];
    /** Where its command rules live, and whether a rules file lets a command run without asking (no wake then). */
    rules?: {
      /** `up`: the project's folder first, then each above it, up to its git root (or the file system's). */
      dirs(env: Readonly<Record<string, string | undefined>>, home: string, up: readonly string[]): string[];
      allows(text: string): boolean;
    };
  };
}

/** What a wake plugin names: this machine's node, coord's CLI, the checkout, the folder of woken sessions; and what every wake's text holds. */
export interface WakePaths {
  node: string;
  cli: string;
  dir: string;
  woken: string;
  head: string;
}

/** The on-call settings a turn's command line reads (core/oncall/settings.ts OnCallSettings). */
export interface TurnSetting {
  agent: string;
  permissions: Permission;
  maxTurns?: number;
  maxBudgetUsd?: number;
  model?: string;
}

/** What a CLI does on call. */
export interface OnCallCli {
  /** The arguments of one turn after the executable, its stdin and environment: a new session, or `session` resumed; or why not. */
  turn(
    s: TurnSetting,
    prompt: string,
    session: string | undefined,
    ctx: { root: boolean; mcpConfig?: string; policyFile?: string; spentBefore?: number },
  ): (Omit<AgentInvocation, "argv"> & { args: string[]; wrap?: string[] }) | Refusal;
  /** The step a JSON event of its output shows (a tool call, a command it runs), or undefined. */
  step(e: Json): string | undefined;
  /** The session a JSON event of its output names, as soon as it names one (so a turn cut short keeps its session). */
  session(e: Json): string | undefined;
  /** Its turns are served coord's tools (an MCP config naming them) and ask the asker for a permission through them. */
  tools?: true;
  /** It refuses a cwd that is not inside a git repository. */
  gitRepo?: true;
  /**
   * `turn`'s `wrap` is set: coord's own command with those arguments runs the turn, the CLI's command line after
   * `--` (OpenCode's turns run through coord's driver of the Agent Client Protocol: runner/acp-turn.ts).
   */
  driven?: true;
  /** It holds a turn to `maxBudgetUsd` and says what the turn cost: a turn's spend is counted from it (core/oncall/on-call.ts turnSpend). */
  budgetCap?: true;
  /** Why a tool was denied in one of its turns, for the answer. */
  denied: string;
  /** What it does on call, for a person setting it; "{caps}" is where the caps set go. */
  note: string;
}

/** Whether a CLI can be used, and by what, when coord can tell without asking the CLI. */
export interface LoginAnswer {
  loggedIn: boolean;
  /** What logs it in, or what is missing, for people: "CODEX_API_KEY", "model provider x, its key in X". */
  via: string;
}
