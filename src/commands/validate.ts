// coord validate: check an ORDERS.json file before pushing it.
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { machineOfPath } from "../core/files/names.js";
import { MACHINES_BRANCH } from "../core/trust/ownership.js";
import { fetchedNames } from "../git/local.js";
import { parseOrders } from "../core/orders/orders.js";
import { readServices } from "../core/services/services.js";
import type { Problem } from "../core/types.js";
import { CoordError, EXIT } from "../errors.js";

export interface ValidateResult {
  file: string;
  valid: boolean;
  orders: number;
  /** Valid services (a bad one is in problems: on the machines it is that service's problem only). */
  services: number;
  problems: Problem[];
  /** What is valid but should not be in the repository: env values that look like secrets, with how to move them to the machines' stores. */
  warnings: Problem[];
  /** Machines the check knew of (from coordination/ beside the file), or undefined. */
  machines?: string[];
}

/**
 * Machine names with a file in `coordination/` of the machines' branch as last fetched, when `root` is a
 * clone of a hub (machines publish there, not in the checkout), else of the folder `<root>/coordination`;
 * undefined when neither has one.
 */
async function machinesBeside(root: string): Promise<string[] | undefined> {
  const entries = (await fetchedNames(root, MACHINES_BRANCH, "coordination").catch(() => undefined)) ?? (await readdir(join(root, "coordination")).catch(() => undefined));
  if (!entries) return undefined;
  return entries
    .map((e) => machineOfPath(`coordination/${e}`))
    .filter((n): n is string => n !== undefined)
    .sort();
}

export async function validate(path: string): Promise<ValidateResult> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CoordError(`there is no file ${file}; give the path of an ORDERS.json`, EXIT.USAGE);
    if (code === "EISDIR") throw new CoordError(`${file} is a directory; give the path of the ORDERS.json in it`, EXIT.USAGE);
    throw new CoordError(`cannot read ${file}: ${code ?? (e as Error).message}`, EXIT.USAGE);
  }
  const machines = await machinesBeside(dirname(file));
  const parsed = parseOrders(text, { file: path, ...(machines ? { machines } : {}) });
  const services = /(^|\/)coordination\/orders\/[^/]+\.json$/.test(path) ? undefined : readServices(text, machines, path);
  const problems = [...parsed.problems, ...(services?.problems ?? [])].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return {
    file,
    valid: problems.length === 0,
    orders: parsed.orders?.orders.length ?? 0,
    services: services?.services.length ?? 0,
    problems,
    warnings: parsed.warnings,
    machines,
  };
}
