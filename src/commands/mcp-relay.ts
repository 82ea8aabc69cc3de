// coord mcp --connect: the stdio of an agent CLI inside its sandbox relayed to
// the coord tools its turn is served from, outside (commands/turn-tools.ts). Kept
// apart from mcp.ts: the relay loads no MCP SDK and no checkout.
import { connect } from "node:net";
import type { Readable, Writable } from "node:stream";
import { CoordError, EXIT } from "../errors.js";

/**
 * `coord mcp --connect <host:port>`: the stdio of the agent's CLI relayed to the turn's coord tools, which the engine
 * serves outside the sandbox (commands/turn-tools.ts), opened with `token`. Ends when either side closes.
 */
export async function relayMcp(address: string, token: string, input: Readable, output: Writable): Promise<void> {
  const at = /^127\.0\.0\.1:(\d{1,5})$/.exec(address);
  if (!at) throw new CoordError(`--connect ${JSON.stringify(address)}: give 127.0.0.1:<port>, as the turn's --mcp-config names it`, EXIT.USAGE);
  if (!token) throw new CoordError("--connect needs the turn's token in COORD_MCP_TOKEN, as the turn's --mcp-config gives it", EXIT.USAGE);
  const socket = connect({ host: "127.0.0.1", port: Number(at[1]), noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", (e) =>
      reject(new CoordError(`could not reach the turn's coord tools at ${address} (${(e as NodeJS.ErrnoException).code ?? e.message}): the turn may be over`, EXIT.FAILURE)),
    );
  });
  socket.write(`${token}\n`);
  input.pipe(socket);
  socket.pipe(output);
  await new Promise<void>((resolve) => {
    socket.once("close", () => resolve());
    input.once("end", () => socket.end());
  });
}
