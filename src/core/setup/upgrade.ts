// Upgrading a hub of the old layout (every file on the people's branch) to
// two branches: the rule of what each branch holds after it. The machines'
// branch starts as a child of the people's tip holding only the machines'
// files (their history stays reachable: coord log and signature checks go on
// across the upgrade); the people's branch keeps its own files and, in place
// of each machine's file, a tombstone that an older coord reads as its
// identity taken elsewhere, so that it stops writing there and says why.
import { parseComputer, renderComputer } from "../fleet/computer.js";
import { ownerOf, roleOf, STATUS_JSON, STATUS_MD } from "../trust/ownership.js";

/**
 * Whether files read from a hub with no machines' branch are of the old layout (any machine's file or STATUS
 * on the people's branch, but for what an upgrade left there: then the machines' branch is gone, and the
 * next publish starts it again).
 */
export function isOldLayout(files: Map<string, string>): boolean {
  for (const [path, text] of files) if (roleOf(path) === "machines" && !isUpgradeLeftover(path, text)) return true;
  return false;
}

/** Whether a file on the people's branch is what an upgrade left there: a machine's tombstone, or STATUS.md's pointer. */
export function isUpgradeLeftover(path: string, text: string): boolean {
  if (path === STATUS_MD) return text.startsWith(POINTER_START);
  return ownerOf(path).kind === "computer" && text.includes(TOMBSTONE_HOST);
}

const POINTER_START = "# Fleet status\n\nThe machines publish on the branch";

/** What an older coord is told when it reads its tombstone (as the host its identity was "reclaimed" on; at most 256 characters). */
export const TOMBSTONE_HOST = "the machines' branch coord: this hub was upgraded; upgrade coord on this machine (npm install -g coord), then run coord sync";

/** STATUS.md on the people's branch after the upgrade: where the fleet's status is now. */
export function statusPointer(machinesBranch: string): string {
  return [
    "# Fleet status",
    "",
    `The machines publish on the branch \`${machinesBranch}\`: the fleet's status is [STATUS.md there](../../blob/${machinesBranch}/STATUS.md)`,
    `(elsewhere: switch the branch selector to \`${machinesBranch}\`; on GitLab, \`<project URL>/-/blob/${machinesBranch}/STATUS.md\`; in any clone, \`git fetch origin ${machinesBranch} && git show origin/${machinesBranch}:STATUS.md\`, or \`coord status\`).`,
    "",
  ].join("\n");
}

/**
 * The upgrade's two change sets, from every file of the people's tip (`all`):
 * `machines`, on that tip, leaves the machines' files alone (every other path
 * deleted); `people`, on that tip too, puts a tombstone in place of each
 * machine's file, deletes messages, delegated orders and STATUS.json, and
 * leaves STATUS.md pointing at the machines' branch.
 */
export function upgradeChanges(all: Map<string, string>, machinesBranch: string, now: Date): { machines: Map<string, string | null>; people: Map<string, string | null> } {
  const machines = new Map<string, string | null>();
  const people = new Map<string, string | null>();
  for (const [path, text] of all) {
    if (roleOf(path) === "people") {
      machines.set(path, null);
      continue;
    }
    const owner = ownerOf(path);
    if (owner.kind === "computer") people.set(path, tombstone(text, owner.machine, now));
    else if (path !== STATUS_MD) people.set(path, null);
  }
  people.set(STATUS_MD, statusPointer(machinesBranch));
  if (all.has(STATUS_JSON)) people.set(STATUS_JSON, null);
  return { machines, people };
}

/** A machine's file as an older coord stops at: the same identity a generation newer, taken "on" the machines' branch. Unreadable: removed. */
function tombstone(text: string, name: string, now: Date): string | null {
  try {
    const file = parseComputer(text, name);
    return renderComputer({ ...file, identity: { epoch: (file.identity?.epoch ?? 0) + 1, host: TOMBSTONE_HOST, at: now.toISOString() } });
  } catch {
    return null;
  }
}
