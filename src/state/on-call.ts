// Agents on call, this machine's side: the `onCall:` setting of machine.yaml
// (read apart from the rest, so a broken block is its own problem, named by
// its line, and everything else keeps working), and `.git/coord/on-call.json`,
// the map of threads to the CLI's sessions with each thread's queue and
// running turn. Survives restarts; changed under its own lock.
import { join } from "node:path";
import YAML from "yaml";
import type * as z from "zod";
import { agentOrderProblem } from "../core/agents/agents.js";
import { onCallSchema, type OnCallSettings } from "../core/oncall/settings.js";
import { onCallStateSchema, type OnCallState } from "../core/oncall/turn-state.js";
import { emptyOnCallState, isRefusal, type Refusal, retain, transition, type TurnEvent } from "../core/oncall/turn-life.js";
import { ownTable } from "../core/types.js";
import { CoordError, EXIT } from "../errors.js";
import { salvageOnCallState } from "../core/oncall/salvage.js";
import { asidePath, checkState, setAside } from "./corrupt.js";
import { readIfExists, updateLocked, writeDurably } from "./files.js";
import { appendLog } from "./logs.js";
import { configPath, splitOnCall, yamlErrorText } from "./config.js";

export { MAX_TURN_TIMEOUT, onCallSchema } from "../core/oncall/settings.js";

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
  // What the CLI cannot do as set (a level, a model id), as an agent order's is checked.
  const how = agentOrderProblem({ agent: s.agent, prompt: "", permissions: s.permissions, ...(s.model ? { model: s.model } : {}) });
  if (how) return { problem: `field onCall.${how.field}: ${how.refused}`, field: how.field };
  return { settings: s };
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

export type { ApprovalRequest, OnCallState, PendingAnswer, RunningTurn, ThreadState } from "../core/oncall/turn-state.js";
export { TAKEN_KEPT, THREADS_KEPT } from "../core/oncall/turn-life.js";

export function onCallStatePath(stateDir: string): string {
  return join(stateDir, "on-call.json");
}

/** The on-call state, read without its lock; a damaged one is set aside under the lock (readLocked). */
export async function readOnCallState(stateDir: string): Promise<OnCallState> {
  const read = await readChecked(stateDir);
  if (!("problem" in read)) return read;
  return updateOnCallState(stateDir, (life) => life.state);
}

/** The state as written, or what is wrong with it (and its JSON, when it parses); one of a newer coord is refused. */
async function readChecked(stateDir: string): Promise<OnCallState | { problem: string; raw?: unknown }> {
  const path = onCallStatePath(stateDir);
  const text = await readIfExists(path);
  if (text === undefined) return emptyOnCallState();
  const r = checkState(text, onCallStateSchema, { versioned: true });
  // A newer coord's: never set aside nor overwritten; on call stops here until coord is updated (the engine logs why).
  if (!r.ok && r.newer) throw new CoordError(`the on-call state ${path} is of version ${r.newer}, written by a newer coord; update coord on this machine`, EXIT.USAGE);
  if (!r.ok) return { problem: r.problem, raw: parsedOrUndefined(text) };
  // As written (a newer coord's fields kept), checked against the schema.
  const data = r.raw as OnCallState;
  return { ...data, threads: ownTable(data.threads), ...(data.requests ? { requests: ownTable(data.requests) } : {}) };
}

function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The on-call state under its lock. A damaged one (a bad hand edit, disk corruption) is set aside, and what of it
 * still passes its schema kept (core/oncall/salvage.ts: today's spend, each thread and its session, each request),
 * written at once with a note of what was kept and lost (setAside) that doctor and coord agent on-call show. Running
 * turns kept are adopted as ever; a thread lost starts a new session at its next message.
 */
async function readLocked(stateDir: string, now: Date): Promise<OnCallState> {
  const read = await readChecked(stateDir);
  if (!("problem" in read)) return read;
  const path = onCallStatePath(stateDir);
  const { state, kept, lost } = salvageOnCallState(read.raw, now);
  await setAside(path, read.problem, `what could be read was kept (${kept}); lost: ${lost}`, now);
  const next: OnCallState = { ...state, setAside: { at: now.toISOString(), aside: asidePath(path, now), problem: read.problem, kept, lost } };
  await writeDurably(path, JSON.stringify(next) + "\n");
  return next;
}

/** The on-call state under its lock: read as it is, changed only by the events of the turn's life (core/oncall/turn-life.ts). */
export interface OnCallLife {
  /** The state as the events applied so far left it. */
  readonly state: OnCallState;
  /** Applies `event`: undefined when it happened, else why it may not happen now (and nothing changed): the caller handles it. */
  apply(event: TurnEvent): Refusal | undefined;
  /**
   * Applies `event` where a refusal needs nothing of the caller (the state already says what the event would: a turn
   * ended meanwhile, a note said by another process): a refusal is written to the machine's log, never dropped.
   */
  record(event: TurnEvent): void;
}

/**
 * Runs `change` on the on-call state under its lock; what its events did is saved durably, with what the state
 * keeps (turn-life.ts retain) applied.
 */
export async function updateOnCallState<T>(stateDir: string, change: (life: OnCallLife) => T | Promise<T>, now: () => Date = () => new Date()): Promise<T> {
  return updateLocked(
    stateDir,
    "on-call",
    {
      read: async () => ({ state: await readLocked(stateDir, now()) }),
      path: onCallStatePath(stateDir),
      render: (d) => JSON.stringify(d.state) + "\n",
      what: "on-call state",
    },
    async (box) => {
      const refused: string[] = [];
      const life: OnCallLife = {
        get state() {
          return box.state;
        },
        apply(event) {
          const next = transition(box.state, event);
          if (isRefusal(next)) return next;
          box.state = next;
          return undefined;
        },
        record(event) {
          const r = life.apply(event);
          if (r) refused.push(r.refused);
        },
      };
      const result = await change(life);
      box.state = retain(box.state, now());
      // A log that cannot be written costs no change of the state.
      for (const why of refused) await appendLog(stateDir, { kind: "on-call", refused: why }).catch(() => {});
      return result;
    },
  );
}
