// Agents on call, this machine's side: the `onCall:` setting of machine.yaml
// (read apart from the rest, so a broken block is its own problem, named by
// its line, and everything else keeps working), and `.git/coord/on-call.json`,
// the map of threads to the CLI's sessions with each thread's queue and
// running turn. Survives restarts; changed under its own lock.
import { join } from "node:path";
import YAML from "yaml";
import * as z from "zod";
import { AGENTS, type Permission, PERMISSIONS } from "../core/agents/agents.js";
import { ON_CALL_AGENTS, type OnCallSettings, type Ask } from "../core/oncall/on-call.js";
import { DEFAULT_APPROVAL_TIMEOUT } from "../core/oncall/approvals.js";
import { parseDuration } from "../core/time/duration.js";
import { machineNameProblem } from "../core/files/names.js";
import { ownTable } from "../core/types.js";
import type { Message } from "../core/messages/messages.js";
import { checkState, setAside } from "./corrupt.js";
import { readIfExists, updateLocked } from "./files.js";
import { configPath, splitOnCall, yamlErrorText } from "./config.js";

/** The longest turn (a day): anything longer is a service, not a turn. */
export const MAX_TURN_TIMEOUT = 86400;

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const s = parseDuration(v);
  if (s === undefined || s > MAX_TURN_TIMEOUT) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a duration up to 1d; write it like "90s", "15m" or "2h"` });
    return z.NEVER;
  }
  return s;
});

const machineName = z.string().refine((n) => !machineNameProblem(n), { message: "is not a machine name" });

export const onCallSchema = z.strictObject({
  agent: z.enum(ON_CALL_AGENTS, { message: `is not an agent CLI coord can put on call; write one of ${ON_CALL_AGENTS.join(", ")}` }),
  cwd: z.string().min(1, { message: "is empty; write the directory the agent works in" }),
  from: z.union([z.literal("ALL"), z.array(machineName).min(1, { message: "is empty; name the machines whose messages start turns, or ALL" })], {
    message: "must be a list of machine names, or ALL",
  }),
  permissions: z.enum(PERMISSIONS, { message: `must be one of ${PERMISSIONS.join(", ")}` }).default("read-only"),
  // The bounds before int(): a number past them is named by its bound, not by the largest safe integer.
  maxTurns: z.number().min(1).max(10_000).int().optional(),
  maxBudgetUsd: z.number().positive().max(1_000_000).optional(),
  timeout: duration.default(1800),
  maxParallel: z.number().min(1).max(16).int().default(2),
  dailyBudgetUsd: z.number().positive().max(1_000_000).optional(),
  model: z.string().min(1).max(200).optional(),
  approvalTimeout: duration.default(DEFAULT_APPROVAL_TIMEOUT),
  allowTools: z.array(z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, { message: "is not a tool name (like Bash, Write or mcp__server__tool)" })).default([]),
});

/** The on-call setting as machine.yaml has it: none, the setting, or what is wrong with it (with its file and line). */
export type OnCallRead = { settings?: undefined; problem?: undefined } | { settings: OnCallSettings; problem?: undefined } | { settings?: undefined; problem: string };

/** Parses an `onCall:` value (already out of YAML): the setting, or what is wrong, naming the field. */
export function parseOnCall(value: unknown): { settings: OnCallSettings } | { problem: string; field: string } {
  const r = onCallSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    if (issue.code === "unrecognized_keys") return { problem: `unknown field "onCall.${issue.keys[0]}"; remove it or fix its name`, field: issue.keys[0]! };
    const field = issue.path.length ? `onCall.${issue.path.join(".")}` : "onCall";
    return { problem: `field ${field} ${issueText(issue)}`, field: String(issue.path[0] ?? "") };
  }
  const s = r.data;
  const how = AGENTS.get(s.agent)?.invocation({ agent: s.agent, prompt: "", permissions: s.permissions, ...(s.model ? { model: s.model } : {}) }, { root: false });
  if (how && "refused" in how) return { problem: `field onCall.${how.field}: ${how.refused}`, field: how.field };
  const settings: OnCallSettings = {
    agent: s.agent,
    cwd: s.cwd,
    from: s.from,
    permissions: s.permissions,
    timeout: s.timeout,
    maxParallel: s.maxParallel,
    approvalTimeout: s.approvalTimeout,
    allowTools: s.allowTools,
    ...(s.maxTurns !== undefined ? { maxTurns: s.maxTurns } : {}),
    ...(s.maxBudgetUsd !== undefined ? { maxBudgetUsd: s.maxBudgetUsd } : {}),
    ...(s.dailyBudgetUsd !== undefined ? { dailyBudgetUsd: s.dailyBudgetUsd } : {}),
    ...(s.model !== undefined ? { model: s.model } : {}),
  };
  return { settings };
}

/** A schema's complaint as the end of a sentence ("must be 16 at most"), never zod's own words. */
function issueText(issue: z.core.$ZodIssue): string {
  // The schema's own words where it has them.
  if (!/^(Too big|Too small|Invalid)/.test(issue.message)) return issue.message;
  if (issue.code === "too_big") return issue.inclusive === false ? `must be less than ${String(issue.maximum)}` : `must be ${String(issue.maximum)} at most`;
  if (issue.code === "too_small") return issue.inclusive === false ? `must be more than ${String(issue.minimum)}` : `must be ${String(issue.minimum)} or more`;
  if (issue.code === "invalid_type") return `must be ${issue.expected === "int" ? "a whole number" : issue.expected === "number" ? "a number" : `a ${issue.expected}`}`;
  if (issue.code === "invalid_format" || issue.code === "not_multiple_of") return "is not a value coord takes here";
  return issue.message.replace(/^Invalid input: /, "");
}

/** This machine's on-call setting, read from machine.yaml; a broken block is a problem naming its line, never an exception. */
export async function loadOnCall(stateDir: string): Promise<OnCallRead> {
  const path = configPath(stateDir);
  const text = await readIfExists(path).catch(() => undefined);
  if (text === undefined) return {};
  const lineCounter = new YAML.LineCounter();
  let doc: YAML.Document.Parsed;
  try {
    doc = YAML.parseDocument(text, { lineCounter });
    if (doc.errors.length) {
      // Not YAML inside the onCall: block only: named by its line; elsewhere it is the whole file's problem (loadConfig says it).
      const split = splitOnCall(text);
      if (!split || YAML.parseDocument(split.rest).errors.length) return {};
      const only = new YAML.LineCounter();
      const e = YAML.parseDocument(split.only, { lineCounter: only }).errors[0] ?? doc.errors[0]!;
      const line = e.linePos?.[0].line;
      return {
        problem: `${path}${line === undefined ? "" : `:${line}`}: the onCall block is not valid YAML (${yamlErrorText(e)}); this machine is not on call until it is fixed (coord agent on-call rewrites it, coord agent on-call --off removes it)`,
      };
    }
  } catch {
    return {};
  }
  if (!YAML.isMap(doc.contents)) return {};
  const pair = doc.contents.items.find((p) => YAML.isScalar(p.key) && p.key.value === "onCall");
  if (!pair) return {};
  let value: unknown;
  try {
    value = YAML.isNode(pair.value) ? pair.value.toJS(doc) : pair.value;
  } catch {
    value = undefined;
  }
  if (value === null || value === undefined) return {};
  const r = parseOnCall(value);
  if ("settings" in r) return { settings: r.settings };
  // The line of the field at fault, else of the block.
  let offset = YAML.isScalar(pair.key) ? pair.key.range?.[0] : undefined;
  if (YAML.isMap(pair.value) && r.field) {
    const inner = pair.value.items.find((p) => YAML.isScalar(p.key) && p.key.value === r.field);
    if (inner && YAML.isScalar(inner.key) && inner.key.range) offset = inner.key.range[0];
  }
  const where = `${path}${offset === undefined ? "" : `:${lineCounter.linePos(offset).line}`}`;
  return { problem: `${where}: ${r.problem}; this machine is not on call until it is fixed (coord agent on-call rewrites it)` };
}

// ---------- .git/coord/on-call.json ----------

/** A turn running, as its engine recorded it before it started the CLI. */
export interface RunningTurn {
  /** The process group leader's pid, once started. */
  pid?: number;
  /** The pid of the coord process that runs it (a daemon, or a sync): gone means the turn was orphaned. */
  runner: number;
  startedAt: string;
  asks: Ask[];
  /** Its latest step (a tool call, a command), from the CLI's events. */
  step?: string;
  /** Set when someone asked it to stop (a /stop, coord agent stop): who, in words. */
  stop?: string;
  /** The session the CLI named while it ran: kept when the turn is cut short, so "go on" continues it. */
  session?: string;
  /** The engine that runs it (a random id per process's engine): a runner pid alive again in another engine is no owner. */
  engine?: string;
  /** Once it ended: its answers, recorded before they are stored in the outbox (a crash between is finished by the next engine). */
  answers?: PendingAnswer[];
}

/** An answer of a turn that ended, to store in the outbox. */
export interface PendingAnswer {
  to: string;
  replyTo: string;
  text: string;
  mark: NonNullable<Message["agent"]>;
}

export interface ThreadState {
  /** The CLI and the directory of its session (a session lives in its cwd: resumed only there). */
  agent: string;
  cwd: string;
  /** The permissions its session ran with: another CLI or other permissions on call start a new session (core threadSwitch). */
  permissions?: Permission;
  /** The CLI's session id to resume: the one the last turn returned (claude writes a new one at each resume). */
  session?: string;
  /** Messages that came while a turn ran (or before one could start), answered together by the next turn, in order. */
  queue: Ask[];
  running?: RunningTurn;
  /** When it last changed (a message, a turn's end): the threads idle longest are forgotten first. */
  lastAt: string;
  /** The thread's message ids (the newest 200): a reply to any of them is in this thread. */
  ids?: string[];
  /** The day (UTC) its asker was told the daily budget is spent. */
  budgetSaid?: string;
  /** Tools `/approve always <tool>` allowed for the rest of this thread's session. */
  allowed?: string[];
  /** The machines that asked in it: only they (or a reply to a message to or from a machine) join it. */
  askers?: string[];
}

/** A request for a permission an agent on call made (approvals from afar), by its message's id. */
export interface ApprovalRequest {
  thread: string;
  /** The turn that asked (its startedAt): a request outlives no turn. */
  turn: string;
  tool: string;
  /** What the tool would do, as the request said it. */
  what: string;
  /** sha256 of the tool's input it showed (core/oncall/approvals.ts inputDigest): an approval allows that input only. */
  digest?: string;
  /** The machine the request went to: the turn's asker. */
  asker: string;
  at: string;
  /** When it is denied for want of an answer. */
  until: string;
  /** Once decided: how, by whom (a machine, or "timeout", "the turn ended"), when. */
  decision?: { behavior: "allow" | "deny"; by: string; at: string; message?: string; always?: string };
}

export interface OnCallState {
  version: 1;
  /** Thread (its first message's id) → its state. */
  threads: Record<string, ThreadState>;
  /** Message ids already taken (the newest TAKEN_KEPT): a crash between taking and clearing the mailbox's list takes none twice. */
  taken: string[];
  /** Today's spend (UTC day), for dailyBudgetUsd and STATUS. */
  spent?: { day: string; usd: number };
  /** Requests for permissions, by their message's id (decided ones kept a day, for a late answer to be told). */
  requests?: Record<string, ApprovalRequest>;
}

/** Message ids remembered as taken, at most. */
export const TAKEN_KEPT = 2000;
/** Threads kept, at most: the ones idle longest go first (their sessions stay in the CLI; a new message starts a new one). */
export const THREADS_KEPT = 500;

const ask = z.looseObject({ id: z.string(), from: z.string(), text: z.string(), at: z.string(), chain: z.number().int().min(0), replyTo: z.string().optional() });
const ids = z.array(z.string());
const stateSchema = z.looseObject({
  version: z.literal(1),
  threads: z.record(
    z.string(),
    z.looseObject({
      agent: z.string(),
      cwd: z.string(),
      permissions: z.enum(PERMISSIONS).optional().catch(undefined),
      session: z.string().optional(),
      queue: z.array(ask),
      running: z
        .looseObject({
          pid: z.number().int().positive().optional(),
          runner: z.number().int(),
          startedAt: z.string(),
          asks: z.array(ask),
          step: z.string().optional(),
          stop: z.string().optional(),
          session: z.string().optional(),
          engine: z.string().optional(),
          // What crash recovery stores in the outbox: checked, so a broken entry is the file's problem, not the engine's.
          answers: z.array(z.looseObject({ to: z.string(), replyTo: z.string(), text: z.string(), mark: z.looseObject({}) })).optional(),
        })
        .optional(),
      lastAt: z.string(),
      ids: ids.optional(),
      budgetSaid: z.string().optional(),
      allowed: ids.optional(),
      askers: ids.optional(),
    }),
  ),
  taken: z.array(z.string()),
  spent: z.looseObject({ day: z.string(), usd: z.number().min(0) }).optional(),
  requests: z
    .record(
      z.string(),
      z.looseObject({
        thread: z.string(),
        turn: z.string(),
        tool: z.string(),
        what: z.string(),
        digest: z.string().optional(),
        asker: z.string(),
        at: z.string(),
        until: z.string(),
        decision: z.looseObject({ behavior: z.enum(["allow", "deny"]), by: z.string(), at: z.string(), message: z.string().optional(), always: z.string().optional() }).optional(),
      }),
    )
    .optional(),
});

const empty = (): OnCallState => ({ version: 1, threads: ownTable(), taken: [] });

export function onCallStatePath(stateDir: string): string {
  return join(stateDir, "on-call.json");
}

export async function readOnCallState(stateDir: string): Promise<OnCallState> {
  const path = onCallStatePath(stateDir);
  const text = await readIfExists(path);
  if (text === undefined) return empty();
  const r = checkState(text, stateSchema, { versioned: true });
  if (!r.ok) {
    // Broken: kept aside; the threads start new sessions (the CLI keeps the old ones), running turns are not adopted.
    await setAside(path, r.problem, "a new on-call state starts: each thread's next message starts a new session of the agent");
    return empty();
  }
  const data = r.raw as OnCallState;
  return { ...data, threads: ownTable(data.threads), ...(data.requests ? { requests: ownTable(data.requests) } : {}) };
}

/** Runs `change` on the on-call state under its lock and saves it durably; threads and taken ids bounded. */
export async function updateOnCallState<T>(stateDir: string, change: (data: OnCallState) => T | Promise<T>): Promise<T> {
  return updateLocked(
    stateDir,
    "on-call",
    {
      read: () => readOnCallState(stateDir),
      path: onCallStatePath(stateDir),
      render: (d) => JSON.stringify(d) + "\n",
      what: "on-call state",
    },
    async (data) => {
      const result = await change(data);
      if (data.taken.length > TAKEN_KEPT) data.taken = data.taken.slice(-TAKEN_KEPT);
      // Decided requests are kept a day (a late /approve is told the request is over), then dropped.
      if (data.requests) {
        const dayAgo = new Date(Date.now() - 86_400_000).toISOString();
        for (const [id, r] of Object.entries(data.requests)) if (r.decision && r.decision.at < dayAgo) delete data.requests[id];
      }
      const ids = Object.keys(data.threads);
      if (ids.length > THREADS_KEPT) {
        const idle = ids
          .filter((id) => !data.threads[id]!.running && data.threads[id]!.queue.length === 0)
          .sort((a, b) => (data.threads[a]!.lastAt < data.threads[b]!.lastAt ? -1 : 1));
        for (const id of idle.slice(0, ids.length - THREADS_KEPT)) delete data.threads[id];
      }
      return result;
    },
  );
}
