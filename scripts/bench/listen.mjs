// Issue "An open session hears the fleet", row 18: a person's open Claude Code session, idle in a terminal, wakes on a
// message from another machine with nobody typing (`coord agent listen`: a hook with asyncRewake waits for the
// inbox). The real claude (the newest pinned, scripts/bench/real-claude.mjs) runs interactive in tmux on a private
// socket, pointed at the scripted model server (scripts/anthropic-server.mjs), in a project set up as
// test/listen-claude.e2e.test.ts does (`coord agent listen claude --from a`, `coord agent install claude`, `coord agent
// hooks install claude`, all with --project and --dir b). The fleet is rows 17's: 3 default daemons, GitHub's figures
// in ORDERS.json, the hub behind the delaying proxy (COORD_BENCH_ONE_WAY_MS). a sends b messages saying
// `call mcp__coord__send {"to":"a","body":"…","reply_to":"<the message's id>"}`: the woken session calls coord's send
// tool, which answers in the thread.
// 18a: a's `coord send` → the model server receives the woken session's request (its last user message carries
// "--- message <id> from machine"); 18b: the send → the session's answer delivered at a (a's daemon's "new message"
// line). Skipped, with a line saying why, where tmux or the pinned claude is missing.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { claudeEnv, startAnthropicServer } from "../anthropic-server.mjs";
import { CLI, dur, fixture, keepLogs, median, run, say, size, sleep, spread } from "./lib.mjs";
import { installed, serverModule } from "./on-call-clis.mjs";
import { ASKER, FLEET_TEXT, list, medianWorst, NAMES, nextQuestion, ON_CALL, ONE_WAY_MS, rawRead, replyAt, SHARE_MS, settle, worstOf } from "./on-call.mjs";
import { claudeHome } from "../anthropic-server.mjs";
import { newestClaude } from "./real-claude.mjs";
import { defaultDaemons, fmt, GITHUB, hostRates, hubAndMachines, sentId } from "./seconds.mjs";

const escaped = (id) => id.replace(/[/]/g, "\\/");

/** The text of a recorded request's last user message (what started that turn). */
const lastUserText = (r) => {
  const users = (r.body.messages ?? []).filter((m) => m.role === "user");
  const last = users[users.length - 1];
  if (!last) return "";
  return typeof last.content === "string" ? last.content : last.content.map((b) => (b.type === "text" ? (b.text ?? "") : "")).join("\n");
};

/** The session's turns woken by message `id`: the main conversation's requests that carry it. */
const wakesBy = (server, id) => server.turns().filter((r) => lastUserText(r).includes(`--- message ${id} from machine`));

/** The open sessions listening at b (the waiters in b's .git/coord/listen/state.json), 0 while it is not readable. */
function listening(dir) {
  const file = join(dir, ".git", "coord", "listen", "state.json");
  if (!existsSync(file)) return 0;
  try {
    return Object.keys(JSON.parse(readFileSync(file, "utf8")).waiters ?? {}).length;
  } catch {
    return 0; // written meanwhile
  }
}

/** Looks at `get()` every 20 ms until it gives something, at most until `bound` (Date.now() time) or a daemon exits. */
async function poll(get, fl, bound) {
  for (;;) {
    const x = get();
    if (x !== undefined) return x;
    if (Date.now() >= bound || fl.dead()) return undefined;
    await sleep(20);
  }
}

/** The row when it cannot run here: said, not failed. */
const skipped = (why, n = "18a", cli = "") => [
  {
    n,
    what: `an open ${cli}session hears the fleet: a's coord send → the woken session's request at the model server`,
    coord: "skipped",
    base: "",
    ratio: "",
    goal: "≤ 5 s median",
    met: undefined,
    notes: `skipped: ${why}`,
  },
];

/** One message's measures: the wake at the model server and the answer at a, from the send's start. */
async function oneMessage(f, fl, dirs, i, sent, wokenAt, BOUND) {
  const expected = `${ASKER}/${ON_CALL}/${sent + 1}`;
  const q0 = Date.now();
  const r = await f.coord(["send", ON_CALL, `call mcp__coord__send {"to":"${ASKER}","body":"heard ${i + 1}","reply_to":"${expected}"}`, "--dir", dirs[ASKER]], {
    timeoutMs: 60_000,
  });
  const id = sentId(r.out);
  if (r.code !== 0 || !id) throw new Error(`coord send ${ON_CALL} from ${ASKER} failed (exit ${r.code}): ${(r.err || r.out).trim().slice(0, 200)}`);
  const woken = await poll(() => wokenAt(id), fl, q0 + BOUND);
  const delivered = await fl.waitFor(ON_CALL, new RegExp(`\\bnew messages?: (?:.*[\\s,])?${escaped(id)}(?:$|[\\s,;])`), q0, Math.max(0, q0 + BOUND - Date.now()));
  const answer = id === expected ? await replyAt(f, fl, dirs[ASKER], id, q0, BOUND) : { at: Number.NaN };
  return {
    q0,
    id,
    expected,
    sendMs: r.ms,
    out: r.out.trim(),
    wake: woken ? woken - q0 : Number.NaN,
    atB: delivered - q0,
    bToWake: woken ? woken - delivered : Number.NaN,
    answer: answer.at - q0,
    text: answer.text,
  };
}

/**
 * Rows 18's pair for one CLI's open session (`ns`: the wake's row, the answer's), from its messages' measures and what
 * the host and the daemons saw meanwhile.
 */
function listenRows(ns, session, how, agent, samples, run) {
  const { ms, host, connections, dead, requests, far, bound } = run;
  const wakes = samples.map((s) => s.wake);
  const answers = samples.map((s) => s.answer);
  const missed = (xs) => xs.filter((x) => !Number.isFinite(x)).length;
  const mid = (xs) => median(xs.map((x) => (Number.isFinite(x) ? x : bound)));
  const misnumbered = samples.filter((s) => s.id !== s.expected).length;
  const common =
    `${samples.length} messages a → b, one at a time, 1–3 s after the answer before and ${dur(SHARE_MS)} after the message before at least (a's share of the budget); ` +
    `the send itself took ${spread(samples.map((s) => s.sendMs))} ("${samples[0]?.out.slice(0, 80) ?? ""}"); in parts: the send → b's daemon's "new message" line ${spread(samples.map((s) => s.atB))}, ` +
    `that line → the woken request ${spread(samples.map((s) => s.bToWake))}${run.more ?? ""}` +
    `${misnumbered ? `; ${misnumbered} sends printed another id than foreseen (their answers not looked for)` : ""}; ` +
    `at the host during the ${dur(ms)}: ${host.reads} reads (${fmt(host.readsPerSecond)} a second), ${host.pushes} pushes reached it (${fmt(host.pushesPerMinute)} a minute)` +
    `${ONE_WAY_MS ? `, ${connections} connections through the proxy` : ""}; ${requests} requests of the session to the model server${dead ? `; ${dead} daemons exited early` : ""}`;
  return [
    {
      n: ns[0],
      what: `an open ${session} hears the fleet: a's plain coord send to b → b's idle session's woken request at the model server (${how}), ${agent}, ${FLEET_TEXT}`,
      coord: medianWorst(wakes, bound),
      base: far,
      ratio: "",
      goal: "≤ 5 s median",
      met: dead === 0 && missed(wakes) === 0 && mid(wakes) <= 5000,
      notes: `from the send's start to the request (the server's clock, the bench's process): ${list(wakes)}; ${common}`,
    },
    {
      n: ns[1],
      what: `an open ${session} hears the fleet: a's plain coord send to b → the woken session's answer (coord's send tool, in the thread) in a's inbox, ${agent}, ${FLEET_TEXT}`,
      coord: medianWorst(answers, bound),
      base: far,
      ratio: "",
      goal: "≤ 10 s median",
      met: dead === 0 && missed(answers) === 0 && mid(answers) <= 10_000 && worstOf(answers) < bound,
      notes: `from the send's start to a's "new message" line for the answer: ${list(answers)} (answers "${samples.find((s) => s.text)?.text ?? "none"}"); ${common}`,
    },
  ];
}

/**
 * 18c and 18d: Codex's open session (`coord agent open codex`: its TUI on an app-server through coord's relay), as
 * 18a–b measure Claude Code's: the real codex in tmux on the scripted Responses server (test/openai-server.ts, built
 * as rows 17f–h build it), the person's first prompt typed, then 10 messages (smoke: 2) from a, one at a time.
 */
export async function listenCodex() {
  if (spawnSync("tmux", ["-V"]).status !== 0) return skipped("tmux is not installed", "18c", "Codex ");
  const codex = installed("codex");
  if ("missing" in codex) return skipped(codex.missing, "18c", "Codex ");
  const f = fixture("listen-codex");
  const socket = `coord-bench-listen-cx-${process.pid}`;
  const tmux = (...args) => spawnSync("tmux", ["-L", socket, ...args], { env: f.env, encoding: "utf8" });
  const screen = () => tmux("capture-pane", "-p", "-J", "-t", "0").stdout ?? "";
  f.onCleanup(() => stopTmux(tmux));
  try {
    const m = await serverModule(f, "openai-server.ts");
    const server = await m.startOpenAiServer();
    f.onCleanup(() => server.close());
    const project = join(f.root, "project");
    mkdirSync(project, { recursive: true });
    await run("git", ["init", "-q", project], { env: f.env });
    // Outside the temp directory: codex makes its sandbox's helper links there, never under TMPDIR (test/codex-real).
    const home = mkdtempSync(join("/var/tmp", "coord-bench-codex-"));
    f.onCleanup(() => rmSync(home, { recursive: true, force: true }));
    await m.codexHome(home, server, `[projects."${project}"]\ntrust_level = "trusted"\n`);
    const { dirs, daemon, proxy, remote } = await hubAndMachines(f, NAMES, { hubSettings: GITHUB, oneWayMs: ONE_WAY_MS });
    await f.mustCoord(["agent", "listen", "codex", "--from", ASKER, "--project", project, "--dir", dirs[ON_CALL]]);
    const lsRemote = [];
    for (let i = 0; i < 3; i++) lsRemote.push((await run("git", ["ls-remote", remote], { env: f.env })).ms);
    const fl = await defaultDaemons(f, NAMES, dirs);
    try {
      const env = { ...f.env, CODEX_HOME: home, [m.CODEX_KEY_VAR]: server.key, PATH: `${dirname(codex.bin)}:${f.env.PATH ?? ""}` };
      const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
      const started = tmux("new-session", "-d", "-x", "200", "-y", "50", "-c", project, "env", ...envArgs, process.execPath, CLI, "agent", "open", "codex", "--dir", dirs[ON_CALL]);
      if (started.status !== 0) throw new Error(`tmux could not start coord agent open codex: ${(started.stderr || started.stdout).trim().slice(0, 200)}`);
      const ready = await poll(() => (/Ask Codex|for shortcuts/.test(screen()) ? true : undefined), fl, Date.now() + 60_000);
      if (!ready) throw new Error(`the TUI did not start within 60 s: ${screen().trim().slice(-300)}`);
      // The session listens once the person's first prompt made its thread.
      tmux("send-keys", "-t", "0", "-l", "hello from the person");
      await sleep(500); // the composer takes a paste's Enter as a new line: the Enter on its own
      tmux("send-keys", "-t", "0", "Enter");
      const up = await poll(() => listening(dirs[ON_CALL]) || undefined, fl, Date.now() + 60_000);
      if (!up) throw new Error(`the session did not listen within 60 s of the first prompt: ${screen().trim().slice(-300)}`);
      await settle(fl);
      const count = size(10, 2);
      const BOUND = 30_000;
      const samples = [];
      const wokenAt = (id) => server.requests.find((r) => r.lastUser.includes(`--- message ${id} from machine`))?.at;
      const c0 = daemon.requests();
      const p0 = proxy?.connections() ?? 0;
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        say(`an open Codex session hears the fleet: a sends, b's session wakes and answers, ${i + 1}/${count}`);
        const s = await oneMessage(f, fl, dirs, i, samples.length, wokenAt, BOUND);
        samples.push(s);
        if (i + 1 < count) await nextQuestion(s.q0, SHARE_MS);
      }
      const ms = performance.now() - t0;
      const host = hostRates(c0, daemon.requests(), ms);
      const connections = (proxy?.connections() ?? 0) - p0;
      const dead = fl.dead();
      const requests = server.requests.length;
      await stopTmux(tmux);
      await fl.stopAll();
      keepLogs(NAMES, dirs, (name) => fl.lines.get(name).map((l) => l.line), "18c");
      const agent = `the real codex ${codex.version}'s TUI in tmux on coord's relay (against a scripted Responses server on loopback that answers at once)`;
      return listenRows(["18c", "18d"], "Codex session", "coord agent open codex", agent, samples, {
        ms,
        host,
        connections,
        dead,
        requests,
        far: rawRead(median(lsRemote)),
        bound: BOUND,
      });
    } finally {
      await stopTmux(tmux);
      await fl.stopAll();
    }
  } finally {
    await f.cleanup();
  }
}

/**
 * 18a and 18b: 10 messages (smoke: 2) from a to b's open, idle session, one at a time at a's share of the push budget
 * (each is a push of a's, each answer one of b's, as rows 17a–b).
 */
export async function listenWake() {
  if (spawnSync("tmux", ["-V"]).status !== 0) return skipped("tmux is not installed");
  const claude = newestClaude();
  if ("missing" in claude) return skipped(claude.missing);
  const f = fixture("listen");
  const socket = `coord-bench-listen-${process.pid}`;
  const tmux = (...args) => spawnSync("tmux", ["-L", socket, ...args], { env: f.env, encoding: "utf8" });
  f.onCleanup(() => stopTmux(tmux));
  try {
    const server = await startAnthropicServer();
    f.onCleanup(() => server.close());
    const home = join(f.root, "claude-home");
    const project = join(f.root, "project");
    mkdirSync(project, { recursive: true });
    claudeHome(home, project, claude.version, server);
    const { dirs, daemon, proxy, remote } = await hubAndMachines(f, NAMES, { hubSettings: GITHUB, oneWayMs: ONE_WAY_MS });
    // As the person: their HOME (agent install claude writes the project's local scope in ~/.claude.json).
    for (const args of [
      ["agent", "listen", "claude", "--from", ASKER, "--project", project],
      ["agent", "install", "claude", "--project", project],
      ["agent", "hooks", "install", "claude", "--project", project],
    ])
      await f.mustCoord([...args, "--dir", dirs[ON_CALL]], { env: { ...f.env, HOME: home } });
    const lsRemote = [];
    for (let i = 0; i < 3; i++) lsRemote.push((await run("git", ["ls-remote", remote], { env: f.env })).ms);
    const fl = await defaultDaemons(f, NAMES, dirs);
    try {
      const env = Object.entries({ ...claudeEnv(server, home), PATH: f.env.PATH ?? "" }).map(([k, v]) => `${k}=${v}`);
      const started = tmux("new-session", "-d", "-x", "200", "-y", "50", "-c", project, "env", ...env, claude.bin);
      if (started.status !== 0) throw new Error(`tmux could not start claude: ${(started.stderr || started.stdout).trim().slice(0, 200)}`);
      const up = await poll(() => listening(dirs[ON_CALL]) || undefined, fl, Date.now() + 60_000);
      if (!up) throw new Error(`the session did not listen within 60 s (SessionStart): ${tmux("capture-pane", "-p", "-t", "0").stdout?.trim().slice(-300)}`);
      await settle(fl);
      const count = size(10, 2);
      const BOUND = 30_000;
      const samples = [];
      const c0 = daemon.requests();
      const p0 = proxy?.connections() ?? 0;
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        say(`an open session hears the fleet: a sends, b's session wakes and answers, ${i + 1}/${count}`);
        // The id the send will print (a's messages to b are numbered in order): the message names it as the one it answers.
        const one = await oneMessage(f, fl, dirs, i, samples.length, (id) => wakesBy(server, id)[0]?.at, BOUND);
        samples.push({ ...one, wakes: wakesBy(server, one.id).length });
        if (i + 1 < count) await nextQuestion(one.q0, SHARE_MS);
      }
      const ms = performance.now() - t0;
      const host = hostRates(c0, daemon.requests(), ms);
      const connections = (proxy?.connections() ?? 0) - p0;
      const dead = fl.dead();
      const turns = server.turns().length;
      await stopTmux(tmux);
      await fl.stopAll();
      keepLogs(NAMES, dirs, (name) => fl.lines.get(name).map((l) => l.line), "18");
      const twice = samples.filter((s) => s.wakes > 1).length;
      const agent = `the real claude ${claude.version} interactive in tmux (against a scripted model server on loopback that answers at once)`;
      return listenRows(["18a", "18b"], "session", "coord agent listen", agent, samples, {
        ms,
        host,
        connections,
        dead,
        requests: turns,
        far: rawRead(median(lsRemote)),
        bound: BOUND,
        ...(twice ? { more: `; ${twice} messages woke the session more than once` } : {}),
      });
    } finally {
      await stopTmux(tmux);
      await fl.stopAll();
    }
  } finally {
    await f.cleanup();
  }
}

/**
 * Stops a fixture's tmux server and waits (at most 5 s) for the programs its panes ran to exit: a CLI that writes its
 * home on its way out (claude's ~/.claude.json) would otherwise make the fixture's directory again after its removal.
 */
async function stopTmux(tmux) {
  const pids = (tmux("list-panes", "-a", "-F", "#{pane_pid}").stdout ?? "")
    .split("\n")
    .map(Number)
    .filter((pid) => pid > 0);
  tmux("kill-server");
  const alive = (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const until = Date.now() + 5000; Date.now() < until && pids.some(alive); ) await sleep(50);
}
