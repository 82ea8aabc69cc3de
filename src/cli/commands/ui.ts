import type { Command } from "commander";
import { startUi } from "../../actions/ui.js";
import { parseDuration } from "../../core/time/duration.js";
import { CoordError, EXIT } from "../../errors.js";
import { resolveDir } from "../dir.js";
import { count, dirOption, examples, type Io, stamped } from "../shared.js";
import { stopOnSignals } from "../signals.js";

/** The longest --every: a page that refreshes less often than this is not live. */
const MAX_EVERY_S = 3600;

export function registerUi(program: Command, io: Io): void {
  program
    .command("ui")
    .description("serve a live web page of the fleet on 127.0.0.1 (machines, orders, each order's history and output, a chat, new orders)")
    .addOption(dirOption())
    .option("--port <port>", "the port on 127.0.0.1 (0: any free one)", "3000")
    .option("--every <duration>", "fetch and refresh the page this often: 5s, 10s, 1m", "10s")
    .addHelpText(
      "after",
      "\nThe page is served on 127.0.0.1 only, to whoever has the URL printed at start: it holds a random token, and a\n" +
        "request without it is refused. Messages and orders given on the page are sent as this checkout's machine, as\n" +
        "coord send and coord order add do (published at once). Ctrl-C stops it.\n" +
        examples("coord ui", "coord ui --dir ~/fleet --port 8080", "coord ui --every 30s"),
    )
    .action(async (o: { dir?: string; port: string; every: string }) => {
      const port = count("--port", o.port);
      if (port > 65_535) throw new CoordError(`--port must be 65535 or less, not ${port}`, EXIT.USAGE);
      const every = parseDuration(o.every);
      if (every === undefined || every < 1 || every > MAX_EVERY_S)
        throw new CoordError(`--every "${o.every}" is not a duration from 1s to 1h; write it like 5s, 10s or 1m`, EXIT.USAGE);
      const dir = await resolveDir(o.dir);
      const stop = stopOnSignals();
      try {
        const ui = await startUi({ dir, port, everyMs: every * 1000, log: stamped(io) });
        io.out(`coord ui: open ${ui.url} (Ctrl-C stops it)`);
        await new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener("abort", () => resolve(), { once: true })));
        await ui.close();
        io.out("coord ui: stopped");
      } finally {
        stop.dispose();
      }
    });
}
