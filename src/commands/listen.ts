import { mkdir, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { installListen, shellQuote, uninstallListen } from "../core/agents/hooks.js";
import { machineNameProblem } from "../core/files/names.js";
import { GATE_EVENT, gate, gateHookEntry, LISTEN_EVENTS, listenHookEntry, OLD_ALLOW_RULES, TYPED_EVENT, typedByPerson, WAKE_HEAD, type Waiter } from "../core/oncall/listen.js";
import { CoordError, EXIT } from "../errors.js";
import { CLI_PATH } from "../package.js";
import { readIfExists, writeThroughLink } from "../state/files.js";
import { ancestors, FIRST_WAKER, listeningIn, readWoken, SESSION_ID, updateListen, updateWoken, wokenDir } from "../state/listen.js";
import { argvOf } from "../platform/processes.js";
import { loadConfig } from "../state/config.js";
import { stateDirOf } from "../state/paths.js";
import { threadRootOf, type Waker, waitForWake, wakerOf } from "../actions/wake-wait.js";
import { appendLog } from "../state/logs.js";

export interface ListenOptions {
  /** The machine's checkout. */
  dir: string;
  /** The CLI whose sessions listen (one with a `wake` in its adapter). */
  agent: string;
  /** The project whose sessions listen (its .claude/settings.local.json, its .opencode/plugins/). */
  project: string;
  /** Who may wake them: machine names or ALL. */
  from?: string[] | "ALL";
  off?: boolean;
}

export interface ListenResult {
  changes: string[];
  notes: string[];
  from: string[] | "ALL";
}

/** The command line of coord's waiter for this checkout, as the hook runs it (absolute paths: no PATH needed). */
export const waiterCommand = (dir: string, agent: string) =>
  [process.execPath, CLI_PATH, "agent", "listen-wait", "--dir", resolve(dir), "--gated", "--agent", agent].map(shellQuote).join(" ");

/**
 * The command of the gate (PreToolUse) or of the typed-prompt hook (UserPromptSubmit): a few lines of node that read
 * the hook's input and the session's file in .git/coord/listen/woken/ (a session the fleet never woke costs that
 * alone, no coord process), and run coord for a session that is woken. A gate whose coord fails asks the person.
 */
export function gateCommand(dir: string, hook: "gate" | "typed", agent: string): string {
  const stateDir = join(resolve(dir), ".git", "coord");
  const ask = JSON.stringify({
    hookSpecificOutput: {
      hookEventName: GATE_EVENT,
      permissionDecision: "ask",
      permissionDecisionReason:
        "coord: this turn was started by a message from the fleet, not by you, and coord's gate could not decide: approve only what you would run yourself.",
    },
  });
  const js = [
    `/*coord-listen-${hook}*/let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{`,
    "const [cli,dir,wdir,sub,agent]=process.argv.slice(1);let i={};try{i=JSON.parse(s)}catch{}",
    "const id=String(i.session_id||'');if(!/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$/.test(id))process.exit(0);",
    "let t;try{t=require('fs').readFileSync(wdir+'/'+id+'.json','utf8')}catch{process.exit(0)}",
    "let locked=true;try{const w=JSON.parse(t);locked=!w.typedAt||w.lockedAt>w.typedAt}catch{}",
    "const p=typeof i.prompt==='string'?i.prompt:'';const wake=p.includes(" + JSON.stringify(WAKE_HEAD) + ");",
    "const person=p!==''&&!p.trimStart().startsWith('<task-notification>')&&!wake;",
    "if(sub==='gate'?!locked:!(locked?person:wake))process.exit(0);",
    "const r=require('child_process').spawnSync(process.execPath,[cli,'agent','listen-'+sub,'--dir',dir,'--agent',agent],{input:s,stdio:['pipe','inherit','inherit']});",
    `if(sub==='gate'&&r.status!==0)process.stdout.write(${JSON.stringify(ask)});process.exit(0)})`,
  ].join("");
  return [process.execPath, "-e", js, CLI_PATH, resolve(dir), wokenDir(stateDir), hook, agent].map(shellQuote).join(" ");
}

/** Each hook event listen arms, with its entry. */
const listenEntries = (dir: string, agent: string): Record<string, Record<string, unknown>> => ({
  ...Object.fromEntries(LISTEN_EVENTS.map((e) => [e, listenHookEntry(waiterCommand(dir, agent))])),
  [GATE_EVENT]: gateHookEntry(gateCommand(dir, "gate", agent)),
  [TYPED_EVENT]: gateHookEntry(gateCommand(dir, "typed", agent)),
});

/** Takes coord's listen entries (and the rules an older listen allowed) out of one settings file of the project; what it did. */
async function takeOut(project: string, name: string): Promise<string | undefined> {
  const file = resolve(project, name);
  const text = await readIfExists(file, "reading a Claude Code settings file");
  const r = uninstallListen(text, OLD_ALLOW_RULES, name);
  if ("error" in r) throw new CoordError(r.error, EXIT.USAGE);
  if (!r.removed) return undefined;
  await writeThroughLink(file, r.text ?? "{}\n");
  return `${name}: coord's listen hooks and tool rules taken out (${r.removed})${r.text === undefined ? " (it holds nothing else now)" : "; the rest kept as it was"}`;
}

/** Arms coord's waiter in the project as the CLI's adapter says: what changed, and what the person does next. */
async function arm(waker: Waker, project: string, dir: string, stateDir: string): Promise<{ file?: string; change: string; notes: string[] }> {
  const { wake } = waker;
  if (wake.opened)
    return {
      change: `${waker.name}: nothing to arm in the project; a session hears the fleet when coord starts it: coord agent open ${waker.name}`,
      notes: [
        `Start ${waker.name} in the project with coord agent open ${waker.name} --project ${project} (a ${waker.name} started by itself does not listen). coord runs its TUI on an app-server of its own and feeds it the fleet's messages.`,
        `A woken turn runs by itself only coord's read tools and an answer to the machine that woke it, in its thread; ${waker.name} asks you before it runs any command, edit or other tool, and coord refuses a send to anyone else.`,
      ],
    };
  if (wake.plugin) {
    const file = resolve(project, wake.plugin.file);
    const text = wake.plugin.text({ node: process.execPath, cli: CLI_PATH, dir: resolve(dir), woken: wokenDir(stateDir), head: WAKE_HEAD });
    const before = await readIfExists(file, `reading ${wake.plugin.file}`);
    if (before !== text) {
      await mkdir(dirname(file), { recursive: true });
      await writeThroughLink(file, text);
    }
    return {
      file,
      change: `${wake.plugin.file}: ${before === undefined ? "written" : before === text ? "already armed, nothing changed" : "updated"}: at each turn's end it runs coord's waiter; it gates a woken turn (coord's read tools and an answer in its thread run, anything else is refused) and sees you type`,
      notes: [
        `${waker.name} loads plugins at startup: restart open sessions. ${wake.plugin.file} holds this machine's paths: keep it out of git.`,
        "A session hears the fleet from the end of its first turn. A woken turn runs nothing but coord's read tools and an answer to the machine that woke it, in its thread, until you type: everything else is refused (a plugin cannot ask you).",
      ],
    };
  }
  const settings = wake.settings as string;
  const file = resolve(project, settings);
  const text = await readIfExists(file, `reading ${settings}`);
  const r = installListen(text, listenEntries(dir, waker.name), OLD_ALLOW_RULES, settings);
  if ("error" in r) throw new CoordError(r.error, EXIT.USAGE);
  if (r.changed) {
    await mkdir(dirname(file), { recursive: true });
    await writeThroughLink(file, r.text);
  }
  return {
    file,
    change: !r.changed
      ? `${settings}: already armed, nothing changed`
      : `${settings}: ${text === undefined ? "written" : "updated"}: ${LISTEN_EVENTS.join(" and ")} hooks run coord's waiter (asyncRewake); ${GATE_EVENT} gates a woken turn (coord's read tools and an answer in its thread run, anything else asks you); ${TYPED_EVENT} sees you type`,
    notes: [
      `Claude Code reads ${settings} at session start: restart open sessions (check with /hooks). It holds this machine's paths; Claude Code keeps it out of git.`,
      "A woken turn runs nothing but coord's read tools and an answer to the machine that woke it, in its thread, until you type: everything else waits for you.",
    ],
  };
}

/** Takes coord's waiter out of the project: what it did. */
async function disarm(waker: Waker, project: string): Promise<string> {
  const { wake } = waker;
  if (wake.opened) return `${waker.name}: nothing was armed in the project (the sessions coord agent open started wake for nothing now)`;
  if (wake.plugin) {
    const file = resolve(project, wake.plugin.file);
    if ((await readIfExists(file, `reading ${wake.plugin.file}`)) === undefined) return `${wake.plugin.file}: not there, nothing changed`;
    await rm(file, { force: true });
    return `${wake.plugin.file}: removed`;
  }
  const settings = wake.settings as string;
  return (await takeOut(project, settings)) ?? `${settings}: no coord waiter in it, nothing changed`;
}

/** coord agent listen <cli> [--from …] [--off]: the allow-list and the project's hooks or plugin. */
export async function listen(opts: ListenOptions): Promise<ListenResult> {
  const waker = wakerOf(opts.agent);
  const stateDir = await stateDirOf(opts.dir);
  const config = await loadConfig(stateDir);
  if (!config) throw new CoordError(`${opts.dir} is not a coord checkout; run coord init there first or pass --dir`, EXIT.USAGE);
  const changes: string[] = [];
  // An older listen wrote into the project's shared settings (this machine's paths, in a file teams commit): out of it.
  const shared = waker.wake.former ? await takeOut(opts.project, waker.wake.former) : undefined;
  if (shared) changes.push(shared);
  if (opts.off) {
    await updateListen(stateDir, (s) => {
      s.from = [];
    });
    changes.push(await disarm(waker, opts.project));
    changes.push("nobody may wake an open session of this machine now");
    return { changes, notes: ["Sessions open now stop listening at their next turn's end (or restart them)."], from: [] };
  }
  const from = opts.from ?? [];
  if (!config.trust.verifyMachines)
    throw new CoordError(
      "this machine does not verify other machines' signatures (trust.verifyMachines is false), and a session wakes only for a message whose signature verifies; run coord trust machines on first",
      EXIT.USAGE,
    );
  if (from !== "ALL") {
    if (from.length === 0) throw new CoordError("name who may wake a session: --from <machine,…> or --from ALL (nobody may by default)", EXIT.USAGE);
    for (const n of from) {
      const problem = machineNameProblem(n);
      if (problem) throw new CoordError(`--from ${n}: ${problem}`, EXIT.USAGE);
      if (n === config.name) throw new CoordError(`--from ${n}: that is this machine; name the machines whose messages may wake a session here`, EXIT.USAGE);
    }
  }
  const armed = await arm(waker, opts.project, opts.dir, stateDir);
  changes.push(armed.change);
  await updateListen(stateDir, (s) => {
    s.from = from === "ALL" ? "ALL" : [...new Set(from)];
    // Kept read-only for every agent coord starts, a project nested in an agent's cwd too (found attacking it).
    if (armed.file !== undefined) s.armed = [...new Set([...s.armed, armed.file])].slice(-100);
  });
  changes.push(`who may wake a session: ${from === "ALL" ? "ALL (every machine of the fleet)" : from.join(", ")}`);
  const notes = [
    ...armed.notes,
    `A woken session answers with coord's MCP tools: coord agent install ${waker.name} --project <project> if the project has no coord server yet.`,
    "Messages arrive with this machine's daemon (coord daemon install); the waiter reads only local state, never the hub.",
  ];
  return { changes, notes, from };
}

// -------------------------------------------------------- the waiter

/**
 * The process whose session this waiter serves: the nearest ancestor, within the few a hook runs under (Claude Code →
 * its shell → the waiter), that runs a program the CLI's adapter names; else the parent.
 */
async function sessionProcess(program: RegExp): Promise<number> {
  for (const pid of await ancestors(3)) if ((await argvOf(pid)).slice(0, 2).some((a) => program.test(a))) return pid;
  return process.ppid;
}

/** The hook's input (Claude Code writes one JSON object on stdin), read within a bound. */
async function hookInput(stdin: NodeJS.ReadableStream): Promise<{ session_id?: string; cwd?: string }> {
  const chunks: Buffer[] = [];
  const text = await new Promise<string>((done) => {
    const timer = setTimeout(() => done(Buffer.concat(chunks).toString()), 2000);
    stdin.on("data", (d: Buffer) => {
      chunks.push(d);
      if (Buffer.concat(chunks).length > 1_000_000) stdin.pause();
    });
    stdin.on("end", () => {
      clearTimeout(timer);
      done(Buffer.concat(chunks).toString());
    });
    stdin.on("error", () => done(""));
  });
  // Read once: an open stdin would keep the waiter alive after its end.
  stdin.removeAllListeners("data");
  (stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null ? (v as { session_id?: string; cwd?: string }) : {};
  } catch {
    return {};
  }
}

export interface WaitOptions {
  dir: string;
  stdin: NodeJS.ReadableStream;
  /** The model's text on a wake. */
  stderr: (text: string) => void;
  /** How often the session's process is checked (ms). */
  pollMs?: number;
  /** The hook that runs it was armed with the gate (--gated): an older listen's waiter, without one, wakes nothing. */
  gated?: boolean;
  /** The CLI whose session it serves (absent: an older coord's hook, Claude Code's). */
  agent?: string;
}

/** What the waiter ended with: 2 woke the session (the text went to stderr), 0 ended without a wake. */
export async function listenWait(opts: WaitOptions): Promise<0 | 2> {
  const input = await hookInput(opts.stdin);
  const waker = wakerOf(opts.agent ?? FIRST_WAKER);
  const stateDir = await stateDirOf(opts.dir);
  const config = await loadConfig(stateDir);
  if (!config) return 0;
  if (!opts.gated) {
    // Armed by an older coord agent listen, with no gate on a woken turn's tools: it wakes nothing until listen runs again.
    await appendLog(stateDir, {
      kind: "listen",
      machine: config.name,
      ok: false,
      error: `an open Claude Code session${typeof input.cwd === "string" ? ` in ${input.cwd.slice(0, 300)}` : ""} listens with an older setup that does not gate a woken turn's tools: it wakes for nothing until you run coord agent listen claude --from … there again`,
    }).catch(() => {});
    return 0;
  }
  const sessionId = typeof input.session_id === "string" && SESSION_ID.test(input.session_id) ? input.session_id : `pid-${process.ppid}`;
  const session = await sessionProcess(waker.wake.program);
  const wake = await waitForWake({
    stateDir,
    config,
    waker,
    sessionId,
    session,
    ...(typeof input.cwd === "string" ? { cwd: input.cwd } : {}),
    ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}),
    signals: true,
  });
  if (!wake) return 0;
  opts.stderr(wake.text);
  return 2;
}

// -------------------------------------------------------- the gate

export interface HookOptions {
  dir: string;
  stdin: NodeJS.ReadableStream;
  /** The CLI whose hook or plugin runs it (absent: an older coord's hook, Claude Code's). */
  agent?: string;
  now?: () => Date;
}

/**
 * coord agent listen-gate: the PreToolUse hook's answer for a tool call of a woken session (core/oncall/listen.ts
 * gate), as Claude Code reads it on stdout; empty when the session is not locked. Anything it cannot read asks.
 */
export async function listenGate(opts: HookOptions): Promise<string> {
  const input = (await hookInput(opts.stdin)) as { session_id?: unknown; tool_name?: unknown; tool_input?: unknown };
  const session = typeof input.session_id === "string" ? input.session_id : "";
  const stateDir = await stateDirOf(opts.dir);
  const woken = await readWoken(stateDir, session);
  const tool = typeof input.tool_name === "string" ? input.tool_name : "";
  const { wake } = wakerOf(opts.agent ?? FIRST_WAKER);
  const answer = gate(woken, tool, input.tool_input, await threadRootOf(stateDir, tool === wake.tool("send")), wake);
  if (!answer) return "";
  return JSON.stringify({ hookSpecificOutput: { hookEventName: GATE_EVENT, permissionDecision: answer.decision, permissionDecisionReason: answer.reason } });
}

/**
 * coord agent listen-typed: the UserPromptSubmit hook of a session the fleet woke. A prompt the person typed makes
 * the session theirs again; one nobody typed (a wake, a task's notification) locks it again. Prints nothing (what a
 * UserPromptSubmit hook prints joins the model's context).
 */
export async function listenTyped(opts: HookOptions): Promise<void> {
  const input = (await hookInput(opts.stdin)) as { session_id?: unknown; prompt?: unknown };
  const session = typeof input.session_id === "string" ? input.session_id : "";
  const stateDir = await stateDirOf(opts.dir);
  if (!(await readWoken(stateDir, session))) return;
  const now = (opts.now?.() ?? new Date()).toISOString();
  // A wake that came right after the person typed is still a wake; any other prompt nobody typed changes nothing.
  const change = typedByPerson(input.prompt) ? "typedAt" : typeof input.prompt === "string" && input.prompt.includes(WAKE_HEAD) ? "lockedAt" : undefined;
  if (change) await updateWoken(stateDir, session, (w) => ({ ...(w ?? { lockedAt: now, wakes: [] }), [change]: now }));
}

// ------------------------------------------- who listens

/** Which sessions listen now, and who may wake them. */
export async function listening(dir: string): Promise<{ from: string[] | "ALL"; sessions: { id: string; waiter: Waiter }[] }> {
  return listeningIn(await stateDirOf(dir));
}
