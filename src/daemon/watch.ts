// coord watch: the daemon's loop in the foreground, plus a watch on the
// checkout's ORDERS.json: when a person saves it there, it is validated and,
// if valid, committed as their change and pushed at once. A burst of saves is
// one commit; an invalid file is reported and left alone, never committed,
// never discarded.
import { inTurn } from "../serial.js";
import { commitOf } from "../git/hub.js";
import { join, resolve } from "node:path";
import { watch as watchDir } from "node:fs";
import { formatProblem } from "../core/orders/orders.js";
import { includesChanges } from "../core/orders/orders-text.js";
import { ORDERS_FILE, readModel } from "../core/repo/repo.js";
import { CoordError, EXIT, PushRefused } from "../errors.js";
import { firstLine, machineAuthor, readInCheckout, type Author } from "../git/git.js";
import { configGet } from "../git/local.js";
import { PUSH_BUDGET_MS, publishWithRetry } from "../sync/cas.js";
import { type GitMachine, openMachine, READ_PATHS } from "../sync/sync.js";
import { runDaemon, type DaemonOptions } from "./daemon.js";

/** A cron expression for "every N seconds" (N dividing 60) or "every N minutes". */
export function everyToSchedule(seconds: number): string {
  if (seconds >= 1 && seconds < 60 && 60 % seconds === 0) return `*/${seconds} * * * * *`;
  if (seconds % 60 === 0 && seconds / 60 < 60 && 60 % (seconds / 60) === 0) return `0 */${seconds / 60} * * * *`;
  throw new CoordError(`--every ${seconds}s cannot be a schedule; use a number of seconds dividing 60 (5s, 10s, 30s) or of minutes dividing 60, or --schedule`, EXIT.USAGE);
}

/** How src/git/failures.ts words a push the hub refused, before the server's own words. */
const REFUSED_THE_PUSH = "refused the push: ";

/**
 * A push of the people's branch that the hub refused (a protected branch, a ruleset, gitolite's rules, a
 * hook), said as what it is on a fleet where only people may push that branch: the key or account this
 * checkout pushes with may not write ORDERS.json, which is how it should be on a machine. The server's
 * words are kept; `instead` says what was kept and how to make the change from a person's clone.
 */
export function peopleBranchRefused(e: PushRefused, branch: string, instead: string): PushRefused {
  const at = e.message.indexOf(REFUSED_THE_PUSH);
  const said = at < 0 ? e.message : e.message.slice(at + REFUSED_THE_PUSH.length);
  return new PushRefused(
    `the hub refused this push of ${branch} (${said}): the key or account this checkout pushes with may not write ${ORDERS_FILE}, ` +
      `which is how it should be on a machine, where only people may push ${branch}; ${instead}`,
  );
}

/** `git clone -b <branch> <url> <dir>`: a person's clone of the hub, to make a change of the people's branch in. */
export function personClone(branch: string, url: string, dir = "fleet"): string {
  return `git clone -b ${branch} ${url} ${dir}`;
}

/** The person's git identity in this checkout, or coord's on their behalf. */
async function personAuthor(m: GitMachine): Promise<Author> {
  const get = (key: string) => configGet(m.dir, key);
  const [name, email] = await Promise.all([get("user.name"), get("user.email")]);
  if (name && email) return { name, email };
  const me = machineAuthor(m.config.name);
  return { name: `${process.env.USER ?? "a person"} via ${me.name}`, email: me.email };
}

export type OrdersEditResult =
  | { kind: "pushed"; commit: string; text: string; warnings: string[] }
  | { kind: "unchanged" }
  | { kind: "invalid"; problems: string[] }
  | { kind: "conflict"; message: string };

/**
 * Publishes the person's saved ORDERS.json: valid against the fleet, based on
 * the version their checkout had, committed with their identity on the remote
 * tip and pushed (redone on a new tip while the remote's ORDERS.json is still
 * the one they edited).
 */
export async function publishOrdersEdit(m: GitMachine, log: (line: string) => void = () => {}, lastPushed?: string): Promise<OrdersEditResult> {
  // Never through a symbolic link: a link committed by anyone would push the file it points at.
  let text: string;
  try {
    text = await readInCheckout(m.dir, ORDERS_FILE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { kind: "unchanged" };
    return { kind: "invalid", problems: [firstLine((e as Error).message)] };
  }
  const head = await m.repo.resolve("HEAD");
  const base = head ? await m.repo.showFile(head, ORDERS_FILE) : undefined;
  if (text === base) return { kind: "unchanged" };
  const author = await personAuthor(m);
  return publishWithRetry<OrdersEditResult>(
    {
      attempt: async () => {
        const tip = await m.repo.fetch();
        if (!tip) throw new CoordError(`the remote has no branch ${m.config.branch}`, EXIT.FAILURE);
        const files = await m.repo.readFiles(tip, READ_PATHS);
        const remote = files.get(ORDERS_FILE);
        if (remote === text) return { done: { kind: "unchanged" } };
        const model = readModel(new Map(files).set(ORDERS_FILE, text));
        if (model.ordersProblems.length) return { done: { kind: "invalid", problems: model.ordersProblems.map(formatProblem) } };
        // The edit must start from what the remote has (the checkout's version, or what this watch pushed
        // last), or already hold the remote's change: the person merged it by hand.
        if (base !== undefined && remote !== undefined && remote !== base && remote !== lastPushed && !includesChanges(base, remote, text)) {
          const upstream = `${m.config.remote}/${m.config.branch}`;
          return {
            done: {
              kind: "conflict",
              message: `ORDERS.json changed on the remote since this checkout's version; your file is kept as it is: bring the remote's change into it (git diff HEAD ${upstream} -- ORDERS.json shows it), then save again`,
            },
          };
        }
        const commit = await m.repo.commitFiles(tip, new Map([[ORDERS_FILE, text]]), author, `ORDERS.json: saved by ${author.name} (coord watch)`);
        return {
          commit,
          landed: async () => {
            const warning = await m.repo.fastForward(commit);
            if (warning) log(warning);
            return { kind: "pushed", commit: commitOf(commit, "people"), text, warnings: (model.ordersWarnings ?? []).map(formatProblem) };
          },
        };
      },
      push: (commit) =>
        m.repo.push(commit, ["people"]).catch(async (e: unknown) => {
          if (!(e instanceof PushRefused)) throw e;
          const url = await m.repo.displayUrl();
          throw peopleBranchRefused(
            e,
            m.config.branch,
            `your ORDERS.json is kept as it is, not pushed; push the change from a person's clone: ${personClone(m.config.branch, url)}, ` +
              "make the same edit to ORDERS.json there, commit and push (or run coord order add --human there)",
          );
        }),
      rejected: (_n, failed) =>
        log(
          failed === undefined
            ? "push rejected (someone pushed first); retrying on the new tip"
            : `push failed (${String((failed as Error)?.message ?? failed).split("\n")[0]}); trying again after a fetch`,
        ),
      gaveUp: (n, ms) => new CoordError(`gave up pushing ORDERS.json after ${n} rejected pushes in ${Math.round(ms / 1000)} s; save it again to retry`, EXIT.FAILURE),
    },
    { budgetMs: PUSH_BUDGET_MS },
  );
}

export interface WatchOptions extends DaemonOptions {
  /** Milliseconds of quiet after the last save before publishing it. */
  debounceMs?: number;
  onOrdersEdit?: (r: OrdersEditResult | Error) => void;
}

export async function watch(opts: WatchOptions): Promise<void> {
  const log = opts.log ?? (() => {});
  const m = await openMachine(opts.dir);
  const top = resolve(m.dir);
  const file = join(top, ORDERS_FILE);
  let timer: NodeJS.Timeout | undefined;
  const publishing = inTurn();
  let lastPushed: string | undefined;
  const onSave = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      void publishing(async () => {
        try {
          const r = await publishOrdersEdit(m, log, lastPushed);
          if (r.kind === "pushed") {
            lastPushed = r.text;
            log(`ORDERS.json: pushed ${r.commit.slice(0, 12)}`);
            for (const w of r.warnings) log(`warning: ${w}`);
          } else if (r.kind === "invalid") log(`ORDERS.json is invalid, not committed (your file is kept):\n  ${r.problems.join("\n  ")}`);
          else if (r.kind === "conflict") log(r.message);
          opts.onOrdersEdit?.(r);
        } catch (e) {
          // A refusal is the hub's answer, which another save does not change: said as it is.
          if (e instanceof PushRefused) log(`ORDERS.json not pushed: ${e.message}`);
          else log(`ORDERS.json not pushed: ${firstLine((e as Error).message)}; save it again to retry`);
          opts.onOrdersEdit?.(e as Error);
        }
      });
    }, opts.debounceMs ?? 500);
  };
  // The checkout's top directory, not the file: git replaces ORDERS.json (unlink, create) when it
  // fast-forwards, the new file often gets the old inode back, and a watch on the file alone goes deaf.
  // (Node's own fs.watch, as the daemon's request file is watched: a save in several writes is one publish, by the
  // debounce above. No name: a platform that cannot say which file changed; the file is read, and an unchanged one
  // pushes nothing.)
  const watcher = watchDir(top, (_event, name) => {
    if (name === null || String(name) === ORDERS_FILE) onSave();
  });
  watcher.on("error", (e) => log(`watching ${file} stopped: ${firstLine(e.message)}; restart coord watch`));
  log(`watching ${file}`);
  try {
    await runDaemon({ ...opts, log });
  } finally {
    clearTimeout(timer);
    await publishing(async () => {}); // a save being pushed lands first
    watcher.close();
  }
}
