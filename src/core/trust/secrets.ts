// Secrets an order names and a machine holds: `"env": {"TOKEN": {"secret":
// "deploy-token"}}` in ORDERS.json, the value in the machine's own store
// (.git/coord/secrets.yaml, mode 0600) or in the environment of the coord
// that runs the task (COORD_SECRET_DEPLOY_TOKEN). The names, how a name
// becomes that variable, what a missing one says, and which env values
// written in the repository look like secrets. Pure.
import { secretShape } from "./redact.js";

/** A secret's name: letters, digits, ".", "_" and "-", up to 128, starting with a letter or digit (like an order id). */
export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The prefix of the environment variables that hold secrets for the coord process; never passed on to a task. */
export const SECRET_ENV_PREFIX = "COORD_SECRET_";

/** Why a secret name is unusable, or undefined. */
export function secretNameProblem(name: string): string | undefined {
  if (SECRET_NAME.test(name)) return undefined;
  return `"${name}" is not a secret name; use letters, digits, ".", "_" and "-" (up to 128, starting with a letter or digit)`;
}

/** The environment variable that may hold secret `name`: COORD_SECRET_ and the name upper-cased, every character but a letter or digit as "_" (deploy-token → COORD_SECRET_DEPLOY_TOKEN). */
export function secretEnvName(name: string): string {
  return SECRET_ENV_PREFIX + name.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/** The reason a task fails with when its order names a secret this machine does not hold. */
export function missingSecretReason(name: string, storeShown: string): string {
  return `secret ${name} is not in this machine's store (${storeShown} or ${secretEnvName(name)})`;
}

/**
 * Resolves an order's named secrets (env variable → secret name) with
 * `lookup`: the values by env variable, or why the task cannot run (the
 * first missing name, sorted by variable). Nothing is partial.
 */
export function resolveSecretRefs(
  refs: Record<string, string>,
  lookup: (name: string) => string | undefined,
  storeShown: string,
): { env: Record<string, string> } | { refused: string } {
  const env: Record<string, string> = Object.create(null);
  for (const variable of Object.keys(refs).sort()) {
    const name = refs[variable]!;
    const value = lookup(name);
    if (value === undefined) return { refused: missingSecretReason(name, storeShown) };
    env[variable] = value;
  }
  return { env };
}

/** A secret name to suggest for an env variable moved to the store: GH_TOKEN → gh-token. */
export function suggestedSecretName(variable: string): string {
  const name = variable
    .toLowerCase()
    .replace(/_/g, "-")
    .replace(/^[^a-z0-9]+/, "");
  return name && SECRET_NAME.test(name) ? name : "my-secret";
}

/** An env entry as written in an order: a string, {"value": "…", "secret"?: true}, or {"secret": "<name>"}. */
export type WrittenEnvValue = string | { value?: unknown; secret?: unknown };

/**
 * Why an env entry written in the repository holds what should be a secret
 * (a value marked secret, or one that looks like a token or sits under a
 * secret's name), with how to move it to the machines' stores; undefined
 * when it is fine (a plain value, a named secret).
 */
export function envValueWarning(variable: string, written: WrittenEnvValue): string | undefined {
  const name = suggestedSecretName(variable);
  const move = `keep it in the secret store of each machine that runs the order (coord secret set ${name}, there) and write {"secret": "${name}"} instead`;
  if (typeof written === "object" && written !== null) {
    if (typeof written.value !== "string") return undefined; // a named secret, or a problem of the schema
    if (written.secret === true) return `this secret value sits in plain text in the repository (it is redacted from output, but whoever can read the hub reads it); ${move}`;
    return plainValueWarning(variable, written.value, move);
  }
  return typeof written === "string" ? plainValueWarning(variable, written, move) : undefined;
}

function plainValueWarning(variable: string, value: string, move: string): string | undefined {
  const shape = secretShape(value);
  if (shape) return `the value looks like a secret (${shape}) and sits in plain text in the repository; ${move}`;
  // GH_TOKEN=…, DB_PASSWORD=…: the variable's name says it is a secret, as the redaction's "secret pair" rule reads it.
  if (value !== "" && secretShape(`${variable}=${value}`)) return `${variable} is named like a secret and its value sits in plain text in the repository; ${move}`;
  return undefined;
}

/** A shell's (or cmd's) reference to a variable: `$TOKEN`, `${TOKEN}`, `$(cat ~/.token)`, `%TOKEN%`: the value is not written here. */
const VARIABLE_REFERENCE = /\$\{[^}\n]*\}|\$\([^)\n]*\)|\$[A-Za-z_][A-Za-z0-9_]*|\$[0-9]|%[A-Za-z_][A-Za-z0-9_]*%/g;

/** An http(s) URL's user name alone (`https://alice@host`): a credential only when it looks like a token (long, no punctuation). */
const PLAIN_URL_USER = /\b(https?:\/\/)([^\s/?#@'"<>:]+)@/gi;

/**
 * The kind of credential (a rule of redact.ts: "URL userinfo", "GitHub token", "secret pair"…) written
 * into a text people write in an order (a command, a directory, an argument), or undefined. What a
 * variable stands for is not there (`https://bot:$TOKEN@host`, `TOKEN=$GH_TOKEN`), and neither is a plain
 * user name in an http(s) URL (`https://alice@host`).
 */
export function writtenCredential(text: string): string | undefined {
  const plain = text
    // An empty quoted string stands for the variable: no rule takes it as (part of) a secret.
    .replace(VARIABLE_REFERENCE, '""')
    .replace(PLAIN_URL_USER, (all, scheme: string, user: string) => (/^[A-Za-z0-9_-]{20,}$/.test(user) ? all : scheme));
  return secretShape(plain);
}

/** The fields of an order or a service that hold text people write, besides env (envValueWarning). */
export type WrittenField = "run" | "cwd" | "args";

/**
 * Why a command, a directory or an agent's argument written in the repository holds what should be a secret
 * (writtenCredential), with how to keep it in the machines' secret stores instead; undefined when it holds
 * none. Never repeats the value.
 */
export function writtenFieldWarning(field: WrittenField, text: string): string | undefined {
  const shape = writtenCredential(text);
  if (!shape) return undefined;
  const what = field === "run" ? "the command" : field === "cwd" ? "the directory" : "the argument";
  const use = field === "run" ? ', and write "$TOKEN" in the command in its place' : " (the task gets it as the variable TOKEN)";
  return (
    `${what} holds what looks like a credential (${shape}) in plain text in the repository (output redacts it; whoever can read the hub reads it); ` +
    `keep it in the secret store of each machine that runs it (coord secret set <name>, there), name it in env as "TOKEN": {"secret": "<name>"}${use}`
  );
}
