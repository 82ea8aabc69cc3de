// Signed orders, the machine's side: the allowed-signers files it checks
// commits against (its own, never the repository's nor the user's git config)
// and the versions of the orders files it accepted (.git/coord/trust.json),
// kept so that a refused change leaves it acting on the last verified one.
// Losing trust.json is safe: the newest change of each file is checked again,
// and only a signed one is accepted.
import { join } from "node:path";
import * as z from "zod";
import { machineNameProblem } from "../core/names.js";
import { type Accepted, SSH_PUBLIC_KEY } from "../core/trust.js";
import type { MachineConfig } from "./config.js";
import { checkState, setAside } from "./corrupt.js";
import { readIfExists, writeDurably } from "./files.js";
import { expandHome } from "./paths.js";

const path = (stateDir: string) => join(stateDir, "trust.json");

/** The allowed and revoked signers files of this machine (defaults in its state directory). */
export function signersFiles(stateDir: string, config: MachineConfig): { allowed: string; revoked: string } {
  return {
    allowed: config.trust.allowedSigners ? expandHome(config.trust.allowedSigners) : join(stateDir, "allowed_signers"),
    revoked: config.trust.revokedSigners ? expandHome(config.trust.revokedSigners) : join(stateDir, "revoked_signers"),
  };
}

const fileSchema = z.object({
  version: z.literal(1),
  accepted: z.record(z.string(), z.object({ commit: z.string().regex(/^[0-9a-f]{40,64}$/), text: z.string().optional() })),
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
  const same = accepted.size === read.size && [...accepted].every(([p, a]) => read.get(p)?.commit === a.commit && read.get(p)?.text === a.text);
  if (same) return;
  const sorted = Object.fromEntries([...accepted].sort(([a], [b]) => (a < b ? -1 : 1)));
  await writeDurably(path(stateDir), `${JSON.stringify({ version: 1, accepted: sorted })}\n`);
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

/** The public half of this machine's signing key (trust.signingKey + ".pub"), as "<type> <base64>", if it has one. */
export async function publicKeyOf(config: MachineConfig): Promise<string | undefined> {
  if (!config.trust.signingKey) return undefined;
  const text = await readIfExists(`${expandHome(config.trust.signingKey)}.pub`).catch(() => undefined); // unreadable: nothing to publish
  return text ? PUBLIC_KEY.exec(text)?.[1] : undefined;
}
