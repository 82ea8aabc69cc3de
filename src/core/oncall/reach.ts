// What an agent on call may work in: never where the machine's key is within
// its reach. An agent's answer is published, so a directory that holds the
// coord checkout, its git directory (.git/coord: the key, the state) or the
// machine's signing key would let a message ask for the key. Pure: the paths
// come resolved (realpath) from the edge.
import { isWithin } from "../files/within.js";

/** The paths an agent's directory must keep out of reach, resolved. */
export interface Guarded {
  /** The coord checkout. */
  checkout: string;
  /** Its git directory (.git), which holds .git/coord. */
  gitDir: string;
  /** The machine's signing key, when it has one. */
  key?: string;
}

/** Why an agent may not work in `cwd` (one sentence), or undefined when the key is out of its reach there. */
export function cwdRefusal(cwd: string, g: Guarded, platform: NodeJS.Platform): string | undefined {
  const within = (inner: string, outer: string) => isWithin(inner, outer, platform);
  const why = "an agent working there could read the machine's private key and publish it in an answer; give a directory of your project's";
  if (cwd === g.checkout) return `${cwd} is the coord checkout, whose .git/coord holds the machine's key: ${why}`;
  if (within(g.checkout, cwd)) return `${cwd} holds the coord checkout ${g.checkout}, whose .git/coord holds the machine's key: ${why}`;
  if (within(cwd, g.gitDir)) return `${cwd} is inside the coord checkout's git directory ${g.gitDir}, which holds the machine's key: ${why}`;
  if (within(g.gitDir, cwd)) return `${cwd} holds the coord checkout's git directory ${g.gitDir}, which holds the machine's key: ${why}`;
  if (g.key && within(g.key, cwd)) return `${cwd} holds the machine's signing key ${g.key}: ${why}`;
  return undefined;
}
