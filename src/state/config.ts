// The machine's identity and settings: .git/coord/machine.yaml in its checkout.
import { join } from "node:path";
import YAML from "yaml";
import * as z from "zod";
import { parseDuration } from "../core/time/duration.js";
import { machineNameProblem } from "../core/files/names.js";
import { suggestField } from "../core/files/suggest.js";
import { commitEmailProblem } from "../core/trust/github.js";
import { CoordError, EXIT } from "../errors.js";
import { readIfExists, writeDurably } from "./files.js";
import { ALERT_KINDS } from "../core/fleet/status-types.js";

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const s = parseDuration(v);
  if (s === undefined) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a duration; write it like "90s", "15m" or "2h"` });
    return z.NEVER;
  }
  return s;
});

/** A duration that may also be 0 (no wait). */
const delay = z
  .union([z.literal(0), z.literal("0"), z.literal("0s")])
  .transform(() => 0)
  .or(duration);

/** The longest a notify call may take (each call, the command and the webhook alike). */
export const MAX_NOTIFY_TIMEOUT = 300;

/** An http(s) URL a webhook can be posted to (never echoed in an error: it may hold a token). */
const webhookUrl = z.string().refine(
  (v) => {
    try {
      const u = new URL(v);
      return (u.protocol === "https:" || u.protocol === "http:") && u.hostname !== "";
    } catch {
      return false;
    }
  },
  { message: "is not an http(s) URL; write it like https://hooks.example.com/services/…" },
);

/**
 * Alerts leave the repository (docs/security.md): each new alert of the fleet (an offline machine, an order failed for
 * good, a refused change, an urgent message) goes out at most once, after a sync, to `command` (run by /bin/sh as
 * written; the alert as JSON on stdin, COORD_ALERT_ID, COORD_ALERT_KIND and COORD_ALERT_TEXT in its environment)
 * and/or `webhook` (a JSON POST). `kinds` picks the kinds sent (default: all); `timeout` bounds each call.
 */
const notifySchema = z
  .strictObject({
    command: z.string().min(1, { message: "is empty; write the command to run, or remove it" }).optional(),
    webhook: webhookUrl.optional(),
    timeout: duration.refine((s) => s > 0 && s <= MAX_NOTIFY_TIMEOUT, { message: `must be between 1s and ${MAX_NOTIFY_TIMEOUT / 60}m` }).default(10),
    kinds: z
      .array(z.enum(ALERT_KINDS, { message: `is not a kind of alert; write one of ${ALERT_KINDS.join(", ")}` }))
      .min(1, { message: "is empty; list the kinds to send, or remove kinds to send all" })
      .optional(),
  })
  .refine((n) => n.command !== undefined || n.webhook !== undefined, { message: "names neither a command nor a webhook; give one of them, or remove notify" });

export type NotifyConfig = z.output<typeof notifySchema>;

/** The fields of the nested objects, for suggestions when one is mistyped. */
const NESTED: Record<string, string[]> = {};

const configSchema = z.strictObject({
  name: z.string().refine((n) => !machineNameProblem(n), { message: "not a valid machine name" }),
  uuid: z.string().min(1),
  remote: z.string().default("origin"),
  branch: z.string().default("main"),
  /** Seconds between heartbeat commits when nothing else changed (cron's `coord sync`). */
  heartbeat: duration.default(900),
  /** The same while `coord daemon` runs: people see a stopped daemon's machine stale after 1.5 of these and offline after 3 (6 minutes). */
  daemonHeartbeat: duration.default(120),
  /** Seconds a task may run when its order sets no timeout. */
  defaultTimeout: duration.default(3600),
  /** Seconds an agent task may run when its order sets no timeout (an agent that retries a bad key or waits on a dead network stops here). */
  agentTimeout: duration.default(1800),
  /** Seconds an agent task may write nothing before it is stopped as stuck, when its order sets no idleTimeout. */
  agentIdleTimeout: duration.default(600),
  /** Lines of each task's output published in the machine's file. */
  outputLines: z.number().int().min(0).max(500).default(20),
  /** Seconds one git command may take (a remote that does not answer costs this much, no more). */
  gitTimeout: duration.default(30),
  /** A command run by sync for each new message (the message as JSON on stdin); exit 0 acknowledges it. */
  onMessage: z.string().min(1).optional(),
  /** Seconds an onMessage hook may run. */
  onMessageTimeout: duration.default(60),
  /** Acknowledged messages older than this leave the sender's live file (git history keeps them). */
  messageRetention: duration.default(86400),
  /** Tasks run at once; "to: ANY" claims fill the slots named tasks leave free. */
  maxParallel: z.number().int().min(1).max(64).default(1),
  /** Capabilities this machine adds to the detected ones, for `requires` (e.g. gpu, solidity). */
  labels: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)).default([]),
  /** Seconds a claim on a "to: ANY" order holds without a heartbeat; renewed every third of it while the task runs. */
  claimLease: duration.default(600),
  /** Seconds before the first retry of a failed task; doubled for each further one. */
  retryBackoff: delay.default(30),
  /** Scheduled syncs back off after a failure: this long after the first, doubling, at most 5 minutes (after an outage they probe the hub meanwhile). */
  failureBackoff: delay.default(60),
  /** While tasks run: seconds between looks at the remote (new cancellations, heartbeats, claims renewed). */
  checkEvery: duration.default(30),
  /** How many past broadcasts a machine that registers later receives. */
  pastBroadcasts: z.number().int().min(0).max(1000).default(10),
  /**
   * Signed orders (docs/security.md): with requireSignedOrders, a change of ORDERS.json or of an orders file
   * counts only when its commit is signed by a key of `allowedSigners` (git's allowed_signers format; default
   * .git/coord/allowed_signers); `revokedSigners` lists keys no longer good. `signingKey`: this machine signs its
   * own commits with this SSH key (for its delegated orders, or any fleet that checks machines' commits).
   */
  trust: z
    .strictObject({
      requireSignedOrders: z.boolean().default(false),
      allowedSigners: z.string().min(1).optional(),
      revokedSigners: z.string().min(1).optional(),
      signingKey: z.string().min(1).optional(),
      /** The email this machine's commits are by (author and committer): GitHub shows them Verified for its account (core/trust/github.ts). Default: <machine>@coord.invalid. */
      commitEmail: z
        .string()
        .refine((e) => commitEmailProblem(e) === undefined, { message: "is not an email address (name@host: letters, digits and ._%+- before the @)" })
        .optional(),
      /**
       * Read other machines' files only as their own signed commits wrote them (keys pinned on first sight). On
       * unless set: a machine made before it was the default has `false` written in its machine.yaml.
       */
      verifyMachines: z.boolean().default(true),
    })
    .default({ requireSignedOrders: false, verifyMachines: true }),
  /**
   * Directories tasks may run in (`~` is home; relative paths are relative to home): a task's cwd, resolved
   * (symbolic links, ".."), must be one of them or inside one, else the task fails without running. Unset: anywhere.
   * An agent order without cwd runs in its scratch directory under .git/coord/agents/, always allowed.
   */
  allowedRoots: z.array(z.string().min(1)).optional(),
  /**
   * "on": every agent coord starts (a turn on call, an agent order) runs behind the shield that hides the machine's
   * keys and secret store from it (core/agents/sandbox.ts), and does not start where there is none. "off": agents run
   * without it, said by doctor and `coord agent on-call`.
   */
  agentSandbox: z.enum(["on", "off"], { message: 'is "on" or "off"' }).default("on"),
  /**
   * Agents on call (state/on-call.ts reads it, with its own schema): a broken block is its own problem, never the
   * config's, so the machine still delivers messages and runs orders.
   */
  onCall: z.unknown().optional(),
  /** Where new alerts go (see notifySchema): a command, a webhook, or both. Unset: nowhere. */
  notify: notifySchema.optional(),
  /** The identity's generation: 0 until a `coord init --reclaim`, which takes the published one plus 1 (a copy holding an older one stops). */
  epoch: z.number().int().min(0).default(0),
  /** Where and when this copy reclaimed the identity. */
  reclaimedOn: z.string().optional(),
  reclaimedAt: z.string().optional(),
});

export type MachineConfig = z.output<typeof configSchema>;

NESTED.notify = Object.keys(notifySchema.shape);
NESTED.trust = Object.keys(configSchema.shape.trust.unwrap().shape);

export function configPath(stateDir: string): string {
  return join(stateDir, "machine.yaml");
}

/** What to do about a machine config that cannot be used: it is this machine's identity, so never replaced silently. */
const REPAIR =
  "fix it, or move it aside and run coord init <checkout> --name <this machine> --remote <hub> --reclaim (it takes the identity back from the machine's published file)";

export async function loadConfig(stateDir: string): Promise<MachineConfig | undefined> {
  const path = configPath(stateDir);
  let text: string | undefined;
  try {
    text = await readIfExists(path);
  } catch (e) {
    throw new CoordError(`${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ${REPAIR}`, EXIT.USAGE);
  }
  if (text === undefined) return undefined;
  let lineCounter = new YAML.LineCounter();
  let doc: YAML.Document.Parsed;
  let value: unknown;
  let broken: BrokenOnCall | undefined;
  try {
    doc = YAML.parseDocument(text, { lineCounter });
    if (doc.errors.length) {
      // A YAML error inside the onCall: block is that block's problem (state/on-call.ts names its line): the rest
      // of the file, read without it, is the config, and the machine is only off call.
      const split = splitOnCall(text);
      const restLines = new YAML.LineCounter();
      const rest = split ? YAML.parseDocument(split.rest, { lineCounter: restLines }) : undefined;
      if (!split || !rest || rest.errors.length) throw new Error(doc.errors[0]!.message.split("\n")[0]!.replace(/:$/, ""));
      doc = rest;
      lineCounter = restLines;
      broken = new BrokenOnCall(split.raw);
    }
    value = doc.toJS(); // throws on an alias bomb
  } catch (e) {
    throw new CoordError(`${path} is not valid YAML (${(e as Error).message}); ${REPAIR}`, EXIT.USAGE);
  }
  if (broken && typeof value === "object" && value !== null && !Array.isArray(value)) (value as Record<string, unknown>).onCall = broken;
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new CoordError(`${path} is not a machine config (it holds no fields); ${REPAIR}`, EXIT.USAGE);
  const result = configSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    // The top-level field the problem is in (a nested one's line is its parent's).
    const key = issue.path.length ? String(issue.path[0]) : issue.code === "unrecognized_keys" ? issue.keys[0]! : "";
    // The line of the field, as `coord validate` gives it for ORDERS.json.
    const pair = YAML.isMap(doc.contents) ? doc.contents.items.find((p) => YAML.isScalar(p.key) && p.key.value === key) : undefined;
    const offset = pair && YAML.isScalar(pair.key) ? pair.key.range?.[0] : undefined;
    const where = `${path}${offset === undefined ? "" : `:${lineCounter.linePos(offset).line}`}`;
    if (issue.code === "unrecognized_keys") {
      const field = issue.keys[0]!;
      const parent = issue.path.length === 1 ? String(issue.path[0]) : undefined;
      const guess = suggestField(field, parent ? (NESTED[parent] ?? []) : Object.keys(configSchema.shape));
      const name = parent ? `${parent}.${field}` : field;
      throw new CoordError(`${where}: unknown field "${name}"; ${guess ? `rename it to "${parent ? `${parent}.` : ""}${guess}"` : "remove it or fix its name"}`, EXIT.USAGE);
    }
    throw new CoordError(`${where} field ${issue.path.join(".") || "(top)"}: ${issue.message}; ${REPAIR}`, EXIT.USAGE);
  }
  return result.data;
}

export async function saveConfig(stateDir: string, config: MachineConfig): Promise<void> {
  const header = "# coord machine config: this machine's identity and settings. Durations: 90s, 15m, 2h.\n";
  // A broken onCall: block written by hand is written back as it was (a person fixes it; coord never drops it).
  const broken = config.onCall instanceof BrokenOnCall ? config.onCall : undefined;
  const body = YAML.stringify(broken ? { ...config, onCall: undefined } : config);
  await writeDurably(configPath(stateDir), header + body + (broken ? broken.raw : ""));
}

/** An onCall: block that is not valid YAML, as its lines were: the machine is off call until it is fixed. */
export class BrokenOnCall {
  constructor(readonly raw: string) {}
}

/** A YAML error's first line, without its position (the caller names the line). */
export function yamlErrorText(e: YAML.YAMLError): string {
  return e.message
    .split("\n")[0]!
    .replace(/:$/, "")
    .replace(/ at line \d+, column \d+$/, "");
}

/**
 * The top-level `onCall:` block of machine.yaml's text apart from the rest: `rest` is the text with the block's
 * lines blank, `only` the text with every other line blank (both keep the line numbers), `raw` the block's lines.
 * Undefined when there is no such block.
 */
export function splitOnCall(text: string): { rest: string; only: string; raw: string } | undefined {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => /^(onCall|"onCall"|'onCall')\s*:/.test(l));
  if (start < 0) return undefined;
  let end = start + 1;
  // The block: the lines indented under it (blank lines and comments among them).
  while (end < lines.length && (/^\s/.test(lines[end]!) || lines[end] === "" || lines[end]!.startsWith("#"))) end++;
  while (end > start + 1 && (lines[end - 1]!.trim() === "" || lines[end - 1]!.startsWith("#"))) end--;
  const inBlock = (i: number) => i >= start && i < end;
  return {
    rest: lines.map((l, i) => (inBlock(i) ? "" : l)).join("\n"),
    only: lines.map((l, i) => (inBlock(i) ? l : "")).join("\n"),
    raw: `${lines.slice(start, end).join("\n")}\n`,
  };
}

/** A config from fields as a user gives them; a bad value is a usage error naming the option. */
export function newConfig(fields: { name: string; uuid: string; remote?: string; branch?: string; heartbeat?: string }): MachineConfig {
  const result = configSchema.safeParse(fields);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new CoordError(`--${issue.path.join(".")}: ${issue.message}`, EXIT.USAGE);
  }
  return result.data;
}
