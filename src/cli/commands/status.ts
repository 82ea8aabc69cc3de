import type { Command } from "commander";
import { checkMachine, checkOrder, type StatusResult, type StatusViewKind as View, status, statusView, watchStatus } from "../../actions/status.js";
import { colourWanted, paintFor } from "../../core/status/colour.js";
import { parseDuration } from "../../core/time/duration.js";
import { HIDE_CURSOR, machineText, orderText, RESTORE_TERMINAL, statusText, watchFrame } from "../../core/status/terminal.js";
import { CoordError, EXIT } from "../../errors.js";
import { describeFailure } from "../../failure.js";
import { resolveDir } from "../dir.js";
import { stopOnSignals } from "../signals.js";
import { dirOption, examples, type Io } from "../shared.js";

interface StatusFlags {
  dir?: string;
  json?: boolean;
  fetch: boolean;
  order?: string;
  watch?: boolean;
  every?: string;
}

function viewText(view: View, r: StatusResult, now: Date, colour: boolean): string {
  const opts = { paint: paintFor(colour), reports: r.model.computers, ...(r.host ? { host: r.host } : {}) };
  if (view.kind === "machine") return machineText(view.name, r.status, now, opts);
  if (view.kind === "order") return orderText(view.id, r.status, now, { ...opts, ...orderDef(r, view.id) });
  return statusText(r.status, now, opts);
}

const orderDef = (r: StatusResult, id: string) => {
  const order = r.model.orders?.orders.find((o) => o.id === id);
  return order ? { order } : {};
};

function check(view: View, r: StatusResult): void {
  if (view.kind === "machine") checkMachine(r, view.name);
  if (view.kind === "order") checkOrder(r, view.id);
}

export function registerStatus(program: Command, io: Io): void {
  program
    .command("status")
    .description("the fleet, failures first (machines online, stale or offline by their heartbeats; orders); one machine or one order in detail; --watch keeps it on screen")
    .argument("[machine]", "show this machine in detail: presence, heartbeat, capabilities, messages, its tasks and why")
    .addOption(dirOption())
    .option("--order <id>", "show this order in detail: each machine's state, attempts, exit, times, why and last lines of output")
    .option("--watch", "refresh after each fetch until Ctrl-C (on a terminal: in place)")
    .option("--every <duration>", "with --watch: fetch this often (5s, 10s, 1m)", "10s")
    .option("--json", "print STATUS.json plus the offline list (with a machine or --order: that machine or order); with --watch one line per refresh")
    .option("--no-fetch", "use the last fetched commit instead of fetching")
    .addHelpText(
      "after",
      examples(
        "coord status",
        "coord status --watch",
        "coord status --watch --every 30s",
        "coord status izzit7",
        "coord status --order build-dao",
        "coord status --json | jq '.orders'",
        "coord status --no-fetch",
      ) + "\nColour on a terminal only; NO_COLOR=1 or TERM=dumb turn it off, FORCE_COLOR=1 on.\n",
    )
    .action(async (machine: string | undefined, o: StatusFlags, cmd: Command) => {
      if (machine !== undefined && o.order !== undefined) throw new CoordError("give a machine or --order <id>, not both", EXIT.USAGE);
      const view: View = machine !== undefined ? { kind: "machine", name: machine } : o.order !== undefined ? { kind: "order", id: o.order } : { kind: "fleet" };
      const dir = await resolveDir(o.dir);
      const terminal = io.terminal?.();
      const colour = !o.json && colourWanted(terminal !== undefined, process.env);
      const everyGiven = cmd.getOptionValueSource("every") === "cli";
      if (!o.watch && !everyGiven) {
        const r = await status({ dir, fetch: o.fetch });
        check(view, r);
        if (r.stale) io.err(`warning: ${r.stale}`);
        if (r.local) io.err(`warning: ${r.local.text}`);
        const now = new Date();
        io.out(o.json ? JSON.stringify(statusView(view, r, now), null, 2) : viewText(view, r, now, colour));
        // What this machine may read and push, and how often its daemon looks (core/hub/reads.ts): under the fleet.
        if (!o.json && view.kind === "fleet" && r.here) io.out(`\n${r.here}`);
        return;
      }
      const every = parseDuration(o.every ?? "10s");
      if (every === undefined) throw new CoordError(`--every "${o.every}" is not a duration; write it like 5s, 10s or 1m`, EXIT.USAGE);
      await watch(view, { dir, fetch: o.fetch, every, json: !!o.json, colour, terminal: terminal !== undefined }, io);
    });
}

/** `--watch`: a frame per refresh until Ctrl-C (exit 0), the terminal left as it was. */
async function watch(view: View, w: { dir: string; fetch: boolean; every: number; json: boolean; colour: boolean; terminal: boolean }, io: Io): Promise<void> {
  const stop = stopOnSignals();
  let first = true;
  let checked = false;
  const restore = () => io.out(RESTORE_TERMINAL);
  if (w.terminal && !w.json) process.once("exit", restore); // a second Ctrl-C exits at once: the cursor still comes back
  try {
    await watchStatus({
      dir: w.dir,
      fetch: w.fetch,
      everyMs: w.every * 1000,
      signal: stop.signal,
      show: ({ result, error, at }) => {
        // An unknown name: one sentence and exit 2, at the first refresh that read the fleet.
        if (result && !checked) {
          check(view, result);
          checked = true;
        }
        const now = new Date();
        if (w.json) {
          io.out(
            JSON.stringify(
              result
                ? { at: at.toISOString(), ...(statusView(view, result, now) as object), ...(error ? { error: describeFailure(error).message } : {}) }
                : { at: at.toISOString(), error: describeFailure(error).message },
            ),
          );
          return;
        }
        const note = error
          ? `this refresh failed: ${describeFailure(error).message}${result ? "; showing the last fetched state" : ""}`
          : result?.stale
            ? `stale: ${result.stale}`
            : result?.local?.text;
        const text = result ? viewText(view, result, now, w.colour) : "Nothing fetched yet.";
        const frame = watchFrame({ text, at, every: w.every, paint: paintFor(w.colour), ...(note ? { note } : {}) }, w.terminal ? (io.terminal?.() ?? {}) : undefined);
        io.out((first && w.terminal ? HIDE_CURSOR : "") + frame);
        first = false;
      },
    });
  } finally {
    stop.dispose();
    if (w.terminal && !w.json) {
      process.off("exit", restore);
      restore();
    }
  }
}
