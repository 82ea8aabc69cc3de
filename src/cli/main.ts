#!/usr/bin/env node
// The CLI: the root program, the commands registered by their own modules
// (src/cli/commands/), and the one place an error becomes a sentence and an
// exit code. Nothing deeper calls process.exit.
import { VERSION } from "../package.js";
import { Command, CommanderError } from "commander";
import { EXIT } from "../errors.js";
import { describeFailure, failureLines } from "../failure.js";
import { registerAgent } from "./commands/agent.js";
import { registerCron } from "./commands/cron.js";
import { registerDaemon } from "./commands/daemon.js";
import { registerDemo } from "./commands/demo.js";
import { registerDoctor } from "./commands/doctor.js";
import { registerHub } from "./commands/hub.js";
import { registerInit } from "./commands/init.js";
import { registerLog } from "./commands/log.js";
import { registerLogs } from "./commands/logs.js";
import { registerMcp } from "./commands/mcp.js";
import { registerMessages } from "./commands/messages.js";
import { registerOrder } from "./commands/order.js";
import { registerPause } from "./commands/pause.js";
import { registerReservations } from "./commands/reservations.js";
import { registerSecret } from "./commands/secret.js";
import { registerServices } from "./commands/services.js";
import { registerStatus } from "./commands/status.js";
import { registerSync } from "./commands/sync.js";
import { registerTrust } from "./commands/trust.js";
import { registerUi } from "./commands/ui.js";
import { registerValidate } from "./commands/validate.js";
import { registerWatch } from "./commands/watch.js";
import { EXIT_CODES, examples, type Io, processIo } from "./shared.js";

export type { Io } from "./shared.js";

/** Each command's module, in the order `coord --help` lists them. */
const COMMANDS: ((program: Command, io: Io) => void)[] = [
  registerHub,
  registerInit,
  registerSync,
  registerStatus,
  registerUi,
  registerValidate,
  registerMessages,
  registerReservations,
  registerOrder,
  registerSecret,
  registerLog,
  registerAgent,
  registerMcp,
  registerTrust,
  registerPause,
  registerServices,
  registerDaemon,
  registerWatch,
  registerCron,
  registerDoctor,
  registerLogs,
  registerDemo,
];

export function buildProgram(io: Io): Command {
  const program = new Command("coord")
    .description("Coordinate machines and AI coding agents through one git repository.")
    .version(VERSION)
    .exitOverride() // before the subcommands, so they inherit it: nothing here calls process.exit
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, "")), writeErr: (s) => io.err(s.replace(/\n$/, "")) })
    .addHelpText("after", EXIT_CODES + examples("coord hub create ~/fleet.git", "coord init ~/fleet --name izzit7 --remote ~/fleet.git", "coord sync --dir ~/fleet", "coord demo"));
  for (const register of COMMANDS) register(program, io);
  return program;
}

/** Runs the CLI in-process; returns the exit code instead of exiting. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
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
