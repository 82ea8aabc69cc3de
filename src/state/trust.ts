// Signed orders, the machine's side: the allowed-signers files it checks
// commits against (its own, never the repository's nor the user's git config)
// and the versions of the orders files it accepted (.git/coord/trust.json),
// kept so that a refused change leaves it acting on the last verified one.
// Losing trust.json is safe: the newest change of each file is checked again,
// and only a signed one is accepted.
import { onPath } from "../platform/executables.js";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as z from "zod";
import { newKeyPair, readSigningKey, type SigningKey } from "../core/trust/sshsig.js";
import { gitVersion } from "../git/local.js";
import { machineNameProblem } from "../core/files/names.js";
import { type Accepted, SSH_PUBLIC_KEY } from "../core/trust/trust.js";
import type { MachineConfig } from "./config.js";
import { checkState, setAside } from "./corrupt.js";
import { exists, readIfExists, writeDurably } from "./files.js";
import { expandHome, signingKeyPath } from "./paths.js";

const path = (stateDir: string) => join(stateDir, "trust.json");

/** The allowed and revoked signers files of this machine (defaults in its state directory). */
export function signersFiles(stateDir: string, config: MachineConfig): { allowed: string; revoked: string } {
  return {
    allowed: config.trust.allowedSigners ? expandHome(config.trust.allowedSigners) : join(stateDir, "allowed_signers"),
    revoked: config.trust.revokedSigners ? expandHome(config.trust.revokedSigners) : join(stateDir, "revoked_signers"),
  };
}

/** The signers orders are judged by: the allowed ones, and the revoked ones when that file exists. */
export async function ordersSigners(stateDir: string, config: MachineConfig): Promise<{ allowed: string; revoked?: string }> {
  const { allowed, revoked } = signersFiles(stateDir, config);
  return { allowed, ...((await exists(revoked)) ? { revoked } : {}) };
}

/**
 * `use` given a temporary allowed-signers file that names each machine by its key ("<machine> <key>"): what a
 * machine's own files are checked against. The file is removed when `use` ends.
 */
export async function withSignersFile<T>(keys: Iterable<readonly [string, string]>, use: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "coord-signers-"));
  try {
    const path = join(dir, "allowed_signers");
    await writeFile(path, [...keys].map(([name, key]) => `${name} ${key}\n`).join(""));
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const fileSchema = z.object({
  version: z.literal(1),
  accepted: z.record(
    z.string(),
    z.object({
      commit: z.string().regex(/^[0-9a-f]{40,64}$/),
      text: z.string().optional(),
      at: z
        .string()
        .regex(/^[0-9a-f]{40,64}$/)
        .optional(),
    }),
  ),
});

export async function readAccepted(stateDir: string): Promise<Map<string, Accepted>> {
  const text = await readIfExists(path(stateDir));
  if (text === undefined) return new Map();
  const r = checkState(text, fileSchema);
  if (r.ok) return new Map(Object.entries(r.data.accepted));
  const problem = r.problem;
  await setAside(path(stateDir), problem, "the newest change of each orders file is checked again; only a signed one is accepted");
  return new Map();
}

/** Saved durably when it changed: what was accepted must survive a crash, or a refused change could be acted on after one. */
export async function saveAccepted(stateDir: string, accepted: ReadonlyMap<string, Accepted>, read: ReadonlyMap<string, Accepted>): Promise<void> {
  const same = accepted.size === read.size && [...accepted].every(([p, a]) => read.get(p)?.commit === a.commit && read.get(p)?.text === a.text && read.get(p)?.at === a.at);
  if (same) return;
  const sorted = Object.fromEntries([...accepted].sort(([a], [b]) => (a < b ? -1 : 1)));
  await writeDurably(path(stateDir), `${JSON.stringify({ version: 1, accepted: sorted })}\n`);
}

/** ORDERS.json's keys as the last sync read them (core/trust/roster.ts): there, only they are believed; absent, trust on first use. */
function rosterPath(stateDir: string): string {
  return join(stateDir, "fleet_keys");
}

/** The fleet's keys the last sync read from ORDERS.json, or undefined when it has none (trust on first use). */
export async function readRoster(stateDir: string): Promise<Map<string, string> | undefined> {
  const text = await readIfExists(rosterPath(stateDir));
  if (text === undefined) return undefined;
  const roster = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = PIN.exec(line.trim());
    if (m && !machineNameProblem(m[1]!)) roster.set(m[1]!, m[2]!);
  }
  return roster;
}

/** Saved when it changed (undefined: ORDERS.json has no keys, the file is removed). */
export async function saveRoster(stateDir: string, roster: ReadonlyMap<string, string> | undefined, read: ReadonlyMap<string, string> | undefined): Promise<void> {
  const same = roster === undefined ? read === undefined : read !== undefined && roster.size === read.size && [...roster].every(([n, k]) => read.get(n) === k);
  if (same) return;
  if (roster === undefined) {
    await rm(rosterPath(stateDir), { force: true });
    return;
  }
  const lines = [...roster].sort(([a], [b]) => (a < b ? -1 : 1)).map(([machine, key]) => `${machine} ${key}\n`);
  await writeDurably(rosterPath(stateDir), `# coord: ORDERS.json's "keys" as the last sync read them: only these machines are believed\n${lines.join("")}`);
}

/** This machine's own key as an allowed-signers file ("<machine> <key>"), written by a sync of a machine that signs: its own files are checked against it. */
export function selfSignerPath(stateDir: string): string {
  return join(stateDir, "self_signer");
}

/** Machines' keys as this machine pinned them (git's allowed_signers format: "<machine> <key>"): the signers file their files are checked against. */
export function pinsPath(stateDir: string): string {
  return join(stateDir, "machine_signers");
}

const PUBLIC_KEY = new RegExp(`(${SSH_PUBLIC_KEY})`);
const PIN = new RegExp(`^(\\S+)\\s+(${SSH_PUBLIC_KEY})\\s*$`);

export async function readPins(stateDir: string): Promise<Map<string, string>> {
  const pins = new Map<string, string>();
  for (const line of ((await readIfExists(pinsPath(stateDir))) ?? "").split("\n")) {
    const m = PIN.exec(line.trim());
    if (m && !machineNameProblem(m[1]!)) pins.set(m[1]!, m[2]!);
  }
  return pins;
}

export async function savePins(stateDir: string, pins: ReadonlyMap<string, string>): Promise<void> {
  const lines = [...pins].sort(([a], [b]) => (a < b ? -1 : 1)).map(([machine, key]) => `${machine} ${key}`);
  await writeDurably(pinsPath(stateDir), `# coord: machines' keys pinned by this machine (coord trust pin replaces one)\n${lines.join("\n")}\n`);
}

/**
 * How this machine signs its commits: the private key's path and the public key its file publishes; or, when it
 * has a key it cannot sign with here, why (its commits go unsigned and it says so: doctor, its file, STATUS.md).
 * Undefined: it has no key (coord trust key gives it one).
 */
export interface Signing {
  path: string;
  publicKey?: string;
  /** The key as coord signs with it in process (an ed25519 key without a passphrase); none: git signs, through ssh-keygen. */
  key?: SigningKey;
  problem?: string;
}

/** The minimum git that signs commits with SSH keys (gpg.format=ssh), for keys coord does not sign with itself. */
const GIT_SSH_SIGNING = [2, 34] as const;

export async function signingOf(config: MachineConfig, stateDir: string, dir: string): Promise<Signing | undefined> {
  if (!config.trust.signingKey) return undefined;
  const path = signingKeyPath(stateDir, config.trust.signingKey);
  const text = await readFile(path, "utf8").catch((e: NodeJS.ErrnoException) => e);
  if (text instanceof Error) return { path, problem: `its signing key ${path} cannot be read (${text.code ?? text.message}); coord trust key <path> names another` };
  // An ed25519 key without a passphrase: signed in process (src/core/trust/sshsig.ts), nothing else needed.
  const own = readSigningKey(text);
  if (own) return { path, publicKey: own.publicKey, key: own };
  const publicKey = PUBLIC_KEY.exec((await readIfExists(`${path}.pub`).catch(() => undefined)) ?? "")?.[1];
  if (!publicKey) return { path, problem: `${path}.pub, the public half of its signing key, is missing or not an SSH public key` };
  // Any other key is signed by git through ssh-keygen.
  if (!(await onPath("ssh-keygen", process.env.PATH ?? "")))
    return { path, problem: `ssh-keygen is not installed, and coord signs by itself only with an ed25519 key without a passphrase (${path} is not one)` };
  const version = await gitVersion(dir).catch(() => "");
  const [major = 0, minor = 0] = (/(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  if (major < GIT_SSH_SIGNING[0] || (major === GIT_SSH_SIGNING[0] && minor < GIT_SSH_SIGNING[1]))
    return {
      path,
      problem: `git ${version.replace(/^git version\s*/, "").trim() || "(unknown)"} cannot sign with SSH keys (2.34 can), and coord signs by itself only with an ed25519 key without a passphrase (${path} is not one)`,
    };
  return { path, publicKey };
}

/** Makes an ed25519 key at `path` (its .pub beside it, "coord <machine>"), unless one is there; in process, no ssh-keygen needed. */
export async function makeMachineKey(path: string, machine: string): Promise<void> {
  if ((await readIfExists(path).catch(() => undefined)) !== undefined) return;
  const pair = newKeyPair(`coord ${machine}`);
  await writeDurably(`${path}.pub`, `${pair.publicKey}\n`);
  await writeDurably(path, pair.privateKey); // 0600, as ssh-keygen leaves it: ssh and git refuse a private key others can read
}
