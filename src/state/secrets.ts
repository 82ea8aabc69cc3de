// The machine's secret store: .git/coord/secrets.yaml, secret name → value,
// readable by its owner only (0600). Orders name a secret; the machine that
// runs the task puts its value into the task's environment. A variable
// COORD_SECRET_<NAME> of the coord process holds one too and wins over the
// file. Nothing of it is ever committed.
import { refuseWhileShielded } from "./shielded.js";
import { constants } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import YAML from "yaml";
import { resolveSecretRefs, SECRET_ENV_PREFIX, secretEnvName, secretNameProblem } from "../core/trust/secrets.js";
import { CoordError, EXIT } from "../errors.js";
import { updateLocked } from "./files.js";
import { AGENTS, loginsFromStore } from "../core/agents/agents.js";
import { redactKeys } from "../core/trust/redact.js";
import type { MachineConfig } from "./config.js";
import { signingKeyPath } from "./paths.js";

export const SECRETS_FILE = "secrets.yaml";

export function secretsPath(stateDir: string): string {
  return join(stateDir, SECRETS_FILE);
}

/** The store's path as a reason shows it: relative to the checkout (`.git/coord/secrets.yaml`) when inside it. */
export function shownSecretsPath(dir: string, stateDir: string): string {
  const rel = relative(dir, secretsPath(stateDir));
  return rel && !rel.startsWith(`..${sep}`) && rel !== ".." ? rel : secretsPath(stateDir);
}

/**
 * The store's secrets (a table without prototype), empty when there is no
 * file. Refused, with one sentence, when the file is a symbolic link, can be
 * read or written by group or others, or is not a mapping of names to text.
 */
export async function readSecretStore(stateDir: string): Promise<Record<string, string>> {
  const path = secretsPath(stateDir);
  const store: Record<string, string> = Object.create(null);
  let text: string;
  try {
    const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const { mode } = await file.stat();
      if (mode & 0o077)
        throw new CoordError(
          `${path} can be read by others than its owner (mode ${(mode & 0o777).toString(8).padStart(4, "0")}), so coord does not use its secrets; run chmod 600 ${path} (and replace any secret others may have read)`,
          EXIT.USAGE,
        );
      text = await file.readFile("utf8");
    } finally {
      await file.close();
    }
  } catch (e) {
    if (e instanceof CoordError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return store;
    if (code === "ELOOP") throw new CoordError(`${path} is a symbolic link; coord reads its secret store only from a real file there`, EXIT.USAGE);
    throw new CoordError(`${path} cannot be read (${code ?? (e as Error).message})`, EXIT.USAGE);
  }
  let value: unknown;
  try {
    const doc = YAML.parseDocument(text);
    if (doc.errors.length) throw new Error(doc.errors[0]!.message.split("\n")[0]!.replace(/:$/, ""));
    value = doc.toJS(); // throws on an alias bomb
  } catch (e) {
    throw new CoordError(`${path} is not valid YAML (${(e as Error).message}); fix it, or set its secrets again with coord secret set`, EXIT.USAGE);
  }
  if (value === null || value === undefined) return store;
  if (typeof value !== "object" || Array.isArray(value)) throw new CoordError(`${path} must map secret names to values, like "deploy-token: abc…"`, EXIT.USAGE);
  for (const [name, secret] of Object.entries(value)) {
    const bad = secretNameProblem(name);
    if (bad) throw new CoordError(`${path}: ${bad}`, EXIT.USAGE);
    if (typeof secret !== "string") throw new CoordError(`${path}: secret ${name} must be text; quote its value`, EXIT.USAGE);
    store[name] = secret;
  }
  return store;
}

function renderStore(store: Record<string, string>): string {
  const sorted = Object.fromEntries(
    Object.keys(store)
      .sort()
      .map((k) => [k, store[k]!]),
  );
  return `# coord secret store: secret name → value; only this machine's user may read it (0600). Manage it with coord secret set|list|rm.\n${Object.keys(sorted).length ? YAML.stringify(sorted, { lineWidth: 0 }) : ""}`;
}

/** A read-modify-write of the store under its lock; the file is written whole (temp file, rename) with mode 0600. */
async function changeStore<T>(stateDir: string, change: (store: Record<string, string>) => T): Promise<T> {
  await refuseWhileShielded(stateDir, "the secret store");
  return updateLocked(stateDir, SECRETS_FILE, { read: () => readSecretStore(stateDir), path: secretsPath(stateDir), render: renderStore, what: "secret store" }, change);
}

function checkedName(name: string): string {
  const bad = secretNameProblem(name);
  if (bad) throw new CoordError(bad, EXIT.USAGE);
  return name;
}

/** Sets secret `name`; whether it replaced a value. */
export async function setSecret(stateDir: string, name: string, value: string): Promise<boolean> {
  checkedName(name);
  if (value === "") throw new CoordError(`the value of secret ${name} is empty; give a value, or - to read it from stdin`, EXIT.USAGE);
  if (value.includes("\0")) throw new CoordError(`the value of secret ${name} contains a NUL byte, which no environment variable can hold`, EXIT.USAGE);
  return changeStore(stateDir, (store) => {
    const had = name in store;
    store[name] = value;
    return had;
  });
}

/** Removes secret `name`; whether it was there. */
export async function removeSecret(stateDir: string, name: string): Promise<boolean> {
  checkedName(name);
  return changeStore(stateDir, (store) => {
    const had = name in store;
    delete store[name];
    return had;
  });
}

/** The names the store holds, and those held by COORD_SECRET_ variables of this process (by variable: the name is not recoverable). */
export async function listSecrets(stateDir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ store: string[]; variables: string[] }> {
  const store = Object.keys(await readSecretStore(stateDir)).sort();
  const variables = Object.keys(env)
    .filter((k) => k.startsWith(SECRET_ENV_PREFIX) && k.length > SECRET_ENV_PREFIX.length)
    .sort();
  return { store, variables };
}

/**
 * The values of an order's named secrets (env variable → value), or why the
 * task cannot run: a name in neither the variable COORD_SECRET_<NAME> of this
 * process nor the store, or a store coord refuses to read. The store is read
 * only when a variable does not already hold the secret.
 */
export async function resolveOrderSecrets(
  m: { dir: string; stateDir: string },
  refs: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ env: Record<string, string> } | { refused: string }> {
  // An empty variable holds nothing (a unit file's `Environment=COORD_SECRET_X=` placeholder).
  const fromEnv = (name: string) => env[secretEnvName(name)] || undefined;
  let store: Record<string, string> | undefined;
  const unset = Object.values(refs).find((name) => fromEnv(name) === undefined);
  if (unset !== undefined) {
    try {
      store = await readSecretStore(m.stateDir);
    } catch (e) {
      return { refused: `secret ${unset} cannot be read: ${(e as Error).message}` };
    }
  }
  return resolveSecretRefs(refs, (name) => fromEnv(name) ?? (store && Object.hasOwn(store, name) ? store[name] : undefined), shownSecretsPath(m.dir, m.stateDir));
}

/** The store's secrets for the agent CLIs' logins: empty when it cannot be read (coord doctor says why; the CLIs then run with the login they find). */
export const loginStore = (stateDir: string): Promise<Record<string, string>> => readSecretStore(stateDir).catch(() => Object.create(null) as Record<string, string>);

/**
 * What the store gives agent CLI `agent` when coord starts it (core/agents/agents.ts loginsFromStore): its login
 * variables that `env` lacks, held in the store under the same name. None when the store cannot be read (coord
 * doctor says why); the agent then runs with the login it finds itself.
 */
export async function storeLogins(stateDir: string, agent: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): Promise<Record<string, string>> {
  const cli = agent === undefined ? undefined : AGENTS.get(agent);
  if (!cli?.login?.keys?.length) return {};
  return loginsFromStore(cli, env, await loginStore(stateDir));
}

/** The values the store holds for any agent CLI's login: never published (an agent's answer or output is redacted of them). */
export async function storeLoginValues(stateDir: string): Promise<string[]> {
  const store = await loginStore(stateDir);
  const keys = new Set([...AGENTS.values()].flatMap((a) => a.login?.keys ?? []));
  return [...keys].flatMap((k) => (Object.hasOwn(store, k) && store[k] ? [store[k]!] : []));
}

/**
 * The machine's private key as a secret for redaction (core/trust/redact.ts: its lines, its body, any piece of its
 * body are redacted from what is published); none when it has no key or it cannot be read.
 */
export async function machineKeySecrets(stateDir: string, config: MachineConfig): Promise<string[]> {
  const key = config.trust?.signingKey;
  if (!key) return [];
  const text = await readFile(signingKeyPath(stateDir, key), "utf8").catch(() => undefined);
  return text?.includes("PRIVATE KEY") ? [text] : [];
}

/**
 * What nothing coord publishes may carry, in any shape: the machine's private key (state/trust.ts machineKeySecrets)
 * and the agent logins the store holds (an agent has them in its environment, and could print them).
 */
export async function unpublishable(stateDir: string, config: MachineConfig): Promise<string[]> {
  const [key, logins] = await Promise.all([machineKeySecrets(stateDir, config), storeLoginValues(stateDir)]);
  return [...key, ...logins];
}

/**
 * Refuses what a command would publish when it holds what coord never publishes (the machine's key, an agent's login
 * of the store): a reservation's reason, a delegated order. Refused, not redacted: what is stored is what runs.
 */
export async function refuseUnpublishable(stateDir: string, config: MachineConfig, what: string, texts: readonly string[]): Promise<void> {
  const secrets = await unpublishable(stateDir, config);
  if (secrets.length && texts.some((t) => redactKeys(t, secrets) !== t))
    throw new CoordError(
      `${what} holds a secret of this machine (its key, or an agent's login from its secret store), which coord never publishes; nothing was stored`,
      EXIT.USAGE,
    );
}
