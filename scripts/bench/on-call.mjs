// Issue "Agents on call", rows 17: a machine on call answers each message sent to it with its agent CLI
// (src/sync/on-call.ts). The fleet of rows 16 (3 default daemons, `coord daemon run --dir X` with no other flag,
// GitHub's figures in ORDERS.json), here reached through a far host: lib.delayingProxy holds every chunk 100 ms
// each way (a round trip 200 ms, as to a host across an ocean) in front of the bench's git daemon. b is on call
// (`coord agent on-call claude --from a`) with the real claude (the newest pinned in scripts/agent-clis.json,
// scripts/bench/real-claude.mjs) against the scripted model server of scripts/anthropic-server.mjs, which answers at
// once (`heard "…"`), or a Bash tool call for "please run: …"; or with the stand-in CLIs of scripts/on-call-standins.mjs
// (which answer "heard: …", or after a step "Bash: sleep N" for "sleep N"): COORD_BENCH_AGENT=real|standin, by default
// the real claude when it is installed (17c always runs the stand-ins: its step is theirs). a asks, and its daemon
// receives the answers. 17a: a's `coord send` → b's daemon logs the turn's start; 17b: the send → a's daemon logs
// the answer delivered; 17c: a step of a running turn (in b's .git/coord/on-call.json) → a's `coord status b`
// (which fetches) shows it. 17d: b's agent asks for a permission ("please run: …": claude calls coord's permission
// prompt tool, which sends a request into the thread) → the request delivered at a; 17e: a's `coord approve` → the
// decision in b's on-call.json (the agent goes on), and → the answer ("ran: …") delivered at a.
//
// COORD_BENCH_ONE_WAY_MS=<ms> sets the far host's delay (0: no proxy, the git daemon on loopback as rows 16), to see
// what the distance costs; the table says which was measured.
//
// Times are the daemons' own (each line's ISO stamp, as rows 16 take them): b logs "on call: turn of thread <id>
// for a starts" and "… ended"; a logs "N new message(s): <ids>" when the answer is in its mailbox.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { startAnthropicServer } from "../anthropic-server.mjs";
import { standInCalls, writeStandIns } from "../on-call-standins.mjs";
import { dur, fixture, keepLogs, median, run, say, size, sleep, spread } from "./lib.mjs";
import { benchAgent, realClaudeOnPath } from "./real-claude.mjs";
import { defaultDaemons, deliveredLine, fmt, GITHUB, hostRates, hubAndMachines, sampleHost, sentId } from "./seconds.mjs";

/** The far host: each way, a chunk is held this long (a round trip twice that; a connection's first bytes 2 × more). */
export const ONE_WAY_MS = Number(process.env.COORD_BENCH_ONE_WAY_MS ?? 100);
export const ASKER = "a";
export const ON_CALL = "b";
export const NAMES = [ASKER, ON_CALL, "c"];
export const FLEET_TEXT = `3 default daemons, GitHub's figures in ORDERS.json (${GITHUB.readsPerSecond} reads a second, ${GITHUB.pushesPerMinute} pushes a minute), ${
  ONE_WAY_MS ? `the hub behind a proxy that delays ${ONE_WAY_MS} ms each way` : "the hub on loopback (no proxy: COORD_BENCH_ONE_WAY_MS=0)"
}`;

/**
 * How often a machine may push within its share of GitHub's budget (6 pushes a minute ÷ 3 machines: one each 30 s).
 * The questions go at that pace: each is a push of a's, each answer one of b's (17c: two of b's, its step and its
 * answer, so a question a minute). Faster, the rows would measure the budget holding pushes back, as designed (a
 * person asking 6 questions in a minute): the notes say when it did anyway.
 */
export const SHARE_MS = 60_000 / (GITHUB.pushesPerMinute / NAMES.length);

/** Waits for the next question: 1–3 s after the last answer (as rows 16), and `paceMs` after the last question's send. */
export const nextQuestion = (lastSend, paceMs) => sleep(Math.max(1000 + Math.random() * 2000, lastSend + paceMs + Math.random() * 2000 - Date.now()));

/**
 * After the fleet's first syncs (its machines' first files, urgent: paid from their buckets) a share's worth of time, to
 * pay them back; the smoke waits `smokeMs`. Rows 17a–e wait the share in the smoke too: their first question found b's
 * bucket spent and measured its refill (17c at n = 1: 17.5 s and 18.9 s, its step held for the budget, against 4.38 s
 * in the full run; 17b 5.0–5.6 s). The other rows met their goals after 2 s, and the smoke stays short.
 */
export const settle = async (fl, smokeMs = 2000) => {
  await fl.settled(120_000);
  await sleep(size(SHARE_MS, smokeMs));
};

const escaped = (id) => id.replace(/[/]/g, "\\/");
const turnStarts = (thread) => new RegExp(`\\bon call: turn of thread ${escaped(thread)} for ${ASKER} starts\\b`);
const turnEnded = (thread) => new RegExp(`\\bon call: turn of thread ${escaped(thread)} ended\\b`);
/** A's "new message(s)" lines: the ids of messages from b in them. */
const fromOnCall = (line) => {
  const m = /\bnew messages?: (.*)$/.exec(line);
  return m ? (m[1].match(new RegExp(`\\b${ON_CALL}\\/${ASKER}\\/\\d+\\b`, "g")) ?? []) : [];
};

/**
 * The fleet of rows 17: hub and machines behind the far host, the agent CLI on the daemons' PATH (the real claude
 * pointed at the scripted model server, or the stand-ins: benchAgent), b on call for a (claude in its own working
 * directory), the 3 default daemons started and settled. `agent.text` says which ran; `agent.turns()` how many turns
 * (model requests for the real claude) it ran.
 */
async function onCallFleet(f, { standIn: onlyStandIn = false } = {}) {
  if (!(Number.isInteger(ONE_WAY_MS) && ONE_WAY_MS >= 0 && ONE_WAY_MS <= 2000))
    throw new Error(`COORD_BENCH_ONE_WAY_MS must be a whole number of ms from 0 to 2000, not "${process.env.COORD_BENCH_ONE_WAY_MS}"`);
  const bin = join(f.root, "bin");
  const work = join(f.root, "work");
  // The stand-in keeps its sessions where a turn may write: its cwd. The fixture lies below /tmp, which a turn's shield
  // gives it empty (its own), so a home beside the cwd was out of its sight and every turn failed at once (17c had no step).
  const standIn = join(work, ".standin");
  mkdirSync(work, { recursive: true });
  // 17c measures the stand-in's step ("sleep N": a Bash step, then a sleep), which the scripted model server has not.
  const which = onlyStandIn ? { kind: "standin", why: "17c's step is the stand-in's" } : benchAgent();
  let agent;
  if (which.kind === "real") {
    // The real claude: a `claude` on PATH that runs it with the server's address and key and a HOME of its own, so
    // b's daemon, which starts the turns with its own environment, runs it so.
    const server = await startAnthropicServer();
    f.onCleanup(() => server.close());
    realClaudeOnPath(bin, which.bin, server, join(f.root, "claude-home"));
    agent = {
      real: true,
      text: `the real claude ${which.version} (against a scripted model server on loopback that answers at once)`,
      turns: async () => `${server.requests.filter((r) => r.path.endsWith("/v1/messages")).length} requests of the real claude ${which.version} to the model server`,
    };
  } else {
    await writeStandIns(bin, standIn);
    f.env.STANDIN_HOME = standIn;
    agent = {
      real: false,
      text: `the stand-in CLIs (${which.why})`,
      turns: async () => `${(await standInCalls(standIn)).filter((c) => c.cli === "claude").length} turns of the stand-in claude`,
    };
  }
  // Every process of the fixture (the daemons, the bench's coord commands) finds the agent CLI first. The real CLI's own
  // directory goes on PATH too, after the wrapper: installed below /tmp (a CI's HOME), it is what the agents' shield
  // shows again of /tmp; named only inside the wrapper, the turn could not start it (claude exited with 127).
  f.env.PATH = `${bin}:${f.env.PATH ?? ""}${which.kind === "real" ? `:${dirname(which.bin)}` : ""}`;
  const { dirs, daemon, proxy, remote } = await hubAndMachines(f, NAMES, { hubSettings: GITHUB, oneWayMs: ONE_WAY_MS });
  await f.mustCoord(["agent", "on-call", "claude", "--cwd", work, "--from", ASKER, "--dir", dirs[ON_CALL]]);
  // What a read costs through the far host, with no coord at all: the raw git floor of every look and fetch.
  const lsRemote = [];
  for (let i = 0; i < 3; i++) lsRemote.push((await run("git", ["ls-remote", remote], { env: f.env })).ms);
  const fl = await defaultDaemons(f, NAMES, dirs);
  return { dirs, daemon, proxy, fl, agent, lsRemote: median(lsRemote) };
}

/**
 * The answer to `question` at a: the time of a's "new message(s)" line that delivered it (a message from b whose
 * replyTo is `question`, an agent's answer, as a's inbox says), at most `boundMs` after `since`; NaN when none came.
 */
export const answerAt = (f, fl, dirs, question, since, boundMs) => replyAt(f, fl, dirs[ASKER], question, since, boundMs, (msg) => msg.agent?.answer);

/**
 * The first reply from b to `question` at a that `accept` takes: the time of a's "new message(s)" line that delivered
 * it (a's inbox says which message is which), at most `boundMs` after `since`; NaN when none came.
 */
export async function replyAt(f, fl, dir, question, since, boundMs, accept = () => true) {
  const bound = since + boundMs;
  const checked = new Set();
  for (;;) {
    const lines = fl.lines.get(ASKER).filter((l) => l.at >= since);
    const fresh = lines.flatMap((l) => fromOnCall(l.line).map((id) => ({ id, at: l.at }))).filter((x) => !checked.has(x.id));
    if (fresh.length) {
      const r = await f.coord(["inbox", "--json", "--all", "--dir", dir], { timeoutMs: 30_000 });
      let inbox = [];
      try {
        inbox = JSON.parse(r.out);
      } catch {
        /* not JSON: looked at again */
      }
      for (const x of fresh) {
        const msg = inbox.find((m) => m.id === x.id);
        if (!msg) continue; // not in the inbox as it was read: the next round
        checked.add(x.id);
        if (msg.replyTo === question && accept(msg)) return { at: x.at, id: x.id, text: msg.text, agent: msg.agent };
      }
    }
    if (Date.now() >= bound || fl.dead()) return { at: Number.NaN };
    await sleep(100);
  }
}

/** `coord send b <text>` from a: the send's start (Date.now()), the id it printed, how long it took. */
export async function ask(f, dirs, text) {
  const t0 = Date.now();
  const r = await f.coord(["send", ON_CALL, text, "--dir", dirs[ASKER]], { timeoutMs: 60_000 });
  const id = sentId(r.out);
  if (r.code !== 0 || !id) throw new Error(`coord send ${ON_CALL} from ${ASKER} failed (exit ${r.code}): ${(r.err || r.out).trim().slice(0, 200)}`);
  return { t0, id, sendMs: Date.now() - t0, out: r.out.trim() };
}

/** The base column: what one read of the hub costs raw git, from the machines' side. */
export const rawRead = (ms) => `a raw git ls-remote${ONE_WAY_MS ? " through the proxy" : ""}: ${dur(ms)}`;

/** Each sample in order, for a note: "4.07 s, 8.80 s, …". */
export const list = (xs) => xs.map((x) => (Number.isFinite(x) ? dur(x) : "none")).join(", ");

export const worstOf = (xs) => Math.max(...xs.map((x) => (Number.isFinite(x) ? x : Number.POSITIVE_INFINITY)));
/** The table's cell: the median (a sample that never came counted as `bound`) and the worst, or how many never came. */
export const medianWorst = (xs, bound, never = `not within ${dur(bound)}`) => {
  const missed = xs.filter((x) => !Number.isFinite(x)).length;
  const m = median(xs.map((x) => (Number.isFinite(x) ? x : bound)));
  return `${dur(m)} median, ${missed ? `${missed} of ${xs.length} ${never}` : `${dur(worstOf(xs))} worst`}`;
};

/**
 * 17a and 17b: 6 questions (smoke: 2) from a to b, each a new conversation, one at a time at a's share of the push
 * budget (SHARE_MS): from the send's start to b's "turn … starts" line (17a), and to a's daemon's line that delivered
 * the answer (17b).
 */
export async function onCallAnswer() {
  const f = fixture("on-call-answer");
  try {
    const { dirs, daemon, proxy, fl, agent, lsRemote } = await onCallFleet(f);
    try {
      await settle(fl, SHARE_MS);
      const count = size(6, 2);
      const BOUND = 30_000;
      const samples = [];
      const c0 = daemon.requests();
      const p0 = proxy?.connections() ?? 0;
      const sampler = sampleHost(daemon);
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        say(`on call: a asks b, b's agent answers, ${i + 1}/${count}`);
        const q = await ask(f, dirs, `question ${i + 1}: what is in the repo?`);
        // Each sample waits BOUND from its send at most, for all three lines.
        const left = () => Math.max(0, q.t0 + BOUND - Date.now());
        const started = await fl.waitFor(ON_CALL, turnStarts(q.id), q.t0, left());
        const ended = await fl.waitFor(ON_CALL, turnEnded(q.id), q.t0, left());
        const answer = await answerAt(f, fl, dirs, q.id, q.t0, BOUND);
        // Whether the push budget held the question (a's publish between the send and the turn's start: all a had to
        // push then) or the answer (b's between the turn's end and the answer at a).
        const held = (name, from, to) => fl.lines.get(name).some((l) => l.at >= from && !(l.at > to) && /\bthis publish waits for\b/.test(l.line));
        samples.push({
          questionHeld: held(ASKER, q.t0, Number.isFinite(started) ? started : q.t0 + BOUND),
          answerHeld: Number.isFinite(ended) && held(ON_CALL, ended, Number.isFinite(answer.at) ? answer.at : ended + BOUND),
          ...q,
          start: started - q.t0,
          turn: ended - started,
          back: answer.at - ended,
          answer: answer.at - q.t0,
          text: answer.text,
          durationMs: answer.agent?.durationMs,
        });
        if (i + 1 < count) await nextQuestion(q.t0, SHARE_MS);
      }
      const ms = performance.now() - t0;
      const busiest = sampler.stop();
      const host = hostRates(c0, daemon.requests(), ms);
      const connections = (proxy?.connections() ?? 0) - p0;
      const calls = await agent.turns();
      const dead = fl.dead();
      await fl.stopAll();
      keepLogs(NAMES, dirs, (name) => fl.lines.get(name).map((l) => l.line), "17ab");
      const starts = samples.map((s) => s.start);
      const answers = samples.map((s) => s.answer);
      const missedStart = starts.filter((x) => !Number.isFinite(x)).length;
      const missedAnswer = answers.filter((x) => !Number.isFinite(x)).length;
      const mStart = median(starts.map((x) => (Number.isFinite(x) ? x : BOUND)));
      const mAnswer = median(answers.map((x) => (Number.isFinite(x) ? x : BOUND)));
      const wrong = samples.filter((s) => s.text !== undefined && !/^heard\b/.test(s.text)).length;
      const far = rawRead(lsRemote);
      const common =
        `${count} questions a → b, each a new conversation, one at a time, 1–3 s after the answer before and ${dur(SHARE_MS)} after the question before at least (a's share of the budget); ` +
        `the push budget held the question's push ("this publish waits for …" in a's log before the turn started) in ${samples.filter((s) => s.questionHeld).length}, ` +
        `the answer's (in b's log after the turn ended) in ${samples.filter((s) => s.answerHeld).length}; ` +
        `at the host during the ${dur(ms)}: ${host.reads} reads (${fmt(host.readsPerSecond)} a second, at most ${busiest.most} in any 10 s), ` +
        `${host.pushes} pushes reached it (${fmt(host.pushesPerMinute)} a minute), ${ONE_WAY_MS ? `${connections} connections through the proxy; ` : ""}` +
        `${calls}${dead ? `; ${dead} daemons exited early` : ""}`;
      return [
        {
          n: "17a",
          what: `on call: a's plain coord send to b → b's daemon starts the turn ("on call: turn of thread … starts"), ${agent.text}, ${FLEET_TEXT}`,
          coord: medianWorst(starts, BOUND),
          base: far,
          ratio: "",
          goal: "≤ 3 s median",
          met: dead === 0 && missedStart === 0 && mStart <= 3000,
          notes:
            `from the send's start to b's line (its own time stamp): ${list(starts)}${missedStart ? `, ${missedStart} not within ${dur(BOUND)}` : ""}; ` +
            `the send itself took ${spread(samples.map((s) => s.sendMs))} ("${samples[0]?.out.slice(0, 100) ?? ""}"); ${common}`,
        },
        {
          n: "17b",
          what: `on call: a's plain coord send to b → b's agent's answer in a's inbox (a's daemon logs it delivered), ${agent.text}, ${FLEET_TEXT}`,
          coord: medianWorst(answers, BOUND),
          base: far,
          ratio: "",
          goal: "≤ 5 s median, ≤ 15 s worst",
          met: dead === 0 && missedAnswer === 0 && wrong === 0 && mAnswer <= 5000 && worstOf(answers) <= 15_000,
          notes:
            `from the send's start to a's "new message" line for the answer (its own time stamp): ${list(answers)}${missedAnswer ? `, ${missedAnswer} not within ${dur(BOUND)}` : ""}; ` +
            `in parts: send → turn start ${spread(starts)}, the turn (start → "ended" line) ${spread(samples.map((s) => s.turn))} ` +
            `(the answer's durationMs ${spread(samples.map((s) => s.durationMs))}), turn ended → in a's inbox ${spread(samples.map((s) => s.back))}; ` +
            `answers "${samples.find((s) => s.text)?.text?.slice(0, 60) ?? "none"}"${wrong ? `, ${wrong} not the agent's "heard …"` : ""}; ${common}`,
        },
      ];
    } finally {
      await fl.stopAll();
    }
  } finally {
    await f.cleanup();
  }
}

/** b's running turn of `thread` as its .git/coord/on-call.json has it now (undefined: none, or not readable yet). */
function runningTurn(dirs, thread) {
  return onCallState(dirs)?.threads?.[thread]?.running;
}

/** b's .git/coord/on-call.json now (undefined: not there yet, or being written). */
function onCallState(dirs) {
  const file = join(dirs[ON_CALL], ".git", "coord", "on-call.json");
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined; // written meanwhile
  }
}

/** What `coord status b --json` printed of b on call: its onCall block (the machine's, wherever the JSON puts it). */
function onCallOf(out) {
  try {
    const j = JSON.parse(out);
    return j.onCall ?? j.machine?.onCall ?? j.machines?.[ON_CALL]?.onCall;
  } catch {
    return undefined;
  }
}

/**
 * 17c: 3 questions (smoke: 1) "sleep 20" from a to b, a minute apart (b's share pays its step and its answer): the
 * stand-in prints a step ("Bash: sleep 20") and sleeps. From the step's appearance in b's .git/coord/on-call.json
 * (looked at every 50 ms) to the end of the first `coord status b --json` run on a (it fetches; one after another, until
 * the turn ends) whose onCall.turns show it.
 */
export async function onCallStep() {
  const f = fixture("on-call-step");
  try {
    const { dirs, daemon, proxy, fl, lsRemote } = await onCallFleet(f, { standIn: true });
    try {
      await settle(fl, SHARE_MS);
      const count = size(3, 1);
      const SLEEP_S = 20;
      const BOUND = 30_000;
      const samples = [];
      const c0 = daemon.requests();
      const p0 = proxy?.connections() ?? 0;
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        say(`on call: a step of b's turn → a's coord status b, ${i + 1}/${count}`);
        const q = await ask(f, dirs, `sleep ${SLEEP_S} then say what you found (${i + 1})`);
        let stepAt = Number.NaN;
        let step;
        while (Date.now() - q.t0 < BOUND) {
          step = runningTurn(dirs, q.id)?.step;
          if (step) {
            stepAt = Date.now();
            break;
          }
          if (fl.dead()) break;
          await sleep(50);
        }
        const started = await fl.waitFor(ON_CALL, turnStarts(q.id), q.t0, 1000);
        const statuses = [];
        let seenAt = Number.NaN;
        let shown;
        // Until a's status shows it, or the turn ended (its step gone with it), at most BOUND.
        const turnOver = () => fl.lines.get(ON_CALL).some((l) => l.at >= q.t0 && turnEnded(q.id).test(l.line));
        while (Number.isFinite(stepAt) && Date.now() - stepAt < BOUND && !turnOver() && !fl.dead()) {
          const s = await f.coord(["status", ON_CALL, "--json", "--dir", dirs[ASKER]], { timeoutMs: 30_000 });
          statuses.push(s.ms);
          const turns = onCallOf(s.out)?.turns ?? [];
          shown = (turns.find((t) => t.thread === q.id) ?? turns[0])?.step;
          if (shown === step) {
            seenAt = Date.now();
            break;
          }
        }
        // The turn runs its 20 s out, and its answer goes back, before the next question (bounded).
        const endedAt = await fl.waitFor(ON_CALL, turnEnded(q.id), q.t0, (SLEEP_S + 30) * 1000);
        // b's first sync after the step, and its first push while the turn ran (the one that carried the step; it may wait for the budget).
        const after = fl.lines.get(ON_CALL).filter((l) => Number.isFinite(stepAt) && l.at >= stepAt);
        const sync = after.find((l) => /\bsync: /.test(l.line));
        const pushed = after.find((l) => !(l.at >= endedAt) && /\bpublished [0-9a-f]+ on coord \(.*coordination\/COMPUTER_b\.md/.test(l.line));
        samples.push({
          ...q,
          step,
          shown,
          toStep: stepAt - q.t0,
          start: started - q.t0,
          visible: seenAt - stepAt,
          turnLeft: endedAt - stepAt,
          statuses,
          sync: sync ? { after: sync.at - stepAt, line: sync.line.slice(25, 160), held: /waits for/.test(sync.line) } : undefined,
          pushed: pushed ? pushed.at - stepAt : Number.NaN,
        });
        if (i + 1 < count) await nextQuestion(q.t0, 2 * SHARE_MS);
      }
      const ms = performance.now() - t0;
      const host = hostRates(c0, daemon.requests(), ms);
      const connections = (proxy?.connections() ?? 0) - p0;
      const dead = fl.dead();
      await fl.stopAll();
      keepLogs(NAMES, dirs, (name) => fl.lines.get(name).map((l) => l.line), "17c");
      const visible = samples.map((s) => s.visible);
      const missed = visible.filter((x) => !Number.isFinite(x)).length;
      const worst = worstOf(visible);
      return {
        n: "17c",
        what: `on call: a step of b's running turn (in b's .git/coord/on-call.json) → shown by a's coord status b (it fetches), ${FLEET_TEXT}`,
        coord: medianWorst(visible, BOUND, "never shown while the turn ran"),
        base: rawRead(lsRemote),
        ratio: "",
        goal: "≤ 15 s",
        met: dead === 0 && missed === 0 && worst <= 15_000,
        notes:
          `${count} questions "sleep ${SLEEP_S}" a → b, one at a time, each after the turn before ran out and ${dur(2 * SHARE_MS)} after the question before at least (b's share: a step and an answer); from the step in b's on-call.json (looked at every 50 ms) ` +
          `to the end of the first coord status b --json on a that showed it ("${samples[0]?.shown ?? samples[0]?.step ?? "none"}"): ${list(visible)}` +
          `${missed ? `, ${missed} not within ${dur(BOUND)}` : ""}; each coord status took ${spread(samples.flatMap((s) => s.statuses))}, ` +
          `${samples.map((s) => s.statuses.length).join(", ")} of them a sample; the send → the turn's start ${spread(samples.map((s) => s.start))}, → the step ${spread(samples.map((s) => s.toStep))}; ` +
          `b's first sync after the step ended ${spread(samples.map((s) => s.sync?.after))} after it, ${samples.filter((s) => s.sync?.held).length} of them holding its publish for the push budget ` +
          `("${samples.find((s) => s.sync?.held)?.sync?.line ?? samples[0]?.sync?.line ?? "none"}"); b's push with the step landed ${list(samples.map((s) => s.pushed))} after it ("none": not before the turn ended, ${list(samples.map((s) => s.turnLeft))} after the step); ` +
          `at the host during the ${dur(ms)}: ${host.reads} reads (${fmt(host.readsPerSecond)} a second), ${host.pushes} pushes reached it (${fmt(host.pushesPerMinute)} a minute)` +
          `${ONE_WAY_MS ? `, ${connections} connections through the proxy` : ""}${dead ? `; ${dead} daemons exited early` : ""}`,
      };
    } finally {
      await fl.stopAll();
    }
  } finally {
    await f.cleanup();
  }
}

/** b's request for a permission in the turn of `thread` as its .git/coord/on-call.json has it now: { id, ...request }, or undefined. */
function requestOf(dirs, thread) {
  const requests = onCallState(dirs)?.requests ?? {};
  const hit = Object.entries(requests).find(([, r]) => r?.thread === thread);
  return hit ? { id: hit[0], ...hit[1] } : undefined;
}

/** Looks at `get()` every 50 ms until it gives something, at most until `bound` (Date.now() time) or a daemon exits. */
async function poll(get, fl, bound) {
  for (;;) {
    const x = get();
    if (x !== undefined) return x;
    if (Date.now() >= bound || fl.dead()) return undefined;
    await sleep(50);
  }
}

/** The first line of `name` at or after `from` (and not after `to`) matching `re`: { at, line } or undefined. */
const firstLine = (fl, name, re, from, to = Number.POSITIVE_INFINITY) => fl.lines.get(name).find((l) => l.at >= from && l.at <= to && re.test(l.line));
/** A daemon's line for the publish that carried a message of `from`'s to `to` (its file among those it pushed). */
const publishedTo = (from, to) => new RegExp(`\\bpublished [0-9a-f]+ on coord \\(.*coordination/messages/${from}_TO_${to}\\.md`);
const wakeLine = /\bthe hub moved\b/;
const heldLine = /\bthis publish waits for\b/;
/** A span between two times, NaN when either is missing. */
const span = (from, to) => (Number.isFinite(from) && Number.isFinite(to) ? to - from : Number.NaN);

/**
 * 17d and 17e: 5 questions (smoke: 2) "please run: echo …" from a to b, each a new conversation, one at a time at
 * twice a's share of the push budget (each sample is two pushes of a's, the question and the /approve, and two of
 * b's, the request and the answer). The stand-in claude asks coord's permission prompt tool, which sends the request
 * into the thread. 17d: from the request in b's .git/coord/on-call.json (its `at`, written by the tool the moment it
 * queued the request, before its publish) to a's daemon's "new message(s)" line with the request's id. 17e: from the
 * start of a's `coord approve <request> --dir a` to the decision in b's on-call.json (its `decision.at`, written by b's
 * daemon when the reply reached it; the tool looks every 250 ms and the agent goes on), and on to a's line that
 * delivered the answer ("ran: …").
 */
export async function onCallApprove() {
  const f = fixture("on-call-approve");
  try {
    const { dirs, daemon, proxy, fl, agent, lsRemote } = await onCallFleet(f);
    try {
      await settle(fl, SHARE_MS);
      const count = size(5, 2);
      const BOUND = 30_000;
      const samples = [];
      const c0 = daemon.requests();
      const p0 = proxy?.connections() ?? 0;
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        say(`on call: b's agent asks a for a permission, a approves, ${i + 1}/${count}`);
        // A write: claude runs a command that only reads (echo) without asking in its default mode.
        const q = await ask(f, dirs, `please run: echo approved ${i + 1} > approved-${i + 1}.txt`);
        // The request, as b's permission prompt tool wrote it (looked at every 50 ms).
        const req = await poll(() => requestOf(dirs, q.id), fl, q.t0 + BOUND);
        const s = { ...q, request: req?.id, tool: req?.tool };
        const askedAt = req ? Date.parse(req.at) : Number.NaN;
        s.toRequest = span(q.t0, askedAt);
        s.seenLag = req ? Date.now() - askedAt : Number.NaN; // how late the bench's look saw it (bounds 17d's start's precision)
        const delivered = req ? await fl.waitFor(ASKER, deliveredLine(req.id), q.t0, Math.max(0, askedAt + BOUND - Date.now())) : Number.NaN;
        s.visible = span(askedAt, delivered);
        // Where 17d's time went: b's first publish after the request (the daemon asked by the tool), whether the budget held it.
        const bPub = Number.isFinite(askedAt) ? firstLine(fl, ON_CALL, publishedTo(ON_CALL, ASKER), askedAt) : undefined;
        s.requestPushed = span(askedAt, bPub?.at);
        s.requestWake = bPub ? span(bPub.at, firstLine(fl, ASKER, wakeLine, bPub.at)?.at) : Number.NaN;
        s.requestHeld = Number.isFinite(askedAt) && fl.lines.get(ON_CALL).some((l) => l.at >= askedAt && l.at <= (bPub?.at ?? askedAt + BOUND) && heldLine.test(l.line));
        s.requestPubLine = bPub?.line.slice(25, 200);
        if (Number.isFinite(delivered)) {
          // a approves, a person reading the request a moment later.
          await sleep(500 + Math.random() * 1000);
          const a0 = Date.now();
          const r = await f.coord(["approve", req.id, "--dir", dirs[ASKER]], { timeoutMs: 60_000 });
          s.approveMs = Date.now() - a0;
          s.approveOut = (r.out || r.err).trim();
          if (r.code !== 0) throw new Error(`coord approve ${req.id} --dir ${ASKER} failed (exit ${r.code}): ${s.approveOut.slice(0, 200)}`);
          const reply = sentId(r.out); // "approved <request>: sent <reply> into its thread"
          const decision = await poll(() => requestOf(dirs, q.id)?.decision, fl, a0 + BOUND);
          const decidedAt = decision ? Date.parse(decision.at) : Number.NaN;
          s.decision = decision ? `${decision.behavior} by ${decision.by}` : undefined;
          s.goesOn = span(a0, decidedAt);
          // Where 17e's time went: a's publish of the reply, b's line with it delivered, the decision in on-call.json.
          const aAsked = firstLine(fl, ASKER, /\ba sync was asked for\b/, a0, a0 + BOUND);
          s.approveToAsk = span(a0, aAsked?.at);
          const aPub = firstLine(fl, ASKER, publishedTo(ASKER, ON_CALL), a0, a0 + BOUND);
          s.replyPushed = span(a0, aPub?.at);
          s.replyWake = aPub ? span(aPub.at, firstLine(fl, ON_CALL, wakeLine, aPub.at)?.at) : Number.NaN;
          s.replyHeld = fl.lines.get(ASKER).some((l) => l.at >= a0 && l.at <= (aPub?.at ?? a0 + BOUND) && heldLine.test(l.line));
          const atB = reply ? await fl.waitFor(ON_CALL, deliveredLine(reply), a0, 1000) : Number.NaN;
          s.replyAtB = span(a0, atB);
          s.bToDecision = span(atB, decidedAt);
          const answer = await answerAt(f, fl, dirs, q.id, a0, BOUND);
          s.answer = span(a0, answer.at);
          s.text = answer.text;
          const ended = await fl.waitFor(ON_CALL, turnEnded(q.id), a0, 1000);
          s.decisionToEnd = span(decidedAt, ended);
          s.endToAnswer = span(ended, answer.at);
        } else {
          s.goesOn = s.answer = Number.NaN;
          // No request: the turn's answer says what the agent did instead (plan mode on claude 2.1.278 and later runs a
          // command the API's safety check lets through without asking coord's prompt tool).
          s.unasked = (await answerAt(f, fl, dirs, q.id, q.t0, 5000)).text;
        }
        samples.push(s);
        // The turn over (it has its answer, or it was denied by the tool's timeout: bounded) before the next question.
        await fl.waitFor(ON_CALL, turnEnded(q.id), q.t0, 5000);
        if (i + 1 < count) await nextQuestion(q.t0, 2 * SHARE_MS);
      }
      const ms = performance.now() - t0;
      const host = hostRates(c0, daemon.requests(), ms);
      const connections = (proxy?.connections() ?? 0) - p0;
      const calls = await agent.turns();
      const dead = fl.dead();
      await fl.stopAll();
      keepLogs(NAMES, dirs, (name) => fl.lines.get(name).map((l) => l.line), "17de");
      const visible = samples.map((s) => s.visible);
      const goesOn = samples.map((s) => s.goesOn);
      const answers = samples.map((s) => s.answer);
      const missed = (xs) => xs.filter((x) => !Number.isFinite(x)).length;
      const mid = (xs) => median(xs.map((x) => (Number.isFinite(x) ? x : BOUND)));
      const wrong = samples.filter((s) => s.text !== undefined && !/^ran:/.test(s.text)).length;
      const unasked = samples.filter((s) => s.request === undefined).map((s) => s.unasked ?? "nothing within 5 s more");
      const far = rawRead(lsRemote);
      const common =
        `${count} questions "please run: echo …" a → b, each a new conversation, one at a time, ${dur(2 * SHARE_MS)} after the question before at least (a's share for its question and its /approve, b's for its request and its answer); ` +
        `the send → the request in b's on-call.json ${spread(samples.map((s) => s.toRequest))}; ` +
        `at the host during the ${dur(ms)}: ${host.reads} reads (${fmt(host.readsPerSecond)} a second), ${host.pushes} pushes reached it (${fmt(host.pushesPerMinute)} a minute)` +
        `${ONE_WAY_MS ? `, ${connections} connections through the proxy` : ""}; ${calls}${dead ? `; ${dead} daemons exited early` : ""}` +
        `${unasked.length ? `; ${unasked.length} turns asked no permission, answering ${unasked.map((t) => `"${t.slice(0, 60)}"`).join(", ")}` : ""}`;
      return [
        {
          n: "17d",
          what: `on call: b's agent asks for a permission (the request in b's .git/coord/on-call.json) → the request in a's inbox (a's daemon logs it delivered), ${agent.text}, ${FLEET_TEXT}`,
          coord: medianWorst(visible, BOUND),
          base: far,
          ratio: "",
          goal: "≤ 5 s median",
          met: dead === 0 && missed(visible) === 0 && mid(visible) <= 5000,
          notes:
            `from the request's \`at\` in b's on-call.json (the tool writes it once the request is queued, before asking b's daemon to publish; the bench saw it ${spread(samples.map((s) => s.seenLag))} later) ` +
            `to a's "new message" line with the request's id (its own time stamp): ${list(visible)}${missed(visible) ? `, ${missed(visible)} not within ${dur(BOUND)}` : ""}; ` +
            `in parts: the request → b's daemon's publish ("published … on coord") ${spread(samples.map((s) => s.requestPushed))}, the push budget holding it in ${samples.filter((s) => s.requestHeld).length} ` +
            `("${samples.find((s) => s.requestPubLine)?.requestPubLine ?? "none"}"), b's publish → a's daemon wakes ("the hub moved …") ${spread(samples.map((s) => s.requestWake))}, ` +
            `b's publish → in a's inbox ${spread(samples.map((s) => span(s.requestPushed, s.visible)))}; ${common}`,
        },
        {
          n: "17e",
          what: `on call: a's coord approve <request> → b's agent goes on (the decision in b's on-call.json; the tool looks every 250 ms), and its answer in a's inbox, ${agent.text}, ${FLEET_TEXT}`,
          coord: `${medianWorst(goesOn, BOUND)}; the answer at a: ${medianWorst(answers, BOUND)}`,
          base: far,
          ratio: "",
          goal: "≤ 5 s median",
          met: dead === 0 && missed(goesOn) === 0 && wrong === 0 && mid(goesOn) <= 5000,
          notes:
            `from the start of a's coord approve (it took ${spread(samples.map((s) => s.approveMs))}: "${samples.find((s) => s.approveOut)?.approveOut?.slice(0, 100) ?? "none"}") ` +
            `to the decision's \`at\` in b's on-call.json ("${samples.find((s) => s.decision)?.decision ?? "none"}"): ${list(goesOn)}${missed(goesOn) ? `, ${missed(goesOn)} not within ${dur(BOUND)}` : ""}; ` +
            `to a's "new message" line for the answer: ${list(answers)} (answers "${samples.find((s) => s.text)?.text?.slice(0, 40) ?? "none"}"${wrong ? `, ${wrong} not "ran: …"` : ""}); ` +
            `in parts: the approve → a's daemon asked to sync ("a sync was asked for") ${spread(samples.map((s) => s.approveToAsk))}, → a's publish of the reply ${spread(samples.map((s) => s.replyPushed))} ` +
            `(the push budget holding it in ${samples.filter((s) => s.replyHeld).length}), a's publish → b's daemon wakes ${spread(samples.map((s) => s.replyWake))}, ` +
            `the approve → b's "new message" line with the reply ${spread(samples.map((s) => s.replyAtB))}, b's line → the decision ${spread(samples.map((s) => s.bToDecision))}, ` +
            `the decision → the turn's "ended" line ${spread(samples.map((s) => s.decisionToEnd))}, the turn's end → the answer in a's inbox ${spread(samples.map((s) => s.endToAnswer))}; ${common}`,
        },
      ];
    } finally {
      await fl.stopAll();
    }
  } finally {
    await f.cleanup();
  }
}
