// The schema of ORDERS.json and its fields, in zod: what each field may hold,
// its default and its description (the JSON Schema for editors is generated
// from it), and the Order a valid order becomes. Pure.
import { MAX_PUSHES_PER_MINUTE, MAX_READS_PER_SECOND, MIN_PUSHES_PER_MINUTE, MIN_READS_PER_SECOND } from "../hub/reads.js";
import * as z from "zod";
import { PERMISSIONS } from "../agents/agents.js";
import { parseDuration } from "../time/duration.js";
import { everyProblem, timezoneProblem } from "../time/every.js";
import { MAX_COUNT } from "../limits.js";
import { MIN_HISTORY_COMMITS, MIN_HISTORY_SECONDS } from "../hub/status-history.js";
import { MACHINE_NAME, machineNameProblem } from "../files/names.js";
import { SECRET_NAME } from "../trust/secrets.js";
import { rosterKeyProblem } from "../trust/roster.js";
import { ownTable, PRIORITIES } from "../types.js";

export const ORDER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * How a field of an order reads as a flag of `coord order add` where the schema's description does not fit a
 * command line (core/orders/order-fields.ts): its help and its value's name. A field without it gets its description.
 */
export const ORDER_CLI = z.registry<{ help?: string; value?: string }>();

/**
 * What a value of a field must be, as a noun phrase, where the words derived from its schema (core/orders/field-words.ts:
 * "a whole number from 0 to 100", '"low", "normal", "high" or "urgent"') would say less: the problem texts of
 * ORDERS.json and the type column of the docs' field tables. Kept on the field's schema, so that it goes with it.
 */
export const FIELD_WORDS = z.registry<{ expect: string }>();
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GROUPS = ["ALL", "ANY"] as const;
export const isGroup = (value: string): boolean => (GROUPS as readonly string[]).includes(value);

/** Why one address in `to` is wrong, or undefined when it is a fine machine name. */
function addressProblem(name: string, inList: boolean): string | undefined {
  if (["all", "any"].includes(name.toLowerCase())) {
    return inList
      ? `"${name}" is reserved; a list holds machine names only, so write "ALL" or "ANY" on its own instead of a list`
      : `"${name}" is reserved; write "ALL" or "ANY" in capitals to address a group, or name one machine`;
  }
  return machineNameProblem(name);
}

const machineName = z.string().meta({ pattern: MACHINE_NAME.source }).register(FIELD_WORDS, { expect: "a machine name" });

const to = z
  .union([z.enum(GROUPS), machineName, z.array(machineName).min(1)])
  .superRefine((value, ctx) => {
    if (typeof value === "string") {
      const problem = isGroup(value) ? undefined : addressProblem(value, false);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
      return;
    }
    value.forEach((name, i) => {
      const problem = addressProblem(name, true);
      if (problem) ctx.addIssue({ code: "custom", message: problem, path: [i] });
    });
  })
  .describe(
    'Who runs this order: a machine name, a list of machine names, "ALL" (every machine that has `requires`, also machines that join later) or "ANY" (exactly one such machine). A name must be a machine that has joined (it has a COMPUTER_ file).',
  )
  .register(ORDER_CLI, { help: "a machine name, a comma-separated list of names, ALL or ANY", value: "machines" })
  .register(FIELD_WORDS, { expect: 'a machine name, a non-empty list of machine names, "ALL" or "ANY"' });

/** The longest timeout an order may set: 7 days. */
export const MAX_TIMEOUT = 7 * 86_400;

/** An optional duration field of an order, in seconds, at most 7 days; `like` gives examples for its problem text. */
function duration(field: string, description: string, like = '"90s", "15m" or "2h"') {
  return z
    .union([z.string(), z.number()])
    .transform((value, ctx) => {
      const seconds = parseDuration(value);
      if (seconds !== undefined && seconds > MAX_TIMEOUT) {
        ctx.issues.push({ code: "custom", input: value, message: `${JSON.stringify(value)} is longer than 7 days: ${field} must be at most 7d` });
        return z.NEVER;
      }
      if (seconds !== undefined) return seconds;
      ctx.issues.push({
        code: "custom",
        input: value,
        message: `${JSON.stringify(value)} is not a duration; write it like "90s", "15m" or "2h"`,
      });
      return z.NEVER;
    })
    .optional()
    .describe(description)
    .register(FIELD_WORDS, { expect: `a duration like ${like}, or a number of seconds` });
}

const timeout = duration(
  "timeout",
  'Longest time the task may run before its whole process group is killed: "90s", "15m", "2h", "1d" or a number of seconds, at most 7d. Default: the machine\'s defaultTimeout (1h); for an agent, its agentTimeout (30m).',
).register(ORDER_CLI, { help: 'longest run time, e.g. "90s", "15m", "2h"', value: "duration" });

/** An env value written as an object, to mark it secret (the value then sits in the repository: SecretRef keeps it out). */
export const SecretValue = z
  .strictObject({
    value: z.string().describe("The variable's value."),
    secret: z.boolean().optional().describe('true: the value is redacted from the output the machine publishes. It is still in the repository: prefer {"secret": "<name>"}.'),
  })
  .describe('A value written here and marked secret: {"value": "…", "secret": true}. Deprecated: the value sits in the repository in plain text.');

/** An env value held by each machine: the name of a secret in its store. */
export const SecretRef = z
  .strictObject({
    secret: z
      .string()
      .regex(SECRET_NAME)
      .describe(
        "The name of a secret in the store of the machine that runs the task: .git/coord/secrets.yaml (coord secret set <name>) or the variable COORD_SECRET_<NAME> of its coord. Redacted from everything published.",
      ),
  })
  .describe('A secret each machine holds, by name: {"secret": "deploy-token"}. The value never enters the repository.');

/** One value of `env`: text, or a secret (an object); a problem inside an object says what is wrong there. */
const envValue = z.union([z.string(), SecretValue, SecretRef]).register(FIELD_WORDS, { expect: "a string" });
const ENV_WORDS = { expect: 'an object of variable names to string values, like {"NODE_ENV": "test"}' };
const ID_WORDS = { expect: 'an id of letters, digits, ".", "_" and "-" (up to 128, starting with a letter or digit)' };
const RUN_WORDS = { expect: "a non-empty shell command" };
const CWD_WORDS = { expect: "a directory (a string)" };

/** One order as written in ORDERS.json; the parsed output is an `Order` with defaults applied. */
export const OrderSchema = z
  .strictObject({
    id: z
      .string()
      .regex(ORDER_ID)
      .describe('Unique id of the order across ORDERS.json and coordination/orders/*.json: letters, digits, ".", "_" and "-", up to 128, starting with a letter or digit.')
      .register(ORDER_CLI, { help: "the order's id (default: <machine>-<yyyymmddhhmmss>-<4 random characters>, or person-… with --human)", value: "id" })
      .register(FIELD_WORDS, ID_WORDS),
    to,
    run: z
      .string()
      .min(1)
      .optional()
      .describe("Shell command to run (/bin/sh -c). Use either run, or agent + prompt.")
      .register(ORDER_CLI, { help: "the shell command to run (or give it after --)", value: "command" })
      .register(FIELD_WORDS, RUN_WORDS),
    agent: z
      .string()
      .min(1)
      .optional()
      .describe('Headless agent CLI to run instead of a command, e.g. "claude", "opencode", "cursor", "codex". Needs prompt.')
      .register(ORDER_CLI, { help: "an agent order instead: claude, codex, opencode, cursor or gemini, run headless with --prompt", value: "cli" })
      .register(FIELD_WORDS, { expect: 'the name of an agent CLI, like "claude"' }),
    prompt: z
      .string()
      .min(1)
      .optional()
      .describe("What the agent should do. Only with agent.")
      .register(ORDER_CLI, { help: "what the agent should do (with --agent); - reads it from stdin", value: "text" })
      .register(FIELD_WORDS, { expect: "a non-empty text telling the agent what to do" }),
    model: z
      .string()
      .optional()
      .describe('Model for the agent (opencode: "provider/model"). Only with agent.')
      .register(ORDER_CLI, { help: "the agent's model (opencode: provider/model)", value: "model" })
      .register(FIELD_WORDS, { expect: "a model name (a string)" }),
    args: z
      .array(z.string())
      .optional()
      .describe("Extra command-line arguments for the agent CLI. Only with agent.")
      .register(ORDER_CLI, { help: "comma-separated extra arguments for the agent CLI (with --agent)", value: "args" }),
    permissions: z
      .enum(PERMISSIONS)
      .optional()
      .describe(
        'What the agent may do unattended: "read-only" (read and answer), "edit" (change files in its directory), "full" (run anything). Mapped per CLI (docs/agents.md); a level a CLI cannot honour is refused. Default: the CLI\'s own. Only with agent.',
      )
      .register(ORDER_CLI, { help: "what the agent may do unattended: read-only, edit or full", value: "level" }),
    rev: z.number().int().min(1).max(MAX_COUNT).default(1).describe("Revision: a task is identified by (id, rev, machine); bump rev to run the order again."),
    after: z
      .array(z.string().register(FIELD_WORDS, { expect: "an order id (a string)" }))
      .default([])
      .describe("Ids of orders that must be completed first, on whichever machines ran them; each must exist, and they may not form a cycle.")
      .register(ORDER_CLI, { help: "comma-separated ids of orders that must complete first", value: "ids" })
      .register(FIELD_WORDS, { expect: "a list of order ids" }),
    requires: z
      .array(z.string().min(1).register(FIELD_WORDS, { expect: "a non-empty capability name" }))
      .default([])
      .describe(
        'Capabilities a machine must have to run this order, e.g. ["node", "claude"]: detected (os, arch, node, git, the agent CLIs) or the machine\'s labels; others reject it.',
      )
      .register(ORDER_CLI, { help: "comma-separated capabilities a machine needs, e.g. node,claude", value: "capabilities" })
      .register(FIELD_WORDS, { expect: "a list of capability names" }),
    cwd: z
      .string()
      .optional()
      .describe("Directory to run in; ~ and relative paths are in the machine user's home (the default). It must lie inside the machine's allowedRoots when it sets them.")
      .register(ORDER_CLI, { help: "directory to run in (~ is the machine user's home)", value: "dir" })
      .register(FIELD_WORDS, CWD_WORDS),
    env: z
      .record(z.string().regex(ENV_NAME), envValue)
      .default({})
      .describe(
        'Extra environment variables, e.g. {"NODE_ENV": "test", "API_KEY": {"secret": "api-key"}}: a secret is named here and held by each machine (coord secret set api-key), and its value is redacted from all output.',
      )
      .register(FIELD_WORDS, ENV_WORDS),
    timeout,
    idleTimeout: duration(
      "idleTimeout",
      'Longest time the task may write no output before it is stopped as stuck: a duration like "10m", at most 7d. Default: the machine\'s agentIdleTimeout (10m) for an agent, none for a command.',
    ).register(ORDER_CLI, { help: 'stop it as stuck after this long without output, e.g. "10m"', value: "duration" }),
    retries: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(0)
      .describe("How many times to run the task again after it fails (0 to 100), each after the machine's retryBackoff, doubling.")
      .register(ORDER_CLI, { help: "times to run it again after a failure (0 to 100)", value: "n" }),
    priority: z
      .enum(PRIORITIES)
      .default("normal")
      .describe('Higher priority tasks start first; among ANY orders of equal priority, each machine\'s own rank (docs/protocol.md, "Ranking ANY work").')
      .register(ORDER_CLI, { help: "low, normal, high or urgent", value: "p" }),
    cancelled: z.boolean().default(false).describe("true stops the task from starting, or stops it if it is running."),
    notBefore: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Do not start before this time: an ISO 8601 date-time with a time zone, e.g. "2025-06-01T09:00:00Z".')
      .register(ORDER_CLI, { help: 'do not start before this time, e.g. "2025-06-01T09:00:00Z"', value: "time" })
      .register(FIELD_WORDS, { expect: 'an ISO 8601 date-time with a time zone, like "2025-06-01T09:00:00Z"' }),
    every: z
      .string()
      .max(200)
      .superRefine((value, ctx) => {
        const problem = everyProblem(value);
        if (problem) ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not a schedule coord runs: ${problem}` });
      })
      .optional()
      .describe(
        'Run it again at each time of this cron expression (minute hour day-of-month month day-of-week, each *, a, a-b, a,b, */n, a-b/n or a/n, with names like mon and jan; or @hourly, @daily, @midnight, @weekly, @monthly, @yearly), e.g. "0 3 * * *" for 03:00 every day. Each time is a run of its own, once per machine (ANY: once in the fleet); a machine that was off runs the latest time it missed once when it is back.',
      )
      .register(ORDER_CLI, {
        help: 'run it at each time of this cron expression, e.g. "0 3 * * *" (a recurring order; a missed time runs once when the machine is back)',
        value: "cron",
      })
      .register(FIELD_WORDS, { expect: 'a cron expression like "0 3 * * *" (minute hour day-of-month month day-of-week)' }),
    timezone: z
      .string()
      .max(100)
      .superRefine((value, ctx) => {
        const problem = timezoneProblem(value);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional()
      .describe('The time zone of every, an IANA name like "Europe/Paris". Default: UTC. Only with every.')
      .register(ORDER_CLI, { help: 'the time zone of --every, e.g. "Europe/Paris" (default UTC)', value: "zone" })
      .register(FIELD_WORDS, { expect: 'an IANA time zone like "Europe/Paris"' }),
    prefer: z
      .array(machineName)
      .min(1)
      .superRefine((names, ctx) => {
        names.forEach((name, i) => {
          const problem = addressProblem(name, true);
          if (problem) ctx.addIssue({ code: "custom", message: problem, path: [i] });
        });
      })
      .optional()
      .describe(
        'Only with to: "ANY": the machines that take it first, in order, e.g. ["gpu-1", "gpu-2"]: a machine claims it only while every machine listed before it (for a machine not listed: every one listed) is offline or lacks what it requires. Failover for work that should run on one machine.',
      )
      .register(ORDER_CLI, { help: "with --to ANY: comma-separated machines that take it first, in order (failover)", value: "machines" })
      .register(FIELD_WORDS, { expect: 'a non-empty list of machine names, like ["gpu-1", "gpu-2"]' }),
    failoverAfter: duration(
      "failoverAfter",
      "How long a machine may go unheard before it counts as gone: with prefer, the next machine takes over; with one named machine, STATUS.md says the order waits on a machine that is gone. Default: 3 missed heartbeats.",
    ).register(ORDER_CLI, { help: 'with --prefer: how long a machine may go unheard before the next takes over, e.g. "10m"', value: "duration" }),
  })
  .describe("One piece of work for one or more machines.")
  .register(FIELD_WORDS, { expect: 'an order object like {"id": "build", "to": "my-machine", "run": "make"}' });

// ------------------------------------------------------------------ services

/** Who runs a service: a machine name, a list of names, or "ALL" (not "ANY": a service has no claim to hand over). */
const serviceTo = z
  .union([z.literal("ALL"), machineName, z.array(machineName).min(1)])
  .superRefine((value, ctx) => {
    if (typeof value === "string") {
      const problem = value === "ALL" ? undefined : value === "ANY" ? 'a service runs on named machines or "ALL", not "ANY"' : addressProblem(value, false);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
      return;
    }
    value.forEach((name, i) => {
      const problem = addressProblem(name, true);
      if (problem) ctx.addIssue({ code: "custom", message: problem, path: [i] });
    });
  })
  .describe(
    'Who runs this service: a machine name, a list of machine names, or "ALL" (every machine, also machines that join later). Not "ANY": a service has no claim to hand over.',
  )
  .register(FIELD_WORDS, { expect: 'a machine name, a non-empty list of machine names, or "ALL"' });

/** A URL a health check may ask: http on this machine only (localhost, 127.0.0.1, [::1]). */
export const LOCAL_URL = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?(\/[^\s]*)?$/;

/** A service's health check: a command or a URL on this machine, asked every `interval`. */
export const HealthSchema = z
  .strictObject({
    run: z.string().min(1).optional().describe("A shell command: exit 0 is healthy. Either run or http.").register(FIELD_WORDS, RUN_WORDS),
    http: z
      .string()
      .regex(LOCAL_URL, 'an http URL on this machine, like "http://localhost:8080/health" (localhost, 127.0.0.1 or [::1])')
      .optional()
      .describe(
        'A URL on this machine (localhost, 127.0.0.1 or [::1]), like "http://localhost:8080/health": a 2xx answer is healthy (redirects are not followed). Either run or http.',
      )
      .register(FIELD_WORDS, { expect: 'an http URL on this machine, like "http://localhost:8080/health"' }),
    interval: duration("health.interval", 'Time between checks, at least "1s"; the first one an interval after the start. "30s" by default.', '"30s" or "5m"'),
    timeout: duration("health.timeout", 'Longest a check may take before it counts as failed (its process group is killed): "5s" by default.'),
    unhealthyAfter: z.number().int().min(1).max(100).optional().describe("Failed checks in a row before the service is unhealthy (default 3)."),
  })
  .superRefine((h, ctx) => {
    if (h.interval !== undefined && h.interval < 1)
      ctx.addIssue({ code: "custom", path: ["interval"], message: `${h.interval}s is too often: a check at most every second ("1s" or more)` });
  })
  .describe("A health check: a command (run) or a local URL (http), with interval and timeout. Marks the service healthy or unhealthy; it is not restarted for it.")
  .register(FIELD_WORDS, { expect: 'a health check like {"http": "http://localhost:8080/health", "interval": "30s"}' });

/** When a service is restarted, and when it has failed for good. */
export const RestartSchema = z
  .strictObject({
    max: z.number().int().min(0).max(100).optional().describe("Restarts allowed within window (default 3); the next exit marks it failed and raises an alert."),
    window: duration("restart.window", 'The window restarts are counted in: "10m" by default.', '"10m" or "1h"'),
    delay: duration("restart.delay", 'Wait before the first restart, doubling for each further one in the window, at most 5m: "1s" by default.', '"1s" or "30s"'),
  })
  .describe("Restart policy: a service that exits is restarted after delay (doubling), at most max times within window (like systemd's StartLimitBurst and StartLimitIntervalSec).")
  .register(FIELD_WORDS, { expect: 'a restart policy like {"max": 3, "window": "10m", "delay": "1s"}' });

/** One service as written in ORDERS.json: a long-running process that a machine's daemon keeps up. */
export const ServiceSchema = z
  .strictObject({
    id: z
      .string()
      .regex(ORDER_ID)
      .describe('Unique id of the service among the services (orders have their own): letters, digits, ".", "_" and "-", up to 128, starting with a letter or digit.')
      .register(FIELD_WORDS, ID_WORDS),
    to: serviceTo,
    run: z
      .string()
      .min(1)
      .describe("The shell command that runs the service (/bin/sh -c), in the foreground: it must not daemonize (exec the server, so that its pid is the service's).")
      .register(FIELD_WORDS, RUN_WORDS),
    cwd: z
      .string()
      .optional()
      .describe("Directory to run in, as for orders: ~ and relative paths are in the machine user's home (the default), inside the machine's allowedRoots when it sets them.")
      .register(FIELD_WORDS, CWD_WORDS),
    env: z
      .record(z.string().regex(ENV_NAME), envValue)
      .default({})
      .describe(
        'Extra environment variables, e.g. {"PORT": "8080", "API_KEY": {"secret": "api-key"}}: a secret is named here and held by each machine. The service also gets COORD_MACHINE, COORD_SERVICE and COORD_SERVICE_REV.',
      )
      .register(FIELD_WORDS, ENV_WORDS),
    rev: z.number().int().min(1).max(MAX_COUNT).default(1).describe("Revision: bump it to restart the service once (a change of its definition restarts it too)."),
    cancelled: z.boolean().default(false).describe("true stops the service (its whole process group) and starts it no more."),
    health: HealthSchema.optional(),
    restart: RestartSchema.optional(),
  })
  .describe("A service: a long-running process each machine it is addressed to keeps up under its daemon (coord daemon).")
  .register(FIELD_WORDS, { expect: 'a service object like {"id": "web", "to": "my-machine", "run": "node server.js"}' });

/** The whole ORDERS.json file. */
export const OrdersFileSchema = z
  .strictObject({
    $schema: z
      .string()
      .optional()
      .describe("Path or URL of this JSON Schema, for editors.")
      .register(FIELD_WORDS, { expect: "a string (the path of the JSON Schema, for editors)" }),
    version: z.literal(1).describe("Format version of this file: 1."),
    orders: z.array(OrderSchema).describe("The work to do.").register(FIELD_WORDS, { expect: "a list of orders" }),
    services: z
      .array(ServiceSchema)
      .optional()
      .describe("Only in ORDERS.json: long-running processes the machines' daemons keep up (docs/services.md). A bad entry is that service's problem only.")
      .register(FIELD_WORDS, { expect: "a list of services" }),
    emergency: z
      .strictObject({
        stop: z.boolean().describe("true: every machine stops its running tasks and services and starts nothing, until this is removed or false."),
        reason: z.string().max(300).optional().describe("Why, shown first in STATUS.md and on every machine."),
      })
      .optional()
      .describe("Only in ORDERS.json: the fleet's emergency stop."),
    pause: z
      .record(
        machineName,
        z.strictObject({
          reason: z.string().max(300).optional().describe("Why, shown with the machine's state."),
          stop: z.boolean().optional().describe("true: also stop what it runs now (else it finishes)."),
        }),
      )
      .optional()
      .describe("Only in ORDERS.json: machines that claim and start nothing new (state suspended), by name."),
    keys: z
      .record(
        machineName,
        z
          .string()
          .superRefine((v, ctx) => {
            const problem = rosterKeyProblem(v);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
          })
          .register(FIELD_WORDS, { expect: 'an SSH public key, like "ssh-ed25519 AAAA… build-1"' }),
      )
      .optional()
      .describe(
        "Only in ORDERS.json: the machines' public keys as people vouch for them, by name. With it, each machine that verifies the others pins exactly these keys, and believes no machine it does not name (without it: each key is pinned on first sight).",
      )
      .register(FIELD_WORDS, { expect: 'an object of machine names to SSH public keys, like {"build-1": "ssh-ed25519 AAAA…"}' }),
    hub: z
      .strictObject({
        statusHistory: z
          .union([
            z.number().int().min(MIN_HISTORY_COMMITS).max(10_000_000),
            z.string().refine((v) => (parseDuration(v) ?? 0) >= MIN_HISTORY_SECONDS, { message: "must be a duration of at least 1h, like 7d or 12h" }),
          ])
          .optional()
          .describe(
            'How much history the machines\' branch (coord) keeps: a number of commits (at least 10) or an age ("7d"); past it, a machine replaces the branch with one commit holding the same files. Default: 10000 commits or 7 days, whichever first.',
          )
          .register(FIELD_WORDS, { expect: 'a number of commits (at least 10) or an age like "7d" (at least "1h")' }),
        keepStatusHistory: z.boolean().optional().describe("true: the history replaced is kept under refs/coord-history/<time> on the hub (default: dropped)."),
        pushesPerMinute: z
          .number()
          .min(MIN_PUSHES_PER_MINUTE)
          .max(MAX_PUSHES_PER_MINUTE)
          .optional()
          .describe(
            "The fleet's push budget: how many pushes a minute the machines share on the hub, sustained (a short burst may go over it and is paid back after). Each machine takes an equal share; heartbeats stretch to take at most half. Default: the host's (github.com: 6, GitHub's recommendation; gitlab.com: 60; a hub on a path: none; any other host: 6).",
          ),
        readsPerSecond: z
          .number()
          .min(MIN_READS_PER_SECOND)
          .max(MAX_READS_PER_SECOND)
          .optional()
          .describe(
            "The fleet's read budget: how many git reads a second the machines may make of the hub (a look at both branches, a fetch). The machines take 80 % of it, each an equal share, at most a look a second. Default: the host's (github.com: 15, GitHub's recommendation; gitlab.com: 10; a hub on a path: none, a look a second; any other host: 2).",
          ),
      })
      .optional()
      .describe("Only in ORDERS.json: settings of the hub."),
  })
  .describe("The work for the machines coordinated by coord: ORDERS.json (people edit it) or coordination/orders/<machine>.json (work that machine delegates).");

/**
 * One order as a machine acts on it: OrderSchema's output (every field as the schema parses it, defaults applied),
 * but for `env`, which toOrder flattens: values written as {value, secret} become strings plus `secrets`, and
 * {secret: name} become `secretRefs`.
 */
export type Order = Omit<z.output<typeof OrderSchema>, "env"> & {
  env: Record<string, string>;
  /** Names of `env` entries written with a value marked secret: their values are redacted from what is published. */
  secrets?: string[];
  /** Env variable → the name of a secret in the store of the machine that runs the task (no prototype); the values never reach the repository. */
  secretRefs?: Record<string, string>;
  /** Set by the planner, never written in ORDERS.json: the slot (UTC ISO time) of `every` this run is for. */
  slot?: string;
};

// Not z.output of OrdersFileSchema: it holds Orders (see Order), without $schema.
export interface Orders {
  version: 1;
  orders: Order[];
}

/** The parsed form of one order as written: env objects become values plus the names of the secret ones, and the secrets named for the machine's store. */
export function toOrder(written: z.output<typeof OrderSchema>): Order {
  const { env, secrets, secretRefs } = splitEnv(written.env);
  return { ...written, env, ...(secrets.length ? { secrets } : {}), ...(Object.keys(secretRefs).length ? { secretRefs } : {}) };
}

/**
 * An `env` as written (an order's or a service's): the values to set, the names of the values written as secret
 * (redacted from what is published), and the secrets named for the machine's store (name → secret name).
 */
export function splitEnv(written: z.output<typeof OrderSchema>["env"]): { env: Record<string, string>; secrets: string[]; secretRefs: Record<string, string> } {
  const env = ownTable<string>();
  const secrets: string[] = [];
  const secretRefs = ownTable<string>();
  for (const [name, value] of Object.entries(written)) {
    if (typeof value === "string") env[name] = value;
    else if ("value" in value) {
      env[name] = value.value;
      if (value.secret) secrets.push(name);
    } else secretRefs[name] = value.secret;
  }
  return { env, secrets, secretRefs };
}
