// A checkout opened for a command that works on the hub as a person or as the machine, without a sync: its repository
// with the machine's configured remote and branch, and the person's git identity. Shared by the commands that change
// ORDERS.json, read the hub's log or scaffold it (order.ts, log.ts, hub.ts), never imported from one another.
import { join } from "node:path";
import { CoordError, EXIT } from "../errors.js";
import { type Author, Repo } from "../git/git.js";
import { configGet } from "../git/local.js";
import { loadConfig } from "../state/config.js";
import { gitDirOf } from "../state/paths.js";

/** The checkout `dir` as a repository (its machine's remote and branch, when it is one), and the machine's name. */
export async function openClone(dir: string, stateDir?: string): Promise<{ repo: Repo; machine?: string }> {
  const gitDir = await gitDirOf(dir);
  const config = await loadConfig(join(gitDir, "coord"));
  const repo = new Repo(dir, stateDir ?? join(gitDir, "coord"), config?.remote ?? "origin", config?.branch ?? "main", config?.gitTimeout ?? 120);
  return { repo, machine: config?.name };
}

/** The person's git identity in `dir` (user.name, user.email), or why a command that commits as them cannot. */
export async function personAuthor(dir: string, commits = "--human commits as you"): Promise<Author> {
  const get = (key: string) => configGet(dir, key, { timeout: 20 });
  const [name, email] = [await get("user.name"), await get("user.email")];
  if (!name || !email)
    throw new CoordError(
      `${commits}, but ${dir} has no git ${!name ? "user.name" : "user.email"}; set it with ` +
        `git -C ${dir} config user.name "Your Name" and git -C ${dir} config user.email you@example.com (or with --global for every clone)`,
      EXIT.USAGE,
    );
  return { name, email };
}
