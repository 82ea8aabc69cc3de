// Who writes each file of the hub: the one ownership rule. The reader
// (repo.ts readModel) knows a path by it, and a machine's publish commits no
// path it does not own (sync/publish.ts).
//
//   ORDERS.json                                people (plain git, any editor)
//   coordination/COMPUTER_<m>.md               machine <m> only
//   coordination/messages/<m>_TO_<to>.md       machine <m> only (<to>: a machine or ALL)
//   coordination/orders/<m>.json               machine <m> only (its delegated orders)
//   STATUS.json, STATUS.md                     every machine: derived, the same bytes for the same inputs
//   coordination/orders.schema.json, README.md written once by coord hub create / the first coord init
//   anything else under coordination/          nobody: reported, never read
//   anything outside coordination/             people; coord neither reads nor writes it
//
// Two roles, two branches (roleOf): what people write lives on the hub's
// branch (main); what machines write (their files, messages, delegated
// orders, STATUS.*) on the machines' branch, `coord`. Each file is read from
// its role's branch only.
import { channelOfPath, MESSAGES_DIR } from "../messages/messages.js";
import { machineNameProblem, machineOfPath } from "../files/names.js";

export const ORDERS_FILE = "ORDERS.json";
export const STATUS_JSON = "STATUS.json";
export const STATUS_MD = "STATUS.md";
export const SCHEMA_FILE = "coordination/orders.schema.json";
export const HUB_README = "coordination/README.md";
/** Orders a machine delegates: coordination/orders/<machine>.json, written by that machine only. */
export const ORDERS_DIR = "coordination/orders";

export function delegatedOrdersPath(machine: string): string {
  return `${ORDERS_DIR}/${machine}.json`;
}

/** What a path of the hub is, and who writes it. */
export type PathOwner =
  | { kind: "orders" }
  | { kind: "derived" }
  | { kind: "scaffold" }
  | { kind: "computer"; machine: string }
  | { kind: "messages"; machine: string; to: string }
  | { kind: "delegated"; machine: string }
  | { kind: "odd"; why: string }
  | { kind: "outside" };

/** Control characters (C0, DEL, C1) and the line and paragraph separators. */
export const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Who writes `path`. Under coordination/ only the paths coord writes are
 * anyone's; any other is odd (reported, never parsed as someone's file); so
 * is a name with a control character there: a tab or a newline in it could
 * make it pass for another path where it is printed.
 */
export function ownerOf(path: string): PathOwner {
  if (path === ORDERS_FILE) return { kind: "orders" };
  if (path === STATUS_JSON || path === STATUS_MD) return { kind: "derived" };
  if (!path.startsWith("coordination/")) return { kind: "outside" };
  if (CONTROL.test(path)) return { kind: "odd", why: "its name has a control character (a tab or a newline?); coord reads no such file: rename or remove it" };
  if (path === SCHEMA_FILE || path === HUB_README) return { kind: "scaffold" };
  if (path.startsWith(`${ORDERS_DIR}/`)) {
    const owner = /^coordination\/orders\/([^/]+)\.json$/.exec(path)?.[1];
    const bad = owner === undefined ? `only files named ${ORDERS_DIR}/<machine>.json hold orders` : machineNameProblem(owner);
    return bad ? { kind: "odd", why: bad } : { kind: "delegated", machine: owner! };
  }
  if (path.startsWith(`${MESSAGES_DIR}/`)) {
    const channel = channelOfPath(path);
    return channel
      ? { kind: "messages", machine: channel.from, to: channel.to }
      : { kind: "odd", why: `not a message file: their names are ${MESSAGES_DIR}/<from>_TO_<to>.md, with machine names (or ALL as <to>)` };
  }
  const name = machineOfPath(path);
  if (name !== undefined) {
    const bad = machineNameProblem(name);
    return bad ? { kind: "odd", why: bad } : { kind: "computer", machine: name };
  }
  return {
    kind: "odd",
    why: "coord reads only COMPUTER_<machine>.md, messages/<from>_TO_<to>.md, orders/<machine>.json and orders.schema.json in coordination/; move it elsewhere or remove it",
  };
}

export { MACHINES_BRANCH } from "../hub/branches.js";

/** Who writes a path: people (on the hub's branch) or machines (on the machines' branch). */
export type Role = "people" | "machines";

/** The branch role `path` lives on: machines' files, messages, delegated orders and STATUS.* on the machines' branch; all else on the people's. */
export function roleOf(path: string): Role {
  const kind = ownerOf(path).kind;
  return kind === "derived" || kind === "computer" || kind === "messages" || kind === "delegated" ? "machines" : "people";
}

/** Whether machine `machine` may write `path`: its own files, and the derived ones. */
export function owns(machine: string, path: string): boolean {
  const owner = ownerOf(path);
  if (owner.kind === "derived") return true;
  return (owner.kind === "computer" || owner.kind === "messages" || owner.kind === "delegated") && owner.machine === machine;
}

/** The paths of `paths` that `machine` may not write (a publish refuses to commit them). */
export function notOwned(machine: string, paths: Iterable<string>): string[] {
  return [...paths].filter((p) => !owns(machine, p));
}
