// Machine names: the one rule every file name and address depends on.

import { shownLine } from "./shown.js";
export const MACHINE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const RESERVED = new Set(["all", "any"]);

/** Why `name` cannot be a machine name, or undefined when it can. */
export function machineNameProblem(name: string): string | undefined {
  // The name as it may be shown: a refused one may hold an escape sequence or a bell (issue 65).
  if (RESERVED.has(name.toLowerCase())) return `"${shownLine(name)}" is reserved (ALL and ANY address groups of machines)`;
  if (!MACHINE_NAME.test(name)) return `"${shownLine(name)}" is not a valid machine name: use 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit`;
  return undefined;
}

export function computerPath(name: string): string {
  return `coordination/COMPUTER_${name}.md`;
}

/** The machine name of a COMPUTER file path, or undefined for any other path. */
export function machineOfPath(path: string): string | undefined {
  const m = /^coordination\/COMPUTER_(.+)\.md$/.exec(path);
  return m?.[1];
}
