// What this machine can do, as published in its file: os, arch, node, git, and
// the agent CLIs found on PATH with their versions and whether each is logged
// in (an agent that is installed but logged out is published as such, and
// orders for it are refused with that reason instead of failing later).
import type { Launch } from "../core/platform/executables.js";
import { launchFor } from "../platform/executables.js";
import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { type ParseError, parse as parseJsonc } from "jsonc-parser";
import { parse as parseToml } from "smol-toml";
import { AGENTS, type AgentCli, loginsFromStore, loginWithoutAsking } from "../core/agents/agents.js";
import { agentCapability } from "../core/status/status.js";
import { gitVersion } from "../git/local.js";
import { readIfExists, writeDurably } from "./files.js";
import { loginStore } from "./secrets.js";
import { system } from "../platform/system.js";
import { killTree, ownTree } from "../platform/tree.js";

/** Agent name → the executables its CLI installs, first found wins (Cursor's is `cursor-agent`, now also `agent`). */
export const AGENT_CLIS: ReadonlyMap<string, readonly string[]> = new Map([...AGENTS.values()].map((a) => [a.name, a.executables]));

/** What one agent CLI on this machine is. */
export interface AgentFound {
  name: string;
  /** The executable found (e.g. cursor-agent). */
  executable: string;
  version?: string;
  /** true, false, or undefined when its CLI cannot tell (no status command, no answer in time). */
  loggedIn?: boolean;
  /** The command that says so, for a reason a person can act on. */
  how?: string;
  /** What logs it in (or what is missing) when coord told without asking it: a key in the environment, its config's provider. */
  via?: string;
}

/** A CLI's config file, parsed (codex's config.toml), when its login may hang on it; undefined when absent or unreadable. */
async function loginConfig(cli: AgentCli, env: Record<string, string | undefined>): Promise<unknown> {
  const file = cli.login?.config?.file(env, homedir());
  if (!file) return undefined;
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  // A JSON config may hold comments (OpenCode's opencode.json is JSONC); one with errors is left to the CLI, which
  // says what is wrong with its own file when it runs.
  if (!file.endsWith(".toml")) {
    const errors: ParseError[] = [];
    const parsed: unknown = parseJsonc(text, errors, { allowTrailingComma: true });
    return errors.length ? undefined : parsed;
  }
  try {
    return parseToml(text);
  } catch {
    return undefined;
  }
}

/**
 * Runs a short question to a CLI (its version, its login) in a process group of
 * its own, cut off with the whole group after `timeout` seconds; never throws.
 */
export function probe(argv: string[], env: Record<string, string>, timeout: number): Promise<{ exitCode: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    let output = "";
    let timedOut = false;
    const child = spawn(argv[0]!, argv.slice(1), { env, ...ownTree(), stdio: ["ignore", "pipe", "pipe"] });
    const add = (chunk: Buffer) => {
      if (output.length < 64 * 1024) output += chunk.toString("utf8");
    };
    child.stdout.on("data", add);
    child.stderr.on("data", add);
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) killTree(child.pid, "SIGKILL");
    }, timeout * 1000);
    child.on("error", () => {
      clearTimeout(timer);
      resolve({ exitCode: null, output, timedOut });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, output, timedOut });
    });
  });
}

/**
 * Seconds a version or login question to an agent CLI may take (a CLI that waits on a dead network is cut off).
 * Gemini's `--version` takes 6 s on a quiet machine of 2 cores; 10 s was crossed on a busy one.
 */
const PROBE_TIMEOUT = 30;

async function findAgent(name: string, path: string, store: Readonly<Record<string, string>>): Promise<AgentFound | undefined> {
  const cli = AGENTS.get(name)!;
  let executable: string | undefined;
  let launch: Launch | undefined;
  for (const exe of cli.executables) {
    // What starts it: on Windows what its npm .cmd shim starts (Node spawns no .cmd without a shell).
    launch = await launchFor(exe, path);
    if (launch) {
      executable = exe;
      break;
    }
  }
  if (!executable || !launch) return undefined;
  const argv = (args: readonly string[]) => [launch.file, ...launch.args, ...args];
  // Asked as coord starts it: with its login from the machine's secret store when the environment has none.
  const fromStore = loginsFromStore(cli, process.env, store);
  const env = { ...(process.env as Record<string, string>), ...fromStore, PATH: path };
  // Logged in by what its config names or a key in the environment, which its status command may not count: nothing to ask.
  const said = loginWithoutAsking(cli, env, await loginConfig(cli, process.env));
  const told = said?.via && Object.hasOwn(fromStore, said.via) ? { ...said, via: `${said.via} in coord's secret store` } : said;
  const [version, login] = await Promise.all([
    probe(argv(cli.versionArgs), env, PROBE_TIMEOUT),
    cli.login?.status && !told ? probe(argv(cli.login.status.args), env, PROBE_TIMEOUT) : undefined,
  ]);
  // Cut off at the deadline (a busy machine), the same executable's version found before stands: no publish flips to
  // "version unknown" and back.
  const before = foundAgents.get(name);
  const v = version.exitCode === 0 ? /\d+\.\d+(\.\d+)?([-.+\w]*)?/.exec(version.output)?.[0] : version.timedOut && before?.executable === executable ? before.version : undefined;
  const loggedIn = told ? told.loggedIn : cli.login?.status && login && !login.timedOut ? cli.login.status.loggedIn(login.exitCode, login.output) : undefined;
  return {
    name,
    executable,
    ...(v ? { version: v } : {}),
    ...(loggedIn !== undefined ? { loggedIn } : {}),
    ...(cli.login ? { how: cli.login.how } : {}),
    ...(told ? { via: told.via } : {}),
  };
}

/** The agent CLIs on `path`, asked for their version and login now, as coord starts them (their logins from the machine's secret store, `store`). */
export async function findAgents(path = process.env.PATH ?? "", store: Readonly<Record<string, string>> = {}): Promise<AgentFound[]> {
  const found = await Promise.all([...AGENT_CLIS.keys()].map((name) => findAgent(name, path, store)));
  return found.filter((a): a is AgentFound => a !== undefined);
}

/** The executable that runs `agent` here: the one found last time, else its first name. */
export function agentExecutable(agent: string): string {
  return foundAgents.get(agent)?.executable ?? AGENT_CLIS.get(agent)?.[0] ?? agent;
}

const foundAgents = new Map<string, AgentFound>();

/** The file in a machine's state that keeps what was found for the next process (detectCapabilities). */
export const CAPABILITIES_FILE = "agents.json";

/** Forgets what the state's file and this process found: the next sync asks the agent CLIs again (a login given since). */
export async function forgetFoundAgents(stateDir: string): Promise<void> {
  seen.clear();
  await rm(join(stateDir, CAPABILITIES_FILE), { force: true });
}

/**
 * What was found, kept 10 minutes per process and PATH, and on disk for the
 * next process (a cron sync asks no agent CLI each time). `refreshing`: the
 * questions asked again once that time is up, while what was found before
 * still serves.
 */
const seen = new Map<string, { at: number; caps: Promise<Record<string, string>>; refreshing?: Promise<unknown> }>();
const TTL_MS = 10 * 60_000;
/** Older than this, what was found is not served while asking again: the machine was off a long time, and a CLI may be gone. */
const STALE_MS = 24 * 3600_000;

/**
 * The capabilities of this machine. `cacheFile` (in the machine's state) keeps
 * them between processes for the same TTL: asking three agent CLIs for their
 * version and login costs seconds, which a sync every minute should not pay.
 * Once they are older than that, they still answer this sync while the CLIs
 * are asked again beside it (its tasks and its publish do not wait for them);
 * the next sync publishes the new answers. A machine with nothing found yet
 * waits for the answers (coord init asks none: knownCapabilities).
 */
export function detectCapabilities(dir: string, cacheFile?: string, now = Date.now()): Promise<Record<string, string>> {
  const path = process.env.PATH ?? "";
  const hit = seen.get(path);
  if (hit && now - hit.at <= STALE_MS) {
    if (now - hit.at > TTL_MS) refresh(path, dir, cacheFile, now);
    return hit.caps.then((caps) => ({ ...caps }));
  }
  const caps = fromDisk(cacheFile, path, now).then((cached) => {
    if (!cached) return detect(dir, path, cacheFile, now);
    // Kept from when it was detected, not from now: at most 10 minutes old in a long-lived daemon too.
    seen.set(path, { at: cached.at, caps: Promise.resolve(cached.caps) });
    if (now - cached.at > TTL_MS) refresh(path, dir, cacheFile, now);
    return cached.caps;
  });
  seen.set(path, { at: now, caps });
  caps.catch(() => seen.delete(path));
  return caps.then((c) => ({ ...c }));
}

/** Asks again, once at a time per PATH, beside the work: the answers replace what was known when they come. */
function refresh(path: string, dir: string, cacheFile: string | undefined, now: number): void {
  const hit = seen.get(path);
  if (!hit || hit.refreshing) return;
  hit.refreshing = detect(dir, path, cacheFile, now).then(
    (caps) => {
      if (seen.get(path) === hit) seen.set(path, { at: now, caps: Promise.resolve(caps) }); // unless newer answers came meanwhile
    },
    () => {
      delete hit.refreshing; // asked again at the next look
    },
  );
}

/**
 * The capabilities (detectCapabilities) and, in the same answer, whether they are older than 10 minutes with new
 * answers to come. Asked apart, the two could disagree: a refresh that ends between them would leave old answers
 * marked fresh, and an order would start on a CLI uninstalled since. New answers that came while waiting are served.
 */
export async function capabilitiesNow(dir: string, cacheFile?: string, now = Date.now()): Promise<{ caps: Record<string, string>; stale: boolean }> {
  const caps = await detectCapabilities(dir, cacheFile, now);
  const hit = seen.get(process.env.PATH ?? "");
  if (!hit) return { caps, stale: false };
  if (hit.refreshing) return { caps, stale: true };
  return { caps: { ...(await hit.caps) }, stale: false };
}

/** Settles when the capabilities being asked again (capabilitiesNow: stale) have their new answers. */
export async function capabilitiesRefreshed(): Promise<void> {
  await seen.get(process.env.PATH ?? "")?.refreshing;
}

/** Settles when no question to git or an agent CLI about this machine is under way (each has its deadline), including those asked meanwhile. */
export async function capabilitiesAsked(): Promise<void> {
  const waited = new Set<Promise<unknown>>();
  for (;;) {
    const pending = [...seen.values()].flatMap((s) => [s.caps, ...(s.refreshing ? [s.refreshing] : [])]).filter((p) => !waited.has(p));
    if (pending.length === 0) return;
    for (const p of pending) waited.add(p);
    await Promise.allSettled(pending);
  }
}

/**
 * Forgets what this process found (a new process, as far as the memo knows: the next sync reads the cache file or
 * asks again). For tests: a test worker runs many files in one process, and its answers would otherwise age past
 * the 10 minutes in the middle of some test that counts on a quiet sync (test/setup.ts).
 */
export function forgetCapabilities(): void {
  seen.clear();
}

/** When the capabilities this process knows (for its PATH) are detected again (ms), if it knows any. */
export function capabilitiesUntil(): number | undefined {
  const hit = seen.get(process.env.PATH ?? "");
  return hit ? hit.at + TTL_MS : undefined;
}

interface Cached {
  at: number;
  path: string;
  caps: Record<string, string>;
  agents: AgentFound[];
}

async function fromDisk(file: string | undefined, path: string, now: number): Promise<{ at: number; caps: Record<string, string> } | undefined> {
  if (!file) return undefined;
  const text = await readIfExists(file).catch(() => undefined); // unreadable: detect again
  if (!text) return undefined;
  try {
    const c = JSON.parse(text) as Cached;
    // Older than the TTL (not than a day) it still serves, while the CLIs are asked again (detectCapabilities).
    if (c.path !== path || typeof c.at !== "number" || now - c.at > STALE_MS || now < c.at || typeof c.caps !== "object" || !Array.isArray(c.agents)) return undefined;
    for (const a of c.agents) if (AGENTS.has(a.name)) foundAgents.set(a.name, a);
    return { at: c.at, caps: Object.assign(Object.create(null) as Record<string, string>, c.caps) };
  } catch {
    return undefined; // a torn or hand-edited cache: detect again
  }
}

/**
 * What coord init publishes for a new machine, without asking an agent CLI:
 * what the cache holds (a checkout registered again), else the system and
 * git's version. Asking the CLIs takes seconds (each is a program that starts,
 * and may look at the network for its login); the machine's first sync asks
 * them, as a sync with nothing found does, and publishes the answers. Nothing
 * is kept: the cache is left to that sync.
 */
export async function knownCapabilities(dir: string, cacheFile?: string, now = Date.now()): Promise<Record<string, string>> {
  const cached = await fromDisk(cacheFile, process.env.PATH ?? "", now);
  if (cached) return cached.caps;
  return systemCapabilities(dir);
}

/** What a machine publishes without asking an agent CLI: its system, and Node's and git's versions. */
async function systemCapabilities(dir: string): Promise<Record<string, string>> {
  const caps: Record<string, string> = { os: system(), arch: process.arch, node: process.versions.node };
  // git missing would have failed long before this: no version is published then.
  const git = await gitVersion(dir).then(
    (v) => v.replace(/^git version\s*/, "").trim(),
    () => undefined,
  );
  if (git) caps.git = git;
  return caps;
}

async function detect(dir: string, path: string, cacheFile: string | undefined, now: number): Promise<Record<string, string>> {
  // The machine's secret store lies beside the cache (its state directory): the logins it gives the CLIs count.
  const store = cacheFile ? await loginStore(dirname(cacheFile)) : {};
  const [caps, agents] = await Promise.all([systemCapabilities(dir), findAgents(path, store)]);
  for (const a of agents) {
    foundAgents.set(a.name, a);
    caps[a.name] = agentCapability(a.version, a.loggedIn);
  }
  if (cacheFile) await writeDurably(cacheFile, JSON.stringify({ at: now, path, caps, agents } satisfies Cached)).catch(() => {}); // a cache: losing it costs a probe
  return caps;
}
