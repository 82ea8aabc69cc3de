// coord's MCP tools for one turn of an agent on call, served from outside the
// agent's sandbox: the engine's process listens on loopback for the turn's
// length, and the CLI's `coord mcp --connect` (inside) relays its stdio to it.
// So nothing inside the sandbox writes coord's state (it is read-only there
// whole): a decision, a message or a request can only be made by coord's own
// code, outside, for the turn this server was started for (its marker,
// thread, chain and CLI), whatever the agent does inside.
//
// The engine reaches it through the seam of sync/turn-tools.ts, which the CLI
// fills (cli/main.ts): the engine lies below the commands.
//
// A connection proves it is the turn's with its first line, the token the
// turn's --mcp-config names (a secret of the engine and that file: another
// user's process on the machine cannot use the port). Then it is the MCP
// protocol as `coord mcp` speaks it on stdio (actions/mcp.ts serveMcp).
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type Socket } from "node:net";
import { PassThrough } from "node:stream";
import { serveMcp } from "../actions/mcp.js";
import { TURN_TOOLS } from "../core/agents/mcp-config.js";
import { describeFailure } from "../failure.js";
import type { TurnTools } from "../sync/turn-tools.js";

/** How long a connection may take to send its token line, and how long that line may be. */
const TOKEN_WAIT_MS = 10_000;
const TOKEN_MAX = 200;
/**
 * Connections served at once (a CLI opens one; more are a flood of the daemon's descriptors), and connections still
 * to send their token (anything on loopback can open one: counted apart, the oldest closed for a new one, so that
 * they cannot keep out the turn's own CLI, which sends its token at once); the next served one is closed.
 */
const SERVED_MAX = 8;
const PENDING_MAX = 32;

/**
 * Serves coord's MCP tools of checkout `dir` for the turn `env` names (ON_CALL_* variables), on loopback, until
 * closed. A connection without the token is closed unanswered.
 */
export async function serveTurnTools(dir: string, env: Readonly<Record<string, string>>, log: (line: string) => void): Promise<TurnTools> {
  const token = randomBytes(32).toString("hex");
  const sockets = new Set<Socket>();
  const pending = new Set<Socket>();
  const server = createServer({ noDelay: true }, (socket) => {
    socket.on("error", () => {});
    // The oldest waiting one goes: a client that sends its token at once (the turn's CLI) is never kept out by others.
    if (pending.size >= PENDING_MAX) {
      const oldest = pending.values().next().value as Socket;
      pending.delete(oldest);
      oldest.destroy();
      log(`on call: a connection to the turn's coord tools that had not sent its token was closed: ${PENDING_MAX} waited for theirs`);
    }
    pending.add(socket);
    socket.once("close", () => pending.delete(socket));
    void admit(socket, token).then((ok) => {
      pending.delete(socket);
      if (!ok) {
        log("on call: a connection to the turn's coord tools without its token was closed");
        socket.destroy();
        return;
      }
      if (sockets.size >= SERVED_MAX) {
        log(`on call: a connection to the turn's coord tools was closed: ${SERVED_MAX} are served already`);
        socket.destroy();
        return;
      }
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      // What follows the token, read through a stream of its own (the socket stays paused until it is piped there).
      const input = new PassThrough();
      socket.pipe(input);
      serveMcp({ dir, input, output: socket, env, embedded: true, tools: TURN_TOOLS, log: (line) => log(`on call: coord tools: ${line}`) }).catch((e: unknown) => {
        log(`on call: the turn's coord tools stopped: ${describeFailure(e).message}`);
        socket.destroy();
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  server.on("error", (e) => log(`on call: the turn's coord tools: ${describeFailure(e).message}`));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of [...sockets, ...pending]) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Reads the connection's first line and compares it with `token`; what came after it is left to be read. */
function admit(socket: Socket, token: string): Promise<boolean> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), TOKEN_WAIT_MS);
    // Ended, or closed by the server (the oldest of too many waiting): no token is coming.
    const onEnd = () => done(false);
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      const nl = got.indexOf(0x0a);
      if (nl < 0) {
        if (got.length > TOKEN_MAX) done(false);
        return;
      }
      socket.pause();
      const rest = got.subarray(nl + 1);
      if (rest.length) socket.unshift(rest);
      const line = got.subarray(0, nl);
      const want = Buffer.from(token);
      done(line.length === want.length && timingSafeEqual(line, want));
    };
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
  });
}
