import { Writable } from "node:stream";
import type { Command } from "commander";
import { MCP_TOOLS, RELAY_TOKEN_ENV } from "../../core/agents/mcp-config.js";
import { resolveDir } from "../dir.js";
import { dirOption, EXIT_CODES, examples, type Io } from "../shared.js";

/**
 * stdout for the protocol alone: the transport writes through `protocol`, and anything else that writes to
 * process.stdout (a console.log anywhere) goes to stderr instead. Undone by the returned function.
 */
function keepStdoutForProtocol(): { protocol: Writable; restore: () => void } {
  const stdout = process.stdout;
  const write = stdout.write;
  const raw = write.bind(stdout) as (chunk: unknown, encoding: BufferEncoding, cb: (e?: Error | null) => void) => boolean;
  const protocol = new Writable({
    write: (chunk: Buffer, encoding, done) => {
      raw(chunk, encoding, (e) => done(e ?? null));
    },
  });
  stdout.write = ((chunk: unknown, ...rest: unknown[]) => (process.stderr.write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof stdout.write;
  return {
    protocol,
    restore: () => {
      stdout.write = write;
    },
  };
}

/** coord mcp: the MCP server of this checkout, on stdio. */
export function registerMcp(program: Command, _io: Io): void {
  program
    .command("mcp")
    .description("serve this machine's inbox, messages, status, orders and sync as MCP tools to an agent session, on stdio (the agent CLI starts it: coord agent install)")
    .addOption(dirOption())
    .option(
      "--connect <address>",
      "relay stdio to the coord tools a turn of an agent on call is served from, outside its sandbox (127.0.0.1:<port>; the token in COORD_MCP_TOKEN): coord writes this into the turn's --mcp-config",
    )
    .addHelpText(
      "after",
      `
Tools: ${MCP_TOOLS.join(", ")}. Resources: coord://inbox, coord://status.
Reads answer from the checkout's local state (no network); writes are kept at once. send, ack and
order_add publish at once (later: true: with the next sync); reserve and release with the next sync, or
at once with now: true. inbox with wait returns when a new message arrives. stdout carries the protocol
only; logs go to stderr.
${EXIT_CODES}${examples(
  "coord agent install claude --project ~/dev/app --dir ~/fleet   # registers it for ~/dev/app in ~/.claude.json (local scope)",
  "coord mcp --dir ~/fleet   # what the agent CLI runs",
  'npx @modelcontextprotocol/inspector node "$(command -v coord)" mcp --dir ~/fleet   # try it by hand',
)}`,
    )
    .action(async (o: { dir?: string; connect?: string }) => {
      if (o.connect !== undefined) {
        const { relayMcp } = await import("../../commands/mcp-relay.js");
        await relayMcp(o.connect, process.env[RELAY_TOKEN_ENV] ?? "", process.stdin, process.stdout);
        return;
      }
      const dir = await resolveDir(o.dir);
      // Loaded here: the MCP SDK is for this command alone, not for every coord start.
      const { serveMcp } = await import("../../actions/mcp.js");
      const { protocol, restore } = keepStdoutForProtocol();
      const log = (line: string) => process.stderr.write(`coord mcp: ${line}\n`);
      try {
        await serveMcp({ dir, output: protocol, log });
      } finally {
        restore();
      }
    });
}
