// What the end-to-end tests of agents on call share: stand-in agent CLIs on PATH (scripts/on-call-standins.mjs),
// a fleet, its daemons as processes, sending as a machine, and waiting for a message to arrive. `onCallTests()`
// registers its hooks in the calling test file: each test gets fresh stand-ins and leaves no process behind.
import type { ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, expect } from "vitest";
import { inbox } from "../src/actions/messages.js";
import { sync } from "../src/sync/sync.js";
import { cli, cliProcess, type Fleet, makeFleet, tempDir, waitFor } from "./helpers.js";
import { writeStandIns } from "./on-call-standins.js";

/** A message as a test reads it from an inbox. */
export type Msg = {
  id: string;
  from: string;
  text: string;
  replyTo?: string;
  agent?: {
    answer?: boolean;
    request?: string;
    cli?: string;
    outcome?: string;
    cause?: string;
    note?: string;
    decided?: { request: string; behavior: string; by?: string; cause?: string; always?: string };
    chain?: number;
    turns?: number;
    costUsd?: number;
  };
};

export interface OnCallTests {
  /** The stand-ins' executables, their sessions and calls (STANDIN_HOME), and a directory for the agent to work in. */
  readonly bin: string;
  readonly home: string;
  readonly work: string;
  /** A fleet of `names` (a template copy: test/helpers.ts makeFleet), cleaned up after the test. */
  fleet(names: string[]): Promise<Fleet>;
  dirOf(name: string): string;
  /** `coord daemon run` of machine `name` (schedule far away: what it does comes from its looks at the hub), stopped after the test. */
  startDaemon(name: string): ChildProcess & { output(): string };
  /** Runs when the test ends, before the daemons stop (a client, a server). */
  onEnd(stop: () => Promise<unknown>): void;
  /** coord send as machine `from`; the message's id. */
  send(from: string, to: string, text: string, replyTo?: string): Promise<string>;
  /** The first message at `at` (its syncs receive) that `match` accepts, within `ms`. */
  arrives(at: string, match: (x: Msg) => boolean, what: string, ms?: number): Promise<Msg>;
  /** A fleet of `names` whose machine "oncall" runs claude on call for "asker" (with `extra` options), its daemon started. */
  claudeOnCall(names: string[], ...extra: string[]): Promise<ChildProcess & { output(): string }>;
}

/** A request for a permission in reply to `q`. */
export const requestFor = (q: string) => (x: Msg) => x.agent?.request !== undefined && x.replyTo === q;
/** An agent's answer to `q` (not a request). */
export const answerTo = (q: string) => (x: Msg) => x.replyTo === q && x.agent?.answer === true && x.agent.request === undefined;

export function onCallTests(prefix = "coord-on-call-"): OnCallTests {
  let current: Fleet | undefined;
  const daemons: (ChildProcess & { output(): string; label: string })[] = [];
  const stops: (() => Promise<unknown>)[] = [];
  const savedPath = process.env.PATH;
  const t = { bin: "", home: "", work: "" };
  beforeEach(async (ctx) => {
    // A failed test prints what its daemons said: a timeout alone names no cause.
    ctx.onTestFailed(() => {
      for (const d of daemons) console.error(`--- coord daemon of ${d.label} (pid ${d.pid}) said:\n${d.output().slice(-6000)}`);
    });
    const root = await tempDir(prefix);
    t.bin = join(root, "bin");
    t.home = join(root, "standin");
    t.work = join(root, "work");
    await mkdir(t.work, { recursive: true });
    await writeStandIns(t.bin, t.home);
    process.env.PATH = `${t.bin}:${savedPath}`;
    process.env.STANDIN_HOME = t.home;
  });
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
    for (const d of daemons.splice(0)) {
      if (d.exitCode === null && d.signalCode === null) {
        d.kill("SIGTERM");
        await new Promise((r) => (d.exitCode !== null || d.signalCode !== null ? r(null) : d.once("close", r)));
      }
    }
    process.env.PATH = savedPath;
    delete process.env.STANDIN_HOME;
    delete process.env.COORD_ON_CALL_CHAIN;
    await current?.cleanup();
    current = undefined;
  });
  const dirOf = (name: string) => current!.machines[name]!;
  return {
    get bin() {
      return t.bin;
    },
    get home() {
      return t.home;
    },
    get work() {
      return t.work;
    },
    async fleet(names) {
      current = await makeFleet(names);
      return current;
    },
    dirOf,
    startDaemon(name) {
      const d = cliProcess(["daemon", "run", "--dir", dirOf(name), "--schedule", "0 0 1 1 *", "--jitter", "0"], { env: { ...process.env } });
      let out = "";
      d.stdout!.on("data", (x) => (out += x));
      d.stderr!.on("data", (x) => (out += x));
      const shown = Object.assign(d, { output: () => out, label: name });
      daemons.push(shown);
      return shown;
    },
    onEnd(stop) {
      stops.push(stop);
    },
    async send(from, to, text, replyTo) {
      const r = await cli("send", "--dir", dirOf(from), to, text, ...(replyTo ? ["--reply-to", replyTo] : []));
      expect(r.code, r.err).toBe(0);
      return /^sent ([^;\s]+)/.exec(r.out)![1]!;
    },
    async claudeOnCall(names, ...extra) {
      await this.fleet(names);
      const set = await cli("agent", "on-call", "claude", "--dir", dirOf("oncall"), "--cwd", t.work, "--from", "asker", ...extra);
      expect(set.code, set.err).toBe(0);
      return this.startDaemon("oncall");
    },
    arrives(at, match, what, ms = 60_000) {
      return waitFor(
        async () => {
          await sync({ dir: dirOf(at), run: false });
          return ((await inbox({ dir: dirOf(at), all: true })).messages as Msg[]).find(match);
        },
        ms,
        what,
        250,
      );
    },
  };
}
