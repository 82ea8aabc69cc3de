// The CLI: the root program, the commands registered by their own modules
// (src/cli/commands/), and the one place an error becomes a sentence and an
// exit code. Nothing deeper calls process.exit.
import { VERSION } from "../package.js";
import { Command, CommanderError } from "commander";
import { EXIT } from "../errors.js";
import { describeFailure, failureLines } from "../failure.js";
import { EXIT_CODES, examples, type Io, processIo } from "./shared.js";
import { provideTurnTools } from "../sync/turn-tools.js";

export type { Io } from "./shared.js";

// A turn of an agent on call that this process runs (the daemon's, a sync's) gets coord's tools served by it, from
// outside the agent's sandbox; the MCP server's code is loaded only when a turn needs it.
provideTurnTools(async (dir, env, log) => (await import("../commands/turn-tools.js")).serveTurnTools(dir, env, log));

type Register = (program: Command, io: Io) => void;

/**
 * Each command's module, in the order `coord --help` lists them, with the
 * top-level commands it registers. A module is loaded when its command runs:
 * `coord sync` (cron, every minute) does not load the daemon's, the UI's or
 * the MCP server's code; `coord --version` loads none. Anything else (no
 * command, --help, a typo) loads them all. test/cli-commands.test.ts holds each module to its names.
 */
export const COMMANDS: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ["hub"], load: async () => (await import("./commands/hub.js")).registerHub },
  { names: ["init"], load: async () => (await import("./commands/init.js")).registerInit },
  { names: ["sync"], load: async () => (await import("./commands/sync.js")).registerSync },
  { names: ["status"], load: async () => (await import("./commands/status.js")).registerStatus },
  { names: ["ui"], load: async () => (await import("./commands/ui.js")).registerUi },
  { names: ["validate"], load: async () => (await import("./commands/validate.js")).registerValidate },
  { names: ["send", "inbox", "outbox"], load: async () => (await import("./commands/messages.js")).registerMessages },
  { names: ["reserve", "release", "reservations"], load: async () => (await import("./commands/reservations.js")).registerReservations },
  { names: ["order"], load: async () => (await import("./commands/order.js")).registerOrder },
  { names: ["secret"], load: async () => (await import("./commands/secret.js")).registerSecret },
  { names: ["log"], load: async () => (await import("./commands/log.js")).registerLog },
  { names: ["agent", "approve", "deny"], load: async () => (await import("./commands/agent.js")).registerAgent },
  { names: ["mcp"], load: async () => (await import("./commands/mcp.js")).registerMcp },
  { names: ["trust"], load: async () => (await import("./commands/trust.js")).registerTrust },
  { names: ["pause", "resume"], load: async () => (await import("./commands/pause.js")).registerPause },
  { names: ["services"], load: async () => (await import("./commands/services.js")).registerServices },
  { names: ["daemon"], load: async () => (await import("./commands/daemon.js")).registerDaemon },
  { names: ["watch"], load: async () => (await import("./commands/watch.js")).registerWatch },
  { names: ["cron"], load: async () => (await import("./commands/cron.js")).registerCron },
  { names: ["doctor"], load: async () => (await import("./commands/doctor.js")).registerDoctor },
  { names: ["logs"], load: async () => (await import("./commands/logs.js")).registerLogs },
  { names: ["demo"], load: async () => (await import("./commands/demo.js")).registerDemo },
];

/** The program with the commands `argv` may run: the one it names first, or all of them. */
export async function buildProgram(io: Io, argv?: readonly string[]): Promise<Command> {
  const program = new Command("coord")
    .description("Coordinate machines and AI coding agents through one git repository.")
    .version(VERSION)
    .exitOverride() // before the subcommands, so they inherit it: nothing here calls process.exit
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, "")), writeErr: (s) => io.err(s.replace(/\n$/, "")) })
    .addHelpText("after", EXIT_CODES + examples("coord hub create ~/fleet.git", "coord init ~/fleet --name izzit7 --remote ~/fleet.git", "coord sync --dir ~/fleet", "coord demo"));
  const named = argv?.[0] ?? "";
  const one = COMMANDS.find((c) => c.names.includes(named));
  const version = argv?.length === 1 && (named === "--version" || named === "-V");
  const registers = await Promise.all((version ? [] : one ? [one] : COMMANDS).map((c) => c.load()));
  for (const register of registers) register(program, io);
  return program;
}

/** Runs the CLI in-process; returns the exit code instead of exiting. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = await buildProgram(io, argv);
  process.exitCode = 0;
  try {
    await program.parseAsync(argv, { from: "user" });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT.USAGE;
    for (const line of failureLines(e)) io.err(line);
    return describeFailure(e).exitCode;
  }
}

/** The `coord` executable after src/cli/entry.ts: the command, its exit code, and nothing left to keep the process alive. */
export async function run(argv: string[]): Promise<void> {
  // (entry.ts has made output nobody reads harmless: EPIPE.)
  const code = await main(argv);
  process.exitCode = code;
  // The command is done. A process a task or git left behind may still hold one of our pipes
  // (a fetch killed while its remote side hangs): it must not keep coord alive.
  setTimeout(() => process.exit(code), 1000).unref();
}
