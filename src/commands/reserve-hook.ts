// coord reserve hook install|uninstall: the git pre-commit hook of a project
// repository that warns of (or, enforced, refuses) a commit touching a path
// another machine reserved. coord writes exactly its own hook
// (templates/git/pre-commit) and removes only that; a pre-commit hook of
// someone else's is never overwritten: install says how to call coord's check
// from it instead.
import { chmod, mkdir, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fill, shQuote } from "../core/setup/service-text.js";
import { CoordError, EXIT } from "../errors.js";
import { firstLine } from "../git/git.js";
import { gitPath } from "../git/local.js";
import { template } from "../templates.js";
import { readIfExists, writeThroughLink } from "../state/files.js";
import { target } from "../actions/schedule/common.js";

/** The line that marks a hook as coord's: uninstall removes only a file holding it. */
export const HOOK_MARK = "# coord reservations pre-commit hook";

/** The variable that turns the hook off (`off`) or to warnings only (`warn`) for one commit. */
export const OVERRIDE = "COORD_RESERVATIONS";

/** Where git looks for the project's pre-commit hook (core.hooksPath and worktrees included). */
async function hookPath(repo: string): Promise<string> {
  // Through src/git: not git's hook environment (GIT_DIR, GIT_INDEX_FILE…), the repository is the one named.
  try {
    return await gitPath(repo, "hooks/pre-commit");
  } catch (e) {
    throw new CoordError(`${repo} is not a git repository (${firstLine(String((e as Error).message))}); pass --repo <the project's directory>`, EXIT.USAGE);
  }
}

export interface HookOptions {
  /** The machine's checkout (its last fetched state is what the hook checks against). */
  dir: string;
  /** The project repository (default: the working directory). */
  repo?: string;
  /** Refuse a commit that touches another machine's reserved paths (default: warn only). */
  enforce?: boolean;
}

export interface HookResult {
  path: string;
  /** installed, updated (another coord hook was there: another mode or checkout), unchanged; removed, absent. */
  action: "installed" | "updated" | "unchanged" | "removed" | "absent";
  enforce?: boolean;
  notes: string[];
}

/** The hook's text for this checkout, node and coord. */
export async function hookText(dir: string, enforce: boolean): Promise<{ text: string; command: string; notes: string[] }> {
  const t = await target(dir);
  const values = { machine: t.machine, node: shQuote(t.node), cli: shQuote(t.cli), checkout: shQuote(t.checkout) };
  const text = fill(await template("git/pre-commit"), {
    ...values,
    enforce: enforce ? "1" : "0",
    mode: enforce ? "refuses it (--enforce)" : "warns (install with --enforce to refuse it)",
  });
  return { text, command: `${values.node} ${values.cli} reservations check --staged --hook --dir ${values.checkout}`, notes: t.notes };
}

export async function installHook(opts: HookOptions): Promise<HookResult> {
  const repo = resolve(opts.repo ?? process.cwd());
  const path = await hookPath(repo);
  const enforce = opts.enforce === true;
  const { text, command, notes } = await hookText(opts.dir, enforce);
  const before = await readIfExists(path, "reading the checkout's pre-commit hook");
  if (before !== undefined && !before.includes(HOOK_MARK))
    throw new CoordError(
      `${path} is a pre-commit hook of someone else's, so coord left it alone; to check reservations from it, add this line to it (exit 4: a path is reserved by another machine): ` +
        `${command}${enforce ? " || exit 1" : ""}`,
      EXIT.USAGE,
    );
  if (before === text) return { path, action: "unchanged", enforce, notes };
  await mkdir(dirname(path), { recursive: true });
  await writeThroughLink(path, text);
  await chmod(path, 0o755);
  return { path, action: before === undefined ? "installed" : "updated", enforce, notes };
}

export async function uninstallHook(opts: { repo?: string }): Promise<HookResult> {
  const repo = resolve(opts.repo ?? process.cwd());
  const path = await hookPath(repo);
  const before = await readIfExists(path, "reading the checkout's pre-commit hook");
  if (before === undefined) return { path, action: "absent", notes: [] };
  if (!before.includes(HOOK_MARK)) throw new CoordError(`${path} was not written by coord, so it was left alone`, EXIT.USAGE);
  await rm(path);
  return { path, action: "removed", notes: [] };
}
