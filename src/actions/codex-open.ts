// coord agent open codex: an open Codex session that hears the fleet. Codex has no hook that can start a turn, but
// its TUI can run on an app-server (`codex --remote`), and a turn started on the TUI's connection is shown in the
// TUI and asks the person there. So coord starts both, and sits between them:
//
//   person ── Codex TUI ──(unix socket, coord's)── coord's relay ──(unix socket)── codex app-server ── coord mcp
//                                                      │
//                                 coord's waiter (actions/wake-wait.ts): a message that wakes the session
//
// The relay passes every message on, reading them (core/agents/codex-relay.ts): it learns the TUI's thread and
// whether a turn runs, sees the person type (the session is theirs again), and puts the person's settings back on
// their first turn after a wake. When a message from an allowed machine arrives and the thread is idle, coord
// sends the wake as a turn/start on the TUI's connection, under settings that make Codex ask before it runs
// anything. When the TUI ends, the app-server, its MCP servers and the sockets go with it.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import WebSocket, { WebSocketServer } from "ws";
import { fromServer, fromTui, isBusy, type Json, newRelay, type RelayState, wakeTurn } from "../core/agents/codex-relay.js";
import { parseLine } from "../core/agents/cli/common.js";
import { CoordError, EXIT } from "../errors.js";
import { CLI_PATH } from "../package.js";
import { onPath } from "../platform/executables.js";
import { killTree, ownTree, treeAlive } from "../platform/tree.js";
import { loadConfig } from "../state/config.js";
import { dropWoken, listenDir, readWoken, updateWoken } from "../state/listen.js";
import { appendLog } from "../state/logs.js";
import { stateDirOf } from "../state/paths.js";
import { system } from "../platform/system.js";
import { waitForWake, wakerOf } from "./wake-wait.js";

export interface OpenOptions {
  /** The machine's checkout. */
  dir: string;
  /** The CLI (one whose adapter's wake is `opened`: codex). */
  agent: string;
  /** Where the session works. */
  project: string;
  /** More arguments for the TUI (after coord's). */
  args?: string[];
  /** Its environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** The TUI's standard streams (default: this terminal's). */
  stdio?: "inherit" | "ignore";
  /** Wake it even while Codex has command rules that allow without asking (the person accepts that a woken turn runs them). */
  withAllowRules?: boolean;
}

/** One connection of the TUI, relayed to one of the app-server. */
interface Link {
  state: RelayState;
  tui: WebSocket;
  up: WebSocket;
  /** coord's requests on it waiting for their answer. */
  waiting: Map<string, (answer: Json) => void>;
}

/** Waits until `check` holds, looking every `ms`; false if the signal fired first. */
async function until(check: () => boolean, signal: AbortSignal, ms = 100): Promise<boolean> {
  while (!check()) {
    if (signal.aborted) return false;
    await new Promise((r) => setTimeout(r, ms));
  }
  return !signal.aborted;
}

/** The relay's server on the TUI's socket: each connection of the TUI gets one to the app-server. */
function relay(tuiSocket: string, appSocket: string, onTyped: () => void): { server: Server; links: Set<Link>; ready: Promise<void> } {
  const links = new Set<Link>();
  const server = createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  // The app-server says how large a message it takes unfragmented; the TUI reads it from the handshake.
  wss.on("headers", (headers) => headers.push("x-codex-websocket-max-unfragmented-message-bytes: 16777216"));
  wss.on("connection", (tui) => {
    const up = new WebSocket(`ws+unix://${appSocket}:/`, { perMessageDeflate: false });
    const link: Link = { state: newRelay(), tui, up, waiting: new Map() };
    links.add(link);
    const early: string[] = [];
    const toUp = (text: string) => {
      const msg = parseLine(text);
      if (!msg) return up.send(text);
      const r = fromTui(link.state, msg);
      link.state = r.s;
      if (r.typed) onTyped();
      up.send(r.msg === msg ? text : JSON.stringify(r.msg));
    };
    tui.on("message", (data, binary) => {
      if (binary) return up.readyState === WebSocket.OPEN ? up.send(data) : undefined;
      const text = data.toString();
      if (up.readyState === WebSocket.OPEN) toUp(text);
      else early.push(text);
    });
    up.on("open", () => {
      for (const t of early.splice(0)) toUp(t);
    });
    up.on("message", (data, binary) => {
      if (binary) return tui.send(data);
      const text = data.toString();
      const msg = parseLine(text);
      if (!msg) return tui.send(text);
      const r = fromServer(link.state, msg);
      link.state = r.s;
      if (typeof msg.id === "string" && msg.method === undefined) link.waiting.get(msg.id)?.(msg);
      if (r.forward) tui.send(text);
    });
    const end = () => {
      links.delete(link);
      tui.close();
      up.close();
      for (const w of link.waiting.values()) w({ error: { message: "the TUI's connection closed" } });
    };
    tui.on("close", end);
    up.on("close", end);
    tui.on("error", end);
    up.on("error", end);
  });
  const ready = new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(tuiSocket, () => ok());
  });
  return { server, links, ready };
}

/** Waits for the app-server's socket to take connections, or says why it did not start. */
async function serverUp(child: ChildProcess, socket: string, logFile: string): Promise<void> {
  for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new CoordError(`codex app-server ended before it listened (exit ${child.exitCode ?? child.signalCode}); its output is in ${logFile}`, EXIT.FAILURE);
    if (await stat(socket).catch(() => undefined)) return;
  }
  throw new CoordError(`codex app-server did not listen within 30 s; its output is in ${logFile}`, EXIT.FAILURE);
}

/**
 * coord agent open codex: the TUI in this terminal on an app-server coord starts, fed the fleet's messages as the
 * allow-list of coord agent listen says. Returns the TUI's exit code.
 */
export async function openSession(o: OpenOptions): Promise<number> {
  if (system() === "win32")
    throw new CoordError(
      "coord agent open runs Codex's app-server on a unix socket, which coord has not run on Windows: put this machine on call instead (coord agent on-call codex)",
      EXIT.USAGE,
    );
  const waker = wakerOf(o.agent);
  if (!waker.wake.opened)
    throw new CoordError(`${o.agent}: start it as usual; its open session hears the fleet through what coord agent listen ${o.agent} arms in the project`, EXIT.USAGE);
  const stateDir = await stateDirOf(o.dir);
  const config = await loadConfig(stateDir);
  if (!config) throw new CoordError(`${o.dir} is not a coord checkout; run coord init there first or pass --dir`, EXIT.USAGE);
  const env = o.env ?? process.env;
  const bin = await onPath(waker.name, env.PATH ?? "");
  if (!bin) throw new CoordError(`${waker.name} is not on PATH (coord's PATH); install it, then run this again`, EXIT.USAGE);
  const project = resolve(o.project);
  if (!(await stat(project).catch(() => undefined))?.isDirectory()) throw new CoordError(`--project ${o.project}: no such directory`, EXIT.USAGE);

  // Unix sockets have short paths: a private folder in the temporary directory holds both.
  const sockets = await mkdtemp(join(tmpdir(), "coord-codex-"));
  await mkdir(listenDir(stateDir), { recursive: true, mode: 0o700 });
  const logFile = join(listenDir(stateDir), `${waker.name}-app-server.log`);
  const log = await open(logFile, "w", 0o600);
  const appSocket = join(sockets, "app.sock");
  const opened = waker.wake.opened;
  // What the app-server is about to load: rules it loads stay with it, their files deleted or not.
  const rulesAtStart = o.withAllowRules ? [] : await allowRules(env, project, waker);
  if (rulesAtStart.length)
    process.stderr.write(
      `coord: no message will wake this session: ${rulesAtStart.join(", ")} may let commands run without asking; take them out and start again, or pass --with-allow-rules\n`,
    );
  const mcp = { command: process.execPath, args: [CLI_PATH, "mcp", "--dir", resolve(o.dir)] };
  const app = spawn(bin, opened.server(appSocket, mcp), { cwd: project, env, stdio: ["ignore", log.fd, log.fd], ...ownTree() });
  app.on("error", () => {}); // its exit code says it
  const stop = new AbortController();
  let tui: ChildProcess | undefined;
  const ignore = () => {};
  const forward = (sig: NodeJS.Signals) => () => tui?.kill(sig);
  const onTerm = forward("SIGTERM");
  const onHup = forward("SIGHUP");
  // One session id for as long as the TUI runs, whichever thread it shows (the waiter's key, the woken state's).
  const sessionId = `${waker.name}-${app.pid ?? process.pid}`;
  const links = relay(join(sockets, "tui.sock"), appSocket, () => {
    // The person typed: a woken session is theirs again.
    void (async () => {
      if (await readWoken(stateDir, sessionId))
        await updateWoken(stateDir, sessionId, (w) => ({ ...(w ?? { lockedAt: new Date().toISOString(), wakes: [] }), typedAt: new Date().toISOString() }));
    })().catch(() => {});
  });
  try {
    await serverUp(app, appSocket, logFile);
    await links.ready;
    // The terminal's ^C and ^\ are the TUI's; a stop of coord's ends the TUI, and the rest with it.
    process.on("SIGINT", ignore);
    process.on("SIGQUIT", ignore);
    process.on("SIGTERM", onTerm);
    process.on("SIGHUP", onHup);
    tui = spawn(bin, opened.tui(join(sockets, "tui.sock"), project, o.args ?? []), { cwd: project, env, stdio: o.stdio ?? "inherit" });
    const exited = new Promise<number>((done) => {
      tui!.on("exit", (code, signal) => done(code ?? (signal ? 128 : 1)));
      tui!.on("error", () => done(1));
    });
    const waking = wakeLoop({
      stateDir,
      config,
      waker,
      app,
      project,
      env,
      sessionId,
      withRules: o.withAllowRules === true,
      rulesAtStart,
      links: links.links,
      signal: stop.signal,
    }).catch((e) =>
      appendLog(stateDir, {
        kind: "listen",
        machine: config.name,
        ok: false,
        error: `coord agent open ${waker.name}: its waiter stopped: ${e instanceof Error ? e.message : String(e)}`,
      }).catch(() => {}),
    );
    const code = await exited;
    stop.abort();
    await waking;
    return code;
  } finally {
    stop.abort();
    process.off("SIGINT", ignore);
    process.off("SIGQUIT", ignore);
    process.off("SIGTERM", onTerm);
    process.off("SIGHUP", onHup);
    if (tui && tui.exitCode === null) tui.kill("SIGTERM");
    for (const l of links.links) l.tui.terminate();
    links.server.close();
    if (app.pid !== undefined) {
      killTree(app.pid, "SIGTERM");
      for (let i = 0; i < 30 && treeAlive(app.pid); i++) await new Promise((r) => setTimeout(r, 100));
      killTree(app.pid, "SIGKILL");
    }
    await log.close().catch(() => {});
    await rm(sockets, { recursive: true, force: true });
    await dropWoken(stateDir, sessionId).catch(() => {});
  }
}

/** The project's folder and each above it, up to the first that holds a .git entry (its git root), or the root. */
async function foldersUp(project: string): Promise<string[]> {
  const out: string[] = [];
  for (let d = project; out.length < 64; ) {
    out.push(d);
    const parent = dirname(d);
    if ((await stat(join(d, ".git")).catch(() => undefined)) || parent === d) break;
    d = parent;
  }
  return out;
}

/** The files of Codex's command rules (the person's, the system's, the project's) that may let a command run without asking. */
async function allowRules(env: NodeJS.ProcessEnv, project: string, waker: ReturnType<typeof wakerOf>): Promise<string[]> {
  const rules = waker.wake.opened?.rules;
  if (!rules) return [];
  const found: string[] = [];
  for (const dir of rules.dirs(env, homedir(), await foldersUp(project))) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names.filter((x) => x.endsWith(".rules")).sort()) {
      const text = await readFile(join(dir, n), "utf8").catch(() => "");
      if (rules.allows(text)) found.push(join(dir, n));
    }
  }
  return found;
}

/**
 * Wakes the TUI's thread, once idle, with each message that wakes it, until the signal fires. No wake is taken while
 * Codex has command rules that allow without asking (unless the person said they accept that): a woken turn would run
 * those commands with nobody asked, outside its sandbox (found attacking it).
 */
async function wakeLoop(o: {
  stateDir: string;
  config: NonNullable<Awaited<ReturnType<typeof loadConfig>>>;
  waker: ReturnType<typeof wakerOf>;
  app: ChildProcess;
  project: string;
  env: NodeJS.ProcessEnv;
  sessionId: string;
  withRules: boolean;
  /** The rules files there were as the app-server started (it loaded them). */
  rulesAtStart: readonly string[];
  links: Set<Link>;
  signal: AbortSignal;
}): Promise<void> {
  const session = o.app.pid;
  if (session === undefined) return;
  let n = 0;
  let heldBy = "";
  /** The connection whose thread the TUI shows, once it is idle. */
  const idleLink = () => [...o.links].find((l) => l.state.thread !== undefined && !isBusy(l.state));
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /**
   * Whether rules hold every wake: once any were seen, for the rest of the session (found attacking it: Codex keeps
   * the rules it loaded after their file is gone). Said once in coord's log.
   */
  const held = async (): Promise<boolean> => {
    if (heldBy !== "") return true;
    const rules = o.withRules ? [] : [...o.rulesAtStart, ...(await allowRules(o.env, o.project, o.waker))];
    if (rules.length === 0) return false;
    heldBy = [...new Set(rules)].join(", ");
    await appendLog(o.stateDir, {
      kind: "listen",
      machine: o.config.name,
      ok: false,
      error: `coord agent open ${o.waker.name}: no message wakes this session: ${heldBy} may let commands run without asking (a woken turn would run them, outside its sandbox), and ${o.waker.name} keeps the rules it loaded; take those rules out and start the session again, or start it with --with-allow-rules`,
    }).catch(() => {});
    return true;
  };
  while (!o.signal.aborted) {
    if (!(await until(() => idleLink() !== undefined, o.signal))) return;
    const link = idleLink();
    if (!link) continue;
    // The person starting a turn ends this wait: a wake goes to an idle session only.
    const busy = new AbortController();
    const either = AbortSignal.any([o.signal, busy.signal]);
    const watching = until(() => isBusy(link.state) || !o.links.has(link), either).then(() => busy.abort());
    const wake = await waitForWake({ stateDir: o.stateDir, config: o.config, waker: o.waker, sessionId: o.sessionId, session, cwd: o.project, signal: either, held });
    busy.abort();
    await watching;
    if (!wake) {
      // Nobody may wake it, or another waiter holds it: look again in a while.
      if (!o.signal.aborted && !isBusy(link.state)) await pause(2000);
      continue;
    }
    // Taken and marked read: it goes to the TUI's thread once no turn runs there (the person's may have started).
    for (;;) {
      const to = idleLink();
      if (to) {
        await updateWoken(o.stateDir, o.sessionId, (w) => ({ ...(w ?? { wakes: [] }), lockedAt: new Date().toISOString() }));
        const id = `coord-${++n}`;
        const r = wakeTurn(to.state, id, wake.text);
        if (!("wait" in r)) {
          to.state = r.s;
          const answer = new Promise<Json>((done) => to.waiting.set(id, done));
          to.up.send(JSON.stringify(r.msg));
          const got = await answer;
          to.waiting.delete(id);
          if (got.error !== undefined) {
            to.state = { ...to.state, busy: false, restore: false };
            await appendLog(o.stateDir, {
              kind: "listen",
              machine: o.config.name,
              ok: false,
              error: `coord agent open ${o.waker.name}: the wake of ${wake.got.map((m) => m.id).join(", ")} was not started: ${JSON.stringify(got.error).slice(0, 300)}`,
            }).catch(() => {});
          }
          break;
        }
      }
      if (!(await until(() => idleLink() !== undefined, o.signal))) return;
    }
  }
}
