// coord agent on-call (set, show, --off) and coord agent stop: a machine whose
// agent CLI answers the messages sent to it (sync/on-call.ts runs the turns).
import { onPath } from "../platform/executables.js";
import { agentSandbox } from "../sync/sandbox.js";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { AGENTS, ON_CALL_AGENTS } from "../core/agents/agents.js";
import type { OnCallSettings } from "../core/oncall/on-call.js";
import { BROADCAST } from "../core/messages/messages.js";
import { messageId, parseMessageId } from "../core/messages/messages.js";
import { CoordError, EXIT } from "../errors.js";
import { carriesMarker, stopProcesses } from "../runner/run.js";
import { timings } from "../timings.js";
import { AGENT_CLIS } from "../state/capabilities.js";
import { loadConfig, saveConfig } from "../state/config.js";
import { loadOnCall, onCallStatePath, parseOnCall, readOnCallState, type RunningTurn, updateOnCallState } from "../state/on-call.js";
import { setAsideNotice } from "../core/oncall/salvage.js";
import { expandHome } from "../state/paths.js";
import { pidAlive } from "../state/lock.js";
import { daemonRunning } from "../daemon/daemon.js";
import { type Machine, openMachine } from "../sync/sync.js";
import { requestSync } from "../daemon/request.js";
import { allowedDir } from "../sync/tasks.js";
import { machinesOnHub, publishSent, sendFrom } from "./messages.js";
import { approvableHere } from "./approve.js";
import { type AgentMark, chainOf, dayOf, DECIDED_BY_TIMEOUT, decidedText, threadSwitch } from "../core/oncall/on-call.js";
import { appendLog } from "../state/logs.js";
import { phaseOf, RUNNING_PHASES, threadHolding } from "../core/oncall/turn-life.js";
import { describeFailure } from "../failure.js";
import { flagOfField, givenSettings, writtenSettings } from "../core/oncall/settings.js";
import { waitWords, allowedWithoutAsking, approvalAsk, approvalHolds, type Decision, permissionAnswer, whatItWouldDo } from "../core/oncall/approvals.js";
import { clip } from "../core/limits.js";
import { own } from "../core/types.js";
import { redact } from "../core/trust/redact.js";
import { type MailboxData, NoKnownFleet, readKnownFleet, readMailbox, queueMessage } from "../state/mailbox.js";
import { requestState } from "../core/oncall/request-state.js";
import { cwdRefused, markerOf, ON_CALL_THREAD_ENV, ON_CALL_TURN_ENV, turnMarker } from "../sync/on-call.js";
import { unpublishable } from "../state/secrets.js";

export interface OnCallOptions {
  dir: string;
  /** The CLI to put on call; absent with `off` absent: show the setting. */
  agent?: string;
  cwd?: string;
  /** Machine names, comma-separated or several, or ALL. */
  from?: string[];
  permissions?: string;
  maxTurns?: number;
  maxBudgetUsd?: number;
  timeout?: string;
  maxParallel?: number;
  dailyBudgetUsd?: number;
  model?: string;
  approvalTimeout?: string;
  allowTools?: string[];
  off?: boolean;
  /** Today's spend (UTC), set by a person: lifts the hold a damaged on-call.json put on the daily budget. */
  spentToday?: number;
  /** PATH to look for the CLI on (default: this process's). */
  path?: string;
  /** The directory a relative --cwd is in (default: where this process runs). */
  base?: string;
}

export interface OnCallShown {
  machine: string;
  settings?: OnCallSettings;
  /** What is wrong with the setting in machine.yaml. */
  problem?: string;
  /** What the command changed ("" when nothing). */
  changed?: string;
  /** Turns running now. */
  running: { thread: string; asker: string; since: string; step?: string; pid?: number; session?: string; gone?: true }[];
  /** Requests for a permission waiting for a person. */
  waiting?: { request: string; tool: string; asker: string; since: string }[];
  /** Threads and their sessions. */
  threads: { thread: string; agent: string; session?: string; queued: number }[];
  spentToday?: number;
  /** Today's spend was lost with a damaged on-call.json: the daily budget counts as spent today (salvage.ts). */
  spendHeld?: true;
  /** A damaged on-call.json was set aside: what was kept and lost, in a sentence. */
  damaged?: string;
  /** What the CLI can and cannot do on call, in a sentence. */
  notes: string[];
}

/** Sets, shows or takes off this machine's on-call setting. */
export async function onCall(opts: OnCallOptions): Promise<OnCallShown> {
  const m = await openMachine(opts.dir);
  let changed: string | undefined;
  if (opts.spentToday !== undefined) {
    const usd = opts.spentToday;
    if (!Number.isFinite(usd) || usd < 0) throw new CoordError(`--spent-today must be an amount in USD, 0 or more, not ${usd}`, EXIT.USAGE);
    const day = dayOf(new Date());
    await updateOnCallState(m.stateDir, (life) => life.record({ kind: "spend-set", day, usd }));
    changed = `today's spend (${day}, UTC) set to $${usd.toFixed(4)}: the daily budget counts from there`;
    if (await daemonRunning(m.stateDir)) await requestSync(m.stateDir); // turns held for the budget start at once
  }
  if (opts.off) {
    const config = (await loadConfig(m.stateDir))!;
    if (config.onCall !== undefined) {
      delete config.onCall;
      await saveConfig(m.stateDir, config);
      changed = "off call: no new turn starts (a running one finishes)";
    } else changed = "";
  } else if (opts.agent !== undefined) {
    const settings = await checkedSettings(m, opts);
    const config = (await loadConfig(m.stateDir))!;
    config.onCall = writtenSettings(settings);
    await saveConfig(m.stateDir, config);
    changed = `on call with ${settings.agent} in ${settings.cwd} for ${settings.from === "ALL" ? "every machine" : settings.from.join(", ")}`;
    // The running daemon is asked for a sync now: its engine reads the new setting right after it, so turns that waited
    // (for a raised daily budget, a free slot of a higher maxParallel) start at once, not at an unrelated sync.
    if (await daemonRunning(m.stateDir)) await requestSync(m.stateDir);
    // Sessions that ran with another CLI or other permissions are never resumed under these (core threadSwitch).
    const switched = Object.values((await readOnCallState(m.stateDir)).threads).filter((t) => t.session && threadSwitch(t, settings)).length;
    if (switched)
      changed += `; ${switched} conversation${switched === 1 ? "" : "s"} that ran with another CLI or other permissions start${switched === 1 ? "s" : ""} a new ${settings.agent} session at ${switched === 1 ? "its" : "their"} next message, and ${switched === 1 ? "is" : "are"} told so`;
  }
  return { ...(await shown(m)), ...(changed !== undefined ? { changed } : {}) };
}

/** The setting the options ask for, checked: one sentence for the first thing wrong, nothing changed. */
async function checkedSettings(m: Machine, opts: OnCallOptions): Promise<OnCallSettings> {
  const usage = (text: string) => new CoordError(text, EXIT.USAGE);
  const agent = opts.agent!;
  if (!(ON_CALL_AGENTS as readonly string[]).includes(agent)) throw usage(`coord cannot put "${agent}" on call; give one of ${ON_CALL_AGENTS.join(", ")}`);
  const path = opts.path ?? process.env.PATH ?? "";
  const names = AGENT_CLIS.get(agent) ?? [agent];
  const found = (await Promise.all(names.map((n) => onPath(n, path)))).some(Boolean);
  if (!found) throw usage(`${agent} is not on PATH (looked for ${names.join(" or ")}); install it, or put it on the PATH coord runs with`);
  if (!opts.cwd) throw usage("--cwd is required: the directory the agent works in (its sessions live there)");
  // A relative directory is where the command runs, and is kept absolute (machine.yaml's are relative to home).
  const dir = opts.cwd === "~" || opts.cwd.startsWith("~/") ? expandHome(opts.cwd) : resolve(opts.base ?? process.cwd(), opts.cwd);
  const st = await stat(dir).catch(() => undefined);
  if (!st) throw usage(`--cwd ${dir} does not exist; create it, or give the directory the agent should work in`);
  if (!st.isDirectory()) throw usage(`--cwd ${dir} is not a directory`);
  const allowed = await allowedDir(m, dir);
  if ("refused" in allowed) throw usage(`--cwd: ${allowed.refused}`);
  const keyNear = await cwdRefused(m, dir);
  if (keyNear) throw usage(`--cwd ${keyNear}`);
  if (!opts.from?.length) throw usage("--from is required: the machines whose messages start turns (a list, or ALL); a machine is on call for no one by default");
  const list = opts.from
    .flatMap((f) => f.split(","))
    .map((f) => f.trim())
    .filter(Boolean);
  let from: string[] | "ALL";
  if (list.includes(BROADCAST)) {
    if (list.length > 1) throw usage("--from ALL stands alone: give ALL, or a list of machines");
    from = "ALL";
  } else {
    const last = await readKnownFleet(m.stateDir);
    // Perhaps one registered since the last sync (or no sync of this coord wrote the fleet yet): look once at the hub
    // (offline, the last sync's fleet stands).
    const machines = last && list.every((n) => last.includes(n)) ? last : ((await machinesOnHub(m)) ?? last);
    if (!machines) throw new NoKnownFleet();
    const me = m.config.name;
    for (const name of list) {
      if (name === me) throw usage(`--from ${name}: that is this machine; its own messages never start a turn`);
      if (!machines.includes(name))
        throw usage(`--from: no machine "${name}" is registered (known: ${machines.filter((n) => n !== me).join(", ") || "none"}); check the name, or run coord sync to refresh`);
    }
    from = [...new Set(list)];
  }
  if (!m.config.trust.verifyMachines)
    throw usage(
      "this machine does not verify other machines' signatures (trust.verifyMachines is false), and a turn starts only for a message whose signature verifies; run coord trust machines on first",
    );
  // The rest as given (core/oncall/settings.ts names them), checked by the same schema machine.yaml is read with.
  const raw = { ...givenSettings(opts), agent, cwd: dir, from, permissions: opts.permissions ?? "read-only" };
  const r = parseOnCall(raw);
  if ("problem" in r) throw usage(r.problem.replace(/^field onCall\.(\w+)(\.\d+)?/, (_, f: string) => flagOfField(f)));
  return r.settings;
}

async function shown(m: Machine): Promise<Omit<OnCallShown, "changed">> {
  const read = await loadOnCall(m.stateDir);
  const state = await readOnCallState(m.stateDir);
  const running: OnCallShown["running"] = [];
  const threads: OnCallShown["threads"] = [];
  for (const [thread, t] of Object.entries(state.threads)) {
    threads.push({ thread, agent: t.agent, ...(t.session ? { session: t.session } : {}), queued: t.queue.length });
    // Running as the turn's life says, as the machine's file publishes it (sync/on-call.ts publishedOnCall).
    if (RUNNING_PHASES.includes(phaseOf(t))) running.push(runningOf(thread, t.running!));
  }
  const now = new Date();
  const today = dayOf(now);
  const damaged = setAsideNotice(state, onCallStatePath(m.stateDir), now);
  const waiting = Object.entries(state.requests ?? {})
    .filter(([, r]) => !r.decision)
    .map(([request, r]) => ({ request, tool: r.tool, asker: r.asker, since: r.at }));
  return {
    machine: m.config.name,
    ...(read.settings ? { settings: read.settings } : {}),
    ...(read.problem ? { problem: read.problem } : {}),
    running,
    ...(waiting.length ? { waiting } : {}),
    threads,
    ...(state.spent?.day === today ? { spentToday: state.spent.usd, ...(state.spent.held ? { spendHeld: true as const } : {}) } : {}),
    ...(damaged ? { damaged } : {}),
    notes: [
      ...(read.settings ? [noteOf(read.settings)] : []),
      ...(read.settings && !m.config.trust.verifyMachines ? [NO_VERIFY] : []),
      ...(read.settings && !(await daemonRunning(m.stateDir)) ? [NO_DAEMON] : []),
      ...(read.settings ? await sandboxNote(m) : []),
    ],
  };
}

/** Said when the agent on call would not run behind the shield that hides the key (sync/sandbox.ts): refused, or off. */
async function sandboxNote(m: Machine): Promise<string[]> {
  const v = await agentSandbox(m);
  if (v.run === "shielded") return [];
  return [v.run === "bare" ? v.warning : `no turn starts: ${v.refused}`];
}

/** Said when the machine is on call but does not verify signatures (coord trust machines off). */
export const NO_VERIFY =
  "no message starts a turn: this machine does not verify other machines' signatures (trust.verifyMachines is false), so it does not publish that it is on call; coord trust machines on";

/** Said when the machine is on call and no daemon runs: no turn starts until a sync. */
export const NO_DAEMON =
  "no coord daemon runs here: a message starts a turn only when a coord sync delivers it (its answer waits for the next sync); coord daemon install answers in seconds";

/** What the CLI does on call, with the caps this setting gives (claude's only when set). */
export function noteOf(s: OnCallSettings): string {
  const caps = [s.maxTurns !== undefined ? "--max-turns" : "", s.maxBudgetUsd !== undefined ? "--max-budget-usd" : ""].filter(Boolean);
  const list = caps.length === 2 ? `, ${caps[0]} and ${caps[1]}` : caps.length === 1 ? ` and ${caps[0]}` : " (no turn or budget cap per message is set)";
  return (AGENTS.get(s.agent)?.onCall?.note ?? s.agent).replace("{caps}", list);
}

function runningOf(thread: string, r: RunningTurn): OnCallShown["running"][number] {
  const last = r.asks[r.asks.length - 1];
  return {
    thread,
    asker: last?.from ?? "?",
    since: r.startedAt,
    ...(r.step ? { step: r.step } : {}),
    ...(r.pid ? { pid: r.pid } : {}),
    ...(r.session ? { session: r.session } : {}),
    // Its coord process is gone (a daemon killed -9): it runs no more; the next daemon or sync says it was interrupted.
    ...(pidAlive(r.runner) ? {} : { gone: true as const }),
  };
}

/**
 * Stops the running turn of a thread (its first message's id, or any message of it): recorded first, so its
 * engine answers "stopped", then its process group and every process carrying the turn's marker (those the CLI put
 * in sessions of their own) are sent SIGTERM, and SIGKILL after the kill grace.
 */
export async function stopTurn(opts: { dir: string; thread: string; by?: string }): Promise<{ thread: string; pid?: number }> {
  const m = await openMachine(opts.dir);
  if (!parseMessageId(opts.thread))
    throw new CoordError(`"${opts.thread}" is not a message id; threads are named by their first message, like izzit7/soda-yeti/3 (coord agent on-call lists them)`, EXIT.USAGE);
  const state = await readOnCallState(m.stateDir);
  const hit = threadHolding(state, opts.thread);
  if (!hit) throw new CoordError(`no thread ${opts.thread} on this machine (coord agent on-call lists its threads)`, EXIT.USAGE);
  const [root, t] = hit;
  const run = t.running;
  if (!run) throw new CoordError(`nothing runs in thread ${root} now`, EXIT.FAILURE);
  if (!run.pid) throw new CoordError(`the turn of thread ${root} is starting; try again in a moment`, EXIT.FAILURE);
  // Only the turn's own process group: a pid reused since (the turn's coord process crashed) is never signalled.
  const marker = markerOf(m.config.name, root, run.startedAt);
  if ((await carriesMarker(run.pid, marker.value, marker.variable)) === false)
    throw new CoordError(`the turn of thread ${root} has no process any more (its coord process stopped); the next start of the daemon says so in the thread`, EXIT.FAILURE);
  // Recorded before the signal: its engine answers "stopped", by whom.
  const refused = await updateOnCallState(m.stateDir, (life) =>
    life.apply({ kind: "stop", thread: root, turn: run.startedAt, by: opts.by ?? "coord agent stop on this machine", drop: false }),
  );
  // The turn read above ended meanwhile (another took its place, or none): nothing of it is left to signal.
  if (refused) throw new CoordError(`the turn of thread ${root} ended before it could be stopped; nothing was signalled`, EXIT.FAILURE);
  const pid = run.pid;
  await stopProcesses({ pid, marker }, timings.killGraceS);
  return { thread: root, pid };
}

// ---------------------------------------------------------------- approvals from afar

/** How often a waiting request looks for its decision (the reply reaches the machine through the daemon's sync). */
const DECISION_EVERY_MS = 250;

/**
 * The permission prompt tool of coord mcp, run for a Claude Code turn on call (the turn's thread and marker in the
 * environment the --mcp-config gave the server): the tool allowed at once when the setting or the thread allows it
 * always; otherwise a request in the thread to the turn's asker, published at once, and the answer that comes back
 * (/approve, /deny), or a denial when none comes within approvalTimeout or the turn ends. The text of a JSON object,
 * as Claude Code reads it.
 */
export async function askPermission(
  m: Machine,
  req: { tool: string; input: unknown; env: NodeJS.ProcessEnv; publish: () => Promise<unknown>; now?: () => Date; signal?: AbortSignal },
): Promise<{ answer: string; request?: string; decision: Decision & { by: string } }> {
  const now = req.now ?? (() => new Date());
  const done = (d: Decision & { by: string }, request?: string) => ({ answer: permissionAnswer(d, req.input), decision: d, ...(request ? { request } : {}) });
  const thread = req.env[ON_CALL_THREAD_ENV];
  const marker = req.env[ON_CALL_TURN_ENV];
  const s = (await loadOnCall(m.stateDir)).settings;
  if (!thread || !marker || !s) return done({ behavior: "deny", message: "this coord mcp serves no on-call turn: nobody can be asked for a permission", by: "coord" });
  const me = m.config.name;
  const state = await readOnCallState(m.stateDir);
  const t = state.threads[thread];
  const run = t?.running;
  if (!t || !run || turnMarker(me, thread, run.startedAt) !== marker) return done({ behavior: "deny", message: "the turn is over", by: "coord" });
  if (s.allowTools.includes(req.tool) || (t.allowed ?? []).includes(req.tool)) return done({ behavior: "allow", by: "the on-call setting" });
  if (allowedWithoutAsking(req.tool)) return done({ behavior: "allow", by: "coord (a tool that reads or messages the fleet)" });
  const last = run.asks[run.asks.length - 1]!;
  // Published: redacted as everything published, the machine's own key included.
  const secrets = await unpublishable(m.stateDir, m.config);
  const ask = approvalAsk(req.tool, req.input, s.approvalTimeout, (text) => redact(text, secrets));
  if ("refused" in ask) return done({ behavior: "deny", message: `coord asked nobody: ${ask.refused}`, by: "coord" });
  const what = redact(whatItWouldDo(req.tool, req.input), secrets);
  const id = await queueMessage(m, {
    to: last.from,
    text: ask.text,
    priority: "high",
    replyTo: last.id,
    agent: {
      request: clip(req.tool, 100),
      input: ask.input,
      digest: ask.digest,
      cli: t.agent,
      chain: chainOf(run.asks) + 1,
    },
  });
  const until = new Date(now().getTime() + s.approvalTimeout * 1000);
  const over = await updateOnCallState(m.stateDir, (life) => {
    const refused = life.apply({
      kind: "request",
      id,
      request: { thread, turn: run.startedAt, tool: req.tool, what, digest: ask.digest, asker: last.from, at: now().toISOString(), until: until.toISOString() },
    });
    return refused !== undefined || own(life.state.requests, id)?.decision !== undefined;
  });
  // Its turn ended while it was asked: recorded decided (a late answer is told so); nobody is waited for.
  if (over) return done({ behavior: "deny", message: "the turn is over", by: "coord" }, id);
  /** Published at once; a publish that fails is logged, not silent (the agent waits; the next sync publishes it). */
  const publish = (what: string) =>
    req.publish().catch((e: unknown) => {
      const error = `on call: ${what} could not be published now (${describeFailure(e).message}); the next sync publishes it`;
      return appendLog(m.stateDir, { kind: "on-call", machine: me, ok: false, error }).catch(() => {});
    });
  await publish(`request ${id} for ${req.tool}`);
  for (;;) {
    const r = own((await readOnCallState(m.stateDir)).requests, id);
    if (r?.decision) return done(heldFor(r, req.input), id);
    if (now() >= until || req.signal?.aborted) break;
    await new Promise((res) => setTimeout(res, DECISION_EVERY_MS));
  }
  // No answer in time: denied, and the thread says so (unless an answer came at the last moment).
  const decided = await updateOnCallState(m.stateDir, (life) => {
    life.record({ kind: "decide", id, decision: { behavior: "deny", by: DECIDED_BY_TIMEOUT, at: now().toISOString() } });
    return own(life.state.requests, id)?.decision;
  });
  if (decided && decided.by !== "timeout") return done(heldFor({ digest: ask.digest, decision: decided }, req.input), id);
  const after = waitWords(s.approvalTimeout);
  // The denial stands whether or not the thread can be told (a mailbox lost meanwhile waits for a sync): logged then.
  const told = await queueMessage(m, {
    to: last.from,
    text: `Request ${id} timed out after ${after} with no answer: ${req.tool} was denied.`,
    priority: "normal",
    replyTo: id,
    agent: { answer: true, cli: t.agent, note: "approval-timeout", decided: { request: id, behavior: "deny", cause: "timeout" } },
  }).catch(async (e: unknown) => {
    const error = `on call: the timeout of request ${id} could not be said in its thread (${describeFailure(e).message})`;
    await appendLog(m.stateDir, { kind: "on-call", machine: me, ok: false, error }).catch(() => {});
    return undefined;
  });
  if (told) await publish(`the timeout of request ${id}`);
  return done({ behavior: "deny", message: `nobody answered within ${after}`, by: "timeout" }, id);
}

const denialText = (d: { by: string; message?: string }) => decidedText({ behavior: "deny", ...d });

/**
 * What a decided request lets the tool call do: a denial as it was made; an approval only for the input it showed
 * (its digest): any other input is denied.
 */
function heldFor(r: { digest?: string; decision?: { behavior: "allow" | "deny"; by: string; message?: string; always?: string } }, input: unknown): Decision & { by: string } {
  const d = r.decision!;
  if (d.behavior === "deny") return { behavior: "deny", message: denialText(d), by: d.by };
  if (approvalHolds(r.digest, input)) return { behavior: "allow", by: d.by, ...(d.always ? { always: d.always } : {}) };
  return { behavior: "deny", message: "denied by coord: the approval was for another input than this one", by: "coord" };
}

/**
 * coord approve / coord deny <request id>: on the machine whose agent asked, decided here; on the machine it asked,
 * a reply /approve or /deny to the request (published at once), which decides it when it reaches that machine.
 */
export async function decide(opts: {
  dir: string;
  request: string;
  behavior: "allow" | "deny";
  always?: boolean;
  reason?: string;
  /** The first hex digits (12 or more) of the request's digest: needed to approve a request whose text showed part of its input. */
  digest?: string;
}): Promise<{ id: string; here: boolean; sent?: string }> {
  const m = await openMachine(opts.dir);
  const p = parseMessageId(opts.request);
  if (!p) throw new CoordError(`"${opts.request}" is not a request id; requests are messages, like soda-yeti/izzit7/5 (coord inbox shows them)`, EXIT.USAGE);
  const local = own((await readOnCallState(m.stateDir)).requests, opts.request);
  const words = opts.behavior === "deny" ? `/deny${opts.reason ? ` ${opts.reason}` : ""}` : `/approve${opts.always ? ` always ${local?.tool ?? ""}` : ""}`;
  if (local) {
    if (opts.behavior === "allow") await approvableHere(m, opts.request, opts.digest);
    const over = await updateOnCallState(m.stateDir, (life) => {
      const refused = life.apply({
        kind: "decide",
        id: opts.request,
        decision: {
          behavior: opts.behavior,
          by: `${m.config.name} (coord ${opts.behavior === "allow" ? "approve" : "deny"})`,
          at: new Date().toISOString(),
          ...(opts.reason ? { message: opts.reason } : {}),
          ...(opts.always && opts.behavior === "allow" ? { always: local.tool } : {}),
        },
      });
      const was = own(life.state.requests, opts.request)?.decision;
      return refused ? (was ? decidedText(was) : "its turn has ended") : undefined;
    });
    if (over) throw new CoordError(`nothing waits for approval: request ${opts.request} is over (${over}); nothing was changed`, EXIT.USAGE);
    return { id: opts.request, here: true };
  }
  const data = await readMailbox(m.stateDir);
  const got = data.inbox.find((x) => x.id === opts.request);
  if (!got?.agent?.request) throw new CoordError(`${opts.request} is no request for a permission this machine received or made (coord inbox shows them)`, EXIT.USAGE);
  // Already decided, timed out, or its turn over, as this machine's messages show it: nothing to send.
  const became = requestState(got, got.agent.request, conversationOf(data, m.config.name, got.from), m.config.name);
  if (became.state !== "waiting") throw new CoordError(`nothing waits for approval: request ${opts.request} is ${becameText(became)}; nothing was sent`, EXIT.USAGE);
  if (opts.behavior === "allow") await approvableHere(m, opts.request, opts.digest);
  const text = opts.behavior === "allow" && opts.always ? `/approve always ${got.agent.request}` : words;
  const sent = await sendFrom(m, { to: got.from, text, replyTo: opts.request });
  await publishSent(m, "soon", sent.id);
  return { id: opts.request, here: false, sent: sent.id };
}

/** "timed out", "approved by you", "over (the turn has ended)": what became of a request, in the sentence of an error. */
const becameText = (r: { text: string; why?: string }) => (r.why ? `over (${r.why})` : r.text);

/** The messages between this machine and `other` its mailbox holds, both ways, oldest first, as requestState reads them. */
function conversationOf(data: MailboxData, me: string, other: string) {
  const mark = (a: AgentMark | undefined) => (a ? { agent: { answer: a.answer === true, ...(a.decided ? { decided: a.decided } : {}) } } : {});
  const all = [
    ...data.inbox.filter((x) => x.from === other).map((x) => ({ id: x.id, from: x.from, at: x.at, text: x.text, ...(x.replyTo ? { replyTo: x.replyTo } : {}), ...mark(x.agent) })),
    ...(own(data.outbox, other)?.messages ?? []).map((x) => ({
      id: messageId(me, other, x.seq),
      from: me,
      at: x.at,
      text: x.text,
      ...(x.replyTo ? { replyTo: x.replyTo } : {}),
      ...mark(x.agent),
    })),
  ];
  return all.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : 1));
}
