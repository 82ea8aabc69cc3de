// The fleet's keys as people vouch for them: ORDERS.json's `"keys": {"<machine>": "<ssh public key>"}`. Without it, a
// machine that verifies the others pins each one's key the first time its file shows one (trust on first use). With
// it, the keys there are the pins, and a machine not named there is not believed at all: its files are left out of
// what a verifying machine acts on (a name someone registered by pushing a file, a key written into a keyless
// machine's file). ORDERS.json is a person's file: with signed orders (coord trust require) the keys are as
// strong as the people's signatures.
import { machineNameProblem } from "../files/names.js";
import { findNodeAtLocation, parseTree } from "jsonc-parser";
import { ordersObject } from "../limits.js";
import { isRecord } from "../types.js";
import { SSH_KEY_DATA, SSH_KEY_TYPE } from "./trust.js";

/** A machine name → its public key as pins hold it ("<type> <data>"). */
export type Roster = ReadonlyMap<string, string>;

/** A key as written in ORDERS.json: "<type> <data>", a comment after it allowed (as a .pub file has one). */
const WRITTEN_KEY = new RegExp(`^(${SSH_KEY_TYPE}) (${SSH_KEY_DATA})(?: [^\\n]*)?$`);

/** Why `value` is not a key ORDERS.json's `keys` may hold, or undefined. */
export function rosterKeyProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return 'must be an SSH public key as a string, like "ssh-ed25519 AAAA… build-1"';
  if (!WRITTEN_KEY.test(value.trim())) return 'is not an SSH public key (its type, a space and its base64 data, like "ssh-ed25519 AAAA…"; the .pub file\'s line)';
  return undefined;
}

/**
 * ORDERS.json's keys: a map when its text has a `keys` object (an entry with a bad name or key is left out, so that
 * machine is not believed), null when it has none (trust on first use), undefined when the text cannot be read as
 * JSON (a person's half-done edit: the roster last read stands).
 */
export function rosterOf(text: string | undefined): Map<string, string> | null | undefined {
  if (text === undefined) return null;
  const data = ordersObject(text);
  return data ? rosterIn(data, text) : undefined;
}

/** rosterOf, of ORDERS.json's text already read as an object (`data`). */
function rosterIn(data: Record<string, unknown>, text: string): Map<string, string> | null {
  if (!Object.hasOwn(data, "keys")) return null;
  const roster = new Map<string, string>();
  if (!isRecord(data.keys)) return roster;
  const twice = namesTwice(text);
  for (const [name, value] of Object.entries(data.keys)) {
    const m = typeof value === "string" && !machineNameProblem(name) && !twice.has(name) ? WRITTEN_KEY.exec(value.trim()) : null;
    if (m) roster.set(name, `${m[1]} ${m[2]}`);
  }
  return roster;
}

/**
 * The names written twice in `keys` (JSON.parse keeps the last, a reviewer reads the first): such a machine is not
 * believed, whichever key the person meant (coord validate names the line).
 */
function namesTwice(text: string): Set<string> {
  const twice = new Set<string>();
  const keys = findNodeAtLocation(parseTree(text) ?? { type: "null", offset: 0, length: 0 }, ["keys"]);
  const seen = new Set<string>();
  for (const prop of keys?.type === "object" ? (keys.children ?? []) : []) {
    const name = String(prop.children?.[0]?.value);
    if (seen.has(name)) twice.add(name);
    seen.add(name);
  }
  return twice;
}

/** Whether `roster` (none: trust on first use, everyone) lets machine `me` believe the files of machine `owner`. */
export function rosterAdmits(roster: Roster | undefined, owner: string, me: string): boolean {
  return !roster || owner === me || roster.has(owner);
}
