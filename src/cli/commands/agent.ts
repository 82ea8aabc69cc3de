import { homedir } from "node:os";
import { type Command, Argument, Option } from "commander";
import { agentHooks, agentMcp } from "../../commands/agent.js";
import { HOOK_AGENTS, MCP_AGENTS, ON_CALL_AGENTS, OPEN_AGENTS, PERMISSIONS, WAKE_AGENTS } from "../../core/agents/agents.js";
import type { Permission } from "../../core/agents/adapter.js";
import { runAcpTurn } from "../../runner/acp-turn.js";
import { MCP_TOOLS } from "../../core/agents/mcp-config.js";
import { resolveDir } from "../dir.js";
import { dirOption, EXIT_CODES, examples, type Io } from "../shared.js";
import { decide, onCall, type OnCallOptions, type OnCallShown, stopTurn } from "../../actions/on-call.js";
import { DIGEST_SHOWN, MAX_SHOWN } from "../../core/oncall/approvals.js";
import { showRequest, shownLines } from "../../actions/approve.js";
import { ON_CALL_FIELDS } from "../../core/oncall/settings.js";
import { CoordError, EXIT } from "../../errors.js";
import { listen, listenGate, listening, listenTyped, listenWait } from "../../commands/listen.js";

/** coord agent install|uninstall <cli> (the MCP server), coord agent hooks install|uninstall <cli>. */
export function registerAgent(program: Command, io: Io): void {
  const agent = program.command("agent").description("set up agent CLIs on this machine to work with coord: its tools (install) and its messages in each prompt (hooks)");
  for (const action of ["install", "uninstall"] as const) {
    agent
      .command(action)
      .description(
        action === "install"
          ? `register coord's MCP server (coord mcp: ${MCP_TOOLS.join(", ")}) in the project's config of that CLI (prints what it changed)`
          : "take coord's MCP server out of that CLI's config again, and nothing else (prints what it changed)",
      )
      .addArgument(new Argument("<cli>", "the agent CLI").choices(MCP_AGENTS))
      .addOption(dirOption())
      .option("--project <dir>", "the project the agent works in (default: the current directory)")
      .option(
        "--global",
        "the CLI's config in your home directory instead (every project): ~/.claude.json, ~/.codex/config.toml ($CODEX_HOME), ~/.config/opencode/opencode.json, ~/.cursor/mcp.json",
      )
      .addHelpText(
        "after",
        `
Files (in the project; --global: in your home):
  claude    ~/.claude.json        projects["<project>"].mcpServers.coord: Claude Code's local scope (this project, this
                                  machine; an older install's entry in the project's .mcp.json is taken out)
  codex     .codex/config.toml    [mcp_servers.coord] (read in a trusted project only)
  opencode  opencode.json         mcp.coord (opencode.jsonc when the project has that one)
  cursor    .cursor/mcp.json      mcpServers.coord
The server runs as: <node> <coord>/dist/coord.mjs mcp --dir <checkout> (absolute paths).
${EXIT_CODES}${examples(`coord agent ${action} claude --project ~/dev/app --dir ~/fleet`, `coord agent ${action} codex --global`, `coord agent ${action} opencode`, `coord agent ${action} cursor --project .`)}`,
      )
      .action(async (cli: string, o: { dir?: string; project?: string; global?: boolean }) => {
        const r = await agentMcp({
          dir: action === "install" ? await resolveDir(o.dir) : (o.dir ?? "."),
          agent: cli,
          ...(o.global ? { home: homedir() } : { project: o.project ?? process.cwd() }),
          uninstall: action === "uninstall",
        });
        for (const line of r.changes) io.out(line);
        for (const note of r.notes) io.out(`note: ${note}`);
      });
  }
  const hooks = agent.command("hooks").description("show this machine's unread messages to agent sessions (Claude Code, Codex, Cursor, OpenCode)");
  for (const action of ["install", "uninstall"] as const) {
    hooks
      .command(`${action}`)
      .description(
        action === "install"
          ? "write the hook that puts unread messages into each prompt's context, into the project's config of that CLI (prints what it changed)"
          : "take out exactly what install wrote (prints what it changed)",
      )
      .addArgument(new Argument("<cli>", "the agent CLI").choices(HOOK_AGENTS))
      .addOption(dirOption())
      .option("--project <dir>", "the project the agent works in (default: the current directory)")
      .option("--global", "the CLI's config in your home directory instead (every project)")
      .addHelpText(
        "after",
        EXIT_CODES +
          examples(`coord agent hooks ${action} claude --project ~/dev/app --dir ~/fleet`, `coord agent hooks ${action} codex --global`, `coord agent hooks ${action} opencode`),
      )
      .action(async (cli: string, o: { dir?: string; project?: string; global?: boolean }) => {
        const r = await agentHooks({
          dir: action === "install" ? await resolveDir(o.dir) : (o.dir ?? "."),
          agent: cli,
          ...(o.global ? { home: homedir() } : { project: o.project ?? process.cwd() }),
          uninstall: action === "uninstall",
        });
        for (const line of r.changes) io.out(line);
        for (const note of r.notes) io.out(`note: ${note}`);
      });
  }
  registerOnCall(agent, io);
  registerListen(agent, io);
  registerOpen(agent);
  registerApprovals(program, io);
}

/** coord agent listen claude: open sessions that wake on a message; coord agent listen-wait: the hooks' waiter. */
function registerListen(agent: Command, io: Io): void {
  agent
    .command("listen")
    .description("an open session of an agent CLI in the project wakes when a message for this machine arrives from a sender you allow, with nobody typing")
    .addArgument(new Argument("[cli]", `the agent CLI (one whose open session coord can wake: ${WAKE_AGENTS.join(", ")})`).choices(WAKE_AGENTS))
    .addOption(dirOption())
    .option("--project <dir>", "the project whose sessions listen (claude: its .claude/settings.local.json; opencode: its .opencode/plugins/; default: the current directory)")
    .option("--from <machines>", "who may wake a session: machine names separated by commas, or ALL (nobody by default)")
    .option("--off", "nobody may wake a session; take coord's waiter out of the project")
    .option("--json", "with no cli: print who may wake a session and which sessions listen, as JSON")
    .addHelpText(
      "after",
      `
With claude, it arms coord's hooks in the project's .claude/settings.local.json (this machine's paths, in the
file Claude Code keeps out of git): a waiter on SessionStart and Stop (asyncRewake), a gate on PreToolUse and
a look at UserPromptSubmit. With opencode, it writes a plugin, .opencode/plugins/coord-listen.js (this
machine's paths: keep it out of git), that does the same in OpenCode's TUI from the end of a session's first
turn. With codex, it arms nothing in the project: start the session with coord agent open codex, which runs
Codex's TUI on an app-server coord relays and feeds. When a message from an allowed machine is delivered (by this machine's daemon), the idle session gets a
turn with it, framed as a colleague's message (its id, its thread), and the message is marked read. Until the
person types, that session runs by itself only coord's read tools (whoami, inbox, thread, status) and a send
that answers the machine that woke it, in its thread; every other tool call asks the person (claude, in every
permission mode; codex asks in its TUI, and coord refuses its own tools) or is refused
(opencode: a plugin cannot ask). What it sends is marked as an agent's (counted
in the chain of 8). Requests for a permission never wake a session: a person answers those. Without a cli:
who may wake a session, and which sessions listen.
${EXIT_CODES}${examples(
  "coord agent listen claude --from soda-yeti,izzit7 --project ~/dev/app --dir ~/fleet",
  "coord agent listen claude --from ALL --dir ~/fleet",
  "coord agent listen --dir ~/fleet            # who may wake, which sessions listen",
  "coord agent listen opencode --from izzit7 --project ~/dev/app --dir ~/fleet",
  "coord agent listen codex --from izzit7 --dir ~/fleet && coord agent open codex --dir ~/fleet",
  "coord agent listen claude --off --project ~/dev/app --dir ~/fleet",
)}`,
    )
    .action(async (cli: string | undefined, o: { dir?: string; project?: string; from?: string; off?: boolean; json?: boolean }) => {
      const dir = await resolveDir(o.dir);
      if (!cli) {
        if (o.from || o.off) throw new CoordError("name the CLI: coord agent listen claude --from <machines> (or --off)", EXIT.USAGE);
        const r = await listening(dir);
        if (o.json) return io.out(JSON.stringify(r, null, 2));
        io.out(`who may wake an open session: ${r.from === "ALL" ? "ALL" : r.from.length ? r.from.join(", ") : "nobody"}`);
        if (r.sessions.length === 0) io.out("no open session listens now");
        for (const x of r.sessions) io.out(`listening: session ${x.id} (pid ${x.waiter.session}${x.waiter.cwd ? `, in ${x.waiter.cwd}` : ""}) since ${x.waiter.since}`);
        return;
      }
      if (o.off && o.from) throw new CoordError("--off and --from: give one of them", EXIT.USAGE);
      const from =
        o.from === undefined
          ? undefined
          : o.from.trim() === "ALL"
            ? ("ALL" as const)
            : o.from
                .split(",")
                .map((x) => x.trim())
                .filter(Boolean);
      const r = await listen({ dir, agent: cli, project: o.project ?? process.cwd(), ...(from ? { from } : {}), ...(o.off ? { off: true } : {}) });
      for (const line of r.changes) io.out(line);
      for (const note of r.notes) io.out(`note: ${note}`);
    });
  agent
    .command("listen-wait", { hidden: true })
    .description("the waiter coord agent listen arms in a CLI's hooks or plugin: exits 2 with a message's text when one wakes the session")
    .addOption(dirOption())
    .option("--gated", "armed with the gate on a woken turn's tools (an older setup without it wakes nothing)")
    .addOption(new Option("--agent <cli>", "the CLI whose session it serves (default: claude, as an older setup armed it)").choices(WAKE_AGENTS))
    .action(async (o: { dir?: string; gated?: boolean; agent?: string }) => {
      // Exit 2 means a wake (its text on stderr goes to the model): a failure of the waiter's never exits so, whatever
      // its kind, or its words would reach the session as a wake, or as the person's prompt (found attacking it).
      try {
        const code = await listenWait({
          dir: await resolveDir(o.dir),
          stdin: process.stdin,
          stderr: (t) => process.stderr.write(`${t}\n`),
          gated: o.gated === true,
          ...(o.agent ? { agent: o.agent } : {}),
        });
        process.exitCode = code;
      } catch (e) {
        if (e instanceof CoordError && e.exitCode !== EXIT.USAGE) throw e;
        throw new CoordError(e instanceof Error ? e.message : String(e), EXIT.FAILURE);
      }
    });
  agent
    .command("acp-turn", { hidden: true })
    .description(
      "a turn of an agent on call over the Agent Client Protocol (OpenCode), run by the engine inside the turn's sandbox: the prompt on stdin, the turn printed as opencode run --format json lines",
    )
    .argument("<command...>", "the CLI's ACP command line, after --")
    .option("--session <id>", "the session to resume")
    .option("--permissions <level>", "the turn's permissions", "read-only")
    .option("--spent <usd>", "the session's cost before this turn")
    .option("--mcp-config <file>", "the turn's coord tools, where a permission is asked")
    .option("--secret-env <name>", "a variable set to a fresh random secret for the CLI alone (OpenCode's server password)")
    .action(async (command: string[], o: { session?: string; permissions: string; spent?: string; mcpConfig?: string; secretEnv?: string }) => {
      if (!(PERMISSIONS as readonly string[]).includes(o.permissions)) throw new CoordError(`--permissions ${o.permissions}: give ${PERMISSIONS.join(", ")}`, EXIT.USAGE);
      const spent = o.spent === undefined ? undefined : Number(o.spent);
      if (spent !== undefined && !(Number.isFinite(spent) && spent >= 0)) throw new CoordError(`--spent ${o.spent}: give a number of dollars`, EXIT.USAGE);
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      process.exitCode = await runAcpTurn({
        command,
        prompt: Buffer.concat(chunks).toString("utf8"),
        cwd: process.cwd(),
        env: process.env,
        permissions: o.permissions as Permission,
        ...(o.session ? { session: o.session } : {}),
        ...(spent !== undefined ? { spentBefore: spent } : {}),
        ...(o.mcpConfig ? { mcpConfig: o.mcpConfig } : {}),
        ...(o.secretEnv ? { secretEnv: [o.secretEnv] } : {}),
        print: (line) => process.stdout.write(`${line}\n`),
        log: (line) => process.stderr.write(`${line}\n`),
      });
    });
  agent
    .command("listen-gate", { hidden: true })
    .description(
      "the gate coord agent listen arms (a PreToolUse hook, a plugin's tool.execute.before): while the fleet woke the session, only coord's read tools and an answer in the thread run by themselves",
    )
    .addOption(dirOption())
    .addOption(new Option("--agent <cli>", "the CLI whose tool call it is (default: claude, as an older setup armed it)").choices(WAKE_AGENTS))
    .action(async (o: { dir?: string; agent?: string }) => {
      const out = await listenGate({ dir: await resolveDir(o.dir), stdin: process.stdin, ...(o.agent ? { agent: o.agent } : {}) });
      if (out) io.out(out);
    });
  agent
    .command("listen-typed", { hidden: true })
    .description("the look at a prompt coord agent listen arms (a UserPromptSubmit hook, a plugin's chat.message): the person typing makes a woken session theirs again")
    .addOption(dirOption())
    .addOption(new Option("--agent <cli>", "the CLI whose prompt it is").choices(WAKE_AGENTS))
    .action(async (o: { dir?: string }) => {
      await listenTyped({ dir: await resolveDir(o.dir), stdin: process.stdin });
    });
}

/** coord approve / coord deny <request>: answer an agent on call's request for a permission. */
function registerApprovals(program: Command, io: Io): void {
  program
    .command("approve")
    .description(
      "approve an agent on call's request for a permission (a message marked as a request): a reply /approve in its thread, published at once; on the machine whose agent asked, decided there. It allows the tool call with exactly the input the request shows (its agent.input, whose sha256 is agent.digest: coord inbox --json); a request already decided, timed out or whose turn answered is refused (nothing waits, nothing sent)",
    )
    .argument("<request>", "the request's message id (coord inbox shows it)")
    .option("--always", "allow that tool without asking for the rest of the conversation's session")
    .option("--show", "approve nothing: print the request's whole input (what nobody can see written as \\u escapes) and its digest")
    .option("--digest <hex>", `the first ${DIGEST_SHOWN} (or more) hex digits of the request's sha256, as --show prints them: needed when its text showed part of its input`)
    .addOption(dirOption())
    .addHelpText(
      "after",
      `
A request shows its input whole in its text up to ${MAX_SHOWN} characters; a longer one shows its head and its tail.
You approve only what you were shown: approving a request whose text showed part of its input is refused (exit 2,
nothing sent) until you name its digest, which only --show prints, with the whole input.
${EXIT_CODES}${examples(
  "coord approve soda-yeti/izzit7/5",
  "coord approve soda-yeti/izzit7/5 --always",
  "coord approve soda-yeti/izzit7/6 --show   # a long request: read it all",
  "coord approve soda-yeti/izzit7/6 --digest 3f2a9c1b7d4e",
)}`,
    )
    .action(async (request: string, o: { dir?: string; always?: boolean; show?: boolean; digest?: string }) => {
      if (o.show) {
        for (const line of shownLines(await showRequest(await resolveDir(o.dir), request))) io.out(line);
        return;
      }
      const r = await decide({
        dir: await resolveDir(o.dir),
        request,
        behavior: "allow",
        ...(o.always ? { always: true } : {}),
        ...(o.digest !== undefined ? { digest: o.digest } : {}),
      });
      io.out(r.here ? `approved ${r.id} here` : `approved ${r.id}: sent ${r.sent} into its thread`);
    });
  program
    .command("deny")
    .description(
      "deny an agent on call's request for a permission: a reply /deny in its thread (with the reason, for the agent), published at once; a request already decided, timed out or whose turn answered is refused (nothing waits, nothing sent)",
    )
    .argument("<request>", "the request's message id (coord inbox shows it)")
    .argument("[reason...]", "why, for the agent")
    .addOption(dirOption())
    .addHelpText("after", EXIT_CODES + examples("coord deny soda-yeti/izzit7/5", 'coord deny soda-yeti/izzit7/5 "not on the production database"'))
    .action(async (request: string, reason: string[], o: { dir?: string }) => {
      const why = reason.join(" ").trim();
      const r = await decide({ dir: await resolveDir(o.dir), request, behavior: "deny", ...(why ? { reason: why } : {}) });
      io.out(r.here ? `denied ${r.id} here` : `denied ${r.id}: sent ${r.sent} into its thread`);
    });
}

/** A number given for `flag`, or one sentence saying what to give. */
const numberOf = (flag: string, whole: boolean) => (value: string) => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || (whole && !Number.isInteger(n)))
    throw new CoordError(`${flag} must be a ${whole ? "whole number" : "number"} above 0, not "${value}"`, EXIT.USAGE);
  return n;
};

/** The exit codes of coord agent on-call (those of sync are not its own). */
const ON_CALL_EXIT_CODES = `
Exit codes:
  0  done: the setting written, shown or taken off
  1  a failure (the checkout could not be read or written)
  2  bad usage: a setting refused (nothing changed), or the onCall: block in machine.yaml is broken (its line is named)`;

/** coord agent on-call [cli] (set, show, --off), coord agent stop <thread>. */
function registerOnCall(agent: Command, io: Io): void {
  const onCallCommand = agent
    .command("on-call")
    .description(
      "put this machine's agent CLI on call: each message from the machines named starts a turn in a session per conversation, and its answer goes back as a reply (no argument: show the setting and the running turns)",
    )
    .argument("[cli]", `the agent CLI: ${ON_CALL_AGENTS.join(", ")}`)
    .addOption(dirOption());
  // The setting's flags, from its one field table (core/oncall/settings.ts).
  for (const f of ON_CALL_FIELDS) {
    const flags = `${f.flag} <${f.value}>`;
    if (f.kind === "int" || f.kind === "number") onCallCommand.option(flags, f.help, numberOf(f.flag, f.kind === "int"));
    else onCallCommand.option(flags, f.help);
  }
  onCallCommand
    .option("--off", "take the machine off call (a running turn finishes)")
    .option(
      "--spent-today <usd>",
      "set today's spend (UTC) by hand: after a damaged .git/coord/on-call.json lost it, the daily budget counts as spent until this is given",
      (value: string) => {
        const n = Number(value);
        if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new CoordError(`--spent-today must be an amount in USD, 0 or more, not "${value}"`, EXIT.USAGE);
        return n;
      },
    )
    .option("--json", "print the setting and the turns as JSON")
    .addHelpText(
      "after",
      `
The setting is the onCall: block of .git/coord/machine.yaml (a person may edit it by hand). A message starts a turn
when it comes from a machine in --from, its signature verifies, and it is not an agent's answer; a reply continues the
conversation's session; a reply /stop stops the running turn. The machine's daemon runs the turns (without one, each
coord sync runs them before it publishes). Name the CLI first: --from and --allow-tool take every word after them.
See docs/agents.md, "Agents on call".
${ON_CALL_EXIT_CODES}${examples(
  "coord agent on-call claude --cwd ~/dev/dao --from izzit7 --dir ~/fleet",
  "coord agent on-call codex --cwd ~/dev/app --from izzit7,soda-yeti --permissions edit --timeout 45m --dir ~/fleet",
  "coord agent on-call claude --cwd ~/dev/dao --from ALL --max-turns 30 --max-budget-usd 2 --daily-budget-usd 20 --dir ~/fleet",
  "coord agent on-call --dir ~/fleet",
  "coord agent on-call --off --dir ~/fleet",
)}`,
    )
    .action(async (cli: string | undefined, o: Omit<OnCallOptions, "dir" | "agent" | "allowTools" | "path"> & { dir?: string; allowTool?: string[]; json?: boolean }) => {
      if (o.off && cli !== undefined) throw new CoordError("--off takes no CLI: coord agent on-call --off", EXIT.USAGE);
      // Commander sets only the options given: the rest stay absent, as onCall takes them.
      const { dir, allowTool, json: _json, spentToday, ...given } = o;
      if (cli === undefined && !o.off) {
        const missing = withoutCli(given, allowTool);
        if (missing) throw new CoordError(missing, EXIT.USAGE);
      }
      const r = await onCall({
        ...given,
        ...(spentToday !== undefined ? { spentToday } : {}),
        dir: await resolveDir(dir),
        ...(cli !== undefined ? { agent: cli } : {}),
        ...(allowTool !== undefined ? { allowTools: allowTool.flatMap((t) => t.split(",")).filter(Boolean) } : {}),
      });
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else for (const line of onCallLines(r)) io.out(line);
      if (r.problem && !o.json) process.exitCode = EXIT.USAGE;
    });
  agent
    .command("stop")
    .description("stop the running turn of an on-call conversation on this machine (its process group; the thread is told, with what the agent said last)")
    .argument("<thread>", "the conversation: its first message's id, or any message of it (coord agent on-call lists them)")
    .addOption(dirOption())
    .addHelpText("after", EXIT_CODES + examples("coord agent stop izzit7/soda-yeti/3"))
    .action(async (thread: string, o: { dir?: string }) => {
      const r = await stopTurn({ dir: await resolveDir(o.dir), thread });
      io.out(`stopped the turn of thread ${r.thread} (process group ${r.pid})`);
    });
}

/**
 * Options that set the on-call setting with no CLI named: one sentence, never a silent show of the setting. A CLI
 * written after --from or --allow-tool was taken as one of their names (commander's variadic options take every
 * word after them).
 */
export function withoutCli(given: Record<string, unknown>, allowTool: string[] | undefined): string | undefined {
  const setting = Object.keys(given).filter((k) => given[k] !== undefined);
  if (setting.length === 0 && allowTool === undefined) return undefined;
  const taken = [...((given.from as string[] | undefined) ?? []), ...(allowTool ?? [])].find((w) => (ON_CALL_AGENTS as readonly string[]).includes(w));
  if (taken)
    return `no CLI named: "${taken}" was taken as a name of --from or --allow-tool (they take every word after them); put the CLI first: coord agent on-call ${taken} --cwd <dir> --from <machines>`;
  return `no CLI named: give the CLI first to set the on-call setting: coord agent on-call <${ON_CALL_AGENTS.join("|")}> --cwd <dir> --from <machines>`;
}

/** The setting and the turns, for people. */
export function onCallLines(r: OnCallShown): string[] {
  const lines: string[] = [];
  if (r.changed) lines.push(r.changed);
  if (r.problem) lines.push(`not on call: ${r.problem}`);
  else if (!r.settings) lines.push(`${r.machine} is not on call (coord agent on-call <cli> --cwd <dir> --from <machines> puts it on call)`);
  else {
    const s = r.settings;
    const caps = [
      s.maxTurns !== undefined ? `max ${s.maxTurns} turns` : "",
      s.maxBudgetUsd !== undefined ? `max $${s.maxBudgetUsd} a message` : "",
      s.dailyBudgetUsd !== undefined ? `max $${s.dailyBudgetUsd} a day` : "",
    ].filter(Boolean);
    lines.push(
      `${r.machine} is on call with ${s.agent} in ${s.cwd}, for ${s.from === "ALL" ? "every machine" : s.from.join(", ")}; permissions ${s.permissions}, timeout ${s.timeout} s, ${s.maxParallel} at once${caps.length ? `, ${caps.join(", ")}` : ""}`,
    );
  }
  if (r.damaged) lines.push(`warning: ${r.damaged}`);
  if (r.spendHeld)
    lines.push(`spent today: unknown (lost with the damaged on-call state): the daily budget counts as spent for today (UTC); coord agent on-call --spent-today <usd> sets it`);
  else if (r.spentToday !== undefined) lines.push(`spent today: $${r.spentToday.toFixed(4)}`);
  for (const t of r.running)
    lines.push(
      t.gone
        ? `interrupted: thread ${t.thread} for ${t.asker} (its coord process is gone; the next daemon or sync tells the thread)`
        : `running: thread ${t.thread} for ${t.asker} since ${t.since}${t.step ? `, at: ${t.step}` : ""}`,
    );
  for (const w of r.waiting ?? []) lines.push(`waiting for ${w.asker} to approve or deny ${w.tool} since ${w.since}: request ${w.request}`);
  for (const t of r.threads) lines.push(`thread ${t.thread}: ${t.agent}${t.session ? ` session ${t.session}` : ""}${t.queued ? `, ${t.queued} waiting` : ""}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines;
}

/** coord agent open codex: an open session coord starts, which hears the fleet. */
function registerOpen(agent: Command): void {
  agent
    .command("open")
    .description("start an open session of an agent CLI in this terminal that hears the fleet (codex: its TUI on an app-server coord starts and feeds)")
    .addArgument(new Argument("<cli>", `the agent CLI (one coord starts to wake it: ${OPEN_AGENTS.join(", ")})`).choices(OPEN_AGENTS))
    .argument("[args...]", "more arguments for the CLI's TUI, after --")
    .addOption(dirOption())
    .option("--project <dir>", "where the session works (default: the current directory)")
    .option("--with-allow-rules", "wake it even when Codex has command rules: a woken turn runs the commands they allow unasked")
    .addHelpText(
      "after",
      `
Codex can start no turn from a hook, but its TUI can run on an app-server. coord agent open codex starts
codex app-server on a socket of its own, then the TUI on a socket coord relays (codex --remote): the TUI is in
this terminal as ever, with coord's MCP server in it. When a message from a machine coord agent listen codex
--from allows arrives (with this machine's daemon running) and the session is idle, coord starts a turn in the
TUI's thread with it, framed as a colleague's message. That turn runs under Codex's untrusted approvals and a
read-only sandbox, answered by you: Codex asks you in the TUI before any command, edit or tool not marked
read-only; coord's read tools run, and coord's send runs only as an answer to the machine that woke it, in its
thread (anything else is refused). Your next prompt gets your own settings back and makes the session yours
again. What you type while a woken turn runs joins that turn, which keeps its rules. No message wakes it once
Codex has command rules ("don't ask again": $CODEX_HOME/rules, /etc/codex/rules, .codex/rules up to the git root),
which may run a command unasked, outside its sandbox: coord's log says so. Goals and subagents are off in it.
When the TUI ends, the app-server and everything it started end.
${EXIT_CODES}${examples(
  "coord agent listen codex --from izzit7,soda-yeti --dir ~/fleet      # who may wake it",
  "coord agent open codex --project ~/dev/app --dir ~/fleet",
  "coord agent open codex --dir ~/fleet -- --model gpt-5.1-codex",
)}`,
    )
    .action(async (cli: string, args: string[], o: { dir?: string; project?: string; withAllowRules?: boolean }) => {
      const { openSession } = await import("../../actions/codex-open.js");
      process.exitCode = await openSession({
        dir: await resolveDir(o.dir),
        agent: cli,
        project: o.project ?? process.cwd(),
        args,
        ...(o.withAllowRules ? { withAllowRules: true } : {}),
      });
    });
}
