// Open sessions that hear the fleet (coord agent listen): who may wake them,
// the waiter of each listening session, and the messages a session already
// took. `.git/coord/listen/state.json`, in a folder of its own: a waiter arms
// at every turn's end, and its writes are no change a sync acts on (the quiet
// stamp looks only at the files of .git/coord itself).
import { mkdir, readdir, rm } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import * as z from "zod";
import { machineNameProblem } from "../core/files/names.js";
import { isLocked, type ListenSettings, type Waiter, type Woken, wokenChain } from "../core/oncall/listen.js";
import { parentOf } from "../platform/processes.js";
import { WAKE_AGENTS } from "../core/agents/agents.js";
import { pidAlive } from "./lock.js";
import { ownTable } from "../core/types.js";
import { checkState, setAside } from "./corrupt.js";
import { readIfExists, updateLocked } from "./files.js";

/** The last message ids taken by a session that are remembered (a message is acknowledged when taken: this only closes a race). */
const TAKEN_KEPT = 500;
/** Threads whose agents' wakes are counted, at most (the oldest counted go first). */
const THREADS_KEPT = 200;

export interface ListenState {
  version: 1;
  /** Who may wake a listening session: none by default. */
  from: string[] | "ALL";
  /** Session id → its waiter. */
  waiters: Record<string, Waiter>;
  /** Message ids a session took, newest last. */
  taken: string[];
  /** Thread (its first message's id) → wakes by agents' answers since a person's message in it (core/oncall/listen.ts). */
  agentWakes: Record<string, number>;
  /**
   * The files `coord agent listen` armed (a project's settings or plugin file, absolute): an agent coord starts never
   * writes one, wherever its cwd is (the shield keeps them read-only: sync/sandbox.ts).
   */
  armed: string[];
}

const schema = z.object({
  version: z.literal(1),
  from: z.union([z.literal("ALL"), z.array(z.string().refine((n) => !machineNameProblem(n)))]),
  waiters: z.record(z.string(), z.object({ pid: z.number().int().positive(), session: z.number().int().positive(), since: z.string(), cwd: z.string().optional() })),
  taken: z.array(z.string()),
  agentWakes: z.record(z.string(), z.number().int().min(0)).default({}),
  armed: z.array(z.string().refine((p) => isAbsolute(p), "an absolute path")).default([]),
});

const empty = (): ListenState => ({ version: 1, from: [], waiters: ownTable(), taken: [], agentWakes: ownTable(), armed: [] });

export const listenDir = (stateDir: string) => join(stateDir, "listen");
/** The listen state's file. */
export const listenPath = (stateDir: string) => join(listenDir(stateDir), "state.json");

/** The listen state; a broken file is kept aside and read as none (nobody may wake a session). */
export async function readListen(stateDir: string): Promise<ListenState> {
  const text = await readIfExists(listenPath(stateDir));
  if (text === undefined) return empty();
  const r = checkState(text, schema, { versioned: true });
  if (!r.ok) {
    if (r.newer) return empty(); // a newer coord's: left alone, and nobody may wake a session here
    await setAside(listenPath(stateDir), r.problem, "nobody may wake an open session until coord agent listen is run again");
    return empty();
  }
  return { ...r.data, waiters: ownTable(r.data.waiters), agentWakes: ownTable(r.data.agentWakes) } as ListenState;
}

/** Who may wake a listening session. */
export const listenSettings = (s: ListenState): ListenSettings => ({ from: s.from });

/** A read-modify-write of the listen state under its own lock. */
export async function updateListen<T>(stateDir: string, change: (s: ListenState) => T | Promise<T>): Promise<T> {
  const dir = listenDir(stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return updateLocked(
    dir,
    "state.json",
    { read: () => readListen(stateDir), path: listenPath(stateDir), render: (s) => `${JSON.stringify(s, null, 2)}\n`, what: "listen state" },
    (s) => {
      const r = change(s);
      if (s.taken.length > TAKEN_KEPT) s.taken = s.taken.slice(-TAKEN_KEPT);
      const threads = Object.keys(s.agentWakes);
      for (const root of threads.slice(0, Math.max(0, threads.length - THREADS_KEPT))) delete s.agentWakes[root];
      return r;
    },
  );
}

// ------------------------------------------------ woken sessions

/** A session id as Claude Code gives it, fit to name a file; anything else is no session id. */
export const SESSION_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/;

/** The folder of the woken sessions' files: one per session (`<session id>.json`), read by the gate's fast check. */
export const wokenDir = (stateDir: string) => join(listenDir(stateDir), "woken");
export const wokenPath = (stateDir: string, session: string) => join(wokenDir(stateDir), `${session}.json`);

const wokenSchema = z.object({
  pid: z.number().int().positive().optional(),
  cli: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/)
    .optional(),
  lockedAt: z.string(),
  typedAt: z.string().optional(),
  wakes: z.array(z.object({ id: z.string(), from: z.string(), root: z.string(), chain: z.number().int().min(0), at: z.string() })),
});

/**
 * A session's woken state: none when the fleet never woke it. A file that cannot be read is a locked session that
 * nobody woke by name (fail closed: every tool but coord's read tools asks until the person types).
 */
export async function readWoken(stateDir: string, session: string): Promise<Woken | undefined> {
  if (!SESSION_ID.test(session)) return undefined;
  const text = await readIfExists(wokenPath(stateDir, session));
  if (text === undefined) return undefined;
  const r = checkState(text, wokenSchema);
  return r.ok ? (r.data as Woken) : { lockedAt: "9999", wakes: [] };
}

/** A read-modify-write of one session's woken state, under its own lock; the change returns the new state. */
export async function updateWoken(stateDir: string, session: string, change: (w: Woken | undefined) => Woken): Promise<Woken | undefined> {
  if (!SESSION_ID.test(session)) return undefined;
  const dir = wokenDir(stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return updateLocked(
    dir,
    `${session}.json`,
    {
      read: async () => ({ w: await readWoken(stateDir, session) }),
      path: wokenPath(stateDir, session),
      render: (d: { w: Woken | undefined }) => (d.w ? `${JSON.stringify(d.w, null, 2)}\n` : ""),
      what: "woken session's state",
    },
    (d) => {
      d.w = change(d.w);
      return d.w;
    },
  );
}

/** Every woken session's state that is locked now, by session id. */
export async function lockedSessions(stateDir: string): Promise<Map<string, Woken>> {
  const out = new Map<string, Woken>();
  const names = await readdir(wokenDir(stateDir)).catch(() => [] as string[]);
  for (const n of names) {
    const id = n.endsWith(".json") ? n.slice(0, -5) : "";
    if (!SESSION_ID.test(id)) continue;
    const w = await readWoken(stateDir, id);
    if (isLocked(w)) out.set(id, w!);
  }
  return out;
}

/** Takes out a session's woken state (its session ended). */
export async function dropWoken(stateDir: string, session: string): Promise<void> {
  if (SESSION_ID.test(session)) await rm(wokenPath(stateDir, session), { force: true });
}

/** Which sessions listen now (their waiter and their session alive), and who may wake them. */
export async function listeningIn(stateDir: string): Promise<{ from: string[] | "ALL"; sessions: { id: string; waiter: Waiter }[] }> {
  const s = await readListen(stateDir);
  const sessions = Object.entries(s.waiters)
    .filter(([, w]) => pidAlive(w.pid) && pidAlive(w.session))
    .map(([id, waiter]) => ({ id, waiter }));
  return { from: s.from, sessions };
}

/** `coord status`'s line on this machine's listening sessions, or none when nobody may wake one. */
export async function listeningLine(stateDir: string): Promise<string | undefined> {
  const r = await listeningIn(stateDir).catch(() => undefined);
  if (!r || (r.from !== "ALL" && r.from.length === 0)) return undefined;
  const n = r.sessions.length;
  return `open sessions listening here: ${n === 0 ? "none" : n} (a message from ${r.from === "ALL" ? "any machine" : r.from.join(", ")} wakes ${n === 1 ? "it" : "one"}; coord agent listen)`;
}

/** The processes above this one (its parent first), as far as `depth` goes. */
export async function ancestors(depth = 12): Promise<number[]> {
  const out: number[] = [];
  let pid = process.ppid;
  for (let i = 0; i < depth && pid > 1; i++) {
    out.push(pid);
    const parent = await parentOf(pid);
    if (parent === undefined || parent <= 1) break;
    pid = parent;
  }
  return out;
}

/** The CLI a woken session of an older coord was (it wrote none): the one that could be woken then. */
export const FIRST_WAKER = "claude";

/**
 * The agent's mark of a message sent from under an open session the fleet woke and nobody typed in since (its MCP
 * server's send, or a command the person approved): an agent's, one turn past the messages that woke it. None from
 * anywhere else. `cli`: the woken session's CLI when it is one coord wakes, else the first that could be woken.
 */
export async function wokenMark(stateDir: string): Promise<{ agent: { cli: string; chain: number } } | undefined> {
  const w = await wokenAbove(stateDir);
  return w ? { agent: { cli: w.cli !== undefined && WAKE_AGENTS.includes(w.cli) ? w.cli : FIRST_WAKER, chain: wokenChain(w) } } : undefined;
}

/** The locked woken session this process runs under (the session's process is one of its ancestors), if any. */
export async function wokenAbove(stateDir: string): Promise<Woken | undefined> {
  const locked = await lockedSessions(stateDir);
  if (locked.size === 0) return undefined;
  const up = new Set(await ancestors());
  for (const w of locked.values()) if (w.pid !== undefined && up.has(w.pid)) return w;
  return undefined;
}
