// coordination/COMPUTER_<name>.md: one machine's own file. Layout 2 (written
// now): a small front matter (name, state, last seen, heartbeat), a body for
// people, and the rest of the data as a JSON block inside <details> at the end
// (GitHub shows front matter as a table: a nested one is many screens wide).
// Layout 1 (written before): all data in the front matter; still read.
import * as z from "zod";
import { describeAgentRun, PERMISSIONS } from "../agents/agents.js";
import { COMMIT_EMAIL } from "../trust/github.js";
import { SSH_PUBLIC_KEY } from "../trust/trust.js";
import { dataProblem, parseFrontMatter, renderFrontMatter } from "../files/frontmatter.js";
import { clip, jsonDepth, MAX_COUNT, MAX_DEPTH } from "../limits.js";
import { code, fence, inline, md, slug, table } from "../files/markdown.js";
import { formatDuration } from "../time/duration.js";
import { SLOT } from "../time/every.js";
import { ChannelReceiptSchema, parseChannelKey } from "../messages/messages.js";
import { ORDER_ID } from "../orders/orders-schema.js";
import { HEALTH_STATES, REPORT_STATES, type ServiceReport } from "../services/services.js";
import { failuresText } from "./failures.js";
import { isRecord, MACHINE_STATES, ownTable, TASK_STATES } from "../types.js";

/** Refusals a machine file lists at most (signed orders, verified machines). */
const MAX_REFUSED = 50;

/** A counter of messages: safe to add one to. */
const count = z.number().int().nonnegative().max(MAX_COUNT);

/** What is published of an agent's own account of its run. */
const agentReport = z.object({
  /** Session or thread id: resume it with the agent's CLI. */
  session: z.string().max(200).optional(),
  turns: count.optional(),
  costUsd: z.number().nonnegative().optional(),
  tokens: z.object({ input: count, output: count }).optional(),
  /** Tools it was denied. */
  denied: z.array(z.string().max(200)).max(100).optional(),
});

export type AgentReport = z.output<typeof agentReport>;

/** Running turns a machine's file lists at most. */
export const MAX_ON_CALL_TURNS = 16;

/** Agents on call (sync/on-call.ts): the CLI answering this machine's messages, for whom, and the turns running now. */
const onCallReport = z.object({
  agent: z.string().max(40),
  from: z.union([z.literal("ALL"), z.array(z.string().max(64)).max(500)]),
  permissions: z.enum(PERMISSIONS).optional(),
  /** The turns running now: the thread (its first message), who asked, since when, its latest step. */
  turns: z
    .array(z.object({ thread: z.string().max(200), asker: z.string().max(64), since: z.string().max(64), step: z.string().max(300).optional() }))
    .max(MAX_ON_CALL_TURNS)
    .optional(),
  /** Dollars its turns cost on `day` (UTC), as the CLIs reported them. */
  spent: z.object({ day: z.string().max(10), usd: z.number().min(0).max(1e9) }).optional(),
  /** Requests for a permission waiting for a person's /approve or /deny: the request's id, the tool, whom it asks, since when. */
  waiting: z
    .array(z.object({ request: z.string().max(200), tool: z.string().max(100), asker: z.string().max(64), since: z.string().max(64) }))
    .max(MAX_ON_CALL_TURNS)
    .optional(),
});

export type OnCallReport = z.output<typeof onCallReport>;

/** What one machine reports about one order (its latest rev). */
const taskReport = z.object({
  rev: z.number().int().positive().max(MAX_COUNT),
  /** A recurring order (every): the slot this run was for, its UTC ISO time. */
  slot: z.string().regex(SLOT).optional(),
  state: z.enum(TASK_STATES),
  attempts: z.number().int().nonnegative().max(MAX_COUNT),
  exitCode: z.number().int().nullable().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  reason: z.string().optional(),
  /** The last lines of output, redacted. */
  output: z.string().optional(),
  /** For a "to: ANY" order: seconds the claim holds without a heartbeat. */
  lease: z.number().positive().optional(),
  /** For a "to: ANY" order taken over: the machine whose claim expired. */
  takeoverFrom: z.string().optional(),
  /** A failed task with retries left: when its machine runs it again (after its retryBackoff). */
  retryAt: z.string().optional(),
  /** An agent task: what the agent said of its run (its final message is the output). */
  agent: agentReport.optional(),
});

export type TaskReport = z.output<typeof taskReport>;

/** What one machine reports about one service it runs (or should run). */
const serviceReport = z.object({
  rev: z.number().int().positive().max(MAX_COUNT),
  state: z.enum(REPORT_STATES),
  pid: z.number().int().positive().max(MAX_COUNT).optional(),
  restarts: z.number().int().nonnegative().max(MAX_COUNT),
  startedAt: z.string().max(64).optional(),
  since: z.string().max(64).optional(),
  health: z.enum(HEALTH_STATES).optional(),
  reason: z.string().max(1000).optional(),
  output: z.string().max(8000).optional(),
});

/** A machine identity's generation: each reclaim makes a newer one; a copy holding an older one stops. */
const identity = z.object({ epoch: count.positive(), host: z.string().max(256), at: z.string().max(64) });

export type Identity = z.output<typeof identity>;

/** Front matter of coordination/COMPUTER_<name>.md: the machine's own data. */
const computerSchema = z.object({
  /** The file's layout: 1, all data in the front matter; 2, the front matter holds FRONT_FIELDS and the data block the rest. */
  coord: z.union([z.literal(1), z.literal(2)]),
  name: z.string(),
  uuid: z.string().min(1),
  state: z.enum(MACHINE_STATES),
  lastSeen: z.string(),
  /** Seconds between heartbeats; readers call the machine offline after 3 missed. */
  heartbeat: z.number().positive(),
  /** name → version or value, e.g. { os: "linux", node: "20.20.2", claude: "1.0" }. */
  capabilities: z.record(z.string(), z.string()),
  /** What this machine last read of ORDERS.json (git blob id) and whether it was valid. */
  orders: z.object({ seen: z.string(), valid: z.boolean(), error: z.string().optional() }),
  tasks: z.record(z.string(), taskReport),
  /** Services (ORDERS.json `services`) this machine runs or should run, by id (absent in files written before services). */
  services: z.record(z.string(), serviceReport).optional(),
  /** Why its state is emergency or suspended (the fleet's emergency stop, a pause). */
  stateReason: z.string().max(400).optional(),
  /** A one-line summary of the last sync that did something (ran tasks, received messages). */
  lastRun: z.string().optional(),
  /** Set while the machine reports itself stalled: its consecutive failed syncs and the last error. */
  health: z
    .object({
      failures: z.number().int().nonnegative(),
      lastError: z.string(),
      since: z.string(),
      /** The hub refused its pushes (the server's reason is lastError). */
      refused: z.literal(true).optional(),
      /** When the run of failures ended: it stays in the file one heartbeat after, for people to read. */
      cleared: z.string().max(64).optional(),
    })
    .optional(),
  /** Receipts, as recipient: channel "<from>/<to>" → received through / acknowledged through (+ also). */
  messages: z.record(z.string(), ChannelReceiptSchema).optional(),
  /** After `coord init --reclaim`: the identity's generation (the highest wins), and where and when it was taken. */
  identity: identity.optional(),
  /** The SSH public key this machine signs its commits with (trust.signingKey): readers that verify machines pin it on first sight. */
  key: z
    .string()
    .regex(new RegExp(`^${SSH_PUBLIC_KEY}$`))
    .optional(),
  /** The email its signed commits are by, when the machine sets one (trust.commitEmail): coord trust signers names the key by it. */
  email: z.string().regex(COMMIT_EMAIL).max(254).optional(),
  /** Why this machine's commits are not signed (no key; a key it cannot sign with here): readers cannot tell its changes from anyone's. */
  unsigned: z.string().max(400).optional(),
  /** After a planned key change (coord trust rotate): the key before, and its signature of the notice naming `key` (state/key-notice.ts). */
  keyNotice: z.object({ from: z.string().regex(new RegExp(`^${SSH_PUBLIC_KEY}$`)), signature: z.string().min(1).max(4000) }).optional(),
  /** Signed orders: the changes of orders files this machine refused (it acts on the last version it verified). */
  trust: z
    .object({
      refused: z
        .array(z.object({ path: z.string().max(300), commit: z.string().max(64), author: z.string().max(300), reason: z.string().max(500), kept: z.string().max(64).optional() }))
        .max(MAX_REFUSED),
    })
    .optional(),
  /** Paths this machine reserved (core/fleet/reservations.ts): read entry by entry there, so that a bad one is its own problem, never the file's. */
  reservations: z.unknown().optional(),
  /** On call: its agent answers messages (a malformed report is dropped, never the file). */
  onCall: onCallReport.optional().catch(undefined),
});

export type ComputerFile = z.output<typeof computerSchema>;

/** The fields of a layout 2 file's front matter: who, how it is, when last heard of. */
const FRONT_FIELDS = ["coord", "name", "state", "lastSeen", "heartbeat"] as const;

/** The line before the data block of a layout 2 file (an HTML comment: GitHub does not show it). */
export const DATA_MARK = "<!-- coord:data -->";

/**
 * The JSON data block of a layout 2 file's body: after the last line that is
 * exactly DATA_MARK, between a line ```json and a line ```. Task output shown
 * earlier in the body cannot stand in for it: the real block comes last, and
 * inside it no line is unindented but its braces (JSON strings hold no newline).
 */
function dataBlock(body: string): Record<string, unknown> {
  const lines = body.split("\n").map((l) => l.replace(/\r$/, ""));
  const mark = lines.lastIndexOf(DATA_MARK);
  if (mark < 0 || lines[mark + 1] !== "```json") throw new Error(`the machine data block is missing (a line ${DATA_MARK}, then a JSON block)`);
  const end = lines.indexOf("```", mark + 2);
  if (end < 0) throw new Error("the machine data block is not closed (a line ```)");
  const json = lines.slice(mark + 2, end).join("\n");
  const deep = jsonDepth(json);
  if (deep.offset !== undefined) throw new Error(`the machine data block nests more than ${MAX_DEPTH} levels deep`);
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (e) {
    throw new Error(`the machine data block is not JSON: ${(e as Error).message}`);
  }
  if (!isRecord(data)) throw new Error("the machine data block is not a JSON object");
  for (const f of FRONT_FIELDS) if (Object.hasOwn(data, f)) throw new Error(`the machine data block holds ${f}, which belongs in the front matter`);
  return data;
}

/** Reads a COMPUTER file (either layout); throws an Error saying what is wrong with it. */
export function parseComputer(text: string, expectedName: string): ComputerFile {
  const doc = parseFrontMatter(text);
  const data: unknown = isRecord(doc.data) && doc.data.coord === 2 ? { ...dataBlock(doc.body), ...doc.data } : doc.data;
  // Keys become lookups everywhere (an order id, a capability, a channel): each must be one coord writes.
  // Checked before zod, which drops a "__proto__" key without a word.
  const keys = (field: string) => {
    const value = typeof data === "object" && data !== null ? (data as Record<string, unknown>)[field] : undefined;
    return typeof value === "object" && value !== null ? Object.keys(value) : [];
  };
  const badKey = (field: string, ok: (key: string) => boolean, what: string) => {
    const key = keys(field).find((k) => !ok(k));
    if (key !== undefined) throw new Error(`field ${field}: ${JSON.stringify(key)} is not ${what}`);
  };
  badKey("tasks", (k) => ORDER_ID.test(k), "an order id");
  badKey("services", (k) => ORDER_ID.test(k), "a service id");
  badKey("capabilities", (k) => CAPABILITY.test(k), "a capability name");
  badKey("messages", (k) => parseChannelKey(k) !== undefined, 'a channel "<from>/<to>"');
  const result = computerSchema.safeParse(data);
  if (!result.success) {
    throw new Error(dataProblem(result.error.issues[0]!));
  }
  if (result.data.name !== expectedName) throw new Error(`front matter says name "${result.data.name}" but the file belongs to "${expectedName}"`);
  return withOwnTables(result.data as ComputerFile);
}

/** Null-prototype tables: a lookup of "constructor" or "toString" finds nothing unless the machine wrote it. Also what a parse result kept as JSON is given back. */
export function withOwnTables(file: ComputerFile): ComputerFile {
  return {
    ...file,
    capabilities: ownTable(file.capabilities),
    tasks: ownTable(file.tasks),
    ...(file.services ? { services: ownTable(file.services) } : {}),
    ...(file.messages ? { messages: ownTable(file.messages) } : {}),
  };
}

/** Capability names: detected ones (os, node, claude…) and machine.yaml labels (the rule of its `labels`). */
export const CAPABILITY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The file's front matter without the heartbeat time, to tell whether there is news. */
export function computerFingerprint(c: ComputerFile): string {
  const { lastSeen: _ignored, ...rest } = canonicalComputer(c);
  return JSON.stringify(rest);
}

function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What an agent printed, bounded as readers check it: no agent's output makes its machine's file unreadable. */
function canonicalAgent(a: AgentReport): AgentReport {
  const whole = (n: number) => Math.min(MAX_COUNT, Math.max(0, Math.floor(n)));
  return {
    ...(a.session ? { session: clip(a.session, 200) } : {}),
    ...(a.turns !== undefined ? { turns: whole(a.turns) } : {}),
    ...(a.costUsd !== undefined && Number.isFinite(a.costUsd) && a.costUsd >= 0 ? { costUsd: a.costUsd } : {}),
    ...(a.tokens ? { tokens: { input: whole(a.tokens.input), output: whole(a.tokens.output) } } : {}),
    ...(a.denied?.length ? { denied: a.denied.slice(0, 100).map((d) => clip(d, 200)) } : {}),
  };
}

/** Canonical form: stable key order so equal data renders to equal bytes. */
export function canonicalComputer(c: ComputerFile): ComputerFile {
  const tasks: Record<string, TaskReport> = {};
  for (const [id, t] of Object.entries(sortedRecord(c.tasks))) {
    tasks[id] = {
      rev: t.rev,
      ...(t.slot ? { slot: t.slot } : {}),
      state: t.state,
      attempts: t.attempts,
      ...(t.exitCode !== undefined ? { exitCode: t.exitCode } : {}),
      ...(t.startedAt ? { startedAt: t.startedAt } : {}),
      ...(t.finishedAt ? { finishedAt: t.finishedAt } : {}),
      ...(t.reason ? { reason: t.reason } : {}),
      ...(t.output ? { output: t.output } : {}),
      ...(t.lease ? { lease: t.lease } : {}),
      ...(t.takeoverFrom ? { takeoverFrom: t.takeoverFrom } : {}),
      ...(t.retryAt ? { retryAt: t.retryAt } : {}),
      ...(t.agent ? { agent: canonicalAgent(t.agent) } : {}),
    };
  }
  const services: Record<string, ServiceReport> = {};
  for (const [id, r] of Object.entries(sortedRecord(c.services ?? {})))
    services[id] = {
      rev: r.rev,
      state: r.state,
      ...(r.pid !== undefined ? { pid: r.pid } : {}),
      restarts: r.restarts,
      ...(r.startedAt ? { startedAt: r.startedAt } : {}),
      ...(r.since ? { since: r.since } : {}),
      ...(r.health ? { health: r.health } : {}),
      ...(r.reason ? { reason: clip(r.reason, 1000) } : {}),
      ...(r.output ? { output: clip(r.output, 8000) } : {}),
    };
  return {
    coord: 2,
    name: c.name,
    uuid: c.uuid,
    state: c.state,
    lastSeen: c.lastSeen,
    heartbeat: c.heartbeat,
    capabilities: sortedRecord(c.capabilities),
    orders: { seen: c.orders.seen, valid: c.orders.valid, ...(c.orders.error ? { error: c.orders.error } : {}) },
    tasks,
    ...(Object.keys(services).length ? { services } : {}),
    ...(c.stateReason ? { stateReason: clip(c.stateReason, 400) } : {}),
    ...(c.lastRun ? { lastRun: c.lastRun } : {}),
    ...(c.health
      ? {
          health: {
            failures: c.health.failures,
            lastError: clip(c.health.lastError, 1000),
            since: c.health.since,
            ...(c.health.refused ? { refused: true as const } : {}),
            ...(c.health.cleared ? { cleared: c.health.cleared } : {}),
          },
        }
      : {}),
    ...(c.identity ? { identity: { epoch: c.identity.epoch, host: c.identity.host, at: c.identity.at } } : {}),
    ...(c.key ? { key: c.key } : {}),
    ...(c.key && c.keyNotice ? { keyNotice: c.keyNotice } : {}),
    ...(c.key && c.email ? { email: c.email } : {}),
    ...(c.unsigned ? { unsigned: clip(c.unsigned, 400) } : {}),
    ...(c.trust?.refused.length
      ? {
          trust: {
            // Bounded as readers check them: an author name a pusher chose never makes this file unreadable.
            refused: c.trust.refused.slice(0, MAX_REFUSED).map((r) => ({
              path: clip(r.path, 300),
              commit: clip(r.commit, 64),
              author: clip(r.author, 300),
              reason: clip(r.reason, 500),
              ...(r.kept ? { kept: clip(r.kept, 64) } : {}),
            })),
          },
        }
      : {}),
    ...(c.messages && Object.keys(c.messages).length
      ? {
          messages: Object.fromEntries(
            Object.entries(sortedRecord(c.messages)).map(([k, r]) => [k, { received: r.received, acked: r.acked, ...(r.also?.length ? { also: r.also } : {}) }]),
          ),
        }
      : {}),
    ...(Array.isArray(c.reservations) && c.reservations.length ? { reservations: c.reservations } : {}),
    ...(c.onCall ? { onCall: canonicalOnCall(c.onCall) } : {}),
  };
}

/** An on-call report bounded as readers check it, its fields in one order. */
function canonicalOnCall(o: OnCallReport): OnCallReport {
  return {
    agent: clip(o.agent, 40),
    from: o.from === "ALL" ? "ALL" : o.from.slice(0, 500),
    ...(o.permissions ? { permissions: o.permissions } : {}),
    ...(o.turns?.length
      ? {
          turns: o.turns
            .slice(0, MAX_ON_CALL_TURNS)
            .map((t) => ({ thread: clip(t.thread, 200), asker: clip(t.asker, 64), since: clip(t.since, 64), ...(t.step ? { step: clip(t.step, 300) } : {}) })),
        }
      : {}),
    ...(o.spent ? { spent: o.spent } : {}),
    ...(o.waiting?.length
      ? {
          waiting: o.waiting
            .slice(0, MAX_ON_CALL_TURNS)
            .map((w) => ({ request: clip(w.request, 200), tool: clip(w.tool, 100), asker: clip(w.asker, 64), since: clip(w.since, 64) })),
        }
      : {}),
  };
}

/**
 * The data block's JSON: a line per field, and a line per entry of the
 * tables (tasks, capabilities, receipts), each entry compact. Every line but
 * the braces is indented (the reader relies on it), a change of one task is a
 * change of one line in a diff, and a large machine's file stays small.
 */
function dataJson(data: Record<string, unknown>): string {
  const fields = Object.entries(data).map(([key, value]) => {
    if (key === "reservations" && Array.isArray(value) && value.length) return `  ${JSON.stringify(key)}: [\n${value.map((v) => `    ${JSON.stringify(v)}`).join(",\n")}\n  ]`;
    if (!isRecord(value) || Object.keys(value).length === 0 || !(key === "tasks" || key === "services" || key === "capabilities" || key === "messages"))
      return `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`;
    const entries = Object.entries(value).map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
    return `  ${JSON.stringify(key)}: {\n${entries.join(",\n")}\n  }`;
  });
  return `{\n${fields.join(",\n")}\n}`;
}

/** A task worth a section of its own: it says something beyond its row (why, output, an agent's run), or it failed. */
function hasSection(t: TaskReport): boolean {
  return t.state === "failed" || !!(t.output || t.reason || t.retryAt || t.agent || t.slot);
}

/** The heading of a task's section; STATUS.md links to its anchor (status-md.ts taskAnchor). */
export const taskHeading = (orderId: string) => `Task ${orderId}`;

function taskSection(id: string, t: TaskReport): string[] {
  const facts = [
    `**${t.state}**`,
    `rev ${t.rev}`,
    ...(t.slot ? [`slot ${t.slot}`] : []),
    `attempt ${t.attempts}`,
    ...(t.exitCode !== undefined && t.exitCode !== null ? [`exit ${t.exitCode}`] : []),
    ...(t.startedAt ? [`started ${t.startedAt}`] : []),
    ...(t.finishedAt ? [`finished ${t.finishedAt}`] : []),
    ...(t.takeoverFrom ? [`taken over from ${inline(t.takeoverFrom)}`] : []),
  ];
  const lines = ["", `### ${taskHeading(id)}`, "", facts.join(" · ")];
  if (t.reason || t.retryAt) lines.push("", `${inline(t.reason ?? "failed")}${t.retryAt ? `; retry at ${t.retryAt}` : ""}`);
  if (t.agent) lines.push("", `Agent run: ${inline(describeAgentRun(t.agent))} (resume a session with the agent's CLI, e.g. claude --resume <session>)`);
  if (t.output) lines.push("", "<details><summary>last lines of output</summary>", "", fence(t.output), "", "</details>");
  return lines;
}

/** The heading of a service's section; STATUS.md links to its anchor. */
export const serviceHeading = (id: string) => `Service ${id}`;

function serviceSection(id: string, r: ServiceReport): string[] {
  const facts = [
    `**${r.state}**`,
    ...(r.health ? [r.health] : []),
    `rev ${r.rev}`,
    ...(r.pid !== undefined ? [`pid ${r.pid}`] : []),
    `${r.restarts} restart${r.restarts === 1 ? "" : "s"}`,
    ...(r.startedAt ? [`started ${r.startedAt}`] : []),
    ...(r.since ? [`since ${r.since}`] : []),
  ];
  const lines = ["", `### ${serviceHeading(id)}`, "", facts.join(" · ")];
  if (r.reason) lines.push("", inline(r.reason));
  if (r.output) lines.push("", "<details><summary>last lines of output</summary>", "", fence(r.output), "", "</details>");
  return lines;
}

/** The paths this machine reserved, for people (readers take them from the data block). */
function reservationsSection(raw: unknown): string[] {
  if (!Array.isArray(raw) || raw.length === 0) return [];
  const rows = raw
    .filter(isRecord)
    .map((r) => [
      String(r.id),
      md((Array.isArray(r.paths) ? r.paths : []).map(code).join(" ")),
      `${String(r.until)}${r.shared === true ? " (shared)" : ""}`,
      typeof r.reason === "string" ? r.reason : "",
    ]);
  return ["", "## Reservations", "", table(["id", "paths", "until", "reason"], rows)];
}

/** Who this machine's agent answers, and its running turns, for people. */
function onCallSection(o: OnCallReport | undefined): string[] {
  if (!o) return [];
  const lines = [
    "",
    "## On call",
    "",
    `${inline(o.agent)} answers messages from ${o.from === "ALL" ? "every machine" : o.from.map(code).join(", ")}${o.permissions ? ` (permissions ${o.permissions})` : ""}${o.spent ? `; spent $${o.spent.usd.toFixed(4)} on ${o.spent.day}` : ""}.`,
  ];
  if (o.turns?.length)
    lines.push(
      "",
      table(
        ["thread", "asked by", "since", "latest step"],
        o.turns.map((t) => [md(code(t.thread)), t.asker, t.since, t.step ? md(code(t.step)) : ""]),
      ),
    );
  return lines;
}

export function renderComputer(input: ComputerFile): string {
  const c = canonicalComputer(input);
  const lines: string[] = [
    `# ${c.name}`,
    "",
    `**${c.state}** · last seen ${c.lastSeen} · heartbeat every ${formatDuration(c.heartbeat)} (offline after 3 missed)`,
    "",
    c.orders.valid ? `ORDERS.json: valid (blob \`${c.orders.seen.slice(0, 12)}\`)` : `ORDERS.json: **invalid** (blob \`${c.orders.seen.slice(0, 12)}\`): ${inline(c.orders.error)}`,
    "",
    ...(c.stateReason ? [`**${c.state}**: ${inline(c.stateReason)}`, ""] : []),
    ...(c.lastRun ? [`Last run: ${inline(c.lastRun)}`, ""] : []),
    ...(c.health ? [`⚠ **${c.name}** ${inline(failuresText(c.health))}`, ""] : []),
    "## Tasks",
    "",
  ];
  const tasks = Object.entries(c.tasks);
  if (tasks.length === 0) lines.push("No tasks yet.");
  else {
    // Narrow columns (a phone); the rest is in each task's section.
    lines.push(
      table(
        ["order", "state", "exit", "finished"],
        tasks.map(([id, t]) => [hasSection(t) ? md(`[${inline(id)}](#${slug(taskHeading(id))})`) : id, t.state, t.exitCode, t.finishedAt]),
      ),
    );
    for (const [id, t] of tasks) if (hasSection(t)) lines.push(...taskSection(id, t));
  }
  const services = Object.entries(c.services ?? {});
  if (services.length) {
    lines.push(
      "",
      "## Services",
      "",
      table(
        ["service", "state", "pid", "restarts"],
        services.map(([id, r]) => [md(`[${inline(id)}](#${slug(serviceHeading(id))})`), r.health ? `${r.state} (${r.health})` : r.state, r.pid, r.restarts]),
      ),
    );
    for (const [id, r] of services) lines.push(...serviceSection(id, r));
  }
  lines.push(...reservationsSection(c.reservations));
  lines.push(...onCallSection(c.onCall));
  const capabilities = Object.entries(c.capabilities);
  lines.push("", "## Capabilities", "", capabilities.length ? table(["name", "value"], capabilities) : "None detected.");
  const receipts = Object.entries(c.messages ?? {});
  if (receipts.length)
    lines.push(
      "",
      "## Messages received",
      "",
      table(
        ["from / to", "received through", "acknowledged through", "also acknowledged"],
        receipts.map(([k, r]) => [k, r.received, r.acked, (r.also ?? []).join(", ")]),
      ),
    );
  const front = { coord: c.coord, name: c.name, state: c.state, lastSeen: c.lastSeen, heartbeat: c.heartbeat };
  const { coord: _c, name: _n, state: _s, lastSeen: _l, heartbeat: _h, ...rest } = c;
  lines.push(
    "",
    "## Data",
    "",
    "<details><summary>This machine's data as coord reads it (JSON)</summary>",
    "",
    DATA_MARK,
    "```json",
    dataJson(rest),
    "```",
    "",
    "</details>",
    "",
    "---",
    `*Written by coord on machine ${c.name}. The front matter and the data block are what coord reads; the rest is re-rendered from them at every sync, so edits here are overwritten.*`,
  );
  return renderFrontMatter(front, lines.join("\n"));
}
